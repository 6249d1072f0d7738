/* The machine's USB devices (see usb-host.h) and the public hg_machine_usb_* calls.
 *
 * Placement: devices fill the two root ports first. A third device needs a hub: the
 * device on root port 2 is moved behind a new 8-port hub there (the guest sees it leave
 * and come back through the hub, as when a person puts a hub between), and later devices
 * go to the hub's free ports.
 */
#include "usb-host.h"

#include <string.h>

#include "block/block.h"
#include "board.h"
#include "display.h"
#include "machine-internal.h"

enum { HUB_PORTS = 8, HUB_ROOT = 1 };

typedef struct UsbEntry {
    int id;
    HgUsbDevice *dev;
    char *file;
    int root;     /* root port 0 or 1 */
    int hub_port; /* -1: directly on the root port; else the hub's port */
} UsbEntry;

struct HgUsbHost {
    HgUhci *uhci;
    GPtrArray *entries; /* UsbEntry */
    int next_id;
    HgUsbDevice *hub; /* on root port HUB_ROOT, or NULL */
    gint tablets;     /* tablets the guest configured (atomic: hg_machine_send_pointer
                       * reads it on any thread) */
};

static void entry_free(gpointer p)
{
    UsbEntry *e = p;
    g_free(e->file);
    g_free(e);
}

HgUsbHost *hg_usb_host_new(HgUhci *uhci)
{
    HgUsbHost *h = g_new0(HgUsbHost, 1);
    h->uhci = uhci;
    h->entries = g_ptr_array_new_with_free_func(entry_free);
    h->next_id = 1;
    return h;
}

void hg_usb_host_free(HgUsbHost *h)
{
    if (!h)
        return;
    g_ptr_array_free(h->entries, true);
    g_free(h);
}

static HgUsbDevice *create_device(const char *spec, char **file, GError **error)
{
    *file = NULL;
    if (!strcmp(spec, "tablet"))
        return hg_usb_tablet_new();
    if (!strcmp(spec, "keyboard"))
        return hg_usb_keyboard_new();
    if (!strcmp(spec, "mouse"))
        return hg_usb_mouse_new();
    if (g_str_has_prefix(spec, "storage:") && spec[8]) {
        const char *path = spec + 8;
        HgBlock *blk = hg_block_open(path, NULL, false, error);
        if (!blk) {
            g_prefix_error(error, "USB storage: ");
            return NULL;
        }
        if (hg_block_size(blk) < 512) {
            g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                        "USB storage: %s is too small to be a disk image (%" G_GUINT64_FORMAT
                        " bytes; a disk holds at least one 512-byte sector)",
                        path, hg_block_size(blk));
            hg_block_close(blk);
            return NULL;
        }
        *file = g_strdup(path);
        return hg_usb_storage_new(blk);
    }
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "unknown USB device \"%s\": use tablet, keyboard, mouse or storage:FILE", spec);
    return NULL;
}

static UsbEntry *entry_at(HgUsbHost *h, int root, int hub_port)
{
    for (guint i = 0; i < h->entries->len; i++) {
        UsbEntry *e = g_ptr_array_index(h->entries, i);
        if (e->root == root && e->hub_port == hub_port)
            return e;
    }
    return NULL;
}

/* Puts a hub on root port HUB_ROOT, moving the device there behind it. */
static void make_hub(HgUsbHost *h)
{
    UsbEntry *moved = entry_at(h, HUB_ROOT, -1);
    if (moved)
        hg_uhci_detach(h->uhci, HUB_ROOT);
    h->hub = hg_usb_hub_new(HUB_PORTS);
    if (moved) {
        hg_usb_hub_set_child(h->hub, 0, moved->dev);
        moved->hub_port = 0;
    }
    hg_uhci_attach(h->uhci, HUB_ROOT, h->hub);
}

int hg_usb_host_attach(HgUsbHost *h, const char *spec, GError **error)
{
    int root = -1, hub_port = -1;
    for (int i = 0; i < HG_UHCI_PORTS && root < 0; i++)
        if (!hg_uhci_device(h->uhci, i))
            root = i;
    if (root < 0) {
        if (h->hub) {
            for (int i = 0; i < HUB_PORTS && hub_port < 0; i++)
                if (!hg_usb_hub_child(h->hub, i))
                    hub_port = i;
        } else {
            hub_port = 1; /* port 0 takes the device moved from the root port */
        }
        if (hub_port < 0) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "every USB port is taken (%d devices); remove one with usb_del first",
                        HG_UHCI_PORTS - 1 + HUB_PORTS);
            return 0;
        }
        root = HUB_ROOT;
    }
    char *file;
    HgUsbDevice *dev = create_device(spec, &file, error);
    if (!dev)
        return 0;
    if (hub_port >= 0 && !h->hub)
        make_hub(h);
    UsbEntry *e = g_new0(UsbEntry, 1);
    e->id = h->next_id++;
    e->dev = dev;
    e->file = file;
    e->root = root;
    e->hub_port = hub_port;
    dev->id = e->id;
    g_ptr_array_add(h->entries, e);
    if (hub_port >= 0)
        hg_usb_hub_set_child(h->hub, hub_port, dev);
    else
        hg_uhci_attach(h->uhci, root, dev);
    if (!strcmp(dev->ops->kind, "tablet"))
        hg_usb_tablet_set_counter(dev, &h->tablets);
    return e->id;
}

bool hg_usb_host_detach(HgUsbHost *h, int id, GError **error)
{
    for (guint i = 0; i < h->entries->len; i++) {
        UsbEntry *e = g_ptr_array_index(h->entries, i);
        if (e->id != id)
            continue;
        HgUsbDevice *dev = e->hub_port >= 0 ? hg_usb_hub_set_child(h->hub, e->hub_port, NULL)
                                            : hg_uhci_detach(h->uhci, e->root);
        hg_usb_device_free(dev);
        g_ptr_array_remove_index(h->entries, i);
        return true;
    }
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "no USB device with id %d (info usb lists them)",
                id);
    return false;
}

static void info_free(gpointer p)
{
    HgUsbDeviceInfo *i = p;
    g_free(i->kind);
    g_free(i->file);
    g_free(i->port);
    g_free(i->product);
    g_free(i);
}

static void add_info(GPtrArray *out, HgUsbDevice *d, int id, const char *file, char *port)
{
    HgUsbDeviceInfo *i = g_new0(HgUsbDeviceInfo, 1);
    i->id = id;
    i->kind = g_strdup(d->ops->kind);
    i->file = g_strdup(file);
    i->port = port;
    i->product = g_strdup(d->product);
    i->configured = hg_usb_device_configured(d);
    g_ptr_array_add(out, i);
}

GPtrArray *hg_usb_host_list(HgUsbHost *h)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(info_free);
    for (int root = 0; root < HG_UHCI_PORTS; root++) {
        HgUsbDevice *d = hg_uhci_device(h->uhci, root);
        if (!d)
            continue;
        if (d == h->hub) {
            add_info(out, d, 0, NULL, g_strdup_printf("%d", root + 1));
            for (int p = 0; p < HUB_PORTS; p++) {
                UsbEntry *e = entry_at(h, root, p);
                if (e)
                    add_info(out, e->dev, e->id, e->file,
                             g_strdup_printf("%d.%d", root + 1, p + 1));
            }
            continue;
        }
        UsbEntry *e = entry_at(h, root, -1);
        if (e)
            add_info(out, d, e->id, e->file, g_strdup_printf("%d", root + 1));
    }
    return out;
}

bool hg_usb_host_has_tablet(HgUsbHost *h)
{
    return h && g_atomic_int_get(&h->tablets) > 0;
}

static HgUsbDevice *configured(HgUsbHost *h, const char *kind)
{
    for (guint i = 0; i < h->entries->len; i++) {
        UsbEntry *e = g_ptr_array_index(h->entries, i);
        if (!strcmp(e->dev->ops->kind, kind) && hg_usb_device_configured(e->dev))
            return e->dev;
    }
    return NULL;
}

bool hg_usb_host_key(HgUsbHost *h, uint16_t code, bool pressed)
{
    HgUsbDevice *d = configured(h, "keyboard");
    if (d)
        hg_usb_keyboard_key(d, code, pressed);
    return d != NULL;
}

bool hg_usb_host_mouse(HgUsbHost *h, int dx, int dy, int dz, unsigned buttons)
{
    HgUsbDevice *d = configured(h, "mouse");
    if (d)
        hg_usb_mouse_event(d, dx, dy, dz, buttons);
    return d != NULL;
}

bool hg_usb_host_pointer(HgUsbHost *h, int x, int y, unsigned buttons)
{
    bool any = false;
    for (guint i = 0; i < h->entries->len; i++) {
        UsbEntry *e = g_ptr_array_index(h->entries, i);
        if (!strcmp(e->dev->ops->kind, "tablet")) {
            hg_usb_tablet_event(e->dev, x, y, 0, buttons);
            any = true;
        }
    }
    return any;
}

/* ---- the public API: carried out on the emulation thread ---- */

typedef struct UsbCall {
    gint refs;
    GMutex lock;
    GCond cond;
    bool done;
    enum { CALL_ATTACH, CALL_DETACH, CALL_LIST } what;
    char *spec;
    int id;
    GPtrArray *list;
    GError *error;
} UsbCall;

static void call_unref(gpointer p)
{
    UsbCall *c = p;
    if (!g_atomic_int_dec_and_test(&c->refs))
        return;
    g_mutex_clear(&c->lock);
    g_cond_clear(&c->cond);
    g_free(c->spec);
    if (c->list)
        g_ptr_array_unref(c->list);
    g_clear_error(&c->error);
    g_free(c);
}

static void call_fn(HgMachine *m, void *data)
{
    UsbCall *c = data;
    HgUsbHost *h = hg_board_usb(m->board);
    switch (c->what) {
    case CALL_ATTACH: c->id = hg_usb_host_attach(h, c->spec, &c->error); break;
    case CALL_DETACH:
        if (!hg_usb_host_detach(h, c->id, &c->error))
            c->id = 0;
        break;
    case CALL_LIST: c->list = hg_usb_host_list(h); break;
    }
    g_mutex_lock(&c->lock);
    c->done = true;
    g_cond_signal(&c->cond);
    g_mutex_unlock(&c->lock);
}

/* Runs the call on the emulation thread and waits for it (at once without a thread, or
 * when called from that thread). */
static UsbCall *run_call(HgMachine *m, UsbCall *c)
{
    c->refs = 2;
    g_mutex_init(&c->lock);
    g_cond_init(&c->cond);
    if (!m->thread || g_thread_self() == m->thread) {
        call_fn(m, c);
        c->refs = 1;
        return c;
    }
    hg_machine_call(m, call_fn, c, call_unref);
    g_mutex_lock(&c->lock);
    gint64 end = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
    while (!c->done)
        if (!g_cond_wait_until(&c->cond, &c->lock, end))
            break;
    g_mutex_unlock(&c->lock);
    if (!c->done)
        g_set_error(&c->error, HG_ERROR, HG_ERROR_CONFIG,
                    "the machine did not carry out the USB request (is it stopped?)");
    return c;
}

int hg_machine_usb_attach(HgMachine *m, const char *spec, GError **error)
{
    UsbCall *c = g_new0(UsbCall, 1);
    c->what = CALL_ATTACH;
    c->spec = g_strdup(spec);
    run_call(m, c);
    int id = c->done ? c->id : 0;
    if (!id && c->error && error)
        *error = g_error_copy(c->error);
    call_unref(c);
    return id;
}

bool hg_machine_usb_detach(HgMachine *m, int id, GError **error)
{
    UsbCall *c = g_new0(UsbCall, 1);
    c->what = CALL_DETACH;
    c->id = id;
    run_call(m, c);
    bool ok = c->done && c->id != 0;
    if (!ok && c->error && error)
        *error = g_error_copy(c->error);
    call_unref(c);
    return ok;
}

GPtrArray *hg_machine_usb_list(HgMachine *m)
{
    UsbCall *c = g_new0(UsbCall, 1);
    c->what = CALL_LIST;
    run_call(m, c);
    GPtrArray *list = c->done && c->list ? g_ptr_array_ref(c->list) : NULL;
    call_unref(c);
    return list ? list : g_ptr_array_new();
}

HgUhci *hg_usb_host_uhci(HgUsbHost *h)
{
    return h->uhci;
}
