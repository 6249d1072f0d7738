/* PCI bus 0 of the i440FX PC: configuration mechanism #1, per-function configuration
 * spaces, BARs and INTx routing to the PIIX3's PIRQ lines.
 *
 * Board wiring:
 *   HgPciBus *pci = hg_pci_new(bus);            maps 0xCF8 (dword) and 0xCFA-0xCFF;
 *                                                 0xCF9 is left to the PIIX3 reset control
 *   then create the functions (i440FX host bridge, PIIX3, ...), each with hg_pci_register;
 *   hg_pci_reset(pci) on every system reset, after the devices' own resets;
 *   hg_pci_save/hg_pci_load after the devices' sections are saved/loaded (the loader
 *   re-establishes every BAR mapping).
 *
 * A device model:
 *   HgPciDevice *d = hg_pci_register(pci, HG_PCI_DEVFN(slot, fn), vendor, device, rev,
 *                                    class24, opaque);
 *   uint8_t *cfg = hg_pci_config(d);   device-specific defaults (0x40-0xFF), interrupt pin
 *   hg_pci_set_bar(d, 0, 256, HG_PCI_BAR_IO, rd, wr);   handlers get the offset in the BAR
 *   hg_pci_set_irq(d, level);          drives its INTx pin
 *   hg_pci_bus_master(d)               command bit 2, checked before DMA
 * Config-space hooks (hg_pci_set_config_hooks) let a device see writes after the generic
 * handling (masks applied, BARs remapped) and override reads.
 *
 * The configuration space a device sets up before the guest's first configuration access is
 * its power-on state: hg_pci_reset restores it (and unmaps the BARs).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

typedef struct HgPciBus HgPciBus;
typedef struct HgPciDevice HgPciDevice;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

#define HG_PCI_DEVFN(slot, fn) (((slot) << 3) | (fn))

enum {
    HG_PCI_BAR_IO = 1,
    HG_PCI_BAR_MEM = 2,
    HG_PCI_BAR_PREFETCH = 4, /* with HG_PCI_BAR_MEM */
    HG_PCI_ROM_BAR = 6,      /* bar index of the expansion ROM (config 0x30) */
    HG_PCI_NUM_BARS = 7,
};
#define HG_PCI_BAR_UNMAPPED 0xffffffffu

enum {
    HG_PCI_VENDOR_ID = 0x00,
    HG_PCI_DEVICE_ID = 0x02,
    HG_PCI_COMMAND = 0x04,
    HG_PCI_STATUS = 0x06,
    HG_PCI_REVISION = 0x08,
    HG_PCI_CLASS_PROG = 0x09,
    HG_PCI_HEADER_TYPE = 0x0e,
    HG_PCI_BAR0 = 0x10,
    HG_PCI_SUBSYSTEM_VENDOR = 0x2c,
    HG_PCI_SUBSYSTEM_ID = 0x2e,
    HG_PCI_ROM_ADDRESS = 0x30,
    HG_PCI_INTERRUPT_LINE = 0x3c,
    HG_PCI_INTERRUPT_PIN = 0x3d,
    HG_PCI_CMD_IO = 1,
    HG_PCI_CMD_MEM = 2,
    HG_PCI_CMD_MASTER = 4,
    HG_PCI_CMD_INTX_DISABLE = 0x400,
    HG_PCI_STATUS_INTERRUPT = 8,
};

/* The bus receives config reads/writes (offset = register, size 1/2/4, never crossing the
 * dword) after generic handling; value is what the guest wrote. */
typedef uint32_t (*HgPciConfigRead)(void *opaque, int offset, int size, uint32_t value);
typedef void (*HgPciConfigWrite)(void *opaque, int offset, uint32_t value, int size);
/* Called when a BAR is mapped at addr, moved, or unmapped (addr = HG_PCI_BAR_UNMAPPED). */
typedef void (*HgPciBarMapped)(void *opaque, int bar, uint32_t addr);
/* PIRQ line n (0-3 = PIRQA-D) changed level (the OR of every INTx routed to it). */
typedef void (*HgPciPirqSet)(void *opaque, int n, bool level);

HgPciBus *hg_pci_new(HgBus *bus);
void hg_pci_free(HgPciBus *pci);
void hg_pci_reset(HgPciBus *pci);
HgBus *hg_pci_get_bus(HgPciBus *pci);

/* The PIRQ router (the PIIX3) receives PIRQA-D level changes. */
void hg_pci_set_pirq_handler(HgPciBus *pci, HgPciPirqSet fn, void *opaque);
bool hg_pci_pirq_level(const HgPciBus *pci, int n);

/* class24 = class << 16 | subclass << 8 | prog-if. Sets the subsystem to 1AF4:1100 as QEMU
 * does; header type 0 (bit 7 is set on function 0 when other functions exist). The devfn
 * must be free (g_assert). */
HgPciDevice *hg_pci_register(HgPciBus *pci, int devfn, uint16_t vendor, uint16_t device,
                             uint8_t revision, uint32_t class24, void *opaque);
uint8_t *hg_pci_config(HgPciDevice *d);
/* Per-byte masks: bits the guest may write, and bits it clears by writing 1. */
uint8_t *hg_pci_wmask(HgPciDevice *d);
uint8_t *hg_pci_w1cmask(HgPciDevice *d);
void hg_pci_set_config_hooks(HgPciDevice *d, HgPciConfigRead rd, HgPciConfigWrite wr);
void hg_pci_set_bar_hook(HgPciDevice *d, HgPciBarMapped fn);
HgPciDevice *hg_pci_find(HgPciBus *pci, int devfn);
int hg_pci_devfn(const HgPciDevice *d);

/* Declares BAR n (0-5, or HG_PCI_ROM_BAR with HG_PCI_BAR_MEM) of size bytes (a power of
 * two, at least 4 for I/O and 16 for memory). rd/wr receive offsets within the BAR. */
void hg_pci_set_bar(HgPciDevice *d, int n, uint32_t size, int flags, HgIoRead rd, HgIoWrite wr);
/* Plain memory behind memory BAR n (declared before): see hg_bus_set_direct; page and
 * written get offsets within the BAR and the device's opaque. */
void hg_pci_set_bar_direct(HgPciDevice *d, int n, HgDirectPage page, HgDirectWritten written);
/* Declares the expansion ROM BAR with an image (the bus keeps a copy, padded to a power of
 * two). */
void hg_pci_set_rom(HgPciDevice *d, const uint8_t *data, uint32_t size);
/* Current address of BAR n or HG_PCI_BAR_UNMAPPED. */
uint32_t hg_pci_bar_addr(const HgPciDevice *d, int n);

/* Drives the device's INTx pin (config 0x3D, 1 = INTA); honours the INTx-disable bit. */
void hg_pci_set_irq(HgPciDevice *d, bool level);
bool hg_pci_bus_master(const HgPciDevice *d);

/* Configuration cycles without the ports (tests, board): bdf = bus << 8 | devfn. */
uint32_t hg_pci_config_read(HgPciBus *pci, int bdf, int offset, int size);
void hg_pci_config_write(HgPciBus *pci, int bdf, int offset, uint32_t value, int size);

void hg_pci_save(const HgPciBus *pci, HgStateWriter *w);
void hg_pci_load(HgPciBus *pci, HgStateReader *r);
