/* The PC board (i440FX/PIIX3 class, as QEMU's "pc" machine lays it out so that Debian's
 * SeaBIOS finds what it expects): creation and wiring of the chipset and ISA devices, the
 * interrupt lines between them, firmware, CMOS contents and fw_cfg items, and system reset.
 * See /work/shared/reference/devices.md §2 for the map. */
#pragma once

#include "machine-internal.h"

typedef struct HgBoard HgBoard;

HgBoard *hg_board_new(HgMachine *m, GError **error);
void hg_board_free(HgBoard *b);
/* System reset: every device back to its power-on state (the CPU is reset by the caller). */
void hg_board_reset(HgBoard *b);
/* COM1 (port 0) and COM2 (port 1). */
HgUart *hg_board_uart(HgBoard *b, int port);
typedef struct HgI8042 HgI8042;
typedef struct HgFdc HgFdc;
HgI8042 *hg_board_kbc(HgBoard *b);
HgFdc *hg_board_fdc(HgBoard *b);
/* The display adapter (tests read its video memory). */
typedef struct HgVga HgVga;
HgVga *hg_board_vga(HgBoard *b);
/* The CD-ROM drive (secondary master): a new medium, or out with the tray (refused with
 * a reason while the guest holds it locked, unless forced). */
bool hg_board_cdrom_change(HgBoard *b, const char *path, GError **error);
bool hg_board_cdrom_eject(HgBoard *b, bool force, GError **error);
/* The ACPI power button; false when no ACPI OS listens (the caller powers off). */
bool hg_board_power_button(HgBoard *b);

/* Machine state (engine/machine-state.c): every board device in a fixed order, after the
 * CPU and the clock. Load errors land in the reader; the caller restores a backup. */
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;
void hg_board_save(const HgBoard *b, HgStateWriter *w);
void hg_board_load(HgBoard *b, HgStateReader *r);
/* The image in the CD-ROM drive now, or NULL when it is empty. */
const char *hg_board_cdrom_path(HgBoard *b);
/* No image request in flight any more (before saving a state, when the thread ends). */
void hg_board_drain_io(HgBoard *b);
/* The machine's sound (engine/sound.h), or NULL without sound hardware. */
typedef struct HgSound HgSound;
HgSound *hg_board_sound(HgBoard *b);
/* The machine's USB devices (engine/usb.h). */
typedef struct HgUsbHost HgUsbHost;
HgUsbHost *hg_board_usb(HgBoard *b);
/* The hard disks' images: 0 the primary master (hda), 1 the slave (hdb); NULL if none. */
typedef struct HgBlock HgBlock;
HgBlock *hg_board_disk(HgBoard *b, int n);
/* The network card and its host side (engine/network.h), or NULL. */
typedef struct HgNetwork HgNetwork;
HgNetwork *hg_board_network(HgBoard *b);
