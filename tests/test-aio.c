/* Unit tests of asynchronous image I/O (engine/block/aio.c): requests run on the image's
 * worker in order and complete only when the emulation thread (here: the test's thread)
 * runs the completions; synchronous calls wait for the worker; an image closed with
 * completions still waiting does not take the callbacks down with it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/aio.h"
#include "block/block.h"

typedef struct Waiter {
    GMutex lock;
    GCond cond;
    int wakes;
} Waiter;

static void wake(void *opaque)
{
    Waiter *w = opaque;
    g_mutex_lock(&w->lock);
    w->wakes++;
    g_cond_broadcast(&w->cond);
    g_mutex_unlock(&w->lock);
}

typedef struct Done {
    GThread *thread; /* where the callback ran */
    int order[8];
    int n;
    bool ok[8];
} Done;

typedef struct Cookie {
    Done *d;
    int id;
} Cookie;

static void on_done(void *opaque, bool ok, const GError *error)
{
    Cookie *c = opaque;
    (void)error;
    c->d->thread = g_thread_self();
    c->d->ok[c->d->n] = ok;
    c->d->order[c->d->n++] = c->id;
}

static char *make_image(uint64_t size)
{
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-aio-XXXXXX.img", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    close(fd);
    return path;
}

/* Runs completions until n callbacks ran in all. */
static void complete(HgAio *aio, Waiter *w, Done *d, int n)
{
    gint64 end = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
    while (d->n < n) {
        if (hg_aio_run_completions(aio) > 0)
            continue;
        g_mutex_lock(&w->lock);
        if (!hg_aio_pending(aio))
            g_assert_true(g_cond_wait_until(&w->cond, &w->lock, end) || hg_aio_pending(aio));
        g_mutex_unlock(&w->lock);
    }
}

static void test_async_order(void)
{
    Waiter w = {0};
    g_mutex_init(&w.lock);
    g_cond_init(&w.cond);
    HgAio *aio = hg_aio_new(wake, &w);
    hg_aio_set_enabled(aio, true);
    char *path = make_image(8 << 20);
    HgBlock *b = hg_block_open(path, "raw", false, NULL);
    g_assert_nonnull(b);
    hg_block_set_aio(b, aio);

    enum { LEN = 1 << 20 };
    uint8_t *out = g_malloc(LEN), *in = g_malloc0(LEN);
    for (int i = 0; i < LEN; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    Done d = {0};
    Cookie c1 = {&d, 1}, c2 = {&d, 2}, c3 = {&d, 3}, c4 = {&d, 4};
    hg_block_submit(b, HG_BLOCK_WRITE, 4096, out, LEN, on_done, &c1);
    hg_block_submit(b, HG_BLOCK_READ, 4096, in, LEN, on_done, &c2);
    hg_block_submit(b, HG_BLOCK_FLUSH, 0, NULL, 0, on_done, &c3);
    /* Out of range: refused at once, before the queued requests complete. */
    hg_block_submit(b, HG_BLOCK_READ, 8 << 20, in, 512, on_done, &c4);
    g_assert_cmpint(d.n, ==, 1);
    g_assert_cmpint(d.order[0], ==, 4);
    g_assert_false(d.ok[0]);
    complete(aio, &w, &d, 4);
    g_assert_true(d.thread == g_thread_self());
    g_assert_cmpint(d.order[1], ==, 1);
    g_assert_cmpint(d.order[2], ==, 2);
    g_assert_cmpint(d.order[3], ==, 3);
    g_assert_true(d.ok[1] && d.ok[2] && d.ok[3]);
    g_assert_cmpmem(in, LEN, out, LEN);

    /* A synchronous read right after an asynchronous write sees the written data. */
    memset(out, 0x5a, 4096);
    Done d2 = {0};
    Cookie c5 = {&d2, 5};
    hg_block_submit(b, HG_BLOCK_WRITE, 0, out, 4096, on_done, &c5);
    uint8_t back[4096];
    g_assert_true(hg_block_pread(b, 0, back, sizeof(back), NULL));
    g_assert_cmpmem(back, sizeof(back), out, 4096);
    complete(aio, &w, &d2, 1);

    /* Disabled: the request completes before submit returns. */
    hg_aio_set_enabled(aio, false);
    Done d3 = {0};
    Cookie c6 = {&d3, 6};
    hg_block_submit(b, HG_BLOCK_READ, 0, back, 512, on_done, &c6);
    g_assert_cmpint(d3.n, ==, 1);

    /* Closing an image whose completion still waits: the callback still runs later. */
    hg_aio_set_enabled(aio, true);
    Done d4 = {0};
    Cookie c7 = {&d4, 7};
    hg_block_submit(b, HG_BLOCK_READ, 0, back, 4096, on_done, &c7);
    hg_block_drain(b);
    hg_block_close(b);
    complete(aio, &w, &d4, 1);
    g_assert_true(d4.ok[0]);
    g_assert_cmpmem(back, 4096, out, 4096);

    hg_aio_free(aio);
    g_unlink(path);
    g_free(path);
    g_free(out);
    g_free(in);
    g_mutex_clear(&w.lock);
    g_cond_clear(&w.cond);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/aio/order", test_async_order);
    return g_test_run();
}
