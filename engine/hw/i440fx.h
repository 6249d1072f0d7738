/* Intel 82441FX PMC (i440FX host bridge), PCI 00:00.0, 8086:1237.
 *
 * Board wiring: HgI440fx *h = hg_i440fx_new(pci, ram_size) after hg_pci_new. It takes the
 * bus's shadow RAM control (0xC0000-0xFFFFF reads the BIOS ROM until the guest programs the
 * PAM registers) and so needs the BIOS low alias mapped as a fixed ROM at 0xE0000 (and
 * option ROM space at 0xC0000, if any). The machine sets hg_bus_set_map_changed to flush the
 * CPU's TLB and translated blocks: PAM writes change the memory map.
 * hg_i440fx_reset on system reset, before hg_pci_reset; save/load with the machine (the PCI
 * bus section holds the registers; hg_i440fx_load re-applies the PAM state, so call it after
 * hg_pci_load).
 */
#pragma once

#include <stdint.h>

typedef struct HgPciBus HgPciBus;
typedef struct HgI440fx HgI440fx;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

HgI440fx *hg_i440fx_new(HgPciBus *pci, uint32_t ram_size);
void hg_i440fx_free(HgI440fx *h);
void hg_i440fx_reset(HgI440fx *h);
void hg_i440fx_save(const HgI440fx *h, HgStateWriter *w);
void hg_i440fx_load(HgI440fx *h, HgStateReader *r);
