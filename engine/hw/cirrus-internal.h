/* State shared by the Cirrus CLGD-5446's registers (cirrus.c) and its bitblt engine
 * (cirrus-blt.c). Not for use outside engine/hw/cirrus*.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cirrus.h"
#include "vga-internal.h"

typedef struct HgPciDevice HgPciDevice;

enum {
    /* GR30 blit mode */
    BLT_BACKWARDS = 0x01,
    BLT_SYSDEST = 0x02,
    BLT_SYSSRC = 0x04,
    BLT_TRANSPARENT = 0x08,
    BLT_PIXELWIDTH = 0x30,
    BLT_PATTERN = 0x40,
    BLT_EXPAND = 0x80,
    /* GR31 status/start */
    BLT_BUSY = 0x01,
    BLT_START = 0x02,
    BLT_RESET = 0x04,
    BLT_FIFOUSED = 0x10,
    BLT_AUTOSTART = 0x80,
    /* GR33 mode extensions */
    BLTX_DWORDGRAN = 0x01,
    BLTX_INVERT = 0x02,
    BLTX_SOLIDFILL = 0x04,
    /* Largest line of a system-to-screen transfer: 13-bit width (8 KiB) plus padding. */
    BLT_LINE_MAX = 8192 + 8,
};

/* A blit as latched when it starts (later register writes do not change it). */
typedef struct CirrusBlt {
    uint32_t width, height; /* bytes per line, lines */
    uint32_t dpitch, spitch;
    uint32_t dst, src;
    uint32_t fg, bg, tcolor;
    uint8_t mode, modeext, rop;
    uint8_t skip; /* bytes of each line left alone on the left (GR2F, see latch()) */
    int bpp; /* bytes per pixel */
    /* System-to-screen transfer in progress. */
    bool active;
    uint32_t line_len;   /* bytes the CPU sends per line */
    uint32_t lines_left; /* lines still to come */
    uint32_t buf_len;
    uint32_t fed;    /* bytes received for this blit */
    uint8_t swallow; /* bytes still to drop after the end: the CPU sends whole dwords */
    uint8_t buf[BLT_LINE_MAX];
} CirrusBlt;

struct HgCirrus {
    HgVga *vga;
    HgBus *bus;
    HgPciDevice *pci;
    uint8_t *rom;
    uint32_t rom_size;
    uint8_t gr0, gr1; /* full 8-bit GR0/GR1 (blit background/foreground byte 0) */
    uint8_t hidden_dac, hidden_count;
    uint8_t hidden_pal[48]; /* DAC entries seen with SR12 bit 1: cursor colours 0 and 15 */
    uint16_t cursor_x, cursor_y;
    CirrusBlt blt;
    /* Renderer (not saved). */
    int cur_drawn_x, cur_drawn_y, cur_drawn_size;
    bool cur_drawn;
};

/* cirrus-blt.c */
/* Whether BAR0 writes may bypass the handlers changed (a system-to-screen blit started or
 * ended): drops the CPU's direct write mappings of video memory. */
void cirrus_direct_changed(HgCirrus *c);
void cirrus_blt_start(HgCirrus *c);
void cirrus_blt_reset(HgCirrus *c);
/* One byte of a system-to-screen transfer from the CPU. */
void cirrus_blt_feed(HgCirrus *c, uint8_t b);
/* A CPU byte written to a window that feeds the blitter goes to it (true) or to memory. */
bool cirrus_blt_takes(HgCirrus *c);
/* Runs a blit from explicit parameters (start and tests of the bounds logic). Returns
 * false when it was refused. */
bool cirrus_blt_run(HgCirrus *c);
/* Blitter register offsets (MMIO at 0xB8000 or BAR1 + 0x100) to GR indices; -1: none. */
int cirrus_blt_mmio_gr(uint32_t off);
/* cirrus.c */
void cirrus_gr_write(HgCirrus *c, uint8_t idx, uint8_t val);
uint8_t cirrus_gr_read(HgCirrus *c, uint8_t idx);
