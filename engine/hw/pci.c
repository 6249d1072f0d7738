/* PCI bus 0 with configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2:
 * CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at 0xCFC-0xCFF) and type-0 configuration headers
 * (6.1: IDs, command/status, BARs with the sizing protocol of 6.2.5.1, expansion ROM BAR
 * 6.2.5.2, interrupt line/pin).
 *
 * INTx routing follows the PIIX3 (82371SB datasheet 2.2.9, and the rotation QEMU and
 * SeaBIOS's $PIR table assume): PIRQ = (pin - 1 + slot - 1) mod 4. The PIRQ -> ISA IRQ step
 * is the PIIX3's (piix3.c), which receives PIRQ level changes through a handler.
 */
#include "pci.h"

#include <glib.h>
#include <string.h>

#include "state.h"

enum { MAX_FUNCS = 256, CONFIG_SIZE = 256 };

typedef struct HgPciBar {
    HgPciDevice *dev;
    HgIoRead rd;
    HgIoWrite wr;
    void *opaque;  /* the device model's, handed to rd/wr */
    uint32_t size; /* 0: not implemented */
    int flags;
    int handle;    /* bus handle (MMIO region or I/O slot), -1 none */
    uint32_t addr; /* current mapping */
} HgPciBar;

struct HgPciDevice {
    HgPciBus *pci;
    int devfn;
    void *opaque;
    uint8_t config[CONFIG_SIZE];
    uint8_t wmask[CONFIG_SIZE];
    uint8_t w1cmask[CONFIG_SIZE];
    uint8_t defaults[CONFIG_SIZE];
    bool defaults_taken;
    HgPciConfigRead cfg_rd;
    HgPciConfigWrite cfg_wr;
    HgPciBarMapped bar_hook;
    HgPciBar bars[HG_PCI_NUM_BARS];
    uint8_t *rom;
    uint32_t rom_size;
    bool irq_level; /* the device's INTx input, before INTx-disable */
    bool irq_out;   /* what this function contributes to its PIRQ */
    int irq_pirq;   /* the PIRQ irq_out is counted on */
};

struct HgPciBus {
    HgBus *bus;
    uint32_t address; /* CONFIG_ADDRESS */
    HgPciDevice *devs[MAX_FUNCS];
    int pirq_count[4];
    HgPciPirqSet pirq_fn;
    void *pirq_opaque;
};

static void take_defaults(HgPciDevice *d)
{
    if (!d->defaults_taken) {
        memcpy(d->defaults, d->config, CONFIG_SIZE);
        d->defaults_taken = true;
    }
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int bar_offset(int n)
{
    return n == HG_PCI_ROM_BAR ? HG_PCI_ROM_ADDRESS : HG_PCI_BAR0 + 4 * n;
}

/* Where BAR n decodes now, by the rules of the command register and the address. */
static uint32_t bar_target(const HgPciDevice *d, int n)
{
    const HgPciBar *b = &d->bars[n];
    uint16_t cmd = get16(d->config + HG_PCI_COMMAND);
    uint32_t v = get32(d->config + bar_offset(n));
    if (!b->size)
        return HG_PCI_BAR_UNMAPPED;
    if (b->flags & HG_PCI_BAR_IO) {
        if (!(cmd & HG_PCI_CMD_IO))
            return HG_PCI_BAR_UNMAPPED;
        uint32_t a = v & ~(b->size - 1) & ~3u;
        /* Port 0 is taken to mean "not assigned"; ranges must fit the 64 KiB space. */
        if (a == 0 || (uint64_t)a + b->size > 0x10000)
            return HG_PCI_BAR_UNMAPPED;
        return a;
    }
    if (!(cmd & HG_PCI_CMD_MEM))
        return HG_PCI_BAR_UNMAPPED;
    if (n == HG_PCI_ROM_BAR && !(v & 1))
        return HG_PCI_BAR_UNMAPPED;
    uint32_t a = v & ~(b->size - 1) & ~0xfu;
    /* As QEMU: 0 and ranges reaching the top of 4 GiB (the value read back while sizing)
     * are not decoded. */
    if (a == 0 || (uint64_t)a + b->size >= 0x100000000ull)
        return HG_PCI_BAR_UNMAPPED;
    return a;
}

static void update_bars(HgPciDevice *d)
{
    HgBus *bus = d->pci->bus;
    for (int n = 0; n < HG_PCI_NUM_BARS; n++) {
        HgPciBar *b = &d->bars[n];
        if (!b->size)
            continue;
        uint32_t a = bar_target(d, n);
        if (a == b->addr)
            continue;
        b->addr = a;
        uint32_t size = a == HG_PCI_BAR_UNMAPPED ? 0 : b->size;
        if (b->flags & HG_PCI_BAR_IO)
            hg_bus_move_io(bus, b->handle, a == HG_PCI_BAR_UNMAPPED ? 0 : a, size);
        else
            hg_bus_move_mmio(bus, b->handle, a == HG_PCI_BAR_UNMAPPED ? 0 : a, size);
        if (d->bar_hook)
            d->bar_hook(d->opaque, n, a);
    }
}

/* INTx of this function onto its PIRQ. */
static void update_irq(HgPciDevice *d)
{
    HgPciBus *pci = d->pci;
    uint16_t cmd = get16(d->config + HG_PCI_COMMAND);
    int pin = d->config[HG_PCI_INTERRUPT_PIN];
    if (d->irq_level)
        d->config[HG_PCI_STATUS] |= HG_PCI_STATUS_INTERRUPT;
    else
        d->config[HG_PCI_STATUS] &= (uint8_t)~HG_PCI_STATUS_INTERRUPT;
    bool out = d->irq_level && !(cmd & HG_PCI_CMD_INTX_DISABLE) && pin >= 1 && pin <= 4;
    if (out == d->irq_out)
        return;
    d->irq_out = out;
    int pirq = d->irq_pirq;
    if (out) {
        int slot = d->devfn >> 3;
        pirq = d->irq_pirq = (pin - 1 + slot - 1) & 3;
    }
    int before = pci->pirq_count[pirq];
    pci->pirq_count[pirq] += out ? 1 : -1;
    g_assert(pci->pirq_count[pirq] >= 0);
    if ((before > 0) != (pci->pirq_count[pirq] > 0) && pci->pirq_fn)
        pci->pirq_fn(pci->pirq_opaque, pirq, pci->pirq_count[pirq] > 0);
}

void hg_pci_set_irq(HgPciDevice *d, bool level)
{
    d->irq_level = level;
    update_irq(d);
}

bool hg_pci_bus_master(const HgPciDevice *d)
{
    return (get16(d->config + HG_PCI_COMMAND) & HG_PCI_CMD_MASTER) != 0;
}

bool hg_pci_pirq_level(const HgPciBus *pci, int n)
{
    return n >= 0 && n < 4 && pci->pirq_count[n] > 0;
}

void hg_pci_set_pirq_handler(HgPciBus *pci, HgPciPirqSet fn, void *opaque)
{
    pci->pirq_fn = fn;
    pci->pirq_opaque = opaque;
}

static HgPciDevice *lookup(HgPciBus *pci, int bdf)
{
    if (bdf < 0 || bdf >= MAX_FUNCS) /* bus 0 only */
        return NULL;
    return pci->devs[bdf];
}

uint32_t hg_pci_config_read(HgPciBus *pci, int bdf, int offset, int size)
{
    HgPciDevice *d = lookup(pci, bdf);
    uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (!d || offset < 0 || offset + size > CONFIG_SIZE)
        return ones;
    take_defaults(d);
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)d->config[offset + i] << (8 * i);
    if (d->cfg_rd)
        v = d->cfg_rd(d->opaque, offset, size, v) & ones;
    return v;
}

void hg_pci_config_write(HgPciBus *pci, int bdf, int offset, uint32_t value, int size)
{
    HgPciDevice *d = lookup(pci, bdf);
    if (!d || offset < 0 || offset + size > CONFIG_SIZE)
        return;
    take_defaults(d);
    for (int i = 0; i < size; i++) {
        int o = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        d->config[o] = (uint8_t)((d->config[o] & ~d->wmask[o]) | (b & d->wmask[o]));
        d->config[o] &= (uint8_t) ~(b & d->w1cmask[o]);
    }
    if (offset < 0x34 && offset + size > HG_PCI_COMMAND)
        update_bars(d);
    if (offset <= HG_PCI_COMMAND + 1 && offset + size > HG_PCI_COMMAND + 1)
        update_irq(d); /* INTx disable */
    if (d->cfg_wr)
        d->cfg_wr(d->opaque, offset, value, size);
}

/* CONFIG_ADDRESS: only dword accesses at 0xCF8 latch it (bytes at 0xCFA/0xCFB belong to
 * the old mechanism #2 probes and are ignored; 0xCF9 is the PIIX3 reset control). */
static uint32_t addr_read(void *opaque, uint32_t port, int size)
{
    HgPciBus *pci = opaque;
    uint32_t v = pci->address >> (8 * (port - 0xcf8));
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void addr_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgPciBus *pci = opaque;
    if (port == 0xcf8 && size == 4)
        pci->address = value & 0x80fffffcu;
}

/* The bus/device/function/register the data port at port addresses, or -1. */
static int data_target(HgPciBus *pci, uint32_t port, int *offset)
{
    if (!(pci->address & 0x80000000u))
        return -1;
    *offset = (int)(pci->address & 0xfc) + (int)(port & 3);
    return (int)((pci->address >> 8) & 0xffff);
}

static uint32_t data_read(void *opaque, uint32_t port, int size)
{
    HgPciBus *pci = opaque;
    int offset;
    int bdf = data_target(pci, port, &offset);
    /* Bytes past 0xCFF are not this port's: an access straddling it reads ones there. */
    int n = MIN(size, 4 - (int)(port & 3));
    uint32_t v = bdf < 0 ? 0xffffffffu : hg_pci_config_read(pci, bdf, offset, n);
    if (n < 4)
        v |= 0xffffffffu << (8 * n);
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void data_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgPciBus *pci = opaque;
    int offset;
    int bdf = data_target(pci, port, &offset);
    int n = MIN(size, 4 - (int)(port & 3));
    if (bdf >= 0)
        hg_pci_config_write(pci, bdf, offset, value, n);
}

HgPciBus *hg_pci_new(HgBus *bus)
{
    HgPciBus *pci = g_new0(HgPciBus, 1);
    pci->bus = bus;
    hg_bus_map_io(bus, 0xcf8, 1, addr_read, addr_write, pci);
    hg_bus_map_io(bus, 0xcfa, 2, addr_read, addr_write, pci);
    hg_bus_map_io(bus, 0xcfc, 4, data_read, data_write, pci);
    return pci;
}

void hg_pci_free(HgPciBus *pci)
{
    if (!pci)
        return;
    for (int i = 0; i < MAX_FUNCS; i++) {
        if (pci->devs[i]) {
            g_free(pci->devs[i]->rom);
            g_free(pci->devs[i]);
        }
    }
    g_free(pci);
}

HgBus *hg_pci_get_bus(HgPciBus *pci)
{
    return pci->bus;
}

static void set_multifunction(HgPciBus *pci, int slot)
{
    HgPciDevice *f0 = pci->devs[slot << 3];
    if (!f0)
        return;
    for (int fn = 1; fn < 8; fn++) {
        if (pci->devs[(slot << 3) | fn]) {
            f0->config[HG_PCI_HEADER_TYPE] |= 0x80;
            f0->defaults[HG_PCI_HEADER_TYPE] |= 0x80;
        }
    }
}

HgPciDevice *hg_pci_register(HgPciBus *pci, int devfn, uint16_t vendor, uint16_t device,
                             uint8_t revision, uint32_t class24, void *opaque)
{
    g_assert(devfn >= 0 && devfn < MAX_FUNCS && !pci->devs[devfn]);
    HgPciDevice *d = g_new0(HgPciDevice, 1);
    d->pci = pci;
    d->devfn = devfn;
    d->opaque = opaque;
    for (int n = 0; n < HG_PCI_NUM_BARS; n++) {
        d->bars[n].handle = -1;
        d->bars[n].addr = HG_PCI_BAR_UNMAPPED;
    }
    uint8_t *c = d->config;
    c[0] = (uint8_t)vendor;
    c[1] = (uint8_t)(vendor >> 8);
    c[2] = (uint8_t)device;
    c[3] = (uint8_t)(device >> 8);
    c[HG_PCI_REVISION] = revision;
    c[0x09] = (uint8_t)class24;
    c[0x0a] = (uint8_t)(class24 >> 8);
    c[0x0b] = (uint8_t)(class24 >> 16);
    c[HG_PCI_SUBSYSTEM_VENDOR] = 0xf4;
    c[HG_PCI_SUBSYSTEM_VENDOR + 1] = 0x1a;
    c[HG_PCI_SUBSYSTEM_ID] = 0x00;
    c[HG_PCI_SUBSYSTEM_ID + 1] = 0x11;
    /* Status: fast back-to-back capable and medium DEVSEL timing, as QEMU's devices. */
    c[HG_PCI_STATUS + 1] = 0x02;
    /* Writable: command (I/O, memory, master, parity, SERR, INTx disable), cache line size,
     * latency timer, interrupt line and the whole device-specific area (the device narrows
     * it); status error bits are write-1-to-clear. */
    d->wmask[HG_PCI_COMMAND] = 0x47;
    d->wmask[HG_PCI_COMMAND + 1] = 0x05;
    d->wmask[0x0c] = 0xff;
    d->wmask[0x0d] = 0xff;
    d->wmask[HG_PCI_INTERRUPT_LINE] = 0xff;
    memset(d->wmask + 0x40, 0xff, CONFIG_SIZE - 0x40);
    d->w1cmask[HG_PCI_STATUS + 1] = 0xf9;
    pci->devs[devfn] = d;
    set_multifunction(pci, devfn >> 3);
    return d;
}

uint8_t *hg_pci_config(HgPciDevice *d)
{
    return d->config;
}

uint8_t *hg_pci_wmask(HgPciDevice *d)
{
    return d->wmask;
}

uint8_t *hg_pci_w1cmask(HgPciDevice *d)
{
    return d->w1cmask;
}

void hg_pci_set_config_hooks(HgPciDevice *d, HgPciConfigRead rd, HgPciConfigWrite wr)
{
    d->cfg_rd = rd;
    d->cfg_wr = wr;
}

void hg_pci_set_bar_hook(HgPciDevice *d, HgPciBarMapped fn)
{
    d->bar_hook = fn;
}

HgPciDevice *hg_pci_find(HgPciBus *pci, int devfn)
{
    return lookup(pci, devfn);
}

int hg_pci_devfn(const HgPciDevice *d)
{
    return d->devfn;
}

/* BAR accesses reach the device with offsets within the BAR (the bus passes port numbers
 * for I/O and region offsets for MMIO). */
static uint32_t bar_read(void *opaque, uint32_t addr, int size)
{
    HgPciBar *b = opaque;
    if (b->flags & HG_PCI_BAR_IO)
        addr -= b->addr;
    if (!b->rd)
        return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return b->rd(b->opaque, addr, size);
}

static void bar_write(void *opaque, uint32_t addr, uint32_t value, int size)
{
    HgPciBar *b = opaque;
    if (b->flags & HG_PCI_BAR_IO)
        addr -= b->addr;
    if (b->wr)
        b->wr(b->opaque, addr, value, size);
}

static void set_bar(HgPciDevice *d, int n, uint32_t size, int flags, HgIoRead rd, HgIoWrite wr,
                    void *opaque)
{
    g_assert(n >= 0 && n < HG_PCI_NUM_BARS && !d->bars[n].size);
    g_assert(size && (size & (size - 1)) == 0);
    g_assert((flags & HG_PCI_BAR_IO) ? size >= 4 && n != HG_PCI_ROM_BAR : size >= 16);
    HgPciBar *b = &d->bars[n];
    b->dev = d;
    b->rd = rd;
    b->wr = wr;
    b->opaque = opaque;
    b->size = size;
    b->flags = flags;
    int off = bar_offset(n);
    uint32_t low;
    uint32_t mask = ~(size - 1);
    if (flags & HG_PCI_BAR_IO) {
        b->handle = hg_bus_add_io(d->pci->bus, bar_read, bar_write, b);
        low = 1;
        mask &= ~3u;
    } else {
        b->handle = hg_bus_add_mmio(d->pci->bus, bar_read, bar_write, b);
        if (n == HG_PCI_ROM_BAR) {
            low = 0;
            mask = (mask & ~0x7ffu) | 1; /* address bits from 11 up, and the enable bit */
        } else {
            low = (flags & HG_PCI_BAR_PREFETCH) ? 8 : 0;
            mask &= ~0xfu;
        }
    }
    put32(d->config + off, low);
    put32(d->wmask + off, mask);
}

void hg_pci_set_bar(HgPciDevice *d, int n, uint32_t size, int flags, HgIoRead rd, HgIoWrite wr)
{
    set_bar(d, n, size, flags, rd, wr, d->opaque);
}

void hg_pci_set_bar_direct(HgPciDevice *d, int n, HgDirectPage page, HgDirectWritten written)
{
    g_assert(n >= 0 && n < HG_PCI_NUM_BARS && d->bars[n].size &&
             !(d->bars[n].flags & HG_PCI_BAR_IO));
    hg_bus_set_direct(d->pci->bus, d->bars[n].handle, page, written, d->opaque);
}

static uint32_t rom_read(void *opaque, uint32_t addr, int size)
{
    HgPciDevice *d = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t a = addr + (uint32_t)i;
        v |= (uint32_t)(a < d->rom_size ? d->rom[a] : 0xff) << (8 * i);
    }
    return v;
}

void hg_pci_set_rom(HgPciDevice *d, const uint8_t *data, uint32_t size)
{
    uint32_t bar = 0x800;
    while (bar < size && bar < 0x80000000u)
        bar <<= 1;
    g_assert(size <= bar);
    d->rom = g_malloc(bar);
    memset(d->rom, 0xff, bar);
    memcpy(d->rom, data, size);
    d->rom_size = bar;
    set_bar(d, HG_PCI_ROM_BAR, bar, HG_PCI_BAR_MEM, rom_read, NULL, d);
}

uint32_t hg_pci_bar_addr(const HgPciDevice *d, int n)
{
    if (n < 0 || n >= HG_PCI_NUM_BARS)
        return HG_PCI_BAR_UNMAPPED;
    return d->bars[n].addr;
}

void hg_pci_reset(HgPciBus *pci)
{
    pci->address = 0;
    for (int i = 0; i < MAX_FUNCS; i++) {
        HgPciDevice *d = pci->devs[i];
        if (!d)
            continue;
        take_defaults(d);
        memcpy(d->config, d->defaults, CONFIG_SIZE);
        update_bars(d);
        update_irq(d);
    }
}

/* State: CONFIG_ADDRESS, then each function's devfn, configuration space and INTx level.
 * Loading keeps the read-only bits of the live device (IDs, BAR types) and remaps. */
void hg_pci_save(const HgPciBus *pci, HgStateWriter *w)
{
    hg_state_begin(w, "pci", 1);
    hg_state_put_u32(w, pci->address);
    int count = 0;
    for (int i = 0; i < MAX_FUNCS; i++)
        count += pci->devs[i] != NULL;
    hg_state_put_u16(w, (uint16_t)count);
    for (int i = 0; i < MAX_FUNCS; i++) {
        const HgPciDevice *d = pci->devs[i];
        if (!d)
            continue;
        hg_state_put_u8(w, (uint8_t)i);
        hg_state_put_bytes(w, d->config, CONFIG_SIZE);
        hg_state_put_u8(w, d->irq_level);
    }
    hg_state_end(w);
}

void hg_pci_load(HgPciBus *pci, HgStateReader *r)
{
    if (!hg_state_open(r, "pci", 1, 1))
        return;
    pci->address = hg_state_get_u32(r) & 0x80fffffcu;
    int count = hg_state_get_u16(r);
    for (int k = 0; k < count && hg_state_ok(r); k++) {
        int devfn = hg_state_get_u8(r);
        uint8_t cfg[CONFIG_SIZE];
        hg_state_get_bytes(r, cfg, CONFIG_SIZE);
        bool level = hg_state_get_u8(r) != 0;
        HgPciDevice *d = pci->devs[devfn];
        if (!d || !hg_state_ok(r)) {
            if (!r->error)
                g_set_error(&r->error, g_quark_from_static_string("hg-state-error"), 1,
                            "state has PCI function %02x.%d which this machine lacks", devfn >> 3,
                            devfn & 7);
            break;
        }
        take_defaults(d);
        for (int o = 0; o < CONFIG_SIZE; o++) {
            uint8_t m = d->wmask[o] | d->w1cmask[o];
            d->config[o] = (uint8_t)((d->config[o] & ~m) | (cfg[o] & m));
        }
        d->irq_level = level;
        update_bars(d);
        update_irq(d);
    }
    hg_state_close(r);
}
