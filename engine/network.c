/* The machine's network card and its host side (network.h). The card models live in
 * engine/hw/ (ne2000.c, rtl8139.c) and the host side in engine/net/; this file chooses,
 * configures and joins them.
 *
 * ISA NE2000 resources: the card's jumpers offer I/O bases 0x200-0x3E0 in steps of 0x20
 * and a handful of interrupt lines; on this board COM1/COM2 (IRQ 4/3), the PS/2 mouse
 * (12), the FPU (13), IDE (14, 15), the ACPI SCI (9) and the PCI interrupt lines SeaBIOS
 * routes (10, 11) are taken, so IRQ 7 (no parallel port here) and 5 (without a Sound
 * Blaster) are the free ones.
 */
#include "network.h"

#include <string.h>

#include "hangar.h"
#include "hw/ne2000.h"
#include "hw/rtl8139.h"
#include "net/net.h"
#include "state.h"

enum {
    NETWORK_STATE_VERSION = 1,
    /* A card that had no room is offered the waiting frames again after this long even
     * if it never says it has room (RTL8139C+ receive descriptors). */
    RETRY_NS = 2000000,
};

const uint8_t hg_network_default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct HgNetwork {
    HgNicModel model;
    HgNetworkWiring w;
    HgNet *net;
    HgNe2000 *ne;
    HgRtl8139 *rtl;
    uint8_t mac[6];
    uint16_t iobase;
    int irq;
    bool cplus;
    /* The card refused a frame and has not said it has room since (atomic: read by the
     * thread that decides how long to sleep). */
    gint blocked;
};

/* ---- card options ---- */

static bool parse_number(const char *key, const char *value, unsigned long max,
                         unsigned long *out, GError **error)
{
    char *end;
    guint64 v = g_ascii_strtoull(value, &end, 0);
    if (!*value || *end || v > max) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "network card option %s=%s: not a number",
                    key, value);
        return false;
    }
    *out = (unsigned long)v;
    return true;
}

static bool isa_resources_ok(HgNetwork *n, const HgConfig *cfg, GError **error)
{
    if (n->iobase < 0x200 || n->iobase > 0x3e0 || (n->iobase & 0x1f)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "ne2k_isa io=0x%x: the NE2000 sits at 0x200-0x3E0 in steps of 0x20 "
                    "(0x300 by default)",
                    n->iobase);
        return false;
    }
    /* Ports of the board's own devices inside [base, base + 32). */
    static const struct {
        uint16_t first, last;
        unsigned needs_sound;
        const char *who;
    } taken[] = {
        {0x220, 0x22f, HG_SOUND_SB16, "the Sound Blaster 16"},
        {0x2f8, 0x2ff, 0, "COM2"},
        {0x376, 0x377, 0, "the secondary IDE channel"},
        {0x388, 0x38b, HG_SOUND_SB16 | HG_SOUND_ADLIB, "the AdLib (OPL2)"},
        {0x3b0, 0x3df, 0, "the VGA"},
        {0x3f0, 0x3ff, 0, "the floppy controller and COM1"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(taken); i++) {
        if (taken[i].needs_sound && !(cfg->soundhw & taken[i].needs_sound))
            continue;
        if (n->iobase <= taken[i].last && n->iobase + 0x1f >= taken[i].first) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "ne2k_isa io=0x%x: its ports 0x%x-0x%x overlap %s; 0x300 is free",
                        n->iobase, n->iobase, n->iobase + 0x1f, taken[i].who);
            return false;
        }
    }
    if (n->irq == 5 && (cfg->soundhw & HG_SOUND_SB16)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "ne2k_isa irq=5 is the Sound Blaster 16's: use irq=7");
        return false;
    }
    if (n->irq != 5 && n->irq != 7) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "ne2k_isa irq=%d: that line is taken on this board (3, 4 serial ports, 9 "
                    "ACPI, 10, 11 PCI, 12 mouse, 14, 15 IDE); use irq=7 (or 5 without a "
                    "Sound Blaster)",
                    n->irq);
        return false;
    }
    return true;
}

static bool parse_options(HgNetwork *n, const HgConfig *cfg, GError **error)
{
    n->iobase = 0x300;
    n->irq = 7;
    n->cplus = true;
    if (!cfg->nic_options)
        return true;
    char **opts = g_strsplit(cfg->nic_options, ",", -1);
    bool ok = true;
    for (char **o = opts; ok && *o; o++) {
        char *eq = strchr(*o, '=');
        if (!eq) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "network card option \"%s\": write KEY=VALUE", *o);
            ok = false;
            break;
        }
        *eq = 0;
        const char *key = *o, *value = eq + 1;
        unsigned long v;
        if (n->model == HG_NIC_NE2K_ISA && strcmp(key, "io") == 0) {
            ok = parse_number(key, value, 0xffff, &v, error);
            n->iobase = (uint16_t)v;
        } else if (n->model == HG_NIC_NE2K_ISA && strcmp(key, "irq") == 0) {
            ok = parse_number(key, value, 15, &v, error);
            n->irq = (int)v;
        } else if (n->model == HG_NIC_RTL8139 && strcmp(key, "chip") == 0) {
            if (strcmp(value, "cplus") == 0 || strcmp(value, "classic") == 0) {
                n->cplus = strcmp(value, "cplus") == 0;
            } else {
                g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                            "rtl8139 chip=%s: use chip=cplus (an RTL8139C+, Linux's 8139cp) "
                            "or chip=classic (an RTL8139C, Linux's 8139too)",
                            value);
                ok = false;
            }
        } else {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "network card %s has no option \"%s\" (ne2k_isa: io=, irq=; "
                        "rtl8139: chip=cplus|classic; ne2k_pci: none)",
                        hg_config_nic_name(n->model), key);
            ok = false;
        }
    }
    g_strfreev(opts);
    return ok && (n->model != HG_NIC_NE2K_ISA || isa_resources_ok(n, cfg, error));
}

/* ---- joining card and host ---- */

static void card_send(void *opaque, const uint8_t *frame, size_t len)
{
    HgNetwork *n = opaque;
    hg_net_send(n->net, frame, len);
}

static void card_rx_ready(void *opaque)
{
    HgNetwork *n = opaque;
    g_atomic_int_set(&n->blocked, 0);
    hg_network_poll(n);
}

static HgNicRx receive_ne(void *nic, const uint8_t *frame, size_t len)
{
    return hg_ne2000_receive(nic, frame, len);
}

static HgNicRx receive_rtl(void *nic, const uint8_t *frame, size_t len)
{
    return hg_rtl8139_receive(nic, frame, len);
}

static void isa_line(void *opaque, int line, bool level)
{
    HgNetwork *n = opaque;
    n->w.isa_irq(n->w.opaque, line, level);
}

HgNetwork *hg_network_new(const HgConfig *cfg, const HgNetworkWiring *w, GError **error)
{
    if (cfg->nic == HG_NIC_NONE)
        return NULL;
    HgNetwork *n = g_new0(HgNetwork, 1);
    n->model = cfg->nic;
    n->w = *w;
    static const uint8_t no_mac[6];
    memcpy(n->mac, memcmp(cfg->mac, no_mac, 6) ? cfg->mac : hg_network_default_mac, 6);
    if (!parse_options(n, cfg, error))
        goto fail;
    n->net = hg_net_new(cfg->net, n->mac, cfg->net_dump, w->wake, w->wake_opaque, error);
    if (!n->net)
        goto fail;
    HgNicLink link = {.opaque = n, .send = card_send, .rx_ready = card_rx_ready};
    switch (n->model) {
    case HG_NIC_NE2K_ISA:
        n->ne = hg_ne2000_isa_new(w->bus, n->iobase, hg_irq(isa_line, n, n->irq), n->mac, &link);
        break;
    case HG_NIC_NE2K_PCI:
        n->ne = hg_ne2000_pci_new(w->pci, w->pci_devfn, w->bus, n->mac, &link);
        break;
    case HG_NIC_RTL8139:
        n->rtl = hg_rtl8139_new(w->pci, w->pci_devfn, w->bus, w->clock, n->mac, n->cplus, &link);
        break;
    case HG_NIC_NONE:
        break;
    }
    return n;

fail:
    hg_network_free(n);
    return NULL;
}

void hg_network_free(HgNetwork *n)
{
    if (!n)
        return;
    /* The host side first: nothing may call into a card that is gone. */
    hg_net_free(n->net);
    if (n->ne)
        hg_ne2000_free(n->ne);
    if (n->rtl)
        hg_rtl8139_free(n->rtl);
    g_free(n);
}

void hg_network_reset(HgNetwork *n)
{
    if (!n)
        return;
    if (n->ne)
        hg_ne2000_reset(n->ne);
    if (n->rtl)
        hg_rtl8139_reset(n->rtl);
    g_atomic_int_set(&n->blocked, 0);
}

void hg_network_flush(HgNetwork *n)
{
    if (n)
        hg_net_flush(n->net);
}

void hg_network_poll(HgNetwork *n)
{
    if (!n || !hg_net_pending(n->net))
        return;
    if (n->ne)
        hg_net_deliver(n->net, receive_ne, n->ne);
    else
        hg_net_deliver(n->net, receive_rtl, n->rtl);
    /* Frames left mean the card had no room. */
    g_atomic_int_set(&n->blocked, hg_net_pending(n->net));
}

int64_t hg_network_wait_ns(HgNetwork *n)
{
    if (!n || !hg_net_pending(n->net))
        return -1;
    return g_atomic_int_get(&n->blocked) ? RETRY_NS : 0;
}

/* ---- monitor ---- */

void hg_network_info(HgNetwork *n, GString *out)
{
    if (!n) {
        g_string_append(out, "no network card\n");
        return;
    }
    g_string_append_printf(out, "card: %s", hg_config_nic_name(n->model));
    if (n->model == HG_NIC_NE2K_ISA)
        g_string_append_printf(out, " at 0x%x, IRQ %d", n->iobase, n->irq);
    if (n->model == HG_NIC_RTL8139)
        g_string_append(out, n->cplus ? " (RTL8139C+)" : " (RTL8139C)");
    g_string_append_printf(out, ", MAC %02x:%02x:%02x:%02x:%02x:%02x\n", n->mac[0], n->mac[1],
                           n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
    if (n->ne)
        hg_ne2000_describe(n->ne, out);
    if (n->rtl)
        hg_rtl8139_describe(n->rtl, out);
    char *info = hg_net_info(n->net);
    g_string_append(out, info);
    if (out->len && out->str[out->len - 1] != '\n')
        g_string_append_c(out, '\n');
    g_free(info);
}

static bool no_card(GError **error)
{
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "this machine has no network card");
    return false;
}

bool hg_network_hostfwd_add(HgNetwork *n, const char *rule, GError **error)
{
    return n ? hg_net_hostfwd_add(n->net, rule, error) : no_card(error);
}

bool hg_network_hostfwd_remove(HgNetwork *n, const char *rule, GError **error)
{
    return n ? hg_net_hostfwd_remove(n->net, rule, error) : no_card(error);
}

/* ---- machine state ---- */

/* The card's own state; what waits in the host-side queues is not the machine's (frames
 * in flight on a wire are lost when a machine is restored, and TCP sends them again). */
void hg_network_save(const HgNetwork *n, HgStateWriter *w)
{
    if (!n)
        return;
    hg_state_begin(w, "network", NETWORK_STATE_VERSION);
    hg_state_put_u32(w, (uint32_t)n->model);
    hg_state_end(w);
    if (n->ne)
        hg_ne2000_save(n->ne, w);
    if (n->rtl)
        hg_rtl8139_save(n->rtl, w);
}

void hg_network_load(HgNetwork *n, HgStateReader *r)
{
    if (!n)
        return;
    if (hg_state_open(r, "network", 1, NETWORK_STATE_VERSION)) {
        uint32_t model = hg_state_get_u32(r);
        hg_state_close(r);
        if (hg_state_ok(r) && model != (uint32_t)n->model)
            g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT,
                        "the state's network card is %s, this machine's %s",
                        hg_config_nic_name((HgNicModel)model), hg_config_nic_name(n->model));
    }
    if (!hg_state_ok(r))
        return;
    if (n->ne)
        hg_ne2000_load(n->ne, r);
    if (n->rtl)
        hg_rtl8139_load(n->rtl, r);
    g_atomic_int_set(&n->blocked, 0);
}
