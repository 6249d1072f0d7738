/* Physical address space and I/O port space of one machine: RAM, ROM images, MMIO
 * regions and port handlers, with the A20 gate and the per-page state the CPU's
 * TLB and translator need (dirty pages, pages holding translated code). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HgBus HgBus;

typedef uint32_t (*HgIoRead)(void *opaque, uint32_t addr, int size);
typedef void (*HgIoWrite)(void *opaque, uint32_t addr, uint32_t value, int size);

HgBus *hg_bus_new(uint32_t ram_size);
void hg_bus_free(HgBus *bus);
uint8_t *hg_bus_ram(HgBus *bus);
uint32_t hg_bus_ram_size(const HgBus *bus);

/* Maps a read-only image at [base, base + size). The bus keeps its own copy. */
void hg_bus_map_rom(HgBus *bus, uint32_t base, const uint8_t *data, uint32_t size);
/* Maps an MMIO region; accesses of 1, 2 or 4 bytes go to the callbacks (addr is the offset
 * in the region). Returns a handle for hg_bus_move_mmio. */
int hg_bus_map_mmio(HgBus *bus, uint32_t base, uint32_t size, HgIoRead rd, HgIoWrite wr,
                    void *opaque);
/* Registers I/O ports [port, port + count) (addr is the port number). Returns a handle for
 * hg_bus_move_io. */
int hg_bus_map_io(HgBus *bus, uint16_t port, uint16_t count, HgIoRead rd, HgIoWrite wr,
                  void *opaque);

/* Relocatable mappings (PCI BARs). They start unmapped; a move with size/count 0 unmaps.
 * Fixed mappings (made by the map functions above) and RAM take precedence over
 * relocatable ones where they overlap, as the chipset decodes its own ranges and DRAM
 * before forwarding a cycle to PCI: a guest placing a BAR over 0xCF8 or over RAM does not
 * hide them. MMIO moves notify the map-changed callback. */
int hg_bus_add_mmio(HgBus *bus, HgIoRead rd, HgIoWrite wr, void *opaque);
void hg_bus_move_mmio(HgBus *bus, int handle, uint32_t base, uint32_t size);
int hg_bus_add_io(HgBus *bus, HgIoRead rd, HgIoWrite wr, void *opaque);
void hg_bus_move_io(HgBus *bus, int handle, uint32_t port, uint32_t count);

/* Called after every change of the physical memory map (MMIO moves, shadow RAM control):
 * the machine flushes the CPU's TLB and translated blocks, since pages returned by
 * hg_bus_page may now mean something else. */
typedef void (*HgMapChanged)(void *opaque);
void hg_bus_set_map_changed(HgBus *bus, HgMapChanged cb, void *opaque);

/* Plain memory behind an MMIO region (a frame buffer), so the CPU can map its
 * pages like RAM instead of calling the handlers for every access. page(opaque, off,
 * &writable) returns the host memory of the 4 KiB page at offset off of the region (a
 * multiple of 4096), or NULL where accesses need the handlers; with *writable false, writes
 * still go to them. written(opaque, off) is called when the CPU maps such a page for
 * writing: it writes without telling from then on, until hg_bus_rearm_direct makes it
 * forget every such write mapping (the next write maps again and calls written again). A
 * device calls that after taking its dirty pages, and at once whenever page()'s answer
 * changes. Reads and writes through hg_bus_read/write still use the handlers. */
typedef uint8_t *(*HgDirectPage)(void *opaque, uint32_t off, bool *writable);
typedef void (*HgDirectWritten)(void *opaque, uint32_t off);
void hg_bus_set_direct(HgBus *bus, int handle, HgDirectPage page, HgDirectWritten written,
                       void *opaque);
/* For the CPU's TLB: the host memory of the direct page at physical addr, or NULL. */
uint8_t *hg_bus_direct_page(HgBus *bus, uint32_t addr, bool *writable);
void hg_bus_rearm_direct(HgBus *bus);
/* The machine's side of hg_bus_rearm_direct: drop CPU write mappings of [base, base+size). */
typedef void (*HgDirectRearm)(void *opaque, uint32_t base, uint32_t size);
void hg_bus_set_direct_rearm(HgBus *bus, HgDirectRearm cb, void *opaque);

/* Shadow RAM control of 0xC0000-0xFFFFF in 16 KiB segments (i440FX PAM registers). Until
 * the first call the whole window behaves as elsewhere (ROM and MMIO over RAM). After it,
 * each segment reads RAM when HG_SHADOW_READ_RAM is set (else the ROM/MMIO mapped there, or
 * nothing) and writes RAM when HG_SHADOW_WRITE_RAM is set (else the ROM/MMIO: nowhere for a
 * ROM). base and size are rounded to whole segments. */
enum { HG_SHADOW_READ_RAM = 1, HG_SHADOW_WRITE_RAM = 2 };
void hg_bus_set_shadow(HgBus *bus, uint32_t base, uint32_t size, int mode);

/* Port I/O. Unmapped ports read as all ones and ignore writes. */
uint32_t hg_bus_in(HgBus *bus, uint16_t port, int size);
void hg_bus_out(HgBus *bus, uint16_t port, uint32_t value, int size);

/* Host pointer for the 4 KiB physical page at addr when it is plain RAM (readable and
 * writable), ROM (writable == false) or NULL for MMIO and unmapped space. */
uint8_t *hg_bus_page(HgBus *bus, uint32_t addr, bool *writable);
/* Physical accesses that take MMIO into account (device DMA, page walks). */
uint32_t hg_bus_read(HgBus *bus, uint32_t addr, int size);
void hg_bus_write(HgBus *bus, uint32_t addr, uint32_t value, int size);

/* Device DMA between a host buffer and guest-physical [addr, addr + len), which must lie
 * within RAM: otherwise nothing is transferred and false is returned. Transfers follow the
 * shadow RAM control and fixed regions like CPU accesses; writes mark pages dirty and call
 * the RAM-written hook (the machine invalidates translated code there). */
bool hg_bus_dma_read(HgBus *bus, uint64_t addr, void *buf, uint64_t len);
bool hg_bus_dma_write(HgBus *bus, uint64_t addr, const void *buf, uint64_t len);
/* Fills with zeros, as hg_bus_dma_write. */
bool hg_bus_dma_zero(HgBus *bus, uint64_t addr, uint64_t len);
typedef void (*HgRamWritten)(void *opaque, uint32_t addr, uint32_t len);
void hg_bus_set_ram_written(HgBus *bus, HgRamWritten cb, void *opaque);

/* One byte per 4 KiB RAM page, set when the CPU maps the page for writing (a write TLB
 * entry is created; for a direct MMIO page, hg_bus_mark_dirty calls its written instead)
 * or a device writes it; cleared by hg_bus_clear_dirty (the caller
 * must then flush the CPU TLB so later writes mark the page again). */
const uint8_t *hg_bus_dirty_map(const HgBus *bus);
void hg_bus_mark_dirty(HgBus *bus, uint32_t addr);
void hg_bus_clear_dirty(HgBus *bus);
