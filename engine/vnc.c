/* The VNC server of a machine (see vnc.h) on libvncserver, speaking RFB 3.8 (RFC 6143).
 *
 * Threads: libvncserver runs entirely on the server's own thread, which loops over
 * rfbProcessEvents (client messages and pending updates, at most 10 ms per round) and then
 * pulls the display: under the display's lock it takes the rectangles changed since its
 * last look (the server is a consumer of the display with its own dirty region, see
 * display.h, so a GUI or SDL window watching the same machine takes nothing from it) and
 * copies just those into libvncserver's framebuffer, which it then marks modified so
 * clients get only them. When the display's generation changed (a mode change), it copies
 * the whole new surface into a new buffer and hands it to rfbNewFramebuffer, which sends
 * the DesktopSize pseudo-rectangle to clients that asked for it. Input callbacks run on
 * the same thread and go to the machine through hg_machine_send_* (queued to the emulation
 * thread), so nothing here touches emulated devices directly.
 *
 * No global state here: the HgVnc is rfbScreenInfo.screenData, a client's state is
 * rfbClientRec.clientData. libvncserver itself has two process-wide things this file
 * touches: its log functions (every server points them at the same GLib debug logger) and
 * its list of protocol extensions (each server registers its own record, see ext_key).
 *
 * Pixels: the display is 0x00RRGGBB; libvncserver's 8/3/4 server format is red in the low
 * byte, so rectangles are converted while copied (cheap next to sending them).
 *
 * Keyboard: see vnc-keysym.c. The server keeps, per client, which Shift keys the client
 * holds (as forwarded to the guest) and lifts or adds Shift around a key whose US symbol
 * needs the other state; it remembers which key each pressed keysym became, so the release
 * goes to the same key even when the client releases it under another symbol (Shift let go
 * first). Pointer: the absolute position goes to hg_machine_send_pointer; while the machine
 * has no absolute device, the difference to the client's previous position is sent as
 * relative motion (the guest's cursor then follows the client's only as far as the guest's
 * acceleration allows, as with QEMU's VNC and a PS/2 mouse). Keys are paced (KEY_DELAY_US)
 * and clients that send raw keys (QEMU Extended Key Event) bypass the keysym table.
 *
 * A client that stops reading blocks this thread in libvncserver's write until its
 * timeout (rfbMaxClientWait, 20 s) drops it: libvncserver's single-threaded mode.
 */
#include "vnc.h"

#include "display.h"
#include "hangar.h"

#ifdef HG_HAVE_VNC

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { MAX_RECTS = 64, MAX_HELD = 32, VNC_PORT_BASE = 5900 };
enum { SHIFT_L = 0x2A, SHIFT_R = 0x36 };
/* Keys reach the guest at most one per KEY_DELAY_US: a PS/2 keyboard buffers 16 bytes, and
 * a client that sends a burst (a paste, or a fast typist's rollover) would overflow it.
 * QEMU's VNC paces keys the same way (its key-delay-ms, 10 by default). */
enum { KEY_DELAY_US = 10000 };
/* The display is looked at every LOOP_US (it refreshes at 60 Hz: a change waits at most
 * this long), and what changed goes out at once, without libvncserver's own deferral. */
enum { LOOP_US = 10000 };
struct HgVnc {
    HgMachine *machine;
    HgDisplay *display;
    HgDisplayConsumer *consumer; /* polled: no notifier */
    rfbScreenInfoPtr screen;
    char *fb; /* libvncserver's framebuffer, width * height * 4 bytes */
    int width, height;
    uint64_t generation;
    char *passwords[2]; /* rfbCheckPasswordByList's NULL-terminated list */
    int unix_fd;        /* listening UNIX socket, or -1 */
    char *unix_path;
    GThread *thread;
    gint quit;
    GQueue keys;          /* pending key events: code | pressed << 16, server thread only */
    gint64 next_key_time; /* monotonic time the next one may go */
    /* The QEMU Extended Key Event (raw scancodes): libvncserver 0.9.14 does not know it, so
     * it is a protocol extension. libvncserver keeps registered extensions in one list for
     * the whole process and writes their next field, so each server registers its own. */
    rfbProtocolExtension ext_key;
    int ext_key_encodings[2];
    bool ext_key_registered;
};

typedef struct HeldKey {
    uint32_t keysym;
    uint16_t code;
} HeldKey;

typedef struct VncClient {
    HgVnc *vnc;
    bool shift_l, shift_r; /* as forwarded to the guest */
    bool have_pos;
    int x, y, buttons;
    HeldKey held[MAX_HELD];
    int n_held;
    uint32_t last_unknown; /* the last keysym dropped, to log each one once */
} VncClient;

bool hg_vnc_available(void)
{
    return true;
}

/* libvncserver reports every connection, encoding switch and statistics table on stderr;
 * they go to GLib's debug log instead (G_MESSAGES_DEBUG=hangar-vnc shows them). Its log
 * functions are process-wide pointers: every server sets the same one. */
G_GNUC_PRINTF(1, 2) static void vnc_log(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *text = g_strchomp(g_strdup_vprintf(format, ap));
    va_end(ap);
    g_log("hangar-vnc", G_LOG_LEVEL_DEBUG, "%s", text);
    g_free(text);
}

static void copy_rect(HgVnc *v, const HgSurface *s, int x, int y, int w, int h)
{
    for (int row = y; row < y + h; row++) {
        const uint32_t *src =
            (const uint32_t *)((const uint8_t *)s->pixels + (size_t)row * s->stride) + x;
        uint32_t *dst = (uint32_t *)v->fb + (size_t)row * v->width + x;
        for (int i = 0; i < w; i++) {
            uint32_t p = src[i];
            dst[i] = ((p >> 16) & 0xFF) | (p & 0xFF00) | ((p & 0xFF) << 16);
        }
    }
}

/* Pulls the display's changes into the framebuffer (server thread); true if any. */
static bool vnc_refresh(HgVnc *v)
{
    HgSurface s;
    HgRect rects[MAX_RECTS];
    hg_display_lock(v->display, &s);
    if (s.generation != v->generation || s.width != v->width || s.height != v->height) {
        hg_display_take_dirty(v->consumer, rects, MAX_RECTS, NULL);
        char *old = v->fb;
        v->fb = g_malloc((size_t)s.width * s.height * 4);
        v->width = s.width;
        v->height = s.height;
        v->generation = s.generation;
        copy_rect(v, &s, 0, 0, s.width, s.height);
        hg_display_unlock(v->display);
        rfbNewFramebuffer(v->screen, v->fb, v->width, v->height, 8, 3, 4);
        g_free(old);
        return true;
    }
    int n = hg_display_take_dirty(v->consumer, rects, MAX_RECTS, NULL);
    for (int i = 0; i < n; i++)
        copy_rect(v, &s, rects[i].x, rects[i].y, rects[i].w, rects[i].h);
    hg_display_unlock(v->display);
    for (int i = 0; i < n; i++)
        rfbMarkRectAsModified(v->screen, rects[i].x, rects[i].y, rects[i].x + rects[i].w,
                              rects[i].y + rects[i].h);
    return n > 0;
}

/* ---- input ---- */

static void key(VncClient *c, uint16_t code, bool down)
{
    g_queue_push_tail(&c->vnc->keys, GUINT_TO_POINTER(code | (down ? 1u << 16 : 0)));
}

/* Sends the queued key events that are due (server thread). */
static void send_keys(HgVnc *v)
{
    gint64 now = g_get_monotonic_time();
    while (!g_queue_is_empty(&v->keys) && now >= v->next_key_time) {
        guint e = GPOINTER_TO_UINT(g_queue_pop_head(&v->keys));
        hg_machine_send_key(v->machine, e & 0xFFFF, e >> 16);
        v->next_key_time = now + KEY_DELAY_US;
    }
}

static void key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
    VncClient *c = cl->clientData;
    if (!c)
        return;
    if (!down) {
        /* Release the key this keysym pressed, or, for a keysym never pressed under this
         * name (the client released Shift first), the key it maps to if that is held. */
        uint16_t code = 0;
        int shift, at = -1;
        for (int i = 0; i < c->n_held; i++)
            if (c->held[i].keysym == keysym)
                at = i;
        if (at < 0 && hg_vnc_keysym_lookup(keysym, &code, &shift))
            for (int i = 0; i < c->n_held; i++)
                if (c->held[i].code == code)
                    at = i;
        if (at < 0)
            return;
        code = c->held[at].code;
        c->held[at] = c->held[--c->n_held];
        if (code == SHIFT_L)
            c->shift_l = false;
        if (code == SHIFT_R)
            c->shift_r = false;
        key(c, code, false);
        return;
    }
    uint16_t code;
    int shift;
    if (!hg_vnc_keysym_lookup(keysym, &code, &shift)) {
        if (keysym != c->last_unknown)
            g_log("hangar-vnc", G_LOG_LEVEL_MESSAGE,
                  "keysym 0x%x has no key on the US layout: not typed (a client with the "
                  "QEMU Extended Key Event sends keys instead)",
                  (unsigned)keysym);
        c->last_unknown = keysym;
        return;
    }
    bool held_shift = c->shift_l || c->shift_r;
    if (shift == HG_VNC_SHIFT_YES && !held_shift) {
        key(c, SHIFT_L, true);
        key(c, code, true);
        key(c, SHIFT_L, false);
    } else if (shift == HG_VNC_SHIFT_NO && held_shift) {
        if (c->shift_l)
            key(c, SHIFT_L, false);
        if (c->shift_r)
            key(c, SHIFT_R, false);
        key(c, code, true);
        if (c->shift_l)
            key(c, SHIFT_L, true);
        if (c->shift_r)
            key(c, SHIFT_R, true);
    } else {
        key(c, code, true);
    }
    if (code == SHIFT_L)
        c->shift_l = true;
    if (code == SHIFT_R)
        c->shift_r = true;
    /* Autorepeat sends presses without releases: remember each keysym once. */
    for (int i = 0; i < c->n_held; i++)
        if (c->held[i].keysym == keysym)
            return;
    if (c->n_held < MAX_HELD)
        c->held[c->n_held++] = (HeldKey){keysym, code};
}

/* ---- QEMU Extended Key Event ----
 * The pseudo-encoding -258 in SetEncodings asks for it; the server acknowledges with an
 * empty rectangle of that encoding, after which the client may send message 255, subtype
 * 0: down (u16), keysym (u32), keycode (u32, the XT scancode: set 1, with the high bit
 * standing for the 0xE0 prefix; 0xC6 is Pause as QEMU numbers it). With the key itself the
 * guest's own layout decides the symbol, as on real hardware: the keysym table is only the
 * fallback for clients without it (or a keycode of 0). */
enum { QEMU_MSG = 255, QEMU_EXT_KEY = 0, ENC_EXT_KEY = -258 };

static rfbBool ext_key_enable(rfbClientPtr cl, void **data, int encoding)
{
    if (encoding != ENC_EXT_KEY)
        return FALSE;
    /* FramebufferUpdate, one rectangle 0,0 0x0 of encoding -258. */
    static const uint8_t ack[16] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFE, 0xFE};
    if (rfbWriteExact(cl, (const char *)ack, sizeof(ack)) < 0)
        rfbCloseClient(cl);
    return TRUE;
}

static uint16_t xt_to_code(uint32_t xt)
{
    if (xt == 0xC6)
        return HG_KEYCODE_PAUSE;
    if (xt >= 0x80 && xt <= 0xFF)
        return HG_KEYCODE_E0 | (xt & 0x7F);
    return xt > 0 && xt < 0x80 ? (uint16_t)xt : 0;
}

static rfbBool ext_key_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
    if (msg->type != QEMU_MSG)
        return FALSE;
    uint8_t b[11];
    if (rfbReadExact(cl, (char *)b, sizeof(b)) <= 0) {
        rfbCloseClient(cl);
        return TRUE;
    }
    VncClient *c = cl->clientData;
    if (b[0] != QEMU_EXT_KEY || !c) {
        vnc_log("unknown QEMU client message %u", b[0]);
        rfbCloseClient(cl);
        return TRUE;
    }
    bool down = (b[1] << 8 | b[2]) != 0;
    uint32_t keysym = (uint32_t)b[3] << 24 | b[4] << 16 | b[5] << 8 | b[6];
    uint16_t code = xt_to_code((uint32_t)b[7] << 24 | b[8] << 16 | b[9] << 8 | b[10]);
    if (!code) {
        cl->screen->kbdAddEvent(down, keysym, cl);
        return TRUE;
    }
    /* Remember held keys by code, for the release when the client goes away. */
    int at = -1;
    for (int i = 0; i < c->n_held; i++)
        if (c->held[i].code == code)
            at = i;
    if (down && at < 0 && c->n_held < MAX_HELD)
        c->held[c->n_held++] = (HeldKey){0, code};
    if (!down && at >= 0)
        c->held[at] = c->held[--c->n_held];
    key(c, code, down);
    return TRUE;
}

static void release_all(VncClient *c)
{
    for (int i = 0; i < c->n_held; i++)
        key(c, c->held[i].code, false);
    c->n_held = 0;
    c->shift_l = c->shift_r = false;
    if (c->buttons & 7)
        hg_machine_send_mouse(c->vnc->machine, 0, 0, 0, 0);
    c->buttons = 0;
}

static void pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
    VncClient *c = cl->clientData;
    if (!c)
        return;
    /* RFB buttons: 1 left, 2 middle, 4 right, 8 wheel up, 16 wheel down. */
    unsigned buttons = ((mask & 1) ? HG_BUTTON_LEFT : 0) | ((mask & 2) ? HG_BUTTON_MIDDLE : 0) |
                       ((mask & 4) ? HG_BUTTON_RIGHT : 0);
    int dz = 0;
    if ((mask & 8) && !(c->buttons & 8))
        dz = -1;
    if ((mask & 16) && !(c->buttons & 16))
        dz = 1;
    if (dz == 0 && hg_machine_send_pointer(c->vnc->machine, x, y, buttons)) {
        c->have_pos = false;
    } else {
        int dx = c->have_pos ? x - c->x : 0, dy = c->have_pos ? y - c->y : 0;
        if (dx || dy || dz || buttons != (unsigned)(c->buttons & 7))
            hg_machine_send_mouse(c->vnc->machine, dx, dy, dz, buttons);
        c->have_pos = true;
    }
    c->x = x;
    c->y = y;
    c->buttons = mask;
}

static void client_gone(rfbClientPtr cl)
{
    /* libvncserver 0.9.14 frees neither a client's enabled-extension records when it goes
     * nor the record in rfbDisableExtension; ours carry no data. */
    for (rfbExtensionData *e = cl->extensions, *next; e; e = next) {
        next = e->next;
        free(e);
    }
    cl->extensions = NULL;
    VncClient *c = cl->clientData;
    if (c) {
        release_all(c);
        g_free(c);
        cl->clientData = NULL;
    }
}

static enum rfbNewClientAction new_client(rfbClientPtr cl)
{
    VncClient *c = g_new0(VncClient, 1);
    c->vnc = cl->screen->screenData;
    cl->clientData = c;
    cl->clientGoneHook = client_gone;
    return RFB_CLIENT_ACCEPT;
}

/* ---- the server thread ---- */

static void accept_unix(HgVnc *v)
{
    struct pollfd p = {.fd = v->unix_fd, .events = POLLIN};
    while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
        int fd = accept4(v->unix_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        rfbNewClient(v->screen, fd);
    }
}

static gpointer vnc_thread(gpointer data)
{
    HgVnc *v = data;
    while (!g_atomic_int_get(&v->quit)) {
        rfbProcessEvents(v->screen, g_queue_is_empty(&v->keys) ? LOOP_US : KEY_DELAY_US / 2);
        if (v->unix_fd >= 0)
            accept_unix(v);
        send_keys(v);
        if (vnc_refresh(v))
            rfbProcessEvents(v->screen, 0); /* send it to clients waiting for an update */
    }
    rfbShutdownServer(v->screen, TRUE);
    return NULL;
}

/* ---- start and stop ---- */

typedef struct Spec {
    char *unix_path; /* unix:PATH, or NULL for TCP */
    in_addr_t host;  /* network order */
    int port;
} Spec;

static bool parse_spec(const char *spec, Spec *out, GError **error)
{
    *out = (Spec){0};
    if (g_str_has_prefix(spec, "unix:")) {
        const char *path = spec + 5;
        if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "--vnc: bad UNIX socket path \"%s\"",
                        path);
            return false;
        }
        out->unix_path = g_strdup(path);
        return true;
    }
    const char *colon = strrchr(spec, ':');
    char *end;
    long display = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || !colon[1] || *end || display < 0 || display > 65535 - VNC_PORT_BASE) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "--vnc: expected :N, HOST:N or unix:PATH, not \"%s\"", spec);
        return false;
    }
    out->host = htonl(INADDR_LOOPBACK);
    out->port = VNC_PORT_BASE + (int)display;
    if (colon != spec) {
        char *name = g_strndup(spec, colon - spec);
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
        int rc = getaddrinfo(name, NULL, &hints, &ai);
        if (rc != 0) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "--vnc: cannot resolve \"%s\" to an IPv4 address: %s", name,
                        gai_strerror(rc));
            g_free(name);
            return false;
        }
        out->host = ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr;
        freeaddrinfo(ai);
        g_free(name);
    }
    return true;
}

bool hg_vnc_check_spec(const char *spec, GError **error)
{
    Spec s;
    bool ok = parse_spec(spec, &s, error);
    g_free(s.unix_path);
    return ok;
}

static bool listen_unix(HgVnc *v, const char *path, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    unlink(path);
    v->unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (v->unix_fd < 0 || bind(v->unix_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(v->unix_fd, 4) < 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "--vnc: cannot listen on %s: %s", path,
                    g_strerror(errno));
        return false;
    }
    v->unix_path = g_strdup(path);
    return true;
}

static void vnc_free(HgVnc *v)
{
    if (v->screen)
        rfbScreenCleanup(v->screen);
    hg_display_remove_consumer(v->consumer);
    if (v->ext_key_registered)
        rfbUnregisterProtocolExtension(&v->ext_key);
    if (v->unix_fd >= 0)
        close(v->unix_fd);
    if (v->unix_path)
        unlink(v->unix_path);
    g_free(v->unix_path);
    g_free(v->fb);
    g_free(v->passwords[0]);
    g_queue_clear(&v->keys);
    g_free(v);
}

HgVnc *hg_vnc_start(HgMachine *m, const char *spec, const char *password, GError **error)
{
    Spec where;
    if (!parse_spec(spec, &where, error))
        return NULL;
    HgVnc *v = g_new0(HgVnc, 1);
    v->machine = m;
    v->display = hg_machine_display(m);
    v->unix_fd = -1;
    g_queue_init(&v->keys);

    /* Registered first, so no change between this copy and the first refresh is lost; the
     * consumer's initial whole-surface region is taken (and dropped) with the copy. */
    v->consumer = hg_display_add_consumer(v->display, NULL, NULL);
    HgSurface s;
    HgRect all[1];
    hg_display_lock(v->display, &s);
    hg_display_take_dirty(v->consumer, all, 1, NULL);
    v->width = s.width;
    v->height = s.height;
    v->generation = s.generation;
    v->fb = g_malloc((size_t)s.width * s.height * 4);
    copy_rect(v, &s, 0, 0, s.width, s.height);
    hg_display_unlock(v->display);

    rfbLog = rfbErr = vnc_log;
    int argc = 0;
    v->screen = rfbGetScreen(&argc, NULL, v->width, v->height, 8, 3, 4);
    if (!v->screen) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "--vnc: libvncserver failed");
        vnc_free(v);
        return NULL;
    }
    v->screen->frameBuffer = v->fb;
    v->screen->screenData = v;
    v->screen->desktopName = "Hangar";
    v->screen->alwaysShared = TRUE;
    v->screen->deferUpdateTime = 0; /* vnc_thread batches at the display's pace */
    v->screen->cursor = NULL; /* the guest draws its own pointer */
    v->screen->kbdAddEvent = key_event;
    v->screen->ptrAddEvent = pointer_event;
    v->screen->newClientHook = new_client;
    if (password) {
        v->passwords[0] = g_strdup(password);
        v->screen->authPasswdData = v->passwords;
        v->screen->passwordCheck = rfbCheckPasswordByList;
    }
    if (where.unix_path) {
        /* libvncserver listens on TCP only: this thread accepts and hands it the sockets. */
        bool ok = listen_unix(v, where.unix_path, error);
        g_free(where.unix_path);
        if (!ok) {
            vnc_free(v);
            return NULL;
        }
        v->screen->port = 0;
    } else {
        v->screen->listenInterface = where.host;
        v->screen->port = where.port;
        v->screen->autoPort = FALSE;
    }
    v->screen->ipv6port = 0; /* IPv4 only: the address asked for, 127.0.0.1 by default */
    v->ext_key_encodings[0] = ENC_EXT_KEY;
    v->ext_key.pseudoEncodings = v->ext_key_encodings;
    v->ext_key.enablePseudoEncoding = ext_key_enable;
    v->ext_key.handleMessage = ext_key_message;
    rfbRegisterProtocolExtension(&v->ext_key);
    v->ext_key_registered = true;
    rfbInitServer(v->screen);
    if (v->unix_fd < 0 && v->screen->listenSock == RFB_INVALID_SOCKET) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "--vnc: cannot listen on TCP port %d (in use?)",
                    v->screen->port);
        vnc_free(v);
        return NULL;
    }
    v->thread = g_thread_new("hangar-vnc", vnc_thread, v);
    return v;
}

void hg_vnc_stop(HgVnc *v)
{
    if (!v)
        return;
    g_atomic_int_set(&v->quit, 1);
    g_thread_join(v->thread);
    vnc_free(v);
}

#else /* !HG_HAVE_VNC */

bool hg_vnc_available(void)
{
    return false;
}

bool hg_vnc_check_spec(const char *spec, GError **error)
{
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "--vnc: this build has no VNC server (libvncserver-dev was not found)");
    return false;
}

HgVnc *hg_vnc_start(HgMachine *m, const char *spec, const char *password, GError **error)
{
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "--vnc: this build has no VNC server (libvncserver-dev was not found)");
    return NULL;
}

void hg_vnc_stop(HgVnc *v)
{
}

#endif
