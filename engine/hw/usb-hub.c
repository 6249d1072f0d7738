/* A USB 1.1 hub (USB 1.1 specification chapter 11: §11.16 hub descriptor and port
 * status bits, §11.16.2 class requests, §11.13 the status change endpoint) with up to
 * eight downstream ports, so more devices fit behind the UHCI's two root ports.
 *
 * Ports behave as the host drives them: power, reset (completes at once: the device is
 * reset and the port enabled, C_PORT_RESET set), enable, suspend and resume. Connects and
 * disconnects set C_PORT_CONNECTION and show in the bitmap of the interrupt endpoint
 * (0x81), which NAKs while nothing changed. A device behind the hub is reached by address
 * through enabled, unsuspended ports only.
 */
#include <string.h>

#include "state.h"
#include "uhci.h"
#include "usb.h"

enum { MAX_PORTS = 8 };
enum {
    PORT_CONNECTION = 0,
    PORT_ENABLE = 1,
    PORT_SUSPEND = 2,
    PORT_OVER_CURRENT = 3,
    PORT_RESET = 4,
    PORT_POWER = 8,
    PORT_LOW_SPEED = 9,
    C_PORT_CONNECTION = 16,
    C_PORT_ENABLE = 17,
    C_PORT_SUSPEND = 18,
    C_PORT_OVER_CURRENT = 19,
    C_PORT_RESET = 20,
    HUB_DT = 0x29,
};
enum {
    ST_CONNECTION = 1 << 0,
    ST_ENABLE = 1 << 1,
    ST_SUSPEND = 1 << 2,
    ST_RESET = 1 << 4,
    ST_POWER = 1 << 8,
};

typedef struct HubPort {
    uint16_t status, change;
    HgUsbDevice *dev;
} HubPort;

typedef struct Hub {
    HgUsbDevice *self;
    int nports;
    HubPort ports[MAX_PORTS];
    uint8_t config_desc[25];
} Hub;

static const uint8_t hub_device[18] = {
    0x12, 0x01, 0x10, 0x01, 0x09, 0x00, 0x00, 0x08, /* USB 1.1, hub class, 8-byte ep0 */
    0x09, 0x04, 0xaa, 0x55, 0x01, 0x01,             /* 0409:55AA (QEMU's), release 1.01 */
    0x01, 0x02, 0x03, 0x01,
};

static const char *const hub_strings[] = {"Hangar", "Hangar USB Hub", "HANGARHUB0001"};

static Hub *hub_of(HgUsbDevice *d)
{
    return d->priv;
}

static HgUsbCtrlResult hub_control(HgUsbDevice *d, const HgUsbSetup *s, uint8_t *data, int *len)
{
    Hub *h = hub_of(d);
    int bitmap_len = (h->nports + 1 + 7) / 8;
    if ((s->type & HG_USB_TYPE_MASK) != HG_USB_TYPE_CLASS)
        return HG_USB_CTRL_UNHANDLED;
    int recip = s->type & HG_USB_RECIP_MASK;
    int n = s->index - 1;
    bool port_ok = recip == HG_USB_RECIP_OTHER && n >= 0 && n < h->nports;
    HubPort *p = port_ok ? &h->ports[n] : NULL;
    switch (s->request) {
    case HG_USB_REQ_GET_DESCRIPTOR:
        if (recip != HG_USB_RECIP_DEVICE || (s->value >> 8) != HUB_DT)
            return HG_USB_CTRL_STALL;
        data[0] = (uint8_t)(7 + 2 * bitmap_len);
        data[1] = HUB_DT;
        data[2] = (uint8_t)h->nports;
        data[3] = 0x0a; /* no power switching, per-port over-current */
        data[4] = 0;
        data[5] = 0x01; /* power on to power good: 2 ms */
        data[6] = 0;
        memset(data + 7, 0, (size_t)bitmap_len);                 /* every device removable */
        memset(data + 7 + bitmap_len, 0xff, (size_t)bitmap_len); /* power control mask */
        *len = data[0];
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_GET_STATUS:
        if (!(s->type & HG_USB_DIR_IN))
            return HG_USB_CTRL_STALL;
        memset(data, 0, 4);
        if (p) {
            data[0] = (uint8_t)p->status;
            data[1] = (uint8_t)(p->status >> 8);
            data[2] = (uint8_t)p->change;
            data[3] = (uint8_t)(p->change >> 8);
        } else if (recip != HG_USB_RECIP_DEVICE) {
            return HG_USB_CTRL_STALL;
        }
        *len = 4;
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_SET_FEATURE:
        if (recip == HG_USB_RECIP_DEVICE)
            return HG_USB_CTRL_OK; /* hub features: local power, over-current */
        if (!p)
            return HG_USB_CTRL_STALL;
        switch (s->value) {
        case PORT_RESET:
            if (p->dev) {
                hg_usb_device_reset(p->dev);
                p->status |= ST_ENABLE;
                p->status &= (uint16_t)~ST_SUSPEND;
                p->change |= 1 << 4; /* C_PORT_RESET */
                hg_usb_device_wakeup(d);
            }
            return HG_USB_CTRL_OK;
        case PORT_SUSPEND:
            p->status |= ST_SUSPEND;
            if (p->dev)
                p->dev->suspended = true;
            return HG_USB_CTRL_OK;
        case PORT_POWER: p->status |= ST_POWER; return HG_USB_CTRL_OK;
        case PORT_ENABLE:
            if (p->status & ST_CONNECTION)
                p->status |= ST_ENABLE;
            return HG_USB_CTRL_OK;
        default: return HG_USB_CTRL_OK;
        }
    case HG_USB_REQ_CLEAR_FEATURE:
        if (recip == HG_USB_RECIP_DEVICE)
            return HG_USB_CTRL_OK;
        if (!p)
            return HG_USB_CTRL_STALL;
        switch (s->value) {
        case PORT_ENABLE: p->status &= (uint16_t)~ST_ENABLE; break;
        case PORT_SUSPEND:
            p->status &= (uint16_t)~ST_SUSPEND;
            if (p->dev)
                p->dev->suspended = false;
            break;
        case PORT_POWER: p->status &= (uint16_t) ~(ST_POWER | ST_ENABLE); break;
        case C_PORT_CONNECTION:
        case C_PORT_ENABLE:
        case C_PORT_SUSPEND:
        case C_PORT_OVER_CURRENT:
        case C_PORT_RESET: p->change &= (uint16_t) ~(1u << (s->value - 16)); break;
        default: break;
        }
        return HG_USB_CTRL_OK;
    default: return HG_USB_CTRL_STALL;
    }
}

static HgUsbStatus hub_data(HgUsbDevice *d, HgUsbPacket *p)
{
    Hub *h = hub_of(d);
    if (p->pid != HG_USB_PID_IN || p->ep != 1)
        return HG_USB_STALL;
    /* The status change bitmap: bit 0 the hub, bit n port n. */
    uint8_t map[2] = {0, 0};
    bool any = false;
    for (int i = 0; i < h->nports; i++) {
        if (h->ports[i].change) {
            map[(i + 1) / 8] |= (uint8_t)(1u << ((i + 1) % 8));
            any = true;
        }
    }
    if (!any)
        return HG_USB_NAK;
    int n = MIN((h->nports + 1 + 7) / 8, p->len);
    memcpy(p->data, map, (size_t)n);
    p->actual = n;
    return HG_USB_ACK;
}

static HgUsbDevice *hub_find(HgUsbDevice *d, uint8_t addr)
{
    Hub *h = hub_of(d);
    for (int i = 0; i < h->nports; i++) {
        HubPort *p = &h->ports[i];
        if (!p->dev || (p->status & (ST_ENABLE | ST_SUSPEND)) != ST_ENABLE)
            continue;
        HgUsbDevice *found = hg_usb_find(p->dev, addr);
        if (found)
            return found;
    }
    return NULL;
}

static void hub_reset(HgUsbDevice *d)
{
    Hub *h = hub_of(d);
    for (int i = 0; i < h->nports; i++) {
        HubPort *p = &h->ports[i];
        p->status = 0;
        p->change = 0;
        if (p->dev) {
            hg_usb_device_reset(p->dev);
            p->status |= ST_CONNECTION;
            p->change |= 1; /* C_PORT_CONNECTION */
        }
    }
}

/* A child wants attention: resume from suspend if it may, and tell the host. */
static void child_wakeup(void *opaque, HgUsbDevice *child)
{
    HgUsbDevice *d = opaque;
    Hub *h = hub_of(d);
    for (int i = 0; i < h->nports; i++) {
        HubPort *p = &h->ports[i];
        if (p->dev == child && (p->status & ST_SUSPEND) && child->remote_wakeup) {
            p->status &= (uint16_t)~ST_SUSPEND;
            p->change |= 1 << 2; /* C_PORT_SUSPEND */
            child->suspended = false;
        }
    }
    hg_usb_device_wakeup(d);
}

int hg_usb_hub_nports(HgUsbDevice *hub)
{
    return hub_of(hub)->nports;
}

HgUsbDevice *hg_usb_hub_child(HgUsbDevice *hub, int port)
{
    Hub *h = hub_of(hub);
    return port >= 0 && port < h->nports ? h->ports[port].dev : NULL;
}

HgUsbDevice *hg_usb_hub_set_child(HgUsbDevice *hub, int port, HgUsbDevice *dev)
{
    Hub *h = hub_of(hub);
    g_assert(port >= 0 && port < h->nports);
    HubPort *p = &h->ports[port];
    HgUsbDevice *old = p->dev;
    if (dev) {
        g_assert(!old);
        p->dev = dev;
        dev->wakeup = child_wakeup;
        dev->wakeup_opaque = hub;
        hg_usb_device_reset(dev);
        p->status |= ST_CONNECTION;
        p->change |= 1;
    } else if (old) {
        p->dev = NULL;
        old->wakeup = NULL;
        old->wakeup_opaque = NULL;
        if (p->status & ST_ENABLE)
            p->change |= 1 << 1; /* C_PORT_ENABLE */
        p->status &= (uint16_t) ~(ST_CONNECTION | ST_ENABLE | ST_SUSPEND);
        p->change |= 1;
    }
    hg_usb_device_wakeup(hub);
    return old;
}

static void hub_save(HgUsbDevice *d, HgStateWriter *w)
{
    Hub *h = hub_of(d);
    hg_state_begin(w, "usb-hub", 1);
    hg_state_put_u8(w, (uint8_t)h->nports);
    for (int i = 0; i < h->nports; i++) {
        hg_state_put_u16(w, h->ports[i].status);
        hg_state_put_u16(w, h->ports[i].change);
    }
    hg_state_end(w);
    for (int i = 0; i < h->nports; i++)
        hg_usb_slot_save(h->ports[i].dev, w);
}

static void hub_load(HgUsbDevice *d, HgStateReader *r)
{
    Hub *h = hub_of(d);
    if (!hg_state_open(r, "usb-hub", 1, 1))
        return;
    if (hg_state_get_u8(r) != h->nports) {
        hg_usb_state_fail(r, "a USB hub with another number of ports");
        return;
    }
    for (int i = 0; i < h->nports; i++) {
        HubPort *p = &h->ports[i];
        p->status = hg_state_get_u16(r) & (ST_ENABLE | ST_SUSPEND | ST_POWER);
        p->change = hg_state_get_u16(r) & 0x1f;
        if (p->dev)
            p->status |= ST_CONNECTION;
        else
            p->status &= (uint16_t) ~(ST_ENABLE | ST_SUSPEND);
    }
    hg_state_close(r);
    for (int i = 0; i < h->nports; i++) {
        hg_usb_slot_load(h->ports[i].dev, r);
        if (h->ports[i].dev)
            h->ports[i].dev->suspended = (h->ports[i].status & ST_SUSPEND) != 0;
    }
}

static void hub_free(HgUsbDevice *d)
{
    Hub *h = hub_of(d);
    for (int i = 0; i < h->nports; i++)
        hg_usb_device_free(h->ports[i].dev);
    g_free(h);
}

static const HgUsbDeviceOps hub_ops = {
    .kind = "hub",
    .control = hub_control,
    .data = hub_data,
    .reset = hub_reset,
    .save = hub_save,
    .load = hub_load,
    .find = hub_find,
    .free = hub_free,
};

HgUsbDevice *hg_usb_hub_new(int nports)
{
    Hub *h = g_new0(Hub, 1);
    h->nports = CLAMP(nports, 1, MAX_PORTS);
    static const uint8_t config[25] = {
        0x09, 0x02, 25,   0,    0x01, 0x01, 0x00, 0xe0, 0,    /* self powered, remote wakeup */
        0x09, 0x04, 0x00, 0x00, 0x01, 0x09, 0x00, 0x00, 0x00, /* hub interface */
        0x07, 0x05, 0x81, 0x03, 0x02, 0x00, 0xff,             /* status change: 2 bytes, 255 ms */
    };
    memcpy(h->config_desc, config, sizeof(config));
    HgUsbDevice *d = g_new0(HgUsbDevice, 1);
    HgUsbDescriptors desc = {hub_device, h->config_desc, 25, hub_strings, 3};
    hg_usb_device_init(d, &hub_ops, &desc, hub_strings[1], h);
    h->self = d;
    hub_reset(d);
    return d;
}
