/* The CL-GD5446 bitblt engine (CL-GD5446 Technical Reference Manual, "BitBLT Engine";
 * register use as in the XFree86/Xorg cirrus driver and Linux's cirrusfb): GR20-GR3F or the
 * memory-mapped copy of them (0xB8000 with SR17 bit 2, BAR1 + 0x100, or the end of the
 * linear aperture with SR17 bits 2 and 6).
 *
 * Operations: forward and backward copies (GR30 bit 0; addresses of the last byte when
 * backward), the 16 raster operations of GR32, colour expansion of monochrome data to
 * 8/16/24/32 bpp with optional transparency (GR30 bit 3; GR33 bit 1 inverts it), 8x8
 * colour and monochrome patterns (GR30 bit 6; a monochrome pattern's first row is the
 * source address' low three bits; GR2F the pixels skipped on the left, bytes at 24 bpp), solid
 * fills (GR33 bit 2), and system-to-screen transfers (GR30 bit 2): the CPU then writes the
 * source data through the 0xA0000 window, the linear aperture or its blit window, one
 * destination line each time a line's bytes have arrived. Video-to-system blits (GR30 bit
 * 1) are refused.
 *
 * Every blit's destination and source regions are checked against video memory before it
 * starts (and every line again as it is drawn): a blit that would leave video memory is
 * refused as a whole, never wrapped or clipped into other memory. This is the lesson of the
 * Cirrus blitter CVEs (CVE-2014-8106, CVE-2016-9921/9922, CVE-2017-2615/2620/7980).
 */
#include <glib.h>
#include <string.h>

#include "cirrus-internal.h"

/* GR32 codes, as the XFree86 driver maps the X11 GX functions onto them. */
static uint8_t rop(uint8_t r, uint8_t s, uint8_t d)
{
    switch (r) {
    case 0x00: return 0;                  /* GXclear */
    case 0x05: return s & d;              /* GXand */
    case 0x06: return d;                  /* GXnoop */
    case 0x09: return s & (uint8_t)~d;    /* GXandReverse */
    case 0x0b: return (uint8_t)~d;        /* GXinvert */
    case 0x0d: return s;                  /* GXcopy */
    case 0x0e: return 0xff;               /* GXset */
    case 0x50: return (uint8_t)~s & d;    /* GXandInverted */
    case 0x59: return s ^ d;              /* GXxor */
    case 0x6d: return s | d;              /* GXor */
    case 0x90: return (uint8_t) ~(s | d); /* GXnor */
    case 0x95: return (uint8_t) ~(s ^ d); /* GXequiv */
    case 0xad: return s | (uint8_t)~d;    /* GXorReverse */
    case 0xd0: return (uint8_t)~s;        /* GXcopyInverted */
    case 0xd6: return (uint8_t)~s | d;    /* GXorInverted */
    case 0xda: return (uint8_t) ~(s & d); /* GXnand */
    default: return d;                    /* undefined codes leave the destination */
    }
}

int cirrus_blt_mmio_gr(uint32_t off)
{
    static const int8_t map[0x22] = {
        0x00, 0x10, 0x12, 0x14, 0x01, 0x11, 0x13, 0x15, /* background, foreground colour */
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, /* width, height, pitches */
        0x28, 0x29, 0x2a, -1,   0x2c, 0x2d, 0x2e, 0x2f, /* destination, source, write mask */
        0x30, -1,   0x32, 0x33, 0x34, 0x35, -1,   -1,   /* mode, ROP, mode ext, transparency */
        0x38, 0x39,                                     /* transparency mask */
    };
    if (off < sizeof(map))
        return map[off];
    return off == 0x40 ? 0x31 : -1;
}

/* The bytes [addr, addr + span] (backward: [addr - span, addr]) are inside video memory. */
static bool region_ok(uint32_t vram, uint32_t addr, uint32_t pitch, uint32_t w, uint32_t h,
                      bool back)
{
    if (w == 0 || h == 0)
        return false;
    uint64_t span = (uint64_t)(h - 1) * pitch + (w - 1);
    if (back)
        return addr < vram && span <= addr;
    return (uint64_t)addr + span < vram;
}

static void put_pixel(uint8_t *d, uint32_t col, int bpp, uint8_t r)
{
    for (int k = 0; k < bpp; k++)
        d[k] = rop(r, (uint8_t)(col >> (8 * k)), d[k]);
}

/* Pixel p of a line whose first skip bytes are left alone (a 24 bpp skip need not be a
 * whole number of pixels). */
static void put_pixel_at(const CirrusBlt *b, uint8_t *line, uint32_t p, uint32_t col)
{
    uint32_t at = p * b->bpp;
    for (int k = 0; k < b->bpp; k++)
        if (at + k >= b->skip)
            line[at + k] = rop(b->rop, (uint8_t)(col >> (8 * k)), line[at + k]);
}

static int pattern_stride(int bpp)
{
    return bpp == 3 ? 32 : 8 * bpp;
}

/* One destination line from monochrome bits (pixel p uses bit p, most significant first). */
static void expand_line(HgCirrus *c, uint32_t dst, const uint8_t *bits, bool pattern)
{
    CirrusBlt *b = &c->blt;
    HgVga *v = c->vga;
    if (!region_ok(v->vram_size, dst, 0, b->width, 1, false))
        return;
    /* GR33 bit 1 turns the transparency around: the 1 bits are left out and the 0 bits
     * drawn in the background colour (opaque expansion does not look at it), as QEMU and
     * 86Box both do it. */
    bool skip_set = b->modeext & BLTX_INVERT;
    bool transp = b->mode & BLT_TRANSPARENT;
    uint32_t npix = b->width / b->bpp;
    for (uint32_t p = b->skip / b->bpp; p < npix; p++) {
        uint32_t bit = pattern ? (p & 7) : p;
        bool set = (bits[bit >> 3] << (bit & 7)) & 0x80;
        if (transp && set == skip_set)
            continue;
        put_pixel_at(b, v->vram + dst, p, set ? b->fg : b->bg);
    }
    hg_vga_mark_range(v, dst, b->width);
}

/* One destination line from a colour pattern row. */
static void pattern_line(HgCirrus *c, uint32_t dst, const uint8_t *row)
{
    CirrusBlt *b = &c->blt;
    HgVga *v = c->vga;
    if (!region_ok(v->vram_size, dst, 0, b->width, 1, false))
        return;
    uint32_t npix = b->width / b->bpp;
    for (uint32_t p = b->skip / b->bpp; p < npix; p++) {
        const uint8_t *s = row + (p & 7) * b->bpp;
        uint32_t col = 0;
        for (int k = 0; k < b->bpp; k++)
            col |= (uint32_t)s[k] << (8 * k);
        put_pixel_at(b, v->vram + dst, p, col);
    }
    hg_vga_mark_range(v, dst, b->width);
}

/* One line of a copy; src points at host data of width bytes (forward) or is a video
 * memory address (backward, src_addr). Transparency (8 and 16 bpp) skips destination
 * pixels whose source equals GR34/GR35. */
static void copy_line(HgCirrus *c, uint32_t dst, const uint8_t *src, bool back)
{
    CirrusBlt *b = &c->blt;
    HgVga *v = c->vga;
    uint8_t *vram = v->vram;
    bool transp = (b->mode & BLT_TRANSPARENT) && b->bpp <= 2;
    uint32_t w = b->width;
    if (!back) {
        if (!region_ok(v->vram_size, dst, 0, w, 1, false))
            return;
        for (uint32_t i = 0; i < w; i++) {
            if (transp) {
                uint32_t pi = i - i % b->bpp;
                uint32_t sp = src[pi] | (b->bpp == 2 && pi + 1 < w ? src[pi + 1] << 8 : 0);
                if (sp == (b->tcolor & (b->bpp == 2 ? 0xffff : 0xff)))
                    continue;
            }
            vram[dst + i] = rop(b->rop, src[i], vram[dst + i]);
        }
        hg_vga_mark_range(v, dst, w);
    } else {
        if (!region_ok(v->vram_size, dst, 0, w, 1, true))
            return;
        /* src is the last byte of the source line: bytes go from high to low addresses,
         * and the last byte is the high byte of the line's last pixel. */
        for (uint32_t i = 0; i < w; i++) {
            if (transp) {
                uint32_t pi = i - i % b->bpp;
                uint32_t sp = *(src - pi);
                if (b->bpp == 2)
                    sp = (sp << 8) | (pi + 1 < w ? *(src - pi - 1) : 0);
                if (sp == (b->tcolor & (b->bpp == 2 ? 0xffff : 0xff)))
                    continue;
            }
            vram[dst - i] = rop(b->rop, *(src - i), vram[dst - i]);
        }
        hg_vga_mark_range(v, dst - (w - 1), w);
    }
}

static void finish(HgCirrus *c)
{
    /* The data path is a dword FIFO: the rest of the CPU's last dword is not memory data. */
    bool was = c->blt.active || c->blt.swallow;
    c->blt.swallow = c->blt.active ? (uint8_t)((4 - c->blt.fed % 4) % 4) : 0;
    c->blt.active = false;
    if (was || c->blt.swallow)
        cirrus_direct_changed(c);
    c->blt.buf_len = 0;
    c->vga->gr[0x31] &= ~(BLT_BUSY | BLT_START | BLT_FIFOUSED);
}

void cirrus_blt_reset(HgCirrus *c)
{
    finish(c);
}

static void latch(HgCirrus *c)
{
    const uint8_t *gr = c->vga->gr;
    CirrusBlt *b = &c->blt;
    b->width = (gr[0x20] | (uint32_t)(gr[0x21] & 0x1f) << 8) + 1;
    b->height = (gr[0x22] | (uint32_t)(gr[0x23] & 0x07) << 8) + 1;
    b->dpitch = gr[0x24] | (uint32_t)(gr[0x25] & 0x1f) << 8;
    b->spitch = gr[0x26] | (uint32_t)(gr[0x27] & 0x1f) << 8;
    b->dst = gr[0x28] | (uint32_t)gr[0x29] << 8 | (uint32_t)(gr[0x2a] & 0x3f) << 16;
    b->src = gr[0x2c] | (uint32_t)gr[0x2d] << 8 | (uint32_t)(gr[0x2e] & 0x3f) << 16;
    b->mode = gr[0x30];
    b->modeext = gr[0x33];
    b->rop = gr[0x32];
    b->bpp = ((b->mode & BLT_PIXELWIDTH) >> 4) + 1;
    /* GR2F: pixels left out on the left of colour expansions and patterns (bits 0-2); at
     * 24 bpp a count of bytes (bits 0-4), as PCem/86Box and QEMU read it. */
    b->skip = b->bpp == 3 ? gr[0x2f] & 0x1f : (uint8_t)((gr[0x2f] & 7) * b->bpp);
    b->fg = c->gr1 | (uint32_t)gr[0x11] << 8 | (uint32_t)gr[0x13] << 16 | (uint32_t)gr[0x15] << 24;
    b->bg = c->gr0 | (uint32_t)gr[0x10] << 8 | (uint32_t)gr[0x12] << 16 | (uint32_t)gr[0x14] << 24;
    b->tcolor = gr[0x34] | (uint32_t)gr[0x35] << 8;
}

static bool is_solid_fill(const CirrusBlt *b)
{
    return (b->modeext & BLTX_SOLIDFILL) &&
           (b->mode & (BLT_SYSDEST | BLT_TRANSPARENT | BLT_PATTERN | BLT_EXPAND)) ==
               (BLT_PATTERN | BLT_EXPAND);
}

/* Source bytes per line of monochrome data. */
static uint32_t mono_pitch(const CirrusBlt *b)
{
    uint32_t n = (b->width / b->bpp + 7) / 8;
    return (b->modeext & BLTX_DWORDGRAN) ? (n + 3) & ~3u : n;
}

bool cirrus_blt_run(HgCirrus *c)
{
    CirrusBlt *b = &c->blt;
    HgVga *v = c->vga;
    uint32_t vram = v->vram_size;
    b->active = false;
    if (b->mode & BLT_SYSDEST)
        return false; /* video to system memory: not a 5446 feature Linux or X use */
    bool back = (b->mode & BLT_BACKWARDS) && !(b->mode & (BLT_PATTERN | BLT_EXPAND)) &&
                !(b->mode & BLT_SYSSRC);
    if (b->width == 0 || b->width > 8192 || b->height == 0 || b->height > 2048 || b->bpp < 1 ||
        b->bpp > 4)
        return false;
    if (!region_ok(vram, b->dst, b->dpitch, b->width, b->height, back))
        return false;
    if (is_solid_fill(b)) {
        for (uint32_t y = 0; y < b->height; y++) {
            uint32_t d = b->dst + y * b->dpitch;
            for (uint32_t p = 0; p < b->width / b->bpp; p++)
                put_pixel(v->vram + d + p * b->bpp, b->fg, b->bpp, b->rop);
            hg_vga_mark_range(v, d, b->width);
        }
        return true;
    }
    uint32_t pat_size = (b->mode & BLT_EXPAND) ? 8 : 8u * pattern_stride(b->bpp);
    if (b->mode & BLT_SYSSRC) {
        if (b->mode & BLT_PATTERN) {
            b->line_len = pat_size;
            b->lines_left = 1;
        } else {
            b->line_len = (b->mode & BLT_EXPAND) ? mono_pitch(b) : (b->width + 3) & ~3u;
            b->lines_left = b->height;
        }
        if (b->line_len == 0 || b->line_len > BLT_LINE_MAX)
            return false;
        b->buf_len = 0;
        b->fed = 0;
        b->active = true;
        cirrus_direct_changed(c);
        v->gr[0x31] |= BLT_BUSY | BLT_FIFOUSED;
        return true;
    }
    if (b->mode & BLT_PATTERN) {
        /* A monochrome pattern is 8 bytes on an 8-byte boundary, the source address' low
         * three bits giving its first line; a colour pattern sits on a boundary of its own
         * size and starts at its line 0 (the low address bits are not looked at), as
         * PCem/86Box and QEMU do it. */
        bool mono = b->mode & BLT_EXPAND;
        uint32_t base = b->src & ~(pat_size - 1), row0 = mono ? b->src & 7 : 0;
        if (!region_ok(vram, base, 0, pat_size, 1, false))
            return false;
        uint8_t pat[256];
        memcpy(pat, v->vram + base, pat_size);
        for (uint32_t y = 0; y < b->height; y++) {
            uint32_t row = (row0 + y) & 7, d = b->dst + y * b->dpitch;
            if (b->mode & BLT_EXPAND)
                expand_line(c, d, &pat[row], true);
            else
                pattern_line(c, d, &pat[row * pattern_stride(b->bpp)]);
        }
        return true;
    }
    if (b->mode & BLT_EXPAND) {
        uint32_t mp = (b->width / b->bpp + 7) / 8;
        if (mp == 0 || !region_ok(vram, b->src, mp, mp, b->height, false))
            return false;
        for (uint32_t y = 0; y < b->height; y++)
            expand_line(c, b->dst + y * b->dpitch, v->vram + b->src + y * mp, false);
        return true;
    }
    if (!region_ok(vram, b->src, b->spitch, b->width, b->height, back))
        return false;
    for (uint32_t y = 0; y < b->height; y++) {
        if (back)
            copy_line(c, b->dst - y * b->dpitch, v->vram + b->src - y * b->spitch, true);
        else
            copy_line(c, b->dst + y * b->dpitch, v->vram + b->src + y * b->spitch, false);
    }
    return true;
}

void cirrus_blt_start(HgCirrus *c)
{
    if (c->blt.active)
        finish(c);
    latch(c);
    c->vga->gr[0x31] |= BLT_BUSY;
    bool ok = cirrus_blt_run(c);
    if (!ok || !c->blt.active)
        finish(c);
}

bool cirrus_blt_takes(HgCirrus *c)
{
    if (c->blt.active)
        return true;
    if (c->blt.swallow) {
        if (--c->blt.swallow == 0)
            cirrus_direct_changed(c);
        return true;
    }
    return false;
}

void cirrus_blt_feed(HgCirrus *c, uint8_t byte)
{
    CirrusBlt *b = &c->blt;
    if (!b->active || b->line_len == 0 || b->line_len > BLT_LINE_MAX || b->buf_len >= b->line_len)
        return;
    b->buf[b->buf_len++] = byte;
    b->fed++;
    if (b->buf_len < b->line_len)
        return;
    b->buf_len = 0;
    if (b->mode & BLT_PATTERN) {
        for (uint32_t y = 0; y < b->height; y++) {
            uint32_t row = y & 7, d = b->dst + y * b->dpitch;
            if (b->mode & BLT_EXPAND)
                expand_line(c, d, &b->buf[row], true);
            else
                pattern_line(c, d, &b->buf[row * pattern_stride(b->bpp)]);
        }
        finish(c);
        return;
    }
    uint32_t y = b->height - b->lines_left;
    uint32_t d = b->dst + y * b->dpitch;
    if (b->mode & BLT_EXPAND)
        expand_line(c, d, b->buf, false);
    else
        copy_line(c, d, b->buf, false);
    if (--b->lines_left == 0)
        finish(c);
}
