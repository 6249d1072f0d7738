/* The host side of a machine's network (see net.h): two bounded frame queues between the
 * emulation thread and the net thread, the net thread's loop, and the calls that the
 * monitor makes into it.
 *
 * The net thread iterates the HgNet's own GMainContext by hand (prepare, query, poll,
 * check, dispatch), adding libslirp's sockets to the same poll, as QEMU's main loop does.
 * (A GSource that re-registers slirp's fds in every prepare would wake its own context
 * each time, since g_source_add_poll signals the context, and spin.) The context's
 * sources: the transmit queue (ready while frames wait; hg_net_send wakes the context
 * when the queue stops being empty), the tap fd (tap.c), the dump's flush every second,
 * and one-shot idle sources for calls from other threads (run-time forwards). libslirp
 * polls after the dispatch, so what the guest's frames started (a TCP segment that waited
 * for the guest's ARP answer) goes out in the same iteration. Frames for the guest go
 * into the receive queue; wake(opaque) is called when it stops being empty, as
 * block/aio.c does for finished image requests. */
#include <string.h>

#include "hangar.h"
#include "net-internal.h"

typedef struct NetFrame {
    struct NetFrame *next;
    size_t len;
    uint8_t data[];
} NetFrame;

/* A FIFO of frames between two threads, bounded in frames and bytes. Only one thread
 * takes frames out, so it may look at the head without the lock while it is in use. */
typedef struct NetQueue {
    GMutex lock;
    NetFrame *head, *tail;
    gint count; /* frames queued: written under the lock, readable without it */
    size_t bytes;
    uint64_t frames, total_bytes, dropped, taken;
    unsigned peak_frames;
    size_t peak_bytes;
} NetQueue;

typedef enum {
    CALL_QUEUED,
    CALL_RUNNING,
    CALL_DONE,
    CALL_ABANDONED,
} CallState;

/* A request run on the net thread for another thread, which waits a bounded time. */
typedef struct NetCall {
    gint refs;
    HgNet *net;
    bool (*fn)(HgNet *net, const NetFwd *f, GError **error);
    NetFwd fwd;
    CallState state; /* under net->lock */
    bool ok;
    GError *error;
} NetCall;

typedef struct TxSource {
    GSource base;
    HgNet *net;
} TxSource;

struct HgNet {
    NetSpec spec;
    uint8_t mac[6];
    char *dump_path;
    void (*wake)(void *opaque);
    void *opaque;

    NetQueue tx; /* guest -> network */
    NetQueue rx; /* network -> guest */
    gint tx_errors;
    bool delivering; /* emulation thread: hg_net_deliver is running */
    bool tx_kick;    /* emulation thread: frames queued since the net thread last woke */
    size_t tx_unflushed; /* emulation thread: bytes sent since the last flush */

    GMainContext *ctx;
    GThread *thread;
    gint quit;
    GSource *tx_source;
    GSource *flush_source;

    NetSlirp *slirp;
    NetTap *tap;
    NetPcap *pcap; /* net thread only */

    GMutex lock; /* forwards and calls */
    GCond call_done;
    GArray *fwds; /* NetFwd: the forwards in place, for hg_net_info */
};

enum {
    CALL_WAIT_US = G_USEC_PER_SEC, /* how long hg_net_hostfwd_* wait for the net thread */
};

/* ---- queues ---- */

static void queue_init(NetQueue *q)
{
    memset(q, 0, sizeof(*q));
    g_mutex_init(&q->lock);
}

static void queue_clear(NetQueue *q)
{
    for (NetFrame *f = q->head, *next; f; f = next) {
        next = f->next;
        g_free(f);
    }
    g_mutex_clear(&q->lock);
}

/* Returns false when the frame was dropped; *was_empty tells whether to wake the taker. */
static bool queue_push(NetQueue *q, const uint8_t *data, size_t len, bool *was_empty)
{
    g_mutex_lock(&q->lock);
    if (q->count >= HG_NET_QUEUE_FRAMES || q->bytes + len > HG_NET_QUEUE_BYTES) {
        q->dropped++;
        g_mutex_unlock(&q->lock);
        return false;
    }
    g_mutex_unlock(&q->lock);
    /* Copy outside the lock: the taker may be busy with the head meanwhile. */
    NetFrame *f = g_malloc(sizeof(NetFrame) + len);
    f->next = NULL;
    f->len = len;
    memcpy(f->data, data, len);
    g_mutex_lock(&q->lock);
    if (q->count >= HG_NET_QUEUE_FRAMES || q->bytes + len > HG_NET_QUEUE_BYTES) {
        /* Only the one pushing thread adds frames, so this cannot happen; stay safe. */
        q->dropped++;
        g_mutex_unlock(&q->lock);
        g_free(f);
        return false;
    }
    *was_empty = q->head == NULL;
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    q->bytes += len;
    q->frames++;
    q->total_bytes += len;
    g_atomic_int_set(&q->count, q->count + 1);
    q->peak_frames = MAX(q->peak_frames, (unsigned)q->count);
    q->peak_bytes = MAX(q->peak_bytes, q->bytes);
    g_mutex_unlock(&q->lock);
    return true;
}

/* Removes the head, which the caller looked at. */
static void queue_pop(NetQueue *q, NetFrame *head)
{
    g_mutex_lock(&q->lock);
    g_assert(q->head == head);
    q->head = head->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= head->len;
    q->taken++;
    g_atomic_int_set(&q->count, q->count - 1);
    g_mutex_unlock(&q->lock);
    g_free(head);
}

/* Takes every frame at once (a list the caller frees). */
static NetFrame *queue_take_all(NetQueue *q)
{
    g_mutex_lock(&q->lock);
    NetFrame *list = q->head;
    q->head = q->tail = NULL;
    q->taken += (unsigned)q->count;
    q->bytes = 0;
    g_atomic_int_set(&q->count, 0);
    g_mutex_unlock(&q->lock);
    return list;
}

/* ---- emulation thread ---- */

void hg_net_send(HgNet *net, const uint8_t *frame, size_t len)
{
    if (len < HG_NIC_MIN_FRAME || len > HG_NIC_MAX_FRAME) {
        g_mutex_lock(&net->tx.lock);
        net->tx.dropped++;
        g_mutex_unlock(&net->tx.lock);
        return;
    }
    bool was_empty = false;
    if (!queue_push(&net->tx, frame, len, &was_empty))
        return;
    net->tx_kick |= was_empty;
    net->tx_unflushed += len;
    /* A guest sending much in one slice should not fill the queue before the flush. */
    if (g_atomic_int_get(&net->tx.count) >= HG_NET_QUEUE_FRAMES / 4 ||
        net->tx_unflushed >= HG_NET_QUEUE_BYTES / 4)
        hg_net_flush(net);
}

void hg_net_flush(HgNet *net)
{
    if (!net)
        return;
    net->tx_unflushed = 0;
    /* Without a kick the net thread was woken since the queue last emptied: it takes
     * every frame that waits before it sleeps again. */
    if (net->tx_kick) {
        net->tx_kick = false;
        g_main_context_wakeup(net->ctx);
    }
}

bool hg_net_pending(HgNet *net)
{
    return g_atomic_int_get(&net->rx.count) > 0;
}

int hg_net_deliver(HgNet *net, HgNicRx (*receive)(void *nic, const uint8_t *frame, size_t len),
                   void *nic)
{
    /* A card that calls rx_ready from inside its receive function must not see the same
     * head offered twice. */
    if (net->delivering)
        return 0;
    net->delivering = true;
    int n = 0;
    while (g_atomic_int_get(&net->rx.count) > 0) {
        g_mutex_lock(&net->rx.lock);
        NetFrame *f = net->rx.head;
        g_mutex_unlock(&net->rx.lock);
        if (!f || receive(nic, f->data, f->len) == HG_NIC_RX_NO_ROOM)
            break;
        queue_pop(&net->rx, f);
        n++;
    }
    net->delivering = false;
    return n;
}

/* ---- net thread ---- */

void net_to_guest(HgNet *net, const uint8_t *frame, size_t len)
{
    bool was_empty = false;
    if (!queue_push(&net->rx, frame, len, &was_empty))
        return;
    if (net->pcap)
        net_pcap_write(net->pcap, frame, len);
    if (was_empty && net->wake)
        net->wake(net->opaque);
}

void net_tx_error(HgNet *net)
{
    g_atomic_int_inc(&net->tx_errors);
}

static gboolean tx_prepare(GSource *source, gint *timeout)
{
    *timeout = -1;
    return g_atomic_int_get(&((TxSource *)source)->net->tx.count) > 0;
}

static gboolean tx_check(GSource *source)
{
    return g_atomic_int_get(&((TxSource *)source)->net->tx.count) > 0;
}

static gboolean tx_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    HgNet *net = ((TxSource *)source)->net;
    NetFrame *list = queue_take_all(&net->tx);
    for (NetFrame *f = list, *next; f; f = next) {
        next = f->next;
        if (net->pcap)
            net_pcap_write(net->pcap, f->data, f->len);
        if (net->slirp)
            net_slirp_input(net->slirp, f->data, f->len);
        else if (net->tap)
            net_tap_input(net->tap, f->data, f->len);
        g_free(f);
    }
    return G_SOURCE_CONTINUE;
}

/* const: the engine keeps no mutable static data; GLib only reads it. */
static const GSourceFuncs tx_funcs = {
    .prepare = tx_prepare,
    .check = tx_check,
    .dispatch = tx_dispatch,
};

static gboolean flush_dump(gpointer data)
{
    HgNet *net = data;
    net_pcap_flush(net->pcap);
    return G_SOURCE_CONTINUE;
}

static gpointer net_thread(gpointer data)
{
    HgNet *net = data;
    GMainContext *ctx = net->ctx;
    g_main_context_push_thread_default(ctx);
    GArray *fds = g_array_new(FALSE, TRUE, sizeof(GPollFD));
    while (!g_atomic_int_get(&net->quit)) {
        gint max_priority, timeout, n;
        g_main_context_prepare(ctx, &max_priority);
        for (;;) {
            n = g_main_context_query(ctx, max_priority, &timeout, (GPollFD *)fds->data,
                                     (gint)fds->len);
            if ((guint)n <= fds->len)
                break;
            g_array_set_size(fds, n);
        }
        g_array_set_size(fds, n);
        if (net->slirp)
            net_slirp_fill(net->slirp, fds, &timeout);
        bool failed = g_poll((GPollFD *)fds->data, fds->len, timeout) < 0;
        if (g_main_context_check(ctx, max_priority, (GPollFD *)fds->data, n))
            g_main_context_dispatch(ctx);
        if (net->slirp)
            net_slirp_poll(net->slirp, failed);
    }
    g_array_unref(fds);
    g_main_context_pop_thread_default(ctx);
    return NULL;
}

/* Runs fn(data) on the net thread at its next iteration. */
static void run_on_thread(HgNet *net, GSourceFunc fn, gpointer data, GDestroyNotify notify)
{
    GSource *s = g_idle_source_new();
    g_source_set_priority(s, G_PRIORITY_DEFAULT);
    g_source_set_callback(s, fn, data, notify);
    g_source_attach(s, net->ctx);
    g_source_unref(s);
}

/* ---- creation ---- */

HgNet *hg_net_new(const char *spec, const uint8_t mac[6], const char *dump_path,
                  void (*wake)(void *opaque), void *opaque, GError **error)
{
    HgNet *net = g_new0(HgNet, 1);
    if (!net_spec_parse(&net->spec, spec, error)) {
        g_free(net);
        return NULL;
    }
    memcpy(net->mac, mac, 6);
    net->wake = wake;
    net->opaque = opaque;
    queue_init(&net->tx);
    queue_init(&net->rx);
    g_mutex_init(&net->lock);
    g_cond_init(&net->call_done);
    net->fwds = g_array_new(FALSE, TRUE, sizeof(NetFwd));
    net->ctx = g_main_context_new();

    net->tx_source = g_source_new((GSourceFuncs *)&tx_funcs, sizeof(TxSource));
    ((TxSource *)net->tx_source)->net = net;
    g_source_set_priority(net->tx_source, G_PRIORITY_DEFAULT);
    g_source_attach(net->tx_source, net->ctx);

    if (dump_path) {
        net->pcap = net_pcap_open(dump_path, error);
        if (!net->pcap)
            goto fail;
        net->dump_path = g_strdup(dump_path);
        net->flush_source = g_timeout_source_new(1000);
        g_source_set_callback(net->flush_source, flush_dump, net, NULL);
        g_source_attach(net->flush_source, net->ctx);
    }

    switch (net->spec.mode) {
    case NET_MODE_USER:
        net->slirp = net_slirp_new(net, &net->spec, net->ctx, error);
        if (!net->slirp)
            goto fail;
        g_array_append_vals(net->fwds, net->spec.fwds->data, net->spec.fwds->len);
        break;
    case NET_MODE_TAP:
        net->tap = net_tap_new(net, net->spec.ifname, net->ctx, error);
        if (!net->tap)
            goto fail;
        break;
    case NET_MODE_NONE: break;
    }

    net->thread = g_thread_try_new("hangar-net", net_thread, net, error);
    if (!net->thread)
        goto fail;
    return net;
fail:
    hg_net_free(net);
    return NULL;
}

void hg_net_free(HgNet *net)
{
    if (!net)
        return;
    if (net->thread) {
        g_atomic_int_set(&net->quit, 1);
        g_main_context_wakeup(net->ctx);
        g_thread_join(net->thread);
    }
    /* The thread is gone: what it owned is ours now. Sources first (the backends' own
     * and queued calls, whose notifications drop their references). */
    if (net->flush_source) {
        g_source_destroy(net->flush_source);
        g_source_unref(net->flush_source);
    }
    g_source_destroy(net->tx_source);
    g_source_unref(net->tx_source);
    net_slirp_free(net->slirp);
    net_tap_free(net->tap);
    g_main_context_unref(net->ctx);
    net_pcap_close(net->pcap);
    queue_clear(&net->tx);
    queue_clear(&net->rx);
    g_array_unref(net->fwds);
    g_mutex_clear(&net->lock);
    g_cond_clear(&net->call_done);
    net_spec_clear(&net->spec);
    g_free(net->dump_path);
    g_free(net);
}

/* ---- calls from other threads ---- */

static void call_unref(gpointer data)
{
    NetCall *c = data;
    if (g_atomic_int_dec_and_test(&c->refs)) {
        g_clear_error(&c->error);
        g_free(c);
    }
}

static gboolean call_run(gpointer data)
{
    NetCall *c = data;
    HgNet *net = c->net;
    g_mutex_lock(&net->lock);
    bool abandoned = c->state == CALL_ABANDONED;
    c->state = CALL_RUNNING;
    g_mutex_unlock(&net->lock);
    if (abandoned)
        return G_SOURCE_REMOVE;
    bool ok = c->fn(net, &c->fwd, &c->error);
    g_mutex_lock(&net->lock);
    c->ok = ok;
    c->state = CALL_DONE;
    g_cond_broadcast(&net->call_done);
    g_mutex_unlock(&net->lock);
    return G_SOURCE_REMOVE;
}

/* Runs fn on the net thread and waits for it about a second at most: a call that has not
 * started by then is abandoned (it will not run); one that started is waited for, since
 * binding or closing a socket is quick. */
static bool call_net_thread(HgNet *net, bool (*fn)(HgNet *, const NetFwd *, GError **),
                            const NetFwd *f, GError **error)
{
    NetCall *c = g_new0(NetCall, 1);
    c->refs = 2;
    c->net = net;
    c->fn = fn;
    c->fwd = *f;
    c->state = CALL_QUEUED;
    run_on_thread(net, call_run, c, call_unref);
    gint64 deadline = g_get_monotonic_time() + CALL_WAIT_US;
    g_mutex_lock(&net->lock);
    while (c->state == CALL_QUEUED && g_cond_wait_until(&net->call_done, &net->lock, deadline))
        ;
    while (c->state == CALL_RUNNING)
        g_cond_wait(&net->call_done, &net->lock);
    bool ok = false;
    if (c->state == CALL_QUEUED) {
        c->state = CALL_ABANDONED;
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "the network thread did not answer within a second; try again");
    } else {
        ok = c->ok;
        if (!ok)
            g_propagate_error(error, g_steal_pointer(&c->error));
    }
    g_mutex_unlock(&net->lock);
    call_unref(c);
    return ok;
}

static bool same_listener(const NetFwd *a, const NetFwd *b)
{
    return a->udp == b->udp && a->host_addr.s_addr == b->host_addr.s_addr &&
           a->host_port == b->host_port;
}

static bool fwd_add(HgNet *net, const NetFwd *f, GError **error)
{
    if (!net_slirp_add_fwd(net->slirp, f, error))
        return false;
    g_mutex_lock(&net->lock);
    g_array_append_val(net->fwds, *f);
    g_mutex_unlock(&net->lock);
    return true;
}

static bool fwd_remove(HgNet *net, const NetFwd *f, GError **error)
{
    if (!net_slirp_remove_fwd(net->slirp, f, error))
        return false;
    g_mutex_lock(&net->lock);
    for (guint i = 0; i < net->fwds->len; i++) {
        if (same_listener(&g_array_index(net->fwds, NetFwd, i), f)) {
            g_array_remove_index(net->fwds, i);
            break;
        }
    }
    g_mutex_unlock(&net->lock);
    return true;
}

static bool hostfwd_call(HgNet *net, const char *rule, bool remove, GError **error)
{
    if (!net->slirp) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "host forwards need user networking (this machine's network is %s)",
                    net->spec.mode == NET_MODE_TAP ? "a tap device" : "none");
        return false;
    }
    NetFwd f;
    if (!net_fwd_parse(&net->spec, rule, remove, &f, error))
        return false;
    return call_net_thread(net, remove ? fwd_remove : fwd_add, &f, error);
}

bool hg_net_hostfwd_add(HgNet *net, const char *rule, GError **error)
{
    return hostfwd_call(net, rule, false, error);
}

bool hg_net_hostfwd_remove(HgNet *net, const char *rule, GError **error)
{
    return hostfwd_call(net, rule, true, error);
}

/* ---- information ---- */

void hg_net_get_stats(HgNet *net, HgNetStats *st)
{
    memset(st, 0, sizeof(*st));
    g_mutex_lock(&net->tx.lock);
    st->tx_frames = net->tx.frames;
    st->tx_bytes = net->tx.total_bytes;
    st->tx_dropped = net->tx.dropped + (unsigned)g_atomic_int_get(&net->tx_errors);
    st->tx_queued = (unsigned)net->tx.count;
    st->tx_peak_frames = net->tx.peak_frames;
    st->tx_peak_bytes = net->tx.peak_bytes;
    g_mutex_unlock(&net->tx.lock);
    g_mutex_lock(&net->rx.lock);
    st->rx_frames = net->rx.frames;
    st->rx_bytes = net->rx.total_bytes;
    st->rx_dropped = net->rx.dropped;
    st->rx_delivered = net->rx.taken;
    st->rx_queued = (unsigned)net->rx.count;
    st->rx_peak_frames = net->rx.peak_frames;
    st->rx_peak_bytes = net->rx.peak_bytes;
    g_mutex_unlock(&net->rx.lock);
}

char *hg_net_info(HgNet *net)
{
    GString *s = g_string_new(NULL);
    const NetSpec *sp = &net->spec;
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
    switch (sp->mode) {
    case NET_MODE_USER:
        g_string_append_printf(s, "mode: user (libslirp %s)%s\n", net_slirp_version(),
                               sp->restricted ? ", restricted: the guest reaches nothing outside"
                                              : "");
        g_string_append_printf(s, "  network %s/%u, guest %s (DHCP), gateway %s, DNS %s\n",
                               net_addr_text(sp->network, a), sp->prefix,
                               net_addr_text(sp->dhcp_start, b), net_addr_text(sp->host, c),
                               net_addr_text(sp->dns, d));
        break;
    case NET_MODE_TAP: g_string_append_printf(s, "mode: tap, device %s\n", sp->ifname); break;
    case NET_MODE_NONE:
        g_string_append(s, "mode: none (frames from the guest are discarded)\n");
        break;
    }
    g_string_append_printf(s, "  guest MAC %02x:%02x:%02x:%02x:%02x:%02x\n", net->mac[0],
                           net->mac[1], net->mac[2], net->mac[3], net->mac[4], net->mac[5]);
    g_mutex_lock(&net->lock);
    for (guint i = 0; i < net->fwds->len; i++) {
        g_autofree char *d = net_fwd_describe(&g_array_index(net->fwds, NetFwd, i));
        g_string_append_printf(s, "  hostfwd %s\n", d);
    }
    g_mutex_unlock(&net->lock);
    HgNetStats st;
    hg_net_get_stats(net, &st);
    g_string_append_printf(s,
                           "  guest -> network: frames %" G_GUINT64_FORMAT
                           ", bytes %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT "\n",
                           st.tx_frames, st.tx_bytes, st.tx_dropped);
    g_string_append_printf(s,
                           "  network -> guest: frames %" G_GUINT64_FORMAT
                           ", bytes %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
                           ", waiting %u\n",
                           st.rx_frames, st.rx_bytes, st.rx_dropped, st.rx_queued);
    if (net->dump_path)
        g_string_append_printf(s, "  dump: %s\n", net->dump_path);
    return g_string_free(s, FALSE);
}
