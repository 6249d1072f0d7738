/* Unit tests of the 82077AA floppy controller (engine/hw/fdc.c) with the 8237 DMA, driven
 * through ports 0x3F0-0x3F7 the way SeaBIOS (floppy.c) and Linux (drivers/block/floppy.c)
 * program it, on raw images in a temporary directory. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "hw/dma8237.h"
#include "hw/fdc.h"
#include "state.h"

typedef struct T {
    HgBus *bus;
    HgDma *dma;
    HgFdc *fdc;
    bool irq;
    int edges;
    char *dir;
} T;

static void set_irq(void *opaque, int n, bool level)
{
    T *t = opaque;
    g_assert_cmpint(n, ==, 6);
    if (level && !t->irq)
        t->edges++;
    t->irq = level;
}

static uint8_t pattern(uint32_t off)
{
    return (uint8_t)((off * 131 + (off >> 9) * 7) ^ (off >> 13));
}

static char *make_image(T *t, const char *name, uint32_t size)
{
    char *path = g_build_filename(t->dir, name, NULL);
    uint8_t *data = g_malloc(size);
    for (uint32_t i = 0; i < size; i++)
        data[i] = pattern(i);
    g_assert_true(g_file_set_contents(path, (char *)data, size, NULL));
    g_free(data);
    return path;
}

static T *t_new(int ndrives)
{
    T *t = g_new0(T, 1);
    t->bus = hg_bus_new(1 << 20);
    t->dma = hg_dma_new(t->bus);
    t->fdc = hg_fdc_new(t->bus, t->dma, hg_irq(set_irq, t, 6), ndrives);
    t->dir = g_dir_make_tmp("hangar-fdc-XXXXXX", NULL);
    g_assert_nonnull(t->dir);
    /* SeaBIOS dma_setup: cascade channel 4. */
    hg_bus_out(t->bus, 0x0d, 0, 1);
    hg_bus_out(t->bus, 0xda, 0, 1);
    hg_bus_out(t->bus, 0xd6, 0xc0, 1);
    hg_bus_out(t->bus, 0xd4, 0, 1);
    return t;
}

static void t_free(T *t)
{
    hg_fdc_free(t->fdc);
    hg_dma_free(t->dma);
    hg_bus_free(t->bus);
    GDir *d = g_dir_open(t->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        char *p = g_build_filename(t->dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    g_dir_close(d);
    g_rmdir(t->dir);
    g_free(t->dir);
    g_free(t);
}

static uint8_t msr(T *t)
{
    return hg_bus_in(t->bus, 0x3f4, 1) & 0xff;
}

static void out_cmd(T *t, const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(msr(t) & 0xc0, ==, 0x80); /* RQM, host to controller */
        hg_bus_out(t->bus, 0x3f5, b[i], 1);
    }
}

#define CMD(t, ...)                                                                                \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        out_cmd(t, b_, sizeof b_);                                                                 \
    } while (0)

static int results(T *t, uint8_t *r, int max)
{
    int n = 0;
    while ((msr(t) & 0xc0) == 0xc0) {
        g_assert_cmpint(n, <, max);
        r[n++] = hg_bus_in(t->bus, 0x3f5, 1) & 0xff;
    }
    g_assert_cmphex(msr(t), ==, 0x80);
    return n;
}

static void sense_int(T *t, uint8_t st0, uint8_t pcn)
{
    uint8_t r[2];
    CMD(t, 0x08);
    g_assert_cmpint(results(t, r, 2), ==, 2);
    g_assert_cmphex(r[0], ==, st0);
    g_assert_cmphex(r[1], ==, pcn);
}

/* SeaBIOS floppy_dma_cmd: channel 2 single mode. */
static void dma_setup(T *t, bool to_memory, uint32_t addr, uint32_t bytes)
{
    hg_bus_out(t->bus, 0x0a, 0x06, 1);
    hg_bus_out(t->bus, 0x0c, 0, 1);
    hg_bus_out(t->bus, 0x0b, to_memory ? 0x46 : 0x4a, 1);
    hg_bus_out(t->bus, 0x04, addr & 0xff, 1);
    hg_bus_out(t->bus, 0x04, (addr >> 8) & 0xff, 1);
    hg_bus_out(t->bus, 0x81, addr >> 16, 1);
    hg_bus_out(t->bus, 0x0c, 0, 1);
    hg_bus_out(t->bus, 0x05, (bytes - 1) & 0xff, 1);
    hg_bus_out(t->bus, 0x05, (bytes - 1) >> 8, 1);
    hg_bus_out(t->bus, 0x0a, 0x02, 1);
}

/* SeaBIOS floppy_reset_controller + floppy_drive_recal. */
static void bios_init(T *t)
{
    hg_bus_out(t->bus, 0x3f2, 0x08, 1); /* reset, DMA gate on */
    g_assert_false(t->irq);
    hg_bus_out(t->bus, 0x3f2, 0x0c, 1);
    g_assert_true(t->irq);
    for (int i = 0; i < 4; i++)
        sense_int(t, 0xc0 | i, 0);
    g_assert_false(t->irq);
    CMD(t, 0x03, 0xaf, 0x02); /* SPECIFY: DMA mode */
    g_assert_cmphex(msr(t), ==, 0x80);
    hg_bus_out(t->bus, 0x3f7, 0x00, 1); /* 500 kb/s */
    hg_bus_out(t->bus, 0x3f2, 0x1c, 1); /* motor A on */
    CMD(t, 0x07, 0x00);
    g_assert_true(t->irq);
    sense_int(t, 0x20, 0);
}

static void test_bios_read_write(void)
{
    T *t = t_new(2);
    char *path = make_image(t, "a.img", 1474560);
    GError *err = NULL;
    g_assert_true(hg_fdc_insert(t->fdc, 0, path, false, &err));
    g_assert_no_error(err);
    g_assert_cmpint(hg_fdc_drive_type(t->fdc, 0), ==, 4);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f7, 1) & 0x80, ==, 0x80); /* disk changed */
    bios_init(t);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f7, 1) & 0x80, ==, 0); /* the step cleared it */
    CMD(t, 0x10);
    uint8_t r[10];
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x90);

    /* Read sector 1 (the boot sector) to 0x7C00. */
    uint8_t *ram = hg_bus_ram(t->bus);
    int e = t->edges;
    dma_setup(t, true, 0x7c00, 512);
    CMD(t, 0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(t->edges, ==, e + 1);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_false(t->irq);
    const uint8_t want[7] = {0x00, 0, 0, 0, 0, 2, 2};
    g_assert_cmpmem(r, 7, want, 7);
    for (int i = 0; i < 512; i++)
        g_assert_cmphex(ram[0x7c00 + i], ==, pattern(i));
    g_assert_true(hg_dma_masked(t->dma, 2));
    g_assert_cmphex(hg_bus_in(t->bus, 0x08, 1) & 0x04, ==, 0x04);

    /* Multi-track: C0 H0 R17 for four sectors ends on head 1, R3. */
    dma_setup(t, true, 0x10000, 4 * 512);
    CMD(t, 0xe6, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    const uint8_t want2[7] = {0x04, 0, 0, 0, 1, 3, 2};
    g_assert_cmpmem(r, 7, want2, 7);
    for (int i = 0; i < 4 * 512; i++)
        g_assert_cmphex(ram[0x10000 + i], ==, pattern(16 * 512 + i));
    /* TC on the last sector of head 1 gives C+1, H complemented, R 1. */
    dma_setup(t, true, 0x10000, 512);
    CMD(t, 0xe6, 0x04, 0, 1, 18, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    const uint8_t want3[7] = {0x04, 0, 0, 1, 0, 1, 2};
    g_assert_cmpmem(r, 7, want3, 7);
    g_assert_cmphex(ram[0x10000], ==, pattern(35 * 512));
    /* A DMA count beyond the track: abnormal termination with end of cylinder. */
    dma_setup(t, true, 0x10000, 4096);
    CMD(t, 0x46, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    const uint8_t want4[7] = {0x40, 0x80, 0, 1, 0, 1, 2};
    g_assert_cmpmem(r, 7, want4, 7);

    /* Terminal count inside the sector: the command still ends normally. */
    memset(ram + 0x30000, 0, 512);
    dma_setup(t, true, 0x30000, 100);
    CMD(t, 0xe6, 0x00, 0, 0, 3, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    const uint8_t want5[7] = {0x00, 0, 0, 0, 0, 4, 2};
    g_assert_cmpmem(r, 7, want5, 7);
    g_assert_cmphex(ram[0x30000 + 99], ==, pattern(2 * 512 + 99));
    g_assert_cmphex(ram[0x30000 + 100], ==, 0);

    /* Write sector 1 back, changed, and read the file. */
    for (int i = 0; i < 512; i++)
        ram[0x7c00 + i] = (uint8_t)~pattern(i);
    dma_setup(t, false, 0x7c00, 512);
    CMD(t, 0xc5, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmpmem(r, 7, want, 7);
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpuint(len, ==, 1474560);
    for (int i = 0; i < 512; i++)
        g_assert_cmphex((uint8_t)data[i], ==, (uint8_t)~pattern(i));
    g_assert_cmphex((uint8_t)data[512], ==, pattern(512));
    g_free(data);

    /* Seek and read on cylinder 79 head 1 (the image's last sector). */
    CMD(t, 0x0f, 0x04, 79);
    sense_int(t, 0x24, 79);
    dma_setup(t, true, 0x20000, 512);
    CMD(t, 0xe6, 0x04, 79, 1, 18, 2, 18, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0] & 0xc0, ==, 0);
    g_assert_cmphex(ram[0x20000 + 511], ==, pattern(1474560 - 1));
    /* READ ID reports the cylinder under the head. */
    CMD(t, 0x4a, 0x04);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x04);
    g_assert_cmphex(r[3], ==, 79);
    /* SENSE DRIVE STATUS: ready, two-sided, head 1, not track 0. */
    CMD(t, 0x04, 0x04);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x2c);
    /* Relative seek outward by 9, inward by 2. */
    CMD(t, 0x8f, 0x00, 9);
    sense_int(t, 0x20, 70);
    CMD(t, 0xcf, 0x00, 2);
    sense_int(t, 0x20, 72);
    g_free(path);
    t_free(t);
}

static void test_media_and_protect(void)
{
    T *t = t_new(2);
    char *a = make_image(t, "a.img", 737280);
    char *bad = make_image(t, "bad.img", 1000);
    GError *err = NULL;
    g_assert_false(hg_fdc_insert(t->fdc, 0, bad, false, &err));
    g_assert_error(err, HG_FDC_ERROR, HG_FDC_ERROR_GEOMETRY);
    g_test_message("refused: %s", err->message);
    g_clear_error(&err);
    g_assert_false(hg_fdc_insert(t->fdc, 1, "/nonexistent/x.img", false, &err));
    g_assert_error(err, HG_FDC_ERROR, HG_FDC_ERROR_OPEN);
    g_clear_error(&err);
    g_assert_false(hg_fdc_insert(t->fdc, 2, a, false, &err));
    g_assert_error(err, HG_FDC_ERROR, HG_FDC_ERROR_DRIVE);
    g_clear_error(&err);
    g_assert_false(hg_fdc_has_media(t->fdc, 0));

    bios_init(t);
    /* Drive 1 empty: reads find no address mark. */
    uint8_t r[10];
    hg_bus_out(t->bus, 0x3f2, 0x2d, 1);
    dma_setup(t, true, 0x1000, 512);
    CMD(t, 0xe6, 0x01, 0, 0, 1, 2, 9, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x41);
    g_assert_cmphex(r[1], ==, 0x01);

    /* 720 KB read-only in drive 1: reads work at 9 sectors per track, writes refused. */
    g_assert_true(hg_fdc_change(t->fdc, 1, a, true, &err));
    g_assert_cmpint(hg_fdc_drive_type(t->fdc, 1), ==, 3);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f7, 1) & 0x80, ==, 0x80);
    CMD(t, 0x0f, 0x01, 1);
    sense_int(t, 0x21, 1);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f7, 1) & 0x80, ==, 0);
    /* At 500 kb/s (the 1.44 MB rate) the 720 KB medium shows no address marks. */
    CMD(t, 0xe6, 0x05, 1, 1, 9, 2, 9, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x45);
    g_assert_cmphex(r[1], ==, 0x01);
    CMD(t, 0x4a, 0x05);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x45);
    hg_bus_out(t->bus, 0x3f7, 0x02, 1); /* 250 kb/s */
    CMD(t, 0x4a, 0x05);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x05);
    CMD(t, 0xe6, 0x05, 1, 1, 9, 2, 9, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x05);
    g_assert_cmphex(hg_bus_ram(t->bus)[0x1000 + 3], ==, pattern(((1 * 2 + 1) * 9 + 8) * 512 + 3));
    dma_setup(t, false, 0x1000, 512);
    CMD(t, 0xc5, 0x01, 1, 0, 1, 2, 9, 0x1b, 0xff);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x41);
    g_assert_cmphex(r[1], ==, 0x02); /* NW */
    CMD(t, 0x04, 0x01);
    results(t, r, 10);
    g_assert_cmphex(r[0] & 0x40, ==, 0x40);
    /* A file without write permission is inserted write-protected (not as root, which
     * can write anyway). */
    if (geteuid() != 0) {
        g_chmod(a, 0444);
        g_assert_true(hg_fdc_insert(t->fdc, 0, a, false, &err));
        g_assert_true(hg_fdc_read_only(t->fdc, 0));
    }
    /* Eject raises the disk-change line; only a seek with media clears it. */
    hg_fdc_eject(t->fdc, 1);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f7, 1) & 0x80, ==, 0x80);
    CMD(t, 0x0f, 0x01, 2);
    sense_int(t, 0x21, 2);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f7, 1) & 0x80, ==, 0x80);
    g_free(a);
    g_free(bad);
    t_free(t);
}

static void test_format_and_pio(void)
{
    T *t = t_new(1);
    char *a = make_image(t, "a.img", 1474560);
    g_assert_true(hg_fdc_insert(t->fdc, 0, a, false, NULL));
    bios_init(t);
    CMD(t, 0x0f, 0x00, 3);
    sense_int(t, 0x20, 3);
    uint8_t *ram = hg_bus_ram(t->bus);
    for (int s = 0; s < 18; s++) {
        ram[0x3000 + s * 4] = 3;
        ram[0x3000 + s * 4 + 1] = 0;
        ram[0x3000 + s * 4 + 2] = (uint8_t)(s + 1);
        ram[0x3000 + s * 4 + 3] = 2;
    }
    dma_setup(t, false, 0x3000, 18 * 4);
    CMD(t, 0x4d, 0x00, 2, 18, 0x54, 0xf6);
    uint8_t r[10];
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x00);
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(a, &data, &len, NULL));
    uint32_t base = 3 * 2 * 18 * 512;
    for (uint32_t i = 0; i < 18 * 512; i++)
        g_assert_cmphex((uint8_t)data[base + i], ==, 0xf6);
    g_assert_cmphex((uint8_t)data[base + 18 * 512], ==, pattern(base + 18 * 512));
    g_free(data);

    /* Non-DMA mode: the host moves the bytes through the FIFO. */
    CMD(t, 0x03, 0xaf, 0x03);
    CMD(t, 0x0f, 0x00, 0);
    sense_int(t, 0x20, 0);
    int e = t->edges;
    CMD(t, 0x66, 0x00, 0, 0, 2, 2, 3, 0x1b, 0xff);
    g_assert_true(t->irq);
    g_assert_cmpint(t->edges, ==, e + 1);
    for (int i = 0; i < 2 * 512; i++) {
        g_assert_cmphex(msr(t), ==, 0xf0); /* RQM, DIO, NDMA, CB */
        g_assert_cmphex(hg_bus_in(t->bus, 0x3f5, 1), ==, pattern(512 + i));
    }
    g_assert_true(t->irq);
    g_assert_cmpint(t->edges, ==, e + 2 * 512 + 1); /* one per byte, one for the result */
    /* No terminal count in PIO: the end of track ends it with EN. */
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[0], ==, 0x40);
    g_assert_cmphex(r[1], ==, 0x80);
    g_assert_cmphex(r[3], ==, 1);
    /* PIO write of sector 5. */
    CMD(t, 0x45, 0x00, 0, 0, 5, 2, 5, 0x1b, 0xff);
    for (int i = 0; i < 512; i++) {
        g_assert_cmphex(msr(t), ==, 0xb0);
        hg_bus_out(t->bus, 0x3f5, 0x5a, 1);
    }
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_true(g_file_get_contents(a, &data, &len, NULL));
    g_assert_cmphex((uint8_t)data[4 * 512], ==, 0x5a);
    g_assert_cmphex((uint8_t)data[4 * 512 + 511], ==, 0x5a);
    g_free(data);
    g_free(a);
    t_free(t);
}

static void test_registers(void)
{
    T *t = t_new(2);
    bios_init(t);
    uint8_t r[10];
    /* Linux get_fdc_version: DUMPREGS (10 bytes), VERSION, CONFIGURE, PERPENDICULAR
     * wanting a second byte, UNLOCK (00), PARTID (invalid: 80 = post-1991 82077). */
    CMD(t, 0x0e);
    g_assert_cmpint(results(t, r, 10), ==, 10);
    CMD(t, 0x10);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x90);
    CMD(t, 0x13);
    g_assert_cmphex(msr(t), ==, 0x90); /* more output wanted */
    CMD(t, 0x00, 0x10, 0x00);
    CMD(t, 0x12);
    g_assert_cmphex(msr(t), ==, 0x90);
    CMD(t, 0x00);
    CMD(t, 0x14);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x00);
    CMD(t, 0x18);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x80);
    /* Linux fdc_configure / lock / dumpreg / perpendicular mode. */
    CMD(t, 0x13, 0x00, 0x1a, 0x00);
    CMD(t, 0x94);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x10);
    CMD(t, 0x12, 0x80 | 0x04);
    CMD(t, 0x0e);
    g_assert_cmpint(results(t, r, 10), ==, 10);
    g_assert_cmphex(r[4], ==, 0xaf);
    g_assert_cmphex(r[5], ==, 0x02);
    g_assert_cmphex(r[7], ==, 0x84);
    g_assert_cmphex(r[8], ==, 0x1a);
    /* Reset through DSR keeps the locked configuration and polls four drives. */
    hg_bus_out(t->bus, 0x3f4, 0x80, 1);
    g_assert_true(t->irq);
    for (int i = 0; i < 4; i++)
        sense_int(t, 0xc0 | i, 0);
    CMD(t, 0x0e);
    results(t, r, 10);
    g_assert_cmphex(r[8], ==, 0x1a);
    CMD(t, 0x14);
    results(t, r, 10);
    g_assert_cmphex(r[0], ==, 0x00);
    hg_bus_out(t->bus, 0x3f2, 0x08, 1);
    g_assert_cmphex(msr(t), ==, 0x00); /* held in reset */
    hg_bus_out(t->bus, 0x3f2, 0x0c, 1);
    for (int i = 0; i < 4; i++)
        sense_int(t, 0xc0 | i, 0);
    CMD(t, 0x0e);
    results(t, r, 10);
    g_assert_cmphex(r[8], ==, 0x20);
    /* SeaBIOS floppy_enable_controller reads one polling status, then recalibrates and
     * expects the seek status from the next SENSE INTERRUPT. */
    hg_bus_out(t->bus, 0x3f2, 0x00, 1);
    hg_bus_out(t->bus, 0x3f2, 0x0c, 1);
    g_assert_true(t->irq);
    sense_int(t, 0xc0, 0);
    hg_bus_out(t->bus, 0x3f2, 0x1c, 1);
    CMD(t, 0x07, 0x00);
    g_assert_true(t->irq);
    sense_int(t, 0x20, 0);
    /* With the DMA/IRQ gate off the interrupt is held back. */
    hg_bus_out(t->bus, 0x3f2, 0x04, 1);
    CMD(t, 0x07, 0x00);
    g_assert_false(t->irq);
    hg_bus_out(t->bus, 0x3f2, 0x0c, 1);
    g_assert_true(t->irq);
    sense_int(t, 0x20, 0);
    t_free(t);
}

static void test_hostile(void)
{
    T *t = t_new(2);
    char *a = make_image(t, "a.img", 1474560);
    g_assert_true(hg_fdc_insert(t->fdc, 0, a, false, NULL));
    bios_init(t);
    uint8_t r[10];
    /* SENSE INTERRUPT with nothing pending, and invalid opcodes. */
    CMD(t, 0x08);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x80);
    CMD(t, 0x1f);
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(r[0], ==, 0x80);
    CMD(t, 0x83); /* SPECIFY with a flag it does not take */
    g_assert_cmpint(results(t, r, 10), ==, 1);
    g_assert_cmphex(msr(t), ==, 0x80);
    g_assert_cmphex(hg_bus_in(t->bus, 0x3f5, 1), ==, 0xff);
    /* Drive 3 does not exist. */
    CMD(t, 0x07, 0x03);
    sense_int(t, 0x73, 0);
    dma_setup(t, true, 0x1000, 512);
    static const struct {
        uint8_t cyl_seek, c, h, r, n, eot, st1, st2;
    } bad[] = {
        {0, 1, 0, 1, 2, 18, 0x04, 0x10},     /* wrong cylinder */
        {0, 0xff, 0, 1, 2, 18, 0x04, 0x02},  /* bad cylinder */
        {0, 0, 1, 1, 2, 18, 0x04, 0x00},     /* head field mismatch */
        {0, 0, 0, 0, 2, 18, 0x04, 0x00},     /* sector 0 */
        {0, 0, 0, 19, 2, 18, 0x04, 0x00},    /* sector past the track */
        {0, 0, 0, 1, 7, 18, 0x04, 0x00},     /* 16 KiB sectors */
        {0, 0, 0, 1, 0xff, 18, 0x04, 0x00},  /* size code > 7 */
        {200, 200, 0, 1, 2, 18, 0x01, 0x00}, /* cylinder past the medium */
        {255, 255, 0, 1, 2, 255, 0x01, 0x00},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        CMD(t, 0x0f, 0x00, bad[i].cyl_seek);
        sense_int(t, 0x20, bad[i].cyl_seek);
        CMD(t, 0xe6, 0x00, bad[i].c, bad[i].h, bad[i].r, bad[i].n, bad[i].eot, 0x1b, 0xff);
        g_assert_cmpint(results(t, r, 10), ==, 7);
        g_assert_cmphex(r[0], ==, 0x40);
        g_assert_cmphex(r[1], ==, bad[i].st1);
        g_assert_cmphex(r[2], ==, bad[i].st2);
    }
    /* EOT below R: one sector then end of cylinder. FORMAT with N 7. */
    CMD(t, 0x0f, 0x00, 0);
    sense_int(t, 0x20, 0);
    dma_setup(t, true, 0x1000, 4096);
    CMD(t, 0x46, 0x00, 0, 0, 5, 2, 1, 0x1b, 0xff);
    results(t, r, 10);
    g_assert_cmphex(r[1], ==, 0x80);
    CMD(t, 0x4d, 0x00, 7, 18, 0x54, 0xf6);
    results(t, r, 10);
    g_assert_cmphex(r[0], ==, 0x40);
    /* Every opcode with arbitrary parameters, reading whatever comes back. */
    GRand *rnd = g_rand_new_with_seed(42);
    for (int op = 0; op < 256; op++) {
        if ((op & 0x1f) == 0x05 || (op & 0x1f) == 0x0d)
            continue; /* would scribble over the image; covered above */
        dma_setup(t, true, 0xf0000 + (g_rand_int(rnd) & 0xffff), 1 + g_rand_int(rnd) % 4096);
        hg_bus_out(t->bus, 0x3f5, op, 1);
        for (int i = 0; i < 9; i++)
            hg_bus_out(t->bus, 0x3f5, g_rand_int(rnd) & 0xff, 1);
        for (int i = 0; i < 20000 && (msr(t) & 0xc0) == 0xc0; i++)
            hg_bus_in(t->bus, 0x3f5, 1);
        for (int i = 0; i < 20000 && (msr(t) & 0xe0) == 0xe0; i++)
            hg_bus_in(t->bus, 0x3f5, 1);
        hg_bus_out(t->bus, 0x3f4, 0x80, 1);
        for (int i = 0; i < 4; i++) {
            hg_bus_out(t->bus, 0x3f5, 0x08, 1);
            hg_bus_in(t->bus, 0x3f5, 1);
            hg_bus_in(t->bus, 0x3f5, 1);
        }
        hg_bus_out(t->bus, 0x3f5, 0x03, 1);
        hg_bus_out(t->bus, 0x3f5, 0xaf, 1);
        hg_bus_out(t->bus, 0x3f5, 0x02, 1);
        g_assert_cmphex(msr(t), ==, 0x80);
    }
    g_rand_free(rnd);
    /* Ejecting in the middle of a transfer held by a masked DMA channel. */
    dma_setup(t, true, 0x1000, 1024);
    hg_bus_out(t->bus, 0x0a, 0x06, 1);
    CMD(t, 0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    g_assert_cmphex(msr(t), ==, 0x10);
    hg_fdc_eject(t->fdc, 0);
    hg_bus_out(t->bus, 0x0a, 0x02, 1);
    g_assert_cmpint(results(t, r, 10), ==, 7);
    g_assert_cmphex(r[1], ==, 0x01);
    g_free(a);
    t_free(t);
}

static GBytes *save(T *t)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_fdc_save(t->fdc, &w);
    hg_dma_save(t->dma, &w);
    return hg_state_writer_finish(&w);
}

static void test_save_load(void)
{
    T *t = t_new(2);
    char *a = make_image(t, "a.img", 1474560);
    g_assert_true(hg_fdc_insert(t->fdc, 0, a, false, NULL));
    bios_init(t);
    CMD(t, 0x0f, 0x00, 2);
    sense_int(t, 0x20, 2);
    /* A read waiting for a masked DMA channel. */
    dma_setup(t, true, 0x1000, 1024);
    hg_bus_out(t->bus, 0x0a, 0x06, 1);
    CMD(t, 0xe6, 0x00, 2, 0, 3, 2, 18, 0x1b, 0xff);
    GBytes *blob = save(t);

    T *t2 = t_new(2);
    g_assert_true(hg_fdc_insert(t2->fdc, 0, a, false, NULL));
    gsize len;
    const uint8_t *data = g_bytes_get_data(blob, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_fdc_load(t2->fdc, &r);
    hg_dma_load(t2->dma, &r);
    g_assert_true(hg_state_ok(&r));
    g_assert_cmphex(msr(t2), ==, 0x10);
    hg_dma_hold_dreq(t2->dma, 2); /* the device's DREQ is part of the DMA state */
    hg_bus_out(t2->bus, 0x0a, 0x02, 1);
    uint8_t res[10];
    g_assert_cmpint(results(t2, res, 10), ==, 7);
    const uint8_t want[7] = {0x00, 0, 0, 2, 0, 5, 2};
    g_assert_cmpmem(res, 7, want, 7);
    for (int i = 0; i < 1024; i++)
        g_assert_cmphex(hg_bus_ram(t2->bus)[0x1000 + i], ==, pattern((2 * 36 + 2) * 512 + i));
    g_assert_cmphex(hg_bus_in(t2->bus, 0x3f7, 1) & 0x80, ==, 0);

    /* Corrupted states: every field garbage, the controller stays in bounds. */
    GRand *rnd = g_rand_new_with_seed(7);
    for (int pass = 0; pass < 200; pass++) {
        uint8_t *bad = g_memdup2(data, len);
        for (gsize i = 44; i < len; i++)
            if (g_rand_int_range(rnd, 0, 4) == 0)
                bad[i] = (uint8_t)g_rand_int(rnd);
        hg_state_reader_init(&r, bad, len);
        hg_fdc_load(t2->fdc, &r);
        hg_dma_load(t2->dma, &r);
        g_free(bad);
        hg_bus_out(t2->bus, 0x0a, 0x02, 1);
        for (int i = 0; i < 1100; i++) {
            hg_bus_in(t2->bus, 0x3f5, 1);
            if (i % 3 == 0)
                hg_bus_out(t2->bus, 0x3f5, 0x08, 1);
        }
    }
    g_rand_free(rnd);
    g_bytes_unref(blob);
    g_free(a);
    t_free(t2);
    t_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fdc/bios-read-write", test_bios_read_write);
    g_test_add_func("/fdc/media-and-protect", test_media_and_protect);
    g_test_add_func("/fdc/format-and-pio", test_format_and_pio);
    g_test_add_func("/fdc/registers", test_registers);
    g_test_add_func("/fdc/hostile", test_hostile);
    g_test_add_func("/fdc/save-load", test_save_load);
    return g_test_run();
}
