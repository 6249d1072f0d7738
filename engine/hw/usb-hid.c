/* USB human interface devices: an absolute pointer (tablet), a boot-protocol mouse and a
 * boot-protocol keyboard. Device Class Definition for HID 1.11: §6.2 descriptors, §7.2
 * class requests (GET/SET_REPORT, GET/SET_IDLE, GET/SET_PROTOCOL), appendix B (boot
 * protocol reports); key usages from the HID Usage Tables 1.12, §10 (keyboard page).
 *
 * Each device has one interrupt IN endpoint (0x81, 8 bytes, 10 ms): a poll answers with
 * the next report, or NAK when nothing changed, which is how an idle device costs the host
 * nothing. Host events are queued as reports (up to QUEUE_LEN) so a press and release
 * between two polls both reach the guest; pointer motion merges into the newest report.
 *
 * The tablet takes 0..0x7FFF on both axes (the report descriptor says so); Linux's
 * hid-generic turns it into an absolute pointer (EV_ABS X/Y), so the guest's pointer
 * follows the host's without a grab. SeaBIOS's USB HID code drives only boot-protocol
 * devices, so the keyboard and mouse also work in the firmware and DOS.
 */
#include <string.h>

#include "hangar.h"
#include "state.h"
#include "usb.h"

enum { HID_TABLET, HID_MOUSE, HID_KEYBOARD };
enum { QUEUE_LEN = 16, REPORT_MAX = 8 };
enum {
    HID_REQ_GET_REPORT = 0x01,
    HID_REQ_GET_IDLE = 0x02,
    HID_REQ_GET_PROTOCOL = 0x03,
    HID_REQ_SET_REPORT = 0x09,
    HID_REQ_SET_IDLE = 0x0a,
    HID_REQ_SET_PROTOCOL = 0x0b,
    HID_DT_HID = 0x21,
    HID_DT_REPORT = 0x22,
};

/* One pointer or keyboard state, as the next report will carry it. */
typedef struct HidEvent {
    int32_t x, y; /* tablet: absolute; mouse: motion still to send */
    int32_t dz;
    uint8_t buttons;
    uint8_t modifiers; /* keyboard */
    uint8_t keys[6];
} HidEvent;

typedef struct Hid {
    int kind;
    HidEvent queue[QUEUE_LEN];
    int head, count;
    HidEvent last;    /* the state last reported (keyboard, tablet position) */
    uint8_t protocol; /* 0 boot, 1 report */
    uint8_t idle;     /* 4 ms units */
    uint8_t leds;     /* keyboard LEDs from SET_REPORT */
    /* Keyboard: the usages held down, in press order. */
    uint8_t held[32];
    int nheld;
    /* Tablet: a count of configured tablets kept for other threads (may be NULL). */
    gint *counter;
    bool counted;
} Hid;

/* ---- descriptors ---- */

static const uint8_t tablet_report[] = {
    0x05, 0x01,       /* Usage Page (Generic Desktop) */
    0x09, 0x02,       /* Usage (Mouse) */
    0xa1, 0x01,       /* Collection (Application) */
    0x09, 0x01,       /*   Usage (Pointer) */
    0xa1, 0x00,       /*   Collection (Physical) */
    0x05, 0x09,       /*     Usage Page (Button) */
    0x19, 0x01,       /*     Usage Minimum (1) */
    0x29, 0x03,       /*     Usage Maximum (3) */
    0x15, 0x00,       /*     Logical Minimum (0) */
    0x25, 0x01,       /*     Logical Maximum (1) */
    0x95, 0x03,       /*     Report Count (3) */
    0x75, 0x01,       /*     Report Size (1) */
    0x81, 0x02,       /*     Input (Data, Variable, Absolute) */
    0x95, 0x01,       /*     Report Count (1) */
    0x75, 0x05,       /*     Report Size (5) */
    0x81, 0x01,       /*     Input (Constant): padding */
    0x05, 0x01,       /*     Usage Page (Generic Desktop) */
    0x09, 0x30,       /*     Usage (X) */
    0x09, 0x31,       /*     Usage (Y) */
    0x15, 0x00,       /*     Logical Minimum (0) */
    0x26, 0xff, 0x7f, /*     Logical Maximum (0x7FFF) */
    0x35, 0x00,       /*     Physical Minimum (0) */
    0x46, 0xff, 0x7f, /*     Physical Maximum (0x7FFF) */
    0x75, 0x10,       /*     Report Size (16) */
    0x95, 0x02,       /*     Report Count (2) */
    0x81, 0x02,       /*     Input (Data, Variable, Absolute) */
    0x05, 0x01,       /*     Usage Page (Generic Desktop) */
    0x09, 0x38,       /*     Usage (Wheel) */
    0x15, 0x81,       /*     Logical Minimum (-127) */
    0x25, 0x7f,       /*     Logical Maximum (127) */
    0x35, 0x00,       /*     Physical Minimum (0): same as logical */
    0x45, 0x00,       /*     Physical Maximum (0) */
    0x75, 0x08,       /*     Report Size (8) */
    0x95, 0x01,       /*     Report Count (1) */
    0x81, 0x06,       /*     Input (Data, Variable, Relative) */
    0xc0,             /*   End Collection */
    0xc0,             /* End Collection */
};

/* The boot mouse report (buttons, X, Y) with a wheel byte after it (HID 1.11 B.2). */
static const uint8_t mouse_report[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, /* Generic Desktop, Mouse, Application */
    0x09, 0x01, 0xa1, 0x00,             /*   Pointer, Physical */
    0x05, 0x09, 0x19, 0x01, 0x29, 0x03, /*     Buttons 1-3 */
    0x15, 0x00, 0x25, 0x01, 0x95, 0x03, 0x75, 0x01, 0x81, 0x02,
    0x95, 0x01, 0x75, 0x05, 0x81, 0x01,                         /*     padding */
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x38,             /* X, Y, Wheel */
    0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06, /* relative, -127..127 */
    0xc0, 0xc0,
};

/* The boot keyboard report of HID 1.11 appendix B.1: modifiers, reserved, six keys; LED
 * output report. */
static const uint8_t keyboard_report[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, /* Generic Desktop, Keyboard, Application */
    0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, /*   modifiers: usages E0-E7 */
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01,
    0x75, 0x08, 0x81, 0x01,                                                 /*   reserved byte */
    0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, /* LEDs */
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01,                                     /*   LED padding */
    0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x26, 0xff, 0x00, /* six key usages 0-255 */
    0x05, 0x07, 0x19, 0x00, 0x2a, 0xff, 0x00, 0x81, 0x00, 0xc0,
};

/* Device descriptor: USB 1.0, full speed, 8-byte control endpoint. Vendor 0627 product
 * 0001 are the ids QEMU's HID devices use, which guests already know. */
#define HID_DEVICE_DESC(product_lo)                                                                \
    {                                                                                              \
        0x12, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x27, 0x06, product_lo, 0x00, 0x00, 0x00,  \
            0x01, 0x02, 0x03, 0x01                                                                 \
    }

static const uint8_t hid_device[18] = HID_DEVICE_DESC(0x01);

/* Configuration 1: bus powered, remote wakeup, 100 mA; one HID interface with one
 * interrupt IN endpoint of 8 bytes polled every 10 ms. */
#define HID_CONFIG_DESC(subclass, protocol, report_len)                                            \
    {                                                                                              \
        0x09, 0x02, 34, 0, 0x01, 0x01, 0x00, 0xa0, 50, 0x09, 0x04, 0x00, 0x00, 0x01, 0x03,         \
            subclass, protocol, 0x00, 0x09, HID_DT_HID, 0x11, 0x01, 0x00, 0x01, HID_DT_REPORT,     \
            (report_len)&0xff, (report_len) >> 8, 0x07, 0x05, 0x81, 0x03, 0x08, 0x00, 0x0a         \
    }

static const uint8_t tablet_config[34] = HID_CONFIG_DESC(0, 0, sizeof(tablet_report));
static const uint8_t mouse_config[34] = HID_CONFIG_DESC(1, 2, sizeof(mouse_report));
static const uint8_t keyboard_config[34] = HID_CONFIG_DESC(1, 1, sizeof(keyboard_report));

static const char *const tablet_strings[] = {"Hangar", "USB Tablet", "28754-0001"};
static const char *const mouse_strings[] = {"Hangar", "USB Mouse", "28754-0002"};
static const char *const keyboard_strings[] = {"Hangar", "USB Keyboard", "28754-0003"};

/* ---- reports ---- */

static Hid *hid_of(HgUsbDevice *d)
{
    return d->priv;
}

static HidEvent *newest(Hid *h)
{
    return h->count ? &h->queue[(h->head + h->count - 1) % QUEUE_LEN] : NULL;
}

/* A new report state at the end of the queue (the newest is overwritten when full). */
static HidEvent *push(Hid *h, const HidEvent *base)
{
    if (h->count < QUEUE_LEN)
        h->count++;
    HidEvent *e = newest(h);
    *e = *base;
    return e;
}

static int clamp8(int32_t v)
{
    return v < -127 ? -127 : v > 127 ? 127 : v;
}

/* Builds the report of the oldest queued state; returns its length. Relative motion left
 * over (more than one report can carry) stays queued. */
static int build_report(Hid *h, HidEvent *e, uint8_t *out, bool *done)
{
    *done = true;
    switch (h->kind) {
    case HID_TABLET:
        out[0] = e->buttons & 7;
        out[1] = (uint8_t)e->x;
        out[2] = (uint8_t)(e->x >> 8);
        out[3] = (uint8_t)e->y;
        out[4] = (uint8_t)(e->y >> 8);
        out[5] = (uint8_t)(int8_t)clamp8(-e->dz);
        e->dz -= -(int8_t)out[5];
        *done = e->dz == 0;
        return 6;
    case HID_MOUSE: {
        int dx = clamp8(e->x), dy = clamp8(e->y), dz = clamp8(-e->dz);
        out[0] = e->buttons & 7;
        out[1] = (uint8_t)(int8_t)dx;
        out[2] = (uint8_t)(int8_t)dy;
        out[3] = (uint8_t)(int8_t)dz;
        e->x -= dx;
        e->y -= dy;
        e->dz += dz;
        *done = e->x == 0 && e->y == 0 && e->dz == 0;
        return h->protocol == 0 ? 3 : 4;
    }
    default:
        out[0] = e->modifiers;
        out[1] = 0;
        memcpy(out + 2, e->keys, 6);
        return 8;
    }
}

/* The current state as a report, without consuming anything (GET_REPORT). */
static int current_report(Hid *h, uint8_t *out)
{
    HidEvent e = h->count ? h->queue[h->head] : h->last;
    if (h->kind == HID_MOUSE)
        e.x = e.y = e.dz = 0;
    bool done;
    return build_report(h, &e, out, &done);
}

static HgUsbStatus hid_data(HgUsbDevice *d, HgUsbPacket *p)
{
    Hid *h = hid_of(d);
    if (p->pid != HG_USB_PID_IN || p->ep != 1)
        return HG_USB_STALL;
    if (h->count == 0)
        return HG_USB_NAK;
    HidEvent *e = &h->queue[h->head];
    uint8_t report[REPORT_MAX];
    bool done;
    int n = build_report(h, e, report, &done);
    h->last = *e;
    if (done) {
        h->head = (h->head + 1) % QUEUE_LEN;
        h->count--;
    }
    n = MIN(n, p->len);
    memcpy(p->data, report, (size_t)n);
    p->actual = n;
    return HG_USB_ACK;
}

static HgUsbCtrlResult hid_control(HgUsbDevice *d, const HgUsbSetup *s, uint8_t *data, int *len)
{
    Hid *h = hid_of(d);
    const uint8_t *rd = h->kind == HID_TABLET  ? tablet_report
                        : h->kind == HID_MOUSE ? mouse_report
                                               : keyboard_report;
    int rd_len = h->kind == HID_TABLET  ? (int)sizeof(tablet_report)
                 : h->kind == HID_MOUSE ? (int)sizeof(mouse_report)
                                        : (int)sizeof(keyboard_report);
    if (s->type == (HG_USB_DIR_IN | HG_USB_RECIP_INTERFACE) &&
        s->request == HG_USB_REQ_GET_DESCRIPTOR) {
        if (s->value >> 8 == HID_DT_REPORT) {
            memcpy(data, rd, (size_t)rd_len);
            *len = rd_len;
            return HG_USB_CTRL_OK;
        }
        if (s->value >> 8 == HID_DT_HID) {
            memcpy(data, d->desc.config + 18, 9);
            *len = 9;
            return HG_USB_CTRL_OK;
        }
        return HG_USB_CTRL_STALL;
    }
    if ((s->type & HG_USB_TYPE_MASK) != HG_USB_TYPE_CLASS)
        return HG_USB_CTRL_UNHANDLED;
    switch (s->request) {
    case HID_REQ_GET_REPORT: *len = current_report(h, data); return HG_USB_CTRL_OK;
    case HID_REQ_SET_REPORT:
        if (h->kind == HID_KEYBOARD && *len >= 1)
            h->leds = data[0];
        return HG_USB_CTRL_OK;
    case HID_REQ_GET_IDLE:
        data[0] = h->idle;
        *len = 1;
        return HG_USB_CTRL_OK;
    case HID_REQ_SET_IDLE: h->idle = (uint8_t)(s->value >> 8); return HG_USB_CTRL_OK;
    case HID_REQ_GET_PROTOCOL:
        data[0] = h->protocol;
        *len = 1;
        return HG_USB_CTRL_OK;
    case HID_REQ_SET_PROTOCOL: h->protocol = s->value ? 1 : 0; return HG_USB_CTRL_OK;
    default: return HG_USB_CTRL_STALL;
    }
}

static void hid_reset(HgUsbDevice *d)
{
    Hid *h = hid_of(d);
    h->protocol = 1; /* HID 1.11 §7.2.6: report protocol after reset */
    h->idle = h->kind == HID_KEYBOARD ? 125 : 0;
    h->head = h->count = 0;
    h->leds = 0;
}

/* Brings the configured-tablet count in line with the device's configuration. */
static void sync_counter(HgUsbDevice *d)
{
    Hid *h = hid_of(d);
    bool want = h->counter && d->config != 0;
    if (want != h->counted && h->counter)
        g_atomic_int_add(h->counter, want ? 1 : -1);
    h->counted = want;
}

void hg_usb_tablet_set_counter(HgUsbDevice *d, gint *counter)
{
    Hid *h = hid_of(d);
    if (h->counted)
        g_atomic_int_add(h->counter, -1);
    h->counted = false;
    h->counter = counter;
    sync_counter(d);
}

static void hid_set_config(HgUsbDevice *d, int config)
{
    /* Input queued before the guest configured the device is stale by now. */
    Hid *h = hid_of(d);
    h->head = h->count = 0;
    sync_counter(d);
}

static void put_event(HgStateWriter *w, const HidEvent *e)
{
    hg_state_put_u32(w, (uint32_t)e->x);
    hg_state_put_u32(w, (uint32_t)e->y);
    hg_state_put_u32(w, (uint32_t)e->dz);
    hg_state_put_u8(w, e->buttons);
    hg_state_put_u8(w, e->modifiers);
    hg_state_put_bytes(w, e->keys, 6);
}

static void get_event(HgStateReader *r, HidEvent *e, int kind)
{
    e->x = (int32_t)hg_state_get_u32(r);
    e->y = (int32_t)hg_state_get_u32(r);
    e->dz = (int32_t)hg_state_get_u32(r);
    e->buttons = hg_state_get_u8(r) & 7;
    e->modifiers = hg_state_get_u8(r);
    hg_state_get_bytes(r, e->keys, 6);
    if (kind == HID_TABLET) {
        e->x = CLAMP(e->x, 0, 0x7fff);
        e->y = CLAMP(e->y, 0, 0x7fff);
    }
}

static void hid_save(HgUsbDevice *d, HgStateWriter *w)
{
    Hid *h = hid_of(d);
    hg_state_begin(w, "usb-hid", 1);
    hg_state_put_u8(w, (uint8_t)h->kind);
    hg_state_put_u8(w, (uint8_t)h->count);
    for (int i = 0; i < h->count; i++)
        put_event(w, &h->queue[(h->head + i) % QUEUE_LEN]);
    put_event(w, &h->last);
    hg_state_put_u8(w, h->protocol);
    hg_state_put_u8(w, h->idle);
    hg_state_put_u8(w, h->leds);
    hg_state_put_u8(w, (uint8_t)h->nheld);
    hg_state_put_bytes(w, h->held, (size_t)h->nheld);
    hg_state_end(w);
}

static void hid_load(HgUsbDevice *d, HgStateReader *r)
{
    Hid *h = hid_of(d);
    if (!hg_state_open(r, "usb-hid", 1, 1))
        return;
    if (hg_state_get_u8(r) != h->kind) {
        hg_usb_state_fail(r, "a HID device of another kind");
        return;
    }
    int count = hg_state_get_u8(r);
    if (count > QUEUE_LEN) {
        hg_usb_state_fail(r, "a HID event queue longer than 16");
        return;
    }
    h->head = 0;
    h->count = count;
    for (int i = 0; i < count; i++)
        get_event(r, &h->queue[i], h->kind);
    get_event(r, &h->last, h->kind);
    h->protocol = hg_state_get_u8(r) ? 1 : 0;
    h->idle = hg_state_get_u8(r);
    h->leds = hg_state_get_u8(r);
    int nheld = hg_state_get_u8(r);
    if (nheld > (int)sizeof(h->held)) {
        hg_usb_state_fail(r, "more than 32 keys held");
        return;
    }
    h->nheld = nheld;
    hg_state_get_bytes(r, h->held, (size_t)nheld);
    hg_state_close(r);
    sync_counter(d); /* the core restored the configuration */
}

static void hid_free(HgUsbDevice *d)
{
    Hid *h = hid_of(d);
    if (h->counted)
        g_atomic_int_add(h->counter, -1);
    g_free(h);
}

/* The three kinds share every hook; only the name differs. */
#define HID_OPS(name)                                                                              \
    {                                                                                              \
        .kind = name, .control = hid_control, .data = hid_data, .set_config = hid_set_config,      \
        .reset = hid_reset, .save = hid_save, .load = hid_load, .free = hid_free,                  \
    }
static const HgUsbDeviceOps tablet_ops = HID_OPS("tablet");
static const HgUsbDeviceOps mouse_ops = HID_OPS("mouse");
static const HgUsbDeviceOps keyboard_ops = HID_OPS("keyboard");

static HgUsbDevice *hid_new(int kind)
{
    Hid *h = g_new0(Hid, 1);
    h->kind = kind;
    HgUsbDevice *d = g_new0(HgUsbDevice, 1);
    HgUsbDescriptors desc;
    if (kind == HID_TABLET) {
        desc = (HgUsbDescriptors){hid_device, tablet_config, 34, tablet_strings, 3};
        hg_usb_device_init(d, &tablet_ops, &desc, "Hangar USB Tablet", h);
    } else if (kind == HID_MOUSE) {
        desc = (HgUsbDescriptors){hid_device, mouse_config, 34, mouse_strings, 3};
        hg_usb_device_init(d, &mouse_ops, &desc, "Hangar USB Mouse", h);
    } else {
        desc = (HgUsbDescriptors){hid_device, keyboard_config, 34, keyboard_strings, 3};
        hg_usb_device_init(d, &keyboard_ops, &desc, "Hangar USB Keyboard", h);
    }
    hid_reset(d);
    return d;
}

HgUsbDevice *hg_usb_tablet_new(void)
{
    return hid_new(HID_TABLET);
}

HgUsbDevice *hg_usb_mouse_new(void)
{
    return hid_new(HID_MOUSE);
}

HgUsbDevice *hg_usb_keyboard_new(void)
{
    return hid_new(HID_KEYBOARD);
}

/* ---- host input ---- */

static unsigned usb_buttons(unsigned b)
{
    /* HID button 1 left, 2 right, 3 middle: the same bits as HG_BUTTON_*. */
    return b & (HG_BUTTON_LEFT | HG_BUTTON_RIGHT | HG_BUTTON_MIDDLE);
}

void hg_usb_tablet_event(HgUsbDevice *d, int x, int y, int dz, unsigned buttons)
{
    Hid *h = hid_of(d);
    if (!d->config)
        return;
    /* Motion merges into the newest queued report when the buttons are the same; a
     * button change is a report of its own so clicks are never lost. */
    uint8_t b = (uint8_t)usb_buttons(buttons);
    HidEvent *e = newest(h);
    if (!e || e->buttons != b) {
        HidEvent base = e ? *e : h->last;
        base.dz = 0;
        e = push(h, &base);
    }
    e->x = CLAMP(x, 0, 0x7fff);
    e->y = CLAMP(y, 0, 0x7fff);
    e->buttons = b;
    e->dz = CLAMP((int64_t)e->dz + dz, -65536, 65536);
    hg_usb_device_wakeup(d);
}

void hg_usb_mouse_event(HgUsbDevice *d, int dx, int dy, int dz, unsigned buttons)
{
    Hid *h = hid_of(d);
    if (!d->config)
        return;
    HidEvent *e = newest(h);
    if (!e || e->buttons != usb_buttons(buttons)) {
        HidEvent zero = {0};
        e = push(h, &zero);
        e->buttons = (uint8_t)usb_buttons(buttons);
    }
    e->x = CLAMP((int64_t)e->x + dx, -65536, 65536);
    e->y = CLAMP((int64_t)e->y + dy, -65536, 65536);
    e->dz = CLAMP((int64_t)e->dz + dz, -65536, 65536);
    hg_usb_device_wakeup(d);
}

/* PC set-1 make codes to HID keyboard usages. */
static const uint8_t set1_usage[0x59] = {
    0x00, 0x29, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, /* 00-07: -, Esc, 1-6 */
    0x24, 0x25, 0x26, 0x27, 0x2d, 0x2e, 0x2a, 0x2b, /* 08-0F: 7-0, -, =, BS, Tab */
    0x14, 0x1a, 0x08, 0x15, 0x17, 0x1c, 0x18, 0x0c, /* 10-17: q w e r t y u i */
    0x12, 0x13, 0x2f, 0x30, 0x28, 0xe0, 0x04, 0x16, /* 18-1F: o p [ ] Enter LCtrl a s */
    0x07, 0x09, 0x0a, 0x0b, 0x0d, 0x0e, 0x0f, 0x33, /* 20-27: d f g h j k l ; */
    0x34, 0x35, 0xe1, 0x31, 0x1d, 0x1b, 0x06, 0x19, /* 28-2F: ' ` LShift \ z x c v */
    0x05, 0x11, 0x10, 0x36, 0x37, 0x38, 0xe5, 0x55, /* 30-37: b n m , . / RShift KP* */
    0xe2, 0x2c, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, /* 38-3F: LAlt Space Caps F1-F5 */
    0x3f, 0x40, 0x41, 0x42, 0x43, 0x53, 0x47, 0x5f, /* 40-47: F6-F10 NumLock Scroll KP7 */
    0x60, 0x61, 0x56, 0x5c, 0x5d, 0x5e, 0x57, 0x59, /* 48-4F: KP8 KP9 KP- KP4-6 KP+ KP1 */
    0x5a, 0x5b, 0x62, 0x63, 0x46, 0x00, 0x64, 0x44, /* 50-57: KP2 KP3 KP0 KP. SysRq - 102nd F11 */
    0x45,                                           /* 58: F12 */
};

uint8_t hg_usb_hid_usage(uint16_t code)
{
    if (code & HG_KEYCODE_PAUSE)
        return 0x48;
    uint8_t sc = code & 0x7f;
    if (!(code & HG_KEYCODE_E0))
        return sc < sizeof(set1_usage) ? set1_usage[sc] : 0;
    switch (sc) {
    case 0x1c: return 0x58; /* keypad Enter */
    case 0x1d: return 0xe4; /* right Ctrl */
    case 0x35: return 0x54; /* keypad / */
    case 0x37: return 0x46; /* Print Screen */
    case 0x38: return 0xe6; /* right Alt */
    case 0x47: return 0x4a; /* Home */
    case 0x48: return 0x52; /* Up */
    case 0x49: return 0x4b; /* Page Up */
    case 0x4b: return 0x50; /* Left */
    case 0x4d: return 0x4f; /* Right */
    case 0x4f: return 0x4d; /* End */
    case 0x50: return 0x51; /* Down */
    case 0x51: return 0x4e; /* Page Down */
    case 0x52: return 0x49; /* Insert */
    case 0x53: return 0x4c; /* Delete */
    case 0x5b: return 0xe3; /* left GUI */
    case 0x5c: return 0xe7; /* right GUI */
    case 0x5d: return 0x65; /* Application (menu) */
    default: return 0;
    }
}

/* Queues the report of the keys held now. */
static void push_keys(Hid *h)
{
    HidEvent e = {0};
    int nkeys = 0;
    for (int i = 0; i < h->nheld; i++) {
        uint8_t u = h->held[i];
        if (u >= 0xe0 && u <= 0xe7)
            e.modifiers |= (uint8_t)(1u << (u - 0xe0));
        else if (nkeys < 6)
            e.keys[nkeys++] = u;
        else
            memset(e.keys, 0x01, 6); /* more than six: ErrorRollOver */
    }
    push(h, &e);
}

void hg_usb_keyboard_key(HgUsbDevice *d, uint16_t code, bool pressed)
{
    Hid *h = hid_of(d);
    uint8_t usage = hg_usb_hid_usage(code);
    if (!usage || !d->config)
        return;
    if (code & HG_KEYCODE_PAUSE) {
        /* Pause has no break code: it is pressed and released at once. */
        if (!pressed || h->nheld == (int)sizeof(h->held))
            return;
        h->held[h->nheld++] = usage;
        push_keys(h);
        h->nheld--;
        push_keys(h);
        hg_usb_device_wakeup(d);
        return;
    }
    int at = -1;
    for (int i = 0; i < h->nheld; i++)
        if (h->held[i] == usage)
            at = i;
    if (pressed && at < 0 && h->nheld < (int)sizeof(h->held)) {
        h->held[h->nheld++] = usage;
    } else if (!pressed && at >= 0) {
        h->nheld--;
        memmove(h->held + at, h->held + at + 1, (size_t)(h->nheld - at));
    } else {
        return; /* typematic repeat of a held key: the guest repeats by itself */
    }
    push_keys(h);
    hg_usb_device_wakeup(d);
}
