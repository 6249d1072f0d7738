/* Unit tests of the PCI bus, the i440FX host bridge (PAM), the PIIX3 PIRQ routing and the
 * reset ports (engine/hw/pci.c, i440fx.c, piix3.c, resetctl.c), driven through the I/O
 * ports the way SeaBIOS's pciinit.c and shadow.c do. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "hw/i440fx.h"
#include "hw/pci.h"
#include "hw/piix3.h"
#include "hw/resetctl.h"
#include "state.h"

typedef struct TestDev {
    HgPciDevice *pci;
    uint32_t last_io_off, last_mmio_off, last_value;
    int io_writes, mmio_writes;
    int bar_events;
} TestDev;

typedef struct Board {
    HgBus *bus;
    HgPciBus *pci;
    HgI440fx *nb;
    HgPiix3 *sb;
    HgResetCtl *rc;
    TestDev dev;
    bool irq[16];
    int irq_changes;
    int map_changes;
    int resets, hard_resets;
    int a20;
} Board;

static void irq_set(void *opaque, int n, bool level)
{
    Board *b = opaque;
    b->irq[n] = level;
    b->irq_changes++;
}

static void map_changed(void *opaque)
{
    ((Board *)opaque)->map_changes++;
}

static void reset_req(void *opaque, bool hard)
{
    Board *b = opaque;
    b->resets++;
    b->hard_resets += hard;
}

static void a20_set(void *opaque, bool on)
{
    ((Board *)opaque)->a20 = on;
}

static uint32_t dev_io_read(void *opaque, uint32_t addr, int size)
{
    TestDev *d = opaque;
    d->last_io_off = addr;
    return size == 1 ? addr & 0xff : 0xab00 | addr;
}

static void dev_io_write(void *opaque, uint32_t addr, uint32_t value, int size)
{
    TestDev *d = opaque;
    (void)size;
    d->last_io_off = addr;
    d->last_value = value;
    d->io_writes++;
}

static uint32_t dev_mmio_read(void *opaque, uint32_t addr, int size)
{
    TestDev *d = opaque;
    (void)size;
    d->last_mmio_off = addr;
    return 0x12340000 | addr;
}

static void dev_mmio_write(void *opaque, uint32_t addr, uint32_t value, int size)
{
    TestDev *d = opaque;
    (void)size;
    d->last_mmio_off = addr;
    d->last_value = value;
    d->mmio_writes++;
}

static void dev_bar_hook(void *opaque, int bar, uint32_t addr)
{
    (void)bar;
    (void)addr;
    ((TestDev *)opaque)->bar_events++;
}

static const uint8_t rom_image[5] = {0x55, 0xaa, 0x01, 0x02, 0x03};

static void board_init(Board *b)
{
    memset(b, 0, sizeof(*b));
    b->bus = hg_bus_new(2u << 20);
    hg_bus_set_map_changed(b->bus, map_changed, b);
    /* The BIOS low alias, as machine.c maps it: a pattern per 64 KiB. */
    uint8_t *bios = g_malloc(0x20000);
    for (int i = 0; i < 0x20000; i++)
        bios[i] = (uint8_t)(0xe0 + (i >> 16));
    hg_bus_map_rom(b->bus, 0xe0000, bios, 0x20000);
    g_free(bios);
    b->pci = hg_pci_new(b->bus);
    b->nb = hg_i440fx_new(b->pci, 2u << 20);
    HgIrq irqs[16];
    for (int i = 0; i < 16; i++)
        irqs[i] = hg_irq(irq_set, b, i);
    b->sb = hg_piix3_new(b->pci, irqs);
    b->rc = hg_resetctl_new(b->bus, reset_req, a20_set, b);
    TestDev *d = &b->dev;
    d->pci = hg_pci_register(b->pci, HG_PCI_DEVFN(3, 0), 0x10ec, 0x8029, 0, 0x020000, d);
    hg_pci_config(d->pci)[HG_PCI_INTERRUPT_PIN] = 1;
    hg_pci_set_bar(d->pci, 0, 256, HG_PCI_BAR_IO, dev_io_read, dev_io_write);
    hg_pci_set_bar(d->pci, 1, 4096, HG_PCI_BAR_MEM, dev_mmio_read, dev_mmio_write);
    hg_pci_set_rom(d->pci, rom_image, sizeof(rom_image));
    hg_pci_set_bar_hook(d->pci, dev_bar_hook);
}

static void board_free(Board *b)
{
    hg_resetctl_free(b->rc);
    hg_piix3_free(b->sb);
    hg_i440fx_free(b->nb);
    hg_pci_free(b->pci);
    hg_bus_free(b->bus);
}

/* Mechanism #1 as SeaBIOS's pci_config_* functions use it. */
static void cfg_addr(Board *b, int bdf, int off)
{
    hg_bus_out(b->bus, 0xcf8, 0x80000000u | (uint32_t)bdf << 8 | (off & 0xfc), 4);
}

static uint32_t cfg_readl(Board *b, int bdf, int off)
{
    cfg_addr(b, bdf, off);
    return hg_bus_in(b->bus, 0xcfc, 4);
}

static uint32_t cfg_readw(Board *b, int bdf, int off)
{
    cfg_addr(b, bdf, off);
    return hg_bus_in(b->bus, 0xcfc + (off & 2), 2);
}

static uint32_t cfg_readb(Board *b, int bdf, int off)
{
    cfg_addr(b, bdf, off);
    return hg_bus_in(b->bus, 0xcfc + (off & 3), 1);
}

static void cfg_writel(Board *b, int bdf, int off, uint32_t v)
{
    cfg_addr(b, bdf, off);
    hg_bus_out(b->bus, 0xcfc, v, 4);
}

static void cfg_writew(Board *b, int bdf, int off, uint32_t v)
{
    cfg_addr(b, bdf, off);
    hg_bus_out(b->bus, 0xcfc + (off & 2), v, 2);
}

static void cfg_writeb(Board *b, int bdf, int off, uint32_t v)
{
    cfg_addr(b, bdf, off);
    hg_bus_out(b->bus, 0xcfc + (off & 3), v, 1);
}

static void test_enumerate(void)
{
    Board b;
    board_init(&b);
    /* Mechanism #1 detection as Linux's pci_check_type1 does it. */
    hg_bus_out(b.bus, 0xcf8, 0x80000000u, 4);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcf8, 4), ==, 0x80000000u);
    GString *found = g_string_new(NULL);
    for (int bdf = 0; bdf < 256; bdf++) {
        if ((bdf & 7) && !(cfg_readb(&b, bdf & ~7, HG_PCI_HEADER_TYPE) & 0x80))
            continue; /* only multi-function devices have functions 1-7 */
        uint32_t id = cfg_readl(&b, bdf, 0);
        if (id == 0xffffffffu || id == 0)
            continue;
        g_string_append_printf(found, "%02x.%d=%08x ", bdf >> 3, bdf & 7, id);
    }
    g_assert_cmpstr(found->str, ==, "00.0=12378086 01.0=70008086 03.0=802910ec ");
    g_string_free(found, TRUE);
    /* Bus 1 is empty; so is everything with the enable bit clear. */
    g_assert_cmphex(cfg_readl(&b, 0x100, 0), ==, 0xffffffffu);
    hg_bus_out(b.bus, 0xcf8, 0, 4);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcfc, 4), ==, 0xffffffffu);
    /* QEMU's subsystem IDs, which SeaBIOS's qemu_detect checks at 00:00.0. */
    g_assert_cmphex(cfg_readl(&b, 0, HG_PCI_SUBSYSTEM_VENDOR), ==, 0x11001af4);
    g_assert_cmphex(cfg_readw(&b, 0, HG_PCI_COMMAND), ==, 0x0006);
    g_assert_cmphex(cfg_readw(&b, 0, HG_PCI_STATUS), ==, 0x0280);
    g_assert_cmphex(cfg_readb(&b, 0, HG_PCI_REVISION), ==, 0x02);
    g_assert_cmphex(cfg_readw(&b, 0, 0x0a), ==, 0x0600);
    g_assert_cmphex(cfg_readb(&b, 0, 0x72), ==, 0x02);
    g_assert_cmphex(cfg_readw(&b, 8, 0x0a), ==, 0x0601);
    g_assert_cmphex(cfg_readb(&b, 8, HG_PCI_HEADER_TYPE), ==, 0x80);
    g_assert_cmphex(cfg_readl(&b, 8, 0x60), ==, 0x80808080u);
    /* Byte and word accesses at every offset of the window. */
    cfg_addr(&b, 0x18, 0);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcfd, 1), ==, 0x10);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcfe, 2), ==, 0x8029);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcff, 1), ==, 0x80);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcfd, 2), ==, 0x2910);
    /* A word at 0xCFF straddles the window: the byte past it floats. */
    g_assert_cmphex(hg_bus_in(b.bus, 0xcff, 2), ==, 0xff80);
    /* IDs are read-only. */
    cfg_writel(&b, 0x18, 0, 0);
    g_assert_cmphex(cfg_readl(&b, 0x18, 0), ==, 0x802910ec);
    board_free(&b);
}

static void test_bars(void)
{
    Board b;
    board_init(&b);
    int bdf = 0x18;
    /* Sizing, as pci_bios_get_bar: save, write ones, read, restore. */
    g_assert_cmphex(cfg_readl(&b, bdf, 0x10), ==, 0x1);
    cfg_writel(&b, bdf, 0x10, 0xffffffffu);
    g_assert_cmphex(cfg_readl(&b, bdf, 0x10), ==, 0xffffff01u);
    cfg_writel(&b, bdf, 0x14, 0xffffffffu);
    g_assert_cmphex(cfg_readl(&b, bdf, 0x14), ==, 0xfffff000u);
    cfg_writel(&b, bdf, 0x18, 0xffffffffu);
    g_assert_cmphex(cfg_readl(&b, bdf, 0x18), ==, 0);
    cfg_writel(&b, bdf, 0x30, 0xfffffffeu);
    g_assert_cmphex(cfg_readl(&b, bdf, 0x30), ==, 0xfffff800u);
    g_assert_cmpint(b.dev.bar_events, ==, 0); /* decoding is still off */
    /* Assignment, then enable decoding. */
    cfg_writel(&b, bdf, 0x10, 0xc000);
    cfg_writel(&b, bdf, 0x14, 0xfeb00000u);
    cfg_writel(&b, bdf, 0x30, 0xfeb10000u);
    g_assert_cmphex(hg_bus_in(b.bus, 0xc010, 2), ==, 0xffff);
    int maps = b.map_changes;
    cfg_writew(&b, bdf, HG_PCI_COMMAND, HG_PCI_CMD_IO | HG_PCI_CMD_MEM);
    g_assert_cmpint(b.map_changes, >, maps);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 0), ==, 0xc000);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 1), ==, 0xfeb00000u);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, HG_PCI_ROM_BAR), ==, HG_PCI_BAR_UNMAPPED);
    g_assert_cmphex(hg_bus_in(b.bus, 0xc010, 2), ==, 0xab10);
    hg_bus_out(b.bus, 0xc0ff, 0x5a, 1);
    g_assert_cmpint(b.dev.last_io_off, ==, 0xff);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfeb00ffc, 4), ==, 0x12340ffc);
    hg_bus_write(b.bus, 0xfeb00008, 0xcafe, 2);
    g_assert_cmpint(b.dev.last_mmio_off, ==, 8);
    g_assert_cmphex(b.dev.last_value, ==, 0xcafe);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfeb01000, 4), ==, 0xffffffffu);
    /* The ROM BAR decodes once its enable bit is set. */
    cfg_writel(&b, bdf, 0x30, 0xfeb10001u);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfeb10000u, 2), ==, 0xaa55);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfeb10004u, 1), ==, 0x03);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfeb10005u, 1), ==, 0xff);
    /* Moving: the new address reaches the device, the old one nothing. */
    cfg_writel(&b, bdf, 0x10, 0xc100);
    g_assert_cmphex(hg_bus_in(b.bus, 0xc010, 2), ==, 0xffff);
    g_assert_cmphex(hg_bus_in(b.bus, 0xc104, 1), ==, 0x04);
    cfg_writel(&b, bdf, 0x14, 0xfe000000u);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfeb00000u, 4), ==, 0xffffffffu);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfe000010u, 4), ==, 0x12340010);
    /* Byte writes to a BAR (Linux never does this, but it must not break anything). */
    cfg_writeb(&b, bdf, 0x11, 0xc2);
    g_assert_cmphex(cfg_readl(&b, bdf, 0x10), ==, 0xc201);
    g_assert_cmphex(hg_bus_in(b.bus, 0xc200, 1), ==, 0x00);
    /* Decoding off: everything goes away. */
    cfg_writew(&b, bdf, HG_PCI_COMMAND, 0);
    g_assert_cmphex(hg_bus_in(b.bus, 0xc200, 1), ==, 0xff);
    g_assert_cmphex(hg_bus_read(b.bus, 0xfe000010u, 4), ==, 0xffffffffu);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 0), ==, HG_PCI_BAR_UNMAPPED);
    board_free(&b);
}

static void test_hostile_bars(void)
{
    Board b;
    board_init(&b);
    int bdf = 0x18;
    cfg_writew(&b, bdf, HG_PCI_COMMAND, HG_PCI_CMD_IO | HG_PCI_CMD_MEM);
    /* A BAR over the configuration ports does not hide them. */
    cfg_writel(&b, bdf, 0x10, 0xcf00);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 0), ==, 0xcf00);
    g_assert_cmphex(cfg_readl(&b, bdf, 0x10), ==, 0xcf01);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcf00, 1), ==, 0x00);
    /* One reaching past 64 KiB is not decoded. */
    cfg_writel(&b, bdf, 0x10, 0xffffff01u & 0xffff00);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 0), ==, HG_PCI_BAR_UNMAPPED);
    /* A memory BAR over RAM does not hide RAM. */
    hg_bus_ram(b.bus)[0x100000] = 0x77;
    cfg_writel(&b, bdf, 0x14, 0x100000);
    g_assert_cmphex(hg_bus_read(b.bus, 0x100000, 1), ==, 0x77);
    /* The all-ones sizing value and address 0 are never decoded. */
    cfg_writel(&b, bdf, 0x14, 0xffffffffu);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 1), ==, HG_PCI_BAR_UNMAPPED);
    cfg_writel(&b, bdf, 0x14, 0);
    g_assert_cmphex(hg_pci_bar_addr(b.dev.pci, 1), ==, HG_PCI_BAR_UNMAPPED);
    /* Offsets past the space, absent functions, bus numbers. */
    g_assert_cmphex(hg_pci_config_read(b.pci, 0x18, 254, 4), ==, 0xffffffffu);
    hg_pci_config_write(b.pci, 0x18, 255, 0xffffffff, 4);
    hg_pci_config_write(b.pci, 0xffff, 0, 0, 4);
    cfg_writel(&b, 0x7f18, 0x10, 0x1234);
    /* Odd widths at CONFIG_ADDRESS neither latch nor crash. */
    hg_bus_out(b.bus, 0xcf8, 0x12, 1);
    hg_bus_out(b.bus, 0xcfa, 0x1234, 2);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcf8, 4), ==, 0x807f1810u);
    board_free(&b);
}

static void test_pam(void)
{
    Board b;
    board_init(&b);
    bool w;
    /* At reset the BIOS ROM shows at 0xE0000-0xFFFFF and shadow RAM is hidden. */
    g_assert_cmphex(hg_bus_read(b.bus, 0xf0000, 1), ==, 0xe1);
    g_assert_nonnull(hg_bus_page(b.bus, 0xf0000, &w));
    g_assert_false(w);
    g_assert_cmphex(hg_bus_read(b.bus, 0xc0000, 1), ==, 0xff);
    hg_bus_write(b.bus, 0xf0000, 0x11, 1);
    g_assert_cmphex(hg_bus_ram(b.bus)[0xf0000], ==, 0);
    /* __make_bios_writable_intel: PAM0 0x30, PAM1-6 0x33, as two dword writes. */
    g_assert_cmphex(cfg_readb(&b, 0, 0x59), ==, 0);
    int maps = b.map_changes;
    uint32_t lo = cfg_readl(&b, 0, 0x58);
    cfg_writel(&b, 0, 0x58, (lo & 0xff) | 0x30u << 8 | 0x33u << 16 | 0x33u << 24);
    cfg_writel(&b, 0, 0x5c, 0x33333333u);
    g_assert_cmpint(b.map_changes, >, maps);
    g_assert_cmphex(cfg_readl(&b, 0, 0x58), ==, 0x33333010u);
    g_assert_cmphex(hg_bus_read(b.bus, 0xf0000, 1), ==, 0x00);
    uint8_t *p = hg_bus_page(b.bus, 0xf0000, &w);
    g_assert_true(p == hg_bus_ram(b.bus) + 0xf0000);
    g_assert_true(w);
    /* The copy from the high flash alias (here: the test writes the bytes). */
    for (uint32_t a = 0xe0000; a < 0x100000; a += 0x1000)
        hg_bus_write(b.bus, a, 0xe0 + ((a - 0xe0000) >> 16), 1);
    g_assert_cmphex(hg_bus_read(b.bus, 0xf0000, 1), ==, 0xe1);
    hg_bus_write(b.bus, 0xc0000, 0x55aa, 2);
    g_assert_cmphex(hg_bus_read(b.bus, 0xc0000, 2), ==, 0x55aa);
    /* make_bios_readonly: 0x11 for the option ROM space, 0x10 for 0xF0000. */
    for (int i = 1; i < 7; i++)
        cfg_writeb(&b, 0, 0x59 + i, 0x11);
    cfg_writeb(&b, 0, 0x59, 0x10);
    hg_bus_write(b.bus, 0xf0000, 0x99, 1);
    hg_bus_write(b.bus, 0xc0000, 0x1234, 2);
    g_assert_cmphex(hg_bus_read(b.bus, 0xf0000, 1), ==, 0xe1);
    g_assert_cmphex(hg_bus_read(b.bus, 0xc0000, 2), ==, 0x55aa);
    p = hg_bus_page(b.bus, 0xf0000, &w);
    g_assert_true(p == hg_bus_ram(b.bus) + 0xf0000);
    g_assert_false(w);
    /* Device DMA honours the write protection too. */
    uint8_t zero[4] = {0};
    g_assert_true(hg_bus_dma_write(b.bus, 0xf0000, zero, 4));
    g_assert_cmphex(hg_bus_read(b.bus, 0xf0000, 1), ==, 0xe1);
    /* Reserved PAM0 bits stay 0; a 16 KiB segment is independent of its neighbour. */
    cfg_writeb(&b, 0, 0x59, 0xff);
    g_assert_cmphex(cfg_readb(&b, 0, 0x59), ==, 0x30);
    cfg_writeb(&b, 0, 0x5a, 0x03);
    hg_bus_write(b.bus, 0xc0000, 0x42, 1);
    hg_bus_write(b.bus, 0xc4000, 0x42, 1);
    g_assert_cmphex(hg_bus_read(b.bus, 0xc0000, 1), ==, 0x42);
    g_assert_cmphex(hg_bus_read(b.bus, 0xc4000, 1), ==, 0xff);
    g_assert_cmphex(hg_bus_ram(b.bus)[0xc4000], ==, 0x00);
    hg_bus_write(b.bus, 0xc0000, 0xaa, 1);
    /* Save, then restore into a fresh machine: the map comes back. */
    HgStateWriter wr;
    hg_state_writer_init(&wr);
    hg_pci_save(b.pci, &wr);
    hg_i440fx_save(b.nb, &wr);
    GBytes *st = hg_state_writer_finish(&wr);
    Board c;
    board_init(&c);
    memcpy(hg_bus_ram(c.bus), hg_bus_ram(b.bus), 2u << 20);
    HgStateReader rd;
    gsize len;
    const void *data = g_bytes_get_data(st, &len);
    hg_state_reader_init(&rd, data, len);
    hg_pci_load(c.pci, &rd);
    hg_i440fx_load(c.nb, &rd);
    g_assert_true(hg_state_ok(&rd));
    g_assert_cmphex(hg_bus_read(c.bus, 0xc0000, 2), ==, 0x55aa);
    g_assert_cmphex(hg_bus_read(c.bus, 0xc4000, 1), ==, 0xff);
    g_assert_cmphex(hg_bus_read(c.bus, 0xc8000, 1), ==, 0x00); /* 0x11: RAM, read-only */
    hg_bus_write(c.bus, 0xc8000, 0x99, 1);
    g_assert_cmphex(hg_bus_read(c.bus, 0xc8000, 1), ==, 0x00);
    hg_bus_write(c.bus, 0xf0000, 0x99, 1); /* PAM0 0x30 */
    g_assert_cmphex(hg_bus_read(c.bus, 0xf0000, 1), ==, 0x99);
    board_free(&c);
    g_bytes_unref(st);
    /* System reset: PAM back to 0, ROM visible again. */
    hg_i440fx_reset(b.nb);
    hg_pci_reset(b.pci);
    g_assert_cmphex(cfg_readb(&b, 0, 0x59), ==, 0);
    g_assert_cmphex(hg_bus_read(b.bus, 0xc0000, 2), ==, 0xffff);
    board_free(&b);
}

static void test_smram(void)
{
    Board b;
    board_init(&b);
    cfg_writeb(&b, 0, 0x72, 0x4a);
    g_assert_cmphex(cfg_readb(&b, 0, 0x72), ==, 0x4a);
    cfg_writeb(&b, 0, 0x72, 0x0a | 0x10); /* lock */
    g_assert_cmphex(cfg_readb(&b, 0, 0x72), ==, 0x1a);
    cfg_writeb(&b, 0, 0x72, 0x4a); /* cannot open or unlock now */
    g_assert_cmphex(cfg_readb(&b, 0, 0x72), ==, 0x1a);
    hg_i440fx_reset(b.nb);
    hg_pci_reset(b.pci);
    g_assert_cmphex(cfg_readb(&b, 0, 0x72), ==, 0x02);
    board_free(&b);
}

static void test_pirq(void)
{
    Board b;
    board_init(&b);
    int bdf = 0x18;
    /* pci_bios_init_platform / piix_isa_bridge_setup: PIRQA-D = 10, 10, 11, 11. */
    cfg_writel(&b, 8, 0x60, 0x0b0b0a0a);
    /* Slot 3, INTA: PIRQ (0 + 3 - 1) & 3 = C -> IRQ 11. */
    g_assert_cmpint(cfg_readb(&b, bdf, HG_PCI_INTERRUPT_PIN), ==, 1);
    hg_pci_set_irq(b.dev.pci, true);
    g_assert_true(b.irq[11]);
    g_assert_false(b.irq[10]);
    g_assert_cmphex(cfg_readw(&b, bdf, HG_PCI_STATUS) & HG_PCI_STATUS_INTERRUPT, ==, 8);
    /* Rerouting moves the level. */
    cfg_writeb(&b, 8, 0x62, 0x05);
    g_assert_false(b.irq[11]);
    g_assert_true(b.irq[5]);
    /* Disabled route, reserved IRQs. */
    cfg_writeb(&b, 8, 0x62, 0x85);
    g_assert_false(b.irq[5]);
    cfg_writeb(&b, 8, 0x62, 0x02);
    g_assert_false(b.irq[2]);
    cfg_writeb(&b, 8, 0x62, 0x0b);
    g_assert_true(b.irq[11]);
    /* INTx disable masks the pin but leaves the status bit. */
    cfg_writew(&b, bdf, HG_PCI_COMMAND, HG_PCI_CMD_INTX_DISABLE);
    g_assert_false(b.irq[11]);
    g_assert_cmphex(cfg_readw(&b, bdf, HG_PCI_STATUS) & HG_PCI_STATUS_INTERRUPT, ==, 8);
    cfg_writew(&b, bdf, HG_PCI_COMMAND, 0);
    g_assert_true(b.irq[11]);
    hg_pci_set_irq(b.dev.pci, false);
    g_assert_false(b.irq[11]);
    /* Two PIRQs on one IRQ: the line stays up while either is. */
    cfg_writel(&b, 8, 0x60, 0x0b0b0b0b);
    HgPciDevice *d2 = hg_pci_register(b.pci, HG_PCI_DEVFN(4, 0), 0x1234, 0x5678, 0, 0xff0000, NULL);
    hg_pci_config(d2)[HG_PCI_INTERRUPT_PIN] = 1; /* slot 4 INTA -> PIRQD */
    hg_pci_set_irq(b.dev.pci, true);
    hg_pci_set_irq(d2, true);
    hg_pci_set_irq(b.dev.pci, false);
    g_assert_true(b.irq[11]);
    hg_pci_set_irq(d2, false);
    g_assert_false(b.irq[11]);
    board_free(&b);
}

static void test_reset_ports(void)
{
    Board b;
    board_init(&b);
    hg_bus_out(b.bus, 0xcf9, 0x02, 1);
    g_assert_cmpint(b.resets, ==, 0);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcf9, 1), ==, 0x02);
    hg_bus_out(b.bus, 0xcf9, 0x06, 1);
    g_assert_cmpint(b.resets, ==, 1);
    g_assert_cmpint(b.hard_resets, ==, 1);
    /* 0xCF9 is a byte port between CONFIG_ADDRESS bytes: the dword register is intact. */
    cfg_addr(&b, 0x18, 0);
    hg_bus_out(b.bus, 0xcf9, 0x00, 1);
    g_assert_cmphex(hg_bus_in(b.bus, 0xcfc, 2), ==, 0x10ec);
    hg_bus_out(b.bus, 0x92, 0x02, 1);
    g_assert_cmpint(b.a20, ==, 1);
    g_assert_cmphex(hg_bus_in(b.bus, 0x92, 1), ==, 0x02);
    hg_bus_out(b.bus, 0x92, 0x03, 1);
    g_assert_cmpint(b.resets, ==, 2);
    g_assert_cmpint(b.hard_resets, ==, 1);
    g_assert_cmphex(hg_bus_in(b.bus, 0x92, 1), ==, 0x02);
    hg_bus_out(b.bus, 0x92, 0x00, 1);
    g_assert_cmpint(b.a20, ==, 0);
    board_free(&b);
}

static void test_save_load(void)
{
    Board b;
    board_init(&b);
    int bdf = 0x18;
    cfg_writel(&b, bdf, 0x10, 0xc000);
    cfg_writel(&b, bdf, 0x14, 0xfeb00000u);
    cfg_writew(&b, bdf, HG_PCI_COMMAND, 3);
    cfg_writel(&b, 8, 0x60, 0x0b0b0a0a);
    hg_pci_set_irq(b.dev.pci, true);
    HgStateWriter wr;
    hg_state_writer_init(&wr);
    hg_pci_save(b.pci, &wr);
    hg_piix3_save(b.sb, &wr);
    hg_resetctl_save(b.rc, &wr);
    GBytes *st = hg_state_writer_finish(&wr);
    board_free(&b);

    Board c;
    board_init(&c);
    gsize len;
    const uint8_t *data = g_bytes_get_data(st, &len);
    HgStateReader rd;
    hg_state_reader_init(&rd, data, len);
    hg_pci_load(c.pci, &rd);
    hg_piix3_load(c.sb, &rd);
    hg_resetctl_load(c.rc, &rd);
    g_assert_true(hg_state_ok(&rd));
    g_assert_cmphex(hg_bus_in(c.bus, 0xc010, 2), ==, 0xab10);
    g_assert_cmphex(hg_bus_read(c.bus, 0xfeb00010u, 4), ==, 0x12340010);
    g_assert_true(c.irq[11]);
    hg_pci_set_irq(c.dev.pci, false);
    g_assert_false(c.irq[11]);
    board_free(&c);

    /* A corrupted copy (every byte flipped in turn) loads or fails, never crashes. */
    uint8_t *bad = g_memdup2(data, len);
    for (gsize i = 0; i < len; i++) {
        Board d;
        board_init(&d);
        bad[i] ^= 0xff;
        hg_state_reader_init(&rd, bad, len);
        hg_pci_load(d.pci, &rd);
        hg_piix3_load(d.sb, &rd);
        hg_resetctl_load(d.rc, &rd);
        g_clear_error(&rd.error);
        for (int bdf2 = 0; bdf2 < 0x20; bdf2++)
            cfg_readl(&d, bdf2, 0);
        hg_pci_set_irq(d.dev.pci, true);
        hg_pci_set_irq(d.dev.pci, false);
        bad[i] ^= 0xff;
        board_free(&d);
    }
    g_free(bad);
    g_bytes_unref(st);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/enumerate", test_enumerate);
    g_test_add_func("/pci/bars", test_bars);
    g_test_add_func("/pci/hostile-bars", test_hostile_bars);
    g_test_add_func("/pci/pam", test_pam);
    g_test_add_func("/pci/smram", test_smram);
    g_test_add_func("/pci/pirq", test_pirq);
    g_test_add_func("/pci/reset-ports", test_reset_ports);
    g_test_add_func("/pci/save-load", test_save_load);
    return g_test_run();
}
