/* IBM VGA register file and display memory (IBM VGA Technical Reference; FreeVGA's register
 * descriptions): Misc Output, Sequencer, CRTC (with the CR11 protect bit and the
 * 0x3Bx/0x3Dx address select), Graphics Controller (read modes 0/1, write modes 0-3 with
 * rotate, set/reset, logical operation, bit mask and latches), Attribute Controller (index /
 * data flip-flop reset by reading Input Status 1), DAC (6-bit triplets with read and write
 * indices), Input Status 0/1 timed from the virtual clock, and 256 KiB of memory in four
 * planes reached through the 0xA0000-0xBFFFF window with chain-4, odd/even and map masks.
 *
 * Planar memory is stored interleaved: plane p of offset o is vram[o * 4 + p], so the
 * latches are one 32-bit load. Chain-4 follows the IBM VGA: CPU address a selects plane
 * a & 3 at offset a & ~3 and the CRTC's doubleword mode reads it back, which keeps mode 13h
 * and the unchained "mode X" consistent with each other.
 *
 * The Bochs VBE "dispi" interface (ports 0x1CE/0x1CF, VBE_DISPI_ID0-ID5) gives linear
 * 8/15/16/24/32 bpp modes, a 64 KiB banked window at 0xA0000 and the linear framebuffer.
 * Rendering lives in vga-render.c.
 */
#include "vga-internal.h"

#include <glib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "display.h"
#include "state.h"

enum { REFRESH_NS = 16666667 };

static void mark_dirty(HgVga *v, uint32_t vram_offset, uint8_t bits)
{
    v->dirty[(vram_offset >> VGA_DIRTY_SHIFT) % v->n_pages] |= bits;
}

/* --- Timing ------------------------------------------------------------------------- */

void hg_vga_timing(const HgVga *v, VgaTiming *t)
{
    const uint8_t *cr = v->cr;
    int64_t dot_hz = ((v->misc >> 2) & 3) == 1 ? 28322000 : 25175000;
    int cw = (v->sr[1] & 1) ? 8 : 9;
    if (v->sr[1] & 8)
        dot_hz /= 2;
    t->htotal = cr[0] + 5;
    t->hde = MIN(cr[1] + 1, t->htotal);
    t->line_ps = (int64_t)t->htotal * cw * 1000000000000LL / dot_hz;
    t->vtotal = (cr[6] | ((cr[7] & 1) << 8) | ((cr[7] & 0x20) << 4)) + 2;
    t->vde = (cr[0x12] | ((cr[7] & 2) << 7) | ((cr[7] & 0x40) << 3)) + 1;
    t->vrs = cr[0x10] | ((cr[7] & 4) << 6) | ((cr[7] & 0x80) << 2);
    /* The end register holds only the low four bits of the line where retrace ends. */
    t->vrlen = ((cr[0x11] & 0x0f) - (t->vrs & 0x0f)) & 0x0f;
    if (t->vrlen == 0)
        t->vrlen = 16;
}

static uint8_t input_status1(HgVga *v)
{
    VgaTiming t;
    hg_vga_timing(v, &t);
    int64_t ps = hg_clock_ns(v->clock) * 1000;
    int64_t line = (ps / t.line_ps) % t.vtotal;
    int64_t hpos = (ps % t.line_ps) * t.htotal / t.line_ps;
    uint8_t st = 0;
    if (line >= t.vde || hpos >= t.hde)
        st |= 0x01; /* display disabled (blanking) */
    if (line >= t.vrs && line < t.vrs + t.vrlen)
        st |= 0x08; /* vertical retrace */
    /* Bits 4-5 are diagnostics echoing two colour outputs selected by AR12 bits 4-5; a
     * black border is what programs expect. */
    return st;
}

/* --- Ports -------------------------------------------------------------------------- */

static bool port_decoded(const HgVga *v, uint16_t port)
{
    if (port >= 0x3b0 && port <= 0x3bf)
        return !(v->misc & 1);
    if (port >= 0x3d0 && port <= 0x3df)
        return v->misc & 1;
    return true;
}

static void cr_write(HgVga *v, uint8_t val)
{
    uint8_t i = v->cr_index & 0x3f;
    if (i > 0x18)
        return;
    /* CR11 bit 7 write-protects CR0-CR7, except the line compare bit 8 in CR7. */
    if ((v->cr[0x11] & 0x80) && i <= 7) {
        if (i == 7)
            v->cr[7] = (v->cr[7] & ~0x10) | (val & 0x10);
        v->invalidate = true;
        return;
    }
    if (v->cr[i] == val)
        return;
    v->cr[i] = val;
    /* Cursor shape and position are compared per cell by the text renderer. */
    if (i < 0x0a || i > 0x0f)
        v->invalidate = true;
    else if (i == 0x0c || i == 0x0d)
        v->invalidate = v->invalidate || (v->gr[6] & 1);
}

static void ar_write(HgVga *v, uint8_t val)
{
    if (!v->ar_flip) {
        if ((v->ar_index ^ val) & 0x20)
            v->invalidate = true; /* palette address source: screen on/off */
        v->ar_index = val & 0x3f;
    } else {
        uint8_t i = v->ar_index & 0x1f;
        static const uint8_t masks[0x15] = {
            0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
            0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0xef, 0xff, 0x3f, 0x0f, 0x0f,
        };
        if (i < 0x15) {
            v->ar[i] = val & masks[i];
            v->invalidate = true;
        }
    }
    v->ar_flip = !v->ar_flip;
}

static void dac_write_data(HgVga *v, uint8_t val)
{
    v->dac_cache[v->dac_sub++] = val;
    if (v->dac_sub == 3) {
        memcpy(&v->dac[v->dac_write_index * 3], v->dac_cache, 3);
        v->dac_write_index++;
        v->dac_sub = 0;
        v->invalidate = true;
    }
}

static uint8_t dac_read_data(HgVga *v)
{
    uint8_t val = v->dac[v->dac_read_index * 3 + v->dac_sub++];
    if (v->dac_sub == 3) {
        v->dac_read_index++;
        v->dac_sub = 0;
    }
    return val;
}

static void vga_outb(HgVga *v, uint16_t port, uint8_t val)
{
    if (!port_decoded(v, port))
        return;
    v->regs_written = true;
    if (v->ext && v->ext->outb(v->ext_opaque, port, val))
        return;
    switch (port) {
    case 0x3c0: ar_write(v, val); break;
    case 0x3c2:
        if (v->misc != val)
            v->invalidate = true;
        v->misc = val;
        break;
    case 0x3c4: v->sr_index = val; break;
    case 0x3c5: {
        static const uint8_t masks[5] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e};
        uint8_t i = v->sr_index & 0x1f;
        if (i < 5) {
            v->sr[i] = val & masks[i];
            v->invalidate = true;
        }
        break;
    }
    case 0x3c6:
        if (v->pel_mask != val)
            v->invalidate = true;
        v->pel_mask = val;
        break;
    case 0x3c7:
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_state = 3;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_state = 0;
        break;
    case 0x3c9:
        /* The DAC keeps 6 bits per component unless dispi switched it to 8. */
        dac_write_data(v, (v->dispi[DISPI_ENABLE] & DISPI_8BIT_DAC) ? val : (val & 0x3f));
        break;
    case 0x3ce: v->gr_index = val; break;
    case 0x3cf: {
        static const uint8_t masks[9] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff};
        uint8_t i = v->gr_index & 0x3f;
        if (i < 9) {
            v->gr[i] = val & masks[i];
            v->invalidate = true;
        }
        break;
    }
    case 0x3b4:
    case 0x3d4: v->cr_index = val; break;
    case 0x3b5:
    case 0x3d5: cr_write(v, val); break;
    case 0x3ba:
    case 0x3da: v->fcr = val & 0x03; break;
    default: break;
    }
}

static uint8_t vga_inb(HgVga *v, uint16_t port)
{
    if (!port_decoded(v, port))
        return 0xff;
    uint8_t ext_val;
    if (v->ext && v->ext->inb(v->ext_opaque, port, &ext_val))
        return ext_val;
    switch (port) {
    case 0x3c0: return v->ar_index;
    case 0x3c1: {
        uint8_t i = v->ar_index & 0x1f;
        return i < 0x15 ? v->ar[i] : 0;
    }
    case 0x3c2: return 0x10; /* switch sense: a colour monitor is attached */
    case 0x3c3: return 1;    /* video subsystem enabled */
    case 0x3c4: return v->sr_index;
    case 0x3c5: return v->sr[v->sr_index & 0x1f];
    case 0x3c6: return v->pel_mask;
    case 0x3c7: return v->dac_state;
    case 0x3c8: return v->dac_write_index;
    case 0x3c9: return dac_read_data(v);
    case 0x3ca: return v->fcr;
    case 0x3cc: return v->misc;
    case 0x3ce: return v->gr_index;
    case 0x3cf: return v->gr[v->gr_index & 0x3f];
    case 0x3b4:
    case 0x3d4: return v->cr_index;
    case 0x3b5:
    case 0x3d5: return (v->cr_index & 0x3f) <= 0x18 ? v->cr[v->cr_index & 0x3f] : 0xff;
    case 0x3ba:
    case 0x3da: v->ar_flip = false; return input_status1(v);
    default: return 0xff;
    }
}

static uint32_t vga_port_read(void *opaque, uint32_t port, int size)
{
    uint32_t val = 0;
    for (int i = 0; i < size; i++)
        val |= (uint32_t)vga_inb(opaque, (uint16_t)(port + i)) << (8 * i);
    return val;
}

static void vga_port_write(void *opaque, uint32_t port, uint32_t val, int size)
{
    /* outw 0x3C4/0x3CE/0x3D4 writes index then data, as on the ISA bus. */
    for (int i = 0; i < size; i++)
        vga_outb(opaque, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

/* --- Bochs VBE dispi ------------------------------------------------------------------ */

static int dispi_bytes_pp(uint16_t bpp)
{
    return (bpp + 7) / 8;
}

static bool dispi_linear(const HgVga *v)
{
    return (v->dispi[DISPI_ENABLE] & DISPI_ENABLED) && v->dispi[DISPI_BPP] != 4;
}

static void dispi_enable(HgVga *v, uint16_t val)
{
    uint16_t *d = v->dispi;
    bool was = d[DISPI_ENABLE] & DISPI_ENABLED;
    d[DISPI_ENABLE] = val & (DISPI_ENABLED | DISPI_GETCAPS | DISPI_8BIT_DAC | DISPI_LFB_ENABLED |
                             DISPI_NOCLEARMEM);
    if ((val & DISPI_ENABLED) && !was) {
        /* A mode set: the virtual screen starts as the visible one. */
        uint32_t line = (uint32_t)d[DISPI_XRES] * dispi_bytes_pp(d[DISPI_BPP]);
        d[DISPI_VIRT_W] = d[DISPI_XRES];
        d[DISPI_VIRT_H] = line ? (uint16_t)MIN(v->vram_size / line, 0xffff) : 0;
        d[DISPI_X_OFF] = d[DISPI_Y_OFF] = 0;
        d[DISPI_BANK] = 0;
        if (!(val & DISPI_NOCLEARMEM))
            memset(v->vram, 0, v->vram_size);
        memset(v->dirty, VGA_DIRTY_ANY | VGA_DIRTY_FONT, v->n_pages);
        v->direct_mapped = true; /* whatever the CPU maps now: rearmed at the next frame */
    }
    v->invalidate = true;
}

static void dispi_write(HgVga *v, uint16_t val)
{
    uint16_t *d = v->dispi;
    switch (v->dispi_index) {
    case DISPI_ID:
        if (val >= 0xb0c0 && val <= 0xb0c5)
            d[DISPI_ID] = val;
        break;
    case DISPI_XRES:
    case DISPI_YRES:
    case DISPI_BPP:
        /* Geometry is fixed while a mode is enabled, as in Bochs. */
        if (d[DISPI_ENABLE] & DISPI_ENABLED)
            break;
        if (v->dispi_index == DISPI_XRES)
            d[DISPI_XRES] = MIN(val, DISPI_MAX_X) & ~7;
        else if (v->dispi_index == DISPI_YRES)
            d[DISPI_YRES] = MIN(val, DISPI_MAX_Y);
        else if (val == 4 || val == 8 || val == 15 || val == 16 || val == 24 || val == 32)
            d[DISPI_BPP] = val;
        else if (val == 0)
            d[DISPI_BPP] = 8;
        break;
    case DISPI_ENABLE: dispi_enable(v, val); break;
    case DISPI_BANK:
        if ((uint32_t)val * 0x10000 < v->vram_size)
            d[DISPI_BANK] = val;
        break;
    case DISPI_VIRT_W: {
        uint32_t line = (uint32_t)val * dispi_bytes_pp(d[DISPI_BPP]);
        if (val >= d[DISPI_XRES] && line && line <= v->vram_size) {
            d[DISPI_VIRT_W] = val;
            d[DISPI_VIRT_H] = (uint16_t)MIN(v->vram_size / line, 0xffff);
        }
        v->invalidate = true;
        break;
    }
    case DISPI_X_OFF:
    case DISPI_Y_OFF:
        d[v->dispi_index] = val;
        v->invalidate = true;
        break;
    default: break;
    }
}

static uint16_t dispi_read(HgVga *v)
{
    const uint16_t *d = v->dispi;
    bool caps = d[DISPI_ENABLE] & DISPI_GETCAPS;
    switch (v->dispi_index) {
    case DISPI_XRES: return caps ? DISPI_MAX_X : d[DISPI_XRES];
    case DISPI_YRES: return caps ? DISPI_MAX_Y : d[DISPI_YRES];
    case DISPI_BPP: return caps ? 32 : d[DISPI_BPP];
    case DISPI_VIDEO_MEM_64K: return (uint16_t)(v->vram_size >> 16);
    default: return v->dispi_index < DISPI_NREGS ? d[v->dispi_index] : 0;
    }
}

static uint32_t dispi_port_read(void *opaque, uint32_t port, int size)
{
    HgVga *v = opaque;
    if (port == 0x1ce)
        return v->dispi_index;
    if (port == 0x1cf)
        return size == 1 ? (dispi_read(v) & 0xff) : dispi_read(v);
    return size == 1 ? 0xff : 0xffff;
}

static void dispi_port_write(void *opaque, uint32_t port, uint32_t val, int size)
{
    HgVga *v = opaque;
    (void)size;
    if (port == 0x1ce)
        v->dispi_index = (uint16_t)val;
    else if (port == 0x1cf)
        dispi_write(v, (uint16_t)val);
}

/* --- Display memory ------------------------------------------------------------------- */

/* Window offset (relative to 0xA0000) to the address the memory map in GR6 decodes, or
 * false when this part of the window is not claimed. */
static bool window_decode(const HgVga *v, uint32_t off, uint32_t *addr)
{
    if (!(v->misc & 2))
        return false; /* display memory access disabled */
    switch ((v->gr[6] >> 2) & 3) {
    case 0: *addr = off; return off < 0x20000;
    case 1: *addr = off; return off < 0x10000;
    case 2: *addr = off - 0x10000; return off - 0x10000 < 0x8000;
    default: *addr = off - 0x18000; return off - 0x18000 < 0x8000;
    }
}

static uint32_t expand4(uint8_t bits)
{
    /* Four plane bits to four byte masks. */
    return ((bits & 1) ? 0xffu : 0) | ((bits & 2) ? 0xff00u : 0) | ((bits & 4) ? 0xff0000u : 0) |
           ((bits & 8) ? 0xff000000u : 0);
}

static uint8_t mem_readb(HgVga *v, uint32_t off)
{
    uint32_t a;
    if (!window_decode(v, off, &a))
        return 0xff;
    if (dispi_linear(v)) {
        uint32_t lin = (uint32_t)v->dispi[DISPI_BANK] * 0x10000 + (a & 0xffff);
        return a < 0x10000 && lin < v->vram_size ? v->vram[lin] : 0xff;
    }
    uint32_t po;
    int plane;
    if (v->sr[4] & 8) {
        plane = a & 3;
        po = a & 0xfffc;
    } else if (v->gr[5] & 0x10) {
        plane = (v->gr[4] & 2) | (a & 1);
        po = a & 0xfffe;
    } else {
        plane = v->gr[4] & 3;
        po = a & 0xffff;
    }
    memcpy(&v->latch, v->vram + po * 4, 4);
    if (!(v->gr[5] & 8))
        return (uint8_t)(v->latch >> (plane * 8));
    /* Read mode 1: a bit is set where every plane not excluded by Colour Don't Care
     * matches Colour Compare. */
    uint32_t dc = expand4(v->gr[7]);
    uint32_t diff = (v->latch ^ expand4(v->gr[2])) & dc;
    uint8_t any = (uint8_t)(diff | diff >> 8 | diff >> 16 | diff >> 24);
    return (uint8_t)~any;
}

static void mem_writeb(HgVga *v, uint32_t off, uint8_t val)
{
    uint32_t a;
    if (!window_decode(v, off, &a))
        return;
    if (dispi_linear(v)) {
        uint32_t lin = (uint32_t)v->dispi[DISPI_BANK] * 0x10000 + (a & 0xffff);
        if (a < 0x10000 && lin < v->vram_size) {
            v->vram[lin] = val;
            mark_dirty(v, lin, VGA_DIRTY_ANY | VGA_DIRTY_FONT);
        }
        return;
    }
    uint32_t po;
    uint8_t planes;
    if (v->sr[4] & 8) {
        /* Chain-4 writes go straight to the selected plane, as QEMU and Bochs do. */
        int plane = a & 3;
        po = a & 0xfffc;
        if (v->sr[2] & (1 << plane)) {
            v->vram[po * 4 + plane] = val;
            mark_dirty(v, po * 4, plane == 2 ? VGA_DIRTY_ANY | VGA_DIRTY_FONT : VGA_DIRTY_ANY);
        }
        return;
    }
    if (!(v->sr[4] & 4)) {
        /* Odd/even: even addresses reach planes 0 and 2, odd ones planes 1 and 3. */
        planes = v->sr[2] & (0x5 << (a & 1));
        po = a & 0xfffe;
    } else {
        planes = v->sr[2] & 0xf;
        po = a & 0xffff;
    }
    if (!planes)
        return;
    const uint8_t *gr = v->gr;
    uint32_t data, bitmask = gr[8];
    int rot = gr[3] & 7;
    uint8_t rotated = (uint8_t)((val >> rot) | (val << ((8 - rot) & 7)));
    switch (gr[5] & 3) {
    case 0: {
        uint32_t en = expand4(gr[1]);
        data = ((rotated * 0x01010101u) & ~en) | (expand4(gr[0]) & en);
        break;
    }
    case 1:
        data = v->latch;
        bitmask = 0xff;
        break;
    case 2: data = expand4(val & 0xf); break;
    default:
        data = expand4(gr[0]);
        bitmask &= rotated;
        break;
    }
    if ((gr[5] & 3) != 1) {
        switch ((gr[3] >> 3) & 3) {
        case 1: data &= v->latch; break;
        case 2: data |= v->latch; break;
        case 3: data ^= v->latch; break;
        default: break;
        }
        uint32_t bm = bitmask * 0x01010101u;
        data = (data & bm) | (v->latch & ~bm);
    }
    uint32_t pm = expand4(planes), old;
    memcpy(&old, v->vram + po * 4, 4);
    old = (old & ~pm) | (data & pm);
    memcpy(v->vram + po * 4, &old, 4);
    mark_dirty(v, po * 4, (planes & 4) ? VGA_DIRTY_ANY | VGA_DIRTY_FONT : VGA_DIRTY_ANY);
}

static uint32_t window_read(void *opaque, uint32_t off, int size)
{
    HgVga *v = opaque;
    uint32_t val = 0;
    for (int i = 0; i < size; i++) {
        uint8_t b;
        if (!(v->ext && v->ext->mem_read(v->ext_opaque, off + i, &b)))
            b = mem_readb(v, off + i);
        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

static void window_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    HgVga *v = opaque;
    for (int i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (!(v->ext && v->ext->mem_write(v->ext_opaque, off + i, b)))
            mem_writeb(v, off + i, b);
    }
}

uint32_t hg_vga_lfb_read(void *opaque, uint32_t off, int size)
{
    HgVga *v = opaque;
    uint32_t val = 0;
    if (off < v->vram_size && v->vram_size - off >= (uint32_t)size && size <= 4) {
        memcpy(&val, v->vram + off, size); /* little-endian host assumed, as elsewhere */
        return val;
    }
    for (int i = 0; i < size; i++) {
        uint32_t a = off + i;
        val |= (uint32_t)(a < v->vram_size ? v->vram[a] : 0xff) << (8 * i);
    }
    return val;
}

void hg_vga_lfb_write(void *opaque, uint32_t off, uint32_t val, int size)
{
    HgVga *v = opaque;
    if (off < v->vram_size && v->vram_size - off >= (uint32_t)size && size <= 4) {
        memcpy(v->vram + off, &val, size);
        mark_dirty(v, off, VGA_DIRTY_ANY | VGA_DIRTY_FONT);
        mark_dirty(v, off + size - 1, VGA_DIRTY_ANY | VGA_DIRTY_FONT);
        return;
    }
    for (int i = 0; i < size; i++) {
        uint32_t a = off + i;
        if (a < v->vram_size) {
            v->vram[a] = (uint8_t)(val >> (8 * i));
            mark_dirty(v, a, VGA_DIRTY_ANY | VGA_DIRTY_FONT);
        }
    }
}

uint8_t *hg_vga_vram(HgVga *v, uint32_t *size)
{
    if (size)
        *size = v->vram_size;
    return v->vram;
}

/* --- Life cycle ------------------------------------------------------------------------- */

void hg_vga_clear_dirty(HgVga *v)
{
    memset(v->dirty, 0, v->n_pages);
    if (v->direct_mapped) {
        v->direct_mapped = false;
        hg_bus_rearm_direct(v->bus);
    }
}

static void refresh(void *opaque)
{
    HgVga *v = opaque;
    hg_vga_render(v);
    /* The next frame one period after this one was due, not after it ran: a refresh run
     * late (a busy host, a long slice) must not stretch every later period, or the display
     * falls below 60 frames per second. One that fell behind by more skips the frames it
     * missed and keeps the phase. (Instruction-counted runs fire on time: unchanged.) */
    int64_t now = hg_clock_ns(v->clock), due = v->refresh_due + REFRESH_NS;
    if (due <= now)
        due = now + REFRESH_NS - (now - v->refresh_due) % REFRESH_NS;
    if (due > now + REFRESH_NS)
        due = now + REFRESH_NS; /* the clock went back (state loaded): start over */
    v->refresh_due = due;
    hg_timer_mod(v->timer, due);
}

HgVga *hg_vga_new(HgBus *bus, HgClock *clock, HgDisplay *display, uint32_t vram_size)
{
    return hg_vga_new_ext(bus, clock, display, vram_size, NULL, NULL);
}

HgVga *hg_vga_new_ext(HgBus *bus, HgClock *clock, HgDisplay *display, uint32_t vram_size,
                      const HgVgaExt *ext, void *opaque)
{
    if (vram_size < HG_VGA_STD_VRAM)
        vram_size = HG_VGA_STD_VRAM;
    vram_size = MIN(vram_size, 64u << 20);
    g_assert((vram_size & (vram_size - 1)) == 0);
    g_assert(clock); /* input status and blinking follow it */
    HgVga *v = g_new0(HgVga, 1);
    v->bus = bus;
    v->clock = clock;
    v->display = display;
    v->vram_size = vram_size;
    v->vram = g_malloc0(vram_size);
    v->n_pages = vram_size >> VGA_DIRTY_SHIFT;
    v->dirty = g_malloc0(v->n_pages);
    v->ext = ext;
    v->ext_opaque = opaque;
    v->has_dispi = vram_size > HG_VGA_STD_VRAM && !(ext && ext->no_dispi);
    hg_bus_map_io(bus, 0x3b0, 0x30, vga_port_read, vga_port_write, v);
    if (v->has_dispi)
        hg_bus_map_io(bus, 0x1ce, 2, dispi_port_read, dispi_port_write, v);
    hg_bus_map_mmio(bus, 0xa0000, 0x20000, window_read, window_write, v);
    if (display && clock) {
        v->timer = hg_timer_new(clock, refresh, v);
        v->refresh_due = hg_clock_ns(clock) + REFRESH_NS;
        hg_timer_mod(v->timer, v->refresh_due);
    }
    hg_vga_reset(v);
    return v;
}

/* The CPU's direct access to the linear frame buffer (hg_bus_set_direct): plain video
 * memory, as in the handlers' fast paths above; a page mapped for writing is dirty until
 * the next frame clears the dirty pages (hg_vga_clear_dirty maps it again). */
static uint8_t *lfb_direct_page(void *opaque, uint32_t off, bool *writable)
{
    HgVga *v = opaque;
    *writable = off < v->vram_size && v->vram_size - off >= 0x1000;
    return *writable ? v->vram + off : NULL;
}

static void lfb_direct_written(void *opaque, uint32_t off)
{
    HgVga *v = opaque;
    hg_vga_mark_range(v, off, 0x1000);
    v->direct_mapped = true;
}

void hg_vga_map_lfb(HgVga *v, uint32_t base)
{
    int h = hg_bus_map_mmio(v->bus, base, v->vram_size, hg_vga_lfb_read, hg_vga_lfb_write, v);
    hg_bus_set_direct(v->bus, h, lfb_direct_page, lfb_direct_written, v);
}

void hg_vga_free(HgVga *v)
{
    if (!v)
        return;
    hg_timer_free(v->timer);
    g_free(v->vram);
    g_free(v->dirty);
    g_free(v->cells);
    g_free(v->line_buf);
    g_free(v->text_chars);
    g_free(v);
}

void hg_vga_reset(HgVga *v)
{
    /* Power-on state before the VGA BIOS runs: colour addressing, memory enabled; the
     * BIOS programs everything else. */
    v->misc = 0x03;
    v->fcr = 0;
    v->sr_index = v->gr_index = v->cr_index = v->ar_index = 0;
    memset(v->sr, 0, sizeof(v->sr));
    memset(v->gr, 0, sizeof(v->gr));
    memset(v->cr, 0, sizeof(v->cr));
    memset(v->ar, 0, sizeof(v->ar));
    v->sr[4] = 0x06;
    v->gr[8] = 0xff;
    v->sr[2] = 0x0f;
    v->ar_flip = false;
    v->dac_read_index = v->dac_write_index = v->dac_sub = v->dac_state = 0;
    v->pel_mask = 0xff;
    v->latch = 0;
    v->dispi_index = 0;
    memset(v->dispi, 0, sizeof(v->dispi));
    v->dispi[DISPI_ID] = 0xb0c5;
    v->dispi[DISPI_BPP] = 8;
    v->invalidate = true;
}

void hg_vga_update(HgVga *v)
{
    hg_vga_render(v);
}

void hg_vga_invalidate(HgVga *v)
{
    v->invalidate = true;
}

/* --- Save / restore --------------------------------------------------------------------- */

void hg_vga_save(const HgVga *v, HgStateWriter *w)
{
    hg_state_begin(w, "vga", 1);
    hg_state_put_u32(w, v->vram_size);
    hg_state_put_u8(w, v->misc);
    hg_state_put_u8(w, v->fcr);
    hg_state_put_u8(w, v->sr_index);
    hg_state_put_bytes(w, v->sr, sizeof(v->sr));
    hg_state_put_u8(w, v->gr_index);
    hg_state_put_bytes(w, v->gr, sizeof(v->gr));
    hg_state_put_u8(w, v->cr_index);
    hg_state_put_bytes(w, v->cr, sizeof(v->cr));
    hg_state_put_u8(w, v->ar_index);
    hg_state_put_bytes(w, v->ar, sizeof(v->ar));
    hg_state_put_u8(w, v->ar_flip);
    hg_state_put_bytes(w, v->dac, sizeof(v->dac));
    hg_state_put_u8(w, v->dac_read_index);
    hg_state_put_u8(w, v->dac_write_index);
    hg_state_put_u8(w, v->dac_sub);
    hg_state_put_u8(w, v->dac_state);
    hg_state_put_bytes(w, v->dac_cache, sizeof(v->dac_cache));
    hg_state_put_u8(w, v->pel_mask);
    hg_state_put_u32(w, v->latch);
    hg_state_put_u16(w, v->dispi_index);
    for (int i = 0; i < DISPI_NREGS; i++)
        hg_state_put_u16(w, v->dispi[i]);
    hg_state_put_u64(w, v->timer ? (uint64_t)hg_timer_expire(v->timer) : 0);
    hg_state_put_bytes(w, v->vram, v->vram_size);
    hg_state_end(w);
}

void hg_vga_load(HgVga *v, HgStateReader *r)
{
    if (!hg_state_open(r, "vga", 1, 1))
        return;
    if (hg_state_get_u32(r) != v->vram_size) {
        /* Fail the whole load through the reader: skip the rest as unread. */
        if (!r->error)
            g_set_error(&r->error, g_quark_from_static_string("hg-state-error"), 5,
                        "state section \"vga\": video memory size differs");
        return;
    }
    v->misc = hg_state_get_u8(r);
    v->fcr = hg_state_get_u8(r) & 3;
    v->sr_index = hg_state_get_u8(r);
    hg_state_get_bytes(r, v->sr, sizeof(v->sr));
    v->gr_index = hg_state_get_u8(r);
    hg_state_get_bytes(r, v->gr, sizeof(v->gr));
    v->cr_index = hg_state_get_u8(r);
    hg_state_get_bytes(r, v->cr, sizeof(v->cr));
    v->ar_index = hg_state_get_u8(r) & 0x3f;
    hg_state_get_bytes(r, v->ar, sizeof(v->ar));
    v->ar_flip = hg_state_get_u8(r) != 0;
    hg_state_get_bytes(r, v->dac, sizeof(v->dac));
    v->dac_read_index = hg_state_get_u8(r);
    v->dac_write_index = hg_state_get_u8(r);
    v->dac_sub = hg_state_get_u8(r) % 3;
    v->dac_state = hg_state_get_u8(r) & 3;
    hg_state_get_bytes(r, v->dac_cache, sizeof(v->dac_cache));
    v->pel_mask = hg_state_get_u8(r);
    v->latch = hg_state_get_u32(r);
    v->dispi_index = hg_state_get_u16(r);
    for (int i = 0; i < DISPI_NREGS; i++)
        v->dispi[i] = hg_state_get_u16(r);
    uint64_t expire = hg_state_get_u64(r);
    hg_state_get_bytes(r, v->vram, v->vram_size);
    hg_state_close(r);
    /* Values the renderer and window logic rely on being in range. */
    v->dispi[DISPI_XRES] = MIN(v->dispi[DISPI_XRES], DISPI_MAX_X);
    v->dispi[DISPI_YRES] = MIN(v->dispi[DISPI_YRES], DISPI_MAX_Y);
    uint16_t bpp = v->dispi[DISPI_BPP];
    if (bpp != 4 && bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32)
        v->dispi[DISPI_BPP] = 8;
    if ((uint32_t)v->dispi[DISPI_BANK] * 0x10000 >= v->vram_size)
        v->dispi[DISPI_BANK] = 0;
    if (v->timer && expire) {
        v->refresh_due = (int64_t)expire;
        hg_timer_mod(v->timer, (int64_t)expire);
    }
    memset(v->dirty, VGA_DIRTY_ANY | VGA_DIRTY_FONT, v->n_pages);
    v->direct_mapped = true; /* whatever the CPU maps now: rearmed at the next frame */
    v->invalidate = true;
}
