/* User networking with libslirp 4.7 (libslirp.h; QEMU's net/slirp.c is the reference
 * user): a TCP/IP stack in this process that answers the guest's ARP, DHCP and DNS and
 * carries its TCP, UDP and ICMP echo over ordinary host sockets, so it needs no
 * privileges. IPv4 only (in6_enabled off): guests get QEMU's IPv4 defaults and nothing
 * they would try to reach over IPv6 first.
 *
 * libslirp is not thread-safe; everything here runs on the net thread, except creation
 * and cleanup, which happen while that thread does not run. Its sockets are polled in the
 * net thread's own loop (net.c), as QEMU's main loop does: before each poll
 * net_slirp_fill appends the fds slirp_pollfds_fill asks for to the GMainContext's and
 * shortens the timeout to slirp's TCP timers and ours; after the poll and the GLib
 * dispatch (which may have fed slirp guest frames) net_slirp_poll hands the results to
 * slirp_pollfds_poll, which also runs slirp's TCP timers and sends what waited for an ARP
 * answer. The timers libslirp creates through SlirpCb (the IPv6 router advertisement,
 * when enabled) are kept in a list whose earliest expiry bounds the same timeout. */
#include "hangar.h"
#include "net-internal.h"

#ifdef HG_HAVE_SLIRP

#include <errno.h>
#include <slirp/libslirp.h>

typedef struct NetTimer {
    SlirpTimerCb cb; /* timer_new; NULL for timer_new_opaque, run by slirp_handle_timer */
    SlirpTimerId id;
    void *cb_opaque;
    int64_t expire_ms; /* on the clock_get_ns clock; -1: not armed */
} NetTimer;

struct NetSlirp {
    HgNet *net;
    Slirp *slirp;
    GMainContext *ctx;
    GArray *fds;       /* the loop's GPollFDs, from net_slirp_fill to net_slirp_poll */
    guint base;        /* where ours start in fds */
    bool filled;       /* slirp_pollfds_fill ran and slirp_pollfds_poll did not yet */
    GPtrArray *timers; /* NetTimer */
};

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* ---- SlirpCb ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    NetSlirp *ns = opaque;
    net_to_guest(ns->net, buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    g_message("net: libslirp: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static NetTimer *timer_add(NetSlirp *ns, SlirpTimerCb cb, SlirpTimerId id, void *cb_opaque)
{
    NetTimer *t = g_new0(NetTimer, 1);
    *t = (NetTimer){.cb = cb, .id = id, .cb_opaque = cb_opaque, .expire_ms = -1};
    g_ptr_array_add(ns->timers, t);
    return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, cb, 0, cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, NULL, id, cb_opaque);
}

static void cb_timer_free(void *timer, void *opaque)
{
    NetSlirp *ns = opaque;
    g_ptr_array_remove_fast(ns->timers, timer);
    g_free(timer);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    ((NetTimer *)timer)->expire_ms = MAX(expire_ms, 0);
}

/* The fds are collected anew before every poll, so there is nothing to register. */
static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
    NetSlirp *ns = opaque;
    g_main_context_wakeup(ns->ctx);
}

static void cb_init_completed(Slirp *slirp, void *opaque)
{
    ((NetSlirp *)opaque)->slirp = slirp;
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .init_completed = cb_init_completed,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- polling ---- */

static int add_poll(int fd, int events, void *opaque)
{
    NetSlirp *ns = opaque;
    GPollFD p = {.fd = fd};
    if (events & SLIRP_POLL_IN)
        p.events |= G_IO_IN;
    if (events & SLIRP_POLL_OUT)
        p.events |= G_IO_OUT;
    if (events & SLIRP_POLL_PRI)
        p.events |= G_IO_PRI;
    g_array_append_val(ns->fds, p);
    return (int)(ns->fds->len - 1 - ns->base);
}

static int get_revents(int idx, void *opaque)
{
    NetSlirp *ns = opaque;
    if (idx < 0 || ns->base + (guint)idx >= ns->fds->len)
        return 0;
    gushort r = g_array_index(ns->fds, GPollFD, ns->base + idx).revents;
    int ev = 0;
    if (r & G_IO_IN)
        ev |= SLIRP_POLL_IN;
    if (r & G_IO_OUT)
        ev |= SLIRP_POLL_OUT;
    if (r & G_IO_PRI)
        ev |= SLIRP_POLL_PRI;
    if (r & G_IO_ERR)
        ev |= SLIRP_POLL_ERR;
    if (r & G_IO_HUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

void net_slirp_fill(NetSlirp *ns, GArray *fds, gint *timeout)
{
    ns->fds = fds;
    ns->base = fds->len;
    uint32_t t = *timeout < 0 ? UINT32_MAX : (uint32_t)*timeout;
    slirp_pollfds_fill(ns->slirp, &t, add_poll, ns);
    ns->filled = true;
    int64_t now = now_ms();
    for (guint i = 0; i < ns->timers->len; i++) {
        NetTimer *tm = ns->timers->pdata[i];
        if (tm->expire_ms >= 0)
            t = (uint32_t)MIN((int64_t)t, MAX(tm->expire_ms - now, 0));
    }
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
}

static void run_timers(NetSlirp *ns)
{
    /* A timer's handler may create, re-arm or free timers: look again after each. */
    for (;;) {
        int64_t now = now_ms();
        NetTimer *due = NULL;
        for (guint i = 0; i < ns->timers->len && !due; i++) {
            NetTimer *t = ns->timers->pdata[i];
            if (t->expire_ms >= 0 && t->expire_ms <= now)
                due = t;
        }
        if (!due)
            return;
        due->expire_ms = -1;
        if (due->cb)
            due->cb(due->cb_opaque);
        else
            slirp_handle_timer(ns->slirp, due->id, due->cb_opaque);
    }
}

void net_slirp_poll(NetSlirp *ns, bool poll_failed)
{
    if (ns->filled) {
        ns->filled = false;
        slirp_pollfds_poll(ns->slirp, poll_failed, get_revents, ns);
    }
    ns->fds = NULL;
    run_timers(ns);
}

/* ---- the backend ---- */

NetSlirp *net_slirp_new(HgNet *net, const NetSpec *spec, GMainContext *ctx, GError **error)
{
    NetSlirp *ns = g_new0(NetSlirp, 1);
    ns->net = net;
    ns->ctx = ctx;
    ns->timers = g_ptr_array_new();

    /* QEMU's -netdev user defaults come from the spec (spec.c); DHCP hands out
     * 16 addresses from dhcp_start and names dns as the only resolver. */
    SlirpConfig cfg = {
        .version = 4,
        .restricted = spec->restricted,
        .in_enabled = true,
        .vnetwork = spec->network,
        .vnetmask = spec->netmask,
        .vhost = spec->host,
        .in6_enabled = false,
        .vdhcp_start = spec->dhcp_start,
        .vnameserver = spec->dns,
    };
    Slirp *slirp = slirp_new(&cfg, &slirp_callbacks, ns);
    if (!slirp) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "libslirp refused the user network");
        net_slirp_free(ns);
        return NULL;
    }
    ns->slirp = slirp;
    for (guint i = 0; i < spec->fwds->len; i++) {
        if (!net_slirp_add_fwd(ns, &g_array_index(spec->fwds, NetFwd, i), error)) {
            net_slirp_free(ns);
            return NULL;
        }
    }
    return ns;
}

void net_slirp_free(NetSlirp *ns)
{
    if (!ns)
        return;
    if (ns->slirp)
        slirp_cleanup(ns->slirp);
    g_ptr_array_free(ns->timers, TRUE); /* libslirp freed its timers; be safe */
    g_free(ns);
}

void net_slirp_input(NetSlirp *ns, const uint8_t *frame, size_t len)
{
    slirp_input(ns->slirp, frame, (int)len);
}

bool net_slirp_add_fwd(NetSlirp *ns, const NetFwd *f, GError **error)
{
    if (slirp_add_hostfwd(ns->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr,
                          f->guest_port) == 0)
        return true;
    int e = errno;
    char h[INET_ADDRSTRLEN];
    g_autofree char *d = net_fwd_describe(f);
    if (e == EADDRINUSE)
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "cannot forward %s: %s port %u on %s is already in use on this host; "
                    "choose another HOSTPORT",
                    d, f->udp ? "UDP" : "TCP", f->host_port, net_addr_text(f->host_addr, h));
    else
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "cannot forward %s: the host address cannot be listened on (%s); use "
                    "127.0.0.1, 0.0.0.0 or an address of this host",
                    d, g_strerror(e));
    return false;
}

bool net_slirp_remove_fwd(NetSlirp *ns, const NetFwd *f, GError **error)
{
    if (slirp_remove_hostfwd(ns->slirp, f->udp, f->host_addr, f->host_port) == 0)
        return true;
    char h[INET_ADDRSTRLEN];
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "no host forward listens on %s %s:%u (\"info network\" lists them)",
                f->udp ? "udp" : "tcp", net_addr_text(f->host_addr, h), f->host_port);
    return false;
}

const char *net_slirp_version(void)
{
    return slirp_version_string();
}

#else /* !HG_HAVE_SLIRP */

NetSlirp *net_slirp_new(HgNet *net, const NetSpec *spec, GMainContext *ctx, GError **error)
{
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "user networking needs libslirp, which this build of Hangar lacks: install "
                "libslirp-dev (scripts/install-deps) and reconfigure (meson setup --reconfigure "
                "build), or use tap,ifname=NAME or none");
    return NULL;
}

void net_slirp_free(NetSlirp *ns)
{
}

void net_slirp_input(NetSlirp *ns, const uint8_t *frame, size_t len)
{
}

void net_slirp_fill(NetSlirp *ns, GArray *fds, gint *timeout)
{
}

void net_slirp_poll(NetSlirp *ns, bool poll_failed)
{
}

bool net_slirp_add_fwd(NetSlirp *ns, const NetFwd *f, GError **error)
{
    return false;
}

bool net_slirp_remove_fwd(NetSlirp *ns, const NetFwd *f, GError **error)
{
    return false;
}

const char *net_slirp_version(void)
{
    return "missing";
}

#endif
