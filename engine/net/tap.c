/* Tap networking: the guest's frames go to a Linux tap device and what the device sends
 * comes back to the guest (Documentation/networking/tuntap.rst: /dev/net/tun, TUNSETIFF
 * with IFF_TAP | IFF_NO_PI, one whole Ethernet frame per read or write). The device is
 * made and brought up beforehand by someone allowed to (ip tuntap add ... user $USER);
 * Hangar runs no scripts. The fd is read by a GSource on the net thread. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hangar.h"
#include "net-internal.h"

enum {
    TAP_READS_PER_DISPATCH = 64, /* then let the other sources run */
};

struct NetTap {
    HgNet *net;
    int fd;
    char ifname[IFNAMSIZ];
    GSource *source;
    bool write_failed; /* said so once */
    uint8_t buf[HG_NIC_MAX_FRAME];
};

#define TAP_HOWTO                                                                                  \
    "create it for your user with `sudo ip tuntap add dev %s mode tap user $USER` and "            \
    "bring it up with `sudo ip link set %s up`"

static bool device_is_up(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return true; /* cannot tell: say nothing */
    struct ifreq ifr = {0};
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    bool up = ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags & IFF_UP);
    close(s);
    return up;
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer data)
{
    NetTap *t = data;
    for (int i = 0; i < TAP_READS_PER_DISPATCH; i++) {
        ssize_t n = read(fd, t->buf, sizeof(t->buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return G_SOURCE_CONTINUE;
        if (n <= 0) {
            g_message("net: reading the tap device %s failed (%s); the guest receives nothing "
                      "more from it",
                      t->ifname, n < 0 ? g_strerror(errno) : "end of file");
            return G_SOURCE_REMOVE;
        }
        if (n >= HG_NIC_MIN_FRAME)
            net_to_guest(t->net, t->buf, (size_t)n);
    }
    return G_SOURCE_CONTINUE;
}

NetTap *net_tap_new(HgNet *net, const char *ifname, GMainContext *ctx, GError **error)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "tap device %s: cannot open /dev/net/tun (%s): " TAP_HOWTO, ifname,
                        g_strerror(e), ifname, ifname);
        else
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "tap device %s: cannot open /dev/net/tun (%s): load the tun module "
                        "(sudo modprobe tun), or use user networking",
                        ifname, g_strerror(e));
        return NULL;
    }
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        if (e == EPERM || e == EACCES)
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "tap device %s cannot be used by this user (%s): " TAP_HOWTO, ifname,
                        g_strerror(e), ifname, ifname);
        else if (e == EBUSY)
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "tap device %s is in use by another program (%s): stop that program, or "
                        "make another device (`sudo ip tuntap add dev NAME mode tap user "
                        "$USER`) and use tap,ifname=NAME",
                        ifname, g_strerror(e));
        else if (e == EINVAL)
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "%s is a network device but not a tap device (%s): make a tap device "
                        "(`sudo ip tuntap add dev NAME mode tap user $USER`) and use "
                        "tap,ifname=NAME",
                        ifname, g_strerror(e));
        else
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "tap device %s cannot be attached (%s): " TAP_HOWTO, ifname, g_strerror(e),
                        ifname, ifname);
        return NULL;
    }
    if (!device_is_up(ifname))
        g_message("net: the tap device %s is down; the guest's frames go nowhere until "
                  "`sudo ip link set %s up`",
                  ifname, ifname);
    NetTap *t = g_new0(NetTap, 1);
    t->net = net;
    t->fd = fd;
    g_strlcpy(t->ifname, ifname, sizeof(t->ifname));
    t->source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_priority(t->source, G_PRIORITY_DEFAULT);
    g_source_set_callback(t->source, G_SOURCE_FUNC(tap_readable), t, NULL);
    g_source_attach(t->source, ctx);
    return t;
}

void net_tap_free(NetTap *t)
{
    if (!t)
        return;
    g_source_destroy(t->source);
    g_source_unref(t->source);
    close(t->fd);
    g_free(t);
}

void net_tap_input(NetTap *t, const uint8_t *frame, size_t len)
{
    ssize_t n;
    do {
        n = write(t->fd, frame, len);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len)
        return;
    net_tx_error(t->net);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return; /* the device's queue is full: a congested wire drops too */
    if (!t->write_failed)
        g_message("net: writing to the tap device %s failed (%s); frames are dropped", t->ifname,
                  n < 0 ? g_strerror(errno) : "short write");
    t->write_failed = true;
}
