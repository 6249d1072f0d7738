/* Unit tests of fw_cfg (engine/hw/fw_cfg.c) through the selector/data ports and the DMA
 * interface, as SeaBIOS's paravirt.c reads it, plus hostile DMA descriptors. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "hw/fw_cfg.h"
#include "state.h"

enum { RAM = 16u << 20, DESC = 0x1000, BUF = 0x2000 };

typedef struct Fx {
    HgBus *bus;
    HgFwCfg *f;
    int ram_written;
} Fx;

static void ram_written(void *opaque, uint32_t addr, uint32_t len)
{
    (void)addr;
    (void)len;
    ((Fx *)opaque)->ram_written++;
}

static void fx_init(Fx *x)
{
    memset(x, 0, sizeof(*x));
    x->bus = hg_bus_new(RAM);
    hg_bus_set_ram_written(x->bus, ram_written, x);
    x->f = hg_fw_cfg_new(x->bus, 2);
    hg_fw_cfg_set_e820_ram(x->f, RAM);
    const char *order = "/pci@i0cf8/ide@1,1/drive@1/disk@0\n";
    hg_fw_cfg_add_file(x->f, "bootorder", order, (uint32_t)strlen(order));
}

static void fx_free(Fx *x)
{
    hg_fw_cfg_free(x->f);
    hg_bus_free(x->bus);
}

static void port_read(Fx *x, uint16_t key, void *buf, int len)
{
    hg_bus_out(x->bus, 0x510, key, 2);
    for (int i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = (uint8_t)hg_bus_in(x->bus, 0x511, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Starts a transfer with the descriptor at desc (64-bit) as SeaBIOS: outl(be32(addr)) to
 * 0x518 after the high half to 0x514. */
static void dma_kick(Fx *x, uint64_t desc)
{
    hg_bus_out(x->bus, 0x514, GUINT32_SWAP_LE_BE((uint32_t)(desc >> 32)), 4);
    hg_bus_out(x->bus, 0x518, GUINT32_SWAP_LE_BE((uint32_t)desc), 4);
}

/* Writes a descriptor at DESC and runs it; returns the control word written back. */
static uint32_t dma(Fx *x, uint32_t control, uint32_t length, uint64_t addr)
{
    uint8_t d[16];
    put_be32(d, control);
    put_be32(d + 4, length);
    put_be32(d + 8, (uint32_t)(addr >> 32));
    put_be32(d + 12, (uint32_t)addr);
    memcpy(hg_bus_ram(x->bus) + DESC, d, 16);
    dma_kick(x, DESC);
    return be32(hg_bus_ram(x->bus) + DESC);
}

/* Finds a file in the directory read through the ports. */
static int find_file(Fx *x, const char *name, uint32_t *size)
{
    uint8_t cnt[4];
    port_read(x, HG_FW_CFG_FILE_DIR, cnt, 4);
    uint32_t n = be32(cnt);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[64];
        for (int k = 0; k < 64; k++)
            e[k] = (uint8_t)hg_bus_in(x->bus, 0x511, 1);
        if (strcmp((char *)e + 8, name) == 0) {
            *size = be32(e);
            return e[4] << 8 | e[5];
        }
    }
    return -1;
}

static void test_ports(void)
{
    Fx x;
    fx_init(&x);
    char sig[5] = {0};
    port_read(&x, HG_FW_CFG_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    uint32_t id = 0;
    port_read(&x, HG_FW_CFG_ID, &id, 4);
    g_assert_cmphex(GUINT32_FROM_LE(id), ==, 3);
    uint16_t cpus = 0;
    port_read(&x, HG_FW_CFG_NB_CPUS, &cpus, 2);
    g_assert_cmpint(GUINT16_FROM_LE(cpus), ==, 2);
    uint16_t menu = 0xffff;
    port_read(&x, HG_FW_CFG_BOOT_MENU, &menu, 2);
    g_assert_cmpint(menu, ==, 0);
    /* The directory is sorted by name: "bootorder" before "etc/e820". */
    uint8_t dir[4 + 128];
    port_read(&x, HG_FW_CFG_FILE_DIR, dir, sizeof(dir));
    g_assert_cmpint(be32(dir), ==, 2);
    g_assert_cmpstr((char *)dir + 4 + 8, ==, "bootorder");
    g_assert_cmpstr((char *)dir + 68 + 8, ==, "etc/e820");
    uint32_t size;
    int key = find_file(&x, "etc/e820", &size);
    g_assert_cmpint(key, >=, HG_FW_CFG_FILE_FIRST);
    g_assert_cmpint(size, ==, 20);
    uint8_t e820[20];
    port_read(&x, (uint16_t)key, e820, 20);
    uint64_t base, len;
    uint32_t type;
    memcpy(&base, e820, 8);
    memcpy(&len, e820 + 8, 8);
    memcpy(&type, e820 + 16, 4);
    g_assert_cmphex(GUINT64_FROM_LE(base), ==, 0);
    g_assert_cmphex(GUINT64_FROM_LE(len), ==, RAM);
    g_assert_cmpint(GUINT32_FROM_LE(type), ==, 1);
    /* Past the end and unknown keys read zeros; data writes are ignored. */
    g_assert_cmpint(hg_bus_in(x.bus, 0x511, 1), ==, 0);
    hg_bus_out(x.bus, 0x510, 0x3fff, 2);
    g_assert_cmpint(hg_bus_in(x.bus, 0x511, 1), ==, 0);
    hg_bus_out(x.bus, 0x510, HG_FW_CFG_SIGNATURE | 0x4000, 2); /* write channel */
    hg_bus_out(x.bus, 0x511, 'X', 1);
    port_read(&x, HG_FW_CFG_SIGNATURE, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    /* The DMA register reads "QEMU CFG". */
    char dsig[9] = {0};
    for (int i = 0; i < 8; i++)
        dsig[i] = (char)hg_bus_in(x.bus, (uint16_t)(0x514 + i), 1);
    g_assert_cmpstr(dsig, ==, "QEMU CFG");
    /* Replacing a file keeps its key and updates the size. */
    int k2 = hg_fw_cfg_add_file(x.f, "bootorder", "x", 1);
    g_assert_cmpint(find_file(&x, "bootorder", &size), ==, k2);
    g_assert_cmpint(size, ==, 1);
    g_assert_cmpint(hg_fw_cfg_add_file(x.f,
                                       "a-name-that-is-far-too-long-for-the-56-byte-"
                                       "field-of-the-directory",
                                       "", 0),
                    ==, -1);
    fx_free(&x);
}

static void test_dma(void)
{
    Fx x;
    fx_init(&x);
    uint8_t *ram = hg_bus_ram(x.bus);
    /* qemu_cfg_read_entry with DMA: select + read. */
    uint32_t ctl = dma(&x, (uint32_t)HG_FW_CFG_SIGNATURE << 16 | 8 | 2, 4, BUF);
    g_assert_cmphex(ctl, ==, 0);
    g_assert_cmpmem(ram + BUF, 4, "QEMU", 4);
    g_assert_cmpint(x.ram_written, >, 0);
    /* The directory through DMA, then the e820 file by its key: skip 8 bytes, read. */
    uint32_t size;
    int key = find_file(&x, "etc/e820", &size);
    g_assert_cmphex(dma(&x, (uint32_t)key << 16 | 8 | 4, 8, 0), ==, 0);
    memset(ram + BUF, 0xee, 32);
    g_assert_cmphex(dma(&x, 2, 12, BUF), ==, 0); /* continues at offset 8 */
    uint64_t len;
    memcpy(&len, ram + BUF, 8);
    g_assert_cmphex(GUINT64_FROM_LE(len), ==, RAM);
    g_assert_cmpint(ram[BUF + 8], ==, 1);
    /* The file directory through DMA, as qemu_cfg_init reads it: count, then entries. */
    g_assert_cmphex(dma(&x, (uint32_t)HG_FW_CFG_FILE_DIR << 16 | 8 | 2, 4, BUF), ==, 0);
    g_assert_cmpint(be32(ram + BUF), ==, 2);
    g_assert_cmphex(dma(&x, 2, 128, BUF), ==, 0);
    g_assert_cmpstr((char *)ram + BUF + 64 + 8, ==, "etc/e820");
    g_assert_cmpint(ram[BUF + 64 + 4] << 8 | ram[BUF + 64 + 5], ==, key);
    g_assert_cmpint(be32(ram + BUF + 64), ==, 20);
    /* Reading past the end fills zeros. */
    memset(ram + BUF, 0xee, 32);
    g_assert_cmphex(dma(&x, (uint32_t)key << 16 | 8 | 2, 30, BUF), ==, 0);
    g_assert_cmpint(ram[BUF + 19], ==, 0);
    g_assert_cmpint(ram[BUF + 29], ==, 0);
    g_assert_cmpint(ram[BUF + 30], ==, 0xee);
    /* The port interface continues where DMA stopped (same selection and offset). */
    g_assert_cmphex(dma(&x, (uint32_t)HG_FW_CFG_SIGNATURE << 16 | 8 | 2, 2, BUF), ==, 0);
    g_assert_cmpint(hg_bus_in(x.bus, 0x511, 1), ==, 'M');
    /* An item bigger than a page, read to an unaligned address across pages. */
    uint8_t *big = g_malloc(10000);
    for (int i = 0; i < 10000; i++)
        big[i] = (uint8_t)(i * 7);
    hg_fw_cfg_add_bytes(x.f, HG_FW_CFG_KERNEL_DATA, big, 10000);
    g_assert_cmphex(dma(&x, (uint32_t)HG_FW_CFG_KERNEL_DATA << 16 | 8 | 2, 10000, 0x10123), ==, 0);
    g_assert_cmpmem(ram + 0x10123, 10000, big, 10000);
    g_free(big);
    fx_free(&x);
}

static void test_dma_hostile(void)
{
    Fx x;
    fx_init(&x);
    uint8_t *ram = hg_bus_ram(x.bus);
    /* Target beyond RAM, straddling its end, above 4 GiB, huge lengths: error bit, and no
     * byte written outside RAM (ASan would see it). */
    g_assert_cmphex(dma(&x, 8 | 2, 4, RAM), ==, 1);
    g_assert_cmphex(dma(&x, 8 | 2, 16, RAM - 8), ==, 1);
    g_assert_cmphex(dma(&x, 8 | 2, 4, 0x100000000ull), ==, 1);
    g_assert_cmphex(dma(&x, 8 | 2, 0xffffffffu, BUF), ==, 1);
    g_assert_cmphex(dma(&x, 8 | 2, 0xffffffffu, 0xffffffffffffff00ull), ==, 1);
    /* Skip over any length is harmless. */
    g_assert_cmphex(dma(&x, 8 | 4, 0xffffffffu, 0xffffffffffffff00ull), ==, 0);
    /* Writes are refused. */
    memcpy(ram + BUF, "EVIL", 4);
    g_assert_cmphex(dma(&x, 8 | 0x10, 4, BUF), ==, 1);
    char sig[5] = {0};
    port_read(&x, 0, sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    /* No operation bit: nothing moves, control cleared. */
    memset(ram + BUF, 0xee, 4);
    g_assert_cmphex(dma(&x, 8, 4, BUF), ==, 0);
    g_assert_cmpint(ram[BUF], ==, 0xee);
    /* Invalid key: zeros. */
    g_assert_cmphex(dma(&x, 0x3ffeu << 16 | 8 | 2, 4, BUF), ==, 0);
    g_assert_cmpint(ram[BUF], ==, 0);
    /* Descriptors outside RAM, across its end, above 4 GiB: ignored, no crash. */
    dma_kick(&x, RAM - 8);
    dma_kick(&x, RAM);
    dma_kick(&x, 0xfffffff8u);
    dma_kick(&x, 0x123456789abcdef0ull);
    /* The descriptor itself as the target, overlapping. */
    g_assert_cmphex(dma(&x, 8 | 2, 16, DESC), ==, 0);
    /* Partial DMA register writes: bytes, words, an odd start. */
    hg_bus_out(x.bus, 0x514, 0xff, 1);
    hg_bus_out(x.bus, 0x519, 0xffff, 2);
    hg_bus_out(x.bus, 0x51b, 0xff, 1); /* kicks with a garbage address */
    hg_bus_out(x.bus, 0x51a, 0xffffffff, 4);
    fx_free(&x);
}

static void test_linux(void)
{
    Fx x;
    fx_init(&x);
    GBytes *setup = g_bytes_new("SETUP", 5);
    GBytes *kernel = g_bytes_new("KERNEL", 6);
    hg_fw_cfg_set_linux(x.f, setup, 0x10000, kernel, 0x100000, NULL, 0, "console=ttyS0", 0x20000);
    uint32_t v = 0;
    port_read(&x, HG_FW_CFG_KERNEL_ADDR, &v, 4);
    g_assert_cmphex(GUINT32_FROM_LE(v), ==, 0x100000);
    port_read(&x, HG_FW_CFG_KERNEL_SIZE, &v, 4);
    g_assert_cmpint(GUINT32_FROM_LE(v), ==, 6);
    port_read(&x, HG_FW_CFG_SETUP_ADDR, &v, 4);
    g_assert_cmphex(GUINT32_FROM_LE(v), ==, 0x10000);
    port_read(&x, HG_FW_CFG_INITRD_SIZE, &v, 4);
    g_assert_cmpint(v, ==, 0);
    port_read(&x, HG_FW_CFG_CMDLINE_SIZE, &v, 4);
    g_assert_cmpint(GUINT32_FROM_LE(v), ==, 14);
    /* linuxboot_dma.bin reads each blob with one select + read descriptor. */
    g_assert_cmphex(dma(&x, (uint32_t)HG_FW_CFG_CMDLINE_DATA << 16 | 8 | 2, 14, 0x20000), ==, 0);
    g_assert_cmpstr((char *)hg_bus_ram(x.bus) + 0x20000, ==, "console=ttyS0");
    g_assert_cmphex(dma(&x, (uint32_t)HG_FW_CFG_SETUP_DATA << 16 | 8 | 2, 5, 0x10000), ==, 0);
    g_assert_cmpmem(hg_bus_ram(x.bus) + 0x10000, 5, "SETUP", 5);
    g_bytes_unref(setup);
    g_bytes_unref(kernel);
    fx_free(&x);
}

static void test_save_load(void)
{
    Fx x;
    fx_init(&x);
    char c;
    port_read(&x, HG_FW_CFG_SIGNATURE, &c, 1);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_fw_cfg_save(x.f, &w);
    GBytes *st = hg_state_writer_finish(&w);
    fx_free(&x);
    Fx y;
    fx_init(&y);
    gsize len;
    const uint8_t *data = g_bytes_get_data(st, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_fw_cfg_load(y.f, &r);
    g_assert_true(hg_state_ok(&r));
    g_assert_cmpint(hg_bus_in(y.bus, 0x511, 1), ==, 'E');
    /* A state selecting a key this machine lacks, at a huge offset. */
    uint8_t *bad = g_memdup2(data, len);
    for (gsize i = 0; i < len; i++) {
        bad[i] ^= 0xa5;
        hg_state_reader_init(&r, bad, len);
        hg_fw_cfg_load(y.f, &r);
        g_clear_error(&r.error);
        hg_bus_in(y.bus, 0x511, 1);
        bad[i] ^= 0xa5;
    }
    g_free(bad);
    g_bytes_unref(st);
    fx_free(&y);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fwcfg/ports", test_ports);
    g_test_add_func("/fwcfg/dma", test_dma);
    g_test_add_func("/fwcfg/dma-hostile", test_dma_hostile);
    g_test_add_func("/fwcfg/linux", test_linux);
    g_test_add_func("/fwcfg/save-load", test_save_load);
    return g_test_run();
}
