/* Tests of the display surface's consumers (engine/display.h): each consumer has its own
 * dirty region and notifier, a late one starts with everything dirty, resizes reach every
 * one, removal is safe while the producer draws, and copies kept up to date through the
 * dirty rectangles alone equal the surface when a producer thread draws and resizes.
 */
#include <string.h>

#include "display.h"

/* Draws one width x height frame: fills (x, y, w, h) with colour and reports it. */
static void draw(HgDisplay *d, int width, int height, int x, int y, int w, int h, uint32_t colour)
{
    int stride;
    uint32_t *fb = hg_display_draw_begin(d, width, height, &stride);
    for (int row = MAX(y, 0); row < MIN(y + h, height); row++)
        for (int col = MAX(x, 0); col < MIN(x + w, width); col++)
            fb[(size_t)row * stride + col] = colour;
    if (w > 0 && h > 0)
        hg_display_draw_dirty(d, x, y, w, h);
    hg_display_draw_end(d);
}

static int take(HgDisplayConsumer *c, HgRect *r, int max, HgRect *bounds)
{
    HgSurface s;
    HgDisplay *d = hg_display_consumer_display(c);
    hg_display_lock(d, &s);
    int n = hg_display_take_dirty(c, r, max, bounds);
    hg_display_unlock(d);
    return n;
}

static void assert_rect(HgRect r, int x, int y, int w, int h)
{
    g_assert_cmpint(r.x, ==, x);
    g_assert_cmpint(r.y, ==, y);
    g_assert_cmpint(r.w, ==, w);
    g_assert_cmpint(r.h, ==, h);
}

typedef struct Counter {
    int calls, resized;
} Counter;

static void count(void *opaque, bool resized)
{
    Counter *c = opaque;
    c->calls++;
    c->resized += resized;
}

/* Two consumers: what one takes, the other still sees. */
static void test_independent(void)
{
    HgDisplay *d = hg_display_new();
    Counter n1 = {0}, n2 = {0};
    HgDisplayConsumer *a = hg_display_add_consumer(d, count, &n1);
    HgDisplayConsumer *b = hg_display_add_consumer(d, count, &n2);
    HgRect r[8], u;
    draw(d, 320, 200, 0, 0, 0, 0, 0); /* resize only */
    g_assert_cmpint(n1.calls, ==, 1);
    g_assert_cmpint(n1.resized, ==, 1);
    g_assert_cmpint(n2.calls, ==, 1);
    g_assert_cmpint(n2.resized, ==, 1);
    g_assert_cmpint(take(a, r, 8, &u), ==, 1);
    assert_rect(r[0], 0, 0, 320, 200);
    g_assert_cmpint(take(b, r, 8, &u), ==, 1);
    assert_rect(r[0], 0, 0, 320, 200);

    draw(d, 320, 200, 10, 20, 30, 40, 0xff0000);
    g_assert_cmpint(take(a, r, 8, &u), ==, 1);
    assert_rect(r[0], 10, 20, 30, 40);
    g_assert_cmpint(take(a, r, 8, &u), ==, 0);
    assert_rect(u, 0, 0, 0, 0);

    draw(d, 320, 200, 100, 150, 5, 6, 0x00ff00);
    g_assert_cmpint(n1.calls, ==, 3);
    g_assert_cmpint(n2.calls, ==, 3);
    g_assert_cmpint(n1.resized, ==, 1);
    /* a took the first rectangle: only the second. b took neither: both, union in u. */
    g_assert_cmpint(take(a, r, 8, &u), ==, 1);
    assert_rect(r[0], 100, 150, 5, 6);
    g_assert_cmpint(take(b, r, 8, &u), ==, 2);
    assert_rect(u, 10, 20, 95, 136);

    /* A frame that changed nothing notifies nobody and leaves the regions empty. */
    draw(d, 320, 200, 0, 0, 0, 0, 0);
    g_assert_cmpint(n1.calls, ==, 3);
    g_assert_cmpint(take(a, r, 8, &u), ==, 0);
    g_assert_cmpint(take(b, r, 8, &u), ==, 0);

    /* Removing one leaves the other working. */
    hg_display_remove_consumer(a);
    draw(d, 320, 200, 1, 2, 3, 4, 0x0000ff);
    g_assert_cmpint(n1.calls, ==, 3);
    g_assert_cmpint(n2.calls, ==, 4);
    g_assert_cmpint(take(b, r, 8, &u), ==, 1);
    assert_rect(r[0], 1, 2, 3, 4);
    hg_display_remove_consumer(b);
    hg_display_free(d);
}

/* A consumer added after the picture was drawn gets all of it; the others are unaffected. */
static void test_late_consumer(void)
{
    HgDisplay *d = hg_display_new();
    HgDisplayConsumer *a = hg_display_add_consumer(d, NULL, NULL);
    HgRect r[8], u;
    draw(d, 640, 480, 0, 0, 640, 480, 0x123456);
    draw(d, 640, 480, 7, 7, 7, 7, 0x654321);
    take(a, r, 8, &u);
    HgDisplayConsumer *late = hg_display_add_consumer(d, NULL, NULL);
    g_assert_cmpint(take(late, r, 8, &u), ==, 1);
    assert_rect(r[0], 0, 0, 640, 480);
    g_assert_cmpint(take(late, r, 8, &u), ==, 0);
    g_assert_cmpint(take(a, r, 8, &u), ==, 0);
    draw(d, 640, 480, 600, 400, 100, 100, 1); /* clipped to the surface */
    g_assert_cmpint(take(late, r, 8, &u), ==, 1);
    assert_rect(r[0], 600, 400, 40, 80);
    g_assert_cmpint(take(a, r, 8, &u), ==, 1);
    assert_rect(r[0], 600, 400, 40, 80);
    hg_display_remove_consumer(late);
    hg_display_remove_consumer(a);
    hg_display_free(d);
}

/* A resize makes the whole new surface dirty for each consumer, even one that had taken
 * everything, and drops rectangles of the old size. */
static void test_resize(void)
{
    HgDisplay *d = hg_display_new();
    Counter n1 = {0}, n2 = {0};
    HgDisplayConsumer *a = hg_display_add_consumer(d, count, &n1);
    HgDisplayConsumer *b = hg_display_add_consumer(d, count, &n2);
    HgRect r[8], u;
    draw(d, 720, 400, 700, 390, 20, 10, 1);
    take(a, r, 8, &u);
    draw(d, 720, 400, 700, 390, 20, 10, 2);
    uint64_t gen = hg_display_generation(d);
    draw(d, 320, 200, 0, 0, 1, 1, 3);
    g_assert_cmpuint(hg_display_generation(d), >, gen);
    g_assert_cmpint(n1.resized, ==, 2);
    g_assert_cmpint(n2.resized, ==, 2);
    g_assert_cmpint(n1.calls, ==, 3);
    g_assert_cmpint(take(a, r, 8, &u), ==, 1);
    assert_rect(r[0], 0, 0, 320, 200);
    g_assert_cmpint(take(b, r, 8, &u), ==, 1);
    assert_rect(r[0], 0, 0, 320, 200);
    hg_display_remove_consumer(a);
    hg_display_remove_consumer(b);
    hg_display_free(d);
}

/* More rectangles than the caller's array: their union; more than the display keeps: the
 * region stays correct (a superset). */
static void test_many_rects(void)
{
    HgDisplay *d = hg_display_new();
    HgDisplayConsumer *a = hg_display_add_consumer(d, NULL, NULL);
    HgRect r[200], u;
    draw(d, 1000, 1000, 0, 0, 0, 0, 0);
    take(a, r, 200, &u);
    int stride;
    hg_display_draw_begin(d, 1000, 1000, &stride);
    for (int i = 0; i < 150; i++)
        hg_display_draw_dirty(d, i * 6, i * 6, 2, 2);
    hg_display_draw_end(d);
    int n = take(a, r, 200, &u);
    g_assert_cmpint(n, >=, 1);
    assert_rect(u, 0, 0, 149 * 6 + 2, 149 * 6 + 2);
    /* Every reported rectangle is covered. */
    for (int i = 0; i < 150; i++) {
        bool covered = false;
        for (int k = 0; k < n; k++)
            covered |= r[k].x <= i * 6 && r[k].y <= i * 6 && r[k].x + r[k].w >= i * 6 + 2 &&
                       r[k].y + r[k].h >= i * 6 + 2;
        g_assert_true(covered);
    }
    draw(d, 1000, 1000, 0, 0, 5, 5, 1);
    draw(d, 1000, 1000, 10, 10, 5, 5, 1);
    g_assert_cmpint(take(a, r, 1, &u), ==, 1);
    assert_rect(r[0], 0, 0, 15, 15);
    hg_display_remove_consumer(a);
    hg_display_free(d);
}

/* The owner's free with a consumer still registered: the consumer still reads the last
 * picture, and its removal frees the display (the leak checker of the sanitizer build
 * would see it otherwise). */
static void test_owner_gone(void)
{
    HgDisplay *d = hg_display_new();
    HgDisplayConsumer *a = hg_display_add_consumer(d, NULL, NULL);
    draw(d, 4, 4, 0, 0, 4, 4, 0xabcdef);
    hg_display_free(d);
    HgSurface s;
    HgRect r[2];
    hg_display_lock(hg_display_consumer_display(a), &s);
    g_assert_cmpint(s.width, ==, 4);
    g_assert_cmphex(s.pixels[15], ==, 0xabcdef);
    g_assert_cmpint(hg_display_take_dirty(a, r, 2, NULL), ==, 1);
    hg_display_unlock(hg_display_consumer_display(a));
    hg_display_remove_consumer(a);
    hg_display_remove_consumer(NULL);
}

/* --- Threads --------------------------------------------------------------------------- */

typedef struct Producer {
    HgDisplay *d;
    gint stop;
    gint frames;
} Producer;

/* Draws random rectangles of random colours, now and then in a new size, until stopped. */
static gpointer producer_thread(gpointer opaque)
{
    Producer *p = opaque;
    GRand *rnd = g_rand_new_with_seed(42);
    static const int sizes[][2] = {{640, 480}, {720, 400}, {320, 200}, {1024, 768}};
    int size = 0;
    while (!g_atomic_int_get(&p->stop)) {
        if (g_rand_int_range(rnd, 0, 50) == 0)
            size = g_rand_int_range(rnd, 0, G_N_ELEMENTS(sizes));
        int w = sizes[size][0], h = sizes[size][1];
        int stride;
        uint32_t *fb = hg_display_draw_begin(p->d, w, h, &stride);
        int k = g_rand_int_range(rnd, 0, 8);
        for (int i = 0; i < k; i++) {
            int x = g_rand_int_range(rnd, -20, w), y = g_rand_int_range(rnd, -20, h);
            int rw = g_rand_int_range(rnd, 1, 200), rh = g_rand_int_range(rnd, 1, 100);
            uint32_t colour = g_rand_int(rnd) & 0xffffff;
            for (int row = MAX(y, 0); row < MIN(y + rh, h); row++)
                for (int col = MAX(x, 0); col < MIN(x + rw, w); col++)
                    fb[(size_t)row * stride + col] = colour;
            hg_display_draw_dirty(p->d, x, y, rw, rh);
        }
        hg_display_draw_end(p->d);
        g_atomic_int_inc(&p->frames);
    }
    g_rand_free(rnd);
    return NULL;
}

/* A consumer thread's copy of the picture, kept up to date only through its rectangles. */
typedef struct Mirror {
    HgDisplayConsumer *cons;
    uint32_t *pixels;
    int width, height;
    uint64_t generation;
    gint notified;
    gint stop;
    int max_rects; /* small for one mirror, so the union path is exercised too */
} Mirror;

static void mirror_update(Mirror *m)
{
    HgDisplay *d = hg_display_consumer_display(m->cons);
    HgSurface s;
    HgRect r[64], u;
    hg_display_lock(d, &s);
    int n = hg_display_take_dirty(m->cons, r, m->max_rects, &u);
    if (!m->pixels || s.generation != m->generation) {
        /* The region after a resize is the whole surface: it must say so. */
        g_assert_cmpint(u.x, ==, 0);
        g_assert_cmpint(u.y, ==, 0);
        g_assert_cmpint(u.w, ==, s.width);
        g_assert_cmpint(u.h, ==, s.height);
        g_free(m->pixels);
        m->pixels = g_new0(uint32_t, (size_t)s.width * s.height);
        m->width = s.width;
        m->height = s.height;
        m->generation = s.generation;
    }
    for (int i = 0; i < n; i++) {
        g_assert_true(r[i].x >= 0 && r[i].y >= 0 && r[i].x + r[i].w <= s.width &&
                      r[i].y + r[i].h <= s.height);
        for (int y = r[i].y; y < r[i].y + r[i].h; y++)
            memcpy(m->pixels + (size_t)y * m->width + r[i].x,
                   s.pixels + (size_t)y * (s.stride / 4) + r[i].x, (size_t)r[i].w * 4);
    }
    hg_display_unlock(d);
}

static gpointer mirror_thread(gpointer opaque)
{
    Mirror *m = opaque;
    while (!g_atomic_int_get(&m->stop)) {
        mirror_update(m);
        g_usleep(g_random_int_range(0, 300));
    }
    return NULL;
}

static void mirror_notify(void *opaque, bool resized)
{
    g_atomic_int_inc(&((Mirror *)opaque)->notified);
}

static void assert_mirror(Mirror *m, HgDisplay *d)
{
    mirror_update(m);
    int w, h;
    uint32_t *snap = hg_display_snapshot(d, &w, &h);
    g_assert_cmpint(w, ==, m->width);
    g_assert_cmpint(h, ==, m->height);
    g_assert_true(memcmp(snap, m->pixels, (size_t)w * h * 4) == 0);
    g_free(snap);
}

/* Two consumer threads, one added while the producer already runs, follow a producer
 * thread that draws and resizes: at the end each copy equals the surface. */
static void test_threads(void)
{
    HgDisplay *d = hg_display_new();
    Producer p = {d, 0, 0};
    Mirror a = {.max_rects = 64}, b = {.max_rects = 3};
    a.cons = hg_display_add_consumer(d, mirror_notify, &a);
    GThread *pt = g_thread_new("producer", producer_thread, &p);
    GThread *at = g_thread_new("mirror-a", mirror_thread, &a);
    while (g_atomic_int_get(&p.frames) < 200)
        g_usleep(1000);
    b.cons = hg_display_add_consumer(d, mirror_notify, &b);
    GThread *bt = g_thread_new("mirror-b", mirror_thread, &b);
    int start = g_atomic_int_get(&p.frames);
    while (g_atomic_int_get(&p.frames) < start + 2000)
        g_usleep(1000);
    g_atomic_int_set(&p.stop, 1);
    g_thread_join(pt);
    g_atomic_int_set(&a.stop, 1);
    g_atomic_int_set(&b.stop, 1);
    g_thread_join(at);
    g_thread_join(bt);
    assert_mirror(&a, d);
    assert_mirror(&b, d);
    g_assert_cmpint(g_atomic_int_get(&a.notified), >, 0);
    g_assert_cmpint(g_atomic_int_get(&b.notified), >, 0);
    g_assert_cmpint(g_atomic_int_get(&a.notified), >=, g_atomic_int_get(&b.notified));
    hg_display_remove_consumer(a.cons);
    hg_display_remove_consumer(b.cons);
    g_free(a.pixels);
    g_free(b.pixels);
    hg_display_free(d);
}

/* A consumer whose notifier writes into memory freed right after its removal: removed and
 * re-added many times while the producer draws. Once remove returns the notifier must not
 * run (the sanitizer build sees a use after free; here the canary says so too). */
typedef struct Volatile {
    gint alive;
    gint calls;
} Volatile;

static void volatile_notify(void *opaque, bool resized)
{
    Volatile *v = opaque;
    g_assert_cmpint(g_atomic_int_get(&v->alive), ==, 1);
    /* Widen the window in which a racing remove would free us. */
    if ((g_atomic_int_add(&v->calls, 1) & 15) == 0)
        g_thread_yield();
    g_assert_cmpint(g_atomic_int_get(&v->alive), ==, 1);
}

/* A notifier may lock the display and take its own rectangles. */
static void taking_notify(void *opaque, bool resized)
{
    Mirror *m = opaque;
    mirror_update(m);
    g_atomic_int_inc(&m->notified);
}

static void test_remove_while_drawing(void)
{
    HgDisplay *d = hg_display_new();
    Producer p = {d, 0, 0};
    Mirror inline_m = {.max_rects = 8};
    inline_m.cons = hg_display_add_consumer(d, taking_notify, &inline_m);
    GThread *pt = g_thread_new("producer", producer_thread, &p);
    int total = 0;
    for (int i = 0; i < 400; i++) {
        Volatile *v = g_new0(Volatile, 1);
        v->alive = 1;
        HgDisplayConsumer *c = hg_display_add_consumer(d, volatile_notify, v);
        int until = g_atomic_int_get(&p.frames) + 1 + i % 3;
        while (g_atomic_int_get(&p.frames) < until)
            g_thread_yield();
        HgRect r[4];
        if (i & 1)
            take(c, r, 4, NULL);
        hg_display_remove_consumer(c);
        total += g_atomic_int_get(&v->calls);
        g_atomic_int_set(&v->alive, 0);
        /* Poison, then free: a late notifier call reads 0 or freed memory. */
        g_free(v);
    }
    g_atomic_int_set(&p.stop, 1);
    g_thread_join(pt);
    g_assert_cmpint(total, >, 0);
    g_assert_cmpint(g_atomic_int_get(&inline_m.notified), >, 0);
    hg_display_remove_consumer(inline_m.cons);
    inline_m.cons = hg_display_add_consumer(d, NULL, NULL);
    assert_mirror(&inline_m, d);
    hg_display_remove_consumer(inline_m.cons);
    g_free(inline_m.pixels);
    hg_display_free(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/independent", test_independent);
    g_test_add_func("/display/late-consumer", test_late_consumer);
    g_test_add_func("/display/resize", test_resize);
    g_test_add_func("/display/many-rects", test_many_rects);
    g_test_add_func("/display/owner-gone", test_owner_gone);
    g_test_add_func("/display/threads", test_threads);
    g_test_add_func("/display/remove-while-drawing", test_remove_while_drawing);
    return g_test_run();
}
