/* The host side of a machine's network: what the board's card sends goes out through
 * libslirp (user networking), a tap device, or nowhere; what the network answers waits in
 * a queue until the emulation thread hands it to the card.
 *
 * Threads: each HgNet runs its own host thread (a GMainLoop on a private GMainContext)
 * that owns libslirp or the tap fd. The emulation thread only copies frames into a
 * bounded queue (hg_net_send) and takes frames from another (hg_net_deliver), so device
 * code needs no locks; wake(opaque) tells it, from the net thread, that frames wait.
 *
 * Spec (HgConfig.net):
 *   user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,restrict=on|off]
 *       [,net=ADDR[/PREFIX]][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR]
 *     QEMU's defaults: network 10.0.2.0/24, gateway (the host) 10.0.2.2, DNS 10.0.2.3
 *     forwarding to the host's resolver, DHCP from 10.0.2.15; IPv4 only. A forward's host
 *     address defaults to 127.0.0.1 (0.0.0.0 must be written to listen on every
 *     interface), its guest address to the DHCP start. restrict=on: the guest reaches
 *     nothing outside (forwards into it still work).
 *   tap,ifname=NAME[,script=no]   an existing tap device (no script is ever run)
 *   none                          frames from the guest are dropped; nothing arrives
 *   NULL                          user
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/nic.h"

typedef struct HgNet HgNet;

/* Frames waiting in one direction are bounded by both limits; past them new frames are
 * dropped and counted (TCP retransmits, as on a congested wire). */
enum {
    HG_NET_QUEUE_FRAMES = 1024,
    HG_NET_QUEUE_BYTES = 4 * 1024 * 1024,
};

typedef struct HgNetStats {
    uint64_t tx_frames, tx_bytes; /* guest -> network: accepted by hg_net_send */
    uint64_t tx_dropped;          /* refused (queue full, bad length) or not written (tap) */
    uint64_t rx_frames, rx_bytes; /* network -> guest: queued for the card */
    uint64_t rx_dropped;          /* queue full */
    uint64_t rx_delivered;        /* taken by the card */
    unsigned tx_queued, rx_queued;
    unsigned tx_peak_frames, rx_peak_frames; /* the most ever queued */
    size_t tx_peak_bytes, rx_peak_bytes;
} HgNetStats;

/* Parses spec, opens the backend (binds the host forwards, opens the tap device) and the
 * pcap dump_path (or NULL), and starts the net thread. wake (may be NULL) is called from
 * the net thread when frames for the guest arrive in an empty queue. Errors are HG_ERROR
 * (HG_ERROR_CONFIG for the spec or the host, HG_ERROR_FILE for the dump). */
HgNet *hg_net_new(const char *spec, const uint8_t mac[6], const char *dump_path,
                  void (*wake)(void *opaque), void *opaque, GError **error);
/* Stops the thread, closes the backend, flushes and closes the dump. NULL is fine. */
void hg_net_free(HgNet *net);

/* Emulation thread: a frame the guest transmits (copied before returning). It leaves
 * with the next hg_net_flush (or at once when many are waiting): waking the net thread
 * costs a system call, paid once per slice of guest time rather than once per frame. */
void hg_net_send(HgNet *net, const uint8_t *frame, size_t len);
/* Emulation thread: wakes the net thread for the frames sent since the last flush. */
void hg_net_flush(HgNet *net);
/* Any thread: frames wait for the guest. */
bool hg_net_pending(HgNet *net);
/* Emulation thread: offers the waiting frames in order to receive(nic, ...) and stops at
 * the first HG_NIC_RX_NO_ROOM, which stays first in line. Returns how many were taken. */
int hg_net_deliver(HgNet *net, HgNicRx (*receive)(void *nic, const uint8_t *frame, size_t len),
                   void *nic);

/* Human text for the monitor's "info network" (g_free it). */
char *hg_net_info(HgNet *net);
/* Any thread: the counters. */
void hg_net_get_stats(HgNet *net, HgNetStats *stats);

/* Run-time forwards (user mode): rule as in the spec's hostfwd=; remove takes the same
 * rule or just tcp|udp:[HOSTADDR]:HOSTPORT. They run on the net thread; the caller waits
 * for the answer at most about a second. */
bool hg_net_hostfwd_add(HgNet *net, const char *rule, GError **error);
bool hg_net_hostfwd_remove(HgNet *net, const char *rule, GError **error);

/* Checks a spec's syntax without opening anything (for configuration editors). */
bool hg_net_check_spec(const char *spec, GError **error);
