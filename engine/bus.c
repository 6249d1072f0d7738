/* Physical memory map and I/O port space of one machine.
 *
 * RAM covers [0, ram_size); fixed ROM and MMIO regions take precedence over RAM where
 * they overlap (the PC maps its BIOS over the top of the 1 MiB window and its VGA window
 * at 0xA0000), and RAM over relocatable regions (PCI BARs: the i440FX sends a cycle to PCI
 * only when DRAM does not claim it). In 0xC0000-0xFFFFF the shadow RAM control (i440FX PAM
 * registers, 440FX datasheet 4.4.x "PAM") decides per 16 KiB segment whether reads and
 * writes go to DRAM or to PCI/ROM. Unmapped reads return all ones, as an undriven ISA bus
 * does; unmapped writes are dropped. I/O ports: fixed handlers over relocatable ones.
 */
#include "bus.h"

#include <glib.h>
#include <string.h>

enum {
    MAX_REGIONS = 128,
    MAX_IO_HANDLERS = 255,
    SHADOW_BASE = 0xc0000,
    SHADOW_SEG = 0x4000,
    SHADOW_SEGS = 16,
};

typedef struct HgRegion {
    uint32_t base, size; /* size 0: not mapped */
    bool movable;
    uint8_t *rom; /* ROM contents, or NULL for MMIO */
    HgIoRead rd;
    HgIoWrite wr;
    void *opaque;
    HgDirectPage direct_page; /* plain memory behind MMIO, see hg_bus_set_direct */
    HgDirectWritten direct_written;
    void *direct_opaque;
} HgRegion;

typedef struct HgIoHandler {
    HgIoRead rd;
    HgIoWrite wr;
    void *opaque;
    uint32_t port, count;
    bool movable;
} HgIoHandler;

struct HgBus {
    uint8_t *ram;
    uint32_t ram_size;
    uint8_t *dirty;
    /* One byte per RAM page: 1 when no fixed region or shadow control touches the page, so
     * accesses can go straight to RAM (relocatable regions never hide RAM). */
    uint8_t *plain;
    HgRegion regions[MAX_REGIONS];
    int n_regions;
    HgIoHandler io[MAX_IO_HANDLERS + 1]; /* slot 0: unmapped */
    int n_io;
    uint8_t io_map[65536];
    HgMapChanged map_changed;
    void *map_changed_opaque;
    HgRamWritten ram_written;
    void *ram_written_opaque;
    HgDirectRearm direct_rearm;
    void *direct_rearm_opaque;
    bool shadow_ctl;
    uint8_t shadow[SHADOW_SEGS];
};

HgBus *hg_bus_new(uint32_t ram_size)
{
    HgBus *bus = g_new0(HgBus, 1);
    bus->ram_size = ram_size & ~0xfffu;
    bus->ram = g_malloc0(bus->ram_size ? bus->ram_size : 1);
    bus->dirty = g_malloc0((bus->ram_size >> 12) + 1);
    bus->plain = g_malloc((bus->ram_size >> 12) + 1);
    memset(bus->plain, 1, (bus->ram_size >> 12) + 1);
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
    g_free(bus->plain);
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

static void clear_plain(HgBus *bus, uint32_t base, uint32_t size)
{
    if (!size || base >= bus->ram_size)
        return;
    uint64_t end = MIN((uint64_t)base + size, (uint64_t)bus->ram_size);
    uint32_t first = base >> 12, last = (uint32_t)((end - 1) >> 12);
    memset(bus->plain + first, 0, last - first + 1);
}

static void update_plain(HgBus *bus)
{
    memset(bus->plain, 1, (bus->ram_size >> 12) + 1);
    for (int i = 0; i < bus->n_regions; i++)
        if (!bus->regions[i].movable)
            clear_plain(bus, bus->regions[i].base, bus->regions[i].size);
    if (bus->shadow_ctl)
        clear_plain(bus, SHADOW_BASE, SHADOW_SEG * SHADOW_SEGS);
}

static inline bool plain_ram(const HgBus *bus, uint32_t addr, int size)
{
    return addr < bus->ram_size && bus->ram_size - addr >= (uint32_t)size &&
           bus->plain[addr >> 12] && bus->plain[(addr + (uint32_t)size - 1) >> 12];
}

static void map_changed(HgBus *bus)
{
    if (bus->map_changed)
        bus->map_changed(bus->map_changed_opaque);
}

void hg_bus_set_map_changed(HgBus *bus, HgMapChanged cb, void *opaque)
{
    bus->map_changed = cb;
    bus->map_changed_opaque = opaque;
}

static int add_region(HgBus *bus, uint32_t base, uint32_t size)
{
    g_assert(bus->n_regions < MAX_REGIONS);
    int h = bus->n_regions++;
    HgRegion *r = &bus->regions[h];
    memset(r, 0, sizeof(*r));
    r->base = base;
    r->size = size;
    return h;
}

void hg_bus_map_rom(HgBus *bus, uint32_t base, const uint8_t *data, uint32_t size)
{
    HgRegion *r = &bus->regions[add_region(bus, base, size)];
    r->rom = g_memdup2(data, size);
    update_plain(bus);
    map_changed(bus);
}

int hg_bus_map_mmio(HgBus *bus, uint32_t base, uint32_t size, HgIoRead rd, HgIoWrite wr,
                    void *opaque)
{
    int h = add_region(bus, base, size);
    HgRegion *r = &bus->regions[h];
    r->rd = rd;
    r->wr = wr;
    r->opaque = opaque;
    update_plain(bus);
    map_changed(bus);
    return h;
}

int hg_bus_add_mmio(HgBus *bus, HgIoRead rd, HgIoWrite wr, void *opaque)
{
    int h = hg_bus_map_mmio(bus, 0, 0, rd, wr, opaque);
    bus->regions[h].movable = true;
    return h;
}

void hg_bus_move_mmio(HgBus *bus, int handle, uint32_t base, uint32_t size)
{
    g_assert(handle >= 0 && handle < bus->n_regions);
    HgRegion *r = &bus->regions[handle];
    /* A region must not wrap around 4 GiB. */
    if (size && base + (uint64_t)size > 0x100000000ull)
        size = (uint32_t)(0x100000000ull - base);
    if (r->base == base && r->size == size)
        return;
    r->base = base;
    r->size = size;
    if (!r->movable)
        update_plain(bus);
    map_changed(bus);
}

/* Fills io_map: relocatable ranges first, then fixed ones over them, each group in
 * registration order (a later mapping wins). */
static void rebuild_io_map(HgBus *bus)
{
    memset(bus->io_map, 0, sizeof(bus->io_map));
    for (int pass = 0; pass < 2; pass++) {
        for (int slot = 1; slot <= bus->n_io; slot++) {
            const HgIoHandler *h = &bus->io[slot];
            if (h->movable != (pass == 0))
                continue;
            for (uint32_t p = h->port; p < h->port + h->count && p < 65536; p++)
                bus->io_map[p] = (uint8_t)slot;
        }
    }
}

static int add_io(HgBus *bus, uint32_t port, uint32_t count, HgIoRead rd, HgIoWrite wr,
                  void *opaque, bool movable)
{
    g_assert(bus->n_io < MAX_IO_HANDLERS);
    int slot = ++bus->n_io;
    bus->io[slot] = (HgIoHandler){rd, wr, opaque, port, count, movable};
    rebuild_io_map(bus);
    return slot;
}

int hg_bus_map_io(HgBus *bus, uint16_t port, uint16_t count, HgIoRead rd, HgIoWrite wr,
                  void *opaque)
{
    return add_io(bus, port, count, rd, wr, opaque, false);
}

int hg_bus_add_io(HgBus *bus, HgIoRead rd, HgIoWrite wr, void *opaque)
{
    return add_io(bus, 0, 0, rd, wr, opaque, true);
}

void hg_bus_move_io(HgBus *bus, int handle, uint32_t port, uint32_t count)
{
    g_assert(handle >= 1 && handle <= bus->n_io);
    HgIoHandler *h = &bus->io[handle];
    if (port > 0xffff)
        count = 0;
    if (h->port == port && h->count == count)
        return;
    h->port = port;
    h->count = count;
    rebuild_io_map(bus);
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

void hg_bus_set_shadow(HgBus *bus, uint32_t base, uint32_t size, int mode)
{
    bool changed = !bus->shadow_ctl;
    bus->shadow_ctl = true;
    uint64_t end = (uint64_t)base + size;
    for (uint64_t a = base & ~(uint64_t)(SHADOW_SEG - 1); a < end; a += SHADOW_SEG) {
        if (a < SHADOW_BASE || a >= SHADOW_BASE + SHADOW_SEG * SHADOW_SEGS)
            continue;
        uint32_t seg = (uint32_t)(a - SHADOW_BASE) / SHADOW_SEG;
        if (bus->shadow[seg] != (mode & 3)) {
            bus->shadow[seg] = (uint8_t)(mode & 3);
            changed = true;
        }
    }
    if (changed) {
        update_plain(bus);
        map_changed(bus);
    }
}

/* The newest mapped region of the given kind containing addr, or NULL. */
static HgRegion *find_region(HgBus *bus, uint32_t addr, bool movable)
{
    for (int i = bus->n_regions - 1; i >= 0; i--) {
        HgRegion *r = &bus->regions[i];
        if (r->movable == movable && addr - r->base < r->size)
            return r;
    }
    return NULL;
}

/* What an access to addr reaches: a region, RAM (*ram set) or nothing (both NULL/false).
 * Order: shadow control inside its window; elsewhere fixed regions, RAM, then relocatable
 * regions. */
static HgRegion *resolve(HgBus *bus, uint32_t addr, bool write, bool *ram)
{
    *ram = false;
    if (bus->shadow_ctl && addr - SHADOW_BASE < SHADOW_SEG * SHADOW_SEGS) {
        int mode = bus->shadow[(addr - SHADOW_BASE) / SHADOW_SEG];
        if (mode & (write ? HG_SHADOW_WRITE_RAM : HG_SHADOW_READ_RAM)) {
            *ram = addr < bus->ram_size;
            return NULL;
        }
        HgRegion *r = find_region(bus, addr, false);
        return r ? r : find_region(bus, addr, true);
    }
    HgRegion *r = find_region(bus, addr, false);
    if (r)
        return r;
    if (addr < bus->ram_size) {
        *ram = true;
        return NULL;
    }
    return find_region(bus, addr, true);
}

uint8_t *hg_bus_page(HgBus *bus, uint32_t addr, bool *writable)
{
    addr &= ~0xfffu;
    if (plain_ram(bus, addr, 1)) {
        *writable = true;
        return bus->ram + addr;
    }
    bool ram, wram;
    HgRegion *r = resolve(bus, addr, false, &ram);
    resolve(bus, addr, true, &wram);
    if (ram) {
        /* Shadow RAM read-only (writes go nowhere, or to a region): the CPU takes its slow
         * path for writes, which hg_bus_write resolves. */
        *writable = wram;
        return bus->ram + addr;
    }
    /* A ROM page is usable directly only if the region covers all of it (writes, which
     * may reach shadow RAM, take the slow path). */
    if (r && r->rom && addr - r->base + 0x1000 <= r->size) {
        *writable = false;
        return r->rom + (addr - r->base);
    }
    return NULL;
}

static uint32_t read_byte(HgBus *bus, uint32_t addr)
{
    bool ram;
    HgRegion *r = resolve(bus, addr, false, &ram);
    if (r) {
        if (r->rom)
            return r->rom[addr - r->base];
        return r->rd ? r->rd(r->opaque, addr - r->base, 1) & 0xff : 0xff;
    }
    return ram ? bus->ram[addr] : 0xff;
}

static void write_byte(HgBus *bus, uint32_t addr, uint8_t v)
{
    bool ram;
    HgRegion *r = resolve(bus, addr, true, &ram);
    if (r) {
        if (!r->rom && r->wr)
            r->wr(r->opaque, addr - r->base, v, 1);
        return;
    }
    if (ram) {
        bus->ram[addr] = v;
        bus->dirty[addr >> 12] = 1;
    }
}

uint32_t hg_bus_read(HgBus *bus, uint32_t addr, int size)
{
    if (size <= 4 && plain_ram(bus, addr, size)) {
        uint32_t v = 0;
        memcpy(&v, bus->ram + addr, size);
        return v;
    }
    bool ram;
    HgRegion *r = resolve(bus, addr, false, &ram);
    if (r && !r->rom && r->rd && addr - r->base + size <= r->size)
        return r->rd(r->opaque, addr - r->base, size);
    /* Plain RAM all the way (the last byte resolves to RAM too: no region starts inside). */
    if (ram && size <= 4 && bus->ram_size - addr >= (uint32_t)size) {
        bool ram_end;
        if (!resolve(bus, addr + size - 1, false, &ram_end) && ram_end) {
            uint32_t v = 0;
            memcpy(&v, bus->ram + addr, size);
            return v;
        }
    }
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= read_byte(bus, addr + i) << (8 * i);
    return v;
}

void hg_bus_write(HgBus *bus, uint32_t addr, uint32_t value, int size)
{
    if (size <= 4 && plain_ram(bus, addr, size)) {
        memcpy(bus->ram + addr, &value, size);
        bus->dirty[addr >> 12] = 1;
        bus->dirty[(addr + (uint32_t)size - 1) >> 12] = 1;
        return;
    }
    bool ram;
    HgRegion *r = resolve(bus, addr, true, &ram);
    if (r && !r->rom && r->wr && addr - r->base + size <= r->size) {
        r->wr(r->opaque, addr - r->base, value, size);
        return;
    }
    for (int i = 0; i < size; i++)
        write_byte(bus, addr + i, (uint8_t)(value >> (8 * i)));
}

void hg_bus_set_ram_written(HgBus *bus, HgRamWritten cb, void *opaque)
{
    bus->ram_written = cb;
    bus->ram_written_opaque = opaque;
}

static bool dma_range_ok(const HgBus *bus, uint64_t addr, uint64_t len)
{
    return addr <= bus->ram_size && len <= bus->ram_size - addr;
}

/* Page by page: plain RAM pages are copied directly, others (shadow, VGA window) go through
 * the byte accessors. src NULL writes zeros. */
static void dma_out(HgBus *bus, uint32_t addr, const uint8_t *src, uint32_t len)
{
    uint32_t done = 0;
    while (done < len) {
        uint32_t a = addr + done;
        uint32_t n = MIN(len - done, 0x1000 - (a & 0xfff));
        bool writable = false;
        uint8_t *page = hg_bus_page(bus, a, &writable);
        if (page && writable && page == bus->ram + (a & ~0xfffu)) {
            if (src)
                memcpy(bus->ram + a, src + done, n);
            else
                memset(bus->ram + a, 0, n);
            bus->dirty[a >> 12] = 1;
        } else {
            for (uint32_t i = 0; i < n; i++)
                write_byte(bus, a + i, src ? src[done + i] : 0);
        }
        done += n;
    }
    if (len && bus->ram_written)
        bus->ram_written(bus->ram_written_opaque, addr, len);
}

bool hg_bus_dma_write(HgBus *bus, uint64_t addr, const void *buf, uint64_t len)
{
    if (!dma_range_ok(bus, addr, len))
        return false;
    dma_out(bus, (uint32_t)addr, buf, (uint32_t)len);
    return true;
}

bool hg_bus_dma_zero(HgBus *bus, uint64_t addr, uint64_t len)
{
    if (!dma_range_ok(bus, addr, len))
        return false;
    dma_out(bus, (uint32_t)addr, NULL, (uint32_t)len);
    return true;
}

bool hg_bus_dma_read(HgBus *bus, uint64_t addr, void *buf, uint64_t len)
{
    if (!dma_range_ok(bus, addr, len))
        return false;
    uint8_t *dst = buf;
    uint32_t done = 0;
    while (done < len) {
        uint32_t a = (uint32_t)addr + done;
        uint32_t n = MIN((uint32_t)len - done, 0x1000 - (a & 0xfff));
        bool writable;
        const uint8_t *page = hg_bus_page(bus, a, &writable);
        if (page) {
            memcpy(dst + done, page + (a & 0xfff), n);
        } else {
            for (uint32_t i = 0; i < n; i++)
                dst[done + i] = (uint8_t)read_byte(bus, a + i);
        }
        done += n;
    }
    return true;
}

const uint8_t *hg_bus_dirty_map(const HgBus *bus)
{
    return bus->dirty;
}

/* The direct region (hg_bus_set_direct) holding the whole page at addr for both reads
 * and writes, or NULL. */
static HgRegion *direct_region(HgBus *bus, uint32_t addr)
{
    bool ram;
    HgRegion *r = resolve(bus, addr, false, &ram);
    if (!r || !r->direct_page || resolve(bus, addr, true, &ram) != r || (r->base & 0xfff) ||
        (addr & ~0xfffu) - r->base > r->size - 0x1000 || r->size < 0x1000)
        return NULL;
    return r;
}

void hg_bus_set_direct(HgBus *bus, int handle, HgDirectPage page, HgDirectWritten written,
                       void *opaque)
{
    g_assert(handle >= 0 && handle < bus->n_regions && !bus->regions[handle].rom);
    HgRegion *r = &bus->regions[handle];
    r->direct_page = page;
    r->direct_written = written;
    r->direct_opaque = opaque;
    map_changed(bus);
}

uint8_t *hg_bus_direct_page(HgBus *bus, uint32_t addr, bool *writable)
{
    *writable = false;
    HgRegion *r = direct_region(bus, addr);
    if (!r)
        return NULL;
    return r->direct_page(r->direct_opaque, (addr & ~0xfffu) - r->base, writable);
}

void hg_bus_set_direct_rearm(HgBus *bus, HgDirectRearm cb, void *opaque)
{
    bus->direct_rearm = cb;
    bus->direct_rearm_opaque = opaque;
}

void hg_bus_rearm_direct(HgBus *bus)
{
    if (!bus->direct_rearm)
        return;
    for (int i = 0; i < bus->n_regions; i++) {
        const HgRegion *r = &bus->regions[i];
        if (r->direct_page && r->size)
            bus->direct_rearm(bus->direct_rearm_opaque, r->base, r->size);
    }
}

void hg_bus_mark_dirty(HgBus *bus, uint32_t addr)
{
    if (addr < bus->ram_size) {
        bus->dirty[addr >> 12] = 1;
        return;
    }
    HgRegion *r = direct_region(bus, addr);
    if (r && r->direct_written)
        r->direct_written(r->direct_opaque, (addr & ~0xfffu) - r->base);
}

void hg_bus_clear_dirty(HgBus *bus)
{
    memset(bus->dirty, 0, bus->ram_size >> 12);
}
