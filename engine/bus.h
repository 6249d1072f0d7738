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
/* Maps an MMIO region; accesses of 1, 2 or 4 bytes go to the callbacks. */
void hg_bus_map_mmio(HgBus *bus, uint32_t base, uint32_t size, HgIoRead rd, HgIoWrite wr,
                     void *opaque);
/* Registers I/O ports [port, port + count). */
void hg_bus_map_io(HgBus *bus, uint16_t port, uint16_t count, HgIoRead rd, HgIoWrite wr,
                   void *opaque);

/* Port I/O. Unmapped ports read as all ones and ignore writes. */
uint32_t hg_bus_in(HgBus *bus, uint16_t port, int size);
void hg_bus_out(HgBus *bus, uint16_t port, uint32_t value, int size);

/* Host pointer for the 4 KiB physical page at addr when it is plain RAM (readable and
 * writable), ROM (writable == false) or NULL for MMIO and unmapped space. */
uint8_t *hg_bus_page(HgBus *bus, uint32_t addr, bool *writable);
/* Physical accesses that take MMIO into account (device DMA, page walks). */
uint32_t hg_bus_read(HgBus *bus, uint32_t addr, int size);
void hg_bus_write(HgBus *bus, uint32_t addr, uint32_t value, int size);

/* One byte per 4 KiB RAM page, set when the CPU maps the page for writing (a write TLB
 * entry is created) or a device writes it; cleared by hg_bus_clear_dirty (the caller
 * must then flush the CPU TLB so later writes mark the page again). */
const uint8_t *hg_bus_dirty_map(const HgBus *bus);
void hg_bus_mark_dirty(HgBus *bus, uint32_t addr);
void hg_bus_clear_dirty(HgBus *bus);
