/* VGA scan-out into the machine's HgDisplay: the CRTC's address generation (start address,
 * offset register, byte/word/doubleword modes, CR17 row-scan substitution for CGA
 * interlacing, count by 2/4, line compare, max scan line and double scan), the attribute
 * controller's palette, colour plane enable, pel panning and blink, the text mode character
 * generator (8/9-dot cells, line-graphics rule, two character maps from plane 2, cursor,
 * mono underline), CGA 2 bpp shift-interleave, 16-colour planar and 256-colour modes, and
 * Bochs VBE dispi linear modes. (IBM VGA Technical Reference; FreeVGA "CRTC", "Attribute
 * Controller", "Graphics Controller".)
 *
 * The output is the natural size of the mode (720x400 for mode 03h, 320x200 for 13h,
 * 640x480 for 12h, 320x240 for mode X): double scan and repeated scanlines of a graphics
 * row are folded; geometry is computed from the CRTC, never from a mode number.
 *
 * Only what changed is redrawn: text cells are compared with the previous frame (character,
 * attribute, cursor and blink state per cell and scanline); graphics lines are redrawn when
 * a page of video memory they read was written. Register writes force a full redraw.
 */
#include <glib.h>
#include <string.h>

#include "clock.h"
#include "display.h"
#include "vga-internal.h"

enum { KIND_NONE, KIND_BLANK, KIND_TEXT, KIND_PLANAR, KIND_CGA, KIND_256, KIND_DISPI };

enum {
    CURSOR_HALF_PERIOD_NS = 266666667, /* 16 frames at 60 Hz */
    BLINK_HALF_PERIOD_NS = 533333333,  /* 32 frames */
};

typedef struct Geo {
    int kind;
    int width, height; /* output pixels */
    int chars;         /* character clocks per line */
    int cw;            /* pixels per character clock */
    int hs;            /* horizontal output scale (2 for 40-column text) */
    int rep;           /* raw scanlines per output line */
    int vde, msl, pitch, lc, pan, div;
    uint32_t start;
    bool dbl;
} Geo;

static uint32_t dac_rgb(const HgVga *v, uint8_t idx)
{
    const uint8_t *c = &v->dac[idx * 3];
    if (v->dispi[DISPI_ENABLE] & DISPI_8BIT_DAC)
        return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    uint32_t r = c[0] & 0x3f, g = c[1] & 0x3f, b = c[2] & 0x3f;
    /* 6 to 8 bits, so that 0x3f becomes 0xff. */
    r = (r << 2) | (r >> 4);
    g = (g << 2) | (g >> 4);
    b = (b << 2) | (b >> 4);
    return r << 16 | g << 8 | b;
}

static void build_palettes(const HgVga *v, uint32_t *pal256, uint32_t *pal16)
{
    for (int i = 0; i < 256; i++)
        pal256[i] = dac_rgb(v, (uint8_t)(i & v->pel_mask));
    for (int i = 0; i < 16; i++) {
        uint8_t p = v->ar[i], idx;
        if (v->ar[0x10] & 0x80)
            idx = (p & 0x0f) | ((v->ar[0x14] & 3) << 4);
        else
            idx = p & 0x3f;
        idx |= (v->ar[0x14] & 0x0c) << 4;
        pal16[i] = pal256[idx];
    }
}

static void vga_geometry(const HgVga *v, Geo *g)
{
    const uint8_t *cr = v->cr;
    g->chars = cr[1] + 1;
    g->vde = (cr[0x12] | ((cr[7] & 2) << 7) | ((cr[7] & 0x40) << 3)) + 1;
    g->msl = (cr[9] & 0x1f) + 1;
    g->dbl = cr[9] & 0x80;
    g->pitch = cr[0x13] * 2;
    g->start = (uint32_t)cr[0x0c] << 8 | cr[0x0d];
    g->lc = cr[0x18] | ((cr[7] & 0x10) << 4) | ((cr[9] & 0x40) << 3);
    g->div = (cr[0x14] & 0x20) ? 2 : (cr[0x17] & 8) ? 1 : 0;
    uint8_t pan = v->ar[0x13] & 0x0f;
    if (!(v->gr[6] & 1)) {
        g->kind = KIND_TEXT;
        g->cw = (v->sr[1] & 1) ? 8 : 9;
        /* 40-column text halves the dot clock: draw each dot twice so the screen keeps
         * the 720x400 shape of 80 columns rather than a narrow 360x400. */
        g->hs = (v->sr[1] & 8) ? 2 : 1;
        g->pan = g->cw == 9 ? (pan >= 8 ? 0 : pan + 1) : (pan & 7);
        g->rep = g->dbl ? 2 : 1;
    } else {
        if (v->gr[5] & 0x40) {
            g->kind = KIND_256;
            g->cw = 4;
            g->pan = (pan >> 1) & 3;
        } else {
            g->kind = (v->gr[5] & 0x20) ? KIND_CGA : KIND_PLANAR;
            g->cw = 8;
            g->pan = pan & 7;
        }
        /* Scanlines of one row repeat the same data unless CR17 substitutes the row scan
         * counter into the address (CGA-style interlacing). */
        g->rep = (g->dbl ? 2 : 1) * ((cr[0x17] & 3) == 3 ? g->msl : 1);
    }
    if (!g->hs)
        g->hs = 1;
    g->width = MIN(g->chars * g->cw * g->hs, VGA_MAX_W);
    g->height = MIN((g->vde + g->rep - 1) / g->rep, VGA_MAX_H);
}

/* CRTC memory address (plane offset) for a character counter value and row scan. */
static uint32_t crtc_addr(const HgVga *v, uint32_t ctr, int scan)
{
    const uint8_t *cr = v->cr;
    uint32_t a;
    ctr &= 0xffff;
    if (cr[0x14] & 0x40)
        a = (ctr << 2) | ((ctr >> 14) & 3);
    else if (!(cr[0x17] & 0x40))
        a = (ctr << 1) | ((ctr >> ((cr[0x17] & 0x20) ? 15 : 13)) & 1);
    else
        a = ctr;
    if (!(cr[0x17] & 1))
        a = (a & ~0x2000u) | ((uint32_t)(scan & 1) << 13);
    if (!(cr[0x17] & 2))
        a = (a & ~0x4000u) | ((uint32_t)(scan & 2) << 13);
    return a & 0xffff;
}

/* Character counter at the start of raw scanline L and its row scan; *split is set below
 * the line compare (where the counter restarts at 0). */
static uint32_t line_start(const Geo *g, int L, int *scan, bool *split)
{
    uint32_t base = g->start;
    int l = L;
    *split = false;
    if (L > g->lc) {
        l = L - g->lc - 1;
        base = 0;
        *split = true;
    }
    if (g->dbl)
        l >>= 1;
    int row = l / g->msl;
    *scan = l % g->msl;
    return (base + (uint32_t)row * g->pitch) & 0xffff;
}

static bool page_dirty(const HgVga *v, uint32_t plane_offset)
{
    return v->dirty[((plane_offset * 4) >> VGA_DIRTY_SHIFT) % v->n_pages] & VGA_DIRTY_ANY;
}

/* --- Text -------------------------------------------------------------------------- */

static uint32_t font_base(const HgVga *v, bool map_a)
{
    uint8_t s = v->sr[3];
    int m = map_a ? (((s >> 3) & 4) | ((s >> 2) & 3)) : (((s >> 2) & 4) | (s & 3));
    return (uint32_t)((m & 3) * 2 + (m >> 2)) * 0x2000;
}

static int text_phase(const HgVga *v)
{
    int64_t now = v->clock ? hg_clock_ns(v->clock) : 0;
    return (int)((now / CURSOR_HALF_PERIOD_NS) & 1) | (int)((now / BLINK_HALF_PERIOD_NS) & 1) << 1;
}

/* Whether a text frame can differ from the last one drawn (full aside): with no register
 * written, no video memory page dirty and the same cursor and blink phase, every cell's
 * key (character, attribute, cursor, blink) is what it was, so an idle text screen costs
 * this scan instead of a walk over every cell of every scanline, 60 times a second. */
static bool text_may_change(const HgVga *v)
{
    if (v->regs_written || text_phase(v) != v->text_phase)
        return true;
    for (uint32_t i = 0; i < v->n_pages; i++)
        if (v->dirty[i])
            return true;
    return false;
}

static void render_text(HgVga *v, const Geo *g, uint32_t *fb, int stride, bool full)
{
    uint32_t pal256[256], pal16[16];
    build_palettes(v, pal256, pal16);
    const uint8_t *cr = v->cr, *vram = v->vram;
    int64_t now = v->clock ? hg_clock_ns(v->clock) : 0;
    bool cursor_phase = ((now / CURSOR_HALF_PERIOD_NS) & 1) == 0;
    bool blink_phase = ((now / BLINK_HALF_PERIOD_NS) & 1) == 0;
    v->text_phase = text_phase(v);
    bool blink_en = v->ar[0x10] & 8, mono = v->ar[0x10] & 2, lge = v->ar[0x10] & 4;
    int cur_start = cr[0x0a] & 0x1f, cur_end = cr[0x0b] & 0x1f;
    bool cur_en = !(cr[0x0a] & 0x20) && cursor_phase;
    uint32_t cur_addr = ((uint32_t)cr[0x0e] << 8 | cr[0x0f]) & 0xffff;
    uint32_t fa = font_base(v, true), fb_ = font_base(v, false);
    uint8_t cpe = v->ar[0x12] & 0x0f;
    int cols = g->chars, cw = g->cw;
    size_t need = (size_t)g->height * cols;
    if ((size_t)v->cells_len != need) {
        g_free(v->cells);
        v->cells = g_new(uint32_t, need);
        v->cells_len = (int)need;
        full = true;
    }
    /* The text published for dumps: one row per character row that starts on screen. */
    g_free(v->text_chars);
    v->text_chars = g_malloc0((size_t)cols * (g->height / MAX(g->msl, 1) + 2));
    int text_rows = 0;
    uint32_t keys[VGA_MAX_W / 8 + 2];
    for (int y = 0; y < g->height; y++) {
        int scan;
        bool split;
        uint32_t ctr = line_start(g, y * g->rep, &scan, &split);
        int pan = (split && (v->ar[0x10] & 0x20)) ? 0 : g->pan;
        uint32_t *old = v->cells + (size_t)y * cols;
        int c0 = cols, c1 = -1;
        bool row_start = scan == 0 && text_rows < g->height / MAX(g->msl, 1) + 2;
        for (int c = 0; c < cols; c++) {
            uint32_t ca = (ctr + ((uint32_t)c >> g->div)) & 0xffff;
            uint32_t a = crtc_addr(v, ca, scan);
            uint8_t ch = vram[a * 4], attr = vram[a * 4 + 1];
            uint32_t key = ch | (uint32_t)attr << 8;
            if (cur_en && ca == cur_addr && scan >= cur_start && scan <= cur_end)
                key |= 1u << 16;
            if (blink_en && (attr & 0x80) && !blink_phase)
                key |= 1u << 17;
            keys[c] = key;
            if (row_start)
                v->text_chars[(size_t)text_rows * cols + c] = ch;
            if (full || key != old[c]) {
                c0 = MIN(c0, c);
                c1 = c;
            }
        }
        if (row_start)
            text_rows++;
        if (c1 < 0)
            continue;
        memcpy(old, keys, sizeof(uint32_t) * cols);
        if (pan) {
            c0 = MAX(c0 - 1, 0);
            c1 = MIN(c1 + 1, cols - 1);
        }
        /* Draw cells c0..c1 (+1 for panning) into the line buffer, then copy the panned
         * window into the framebuffer. */
        int last = MIN(c1 + 1, cols - 1);
        for (int c = c0; c <= last; c++) {
            uint32_t key = keys[c];
            uint8_t ch = key & 0xff, attr = (key >> 8) & 0xff;
            uint8_t fg = attr & 0x0f, bg = attr >> 4;
            if (blink_en) {
                bg &= 7;
                if (key & (1u << 17))
                    fg = bg;
            }
            fg &= cpe;
            bg &= cpe;
            uint32_t base = (attr & 8) ? fa : fb_;
            uint32_t goff = (base + (uint32_t)ch * 32 + (uint32_t)scan) & 0xffff;
            uint8_t glyph = scan < 32 ? vram[goff * 4 + 2] : 0;
            /* Underline and cursor cover all dots of the cell, the ninth included. */
            bool solid =
                (mono && (attr & 7) == 1 && scan == (cr[0x14] & 0x1f)) || (key & (1u << 16));
            if (solid)
                glyph = 0xff;
            uint32_t *p = v->line_buf + (size_t)c * cw;
            for (int b = 0; b < 8; b++)
                p[b] = (glyph & (0x80 >> b)) ? pal16[fg] : pal16[bg];
            if (cw == 9)
                p[8] = (solid || (lge && ch >= 0xc0 && ch <= 0xdf && (glyph & 1))) ? pal16[fg]
                                                                                   : pal16[bg];
        }
        int hs = g->hs;
        int x0 = c0 * cw * hs, x1 = MIN((c1 + 1) * cw * hs, g->width);
        for (int x = x0; x < x1; x++) {
            int sx = x / hs + pan;
            fb[(size_t)y * stride + x] = sx < (last + 1) * cw ? v->line_buf[sx] : pal16[0];
        }
        hg_display_draw_dirty(v->display, x0, y, x1 - x0, 1);
    }
    v->text_cols = cols;
    v->text_rows = text_rows;
}

/* --- Graphics ------------------------------------------------------------------------ */

static void render_graphics(HgVga *v, const Geo *g, uint32_t *fb, int stride, bool full)
{
    uint32_t pal256[256], pal16[16];
    build_palettes(v, pal256, pal16);
    const uint8_t *vram = v->vram;
    uint8_t cpe = v->ar[0x12] & 0x0f;
    for (int y = 0; y < g->height; y++) {
        int scan;
        bool split;
        uint32_t ctr = line_start(g, y * g->rep, &scan, &split);
        int pan = (split && (v->ar[0x10] & 0x20)) ? 0 : g->pan;
        int clocks = g->chars + (pan ? 1 : 0);
        bool dirty = full;
        for (int c = 0; c < clocks && !dirty; c++)
            dirty = page_dirty(v, crtc_addr(v, ctr + ((uint32_t)c >> g->div), scan));
        if (!dirty)
            continue;
        uint32_t *p = v->line_buf;
        for (int c = 0; c < clocks; c++) {
            uint32_t a = crtc_addr(v, ctr + ((uint32_t)c >> g->div), scan);
            const uint8_t *m = vram + a * 4;
            if (g->kind == KIND_256) {
                for (int i = 0; i < 4; i++)
                    *p++ = pal256[m[i]];
            } else if (g->kind == KIND_CGA) {
                /* Shift-register interleave: 2 bits per pixel, plane 0 then plane 1;
                 * planes 2/3 give colour bits 2-3 the same way. */
                for (int i = 0; i < 8; i++) {
                    int sh = 6 - 2 * (i & 3);
                    int lo = (m[i >> 2] >> sh) & 3, hi = (m[2 + (i >> 2)] >> sh) & 3;
                    *p++ = pal16[(lo | hi << 2) & cpe];
                }
            } else {
                for (int b = 7; b >= 0; b--) {
                    int idx = ((m[0] >> b) & 1) | ((m[1] >> b) & 1) << 1 | ((m[2] >> b) & 1) << 2 |
                              ((m[3] >> b) & 1) << 3;
                    *p++ = pal16[idx & cpe];
                }
            }
        }
        memcpy(fb + (size_t)y * stride, v->line_buf + pan, sizeof(uint32_t) * g->width);
        hg_display_draw_dirty(v->display, 0, y, g->width, 1);
    }
}

/* --- Bochs VBE linear modes ------------------------------------------------------------ */

static void render_dispi(HgVga *v, int w, int h, uint32_t *fb, int stride, bool full)
{
    const uint16_t *d = v->dispi;
    int bpp = d[DISPI_BPP], bytes = (bpp + 7) / 8;
    uint32_t pal256[256], pal16[16];
    build_palettes(v, pal256, pal16);
    uint64_t line = (uint64_t)MAX(d[DISPI_VIRT_W], d[DISPI_XRES]) * bytes;
    uint64_t base = (uint64_t)d[DISPI_Y_OFF] * line + (uint64_t)d[DISPI_X_OFF] * bytes;
    uint64_t len = (uint64_t)w * bytes;
    for (int y = 0; y < h; y++) {
        uint64_t off = base + (uint64_t)y * line;
        uint32_t *out = fb + (size_t)y * stride;
        bool inside = off + len <= v->vram_size;
        bool dirty = full;
        for (uint64_t pg = off >> VGA_DIRTY_SHIFT;
             inside && !dirty && pg <= (off + len - 1) >> VGA_DIRTY_SHIFT; pg++)
            dirty = v->dirty[pg] & VGA_DIRTY_ANY;
        if (!dirty)
            continue;
        if (!inside) {
            /* Past the end of video memory: black. */
            memset(out, 0, sizeof(uint32_t) * w);
        } else {
            const uint8_t *s = v->vram + off;
            for (int x = 0; x < w; x++, s += bytes) {
                uint32_t px;
                switch (bpp) {
                case 8: px = pal256[s[0]]; break;
                case 15: {
                    uint32_t c = s[0] | s[1] << 8;
                    uint32_t r = (c >> 10) & 31, gg = (c >> 5) & 31, b = c & 31;
                    px = (r << 3 | r >> 2) << 16 | (gg << 3 | gg >> 2) << 8 | (b << 3 | b >> 2);
                    break;
                }
                case 16: {
                    uint32_t c = s[0] | s[1] << 8;
                    uint32_t r = (c >> 11) & 31, gg = (c >> 5) & 63, b = c & 31;
                    px = (r << 3 | r >> 2) << 16 | (gg << 2 | gg >> 4) << 8 | (b << 3 | b >> 2);
                    break;
                }
                default: /* 24 and 32: B, G, R in memory */
                    px = (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0];
                    break;
                }
                out[x] = px;
            }
        }
        hg_display_draw_dirty(v->display, 0, y, w, 1);
    }
}

/* --- Frame ------------------------------------------------------------------------------ */

void hg_vga_render(HgVga *v)
{
    if (!v->display)
        return;
    if (v->ext && v->ext->render(v->ext_opaque))
        return;
    Geo g = {0};
    /* 4 bpp VBE modes are planar: SeaVGABIOS programs the VGA registers for them (mode
     * 6Ah timings, CR1/CR12/CR13 from the VBE geometry), so the VGA path draws them. */
    bool dispi =
        (v->dispi[DISPI_ENABLE] & DISPI_ENABLED) && v->has_dispi && v->dispi[DISPI_BPP] != 4;
    if (dispi) {
        g.kind = KIND_DISPI;
        g.width = CLAMP(v->dispi[DISPI_XRES], 1, DISPI_MAX_X);
        g.height = CLAMP(v->dispi[DISPI_YRES], 1, DISPI_MAX_Y);
    } else {
        vga_geometry(v, &g);
        /* Palette address source cleared or screen off in SR1: the display is blank. */
        if (!(v->ar_index & 0x20) || (v->sr[1] & 0x20))
            g.kind = KIND_BLANK;
    }
    bool full = v->invalidate || g.kind != v->kind || g.width != v->fb_w || g.height != v->fb_h;
    if (g.kind == KIND_TEXT) {
        /* A write to plane 2 may have changed the font. */
        for (uint32_t i = 0; i < v->n_pages && !full; i++)
            full = v->dirty[i] & VGA_DIRTY_FONT;
    }
    if (g.kind == KIND_TEXT && !full && v->kind == KIND_TEXT && !text_may_change(v))
        return;
    v->regs_written = false;
    if (!v->line_buf)
        v->line_buf = g_new0(uint32_t, VGA_MAX_W + 64);
    int stride;
    uint32_t *fb = hg_display_draw_begin(v->display, g.width, g.height, &stride);
    switch (g.kind) {
    case KIND_DISPI: render_dispi(v, g.width, g.height, fb, stride, full); break;
    case KIND_TEXT: render_text(v, &g, fb, stride, full); break;
    case KIND_BLANK:
        if (full) {
            for (int y = 0; y < g.height; y++)
                memset(fb + (size_t)y * stride, 0, sizeof(uint32_t) * g.width);
            hg_display_draw_dirty(v->display, 0, 0, g.width, g.height);
        }
        break;
    default: render_graphics(v, &g, fb, stride, full); break;
    }
    hg_display_draw_end(v->display);
    /* Outside the drawing lock: set_text takes it itself. */
    if (g.kind == KIND_TEXT)
        hg_display_set_text(v->display, v->text_cols, v->text_rows, v->text_chars);
    else if (full || v->kind == KIND_TEXT)
        hg_display_set_text(v->display, 0, 0, NULL);
    v->kind = g.kind;
    v->fb_w = g.width;
    v->fb_h = g.height;
    v->invalidate = false;
    hg_vga_clear_dirty(v);
}
