/* NE2000-compatible network cards: a National Semiconductor DP8390 core with 16 KiB of
 * buffer RAM, reached through remote DMA, in two front ends:
 *   - the ISA NE2000 (32 ports: DP8390 registers, data port, reset port; one IRQ line),
 *     as Linux's ne driver probes it (io= and irq= module parameters);
 *   - the PCI Realtek RTL8029AS (10EC:8029, class 020000, I/O BAR0 of 32 bytes, INTA),
 *     as Linux's ne2k-pci drives it.
 *
 * Board wiring:
 *   HgNe2000 *ne = hg_ne2000_isa_new(bus, 0x300, irq, mac, &link);
 *   HgNe2000 *ne = hg_ne2000_pci_new(pci, devfn, bus, mac, &link);
 *   hg_ne2000_reset(ne) on every system reset;
 *   hg_ne2000_receive(ne, frame, len) for each frame from the network (engine/hw/nic.h:
 *   HG_NIC_RX_NO_ROOM means "offer it again later"; link->rx_ready says when);
 *   hg_ne2000_save/hg_ne2000_load with the machine state (for the PCI card, before the
 *   PCI bus's own section).
 * The link is copied; its opaque is passed back to send and rx_ready.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "irq.h"
#include "nic.h"

typedef struct HgBus HgBus;
typedef struct HgNe2000 HgNe2000;
typedef struct HgPciBus HgPciBus;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

HgNe2000 *hg_ne2000_isa_new(HgBus *bus, uint16_t iobase, HgIrq irq, const uint8_t mac[6],
                            const HgNicLink *link);
HgNe2000 *hg_ne2000_pci_new(HgPciBus *pci, int devfn, HgBus *bus, const uint8_t mac[6],
                            const HgNicLink *link);
void hg_ne2000_free(HgNe2000 *ne);
/* Power-on state: the chip stopped with ISR.RST set, buffer RAM cleared, PAR0-5 loaded
 * with the station address. */
void hg_ne2000_reset(HgNe2000 *ne);
HgNicRx hg_ne2000_receive(HgNe2000 *ne, const uint8_t *frame, size_t len);
/* The registers that say where the card stands, for the monitor's "info network". */
void hg_ne2000_describe(const HgNe2000 *ne, GString *out);
void hg_ne2000_save(const HgNe2000 *ne, HgStateWriter *w);
/* A state that does not fit this card (other front end, values the chip cannot hold, an
 * interrupt line that disagrees with ISR and IMR) is refused with an error on r and
 * changes nothing. */
void hg_ne2000_load(HgNe2000 *ne, HgStateReader *r);
