/* Unit tests of the 8237A DMA pair (engine/hw/dma8237.c), programmed through its ports the
 * way SeaBIOS (dma_setup, floppy) and Linux (isa-dma helpers) do. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "hw/dma8237.h"
#include "state.h"

typedef struct Dev {
    HgDma *dma;
    uint8_t data[256];
    int chunk; /* bytes moved per call */
    bool to_memory;
    int calls;
} Dev;

static int transfer(void *opaque, int ch, int pos, int len)
{
    Dev *v = opaque;
    v->calls++;
    int n = MIN(v->chunk, len - pos);
    uint8_t tmp[256];
    if (v->to_memory) {
        for (int i = 0; i < n; i++)
            tmp[i] = v->data[(pos + i) % 256];
        n = hg_dma_write_memory(v->dma, ch, tmp, pos, n);
    } else {
        n = hg_dma_read_memory(v->dma, ch, tmp, pos, n);
        for (int i = 0; i < n; i++)
            v->data[(pos + i) % 256] = tmp[i];
    }
    return pos + n;
}

/* SeaBIOS dma_setup: master clear both, channel 4 in cascade mode and unmasked. */
static void bios_setup(HgBus *bus)
{
    hg_bus_out(bus, 0x0d, 0, 1);
    hg_bus_out(bus, 0xda, 0, 1);
    hg_bus_out(bus, 0xd6, 0xc0, 1);
    hg_bus_out(bus, 0xd4, 0, 1);
}

/* The floppy driver's programming of an 8-bit channel (SeaBIOS floppy_dma_cmd). */
static void program8(HgBus *bus, int ch, uint8_t mode, uint32_t addr, uint16_t count)
{
    static const uint16_t pages[4] = {0x87, 0x83, 0x81, 0x82};
    hg_bus_out(bus, 0x0a, 4 | ch, 1);
    hg_bus_out(bus, 0x0c, 0, 1);
    hg_bus_out(bus, 0x0b, mode | ch, 1);
    hg_bus_out(bus, ch * 2, addr & 0xff, 1);
    hg_bus_out(bus, ch * 2, (addr >> 8) & 0xff, 1);
    hg_bus_out(bus, pages[ch], addr >> 16, 1);
    hg_bus_out(bus, 0x0c, 0, 1);
    hg_bus_out(bus, ch * 2 + 1, count & 0xff, 1);
    hg_bus_out(bus, ch * 2 + 1, count >> 8, 1);
    hg_bus_out(bus, 0x0a, ch, 1);
}

static uint16_t read_count(HgBus *bus, int ch)
{
    uint16_t port = ch < 4 ? ch * 2 + 1 : 0xc0 + (ch - 4) * 4 + 2;
    hg_bus_out(bus, ch < 4 ? 0x0c : 0xd8, 0, 1);
    uint16_t lo = hg_bus_in(bus, port, 1) & 0xff;
    return lo | (hg_bus_in(bus, port, 1) & 0xff) << 8;
}

static void test_floppy_write_to_memory(void)
{
    HgBus *bus = hg_bus_new(1 << 20);
    Dev v = {.chunk = 100, .to_memory = true};
    v.dma = hg_dma_new(bus);
    for (int i = 0; i < 256; i++)
        v.data[i] = (uint8_t)(i * 7 + 1);
    bios_setup(bus);
    hg_dma_register(v.dma, 2, transfer, &v);
    program8(bus, 2, 0x46, 0x17c00, 255); /* single mode, write to memory */
    g_assert_cmphex(hg_bus_in(bus, 0x08, 1), ==, 0x00);
    hg_dma_hold_dreq(v.dma, 2);
    g_assert_cmphex(hg_bus_in(bus, 0x08, 1) & 0xf0, ==, 0x40); /* DREQ 2 */
    hg_dma_run(v.dma);
    g_assert_cmpint(read_count(bus, 2), ==, 155); /* 100 of 256 done */
    g_assert_false(hg_dma_masked(v.dma, 2));
    hg_dma_run(v.dma);
    hg_dma_run(v.dma);
    hg_dma_release_dreq(v.dma, 2);
    g_assert_cmpint(memcmp(hg_bus_ram(bus) + 0x17c00, v.data, 256), ==, 0);
    g_assert_cmpint(hg_bus_ram(bus)[0x17c00 + 256], ==, 0);
    /* Terminal count: count wraps to 0xFFFF, TC bit set once, channel masked. */
    g_assert_cmphex(read_count(bus, 2), ==, 0xffff);
    g_assert_cmphex(hg_bus_in(bus, 0x08, 1), ==, 0x04);
    g_assert_cmphex(hg_bus_in(bus, 0x08, 1), ==, 0x00);
    g_assert_true(hg_dma_masked(v.dma, 2));
    hg_bus_out(bus, 0x0c, 0, 1);
    uint16_t a = hg_bus_in(bus, 4, 1) & 0xff;
    a |= (hg_bus_in(bus, 4, 1) & 0xff) << 8;
    g_assert_cmphex(a, ==, 0x7d00);
    /* A masked channel does not transfer. */
    int calls = v.calls;
    hg_dma_hold_dreq(v.dma, 2);
    hg_dma_run(v.dma);
    g_assert_cmpint(v.calls, ==, calls);
    hg_dma_free(v.dma);
    hg_bus_free(bus);
}

static void test_read_autoinit_decrement(void)
{
    HgBus *bus = hg_bus_new(1 << 20);
    Dev v = {.chunk = 256, .to_memory = false};
    v.dma = hg_dma_new(bus);
    bios_setup(bus);
    uint8_t *ram = hg_bus_ram(bus);
    for (int i = 0; i < 16; i++)
        ram[0x20000 + i] = (uint8_t)(0x40 + i);
    hg_dma_register(v.dma, 1, transfer, &v);
    /* Auto-init read of 16 bytes. */
    program8(bus, 1, 0x58, 0x20000, 15);
    hg_dma_hold_dreq(v.dma, 1);
    hg_dma_run(v.dma);
    g_assert_cmpint(memcmp(v.data, ram + 0x20000, 16), ==, 0);
    g_assert_false(hg_dma_masked(v.dma, 1));
    g_assert_cmpint(read_count(bus, 1), ==, 15); /* reloaded */
    g_assert_cmphex(hg_bus_in(bus, 0x08, 1) & 0x0f, ==, 0x02);
    /* Decrement: bytes come from 0x2000F downwards. */
    memset(v.data, 0, sizeof v.data);
    program8(bus, 1, 0x68, 0x2000f, 15); /* unmasking runs the held request */
    for (int i = 0; i < 16; i++)
        g_assert_cmphex(v.data[i], ==, 0x4f - i);
    /* The 8-bit address wraps inside its 64 KiB page. */
    ram[0x20000] = 0xaa;
    ram[0x2ffff] = 0xbb;
    program8(bus, 1, 0x48, 0x2ffff, 1);
    g_assert_cmphex(v.data[0], ==, 0xbb);
    g_assert_cmphex(v.data[1], ==, 0xaa);
    hg_dma_free(v.dma);
    hg_bus_free(bus);
}

static void test_16bit_channel(void)
{
    HgBus *bus = hg_bus_new(1 << 20);
    Dev v = {.chunk = 256, .to_memory = true};
    v.dma = hg_dma_new(bus);
    bios_setup(bus);
    for (int i = 0; i < 256; i++)
        v.data[i] = (uint8_t)i;
    hg_dma_register(v.dma, 5, transfer, &v);
    /* Channel 5: word address 0xFFFE of the 128 KiB block at page 0x02 (bit 0 ignored):
     * the block wraps from 0x3FFFC to 0x20000. */
    hg_bus_out(bus, 0xd4, 4 | 1, 1);
    hg_bus_out(bus, 0xd8, 0, 1);
    hg_bus_out(bus, 0xd6, 0x44 | 1, 1);
    hg_bus_out(bus, 0xc4, 0xfe, 1);
    hg_bus_out(bus, 0xc4, 0xff, 1);
    hg_bus_out(bus, 0x8b, 0x03, 1);
    hg_bus_out(bus, 0xc6, 3, 1); /* 4 words */
    hg_bus_out(bus, 0xc6, 0, 1);
    hg_bus_out(bus, 0xd4, 1, 1);
    hg_dma_hold_dreq(v.dma, 5);
    hg_dma_run(v.dma);
    uint8_t *ram = hg_bus_ram(bus);
    g_assert_cmphex(ram[0x3fffc], ==, 0);
    g_assert_cmphex(ram[0x3ffff], ==, 3);
    g_assert_cmphex(ram[0x20000], ==, 4);
    g_assert_cmphex(ram[0x20003], ==, 7);
    g_assert_cmphex(ram[0x20004], ==, 0);
    g_assert_cmphex(hg_bus_in(bus, 0xd0, 1) & 0x0f, ==, 0x02);
    g_assert_cmphex(read_count(bus, 5), ==, 0xffff);
    /* Channel 4 (cascade) and a disabled cascade block controller 1. */
    Dev w = {.chunk = 1, .to_memory = true, .dma = v.dma};
    hg_dma_register(v.dma, 0, transfer, &w);
    program8(bus, 0, 0x44, 0x1000, 0);
    hg_bus_out(bus, 0xd4, 4, 1); /* mask channel 4 */
    hg_dma_hold_dreq(v.dma, 0);
    hg_dma_run(v.dma);
    g_assert_cmpint(w.calls, ==, 0);
    hg_bus_out(bus, 0xd4, 0, 1);
    g_assert_cmpint(w.calls, ==, 1); /* unmasking runs the pending request */
    hg_dma_free(v.dma);
    hg_bus_free(bus);
}

static void test_hostile(void)
{
    HgBus *bus = hg_bus_new(64 * 1024);
    Dev v = {.chunk = 256, .to_memory = true};
    v.dma = hg_dma_new(bus);
    bios_setup(bus);
    hg_dma_register(v.dma, 3, transfer, &v);
    /* 64 KiB at page 0xFF, far past the 64 KiB of RAM: writes vanish, reads give 0xFF. */
    program8(bus, 3, 0x44, 0xfff000, 0xffff);
    hg_dma_hold_dreq(v.dma, 3);
    for (int i = 0; i < 300; i++)
        hg_dma_run(v.dma);
    g_assert_true(hg_dma_masked(v.dma, 3));
    uint8_t buf[16];
    g_assert_cmpint(hg_dma_read_memory(v.dma, 3, buf, 65530, 16), ==, 6);
    g_assert_cmphex(buf[0], ==, 0xff);
    g_assert_cmpint(hg_dma_read_memory(v.dma, 3, buf, 65536, 16), ==, 0);
    g_assert_cmpint(hg_dma_read_memory(v.dma, 3, buf, -1, 16), ==, 0);
    g_assert_cmpint(hg_dma_read_memory(v.dma, 9, buf, 0, 16), ==, 0);
    g_assert_cmpint(hg_dma_write_memory(v.dma, 4, buf, 0, 16), ==, 0);
    /* A handler claiming more than the block is clipped to terminal count. */
    hg_dma_free(v.dma);
    hg_bus_free(bus);
}

static void test_save_load(void)
{
    HgBus *bus = hg_bus_new(1 << 20);
    Dev v = {.chunk = 10, .to_memory = true};
    v.dma = hg_dma_new(bus);
    bios_setup(bus);
    hg_dma_register(v.dma, 2, transfer, &v);
    program8(bus, 2, 0x46, 0x1000, 99);
    hg_dma_hold_dreq(v.dma, 2);
    hg_dma_run(v.dma);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_dma_save(v.dma, &w);
    GBytes *blob = hg_state_writer_finish(&w);

    HgDma *d2 = hg_dma_new(bus); /* remaps the ports onto the copy */
    Dev v2 = {.chunk = 10, .to_memory = true, .dma = d2};
    hg_dma_register(d2, 2, transfer, &v2);
    HgStateReader r;
    gsize len;
    const uint8_t *data = g_bytes_get_data(blob, &len);
    hg_state_reader_init(&r, data, len);
    hg_dma_load(d2, &r);
    g_assert_true(hg_state_ok(&r));
    g_assert_cmpint(read_count(bus, 2), ==, 89);
    g_assert_cmphex(hg_dma_mode(d2, 2), ==, 0x44);
    hg_dma_run(d2);
    g_assert_cmpint(read_count(bus, 2), ==, 79);

    /* A corrupt position is clipped to the block. */
    uint8_t *bad = g_memdup2(data, len);
    HgStateWriter w2;
    hg_state_writer_init(&w2);
    hg_dma_save(d2, &w2);
    GBytes *blob2 = hg_state_writer_finish(&w2);
    gsize len2;
    const uint8_t *data2 = g_bytes_get_data(blob2, &len2);
    uint8_t *bad2 = g_memdup2(data2, len2);
    for (gsize i = len2 - 40; i < len2 - 17; i++)
        bad2[i] = 0xff;
    hg_state_reader_init(&r, bad2, len2);
    hg_dma_load(d2, &r);
    for (int ch = 0; ch < 8; ch++)
        if (ch != 4)
            g_assert_cmpint(hg_dma_read_memory(d2, ch, bad, 0x7fffffff, 1), ==, 0);
    hg_dma_run(d2);
    g_free(bad);
    g_free(bad2);
    g_bytes_unref(blob);
    g_bytes_unref(blob2);
    hg_dma_free(d2);
    hg_dma_free(v.dma);
    hg_bus_free(bus);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dma/floppy-write-to-memory", test_floppy_write_to_memory);
    g_test_add_func("/dma/read-autoinit-decrement", test_read_autoinit_decrement);
    g_test_add_func("/dma/16bit-channel", test_16bit_channel);
    g_test_add_func("/dma/hostile", test_hostile);
    g_test_add_func("/dma/save-load", test_save_load);
    return g_test_run();
}
