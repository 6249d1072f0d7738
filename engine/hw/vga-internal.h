/* State shared by the VGA's register/memory half (vga.c) and its renderer
 * (vga-render.c), and by adapters built on the VGA (cirrus*.c) through HgVgaExt. Not for use
 * outside engine/hw/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vga.h"

typedef struct HgTimer HgTimer;

enum {
    VGA_PLANE_SIZE = 0x10000, /* 64 KiB per plane; planar memory is interleaved */
    VGA_DIRTY_SHIFT = 9,      /* VRAM bytes per dirty-tracking page */
    VGA_DIRTY_ANY = 1,        /* a write landed in the page */
    VGA_DIRTY_FONT = 2,       /* ... and touched plane 2 (text fonts) */
    DISPI_MAX_X = 2560,
    DISPI_MAX_Y = 1600,
    VGA_MAX_W = 2560,
    VGA_MAX_H = 2048,
};

enum {
    DISPI_ID = 0,
    DISPI_XRES,
    DISPI_YRES,
    DISPI_BPP,
    DISPI_ENABLE,
    DISPI_BANK,
    DISPI_VIRT_W,
    DISPI_VIRT_H,
    DISPI_X_OFF,
    DISPI_Y_OFF,
    DISPI_VIDEO_MEM_64K,
    DISPI_NREGS = 16,
    DISPI_ENABLED = 0x01,
    DISPI_GETCAPS = 0x02,
    DISPI_8BIT_DAC = 0x20,
    DISPI_LFB_ENABLED = 0x40,
    DISPI_NOCLEARMEM = 0x80,
};

/* Extension hooks for an adapter built on the standard VGA (the Cirrus CLGD-5446). Each
 * returns true when it handled the access itself; false lets the standard VGA handle it. */
typedef struct HgVgaExt {
    bool (*outb)(void *opaque, uint16_t port, uint8_t val);
    bool (*inb)(void *opaque, uint16_t port, uint8_t *val);
    /* off is relative to 0xA0000 (the 128 KiB window). */
    bool (*mem_read)(void *opaque, uint32_t off, uint8_t *val);
    bool (*mem_write)(void *opaque, uint32_t off, uint8_t val);
    /* Draws the frame itself (extended modes) and returns true, or false for the standard
     * renderer. Must leave v->kind = VGA_KIND_EXT, fb_w/fb_h, invalidate = false and the
     * dirty pages cleared when it returns true. */
    bool (*render)(void *opaque);
    bool no_dispi; /* the adapter has no Bochs VBE ports */
} HgVgaExt;

enum { VGA_KIND_EXT = 64 };

struct HgVga {
    const HgVgaExt *ext;
    void *ext_opaque;

    HgBus *bus;
    HgClock *clock;
    HgDisplay *display;
    HgTimer *timer;
    int64_t refresh_due; /* clock time the running refresh was due */
    uint8_t *vram;       /* planar: byte (offset * 4 + plane); dispi: linear */
    uint32_t vram_size;
    uint8_t *dirty; /* one byte of VGA_DIRTY_* per page */
    uint32_t n_pages;
    /* The CPU maps pages of video memory for writing (an adapter's frame buffer BAR with
     * hg_bus_set_direct): those writes mark no page, so clearing the dirty pages must make
     * it map them again (hg_vga_clear_dirty). */
    bool direct_mapped;
    /* Text mode redraws only when something can have changed: a register write (any port),
     * a dirty page, or the cursor or blink phase (text_phase of the last frame drawn). */
    bool regs_written;
    int text_phase;
    bool has_dispi;

    /* Registers. Arrays are larger than the standard VGA needs so extensions (Cirrus)
     * can reuse them. */
    uint8_t misc, fcr;
    uint8_t sr_index, sr[32];
    uint8_t gr_index, gr[64];
    uint8_t cr_index, cr[64];
    uint8_t ar_index, ar[32];
    bool ar_flip; /* false: next 0x3C0 write is an index */
    uint8_t dac[768];
    uint8_t dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_cache[3];
    uint8_t pel_mask;
    uint32_t latch;
    uint16_t dispi_index;
    uint16_t dispi[DISPI_NREGS];

    /* Renderer state (not saved: rebuilt by a full redraw). */
    bool invalidate;
    int fb_w, fb_h;
    int kind;        /* what was drawn last */
    uint32_t *cells; /* text: key per cell of the last drawn frame */
    int cells_len;
    uint32_t *line_buf;
    uint8_t *text_chars; /* text screen of the last frame, for the display's dump */
    int text_cols, text_rows;
};

void hg_vga_render(HgVga *v);
/* hg_vga_new for an adapter extending the VGA. */
HgVga *hg_vga_new_ext(HgBus *bus, HgClock *clock, HgDisplay *display, uint32_t vram_size,
                      const HgVgaExt *ext, void *opaque);
/* Marks the dirty-tracking pages of len bytes of linear video memory from offset. */
static inline void hg_vga_mark_range(HgVga *v, uint32_t offset, uint32_t len)
{
    if (!len)
        return;
    uint32_t first = offset >> VGA_DIRTY_SHIFT, last = (offset + len - 1) >> VGA_DIRTY_SHIFT;
    for (uint32_t p = first; p <= last && p - first < v->n_pages; p++)
        v->dirty[p % v->n_pages] |= VGA_DIRTY_ANY | VGA_DIRTY_FONT;
}
/* Clears the dirty pages after a frame was drawn (and makes the CPU's direct write
 * mappings of video memory, if any, mark pages again). */
void hg_vga_clear_dirty(HgVga *v);
/* Guest-visible timing derived from the CRTC registers. */
typedef struct VgaTiming {
    int64_t line_ps;             /* picoseconds per scanline */
    int htotal, hde;             /* character clocks */
    int vtotal, vde, vrs, vrlen; /* scanlines */
} VgaTiming;
void hg_vga_timing(const HgVga *v, VgaTiming *t);
