/* Unit tests of the virtual clock and timers (engine/clock.c). */
#include <glib.h>

#include "clock.h"
#include "state.h"

typedef struct Fixture {
    uint64_t insns;
    GString *log;
} Fixture;

static uint64_t counter(void *opaque)
{
    return ((Fixture *)opaque)->insns;
}

typedef struct Probe {
    Fixture *f;
    char name;
    HgTimer *t;
} Probe;

static void fire_simple(void *opaque)
{
    Probe *p = opaque;
    g_string_append_c(p->f->log, p->name);
}

static void test_icount_order(void)
{
    Fixture f = {0, g_string_new(NULL)};
    HgClock *c = hg_clock_new(HG_CLOCK_ICOUNT, 10, counter, &f);
    Probe a = {&f, 'a', NULL}, b = {&f, 'b', NULL}, d = {&f, 'd', NULL};
    a.t = hg_timer_new(c, fire_simple, &a);
    b.t = hg_timer_new(c, fire_simple, &b);
    d.t = hg_timer_new(c, fire_simple, &d);
    hg_timer_mod(a.t, 300);
    hg_timer_mod(b.t, 100);
    hg_timer_mod(d.t, 300); /* same expiry as a, armed later: fires after it */
    g_assert_cmpint(hg_clock_deadline(c), ==, 100);
    g_assert_cmpint(hg_clock_insns_to_deadline(c, 1000), ==, 10);
    g_assert_cmpint(hg_clock_insns_to_deadline(c, 5), ==, 5);
    f.insns = 9;
    g_assert_cmpint(hg_clock_run_timers(c), ==, 0);
    f.insns = 10;
    g_assert_cmpint(hg_clock_ns(c), ==, 100);
    g_assert_cmpint(hg_clock_run_timers(c), ==, 1);
    g_assert_cmpstr(f.log->str, ==, "b");
    /* Halted: the clock jumps to the next deadline. */
    g_assert_true(hg_clock_warp_to_deadline(c));
    g_assert_cmpint(hg_clock_ns(c), ==, 300);
    g_assert_cmpint(hg_clock_run_timers(c), ==, 2);
    g_assert_cmpstr(f.log->str, ==, "bad");
    g_assert_false(hg_clock_warp_to_deadline(c));
    g_assert_cmpint(hg_clock_deadline(c), ==, INT64_MAX);
    /* Deleting and re-arming. */
    hg_timer_mod(a.t, 500);
    hg_timer_mod(b.t, 400);
    hg_timer_del(b.t);
    g_assert_false(hg_timer_pending(b.t));
    g_assert_cmpint(hg_clock_deadline(c), ==, 500);
    hg_timer_free(a.t);
    g_assert_cmpint(hg_clock_deadline(c), ==, INT64_MAX);
    hg_timer_free(b.t);
    hg_timer_free(d.t);
    hg_clock_free(c);
    g_string_free(f.log, TRUE);
}

typedef struct Rearm {
    HgTimer *t;
    HgClock *c;
    int runs;
} Rearm;

static void rearm_in_past(void *opaque)
{
    Rearm *r = opaque;
    r->runs++;
    hg_timer_mod(r->t, hg_clock_ns(r->c) - 5);
}

static void test_rearm_bounded(void)
{
    Fixture f = {100, g_string_new(NULL)};
    HgClock *c = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, &f);
    Rearm r = {NULL, c, 0};
    r.t = hg_timer_new(c, rearm_in_past, &r);
    hg_timer_mod(r.t, 0);
    /* A timer that keeps re-arming in the past cannot hang the run loop. */
    int n = hg_clock_run_timers(c);
    g_assert_cmpint(n, ==, 1000);
    g_assert_cmpint(r.runs, ==, 1000);
    hg_timer_free(r.t);
    hg_clock_free(c);
    g_string_free(f.log, TRUE);
}

static void test_host_stop_start(void)
{
    HgClock *c = hg_clock_new(HG_CLOCK_HOST, 1, NULL, NULL);
    g_assert_cmpint(hg_clock_ns(c), ==, 0);
    hg_clock_start(c);
    g_usleep(2000);
    int64_t t1 = hg_clock_ns(c);
    g_assert_cmpint(t1, >=, 2000000);
    hg_clock_stop(c);
    int64_t t2 = hg_clock_ns(c);
    g_usleep(5000);
    g_assert_cmpint(hg_clock_ns(c), ==, t2);
    hg_clock_start(c);
    /* No jump across the stopped interval. */
    g_assert_cmpint(hg_clock_ns(c) - t2, <, 5000000);
    g_assert_cmpint(hg_clock_ns(c), >=, t2);
    hg_clock_free(c);
}

static void test_save_load(void)
{
    Fixture f = {1000, g_string_new(NULL)};
    HgClock *c = hg_clock_new(HG_CLOCK_ICOUNT, 3, counter, &f);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_clock_save(c, &w);
    GBytes *b = hg_state_writer_finish(&w);
    Fixture g = {7, g_string_new(NULL)};
    HgClock *d = hg_clock_new(HG_CLOCK_ICOUNT, 3, counter, &g);
    HgStateReader r;
    gsize len;
    const void *data = g_bytes_get_data(b, &len);
    hg_state_reader_init(&r, data, len);
    hg_clock_load(d, &r);
    g_assert_true(hg_state_ok(&r));
    g_assert_cmpint(hg_clock_ns(d), ==, 3000);
    g.insns = 10;
    g_assert_cmpint(hg_clock_ns(d), ==, 3009);
    g_bytes_unref(b);
    hg_clock_free(c);
    hg_clock_free(d);
    g_string_free(f.log, TRUE);
    g_string_free(g.log, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/clock/icount-order", test_icount_order);
    g_test_add_func("/clock/rearm-bounded", test_rearm_bounded);
    g_test_add_func("/clock/host-stop-start", test_host_stop_start);
    g_test_add_func("/clock/save-load", test_save_load);
    return g_test_run();
}
