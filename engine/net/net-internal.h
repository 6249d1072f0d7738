/* What the parts of engine/net/ share: the parsed spec (spec.c), the backends (slirp.c,
 * tap.c), the pcap writer (pcap.c) and the hooks they call in net.c. Not for the rest of
 * the engine: use net.h. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>

#include "net.h"

typedef enum {
    NET_MODE_USER,
    NET_MODE_TAP,
    NET_MODE_NONE,
} NetMode;

/* One host forward: a listening socket on host_addr:host_port whose connections (or
 * datagrams) go to guest_addr:guest_port. Addresses in network byte order. */
typedef struct NetFwd {
    bool udp;
    struct in_addr host_addr, guest_addr;
    uint16_t host_port, guest_port;
} NetFwd;

typedef struct NetSpec {
    NetMode mode;
    /* user */
    struct in_addr network, netmask, host, dhcp_start, dns;
    unsigned prefix;
    bool restricted;
    GArray *fwds; /* NetFwd */
    /* tap */
    char ifname[IFNAMSIZ];
} NetSpec;

/* spec.c */
bool net_spec_parse(NetSpec *s, const char *spec, GError **error);
void net_spec_clear(NetSpec *s);
/* A hostfwd rule; with host_only (removal), "PROTO:[HOSTADDR]:HOSTPORT" is enough. */
bool net_fwd_parse(const NetSpec *s, const char *rule, bool host_only, NetFwd *f, GError **error);
/* "tcp 127.0.0.1:2222 -> 10.0.2.15:22" */
char *net_fwd_describe(const NetFwd *f);
const char *net_addr_text(struct in_addr a, char buf[INET_ADDRSTRLEN]);

/* net.c, net thread only: a frame for the guest (copied; counted, dropped when the queue
 * is full; written to the dump). */
void net_to_guest(HgNet *net, const uint8_t *frame, size_t len);
/* net.c, net thread only: a guest frame the host side could not take. */
void net_tx_error(HgNet *net);

/* slirp.c: user networking. Created and freed on the thread calling hg_net_new/free
 * while the net thread is not running; everything else on the net thread. */
typedef struct NetSlirp NetSlirp;
NetSlirp *net_slirp_new(HgNet *net, const NetSpec *spec, GMainContext *ctx, GError **error);
void net_slirp_free(NetSlirp *ns);
void net_slirp_input(NetSlirp *ns, const uint8_t *frame, size_t len);
/* Before the loop's poll: appends slirp's fds to fds and shortens *timeout (ms, -1 none). */
void net_slirp_fill(NetSlirp *ns, GArray *fds, gint *timeout);
/* After the poll (the same fds, revents set) and the GLib dispatch. */
void net_slirp_poll(NetSlirp *ns, bool poll_failed);
bool net_slirp_add_fwd(NetSlirp *ns, const NetFwd *f, GError **error);
bool net_slirp_remove_fwd(NetSlirp *ns, const NetFwd *f, GError **error);
const char *net_slirp_version(void);

/* tap.c */
typedef struct NetTap NetTap;
NetTap *net_tap_new(HgNet *net, const char *ifname, GMainContext *ctx, GError **error);
void net_tap_free(NetTap *t);
void net_tap_input(NetTap *t, const uint8_t *frame, size_t len);

/* pcap.c: classic libpcap files (LINKTYPE_ETHERNET, microseconds, snaplen 65535). */
typedef struct NetPcap NetPcap;
NetPcap *net_pcap_open(const char *path, GError **error);
void net_pcap_write(NetPcap *p, const uint8_t *frame, size_t len);
void net_pcap_flush(NetPcap *p);
void net_pcap_close(NetPcap *p);
