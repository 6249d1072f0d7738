/* What a network card model and the board say to each other.
 *
 * A card model knows nothing of the host side (engine/net/): it is given an HgNicLink
 * when it is created and calls link->send for each frame the guest transmits (emulation
 * thread; the frame is copied before send returns, without the Ethernet FCS, at least 14
 * bytes, at most HG_NIC_MAX_FRAME). The board hands it frames from the network through
 * the card's own receive function, which returns one of HgNicRx:
 *   HG_NIC_RX_TAKEN    the frame went into guest memory, or the card's address filter
 *                      dropped it as the hardware would (not for this station);
 *   HG_NIC_RX_NO_ROOM  the card cannot take a frame now (receiver off, ring full): the
 *                      board keeps the frame and offers it again later.
 * When the guest makes room (frees ring space, enables the receiver) the card calls
 * link->rx_ready so the board retries at once instead of at its next look.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum {
    HG_NIC_MIN_FRAME = 14,   /* an Ethernet header */
    HG_NIC_MAX_FRAME = 65536 /* a TSO super-frame of the RTL8139C+ fits; wire frames 1514 */
};

typedef enum {
    HG_NIC_RX_TAKEN,
    HG_NIC_RX_NO_ROOM,
} HgNicRx;

typedef struct HgNicLink {
    void *opaque;
    void (*send)(void *opaque, const uint8_t *frame, size_t len);
    void (*rx_ready)(void *opaque); /* may be NULL */
} HgNicLink;
