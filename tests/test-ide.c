/* Unit tests of the IDE hard disk model (engine/hw/ide.c) and the bus-master DMA engine
 * (engine/hw/ide-bmdma.c), driven through the legacy ports and BAR4 of a real HgBus the way
 * SeaBIOS and Linux's ata_piix program them, plus hostile programming. */
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

enum {
    CMD = 0x1f0,
    CTL = 0x3f6,
    BM = 0xc000,
    RAM = 4 << 20,
    DISK_SECTORS = 2048, /* 1 MiB */
};

typedef struct Fx {
    uint64_t insns;
    HgBus *bus;
    HgClock *clock;
    HgIdeChannel *ch;
    HgIdeBmdma *bm;
    char *path;
    int irq_level, irq_raises;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void irq_set(void *opaque, int n, bool level)
{
    Fx *f = opaque;
    (void)n;
    if (level && !f->irq_level)
        f->irq_raises++;
    f->irq_level = level;
}

/* Sector s is filled with bytes (s * 7 + i) & 0xff, and starts with its LBA. */
static void fill_sector(uint8_t *p, uint64_t s)
{
    for (int i = 0; i < 512; i++)
        p[i] = (uint8_t)(s * 7 + i);
    memcpy(p, &s, sizeof(s));
}

static char *make_image(uint64_t sectors, uint64_t extra_bytes)
{
    char *path = NULL;
    int fd = g_file_open_tmp("hangar-ide-XXXXXX.img", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    uint8_t sec[512];
    for (uint64_t s = 0; s < sectors; s++) {
        fill_sector(sec, s);
        g_assert_cmpint(write(fd, sec, 512), ==, 512);
    }
    if (extra_bytes)
        g_assert_cmpint(write(fd, sec, extra_bytes), ==, (ssize_t)extra_bytes);
    close(fd);
    return path;
}

static void fx_attach(Fx *f, bool read_only)
{
    f->ch = hg_ide_channel_new(f->clock, hg_irq(irq_set, f, 14), 0);
    hg_ide_map_legacy(f->ch, f->bus, CMD, CTL);
    GError *err = NULL;
    HgBlock *blk = hg_block_open(f->path, NULL, read_only, &err);
    g_assert_no_error(err);
    g_assert_true(hg_ide_attach_disk(f->ch, 0, blk, &err));
    g_assert_no_error(err);
    f->bm = hg_ide_bmdma_new(f->bus, f->ch, NULL);
    hg_ide_bmdma_set_base(f->bm, BM);
}

static void fx_init(Fx *f, uint64_t sectors)
{
    memset(f, 0, sizeof(*f));
    f->bus = hg_bus_new(RAM);
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, f);
    f->path = make_image(sectors, 0);
    fx_attach(f, false);
}

static void fx_free(Fx *f)
{
    hg_ide_bmdma_free(f->bm);
    hg_ide_channel_free(f->ch);
    hg_clock_free(f->clock);
    hg_bus_free(f->bus);
    g_unlink(f->path);
    g_free(f->path);
}

static uint8_t inb(Fx *f, uint16_t port)
{
    return (uint8_t)hg_bus_in(f->bus, port, 1);
}

static void outb(Fx *f, uint16_t port, uint8_t v)
{
    hg_bus_out(f->bus, port, v, 1);
}

static uint16_t inw(Fx *f)
{
    return (uint16_t)hg_bus_in(f->bus, CMD, 2);
}

/* Lets virtual time pass so DMA timers fire. */
static void run_clock(Fx *f, int64_t ns)
{
    f->insns += (uint64_t)ns;
    hg_clock_run_timers(f->clock);
}

static void lba28_cmd(Fx *f, uint8_t cmd, uint32_t lba, uint8_t count)
{
    outb(f, CMD + 6, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
    outb(f, CMD + 2, count);
    outb(f, CMD + 3, (uint8_t)lba);
    outb(f, CMD + 4, (uint8_t)(lba >> 8));
    outb(f, CMD + 5, (uint8_t)(lba >> 16));
    outb(f, CMD + 7, cmd);
}

static void lba48_cmd(Fx *f, uint8_t cmd, uint64_t lba, uint16_t count)
{
    outb(f, CMD + 6, 0x40);
    outb(f, CMD + 2, (uint8_t)(count >> 8));
    outb(f, CMD + 3, (uint8_t)(lba >> 24));
    outb(f, CMD + 4, (uint8_t)(lba >> 32));
    outb(f, CMD + 5, (uint8_t)(lba >> 40));
    outb(f, CMD + 2, (uint8_t)count);
    outb(f, CMD + 3, (uint8_t)lba);
    outb(f, CMD + 4, (uint8_t)(lba >> 8));
    outb(f, CMD + 5, (uint8_t)(lba >> 16));
    outb(f, CMD + 7, cmd);
}

static void read_block(Fx *f, uint8_t *p, int bytes)
{
    for (int i = 0; i < bytes; i += 2) {
        uint16_t w = inw(f);
        p[i] = (uint8_t)w;
        p[i + 1] = (uint8_t)(w >> 8);
    }
}

static void check_sector(const uint8_t *p, uint64_t s)
{
    uint8_t want[512];
    fill_sector(want, s);
    g_assert_cmpmem(p, 512, want, 512);
}

static void image_read(Fx *f, uint64_t lba, uint8_t *p)
{
    FILE *fp = fopen(f->path, "rb");
    g_assert_nonnull(fp);
    g_assert_cmpint(fseek(fp, (long)(lba * 512), SEEK_SET), ==, 0);
    g_assert_cmpint(fread(p, 1, 512, fp), ==, 512);
    fclose(fp);
}

static void test_identify(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    /* SeaBIOS's presence check: patterns written to the count/sector registers read back. */
    outb(&f, CMD + 6, 0xa0);
    outb(&f, CMD + 2, 0x55);
    outb(&f, CMD + 3, 0xaa);
    g_assert_cmpint(inb(&f, CMD + 2), ==, 0x55);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 0xaa);
    outb(&f, CMD + 7, 0xec);
    g_assert_cmpint(inb(&f, CTL) & 0x89, ==, 0x08); /* DRQ, no BSY/ERR */
    g_assert_cmpint(f.irq_level, ==, 1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    g_assert_cmpint(f.irq_level, ==, 0); /* reading status acknowledges */
    uint8_t id[512];
    read_block(&f, id, 512);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    const uint16_t *w = (const uint16_t *)id;
    g_assert_cmpint(w[0], ==, 0x0040);
    g_assert_cmpint(w[1], ==, 2); /* 2048 / (16 * 63) */
    g_assert_cmpint(w[3], ==, 16);
    g_assert_cmpint(w[6], ==, 63);
    g_assert_cmpint(w[49] & 0x300, ==, 0x300);
    g_assert_cmpint(w[60] | w[61] << 16, ==, DISK_SECTORS);
    g_assert_cmpint(w[83] & (1 << 10), !=, 0);
    g_assert_cmpint(w[100], ==, DISK_SECTORS);
    g_assert_cmpint(w[88] & 0x3f, ==, 0x3f);
    g_assert_cmpint(w[63] & 7, ==, 7);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    g_assert_true(g_str_has_prefix(model, "Hangar HARDDISK "));
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    g_assert_cmpint(sum, ==, 0);
    g_assert_cmpint(id[510], ==, 0xa5);
    /* SET FEATURES transfer mode UDMA 5 shows in word 88. */
    outb(&f, CMD + 1, 0x03);
    outb(&f, CMD + 2, 0x45);
    outb(&f, CMD + 7, 0xef);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    outb(&f, CMD + 7, 0xec);
    read_block(&f, id, 512);
    g_assert_cmpint(w[88], ==, 0x203f);
    /* Bad transfer mode: ABRT */
    outb(&f, CMD + 2, 0x77);
    outb(&f, CMD + 7, 0xef);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x04);
    fx_free(&f);
}

static void test_pio_read_write(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    uint8_t buf[1024];
    lba28_cmd(&f, 0x20, 100, 2);
    g_assert_cmpint(f.irq_raises, ==, 1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    read_block(&f, buf, 512);
    check_sector(buf, 100);
    g_assert_cmpint(f.irq_raises, ==, 2); /* one interrupt per DRQ block */
    read_block(&f, buf, 512);
    check_sector(buf, 101);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 102); /* task file: the next sector, as QEMU */
    g_assert_cmpint(inb(&f, CMD + 2), ==, 0);   /* sectors left */
    g_assert_cmpint(f.irq_raises, ==, 2);

    /* 32-bit PIO */
    lba28_cmd(&f, 0x21, 5, 1);
    for (int i = 0; i < 512; i += 4) {
        uint32_t v = hg_bus_in(f.bus, CMD, 4);
        memcpy(buf + i, &v, 4);
    }
    check_sector(buf, 5);

    /* CHS: cylinder 1, head 2, sector 3 = (1 * 16 + 2) * 63 + 2 */
    outb(&f, CMD + 6, 0xa2);
    outb(&f, CMD + 2, 1);
    outb(&f, CMD + 3, 3);
    outb(&f, CMD + 4, 1);
    outb(&f, CMD + 5, 0);
    outb(&f, CMD + 7, 0x20);
    read_block(&f, buf, 512);
    check_sector(buf, 18 * 63 + 2);
    /* CHS sector 0 does not exist */
    outb(&f, CMD + 3, 0);
    outb(&f, CMD + 7, 0x20);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x10);

    /* WRITE SECTORS: the first block without an interrupt, completion with one. */
    f.irq_raises = 0;
    lba28_cmd(&f, 0x30, 200, 2);
    g_assert_cmpint(inb(&f, CTL), ==, 0x58);
    g_assert_cmpint(f.irq_raises, ==, 0);
    for (int i = 0; i < 256; i++)
        hg_bus_out(f.bus, CMD, (uint32_t)(0xa000 + i), 2);
    g_assert_cmpint(f.irq_raises, ==, 1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    for (int i = 0; i < 256; i++)
        hg_bus_out(f.bus, CMD, (uint32_t)(0xb000 + i), 2);
    g_assert_cmpint(f.irq_raises, ==, 2);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    image_read(&f, 201, buf);
    g_assert_cmpint(buf[0], ==, 0x00);
    g_assert_cmpint(buf[1], ==, 0xb0);
    g_assert_cmpint(buf[510], ==, 0xff);
    g_assert_cmpint(buf[511], ==, 0xb0);
    /* FLUSH CACHE */
    outb(&f, CMD + 7, 0xe7);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    /* READ VERIFY: no data */
    lba28_cmd(&f, 0x40, 10, 4);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 10);
    fx_free(&f);
}

static void test_multiple(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    uint8_t buf[512];
    outb(&f, CMD + 2, 0); /* multiple mode off (QEMU's power-on default is 16) */
    outb(&f, CMD + 7, 0xc6);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    lba28_cmd(&f, 0xc4, 0, 8); /* multiple mode not set: ABRT */
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x04);
    outb(&f, CMD + 2, 3); /* not a power of two */
    outb(&f, CMD + 7, 0xc6);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    outb(&f, CMD + 2, 4);
    outb(&f, CMD + 7, 0xc6);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    f.irq_raises = 0;
    lba28_cmd(&f, 0xc4, 40, 6); /* blocks of 4 and 2 sectors */
    for (int s = 0; s < 6; s++) {
        if (s % 4 == 0)
            g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58); /* the handler acknowledges */
        read_block(&f, buf, 512);
        check_sector(buf, 40 + (uint64_t)s);
    }
    g_assert_cmpint(f.irq_raises, ==, 2);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    /* INITIALIZE DEVICE PARAMETERS changes the CHS translation */
    outb(&f, CMD + 6, 0xa0 | 7);
    outb(&f, CMD + 2, 32);
    outb(&f, CMD + 7, 0x91);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    outb(&f, CMD + 6, 0xa1); /* C0 H1 S1 = 32 with 8 heads x 32 sectors */
    outb(&f, CMD + 2, 1);
    outb(&f, CMD + 3, 1);
    outb(&f, CMD + 4, 0);
    outb(&f, CMD + 5, 0);
    outb(&f, CMD + 7, 0x20);
    read_block(&f, buf, 512);
    check_sector(buf, 32);
    fx_free(&f);
}

static void test_lba48(void)
{
    Fx f;
    memset(&f, 0, sizeof(f));
    f.bus = hg_bus_new(RAM);
    f.clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, &f);
    /* A sparse image beyond the LBA28 limit */
    uint64_t sectors = (1ull << 28) + 64;
    f.path = make_image(1, 0);
    g_assert_cmpint(truncate(f.path, (off_t)(sectors * 512)), ==, 0);
    fx_attach(&f, false);
    uint16_t id[256];
    outb(&f, CMD + 6, 0xa0);
    outb(&f, CMD + 7, 0xec);
    read_block(&f, (uint8_t *)id, 512);
    g_assert_cmpint(id[60] | id[61] << 16, ==, 0x0fffffff);
    g_assert_cmpuint(id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32, ==, sectors);
    g_assert_cmpint(id[1], ==, 16383);

    uint64_t lba = (1ull << 28) + 5;
    uint8_t buf[512];
    lba48_cmd(&f, 0x34, lba, 1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x58);
    fill_sector(buf, lba);
    for (int i = 0; i < 512; i += 2)
        hg_bus_out(f.bus, CMD, (uint32_t)(buf[i] | buf[i + 1] << 8), 2);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    memset(buf, 0, sizeof(buf));
    lba48_cmd(&f, 0x24, lba, 1);
    read_block(&f, buf, 512);
    check_sector(buf, lba);
    /* HOB reads back the high bytes */
    outb(&f, CTL, 0x80);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 0x10);
    outb(&f, CTL, 0x00);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 6);
    /* LBA28 cannot reach it: 0x0FFFFFFF is the highest */
    lba28_cmd(&f, 0x20, 0x0fffffff, 1);
    read_block(&f, buf, 512);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    /* READ NATIVE MAX EXT */
    outb(&f, CMD + 6, 0x40);
    outb(&f, CMD + 7, 0x27);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 63);
    outb(&f, CTL, 0x80);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 0x10);
    outb(&f, CTL, 0);
    /* Past the end */
    lba48_cmd(&f, 0x24, sectors - 1, 2);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x10);
    fx_free(&f);
}

static void test_errors(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    uint8_t buf[512];
    lba28_cmd(&f, 0x20, DISK_SECTORS - 1, 2); /* past the end: IDNF */
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x10);
    g_assert_cmpint(hg_bus_in(f.bus, CMD, 2), ==, 0); /* no data phase */
    lba28_cmd(&f, 0x20, DISK_SECTORS - 1, 1);
    read_block(&f, buf, 512);
    check_sector(buf, DISK_SECTORS - 1);
    for (int cmd = 0; cmd < 256; cmd++) {
        static const uint8_t unknown[] = {0x00, 0x50, 0x87, 0xa0, 0xa1, 0xb0, 0xff};
        if (!memchr(unknown, cmd, sizeof(unknown)))
            continue;
        outb(&f, CMD + 7, (uint8_t)cmd);
        g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
        g_assert_cmpint(inb(&f, CMD + 1), ==, 0x04);
    }
    /* Every command byte, with hostile registers, leaves the drive sane. */
    for (int cmd = 0; cmd < 256; cmd++) {
        outb(&f, CMD + 6, 0xff);
        outb(&f, CMD + 2, 0xff);
        outb(&f, CMD + 1, 0xff);
        outb(&f, CMD + 6, 0xe0);
        outb(&f, CMD + 7, (uint8_t)cmd);
        for (int i = 0; i < 300 && (inb(&f, CTL) & 0x08); i++)
            hg_bus_out(f.bus, CMD, 0, 2), hg_bus_in(f.bus, CMD, 4);
        run_clock(&f, 100000);
    }
    /* Absent slave: status 0, signature FF/FF after a reset, commands ignored. */
    outb(&f, CTL, 0x04);
    g_assert_cmpint(inb(&f, CTL), ==, 0x90);
    outb(&f, CTL, 0x00);
    outb(&f, CMD + 6, 0xb0);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0);
    g_assert_cmpint(inb(&f, CMD + 4), ==, 0xff);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0xff);
    f.irq_raises = 0;
    outb(&f, CMD + 7, 0xec);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0);
    g_assert_cmpint(f.irq_raises, ==, 0);
    /* Master signature after SRST */
    outb(&f, CMD + 6, 0xa0);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    g_assert_cmpint(inb(&f, CMD + 2), ==, 1);
    g_assert_cmpint(inb(&f, CMD + 3), ==, 1);
    g_assert_cmpint(inb(&f, CMD + 4), ==, 0);
    g_assert_cmpint(inb(&f, CMD + 5), ==, 0);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 1);
    /* nIEN: the line stays low; the alternate status does not acknowledge. */
    outb(&f, CTL, 0x02);
    outb(&f, CMD + 7, 0xe5); /* CHECK POWER MODE */
    g_assert_cmpint(f.irq_level, ==, 0);
    g_assert_cmpint(inb(&f, CMD + 2), ==, 0xff);
    outb(&f, CMD + 7, 0xe0); /* STANDBY IMMEDIATE */
    outb(&f, CMD + 7, 0xe5);
    g_assert_cmpint(inb(&f, CMD + 2), ==, 0x00);
    outb(&f, CTL, 0x00); /* pending interrupt shows once enabled */
    g_assert_cmpint(f.irq_level, ==, 1);
    g_assert_cmpint(inb(&f, CTL), ==, 0x50);
    g_assert_cmpint(f.irq_level, ==, 1);
    inb(&f, CMD + 7);
    g_assert_cmpint(f.irq_level, ==, 0);
    /* EXECUTE DEVICE DIAGNOSTIC */
    outb(&f, CMD + 7, 0x90);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    fx_free(&f);

    /* A read-only image refuses writes with ABRT. */
    memset(&f, 0, sizeof(f));
    f.bus = hg_bus_new(RAM);
    f.clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, &f);
    f.path = make_image(16, 100); /* and a partial last sector */
    fx_attach(&f, true);
    lba28_cmd(&f, 0x30, 0, 1);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x41);
    g_assert_cmpint(inb(&f, CMD + 1), ==, 0x04);
    lba28_cmd(&f, 0x20, 16, 1); /* the zero-padded tail sector */
    read_block(&f, buf, 512);
    g_assert_cmpint(buf[99], ==, (uint8_t)(15 * 7 + 99));
    g_assert_cmpint(buf[100], ==, 0);
    g_assert_cmpint(buf[511], ==, 0);
    fx_free(&f);
}

/* Writes a PRD entry into guest RAM. */
static void prd(Fx *f, uint32_t at, uint32_t addr, uint32_t count, bool eot)
{
    hg_bus_write(f->bus, at, addr, 4);
    hg_bus_write(f->bus, at + 4, count, 2);
    hg_bus_write(f->bus, at + 6, eot ? 0x8000 : 0, 2);
}

static void bm_start(Fx *f, uint32_t table, bool to_memory)
{
    hg_bus_out(f->bus, BM + 4, table, 4);
    outb(f, BM, to_memory ? 0x09 : 0x01);
}

static uint8_t bm_status(Fx *f)
{
    return inb(f, BM + 2);
}

static void test_dma(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    uint8_t *ram = hg_bus_ram(f.bus);
    /* Linux order: command first, then start. Two regions, the second ends the table. */
    prd(&f, 0x1000, 0x10000, 1024, false);
    prd(&f, 0x1008, 0x20000, 1024, true);
    lba28_cmd(&f, 0xc8, 300, 4);
    g_assert_cmpint(inb(&f, CTL) & 0x08, ==, 0x08);
    bm_start(&f, 0x1000, true);
    g_assert_cmpint(bm_status(&f), ==, 0x01);
    run_clock(&f, HG_IDE_DMA_DELAY_NS - 1);
    g_assert_cmpint(f.irq_raises, ==, 0);
    run_clock(&f, 1);
    g_assert_cmpint(f.irq_raises, ==, 1);
    g_assert_cmpint(bm_status(&f), ==, 0x04); /* table exactly as long: inactive, int */
    outb(&f, BM, 0x08);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    outb(&f, BM + 2, 0x04);
    g_assert_cmpint(bm_status(&f), ==, 0x00);
    check_sector(ram + 0x10000, 300);
    check_sector(ram + 0x10200, 301);
    check_sector(ram + 0x20000, 302);
    check_sector(ram + 0x20200, 303);
    g_assert_true(hg_bus_dirty_map(f.bus)[0x20]);

    /* WRITE DMA (EXT), engine started first (also allowed). */
    for (int i = 0; i < 1024; i++)
        ram[0x30000 + i] = (uint8_t)(i ^ 0x5a);
    prd(&f, 0x1000, 0x30000, 1024, true);
    bm_start(&f, 0x1000, false);
    lba48_cmd(&f, 0x35, 50, 2);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x04);
    outb(&f, BM, 0x00);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    uint8_t buf[512];
    image_read(&f, 51, buf);
    g_assert_cmpmem(buf, 512, ram + 0x30200, 512);

    /* Table longer than the transfer: active stays set, interrupt set. */
    outb(&f, BM + 2, 0x06);
    prd(&f, 0x1000, 0x40000, 0, true); /* 64 KiB */
    lba28_cmd(&f, 0xc8, 7, 1);
    bm_start(&f, 0x1000, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x05);
    check_sector(ram + 0x40000, 7);
    outb(&f, BM, 0x00);
    g_assert_cmpint(bm_status(&f), ==, 0x04);
    outb(&f, BM + 2, 0x04);
    inb(&f, CMD + 7);

    /* Table shorter: inactive, no interrupt, the drive still requests; a new table
     * finishes the transfer. */
    f.irq_raises = 0;
    prd(&f, 0x1000, 0x50000, 512, true);
    lba28_cmd(&f, 0xc8, 60, 3);
    bm_start(&f, 0x1000, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x00);
    g_assert_cmpint(f.irq_raises, ==, 0);
    g_assert_cmpint(inb(&f, CTL) & 0x08, ==, 0x08);
    check_sector(ram + 0x50000, 60);
    outb(&f, BM, 0x08);
    prd(&f, 0x1100, 0x60000, 1024, true);
    bm_start(&f, 0x1100, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x04);
    g_assert_cmpint(f.irq_raises, ==, 1);
    check_sector(ram + 0x60000, 61);
    check_sector(ram + 0x60200, 62);
    outb(&f, BM, 0x00);
    outb(&f, BM + 2, 0x04);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);

    /* Stopping the engine before the transfer ran: nothing moves. */
    memset(ram + 0x70000, 0xee, 512);
    prd(&f, 0x1000, 0x70000, 512, true);
    lba28_cmd(&f, 0xc8, 9, 1);
    bm_start(&f, 0x1000, true);
    outb(&f, BM, 0x08);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(ram[0x70000], ==, 0xee);
    g_assert_cmpint(bm_status(&f), ==, 0x00);
    /* SRST abandons it */
    outb(&f, CTL, 0x04);
    outb(&f, CTL, 0x00);
    g_assert_cmpint(inb(&f, CMD + 7), ==, 0x50);
    fx_free(&f);
}

static void test_dma_hostile(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    uint8_t *ram = hg_bus_ram(f.bus);
    /* Regions outside RAM: reads of ones, writes dropped, no crash. */
    prd(&f, 0x1000, 0xfff00000, 1024, false);
    prd(&f, 0x1008, RAM - 512, 1024, true); /* straddles the end of RAM */
    lba28_cmd(&f, 0xc8, 0, 4);
    bm_start(&f, 0x1000, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x04);
    check_sector(ram + RAM - 512, 2);
    outb(&f, BM, 0);
    outb(&f, BM + 2, 4);
    inb(&f, CMD + 7);
    /* A table at the top of the address space (reads as ones: 64 KiB - 2 bytes, EOT). */
    lba28_cmd(&f, 0xc8, 0, 4);
    bm_start(&f, 0xfffffffc, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x05);
    g_assert_cmpint(hg_bus_in(f.bus, BM + 4, 4), ==, 0xfffffffc);
    outb(&f, BM, 0);
    outb(&f, BM + 2, 4);
    inb(&f, CMD + 7);
    /* A table without an end bit, of 2-byte regions: the walk stops after 8192 entries. */
    for (uint32_t i = 0; i < 8192; i++)
        prd(&f, 0x100000 + 8 * i, 0x200000, 2, false);
    lba28_cmd(&f, 0xc8, 0, 0); /* 256 sectors: more than the table moves */
    bm_start(&f, 0x100000, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    g_assert_cmpint(bm_status(&f), ==, 0x00);
    g_assert_cmpint(inb(&f, CTL) & 0x08, ==, 0x08);
    /* Region crossing a 64 KiB boundary wraps inside its page. */
    outb(&f, BM, 0);
    outb(&f, CTL, 0x04);
    outb(&f, CTL, 0x00);
    memset(ram + 0x80000, 0, 0x20000);
    prd(&f, 0x1000, 0x8ff00, 512, true);
    lba28_cmd(&f, 0xc8, 3, 1);
    bm_start(&f, 0x1000, true);
    run_clock(&f, HG_IDE_DMA_DELAY_NS);
    uint8_t want[512];
    fill_sector(want, 3);
    g_assert_cmpmem(ram + 0x8ff00, 256, want, 256);
    g_assert_cmpmem(ram + 0x80000, 256, want + 256, 256);
    g_assert_cmpint(ram[0x90000], ==, 0);
    outb(&f, BM, 0);
    /* Register fuzz: the engine keeps to its 16 ports and its bits. */
    for (int i = 0; i < 16; i++)
        outb(&f, BM + i, 0xff);
    g_assert_cmpint(inb(&f, BM), ==, 0x09);
    g_assert_cmpint(inb(&f, BM + 4), ==, 0xfc);
    outb(&f, BM, 0);
    /* BAR4 moves: the old ports stop answering. */
    hg_ide_bmdma_set_base(f.bm, 0xd000);
    g_assert_cmpint(inb(&f, BM + 4), ==, 0xff);
    g_assert_cmpint(inb(&f, 0xd004), ==, 0xfc);
    hg_ide_bmdma_set_base(f.bm, 0);
    g_assert_cmpint(inb(&f, 0xd004), ==, 0xff);
    hg_ide_bmdma_set_base(f.bm, BM);
    g_assert_cmpint(inb(&f, BM + 4), ==, 0xfc);
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

static void load(Fx *f, GBytes *b)
{
    HgStateReader r;
    gsize len;
    const void *data = g_bytes_get_data(b, &len);
    hg_state_reader_init(&r, data, len);
    hg_ide_channel_load(f->ch, &r);
    hg_ide_bmdma_load(f->bm, &r);
    g_assert_no_error(r.error);
}

/* A second machine on the same image, with the first one's RAM. */
static void fx_clone(Fx *g, const Fx *f)
{
    memset(g, 0, sizeof(*g));
    g->bus = hg_bus_new(RAM);
    memcpy(hg_bus_ram(g->bus), hg_bus_ram(f->bus), RAM);
    g->insns = f->insns;
    g->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, g);
    g->path = g_strdup(f->path);
    fx_attach(g, false);
}

static void test_save_load(void)
{
    Fx f, g;
    fx_init(&f, DISK_SECTORS);
    uint8_t buf[512];
    /* Mid-PIO read with multiple mode: one and a half sectors read. */
    outb(&f, CMD + 2, 2);
    outb(&f, CMD + 7, 0xc6);
    lba28_cmd(&f, 0xc4, 400, 4);
    read_block(&f, buf, 512);
    read_block(&f, buf, 256);
    GBytes *b = save(&f);
    fx_clone(&g, &f);
    load(&g, b);
    g_bytes_unref(b);
    read_block(&g, buf + 256, 256);
    check_sector(buf, 401);
    read_block(&g, buf, 512);
    check_sector(buf, 402);
    read_block(&g, buf, 512);
    check_sector(buf, 403);
    g_assert_cmpint(inb(&g, CMD + 7), ==, 0x50);
    hg_ide_bmdma_free(g.bm);
    hg_ide_channel_free(g.ch);
    hg_clock_free(g.clock);
    hg_bus_free(g.bus);
    g_free(g.path);

    /* Mid-DMA: the transfer is pending on its timer when saved. */
    outb(&f, BM + 2, 0x06); /* PIO interrupts set the bit too: clear it, as Linux does */
    prd(&f, 0x1000, 0x10000, 1024, true);
    lba28_cmd(&f, 0xc8, 500, 2);
    bm_start(&f, 0x1000, true);
    run_clock(&f, 100);
    b = save(&f);
    fx_clone(&g, &f);
    load(&g, b);
    g_bytes_unref(b);
    run_clock(&g, HG_IDE_DMA_DELAY_NS - 101);
    g_assert_cmpint(bm_status(&g), ==, 0x01);
    run_clock(&g, 1);
    g_assert_cmpint(bm_status(&g), ==, 0x04);
    g_assert_cmpint(g.irq_level, ==, 1);
    check_sector(hg_bus_ram(g.bus) + 0x10200, 501);

    /* A corrupt section is refused and leaves nothing dangerous behind. */
    b = save(&g);
    gsize len;
    const void *good = g_bytes_get_data(b, &len);
    uint8_t *bad = g_memdup2(good, len);
    for (gsize i = 40; i < len; i += 3)
        bad[i] ^= 0xa5;
    HgStateReader r;
    hg_state_reader_init(&r, bad, len);
    hg_ide_channel_load(g.ch, &r);
    hg_ide_bmdma_load(g.bm, &r);
    g_clear_error(&r.error);
    for (int i = 0; i < 4096; i++)
        hg_bus_in(g.bus, CMD, 2);
    outb(&g, CMD + 7, 0x90);
    run_clock(&g, HG_IDE_DMA_DELAY_NS);
    g_free(bad);
    g_bytes_unref(b);
    hg_ide_bmdma_free(g.bm);
    hg_ide_channel_free(g.ch);
    hg_clock_free(g.clock);
    hg_bus_free(g.bus);
    g_free(g.path);
    fx_free(&f);
}

/* Random programming of every register, with a CD-ROM as slave, random guest memory for
 * the PRD tables and state round trips in between: nothing may crash or hang (run under
 * the sanitizers by make check). Deterministic seed. */
static void test_fuzz(void)
{
    Fx f;
    fx_init(&f, DISK_SECTORS);
    char *iso = make_image(64, 0);
    GError *err = NULL;
    g_assert_true(hg_ide_attach_cdrom(f.ch, 1, hg_block_open(iso, NULL, true, NULL), &err));
    GRand *rnd = g_rand_new_with_seed(1234);
    uint8_t *ram = hg_bus_ram(f.bus);
    for (uint32_t i = 0; i < RAM; i += 4) {
        uint32_t v = g_rand_int(rnd);
        memcpy(ram + i, &v, 4);
    }
    static const uint8_t cmds[] = {0x20, 0x24, 0x30, 0x34, 0xc4, 0xc5, 0xc6, 0xc8, 0x25,
                                   0xca, 0x35, 0xec, 0xa1, 0xa0, 0x08, 0x90, 0xef, 0x91,
                                   0x40, 0xe7, 0xe5, 0xf8, 0x27, 0x00, 0xff};
    static const uint8_t ops[] = {0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0xa8, 0xbe,
                                  0x43, 0x46, 0x4a, 0x51, 0x5a, 0xbb, 0xbd, 0x2b, 0xad};
    for (int i = 0; i < 200000; i++) {
        uint32_t r = g_rand_int(rnd), v = g_rand_int(rnd);
        switch (r % 16) {
        case 0: outb(&f, CMD + 7, cmds[v % sizeof(cmds)]); break;
        case 1:
        case 2: outb(&f, (uint16_t)(CMD + 1 + v % 6), (uint8_t)(v >> 8)); break;
        case 3: /* a packet: an opcode and random bytes */
            hg_bus_out(f.bus, CMD, ops[v % sizeof(ops)] | (v & 0xff00), 2);
            for (int k = 0; k < 5; k++)
                hg_bus_out(f.bus, CMD, g_rand_int(rnd) & 0xffff, 2);
            break;
        case 4:
        case 5:
        case 6:
            for (int k = 0; k < (int)(v % 600); k++)
                hg_bus_in(f.bus, CMD, 2 << (r >> 30 & 1));
            break;
        case 7: hg_bus_out(f.bus, CMD, v, 2 << (r >> 30 & 1)); break;
        case 8:
            inb(&f, (uint16_t)(CMD + v % 8));
            inb(&f, CTL);
            break;
        case 9:
            if ((v & 7) == 0)
                outb(&f, CTL, (uint8_t)v);
            break;
        case 10:
        case 11: hg_bus_out(f.bus, (uint16_t)(BM + v % 16), v >> 8, 1 << (r >> 30) % 3); break;
        case 12: hg_bus_in(f.bus, (uint16_t)(BM + v % 16), 1 << (r >> 30) % 3); break;
        case 13: run_clock(&f, v % (2 * HG_IDE_DMA_DELAY_NS)); break;
        case 14:
            if ((v & 255) == 0) {
                GBytes *b = save(&f);
                load(&f, b);
                g_bytes_unref(b);
            } else if ((v & 255) == 1) {
                if (hg_ide_cdrom_has_medium(f.ch, 1))
                    hg_ide_cdrom_eject(f.ch, 1, v & 256, NULL);
                else
                    hg_ide_cdrom_insert(f.ch, 1, hg_block_open(iso, NULL, true, NULL), NULL);
            }
            break;
        default: hg_bus_out(f.bus, (uint16_t)(BM + 4 + (v & 8)), v & 0x3ffff8, 4); break;
        }
    }
    g_rand_free(rnd);
    fx_free(&f);
    g_unlink(iso);
    g_free(iso);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ide/identify", test_identify);
    g_test_add_func("/ide/pio-read-write", test_pio_read_write);
    g_test_add_func("/ide/multiple", test_multiple);
    g_test_add_func("/ide/lba48", test_lba48);
    g_test_add_func("/ide/errors", test_errors);
    g_test_add_func("/ide/dma", test_dma);
    g_test_add_func("/ide/dma-hostile", test_dma_hostile);
    g_test_add_func("/ide/save-load", test_save_load);
    g_test_add_func("/ide/fuzz", test_fuzz);
    return g_test_run();
}
