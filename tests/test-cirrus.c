/* Unit tests of the Cirrus CLGD-5446 (engine/hw/cirrus*.c): PCI identity and BARs, the
 * unlock/ID sequence and hidden DAC as SeaVGABIOS and Linux use them, packed-pixel modes
 * programmed as the DRM driver does (pixels through the linear framebuffer and the banked
 * window checked in the rendered display for every depth), the hardware cursor, every blit
 * kind against a reference model written here from the register descriptions, hostile
 * blits (run the suite under ASan), and save/restore. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "display.h"
#include "hangar.h"
#include "hw/cirrus.h"
#include "hw/pci.h"
#include "hw/vga.h"
#include "state.h"

enum {
    LFB = 0xe0000000u,
    MMIO = 0xe2000000u,
    BDF = 2 << 3,
    VRAM = 4 << 20,
};

typedef struct Fx {
    uint64_t insns;
    HgBus *bus;
    HgClock *clock;
    HgDisplay *disp;
    HgPciBus *pci;
    HgCirrus *c;
    uint8_t *vram;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void fx_init(Fx *f)
{
    memset(f, 0, sizeof(*f));
    f->bus = hg_bus_new(1 << 20);
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, f);
    f->disp = hg_display_new();
    f->pci = hg_pci_new(f->bus);
    f->c = hg_cirrus_new(f->bus, f->clock, f->disp, f->pci, BDF, NULL);
    uint32_t size;
    f->vram = hg_vga_vram(hg_cirrus_vga(f->c), &size);
    g_assert_cmpuint(size, ==, VRAM);
    hg_pci_config_write(f->pci, BDF, 0x10, LFB, 4);
    hg_pci_config_write(f->pci, BDF, 0x14, MMIO, 4);
    hg_pci_config_write(f->pci, BDF, HG_PCI_COMMAND, HG_PCI_CMD_IO | HG_PCI_CMD_MEM, 2);
}

static void fx_free(Fx *f)
{
    hg_cirrus_free(f->c);
    hg_pci_free(f->pci);
    hg_display_free(f->disp);
    hg_clock_free(f->clock);
    hg_bus_free(f->bus);
}

static void outb(Fx *f, uint16_t port, uint8_t v)
{
    hg_bus_out(f->bus, port, v, 1);
}

static uint8_t inb(Fx *f, uint16_t port)
{
    return (uint8_t)hg_bus_in(f->bus, port, 1);
}

static void seq(Fx *f, uint8_t i, uint8_t v)
{
    outb(f, 0x3c4, i);
    outb(f, 0x3c5, v);
}

static uint8_t seq_rd(Fx *f, uint8_t i)
{
    outb(f, 0x3c4, i);
    return inb(f, 0x3c5);
}

static void gr(Fx *f, uint8_t i, uint8_t v)
{
    outb(f, 0x3ce, i);
    outb(f, 0x3cf, v);
}

static uint8_t gr_rd(Fx *f, uint8_t i)
{
    outb(f, 0x3ce, i);
    return inb(f, 0x3cf);
}

static void crtc(Fx *f, uint8_t i, uint8_t v)
{
    outb(f, 0x3d4, i);
    outb(f, 0x3d5, v);
}

static uint8_t crtc_rd(Fx *f, uint8_t i)
{
    outb(f, 0x3d4, i);
    return inb(f, 0x3d5);
}

static void set_hidden_dac(Fx *f, uint8_t v)
{
    for (int i = 0; i < 4; i++)
        inb(f, 0x3c6);
    outb(f, 0x3c6, v);
}

/* A packed mode programmed as Linux's cirrus-qemu driver does. */
static void set_mode(Fx *f, int w, int h, int bpp, uint32_t pitch)
{
    seq(f, 6, 0x12);
    crtc(f, 0x11, 0x20);
    crtc(f, 1, (uint8_t)(w / 8 - 1));
    crtc(f, 0x12, (uint8_t)(h - 1));
    crtc(f, 7, (uint8_t)(((h - 1) & 0x100) >> 7 | ((h - 1) & 0x200) >> 3));
    crtc(f, 0x13, (uint8_t)(pitch / 8));
    crtc(f, 0x1b, (uint8_t)(0x22 | ((pitch >> 7) & 0x10)));
    crtc(f, 0x0c, 0);
    crtc(f, 0x0d, 0);
    crtc(f, 0x1d, 0);
    uint8_t sr7 = bpp == 8 ? 0x11 : bpp <= 16 ? 0x17 : bpp == 24 ? 0x15 : 0x19;
    seq(f, 7, (seq_rd(f, 7) & 0xe0) | sr7);
    set_hidden_dac(f, bpp == 8 ? 0x00 : bpp == 15 ? 0xf0 : bpp == 16 ? 0xc1 : 0xc5);
    gr(f, 5, 0x40);
    gr(f, 6, 0x01);
    inb(f, 0x3da);
    outb(f, 0x3c0, 0x20);
}

static uint32_t pixel(Fx *f, int x, int y, int *w, int *h)
{
    hg_cirrus_update(f->c);
    int ww, hh;
    uint32_t *p = hg_display_snapshot(f->disp, &ww, &hh);
    g_assert_cmpint(x, <, ww);
    g_assert_cmpint(y, <, hh);
    uint32_t v = p[(size_t)y * ww + x];
    if (w)
        *w = ww;
    if (h)
        *h = hh;
    g_free(p);
    return v;
}

/* --- Identity -------------------------------------------------------------------------- */

static void test_identity(void)
{
    Fx f;
    fx_init(&f);
    g_assert_cmphex(hg_pci_config_read(f.pci, BDF, 0, 4), ==, 0x00b81013);
    g_assert_cmphex(hg_pci_config_read(f.pci, BDF, 0x08, 4) >> 8, ==, 0x030000);
    g_assert_cmphex(hg_pci_config_read(f.pci, BDF, HG_PCI_SUBSYSTEM_VENDOR, 2), ==, 0x1af4);
    g_assert_cmphex(hg_pci_config_read(f.pci, BDF, HG_PCI_SUBSYSTEM_ID, 2), ==, 0x1100);
    /* BAR sizing as SeaBIOS does it. */
    static const struct {
        int off;
        uint32_t mask;
    } bars[] = {{0x10, 0xfe000008u}, {0x14, 0xfffff000u}, {0x30, 0xffff0000u}};
    for (int i = 0; i < 3; i++) {
        uint32_t old = hg_pci_config_read(f.pci, BDF, bars[i].off, 4);
        hg_pci_config_write(f.pci, BDF, bars[i].off, 0xffffffffu, 4);
        uint32_t got = hg_pci_config_read(f.pci, BDF, bars[i].off, 4);
        if (bars[i].off == 0x30)
            got &= ~1u;
        g_assert_cmphex(got, ==, bars[i].mask);
        hg_pci_config_write(f.pci, BDF, bars[i].off, old, 4);
    }
    /* The expansion ROM is the Cirrus VGA BIOS with its PCIR header. */
    if (g_file_test(HG_CIRRUS_BIOS, G_FILE_TEST_EXISTS)) {
        hg_pci_config_write(f.pci, BDF, 0x30, 0xe4000001u, 4);
        g_assert_cmphex(hg_bus_read(f.bus, 0xe4000000u, 2), ==, 0xaa55);
        uint32_t pcir = hg_bus_read(f.bus, 0xe4000018u, 2);
        g_assert_cmphex(hg_bus_read(f.bus, 0xe4000000u + pcir, 4), ==, 0x52494350);
        g_assert_cmphex(hg_bus_read(f.bus, 0xe4000000u + pcir + 4, 4), ==, 0x00b81013);
    }
    /* Unlock: SeaVGABIOS writes 0x92 and expects 0x12. */
    g_assert_cmphex(seq_rd(&f, 6), ==, 0x0f);
    seq(&f, 6, 0x92);
    g_assert_cmphex(seq_rd(&f, 6), ==, 0x12);
    seq(&f, 6, 0x00);
    g_assert_cmphex(seq_rd(&f, 6), ==, 0x0f);
    seq(&f, 6, 0x12);
    g_assert_cmphex(crtc_rd(&f, 0x27), ==, 0xb8);
    g_assert_cmphex(seq_rd(&f, 0x0f) & 0x98, ==, 0x98); /* 4 MiB */
    g_assert_cmphex(seq_rd(&f, 0x15), ==, 0x04);
    g_assert_cmphex(seq_rd(&f, 0x17) & 0x38, ==, 0x20); /* PCI */
    seq(&f, 0x0f, 0x00);
    g_assert_cmphex(seq_rd(&f, 0x0f) & 0x98, ==, 0x98);
    /* Hidden DAC: SeaVGABIOS' sequence (write 0, four reads, write, write 0xFF). */
    outb(&f, 0x3c6, 0);
    for (int i = 0; i < 4; i++)
        g_assert_cmphex(inb(&f, 0x3c6), ==, 0x00);
    outb(&f, 0x3c6, 0xc1);
    outb(&f, 0x3c6, 0xff);
    g_assert_cmphex(inb(&f, 0x3c6), ==, 0xff); /* the PEL mask again */
    for (int i = 0; i < 3; i++)
        inb(&f, 0x3c6);
    g_assert_cmphex(inb(&f, 0x3c6), ==, 0xc1); /* fifth read */
    /* Another port in between restarts the count. */
    for (int i = 0; i < 3; i++)
        inb(&f, 0x3c6);
    inb(&f, 0x3c4);
    inb(&f, 0x3c6);
    outb(&f, 0x3c6, 0x55);
    g_assert_cmphex(inb(&f, 0x3c6), ==, 0x55); /* the PEL mask took it */
    /* BAR1 mirrors the VGA ports from 0x3C0 (Linux's hidden DAC through mmio + 6). */
    hg_bus_write(f.bus, MMIO + 4, 0x06, 1);
    g_assert_cmphex(hg_bus_read(f.bus, MMIO + 5, 1), ==, 0x12);
    for (int i = 0; i < 4; i++)
        hg_bus_read(f.bus, MMIO + 6, 1);
    hg_bus_write(f.bus, MMIO + 6, 0xc5, 1);
    for (int i = 0; i < 4; i++)
        inb(&f, 0x3c6);
    g_assert_cmphex(inb(&f, 0x3c6), ==, 0xc5);
    /* Blitter registers through BAR1 + 0x100 are GR20-GR3F. */
    hg_bus_write(f.bus, MMIO + 0x108, 0x1234, 2);
    g_assert_cmphex(gr_rd(&f, 0x20), ==, 0x34);
    g_assert_cmphex(gr_rd(&f, 0x21), ==, 0x12);
    hg_bus_write(f.bus, MMIO + 0x110, 0xffabcdefu, 4);
    g_assert_cmphex(gr_rd(&f, 0x2a), ==, 0x2b); /* 22-bit address */
    g_assert_cmphex(hg_bus_read(f.bus, MMIO + 0x110, 4) & 0xffffff, ==, 0x2bcdef);
    /* SR17 bit 2: the blitter registers also answer at 0xB8000 ... */
    seq(&f, 0x17, 0x24);
    hg_bus_write(f.bus, 0xb8000 + 0x0c, 0x0abc, 2);
    g_assert_cmphex(gr_rd(&f, 0x24), ==, 0xbc);
    g_assert_cmphex(gr_rd(&f, 0x25), ==, 0x0a);
    g_assert_cmphex(hg_bus_read(f.bus, 0xb8000 + 0x0c, 2), ==, 0x0abc);
    /* ... and with bit 6 too, in the last 256 bytes of the linear aperture instead. */
    seq(&f, 0x17, 0x64);
    hg_bus_write(f.bus, LFB + VRAM - 256 + 0x0e, 0x0123, 2);
    g_assert_cmphex(gr_rd(&f, 0x26), ==, 0x23);
    g_assert_cmphex(f.vram[VRAM - 256 + 0x0e], ==, 0);
    hg_bus_write(f.bus, 0xb8000 + 0x0e, 0x55, 1); /* not the registers now */
    g_assert_cmphex(gr_rd(&f, 0x26), ==, 0x23);
    seq(&f, 0x17, 0x20);
    hg_bus_write(f.bus, LFB + VRAM - 256 + 0x0e, 0x77, 1);
    g_assert_cmphex(f.vram[VRAM - 256 + 0x0e], ==, 0x77);
    /* Video memory repeats every 4 MiB in the first 16 MiB of BAR0. */
    g_assert_cmphex(hg_bus_read(f.bus, LFB + 3 * VRAM + VRAM - 256 + 0x0e, 1), ==, 0x77);
    fx_free(&f);
}

/* --- Modes and pixels ------------------------------------------------------------------ */

static void test_modes(void)
{
    Fx f;
    fx_init(&f);
    /* 1024x768x16, pitch 2048 (VBE mode 0x117 as the BIOS tables give it). */
    set_mode(&f, 1024, 768, 16, 2048);
    hg_bus_write(f.bus, LFB + 0, 0xf800, 2);
    hg_bus_write(f.bus, LFB + 2, 0x07e0, 2);
    hg_bus_write(f.bus, LFB + 2048 * 767 + 2 * 1023, 0x001f, 2);
    hg_bus_write(f.bus, LFB + 2048 * 10 + 2 * 10, 0x8410, 2);
    int w, h;
    g_assert_cmphex(pixel(&f, 0, 0, &w, &h), ==, 0xff0000);
    g_assert_cmpint(w, ==, 1024);
    g_assert_cmpint(h, ==, 768);
    g_assert_cmphex(pixel(&f, 1, 0, NULL, NULL), ==, 0x00ff00);
    g_assert_cmphex(pixel(&f, 1023, 767, NULL, NULL), ==, 0x0000ff);
    g_assert_cmphex(pixel(&f, 10, 10, NULL, NULL), ==, 0x848284);
    /* A later write shows up through dirty tracking. */
    hg_bus_write(f.bus, LFB + 2048 * 300 + 2 * 5, 0xffff, 2);
    g_assert_cmphex(pixel(&f, 5, 300, NULL, NULL), ==, 0xffffff);

    /* 15 bpp: the hidden DAC decides 5-5-5. */
    set_mode(&f, 800, 600, 15, 1600);
    hg_bus_write(f.bus, LFB + 1600 * 2 + 2 * 3, 0x7c00, 2);
    hg_bus_write(f.bus, LFB + 1600 * 2 + 2 * 4, 0x03e0, 2);
    g_assert_cmphex(pixel(&f, 3, 2, &w, &h), ==, 0xff0000);
    g_assert_cmpint(w, ==, 800);
    g_assert_cmpint(h, ==, 600);
    g_assert_cmphex(pixel(&f, 4, 2, NULL, NULL), ==, 0x00ff00);

    /* 24 bpp (B, G, R) and 32 bpp (B, G, R, X). */
    set_mode(&f, 640, 480, 24, 1920);
    hg_bus_write(f.bus, LFB + 1920 * 7 + 3 * 9, 0x332211, 4);
    g_assert_cmphex(pixel(&f, 9, 7, NULL, NULL), ==, 0x332211);
    set_mode(&f, 640, 480, 32, 2560);
    hg_bus_write(f.bus, LFB + 2560 * 479 + 4 * 639, 0xaa445566u, 4);
    g_assert_cmphex(pixel(&f, 639, 479, NULL, NULL), ==, 0x445566);

    /* 8 bpp through the DAC. */
    set_mode(&f, 640, 480, 8, 640);
    outb(&f, 0x3c8, 5);
    outb(&f, 0x3c9, 63);
    outb(&f, 0x3c9, 0);
    outb(&f, 0x3c9, 32);
    hg_bus_write(f.bus, LFB + 640 * 100 + 200, 5, 1);
    g_assert_cmphex(pixel(&f, 200, 100, NULL, NULL), ==, 0xff0082);

    /* Start address from CR0C/CR0D plus CR1B/CR1D bits (in dwords), pitch with CR1B bit 4. */
    set_mode(&f, 640, 480, 16, 2560);
    g_assert_cmphex(crtc_rd(&f, 0x1b) & 0x10, ==, 0x10);
    uint32_t start = 0x123458; /* bytes */
    uint32_t sd = start / 4;
    crtc(&f, 0x0d, sd & 0xff);
    crtc(&f, 0x0c, (sd >> 8) & 0xff);
    crtc(&f, 0x1b, (uint8_t)(0x32 | ((sd >> 16) & 1) | ((sd >> 15) & 0x0c)));
    crtc(&f, 0x1d, (uint8_t)(((sd >> 19) & 1) << 7));
    hg_bus_write(f.bus, LFB + start + 2560 * 3 + 2 * 7, 0xf800, 2);
    g_assert_cmphex(pixel(&f, 7, 3, NULL, NULL), ==, 0xff0000);

    /* Banked window: 8 bpp, 16 KiB granularity, single bank (0xA8000 = bank + 32 KiB). */
    set_mode(&f, 640, 480, 8, 640);
    gr(&f, 0x0b, 0x20);
    gr(&f, 0x09, 4); /* 64 KiB */
    hg_bus_write(f.bus, 0xa0000 + 0x10, 5, 1);
    g_assert_cmpuint(f.vram[0x10010], ==, 5);
    hg_bus_write(f.bus, 0xa8000 + 1, 7, 1);
    g_assert_cmpuint(f.vram[0x18001], ==, 7);
    g_assert_cmpuint(hg_bus_read(f.bus, 0xa8001, 1), ==, 7);
    uint32_t off = 0x10010;
    g_assert_cmphex(pixel(&f, off % 640, off / 640, NULL, NULL), ==, 0xff0082);
    /* Dual banks, 4 KiB granularity: GRA maps 0xA8000. */
    gr(&f, 0x0b, 0x01);
    gr(&f, 0x09, 0x10);
    gr(&f, 0x0a, 0x40);
    hg_bus_write(f.bus, 0xa0000 + 3, 0x11, 1);
    hg_bus_write(f.bus, 0xa8000 + 3, 0x22, 1);
    g_assert_cmpuint(f.vram[0x10003], ==, 0x11);
    g_assert_cmpuint(f.vram[0x40003], ==, 0x22);
    /* A bank past the end of video memory reads 0xFF and drops writes. */
    gr(&f, 0x0b, 0x21);
    gr(&f, 0x0a, 0xff); /* 255 * 16 KiB + 16 KiB = 4 MiB */
    hg_bus_write(f.bus, 0xac000, 0x33, 1);
    hg_bus_write(f.bus, 0xabfff, 0x44, 1);
    g_assert_cmpuint(f.vram[VRAM - 1], ==, 0x44);
    g_assert_cmphex(hg_bus_read(f.bus, 0xac000, 1), ==, 0xff);
    /* Write mode 5 with extended write modes: eight pixels of FG/BG per byte. */
    gr(&f, 0x0b, 0x04);
    gr(&f, 0x09, 0);
    gr(&f, 0x00, 0xaa);
    gr(&f, 0x01, 0xbb);
    gr(&f, 0x05, 0x05);
    hg_bus_write(f.bus, 0xa0000 + 2, 0xa5, 1);
    static const uint8_t want[8] = {0xbb, 0xaa, 0xbb, 0xaa, 0xaa, 0xbb, 0xaa, 0xbb};
    g_assert_cmpmem(f.vram + 16, 8, want, 8);
    fx_free(&f);
}

/* --- Hardware cursor --------------------------------------------------------------------- */

static void cursor_pos(Fx *f, int x, int y)
{
    outb(f, 0x3c4, (uint8_t)(0x10 | (x & 7) << 5));
    outb(f, 0x3c5, (uint8_t)(x >> 3));
    outb(f, 0x3c4, (uint8_t)(0x11 | (y & 7) << 5));
    outb(f, 0x3c5, (uint8_t)(y >> 3));
}

static void test_cursor(void)
{
    Fx f;
    fx_init(&f);
    set_mode(&f, 640, 480, 16, 1280);
    /* Background: a grey picture. */
    for (uint32_t i = 0; i < 1280 * 480; i += 2)
        hg_bus_write(f.bus, LFB + i, 0x8410, 2);
    /* Cursor colours through the hidden DAC entries 0 and 15. */
    seq(&f, 0x12, 0x02);
    outb(&f, 0x3c8, 0x00);
    outb(&f, 0x3c9, 63);
    outb(&f, 0x3c9, 0);
    outb(&f, 0x3c9, 0);
    outb(&f, 0x3c8, 0x0f);
    outb(&f, 0x3c9, 0);
    outb(&f, 0x3c9, 63);
    outb(&f, 0x3c9, 0);
    uint32_t pat = VRAM - 16 * 1024 + 2 * 256; /* SR13 = 2 */
    memset(f.vram + VRAM - 16 * 1024, 0, 16 * 1024);
    /* 32x32: row 0 plane 0 (invert), row 1 plane 1 (colour 0), row 2 both (colour 15). */
    hg_bus_write(f.bus, LFB + pat + 0, 0xff, 1);
    hg_bus_write(f.bus, LFB + pat + 128 + 4, 0xff, 1);
    hg_bus_write(f.bus, LFB + pat + 8, 0xff, 1);
    hg_bus_write(f.bus, LFB + pat + 128 + 8, 0xff, 1);
    seq(&f, 0x13, 2);
    cursor_pos(&f, 100, 50);
    seq(&f, 0x12, 0x01);
    g_assert_cmphex(pixel(&f, 100, 50, NULL, NULL), ==, 0x848284 ^ 0xffffff);
    g_assert_cmphex(pixel(&f, 107, 51, NULL, NULL), ==, 0xff0000);
    g_assert_cmphex(pixel(&f, 103, 52, NULL, NULL), ==, 0x00ff00);
    g_assert_cmphex(pixel(&f, 108, 51, NULL, NULL), ==, 0x848284);
    g_assert_cmphex(pixel(&f, 99, 51, NULL, NULL), ==, 0x848284);
    /* The DAC itself was not touched. */
    outb(&f, 0x3c7, 0x0f);
    g_assert_cmpuint(inb(&f, 0x3c9), ==, 0);
    /* Moving it restores the picture underneath. */
    cursor_pos(&f, 300, 200);
    g_assert_cmphex(pixel(&f, 107, 51, NULL, NULL), ==, 0x848284);
    g_assert_cmphex(pixel(&f, 307, 201, NULL, NULL), ==, 0xff0000);
    /* 64x64: 16 bytes a line, plane 0 then plane 1; SR13 bits 2-5 select it. */
    memset(f.vram + VRAM - 16 * 1024, 0, 16 * 1024);
    pat = VRAM - 16 * 1024 + 4 * 256;
    f.vram[pat + 63 * 16 + 7] = 0x01;     /* row 63, pixel 63: plane 0 */
    f.vram[pat + 63 * 16 + 8 + 7] = 0x01; /* plane 1: colour 15 */
    f.vram[pat + 40 * 16 + 8 + 4] = 0x80; /* row 40, pixel 32: colour 0 */
    hg_cirrus_vga(f.c);                   /* direct writes: force a redraw */
    hg_vga_invalidate(hg_cirrus_vga(f.c));
    seq(&f, 0x13, 4);
    seq(&f, 0x12, 0x05);
    cursor_pos(&f, 500, 400);
    g_assert_cmphex(pixel(&f, 563, 463, NULL, NULL), ==, 0x00ff00);
    g_assert_cmphex(pixel(&f, 532, 440, NULL, NULL), ==, 0xff0000);
    g_assert_cmphex(pixel(&f, 531, 440, NULL, NULL), ==, 0x848284);
    /* Partly off screen: clipped, no crash. */
    cursor_pos(&f, 620, 470);
    pixel(&f, 639, 479, NULL, NULL);
    cursor_pos(&f, 2047, 2047);
    pixel(&f, 639, 479, NULL, NULL);
    seq(&f, 0x12, 0x00);
    g_assert_cmphex(pixel(&f, 563, 463, NULL, NULL), ==, 0x848284);
    fx_free(&f);
}

/* --- Blitter reference model ----------------------------------------------------------------- */

typedef struct Blt {
    uint32_t w, h, dpitch, spitch, dst, src; /* w: bytes; registers hold w - 1, h - 1 */
    uint8_t mode, modeext, rop, skip;
    uint32_t fg, bg;
    uint16_t tcolor;
} Blt;

/* GR32 codes to X11 GX function numbers (the XFree86 cirrus driver's table). */
static int gx_of(uint8_t rop)
{
    static const uint8_t codes[16] = {0x00, 0x05, 0x09, 0x0d, 0x50, 0x06, 0x59, 0x6d,
                                      0x90, 0x95, 0x0b, 0xad, 0xd0, 0xd6, 0xda, 0x0e};
    for (int i = 0; i < 16; i++)
        if (codes[i] == rop)
            return i;
    return 5; /* GXnoop */
}

/* A GX function number is its own truth table. */
static uint8_t ref_rop(uint8_t rop, uint8_t s, uint8_t d)
{
    int gx = gx_of(rop);
    uint8_t r = 0;
    for (int b = 0; b < 8; b++) {
        int sb = (s >> b) & 1, db = (d >> b) & 1;
        r |= (uint8_t)(((gx >> ((1 - sb) * 2 + (1 - db))) & 1) << b);
    }
    return r;
}

static void ref_pixel(uint8_t *m, uint32_t a, uint32_t col, int bpp, uint8_t rop)
{
    for (int k = 0; k < bpp; k++)
        m[a + k] = ref_rop(rop, (uint8_t)(col >> (8 * k)), m[a + k]);
}

/* Pixel p of the line at a, leaving the first left bytes of the line alone. */
static void ref_pixel_clip(uint8_t *m, uint32_t a, uint32_t p, uint32_t left, uint32_t col, int bpp,
                           uint8_t rop)
{
    for (int k = 0; k < bpp; k++)
        if (p * bpp + k >= left)
            m[a + p * bpp + k] = ref_rop(rop, (uint8_t)(col >> (8 * k)), m[a + p * bpp + k]);
}

/* sys: the CPU's data for system-to-screen blits (lines as the CPU sends them). */
static void ref_blt(uint8_t *m, const Blt *b, const uint8_t *sys)
{
    int bpp = ((b->mode >> 4) & 3) + 1;
    uint32_t npix = b->w / bpp;
    bool expand = b->mode & 0x80, pattern = b->mode & 0x40, transp = b->mode & 0x08;
    /* GR33 bit 1: transparency leaves out the 1 bits instead of the 0 bits. */
    int skip_bit = (b->modeext & 2) ? 1 : 0;
    /* GR2F: pixels left alone on the left, at 24 bpp bytes. */
    uint32_t left = bpp == 3 ? b->skip & 0x1fu : (b->skip & 7u) * bpp;
    if ((b->modeext & 4) && pattern && expand && !transp) {
        for (uint32_t y = 0; y < b->h; y++)
            for (uint32_t p = 0; p < npix; p++)
                ref_pixel(m, b->dst + y * b->dpitch + p * bpp, b->fg, bpp, b->rop);
        return;
    }
    if (pattern) {
        /* Monochrome: 8 bytes, the first row from the address' low bits; colour: aligned
         * to its size, from row 0. */
        uint32_t stride = bpp == 3 ? 32 : 8 * bpp, size = expand ? 8 : 8 * stride;
        const uint8_t *pat = sys ? sys : m + (b->src & ~(size - 1));
        uint32_t row0 = (sys || !expand) ? 0 : b->src & 7;
        uint8_t copy[256];
        memcpy(copy, pat, expand ? 8 : 8 * stride);
        for (uint32_t y = 0; y < b->h; y++) {
            uint32_t row = (row0 + y) & 7;
            for (uint32_t p = 0; p < npix; p++) {
                uint32_t a = b->dst + y * b->dpitch;
                if (expand) {
                    int bit = (copy[row] >> (7 - (p & 7))) & 1;
                    if (bit == skip_bit && transp)
                        continue;
                    ref_pixel_clip(m, a, p, left, bit ? b->fg : b->bg, bpp, b->rop);
                } else {
                    const uint8_t *s = copy + row * stride + (p & 7) * bpp;
                    uint32_t col = s[0] | s[1] << 8 | s[2] << 16 | (uint32_t)s[3] << 24;
                    ref_pixel_clip(m, a, p, left, col, bpp, b->rop);
                }
            }
        }
        return;
    }
    if (expand) {
        uint32_t rb = (npix + 7) / 8;
        if (sys && (b->modeext & 1))
            rb = (rb + 3) & ~3u;
        for (uint32_t y = 0; y < b->h; y++) {
            const uint8_t *bits = sys ? sys + y * rb : m + b->src + y * ((npix + 7) / 8);
            uint8_t line[1100];
            memcpy(line, bits, (npix + 7) / 8);
            for (uint32_t p = 0; p < npix; p++) {
                int bit = (line[p / 8] >> (7 - (p & 7))) & 1;
                if (bit == skip_bit && transp)
                    continue;
                ref_pixel_clip(m, b->dst + y * b->dpitch, p, left, bit ? b->fg : b->bg, bpp,
                               b->rop);
            }
        }
        return;
    }
    bool back = b->mode & 0x01;
    for (uint32_t y = 0; y < b->h; y++) {
        for (uint32_t i = 0; i < b->w; i++) {
            if (back) {
                uint32_t d = b->dst - y * b->dpitch - i, s = b->src - y * b->spitch - i;
                m[d] = ref_rop(b->rop, m[s], m[d]);
                continue;
            }
            const uint8_t *sl = sys ? sys + y * ((b->w + 3) & ~3u) : m + b->src + y * b->spitch;
            uint32_t d = b->dst + y * b->dpitch;
            if (transp && bpp <= 2) {
                uint32_t pi = i - i % bpp;
                uint32_t sp = bpp == 2 ? (uint32_t)(sl[pi] | sl[pi + 1] << 8) : sl[pi];
                if (sp == (bpp == 2 ? b->tcolor : (b->tcolor & 0xffu)))
                    continue;
            }
            m[d + i] = ref_rop(b->rop, sl[i], m[d + i]);
        }
    }
}

/* Programs the blitter through the GR ports or BAR1 + 0x100 and starts it. */
static void blt_program(Fx *f, const Blt *b, bool mmio)
{
    uint8_t regs[0x40] = {0};
    uint32_t w = b->w - 1, h = b->h - 1;
    regs[0x20] = w & 0xff;
    regs[0x21] = (w >> 8) & 0x1f;
    regs[0x22] = h & 0xff;
    regs[0x23] = (h >> 8) & 7;
    regs[0x24] = b->dpitch & 0xff;
    regs[0x25] = (b->dpitch >> 8) & 0x1f;
    regs[0x26] = b->spitch & 0xff;
    regs[0x27] = (b->spitch >> 8) & 0x1f;
    regs[0x28] = b->dst & 0xff;
    regs[0x29] = (b->dst >> 8) & 0xff;
    regs[0x2a] = (b->dst >> 16) & 0x3f;
    regs[0x2c] = b->src & 0xff;
    regs[0x2d] = (b->src >> 8) & 0xff;
    regs[0x2e] = (b->src >> 16) & 0x3f;
    regs[0x2f] = b->skip;
    regs[0x30] = b->mode;
    regs[0x32] = b->rop;
    regs[0x33] = b->modeext;
    regs[0x34] = b->tcolor & 0xff;
    regs[0x35] = b->tcolor >> 8;
    if (mmio) {
        hg_bus_write(f->bus, MMIO + 0x100, b->bg, 4);
        hg_bus_write(f->bus, MMIO + 0x104, b->fg, 4);
        hg_bus_write(f->bus, MMIO + 0x108, regs[0x20] | regs[0x21] << 8, 2);
        hg_bus_write(f->bus, MMIO + 0x10a, regs[0x22] | regs[0x23] << 8, 2);
        hg_bus_write(f->bus, MMIO + 0x10c, regs[0x24] | regs[0x25] << 8, 2);
        hg_bus_write(f->bus, MMIO + 0x10e, regs[0x26] | regs[0x27] << 8, 2);
        hg_bus_write(f->bus, MMIO + 0x114, regs[0x2c] | regs[0x2d] << 8 | regs[0x2e] << 16, 4);
        hg_bus_write(f->bus, MMIO + 0x117, regs[0x2f], 1);
        hg_bus_write(f->bus, MMIO + 0x118, regs[0x30], 1);
        hg_bus_write(f->bus, MMIO + 0x11a, regs[0x32], 1);
        hg_bus_write(f->bus, MMIO + 0x11b, regs[0x33], 1);
        hg_bus_write(f->bus, MMIO + 0x11c, regs[0x34] | regs[0x35] << 8, 2);
        /* Autostart: the destination address write starts it (as X drivers do). */
        hg_bus_write(f->bus, MMIO + 0x140, 0x80, 1);
        hg_bus_write(f->bus, MMIO + 0x110, regs[0x28] | regs[0x29] << 8 | regs[0x2a] << 16, 4);
        hg_bus_write(f->bus, MMIO + 0x140, 0x00, 1);
    } else {
        gr(f, 0x00, b->bg & 0xff);
        gr(f, 0x10, (b->bg >> 8) & 0xff);
        gr(f, 0x12, (b->bg >> 16) & 0xff);
        gr(f, 0x14, (b->bg >> 24) & 0xff);
        gr(f, 0x01, b->fg & 0xff);
        gr(f, 0x11, (b->fg >> 8) & 0xff);
        gr(f, 0x13, (b->fg >> 16) & 0xff);
        gr(f, 0x15, (b->fg >> 24) & 0xff);
        for (int i = 0x20; i <= 0x35; i++)
            if (i != 0x31)
                gr(f, (uint8_t)i, regs[i]);
        gr(f, 0x31, 0x02);
    }
}

static void blt_feed(Fx *f, const uint8_t *data, uint32_t len, int via)
{
    /* The CPU sends dwords through the 0xA0000 window or the 16 MiB aperture of BAR0. */
    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        memcpy(&v, data + i, MIN(4u, len - i));
        if (via)
            hg_bus_write(f->bus, LFB + (16u << 20) + (i & 0xfff), v, 4);
        else
            hg_bus_write(f->bus, 0xa0000 + (i & 0x7fff), v, 4);
    }
}

static uint32_t sys_len(const Blt *b)
{
    int bpp = ((b->mode >> 4) & 3) + 1;
    if (b->mode & 0x40)
        return (b->mode & 0x80) ? 8 : 8 * (bpp == 3 ? 32 : 8 * bpp);
    if (b->mode & 0x80) {
        uint32_t rb = (b->w / bpp + 7) / 8;
        return ((b->modeext & 1) ? (rb + 3) & ~3u : rb) * b->h;
    }
    return ((b->w + 3) & ~3u) * b->h;
}

static const uint8_t rops[16] = {0x00, 0x05, 0x06, 0x09, 0x0b, 0x0d, 0x0e, 0x50,
                                 0x59, 0x6d, 0x90, 0x95, 0xad, 0xd0, 0xd6, 0xda};

static void random_blt(GRand *rnd, Blt *b, int kind)
{
    memset(b, 0, sizeof(*b));
    int bpp = g_rand_int_range(rnd, 1, 5);
    b->mode = (uint8_t)((bpp - 1) << 4);
    b->h = g_rand_int_range(rnd, 1, 40);
    uint32_t npix = g_rand_int_range(rnd, 1, 200);
    b->w = npix * bpp;
    b->dpitch = g_rand_int_range(rnd, 0, 1400);
    b->spitch = g_rand_int_range(rnd, 0, 1400);
    b->dst = g_rand_int_range(rnd, 0, 1 << 20);
    b->src = g_rand_int_range(rnd, 0, 1 << 20);
    b->rop = rops[g_rand_int_range(rnd, 0, 16)];
    b->fg = g_rand_int(rnd);
    b->bg = g_rand_int(rnd);
    b->tcolor = (uint16_t)g_rand_int(rnd);
    switch (kind) {
    case 0: /* forward copy, maybe transparent */
        if (g_rand_boolean(rnd) && bpp <= 2)
            b->mode |= 0x08;
        break;
    case 1: /* backward copy: addresses of the last byte */
        b->mode |= 0x01;
        b->dst += (b->h - 1) * b->dpitch + b->w;
        b->src += (b->h - 1) * b->spitch + b->w;
        break;
    case 2: /* colour expansion */
        b->mode |= 0x80 | (g_rand_boolean(rnd) ? 0x08 : 0);
        b->modeext = g_rand_boolean(rnd) ? 2 : 0;
        b->skip = (uint8_t)g_rand_int_range(rnd, 0, bpp == 3 ? 32 : 8);
        break;
    case 3: /* colour pattern */
        b->mode |= 0x40;
        b->skip = (uint8_t)g_rand_int_range(rnd, 0, bpp == 3 ? 32 : 8);
        break;
    case 4: /* monochrome pattern */
        b->mode |= 0xc0 | (g_rand_boolean(rnd) ? 0x08 : 0);
        b->modeext = g_rand_boolean(rnd) ? 2 : 0;
        b->skip = (uint8_t)g_rand_int_range(rnd, 0, bpp == 3 ? 32 : 8);
        break;
    case 5: /* solid fill */
        b->mode |= 0xc0;
        b->modeext = 4;
        break;
    case 6: /* system to screen copy */
        b->mode |= 0x04 | ((g_rand_boolean(rnd) && bpp <= 2) ? 0x08 : 0);
        break;
    case 7: /* system to screen colour expansion (text drawing) */
        b->mode |= 0x84 | (g_rand_boolean(rnd) ? 0x08 : 0);
        b->modeext = (uint8_t)(g_rand_boolean(rnd) ? 1 : 0);
        b->skip = (uint8_t)g_rand_int_range(rnd, 0, bpp == 3 ? 32 : 8);
        break;
    default: /* system to screen pattern */
        b->mode |= 0x44 | (g_rand_boolean(rnd) ? 0x80 : 0);
        break;
    }
}

static void test_blits(void)
{
    Fx f;
    fx_init(&f);
    set_mode(&f, 1024, 768, 16, 2048);
    GRand *rnd = g_rand_new_with_seed(5446);
    for (uint32_t i = 0; i < VRAM; i += 4) {
        uint32_t v = g_rand_int(rnd);
        memcpy(f.vram + i, &v, 4);
    }
    uint8_t *model = g_malloc(VRAM);
    memcpy(model, f.vram, VRAM);
    uint8_t sys[64 * 1024];
    for (int iter = 0; iter < 9 * 40; iter++) {
        Blt b;
        int kind = iter % 9;
        random_blt(rnd, &b, kind);
        bool is_sys = b.mode & 0x04;
        uint32_t n = is_sys ? sys_len(&b) : 0;
        g_assert_cmpuint(n, <=, sizeof(sys));
        for (uint32_t i = 0; i < n; i++)
            sys[i] = (uint8_t)g_rand_int(rnd);
        ref_blt(model, &b, is_sys ? sys : NULL);
        blt_program(&f, &b, iter & 1);
        if (is_sys) {
            g_assert_cmphex(gr_rd(&f, 0x31) & 1, ==, 1); /* busy until the data arrived */
            blt_feed(&f, sys, n, iter & 2);
        }
        g_assert_cmphex(gr_rd(&f, 0x31) & 3, ==, 0);
        if (memcmp(model, f.vram, VRAM) != 0) {
            uint32_t at = 0;
            while (model[at] == f.vram[at])
                at++;
            g_error("blit %d kind %d mode %02x rop %02x: vram differs at %06x (%02x, model %02x)",
                    iter, kind, b.mode, b.rop, at, f.vram[at], model[at]);
        }
    }
    /* Every ROP on a known pair of bytes. */
    for (int r = 0; r < 16; r++) {
        Blt b = {.w = 1, .h = 1, .dst = 0x1000, .src = 0x2000, .rop = rops[r]};
        f.vram[0x1000] = 0x3c;
        f.vram[0x2000] = 0x5a;
        uint8_t d = 0x3c, s = 0x5a, want;
        switch (rops[r]) {
        case 0x00: want = 0; break;
        case 0x05: want = s & d; break;
        case 0x06: want = d; break;
        case 0x09: want = s & ~d; break;
        case 0x0b: want = ~d; break;
        case 0x0d: want = s; break;
        case 0x0e: want = 0xff; break;
        case 0x50: want = ~s & d; break;
        case 0x59: want = s ^ d; break;
        case 0x6d: want = s | d; break;
        case 0x90: want = ~(s | d); break;
        case 0x95: want = ~(s ^ d); break;
        case 0xad: want = s | ~d; break;
        case 0xd0: want = ~s; break;
        case 0xd6: want = ~s | d; break;
        default: want = ~(s & d); break;
        }
        blt_program(&f, &b, r & 1);
        g_assert_cmphex(f.vram[0x1000], ==, want);
    }
    /* A blit shows up in the rendered picture: fill a rectangle red and look. */
    hg_cirrus_update(f.c);
    Blt fill = {.w = 2 * 64,
                .h = 16,
                .dpitch = 2048,
                .dst = 2048 * 100 + 2 * 200,
                .mode = 0xc0 | 0x10,
                .modeext = 4,
                .rop = 0x0d,
                .fg = 0xf800};
    blt_program(&f, &fill, false);
    g_assert_cmphex(pixel(&f, 200, 100, NULL, NULL), ==, 0xff0000);
    g_assert_cmphex(pixel(&f, 263, 115, NULL, NULL), ==, 0xff0000);
    g_rand_free(rnd);
    g_free(model);
    fx_free(&f);
}

/* --- Hostile blits ------------------------------------------------------------------------ */

static void expect_refused(Fx *f, const Blt *b, const uint8_t *before)
{
    blt_program(f, b, false);
    g_assert_cmphex(gr_rd(f, 0x31) & 3, ==, 0);
    g_assert_true(memcmp(before, f->vram, VRAM) == 0);
}

static void test_hostile(void)
{
    Fx f;
    fx_init(&f);
    set_mode(&f, 640, 480, 8, 640);
    for (uint32_t i = 0; i < VRAM; i++)
        f.vram[i] = (uint8_t)(i * 7 + (i >> 12));
    uint8_t *before = g_memdup2(f.vram, VRAM);
    /* Destination past the end, forward. */
    expect_refused(&f, &(Blt){.w = 8192, .h = 1, .dst = VRAM - 100, .rop = 0x0d}, before);
    expect_refused(&f, &(Blt){.w = 1, .h = 2, .dpitch = 200, .dst = VRAM - 100, .rop = 0x0d},
                   before);
    /* Backward below address 0. */
    expect_refused(&f, &(Blt){.w = 200, .h = 1, .dst = 100, .src = 5000, .mode = 1, .rop = 0x0d},
                   before);
    expect_refused(&f,
                   &(Blt){.w = 10,
                          .h = 3,
                          .dpitch = 100,
                          .spitch = 100,
                          .dst = 150,
                          .src = 150,
                          .mode = 1,
                          .rop = 0x0d},
                   before);
    /* Source past the end, or below 0 backward. */
    expect_refused(&f, &(Blt){.w = 100, .h = 1, .dst = 0, .src = VRAM - 50, .rop = 0x0d}, before);
    expect_refused(&f, &(Blt){.w = 100, .h = 1, .dst = 5000, .src = 50, .mode = 1, .rop = 0x0d},
                   before);
    /* Huge sizes and pitches. */
    expect_refused(&f, &(Blt){.w = 8192, .h = 2048, .dpitch = 8191, .spitch = 8191, .rop = 0x0d},
                   before);
    expect_refused(&f, &(Blt){.w = 1, .h = 2048, .dpitch = 8191, .rop = 0x0e}, before);
    /* Pattern and colour expansion sources at the very end. */
    expect_refused(&f, &(Blt){.w = 800, .h = 10, .src = VRAM - 500, .mode = 0x80, .rop = 0x0d},
                   before);
    /* Video to system memory is not supported. */
    expect_refused(&f, &(Blt){.w = 16, .h = 1, .mode = 0x02, .rop = 0x0d}, before);
    /* A system-to-screen blit past the end is refused; the CPU's data then goes to the
     * banked window as ordinary writes. */
    expect_refused(
        &f, &(Blt){.w = 64, .h = 4, .dpitch = 640, .dst = VRAM - 64, .mode = 0x04, .rop = 0x0d},
        before);
    hg_bus_write(f.bus, 0xa0000, 0x11223344, 4);
    g_assert_cmphex(hg_bus_read(f.bus, 0xa0000, 4), ==, 0x11223344);
    memcpy(before, f.vram, VRAM);

    /* Valid blits right at the edges, overlapping, checked against the model. */
    uint8_t *model = g_memdup2(f.vram, VRAM);
    Blt edge[] = {
        {.w = 64,
         .h = 4,
         .dpitch = 64,
         .spitch = 64,
         .dst = VRAM - 1,
         .src = VRAM - 6,
         .mode = 1,
         .rop = 0x0d},
        {.w = 64,
         .h = 4,
         .dpitch = 64,
         .spitch = 64,
         .dst = VRAM - 1 - 5,
         .src = VRAM - 1,
         .mode = 1,
         .rop = 0x59},
        {.w = 100,
         .h = 3,
         .dpitch = 1000,
         .spitch = 1000,
         .dst = VRAM - 2100,
         .src = VRAM - 2103,
         .rop = 0x0d},
        {.w = 99, .h = 1, .dst = 1 + 98, .src = 98, .mode = 1, .rop = 0x0d},
        {.w = 30, .h = 10, .dpitch = 0, .spitch = 7, .dst = 0, .src = 3, .rop = 0x6d},
        {.w = 8192, .h = 1, .dst = VRAM - 8192, .src = 0, .rop = 0x0d},
        /* A colour pattern named by its last byte: its 128-byte boundary is taken. */
        {.w = 16, .h = 1, .src = VRAM - 1, .mode = 0x50, .rop = 0x0d},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(edge); i++) {
        ref_blt(model, &edge[i], NULL);
        blt_program(&f, &edge[i], i & 1);
        if (memcmp(model, f.vram, VRAM) != 0) {
            uint32_t at = 0;
            while (model[at] == f.vram[at])
                at++;
            g_error("edge blit %zu differs at %x: %02x model %02x", i, at, f.vram[at], model[at]);
        }
    }

    /* Fuzz: random register values, random data, random accesses. Nothing may crash or
     * touch memory outside video memory (ASan). */
    GRand *rnd = g_rand_new_with_seed(8106);
    for (int iter = 0; iter < 400; iter++) {
        for (int i = 0x20; i <= 0x3f; i++)
            if (i != 0x31)
                gr(&f, (uint8_t)i, (uint8_t)g_rand_int(rnd));
        if (iter & 1) {
            /* Small heights keep big valid blits from taking too long. */
            gr(&f, 0x23, 0);
            gr(&f, 0x22, (uint8_t)g_rand_int_range(rnd, 0, 16));
        }
        gr(&f, 0x2f, (uint8_t)g_rand_int(rnd));
        gr(&f, 0x31, 0x02);
        int n = g_rand_int_range(rnd, 0, 5000);
        for (int i = 0; i < n; i++)
            hg_bus_write(f.bus, 0xa0000 + (uint32_t)g_rand_int_range(rnd, 0, 0x20000),
                         g_rand_int(rnd), 1 << g_rand_int_range(rnd, 0, 3));
        for (int i = 0; i < 20; i++) {
            uint32_t off = g_rand_int_range(rnd, 0, 32 << 20);
            hg_bus_write(f.bus, LFB + off, g_rand_int(rnd), 4);
            hg_bus_read(f.bus, LFB + off, 4);
            hg_bus_write(f.bus, MMIO + 0x100 + g_rand_int_range(rnd, 0, 0x60), g_rand_int(rnd), 1);
        }
        gr(&f, 0x31, 0x04);
        gr(&f, 0x31, 0x00);
        g_assert_cmphex(gr_rd(&f, 0x31) & 1, ==, 0);
    }
    /* Random extended registers and a render in every state they give. */
    for (int iter = 0; iter < 200; iter++) {
        seq(&f, (uint8_t)g_rand_int_range(rnd, 5, 0x20), (uint8_t)g_rand_int(rnd));
        crtc(&f, 0x11, 0);
        crtc(&f, (uint8_t)g_rand_int_range(rnd, 0, 0x20), (uint8_t)g_rand_int(rnd));
        gr(&f, (uint8_t)g_rand_int_range(rnd, 9, 0x0c), (uint8_t)g_rand_int(rnd));
        hg_bus_write(f.bus, 0xa0000 + g_rand_int_range(rnd, 0, 0x20000), g_rand_int(rnd), 4);
        hg_bus_read(f.bus, 0xa0000 + g_rand_int_range(rnd, 0, 0x20000), 4);
        if (iter % 10 == 0) {
            inb(&f, 0x3da);
            outb(&f, 0x3c0, 0x20);
            hg_cirrus_update(f.c);
        }
    }
    g_rand_free(rnd);
    g_free(model);
    g_free(before);
    fx_free(&f);
}

/* --- Save / restore ------------------------------------------------------------------------ */

static void test_save_load(void)
{
    Fx a, b;
    fx_init(&a);
    fx_init(&b);
    set_mode(&a, 800, 600, 16, 1600);
    for (int i = 0; i < 1000; i++)
        hg_bus_write(a.bus, LFB + (uint32_t)i * 997 * 2, (uint32_t)i * 37, 2);
    seq(&a, 0x12, 0x02);
    outb(&a, 0x3c8, 0x0f);
    outb(&a, 0x3c9, 10);
    outb(&a, 0x3c9, 20);
    outb(&a, 0x3c9, 30);
    seq(&a, 0x12, 0x01);
    a.vram[VRAM - 16 * 1024] = 0xff;
    a.vram[VRAM - 16 * 1024 + 128] = 0xff;
    cursor_pos(&a, 33, 44);
    /* A system-to-screen colour expansion half done. */
    Blt blt = {.w = 2 * 100,
               .h = 20,
               .dpitch = 1600,
               .dst = 1600 * 300,
               .mode = 0x94,
               .rop = 0x0d,
               .fg = 0x1234,
               .bg = 0x5678};
    uint8_t data[13 * 20];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13);
    blt_program(&a, &blt, true);
    blt_feed(&a, data, 13 * 9 + 2, 0);
    uint8_t *model = g_memdup2(a.vram, VRAM);

    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_cirrus_save(a.c, &w);
    GBytes *bytes = hg_state_writer_finish(&w);
    gsize len;
    const uint8_t *data_s = g_bytes_get_data(bytes, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data_s, len);
    hg_cirrus_load(b.c, &r);
    g_assert_true(hg_state_ok(&r));
    g_assert_true(memcmp(a.vram, b.vram, VRAM) == 0);
    int wa, ha, wb, hb;
    hg_cirrus_update(a.c);
    hg_cirrus_update(b.c);
    uint32_t *pa = hg_display_snapshot(a.disp, &wa, &ha);
    uint32_t *pb = hg_display_snapshot(b.disp, &wb, &hb);
    g_assert_cmpint(wa, ==, 800);
    g_assert_cmpint(wa, ==, wb);
    g_assert_cmpint(ha, ==, hb);
    g_assert_cmpmem(pa, wa * ha * 4, pb, wb * hb * 4);
    g_free(pa);
    g_free(pb);
    /* Both finish the transfer identically. */
    g_assert_cmphex(gr_rd(&b, 0x31) & 1, ==, 1);
    blt_feed(&a, data + 13 * 9 + 2, sizeof(data) - (13 * 9 + 2), 0);
    blt_feed(&b, data + 13 * 9 + 2, sizeof(data) - (13 * 9 + 2), 0);
    g_assert_true(memcmp(a.vram, b.vram, VRAM) == 0);
    g_assert_false(memcmp(model, b.vram, VRAM) == 0);
    g_assert_cmphex(gr_rd(&b, 0x31) & 1, ==, 0);
    g_assert_cmphex(seq_rd(&b, 6), ==, 0x12);
    for (int i = 0; i < 4; i++)
        inb(&b, 0x3c6);
    g_assert_cmphex(inb(&b, 0x3c6), ==, 0xc1);

    /* Truncated: refused. Corrupted tails (the Cirrus section): loaded or refused, but the
     * guest's next accesses stay inside video memory. */
    hg_state_reader_init(&r, data_s, len / 2);
    hg_cirrus_load(b.c, &r);
    g_assert_false(hg_state_ok(&r));
    GRand *rnd = g_rand_new_with_seed(2615);
    uint8_t *bad = g_malloc(len);
    for (int iter = 0; iter < 60; iter++) {
        memcpy(bad, data_s, len);
        for (int k = 0; k < 8; k++)
            bad[len - 1 - g_rand_int_range(rnd, 0, 8300)] = (uint8_t)g_rand_int(rnd);
        hg_state_reader_init(&r, bad, len);
        hg_cirrus_load(b.c, &r);
        for (int i = 0; i < 3000; i++)
            hg_bus_write(b.bus, 0xa0000 + (i & 0xffff), g_rand_int(rnd), 4);
        hg_bus_write(b.bus, LFB + (16u << 20), g_rand_int(rnd), 4);
        hg_cirrus_update(b.c);
    }
    g_free(bad);
    g_rand_free(rnd);
    g_free(model);
    g_bytes_unref(bytes);
    fx_free(&a);
    fx_free(&b);
}

/* --- SeaBIOS with the Cirrus VGA BIOS --------------------------------------------------------- */

/* A floppy boot sector: a few timer ticks with SeaBIOS' banner on the screen, VBE 4F01/4F02
 * mode 0x117 (1024x768x16) through the BIOS' tables, three pixels through the banked window
 * (4F05 to bank 0, then to the third pixel's bank), 'K' on port 0xE9, a few timer ticks for
 * the display to refresh, then the debug exit port. */
static const uint8_t vbe_boot[] = {
    0xea, 0x05, 0x7c, 0x00, 0x00, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc, 0x00,
    0x7c, 0xfb, 0xb9, 0x04, 0x00, 0xf4, 0xe2, 0xfd, 0xb8, 0x01, 0x4f, 0xb9, 0x17, 0x01, 0xbf,
    0x00, 0x80, 0xcd, 0x10, 0x83, 0xf8, 0x4f, 0x75, 0x56, 0xb8, 0x02, 0x4f, 0xbb, 0x17, 0x01,
    0xcd, 0x10, 0x83, 0xf8, 0x4f, 0x75, 0x49, 0xb8, 0x05, 0x4f, 0x31, 0xdb, 0x31, 0xd2, 0xcd,
    0x10, 0xb8, 0x00, 0xa0, 0x8e, 0xc0, 0x26, 0xc7, 0x06, 0x00, 0x00, 0x00, 0xf8, 0x26, 0xc7,
    0x06, 0x02, 0x00, 0xe0, 0x07, 0xb8, 0xc8, 0x00, 0x31, 0xd2, 0xf7, 0x36, 0x04, 0x80, 0x52,
    0x89, 0xc2, 0xb8, 0x05, 0x4f, 0x31, 0xdb, 0xcd, 0x10, 0x58, 0xc1, 0xe0, 0x0a, 0x89, 0xc7,
    0x26, 0xc7, 0x45, 0x14, 0x1f, 0x00, 0xb0, 0x4b, 0xe6, 0xe9, 0xb9, 0x04, 0x00, 0xf4, 0xe2,
    0xfd, 0xb0, 0x00, 0xe6, 0xf4, 0xb0, 0x46, 0xe6, 0xe9, 0xb0, 0x01, 0xe6, 0xf4, 0xeb, 0xfe,
};

static void con_out(void *opaque, uint8_t byte)
{
    g_string_append_c(opaque, (char)byte);
}

static void test_seabios(void)
{
    const char *bios = "/usr/share/seabios/bios-256k.bin";
    if (!g_file_test(bios, G_FILE_TEST_EXISTS) ||
        !g_file_test(HG_CIRRUS_BIOS, G_FILE_TEST_EXISTS)) {
        g_test_skip("SeaBIOS or its Cirrus VGA BIOS is not installed");
        return;
    }
    uint8_t *img = g_malloc0(1474560);
    memcpy(img, vbe_boot, sizeof(vbe_boot));
    img[510] = 0x55;
    img[511] = 0xaa;
    char *fda = NULL;
    int fd = g_file_open_tmp("hangar-cirrus-XXXXXX", &fda, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_file_set_contents(fda, (const char *)img, 1474560, NULL));
    close(fd);
    g_free(img);
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.bios = g_strdup(bios);
    cfg.fda = g_strdup(fda);
    g_assert_true(hg_config_set_boot(&cfg, "a", NULL));
    cfg.memory_mib = 32;
    cfg.clock = HG_CLOCK_ICOUNT;
    cfg.debug_exit = true;
    cfg.vga = HG_VGA_MODEL_CIRRUS;
    GString *con = g_string_new(NULL);
    HgMachineHooks hooks = {.opaque = con, .debugcon_out = con_out};
    GError *error = NULL;
    HgMachine *m = hg_machine_new(&cfg, &hooks, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);
    HgDisplay *d = hg_machine_display(m);
    bool banner = false;
    HgRunResult res = HG_RUN_BUDGET;
    /* Small slices: SeaBIOS' POST takes only a few milliseconds of instruction-counted time
     * and the boot sector leaves the text screen after a few timer ticks. */
    for (int i = 0; i < 100000 && res == HG_RUN_BUDGET; i++) {
        res = hg_machine_run(m, 20000);
        gchar **lines = hg_display_text_dump(d);
        for (int k = 0; lines && lines[k] && !banner; k++)
            banner = strstr(lines[k], "SeaBIOS (version 1.16") != NULL;
        g_strfreev(lines);
    }
    g_test_message("run result %d, console \"%s\", icount %" G_GUINT64_FORMAT, res, con->str,
                   hg_machine_icount(m));
    g_assert_true(banner); /* the VGA BIOS drew SeaBIOS' banner in text mode */
    g_assert_cmpint(res, ==, HG_RUN_EXITED);
    /* SeaBIOS' log (ports 0x402/0xE9) shows the Cirrus VGA BIOS ran; then the boot sector's
     * 'K'. */
    g_assert_nonnull(strstr(con->str, "Start SeaVGABIOS"));
    g_assert_nonnull(strstr(con->str, "cirrus"));
    g_assert_true(g_str_has_suffix(con->str, "K"));
    g_assert_cmpint(hg_machine_exit_status(m), ==, 1);
    int w, h;
    uint32_t *px = hg_display_snapshot(d, &w, &h);
    g_assert_cmpint(w, ==, 1024);
    g_assert_cmpint(h, ==, 768);
    g_assert_cmphex(px[0], ==, 0xff0000);
    g_assert_cmphex(px[1], ==, 0x00ff00);
    g_assert_cmphex(px[100 * 1024 + 10], ==, 0x0000ff);
    g_assert_cmphex(px[100 * 1024 + 11], ==, 0x000000);
    g_free(px);
    hg_machine_free(m);
    g_string_free(con, TRUE);
    g_unlink(fda);
    g_free(fda);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cirrus/identity", test_identity);
    g_test_add_func("/cirrus/modes", test_modes);
    g_test_add_func("/cirrus/cursor", test_cursor);
    g_test_add_func("/cirrus/blits", test_blits);
    g_test_add_func("/cirrus/hostile", test_hostile);
    g_test_add_func("/cirrus/save-load", test_save_load);
    g_test_add_func("/cirrus/seabios-vbe", test_seabios);
    return g_test_run();
}
