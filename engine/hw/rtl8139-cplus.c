/* RTL8139C+ C+ mode: descriptor rings, checksum offload, large send and VLAN tags, as the
 * Realtek "RTL8139C(L)+" datasheet describes them (the register descriptions of CPCR,
 * TPPoll, RDSAR and DTCCR; the C+ mode chapter for descriptor formats, transmit priority
 * queues, checksum offload and large send) and Linux's 8139cp drives them.
 *
 * Descriptors are 16 bytes: opts1 (OWN 31, EOR 30, FS 29, LS 28, command or status,
 * buffer size or frame length), opts2 (VLAN), the 64-bit buffer address. The rings start
 * at TNPDS (normal priority, 0x20), THPDS (high priority, 0x28) and RDSAR (receive, 0xE4),
 * 256-byte aligned (the low 8 address bits are ignored), and hold at most 64 descriptors:
 * the chip goes back to the first after a descriptor with EOR or after the 64th, so every
 * walk ends.
 *
 * Transmit: a TPPoll write (HPQ bit 7 first, then NPQ bit 6; FSWInt bit 0 raises SWInt)
 * sends every complete frame the ring holds: owned descriptors from FS to LS (a frame is
 * taken only once its LS descriptor is owned too, so no half frame waits inside the chip),
 * each given back with OWN and the command bits 26:16 cleared (status: no collisions, no
 * error), TOK raised. opts1 of the first descriptor carries the offloads: IPCS, UDPCS,
 * TCPCS (bits 18-16) fill the IPv4 header, UDP and TCP checksums (the L4 one from scratch,
 * pseudo-header included); LGSEN (27) with the MSS in bits 26:16 cuts a TCP/IPv4 frame
 * into segments of at most MSS bytes, each with IP total length, ID (+1 per segment),
 * header checksum, TCP sequence number and checksum set, FIN and PSH only on the last
 * segment and CWR only on the first, as Linux's own segmentation does. opts2 bit 17
 * inserts the VLAN tag in bits 15:0 (network byte order). Errors give the descriptors back
 * with TES on the last (and UNF when a buffer was outside RAM: a master abort) and raise
 * TER instead of TOK: a frame over 64 KiB, large send with MSS 0 or of a frame that is not
 * TCP over unfragmented IPv4 with its headers inside the frame, a whole ring of owned
 * descriptors without LS. A poll that finds nothing to send raises TDU.
 *
 * Receive: the frame (padded to 60 bytes, the VLAN tag moved into opts2 when CPCR.RxVLAN)
 * and its CRC go into the buffers of the descriptors the chip owns, over several when one
 * is too small (FS on the first, LS on the last, which holds the whole length with CRC
 * and the status); status PAM/BAR/MAR and, with CPCR.RxChkSum, the protocol in bits 17:16
 * (1 TCP, 2 UDP, 3 other IPv4 or a fragment: 8139cp's RxProtoTCP/UDP/IP, which the
 * datasheet agrees with, not the comment beside them) and IPF/UDPF/TCPF for bad checksums.
 * When a descriptor the frame needs is the guest's, the chip raises RDU (ISR bit 4) and the
 * frame waits (HG_NIC_RX_NO_ROOM): the chip cannot see descriptors given back, and the
 * board offers the frame again a millisecond later. A descriptor ring outside RAM loses the
 * frame (MPC, master abort); a buffer outside RAM gives the descriptors back with RES and
 * raises RER and SERR.
 *
 * DTCCR (0x10, C+ mode): writing bit 3 with a 64-byte aligned address in DTCCR dumps the
 * tally counters there (8139cp's struct cp_dma_stats) and clears the bit.
 */
#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "rtl8139-internal.h"

#define DESC_OWN (1u << 31)
#define DESC_EOR (1u << 30)
#define DESC_FS (1u << 29)
#define DESC_LS (1u << 28)
#define TX_LGSEN (1u << 27)
#define TX_UNF (1u << 25)
#define TX_TES (1u << 23)
#define TX_IPCS (1u << 18)
#define TX_UDPCS (1u << 17)
#define TX_TCPCS (1u << 16)
#define TX_KEEP (DESC_EOR | DESC_FS | DESC_LS | TX_LGSEN | 0xffffu)
#define RX_RES (1u << 20)
#define RX_IPF (1u << 15)
#define RX_UDPF (1u << 14)
#define RX_TCPF (1u << 13)
#define RX_LEN_MASK 0x1fffu
#define RX_TAVA (1u << 16)

enum {
    TPPOLL_HPQ = 0x80,
    TPPOLL_NPQ = 0x40,
    TPPOLL_FSWINT = 0x01,
    TCP_FIN = 0x01,
    TCP_PSH = 0x08,
    TCP_CWR = 0x80,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
};

typedef struct Desc {
    uint32_t opts1, opts2;
    uint64_t addr;
} Desc;

/* ---- descriptors ---- */

static uint64_t ring_base(uint32_t lo, uint32_t hi)
{
    return ((uint64_t)hi << 32 | lo) & ~(uint64_t)0xff;
}

static uint8_t next_index(uint8_t idx, uint32_t opts1)
{
    return (opts1 & DESC_EOR) || idx + 1 >= CP_RING_MAX ? 0 : (uint8_t)(idx + 1);
}

static bool desc_read(HgRtl8139 *s, uint64_t base, uint8_t idx, Desc *d)
{
    uint8_t b[16];
    if (!hg_bus_dma_read(s->bus, base + 16u * idx, b, sizeof(b)))
        return false;
    d->opts1 = rtl_le32(b);
    d->opts2 = rtl_le32(b + 4);
    d->addr = rtl_le32(b + 8) | (uint64_t)rtl_le32(b + 12) << 32;
    return true;
}

/* opts1 last: it hands the descriptor back. */
static bool desc_write(HgRtl8139 *s, uint64_t base, uint8_t idx, uint32_t opts1,
                       const uint32_t *opts2)
{
    uint8_t b[4];
    uint64_t a = base + 16u * idx;
    if (opts2) {
        rtl_put_le32(b, *opts2);
        if (!hg_bus_dma_write(s->bus, a + 4, b, 4))
            return false;
    }
    rtl_put_le32(b, opts1);
    return hg_bus_dma_write(s->bus, a, b, 4);
}

/* ---- checksums ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

/* The Internet checksum of p (plus a partial sum), ready to store big-endian. */
static uint16_t inet_csum(const uint8_t *p, size_t n, uint32_t sum)
{
    sum = sum16(p, n, sum);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t pseudo_sum(const uint8_t *iph, uint8_t proto, size_t l4len)
{
    return sum16(iph + 12, 8, 0) + proto + (uint32_t)l4len;
}

typedef struct Ip4 {
    size_t l3, ihl, end; /* header offset and length; end of the datagram in the frame */
    uint8_t proto;
    bool fragment;
} Ip4;

enum { NOT_IP, IP_BAD, IP_OK };

/* An IPv4 frame (after an optional 802.1Q tag) whose header and total length lie inside
 * the len bytes. */
static int parse_ip4(const uint8_t *f, size_t len, Ip4 *ip)
{
    size_t l3 = 14;
    uint16_t type = rtl_be16(f + 12);
    if (type == 0x8100 && len >= 18) {
        type = rtl_be16(f + 16);
        l3 = 18;
    }
    if (type != 0x0800)
        return NOT_IP;
    if (len < l3 + 20 || (f[l3] >> 4) != 4)
        return IP_BAD;
    size_t ihl = (size_t)(f[l3] & 15) * 4;
    size_t tot = rtl_be16(f + l3 + 2);
    if (ihl < 20 || tot < ihl || l3 + tot > len)
        return IP_BAD;
    ip->l3 = l3;
    ip->ihl = ihl;
    ip->end = l3 + tot;
    ip->proto = f[l3 + 9];
    ip->fragment = (rtl_be16(f + l3 + 6) & 0x3fff) != 0;
    return IP_OK;
}

static void fill_l4_csum(uint8_t *f, const Ip4 *ip, size_t field)
{
    size_t l4 = ip->l3 + ip->ihl, n = ip->end - l4;
    f[l4 + field] = f[l4 + field + 1] = 0;
    uint16_t c = inet_csum(f + l4, n, pseudo_sum(f + ip->l3, ip->proto, n));
    if (c == 0 && ip->proto == PROTO_UDP)
        c = 0xffff; /* 0 would mean "no checksum" */
    rtl_put_be16(f + l4 + field, c);
}

static void tx_csum(uint8_t *f, size_t len, uint32_t opts1)
{
    Ip4 ip;
    if (parse_ip4(f, len, &ip) != IP_OK)
        return;
    if (opts1 & TX_IPCS) {
        uint8_t *h = f + ip.l3;
        h[10] = h[11] = 0;
        rtl_put_be16(h + 10, inet_csum(h, ip.ihl, 0));
    }
    size_t l4len = ip.end - ip.l3 - ip.ihl;
    if (ip.fragment)
        return;
    if ((opts1 & TX_TCPCS) && ip.proto == PROTO_TCP && l4len >= 20)
        fill_l4_csum(f, &ip, 16);
    else if ((opts1 & TX_UDPCS) && ip.proto == PROTO_UDP && l4len >= 8)
        fill_l4_csum(f, &ip, 6);
}

/* ---- large send ---- */

static bool tso(HgRtl8139 *s, size_t len, uint32_t opts1, uint32_t opts2)
{
    const uint8_t *f = s->txbuf;
    uint32_t mss = (opts1 >> 16) & 0x7ff;
    Ip4 ip;
    if (!mss || parse_ip4(f, len, &ip) != IP_OK || ip.proto != PROTO_TCP || ip.fragment)
        return false;
    size_t l4 = ip.l3 + ip.ihl;
    if (ip.end < l4 + 20)
        return false;
    size_t thl = (size_t)(f[l4 + 12] >> 4) * 4;
    if (thl < 20 || l4 + thl > ip.end)
        return false;
    size_t hdr = l4 + thl, payload = ip.end - hdr;
    uint16_t id = rtl_be16(f + ip.l3 + 4);
    uint32_t seq = (uint32_t)rtl_be16(f + l4 + 4) << 16 | rtl_be16(f + l4 + 6);
    uint8_t flags = f[l4 + 13];
    size_t off = 0;
    uint32_t i = 0;
    do {
        size_t n = MIN((size_t)mss, payload - off);
        bool last = off + n >= payload;
        uint8_t *g = s->segbuf;
        memcpy(g, f, hdr);
        memcpy(g + hdr, f + hdr + off, n);
        uint8_t *h = g + ip.l3, *t = g + l4;
        rtl_put_be16(h + 2, (uint32_t)(ip.ihl + thl + n));
        rtl_put_be16(h + 4, id + i);
        h[10] = h[11] = 0;
        rtl_put_be16(h + 10, inet_csum(h, ip.ihl, 0));
        uint32_t sn = seq + (uint32_t)off;
        rtl_put_be16(t + 4, sn >> 16);
        rtl_put_be16(t + 6, sn);
        uint8_t fl = flags;
        if (!last)
            fl &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        if (i)
            fl &= (uint8_t)~TCP_CWR;
        t[13] = fl;
        Ip4 seg = ip;
        seg.end = hdr + n;
        fill_l4_csum(g, &seg, 16);
        rtl_transfer_frame(s, g, hdr + n, opts2);
        off += n;
        i++;
    } while (off < payload);
    return true;
}

/* ---- transmit ---- */

/* Gathers the n descriptors' buffers and sends the frame; returns the error status bits
 * for the last descriptor (0: sent). */
static uint32_t tx_frame(HgRtl8139 *s, const Desc *d, int n)
{
    size_t len = 0;
    int first = 0;
    for (int i = 0; i < n; i++) {
        uint32_t blen = d[i].opts1 & 0xffff;
        if (d[i].opts1 & DESC_FS) {
            len = 0; /* a new first segment drops what came before it */
            first = i;
        }
        if (blen > CP_TX_MAX - len)
            return TX_TES;
        if (blen && !hg_bus_dma_read(s->bus, d[i].addr, s->txbuf + len, blen)) {
            rtl_master_abort(s);
            return TX_TES | TX_UNF;
        }
        len += blen;
    }
    uint32_t opts1 = d[first].opts1, opts2 = d[first].opts2;
    if (opts1 & TX_LGSEN)
        return tso(s, len, opts1, opts2) ? 0 : TX_TES;
    if (opts1 & (TX_IPCS | TX_UDPCS | TX_TCPCS))
        tx_csum(s->txbuf, len, opts1);
    rtl_transfer_frame(s, s->txbuf, len, opts2);
    return 0;
}

static void tx_ring(HgRtl8139 *s, int q)
{
    uint64_t base = ring_base(s->tsad[2 * q], s->tsad[2 * q + 1]);
    bool sent = false;
    /* Descriptors go back as they are done, so one lap of the ring is the most a poll
     * can find; the count also ends a walk whose write-backs fail. */
    for (int done = 0; done < CP_RING_MAX;) {
        Desc d[CP_RING_MAX];
        uint8_t at[CP_RING_MAX];
        uint8_t idx = s->tx_idx[q];
        int n = 0;
        bool ls = false, lap = false;
        while (n < CP_RING_MAX && !ls && !lap) {
            if (!desc_read(s, base, idx, &d[n])) {
                rtl_master_abort(s);
                return;
            }
            if (!(d[n].opts1 & DESC_OWN))
                break;
            ls = (d[n].opts1 & DESC_LS) != 0;
            at[n++] = idx;
            idx = next_index(idx, d[n - 1].opts1);
            lap = idx == s->tx_idx[q];
        }
        if (n == 0) {
            if (!sent)
                s->isr |= ISR_TDU;
            return;
        }
        if (!ls && !lap && n < CP_RING_MAX)
            return; /* the rest of the frame is not the chip's yet */
        uint32_t err = ls ? tx_frame(s, d, n) : TX_TES;
        for (int i = 0; i < n; i++) {
            uint32_t wb = (d[i].opts1 & TX_KEEP) | (i == n - 1 ? err : 0);
            if (!desc_write(s, base, at[i], wb, NULL))
                rtl_master_abort(s);
        }
        s->tdokladdr = (uint16_t)(base + 16u * at[n - 1]);
        if (err) {
            s->isr |= ISR_TER;
            s->tally.tx_err++;
            if (err & TX_UNF)
                s->tally.tx_undrn++;
        } else {
            s->isr |= ISR_TOK;
            s->tally.tx_ok++;
        }
        s->tx_idx[q] = idx;
        done += n;
        sent = true;
    }
}

void rtl_cplus_tx_poll(HgRtl8139 *s, uint8_t poll)
{
    if (poll & TPPOLL_FSWINT)
        s->isr |= ISR_SWINT;
    if ((s->cpcr & CPCR_TXON) && (s->cr & CR_TE) && hg_pci_bus_master(s->pci)) {
        if (poll & TPPOLL_HPQ)
            tx_ring(s, 1);
        if (poll & TPPOLL_NPQ)
            tx_ring(s, 0);
    }
    rtl_update_irq(s);
}

void rtl_cplus_tally_dump(HgRtl8139 *s)
{
    const Tally *t = &s->tally;
    uint8_t b[64];
    const uint64_t q[] = {t->tx_ok, t->rx_ok, t->tx_err};
    for (int i = 0; i < 3; i++) {
        rtl_put_le32(b + 8 * i, (uint32_t)q[i]);
        rtl_put_le32(b + 8 * i + 4, (uint32_t)(q[i] >> 32));
    }
    rtl_put_le32(b + 24, t->rx_err);
    rtl_put_le32(b + 28, t->miss_pkt | (uint32_t)t->fae << 16);
    rtl_put_le32(b + 32, t->tx_1col);
    rtl_put_le32(b + 36, t->tx_mcol);
    rtl_put_le32(b + 40, (uint32_t)t->rx_ok_phy);
    rtl_put_le32(b + 44, (uint32_t)(t->rx_ok_phy >> 32));
    rtl_put_le32(b + 48, (uint32_t)t->rx_ok_brd);
    rtl_put_le32(b + 52, (uint32_t)(t->rx_ok_brd >> 32));
    rtl_put_le32(b + 56, t->rx_ok_mul);
    rtl_put_le32(b + 60, t->tx_abt | (uint32_t)t->tx_undrn << 16);
    uint64_t addr = (uint64_t)s->tsd[1] << 32 | (s->tsd[0] & ~0x3fu);
    if (hg_pci_bus_master(s->pci) && !hg_bus_dma_write(s->bus, addr, b, sizeof(b)))
        rtl_master_abort(s);
    s->tsd[0] &= ~0x08u; /* done (a driver waiting for it goes on without bus mastering) */
    rtl_update_irq(s);
}

/* ---- receive ---- */

static uint32_t rx_csum_status(const HgRtl8139 *s, const uint8_t *f, size_t len)
{
    if (!(s->cpcr & CPCR_RXCHKSUM))
        return 0;
    Ip4 ip;
    int kind = parse_ip4(f, len, &ip);
    if (kind == NOT_IP)
        return 0;
    if (kind == IP_BAD)
        return 3u << 16 | RX_IPF;
    uint32_t st = inet_csum(f + ip.l3, ip.ihl, 0) ? RX_IPF : 0;
    size_t l4 = ip.l3 + ip.ihl, n = ip.end - l4;
    uint32_t sum = pseudo_sum(f + ip.l3, ip.proto, n);
    if (ip.fragment || (ip.proto != PROTO_TCP && ip.proto != PROTO_UDP))
        return st | 3u << 16;
    if (ip.proto == PROTO_TCP)
        return st | 1u << 16 | (n < 20 || inet_csum(f + l4, n, sum) ? RX_TCPF : 0);
    bool bad = n < 8 || ((f[l4 + 6] | f[l4 + 7]) && inet_csum(f + l4, n, sum));
    return st | 2u << 16 | (bad ? RX_UDPF : 0);
}

HgNicRx rtl_cplus_receive(HgRtl8139 *s, uint8_t *frame, size_t len, uint32_t type_bits)
{
    uint32_t opts2 = 0;
    if ((s->cpcr & CPCR_RXVLAN) && len >= 18 && frame[12] == 0x81 && frame[13] == 0x00) {
        opts2 = RX_TAVA | frame[14] | (uint32_t)frame[15] << 8;
        memmove(frame + 12, frame + 16, len - 16);
        len -= 4;
        if (len < 60) {
            memset(frame + len, 0, 60 - len);
            len = 60;
        }
    }
    /* The header status bits BAR, PAM, MAR (13-15) sit at 24-26 in a descriptor. */
    uint32_t status = (type_bits >> 13) << 24 | rx_csum_status(s, frame, len);
    rtl_put_le32(frame + len, (uint32_t)crc32(0, frame, (uInt)len));
    size_t total = len + 4;

    uint64_t base = ring_base(s->rdsar[0], s->rdsar[1]);
    Desc d[CP_RING_MAX];
    uint8_t at[CP_RING_MAX];
    uint8_t idx = s->rx_idx;
    size_t left = total;
    int n = 0;
    bool lap = false;
    while (left > 0 && n < CP_RING_MAX && !lap) {
        if (!desc_read(s, base, idx, &d[n])) {
            rtl_master_abort(s);
            s->mpc = (s->mpc + 1) & 0xffffff;
            s->tally.miss_pkt++;
            rtl_update_irq(s);
            return HG_NIC_RX_TAKEN;
        }
        if (!(d[n].opts1 & DESC_OWN)) {
            s->isr |= ISR_RXOVW; /* RDU */
            rtl_update_irq(s);
            return HG_NIC_RX_NO_ROOM;
        }
        left -= MIN((size_t)(d[n].opts1 & RX_LEN_MASK), left);
        at[n++] = idx;
        idx = next_index(idx, d[n - 1].opts1);
        lap = idx == s->rx_idx;
    }
    if (left > 0) {
        /* The whole ring's buffers cannot hold it: lost, as in a FIFO overflow. */
        s->mpc = (s->mpc + 1) & 0xffffff;
        s->tally.miss_pkt++;
        s->isr |= ISR_RER;
        rtl_update_irq(s);
        return HG_NIC_RX_TAKEN;
    }
    size_t off = 0;
    bool ok = true;
    for (int i = 0; i < n; i++) {
        size_t take = MIN((size_t)(d[i].opts1 & RX_LEN_MASK), total - off);
        if (take && !hg_bus_dma_write(s->bus, d[i].addr, frame + off, take))
            ok = false;
        off += take;
        bool last = i == n - 1;
        uint32_t o1 = (d[i].opts1 & DESC_EOR) | (i == 0 ? DESC_FS : 0);
        if (last)
            o1 |= DESC_LS | status | (uint32_t)total | (ok ? 0 : RX_RES);
        else
            o1 |= (uint32_t)take;
        if (!desc_write(s, base, at[i], o1, &opts2))
            ok = false;
    }
    s->rx_idx = idx;
    if (ok) {
        s->isr |= ISR_ROK;
        s->tally.rx_ok++;
        if (status & (1u << 25))
            s->tally.rx_ok_phy++;
        if (status & (1u << 24))
            s->tally.rx_ok_brd++;
        if (status & (1u << 26))
            s->tally.rx_ok_mul++;
    } else {
        rtl_master_abort(s);
        s->isr |= ISR_RER;
        s->tally.rx_err++;
    }
    rtl_update_irq(s);
    return HG_NIC_RX_TAKEN;
}
