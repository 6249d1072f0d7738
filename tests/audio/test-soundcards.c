/* Unit tests of the ES1370 (engine/hw/es1370.c) and the OPL2 (engine/hw/opl2.c) through
 * their registers: the ES1370's PCI identity, DAC2 walking its frame buffer with the
 * current-position halves moving and interrupts acknowledged as Linux does, the OPL2's
 * timer detection and a note that starts and ends; save/load round trips and random
 * register traffic with addresses outside RAM. */
#include <glib.h>
#include <string.h>

#include "audio.h"
#include "bus.h"
#include "clock.h"
#include "hw/es1370.h"
#include "hw/opl2.h"
#include "hw/pci.h"
#include "state.h"
#include "test-time.h"

enum { DEVFN = HG_PCI_DEVFN(5, 0), IOB = 0xc000 };

typedef struct Fx {
    TestTime t;
    HgBus *bus;
    HgPciBus *pci;
    HgAudio *audio;
    HgEs1370 *es;
    HgOpl2 *opl;
    bool pirq[4];
    int rises;
} Fx;

static void pirq(void *opaque, int n, bool level)
{
    Fx *f = opaque;
    if (level && !f->pirq[n])
        f->rises++;
    f->pirq[n] = level;
}

static bool irq(const Fx *f)
{
    return f->pirq[0] || f->pirq[1] || f->pirq[2] || f->pirq[3];
}

static void fx_init(Fx *f)
{
    memset(f, 0, sizeof(*f));
    test_time_init(&f->t);
    f->bus = hg_bus_new(1 << 20);
    f->pci = hg_pci_new(f->bus);
    hg_pci_set_pirq_handler(f->pci, pirq, f);
    f->audio = hg_audio_new("none", NULL);
    f->es = hg_es1370_new(f->pci, DEVFN, f->bus, f->t.clock, f->audio);
    f->opl = hg_opl2_new(f->t.clock, f->audio);
    hg_opl2_map(f->opl, f->bus, 0x388);
    hg_pci_config_write(f->pci, DEVFN, 0x10, IOB, 4);
    hg_pci_config_write(f->pci, DEVFN, 0x04, 5, 2);
}

static void fx_free(Fx *f)
{
    hg_opl2_free(f->opl);
    hg_es1370_free(f->es);
    hg_audio_free(f->audio);
    hg_pci_free(f->pci);
    hg_bus_free(f->bus);
    hg_clock_free(f->t.clock);
}

static void advance(Fx *f, uint64_t ns)
{
    test_time_advance(&f->t, f->audio, ns);
}

static void outl(Fx *f, uint32_t off, uint32_t v)
{
    hg_bus_out(f->bus, (uint16_t)(IOB + off), v, 4);
}

static uint32_t inl(Fx *f, uint32_t off)
{
    return hg_bus_in(f->bus, (uint16_t)(IOB + off), 4);
}

static void test_es1370_identity(void)
{
    Fx f;
    fx_init(&f);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0, 4), ==, 0x50001274);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x08, 4) >> 8, ==, 0x040100);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x2c, 4), ==, 0x4c4c4942);
    g_assert_cmpuint(hg_pci_config_read(f.pci, DEVFN, 0x3d, 1), ==, 1);
    /* The BAR is 64 bytes of I/O. */
    hg_pci_config_write(f.pci, DEVFN, 0x10, 0xffffffff, 4);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x10, 4), ==, 0xffffffc1);
    hg_pci_config_write(f.pci, DEVFN, 0x10, IOB, 4);
    /* Paged frame registers read back per page; a byte write of MEMPAGE works. */
    hg_bus_out(f.bus, IOB + 0x0c, 0x0c, 1);
    outl(&f, 0x38, 0x12345678);
    hg_bus_out(f.bus, IOB + 0x0c, 0x0d, 1);
    outl(&f, 0x30, 0x0abcdef0);
    g_assert_cmphex(inl(&f, 0x30), ==, 0x0abcdef0);
    hg_bus_out(f.bus, IOB + 0x0c, 0x0c, 1);
    g_assert_cmphex(inl(&f, 0x38), ==, 0x12345678);
    fx_free(&f);
}

/* DAC2 as snd-ens1370 programs it: 8-bit mono at 1411200 / (174 + 2) Hz, a 4000-byte
 * buffer, interrupts every 1000 frames. */
static void start_dac2(Fx *f)
{
    outl(f, 0x00, 174u << 16);
    outl(f, 0x0c, 0x0c);
    outl(f, 0x38, 0x40000);
    outl(f, 0x3c, 1000 - 1);
    outl(f, 0x20, 0x200);
    outl(f, 0x28, 1000 - 1);
    outl(f, 0x00, 174u << 16 | 0x20);
}

static void test_es1370_dac2(void)
{
    Fx f;
    fx_init(&f);
    for (int i = 0; i < 4000; i++)
        hg_bus_write(f.bus, 0x40000 + (uint32_t)i, (uint8_t)(i * 3), 1);
    start_dac2(&f);
    advance(&f, 60000000); /* 60 ms: 481 frames at 8018 Hz */
    outl(&f, 0x0c, 0x0c);
    uint32_t cur = inl(&f, 0x3c) >> 16; /* longwords read */
    g_assert_cmpuint(cur, >=, 115);
    g_assert_cmpuint(cur, <=, 125);
    g_assert_false(irq(&f));
    advance(&f, 70000000); /* past 1000 frames */
    g_assert_true(irq(&f));
    g_assert_cmphex(inl(&f, 0x04), ==, 0x80000002);
    /* Linux's acknowledge: P2_INT_EN off, then on. */
    outl(&f, 0x20, 0);
    g_assert_false(irq(&f));
    g_assert_cmphex(inl(&f, 0x04), ==, 0);
    outl(&f, 0x20, 0x200);
    int before = f.rises;
    advance(&f, 1000000000);                  /* eight more periods; the buffer wraps */
    g_assert_cmpint(f.rises, ==, before + 1); /* the line stays high until acknowledged */
    /* Pause (P2_PAUSE) freezes the position. */
    outl(&f, 0x20, 0x200 | 0x1000);
    uint32_t at = inl(&f, 0x3c) >> 16;
    advance(&f, 50000000);
    g_assert_cmpuint(inl(&f, 0x3c) >> 16, ==, at);
    /* A frame buffer outside RAM plays silence, and nothing breaks. */
    outl(&f, 0x20, 0x200);
    outl(&f, 0x38, 0xfffffff0);
    outl(&f, 0x3c, 0xffff);
    advance(&f, 100000000);
    fx_free(&f);
}

static GBytes *save_all(Fx *f)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_es1370_save(f->es, &w);
    hg_opl2_save(f->opl, &w);
    return hg_state_writer_finish(&w);
}

static void test_save_load(void)
{
    Fx f, g;
    fx_init(&f);
    start_dac2(&f);
    hg_bus_out(f.bus, 0x388, 0xb0, 1);
    hg_bus_out(f.bus, 0x389, 0x32, 1);
    advance(&f, 33000000);
    GBytes *a = save_all(&f);
    fx_init(&g);
    HgStateReader r;
    gsize len;
    const void *p = g_bytes_get_data(a, &len);
    hg_state_reader_init(&r, p, len);
    hg_es1370_load(g.es, &r);
    hg_opl2_load(g.opl, &r);
    g_assert_no_error(r.error);
    GBytes *b = save_all(&g);
    g_assert_true(g_bytes_equal(a, b));
    /* Lies in every field load clamped. */
    GByteArray *bad = g_byte_array_new();
    g_byte_array_append(bad, p, (guint)len);
    for (guint i = 0; i < bad->len; i++)
        if (i % 97 > 40)
            bad->data[i] = 0xff;
    hg_state_reader_init(&r, bad->data, bad->len);
    hg_es1370_load(g.es, &r);
    hg_opl2_load(g.opl, &r);
    advance(&g, 200000000);
    g_byte_array_free(bad, TRUE);
    g_bytes_unref(a);
    g_bytes_unref(b);
    fx_free(&g);
    fx_free(&f);
}

static void opl(Fx *f, uint8_t reg, uint8_t v)
{
    hg_bus_out(f->bus, 0x388, reg, 1);
    hg_bus_out(f->bus, 0x389, v, 1);
}

static void test_opl2_detect(void)
{
    Fx f;
    fx_init(&f);
    opl(&f, 4, 0x60);
    opl(&f, 4, 0x80);
    g_assert_cmphex(hg_bus_in(f.bus, 0x388, 1) & 0xe0, ==, 0);
    g_assert_cmphex(hg_bus_in(f.bus, 0x388, 1) & 0x06, ==, 0x06); /* an OPL2, not OPL3 */
    opl(&f, 2, 0xff);
    opl(&f, 4, 0x21);
    g_assert_cmphex(hg_bus_in(f.bus, 0x388, 1) & 0xe0, ==, 0);
    f.t.insns += 81000; /* 80 us: timer 1 overflowed */
    g_assert_cmphex(hg_bus_in(f.bus, 0x388, 1) & 0xe0, ==, 0xc0);
    opl(&f, 4, 0x60);
    opl(&f, 4, 0x80);
    g_assert_cmphex(hg_bus_in(f.bus, 0x388, 1) & 0xe0, ==, 0);
    /* Timer 2 (320 us units), masked timer 1. */
    opl(&f, 3, 0xfe);
    opl(&f, 4, 0x42);
    f.t.insns += 700000;
    g_assert_cmphex(hg_bus_in(f.bus, 0x388, 1) & 0xe0, ==, 0xa0);
    fx_free(&f);
}

static void test_opl2_fuzz(void)
{
    Fx f;
    fx_init(&f);
    GRand *rng = g_rand_new_with_seed(77);
    for (int i = 0; i < 20000; i++) {
        opl(&f, (uint8_t)g_rand_int_range(rng, 0, 256), (uint8_t)g_rand_int_range(rng, 0, 256));
        uint32_t off = (uint32_t)g_rand_int_range(rng, 0, 64);
        int size = 1 << g_rand_int_range(rng, 0, 3);
        if (g_rand_boolean(rng))
            hg_bus_out(f.bus, (uint16_t)(IOB + (off & ~(uint32_t)(size - 1))), g_rand_int(rng),
                       size);
        else
            hg_bus_in(f.bus, (uint16_t)(IOB + (off & ~(uint32_t)(size - 1))), size);
        if (i % 64 == 0)
            advance(&f, (uint64_t)g_rand_int_range(rng, 1, 2000000));
    }
    g_rand_free(rng);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/es1370/identity", test_es1370_identity);
    g_test_add_func("/es1370/dac2", test_es1370_dac2);
    g_test_add_func("/soundcards/save-load", test_save_load);
    g_test_add_func("/opl2/detect", test_opl2_detect);
    g_test_add_func("/opl2/fuzz", test_opl2_fuzz);
    return g_test_run();
}
