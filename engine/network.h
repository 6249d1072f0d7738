/* The machine's network: the card the configuration names (NE2000 on ISA, RTL8029 or
 * RTL8139 on PCI) joined to its host side (engine/net/: user networking, tap, none), created
 * and wired here so the board only hands over its buses and an interrupt line.
 *
 * Frames from the host wait in the HgNet's queue until the emulation thread offers them to
 * the card (hg_network_poll, between slices); a card without room keeps the rest waiting
 * and says when it has room again (engine/hw/nic.h), or is offered them again at the next
 * poll (the RTL8139C+ cannot see the guest give back receive descriptors). Frames the
 * card sends are queued at once and the host side is woken for them after the slice
 * (hg_network_flush): one wake-up per slice instead of one per frame.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgConfig HgConfig;
typedef struct HgNetwork HgNetwork;
typedef struct HgPciBus HgPciBus;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef struct HgNetworkWiring {
    HgBus *bus;
    HgClock *clock;
    HgPciBus *pci;
    int pci_devfn; /* the slot of a PCI card */
    /* Drives ISA interrupt line `line` for the ISA card. */
    void (*isa_irq)(void *opaque, int line, bool level);
    void *opaque;
    /* Called from the net thread when frames for the guest arrive. */
    void (*wake)(void *opaque);
    void *wake_opaque;
} HgNetworkWiring;

/* The MAC address of a configuration without one (QEMU's default). */
extern const uint8_t hg_network_default_mac[6];

/* NULL without error when cfg->nic is HG_NIC_NONE. Errors: card options (io=, irq=,
 * chip=), the host side (spec, forwards, tap device, dump file). */
HgNetwork *hg_network_new(const HgConfig *cfg, const HgNetworkWiring *w, GError **error);
void hg_network_free(HgNetwork *n);
void hg_network_reset(HgNetwork *n);

/* Emulation thread: offers the frames that wait to the card. */
void hg_network_poll(HgNetwork *n);
/* After a slice: the frames the card sent during it leave for the host side. */
void hg_network_flush(HgNetwork *n);
/* Any thread: 0 when frames wait that the card may take now, a time in nanoseconds to
 * look again when the card had no room, -1 when nothing waits. */
int64_t hg_network_wait_ns(HgNetwork *n);

/* For the monitor: "info network", and host forwards added or removed at run time. */
void hg_network_info(HgNetwork *n, GString *out);
bool hg_network_hostfwd_add(HgNetwork *n, const char *rule, GError **error);
bool hg_network_hostfwd_remove(HgNetwork *n, const char *rule, GError **error);

void hg_network_save(const HgNetwork *n, HgStateWriter *w);
void hg_network_load(HgNetwork *n, HgStateReader *r);
