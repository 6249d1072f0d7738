/* Intel 82077AA-compatible floppy disk controller (PC/AT mode) with up to two 3.5" drives
 * holding raw images.
 *
 * Board wiring:
 *   HgFdc *fdc = hg_fdc_new(bus, dma, irq6, 2);
 * maps ports 0x3F0-0x3F5 and 0x3F7 (0x3F6 belongs to the primary IDE channel), registers
 * a transfer handler on DMA channel 2 of dma (engine/hw/dma8237.h) and drives irq6 (ISA
 * IRQ 6; level: high while an interrupt is pending and DOR bit 3 gates it on). CMOS byte
 * 0x10 (drive types: 4 = 1.44 MB, 3 = 720 KB, 5 = 2.88 MB) is the board's business; it
 * can ask hg_fdc_drive_type for the type of the inserted media.
 *
 * Media: hg_fdc_insert (or hg_fdc_change, the monitor's name for the same) opens a raw
 * image whose size gives the geometry: 368,640 (360 KB), 737,280 (720 KB), 1,228,800
 * (1.2 MB), 1,474,560 (1.44 MB) or 2,949,120 bytes (2.88 MB); any other size is refused.
 * An image that cannot be opened for writing, or one inserted read-only, is
 * write-protected. Sectors are read from and written to the file as the guest transfers
 * them (pread/pwrite), so nothing is lost when the machine stops. hg_fdc_eject closes it.
 * Both set the drive's disk-change line (DIR bit 7), which a seek with media in the drive
 * clears, as on real drives.
 *
 * Save/load cover the controller and drive state but not the media: the board re-inserts
 * its images before loading; a drive whose media then differs reports a disk change.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

typedef struct HgBus HgBus;
typedef struct HgDma HgDma;
typedef struct HgFdc HgFdc;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

#define HG_FDC_ERROR (hg_fdc_error_quark())
GQuark hg_fdc_error_quark(void);
enum { HG_FDC_ERROR_GEOMETRY = 1, HG_FDC_ERROR_OPEN = 2, HG_FDC_ERROR_DRIVE = 3 };

enum { HG_FDC_MAX_DRIVES = 2 };

/* ndrives: 1 or 2 drives attached (drives 2 and 3 never answer). */
HgFdc *hg_fdc_new(HgBus *bus, HgDma *dma, HgIrq irq, int ndrives);
void hg_fdc_free(HgFdc *f);
/* Hardware reset (RESET pin): controller registers and drive heads to power-on state;
 * the media stays. */
void hg_fdc_reset(HgFdc *f);

bool hg_fdc_insert(HgFdc *f, int drive, const char *path, bool read_only, GError **error);
bool hg_fdc_change(HgFdc *f, int drive, const char *path, bool read_only, GError **error);
void hg_fdc_eject(HgFdc *f, int drive);
bool hg_fdc_has_media(const HgFdc *f, int drive);
bool hg_fdc_read_only(const HgFdc *f, int drive);
/* CMOS 0x10 drive type of the inserted media (0 when empty). */
int hg_fdc_drive_type(const HgFdc *f, int drive);

void hg_fdc_save(const HgFdc *f, HgStateWriter *w);
void hg_fdc_load(HgFdc *f, HgStateReader *r);
