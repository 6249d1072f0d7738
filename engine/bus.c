/* Physical memory map and I/O port space of one machine.
 *
 * RAM covers [0, ram_size); ROM and MMIO regions registered later take precedence
 * over RAM where they overlap (the PC maps its BIOS over the top of the 1 MiB window
 * and its VGA window at 0xA0000). Unmapped reads return all ones, as an undriven ISA
 * bus does; unmapped writes are dropped.
 */
#include "bus.h"

#include <glib.h>
#include <string.h>

enum { MAX_REGIONS = 64, MAX_IO_HANDLERS = 255 };

typedef struct HgRegion {
    uint32_t base, size;
    uint8_t *rom; /* ROM contents, or NULL for MMIO */
    HgIoRead rd;
    HgIoWrite wr;
    void *opaque;
} HgRegion;

typedef struct HgIoHandler {
    HgIoRead rd;
    HgIoWrite wr;
    void *opaque;
} HgIoHandler;

struct HgBus {
    uint8_t *ram;
    uint32_t ram_size;
    uint8_t *dirty;
    HgRegion regions[MAX_REGIONS];
    int n_regions;
    HgIoHandler io[MAX_IO_HANDLERS + 1]; /* slot 0: unmapped */
    int n_io;
    uint8_t io_map[65536];
};

HgBus *hg_bus_new(uint32_t ram_size)
{
    HgBus *bus = g_new0(HgBus, 1);
    bus->ram_size = ram_size & ~0xfffu;
    bus->ram = g_malloc0(bus->ram_size ? bus->ram_size : 1);
    bus->dirty = g_malloc0((bus->ram_size >> 12) + 1);
    return bus;
}

void hg_bus_free(HgBus *bus)
{
    if (!bus)
        return;
    for (int i = 0; i < bus->n_regions; i++)
        g_free(bus->regions[i].rom);
    g_free(bus->ram);
    g_free(bus->dirty);
    g_free(bus);
}

uint8_t *hg_bus_ram(HgBus *bus)
{
    return bus->ram;
}

uint32_t hg_bus_ram_size(const HgBus *bus)
{
    return bus->ram_size;
}

static HgRegion *add_region(HgBus *bus, uint32_t base, uint32_t size)
{
    g_assert(bus->n_regions < MAX_REGIONS);
    HgRegion *r = &bus->regions[bus->n_regions++];
    memset(r, 0, sizeof(*r));
    r->base = base;
    r->size = size;
    return r;
}

void hg_bus_map_rom(HgBus *bus, uint32_t base, const uint8_t *data, uint32_t size)
{
    HgRegion *r = add_region(bus, base, size);
    r->rom = g_memdup2(data, size);
}

void hg_bus_map_mmio(HgBus *bus, uint32_t base, uint32_t size, HgIoRead rd, HgIoWrite wr,
                     void *opaque)
{
    HgRegion *r = add_region(bus, base, size);
    r->rd = rd;
    r->wr = wr;
    r->opaque = opaque;
}

void hg_bus_map_io(HgBus *bus, uint16_t port, uint16_t count, HgIoRead rd, HgIoWrite wr,
                   void *opaque)
{
    g_assert(bus->n_io < MAX_IO_HANDLERS);
    int slot = ++bus->n_io;
    bus->io[slot] = (HgIoHandler){rd, wr, opaque};
    for (uint32_t p = port; p < (uint32_t)port + count && p < 65536; p++)
        bus->io_map[p] = (uint8_t)slot;
}

uint32_t hg_bus_in(HgBus *bus, uint16_t port, int size)
{
    const HgIoHandler *h = &bus->io[bus->io_map[port]];
    if (h->rd)
        return h->rd(h->opaque, port, size);
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

void hg_bus_out(HgBus *bus, uint16_t port, uint32_t value, int size)
{
    const HgIoHandler *h = &bus->io[bus->io_map[port]];
    if (h->wr)
        h->wr(h->opaque, port, value, size);
}

/* The newest region containing addr, or NULL. */
static HgRegion *find_region(HgBus *bus, uint32_t addr)
{
    for (int i = bus->n_regions - 1; i >= 0; i--) {
        HgRegion *r = &bus->regions[i];
        if (addr - r->base < r->size)
            return r;
    }
    return NULL;
}

uint8_t *hg_bus_page(HgBus *bus, uint32_t addr, bool *writable)
{
    addr &= ~0xfffu;
    HgRegion *r = find_region(bus, addr);
    if (r) {
        /* A ROM page is usable directly only if the region covers all of it. */
        if (r->rom && addr - r->base + 0x1000 <= r->size) {
            *writable = false;
            return r->rom + (addr - r->base);
        }
        return NULL;
    }
    if (addr < bus->ram_size) {
        *writable = true;
        return bus->ram + addr;
    }
    return NULL;
}

static uint32_t read_byte(HgBus *bus, uint32_t addr)
{
    HgRegion *r = find_region(bus, addr);
    if (r) {
        if (r->rom)
            return r->rom[addr - r->base];
        return r->rd ? r->rd(r->opaque, addr - r->base, 1) & 0xff : 0xff;
    }
    return addr < bus->ram_size ? bus->ram[addr] : 0xff;
}

static void write_byte(HgBus *bus, uint32_t addr, uint8_t v)
{
    HgRegion *r = find_region(bus, addr);
    if (r) {
        if (!r->rom && r->wr)
            r->wr(r->opaque, addr - r->base, v, 1);
        return;
    }
    if (addr < bus->ram_size) {
        bus->ram[addr] = v;
        bus->dirty[addr >> 12] = 1;
    }
}

uint32_t hg_bus_read(HgBus *bus, uint32_t addr, int size)
{
    HgRegion *r = find_region(bus, addr);
    if (r && !r->rom && r->rd && addr - r->base + size <= r->size)
        return r->rd(r->opaque, addr - r->base, size);
    if (!r && addr < bus->ram_size && size <= 4 && bus->ram_size - addr >= (uint32_t)size) {
        uint32_t v = 0;
        memcpy(&v, bus->ram + addr, size);
        return v;
    }
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= read_byte(bus, addr + i) << (8 * i);
    return v;
}

void hg_bus_write(HgBus *bus, uint32_t addr, uint32_t value, int size)
{
    HgRegion *r = find_region(bus, addr);
    if (r && !r->rom && r->wr && addr - r->base + size <= r->size) {
        r->wr(r->opaque, addr - r->base, value, size);
        return;
    }
    for (int i = 0; i < size; i++)
        write_byte(bus, addr + i, (uint8_t)(value >> (8 * i)));
}

const uint8_t *hg_bus_dirty_map(const HgBus *bus)
{
    return bus->dirty;
}

void hg_bus_mark_dirty(HgBus *bus, uint32_t addr)
{
    if (addr < bus->ram_size)
        bus->dirty[addr >> 12] = 1;
}

void hg_bus_clear_dirty(HgBus *bus)
{
    memset(bus->dirty, 0, bus->ram_size >> 12);
}
