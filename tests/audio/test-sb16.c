/* Unit tests of the Sound Blaster 16 (engine/hw/sb16.c) driven through its ports as
 * Linux's snd-sb16 and DOS programs drive it: detection, the mixer's IRQ and DMA
 * registers read back, interrupts moved between lines, the 8237's count following the
 * playback, save/load in the middle of a transfer, and random port traffic (QEMU's
 * fuzz-sb16 regressions among it) that must not crash or hang. */
#include <glib.h>
#include <string.h>

#include "audio.h"
#include "bus.h"
#include "clock.h"
#include "hw/dma8237.h"
#include "hw/sb16.h"
#include "state.h"
#include "test-time.h"

typedef struct Fx {
    TestTime t;
    HgBus *bus;
    HgDma *dma;
    HgAudio *audio;
    HgSb16 *sb;
    bool line[16];
    int rises[16];
} Fx;

static void set_irq(void *opaque, int line, bool level)
{
    Fx *f = opaque;
    g_assert_cmpint(line, >=, 0);
    g_assert_cmpint(line, <, 16);
    if (level && !f->line[line])
        f->rises[line]++;
    f->line[line] = level;
}

static void fx_init(Fx *f)
{
    memset(f, 0, sizeof(*f));
    test_time_init(&f->t);
    f->bus = hg_bus_new(1 << 20);
    f->dma = hg_dma_new(f->bus);
    f->audio = hg_audio_new("none", NULL);
    f->sb = hg_sb16_new(f->bus, f->t.clock, f->dma, f->audio, 0x220, set_irq, f);
    /* SeaBIOS: channel 4 cascades controller 1. */
    hg_bus_out(f->bus, 0xd6, 0xc0, 1);
    hg_bus_out(f->bus, 0xd4, 0, 1);
}

static void fx_free(Fx *f)
{
    hg_sb16_free(f->sb);
    hg_audio_free(f->audio);
    hg_dma_free(f->dma);
    hg_bus_free(f->bus);
    hg_clock_free(f->t.clock);
}

/* Moves guest time forward and lets timers and the mixer run, as the machine loop does. */
static void advance(Fx *f, uint64_t ns)
{
    test_time_advance(&f->t, f->audio, ns);
}

static void dsp(Fx *f, uint8_t v)
{
    g_assert_cmpuint(hg_bus_in(f->bus, 0x22c, 1) & 0x80, ==, 0);
    hg_bus_out(f->bus, 0x22c, v, 1);
}

static int dsp_in(Fx *f)
{
    if (!(hg_bus_in(f->bus, 0x22e, 1) & 0x80))
        return -1;
    return (int)hg_bus_in(f->bus, 0x22a, 1);
}

static void mixer_w(Fx *f, uint8_t reg, uint8_t v)
{
    hg_bus_out(f->bus, 0x224, reg, 1);
    hg_bus_out(f->bus, 0x225, v, 1);
}

static uint8_t mixer_r(Fx *f, uint8_t reg)
{
    hg_bus_out(f->bus, 0x224, reg, 1);
    return (uint8_t)hg_bus_in(f->bus, 0x225, 1);
}

static void dsp_reset(Fx *f)
{
    hg_bus_out(f->bus, 0x226, 1, 1);
    hg_bus_out(f->bus, 0x226, 0, 1);
    g_assert_cmpint(dsp_in(f), ==, 0xaa);
    g_assert_cmpint(dsp_in(f), ==, -1);
}

static void test_detect(void)
{
    Fx f;
    fx_init(&f);
    g_assert_cmpint(dsp_in(&f), ==, -1);
    dsp_reset(&f);
    dsp(&f, 0xe1);
    g_assert_cmpint(dsp_in(&f), ==, 4);
    g_assert_cmpint(dsp_in(&f), ==, 5);
    dsp(&f, 0xe0);
    dsp(&f, 0x5a);
    g_assert_cmpint(dsp_in(&f), ==, 0xa5);
    dsp(&f, 0xe4);
    dsp(&f, 0x3c);
    dsp(&f, 0xe8);
    g_assert_cmpint(dsp_in(&f), ==, 0x3c);
    dsp(&f, 0xe3);
    char text[64] = {0};
    for (int i = 0; i < 63; i++) {
        int c = dsp_in(&f);
        g_assert_cmpint(c, >=, 0);
        text[i] = (char)c;
        if (!c)
            break;
    }
    g_assert_cmpstr(text, ==, "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.");
    dsp(&f, 0xd1);
    dsp(&f, 0xd8);
    g_assert_cmpint(dsp_in(&f), ==, 0xff);
    dsp(&f, 0xd3);
    dsp(&f, 0xd8);
    g_assert_cmpint(dsp_in(&f), ==, 0x00);
    /* snd_sb16dsp_configure writes IRQ and DMA selections and reads them back. */
    g_assert_cmpuint(mixer_r(&f, 0x80), ==, 0x02);
    g_assert_cmpuint(mixer_r(&f, 0x81), ==, 0x22);
    mixer_w(&f, 0x80, 0x04);
    mixer_w(&f, 0x81, 0x48);
    g_assert_cmpuint(mixer_r(&f, 0x80), ==, 0x04);
    g_assert_cmpuint(mixer_r(&f, 0x81), ==, 0x48);
    /* The SB Pro master register is a view of the SB16 pair. */
    mixer_w(&f, 0x22, 0xf3);
    g_assert_cmpuint(mixer_r(&f, 0x30), ==, 0xf8);
    g_assert_cmpuint(mixer_r(&f, 0x31), ==, 0x38);
    g_assert_cmpuint(mixer_r(&f, 0x22), ==, 0xf3);
    mixer_w(&f, 0x00, 0);
    g_assert_cmpuint(mixer_r(&f, 0x30), ==, 0xc0);
    g_assert_cmpuint(mixer_r(&f, 0x80), ==, 0x04); /* a mixer reset keeps the resources */
    fx_free(&f);
}

static void test_irq_lines(void)
{
    Fx f;
    fx_init(&f);
    dsp_reset(&f);
    dsp(&f, 0xf2); /* force the 8-bit interrupt */
    g_assert_true(f.line[5]);
    g_assert_cmpuint(mixer_r(&f, 0x82) & 3, ==, 1);
    mixer_w(&f, 0x80, 0x08); /* to IRQ 10 while asserted */
    g_assert_false(f.line[5]);
    g_assert_true(f.line[10]);
    dsp(&f, 0xf3); /* and the 16-bit one */
    g_assert_cmpuint(mixer_r(&f, 0x82) & 3, ==, 3);
    hg_bus_in(f.bus, 0x22e, 1);
    g_assert_true(f.line[10]);
    g_assert_cmpuint(mixer_r(&f, 0x82) & 3, ==, 2);
    hg_bus_in(f.bus, 0x22f, 1);
    g_assert_false(f.line[10]);
    g_assert_cmpuint(mixer_r(&f, 0x82) & 3, ==, 0);
    mixer_w(&f, 0x80, 0x00); /* no line: an interrupt stays in 0x82 only */
    dsp(&f, 0xf2);
    for (int i = 0; i < 16; i++)
        g_assert_false(f.line[i]);
    g_assert_cmpuint(mixer_r(&f, 0x82) & 3, ==, 1);
    fx_free(&f);
}

/* 8-bit auto-init on channel 1 at 10000 Hz, 2000-byte DMA buffer, 1000-byte blocks: the
 * 8237's count follows the sound, interrupts come every 100 ms. */
static void start_8bit_autoinit(Fx *f)
{
    for (int i = 0; i < 2000; i++)
        hg_bus_write(f->bus, 0x30000 + (uint32_t)i, (uint8_t)(i * 7), 1);
    hg_bus_out(f->bus, 0x0a, 5, 1);
    hg_bus_out(f->bus, 0x0c, 0, 1);
    hg_bus_out(f->bus, 0x0b, 0x59, 1);
    hg_bus_out(f->bus, 0x02, 0, 1);
    hg_bus_out(f->bus, 0x02, 0, 1);
    hg_bus_out(f->bus, 0x83, 3, 1);
    hg_bus_out(f->bus, 0x03, 1999 & 0xff, 1);
    hg_bus_out(f->bus, 0x03, 1999 >> 8, 1);
    hg_bus_out(f->bus, 0x0a, 1, 1);
    dsp(f, 0x41);
    dsp(f, 10000 >> 8);
    dsp(f, 10000 & 0xff);
    dsp(f, 0xc6);
    dsp(f, 0x00);
    dsp(f, 999 & 0xff);
    dsp(f, 999 >> 8);
}

static void test_dma_progress(void)
{
    Fx f;
    fx_init(&f);
    dsp_reset(&f);
    start_8bit_autoinit(&f);
    advance(&f, 50000000); /* 50 ms: 500 bytes */
    int left = hg_dma_current_count(f.dma, 1);
    g_assert_cmpint(left, >=, 1999 - 500 - 12);
    g_assert_cmpint(left, <=, 1999 - 500 + 2);
    g_assert_cmpint(f.rises[5], ==, 0);
    advance(&f, 60000000); /* past the first block's end */
    g_assert_cmpint(f.rises[5], ==, 1);
    hg_bus_in(f.bus, 0x22e, 1);
    g_assert_false(f.line[5]);
    advance(&f, 1000000000);            /* ten more blocks, the DMA buffer wraps */
    g_assert_cmpint(f.rises[5], ==, 2); /* not acknowledged: the line stayed high */
    for (int i = 0; i < 20; i++) {
        hg_bus_in(f.bus, 0x22e, 1);
        advance(&f, 100000000);
    }
    g_assert_cmpint(f.rises[5], >=, 20);
    /* Pause: the count stands still; continue: it moves again. */
    dsp(&f, 0xd0);
    int at = hg_dma_current_count(f.dma, 1);
    advance(&f, 30000000);
    g_assert_cmpint(hg_dma_current_count(f.dma, 1), ==, at);
    dsp(&f, 0xd4);
    advance(&f, 30000000);
    g_assert_cmpint(hg_dma_current_count(f.dma, 1), !=, at);
    /* Exit auto-init: one more block end, then nothing. */
    dsp(&f, 0xda);
    int before = f.rises[5];
    for (int i = 0; i < 5; i++) {
        hg_bus_in(f.bus, 0x22e, 1);
        advance(&f, 100000000);
    }
    g_assert_cmpint(f.rises[5], ==, before + 1);
    fx_free(&f);
}

static void test_save_load(void)
{
    Fx f;
    fx_init(&f);
    dsp_reset(&f);
    mixer_w(&f, 0x80, 0x04);
    start_8bit_autoinit(&f);
    advance(&f, 25000000);
    dsp(&f, 0xe0); /* leave a byte in the output FIFO */
    dsp(&f, 0x11);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_sb16_save(f.sb, &w);
    GBytes *a = hg_state_writer_finish(&w);

    Fx g;
    fx_init(&g);
    HgStateReader r;
    gsize len;
    const void *p = g_bytes_get_data(a, &len);
    hg_state_reader_init(&r, p, len);
    hg_sb16_load(g.sb, &r);
    g_assert_no_error(r.error);
    hg_state_writer_init(&w);
    hg_sb16_save(g.sb, &w);
    GBytes *b = hg_state_writer_finish(&w);
    gsize blen;
    const uint8_t *pa = p, *pb = g_bytes_get_data(b, &blen);
    g_assert_cmpuint(len, ==, blen);
    for (gsize i = 0; i < len; i++)
        if (pa[i] != pb[i])
            g_test_message("state byte %zu: saved %02x, after load %02x", i, pa[i], pb[i]);
    g_assert_true(g_bytes_equal(a, b));
    g_assert_cmpuint(mixer_r(&g, 0x80), ==, 0x04);
    g_assert_cmpint(dsp_in(&g), ==, 0xee);
    /* A state that lies (impossible lengths, a full FIFO count) loads clamped. */
    GByteArray *bad = g_byte_array_new();
    g_byte_array_append(bad, p, (guint)len);
    for (guint i = 40; i < bad->len; i++)
        bad->data[i] = 0xff;
    hg_state_reader_init(&r, bad->data, bad->len);
    hg_sb16_load(g.sb, &r);
    advance(&g, 300000000);
    g_byte_array_free(bad, TRUE);
    g_bytes_unref(a);
    g_bytes_unref(b);
    fx_free(&g);
    fx_free(&f);
}

static void test_fuzz(void)
{
    /* QEMU's fuzz-sb16-test sequences: 0x1C, 0x91 and 0xD4 with odd sizes. */
    static const uint8_t seq[][6] = {
        {0x14, 0x00, 0x00, 0x1c, 0, 0},
        {0x48, 0xff, 0xff, 0x91, 0, 0},
        {0x41, 0x00, 0x00, 0xd4, 0x14, 0x00},
    };
    Fx f;
    fx_init(&f);
    for (size_t s = 0; s < G_N_ELEMENTS(seq); s++) {
        for (int i = 0; i < 6; i++)
            hg_bus_out(f.bus, 0x22c, seq[s][i], 1);
        hg_bus_out(f.bus, 0x0a, 1, 1);
        advance(&f, 20000000);
    }
    GRand *rng = g_rand_new_with_seed(1234);
    for (int i = 0; i < 20000; i++) {
        uint32_t port = 0x224 + (uint32_t)g_rand_int_range(rng, 0, 12);
        uint32_t v = (uint32_t)g_rand_int_range(rng, 0, 256);
        if (g_rand_boolean(rng))
            hg_bus_out(f.bus, port, v, 1);
        else
            hg_bus_in(f.bus, port, 1);
        if (i % 16 == 0) {
            /* Unmask the DMA channels the card may pick, at random addresses. */
            hg_bus_out(f.bus, 0x0a, (uint32_t)g_rand_int_range(rng, 0, 4), 1);
            hg_bus_out(f.bus, 0xd4, (uint32_t)g_rand_int_range(rng, 1, 4), 1);
            hg_bus_out(f.bus, 0x0b, 0x58 | (uint32_t)g_rand_int_range(rng, 0, 4), 1);
            advance(&f, (uint64_t)g_rand_int_range(rng, 1, 3000000));
        }
    }
    g_rand_free(rng);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sb16/detect", test_detect);
    g_test_add_func("/sb16/irq-lines", test_irq_lines);
    g_test_add_func("/sb16/dma-progress", test_dma_progress);
    g_test_add_func("/sb16/save-load", test_save_load);
    g_test_add_func("/sb16/fuzz", test_fuzz);
    return g_test_run();
}
