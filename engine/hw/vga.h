/* IBM VGA (standard register file, 256 KiB planar memory, text and graphics modes) with
 * the Bochs VBE "dispi" extension, rendering into an HgDisplay.
 *
 * How the board wires it:
 * - hg_vga_new maps I/O ports 0x3B0-0x3DF (the 0x3Bx/0x3Dx CRTC and status ports answer
 *   according to Misc Output bit 0), the dispi ports 0x1CE-0x1CF when vram_size is larger
 *   than 256 KiB, and the legacy memory window 0xA0000-0xBFFFF as one MMIO region (GR6
 *   decides which part of it answers).
 * - Linear framebuffer (dispi only): hg_vga_map_lfb(vga, 0xE0000000) for the ISA card
 *   (SeaVGABIOS' isavga build hard-codes that address); a PCI card (1234:1111) maps it at
 *   its BAR0 instead, vram_size long.
 * - ROM: SeaBIOS runs no ROM it finds at 0xC0000 by itself. Either
 *   (a) ISA card: publish /usr/share/seabios/vgabios-isavga.bin (no PCIR header, uses dispi
 *       at 0x1CE and the LFB at 0xE0000000) as fw_cfg file "vgaroms/vgabios-isavga.bin", or
 *   (b) PCI card 1234:1111 class 0300: vgabios-stdvga.bin (PCIR 1234:1111) behind the PCI
 *       ROM BAR (config 0x30) or as fw_cfg file "pci1234,1111.rom".
 *   SeaBIOS copies it to 0xC0000 (the board must have shadow RAM there) and calls it.
 * - Clock: input status 1 (retrace/display-enable bits), cursor and character blink all
 *   follow the machine's virtual clock. The VGA arms one clock timer that redraws the
 *   changed parts of the picture into the display once per refresh (about 60 Hz of guest
 *   time); hg_vga_update draws immediately.
 * All calls happen on the emulation thread; consumers read the HgDisplay.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgDisplay HgDisplay;
typedef struct HgVga HgVga;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

enum {
    HG_VGA_STD_VRAM = 256 * 1024,
    HG_VGA_LFB_ISA = 0xE0000000u, /* VBE_DISPI_LFB_PHYSICAL_ADDRESS */
};

/* vram_size: 256 KiB gives a plain VGA; a larger power of two up to 64 MiB adds the Bochs
 * VBE dispi interface (QEMU's isa-vga has 8 MiB, -device VGA 16 MiB). clock is required.
 * display may be NULL, but then nothing is drawn and hg_display_text_dump has nothing to
 * show: boot tests looking for text need a display. Free the VGA before the clock. */
HgVga *hg_vga_new(HgBus *bus, HgClock *clock, HgDisplay *display, uint32_t vram_size);
void hg_vga_free(HgVga *v);
void hg_vga_reset(HgVga *v);
/* Maps the linear framebuffer (dispi) at base. */
void hg_vga_map_lfb(HgVga *v, uint32_t base);
/* Draws whatever changed since the last update into the display now. */
void hg_vga_update(HgVga *v);
/* Forces the next update to redraw everything (for example after the consumer lost its
 * copy). */
void hg_vga_invalidate(HgVga *v);

/* Raw access for the board (PCI BAR handlers) and tests. */
uint32_t hg_vga_lfb_read(void *opaque, uint32_t offset, int size);
void hg_vga_lfb_write(void *opaque, uint32_t offset, uint32_t value, int size);
uint8_t *hg_vga_vram(HgVga *v, uint32_t *size);

void hg_vga_save(const HgVga *v, HgStateWriter *w);
void hg_vga_load(HgVga *v, HgStateReader *r);
