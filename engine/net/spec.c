/* The network spec string (HgConfig.net, see net.h): strict parsing, with messages that
 * say what was wrong and show the syntax. Option names and defaults follow QEMU's
 * -netdev user (net, host, dhcpstart, dns, restrict, hostfwd) and -netdev tap (ifname,
 * script), so a QEMU user's line works unchanged when it only uses those. */
#include <arpa/inet.h>
#include <string.h>

#include "hangar.h"
#include "net-internal.h"

#define USER_SYNTAX                                                                                \
    "user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,restrict=on|off]"        \
    "[,net=ADDR/PREFIX][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR]"
#define FWD_SYNTAX                                                                                 \
    "hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, for example "                      \
    "hostfwd=tcp:127.0.0.1:2222-:22"
#define TAP_SYNTAX "tap,ifname=NAME[,script=no]"
#define ALL_SYNTAX USER_SYNTAX ", " TAP_SYNTAX " or none"

const char *net_addr_text(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static bool parse_addr(const char *text, struct in_addr *a)
{
    return inet_pton(AF_INET, text, a) == 1;
}

static bool parse_port(const char *text, uint16_t *port)
{
    guint64 v;
    if (!g_ascii_string_to_unsigned(text, 10, 1, 65535, &v, NULL))
        return false;
    *port = (uint16_t)v;
    return true;
}

static bool in_net(const NetSpec *s, struct in_addr a)
{
    return (a.s_addr & s->netmask.s_addr) == s->network.s_addr;
}

/* An address the guest network can give to one station: inside it, neither the network
 * nor the broadcast address. */
static bool station(const NetSpec *s, struct in_addr a)
{
    uint32_t host_bits = ntohl(a.s_addr) & ~ntohl(s->netmask.s_addr);
    return in_net(s, a) && host_bits != 0 && host_bits != ~ntohl(s->netmask.s_addr);
}

static struct in_addr net_plus(const NetSpec *s, uint32_t n)
{
    return (struct in_addr){htonl(ntohl(s->network.s_addr) + n)};
}

/* "[ADDR]:PORT" into its two halves; an empty ADDR keeps *a. */
static bool parse_endpoint(const char *text, struct in_addr *a, uint16_t *port, const char **what)
{
    const char *colon = strrchr(text, ':');
    if (!colon) {
        *what = "is missing the \":PORT\"";
        return false;
    }
    if (colon > text) {
        g_autofree char *addr = g_strndup(text, colon - text);
        if (!parse_addr(addr, a)) {
            *what = "has an address that is not an IPv4 address like 127.0.0.1";
            return false;
        }
    }
    if (!parse_port(colon + 1, port)) {
        *what = "has a port that is not a number from 1 to 65535";
        return false;
    }
    return true;
}

bool net_fwd_parse(const NetSpec *s, const char *rule, bool host_only, NetFwd *f, GError **error)
{
    *f = (NetFwd){.host_addr = {htonl(INADDR_LOOPBACK)}, .guest_addr = s->dhcp_start};
    const char *what = NULL;
    const char *rest;
    if (g_str_has_prefix(rule, "tcp:")) {
        rest = rule + 4;
    } else if (g_str_has_prefix(rule, "udp:")) {
        f->udp = true;
        rest = rule + 4;
    } else {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "host forward \"%s\" does not start with tcp: or udp:; the syntax is %s", rule,
                    FWD_SYNTAX);
        return false;
    }
    const char *dash = strchr(rest, '-');
    if (!dash && !host_only) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "host forward \"%s\" has no \"-\" between the host and the guest side; "
                    "the syntax is %s",
                    rule, FWD_SYNTAX);
        return false;
    }
    g_autofree char *host = dash ? g_strndup(rest, dash - rest) : g_strdup(rest);
    if (!parse_endpoint(host, &f->host_addr, &f->host_port, &what)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "host forward \"%s\": the host side \"%s\" %s; the syntax is %s", rule, host,
                    what, FWD_SYNTAX);
        return false;
    }
    if (!dash)
        return true;
    if (!parse_endpoint(dash + 1, &f->guest_addr, &f->guest_port, &what)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "host forward \"%s\": the guest side \"%s\" %s; the syntax is %s", rule,
                    dash + 1, what, FWD_SYNTAX);
        return false;
    }
    if (!station(s, f->guest_addr) || f->guest_addr.s_addr == s->host.s_addr ||
        f->guest_addr.s_addr == s->dns.s_addr) {
        char a[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "host forward \"%s\": the guest address %s is not a guest's address in "
                    "the guest network %s/%u (leave it out for the DHCP address %s); the "
                    "syntax is %s",
                    rule, net_addr_text(f->guest_addr, a), net_addr_text(s->network, n), s->prefix,
                    net_addr_text(s->dhcp_start, d), FWD_SYNTAX);
        return false;
    }
    return true;
}

char *net_fwd_describe(const NetFwd *f)
{
    char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
    return g_strdup_printf("%s %s:%u -> %s:%u", f->udp ? "udp" : "tcp",
                           net_addr_text(f->host_addr, h), f->host_port,
                           net_addr_text(f->guest_addr, g), f->guest_port);
}

void net_spec_clear(NetSpec *s)
{
    if (s->fwds)
        g_array_unref(s->fwds);
    memset(s, 0, sizeof(*s));
}

static bool spec_error(GError **error, const char *spec, const char *syntax, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static bool spec_error(GError **error, const char *spec, const char *syntax, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "network \"%s\": %s; use %s", spec, what, syntax);
    return false;
}

/* An address option of user mode checked against the network. */
static bool check_station(const NetSpec *s, const char *spec, const char *key, struct in_addr a,
                          GError **error)
{
    if (station(s, a))
        return true;
    char t[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
    return spec_error(error, spec, USER_SYNTAX,
                      "%s=%s is not an address of a station in the guest network %s/%u", key,
                      net_addr_text(a, t), net_addr_text(s->network, n), s->prefix);
}

static bool parse_user(NetSpec *s, const char *spec, char **opts, GError **error)
{
    const char *net = NULL, *host = NULL, *dhcp = NULL, *dns = NULL, *restrict_ = NULL;
    g_autoptr(GPtrArray) fwds = g_ptr_array_new();
    for (char **o = opts; *o; o++) {
        const char *eq = strchr(*o, '=');
        if (!eq)
            return spec_error(error, spec, USER_SYNTAX, "option \"%s\" has no value", *o);
        g_autofree char *key = g_strndup(*o, eq - *o);
        const char *value = eq + 1;
        const char **slot = NULL;
        if (strcmp(key, "hostfwd") == 0) {
            g_ptr_array_add(fwds, (gpointer)value);
            continue;
        } else if (strcmp(key, "net") == 0) {
            slot = &net;
        } else if (strcmp(key, "host") == 0) {
            slot = &host;
        } else if (strcmp(key, "dhcpstart") == 0) {
            slot = &dhcp;
        } else if (strcmp(key, "dns") == 0) {
            slot = &dns;
        } else if (strcmp(key, "restrict") == 0) {
            slot = &restrict_;
        } else {
            return spec_error(error, spec, USER_SYNTAX, "user networking has no option \"%s\"",
                              key);
        }
        if (*slot)
            return spec_error(error, spec, USER_SYNTAX, "option \"%s\" is given twice", key);
        *slot = value;
    }

    s->prefix = 24;
    parse_addr("10.0.2.0", &s->network);
    if (net) {
        const char *slash = strchr(net, '/');
        g_autofree char *addr = slash ? g_strndup(net, slash - net) : g_strdup(net);
        guint64 prefix = 24;
        if (!parse_addr(addr, &s->network))
            return spec_error(error, spec, USER_SYNTAX,
                              "net=%s: \"%s\" is not an IPv4 address like 10.0.2.0", net, addr);
        if (slash && !g_ascii_string_to_unsigned(slash + 1, 10, 8, 27, &prefix, NULL))
            return spec_error(error, spec, USER_SYNTAX,
                              "net=%s: the prefix length must be a number from 8 to 27", net);
        s->prefix = (unsigned)prefix;
    }
    s->netmask.s_addr = htonl(~0u << (32 - s->prefix));
    if (s->network.s_addr & ~s->netmask.s_addr) {
        char a[INET_ADDRSTRLEN];
        s->network.s_addr &= s->netmask.s_addr;
        return spec_error(error, spec, USER_SYNTAX,
                          "net=%s has host bits set; the network address is %s/%u", net,
                          net_addr_text(s->network, a), s->prefix);
    }
    s->host = net_plus(s, 2);
    s->dns = net_plus(s, 3);
    s->dhcp_start = net_plus(s, 15);
    const struct {
        const char *key, *text;
        struct in_addr *a;
    } addrs[] = {
        {"host", host, &s->host}, {"dhcpstart", dhcp, &s->dhcp_start}, {"dns", dns, &s->dns}};
    for (size_t i = 0; i < G_N_ELEMENTS(addrs); i++) {
        if (addrs[i].text && !parse_addr(addrs[i].text, addrs[i].a))
            return spec_error(error, spec, USER_SYNTAX,
                              "%s=%s is not an IPv4 address like 10.0.2.2", addrs[i].key,
                              addrs[i].text);
        if (!check_station(s, spec, addrs[i].key, *addrs[i].a, error))
            return false;
    }
    if (s->host.s_addr == s->dns.s_addr || s->host.s_addr == s->dhcp_start.s_addr ||
        s->dns.s_addr == s->dhcp_start.s_addr)
        return spec_error(error, spec, USER_SYNTAX,
                          "the host, DNS and DHCP start addresses must differ");

    if (restrict_) {
        if (strcmp(restrict_, "on") == 0)
            s->restricted = true;
        else if (strcmp(restrict_, "off") != 0)
            return spec_error(error, spec, USER_SYNTAX,
                              "restrict=%s: write restrict=on or restrict=off", restrict_);
    }

    for (guint i = 0; i < fwds->len; i++) {
        NetFwd f;
        if (!net_fwd_parse(s, fwds->pdata[i], false, &f, error)) {
            g_prefix_error(error, "network \"%s\": ", spec);
            return false;
        }
        g_array_append_val(s->fwds, f);
    }
    return true;
}

static bool parse_tap(NetSpec *s, const char *spec, char **opts, GError **error)
{
    const char *ifname = NULL;
    bool script = false;
    for (char **o = opts; *o; o++) {
        const char *eq = strchr(*o, '=');
        if (!eq)
            return spec_error(error, spec, TAP_SYNTAX, "option \"%s\" has no value", *o);
        g_autofree char *key = g_strndup(*o, eq - *o);
        const char *value = eq + 1;
        if (strcmp(key, "ifname") == 0 && !ifname) {
            ifname = value;
        } else if (strcmp(key, "script") == 0 && !script) {
            if (strcmp(value, "no") != 0)
                return spec_error(error, spec, TAP_SYNTAX,
                                  "script=%s: Hangar never runs interface scripts; set the "
                                  "device up beforehand (ip tuntap add dev NAME mode tap user "
                                  "$USER; ip link set NAME up) and write script=no or nothing",
                                  value);
            script = true;
        } else if (strcmp(key, "ifname") == 0 || strcmp(key, "script") == 0) {
            return spec_error(error, spec, TAP_SYNTAX, "option \"%s\" is given twice", key);
        } else {
            return spec_error(error, spec, TAP_SYNTAX, "tap networking has no option \"%s\"", key);
        }
    }
    if (!ifname)
        return spec_error(error, spec, TAP_SYNTAX, "tap needs the device's name (ifname=NAME)");
    /* The kernel's rules for a device name (dev_valid_name). */
    size_t n = strlen(ifname);
    if (n == 0 || n >= IFNAMSIZ || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0 ||
        strpbrk(ifname, "/: \t\n"))
        return spec_error(error, spec, TAP_SYNTAX,
                          "ifname=%s is not a network device name (1 to %d characters, no "
                          "'/', ':' or spaces)",
                          ifname, IFNAMSIZ - 1);
    memcpy(s->ifname, ifname, n + 1);
    return true;
}

bool net_spec_parse(NetSpec *s, const char *spec, GError **error)
{
    memset(s, 0, sizeof(*s));
    s->fwds = g_array_new(FALSE, TRUE, sizeof(NetFwd));
    if (!spec)
        spec = "user";
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
    bool ok = false;
    for (char **o = parts; *o; o++) {
        if (!**o) {
            spec_error(error, spec, ALL_SYNTAX,
                       "an option is empty (two commas, or a comma "
                       "at an end)");
            goto out;
        }
    }
    if (!parts[0]) {
        spec_error(error, spec, ALL_SYNTAX, "no mode is given");
    } else if (strcmp(parts[0], "user") == 0) {
        s->mode = NET_MODE_USER;
        ok = parse_user(s, spec, parts + 1, error);
    } else if (strcmp(parts[0], "tap") == 0) {
        s->mode = NET_MODE_TAP;
        ok = parse_tap(s, spec, parts + 1, error);
    } else if (strcmp(parts[0], "none") == 0) {
        s->mode = NET_MODE_NONE;
        ok = parts[1] ? spec_error(error, spec, ALL_SYNTAX, "none takes no options") : true;
    } else {
        spec_error(error, spec, ALL_SYNTAX, "\"%s\" is not a network mode", parts[0]);
    }
out:
    if (!ok)
        net_spec_clear(s);
    return ok;
}

bool hg_net_check_spec(const char *spec, GError **error)
{
    NetSpec s;
    if (!net_spec_parse(&s, spec, error))
        return false;
    net_spec_clear(&s);
    return true;
}
