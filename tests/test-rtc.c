/* Unit tests of the MC146818 RTC and CMOS (engine/hw/rtc.c) on an instruction-counted
 * clock (1 ns per instruction), programmed the way SeaBIOS and Linux do. */
#include <glib.h>

#include "bus.h"
#include "clock.h"
#include "hw/rtc.h"
#include "state.h"

typedef struct Fx {
    uint64_t insns;
    HgClock *clock;
    HgBus *bus;
    HgRtc *rtc;
    bool level;
    int rises;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void irq_set(void *opaque, int n, bool level)
{
    Fx *f = opaque;
    g_assert_cmpint(n, ==, 8);
    g_assert_true(level != f->level);
    f->level = level;
    f->rises += level;
}

static void fx_init(Fx *f, int64_t base)
{
    memset(f, 0, sizeof(*f));
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, f);
    f->bus = hg_bus_new(1 << 20);
    f->rtc = hg_rtc_new(f->bus, f->clock, hg_irq(irq_set, f, 8), base);
}

static void fx_free(Fx *f)
{
    hg_rtc_free(f->rtc);
    hg_bus_free(f->bus);
    hg_clock_free(f->clock);
}

static void advance(Fx *f, int64_t ns)
{
    int64_t target = hg_clock_ns(f->clock) + ns;
    while (hg_clock_deadline(f->clock) <= target) {
        int64_t d = hg_clock_deadline(f->clock) - hg_clock_ns(f->clock);
        if (d > 0)
            f->insns += d;
        hg_clock_run_timers(f->clock);
    }
    f->insns += target - hg_clock_ns(f->clock);
    hg_clock_run_timers(f->clock);
}

static uint8_t rd(Fx *f, uint8_t idx)
{
    hg_bus_out(f->bus, 0x70, idx, 1);
    return hg_bus_in(f->bus, 0x71, 1);
}

static void wr(Fx *f, uint8_t idx, uint8_t v)
{
    hg_bus_out(f->bus, 0x70, idx, 1);
    hg_bus_out(f->bus, 0x71, v, 1);
}

typedef struct Tm {
    uint8_t sec, min, hour, wday, day, mon, year, century;
} Tm;

/* Linux mc146818_get_time: wait for UIP to clear, read, re-check UIP and seconds. */
static Tm read_time(Fx *f)
{
    Tm t;
    for (int tries = 0;; tries++) {
        g_assert_cmpint(tries, <, 100);
        while (rd(f, 0x0a) & 0x80)
            advance(f, 10000);
        t.sec = rd(f, 0);
        t.min = rd(f, 2);
        t.hour = rd(f, 4);
        t.wday = rd(f, 6);
        t.day = rd(f, 7);
        t.mon = rd(f, 8);
        t.year = rd(f, 9);
        t.century = rd(f, 0x32);
        if (!(rd(f, 0x0a) & 0x80) && rd(f, 0) == t.sec)
            return t;
    }
}

static void test_seabios_date(void)
{
    Fx f;
    fx_init(&f, hg_rtc_make_time(2024, 2, 29, 23, 59, 58));
    /* SeaBIOS rtc_setup. */
    wr(&f, 0x0a, 0x26);
    wr(&f, 0x0b, 0x02);
    rd(&f, 0x0c);
    g_assert_cmphex(rd(&f, 0x0d), ==, 0x80);
    Tm t = read_time(&f);
    g_assert_cmphex(t.sec, ==, 0x58);
    g_assert_cmphex(t.min, ==, 0x59);
    g_assert_cmphex(t.hour, ==, 0x23);
    g_assert_cmphex(t.day, ==, 0x29);
    g_assert_cmphex(t.mon, ==, 0x02);
    g_assert_cmphex(t.year, ==, 0x24);
    g_assert_cmphex(t.century, ==, 0x20);
    g_assert_cmphex(t.wday, ==, 5); /* Thursday */
    advance(&f, 2000000000);
    t = read_time(&f);
    g_assert_cmphex(t.sec, ==, 0x00);
    g_assert_cmphex(t.hour, ==, 0x00);
    g_assert_cmphex(t.day, ==, 0x01);
    g_assert_cmphex(t.mon, ==, 0x03);
    g_assert_cmphex(t.wday, ==, 6);
    /* Century rollover. */
    Fx g;
    fx_init(&g, hg_rtc_make_time(2099, 12, 31, 23, 59, 59));
    advance(&g, 1000000000);
    t = read_time(&g);
    g_assert_cmphex(t.year, ==, 0x00);
    g_assert_cmphex(t.century, ==, 0x21);
    g_assert_cmphex(t.mon, ==, 0x01);
    fx_free(&f);
    fx_free(&g);
}

static void test_uip(void)
{
    Fx f;
    fx_init(&f, hg_rtc_make_time(2020, 1, 1, 0, 0, 0));
    /* The RTC was created at clock time 0, so updates happen at whole seconds. */
    f.insns = 1000000000 - 250000;
    g_assert_false(rd(&f, 0x0a) & 0x80);
    g_assert_cmphex(rd(&f, 0), ==, 0x00);
    f.insns = 1000000000 - 244000;
    g_assert_true(rd(&f, 0x0a) & 0x80);
    f.insns = 1000000000 - 1;
    g_assert_true(rd(&f, 0x0a) & 0x80);
    g_assert_cmphex(rd(&f, 0), ==, 0x00);
    f.insns = 1000000000;
    g_assert_false(rd(&f, 0x0a) & 0x80);
    g_assert_cmphex(rd(&f, 0), ==, 0x01);
    /* SET: no UIP, no updates; the time resumes from the registers. */
    wr(&f, 0x0b, 0x82);
    f.insns = 2000000000 - 100000;
    g_assert_false(rd(&f, 0x0a) & 0x80);
    advance(&f, 5000000000);
    g_assert_cmphex(rd(&f, 0), ==, 0x01);
    wr(&f, 0, 0x30);
    wr(&f, 2, 0x15);
    wr(&f, 0x0b, 0x02);
    advance(&f, 1000000000);
    g_assert_cmphex(rd(&f, 0), ==, 0x31);
    g_assert_cmphex(rd(&f, 2), ==, 0x15);
    /* Divider reset holds the clock; the first update comes 500 ms after release. */
    wr(&f, 0x0a, 0x70);
    advance(&f, 3000000000);
    g_assert_cmphex(rd(&f, 0), ==, 0x31);
    wr(&f, 0x0a, 0x26);
    advance(&f, 499000000);
    g_assert_cmphex(rd(&f, 0), ==, 0x31);
    advance(&f, 1000000);
    g_assert_cmphex(rd(&f, 0), ==, 0x32);
    fx_free(&f);
}

static void test_periodic(void)
{
    static const struct {
        uint8_t rate;
        int hz;
    } rates[] = {{6, 1024}, {3, 8192}, {15, 2}, {1, 256}};
    for (unsigned i = 0; i < G_N_ELEMENTS(rates); i++) {
        Fx f;
        fx_init(&f, 0);
        wr(&f, 0x0a, 0x20 | rates[i].rate);
        rd(&f, 0x0c);
        wr(&f, 0x0b, rd(&f, 0x0b) | 0x40);
        int irqs = 0;
        /* An interrupt handler reading C after each IRQ8 (edge-triggered on the PIC). */
        for (int step = 0; step < 100000; step++) {
            advance(&f, 10000);
            if (f.level) {
                uint8_t c = rd(&f, 0x0c);
                g_assert_cmphex(c & 0xc0, ==, 0xc0);
                irqs++;
                g_assert_false(f.level);
            }
        }
        g_assert_cmpint(irqs, >=, MIN(rates[i].hz, 100000) - 1);
        g_assert_cmpint(irqs, <=, rates[i].hz + 1);
        fx_free(&f);
    }
    /* PF without PIE is still set at the rate, and no interrupt happens. */
    Fx f;
    fx_init(&f, 0);
    rd(&f, 0x0c);
    advance(&f, 2000000);
    g_assert_cmphex(rd(&f, 0x0c), ==, 0x40);
    g_assert_cmphex(rd(&f, 0x0c), ==, 0x00);
    g_assert_cmpint(f.rises, ==, 0);
    /* Enabling PIE with PF pending raises IRQF at once. */
    advance(&f, 2000000);
    wr(&f, 0x0b, 0x42);
    g_assert_true(f.level);
    fx_free(&f);
}

static void test_formats_alarm_update(void)
{
    Fx f;
    fx_init(&f, hg_rtc_make_time(2023, 6, 15, 22, 59, 0));
    /* hwclock: SET, binary 12-hour, write the time, release. */
    wr(&f, 0x0b, 0x80 | 0x04);
    wr(&f, 0, 58);
    wr(&f, 2, 59);
    wr(&f, 4, 0x80 | 11); /* 11 PM */
    wr(&f, 7, 15);
    wr(&f, 8, 6);
    wr(&f, 9, 23);
    wr(&f, 0x0b, 0x04);
    advance(&f, 2000000000);
    g_assert_cmpint(rd(&f, 4), ==, 12); /* 12 AM */
    g_assert_cmpint(rd(&f, 7), ==, 16);
    g_assert_cmpint(hg_rtc_time(f.rtc), ==, hg_rtc_make_time(2023, 6, 16, 0, 0, 0));
    /* Switching to BCD 24-hour while running converts what is read. */
    wr(&f, 0x0b, 0x02);
    g_assert_cmphex(rd(&f, 4), ==, 0x00);
    g_assert_cmphex(rd(&f, 7), ==, 0x16);
    advance(&f, 13 * 3600 * (int64_t)1000000000);
    wr(&f, 0x0b, 0x00);
    g_assert_cmphex(rd(&f, 4), ==, 0x81); /* 1 PM in BCD */
    /* Alarm at second 5 of every minute and hour (don't-care values). */
    wr(&f, 0x0b, 0x02 | 0x20);
    wr(&f, 1, 0x05);
    wr(&f, 3, 0xc0);
    wr(&f, 5, 0xff);
    rd(&f, 0x0c);
    int alarms = 0, others = 0;
    for (int s = 0; s < 180 * 20; s++) {
        advance(&f, 50000000);
        if (f.level) {
            uint8_t c = rd(&f, 0x0c);
            g_assert_true(c & 0x80);
            alarms += !!(c & 0x20);
            others += !(c & 0x20);
            g_assert_cmphex(rd(&f, 0), ==, 0x05);
        }
    }
    g_assert_cmpint(alarms, ==, 3);
    g_assert_cmpint(others, ==, 0);
    /* Update-ended interrupts: one per second. */
    wr(&f, 0x0b, 0x02 | 0x10);
    rd(&f, 0x0c);
    int updates = 0;
    for (int s = 0; s < 10 * 20; s++) {
        advance(&f, 50000000);
        if (f.level) {
            g_assert_cmphex(rd(&f, 0x0c) & 0x90, ==, 0x90);
            updates++;
        }
    }
    g_assert_cmpint(updates, ==, 10);
    /* SET clears UIE. */
    wr(&f, 0x0b, 0x80 | 0x10 | 0x02);
    g_assert_cmphex(rd(&f, 0x0b), ==, 0x82);
    fx_free(&f);
}

/* 12-hour BCD alarm at 1 PM (the hour's PM bit takes part in the match). */
static void test_alarm_12h(void)
{
    Fx f;
    fx_init(&f, 0);
    wr(&f, 0x0b, 0x80); /* SET, BCD, 12-hour */
    wr(&f, 0, 0x50);
    wr(&f, 2, 0x59);
    wr(&f, 4, 0x80 | 0x12); /* 12 PM */
    wr(&f, 7, 0x01);
    wr(&f, 8, 0x01);
    wr(&f, 9, 0x24);
    wr(&f, 0x32, 0x20);
    wr(&f, 1, 0x00);
    wr(&f, 3, 0x00);
    wr(&f, 5, 0x01); /* 1 AM: must not match */
    wr(&f, 0x0b, 0x20);
    rd(&f, 0x0c);
    advance(&f, 15000000000);
    g_assert_false(f.level);
    g_assert_cmphex(rd(&f, 4), ==, 0x81);
    g_assert_cmphex(rd(&f, 0x0c) & 0x20, ==, 0);
    /* Same again with the alarm at 1 PM. */
    wr(&f, 0x0b, 0xa0);
    wr(&f, 0, 0x50);
    wr(&f, 2, 0x59);
    wr(&f, 4, 0x92);
    wr(&f, 5, 0x81);
    wr(&f, 0x0b, 0x20);
    advance(&f, 9500000000);
    g_assert_false(f.level);
    advance(&f, 1000000000);
    g_assert_true(f.level);
    g_assert_cmphex(rd(&f, 0x0c) & 0xb0, ==, 0xb0); /* IRQF, AF, UF (PF runs too) */
    g_assert_cmpint(hg_rtc_time(f.rtc), ==, hg_rtc_make_time(2024, 1, 1, 13, 0, 0));
    fx_free(&f);
}

static void test_cmos_layout(void)
{
    HgCmosConfig cfg = {0};
    cfg.ram_below_4g = 512u << 20;
    cfg.ram_above_4g = (uint64_t)1 << 32;
    cfg.cpus = 2;
    cfg.boot[0] = HG_CMOS_BOOT_CDROM;
    cfg.boot[1] = HG_CMOS_BOOT_HDD;
    cfg.boot[2] = HG_CMOS_BOOT_FLOPPY;
    cfg.floppy[0] = HG_CMOS_FD_1M44;
    cfg.disk[0] = (HgCmosDisk){true, 1024, 16, 63, 1};
    cfg.fpu = cfg.ps2_mouse = true;
    Fx f;
    fx_init(&f, hg_rtc_make_time(2024, 1, 1, 0, 0, 0));
    hg_rtc_apply_config(f.rtc, &cfg);
    g_assert_cmphex(rd(&f, 0x10), ==, 0x40);
    g_assert_cmphex(rd(&f, 0x14), ==, 0x07);
    g_assert_cmpint(rd(&f, 0x15) | rd(&f, 0x16) << 8, ==, 640);
    g_assert_cmpint(rd(&f, 0x17) | rd(&f, 0x18) << 8, ==, 0xffff);
    g_assert_cmpint(rd(&f, 0x30) | rd(&f, 0x31) << 8, ==, 0xffff);
    g_assert_cmpint(rd(&f, 0x34) | rd(&f, 0x35) << 8, ==, (512 - 16) * 16);
    g_assert_cmpint(rd(&f, 0x5b) | rd(&f, 0x5c) << 8 | rd(&f, 0x5d) << 16, ==, 0x10000);
    g_assert_cmphex(rd(&f, 0x5f), ==, 1);
    g_assert_cmphex(rd(&f, 0x3d), ==, 0x23);
    g_assert_cmphex(rd(&f, 0x38), ==, 0x10);
    g_assert_cmphex(rd(&f, 0x12), ==, 0xf0);
    g_assert_cmphex(rd(&f, 0x19), ==, 47);
    g_assert_cmpint(rd(&f, 0x1b) | rd(&f, 0x1c) << 8, ==, 1024);
    g_assert_cmpint(rd(&f, 0x1d), ==, 16);
    g_assert_cmpint(rd(&f, 0x23), ==, 63);
    g_assert_cmphex(rd(&f, 0x39), ==, 0x01);
    g_assert_cmphex(rd(&f, 0x32), ==, 0x20); /* century kept */
    uint16_t sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum += rd(&f, i);
    g_assert_cmphex(rd(&f, 0x2e) << 8 | rd(&f, 0x2f), ==, sum);
    /* Small machine: 8 MiB. */
    uint8_t cmos[128];
    memset(&cfg, 0, sizeof(cfg));
    cfg.ram_below_4g = 8u << 20;
    cfg.cpus = 1;
    hg_cmos_layout(&cfg, cmos);
    g_assert_cmpint(cmos[0x30] | cmos[0x31] << 8, ==, 7 * 1024);
    g_assert_cmpint(cmos[0x34] | cmos[0x35] << 8, ==, 0);
    g_assert_cmphex(cmos[0x14], ==, 0);
    fx_free(&f);
}

static void test_hostile(void)
{
    Fx f;
    fx_init(&f, hg_rtc_make_time(2024, 5, 5, 5, 5, 5));
    /* NMI mask and index wrap. */
    hg_bus_out(f.bus, 0x70, 0x80 | 0x0d, 1);
    g_assert_true(hg_rtc_nmi_masked(f.rtc));
    g_assert_cmphex(hg_bus_in(f.bus, 0x71, 1), ==, 0x80);
    hg_bus_out(f.bus, 0x70, 0xff, 1);
    hg_bus_out(f.bus, 0x71, 0x5a, 1);
    g_assert_cmphex(rd(&f, 0x7f), ==, 0x5a);
    g_assert_false(hg_rtc_nmi_masked(f.rtc));
    g_assert_cmphex(hg_bus_in(f.bus, 0x70, 1), ==, 0xff);
    /* Upper bank. */
    hg_bus_out(f.bus, 0x72, 0xff, 1);
    hg_bus_out(f.bus, 0x73, 0xa5, 1);
    g_assert_cmphex(hg_rtc_cmos_get(f.rtc, 0xff), ==, 0xa5);
    g_assert_cmphex(rd(&f, 0x7f), ==, 0x5a);
    hg_rtc_cmos_set(f.rtc, 300, 1);
    hg_rtc_cmos_set(f.rtc, -1, 1);
    g_assert_cmphex(hg_rtc_cmos_get(f.rtc, 256), ==, 0xff);
    /* C and D are read-only. */
    wr(&f, 0x0c, 0xff);
    wr(&f, 0x0d, 0x00);
    g_assert_cmphex(rd(&f, 0x0c), ==, 0x00);
    g_assert_cmphex(rd(&f, 0x0d), ==, 0x80);
    /* Garbage time registers (bad BCD, hour 0x3f, month 0) under SET, then running. */
    wr(&f, 0x0b, 0x82);
    for (int i = 0; i < 10; i++)
        wr(&f, i, 0xff);
    wr(&f, 0x32, 0xff);
    wr(&f, 0x0b, 0x02);
    advance(&f, 3000000000);
    read_time(&f);
    /* Random programming of every register. */
    GRand *rnd = g_rand_new_with_seed(7);
    for (int i = 0; i < 20000; i++) {
        uint8_t idx = g_rand_int_range(rnd, 0, 16);
        if (g_rand_boolean(rnd))
            wr(&f, idx, g_rand_int(rnd));
        else
            rd(&f, idx);
        advance(&f, g_rand_int_range(rnd, 0, 200000));
    }
    g_rand_free(rnd);
    /* Back to sane programming: the clock still works. */
    wr(&f, 0x0a, 0x26);
    wr(&f, 0x0b, 0x82);
    wr(&f, 0, 0);
    wr(&f, 2, 0);
    wr(&f, 4, 0x12);
    wr(&f, 7, 1);
    wr(&f, 8, 1);
    wr(&f, 9, 0x25);
    wr(&f, 0x32, 0x20);
    wr(&f, 0x0b, 0x02);
    advance(&f, 61000000000);
    g_assert_cmphex(rd(&f, 2), ==, 0x01);
    g_assert_cmpint(hg_rtc_time(f.rtc), >=, hg_rtc_make_time(2025, 1, 1, 12, 1, 0));
    fx_free(&f);
}

static void test_save_load(void)
{
    Fx ref, a;
    fx_init(&ref, hg_rtc_make_time(2024, 3, 3, 3, 3, 3));
    fx_init(&a, hg_rtc_make_time(2024, 3, 3, 3, 3, 3));
    Fx *both[2] = {&ref, &a};
    for (int i = 0; i < 2; i++) {
        wr(both[i], 0x0a, 0x26);
        wr(both[i], 0x0b, 0x52); /* PIE | UIE */
        advance(both[i], 1234567890);
        rd(both[i], 0x0c);
        hg_bus_out(both[i]->bus, 0x70, 0x80 | 0x20, 1);
    }
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_clock_save(a.clock, &w);
    hg_rtc_save(a.rtc, &w);
    GBytes *b = hg_state_writer_finish(&w);
    Fx c;
    fx_init(&c, 0);
    c.insns = 777;
    gsize len;
    const uint8_t *data = g_bytes_get_data(b, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_clock_load(c.clock, &r);
    hg_rtc_load(c.rtc, &r);
    g_assert_no_error(r.error);
    g_assert_true(hg_rtc_nmi_masked(c.rtc));
    g_assert_cmpint(hg_clock_deadline(c.clock), ==, hg_clock_deadline(ref.clock));
    g_assert_cmpint(hg_rtc_time(c.rtc), ==, hg_rtc_time(ref.rtc));
    int nref = 0, nc = 0;
    for (int step = 0; step < 20000; step++) {
        advance(&ref, 100000);
        advance(&c, 100000);
        if (ref.level)
            nref += rd(&ref, 0x0c) != 0;
        if (c.level)
            nc += rd(&c, 0x0c) != 0;
    }
    g_assert_cmpint(nref, ==, nc);
    g_assert_cmpint(nref, >=, 2047);
    g_assert_cmpint(hg_rtc_time(c.rtc), ==, hg_rtc_time(ref.rtc));
    /* Corrupt payload: every field 0xff. */
    GByteArray *bad = g_byte_array_new();
    g_byte_array_append(bad, data, len);
    for (gsize i = 48 + 40; i < len; i++)
        bad->data[i] = 0xff;
    Fx d;
    fx_init(&d, 0);
    d.level = true;
    hg_state_reader_init(&r, bad->data, bad->len);
    hg_clock_load(d.clock, &r);
    hg_rtc_load(d.rtc, &r);
    g_assert_no_error(r.error);
    for (int i = 0; i < 64; i++) {
        rd(&d, i);
        advance(&d, 50000000);
    }
    read_time(&d);
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
    g_test_add_func("/rtc/seabios-date", test_seabios_date);
    g_test_add_func("/rtc/uip-set-divider", test_uip);
    g_test_add_func("/rtc/periodic", test_periodic);
    g_test_add_func("/rtc/formats-alarm-update", test_formats_alarm_update);
    g_test_add_func("/rtc/alarm-12h", test_alarm_12h);
    g_test_add_func("/rtc/cmos-layout", test_cmos_layout);
    g_test_add_func("/rtc/hostile", test_hostile);
    g_test_add_func("/rtc/save-load", test_save_load);
    return g_test_run();
}
