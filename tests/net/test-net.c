/* Unit tests of the host side of networking (engine/net/): the test plays the guest with
 * raw Ethernet frames it builds and parses itself (ARP, IPv4, UDP, TCP, ICMP with their
 * checksums; DHCP; a minimal TCP), calling hg_net_send and hg_net_deliver as the board
 * would, with no network card at all. Host servers and clients are plain sockets on
 * 127.0.0.1. Covered: ARP, DHCP, TCP out to the host and in through a host forward,
 * restrict=on, none, the pcap dump (read back here and, when installed, by tshark), spec
 * errors, bounded queues with the NO_ROOM retry order, hg_net_info and run-time forwards,
 * fd and thread leaks, and tap devices (in a private network namespace when this runs as
 * root; otherwise the error a user without permission gets). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hangar.h"
#include "net/net.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define GUEST_IP IP(10, 0, 2, 15)
#define GATEWAY_IP IP(10, 0, 2, 2)
#define DNS_IP IP(10, 0, 2, 3)

enum {
    ETH_IP = 0x0800,
    ETH_ARP = 0x0806,
    ETH_TEST = 0x88b5, /* IEEE 802 local experimental: nobody answers it */
    PROTO_ICMP = 1,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
};

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- frames ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += get16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    uint8_t ph[12];
    put32(ph, src);
    put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)len);
    return csum_add(0, ph, sizeof(ph));
}

static size_t eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, type);
    return 14;
}

/* Ethernet + IPv4 + the l4 bytes given, whose checksum is filled in here. */
static size_t build_ip(uint8_t *f, const uint8_t *dmac, uint8_t proto, uint32_t src, uint32_t dst,
                       const uint8_t *l4, size_t l4len)
{
    size_t n = eth_header(f, dmac, guest_mac, ETH_IP);
    uint8_t *ip = f + n;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + l4len));
    put16(ip + 4, (uint16_t)g_random_int());
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    uint8_t *l = ip + 20;
    memcpy(l, l4, l4len);
    switch (proto) {
    case PROTO_UDP:
        put16(l + 6, 0);
        put16(l + 6, csum_fold(csum_add(pseudo_sum(src, dst, proto, l4len), l, l4len)));
        break;
    case PROTO_TCP:
        put16(l + 16, 0);
        put16(l + 16, csum_fold(csum_add(pseudo_sum(src, dst, proto, l4len), l, l4len)));
        break;
    default:
        put16(l + 2, 0);
        put16(l + 2, csum_fold(csum_add(0, l, l4len)));
        break;
    }
    return n + 20 + l4len;
}

static size_t build_udp(uint8_t *f, const uint8_t *dmac, uint32_t src, uint32_t dst, uint16_t sport,
                        uint16_t dport, const void *data, size_t len)
{
    uint8_t l4[1500];
    g_assert_cmpuint(len, <=, sizeof(l4) - 8);
    put16(l4, sport);
    put16(l4 + 2, dport);
    put16(l4 + 4, (uint16_t)(8 + len));
    memcpy(l4 + 8, data, len);
    return build_ip(f, dmac, PROTO_UDP, src, dst, l4, 8 + len);
}

static size_t build_arp(uint8_t *f, uint16_t op, const uint8_t *dmac, const uint8_t *tha,
                        uint32_t spa, uint32_t tpa)
{
    size_t n = eth_header(f, dmac, guest_mac, ETH_ARP);
    uint8_t *a = f + n;
    put16(a, 1);
    put16(a + 2, ETH_IP);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, guest_mac, 6);
    put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    put32(a + 24, tpa);
    return n + 28;
}

static size_t build_ping(uint8_t *f, const uint8_t *dmac, uint32_t dst, uint16_t seq)
{
    uint8_t l4[8 + 32];
    memset(l4, 0xa5, sizeof(l4));
    l4[0] = 8; /* echo request */
    l4[1] = 0;
    put16(l4 + 4, 0x4847);
    put16(l4 + 6, seq);
    return build_ip(f, dmac, PROTO_ICMP, GUEST_IP, dst, l4, sizeof(l4));
}

typedef struct Pkt {
    uint8_t dst_mac[6], src_mac[6];
    uint16_t type;
    uint16_t arp_op;
    uint8_t arp_sha[6];
    uint32_t arp_spa, arp_tpa;
    uint8_t proto;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint8_t icmp_type;
    uint16_t icmp_seq;
    const uint8_t *data;
    size_t dlen;
} Pkt;

/* Parses what the network sent the guest; checksums must be right. False when the frame
 * is too short for what it says it is. */
static bool parse(const uint8_t *f, size_t len, Pkt *p)
{
    memset(p, 0, sizeof(*p));
    if (len < 14)
        return false;
    memcpy(p->dst_mac, f, 6);
    memcpy(p->src_mac, f + 6, 6);
    p->type = get16(f + 12);
    const uint8_t *b = f + 14;
    size_t n = len - 14;
    if (p->type == ETH_ARP) {
        if (n < 28)
            return false;
        p->arp_op = get16(b + 6);
        memcpy(p->arp_sha, b + 8, 6);
        p->arp_spa = get32(b + 14);
        p->arp_tpa = get32(b + 24);
        return true;
    }
    if (p->type != ETH_IP)
        return true; /* only the Ethernet header */
    if (n < 20 || (b[0] >> 4) != 4)
        return false;
    size_t ihl = (b[0] & 15) * 4u, total = get16(b + 2);
    g_assert_cmpuint(total, <=, n);
    g_assert_cmpuint(csum_fold(csum_add(0, b, ihl)), ==, 0);
    p->proto = b[9];
    p->src = get32(b + 12);
    p->dst = get32(b + 16);
    const uint8_t *l = b + ihl;
    size_t ll = total - ihl;
    if (p->proto == PROTO_UDP && ll >= 8) {
        if (get16(l + 6))
            g_assert_cmpuint(csum_fold(csum_add(pseudo_sum(p->src, p->dst, PROTO_UDP, ll), l, ll)),
                             ==, 0);
        p->sport = get16(l);
        p->dport = get16(l + 2);
        p->data = l + 8;
        p->dlen = get16(l + 4) - 8;
    } else if (p->proto == PROTO_TCP && ll >= 20) {
        g_assert_cmpuint(csum_fold(csum_add(pseudo_sum(p->src, p->dst, PROTO_TCP, ll), l, ll)), ==,
                         0);
        p->sport = get16(l);
        p->dport = get16(l + 2);
        p->seq = get32(l + 4);
        p->ack = get32(l + 8);
        p->flags = l[13];
        size_t off = (l[12] >> 4) * 4u;
        p->data = l + off;
        p->dlen = ll - off;
    } else if (p->proto == PROTO_ICMP && ll >= 8) {
        g_assert_cmpuint(csum_fold(csum_add(0, l, ll)), ==, 0);
        p->icmp_type = l[0];
        p->icmp_seq = get16(l + 6);
    }
    return true;
}

/* ---- the guest ---- */

typedef enum {
    TCP_CLOSED,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RCVD,
    TCP_ESTABLISHED,
} TcpState;

/* One TCP connection of the guest, fed by guest_receive: in-order data only (anything
 * else is acknowledged again and ignored, which the peer's retransmission repairs). */
typedef struct Tcp {
    TcpState state;
    uint8_t peer_mac[6];
    uint32_t lip, rip;
    uint16_t lport, rport;
    uint32_t snd_nxt, snd_una, rcv_nxt;
    GByteArray *rx;
    bool fin_rcvd, reset;
} Tcp;

typedef struct Guest {
    HgNet *net;
    GMutex lock;
    GCond cond;
    int wakes;
    bool gate_closed, parked; /* the wake callback holds the net thread while closed */
    uint32_t ip;              /* answers ARP for it when set */
    GQueue frames;            /* GBytes: what guest_receive did not consume */
    Tcp *tcp;
} Guest;

static void guest_wake(void *opaque)
{
    Guest *g = opaque;
    g_mutex_lock(&g->lock);
    g->wakes++;
    g_cond_broadcast(&g->cond);
    while (g->gate_closed) {
        g->parked = true;
        g_cond_broadcast(&g->cond);
        g_cond_wait(&g->cond, &g->lock);
    }
    g->parked = false;
    g_mutex_unlock(&g->lock);
}

static void guest_init(Guest *g)
{
    memset(g, 0, sizeof(*g));
    g_mutex_init(&g->lock);
    g_cond_init(&g->cond);
    g_queue_init(&g->frames);
}

static HgNet *guest_net(Guest *g, const char *spec, const char *dump)
{
    GError *err = NULL;
    g->net = hg_net_new(spec, guest_mac, dump, guest_wake, g, &err);
    g_assert_no_error(err);
    g_assert_nonnull(g->net);
    return g->net;
}

static void guest_clear(Guest *g)
{
    hg_net_free(g->net);
    g_queue_clear_full(&g->frames, (GDestroyNotify)g_bytes_unref);
    g_mutex_clear(&g->lock);
    g_cond_clear(&g->cond);
}

static void send_frame(Guest *g, const uint8_t *f, size_t len)
{
    hg_net_send(g->net, f, len);
    hg_net_flush(g->net);
}

static void tcp_send(Guest *g, Tcp *c, uint8_t flags, const void *data, size_t len)
{
    uint8_t l4[20 + 1400], f[1600];
    g_assert_cmpuint(len, <=, 1400);
    memset(l4, 0, 20);
    put16(l4, c->lport);
    put16(l4 + 2, c->rport);
    put32(l4 + 4, c->snd_nxt);
    put32(l4 + 8, (flags & TCP_ACK) ? c->rcv_nxt : 0);
    l4[12] = 5 << 4;
    l4[13] = flags;
    put16(l4 + 14, 65535);
    if (len)
        memcpy(l4 + 20, data, len);
    size_t n = build_ip(f, c->peer_mac, PROTO_TCP, c->lip, c->rip, l4, 20 + len);
    c->snd_nxt += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    send_frame(g, f, n);
}

static void tcp_input(Guest *g, Tcp *c, const Pkt *p, const uint8_t *f)
{
    if (p->flags & TCP_RST) {
        c->reset = true;
        c->state = TCP_CLOSED;
        return;
    }
    switch (c->state) {
    case TCP_LISTEN:
        if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
            memcpy(c->peer_mac, p->src_mac, 6);
            c->rip = p->src;
            c->rport = p->sport;
            c->rcv_nxt = p->seq + 1;
            c->snd_nxt = c->snd_una = 0x10000000;
            c->state = TCP_SYN_RCVD;
            tcp_send(g, c, TCP_SYN | TCP_ACK, NULL, 0);
        }
        return;
    case TCP_SYN_SENT:
        if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && p->ack == c->snd_nxt) {
            c->rcv_nxt = p->seq + 1;
            c->snd_una = p->ack;
            c->state = TCP_ESTABLISHED;
            tcp_send(g, c, TCP_ACK, NULL, 0);
        }
        return;
    case TCP_SYN_RCVD:
        if ((p->flags & TCP_ACK) && p->ack == c->snd_nxt)
            c->state = TCP_ESTABLISHED;
        else
            return;
        break;
    case TCP_ESTABLISHED: break;
    case TCP_CLOSED: return;
    }
    if (p->flags & TCP_ACK)
        c->snd_una = p->ack;
    if (p->dlen || (p->flags & TCP_FIN)) {
        if (p->seq == c->rcv_nxt) {
            g_byte_array_append(c->rx, p->data, (guint)p->dlen);
            c->rcv_nxt += (uint32_t)p->dlen;
            if (p->flags & TCP_FIN) {
                c->rcv_nxt++;
                c->fin_rcvd = true;
            }
        }
        tcp_send(g, c, TCP_ACK, NULL, 0);
    }
}

static HgNicRx guest_receive(void *nic, const uint8_t *f, size_t len)
{
    Guest *g = nic;
    Pkt p;
    if (parse(f, len, &p)) {
        if (p.type == ETH_ARP && p.arp_op == 1 && g->ip && p.arp_tpa == g->ip) {
            uint8_t r[64];
            size_t n = build_arp(r, 2, p.arp_sha, p.arp_sha, g->ip, p.arp_spa);
            send_frame(g, r, n);
            return HG_NIC_RX_TAKEN;
        }
        Tcp *c = g->tcp;
        if (c && p.type == ETH_IP && p.proto == PROTO_TCP && p.dport == c->lport &&
            p.dst == c->lip &&
            (c->state == TCP_LISTEN || (p.sport == c->rport && p.src == c->rip))) {
            tcp_input(g, c, &p, f);
            return HG_NIC_RX_TAKEN;
        }
    }
    g_queue_push_tail(&g->frames, g_bytes_new(f, len));
    return HG_NIC_RX_TAKEN;
}

typedef bool (*DoneFn)(Guest *g, void *data);

/* Delivers frames until done(g, data) or the timeout. */
static bool pump(Guest *g, int timeout_ms, DoneFn done, void *data)
{
    gint64 end = g_get_monotonic_time() + timeout_ms * (gint64)1000;
    for (;;) {
        hg_net_deliver(g->net, guest_receive, g);
        if (done && done(g, data))
            return true;
        gint64 now = g_get_monotonic_time();
        if (now >= end)
            return false;
        g_mutex_lock(&g->lock);
        if (!hg_net_pending(g->net))
            g_cond_wait_until(&g->cond, &g->lock, MIN(end, now + 20000));
        g_mutex_unlock(&g->lock);
    }
}

typedef bool (*MatchFn)(const Pkt *p, void *data);

typedef struct Want {
    MatchFn match;
    void *data;
    GBytes *found;
} Want;

static bool want_done(Guest *g, void *data)
{
    Want *w = data;
    for (GList *l = g->frames.head; l; l = l->next) {
        gsize len;
        const uint8_t *f = g_bytes_get_data(l->data, &len);
        Pkt p;
        if (parse(f, len, &p) && w->match(&p, w->data)) {
            w->found = l->data;
            g_queue_delete_link(&g->frames, l);
            return true;
        }
    }
    return false;
}

/* The first frame received that matches, or NULL after timeout_ms. */
static GBytes *wait_frame(Guest *g, int timeout_ms, MatchFn match, void *data)
{
    Want w = {match, data, NULL};
    pump(g, timeout_ms, want_done, &w);
    return w.found;
}

static bool is_arp_reply_from_gateway(const Pkt *p, void *data)
{
    return p->type == ETH_ARP && p->arp_op == 2 && p->arp_spa == GATEWAY_IP;
}

/* ARP for the gateway (which also tells slirp our MAC); returns its MAC. */
static void arp_gateway(Guest *g, uint8_t mac[6])
{
    uint8_t f[64];
    static const uint8_t zero[6];
    size_t n = build_arp(f, 1, broadcast, zero, GUEST_IP, GATEWAY_IP);
    send_frame(g, f, n);
    GBytes *b = wait_frame(g, 5000, is_arp_reply_from_gateway, NULL);
    g_assert_nonnull(b);
    Pkt p;
    parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &p);
    g_assert_cmpmem(p.dst_mac, 6, guest_mac, 6);
    g_assert_cmpuint(p.arp_tpa, ==, GUEST_IP);
    g_assert_cmpmem(p.src_mac, 6, p.arp_sha, 6);
    memcpy(mac, p.arp_sha, 6);
    g_bytes_unref(b);
}

/* ---- host sockets ---- */

static uint16_t free_port(int type)
{
    int s = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    socklen_t al = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    return ntohs(a.sin_port);
}

static int listen_on(int type, uint16_t *port)
{
    int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(*port)};
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    if (type == SOCK_STREAM)
        g_assert_cmpint(listen(s, 4), ==, 0);
    socklen_t al = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return s;
}

/* connect() to 127.0.0.1:port; -1 when refused. */
static int connect_to(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* A TCP server on 127.0.0.1 in its own thread: one connection, reads the expected
 * request, answers, closes. */
typedef struct Server {
    int fd;
    uint16_t port;
    int accept_timeout_ms;
    const char *expect, *reply;
    GString *got;
    gint accepted;
    GThread *thread;
} Server;

static gpointer server_main(gpointer data)
{
    Server *s = data;
    struct pollfd pfd = {s->fd, POLLIN, 0};
    if (poll(&pfd, 1, s->accept_timeout_ms) <= 0)
        return NULL;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    g_atomic_int_set(&s->accepted, 1);
    struct timeval tv = {10, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[256];
    while (s->got->len < strlen(s->expect)) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0)
            break;
        g_string_append_len(s->got, buf, n);
    }
    g_assert_cmpint(write(c, s->reply, strlen(s->reply)), ==, (ssize_t)strlen(s->reply));
    close(c);
    return NULL;
}

static void server_start(Server *s, const char *expect, const char *reply, int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    s->fd = listen_on(SOCK_STREAM, &s->port);
    s->expect = expect;
    s->reply = reply;
    s->accept_timeout_ms = timeout_ms;
    s->got = g_string_new(NULL);
    s->thread = g_thread_new("test-server", server_main, s);
}

static void server_join(Server *s)
{
    g_thread_join(s->thread);
    close(s->fd);
    g_string_free(s->got, TRUE);
}

/* ---- tests ---- */

static bool is_dhcp_reply(const Pkt *p, void *data)
{
    return p->type == ETH_IP && p->proto == PROTO_UDP && p->sport == 67 && p->dport == 68 &&
           p->dlen >= 240 && get32(p->data + 4) == *(uint32_t *)data;
}

static size_t build_dhcp(uint8_t *f, uint32_t xid, uint8_t type, uint32_t requested,
                         uint32_t server)
{
    uint8_t m[300];
    memset(m, 0, sizeof(m));
    m[0] = 1; /* BOOTREQUEST */
    m[1] = 1;
    m[2] = 6;
    put32(m + 4, xid);
    put16(m + 10, 0x8000); /* broadcast */
    memcpy(m + 28, guest_mac, 6);
    put32(m + 236, 0x63825363);
    size_t o = 240;
    m[o++] = 53;
    m[o++] = 1;
    m[o++] = type;
    if (requested) {
        m[o++] = 50;
        m[o++] = 4;
        put32(m + o, requested);
        o += 4;
    }
    if (server) {
        m[o++] = 54;
        m[o++] = 4;
        put32(m + o, server);
        o += 4;
    }
    m[o++] = 55;
    m[o++] = 3;
    m[o++] = 1;
    m[o++] = 3;
    m[o++] = 6;
    m[o++] = 255;
    return build_udp(f, broadcast, 0, 0xffffffff, 68, 67, m, sizeof(m));
}

/* An option of a DHCP message (pointer to its value, its length in *len), or NULL. */
static const uint8_t *dhcp_option(const Pkt *p, uint8_t code, size_t *len)
{
    size_t o = 240;
    while (o < p->dlen && p->data[o] != 255) {
        if (p->data[o] == 0) {
            o++;
            continue;
        }
        if (o + 2 > p->dlen || o + 2 + p->data[o + 1] > p->dlen)
            return NULL;
        if (p->data[o] == code) {
            *len = p->data[o + 1];
            return p->data + o + 2;
        }
        o += 2 + p->data[o + 1];
    }
    return NULL;
}

static uint32_t dhcp_addr_option(const Pkt *p, uint8_t code)
{
    size_t len = 0;
    const uint8_t *v = dhcp_option(p, code, &len);
    g_assert_nonnull(v);
    g_assert_cmpuint(len, >=, 4);
    return get32(v);
}

static bool has_dhcp_option(const Pkt *p, uint8_t code)
{
    size_t len;
    return dhcp_option(p, code, &len) != NULL;
}

/* DISCOVER, OFFER, REQUEST, ACK; returns the address leased. A restricted network names
 * neither a router nor a DNS server (libslirp leaves them out). */
static uint32_t dhcp_exchange(Guest *g, bool restricted)
{
    uint8_t f[1600];
    uint32_t xid = g_random_int();
    send_frame(g, f, build_dhcp(f, xid, 1, 0, 0));
    GBytes *b = wait_frame(g, 5000, is_dhcp_reply, &xid);
    g_assert_nonnull(b);
    Pkt p;
    parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &p);
    /* To us, or to everyone as the broadcast flag of the request allows. */
    g_assert_true(memcmp(p.dst_mac, guest_mac, 6) == 0 || memcmp(p.dst_mac, broadcast, 6) == 0);
    size_t len = 0;
    const uint8_t *type = dhcp_option(&p, 53, &len);
    g_assert_nonnull(type);
    g_assert_cmpuint(type[0], ==, 2); /* OFFER */
    uint32_t yiaddr = get32(p.data + 16);
    g_assert_cmphex(yiaddr, ==, GUEST_IP);
    g_assert_cmphex(dhcp_addr_option(&p, 1), ==, IP(255, 255, 255, 0));
    if (restricted) {
        g_assert_false(has_dhcp_option(&p, 3));
        g_assert_false(has_dhcp_option(&p, 6));
    } else {
        g_assert_cmphex(dhcp_addr_option(&p, 3), ==, GATEWAY_IP);
        g_assert_cmphex(dhcp_addr_option(&p, 6), ==, DNS_IP);
    }
    uint32_t server = dhcp_addr_option(&p, 54);
    g_assert_cmphex(server, ==, GATEWAY_IP);
    g_bytes_unref(b);

    send_frame(g, f, build_dhcp(f, xid, 3, yiaddr, server));
    b = wait_frame(g, 5000, is_dhcp_reply, &xid);
    g_assert_nonnull(b);
    parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &p);
    type = dhcp_option(&p, 53, &len);
    g_assert_nonnull(type);
    g_assert_cmpuint(type[0], ==, 5); /* ACK */
    g_assert_cmphex(get32(p.data + 16), ==, yiaddr);
    if (!restricted) {
        g_assert_cmphex(dhcp_addr_option(&p, 3), ==, GATEWAY_IP);
        g_assert_cmphex(dhcp_addr_option(&p, 6), ==, DNS_IP);
    }
    g_bytes_unref(b);
    return yiaddr;
}

static void test_dhcp(void)
{
    Guest g;
    guest_init(&g);
    guest_net(&g, NULL, NULL);
    g_assert_cmphex(dhcp_exchange(&g, false), ==, GUEST_IP);
    guest_clear(&g);
}

static void test_arp(void)
{
    Guest g;
    guest_init(&g);
    guest_net(&g, "user", NULL);
    uint8_t mac[6];
    arp_gateway(&g, mac);
    /* slirp's own hosts have 52:55 and their address as MAC. */
    static const uint8_t expect[6] = {0x52, 0x55, 10, 0, 2, 2};
    g_assert_cmpmem(mac, 6, expect, 6);
    g_assert_cmpint(g.wakes, >=, 1);
    guest_clear(&g);
}

static bool tcp_state_is(Guest *g, void *data)
{
    return g->tcp->state == *(TcpState *)data || g->tcp->reset;
}

static bool tcp_fin_rcvd(Guest *g, void *data)
{
    return g->tcp->fin_rcvd || g->tcp->reset;
}

static bool tcp_all_acked(Guest *g, void *data)
{
    return g->tcp->snd_una == g->tcp->snd_nxt || g->tcp->reset;
}

static bool tcp_rx_has(Guest *g, void *data)
{
    const char *s = data;
    return g->tcp->rx->len >= strlen(s) || g->tcp->reset;
}

/* A guest connection to 10.0.2.2:port; returns whether it was established. */
static bool tcp_connect(Guest *g, Tcp *c, uint16_t port, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    arp_gateway(g, c->peer_mac);
    c->lip = GUEST_IP;
    c->lport = (uint16_t)g_random_int_range(32768, 60000);
    c->rip = GATEWAY_IP;
    c->rport = port;
    c->snd_nxt = c->snd_una = g_random_int();
    c->rx = g_byte_array_new();
    c->state = TCP_SYN_SENT;
    g->tcp = c;
    tcp_send(g, c, TCP_SYN, NULL, 0);
    TcpState want = TCP_ESTABLISHED;
    pump(g, timeout_ms, tcp_state_is, &want);
    return c->state == TCP_ESTABLISHED;
}

static void test_tcp_out(void)
{
    Guest g;
    guest_init(&g);
    g.ip = GUEST_IP;
    guest_net(&g, "user", NULL);
    Server s;
    static const char request[] = "GET /hangar\n";
    static const char reply[] = "HTTP/1.0 200 OK\r\n\r\nbytes from the host, exactly\n";
    server_start(&s, request, reply, 10000);

    Tcp c;
    g_assert_true(tcp_connect(&g, &c, s.port, 5000));
    tcp_send(&g, &c, TCP_PSH | TCP_ACK, request, strlen(request));
    g_assert_true(pump(&g, 5000, tcp_fin_rcvd, NULL));
    g_assert_false(c.reset);
    g_assert_cmpmem(c.rx->data, c.rx->len, reply, strlen(reply));
    tcp_send(&g, &c, TCP_FIN | TCP_ACK, NULL, 0);
    g_assert_true(pump(&g, 5000, tcp_all_acked, NULL));
    g_assert_false(c.reset);
    server_join(&s);
    g_assert_cmpint(s.accepted, ==, 1);

    g_byte_array_unref(c.rx);
    g.tcp = NULL;
    guest_clear(&g);
}

typedef struct HostRead {
    int fd;
    GString *got;
    size_t want;
} HostRead;

static bool host_read_done(Guest *g, void *data)
{
    HostRead *h = data;
    char buf[256];
    ssize_t n;
    while ((n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        g_string_append_len(h->got, buf, n);
    return h->got->len >= h->want;
}

/* Connects to the forward on 127.0.0.1:port and talks with the guest's port 80 both ways. */
static void check_hostfwd(Guest *g, uint16_t port)
{
    Tcp c = {.state = TCP_LISTEN, .lip = GUEST_IP, .lport = 80, .rx = g_byte_array_new()};
    g->tcp = &c;
    int h = connect_to(port);
    g_assert_cmpint(h, >=, 0);
    static const char to_guest[] = "hello, guest\n", to_host[] = "hello, host\n";
    g_assert_cmpint(write(h, to_guest, strlen(to_guest)), ==, (ssize_t)strlen(to_guest));

    TcpState want = TCP_ESTABLISHED;
    g_assert_true(pump(g, 5000, tcp_state_is, &want));
    g_assert_false(c.reset);
    g_assert_cmphex(c.rip, ==, GATEWAY_IP);
    g_assert_true(pump(g, 5000, tcp_rx_has, (void *)to_guest));
    g_assert_cmpmem(c.rx->data, c.rx->len, to_guest, strlen(to_guest));

    tcp_send(g, &c, TCP_PSH | TCP_ACK, to_host, strlen(to_host));
    HostRead hr = {h, g_string_new(NULL), strlen(to_host)};
    g_assert_true(pump(g, 5000, host_read_done, &hr));
    g_assert_cmpstr(hr.got->str, ==, to_host);
    g_string_free(hr.got, TRUE);

    close(h);
    g_assert_true(pump(g, 5000, tcp_fin_rcvd, NULL));
    tcp_send(g, &c, TCP_FIN | TCP_ACK, NULL, 0);
    g_assert_true(pump(g, 5000, tcp_all_acked, NULL));
    g_assert_false(c.reset);
    g_byte_array_unref(c.rx);
    g->tcp = NULL;
}

static void test_hostfwd(void)
{
    Guest g;
    guest_init(&g);
    g.ip = GUEST_IP;
    uint16_t port = free_port(SOCK_STREAM);
    g_autofree char *spec = g_strdup_printf("user,hostfwd=tcp:127.0.0.1:%u-:80", port);
    guest_net(&g, spec, NULL);
    check_hostfwd(&g, port);
    guest_clear(&g);
}

static void test_restrict(void)
{
    Guest g;
    guest_init(&g);
    g.ip = GUEST_IP;
    uint16_t port = free_port(SOCK_STREAM);
    g_autofree char *spec = g_strdup_printf("user,restrict=on,hostfwd=tcp:127.0.0.1:%u-:80", port);
    guest_net(&g, spec, NULL);
    Server s;
    server_start(&s, "x", "y", 1500);
    Tcp c;
    g_assert_false(tcp_connect(&g, &c, s.port, 1500));
    server_join(&s);
    g_assert_cmpint(s.accepted, ==, 0);
    g_byte_array_unref(c.rx);
    g.tcp = NULL;
    /* DHCP still answers, and forwards into the guest still work. */
    g_assert_cmphex(dhcp_exchange(&g, true), ==, GUEST_IP);
    check_hostfwd(&g, port);
    guest_clear(&g);
}

static void test_none(void)
{
    Guest g;
    guest_init(&g);
    guest_net(&g, "none", NULL);
    uint8_t f[64];
    static const uint8_t zero[6];
    for (int i = 0; i < 10; i++)
        send_frame(&g, f, build_arp(f, 1, broadcast, zero, GUEST_IP, GATEWAY_IP));
    g_usleep(100000);
    g_assert_false(hg_net_pending(g.net));
    g_assert_cmpint(hg_net_deliver(g.net, guest_receive, &g), ==, 0);
    HgNetStats st;
    hg_net_get_stats(g.net, &st);
    g_assert_cmpuint(st.tx_frames, ==, 10);
    g_assert_cmpuint(st.rx_frames, ==, 0);
    g_assert_cmpint(g.wakes, ==, 0);
    g_autofree char *info = hg_net_info(g.net);
    g_assert_nonnull(strstr(info, "mode: none"));
    GError *err = NULL;
    g_assert_false(hg_net_hostfwd_add(g.net, "tcp::2222-:22", &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_assert_nonnull(strstr(err->message, "user networking"));
    g_clear_error(&err);
    guest_clear(&g);
}

static void test_pcap(void)
{
    g_autofree char *dir = g_dir_make_tmp("hangar-net-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "dump.pcap", NULL);
    Guest g;
    guest_init(&g);
    guest_net(&g, "user", path);
    dhcp_exchange(&g, false);
    guest_clear(&g);

    gsize size;
    g_autofree char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, &size, NULL));
    g_assert_cmpuint(size, >=, 24);
    uint32_t hdr[6];
    memcpy(hdr, data, 24);
    g_assert_cmphex(hdr[0], ==, 0xa1b2c3d4);
    g_assert_cmpuint(hdr[1] & 0xffff, ==, 2);
    g_assert_cmpuint(hdr[1] >> 16, ==, 4);
    g_assert_cmpuint(hdr[4], ==, 65535);
    g_assert_cmpuint(hdr[5], ==, 1);
    int records = 0, dhcp = 0;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    for (gsize o = 24; o < size; records++) {
        g_assert_cmpuint(o + 16, <=, size);
        uint32_t rec[4];
        memcpy(rec, data + o, 16);
        g_assert_cmpint(ABS((gint64)rec[0] - now), <, 60);
        g_assert_cmpuint(rec[1], <, 1000000);
        g_assert_cmpuint(rec[2], ==, rec[3]);
        g_assert_cmpuint(o + 16 + rec[2], <=, size);
        Pkt p;
        if (parse((const uint8_t *)data + o + 16, rec[2], &p) && p.proto == PROTO_UDP &&
            (p.dport == 67 || p.dport == 68))
            dhcp++;
        o += 16 + rec[2];
    }
    g_assert_cmpint(dhcp, ==, 4);
    g_assert_cmpint(records, >=, 4);

    g_autofree char *tshark = g_find_program_in_path("tshark");
    if (tshark) {
        const char *argv[] = {tshark, "-r", path, NULL};
        g_autofree char *out = NULL, *err = NULL;
        int status;
        GError *error = NULL;
        g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                   &err, &status, &error));
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_nonnull(strstr(out, "DHCP"));
        g_assert_nonnull(strstr(out, "Discover"));
        g_assert_nonnull(strstr(out, "Offer"));
        g_assert_nonnull(strstr(out, "Request"));
        g_assert_nonnull(strstr(out, "ACK"));
    }
    g_unlink(path);
    g_rmdir(dir);
    if (!tshark)
        g_test_skip("tshark is not installed: the dump was only checked here");
}

typedef struct BadSpec {
    const char *spec, *message;
} BadSpec;

static void test_spec_errors(void)
{
    static const BadSpec bad[] = {
        {"", "no mode"},
        {"bogus", "\"bogus\" is not a network mode"},
        {"user,foo=1", "no option \"foo\""},
        {"user,restrict", "option \"restrict\" has no value"},
        {"user,,restrict=on", "empty"},
        {"user,restrict=on,", "empty"},
        {"user,restrict=maybe", "restrict=on or restrict=off"},
        {"user,restrict=on,restrict=off", "given twice"},
        {"user,hostfwd=tcp:127.0.0.1:0-:80", "port that is not a number from 1 to 65535"},
        {"user,hostfwd=tcp:127.0.0.1:70000-:80", "port that is not a number"},
        {"user,hostfwd=tcp::2222-:x", "the guest side \":x\""},
        {"user,hostfwd=sctp::1-:2", "tcp: or udp:"},
        {"user,hostfwd=::1-:2", "tcp: or udp:"},
        {"user,hostfwd=tcp:1.2.3:5-:80", "not an IPv4 address"},
        {"user,hostfwd=tcp::5555", "no \"-\""},
        {"user,hostfwd=tcp::5555-10.0.3.9:22", "not a guest's address"},
        {"user,hostfwd=tcp::5555-10.0.2.2:22", "not a guest's address"},
        {"user,net=10.0.2.1/24", "host bits"},
        {"user,net=10.0.2.0/33", "prefix length"},
        {"user,net=banana", "not an IPv4 address"},
        {"user,dns=192.168.1.1", "dns=192.168.1.1 is not an address of a station"},
        {"user,host=10.0.2.255", "host=10.0.2.255 is not an address of a station"},
        {"user,dns=10.0.2.2", "must differ"},
        {"tap", "ifname=NAME"},
        {"tap,ifname=", "not a network device name"},
        {"tap,ifname=a/b", "not a network device name"},
        {"tap,ifname=waytoolongname0123", "not a network device name"},
        {"tap,ifname=tap0,script=/etc/qemu-ifup", "never runs interface scripts"},
        {"tap,ifname=tap0,hostfwd=tcp::1-:2", "tap networking has no option \"hostfwd\""},
        {"none,restrict=on", "none takes no options"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *err = NULL;
        HgNet *net = hg_net_new(bad[i].spec, guest_mac, NULL, NULL, NULL, &err);
        g_assert_null(net);
        g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
        if (!strstr(err->message, bad[i].message))
            g_error("spec \"%s\": message \"%s\" lacks \"%s\"", bad[i].spec, err->message,
                    bad[i].message);
        /* Each message shows the syntax to use. */
        if (!strstr(err->message, "use ") && !strstr(err->message, "syntax is"))
            g_error("spec \"%s\": message \"%s\" shows no syntax", bad[i].spec, err->message);
        g_clear_error(&err);
        g_assert_false(hg_net_check_spec(bad[i].spec, &err));
        g_clear_error(&err);
    }
    static const char *const good[] = {
        "user",
        "none",
        "tap,ifname=tap0",
        "tap,ifname=tap0,script=no",
        "user,restrict=off,net=192.168.76.0/24,dns=192.168.76.53,host=192.168.76.1,"
        "dhcpstart=192.168.76.100",
        "user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.20:53",
        "user,net=172.16.0.0/12",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        GError *err = NULL;
        g_assert_true(hg_net_check_spec(good[i], &err));
        g_assert_no_error(err);
    }
}

static void test_port_in_use(void)
{
    for (int udp = 0; udp < 2; udp++) {
        uint16_t port = 0;
        int s = listen_on(udp ? SOCK_DGRAM : SOCK_STREAM, &port);
        g_autofree char *spec =
            g_strdup_printf("user,hostfwd=%s:127.0.0.1:%u-:22", udp ? "udp" : "tcp", port);
        GError *err = NULL;
        g_assert_null(hg_net_new(spec, guest_mac, NULL, NULL, NULL, &err));
        g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
        g_autofree char *p = g_strdup_printf("port %u on 127.0.0.1 is already in use", port);
        if (!strstr(err->message, p))
            g_error("\"%s\" lacks \"%s\"", err->message, p);
        g_assert_nonnull(strstr(err->message, "choose another HOSTPORT"));
        g_clear_error(&err);
        close(s);
    }
}

static HgNicRx take_ping(void *nic, const uint8_t *f, size_t len)
{
    GArray *seqs = nic;
    Pkt p;
    g_assert_true(parse(f, len, &p));
    g_assert_cmpuint(p.proto, ==, PROTO_ICMP);
    g_assert_cmpuint(p.icmp_type, ==, 0); /* echo reply */
    uint16_t seq = p.icmp_seq;
    g_array_append_val(seqs, seq);
    return HG_NIC_RX_TAKEN;
}

typedef struct Fussy {
    GArray *seen;  /* every frame offered, in order */
    GArray *taken; /* the frames taken */
    int calls;
} Fussy;

/* Takes two frames, refuses the third, and so on. */
static HgNicRx fussy_receive(void *nic, const uint8_t *f, size_t len)
{
    Fussy *fu = nic;
    Pkt p;
    parse(f, len, &p);
    uint16_t seq = p.icmp_seq;
    g_array_append_val(fu->seen, seq);
    if (++fu->calls % 3 == 0)
        return HG_NIC_RX_NO_ROOM;
    g_array_append_val(fu->taken, seq);
    return HG_NIC_RX_TAKEN;
}

static void wait_tx_drained(Guest *g)
{
    hg_net_flush(g->net);
    HgNetStats st;
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        g_usleep(1000);
        hg_net_get_stats(g->net, &st);
    } while (st.tx_queued && g_get_monotonic_time() < end);
    g_assert_cmpuint(st.tx_queued, ==, 0);
}

static void test_flood_rx(void)
{
    Guest g;
    guest_init(&g);
    g.ip = GUEST_IP;
    guest_net(&g, "user", NULL);
    uint8_t mac[6], f[128];
    arp_gateway(&g, mac);
    pump(&g, 50, NULL, NULL);
    HgNetStats base;
    hg_net_get_stats(g.net, &base);
    g_assert_cmpuint(base.rx_queued, ==, 0);

    /* 3000 pings of the gateway, which slirp answers itself; the guest takes nothing. */
    enum { PINGS = 3000, BATCH = 500 };
    for (int i = 0; i < PINGS; i++) {
        send_frame(&g, f, build_ping(f, mac, GATEWAY_IP, (uint16_t)i));
        if (i % BATCH == BATCH - 1)
            wait_tx_drained(&g);
    }
    HgNetStats st;
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        g_usleep(1000);
        hg_net_get_stats(g.net, &st);
    } while (st.rx_frames + st.rx_dropped - base.rx_frames - base.rx_dropped < PINGS &&
             g_get_monotonic_time() < end);
    g_assert_cmpuint(st.tx_dropped, ==, 0);
    g_assert_cmpuint(st.rx_frames + st.rx_dropped - base.rx_frames - base.rx_dropped, ==, PINGS);
    g_assert_cmpuint(st.rx_queued, ==, HG_NET_QUEUE_FRAMES);
    g_assert_cmpuint(st.rx_peak_frames, ==, HG_NET_QUEUE_FRAMES);
    g_assert_cmpuint(st.rx_peak_bytes, <=, HG_NET_QUEUE_BYTES);
    g_assert_cmpuint(st.rx_dropped - base.rx_dropped, ==, PINGS - HG_NET_QUEUE_FRAMES);
    g_assert_true(hg_net_pending(g.net));

    /* A card that refuses every third frame sees it again first the next time. */
    Fussy fu = {g_array_new(FALSE, FALSE, 2), g_array_new(FALSE, FALSE, 2), 0};
    int taken = 0;
    for (int round = 0; hg_net_pending(g.net); round++) {
        g_assert_cmpint(round, <, 2 * HG_NET_QUEUE_FRAMES);
        int n = hg_net_deliver(g.net, fussy_receive, &fu);
        g_assert_cmpint(n, <=, 2);
        taken += n;
    }
    g_assert_cmpint(taken, ==, HG_NET_QUEUE_FRAMES);
    g_assert_cmpuint(fu.taken->len, ==, HG_NET_QUEUE_FRAMES);
    for (guint i = 0; i < fu.taken->len; i++)
        g_assert_cmpuint(g_array_index(fu.taken, uint16_t, i), ==, i);
    for (guint i = 0; i < fu.seen->len; i++) {
        if ((i + 1) % 3 == 0 && i + 1 < fu.seen->len)
            g_assert_cmpuint(g_array_index(fu.seen, uint16_t, i + 1), ==,
                             g_array_index(fu.seen, uint16_t, i));
    }
    g_array_unref(fu.seen);
    g_array_unref(fu.taken);

    /* Room again: the network answers once more. */
    GArray *seqs = g_array_new(FALSE, FALSE, 2);
    send_frame(&g, f, build_ping(f, mac, GATEWAY_IP, 7));
    end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!seqs->len && g_get_monotonic_time() < end) {
        hg_net_deliver(g.net, take_ping, seqs);
        g_usleep(1000);
    }
    g_assert_cmpuint(seqs->len, ==, 1);
    g_assert_cmpuint(g_array_index(seqs, uint16_t, 0), ==, 7);
    g_array_unref(seqs);
    guest_clear(&g);
}

/* Holds the net thread in the wake callback until the gate opens. */
static void hold_net_thread(Guest *g)
{
    while (hg_net_pending(g->net))
        hg_net_deliver(g->net, guest_receive, g);
    g_mutex_lock(&g->lock);
    g->gate_closed = true;
    g_mutex_unlock(&g->lock);
    uint8_t f[64];
    static const uint8_t zero[6];
    send_frame(g, f, build_arp(f, 1, broadcast, zero, GUEST_IP, GATEWAY_IP));
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    g_mutex_lock(&g->lock);
    while (!g->parked && g_cond_wait_until(&g->cond, &g->lock, end))
        ;
    g_assert_true(g->parked);
    g_mutex_unlock(&g->lock);
}

static void release_net_thread(Guest *g)
{
    g_mutex_lock(&g->lock);
    g->gate_closed = false;
    g_cond_broadcast(&g->cond);
    g_mutex_unlock(&g->lock);
}

static void test_flood_tx(void)
{
    Guest g;
    guest_init(&g);
    guest_net(&g, "user", NULL);
    HgNetStats st;

    /* Small frames: the frame limit. */
    hold_net_thread(&g);
    hg_net_get_stats(g.net, &st);
    uint64_t sent0 = st.tx_frames, dropped0 = st.tx_dropped;
    uint8_t small[60] = {0};
    eth_header(small, broadcast, guest_mac, ETH_TEST);
    for (int i = 0; i < 3000; i++)
        hg_net_send(g.net, small, sizeof(small));
    hg_net_get_stats(g.net, &st);
    g_assert_cmpuint(st.tx_queued, ==, HG_NET_QUEUE_FRAMES);
    g_assert_cmpuint(st.tx_frames - sent0, ==, HG_NET_QUEUE_FRAMES);
    g_assert_cmpuint(st.tx_dropped - dropped0, ==, 3000 - HG_NET_QUEUE_FRAMES);
    release_net_thread(&g);
    wait_tx_drained(&g);

    /* Big frames: the byte limit. */
    hold_net_thread(&g);
    hg_net_get_stats(g.net, &st);
    sent0 = st.tx_frames;
    dropped0 = st.tx_dropped;
    uint8_t *big = g_malloc0(HG_NIC_MAX_FRAME);
    eth_header(big, broadcast, guest_mac, ETH_TEST);
    for (int i = 0; i < 200; i++)
        hg_net_send(g.net, big, HG_NIC_MAX_FRAME);
    /* And lengths no card may send. */
    hg_net_send(g.net, big, HG_NIC_MAX_FRAME + 1);
    hg_net_send(g.net, big, 13);
    hg_net_get_stats(g.net, &st);
    unsigned fit = HG_NET_QUEUE_BYTES / HG_NIC_MAX_FRAME;
    g_assert_cmpuint(st.tx_queued, ==, fit);
    g_assert_cmpuint(st.tx_peak_bytes, <=, HG_NET_QUEUE_BYTES);
    g_assert_cmpuint(st.tx_peak_frames, <=, HG_NET_QUEUE_FRAMES);
    g_assert_cmpuint(st.tx_frames - sent0, ==, fit);
    g_assert_cmpuint(st.tx_dropped - dropped0, ==, 200 - fit + 2);
    g_free(big);
    release_net_thread(&g);
    wait_tx_drained(&g);

    /* Still working. */
    uint8_t mac[6];
    arp_gateway(&g, mac);
    guest_clear(&g);
}

static void test_info_and_runtime_fwd(void)
{
    Guest g;
    guest_init(&g);
    g.ip = GUEST_IP;
    uint16_t p1 = free_port(SOCK_STREAM);
    g_autofree char *spec = g_strdup_printf("user,hostfwd=tcp:127.0.0.1:%u-:22", p1);
    guest_net(&g, spec, NULL);
    uint8_t mac[6];
    arp_gateway(&g, mac);

    g_autofree char *info = hg_net_info(g.net);
    g_autofree char *f1 = g_strdup_printf("hostfwd tcp 127.0.0.1:%u -> 10.0.2.15:22", p1);
    g_assert_nonnull(strstr(info, "mode: user (libslirp 4."));
    g_assert_nonnull(strstr(info, "guest 10.0.2.15 (DHCP), gateway 10.0.2.2, DNS 10.0.2.3"));
    g_assert_nonnull(strstr(info, "network 10.0.2.0/24"));
    g_assert_nonnull(strstr(info, "52:54:00:12:34:56"));
    g_assert_nonnull(strstr(info, f1));
    /* Our ARP request, and slirp's answer padded to the 64 bytes of a wire frame. */
    g_assert_nonnull(strstr(info, "guest -> network: frames 1, bytes 42, dropped 0\n"));
    g_assert_nonnull(strstr(info, "network -> guest: frames 1, bytes 64, dropped 0, waiting 0\n"));

    /* Add a forward at run time: it listens, shows, and a second time is refused. */
    uint16_t p2 = free_port(SOCK_STREAM);
    g_autofree char *rule = g_strdup_printf("tcp::%u-:80", p2);
    GError *err = NULL;
    g_assert_true(hg_net_hostfwd_add(g.net, rule, &err));
    g_assert_no_error(err);
    g_free(info);
    info = hg_net_info(g.net);
    g_autofree char *f2 = g_strdup_printf("hostfwd tcp 127.0.0.1:%u -> 10.0.2.15:80", p2);
    g_assert_nonnull(strstr(info, f2));
    g_assert_false(hg_net_hostfwd_add(g.net, rule, &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_assert_nonnull(strstr(err->message, "already in use"));
    g_clear_error(&err);
    g_assert_false(hg_net_hostfwd_add(g.net, "tcp::0-:80", &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_clear_error(&err);
    check_hostfwd(&g, p2);

    /* Remove the first one (by its host side) and the second (by its whole rule). */
    g_autofree char *r1 = g_strdup_printf("tcp:127.0.0.1:%u", p1);
    g_assert_true(hg_net_hostfwd_remove(g.net, r1, &err));
    g_assert_no_error(err);
    g_assert_true(hg_net_hostfwd_remove(g.net, rule, &err));
    g_assert_no_error(err);
    g_assert_cmpint(connect_to(p1), ==, -1);
    g_assert_cmpint(connect_to(p2), ==, -1);
    g_free(info);
    info = hg_net_info(g.net);
    g_assert_null(strstr(info, "hostfwd"));
    g_assert_false(hg_net_hostfwd_remove(g.net, r1, &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_assert_nonnull(strstr(err->message, "no host forward listens on tcp 127.0.0.1:"));
    g_clear_error(&err);
    guest_clear(&g);
}

static int count_dir(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    g_assert_nonnull(d);
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static void test_no_leaks(void)
{
    g_autofree char *dir = g_dir_make_tmp("hangar-net-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "dump.pcap", NULL);
    for (int warm = 1; warm >= 0; warm--) {
        int fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
        for (int i = 0; i < (warm ? 1 : 50); i++) {
            uint16_t port = free_port(SOCK_STREAM);
            g_autofree char *spec = i % 2 ? g_strdup("none")
                                          : g_strdup_printf("user,hostfwd=tcp:127.0.0.1:%u-:22,"
                                                            "hostfwd=udp:127.0.0.1:%u-:53",
                                                            port, port);
            Guest g;
            guest_init(&g);
            guest_net(&g, spec, i % 4 < 2 ? path : NULL);
            uint8_t f[64];
            static const uint8_t zero[6];
            send_frame(&g, f, build_arp(f, 1, broadcast, zero, GUEST_IP, GATEWAY_IP));
            if (i % 2 == 0) {
                GBytes *b = wait_frame(&g, 5000, is_arp_reply_from_gateway, NULL);
                g_assert_nonnull(b);
                g_bytes_unref(b);
            }
            guest_clear(&g);
        }
        if (!warm) {
            g_assert_cmpint(count_dir("/proc/self/fd"), ==, fds);
            g_assert_cmpint(count_dir("/proc/self/task"), ==, threads);
        }
    }
    g_unlink(path);
    g_rmdir(dir);
}

/* ---- tap ---- */

/* The error a user without the right to the device gets. */
static void test_tap_permission(void)
{
    if (g_test_subprocess()) {
        if (geteuid() == 0 && (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)))
            return; /* cannot drop privileges: nothing to see */
        GError *err = NULL;
        g_assert_null(hg_net_new("tap,ifname=hgtest0", guest_mac, NULL, NULL, NULL, &err));
        g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
        g_print("%s\n", err->message);
        g_assert_nonnull(strstr(err->message, access("/dev/net/tun", F_OK) == 0
                                                  ? "ip tuntap add dev hgtest0 mode tap user $USER"
                                                  : "modprobe tun"));
        g_clear_error(&err);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("*tap device hgtest0*");
}

static bool can_unshare_net(void)
{
    if (geteuid() != 0 || access("/dev/net/tun", F_OK) != 0)
        return false;
    pid_t pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static bool is_test_frame(const Pkt *p, void *data)
{
    return p->type == ETH_TEST;
}

static void tap_in_namespace(void)
{
    g_assert_cmpint(unshare(CLONE_NEWNET), ==, 0);
    GError *err = NULL;
    /* Not a tap device. */
    g_assert_null(hg_net_new("tap,ifname=lo", guest_mac, NULL, NULL, NULL, &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_assert_nonnull(strstr(err->message, "lo is a network device but not a tap device"));
    g_clear_error(&err);

    /* As root, attaching creates the device; bring it up and watch it with a packet socket. */
    Guest g;
    guest_init(&g);
    guest_net(&g, "tap,ifname=hgtap0", NULL);
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    g_assert_cmpint(s, >=, 0);
    struct ifreq ifr = {0};
    g_strlcpy(ifr.ifr_name, "hgtap0", sizeof(ifr.ifr_name));
    g_assert_cmpint(ioctl(s, SIOCGIFFLAGS, &ifr), ==, 0);
    ifr.ifr_flags |= IFF_UP;
    g_assert_cmpint(ioctl(s, SIOCSIFFLAGS, &ifr), ==, 0);
    int ifindex = (int)if_nametoindex("hgtap0");
    g_assert_cmpint(ifindex, >, 0);
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
    g_assert_cmpint(bind(s, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);

    /* A second tap on the same device is refused as busy. */
    g_assert_null(hg_net_new("tap,ifname=hgtap0", guest_mac, NULL, NULL, NULL, &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_assert_nonnull(strstr(err->message, "in use"));
    g_clear_error(&err);

    /* Guest to host. */
    uint8_t f[100];
    memset(f, 0, sizeof(f));
    eth_header(f, broadcast, guest_mac, ETH_TEST);
    memcpy(f + 14, "from the guest", 14);
    hg_net_send(g.net, f, sizeof(f));
    hg_net_flush(g.net);
    bool seen = false;
    for (int i = 0; i < 50 && !seen; i++) {
        struct pollfd pfd = {s, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        uint8_t buf[2048];
        ssize_t n = recv(s, buf, sizeof(buf), 0);
        seen = n == (ssize_t)sizeof(f) && memcmp(buf, f, sizeof(f)) == 0;
    }
    g_assert_true(seen);

    /* Host to guest. */
    uint8_t h[80];
    memset(h, 0, sizeof(h));
    static const uint8_t host_mac[6] = {0x02, 0, 0, 0, 0, 1};
    eth_header(h, guest_mac, host_mac, ETH_TEST);
    memcpy(h + 14, "from the host", 13);
    g_assert_cmpint(send(s, h, sizeof(h), 0), ==, (ssize_t)sizeof(h));
    GBytes *b = wait_frame(&g, 5000, is_test_frame, NULL);
    g_assert_nonnull(b);
    g_assert_cmpmem(g_bytes_get_data(b, NULL), g_bytes_get_size(b), h, sizeof(h));
    g_bytes_unref(b);
    g_autofree char *info = hg_net_info(g.net);
    g_assert_nonnull(strstr(info, "mode: tap, device hgtap0"));
    close(s);
    guest_clear(&g);
}

static void test_tap(void)
{
    if (g_test_subprocess()) {
        tap_in_namespace();
        return;
    }
    if (!can_unshare_net()) {
        g_test_skip("needs root and network namespaces (unshare -n)");
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

/* Runs a user-networking test, or skips it in a build without libslirp. */
static void user_test(gconstpointer data)
{
#ifdef HG_HAVE_SLIRP
    ((void (*)(void))data)();
#else
    g_test_skip("built without libslirp (meson option slirp)");
#endif
}

/* Without libslirp, user networking is an error that names the package. */
static void test_without_slirp(void)
{
#ifdef HG_HAVE_SLIRP
    g_test_skip("built with libslirp");
#else
    GError *err = NULL;
    g_assert_null(hg_net_new("user", guest_mac, NULL, NULL, NULL, &err));
    g_assert_error(err, HG_ERROR, HG_ERROR_CONFIG);
    g_assert_nonnull(strstr(err->message, "libslirp-dev"));
    g_clear_error(&err);
#endif
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/net/spec-errors", test_spec_errors);
    g_test_add_func("/net/none", test_none);
    g_test_add_func("/net/tap/permission", test_tap_permission);
    g_test_add_func("/net/tap/namespace", test_tap);
    g_test_add_func("/net/user/without-slirp", test_without_slirp);
    static const struct {
        const char *path;
        void (*fn)(void);
    } user[] = {
        {"/net/user/port-in-use", test_port_in_use},
        {"/net/user/arp", test_arp},
        {"/net/user/dhcp", test_dhcp},
        {"/net/user/tcp-out", test_tcp_out},
        {"/net/user/hostfwd", test_hostfwd},
        {"/net/user/restrict", test_restrict},
        {"/net/user/pcap", test_pcap},
        {"/net/user/flood-rx", test_flood_rx},
        {"/net/user/flood-tx", test_flood_tx},
        {"/net/user/info-runtime-fwd", test_info_and_runtime_fwd},
        {"/net/user/no-leaks", test_no_leaks},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(user); i++)
        g_test_add_data_func(user[i].path, (gconstpointer)user[i].fn, user_test);
    return g_test_run();
}
