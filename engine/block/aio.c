/* Asynchronous image I/O (see aio.h): a worker thread per image runs its requests in
 * order; finished requests wait in the machine's HgAio until the emulation thread runs
 * their callbacks. */
#include "aio.h"

struct HgAio {
    GMutex lock;
    GQueue done; /* AioReq, in completion order */
    gint pending; /* length of done, readable without the lock */
    gint enabled;
    void (*wake)(void *opaque);
    void *opaque;
};

typedef struct AioReq {
    HgBlock *b; /* NULL once the image was closed before the callback ran */
    HgBlockOp op;
    uint64_t offset;
    void *buf;
    size_t len;
    HgBlockDone done;
    void *opaque;
    bool ok;
    GError *error;
} AioReq;

struct HgBlockWorker {
    HgAio *aio;
    GThread *thread;
    GAsyncQueue *queue; /* AioReq, or the worker itself as the signal to end */
    GMutex lock;
    GCond idle;
    int running; /* queued or executing, not yet handed to the HgAio */
};

HgAio *hg_aio_new(void (*wake)(void *opaque), void *opaque)
{
    HgAio *aio = g_new0(HgAio, 1);
    g_mutex_init(&aio->lock);
    g_queue_init(&aio->done);
    aio->wake = wake;
    aio->opaque = opaque;
    return aio;
}

static void req_free(AioReq *r)
{
    g_clear_error(&r->error);
    g_free(r);
}

void hg_aio_free(HgAio *aio)
{
    if (!aio)
        return;
    /* Callbacks not run belong to devices that are gone with their machine. */
    g_queue_clear_full(&aio->done, (GDestroyNotify)req_free);
    g_mutex_clear(&aio->lock);
    g_free(aio);
}

void hg_aio_set_enabled(HgAio *aio, bool enabled)
{
    g_atomic_int_set(&aio->enabled, enabled);
}

bool hg_aio_enabled(const HgAio *aio)
{
    return g_atomic_int_get(&((HgAio *)aio)->enabled) != 0;
}

bool hg_aio_pending(HgAio *aio)
{
    return g_atomic_int_get(&aio->pending) > 0;
}

int hg_aio_run_completions(HgAio *aio)
{
    int n = 0;
    while (g_atomic_int_get(&aio->pending) > 0) {
        g_mutex_lock(&aio->lock);
        AioReq *r = g_queue_pop_head(&aio->done);
        if (r)
            g_atomic_int_add(&aio->pending, -1);
        g_mutex_unlock(&aio->lock);
        if (!r)
            break;
        if (r->done)
            r->done(r->opaque, r->ok, r->error);
        req_free(r);
        n++;
    }
    return n;
}

static gpointer worker_main(gpointer data)
{
    struct HgBlockWorker *w = data;
    for (;;) {
        gpointer item = g_async_queue_pop(w->queue);
        if (item == w)
            break;
        AioReq *r = item;
        HgBlock *b = r->b;
        switch (r->op) {
        case HG_BLOCK_READ:
            r->ok = b->drv->pread(b, r->offset, r->buf, r->len, &r->error);
            break;
        case HG_BLOCK_WRITE:
            r->ok = b->drv->pwrite(b, r->offset, r->buf, r->len, &r->error);
            break;
        default:
            r->ok = b->drv->flush(b, &r->error);
            break;
        }
        HgAio *aio = w->aio;
        g_mutex_lock(&aio->lock);
        g_queue_push_tail(&aio->done, r);
        g_atomic_int_add(&aio->pending, 1);
        g_mutex_unlock(&aio->lock);
        g_mutex_lock(&w->lock);
        if (--w->running == 0)
            g_cond_broadcast(&w->idle);
        g_mutex_unlock(&w->lock);
        aio->wake(aio->opaque);
    }
    return NULL;
}

void hg_block_set_aio(HgBlock *b, HgAio *aio)
{
    if (!b || b->worker || !aio)
        return;
    struct HgBlockWorker *w = g_new0(struct HgBlockWorker, 1);
    w->aio = aio;
    g_mutex_init(&w->lock);
    g_cond_init(&w->idle);
    b->worker = w;
}

void hg_block_drain(HgBlock *b)
{
    struct HgBlockWorker *w = b ? b->worker : NULL;
    if (!w)
        return;
    g_mutex_lock(&w->lock);
    while (w->running > 0)
        g_cond_wait(&w->idle, &w->lock);
    g_mutex_unlock(&w->lock);
}

/* Called by block.c: true when the request was queued to the worker. */
bool hg_block_submit_async(HgBlock *b, HgBlockOp op, uint64_t offset, void *buf, size_t len,
                           HgBlockDone done, void *opaque)
{
    struct HgBlockWorker *w = b->worker;
    if (!w || !hg_aio_enabled(w->aio))
        return false;
    if (!w->thread) {
        w->queue = g_async_queue_new();
        w->thread = g_thread_new("hangar-block-io", worker_main, w);
    }
    AioReq *r = g_new0(AioReq, 1);
    *r = (AioReq){.b = b, .op = op, .offset = offset, .buf = buf, .len = len,
                  .done = done, .opaque = opaque};
    g_mutex_lock(&w->lock);
    w->running++;
    g_mutex_unlock(&w->lock);
    g_async_queue_push(w->queue, r);
    return true;
}

/* Called by hg_block_close: ends the worker and forgets the image in callbacks still
 * waiting (they run, but their request no longer names it). */
void hg_block_worker_free(HgBlock *b)
{
    struct HgBlockWorker *w = b->worker;
    if (!w)
        return;
    if (w->thread) {
        g_async_queue_push(w->queue, w);
        g_thread_join(w->thread);
        g_async_queue_unref(w->queue);
    }
    HgAio *aio = w->aio;
    g_mutex_lock(&aio->lock);
    for (GList *l = aio->done.head; l; l = l->next) {
        AioReq *r = l->data;
        if (r->b == b)
            r->b = NULL;
    }
    g_mutex_unlock(&aio->lock);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->idle);
    g_free(w);
    b->worker = NULL;
}
