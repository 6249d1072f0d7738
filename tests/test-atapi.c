/* Unit tests of the ATAPI CD-ROM model (engine/hw/ide-atapi.c): the PACKET protocol in PIO
 * and DMA, the MMC commands Linux's sr/cdrom drivers and SeaBIOS send, media changes with
 * UNIT ATTENTION and events, the tray lock, and save/load in the middle of a transfer. The
 * medium is an ISO 9660 image made at test time (volume descriptors at sector 16). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "bus.h"
#include "clock.h"
#include "hw/ide-bmdma.h"
#include "hw/ide.h"
#include "state.h"

enum { CMD = 0x170, CTL = 0x376, BM = 0xc000, BM2 = BM + 8, RAM = 1 << 20, CD_SECTORS = 300 };

typedef struct Fx {
    uint64_t insns;
    HgBus *bus;
    HgClock *clock;
    HgIdeChannel *ch;
    HgIdeBmdma *bm;
    char *iso, *iso2;
    int irq_level, irq_raises;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void irq_set(void *opaque, int n, bool level)
{
    Fx *f = opaque;
    g_assert_cmpint(n, ==, 15);
    if (level && !f->irq_level)
        f->irq_raises++;
    f->irq_level = level;
}

static void fill_cd_sector(uint8_t *p, uint32_t lba, uint8_t salt)
{
    for (int i = 0; i < 2048; i++)
        p[i] = (uint8_t)(lba * 13 + i + salt);
    memcpy(p, &lba, 4);
    if (lba == 16) { /* primary volume descriptor */
        static const uint8_t pvd[8] = {1, 'C', 'D', '0', '0', '1', 1, 0};
        memcpy(p, pvd, sizeof(pvd));
    } else if (lba == 17) { /* volume descriptor set terminator */
        static const uint8_t term[7] = {255, 'C', 'D', '0', '0', '1', 1};
        memcpy(p, term, sizeof(term));
    }
}

static char *make_iso(uint32_t sectors, uint8_t salt)
{
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-atapi-XXXXXX.iso", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    uint8_t sec[2048];
    for (uint32_t s = 0; s < sectors; s++) {
        fill_cd_sector(sec, s, salt);
        g_assert_cmpint(write(fd, sec, sizeof(sec)), ==, (ssize_t)sizeof(sec));
    }
    close(fd);
    return path;
}

static HgBlock *open_iso(const char *path)
{
    GError *err = NULL;
    HgBlock *b = hg_block_open(path, NULL, true, &err);
    g_assert_no_error(err);
    return b;
}

static void fx_setup(Fx *f, bool medium)
{
    f->bus = hg_bus_new(RAM);
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, f);
    f->ch = hg_ide_channel_new(f->clock, hg_irq(irq_set, f, 15), 1);
    hg_ide_map_legacy(f->ch, f->bus, CMD, CTL);
    GError *err = NULL;
    g_assert_true(hg_ide_attach_cdrom(f->ch, 0, medium ? open_iso(f->iso) : NULL, &err));
    g_assert_no_error(err);
    f->bm = hg_ide_bmdma_new(f->bus, NULL, f->ch);
    hg_ide_bmdma_set_base(f->bm, BM);
}

static void fx_init(Fx *f, bool medium)
{
    memset(f, 0, sizeof(*f));
    f->iso = make_iso(CD_SECTORS, 0);
    f->iso2 = make_iso(CD_SECTORS + 50, 0x40);
    fx_setup(f, medium);
}

static void fx_teardown(Fx *f)
{
    hg_ide_bmdma_free(f->bm);
    hg_ide_channel_free(f->ch);
    hg_clock_free(f->clock);
    hg_bus_free(f->bus);
}

static void fx_free(Fx *f)
{
    fx_teardown(f);
    g_unlink(f->iso);
    g_unlink(f->iso2);
    g_free(f->iso);
    g_free(f->iso2);
}

static uint8_t inb(Fx *f, uint16_t port)
{
    return (uint8_t)hg_bus_in(f->bus, port, 1);
}

static void outb(Fx *f, uint16_t port, uint8_t v)
{
    hg_bus_out(f->bus, port, v, 1);
}

static void run_clock(Fx *f, int64_t ns)
{
    f->insns += (uint64_t)ns;
    hg_clock_run_timers(f->clock);
}

/* Sends the command packet; the data phase is left to the caller. */
static void send_cdb(Fx *f, const uint8_t *cdb, uint16_t bcl, bool dma)
{
    outb(f, CMD + 1, dma ? 1 : 0);
    outb(f, CMD + 4, (uint8_t)bcl);
    outb(f, CMD + 5, (uint8_t)(bcl >> 8));
    outb(f, CMD + 7, 0xa0);
    g_assert_cmpint(inb(f, CTL) & 0x89, ==, 0x08);
    g_assert_cmpint(inb(f, CMD + 2) & 3, ==, 1); /* CoD: the drive wants the command */
    for (int i = 0; i < 12; i += 2)
        hg_bus_out(f->bus, CMD, (uint32_t)(cdb[i] | cdb[i + 1] << 8), 2);
}

/* PIO data phase: each DRQ block with reason IO and its byte count. Returns the final
 * status; blocks counts the DRQ blocks. */
static uint8_t pio_data(Fx *f, GByteArray *out, int *blocks)
{
    int n_blocks = 0;
    if (out)
        g_byte_array_set_size(out, 0);
    for (;;) {
        uint8_t st = inb(f, CMD + 7);
        if (!(st & 0x08)) {
            g_assert_cmpint(inb(f, CMD + 2) & 3, ==, 3);
            if (blocks)
                *blocks = n_blocks;
            return st;
        }
        g_assert_cmpint(inb(f, CMD + 2) & 3, ==, 2);
        uint32_t n = inb(f, CMD + 4) | inb(f, CMD + 5) << 8;
        g_assert_cmpuint(n, >, 0);
        for (uint32_t i = 0; i < n; i += 2) {
            uint16_t w = (uint16_t)hg_bus_in(f->bus, CMD, 2);
            uint8_t b[2] = {(uint8_t)w, (uint8_t)(w >> 8)};
            if (out)
                g_byte_array_append(out, b, i + 1 < n ? 2 : 1);
        }
        n_blocks++;
    }
}

static uint8_t packet(Fx *f, const uint8_t *cdb, uint16_t bcl, GByteArray *out)
{
    if (out)
        g_byte_array_set_size(out, 0);
    send_cdb(f, cdb, bcl, false);
    return pio_data(f, out, NULL);
}

static void expect_sense(Fx *f, uint8_t key, uint8_t asc)
{
    const uint8_t rs[12] = {0x03, 0, 0, 0, 18};
    GByteArray *b = g_byte_array_new();
    g_assert_cmpint(packet(f, rs, 18, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 18);
    g_assert_cmpint(b->data[0], ==, 0x70);
    g_assert_cmpint(b->data[2], ==, key);
    g_assert_cmpint(b->data[12], ==, asc);
    g_byte_array_unref(b);
}

/* A command that fails: ERR with the sense key in the error register. */
static void expect_fail(Fx *f, const uint8_t *cdb, uint8_t key, uint8_t asc)
{
    g_assert_cmpint(packet(f, cdb, 2048, NULL), ==, 0x41);
    g_assert_cmpint(inb(f, CMD + 1) >> 4, ==, key);
    expect_sense(f, key, asc);
}

static const uint8_t TUR[12] = {0x00};

static void test_identify(void)
{
    Fx f;
    fx_init(&f, true);
    /* Signature after SRST: 01/01/14/EB and status 0 */
    outb(&f, CTL, 0x04);
    outb(&f, CTL, 0x00);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x00);
    g_assert_cmpint(inb(&f, CMD + 2), ==, 1);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 1);
    g_assert_cmpint(inb(&f, CMD + 4), ==, 0x14);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0xeb);
    /* IDENTIFY DEVICE aborts and leaves the signature */
    outb(&f, CMD + 4, 0);
    outb(&f, CMD + 7, 0xec);
    g_assert_cmpint(inb(&f, CMD + 7) & 0x09, ==, 0x01);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x04);
    g_assert_cmpint(inb(&f, CMD + 4), ==, 0x14);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0xeb);
    /* IDENTIFY PACKET DEVICE */
    outb(&f, CMD + 7, 0xa1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    uint16_t id[256];
    for (int i = 0; i < 256; i++)
        id[i] = (uint16_t)hg_bus_in(f.bus, CMD, 2);
    g_assert_cmpint(inb(&f, CMD + 7) & 0x08, ==, 0);
    g_assert_cmpint(id[0], ==, 0x85c0);
    g_assert_cmpint(id[49] & 0x300, ==, 0x300);
    g_assert_cmpint(id[27], ==, 'H' << 8 | 'a');
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
    g_assert_cmpint(sum, ==, 0);
    /* DEVICE RESET */
    outb(&f, CMD + 7, 0x08);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0xeb);
    fx_free(&f);
}

static void test_read(void)
{
    Fx f;
    fx_init(&f, true);
    GByteArray *b = g_byte_array_new();
    int blocks;
    g_assert_cmpint(packet(&f, TUR, 0, NULL), ==, 0x50);

    const uint8_t inquiry[12] = {0x12, 0, 0, 0, 36};
    g_assert_cmpint(packet(&f, inquiry, 2048, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 36);
    g_assert_cmpint(b->data[0], ==, 0x05);
    g_assert_cmpint(b->data[1], ==, 0x80);
    g_assert_cmpmem(b->data + 8, 8, "HANGAR  ", 8);

    const uint8_t cap[12] = {0x25};
    g_assert_cmpint(packet(&f, cap, 8, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 8);
    g_assert_cmpint(b->data[2] << 8 | b->data[3], ==, CD_SECTORS - 1);
    g_assert_cmpint(b->data[6] << 8 | b->data[7], ==, 2048);

    /* READ(10) of the volume descriptors, as SeaBIOS reads: one sector per block */
    const uint8_t rd10[12] = {0x28, 0, 0, 0, 0, 16, 0, 0, 2};
    send_cdb(&f, rd10, 2048, false);
    g_assert_cmpint(pio_data(&f, b, &blocks), ==, 0x50);
    g_assert_cmpint(blocks, ==, 2);
    g_assert_cmpint(b->len, ==, 4096);
    g_assert_cmpmem(b->data + 1, 5, "CD001", 5);
    g_assert_cmpint(b->data[2048], ==, 255);
    /* One block when the limit allows; an odd limit gives even blocks */
    send_cdb(&f, rd10, 0xffff, false);
    g_assert_cmpint(pio_data(&f, b, &blocks), ==, 0x50);
    g_assert_cmpint(blocks, ==, 1);
    send_cdb(&f, rd10, 1001, false);
    g_assert_cmpint(pio_data(&f, b, &blocks), ==, 0x50);
    g_assert_cmpint(blocks, ==, 5);
    g_assert_cmpint(b->len, ==, 4096);
    g_assert_cmpmem(b->data + 2049, 5, "CD001", 5);

    /* READ(12) and READ CD (user data) */
    uint8_t want[2048];
    const uint8_t rd12[12] = {0xa8, 0, 0, 0, 0, 100, 0, 0, 0, 3};
    g_assert_cmpint(packet(&f, rd12, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 3 * 2048);
    fill_cd_sector(want, 102, 0);
    g_assert_cmpmem(b->data + 4096, 2048, want, 2048);
    const uint8_t rdcd[12] = {0xbe, 0, 0, 0, 0, 50, 0, 0, 1, 0x10};
    g_assert_cmpint(packet(&f, rdcd, 0xfffe, b), ==, 0x50);
    fill_cd_sector(want, 50, 0);
    g_assert_cmpmem(b->data, b->len, want, 2048);
    const uint8_t rdcd_raw[12] = {0xbe, 0, 0, 0, 0, 50, 0, 0, 1, 0xf8};
    expect_fail(&f, rdcd_raw, 5, 0x24);

    /* Past the end, a zero-length read, an unknown command */
    const uint8_t past[12] = {0x28, 0, 0, 0, (CD_SECTORS - 1) >> 8, (CD_SECTORS - 1) & 0xff,
                              0,    0, 2};
    expect_fail(&f, past, 5, 0x21);
    const uint8_t huge[12] = {0xa8, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    expect_fail(&f, huge, 5, 0x21);
    const uint8_t none[12] = {0x28, 0, 0, 0, 0, 16};
    g_assert_cmpint(packet(&f, none, 2048, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 0);
    const uint8_t bogus[12] = {0xff};
    expect_fail(&f, bogus, 5, 0x20);
    /* Success clears the sense */
    g_assert_cmpint(packet(&f, TUR, 0, NULL), ==, 0x50);
    expect_sense(&f, 0, 0);
    g_byte_array_unref(b);
    fx_free(&f);
}

static void test_toc(void)
{
    Fx f;
    fx_init(&f, true);
    GByteArray *b = g_byte_array_new();
    const uint8_t toc0[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100};
    g_assert_cmpint(packet(&f, toc0, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 20);
    g_assert_cmpint(b->data[1], ==, 18);
    g_assert_cmpint(b->data[2], ==, 1);
    g_assert_cmpint(b->data[3], ==, 1);
    g_assert_cmpint(b->data[5], ==, 0x14);
    g_assert_cmpint(b->data[6], ==, 1);
    g_assert_cmpint(b->data[14], ==, 0xaa);
    g_assert_cmpint(b->data[18] << 8 | b->data[19], ==, CD_SECTORS);
    /* MSF: the lead-out at 300 + 150 frames = 00:06:00 */
    const uint8_t toc0m[12] = {0x43, 2, 0, 0, 0, 0, 0, 0, 100};
    g_assert_cmpint(packet(&f, toc0m, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->data[9], ==, 0);
    g_assert_cmpint(b->data[10], ==, 2); /* track 1 at 00:02:00 */
    g_assert_cmpint(b->data[17], ==, 0);
    g_assert_cmpint(b->data[18], ==, 6);
    g_assert_cmpint(b->data[19], ==, 0);
    /* Allocation length cuts the reply */
    const uint8_t toc_short[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 12};
    g_assert_cmpint(packet(&f, toc_short, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 12);
    /* Starting at the lead-out; a track that does not exist */
    const uint8_t toc_aa[12] = {0x43, 0, 0, 0, 0, 0, 0xaa, 0, 100};
    g_assert_cmpint(packet(&f, toc_aa, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 12);
    const uint8_t toc_bad[12] = {0x43, 0, 0, 0, 0, 0, 5, 0, 100};
    expect_fail(&f, toc_bad, 5, 0x24);
    /* Format 1: session information */
    const uint8_t toc1[12] = {0x43, 0, 1, 0, 0, 0, 0, 0, 100};
    g_assert_cmpint(packet(&f, toc1, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 12);
    g_assert_cmpint(b->data[1], ==, 10);
    g_assert_cmpint(b->data[6], ==, 1);
    /* Format 2: raw TOC with A0/A1/A2 and track 1, in MSF */
    const uint8_t toc2[12] = {0x43, 2, 2, 0, 0, 0, 0, 0, 100};
    g_assert_cmpint(packet(&f, toc2, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 48);
    g_assert_cmpint(b->data[4 + 3], ==, 0xa0);
    g_assert_cmpint(b->data[4 + 8], ==, 1);
    g_assert_cmpint(b->data[26 + 3], ==, 0xa2);
    g_assert_cmpint(b->data[26 + 9], ==, 6);
    g_assert_cmpint(b->data[37 + 3], ==, 1);
    g_assert_cmpint(b->data[37 + 9], ==, 2);
    /* The old SFF-8020i format field in the control byte */
    const uint8_t toc_old[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0x40};
    g_assert_cmpint(packet(&f, toc_old, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 12);

    /* READ DISC INFORMATION, MODE SENSE, GET CONFIGURATION, MECHANISM STATUS, SPEED */
    const uint8_t di[12] = {0x51, 0, 0, 0, 0, 0, 0, 0, 34};
    g_assert_cmpint(packet(&f, di, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 34);
    g_assert_cmpint(b->data[2], ==, 0x0e);
    const uint8_t ms2a[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64};
    g_assert_cmpint(packet(&f, ms2a, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 28);
    g_assert_cmpint(b->data[1], ==, 26);
    g_assert_cmpint(b->data[8], ==, 0x2a);
    g_assert_cmpint(b->data[14] & 0x02, ==, 0); /* not locked */
    const uint8_t ms01[12] = {0x5a, 0, 0x01, 0, 0, 0, 0, 0, 64};
    g_assert_cmpint(packet(&f, ms01, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 16);
    g_assert_cmpint(b->data[8], ==, 0x01);
    const uint8_t ms3f[12] = {0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255};
    g_assert_cmpint(packet(&f, ms3f, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 36);
    const uint8_t ms05[12] = {0x5a, 0, 0x05, 0, 0, 0, 0, 0, 64};
    expect_fail(&f, ms05, 5, 0x24);
    const uint8_t ms_saved[12] = {0x5a, 0, 0xea, 0, 0, 0, 0, 0, 64};
    expect_fail(&f, ms_saved, 5, 0x39);
    const uint8_t gc[12] = {0x46, 0, 0, 0, 0, 0, 0, 1, 0};
    g_assert_cmpint(packet(&f, gc, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->data[6] << 8 | b->data[7], ==, 0x0008);
    g_assert_cmpint(b->data[3] + 4, ==, (int)b->len);
    g_assert_cmpint(b->len, ==, 8 + 12 + 12 + 8 + 8 + 12);
    const uint8_t gc3[12] = {0x46, 2, 0, 3, 0, 0, 0, 1, 0};
    g_assert_cmpint(packet(&f, gc3, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 16);
    g_assert_cmpint(b->data[9], ==, 3);
    const uint8_t mech[12] = {0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8};
    g_assert_cmpint(packet(&f, mech, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 8);
    const uint8_t speed[12] = {0xbb, 0, 0xff, 0xff};
    g_assert_cmpint(packet(&f, speed, 0xfffe, NULL), ==, 0x50);
    g_byte_array_unref(b);
    fx_free(&f);
}

static void gesn(Fx *f, uint8_t event, uint8_t media_status)
{
    const uint8_t cdb[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
    GByteArray *b = g_byte_array_new();
    g_assert_cmpint(packet(f, cdb, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->len, ==, 8);
    g_assert_cmpint(b->data[2], ==, 4);
    g_assert_cmpint(b->data[4], ==, event);
    g_assert_cmpint(b->data[5], ==, media_status);
    g_byte_array_unref(b);
}

static void test_media(void)
{
    Fx f;
    fx_init(&f, true);
    GError *err = NULL;
    gesn(&f, 0, 2);
    /* Host eject */
    g_assert_true(hg_ide_cdrom_eject(f.ch, 0, false, &err));
    g_assert_no_error(err);
    g_assert_false(hg_ide_cdrom_has_medium(f.ch, 0));
    gesn(&f, 3, 1);
    gesn(&f, 0, 1);
    expect_fail(&f, TUR, 2, 0x3a);
    const uint8_t cap[12] = {0x25};
    expect_fail(&f, cap, 2, 0x3a);
    const uint8_t gc[12] = {0x46, 0, 0, 0, 0, 0, 0, 1, 0};
    GByteArray *b = g_byte_array_new();
    g_assert_cmpint(packet(&f, gc, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->data[7], ==, 0); /* no current profile */
    /* Insert a different medium: UNIT ATTENTION once, then ready */
    g_assert_true(hg_ide_cdrom_insert(f.ch, 0, open_iso(f.iso2), &err));
    g_assert_no_error(err);
    gesn(&f, 2, 2);
    expect_fail(&f, TUR, 6, 0x28);
    g_assert_cmpint(packet(&f, TUR, 0, NULL), ==, 0x50);
    const uint8_t rd[12] = {0x28, 0, 0, 0, 0x01, 0x40, 0, 0, 1}; /* sector 320 exists now */
    g_assert_cmpint(packet(&f, rd, 2048, b), ==, 0x50);
    uint8_t want[2048];
    fill_cd_sector(want, 320, 0x40);
    g_assert_cmpmem(b->data, b->len, want, 2048);
    /* REQUEST SENSE reports a pending UNIT ATTENTION without failing */
    g_assert_true(hg_ide_cdrom_insert(f.ch, 0, open_iso(f.iso), &err));
    expect_sense(&f, 6, 0x28);
    g_assert_cmpint(packet(&f, TUR, 0, NULL), ==, 0x50);

    /* The guest locks the tray: the host is refused, the guest asked to eject. */
    const uint8_t prevent[12] = {0x1e, 0, 0, 0, 1};
    const uint8_t allow[12] = {0x1e};
    const uint8_t eject[12] = {0x1b, 0, 0, 0, 2};
    const uint8_t load[12] = {0x1b, 0, 0, 0, 3};
    g_assert_cmpint(packet(&f, prevent, 0, NULL), ==, 0x50);
    g_assert_true(hg_ide_cdrom_locked(f.ch, 0));
    g_assert_false(hg_ide_cdrom_eject(f.ch, 0, false, &err));
    g_assert_nonnull(strstr(err->message, "locked"));
    g_clear_error(&err);
    g_assert_true(hg_ide_cdrom_has_medium(f.ch, 0));
    gesn(&f, 1, 2);
    expect_fail(&f, eject, 2, 0x53);
    const uint8_t ms2a[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64};
    g_assert_cmpint(packet(&f, ms2a, 0xfffe, b), ==, 0x50);
    g_assert_cmpint(b->data[14] & 0x02, ==, 0x02);
    g_assert_cmpint(packet(&f, allow, 0, NULL), ==, 0x50);
    /* The guest ejects, then closes the tray: the medium comes back with an attention */
    g_assert_cmpint(packet(&f, eject, 0, NULL), ==, 0x50);
    g_assert_false(hg_ide_cdrom_has_medium(f.ch, 0));
    expect_fail(&f, TUR, 2, 0x3a);
    g_assert_cmpint(packet(&f, load, 0, NULL), ==, 0x50);
    g_assert_true(hg_ide_cdrom_has_medium(f.ch, 0));
    expect_fail(&f, TUR, 6, 0x28);
    g_assert_cmpint(packet(&f, TUR, 0, NULL), ==, 0x50);
    /* Forced host eject ignores the lock */
    g_assert_cmpint(packet(&f, prevent, 0, NULL), ==, 0x50);
    g_assert_true(hg_ide_cdrom_eject(f.ch, 0, true, &err));
    g_assert_false(hg_ide_cdrom_locked(f.ch, 0));
    /* Not a CD-ROM */
    g_assert_false(hg_ide_cdrom_eject(f.ch, 1, false, &err));
    g_clear_error(&err);
    g_byte_array_unref(b);
    fx_free(&f);

    /* A drive created empty */
    fx_init(&f, false);
    expect_fail(&f, TUR, 2, 0x3a);
    gesn(&f, 0, 0);
    fx_free(&f);
}

static void prd(Fx *f, uint32_t at, uint32_t addr, uint32_t count, bool eot)
{
    hg_bus_write(f->bus, at, addr, 4);
    hg_bus_write(f->bus, at + 4, count, 2);
    hg_bus_write(f->bus, at + 6, eot ? 0x8000 : 0, 2);
}

static void test_dma(void)
{
    Fx f;
    fx_init(&f, true);
    uint8_t *ram = hg_bus_ram(f.bus);
    uint8_t want[2048];
    prd(&f, 0x1000, 0x10000, 2048, false);
    prd(&f, 0x1008, 0x20000, 2048, true);
    const uint8_t rd[12] = {0x28, 0, 0, 0, 0, 16, 0, 0, 2};
    send_cdb(&f, rd, 0, true);
    g_assert_cmpint(inb(&f, CTL) & 0x88, ==, 0x08);
    g_assert_cmpint(inb(&f, CMD + 2) & 3, ==, 2);
    hg_bus_out(f.bus, BM2 + 4, 0x1000, 4);
    outb(&f, BM2, 0x09);
    f.irq_raises = 0;
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(f.irq_raises, ==, 1);
    g_assert_cmpint(inb(&f, BM2 + 2), ==, 0x04);
    g_assert_cmpint(inb(&f, BM + 2), ==, 0x00); /* the other channel's status is untouched */
    outb(&f, BM2, 0x08);
    outb(&f, BM2 + 2, 0x04);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 2) & 3, ==, 3);
    g_assert_cmpmem(ram + 0x10001, 5, "CD001", 5);
    fill_cd_sector(want, 17, 0);
    g_assert_cmpmem(ram + 0x20000, 2048, want, 2048);
    /* A reply through DMA (INQUIRY) */
    prd(&f, 0x1000, 0x30000, 36, true);
    const uint8_t inquiry[12] = {0x12, 0, 0, 0, 36};
    send_cdb(&f, inquiry, 0, true);
    outb(&f, BM2, 0x09);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(inb(&f, BM2 + 2), ==, 0x04);
    g_assert_cmpint(ram[0x30000], ==, 0x05);
    g_assert_cmpmem(ram + 0x30008, 6, "HANGAR", 6);
    outb(&f, BM2, 0);
    outb(&f, BM2 + 2, 0x04);
    /* A no-data command with the DMA bit completes at once */
    send_cdb(&f, TUR, 0, true);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    /* Host eject under a pending DMA read: NOT READY, nothing moves later */
    memset(ram + 0x40000, 0xee, 2048);
    prd(&f, 0x1000, 0x40000, 2048, true);
    send_cdb(&f, rd, 0, true);
    outb(&f, BM2, 0x09);
    GError *err = NULL;
    g_assert_true(hg_ide_cdrom_eject(f.ch, 0, false, &err));
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(ram[0x40000], ==, 0xee);
    fx_free(&f);
}

/* A hard disk as master and the CD-ROM as slave on one channel. */
static void test_two_drives(void)
{
    Fx f;
    memset(&f, 0, sizeof(f));
    f.iso = make_iso(CD_SECTORS, 0);
    f.iso2 = make_iso(64, 0x11); /* used as a raw disk: 256 sectors of 512 bytes */
    f.bus = hg_bus_new(RAM);
    f.clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, &f);
    f.ch = hg_ide_channel_new(f.clock, hg_irq(irq_set, &f, 15), 1);
    hg_ide_map_legacy(f.ch, f.bus, CMD, CTL);
    GError *err = NULL;
    g_assert_true(hg_ide_attach_disk(f.ch, 0, hg_block_open(f.iso2, NULL, false, NULL), &err));
    g_assert_true(hg_ide_attach_cdrom(f.ch, 1, open_iso(f.iso), &err));
    g_assert_false(hg_ide_attach_cdrom(f.ch, 1, NULL, &err)); /* taken */
    g_clear_error(&err);
    g_assert_cmpint(hg_ide_kind(f.ch, 0), ==, HG_IDE_DISK);
    g_assert_cmpint(hg_ide_kind(f.ch, 1), ==, HG_IDE_CDROM);
    f.bm = hg_ide_bmdma_new(f.bus, NULL, f.ch);
    hg_ide_bmdma_set_base(f.bm, BM);

    /* SeaBIOS: nIEN, SRST, then each device's signature */
    outb(&f, CTL, 0x0a);
    outb(&f, CTL, 0x0e);
    outb(&f, CTL, 0x0a);
    g_assert_cmpint(inb(&f, CMD + 6), ==, 0xa0);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 4), ==, 0);
    outb(&f, CMD + 6, 0xb0);
    g_assert_cmpint(inb(&f, CMD + 6), ==, 0xb0);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x00);
    g_assert_cmpint(inb(&f, CMD + 4), ==, 0x14);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0xeb);
    g_assert_cmpint(f.irq_raises, ==, 0);
    outb(&f, CTL, 0x08);

    /* Master read in progress; the slave runs a packet command in between. */
    outb(&f, CMD + 6, 0xe0);
    outb(&f, CMD + 2, 2);
    outb(&f, CMD + 3, 4);
    outb(&f, CMD + 4, 0);
    outb(&f, CMD + 5, 0);
    outb(&f, CMD + 7, 0x20);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    uint16_t w0 = (uint16_t)hg_bus_in(f.bus, CMD, 2);
    g_assert_cmpint(w0, ==, (uint16_t)(1 | 0 << 8)); /* CD sector 1 of the "disk": lba 1 */
    outb(&f, CMD + 6, 0xb0);
    g_assert_cmpint(hg_bus_in(f.bus, CMD, 2), ==, 0); /* not the selected drive's data */
    g_assert_cmpint(packet(&f, TUR, 0, NULL), ==, 0x50);
    /* Diagnostic from the master: both drives show their signatures again */
    outb(&f, CMD + 6, 0xa0);
    outb(&f, CMD + 7, 0x90);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x01);
    outb(&f, CMD + 6, 0xb0);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0xeb);
    fx_free(&f);
}

static GBytes *save(Fx *f)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_ide_channel_save(f->ch, &w);
    hg_ide_bmdma_save(f->bm, &w);
    return hg_state_writer_finish(&w);
}

static void test_save_load(void)
{
    Fx f;
    fx_init(&f, true);
    const uint8_t rd[12] = {0x28, 0, 0, 0, 0, 20, 0, 0, 3};
    send_cdb(&f, rd, 2048, false);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    uint8_t got[3 * 2048], want[2048];
    for (int i = 0; i < 2048 + 1024; i += 2) {
        uint16_t w = (uint16_t)hg_bus_in(f.bus, CMD, 2);
        got[i] = (uint8_t)w;
        got[i + 1] = (uint8_t)(w >> 8);
    }
    GBytes *b = save(&f);
    fx_teardown(&f);
    fx_setup(&f, true);
    HgStateReader r;
    gsize len;
    const void *data = g_bytes_get_data(b, &len);
    hg_state_reader_init(&r, data, len);
    hg_ide_channel_load(f.ch, &r);
    hg_ide_bmdma_load(f.bm, &r);
    g_assert_no_error(r.error);
    g_bytes_unref(b);
    for (int i = 2048 + 1024; i < 2048 * 2; i += 2) {
        uint16_t w = (uint16_t)hg_bus_in(f.bus, CMD, 2);
        got[i] = (uint8_t)w;
        got[i + 1] = (uint8_t)(w >> 8);
    }
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    g_assert_cmpint(inb(&f, CMD + 4) | inb(&f, CMD + 5) << 8, ==, 2048);
    for (int i = 2048 * 2; i < 2048 * 3; i += 2) {
        uint16_t w = (uint16_t)hg_bus_in(f.bus, CMD, 2);
        got[i] = (uint8_t)w;
        got[i + 1] = (uint8_t)(w >> 8);
    }
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    for (uint32_t s = 0; s < 3; s++) {
        fill_cd_sector(want, 20 + s, 0);
        g_assert_cmpmem(got + 2048 * s, 2048, want, 2048);
    }
    /* A state saved with a medium, loaded into an empty drive: the transfer is dropped. */
    send_cdb(&f, rd, 2048, false);
    b = save(&f);
    fx_teardown(&f);
    fx_setup(&f, false);
    data = g_bytes_get_data(b, &len);
    hg_state_reader_init(&r, data, len);
    hg_ide_channel_load(f.ch, &r);
    g_assert_no_error(r.error);
    g_bytes_unref(b);
    for (int i = 0; i < 4096; i++)
        g_assert_cmpint(hg_bus_in(f.bus, CMD, 2), ==, 0);
    fx_free(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/atapi/identify", test_identify);
    g_test_add_func("/atapi/read", test_read);
    g_test_add_func("/atapi/toc-and-info", test_toc);
    g_test_add_func("/atapi/media", test_media);
    g_test_add_func("/atapi/dma", test_dma);
    g_test_add_func("/atapi/two-drives", test_two_drives);
    g_test_add_func("/atapi/save-load", test_save_load);
    return g_test_run();
}
