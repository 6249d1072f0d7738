/* Unit tests of the VGA (engine/hw/vga*.c) and the display surface (engine/display.c):
 * the guest's view programmed the way a VGA BIOS does (mode 03h, 13h, 12h, mode X), the
 * planar write/read logic against a reference model written from the IBM description,
 * rendering, dirty rectangles, the text dump, Bochs VBE, hostile programming and
 * save/restore. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "cpu.h"
#include "display.h"
#include "hw/vga.h"
#include "state.h"

typedef struct Fx {
    uint64_t insns;
    HgBus *bus;
    HgClock *clock;
    HgDisplay *disp;
    HgDisplayConsumer *cons; /* the tests' view of the dirty rectangles */
    HgVga *vga;
} Fx;

static uint64_t counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void fx_init(Fx *f, uint32_t vram)
{
    memset(f, 0, sizeof(*f));
    f->bus = hg_bus_new(1 << 20);
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, counter, f);
    f->disp = hg_display_new();
    f->cons = hg_display_add_consumer(f->disp, NULL, NULL);
    f->vga = hg_vga_new(f->bus, f->clock, f->disp, vram);
}

static void fx_free(Fx *f)
{
    hg_vga_free(f->vga);
    hg_display_remove_consumer(f->cons);
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

static void wr(Fx *f, uint32_t addr, uint8_t v)
{
    hg_bus_write(f->bus, addr, v, 1);
}

static uint8_t rd(Fx *f, uint32_t addr)
{
    return (uint8_t)hg_bus_read(f->bus, addr, 1);
}

static void seq(Fx *f, uint8_t i, uint8_t v)
{
    outb(f, 0x3c4, i);
    outb(f, 0x3c5, v);
}

static void gr(Fx *f, uint8_t i, uint8_t v)
{
    outb(f, 0x3ce, i);
    outb(f, 0x3cf, v);
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

/* A test palette with distinct colours: DAC entry i = (i, 3i, 7i) mod 64. */
static void load_dac(Fx *f)
{
    outb(f, 0x3c8, 0);
    for (int i = 0; i < 256; i++) {
        outb(f, 0x3c9, i & 63);
        outb(f, 0x3c9, (i * 3) & 63);
        outb(f, 0x3c9, (i * 7) & 63);
    }
}

static uint32_t dac_colour(int i)
{
    uint32_t c[3] = {i & 63, (i * 3) & 63, (i * 7) & 63};
    for (int k = 0; k < 3; k++)
        c[k] = (c[k] << 2) | (c[k] >> 4);
    return c[0] << 16 | c[1] << 8 | c[2];
}

/* Register tables of the standard VGA BIOS modes (IBM VGA Technical Reference). */
typedef struct ModeRegs {
    uint8_t misc, sr[5], cr[25], gr[9], ar[21];
} ModeRegs;

static const ModeRegs mode03 = {
    0x67,
    {0x03, 0x00, 0x03, 0x00, 0x02},
    {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
     0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00},
};

static const ModeRegs mode13 = {
    0x63,
    {0x03, 0x01, 0x0f, 0x00, 0x0e},
    {0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
     0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00},
};

static const ModeRegs mode12 = {
    0xe3,
    {0x03, 0x01, 0x0f, 0x00, 0x06},
    {0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
     0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00},
};

/* Programs a mode the way SeaVGABIOS' stdvga_set_mode does: misc, sequencer, unlock and
 * load the CRTC, graphics controller, then the attribute controller with the flip-flop
 * reset by reading input status 1, and finally the palette address source bit. */
static void set_mode(Fx *f, const ModeRegs *m)
{
    inb(f, 0x3da);
    outb(f, 0x3c0, 0x00); /* screen off while programming */
    outb(f, 0x3c2, m->misc);
    for (int i = 0; i < 5; i++)
        seq(f, (uint8_t)i, m->sr[i]);
    crtc(f, 0x11, 0x00);
    for (int i = 0; i < 25; i++)
        crtc(f, (uint8_t)i, m->cr[i]);
    for (int i = 0; i < 9; i++)
        gr(f, (uint8_t)i, m->gr[i]);
    inb(f, 0x3da);
    for (int i = 0; i < 21; i++) {
        outb(f, 0x3c0, (uint8_t)i);
        outb(f, 0x3c0, m->ar[i]);
    }
    outb(f, 0x3c0, 0x20);
    load_dac(f);
}

/* A few glyphs of our own: 'H', 'i', a box-drawing horizontal line and a checker. */
static uint8_t glyph(int ch, int row)
{
    switch (ch) {
    case 'H': return (row >= 2 && row < 14) ? (row == 7 ? 0xfe : 0xc6) : 0;
    case 'i': return (row == 4 || (row >= 7 && row < 14)) ? 0x18 : 0;
    case 0xc4: return row == 8 ? 0xff : 0;
    case 0xb1: return (row & 1) ? 0xaa : 0x55;
    default: return (uint8_t)(ch * 37 + row * 11); /* arbitrary but deterministic */
    }
}

/* Loads the font into plane 2 at map 0 as the VGA BIOS does (sequential addressing,
 * plane 2 only, A0000 mapped for 64 KiB), then restores text-mode addressing. */
static void load_font(Fx *f, uint32_t map_base)
{
    seq(f, 2, 0x04);
    seq(f, 4, 0x07);
    gr(f, 4, 0x02);
    gr(f, 5, 0x00);
    gr(f, 6, 0x04);
    for (int ch = 0; ch < 256; ch++)
        for (int row = 0; row < 32; row++)
            wr(f, 0xa0000 + map_base + ch * 32 + row, row < 16 ? glyph(ch, row) : 0);
    seq(f, 2, 0x03);
    seq(f, 4, 0x02);
    gr(f, 4, 0x00);
    gr(f, 5, 0x10);
    gr(f, 6, 0x0e);
}

static uint32_t pixel(Fx *f, int x, int y, int *w, int *h)
{
    HgSurface s;
    hg_display_lock(f->disp, &s);
    *w = s.width;
    *h = s.height;
    uint32_t p = (x < s.width && y < s.height) ? s.pixels[y * (s.stride / 4) + x] : 0xdeadbeef;
    hg_display_unlock(f->disp);
    return p;
}

static int take_dirty(Fx *f, HgRect *rects, int max, HgRect *bounds)
{
    HgSurface s;
    hg_display_lock(f->disp, &s);
    int n = hg_display_take_dirty(f->cons, rects, max, bounds);
    hg_display_unlock(f->disp);
    return n;
}

static void setup_text(Fx *f)
{
    set_mode(f, &mode03);
    load_font(f, 0);
    for (int i = 0; i < 80 * 25; i++) {
        wr(f, 0xb8000 + i * 2, ' ');
        wr(f, 0xb8000 + i * 2 + 1, 0x07);
    }
}

static void test_text_mode(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    setup_text(&f);
    const char *msg = "Hi";
    for (int i = 0; msg[i]; i++) {
        wr(&f, 0xb8000 + i * 2, (uint8_t)msg[i]);
        wr(&f, 0xb8000 + i * 2 + 1, 0x1e); /* yellow on blue */
    }
    wr(&f, 0xb8000 + 4, 0xc4);
    wr(&f, 0xb8000 + 5, 0x1e);
    /* Reads through odd/even addressing give back characters and attributes. */
    g_assert_cmphex(rd(&f, 0xb8000), ==, 'H');
    g_assert_cmphex(rd(&f, 0xb8001), ==, 0x1e);
    crtc(&f, 0x0a, 0x20); /* cursor off for exact pixels */
    hg_vga_update(f.vga);
    int w, h;
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 720);
    g_assert_cmpint(h, ==, 400);
    /* AR maps 0x0e -> 0x3e and 0x01 -> 0x01; the DAC gives the colours. */
    uint32_t fg = dac_colour(0x3e), bg = dac_colour(0x01);
    for (int cell = 0; cell < 3; cell++) {
        int ch = cell == 0 ? 'H' : cell == 1 ? 'i' : 0xc4;
        for (int row = 0; row < 16; row++) {
            uint8_t bits = glyph(ch, row);
            for (int x = 0; x < 9; x++) {
                bool on;
                if (x < 8)
                    on = bits & (0x80 >> x);
                else
                    on = ch >= 0xc0 && ch <= 0xdf && (bits & 1); /* line-graphics rule */
                g_assert_cmphex(pixel(&f, cell * 9 + x, row, &w, &h), ==, on ? fg : bg);
            }
        }
    }
    /* Untouched cells: attribute 0x07 on a space glyph. */
    uint8_t sp = glyph(' ', 3);
    g_assert_cmphex(pixel(&f, 9 * 10, 3, &w, &h), ==, dac_colour((sp & 0x80) ? 0x07 : 0x00));

    /* 40 columns (halved dot clock): each dot drawn twice, 720 pixels wide. */
    seq(&f, 1, 0x08);
    crtc(&f, 0x11, 0x0e); /* unprotect CR0-7 */
    crtc(&f, 0x01, 39);
    hg_vga_update(f.vga);
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 720);
    for (int x = 0; x < 8; x++) {
        uint32_t c = (glyph('H', 7) & (0x80 >> x)) ? fg : bg;
        g_assert_cmphex(pixel(&f, 2 * x, 7, &w, &h), ==, c);
        g_assert_cmphex(pixel(&f, 2 * x + 1, 7, &w, &h), ==, c);
    }
    crtc(&f, 0x01, 0x4f);
    /* 8-dot characters: 640 pixels wide. */
    seq(&f, 1, 0x01);
    hg_vga_update(f.vga);
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 640);

    /* 50 rows: 8-scanline characters. */
    seq(&f, 1, 0x00);
    crtc(&f, 0x09, 0x47);
    hg_vga_update(f.vga);
    gchar **lines = hg_display_text_dump(f.disp);
    g_assert_nonnull(lines);
    g_assert_cmpint(g_strv_length(lines), ==, 50);
    g_strfreev(lines);
    fx_free(&f);
}

static void test_text_blink_cursor(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    setup_text(&f);
    wr(&f, 0xb8000 + 2 * 81, 'H');
    wr(&f, 0xb8000 + 2 * 81 + 1, 0x9e); /* blinking */
    crtc(&f, 0x0a, 0x0e);
    crtc(&f, 0x0b, 0x0f);
    crtc(&f, 0x0e, 0x00);
    crtc(&f, 0x0f, 0x00); /* cursor at (0,0) */
    hg_vga_update(f.vga);
    int w, h;
    /* Cursor phase on at t=0: scanlines 14-15 of cell 0 are foreground (0x07). */
    g_assert_cmphex(pixel(&f, 3, 14, &w, &h), ==, dac_colour(0x07));
    uint8_t g7 = glyph('H', 7);
    uint32_t on_px = pixel(&f, 9 + 1, 16 + 7, &w, &h);
    g_assert_cmphex(on_px, ==, dac_colour((g7 & 0x40) ? 0x3e : 0x01));
    HgRect r[8], b;
    take_dirty(&f, r, 8, &b);
    /* 300 ms later: cursor off, blinking text still on. */
    f.insns = 300000000;
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 3, 14, &w, &h), ==, dac_colour(glyph(' ', 14) & 0x10 ? 7 : 0));
    int n = take_dirty(&f, r, 8, &b);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpint(b.x, ==, 0);
    g_assert_cmpint(b.y, ==, 14);
    g_assert_cmpint(b.w, ==, 9);
    g_assert_cmpint(b.h, ==, 2);
    /* 600 ms: the blinking character shows its background only. */
    f.insns = 600000000;
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 9 + 1, 16 + 7, &w, &h), ==, dac_colour(0x01));
    fx_free(&f);
}

static void test_text_dump_and_dirty(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    g_assert_null(hg_display_text_dump(f.disp));
    setup_text(&f);
    crtc(&f, 0x0a, 0x20);
    const char *banner = "SeaBIOS (version 1.16.2)";
    for (int i = 0; banner[i]; i++)
        wr(&f, 0xb8000 + 160 * 2 + i * 2, (uint8_t)banner[i]);
    wr(&f, 0xb8000 + 160 * 3, 0xc4);
    wr(&f, 0xb8000 + 160 * 3 + 2, 0xb1);
    wr(&f, 0xb8000 + 160 * 3 + 4, 0x82);
    hg_vga_update(f.vga);
    gchar **lines = hg_display_text_dump(f.disp);
    g_assert_nonnull(lines);
    g_assert_cmpint(g_strv_length(lines), ==, 25);
    g_assert_cmpstr(lines[0], ==, "");
    g_assert_cmpstr(lines[2], ==, banner);
    g_assert_cmpstr(lines[3], ==, "─▒é");
    g_strfreev(lines);
    g_assert_cmpuint(hg_cp437_to_unicode(0xff), ==, 0xa0);
    g_assert_cmpuint(hg_cp437_to_unicode(0xb0), ==, 0x2591);
    g_assert_cmpuint(hg_cp437_to_unicode(0x01), ==, 0x263a);
    g_assert_cmpuint(hg_cp437_to_unicode(0x7f), ==, 0x2302);

    HgRect r[8], b;
    uint64_t gen = hg_display_generation(f.disp);
    take_dirty(&f, r, 8, &b);
    /* Nothing changed: nothing dirty. */
    hg_vga_update(f.vga);
    g_assert_cmpint(take_dirty(&f, r, 8, &b), ==, 0);
    /* One character at row 5, column 10: exactly its cell. */
    wr(&f, 0xb8000 + (5 * 80 + 10) * 2, 'i');
    hg_vga_update(f.vga);
    int n = take_dirty(&f, r, 8, &b);
    g_assert_cmpint(n, >=, 1);
    g_assert_cmpint(b.x, ==, 90);
    g_assert_cmpint(b.y, ==, 80);
    g_assert_cmpint(b.w, ==, 9);
    g_assert_cmpint(b.h, ==, 16);
    g_assert_cmpuint(hg_display_generation(f.disp), ==, gen);
    /* Changes made by registers alone (no video memory written) are drawn too, though an
     * idle text frame is skipped: the cursor turned on at cell 0 (scanlines 14-15)... */
    crtc(&f, 0x0a, 0x0e);
    crtc(&f, 0x0b, 0x0f);
    hg_vga_update(f.vga);
    n = take_dirty(&f, r, 8, &b);
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpint(b.x, ==, 0);
    g_assert_cmpint(b.y, ==, 14);
    g_assert_cmpint(b.w, ==, 9);
    g_assert_cmpint(b.h, ==, 2);
    hg_vga_update(f.vga);
    g_assert_cmpint(take_dirty(&f, r, 8, &b), ==, 0);
    /* ... moved to row 1, column 1 (both cells redrawn)... */
    crtc(&f, 0x0f, 81);
    hg_vga_update(f.vga);
    take_dirty(&f, r, 8, &b);
    g_assert_cmpint(b.x, ==, 0);
    g_assert_cmpint(b.y, ==, 14);
    g_assert_cmpint(b.w, ==, 18);
    g_assert_cmpint(b.h, ==, 18);
    /* ... and a DAC colour of the text changed: every cell using it. */
    outb(&f, 0x3c8, 7);
    outb(&f, 0x3c9, 0x3f);
    outb(&f, 0x3c9, 0);
    outb(&f, 0x3c9, 0);
    hg_vga_update(f.vga);
    take_dirty(&f, r, 8, &b);
    g_assert_cmpint(b.w * b.h, >=, 720 * 90);
    /* Switching to mode 13h resizes: new generation, whole screen dirty, no text. */
    set_mode(&f, &mode13);
    hg_vga_update(f.vga);
    g_assert_cmpuint(hg_display_generation(f.disp), >, gen);
    take_dirty(&f, r, 8, &b);
    g_assert_cmpint(b.w, ==, 320);
    g_assert_cmpint(b.h, ==, 200);
    g_assert_null(hg_display_text_dump(f.disp));
    fx_free(&f);
}

static void test_mode13(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    set_mode(&f, &mode13);
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 320; x++)
            wr(&f, 0xa0000 + y * 320 + x, (uint8_t)(x ^ y));
    g_assert_cmphex(rd(&f, 0xa0000 + 5 * 320 + 7), ==, 5 ^ 7);
    hg_vga_update(f.vga);
    int w, h;
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 320);
    g_assert_cmpint(h, ==, 200);
    for (int y = 0; y < 200; y += 7)
        for (int x = 0; x < 320; x += 3)
            g_assert_cmphex(pixel(&f, x, y, &w, &h), ==, dac_colour((x ^ y) & 0xff));
    /* Pel mask applies before the DAC. */
    outb(&f, 0x3c6, 0x0f);
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 0xff, 0, &w, &h), ==, dac_colour(0x0f));
    outb(&f, 0x3c6, 0xff);
    /* A single pixel write dirties only its line. */
    HgRect r[8], b;
    hg_vga_update(f.vga);
    take_dirty(&f, r, 8, &b);
    wr(&f, 0xa0000 + 100 * 320 + 50, 0x42);
    hg_vga_update(f.vga);
    take_dirty(&f, r, 8, &b);
    g_assert_cmpint(b.y, <=, 100);
    g_assert_cmpint(b.y + b.h, >, 100);
    g_assert_cmpint(b.h, <=, 2);
    g_assert_cmphex(pixel(&f, 50, 100, &w, &h), ==, dac_colour(0x42));
    fx_free(&f);
}

static void test_modex(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    set_mode(&f, &mode13);
    /* Unchain (mode X) and retune the CRTC to 480 lines: 320x240. */
    seq(&f, 4, 0x06);
    crtc(&f, 0x14, 0x00);
    crtc(&f, 0x17, 0xe3);
    outb(&f, 0x3c2, 0xe3);
    crtc(&f, 0x11, 0x2c);
    static const uint8_t regs[][2] = {{0x06, 0x0d}, {0x07, 0x3e}, {0x10, 0xea}, {0x11, 0xac},
                                      {0x12, 0xdf}, {0x15, 0xe7}, {0x16, 0x06}};
    for (size_t i = 0; i < G_N_ELEMENTS(regs); i++)
        crtc(&f, regs[i][0], regs[i][1]);
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) {
            seq(&f, 2, (uint8_t)(1 << (x & 3)));
            wr(&f, 0xa0000 + y * 80 + x / 4, (uint8_t)(x + 2 * y));
        }
    /* Second page at offset 80*240, shown by moving the start address. */
    seq(&f, 2, 0x0f);
    for (int i = 0; i < 80 * 240; i++)
        wr(&f, 0xa0000 + 80 * 240 + i, 0x33);
    hg_vga_update(f.vga);
    int w, h;
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 320);
    g_assert_cmpint(h, ==, 240);
    for (int y = 0; y < 240; y += 5)
        for (int x = 0; x < 320; x += 3)
            g_assert_cmphex(pixel(&f, x, y, &w, &h), ==, dac_colour((x + 2 * y) & 0xff));
    crtc(&f, 0x0c, (80 * 240) >> 8);
    crtc(&f, 0x0d, (80 * 240) & 0xff);
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 17, 33, &w, &h), ==, dac_colour(0x33));
    /* Split screen: below line compare (raw line 2*100+1), memory from offset 0. */
    crtc(&f, 0x07, 0x2e); /* line compare bit 8 (CR7 bit 4) and bit 9 (CR9 bit 6) clear */
    crtc(&f, 0x09, 0x01);
    crtc(&f, 0x18, 199);
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 17, 50, &w, &h), ==, dac_colour(0x33));
    g_assert_cmphex(pixel(&f, 17, 100, &w, &h), ==, dac_colour(17));
    g_assert_cmphex(pixel(&f, 18, 101, &w, &h), ==, dac_colour(18 + 2));
    /* Pel panning by 2 pixels (AR13 = 4 in 256-colour modes) on the upper part. */
    crtc(&f, 0x0c, 0);
    crtc(&f, 0x0d, 0);
    crtc(&f, 0x18, 0xff);
    inb(&f, 0x3da);
    outb(&f, 0x3c0, 0x33);
    outb(&f, 0x3c0, 0x04);
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 10, 20, &w, &h), ==, dac_colour((12 + 40) & 0xff));
    fx_free(&f);
}

/* --- Planar write modes against a reference model ----------------------------------- */

typedef struct Model {
    uint8_t plane[4][65536];
    uint8_t latch[4];
} Model;

static void model_write(Model *m, const uint8_t *g, uint8_t map_mask, uint32_t a, uint8_t val)
{
    int rot = g[3] & 7, func = (g[3] >> 3) & 3, mode = g[5] & 3;
    uint8_t rotated = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
    for (int p = 0; p < 4; p++) {
        if (!(map_mask & (1 << p)))
            continue;
        uint8_t out = 0;
        for (int bit = 0; bit < 8; bit++) {
            int l = (m->latch[p] >> bit) & 1, d = 0, sel = (g[8] >> bit) & 1, r;
            if (mode == 1) {
                out |= (uint8_t)(l << bit);
                continue;
            }
            if (mode == 0)
                d = ((g[1] >> p) & 1) ? ((g[0] >> p) & 1) : ((rotated >> bit) & 1);
            else if (mode == 2)
                d = (val >> p) & 1;
            else {
                d = (g[0] >> p) & 1;
                sel &= (rotated >> bit) & 1;
            }
            switch (func) {
            case 0: r = d; break;
            case 1: r = d & l; break;
            case 2: r = d | l; break;
            default: r = d ^ l; break;
            }
            out |= (uint8_t)((sel ? r : l) << bit);
        }
        m->plane[p][a] = out;
    }
}

static uint8_t model_read(Model *m, const uint8_t *g, uint32_t a)
{
    for (int p = 0; p < 4; p++)
        m->latch[p] = m->plane[p][a];
    if (!(g[5] & 8))
        return m->plane[g[4] & 3][a];
    uint8_t res = 0;
    for (int bit = 0; bit < 8; bit++) {
        bool match = true;
        for (int p = 0; p < 4; p++)
            if (((g[7] >> p) & 1) && (((m->plane[p][a] >> bit) & 1) != ((g[2] >> p) & 1)))
                match = false;
        res |= (uint8_t)(match << bit);
    }
    return res;
}

static void test_planar_modes(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    set_mode(&f, &mode12);
    Model *m = g_new0(Model, 1);
    GRand *rnd = g_rand_new_with_seed(1234);
    uint8_t g[9] = {0, 0, 0, 0, 0, 0, 0x05, 0x0f, 0xff};
    uint8_t map_mask = 0x0f;
    for (int step = 0; step < 40000; step++) {
        int what = g_rand_int_range(rnd, 0, 16);
        uint32_t a = g_rand_int_range(rnd, 0, 64) * 997 % 0x10000;
        if (what == 0) {
            int i = g_rand_int_range(rnd, 0, 9);
            static const uint8_t masks[9] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x0b, 0, 0x0f, 0xff};
            if (i == 6)
                continue;
            g[i] = (uint8_t)g_rand_int(rnd) & masks[i];
            gr(&f, (uint8_t)i, g[i]);
        } else if (what == 1) {
            map_mask = (uint8_t)g_rand_int_range(rnd, 0, 16);
            seq(&f, 2, map_mask);
        } else if (what < 8) {
            uint8_t exp = model_read(m, g, a);
            g_assert_cmphex(rd(&f, 0xa0000 + a), ==, exp);
        } else {
            uint8_t val = (uint8_t)g_rand_int(rnd);
            model_write(m, g, map_mask, a, val);
            wr(&f, 0xa0000 + a, val);
        }
    }
    uint32_t size;
    const uint8_t *vram = hg_vga_vram(f.vga, &size);
    for (uint32_t a = 0; a < 0x10000; a++)
        for (int p = 0; p < 4; p++)
            if (vram[a * 4 + p] != m->plane[p][a])
                g_error("plane %d offset %#x: %#x, model %#x", p, a, vram[a * 4 + p],
                        m->plane[p][a]);
    /* Render: 640x480, each pixel from the four planes through the attribute palette. */
    seq(&f, 2, 0x0f);
    hg_vga_update(f.vga);
    int w, h;
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 640);
    g_assert_cmpint(h, ==, 480);
    static const uint8_t ar[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                   0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};
    for (int y = 0; y < 480; y += 3)
        for (int x = 0; x < 640; x += 5) {
            uint32_t a = y * 80 + x / 8;
            int idx = 0;
            for (int p = 0; p < 4; p++)
                idx |= ((m->plane[p][a] >> (7 - (x & 7))) & 1) << p;
            g_assert_cmphex(pixel(&f, x, y, &w, &h), ==, dac_colour(ar[idx]));
        }
    g_rand_free(rnd);
    g_free(m);
    fx_free(&f);
}

static void test_cga_modes(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    /* Mode 04h: 320x200, 2 bpp, odd/even, rows interleaved at 0x2000 via CR17 bit 0. */
    static const ModeRegs mode04 = {
        0x63,
        {0x03, 0x09, 0x03, 0x00, 0x02},
        {0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00,
         0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff},
        {0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff},
        {0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12,
         0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00},
    };
    set_mode(&f, &mode04);
    for (int y = 0; y < 200; y++)
        for (int xb = 0; xb < 80; xb++)
            wr(&f, 0xb8000 + (y & 1) * 0x2000 + (y / 2) * 80 + xb, (uint8_t)(y * 3 + xb));
    hg_vga_update(f.vga);
    int w, h;
    pixel(&f, 0, 0, &w, &h);
    g_assert_cmpint(w, ==, 320);
    g_assert_cmpint(h, ==, 200);
    static const uint8_t ar[4] = {0x00, 0x13, 0x15, 0x17};
    for (int y = 0; y < 200; y += 3)
        for (int x = 0; x < 320; x += 3) {
            uint8_t byte = (uint8_t)(y * 3 + x / 4);
            int c = (byte >> (6 - 2 * (x & 3))) & 3;
            g_assert_cmphex(pixel(&f, x, y, &w, &h), ==, dac_colour(ar[c]));
        }
    fx_free(&f);
}

static void test_registers(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    set_mode(&f, &mode03);
    /* DAC: write index auto-increments after each triplet; reads cycle the same way. */
    outb(&f, 0x3c8, 5);
    for (int i = 0; i < 6; i++)
        outb(&f, 0x3c9, (uint8_t)(0x40 | (10 + i))); /* bits 6-7 dropped */
    g_assert_cmphex(inb(&f, 0x3c8), ==, 7);
    outb(&f, 0x3c7, 5);
    g_assert_cmphex(inb(&f, 0x3c7), ==, 3);
    for (int i = 0; i < 6; i++)
        g_assert_cmphex(inb(&f, 0x3c9), ==, 10 + i);
    /* Attribute flip-flop: reading 0x3DA resets it to "index". */
    inb(&f, 0x3da);
    outb(&f, 0x3c0, 0x12);
    outb(&f, 0x3c0, 0x05);
    outb(&f, 0x3c0, 0x12); /* index again after the data write */
    g_assert_cmphex(inb(&f, 0x3c1), ==, 0x05);
    outb(&f, 0x3c0, 0x0f);
    inb(&f, 0x3da);
    outb(&f, 0x3c0, 0x33);
    g_assert_cmphex(inb(&f, 0x3c0), ==, 0x33);
    inb(&f, 0x3da);
    outb(&f, 0x3c0, 0x20);
    /* CRTC protect: CR0-7 read-only except CR7 bit 4. */
    crtc(&f, 0x11, crtc_rd(&f, 0x11) | 0x80);
    crtc(&f, 0x01, 0x12);
    g_assert_cmphex(crtc_rd(&f, 0x01), ==, 0x4f);
    crtc(&f, 0x07, 0x00);
    g_assert_cmphex(crtc_rd(&f, 0x07), ==, 0x1f & ~0x10);
    crtc(&f, 0x0c, 0x12); /* not protected */
    g_assert_cmphex(crtc_rd(&f, 0x0c), ==, 0x12);
    /* 16-bit writes to an index port write index and data. */
    hg_bus_out(f.bus, 0x3d4, 0x340e, 2);
    g_assert_cmphex(crtc_rd(&f, 0x0e), ==, 0x34);
    /* Mono addressing: the CRTC moves to 0x3B4 and 0x3Dx stops answering. */
    outb(&f, 0x3c2, 0x66);
    g_assert_cmphex(inb(&f, 0x3d5), ==, 0xff);
    outb(&f, 0x3b4, 0x0e);
    g_assert_cmphex(inb(&f, 0x3b5), ==, 0x34);
    g_assert_cmphex(inb(&f, 0x3cc), ==, 0x66);
    outb(&f, 0x3c2, 0x67);
    /* Input status 1 from the virtual clock (mode 03h: 449 lines of 900 dots at 28.322
     * MHz, retrace from line 412 for 2 lines, display end 400). */
    int64_t line_ns = 900LL * 1000000000 / 28322000;
    f.insns = 10 * line_ns + line_ns / 4;
    g_assert_cmphex(inb(&f, 0x3da) & 0x09, ==, 0x00);
    f.insns = 405 * line_ns + line_ns / 4;
    g_assert_cmphex(inb(&f, 0x3da) & 0x09, ==, 0x01);
    f.insns = 412 * line_ns + line_ns / 2;
    g_assert_cmphex(inb(&f, 0x3da) & 0x09, ==, 0x09);
    f.insns = 449 * line_ns + 412 * line_ns + line_ns / 2;
    g_assert_cmphex(inb(&f, 0x3da) & 0x08, ==, 0x08);
    /* Memory map select: with GR6 = 0x0E the A0000 window does not answer. */
    g_assert_cmphex(rd(&f, 0xa0000), ==, 0xff);
    fx_free(&f);
}

static void test_hostile(void)
{
    Fx f;
    fx_init(&f, 16 << 20);
    set_mode(&f, &mode12);
    /* Maximal and minimal CRTC values. */
    crtc(&f, 0x11, 0x00);
    static const uint8_t vals[] = {0x00, 0xff, 0x01, 0x80};
    for (size_t k = 0; k < G_N_ELEMENTS(vals); k++) {
        for (int i = 0; i < 0x19; i++)
            crtc(&f, (uint8_t)i, vals[k]);
        for (int i = 0; i < 9; i++)
            gr(&f, (uint8_t)i, vals[k]);
        for (int i = 0; i < 5; i++)
            seq(&f, (uint8_t)i, vals[k]);
        hg_vga_update(f.vga);
        int w, h;
        pixel(&f, 0, 0, &w, &h);
        g_assert_cmpint(w, >=, 1);
        g_assert_cmpint(w, <=, 2560);
        g_assert_cmpint(h, >=, 1);
        g_assert_cmpint(h, <=, 2048);
        inb(&f, 0x3da);
        for (int i = 0; i < 64; i++)
            outb(&f, 0x3c0, vals[k] ^ (uint8_t)i);
        inb(&f, 0x3da);
        outb(&f, 0x3c0, 0x20);
        hg_vga_update(f.vga);
        for (uint32_t a = 0xa0000; a < 0xc0000; a += 0x3fff)
            wr(&f, a, rd(&f, a) ^ 0x5a);
    }
    /* Text mode with start address and offset wrapping past 64 KiB. */
    set_mode(&f, &mode03);
    crtc(&f, 0x0c, 0xff);
    crtc(&f, 0x0d, 0xf0);
    crtc(&f, 0x13, 0xff);
    hg_vga_update(f.vga);
    /* Bochs VBE with absurd values: geometry clamped, offsets past VRAM drawn black. */
    hg_bus_out(f.bus, 0x1ce, 0, 2);
    hg_bus_out(f.bus, 0x1cf, 0xb0c5, 2);
    g_assert_cmphex(hg_bus_in(f.bus, 0x1cf, 2), ==, 0xb0c5);
    hg_bus_out(f.bus, 0x1ce, 0x0a, 2);
    g_assert_cmpuint(hg_bus_in(f.bus, 0x1cf, 2), ==, 256);
    static const uint16_t d[][2] = {{1, 0xffff}, {2, 0xffff}, {3, 32},     {4, 0x41},
                                    {6, 0xffff}, {8, 0xffff}, {9, 0xffff}, {5, 0xffff}};
    for (size_t i = 0; i < G_N_ELEMENTS(d); i++) {
        hg_bus_out(f.bus, 0x1ce, d[i][0], 2);
        hg_bus_out(f.bus, 0x1cf, d[i][1], 2);
    }
    hg_vga_update(f.vga);
    int w, h;
    g_assert_cmphex(pixel(&f, 100, 100, &w, &h), ==, 0);
    g_assert_cmpint(w, ==, 2560);
    g_assert_cmpint(h, ==, 1600);
    for (uint32_t a = 0xa0000; a < 0xc0000; a += 0x1001)
        wr(&f, a, 0x77);
    hg_vga_lfb_write(f.vga, 0xfffffff0u, 0x12345678, 4);
    g_assert_cmphex(hg_vga_lfb_read(f.vga, (16 << 20) - 2, 4), ==, 0xffff0000);
    fx_free(&f);
}

static void test_dispi(void)
{
    Fx f;
    fx_init(&f, 16 << 20);
    hg_vga_map_lfb(f.vga, HG_VGA_LFB_ISA);
    static const uint16_t d[][2] = {{0, 0xb0c0}, {4, 0}, {1, 640}, {2, 480}, {3, 32}, {4, 0x41}};
    for (size_t i = 0; i < G_N_ELEMENTS(d); i++) {
        hg_bus_out(f.bus, 0x1ce, d[i][0], 2);
        hg_bus_out(f.bus, 0x1cf, d[i][1], 2);
    }
    hg_bus_write(f.bus, HG_VGA_LFB_ISA + (10 * 640 + 20) * 4, 0x00abcdef, 4);
    hg_vga_update(f.vga);
    int w, h;
    g_assert_cmphex(pixel(&f, 20, 10, &w, &h), ==, 0xabcdef);
    g_assert_cmpint(w, ==, 640);
    g_assert_cmpint(h, ==, 480);
    /* Banked window: bank 1 maps VRAM 64 KiB up. */
    hg_bus_out(f.bus, 0x1ce, 5, 2);
    hg_bus_out(f.bus, 0x1cf, 1, 2);
    wr(&f, 0xa0000 + 4, 0x11);
    g_assert_cmphex(hg_bus_read(f.bus, HG_VGA_LFB_ISA + 0x10004, 1), ==, 0x11);
    /* 16 bpp (RGB565). */
    hg_bus_out(f.bus, 0x1ce, 4, 2);
    hg_bus_out(f.bus, 0x1cf, 0, 2);
    hg_bus_out(f.bus, 0x1ce, 3, 2);
    hg_bus_out(f.bus, 0x1cf, 16, 2);
    hg_bus_out(f.bus, 0x1ce, 4, 2);
    hg_bus_out(f.bus, 0x1cf, 0x41, 2);
    hg_bus_write(f.bus, HG_VGA_LFB_ISA + 2 * 641, 0xf800, 2);
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 1, 1, &w, &h), ==, 0xff0000);
    /* 4 bpp (VBE 102h, 800x600x16) as SeaVGABIOS sets it: planar VGA registers with the
     * geometry in CR1/CR12/CR13, dispi enabled at 4 bpp. */
    hg_bus_out(f.bus, 0x1ce, 4, 2);
    hg_bus_out(f.bus, 0x1cf, 0, 2);
    set_mode(&f, &mode12);
    static const uint16_t d4[][2] = {{3, 4}, {1, 800}, {2, 600}, {5, 0}, {4, 0x01}};
    for (size_t i = 0; i < G_N_ELEMENTS(d4); i++) {
        hg_bus_out(f.bus, 0x1ce, d4[i][0], 2);
        hg_bus_out(f.bus, 0x1cf, d4[i][1], 2);
    }
    crtc(&f, 0x11, 0x00);
    crtc(&f, 0x01, 800 / 8 - 1);
    crtc(&f, 0x13, 800 / 16);
    crtc(&f, 0x12, (600 - 1) & 0xff);
    crtc(&f, 0x07, (uint8_t)((crtc_rd(&f, 0x07) & ~0x42) | 0x40)); /* 599: bit 9 */
    gr(&f, 5, 0x02); /* write mode 2: colour 9 to the first 8 pixels of line 599 */
    rd(&f, 0xa0000 + 599 * 100);
    wr(&f, 0xa0000 + 599 * 100, 0x09);
    hg_vga_update(f.vga);
    g_assert_cmphex(pixel(&f, 3, 599, &w, &h), ==, dac_colour(0x39));
    g_assert_cmpint(w, ==, 800);
    g_assert_cmpint(h, ==, 600);
    fx_free(&f);
}

static void test_save_load(void)
{
    Fx a, b;
    fx_init(&a, HG_VGA_STD_VRAM);
    fx_init(&b, HG_VGA_STD_VRAM);
    setup_text(&a);
    for (int i = 0; i < 26; i++)
        wr(&a, 0xb8000 + 160 * 4 + i * 2, (uint8_t)('A' + i));
    inb(&a, 0x3da);
    outb(&a, 0x3c0, 0x31); /* leave the flip-flop at "data" */
    outb(&a, 0x3c7, 9);
    inb(&a, 0x3c9); /* DAC read half-way through a triplet */
    gr(&a, 4, 1);
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_vga_save(a.vga, &w);
    GBytes *bytes = hg_state_writer_finish(&w);
    HgStateReader r;
    gsize len;
    const void *data = g_bytes_get_data(bytes, &len);
    hg_state_reader_init(&r, data, len);
    hg_vga_load(b.vga, &r);
    g_assert_true(hg_state_ok(&r));
    /* Same guest view: flip-flop, DAC position, registers. */
    outb(&b, 0x3c0, 0x00); /* a data write: must not change the index */
    outb(&a, 0x3c0, 0x00);
    g_assert_cmphex(inb(&b, 0x3c0), ==, inb(&a, 0x3c0));
    g_assert_cmphex(inb(&b, 0x3c9), ==, inb(&a, 0x3c9));
    g_assert_cmphex(crtc_rd(&b, 0x0a), ==, crtc_rd(&a, 0x0a));
    inb(&a, 0x3da);
    outb(&a, 0x3c0, 0x20);
    inb(&b, 0x3da);
    outb(&b, 0x3c0, 0x20);
    hg_vga_update(a.vga);
    hg_vga_update(b.vga);
    int wa, ha, wb, hb;
    uint32_t *pa = hg_display_snapshot(a.disp, &wa, &ha);
    uint32_t *pb = hg_display_snapshot(b.disp, &wb, &hb);
    g_assert_cmpint(wa, ==, wb);
    g_assert_cmpint(ha, ==, hb);
    g_assert_cmpmem(pa, wa * ha * 4, pb, wb * hb * 4);
    gchar **lines = hg_display_text_dump(b.disp);
    g_assert_cmpstr(lines[4], ==, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    g_strfreev(lines);
    g_free(pa);
    g_free(pb);
    /* A truncated or corrupted state is refused without harm. */
    hg_state_reader_init(&r, data, len / 2);
    hg_vga_load(b.vga, &r);
    g_assert_false(hg_state_ok(&r));
    GByteArray *bad = g_byte_array_new();
    g_byte_array_append(bad, data, (guint)len);
    for (guint i = 20; i < 300 && i < bad->len; i++)
        bad->data[i] = 0xff;
    hg_state_reader_init(&r, bad->data, bad->len);
    hg_vga_load(b.vga, &r);
    hg_vga_update(b.vga);
    g_byte_array_unref(bad);
    g_bytes_unref(bytes);
    fx_free(&a);
    fx_free(&b);
}

static void test_text_features(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    setup_text(&f);
    crtc(&f, 0x0a, 0x20);
    /* A second font at map 1 (plane 2 offset 16 KiB), inverted glyphs; SR3 = 0x04 selects
     * map 1 for attribute bit 3 = 1 (map A) and map 0 otherwise (map B). */
    seq(&f, 2, 0x04);
    seq(&f, 4, 0x07);
    gr(&f, 4, 0x02);
    gr(&f, 5, 0x00);
    gr(&f, 6, 0x04);
    for (int row = 0; row < 32; row++)
        wr(&f, 0xa0000 + 0x4000 + 'H' * 32 + row, (uint8_t)~glyph('H', row));
    seq(&f, 2, 0x03);
    seq(&f, 4, 0x02);
    gr(&f, 4, 0x00);
    gr(&f, 5, 0x10);
    gr(&f, 6, 0x0e);
    seq(&f, 3, 0x04);
    wr(&f, 0xb8000, 'H');
    wr(&f, 0xb8001, 0x0f); /* bit 3 set: map A = 1 */
    wr(&f, 0xb8002, 'H');
    wr(&f, 0xb8003, 0x07); /* map B = 0 */
    hg_vga_update(f.vga);
    int w, h;
    uint8_t g = glyph('H', 7);
    g_assert_cmphex(pixel(&f, 0, 7, &w, &h), ==, dac_colour((g & 0x80) ? 0x00 : 0x3f));
    g_assert_cmphex(pixel(&f, 9, 7, &w, &h), ==, dac_colour((g & 0x80) ? 0x07 : 0x00));
    /* Mono emulation: attribute 0x01 is underlined on the CR14 scanline. */
    seq(&f, 3, 0x00);
    inb(&f, 0x3da);
    outb(&f, 0x3c0, 0x30);
    outb(&f, 0x3c0, 0x0e); /* mono, line graphics, blink */
    outb(&f, 0x3c0, 0x20);
    crtc(&f, 0x14, 0x0d);
    wr(&f, 0xb8003, 0x01);
    hg_vga_update(f.vga);
    for (int x = 9; x < 18; x++)
        g_assert_cmphex(pixel(&f, x, 13, &w, &h), ==, dac_colour(0x01));
    /* Pel panning by 3 in a 9-dot mode (AR13 = 2): column 0 shows the panned glyph. */
    inb(&f, 0x3da);
    outb(&f, 0x3c0, 0x33);
    outb(&f, 0x3c0, 0x02);
    outb(&f, 0x3c0, 0x20);
    wr(&f, 0xb8003, 0x07);
    hg_vga_update(f.vga);
    for (int x = 0; x < 6; x++) {
        bool on = g & (0x80 >> (x + 3));
        g_assert_cmphex(pixel(&f, x, 7, &w, &h), ==, dac_colour(on ? 0x3f : 0x00));
    }
    /* Hostile text geometry: everything at its maximum, then at zero. */
    crtc(&f, 0x11, 0x00);
    for (int v = 0; v < 2; v++) {
        for (int i = 0; i < 0x19; i++)
            crtc(&f, (uint8_t)i, v ? 0x00 : 0xff);
        hg_vga_update(f.vga);
        pixel(&f, 0, 0, &w, &h);
        g_assert_cmpint(w, <=, 2560);
        g_assert_cmpint(h, <=, 2048);
        gchar **lines = hg_display_text_dump(f.disp);
        g_assert_nonnull(lines);
        g_strfreev(lines);
    }
    fx_free(&f);
}

/* Random register and memory traffic with periodic rendering: must never crash or read
 * outside video memory (run under the sanitizers by make check). */
static void test_fuzz(void)
{
    Fx f;
    fx_init(&f, 1 << 20);
    hg_vga_map_lfb(f.vga, HG_VGA_LFB_ISA);
    GRand *rnd = g_rand_new_with_seed(42);
    for (int step = 0; step < 60000; step++) {
        uint32_t r = g_rand_int(rnd);
        switch (r & 7) {
        case 0:
        case 1: outb(&f, (uint16_t)(0x3b0 + (r >> 8) % 0x30), (uint8_t)(r >> 16)); break;
        case 2: inb(&f, (uint16_t)(0x3b0 + (r >> 8) % 0x30)); break;
        case 3:
            hg_bus_out(f.bus, (uint16_t)(0x1ce + ((r >> 8) & 1)),
                       (r >> 9) % 12 == 0 ? (r >> 16) : (r >> 16) % 16, 2);
            break;
        case 4: wr(&f, 0xa0000 + (r >> 8) % 0x20000, (uint8_t)(r >> 3)); break;
        case 5: rd(&f, 0xa0000 + (r >> 8) % 0x20000); break;
        case 6: hg_bus_write(f.bus, HG_VGA_LFB_ISA + (r >> 4) % (2 << 20), r, 4); break;
        default:
            f.insns += r >> 12;
            if ((step & 255) == 0)
                hg_vga_update(f.vga);
            break;
        }
    }
    hg_vga_update(f.vga);
    g_rand_free(rnd);
    fx_free(&f);
}

/* --- The real SeaVGABIOS on this VGA --------------------------------------------------- */

typedef struct RomFx {
    HgCpu *cpu;
    GString *debug;
} RomFx;

static uint64_t cpu_counter(void *opaque)
{
    RomFx *r = opaque;
    return r->cpu ? r->cpu->icount : 0;
}

static void debug_out(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)port;
    (void)size;
    g_string_append_c(((RomFx *)opaque)->debug, (char)value);
}

static HgExitReason run_to_halt(HgCpu *cpu)
{
    HgExitReason r = HG_EXIT_BUDGET;
    for (int i = 0; i < 200 && r == HG_EXIT_BUDGET; i++)
        r = hg_cpu_run(cpu, 1000000);
    return r;
}

/* Calls INT 10h with AX and BX from a stub at F000:0200 + 16 * slot and runs until it
 * halts. Each call uses a fresh slot: the stub is poked into RAM behind the translator's
 * back, so a reused address would run the old translated code. */
static void int10(HgCpu *cpu, uint8_t *ram, int slot, uint16_t ax, uint16_t bx)
{
    uint8_t stub[] = {0xb8, (uint8_t)ax, (uint8_t)(ax >> 8),
                      0xbb, (uint8_t)bx, (uint8_t)(bx >> 8),
                      0xcd, 0x10,        0xf4};
    uint32_t ip = 0x200 + 16 * (uint32_t)slot;
    memcpy(ram + 0xf0000 + ip, stub, sizeof(stub));
    hg_cpu_load_seg_real(cpu, S_CS, 0xf000);
    cpu->eip = ip;
    cpu->regs[R_ESP] = 0x7000;
    cpu->halted = false;
    g_assert_cmpint(run_to_halt(cpu), ==, HG_EXIT_HALT);
    g_assert_cmphex(cpu->eip, ==, ip + 9);
}

static void surface_size(HgDisplay *d, int *w, int *h)
{
    HgSurface s;
    hg_display_lock(d, &s);
    *w = s.width;
    *h = s.height;
    hg_display_unlock(d);
}

/* Runs Debian's vgabios-isavga.bin (SeaVGABIOS with Bochs dispi) through its POST entry
 * point, as SeaBIOS does, then prints through INT 10h AH=0Eh and reads the screen back. */
static void test_seavgabios(void)
{
    const char *path = "/usr/share/seabios/vgabios-isavga.bin";
    gchar *rom;
    gsize rom_len;
    if (!g_file_get_contents(path, &rom, &rom_len, NULL) || rom_len > 0x10000) {
        g_test_skip("SeaVGABIOS not installed");
        return;
    }
    RomFx rf = {NULL, g_string_new(NULL)};
    HgBus *bus = hg_bus_new(2 << 20);
    HgClock *clock = hg_clock_new(HG_CLOCK_ICOUNT, 10, cpu_counter, &rf);
    HgDisplay *disp = hg_display_new();
    HgVga *vga = hg_vga_new(bus, clock, disp, 16 << 20);
    hg_vga_map_lfb(vga, HG_VGA_LFB_ISA);
    hg_bus_map_io(bus, 0x402, 1, NULL, debug_out, &rf);
    uint8_t *ram = hg_bus_ram(bus);
    memcpy(ram + 0xc0000, rom, rom_len);
    /* IVT: every vector at an IRET; F000:0000 halts (the POST call's return address). */
    for (int v = 0; v < 256; v++) {
        ram[v * 4] = 0x10;
        ram[v * 4 + 1] = 0x00;
        ram[v * 4 + 2] = 0x00;
        ram[v * 4 + 3] = 0xf0;
    }
    ram[0xf0000] = 0xf4;
    ram[0xf0001] = 0xeb;
    ram[0xf0002] = 0xfd;
    ram[0xf0010] = 0xcf;
    const char *msg = "Hangar VGA";
    uint8_t *p = ram + 0xf0100;
    /* mov ax, 0x0003; int 10h: SeaBIOS' enable_vga_console sets mode 3 this way. */
    static const uint8_t set_mode3[] = {0xb8, 0x03, 0x00, 0xcd, 0x10};
    memcpy(p, set_mode3, sizeof(set_mode3));
    p += sizeof(set_mode3);
    for (int i = 0; msg[i]; i++) {
        *p++ = 0xb8; /* mov ax, 0x0E00 | ch */
        *p++ = (uint8_t)msg[i];
        *p++ = 0x0e;
        *p++ = 0xbb; /* mov bx, 0x0007 */
        *p++ = 0x07;
        *p++ = 0x00;
        *p++ = 0xcd; /* int 10h */
        *p++ = 0x10;
    }
    *p++ = 0xf4;
    rf.cpu = hg_cpu_new(bus, NULL);
    HgCpu *cpu = rf.cpu;
    hg_cpu_reset(cpu);
    /* far call C000:0003 with the return address F000:0000 on the stack at 0:7000. */
    ram[0x6ffc] = 0x00;
    ram[0x6ffd] = 0x00;
    ram[0x6ffe] = 0x00;
    ram[0x6fff] = 0xf0;
    hg_cpu_load_seg_real(cpu, S_SS, 0);
    cpu->regs[R_ESP] = 0x6ffc;
    hg_cpu_load_seg_real(cpu, S_CS, 0xc000);
    cpu->eip = 3;
    hg_cpu_update_mode(cpu);
    HgExitReason r = run_to_halt(cpu);
    g_test_message("SeaVGABIOS debug output:\n%s", rf.debug->str);
    g_assert_cmpint(r, ==, HG_EXIT_HALT);
    g_assert_cmphex(cpu->seg[S_CS].sel, ==, 0xf000);
    g_assert_nonnull(strstr(rf.debug->str, "VBE DISPI: lfb_addr=e0000000, size 16 MB"));
    /* INT 10h now points into the ROM. */
    g_assert_cmphex(ram[0x10 * 4 + 3] << 8 | ram[0x10 * 4 + 2], ==, 0xc000);
    hg_cpu_load_seg_real(cpu, S_CS, 0xf000);
    cpu->eip = 0x100;
    cpu->regs[R_ESP] = 0x7000;
    cpu->halted = false;
    r = run_to_halt(cpu);
    g_assert_cmpint(r, ==, HG_EXIT_HALT);
    hg_vga_update(vga);
    gchar **lines = hg_display_text_dump(disp);
    g_assert_nonnull(lines);
    g_assert_cmpint(g_strv_length(lines), ==, 25);
    g_assert_cmpstr(lines[0], ==, msg);
    g_strfreev(lines);
    HgSurface s;
    hg_display_lock(disp, &s);
    g_assert_cmpint(s.width, ==, 720);
    g_assert_cmpint(s.height, ==, 400);
    /* Some pixel of the first row of text is lit (grey on black). */
    int lit = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 90; x++)
            lit += s.pixels[y * (s.stride / 4) + x] != 0;
    hg_display_unlock(disp);
    g_assert_cmpint(lit, >, 50);

    /* Mode 13h through the BIOS: 320x200, default palette entry 15 is white. */
    int w, h, stride;
    int10(cpu, ram, 1, 0x0013, 0);
    hg_bus_write(bus, 0xa0000 + 321, 0x0f, 1);
    hg_vga_update(vga);
    surface_size(disp, &w, &h);
    g_assert_cmpint(w, ==, 320);
    g_assert_cmpint(h, ==, 200);
    uint32_t *px = hg_display_snapshot(disp, &w, &h);
    g_assert_cmphex(px[321], ==, 0xffffff);
    g_assert_cmphex(px[0], ==, 0);
    g_free(px);
    /* Mode 12h: 640x480 planar. */
    int10(cpu, ram, 2, 0x0012, 0);
    hg_vga_update(vga);
    surface_size(disp, &w, &h);
    g_assert_cmpint(w, ==, 640);
    g_assert_cmpint(h, ==, 480);
    /* VBE 101h with the linear framebuffer (640x480x8), then 800x600 at 32 bpp (115h). */
    int10(cpu, ram, 3, 0x4f02, 0x4101);
    g_assert_cmphex(cpu->regs[R_EAX] & 0xffff, ==, 0x004f);
    hg_bus_write(bus, HG_VGA_LFB_ISA + 640 * 2 + 5, 0x0f, 1);
    hg_vga_update(vga);
    px = hg_display_snapshot(disp, &w, &h);
    g_assert_cmpint(w, ==, 640);
    g_assert_cmpint(h, ==, 480);
    g_assert_cmphex(px[640 * 2 + 5], ==, 0xffffff);
    g_free(px);
    int10(cpu, ram, 4, 0x4f02, 0x4115);
    g_assert_cmphex(cpu->regs[R_EAX] & 0xffff, ==, 0x004f);
    hg_bus_out(bus, 0x1ce, 3, 2);
    uint32_t bytespp = (hg_bus_in(bus, 0x1cf, 2) + 7) / 8; /* 115h is 24 bpp in VBE 1.2 */
    g_assert_cmpuint(bytespp, >=, 3);
    hg_bus_write(bus, HG_VGA_LFB_ISA + (800 * 3 + 7) * bytespp, 0x123456, 3);
    hg_vga_update(vga);
    px = hg_display_snapshot(disp, &w, &h);
    g_assert_cmpint(w, ==, 800);
    g_assert_cmpint(h, ==, 600);
    g_assert_cmphex(px[800 * 3 + 7], ==, 0x123456);
    g_free(px);
    (void)stride;
    /* And back to text. */
    int10(cpu, ram, 5, 0x0003, 0);
    hg_vga_update(vga);
    surface_size(disp, &w, &h);
    g_assert_cmpint(w, ==, 720);
    g_assert_cmpint(h, ==, 400);
    hg_cpu_free(cpu);
    hg_vga_free(vga);
    hg_display_free(disp);
    hg_clock_free(clock);
    hg_bus_free(bus);
    g_string_free(rf.debug, TRUE);
    g_free(rom);
}

typedef struct Consumer {
    HgDisplay *d;
    HgDisplayConsumer *cons;
    gint stop;
    int frames, notified;
    uint64_t checksum;
} Consumer;

static gpointer consumer_thread(gpointer opaque)
{
    Consumer *c = opaque;
    while (!g_atomic_int_get(&c->stop)) {
        HgSurface s;
        HgRect r[16], b;
        hg_display_lock(c->d, &s);
        int n = hg_display_take_dirty(c->cons, r, 16, &b);
        for (int i = 0; i < n; i++)
            for (int y = r[i].y; y < r[i].y + r[i].h; y++)
                for (int x = r[i].x; x < r[i].x + r[i].w; x++)
                    c->checksum += s.pixels[y * (s.stride / 4) + x];
        hg_display_unlock(c->d);
        c->frames++;
        g_thread_yield();
    }
    return NULL;
}

static void count_notify(void *opaque, bool resized)
{
    (void)resized;
    ((Consumer *)opaque)->notified++;
}

/* A consumer on another thread reads dirty rectangles while the VGA draws and resizes. */
static void test_display_threads(void)
{
    Fx f;
    fx_init(&f, HG_VGA_STD_VRAM);
    Consumer c = {f.disp, NULL, 0, 0, 0, 0};
    c.cons = hg_display_add_consumer(f.disp, count_notify, &c);
    GThread *t = g_thread_new("consumer", consumer_thread, &c);
    for (int frame = 0; frame < 60; frame++) {
        set_mode(&f, (frame % 3) == 0 ? &mode13 : (frame % 3) == 1 ? &mode12 : &mode03);
        for (int i = 0; i < 2000; i++)
            wr(&f, 0xa0000 + (uint32_t)(i * 37 + frame) % 0x10000, (uint8_t)(i + frame));
        hg_vga_update(f.vga);
    }
    g_atomic_int_set(&c.stop, 1);
    g_thread_join(t);
    g_assert_cmpint(c.notified, >=, 60);
    hg_display_remove_consumer(c.cons);
    fx_free(&f);
}

static void test_display_rects(void)
{
    HgDisplay *d = hg_display_new();
    HgDisplayConsumer *c = hg_display_add_consumer(d, NULL, NULL);
    int stride;
    hg_display_draw_begin(d, 100, 50, &stride);
    hg_display_draw_end(d);
    HgSurface s;
    HgRect r[4], b;
    hg_display_lock(d, &s);
    g_assert_cmpint(hg_display_take_dirty(c, r, 4, &b), ==, 1);
    g_assert_cmpint(r[0].w, ==, 100);
    hg_display_unlock(d);
    hg_display_draw_begin(d, 100, 50, &stride);
    for (int i = 0; i < 10; i++)
        hg_display_draw_dirty(d, i * 10, i * 5, 3, 2);
    hg_display_draw_dirty(d, 90, 45, 50, 50); /* clipped */
    hg_display_draw_end(d);
    hg_display_lock(d, &s);
    int n = hg_display_take_dirty(c, r, 4, &b);
    g_assert_cmpint(n, ==, 1); /* more than 4: the union */
    g_assert_cmpint(b.x, ==, 0);
    g_assert_cmpint(b.y, ==, 0);
    g_assert_cmpint(b.w, ==, 100);
    g_assert_cmpint(b.h, ==, 50);
    g_assert_cmpint(hg_display_take_dirty(c, r, 4, &b), ==, 0);
    hg_display_unlock(d);
    hg_display_remove_consumer(c);
    hg_display_free(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vga/text-mode", test_text_mode);
    g_test_add_func("/vga/text-blink-cursor", test_text_blink_cursor);
    g_test_add_func("/vga/text-dump-dirty", test_text_dump_and_dirty);
    g_test_add_func("/vga/mode13", test_mode13);
    g_test_add_func("/vga/modex", test_modex);
    g_test_add_func("/vga/planar-write-modes", test_planar_modes);
    g_test_add_func("/vga/cga", test_cga_modes);
    g_test_add_func("/vga/registers", test_registers);
    g_test_add_func("/vga/hostile", test_hostile);
    g_test_add_func("/vga/dispi", test_dispi);
    g_test_add_func("/vga/save-load", test_save_load);
    g_test_add_func("/vga/text-features", test_text_features);
    g_test_add_func("/vga/fuzz", test_fuzz);
    g_test_add_func("/vga/seavgabios", test_seavgabios);
    g_test_add_func("/display/rects", test_display_rects);
    g_test_add_func("/display/threads", test_display_threads);
    return g_test_run();
}
