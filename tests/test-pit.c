/* Unit tests of the 8254 PIT and port 0x61 (engine/hw/pit8254.c) on an instruction-counted
 * clock (1 ns per instruction), programmed the way SeaBIOS and Linux do. */
#include <glib.h>

#include "bus.h"
#include "clock.h"
#include "hw/pit8254.h"
#include "state.h"

typedef struct Fx {
    uint64_t insns;
    HgClock *clock;
    HgBus *bus;
    HgPit *pit;
    bool level;
    int rises, falls;
    int64_t last_rise;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void irq_set(void *opaque, int n, bool level)
{
    Fx *f = opaque;
    g_assert_cmpint(n, ==, 0);
    g_assert_true(level != f->level); /* the PIT drives changes only */
    f->level = level;
    if (level) {
        f->rises++;
        f->last_rise = hg_clock_ns(f->clock);
    } else {
        f->falls++;
    }
}

static void fx_init(Fx *f)
{
    memset(f, 0, sizeof(*f));
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, f);
    f->bus = hg_bus_new(1 << 20);
    f->level = false;
    f->pit = hg_pit_new(f->bus, f->clock, hg_irq(irq_set, f, 0));
    f->rises = f->falls = 0;
}

static void fx_free(Fx *f)
{
    hg_pit_free(f->pit);
    hg_bus_free(f->bus);
    hg_clock_free(f->clock);
}

/* Runs the guest for ns nanoseconds, firing timers at their exact times. */
static int advance(Fx *f, int64_t ns)
{
    int64_t target = hg_clock_ns(f->clock) + ns;
    int fired = 0;
    while (hg_clock_deadline(f->clock) <= target) {
        int64_t d = hg_clock_deadline(f->clock) - hg_clock_ns(f->clock);
        if (d > 0)
            f->insns += d;
        fired += hg_clock_run_timers(f->clock);
    }
    f->insns += target - hg_clock_ns(f->clock);
    fired += hg_clock_run_timers(f->clock);
    return fired;
}

static void out(Fx *f, uint16_t port, uint8_t v)
{
    hg_bus_out(f->bus, port, v, 1);
}

static uint8_t in(Fx *f, uint16_t port)
{
    return hg_bus_in(f->bus, port, 1);
}

/* LSB then MSB (the two reads must be sequenced). */
static uint16_t in16(Fx *f, uint16_t port)
{
    uint16_t lo = in(f, port);
    return lo | in(f, port) << 8;
}

static int64_t ticks_ns(int64_t ticks)
{
    return ticks * 1000000000 / HG_PIT_HZ;
}

/* Moves the clock to the start of the next input clock, so that "n ticks + 1 ns" later
 * exactly n input clocks have passed. */
static void align(Fx *f)
{
    int64_t t = (int64_t)f->insns * HG_PIT_HZ / 1000000000 + 1;
    f->insns = (t * 1000000000 + HG_PIT_HZ - 1) / HG_PIT_HZ;
}

/* Linux setup_pit_timer / init_pit_timer periodic: mode 2, LATCH for HZ. */
static void test_linux_periodic(void)
{
    static const int hz[] = {100, 250, 1000};
    for (unsigned i = 0; i < G_N_ELEMENTS(hz); i++) {
        Fx f;
        fx_init(&f);
        int latch = (HG_PIT_HZ + hz[i] / 2) / hz[i];
        out(&f, 0x43, 0x34);
        out(&f, 0x40, latch & 0xff);
        out(&f, 0x40, latch >> 8);
        int base = f.rises;
        int fired = advance(&f, 1000000000);
        int edges = f.rises - base;
        g_assert_cmpint(edges, >=, hz[i] - 1);
        g_assert_cmpint(edges, <=, hz[i] + 1);
        /* One timer per OUT transition (two per period), not per count. */
        g_assert_cmpint(fired, <=, 2 * hz[i] + 2);
        g_assert_cmpint(f.falls, >=, f.rises - 1);
        /* Edges fall on period boundaries: rise k at k * latch ticks after the write. */
        int64_t k = (f.last_rise * HG_PIT_HZ / 1000000000 + latch / 2) / latch;
        g_assert_cmpint(llabs(f.last_rise - ticks_ns(k * latch)), <=, 1000);
        fx_free(&f);
    }
}

/* SeaBIOS clock_setup: mode 2 count 0 gives 18.2 Hz; Linux oneshot mode 0 and 4. */
static void test_seabios_and_oneshot(void)
{
    Fx f;
    fx_init(&f);
    out(&f, 0x43, 0x34);
    out(&f, 0x40, 0);
    out(&f, 0x40, 0);
    int base = f.rises;
    advance(&f, 1000000000);
    g_assert_cmpint(f.rises - base, ==, 18);
    /* Oneshot (Linux pit_set_next_event in mode 0): one rising edge after delta. */
    out(&f, 0x43, 0x30);
    g_assert_false(f.level); /* OUT drops on the control word */
    out(&f, 0x40, 1000 & 0xff);
    out(&f, 0x40, 1000 >> 8);
    int64_t t0 = hg_clock_ns(f.clock);
    base = f.rises;
    advance(&f, 10000000);
    g_assert_cmpint(f.rises - base, ==, 1);
    g_assert_cmpint(llabs(f.last_rise - t0 - ticks_ns(1000)), <=, 1000);
    g_assert_cmpint(hg_clock_deadline(f.clock), ==, INT64_MAX); /* nothing more to do */
    /* Mode 4 software strobe: OUT low for one clock, then high for good. */
    out(&f, 0x43, 0x38);
    out(&f, 0x40, 50);
    out(&f, 0x40, 0);
    base = f.rises;
    int falls = f.falls;
    advance(&f, 1000000);
    g_assert_cmpint(f.falls - falls, ==, 1);
    g_assert_cmpint(f.rises - base, ==, 1);
    g_assert_true(f.level);
    fx_free(&f);
}

/* SeaBIOS tsctimer_setup and Linux pit_calibrate_tsc: channel 2 mode 0, spin on 0x61
 * bit 5; quick_pit_calibrate polls the MSB. */
static void test_calibration(void)
{
    Fx f;
    fx_init(&f);
    out(&f, 0x61, (in(&f, 0x61) & ~0x02) | 0x01);
    out(&f, 0x43, 0xb0);
    out(&f, 0x42, 0x800 & 0xff);
    out(&f, 0x42, 0x800 >> 8);
    int64_t t0 = hg_clock_ns(f.clock);
    g_assert_false(in(&f, 0x61) & 0x20);
    int loops = 0;
    while (!(in(&f, 0x61) & 0x20)) {
        f.insns += 37; /* the spin loop's cost */
        g_assert_cmpint(++loops, <, 1000000);
    }
    int64_t took = hg_clock_ns(f.clock) - t0;
    g_assert_cmpint(llabs(took - ticks_ns(0x800)), <=, 40);
    g_assert_true(hg_pit_out(f.pit, 2));
    g_assert_true(hg_pit_gate2(f.pit));
    g_assert_false(hg_pit_speaker_enabled(f.pit));
    /* quick_pit_calibrate: 0xffff, then read LSB and MSB; MSB falls once per 256 ticks. */
    out(&f, 0x43, 0xb0);
    out(&f, 0x42, 0xff);
    out(&f, 0x42, 0xff);
    in(&f, 0x42);
    g_assert_cmphex(in(&f, 0x42), ==, 0xff);
    int prev = 0xff, steps = 0;
    for (int i = 0; i < 64; i++) {
        f.insns += ticks_ns(256) + 1;
        in(&f, 0x42);
        int msb = in(&f, 0x42);
        g_assert_cmpint(msb, ==, prev - 1);
        prev = msb;
        steps++;
    }
    g_assert_cmpint(steps, ==, 64);
    /* Gate low pauses mode 0; high resumes where it stopped. */
    out(&f, 0x43, 0x80);
    uint16_t a = in16(&f, 0x42);
    out(&f, 0x61, 0x00);
    out(&f, 0x43, 0x80);
    uint16_t b = in16(&f, 0x42);
    f.insns += 100000;
    out(&f, 0x43, 0x80);
    uint16_t c = in16(&f, 0x42);
    g_assert_cmpint(b, ==, c);
    g_assert_cmpint(a - b, <=, 1);
    align(&f);
    out(&f, 0x61, 0x03);
    g_assert_true(hg_pit_speaker_enabled(f.pit));
    f.insns += ticks_ns(10) + 1;
    out(&f, 0x43, 0x80);
    uint16_t d = in16(&f, 0x42);
    g_assert_cmpint(c - d, ==, 10);
    fx_free(&f);
}

static void test_latch_readback_bcd(void)
{
    Fx f;
    fx_init(&f);
    align(&f);
    out(&f, 0x43, 0x34);
    out(&f, 0x40, 1000 & 0xff);
    out(&f, 0x40, 1000 >> 8);
    f.insns += ticks_ns(100) + 1;
    out(&f, 0x43, 0x00); /* counter latch */
    f.insns += 5000;
    out(&f, 0x43, 0x00); /* ignored: already latched */
    int v = in16(&f, 0x40);
    g_assert_cmpint(v, ==, 900);
    /* Read-back of count and status of channel 0. */
    out(&f, 0x43, 0xc2);
    uint8_t st = in(&f, 0x40);
    g_assert_cmphex(st, ==, 0xb4); /* OUT high, count loaded, word access, mode 2 */
    v = in16(&f, 0x40);
    g_assert_cmpint(v, <, 900);
    g_assert_cmpint(v, >, 880);
    /* Status only, after a control word: null count and OUT low in mode 0. */
    out(&f, 0x43, 0x30);
    out(&f, 0x43, 0xe2);
    g_assert_cmphex(in(&f, 0x40), ==, 0x70);
    /* BCD, LSB-only and MSB-only channels. */
    out(&f, 0x61, 0x01);
    out(&f, 0x43, 0xb1);
    out(&f, 0x42, 0x00);
    align(&f);
    out(&f, 0x42, 0x10); /* 1000 in BCD */
    f.insns += ticks_ns(100) + 1;
    out(&f, 0x43, 0x80);
    g_assert_cmphex(in(&f, 0x42), ==, 0x00);
    g_assert_cmphex(in(&f, 0x42), ==, 0x09);
    out(&f, 0x43, 0x90); /* LSB only, mode 0 */
    align(&f);
    out(&f, 0x42, 200);
    f.insns += ticks_ns(50) + 1;
    g_assert_cmpint(in(&f, 0x42), ==, 150);
    out(&f, 0x43, 0xa0); /* MSB only */
    align(&f);
    out(&f, 0x42, 2); /* 512 */
    f.insns += ticks_ns(256) + 1;
    g_assert_cmpint(in(&f, 0x42), ==, 1);
    g_assert_cmphex(in(&f, 0x43), ==, 0xff);
    fx_free(&f);
}

static void test_gate_modes(void)
{
    Fx f;
    fx_init(&f);
    /* Mode 1: retriggerable one-shot on the gate's rising edge. */
    out(&f, 0x61, 0x00);
    out(&f, 0x43, 0xb2);
    out(&f, 0x42, 100);
    out(&f, 0x42, 0);
    g_assert_true(hg_pit_out(f.pit, 2));
    f.insns += 1000000;
    g_assert_true(hg_pit_out(f.pit, 2)); /* no trigger yet */
    out(&f, 0x61, 0x01);
    f.insns += ticks_ns(50);
    g_assert_false(hg_pit_out(f.pit, 2));
    f.insns += ticks_ns(60);
    g_assert_true(hg_pit_out(f.pit, 2));
    /* Mode 3 square wave: high for half the period. */
    out(&f, 0x43, 0xb6);
    out(&f, 0x42, 100);
    out(&f, 0x42, 0);
    int high = 0;
    for (int i = 0; i < 1000; i++) {
        high += hg_pit_out(f.pit, 2);
        f.insns += ticks_ns(1) + 1; /* about one input clock */
    }
    g_assert_cmpint(high, >=, 480);
    g_assert_cmpint(high, <=, 520);
    /* Mode 3 with the gate low: OUT high and counting stops. */
    out(&f, 0x61, 0x00);
    g_assert_true(hg_pit_out(f.pit, 2));
    /* Mode 5: hardware-triggered strobe. */
    out(&f, 0x43, 0xba);
    out(&f, 0x42, 10);
    out(&f, 0x42, 0);
    align(&f);
    out(&f, 0x61, 0x01);
    f.insns += ticks_ns(10) + 1;
    g_assert_false(hg_pit_out(f.pit, 2));
    f.insns += ticks_ns(1) + 1;
    g_assert_true(hg_pit_out(f.pit, 2));
    /* Refresh toggle on 0x61 bit 4 every 15.085 us. */
    int flips = 0, prev = in(&f, 0x61) & 0x10;
    for (int i = 0; i < 100; i++) {
        f.insns += 15085;
        int now = in(&f, 0x61) & 0x10;
        flips += now != prev;
        prev = now;
    }
    g_assert_cmpint(flips, ==, 100);
    fx_free(&f);
}

/* A count written while mode 2 runs takes over when the current period ends. */
static void test_reprogram_period(void)
{
    Fx f;
    fx_init(&f);
    align(&f);
    int64_t t0 = hg_clock_ns(f.clock);
    out(&f, 0x43, 0x34);
    out(&f, 0x40, 1000 & 0xff);
    out(&f, 0x40, 1000 >> 8);
    advance(&f, ticks_ns(1500));
    int base = f.rises;
    out(&f, 0x40, 3000 & 0xff);
    g_assert_cmpint(hg_pit_reload(f.pit, 0), ==, 1000); /* half written: nothing yet */
    out(&f, 0x40, 3000 >> 8);
    advance(&f, ticks_ns(600));
    g_assert_cmpint(f.rises - base, ==, 1); /* the old period ended at 2000 */
    g_assert_cmpint(llabs(f.last_rise - t0 - ticks_ns(2000)), <=, 2);
    g_assert_cmpint(hg_pit_reload(f.pit, 0), ==, 3000);
    advance(&f, ticks_ns(2900));
    g_assert_cmpint(f.rises - base, ==, 1);
    advance(&f, ticks_ns(200));
    g_assert_cmpint(f.rises - base, ==, 2);
    g_assert_cmpint(llabs(f.last_rise - t0 - ticks_ns(5000)), <=, 2);
    fx_free(&f);
}

static void test_hostile(void)
{
    Fx f;
    fx_init(&f);
    /* Count 1 in modes 2 and 3 never toggles and never spins the timer. */
    out(&f, 0x43, 0x34);
    out(&f, 0x40, 1);
    out(&f, 0x40, 0);
    g_assert_cmpint(advance(&f, 1000000), <=, 1);
    out(&f, 0x43, 0x36);
    out(&f, 0x40, 1);
    out(&f, 0x40, 0);
    g_assert_cmpint(advance(&f, 1000000), <=, 1);
    /* Mode 6 and 7 alias 2 and 3; BCD count 0 means 10000. */
    out(&f, 0x43, 0x3d); /* mode 6, BCD */
    out(&f, 0x40, 0);
    out(&f, 0x40, 0);
    g_assert_cmpint(hg_pit_mode(f.pit, 0), ==, 2);
    g_assert_cmpint(hg_pit_reload(f.pit, 0), ==, 10000);
    int base = f.rises;
    advance(&f, 100000000);
    g_assert_cmpint(f.rises - base, >=, 11);
    g_assert_cmpint(f.rises - base, <=, 12);
    /* Invalid BCD digits stay in range. */
    out(&f, 0x43, 0x35);
    out(&f, 0x40, 0xff);
    out(&f, 0x40, 0xff);
    g_assert_cmpint(hg_pit_reload(f.pit, 0), <=, 10000);
    /* Rapid reprogramming, random bytes everywhere. */
    GRand *rnd = g_rand_new_with_seed(42);
    for (int i = 0; i < 20000; i++) {
        uint16_t port = 0x40 + g_rand_int_range(rnd, 0, 4);
        if (g_rand_boolean(rnd))
            out(&f, port, g_rand_int(rnd));
        else
            in(&f, port);
        if (i % 7 == 0)
            out(&f, 0x61, g_rand_int(rnd));
        advance(&f, g_rand_int_range(rnd, 0, 3000));
    }
    g_rand_free(rnd);
    /* Linux reprograms every jiffy: the timer stays one transition ahead. */
    for (int i = 0; i < 1000; i++) {
        out(&f, 0x43, 0x34);
        out(&f, 0x40, 0x9c);
        out(&f, 0x40, 0x2e);
        advance(&f, 500);
        g_assert_cmpint(hg_clock_deadline(f.clock), >, hg_clock_ns(f.clock));
    }
    fx_free(&f);
}

static GBytes *save(Fx *f)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_clock_save(f->clock, &w);
    hg_pit_save(f->pit, &w);
    return hg_state_writer_finish(&w);
}

static void test_save_load(void)
{
    Fx ref, a;
    fx_init(&ref);
    fx_init(&a);
    Fx *both[2] = {&ref, &a};
    for (int i = 0; i < 2; i++) {
        Fx *f = both[i];
        out(f, 0x43, 0x34);
        out(f, 0x40, 1193 & 0xff);
        out(f, 0x40, 1193 >> 8);
        out(f, 0x61, 0x01);
        out(f, 0x43, 0xb0);
        out(f, 0x42, 0xff);
        out(f, 0x42, 0xff);
        out(f, 0x43, 0x80);
        in(f, 0x42); /* latched LSB read; MSB still latched */
        advance(f, 333333333);
    }
    GBytes *b = save(&a);
    Fx c;
    fx_init(&c);
    c.insns = 12345; /* a different instruction count: the clock state rebases it */
    c.level = a.level;
    gsize len;
    const uint8_t *data = g_bytes_get_data(b, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_clock_load(c.clock, &r);
    hg_pit_load(c.pit, &r);
    g_assert_no_error(r.error);
    g_assert_cmpint(hg_clock_ns(c.clock), ==, hg_clock_ns(ref.clock));
    g_assert_cmpint(hg_clock_deadline(c.clock), ==, hg_clock_deadline(ref.clock));
    g_assert_cmpint(in(&c, 0x42), ==, in(&ref, 0x42));
    int rr = ref.rises, cr = c.rises;
    advance(&ref, 666666667);
    advance(&c, 666666667);
    g_assert_cmpint(ref.rises - rr, ==, c.rises - cr);
    g_assert_cmpint(ref.rises, >=, 999);
    g_assert_cmpint(ref.rises, <=, 1000);
    g_assert_cmpint(in(&c, 0x42), ==, in(&ref, 0x42));
    /* Corrupt values are tamed. */
    GByteArray *bad = g_byte_array_new();
    g_byte_array_append(bad, data, len);
    for (gsize i = 48 + 40; i < len; i++)
        bad->data[i] = 0xff;
    Fx d;
    fx_init(&d);
    hg_state_reader_init(&r, bad->data, bad->len);
    hg_clock_load(d.clock, &r);
    hg_pit_load(d.pit, &r);
    for (int i = 0; i < 100; i++) {
        in(&d, 0x40 + i % 4);
        in(&d, 0x61);
        advance(&d, 100000);
    }
    g_clear_error(&r.error);
    g_byte_array_unref(bad);
    g_bytes_unref(b);
    fx_free(&ref);
    fx_free(&a);
    fx_free(&c);
    fx_free(&d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pit/linux-periodic", test_linux_periodic);
    g_test_add_func("/pit/seabios-oneshot", test_seabios_and_oneshot);
    g_test_add_func("/pit/calibration", test_calibration);
    g_test_add_func("/pit/latch-readback-bcd", test_latch_readback_bcd);
    g_test_add_func("/pit/gate-modes", test_gate_modes);
    g_test_add_func("/pit/reprogram-period", test_reprogram_period);
    g_test_add_func("/pit/hostile", test_hostile);
    g_test_add_func("/pit/save-load", test_save_load);
    return g_test_run();
}
