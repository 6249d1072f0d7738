/* ATA/ATAPI IDE channel (two drives: hard disks on raw images, ATAPI CD-ROMs), independent
 * of PCI. Command set: ATA/ATAPI-6 (T13/1410D) for the task file, device control, reset
 * and the ATA commands; MMC-3 and SFF-8020i for the ATAPI packet commands.
 *
 * How the board wires it (PIIX3 IDE, 00:01.1, compatibility mode):
 *   HgIdeChannel *ide0 = hg_ide_channel_new(clock, irq14, 0);  // primary
 *   HgIdeChannel *ide1 = hg_ide_channel_new(clock, irq15, 1);  // secondary
 *   hg_ide_map_legacy(ide0, bus, 0x1f0, 0x3f6);
 *   hg_ide_map_legacy(ide1, bus, 0x170, 0x376);
 *   hg_ide_attach_disk(ide0, 0, hg_block_open(...), &err);     // the channel owns the image
 *   hg_ide_attach_cdrom(ide1, 0, iso_or_NULL, &err);
 *   HgIdeBmdma *bm = hg_ide_bmdma_new(bus, ide0, ide1);         // ide-bmdma.h
 *   ...and on every write to the IDE function's BAR4 or its command register:
 *   hg_ide_bmdma_set_base(bm, io_enabled ? (bar4 & 0xfff0) : 0);
 * The IRQ lines are level signals (INTRQ): raised when the drive interrupts with nIEN clear,
 * lowered when the guest reads the status register or sets nIEN. Compatibility mode routes
 * them to ISA IRQ 14 and 15 (edge-triggered at the PIC: a raise after a lower is an edge).
 * DMA goes through hg_bus_read/hg_bus_write and direct RAM pages (marked dirty).
 *
 * Absent drives follow QEMU and the ATA spec (device 0 answers for a missing device 1):
 * the status of an absent selected drive reads 0x00, its signature is 0xFF/0xFF, and
 * commands to it are ignored. A channel with no drive at all reads 0x00 status too (not a
 * floating 0xFF): SeaBIOS and Linux both treat that as "nothing here".
 *
 * Compared with QEMU's IDE (checked register by register with a qtest script, 8370 reads):
 * the same status, error, count, address and signature values and the same ATAPI replies
 * (TOC, capacity, sense, inquiry, event status) except where this model deliberately
 * differs: a transfer reaching past the end fails at once with IDNF (QEMU moves the
 * sectors before the end first); a command written while a data phase is pending replaces
 * it (QEMU ignores the command, the drive stays in DRQ); the IDENTIFY strings are Hangar's;
 * IDENTIFY word 255 carries a checksum; READ CD of raw 2352-byte sectors is refused; GET
 * EVENT STATUS gives the MMC event data length (6; QEMU says 4); the TOC format is read from
 * CDB byte 2 as MMC says, and from byte 9 as SFF-8020i said (QEMU: byte 9 only).
 *
 * Timing: PIO commands complete at once (data ready and the interrupt raised during the
 * guest's command write). DMA transfers move their data and interrupt at a deterministic
 * point of the virtual clock (a timer HG_IDE_DMA_DELAY_NS after the later of the command
 * and the bus-master start), so instruction-counted runs are reproducible.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgBlock HgBlock;
typedef struct HgIdeChannel HgIdeChannel;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

enum { HG_IDE_DMA_DELAY_NS = 20000 };

typedef enum { HG_IDE_NONE, HG_IDE_DISK, HG_IDE_CDROM } HgIdeKind;

/* index: 0 primary, 1 secondary (names the state section and the drives' serial numbers). */
HgIdeChannel *hg_ide_channel_new(HgClock *clock, HgIrq irq, int index);
/* Closes the attached images. */
void hg_ide_channel_free(HgIdeChannel *ch);
/* Hardware reset (RESET- asserted): drives return to their power-on state. */
void hg_ide_channel_reset(HgIdeChannel *ch);

/* Attaches a hard disk; the channel takes ownership of blk (closed on error too). The disk
 * must be at least one sector; read-only images make writes fail with an ABRT. */
bool hg_ide_attach_disk(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error);
/* Attaches a CD-ROM drive, with a medium (owned by the channel) or empty (blk NULL). */
bool hg_ide_attach_cdrom(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error);
HgIdeKind hg_ide_kind(const HgIdeChannel *ch, int unit);

/* Removable media (monitor `change`/`eject`, the GUI). Eject refuses with a reason when the
 * guest has locked the tray (PREVENT ALLOW MEDIUM REMOVAL) unless force is set, and queues
 * an eject-request event for the guest so it can unlock and eject itself. Insert replaces any
 * medium (taking ownership of blk), closes the tray and makes the guest see a UNIT ATTENTION
 * and a new-media event. */
bool hg_ide_cdrom_eject(HgIdeChannel *ch, int unit, bool force, GError **error);
bool hg_ide_cdrom_insert(HgIdeChannel *ch, int unit, HgBlock *blk, GError **error);
bool hg_ide_cdrom_has_medium(const HgIdeChannel *ch, int unit);
/* Waits until no request of the channel's images runs on a worker thread. */
void hg_ide_channel_drain(HgIdeChannel *ch);
/* The image of a hard disk unit, or NULL when the unit is not a disk. */
HgBlock *hg_ide_disk(const HgIdeChannel *ch, int unit);
/* The medium in a CD-ROM drive (owned by the channel), or NULL when empty. */
HgBlock *hg_ide_cdrom_medium(const HgIdeChannel *ch, int unit);
bool hg_ide_cdrom_locked(const HgIdeChannel *ch, int unit);

/* Port handlers: the command block (8 ports, port & 7 selects the register; the data port
 * takes 2- and 4-byte accesses) and the control block (alternate status / device control). */
uint32_t hg_ide_cmd_read(void *channel, uint32_t port, int size);
void hg_ide_cmd_write(void *channel, uint32_t port, uint32_t value, int size);
uint32_t hg_ide_ctl_read(void *channel, uint32_t port, int size);
void hg_ide_ctl_write(void *channel, uint32_t port, uint32_t value, int size);
/* Maps the handlers at cmd_base..cmd_base+7 and ctl_port. */
void hg_ide_map_legacy(HgIdeChannel *ch, HgBus *bus, uint16_t cmd_base, uint16_t ctl_port);

/* The whole channel state, including an in-flight PIO buffer and a pending DMA transfer.
 * Images are not saved: the board attaches the same ones before loading. */
void hg_ide_channel_save(const HgIdeChannel *ch, HgStateWriter *w);
void hg_ide_channel_load(HgIdeChannel *ch, HgStateReader *r);
