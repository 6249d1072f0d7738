/* Intel PIIX3 USB host controller (UHCI), PCI function 00:01.2 (8086:7020): the I/O
 * registers of BAR4, the 1 ms frame list walk over queue heads and transfer descriptors on
 * the virtual clock, two root ports with reset, enable, suspend and resume, and the
 * interrupt on completion, short packet, error and resume detect. Follows the Universal
 * Host Controller Interface (UHCI) Design Guide, revision 1.1, chapters 2 (registers) and
 * 3 (data structures, schedule), and the behaviour Linux's uhci-hcd and SeaBIOS rely on.
 *
 * Board wiring: hg_uhci_new(pci, bus, clock, devfn) registers the function; reset with the
 * board before hg_pci_reset; save/load after the PCI bus (load re-arms the frame timer).
 * Devices are plugged into root ports 0 and 1 with hg_uhci_attach (hot plug: the port
 * reports a connect status change and wakes a suspended controller).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "usb.h"

typedef struct HgUhci HgUhci;
typedef struct HgPciBus HgPciBus;
typedef struct HgBus HgBus;
typedef struct HgClock HgClock;

enum { HG_UHCI_PORTS = 2 };

HgUhci *hg_uhci_new(HgPciBus *pci, HgBus *bus, HgClock *clock, int devfn);
/* Frees the controller and the devices still attached. */
void hg_uhci_free(HgUhci *u);
/* System reset: the controller's power-on state; attached devices see a bus reset. */
void hg_uhci_reset(HgUhci *u);
/* Root port 0 or 1: its device, or NULL. */
HgUsbDevice *hg_uhci_device(HgUhci *u, int port);
/* Plugs dev into a free root port. */
void hg_uhci_attach(HgUhci *u, int port, HgUsbDevice *dev);
/* Unplugs the device of a root port and returns it (not freed). */
HgUsbDevice *hg_uhci_detach(HgUhci *u, int port);
/* A device behind the root ports (any depth) wants the host's attention. */
void hg_uhci_wakeup(HgUhci *u);

/* Statistics for tests and benchmarks: frames walked, and frames counted without a walk
 * (an idle schedule is walked once per timer tick, not once per frame). */
typedef struct HgUhciStats {
    uint64_t frames_walked;
    uint64_t frames_skipped;
    uint64_t tds_completed;
    uint64_t tds_failed; /* retired with an error (stall, timeout, babble) */
    uint64_t loops_cut;  /* frames ended early by the loop and work bounds */
} HgUhciStats;
void hg_uhci_stats(const HgUhci *u, HgUhciStats *st);

/* The controller's registers and ports, then each root port's device (kind and state):
 * loading into a machine whose ports hold other devices fails with a reason. */
void hg_uhci_save(HgUhci *u, HgStateWriter *w);
void hg_uhci_load(HgUhci *u, HgStateReader *r);
/* Saves and loads one device with its kind ("usb-slot" section), for hubs' children too. */
void hg_usb_slot_save(HgUsbDevice *d, HgStateWriter *w);
void hg_usb_slot_load(HgUsbDevice *d, HgStateReader *r);
