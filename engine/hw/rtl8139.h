/* Realtek RTL8139 Fast Ethernet PCI card (10EC:8139), in two variants:
 *   cplus false: an RTL8139C (PCI revision 0x10), driven by Linux's 8139too through its
 *                four transmit slots and its receive ring buffer;
 *   cplus true:  an RTL8139C+ (PCI revision 0x20), driven by Linux's 8139cp through C+
 *                descriptor rings with checksum offload, large send (TSO) and VLAN tags;
 *                the classic registers work too, as on the chip.
 *
 * Board wiring:
 *   HgRtl8139 *nic = hg_rtl8139_new(pci, devfn, bus, clock, mac, cplus, &link);
 * The card registers its PCI function (I/O BAR0 and memory BAR1, 256 bytes each, the same
 * registers; INTA), transmits through link (engine/hw/nic.h) and takes frames from the
 * network through hg_rtl8139_receive. hg_rtl8139_reset on every system reset (before
 * hg_pci_reset); save and load after the PCI bus's section, as the other PCI devices.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "nic.h"

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgPciBus HgPciBus;
typedef struct HgRtl8139 HgRtl8139;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* mac is the address the card's EEPROM holds when the machine is built; link is copied. */
HgRtl8139 *hg_rtl8139_new(HgPciBus *pci, int devfn, HgBus *bus, HgClock *clock,
                          const uint8_t mac[6], bool cplus, const HgNicLink *link);
void hg_rtl8139_free(HgRtl8139 *nic);
/* Power-on state (PCI RST#): registers to defaults, MAC reloaded from the EEPROM, whose
 * contents survive. */
void hg_rtl8139_reset(HgRtl8139 *nic);
/* A frame from the network (without FCS): see HgNicRx. */
HgNicRx hg_rtl8139_receive(HgRtl8139 *nic, const uint8_t *frame, size_t len);
/* The registers that say where the card stands, for the monitor's "info network". */
void hg_rtl8139_describe(const HgRtl8139 *nic, GString *out);
void hg_rtl8139_save(const HgRtl8139 *nic, HgStateWriter *w);
/* A state that does not fit this card (other variant, impossible values) is refused with
 * an error in the reader and leaves the card as it was. */
void hg_rtl8139_load(HgRtl8139 *nic, HgStateReader *r);
