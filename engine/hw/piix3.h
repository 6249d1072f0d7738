/* Intel 82371SB PIIX3 PCI-to-ISA bridge, function 00:01.0 (8086:7000): PIRQ routing.
 *
 * Board wiring: HgPiix3 *p = hg_piix3_new(pci, isa_irqs) with isa_irqs[16] the ISA IRQ
 * inputs (each should reach the PIC input and the IOAPIC pin of the same number, OR-ed with
 * any ISA device on that line by the board). PCI INTx from every function reaches PIRQA-D by
 * the slot rotation (pci.c) and then the ISA IRQ programmed in config 0x60-0x63; the board's
 * lines are level-triggered (the ELCR, in the PIC's file, must say level for them; SeaBIOS
 * sets it). The IDE (00:01.1), USB (00:01.2) and PM (00:01.3) functions are separate
 * devices. hg_piix3_reset on system reset before hg_pci_reset; hg_piix3_load after
 * hg_pci_load (re-drives the routed lines).
 */
#pragma once

#include "irq.h"

typedef struct HgPciBus HgPciBus;
typedef struct HgPiix3 HgPiix3;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

HgPiix3 *hg_piix3_new(HgPciBus *pci, const HgIrq isa_irqs[16]);
void hg_piix3_free(HgPiix3 *p);
void hg_piix3_reset(HgPiix3 *p);
void hg_piix3_save(const HgPiix3 *p, HgStateWriter *w);
void hg_piix3_load(HgPiix3 *p, HgStateReader *r);
