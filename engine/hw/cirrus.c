/* Cirrus Logic CLGD-5446 PCI VGA (CL-GD5446 Technical Reference Manual; what SeaVGABIOS'
 * clext.c and Linux's cirrus-qemu DRM driver program), built on the standard VGA through the
 * HgVgaExt hooks of vga-internal.h:
 * - sequencer extensions: SR6 unlock (0x12 reads back 0x12, anything else 0x0F), SR7
 *   extended modes and pixel format, SR0F/SR15/SR17 memory and bus configuration, SR10/SR11
 *   cursor position (low three bits in the index register's bits 5-7), SR12 cursor
 *   attributes, SR13 cursor pattern select;
 * - CRTC extensions CR19-CR1D (offset bit 8 in CR1B bit 4, start address bits 16-19 in CR1B
 *   bits 0/2/3 and CR1D bit 7) and the read-only ID CR27 = 0xB8;
 * - graphics controller extensions: GR0/GR1 full bytes, GR5 bit 2 (write modes 4/5), GR9/GRA
 *   bank offsets with 4 KiB or 16 KiB granularity and single/dual banking (GRB), GR10-GR15
 *   colour bytes, GR20-GR3F the bitblt engine (cirrus-blt.c);
 * - the hidden DAC register: after four reads of 0x3C6 the next read returns it and the next
 *   write sets it (any other VGA port access restarts the count);
 * - packed-pixel scan-out in 8 (palette), 15, 16, 24 and 32 bpp and the 32x32/64x64 hardware
 *   cursor (pattern in the last 16 KiB of video memory).
 * Addresses the guest gives are checked against video memory: outside it reads 0xFF and
 * writes are dropped, never wrapped into another part of memory.
 */
#include "cirrus-internal.h"

#include <glib.h>
#include <string.h>

#include "bus.h"
#include "display.h"
#include "pci.h"
#include "state.h"

/* --- Pixel format ---------------------------------------------------------------------- */

/* Bits per pixel of the extended mode, or 0 when SR7 selects the standard VGA. */
static int cirrus_bpp(const HgCirrus *c)
{
    const uint8_t sr7 = c->vga->sr[7];
    if (!(sr7 & 1))
        return 0;
    switch (sr7 & 0x0e) {
    case 0x00: return 8;
    case 0x02:
    case 0x06:
        /* 16 bpp: the hidden DAC chooses 5-5-5 or 5-6-5. */
        return (c->hidden_dac & 0x0f) == 1 ? 16 : 15;
    case 0x04: return 24;
    case 0x08: return 32;
    default: return 8;
    }
}

/* --- Registers ------------------------------------------------------------------------- */

static bool sr_write(HgCirrus *c, uint8_t val)
{
    HgVga *v = c->vga;
    uint8_t idx = v->sr_index & 0x1f;
    if (idx < 5)
        return false;
    switch (idx) {
    case 0x06: v->sr[6] = (val & 0x17) == 0x12 ? 0x12 : 0x0f; return true;
    case 0x10:
        v->sr[0x10] = val;
        c->cursor_x = (uint16_t)(val << 3 | v->sr_index >> 5);
        break;
    case 0x11:
        v->sr[0x11] = val;
        c->cursor_y = (uint16_t)(val << 3 | v->sr_index >> 5);
        break;
    case 0x0f: v->sr[0x0f] = (val & ~0x98) | (v->sr[0x0f] & 0x98); break; /* memory size */
    case 0x15: break;                                                     /* read-only */
    case 0x17: v->sr[0x17] = (val & ~0x38) | (v->sr[0x17] & 0x38); break; /* bus type */
    default: v->sr[idx] = val; break;
    }
    v->invalidate = true;
    return true;
}

void cirrus_gr_write(HgCirrus *c, uint8_t idx, uint8_t val)
{
    HgVga *v = c->vga;
    idx &= 0x3f;
    switch (idx) {
    case 0x00:
        c->gr0 = val;
        v->gr[0] = val & 0x0f;
        break;
    case 0x01:
        c->gr1 = val;
        v->gr[1] = val & 0x0f;
        break;
    case 0x05: v->gr[5] = val & 0x7f; break;
    case 0x21:
    case 0x25:
    case 0x27: v->gr[idx] = val & 0x1f; break;
    case 0x23: v->gr[idx] = val & 0x07; break;
    case 0x2a:
        v->gr[idx] = val & 0x3f;
        if (v->gr[0x31] & BLT_AUTOSTART)
            cirrus_blt_start(c);
        break;
    case 0x2e: v->gr[idx] = val & 0x3f; break;
    case 0x31: {
        uint8_t old = v->gr[0x31];
        v->gr[0x31] = (val & ~(BLT_BUSY | BLT_FIFOUSED)) | (old & (BLT_BUSY | BLT_FIFOUSED));
        if ((old & BLT_RESET) && !(val & BLT_RESET))
            cirrus_blt_reset(c);
        else if (!(old & BLT_START) && (val & BLT_START))
            cirrus_blt_start(c);
        break;
    }
    default:
        if (idx < 9) {
            /* Standard register: the VGA's masks. */
            static const uint8_t masks[9] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff};
            v->gr[idx] = val & masks[idx];
        } else {
            v->gr[idx] = val;
        }
        break;
    }
    if (idx < 0x20)
        v->invalidate = true;
}

uint8_t cirrus_gr_read(HgCirrus *c, uint8_t idx)
{
    idx &= 0x3f;
    if (idx == 0)
        return c->gr0;
    if (idx == 1)
        return c->gr1;
    return c->vga->gr[idx];
}

static bool cr_write(HgCirrus *c, uint8_t val)
{
    HgVga *v = c->vga;
    uint8_t idx = v->cr_index & 0x3f;
    if (idx <= 0x18)
        return false;
    if (idx <= 0x1d && v->cr[idx] != val) {
        v->cr[idx] = val;
        v->invalidate = true;
    }
    return true; /* CR22/24/26/27 are read-only, the rest do not exist */
}

static bool cr_read(HgCirrus *c, uint8_t *out)
{
    HgVga *v = c->vga;
    uint8_t idx = v->cr_index & 0x3f;
    if (idx <= 0x18)
        return false;
    switch (idx) {
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0x1c:
    case 0x1d: *out = v->cr[idx]; break;
    case 0x22: *out = (uint8_t)(v->latch >> (8 * (v->gr[4] & 3))); break;
    case 0x24: *out = v->ar_flip ? 0x80 : 0x00; break;
    case 0x26: *out = v->ar_index & 0x3f; break;
    case 0x27: *out = 0xb8; break; /* CL-GD5446 */
    default: *out = 0x00; break;
    }
    return true;
}

static bool ext_outb(void *opaque, uint16_t port, uint8_t val)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    if (port != 0x3c6)
        c->hidden_count = 0;
    switch (port) {
    case 0x3c5: return sr_write(c, val);
    case 0x3c6:
        if (c->hidden_count == 4) {
            c->hidden_dac = val;
            c->hidden_count = 0;
            v->invalidate = true;
            return true;
        }
        c->hidden_count = 0;
        return false;
    case 0x3c9:
        if (!(v->sr[0x12] & 2))
            return false;
        /* Cursor colours: entries 0 and 15 of a hidden 16-entry palette. */
        c->hidden_pal[(v->dac_write_index & 0x0f) * 3 + v->dac_sub % 3] = val & 0x3f;
        if (++v->dac_sub >= 3) {
            v->dac_sub = 0;
            v->dac_write_index++;
        }
        v->invalidate = true;
        return true;
    case 0x3cf: cirrus_gr_write(c, v->gr_index, val); return true;
    case 0x3b5:
    case 0x3d5: return cr_write(c, val);
    default: return false;
    }
}

static bool ext_inb(void *opaque, uint16_t port, uint8_t *out)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    if (port != 0x3c6)
        c->hidden_count = 0;
    switch (port) {
    case 0x3c6:
        if (++c->hidden_count == 5) {
            c->hidden_count = 0;
            *out = c->hidden_dac;
            return true;
        }
        return false;
    case 0x3c9:
        if (!(v->sr[0x12] & 2))
            return false;
        *out = c->hidden_pal[(v->dac_read_index & 0x0f) * 3 + v->dac_sub % 3];
        if (++v->dac_sub >= 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return true;
    case 0x3cf: *out = cirrus_gr_read(c, v->gr_index); return true;
    case 0x3b5:
    case 0x3d5: return cr_read(c, out);
    default: return false;
    }
}

/* --- Memory ---------------------------------------------------------------------------- */

static uint8_t blt_mmio_readb(HgCirrus *c, uint32_t off)
{
    int gr = cirrus_blt_mmio_gr(off);
    return gr < 0 ? 0xff : cirrus_gr_read(c, (uint8_t)gr);
}

static void blt_mmio_writeb(HgCirrus *c, uint32_t off, uint8_t val)
{
    int gr = cirrus_blt_mmio_gr(off);
    if (gr >= 0)
        cirrus_gr_write(c, (uint8_t)gr, val);
}

/* Offset in the 64 KiB banked window to a video memory address (GR9/GRA, GRB). */
static bool bank_addr(const HgCirrus *c, uint32_t off, uint64_t *addr)
{
    const uint8_t *gr = c->vga->gr;
    int bank = (off >> 15) & 1;
    uint64_t base = (gr[0x0b] & 1) ? gr[9 + bank] : gr[9];
    base <<= (gr[0x0b] & 0x20) ? 14 : 12;
    if (!(gr[0x0b] & 1) && bank)
        base += 0x8000;
    *addr = base + (off & 0x7fff);
    return *addr < c->vga->vram_size;
}

static bool ext_mem_read(void *opaque, uint32_t off, uint8_t *out)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    if ((v->sr[0x17] & 0x44) == 0x04 && off >= 0x18000 && off < 0x18100) {
        *out = blt_mmio_readb(c, off - 0x18000);
        return true;
    }
    if (!(v->sr[7] & 1))
        return false;
    uint64_t a;
    *out = (off < 0x10000 && bank_addr(c, off, &a)) ? v->vram[a] : 0xff;
    return true;
}

/* Write modes 4 and 5 (GRB bit 2): each data bit writes the foreground colour (GR1/GR11)
 * or, in mode 5, the background colour (GR0/GR10) to one pixel of eight. */
static void write_mode45(HgCirrus *c, uint64_t a, uint8_t val, int mode)
{
    HgVga *v = c->vga;
    bool wide = (v->gr[0x0b] & 0x14) == 0x14;
    int bytes = wide ? 2 : 1;
    a <<= wide ? 4 : 3;
    for (int i = 0; i < 8; i++, val <<= 1) {
        uint64_t p = a + (uint64_t)i * bytes;
        if (p + bytes > v->vram_size)
            break;
        if (val & 0x80) {
            v->vram[p] = c->gr1;
            if (wide)
                v->vram[p + 1] = v->gr[0x11];
        } else if (mode == 5) {
            v->vram[p] = c->gr0;
            if (wide)
                v->vram[p + 1] = v->gr[0x10];
        }
    }
    hg_vga_mark_range(v, (uint32_t)MIN(a, v->vram_size - 1), 8u * bytes);
}

static bool ext_mem_write(void *opaque, uint32_t off, uint8_t val)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    if ((v->sr[0x17] & 0x44) == 0x04 && off >= 0x18000 && off < 0x18100) {
        blt_mmio_writeb(c, off - 0x18000, val);
        return true;
    }
    if (off < 0x10000 && cirrus_blt_takes(c)) {
        cirrus_blt_feed(c, val);
        return true;
    }
    if (!(v->sr[7] & 1))
        return false;
    uint64_t a;
    if (off >= 0x10000 || !bank_addr(c, off, &a))
        return true;
    int mode = v->gr[5] & 7;
    if ((v->gr[0x0b] & 4) && (mode == 4 || mode == 5)) {
        write_mode45(c, a, val, mode);
        return true;
    }
    v->vram[a] = val;
    hg_vga_mark_range(v, (uint32_t)a, 1);
    return true;
}

/* BAR0: 0-16 MiB video memory (mirrored every vram_size; with SR17 bits 2 and 6 its last
 * 256 bytes are the blitter registers), 16-32 MiB the system-to-screen aperture. */
uint32_t hg_cirrus_lfb_read(void *opaque, uint32_t off, int size)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    uint32_t val = 0;
    uint32_t a0 = off & (v->vram_size - 1);
    if (off < (16u << 20) && size <= 4 && a0 + size <= v->vram_size - 256) {
        /* The common case: plain video memory (little-endian host, as elsewhere). */
        memcpy(&val, v->vram + a0, size);
        return val;
    }
    for (int i = 0; i < size; i++) {
        uint32_t o = off + i;
        uint8_t b = 0xff;
        if (o < (16u << 20)) {
            uint32_t a = o & (v->vram_size - 1);
            if ((v->sr[0x17] & 0x44) == 0x44 && a >= v->vram_size - 256)
                b = blt_mmio_readb(c, a & 0xff);
            else
                b = v->vram[a];
        }
        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

/* The CPU's direct access to video memory through BAR0 (hg_bus_set_direct): the pages the
 * fast paths of the handlers above treat as plain memory, the first 16 MiB but for the
 * last page of each video memory mirror (its last 256 bytes can be the blitter's
 * registers). Writes go to the handlers while a system-to-screen blit takes them (or the
 * rest of its last dword is swallowed). A page mapped for writing is dirty until the next
 * frame clears the dirty pages, which makes the CPU map it again (hg_vga_clear_dirty). */
static uint8_t *lfb_direct_page(void *opaque, uint32_t off, bool *writable)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    uint32_t a = off & (v->vram_size - 1);
    *writable = false;
    if (off >= (16u << 20) || a + 0x1000 > v->vram_size - 0x1000)
        return NULL;
    *writable = !c->blt.active && !c->blt.swallow;
    return v->vram + a;
}

static void lfb_direct_written(void *opaque, uint32_t off)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    hg_vga_mark_range(v, off & (v->vram_size - 1), 0x1000);
    v->direct_mapped = true;
}

void cirrus_direct_changed(HgCirrus *c)
{
    hg_bus_rearm_direct(c->bus);
}

void hg_cirrus_lfb_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    uint32_t a0 = off & (v->vram_size - 1);
    if (off < (16u << 20) && size <= 4 && a0 + size <= v->vram_size - 256 && !c->blt.active &&
        !c->blt.swallow) {
        memcpy(v->vram + a0, &val, size);
        hg_vga_mark_range(v, a0, size);
        return;
    }
    for (int i = 0; i < size; i++) {
        uint32_t o = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (o >= (16u << 20)) {
            if (cirrus_blt_takes(c))
                cirrus_blt_feed(c, b);
            continue;
        }
        uint32_t a = o & (v->vram_size - 1);
        if ((v->sr[0x17] & 0x44) == 0x44 && a >= v->vram_size - 256) {
            blt_mmio_writeb(c, a & 0xff, b);
        } else if (cirrus_blt_takes(c)) {
            cirrus_blt_feed(c, b);
        } else {
            v->vram[a] = b;
            hg_vga_mark_range(v, a, 1);
        }
    }
}

/* BAR1: 0x000-0x0FF the VGA ports from 0x3C0, 0x100-0x1FF the blitter registers. */
uint32_t hg_cirrus_mmio_read(void *opaque, uint32_t off, int size)
{
    HgCirrus *c = opaque;
    uint32_t val = 0;
    for (int i = 0; i < size; i++) {
        uint32_t o = off + i;
        uint8_t b = 0xff;
        if (o < 0x20)
            b = (uint8_t)hg_bus_in(c->bus, (uint16_t)(0x3c0 + o), 1);
        else if (o >= 0x100 && o < 0x200)
            b = blt_mmio_readb(c, o - 0x100);
        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

void hg_cirrus_mmio_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    HgCirrus *c = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t o = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (o < 0x20)
            hg_bus_out(c->bus, (uint16_t)(0x3c0 + o), b, 1);
        else if (o >= 0x100 && o < 0x200)
            blt_mmio_writeb(c, o - 0x100, b);
    }
}

/* --- Scan-out ---------------------------------------------------------------------------- */

static uint32_t rgb6(const uint8_t *c)
{
    uint32_t r = c[0] & 0x3f, g = c[1] & 0x3f, b = c[2] & 0x3f;
    return (r << 2 | r >> 4) << 16 | (g << 2 | g >> 4) << 8 | (b << 2 | b >> 4);
}

static void convert_line(const uint8_t *s, uint32_t *out, int w, int bpp, const uint32_t *pal)
{
    for (int x = 0; x < w; x++) {
        uint32_t px;
        switch (bpp) {
        case 8:
            px = pal[s[0]];
            s += 1;
            break;
        case 15: {
            uint32_t c = s[0] | s[1] << 8, r = (c >> 10) & 31, g = (c >> 5) & 31, b = c & 31;
            px = (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
            s += 2;
            break;
        }
        case 16: {
            uint32_t c = s[0] | s[1] << 8, r = (c >> 11) & 31, g = (c >> 5) & 63, b = c & 31;
            px = (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
            s += 2;
            break;
        }
        case 24:
            px = (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0];
            s += 3;
            break;
        default:
            px = (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0];
            s += 4;
            break;
        }
        out[x] = px;
    }
}

/* Cursor pattern of one line: plane 0 only inverts, plane 1 only draws colour 0, both
 * draw colour 15 (hidden palette). */
static void draw_cursor_line(const HgCirrus *c, uint32_t *out, int w, int row, int size)
{
    const HgVga *v = c->vga;
    uint32_t base = v->vram_size - 16 * 1024;
    const uint8_t *p0, *p1;
    if (size == 64) {
        base += (v->sr[0x13] & 0x3c) * 256u + (uint32_t)row * 16;
        p0 = v->vram + base;
        p1 = p0 + 8;
    } else {
        base += (v->sr[0x13] & 0x3f) * 256u + (uint32_t)row * 4;
        p0 = v->vram + base;
        p1 = p0 + 128;
    }
    uint32_t col0 = rgb6(&c->hidden_pal[0]), col1 = rgb6(&c->hidden_pal[45]);
    for (int i = 0; i < size; i++) {
        int x = c->cursor_x + i;
        if (x >= w)
            break;
        uint8_t m = 0x80 >> (i & 7);
        int b = ((p0[i >> 3] & m) ? 1 : 0) | ((p1[i >> 3] & m) ? 2 : 0);
        if (b == 1)
            out[x] ^= 0xffffff;
        else if (b == 2)
            out[x] = col0;
        else if (b == 3)
            out[x] = col1;
    }
}

static bool range_dirty(const HgVga *v, uint64_t off, uint64_t len)
{
    if (!len)
        return false;
    for (uint64_t p = off >> VGA_DIRTY_SHIFT; p <= (off + len - 1) >> VGA_DIRTY_SHIFT; p++)
        if (p < v->n_pages && (v->dirty[p] & VGA_DIRTY_ANY))
            return true;
    return false;
}

static bool ext_render(void *opaque)
{
    HgCirrus *c = opaque;
    HgVga *v = c->vga;
    int bpp = cirrus_bpp(c);
    if (!bpp) {
        c->cur_drawn = false;
        return false;
    }
    const uint8_t *cr = v->cr;
    int w = CLAMP((cr[1] + 1) * 8, 8, VGA_MAX_W);
    int h = CLAMP((cr[0x12] | (cr[7] & 2) << 7 | (cr[7] & 0x40) << 3) + 1, 1, VGA_MAX_H);
    uint64_t pitch = (uint64_t)(cr[0x13] | (cr[0x1b] & 0x10) << 4) * 8;
    uint64_t start = ((uint64_t)cr[0x0c] << 8 | cr[0x0d] | (uint64_t)(cr[0x1b] & 1) << 16 |
                      (uint64_t)(cr[0x1b] & 0x0c) << 15 | (uint64_t)(cr[0x1d] & 0x80) << 12) *
                     4;
    int bytes = (bpp + 7) / 8;
    /* Only the palette address source blanks extended modes: SeaVGABIOS' Cirrus tables load
     * SR1 = 0x21 (screen off) for them and nothing turns it back on (QEMU does not blank
     * on it either). */
    bool blank = !(v->ar_index & 0x20);
    bool full = v->invalidate || v->kind != VGA_KIND_EXT || w != v->fb_w || h != v->fb_h;

    bool cur_on = (v->sr[0x12] & 1) && !blank;
    int cur_size = (v->sr[0x12] & 4) ? 64 : 32;
    uint32_t pat = v->vram_size - 16 * 1024 +
                   (cur_size == 64 ? (v->sr[0x13] & 0x3c) : (v->sr[0x13] & 0x3f)) * 256u;
    bool cur_changed = cur_on != c->cur_drawn ||
                       (cur_on && (c->cursor_x != c->cur_drawn_x || c->cursor_y != c->cur_drawn_y ||
                                   cur_size != c->cur_drawn_size ||
                                   range_dirty(v, pat, cur_size == 64 ? 1024 : 256)));

    uint32_t pal[256];
    for (int i = 0; i < 256; i++)
        pal[i] = rgb6(&v->dac[(i & v->pel_mask) * 3]);
    int stride;
    uint32_t *fb = hg_display_draw_begin(v->display, w, h, &stride);
    for (int y = 0; y < h; y++) {
        uint32_t *out = fb + (size_t)y * stride;
        uint64_t off = start + (uint64_t)y * pitch, len = (uint64_t)w * bytes;
        bool in_old = c->cur_drawn && y >= c->cur_drawn_y && y < c->cur_drawn_y + c->cur_drawn_size;
        bool in_new = cur_on && y >= c->cursor_y && y < c->cursor_y + cur_size;
        if (!full && !((in_old || in_new) && cur_changed) && !range_dirty(v, off, len))
            continue;
        if (blank || off + len > v->vram_size)
            memset(out, 0, sizeof(uint32_t) * w); /* past the end of video memory: black */
        else
            convert_line(v->vram + off, out, w, bpp, pal);
        if (in_new)
            draw_cursor_line(c, out, w, y - c->cursor_y, cur_size);
        hg_display_draw_dirty(v->display, 0, y, w, 1);
    }
    hg_display_draw_end(v->display);
    if (full || v->kind != VGA_KIND_EXT)
        hg_display_set_text(v->display, 0, 0, NULL);
    c->cur_drawn = cur_on;
    c->cur_drawn_x = c->cursor_x;
    c->cur_drawn_y = c->cursor_y;
    c->cur_drawn_size = cur_size;
    v->kind = VGA_KIND_EXT;
    v->fb_w = w;
    v->fb_h = h;
    v->invalidate = false;
    hg_vga_clear_dirty(v);
    return true;
}

/* --- Life cycle ---------------------------------------------------------------------------- */

static const HgVgaExt cirrus_ext = {
    .outb = ext_outb,
    .inb = ext_inb,
    .mem_read = ext_mem_read,
    .mem_write = ext_mem_write,
    .render = ext_render,
    .no_dispi = true,
};

HgCirrus *hg_cirrus_new(HgBus *bus, HgClock *clock, HgDisplay *display, HgPciBus *pci, int devfn,
                        const char *rom_path)
{
    HgCirrus *c = g_new0(HgCirrus, 1);
    c->bus = bus;
    c->vga = hg_vga_new_ext(bus, clock, display, HG_CIRRUS_VRAM, &cirrus_ext, c);
    if (pci) {
        c->pci = hg_pci_register(pci, devfn, HG_CIRRUS_VENDOR, HG_CIRRUS_DEVICE, 0, 0x030000, c);
        hg_pci_set_bar(c->pci, 0, HG_CIRRUS_BAR0_SIZE, HG_PCI_BAR_MEM | HG_PCI_BAR_PREFETCH,
                       hg_cirrus_lfb_read, hg_cirrus_lfb_write);
        hg_pci_set_bar_direct(c->pci, 0, lfb_direct_page, lfb_direct_written);
        hg_pci_set_bar(c->pci, 1, HG_CIRRUS_BAR1_SIZE, HG_PCI_BAR_MEM, hg_cirrus_mmio_read,
                       hg_cirrus_mmio_write);
        gchar *rom = NULL;
        gsize len = 0;
        if (g_file_get_contents(rom_path ? rom_path : HG_CIRRUS_BIOS, &rom, &len, NULL) &&
            len > 0 && len <= (1u << 20))
            hg_pci_set_rom(c->pci, (const uint8_t *)rom, (uint32_t)len);
        g_free(rom);
    }
    hg_cirrus_reset(c);
    return c;
}

void hg_cirrus_free(HgCirrus *c)
{
    if (!c)
        return;
    hg_vga_free(c->vga);
    g_free(c);
}

void hg_cirrus_reset(HgCirrus *c)
{
    HgVga *v = c->vga;
    hg_vga_reset(v);
    /* Power-on values of the 5446 with 4 MiB on PCI (as QEMU gives them). */
    v->sr[0x06] = 0x0f;
    v->sr[0x0f] = 0x98;
    v->sr[0x15] = 0x04;
    v->sr[0x17] = 0x20;
    v->sr[0x1f] = 0x2d;
    v->gr[0x18] = 0x0f;
    c->gr0 = c->gr1 = 0;
    c->hidden_dac = 0;
    c->hidden_count = 0;
    memset(c->hidden_pal, 0, sizeof(c->hidden_pal));
    c->cursor_x = c->cursor_y = 0;
    memset(&c->blt, 0, sizeof(c->blt));
    c->cur_drawn = false;
}

HgVga *hg_cirrus_vga(HgCirrus *c)
{
    return c->vga;
}

void hg_cirrus_update(HgCirrus *c)
{
    hg_vga_update(c->vga);
}

/* --- Save / restore ------------------------------------------------------------------------ */

void hg_cirrus_save(const HgCirrus *c, HgStateWriter *w)
{
    hg_vga_save(c->vga, w);
    const CirrusBlt *b = &c->blt;
    hg_state_begin(w, "cirrus", 2);
    hg_state_put_u8(w, c->gr0);
    hg_state_put_u8(w, c->gr1);
    hg_state_put_u8(w, c->hidden_dac);
    hg_state_put_u8(w, c->hidden_count);
    hg_state_put_bytes(w, c->hidden_pal, sizeof(c->hidden_pal));
    hg_state_put_u16(w, c->cursor_x);
    hg_state_put_u16(w, c->cursor_y);
    hg_state_put_u32(w, b->width);
    hg_state_put_u32(w, b->height);
    hg_state_put_u32(w, b->dpitch);
    hg_state_put_u32(w, b->spitch);
    hg_state_put_u32(w, b->dst);
    hg_state_put_u32(w, b->src);
    hg_state_put_u32(w, b->fg);
    hg_state_put_u32(w, b->bg);
    hg_state_put_u32(w, b->tcolor);
    hg_state_put_u8(w, b->mode);
    hg_state_put_u8(w, b->modeext);
    hg_state_put_u8(w, b->rop);
    hg_state_put_u8(w, b->skip);
    hg_state_put_u8(w, (uint8_t)b->bpp);
    hg_state_put_u8(w, b->active);
    hg_state_put_u32(w, b->line_len);
    hg_state_put_u32(w, b->lines_left);
    hg_state_put_u32(w, b->buf_len);
    hg_state_put_u32(w, b->fed);
    hg_state_put_u8(w, b->swallow);
    hg_state_put_bytes(w, b->buf, sizeof(b->buf));
    hg_state_end(w);
}

void hg_cirrus_load(HgCirrus *c, HgStateReader *r)
{
    hg_vga_load(c->vga, r);
    CirrusBlt *b = &c->blt;
    uint32_t version = hg_state_open(r, "cirrus", 1, 2);
    if (!version)
        return;
    c->gr0 = hg_state_get_u8(r);
    c->gr1 = hg_state_get_u8(r);
    c->hidden_dac = hg_state_get_u8(r);
    c->hidden_count = hg_state_get_u8(r) % 5;
    hg_state_get_bytes(r, c->hidden_pal, sizeof(c->hidden_pal));
    c->cursor_x = hg_state_get_u16(r) & 0x7ff;
    c->cursor_y = hg_state_get_u16(r) & 0x7ff;
    b->width = hg_state_get_u32(r);
    b->height = hg_state_get_u32(r);
    b->dpitch = hg_state_get_u32(r);
    b->spitch = hg_state_get_u32(r);
    b->dst = hg_state_get_u32(r);
    b->src = hg_state_get_u32(r);
    b->fg = hg_state_get_u32(r);
    b->bg = hg_state_get_u32(r);
    b->tcolor = hg_state_get_u32(r);
    b->mode = hg_state_get_u8(r);
    b->modeext = hg_state_get_u8(r);
    b->rop = hg_state_get_u8(r);
    b->skip = hg_state_get_u8(r) & 0x1f;
    b->bpp = hg_state_get_u8(r);
    if (version == 1 && b->bpp >= 1 && b->bpp <= 4)
        b->skip = (uint8_t)((b->skip & 7) * b->bpp); /* version 1 counted pixels */
    b->active = hg_state_get_u8(r) != 0;
    b->line_len = hg_state_get_u32(r);
    b->lines_left = hg_state_get_u32(r);
    b->buf_len = hg_state_get_u32(r);
    b->fed = hg_state_get_u32(r);
    b->swallow = hg_state_get_u8(r) & 3;
    hg_state_get_bytes(r, b->buf, sizeof(b->buf));
    hg_state_close(r);
    /* A transfer whose parameters the engine could never have latched is dropped (every
     * line is bounds-checked again when it is drawn anyway). */
    if (b->bpp > 4 || (b->active && b->bpp < 1)) /* 0: no blit latched since reset */
        b->bpp = 1;
    if (b->width == 0 || b->width > 8192 || b->height == 0 || b->height > 2048 ||
        b->dpitch > 0x1fff || b->spitch > 0x1fff || b->dst > 0x3fffff || b->src > 0x3fffff ||
        b->line_len == 0 || b->line_len > BLT_LINE_MAX || b->buf_len >= b->line_len ||
        b->lines_left == 0 || b->lines_left > b->height) {
        if (b->active)
            c->vga->gr[0x31] &= ~(BLT_BUSY | BLT_START | BLT_FIFOUSED);
        b->active = false;
        b->buf_len = 0;
    }
    c->cur_drawn = false;
    cirrus_direct_changed(c);
}
