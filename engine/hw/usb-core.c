/* The part every USB device shares: the default control pipe (USB 1.1 §8.5.2 control
 * transfers: SETUP, optional data stage, status stage in the other direction) and the
 * standard device requests of §9.4, answered from the device's descriptors. Class and
 * vendor requests go to the device model's control hook.
 *
 * A request the device refuses is acknowledged at its SETUP and stalled at the next data
 * or status packet (§8.5.2: a device may not refuse a SETUP token), which Linux and
 * SeaBIOS both see as -EPIPE / a failed transfer.
 */
#include "usb.h"

#include <string.h>

#include "state.h"

void hg_usb_device_init(HgUsbDevice *d, const HgUsbDeviceOps *ops, const HgUsbDescriptors *desc,
                        const char *product, void *priv)
{
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->desc = *desc;
    d->product = g_strdup(product);
    d->priv = priv;
}

void hg_usb_device_free(HgUsbDevice *d)
{
    if (!d)
        return;
    g_free(d->product);
    if (d->ops->free)
        d->ops->free(d);
    g_free(d);
}

void hg_usb_device_reset(HgUsbDevice *d)
{
    d->addr = 0;
    d->addr_pending = false;
    d->config = 0;
    d->remote_wakeup = false;
    d->suspended = false;
    d->halted = 0;
    d->ctrl_state = HG_USB_CTRL_IDLE;
    d->ctrl_len = d->ctrl_pos = 0;
    if (d->ops->set_config)
        d->ops->set_config(d, 0);
    if (d->ops->reset)
        d->ops->reset(d);
}

bool hg_usb_device_configured(const HgUsbDevice *d)
{
    return d->config != 0;
}

void hg_usb_device_wakeup(HgUsbDevice *d)
{
    if (d->wakeup)
        d->wakeup(d->wakeup_opaque, d);
}

static int halt_bit(uint8_t ep)
{
    return (ep & 0x0f) + (ep & HG_USB_DIR_IN ? 0 : 8);
}

void hg_usb_halt(HgUsbDevice *d, uint8_t ep)
{
    d->halted |= (uint16_t)(1u << halt_bit(ep));
}

bool hg_usb_halted(const HgUsbDevice *d, uint8_t ep)
{
    return (d->halted >> halt_bit(ep)) & 1;
}

HgUsbDevice *hg_usb_find(HgUsbDevice *d, uint8_t addr)
{
    if (d->addr == addr)
        return d;
    return d->ops->find ? d->ops->find(d, addr) : NULL;
}

/* The configuration value the descriptor set offers (byte 5), and its attributes. */
static uint8_t config_value(const HgUsbDevice *d)
{
    return d->desc.config_len >= 9 ? d->desc.config[5] : 1;
}

static uint8_t config_attributes(const HgUsbDevice *d)
{
    return d->desc.config_len >= 9 ? d->desc.config[7] : 0x80;
}

/* A string descriptor from ASCII: bLength, bDescriptorType, UTF-16LE. */
static int string_descriptor(const char *s, uint8_t *out)
{
    int n = (int)MIN(strlen(s), 126);
    out[0] = (uint8_t)(2 + 2 * n);
    out[1] = HG_USB_DT_STRING;
    for (int i = 0; i < n; i++) {
        out[2 + 2 * i] = (uint8_t)s[i];
        out[3 + 2 * i] = 0;
    }
    return 2 + 2 * n;
}

static HgUsbCtrlResult get_descriptor(HgUsbDevice *d, const HgUsbSetup *s, uint8_t *data, int *len)
{
    int type = s->value >> 8, index = s->value & 0xff;
    switch (type) {
    case HG_USB_DT_DEVICE:
        memcpy(data, d->desc.device, 18);
        *len = 18;
        return HG_USB_CTRL_OK;
    case HG_USB_DT_CONFIG:
        if (index != 0)
            return HG_USB_CTRL_STALL;
        memcpy(data, d->desc.config, (size_t)d->desc.config_len);
        *len = d->desc.config_len;
        return HG_USB_CTRL_OK;
    case HG_USB_DT_STRING:
        if (index == 0) {
            static const uint8_t langs[4] = {4, HG_USB_DT_STRING, 0x09, 0x04}; /* en-US */
            memcpy(data, langs, 4);
            *len = 4;
            return HG_USB_CTRL_OK;
        }
        if (index > d->desc.n_strings)
            return HG_USB_CTRL_STALL;
        *len = string_descriptor(d->desc.strings[index - 1], data);
        return HG_USB_CTRL_OK;
    default:
        /* Device qualifier and other-speed descriptors: a full-speed-only device stalls
         * (USB 2.0 §9.6.2), which tells the host it is not high-speed capable. */
        return HG_USB_CTRL_STALL;
    }
}

/* Chapter 9 standard requests. */
static HgUsbCtrlResult standard_request(HgUsbDevice *d, const HgUsbSetup *s, uint8_t *data,
                                        int *len)
{
    int recip = s->type & HG_USB_RECIP_MASK;
    bool in = s->type & HG_USB_DIR_IN;
    switch (s->request) {
    case HG_USB_REQ_GET_STATUS:
        if (!in)
            return HG_USB_CTRL_STALL;
        data[0] = data[1] = 0;
        if (recip == HG_USB_RECIP_DEVICE)
            data[0] = (config_attributes(d) & HG_USB_CFG_SELF_POWERED ? 1 : 0) |
                      (d->remote_wakeup ? 2 : 0);
        else if (recip == HG_USB_RECIP_ENDPOINT)
            data[0] = hg_usb_halted(d, (uint8_t)s->index) ? 1 : 0;
        *len = 2;
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_CLEAR_FEATURE:
    case HG_USB_REQ_SET_FEATURE: {
        bool set = s->request == HG_USB_REQ_SET_FEATURE;
        if (recip == HG_USB_RECIP_DEVICE && s->value == HG_USB_FEATURE_REMOTE_WAKEUP) {
            d->remote_wakeup = set;
            return HG_USB_CTRL_OK;
        }
        if (recip == HG_USB_RECIP_ENDPOINT && s->value == HG_USB_FEATURE_ENDPOINT_HALT) {
            uint8_t ep = (uint8_t)s->index;
            if (set)
                hg_usb_halt(d, ep);
            else
                d->halted &= (uint16_t) ~(1u << halt_bit(ep));
            return HG_USB_CTRL_OK;
        }
        return HG_USB_CTRL_STALL;
    }
    case HG_USB_REQ_SET_ADDRESS:
        if (in || s->value > 127)
            return HG_USB_CTRL_STALL;
        d->pending_addr = (uint8_t)s->value;
        d->addr_pending = true;
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_GET_DESCRIPTOR: return in ? get_descriptor(d, s, data, len) : HG_USB_CTRL_STALL;
    case HG_USB_REQ_GET_CONFIGURATION:
        if (!in)
            return HG_USB_CTRL_STALL;
        data[0] = d->config;
        *len = 1;
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_SET_CONFIGURATION:
        if (in || (s->value != 0 && s->value != config_value(d)))
            return HG_USB_CTRL_STALL;
        d->config = (uint8_t)s->value;
        d->halted = 0;
        if (d->ops->set_config)
            d->ops->set_config(d, d->config);
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_GET_INTERFACE:
        if (!in || !d->config)
            return HG_USB_CTRL_STALL;
        data[0] = 0;
        *len = 1;
        return HG_USB_CTRL_OK;
    case HG_USB_REQ_SET_INTERFACE:
        /* One alternate setting per interface. */
        return !in && d->config && s->value == 0 ? HG_USB_CTRL_OK : HG_USB_CTRL_STALL;
    default: return HG_USB_CTRL_STALL;
    }
}

/* Runs a request: the model first (class requests, class descriptors), then chapter 9. */
static HgUsbCtrlResult run_request(HgUsbDevice *d, uint8_t *data, int *len)
{
    HgUsbCtrlResult r = HG_USB_CTRL_UNHANDLED;
    if (d->ops->control)
        r = d->ops->control(d, &d->setup, data, len);
    if (r == HG_USB_CTRL_UNHANDLED) {
        if ((d->setup.type & HG_USB_TYPE_MASK) == HG_USB_TYPE_STANDARD)
            r = standard_request(d, &d->setup, data, len);
        else
            r = HG_USB_CTRL_STALL;
    }
    if (*len < 0 || *len > HG_USB_CTRL_BUF)
        *len = 0;
    return r;
}

static HgUsbStatus control_setup(HgUsbDevice *d, HgUsbPacket *p)
{
    if (p->len != 8)
        return HG_USB_STALL;
    const uint8_t *b = p->data;
    d->setup = (HgUsbSetup){b[0], b[1], (uint16_t)(b[2] | b[3] << 8), (uint16_t)(b[4] | b[5] << 8),
                            (uint16_t)(b[6] | b[7] << 8)};
    d->ctrl_pos = 0;
    d->ctrl_len = 0;
    if (d->setup.type & HG_USB_DIR_IN) {
        int len = 0;
        if (run_request(d, d->ctrl_buf, &len) != HG_USB_CTRL_OK) {
            d->ctrl_state = HG_USB_CTRL_STALLED;
            return HG_USB_ACK;
        }
        d->ctrl_len = MIN(len, d->setup.length);
        d->ctrl_state = HG_USB_CTRL_DATA_IN;
        return HG_USB_ACK;
    }
    if (d->setup.length == 0) {
        int len = 0;
        d->ctrl_state = run_request(d, d->ctrl_buf, &len) == HG_USB_CTRL_OK ? HG_USB_CTRL_STATUS_IN
                                                                            : HG_USB_CTRL_STALLED;
        return HG_USB_ACK;
    }
    d->ctrl_state = d->setup.length <= HG_USB_CTRL_BUF ? HG_USB_CTRL_DATA_OUT : HG_USB_CTRL_STALLED;
    return HG_USB_ACK;
}

static HgUsbStatus control_in(HgUsbDevice *d, HgUsbPacket *p)
{
    p->actual = 0;
    switch ((int)d->ctrl_state) {
    case HG_USB_CTRL_DATA_IN: {
        int n = MIN(p->len, d->ctrl_len - d->ctrl_pos);
        if (n > 0)
            memcpy(p->data, d->ctrl_buf + d->ctrl_pos, (size_t)n);
        d->ctrl_pos += MAX(n, 0);
        p->actual = MAX(n, 0);
        return HG_USB_ACK;
    }
    case HG_USB_CTRL_STATUS_IN:
        /* The handshake of a host-to-device request: a new address applies now. */
        if (d->addr_pending) {
            d->addr = d->pending_addr;
            d->addr_pending = false;
        }
        d->ctrl_state = HG_USB_CTRL_IDLE;
        return HG_USB_ACK;
    default: d->ctrl_state = HG_USB_CTRL_IDLE; return HG_USB_STALL;
    }
}

static HgUsbStatus control_out(HgUsbDevice *d, HgUsbPacket *p)
{
    switch ((int)d->ctrl_state) {
    case HG_USB_CTRL_DATA_OUT: {
        int room = d->setup.length - d->ctrl_pos;
        if (p->len > room) {
            d->ctrl_state = HG_USB_CTRL_IDLE;
            return HG_USB_STALL;
        }
        memcpy(d->ctrl_buf + d->ctrl_pos, p->data, (size_t)p->len);
        d->ctrl_pos += p->len;
        if (d->ctrl_pos == d->setup.length) {
            int len = d->ctrl_pos;
            d->ctrl_state = run_request(d, d->ctrl_buf, &len) == HG_USB_CTRL_OK
                                ? HG_USB_CTRL_STATUS_IN
                                : HG_USB_CTRL_STALLED;
        }
        return HG_USB_ACK;
    }
    case HG_USB_CTRL_DATA_IN:
    case HG_USB_CTRL_STATUS_OUT:
        /* The status stage of a device-to-host request (it may come early: the host
         * wanted less than the device had). */
        d->ctrl_state = HG_USB_CTRL_IDLE;
        return HG_USB_ACK;
    default: d->ctrl_state = HG_USB_CTRL_IDLE; return HG_USB_STALL;
    }
}

HgUsbStatus hg_usb_handle_packet(HgUsbDevice *d, HgUsbPacket *p)
{
    p->actual = 0;
    if (p->ep == 0) {
        switch (p->pid) {
        case HG_USB_PID_SETUP: return control_setup(d, p);
        case HG_USB_PID_IN: return control_in(d, p);
        case HG_USB_PID_OUT: return control_out(d, p);
        default: return HG_USB_NODEV;
        }
    }
    if (p->pid == HG_USB_PID_SETUP)
        return HG_USB_NODEV;
    if (!d->config)
        return HG_USB_STALL;
    uint8_t ep = (uint8_t)(p->ep | (p->pid == HG_USB_PID_IN ? HG_USB_DIR_IN : 0));
    if (hg_usb_halted(d, ep))
        return HG_USB_STALL;
    if (!d->ops->data)
        return HG_USB_STALL;
    HgUsbStatus st = d->ops->data(d, p);
    if (p->pid == HG_USB_PID_IN && st == HG_USB_ACK && p->actual > p->len)
        return HG_USB_BABBLE;
    return st;
}

void hg_usb_state_fail(HgStateReader *r, const char *what)
{
    if (!r->error)
        g_set_error(&r->error, g_quark_from_static_string("hg-state-error"), 5,
                    "invalid USB state: %s", what);
}

void hg_usb_device_save(HgUsbDevice *d, HgStateWriter *w)
{
    hg_state_begin(w, "usb-device", 1);
    hg_state_put_u8(w, d->addr);
    hg_state_put_u8(w, d->pending_addr);
    hg_state_put_u8(w, d->addr_pending);
    hg_state_put_u8(w, d->config);
    hg_state_put_u8(w, d->remote_wakeup);
    hg_state_put_u8(w, d->suspended);
    hg_state_put_u16(w, d->halted);
    hg_state_put_u8(w, (uint8_t)d->ctrl_state);
    hg_state_put_u8(w, d->setup.type);
    hg_state_put_u8(w, d->setup.request);
    hg_state_put_u16(w, d->setup.value);
    hg_state_put_u16(w, d->setup.index);
    hg_state_put_u16(w, d->setup.length);
    hg_state_put_u16(w, (uint16_t)d->ctrl_len);
    hg_state_put_u16(w, (uint16_t)d->ctrl_pos);
    int used = MAX(d->ctrl_len, d->ctrl_pos);
    hg_state_put_bytes(w, d->ctrl_buf, (size_t)used);
    hg_state_end(w);
    if (d->ops->save)
        d->ops->save(d, w);
}

void hg_usb_device_load(HgUsbDevice *d, HgStateReader *r)
{
    if (!hg_state_open(r, "usb-device", 1, 1))
        return;
    d->addr = hg_state_get_u8(r) & 0x7f;
    d->pending_addr = hg_state_get_u8(r) & 0x7f;
    d->addr_pending = hg_state_get_u8(r) != 0;
    uint8_t config = hg_state_get_u8(r);
    d->config = config == config_value(d) ? config : 0;
    d->remote_wakeup = hg_state_get_u8(r) != 0;
    d->suspended = hg_state_get_u8(r) != 0;
    d->halted = hg_state_get_u16(r);
    uint8_t st = hg_state_get_u8(r);
    d->ctrl_state = st <= HG_USB_CTRL_STALLED ? (HgUsbCtrlState)st : HG_USB_CTRL_IDLE;
    d->setup.type = hg_state_get_u8(r);
    d->setup.request = hg_state_get_u8(r);
    d->setup.value = hg_state_get_u16(r);
    d->setup.index = hg_state_get_u16(r);
    d->setup.length = hg_state_get_u16(r);
    int len = hg_state_get_u16(r), pos = hg_state_get_u16(r);
    int used = MAX(len, pos);
    if (used > HG_USB_CTRL_BUF) {
        /* A file that lies about the buffer: refuse it rather than read past the end. */
        hg_usb_state_fail(r, "usb-device: a control buffer of more than 4096 bytes");
        hg_state_close(r);
        return;
    }
    hg_state_get_bytes(r, d->ctrl_buf, (size_t)used);
    d->ctrl_len = len;
    d->ctrl_pos = pos;
    if (d->ctrl_state == HG_USB_CTRL_DATA_OUT && d->setup.length > HG_USB_CTRL_BUF)
        d->ctrl_state = HG_USB_CTRL_STALLED;
    hg_state_close(r);
    if (d->ops->load)
        d->ops->load(d, r);
}
