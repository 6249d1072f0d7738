/* Unit tests of the PIIX4 power management function (engine/hw/piix4pm.c), programmed the
 * way SeaBIOS (piix4_pm_setup) and Linux's ACPI core do: PMBASE/SMBus setup, ACPI enable
 * through SMI_CMD, the PM timer over a virtual second, the timer overflow and power button
 * events on the SCI, S5 power-off, the SMBus with no device. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "hw/pci.h"
#include "hw/piix3.h"
#include "hw/piix4pm.h"
#include "state.h"

enum { PMBASE = 0xb000, SMBBASE = 0xb100, PM_BDF = 0x0b };

typedef struct Fx {
    uint64_t insns;
    HgBus *bus;
    HgClock *clock;
    HgPciBus *pci;
    HgPiix3 *sb;
    HgPiix4Pm *pm;
    bool sci;
    int sci_edges;
    int poweroffs;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void sci_set(void *opaque, int n, bool level)
{
    Fx *x = opaque;
    g_assert_cmpint(n, ==, 9);
    if (level && !x->sci)
        x->sci_edges++;
    x->sci = level;
}

static void poweroff(void *opaque)
{
    ((Fx *)opaque)->poweroffs++;
}

static void cfg_write(Fx *x, int off, uint32_t v, int size)
{
    hg_bus_out(x->bus, 0xcf8, 0x80000000u | PM_BDF << 8 | (off & 0xfc), 4);
    hg_bus_out(x->bus, 0xcfc + (off & 3), v, size);
}

static uint32_t cfg_read(Fx *x, int off, int size)
{
    hg_bus_out(x->bus, 0xcf8, 0x80000000u | PM_BDF << 8 | (off & 0xfc), 4);
    return hg_bus_in(x->bus, 0xcfc + (off & 3), size);
}

static void fx_init(Fx *x, bool setup)
{
    memset(x, 0, sizeof(*x));
    x->bus = hg_bus_new(1u << 20);
    x->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, x);
    x->pci = hg_pci_new(x->bus);
    x->sb = hg_piix3_new(x->pci, NULL);
    x->pm = hg_piix4pm_new(x->pci, x->clock, hg_irq(sci_set, x, 9), poweroff, x);
    if (setup) {
        /* piix4_pm_config_setup */
        cfg_write(x, HG_PCI_INTERRUPT_LINE, 9, 1);
        cfg_write(x, 0x40, PMBASE | 1, 4);
        cfg_write(x, 0x80, 0x01, 1);
        cfg_write(x, 0x90, SMBBASE | 1, 4);
        cfg_write(x, 0xd2, 0x09, 1);
    }
}

static void fx_free(Fx *x)
{
    hg_piix4pm_free(x->pm);
    hg_piix3_free(x->sb);
    hg_pci_free(x->pci);
    hg_clock_free(x->clock);
    hg_bus_free(x->bus);
}

static void advance(Fx *x, uint64_t ns)
{
    x->insns += ns;
    hg_clock_run_timers(x->clock);
}

static void test_config(void)
{
    Fx x;
    fx_init(&x, false);
    g_assert_cmphex(cfg_read(&x, 0, 4), ==, 0x71138086);
    g_assert_cmphex(cfg_read(&x, HG_PCI_REVISION, 1), ==, 0x03);
    g_assert_cmphex(cfg_read(&x, 0x0a, 2), ==, 0x0680);
    g_assert_cmphex(cfg_read(&x, 0x40, 4), ==, 0x1);
    /* DEVACTB.APMC_EN set: SeaBIOS's smm_setup returns at once. */
    g_assert_cmphex(cfg_read(&x, 0x58, 4) & (1u << 25), !=, 0);
    /* Not decoded before PMREGMISC. */
    cfg_write(&x, 0x40, PMBASE | 1, 4);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 8, 4), ==, 0xffffffffu);
    cfg_write(&x, 0x80, 1, 1);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 8, 4) >> 24, ==, 0);
    /* PMBASE is 64-byte aligned and keeps its I/O bit. */
    cfg_write(&x, 0x40, 0xffffffff, 4);
    g_assert_cmphex(cfg_read(&x, 0x40, 4), ==, 0xffc1);
    cfg_write(&x, 0x40, 0, 4); /* 0: not decoded */
    g_assert_cmphex(hg_bus_in(x.bus, 0, 1), ==, 0xff);
    cfg_write(&x, 0x40, 0xb041, 4);
    g_assert_cmphex(hg_bus_in(x.bus, 0xb048 + 3, 1), ==, 0);
    fx_free(&x);
}

static void test_timer_rate(void)
{
    Fx x;
    fx_init(&x, true);
    advance(&x, 12345);
    uint32_t t0 = hg_bus_in(x.bus, PMBASE + 8, 4);
    g_assert_cmphex(t0 >> 24, ==, 0);
    advance(&x, HG_NS_PER_SEC);
    uint32_t t1 = hg_bus_in(x.bus, PMBASE + 8, 4);
    uint32_t ticks = (t1 - t0) & 0xffffff;
    /* 3,579,545 ticks in a virtual second (one tick of rounding either way). */
    g_assert_cmpint(ticks, >=, 3579544);
    g_assert_cmpint(ticks, <=, 3579546);
    /* Monotonic over small steps; wraps at 24 bits. */
    uint32_t prev = t1;
    for (int i = 0; i < 100; i++) {
        advance(&x, 279);
        uint32_t t = hg_bus_in(x.bus, PMBASE + 8, 4);
        g_assert_cmpint((t - prev) & 0xffffff, >=, 0);
        g_assert_cmpint((t - prev) & 0xffffff, <=, 2);
        prev = t;
    }
    /* Byte reads of the timer, and the timer is read-only. */
    hg_bus_out(x.bus, PMBASE + 8, 0, 4);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 11, 1), ==, 0);
    fx_free(&x);
}

static void test_timer_overflow(void)
{
    Fx x;
    fx_init(&x, true);
    /* Linux: acpi_enable via SMI_CMD, then poll SCI_EN. */
    hg_bus_out(x.bus, 0xb2, 0xf1, 1);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 4, 2) & 1, ==, 1);
    hg_bus_out(x.bus, PMBASE, 0xffff, 2);     /* clear stale status */
    hg_bus_out(x.bus, PMBASE + 2, 0x0001, 2); /* TMR_EN */
    g_assert_false(x.sci);
    /* Bit 23 changes every 2^23 ticks = 2.343 s. */
    int64_t deadline = hg_clock_deadline(x.clock);
    g_assert_cmpint(deadline, >, 2340000000LL);
    g_assert_cmpint(deadline, <, 2345000000LL);
    advance(&x, (uint64_t)deadline - 1);
    g_assert_false(x.sci);
    advance(&x, 1);
    g_assert_true(x.sci);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 8, 4), ==, 0x800000);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE, 2) & 1, ==, 1);
    hg_bus_out(x.bus, PMBASE, 0x0001, 2);
    g_assert_false(x.sci);
    /* The next one at the 24-bit wrap. */
    advance(&x, (uint64_t)(hg_clock_deadline(x.clock) - hg_clock_ns(x.clock)));
    g_assert_true(x.sci);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 8, 4), ==, 0);
    /* ACPI disable masks the SCI. */
    hg_bus_out(x.bus, 0xb2, 0xf0, 1);
    g_assert_false(x.sci);
    fx_free(&x);
}

static void test_power_button(void)
{
    Fx x;
    fx_init(&x, true);
    /* Before the OS enables ACPI nobody listens. */
    g_assert_false(hg_piix4pm_power_button(x.pm));
    g_assert_false(x.sci);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE, 2) & 0x100, ==, 0x100);
    hg_bus_out(x.bus, PMBASE, 0x100, 2);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE, 2) & 0x100, ==, 0);
    hg_bus_out(x.bus, 0xb2, 0xf1, 1);
    hg_bus_out(x.bus, PMBASE + 2, 0x0100, 2); /* PWRBTN_EN */
    g_assert_true(hg_piix4pm_power_button(x.pm));
    g_assert_true(x.sci);
    g_assert_cmpint(x.sci_edges, ==, 1);
    /* Writing 0 does not clear; writing 1 does. */
    hg_bus_out(x.bus, PMBASE, 0, 2);
    g_assert_true(x.sci);
    hg_bus_out(x.bus, PMBASE + 1, 0x01, 1);
    g_assert_false(x.sci);
    /* GPE0 at 0xAFE0: status bits are write-1-to-clear; enabling an unset bit is quiet. */
    hg_bus_out(x.bus, 0xafe2, 0xff, 1);
    g_assert_false(x.sci);
    hg_bus_out(x.bus, 0xafe0, 0xff, 1);
    g_assert_cmphex(hg_bus_in(x.bus, 0xafe0, 4), ==, 0x00ff0000u);
    fx_free(&x);
}

static void test_sleep(void)
{
    Fx x;
    fx_init(&x, true);
    hg_bus_out(x.bus, 0xb2, 0xf1, 1);
    /* S3 (SLP_TYP 1) is not power-off. */
    hg_bus_out(x.bus, PMBASE + 4, 1 | 1 << 10 | 1 << 13, 2);
    g_assert_cmpint(x.poweroffs, ==, 0);
    /* SLP_TYP alone does nothing; SLP_EN reads 0. */
    hg_bus_out(x.bus, PMBASE + 4, 1, 2);
    g_assert_cmpint(x.poweroffs, ==, 0);
    g_assert_cmphex(hg_bus_in(x.bus, PMBASE + 4, 2) & 0x2000, ==, 0);
    /* Linux's acpi_hw_legacy_sleep: write SLP_TYP, then SLP_TYP | SLP_EN; _S5 = 0. */
    hg_bus_out(x.bus, PMBASE + 4, 1 | 0 << 10 | 1 << 13, 2);
    g_assert_cmpint(x.poweroffs, ==, 1);
    /* The byte-wide path (high byte alone). */
    hg_bus_out(x.bus, PMBASE + 5, 0x20, 1);
    g_assert_cmpint(x.poweroffs, ==, 2);
    fx_free(&x);
}

static void test_smbus(void)
{
    Fx x;
    fx_init(&x, true);
    /* i2c-piix4 probing address 0x50, byte data read. */
    g_assert_cmphex(hg_bus_in(x.bus, SMBBASE, 1), ==, 0);
    hg_bus_out(x.bus, SMBBASE + 4, 0x50 << 1 | 1, 1);
    hg_bus_out(x.bus, SMBBASE + 3, 0x00, 1);
    hg_bus_out(x.bus, SMBBASE + 2, 0x48, 1); /* start, byte data */
    uint32_t st = hg_bus_in(x.bus, SMBBASE, 1);
    g_assert_cmphex(st & 1, ==, 0); /* not busy */
    g_assert_cmphex(st & 4, ==, 4); /* device error: nobody answered */
    hg_bus_out(x.bus, SMBBASE, 0xff, 1);
    g_assert_cmphex(hg_bus_in(x.bus, SMBBASE, 1), ==, 0);
    g_assert_cmphex(hg_bus_in(x.bus, SMBBASE + 2, 1) & 0x40, ==, 0);
    /* Disabled host: not decoded. */
    cfg_write(&x, 0xd2, 0, 1);
    g_assert_cmphex(hg_bus_in(x.bus, SMBBASE, 1), ==, 0xff);
    fx_free(&x);
}

static void test_save_load(void)
{
    Fx x;
    fx_init(&x, true);
    hg_bus_out(x.bus, 0xb2, 0xf1, 1);
    hg_bus_out(x.bus, PMBASE + 2, 0x0101, 2);
    hg_piix4pm_power_button(x.pm);
    g_assert_true(x.sci);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_clock_save(x.clock, &w);
    hg_pci_save(x.pci, &w);
    hg_piix4pm_save(x.pm, &w);
    GBytes *st = hg_state_writer_finish(&w);
    uint32_t t = hg_piix4pm_timer(x.pm);
    fx_free(&x);

    Fx y;
    fx_init(&y, false);
    gsize len;
    const uint8_t *data = g_bytes_get_data(st, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_clock_load(y.clock, &r);
    hg_pci_load(y.pci, &r);
    hg_piix4pm_load(y.pm, &r);
    g_assert_true(hg_state_ok(&r));
    g_assert_true(y.sci);
    g_assert_cmphex(hg_bus_in(y.bus, PMBASE + 8, 4), ==, t);
    hg_bus_out(y.bus, PMBASE, 0x100, 2);
    g_assert_false(y.sci);
    /* The timer interrupt is armed again. */
    g_assert_cmpint(hg_clock_deadline(y.clock), <, INT64_MAX);
    fx_free(&y);

    uint8_t *bad = g_memdup2(data, len);
    for (gsize i = 0; i < len; i++) {
        Fx z;
        fx_init(&z, false);
        bad[i] ^= 0x5a;
        hg_state_reader_init(&r, bad, len);
        hg_clock_load(z.clock, &r);
        hg_pci_load(z.pci, &r);
        hg_piix4pm_load(z.pm, &r);
        g_clear_error(&r.error);
        for (int p = 0; p < 64; p++)
            hg_bus_in(z.bus, (uint16_t)(PMBASE + p), 1);
        hg_bus_out(z.bus, SMBBASE + 2, 0x48, 1);
        bad[i] ^= 0x5a;
        fx_free(&z);
    }
    g_free(bad);
    g_bytes_unref(st);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pm/config", test_config);
    g_test_add_func("/pm/timer-rate", test_timer_rate);
    g_test_add_func("/pm/timer-overflow", test_timer_overflow);
    g_test_add_func("/pm/power-button", test_power_button);
    g_test_add_func("/pm/sleep", test_sleep);
    g_test_add_func("/pm/smbus", test_smbus);
    g_test_add_func("/pm/save-load", test_save_load);
    return g_test_run();
}
