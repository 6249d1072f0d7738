/* USB devices as a host controller sees them (USB 1.1 specification, chapter 8 "Protocol
 * Layer" and chapter 9 "USB Device Framework"): a device has an address, a configuration and
 * endpoints; the controller hands it token packets (SETUP, IN, OUT) for one endpoint and
 * gets back a handshake (ACK with data, NAK, STALL) or nothing at all (a timeout).
 *
 * usb-core.c runs the default control pipe of every device: the three stages of a control
 * transfer, the chapter 9 standard requests (addresses, descriptors, configuration,
 * features) answered from the device's descriptor bytes, and the class requests passed on
 * to the device model. Device models (usb-hid.c, usb-msd.c, usb-hub.c) fill an
 * HgUsbDeviceOps and answer their own endpoints.
 *
 * Every transfer is answered at once (synchronously): a device that cannot answer yet
 * (a HID device with no new report, storage waiting for its image) says NAK and the
 * controller retries in a later frame, as real hardware does.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;
typedef struct HgClock HgClock;
typedef struct HgUsbDevice HgUsbDevice;

enum {
    HG_USB_PID_SETUP = 0x2d,
    HG_USB_PID_IN = 0x69,
    HG_USB_PID_OUT = 0xe1,
};

/* The outcome of one packet. */
typedef enum {
    HG_USB_ACK,    /* data moved (p->actual bytes) */
    HG_USB_NAK,    /* not now: try again later */
    HG_USB_STALL,  /* the endpoint is halted or the request is not supported */
    HG_USB_NODEV,  /* no answer at all (the controller reports a timeout) */
    HG_USB_BABBLE, /* the device sent more than the packet could hold */
} HgUsbStatus;

/* Largest data stage of a control transfer the core buffers (descriptors, class
 * requests). Longer requests are answered with a STALL. */
enum { HG_USB_CTRL_BUF = 4096 };

typedef struct HgUsbPacket {
    uint8_t pid;
    uint8_t ep;    /* endpoint number 0-15 */
    uint8_t *data; /* OUT/SETUP: the bytes sent; IN: where the answer goes */
    int len;       /* OUT: bytes sent; IN: most bytes the packet can carry */
    int actual;    /* IN: bytes answered */
} HgUsbPacket;

/* A SETUP packet's eight bytes, decoded. */
typedef struct HgUsbSetup {
    uint8_t type;    /* bmRequestType */
    uint8_t request; /* bRequest */
    uint16_t value, index, length;
} HgUsbSetup;

/* Request types (bmRequestType) and standard requests (USB 1.1 §9.3, §9.4). */
enum {
    HG_USB_DIR_IN = 0x80,
    HG_USB_TYPE_MASK = 0x60,
    HG_USB_TYPE_STANDARD = 0x00,
    HG_USB_TYPE_CLASS = 0x20,
    HG_USB_RECIP_MASK = 0x1f,
    HG_USB_RECIP_DEVICE = 0,
    HG_USB_RECIP_INTERFACE = 1,
    HG_USB_RECIP_ENDPOINT = 2,
    HG_USB_RECIP_OTHER = 3,
    HG_USB_REQ_GET_STATUS = 0,
    HG_USB_REQ_CLEAR_FEATURE = 1,
    HG_USB_REQ_SET_FEATURE = 3,
    HG_USB_REQ_SET_ADDRESS = 5,
    HG_USB_REQ_GET_DESCRIPTOR = 6,
    HG_USB_REQ_SET_DESCRIPTOR = 7,
    HG_USB_REQ_GET_CONFIGURATION = 8,
    HG_USB_REQ_SET_CONFIGURATION = 9,
    HG_USB_REQ_GET_INTERFACE = 10,
    HG_USB_REQ_SET_INTERFACE = 11,
    HG_USB_DT_DEVICE = 1,
    HG_USB_DT_CONFIG = 2,
    HG_USB_DT_STRING = 3,
    HG_USB_FEATURE_ENDPOINT_HALT = 0,
    HG_USB_FEATURE_REMOTE_WAKEUP = 1,
};

/* The answer of a device model's control hook. */
typedef enum {
    HG_USB_CTRL_UNHANDLED, /* not mine: the core answers (or stalls) */
    HG_USB_CTRL_OK,        /* handled; for IN requests *len bytes are in data */
    HG_USB_CTRL_STALL,     /* refused */
} HgUsbCtrlResult;

/* The descriptors of a device: its device descriptor (18 bytes), the whole configuration
 * descriptor set (wTotalLength bytes), and its strings (index 1..n_strings; 0 is the
 * language list, US English). */
typedef struct HgUsbDescriptors {
    const uint8_t *device;
    const uint8_t *config;
    int config_len;
    const char *const *strings;
    int n_strings;
} HgUsbDescriptors;

typedef struct HgUsbDeviceOps {
    const char *kind; /* "tablet", "keyboard", "mouse", "storage", "hub" */
    /* Class and vendor requests, and standard ones the core does not know (a hub's or
     * HID's GET_DESCRIPTOR for their class descriptors). IN: put at most setup->length
     * bytes in data (HG_USB_CTRL_BUF bytes room), set *len. OUT: data holds *len bytes. */
    HgUsbCtrlResult (*control)(HgUsbDevice *d, const HgUsbSetup *setup, uint8_t *data, int *len);
    /* A packet for endpoint 1-15 (the device is configured). */
    HgUsbStatus (*data)(HgUsbDevice *d, HgUsbPacket *p);
    /* The configuration changed (0: unconfigured): endpoints start afresh. */
    void (*set_config)(HgUsbDevice *d, int config);
    /* USB bus reset (the port was reset): back to the default state. Called after the
     * core reset its part. */
    void (*reset)(HgUsbDevice *d);
    /* The device's own state after the core's (versioned sections of its own). */
    void (*save)(HgUsbDevice *d, HgStateWriter *w);
    void (*load)(HgUsbDevice *d, HgStateReader *r);
    /* A device with children (a hub): the device behind an address, or NULL. */
    HgUsbDevice *(*find)(HgUsbDevice *d, uint8_t addr);
    void (*free)(HgUsbDevice *d);
} HgUsbDeviceOps;

/* Where a device is plugged in: the port tells it when the device wants the host's
 * attention (remote wakeup from suspend, or new data for a polled endpoint). */
typedef void (*HgUsbWakeup)(void *opaque, HgUsbDevice *d);

typedef enum {
    HG_USB_CTRL_IDLE,
    HG_USB_CTRL_DATA_IN,    /* answering a device-to-host request */
    HG_USB_CTRL_DATA_OUT,   /* collecting a host-to-device request's data */
    HG_USB_CTRL_STATUS_IN,  /* host-to-device request done: zero-length IN ends it */
    HG_USB_CTRL_STATUS_OUT, /* device-to-host request done: zero-length OUT ends it */
    HG_USB_CTRL_STALLED,    /* the request was refused: the next packet stalls */
} HgUsbCtrlState;

struct HgUsbDevice {
    const HgUsbDeviceOps *ops;
    HgUsbDescriptors desc;
    char *product; /* for info usb */
    int id;        /* the machine's number for it (usb_del ID) */
    /* Chapter 9 state. */
    uint8_t addr;
    uint8_t pending_addr; /* SET_ADDRESS takes effect after its status stage */
    bool addr_pending;
    uint8_t config;
    bool remote_wakeup; /* enabled by the host (SET_FEATURE DEVICE_REMOTE_WAKEUP) */
    bool suspended;     /* the port is suspended */
    uint16_t halted;    /* bit n: IN endpoint n halted; bit 8 + n: OUT endpoint n */
    /* Control pipe. */
    HgUsbCtrlState ctrl_state;
    HgUsbSetup setup;
    int ctrl_len, ctrl_pos;
    uint8_t ctrl_buf[HG_USB_CTRL_BUF];
    /* Wired by the port the device is attached to. */
    HgUsbWakeup wakeup;
    void *wakeup_opaque;
    void *priv; /* the model's state */
};

/* The first nine descriptor bytes of HG_USB_DT_CONFIG hold bmAttributes at offset 7. */
enum { HG_USB_CFG_SELF_POWERED = 0x40, HG_USB_CFG_REMOTE_WAKEUP = 0x20 };

void hg_usb_device_init(HgUsbDevice *d, const HgUsbDeviceOps *ops, const HgUsbDescriptors *desc,
                        const char *product, void *priv);
void hg_usb_device_free(HgUsbDevice *d);
/* USB bus reset: address 0, unconfigured, control pipe idle, then the model's reset. */
void hg_usb_device_reset(HgUsbDevice *d);
/* One packet to endpoint p->ep. Endpoint 0 is the control pipe, run here. */
HgUsbStatus hg_usb_handle_packet(HgUsbDevice *d, HgUsbPacket *p);
/* The device behind addr: d itself or one behind it (a hub's children), NULL if none. */
HgUsbDevice *hg_usb_find(HgUsbDevice *d, uint8_t addr);
/* A model has something for the host (calls the port's wakeup hook). */
void hg_usb_device_wakeup(HgUsbDevice *d);
bool hg_usb_device_configured(const HgUsbDevice *d);

/* Halted endpoints (STALL until CLEAR_FEATURE(ENDPOINT_HALT)). ep with HG_USB_DIR_IN for
 * IN endpoints. */
void hg_usb_halt(HgUsbDevice *d, uint8_t ep);
bool hg_usb_halted(const HgUsbDevice *d, uint8_t ep);

/* Core state (sections "usb-device"), then the model's. */
void hg_usb_device_save(HgUsbDevice *d, HgStateWriter *w);
void hg_usb_device_load(HgUsbDevice *d, HgStateReader *r);

/* Marks a state file as lying (the first error wins). */
void hg_usb_state_fail(HgStateReader *r, const char *what);

/* The device models. Each returns a device with no port yet. */
HgUsbDevice *hg_usb_tablet_new(void);
HgUsbDevice *hg_usb_mouse_new(void);
HgUsbDevice *hg_usb_keyboard_new(void);
/* Mass storage on an image (opened by the caller; the device closes it). */
typedef struct HgBlock HgBlock;
HgUsbDevice *hg_usb_storage_new(HgBlock *blk);
/* A hub with n downstream ports (1-8). */
HgUsbDevice *hg_usb_hub_new(int nports);
int hg_usb_hub_nports(HgUsbDevice *hub);
HgUsbDevice *hg_usb_hub_child(HgUsbDevice *hub, int port);
/* Plugs dev into downstream port (0-based; it must be free) or unplugs it (dev NULL; the
 * device is returned, not freed). */
HgUsbDevice *hg_usb_hub_set_child(HgUsbDevice *hub, int port, HgUsbDevice *dev);

/* HID input. Buttons are HG_BUTTON_* bits (hangar.h). The tablet takes 0..0x7FFF
 * coordinates; the keyboard takes the machine's PC key codes (hangar.h). */
void hg_usb_tablet_event(HgUsbDevice *d, int x, int y, int dz, unsigned buttons);
void hg_usb_mouse_event(HgUsbDevice *d, int dx, int dy, int dz, unsigned buttons);
void hg_usb_keyboard_key(HgUsbDevice *d, uint16_t code, bool pressed);
/* Keeps *counter (atomic) counting this tablet while the guest has it configured. */
void hg_usb_tablet_set_counter(HgUsbDevice *d, gint *counter);
/* The HID usage of a PC key code (hangar.h HG_KEYCODE_*), 0 for none. */
uint8_t hg_usb_hid_usage(uint16_t code);
