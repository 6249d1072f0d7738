/* Cirrus Logic CLGD-5446 PCI VGA (1013:00B8), built on the standard VGA of engine/hw/vga.c:
 * the Cirrus extended sequencer/CRTC/graphics registers, the hidden DAC register, banked and
 * linear access to 4 MiB of video memory, the 8/15/16/24/32 bpp packed-pixel modes, the
 * hardware cursor and the bitblt engine (cirrus-blt.c).
 *
 * How the board wires it (in place of hg_vga_new):
 *   HgCirrus *c = hg_cirrus_new(bus, clock, display, pci, HG_PCI_DEVFN(2, 0), NULL);
 * - maps the VGA ports 0x3B0-0x3DF and the legacy window 0xA0000-0xBFFFF itself (no Bochs
 *   VBE ports: the Cirrus BIOS does not use them);
 * - registers the PCI function 1013:00B8 class 0300 (subsystem 1AF4:1100 as QEMU gives)
 *   with BAR0 = 32 MiB prefetchable memory (0-16 MiB: video memory, mirrored every 4 MiB;
 *   16-32 MiB: the system-to-screen blit aperture), BAR1 = 4 KiB MMIO (0x000-0x0FF: VGA
 *   ports 0x3C0+offset, as Linux's cirrus-qemu DRM driver uses them; 0x100-0x1FF: the
 *   bitblt registers, as QEMU lays them out) and the expansion ROM = rom_path (NULL:
 *   /usr/share/seabios/vgabios-cirrus.bin; a missing file leaves the card without ROM).
 *   SeaBIOS finds the ROM through the ROM BAR and runs it; nothing goes through fw_cfg.
 * - hg_cirrus_reset on every system reset (the PCI side is hg_pci_reset's); hg_cirrus_save/
 *   load (which include the VGA's section) before the PCI bus' own section (hg_pci_load
 *   re-establishes the BAR mappings).
 * The display, clock and threading rules are the VGA's (see vga.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgDisplay HgDisplay;
typedef struct HgPciBus HgPciBus;
typedef struct HgCirrus HgCirrus;
typedef struct HgVga HgVga;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

#define HG_CIRRUS_BIOS "/usr/share/seabios/vgabios-cirrus.bin"

enum {
    HG_CIRRUS_VENDOR = 0x1013,
    HG_CIRRUS_DEVICE = 0x00b8,
    HG_CIRRUS_VRAM = 4u << 20,
    HG_CIRRUS_BAR0_SIZE = 32u << 20,
    HG_CIRRUS_BAR1_SIZE = 4096,
};

/* pci may be NULL (tests): then no PCI function exists and the BAR handlers are reached
 * through hg_cirrus_lfb_read/write and hg_cirrus_mmio_read/write. */
HgCirrus *hg_cirrus_new(HgBus *bus, HgClock *clock, HgDisplay *display, HgPciBus *pci, int devfn,
                        const char *rom_path);
void hg_cirrus_free(HgCirrus *c);
void hg_cirrus_reset(HgCirrus *c);
HgVga *hg_cirrus_vga(HgCirrus *c);
/* Draws what changed into the display now. */
void hg_cirrus_update(HgCirrus *c);

/* BAR0 and BAR1 handlers (offsets within the BAR), for the PCI bus and tests. */
uint32_t hg_cirrus_lfb_read(void *opaque, uint32_t offset, int size);
void hg_cirrus_lfb_write(void *opaque, uint32_t offset, uint32_t value, int size);
uint32_t hg_cirrus_mmio_read(void *opaque, uint32_t offset, int size);
void hg_cirrus_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size);

void hg_cirrus_save(const HgCirrus *c, HgStateWriter *w);
void hg_cirrus_load(HgCirrus *c, HgStateReader *r);
