/* Bus-master IDE DMA engine of the PIIX3 IDE function (Intel 82371SB datasheet, "Bus Master
 * IDE Registers"; SFF-8038i). 16 bytes of I/O at PCI BAR4: per channel (primary at +0,
 * secondary at +8) a command register (+0: bit 0 start, bit 3 direction = write to memory),
 * a status register (+2: bit 0 active, bit 1 error and bit 2 interrupt (write 1 to clear),
 * bits 5/6 drive 0/1 DMA capable) and the physical address of the PRD table (+4, dword).
 *
 * PRD entries are {u32 address (bit 0 ignored), u16 byte count (bit 0 ignored, 0 = 64 KiB),
 * u16 flags (bit 15 end of table)}. A region does not cross a 64 KiB boundary: the address
 * counter wraps inside its 64 KiB page (the datasheet forbids such regions; wrapping keeps the
 * walk bounded). The table is read at most 8192 entries (64 KiB of table) per start: a table
 * without an end bit then ends there.
 *
 * End of transfer, as the datasheet's table describes (the first three checked against QEMU):
 *  - table exactly as long as the transfer: active cleared, interrupt set;
 *  - table longer than the transfer: active stays set, interrupt set;
 *  - table shorter: active cleared, interrupt NOT set (as QEMU); the drive keeps the rest
 *    of its data request pending (DRQ; QEMU drops it), so the guest sees a timeout and
 *    resets, or re-arms the engine with a new table, which continues the transfer;
 *  - the image fails on the host (I/O error): error and interrupt set, active cleared, the
 *    drive ends the command with ERR (ATA: UNC|ABRT; ATAPI: MEDIUM ERROR).
 * Regions outside RAM go through the bus's MMIO handlers (unmapped space reads as ones and
 * drops writes): the bus cannot tell the engine about a master abort.
 * Clearing the start bit before the transfer ran suspends it (nothing moves).
 */
#pragma once

#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgIdeChannel HgIdeChannel;
typedef struct HgIdeBmdma HgIdeBmdma;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* Either channel may be NULL. */
HgIdeBmdma *hg_ide_bmdma_new(HgBus *bus, HgIdeChannel *primary, HgIdeChannel *secondary);
void hg_ide_bmdma_free(HgIdeBmdma *bm);
void hg_ide_bmdma_reset(HgIdeBmdma *bm);
/* BAR4 moved (or I/O decoding was switched): base is the new port base, 0 = not decoded.
 * Maps the 16 ports at the new base; ports at an old base stop answering (read as ones). */
void hg_ide_bmdma_set_base(HgIdeBmdma *bm, uint16_t base);
uint16_t hg_ide_bmdma_base(const HgIdeBmdma *bm);

/* Handlers for a board that maps the ports itself; port is absolute (checked against the
 * current base). */
uint32_t hg_ide_bmdma_read(void *bm, uint32_t port, int size);
void hg_ide_bmdma_write(void *bm, uint32_t port, uint32_t value, int size);

/* The same registers addressed by their offset in the 16-byte BAR, for a PCI layer that
 * maps and moves the BAR itself (hg_pci_set_bar): then hg_ide_bmdma_set_base is not used. */
uint32_t hg_ide_bmdma_bar_read(void *bm, uint32_t offset, int size);
void hg_ide_bmdma_bar_write(void *bm, uint32_t offset, uint32_t value, int size);
void hg_ide_bmdma_save(const HgIdeBmdma *bm, HgStateWriter *w);
/* Restores the registers; the base is the board's (it restores BAR4 and calls set_base). */
void hg_ide_bmdma_load(HgIdeBmdma *bm, HgStateReader *r);
