/* Intel PIIX3 UHCI USB host controller (see uhci.h). UHCI Design Guide rev 1.1: §2.1
 * registers, §3.1-3.4 frame list, transfer descriptors, queue heads, §3.4.2 the schedule
 * walk (horizontal/breadth-first and vertical/depth-first), §4 interrupts and errors.
 *
 * The schedule runs on the machine's virtual clock: a timer per 1 ms frame walks the frame
 * list entry of the current frame. Devices answer at once, so a TD either completes in the
 * walk that reaches it or is NAKed and retried a frame later.
 *
 * Bounds, since the schedule is guest memory: a walk follows at most MAX_LINKS links and
 * moves at most FRAME_BYTES bytes (the 12 Mbit/s bus carries about 1500 bytes a frame);
 * a queue head seen twice in one frame with no TD completed in between ends the frame
 * (Linux closes its "full-speed bandwidth reclamation" loop on purpose; a hostile loop is
 * caught the same way); MaxLen values the spec calls illegal and unknown PIDs are
 * consistency errors (HCPE, the controller halts); a descriptor or buffer outside RAM or a
 * controller without bus mastering is a host system error (HSE, halts).
 *
 * Idle cost: when a number of consecutive frames completed no TD, the schedule is "quiet"
 * (only NAKing interrupt endpoints, or empty queues). The frame timer then becomes
 * deferrable: it no longer wakes an idle guest every millisecond; frames that pass
 * meanwhile are counted (FRNUM advances) and the schedule is walked once when the machine
 * next wakes. A device with new data (hg_uhci_wakeup), a register write or a completed TD
 * makes the schedule busy again.
 */
#include "uhci.h"

#include <string.h>

#include "bus.h"
#include "clock.h"
#include "pci.h"
#include "state.h"

enum {
    /* USBCMD */
    CMD_RS = 1 << 0,
    CMD_HCRESET = 1 << 1,
    CMD_GRESET = 1 << 2,
    CMD_EGSM = 1 << 3,
    CMD_FGR = 1 << 4,
    CMD_SWDBG = 1 << 5,
    CMD_CF = 1 << 6,
    CMD_MAXP = 1 << 7,
    /* USBSTS */
    STS_USBINT = 1 << 0,
    STS_ERR = 1 << 1,
    STS_RD = 1 << 2,
    STS_HSE = 1 << 3,
    STS_HCPE = 1 << 4,
    STS_HALTED = 1 << 5,
    /* USBINTR */
    INTR_TIMEOUT = 1 << 0,
    INTR_RESUME = 1 << 1,
    INTR_IOC = 1 << 2,
    INTR_SPD = 1 << 3,
    /* PORTSC */
    PORT_CCS = 1 << 0,
    PORT_CSC = 1 << 1,
    PORT_PE = 1 << 2,
    PORT_PEC = 1 << 3,
    PORT_LS = 3 << 4, /* line status D+/D- */
    PORT_RD = 1 << 6,
    PORT_RSVD1 = 1 << 7, /* always reads 1: how drivers count ports */
    PORT_LSDA = 1 << 8,
    PORT_PR = 1 << 9,
    PORT_SUSP = 1 << 12,
    PORT_READ_ONLY = PORT_CCS | PORT_CSC | PORT_PEC | PORT_LS | PORT_RSVD1 | PORT_LSDA,
    PORT_W1C = PORT_CSC | PORT_PEC,
    /* TD control and status */
    TD_ACTLEN = 0x7ff,
    TD_BITSTUFF = 1 << 17,
    TD_CRC = 1 << 18, /* CRC or timeout */
    TD_NAK = 1 << 19,
    TD_BABBLE = 1 << 20,
    TD_DBUF = 1 << 21,
    TD_STALL = 1 << 22,
    TD_ACTIVE = 1 << 23,
    TD_IOC = 1 << 24,
    TD_IOS = 1 << 25,
    TD_LS = 1 << 26,
    TD_CERR = 3 << 27,
    TD_SPD = 1 << 29,
    /* link pointers */
    LINK_T = 1,
    LINK_Q = 2,
    LINK_VF = 4,
};

enum {
    FRAME_NS = 1000000,
    MAX_LINKS = 512,    /* links followed in one frame */
    MAX_QH_SEEN = 128,  /* queue heads remembered for loop detection */
    FRAME_BYTES = 1280, /* payload per frame, as QEMU's default bandwidth */
    MAX_CATCHUP = 8,    /* frames walked in one timer tick when busy */
    QUIET_FRAMES = 64,  /* frames with no completion before the timer defers */
    MAX_PACKET = 1280,  /* MaxLen 0x4FF + 1: larger values are illegal */
};

typedef enum { TD_NEXT_QH, TD_COMPLETE, TD_STOP } TdResult;

typedef struct UhciPort {
    uint16_t ctrl;
    HgUsbDevice *dev;
} UhciPort;

struct HgUhci {
    HgPciDevice *pci;
    HgBus *bus;
    HgClock *clock;
    HgTimer *timer;
    uint16_t cmd, status, intr, frnum;
    uint8_t status2; /* which of IOC (1) and short packet (2) caused USBINT */
    uint32_t flbase;
    uint8_t sof;
    UhciPort ports[HG_UHCI_PORTS];
    int64_t next_frame_ns; /* when the frame being counted ends (timer expiry) */
    uint32_t quiet;        /* consecutive walked frames that completed nothing */
    bool irq;
    HgUhciStats stats;
    uint8_t buf[MAX_PACKET];
};

/* ---- interrupts and errors ---- */

static void update_irq(HgUhci *u)
{
    bool level =
        ((u->status2 & 1) && (u->intr & INTR_IOC)) || ((u->status2 & 2) && (u->intr & INTR_SPD)) ||
        ((u->status & STS_ERR) && (u->intr & INTR_TIMEOUT)) ||
        ((u->status & STS_RD) && (u->intr & INTR_RESUME)) || (u->status & (STS_HSE | STS_HCPE));
    if (level != u->irq) {
        u->irq = level;
        hg_pci_set_irq(u->pci, level);
    }
}

static void set_busy(HgUhci *u)
{
    u->quiet = 0;
    hg_timer_set_deferrable(u->timer, false);
}

static void halt(HgUhci *u, uint16_t why)
{
    u->status |= why | STS_HALTED;
    u->cmd &= (uint16_t)~CMD_RS;
    hg_timer_del(u->timer);
    update_irq(u);
}

/* Guest-memory access for the schedule: within RAM and with bus mastering, else a host
 * system error (the PCI master abort a real controller would get). */
static bool dma_read(HgUhci *u, uint32_t addr, void *buf, uint32_t len)
{
    if (len == 0)
        return true;
    if (hg_pci_bus_master(u->pci) && hg_bus_dma_read(u->bus, addr, buf, len))
        return true;
    halt(u, STS_HSE);
    return false;
}

static bool dma_write(HgUhci *u, uint32_t addr, const void *buf, uint32_t len)
{
    if (len == 0)
        return true;
    if (hg_pci_bus_master(u->pci) && hg_bus_dma_write(u->bus, addr, buf, len))
        return true;
    halt(u, STS_HSE);
    return false;
}

static bool read32(HgUhci *u, uint32_t addr, uint32_t *v)
{
    uint8_t b[4];
    if (!dma_read(u, addr, b, 4))
        return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static bool write32(HgUhci *u, uint32_t addr, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return dma_write(u, addr, b, 4);
}

/* ---- devices ---- */

static HgUsbDevice *find_device(HgUhci *u, uint8_t addr)
{
    for (int i = 0; i < HG_UHCI_PORTS; i++) {
        UhciPort *p = &u->ports[i];
        if (!p->dev || !(p->ctrl & PORT_PE) || (p->ctrl & PORT_SUSP))
            continue;
        HgUsbDevice *d = hg_usb_find(p->dev, addr);
        if (d)
            return d;
    }
    return NULL;
}

/* Resume signalling from the bus while the controller is in global suspend. */
static void resume(HgUhci *u)
{
    if (!(u->cmd & CMD_EGSM))
        return;
    u->cmd |= CMD_FGR;
    u->status |= STS_RD;
    update_irq(u);
}

static void port_wakeup(void *opaque, HgUsbDevice *d)
{
    HgUhci *u = opaque;
    for (int i = 0; i < HG_UHCI_PORTS; i++) {
        UhciPort *p = &u->ports[i];
        if (p->dev != d)
            continue;
        /* A suspended device that may wake the host signals resume on its port. */
        if ((p->ctrl & PORT_SUSP) && d->remote_wakeup && !(p->ctrl & PORT_RD)) {
            p->ctrl |= PORT_RD;
            resume(u);
        }
    }
    set_busy(u);
}

void hg_uhci_wakeup(HgUhci *u)
{
    set_busy(u);
}

static void port_connect(HgUhci *u, UhciPort *p)
{
    p->ctrl |= PORT_CCS | PORT_CSC;
    resume(u);
}

void hg_uhci_attach(HgUhci *u, int port, HgUsbDevice *dev)
{
    g_assert(port >= 0 && port < HG_UHCI_PORTS && !u->ports[port].dev);
    UhciPort *p = &u->ports[port];
    p->dev = dev;
    dev->wakeup = port_wakeup;
    dev->wakeup_opaque = u;
    hg_usb_device_reset(dev);
    port_connect(u, p);
    set_busy(u);
}

HgUsbDevice *hg_uhci_detach(HgUhci *u, int port)
{
    g_assert(port >= 0 && port < HG_UHCI_PORTS);
    UhciPort *p = &u->ports[port];
    HgUsbDevice *d = p->dev;
    if (!d)
        return NULL;
    p->dev = NULL;
    d->wakeup = NULL;
    d->wakeup_opaque = NULL;
    if (p->ctrl & PORT_CCS)
        p->ctrl = (uint16_t)((p->ctrl & ~PORT_CCS) | PORT_CSC);
    if (p->ctrl & PORT_PE)
        p->ctrl = (uint16_t)((p->ctrl & ~PORT_PE) | PORT_PEC);
    p->ctrl &= (uint16_t) ~(PORT_SUSP | PORT_RD);
    resume(u);
    set_busy(u);
    return d;
}

HgUsbDevice *hg_uhci_device(HgUhci *u, int port)
{
    return port >= 0 && port < HG_UHCI_PORTS ? u->ports[port].dev : NULL;
}

void hg_uhci_stats(const HgUhci *u, HgUhciStats *st)
{
    *st = u->stats;
}

/* ---- the schedule ---- */

typedef struct Td {
    uint32_t link, ctrl, token, buffer;
} Td;

/* A transfer that failed: the TD retires with the error bits (QEMU and real controllers
 * after their retries are used up) and USBSTS.ERR is raised. */
static TdResult td_error(HgUhci *u, Td *td, HgUsbStatus st, uint32_t *int_mask)
{
    TdResult r = TD_NEXT_QH;
    switch (st) {
    case HG_USB_STALL: td->ctrl |= TD_STALL; break;
    case HG_USB_BABBLE:
        td->ctrl |= TD_BABBLE | TD_STALL;
        r = TD_STOP; /* babble ends the frame */
        break;
    default:
        td->ctrl |= TD_CRC; /* no handshake: timeout */
        td->ctrl &= ~(uint32_t)TD_CERR;
        break;
    }
    td->ctrl &= ~(uint32_t)TD_ACTIVE;
    u->stats.tds_failed++;
    u->status |= STS_ERR;
    if (td->ctrl & TD_IOC)
        *int_mask |= 1;
    update_irq(u);
    return r;
}

static TdResult handle_td(HgUhci *u, Td *td, uint32_t *int_mask, int *bytes)
{
    if (!(td->ctrl & TD_ACTIVE))
        return TD_NEXT_QH;
    uint8_t pid = (uint8_t)td->token;
    uint32_t maxlen = td->token >> 21;
    if ((maxlen > 0x4ff && maxlen != 0x7ff) ||
        (pid != HG_USB_PID_SETUP && pid != HG_USB_PID_IN && pid != HG_USB_PID_OUT)) {
        /* §3.2.2: illegal MaxLen or PID is a consistency check failure. */
        halt(u, STS_HCPE);
        return TD_STOP;
    }
    int len = (int)((maxlen + 1) & 0x7ff);
    uint8_t addr = (td->token >> 8) & 0x7f, ep = (td->token >> 15) & 0x0f;
    HgUsbDevice *dev = find_device(u, addr);
    if (!dev)
        return td_error(u, td, HG_USB_NODEV, int_mask);
    if (pid != HG_USB_PID_IN && !dma_read(u, td->buffer, u->buf, (uint32_t)len))
        return TD_STOP;
    HgUsbPacket p = {.pid = pid, .ep = ep, .data = u->buf, .len = len};
    HgUsbStatus st = hg_usb_handle_packet(dev, &p);
    if (td->ctrl & TD_IOS)
        td->ctrl &= ~(uint32_t)TD_ACTIVE;
    if (st == HG_USB_NAK) {
        td->ctrl |= TD_NAK;
        return TD_NEXT_QH;
    }
    if (st != HG_USB_ACK)
        return td_error(u, td, st, int_mask);
    int actual = pid == HG_USB_PID_IN ? p.actual : len;
    if (actual > len)
        return td_error(u, td, HG_USB_BABBLE, int_mask);
    *bytes += MAX(actual, 8); /* a packet costs its overhead even when empty */
    td->ctrl = (td->ctrl & ~(uint32_t)TD_ACTLEN) | ((uint32_t)(actual - 1) & TD_ACTLEN);
    /* The NAK bit of earlier tries clears on success (Windows 2000 relies on it, QEMU). */
    td->ctrl &= ~(uint32_t)(TD_ACTIVE | TD_NAK);
    if (td->ctrl & TD_IOC)
        *int_mask |= 1;
    u->stats.tds_completed++;
    if (pid == HG_USB_PID_IN) {
        if (!dma_write(u, td->buffer, u->buf, (uint32_t)actual))
            return TD_STOP;
        if ((td->ctrl & TD_SPD) && actual < len) {
            /* Short packet: the queue stops here (its element is not advanced) and the
             * driver sees USBINT with the SPD cause. */
            *int_mask |= 2;
            return TD_NEXT_QH;
        }
    }
    return TD_COMPLETE;
}

/* Walks the frame list entry of the current frame. Returns whether any TD completed. */
static bool process_frame(HgUhci *u, uint32_t *int_mask)
{
    uint32_t link;
    if (!read32(u, u->flbase + ((uint32_t)(u->frnum & 0x3ff) << 2), &link))
        return false;
    uint32_t seen[MAX_QH_SEEN];
    int nseen = 0, tds_since = 0, bytes = 0;
    bool completed = false;
    uint32_t qh_addr = 0, qh_link = 0; /* the queue head whose element is being run */
    u->stats.frames_walked++;
    int steps;
    for (steps = 0; !(link & LINK_T) && steps < MAX_LINKS && bytes < FRAME_BYTES; steps++) {
        uint32_t addr = link & ~0xfu;
        if (link & LINK_Q) {
            bool again = false;
            for (int i = 0; i < nseen; i++)
                again |= seen[i] == addr;
            if (again || nseen == MAX_QH_SEEN) {
                /* Round the loop again only if the last round did some work. */
                if (tds_since == 0)
                    break;
                tds_since = 0;
                nseen = 0;
            }
            seen[nseen++] = addr;
            uint32_t el;
            if (!read32(u, addr, &qh_link) || !read32(u, addr + 4, &el))
                return completed;
            if (el & LINK_T) {
                qh_addr = 0;
                link = qh_link;
            } else {
                qh_addr = addr;
                link = el;
            }
            continue;
        }
        uint8_t raw[16];
        if (!dma_read(u, addr, raw, 16))
            return completed;
        Td td;
        memcpy(&td, raw, 16); /* little-endian host */
        uint32_t old_ctrl = td.ctrl;
        TdResult r = handle_td(u, &td, int_mask, &bytes);
        if (!(u->cmd & CMD_RS))
            return completed; /* halted by an error */
        if (td.ctrl != old_ctrl && !write32(u, addr + 4, td.ctrl))
            return completed;
        if (r == TD_STOP)
            break;
        if (r == TD_NEXT_QH) {
            link = qh_addr ? qh_link : td.link;
            qh_addr = 0;
            continue;
        }
        completed = true;
        tds_since++;
        link = td.link;
        if (qh_addr) {
            /* The queue advances to the next TD. */
            if (!write32(u, qh_addr + 4, link))
                return completed;
            if ((link & LINK_T) || !(link & LINK_VF)) {
                /* Breadth first: on to the next queue. */
                link = qh_link;
                qh_addr = 0;
            }
        }
    }
    if (!(link & LINK_T) && (steps >= MAX_LINKS || tds_since == 0))
        u->stats.loops_cut++;
    return completed;
}

/* Runs the frames whose time has come. */
static void run_frames(HgUhci *u)
{
    int64_t now = hg_clock_ns(u->clock);
    if (!(u->cmd & CMD_RS) || now < u->next_frame_ns)
        return;
    int64_t frames = 1 + (now - u->next_frame_ns) / FRAME_NS;
    bool deferred = u->quiet >= QUIET_FRAMES;
    int64_t walk = deferred ? 1 : MIN(frames, MAX_CATCHUP);
    /* Frames beyond what is walked pass unseen (the emulator fell behind, or the quiet
     * schedule has nothing to do in them). */
    u->stats.frames_skipped += (uint64_t)(frames - walk);
    u->frnum = (uint16_t)((u->frnum + (frames - walk)) & 0x7ff);
    u->next_frame_ns += frames * FRAME_NS;
    uint32_t int_mask = 0;
    for (int64_t i = 0; i < walk; i++) {
        bool done = process_frame(u, &int_mask);
        if (!(u->cmd & CMD_RS))
            break;
        /* FRNUM names the frame being run; it moves on as the frame ends. */
        u->frnum = (u->frnum + 1) & 0x7ff;
        if (done)
            u->quiet = 0;
        else if (u->quiet < QUIET_FRAMES)
            u->quiet++;
    }
    if (int_mask) {
        u->status2 |= (uint8_t)int_mask;
        u->status |= STS_USBINT;
        update_irq(u);
    }
    hg_timer_set_deferrable(u->timer, u->quiet >= QUIET_FRAMES);
    if (u->cmd & CMD_RS)
        hg_timer_mod(u->timer, u->next_frame_ns);
}

static void frame_timer(void *opaque)
{
    run_frames(opaque);
}

/* ---- registers ---- */

static void controller_reset(HgUhci *u)
{
    u->cmd = 0;
    u->status = STS_HALTED;
    u->status2 = 0;
    u->intr = 0;
    u->frnum = 0;
    u->flbase = 0;
    u->sof = 64;
    u->quiet = 0;
    hg_timer_del(u->timer);
    hg_timer_set_deferrable(u->timer, false);
    for (int i = 0; i < HG_UHCI_PORTS; i++) {
        UhciPort *p = &u->ports[i];
        p->ctrl = PORT_RSVD1;
        if (p->dev)
            port_connect(u, p);
    }
    update_irq(u);
}

static void write_cmd(HgUhci *u, uint16_t val)
{
    if ((val & CMD_RS) && !(u->cmd & CMD_RS)) {
        /* Start: the first frame ends a millisecond from now. */
        u->next_frame_ns = hg_clock_ns(u->clock) + FRAME_NS;
        u->status &= (uint16_t)~STS_HALTED;
        set_busy(u);
        hg_timer_mod(u->timer, u->next_frame_ns);
    } else if (!(val & CMD_RS)) {
        u->status |= STS_HALTED;
        hg_timer_del(u->timer);
    }
    if (val & CMD_GRESET) {
        /* Global reset drives reset on every port: devices start over. */
        for (int i = 0; i < HG_UHCI_PORTS; i++)
            if (u->ports[i].dev)
                hg_usb_device_reset(u->ports[i].dev);
        controller_reset(u);
        return;
    }
    if (val & CMD_HCRESET) {
        controller_reset(u);
        return;
    }
    u->cmd = val;
    /* Leaving global suspend with a port already signalling resume. */
    if ((val & CMD_EGSM) && ((u->ports[0].ctrl & PORT_RD) || (u->ports[1].ctrl & PORT_RD)))
        resume(u);
}

static void write_port(HgUhci *u, int n, uint16_t val)
{
    UhciPort *p = &u->ports[n];
    HgUsbDevice *d = p->dev;
    /* Reset rising edge: the device sees a bus reset. */
    if (d && (val & PORT_PR) && !(p->ctrl & PORT_PR))
        hg_usb_device_reset(d);
    p->ctrl &= PORT_READ_ONLY;
    /* A port without a device cannot be enabled. */
    if (!(p->ctrl & PORT_CCS))
        val &= (uint16_t)~PORT_PE;
    p->ctrl |= val & (uint16_t)~PORT_READ_ONLY;
    p->ctrl &= (uint16_t) ~(val & PORT_W1C);
    if (d)
        d->suspended = (p->ctrl & PORT_SUSP) != 0;
    set_busy(u);
}

static uint16_t read16(HgUhci *u, uint32_t off)
{
    switch (off) {
    case 0x00: return u->cmd;
    case 0x02: return u->status;
    case 0x04: return u->intr;
    case 0x06:
        run_frames(u); /* frames that passed since the last tick */
        return u->frnum & 0x7ff;
    case 0x08: return (uint16_t)u->flbase;
    case 0x0a: return (uint16_t)(u->flbase >> 16);
    case 0x0c: return u->sof;
    case 0x10:
    case 0x12: {
        UhciPort *p = &u->ports[(off - 0x10) / 2];
        /* Line status: J state (D+ high for a full-speed device) when connected. */
        uint16_t ls = (p->ctrl & PORT_CCS) && !(p->ctrl & PORT_PR) ? 1 << 4 : 0;
        return (uint16_t)(p->ctrl | ls);
    }
    default:
        /* Beyond the two ports: reads without bit 7, so drivers count two. */
        return 0xff7f;
    }
}

static void write16(HgUhci *u, uint32_t off, uint16_t val)
{
    switch (off) {
    case 0x00: write_cmd(u, val); break;
    case 0x02:
        u->status &= (uint16_t) ~(val & 0x1f);
        if (val & STS_USBINT)
            u->status2 = 0;
        update_irq(u);
        break;
    case 0x04:
        u->intr = val & 0x0f;
        update_irq(u);
        break;
    case 0x06:
        if (u->status & STS_HALTED)
            u->frnum = val & 0x7ff;
        break;
    case 0x08: u->flbase = (u->flbase & 0xffff0000u) | (val & 0xf000u); break;
    case 0x0a: u->flbase = (u->flbase & 0xffffu) | (uint32_t)val << 16; break;
    case 0x0c: u->sof = val & 0x7f; break;
    case 0x10:
    case 0x12: write_port(u, (int)(off - 0x10) / 2, val); break;
    default: break;
    }
}

static uint32_t bar_read(void *opaque, uint32_t off, int size)
{
    HgUhci *u = opaque;
    off &= 0x1f;
    if (size == 4)
        return read16(u, off & ~1u) | (uint32_t)read16(u, (off & ~1u) + 2) << 16;
    uint16_t v = read16(u, off & ~1u);
    if (size == 1)
        return (off & 1 ? v >> 8 : v) & 0xff;
    return v;
}

static void bar_write(void *opaque, uint32_t off, uint32_t value, int size)
{
    HgUhci *u = opaque;
    off &= 0x1f;
    if (size == 4) {
        write16(u, off & ~1u, (uint16_t)value);
        write16(u, (off & ~1u) + 2, (uint16_t)(value >> 16));
    } else if (size == 1 && off == 0x0c) {
        write16(u, off, value & 0xff);
    } else if (size == 1) {
        /* Byte writes reach the 16-bit register in their lane, the other byte zero. */
        write16(u, off & ~1u, (uint16_t)((value & 0xff) << (off & 1 ? 8 : 0)));
    } else {
        write16(u, off & ~1u, (uint16_t)value);
    }
}

/* ---- lifetime ---- */

HgUhci *hg_uhci_new(HgPciBus *pci, HgBus *bus, HgClock *clock, int devfn)
{
    HgUhci *u = g_new0(HgUhci, 1);
    u->bus = bus;
    u->clock = clock;
    u->timer = hg_timer_new(clock, frame_timer, u);
    u->pci = hg_pci_register(pci, devfn, 0x8086, 0x7020, 0x01, 0x0c0300, u);
    uint8_t *cfg = hg_pci_config(u->pci);
    cfg[HG_PCI_INTERRUPT_PIN] = 4; /* INTD#, as the PIIX3 wires its USB function */
    cfg[0x60] = 0x10;              /* SBRN: USB 1.0 */
    /* USBLEGSUP (0xC0): legacy keyboard/mouse emulation off, USB PIRQ enabled. BIOS and
     * drivers write it (0x8F00 clears the status bits), so it keeps what is written. */
    cfg[0xc0] = 0x00;
    cfg[0xc1] = 0x20;
    uint8_t *wm = hg_pci_wmask(u->pci);
    wm[0xc0] = 0xbf;
    wm[0xc1] = 0x2f;
    uint8_t *w1c = hg_pci_w1cmask(u->pci);
    w1c[0xc1] = 0x8f;
    hg_pci_set_bar(u->pci, 4, 32, HG_PCI_BAR_IO, bar_read, bar_write);
    controller_reset(u);
    return u;
}

void hg_uhci_free(HgUhci *u)
{
    if (!u)
        return;
    for (int i = 0; i < HG_UHCI_PORTS; i++)
        hg_usb_device_free(u->ports[i].dev);
    hg_timer_free(u->timer);
    g_free(u);
}

void hg_uhci_reset(HgUhci *u)
{
    for (int i = 0; i < HG_UHCI_PORTS; i++)
        if (u->ports[i].dev)
            hg_usb_device_reset(u->ports[i].dev);
    controller_reset(u);
    u->irq = false;
    hg_pci_set_irq(u->pci, false);
}

/* ---- state ---- */

void hg_usb_slot_save(HgUsbDevice *d, HgStateWriter *w)
{
    hg_state_begin(w, "usb-slot", 1);
    const char *kind = d ? d->ops->kind : "";
    hg_state_put_u8(w, (uint8_t)strlen(kind));
    hg_state_put_bytes(w, kind, strlen(kind));
    hg_state_end(w);
    if (d)
        hg_usb_device_save(d, w);
}

void hg_usb_slot_load(HgUsbDevice *d, HgStateReader *r)
{
    if (!hg_state_open(r, "usb-slot", 1, 1))
        return;
    char kind[256];
    uint8_t n = hg_state_get_u8(r);
    hg_state_get_bytes(r, kind, n);
    kind[n] = 0;
    hg_state_close(r);
    if (!hg_state_ok(r))
        return;
    const char *have = d ? d->ops->kind : "";
    if (strcmp(kind, have) != 0) {
        char *msg = g_strdup_printf("the saved machine has %s%s where this one has %s%s "
                                    "(attach the same USB devices before loading)",
                                    *kind ? "a USB " : "no USB device", kind,
                                    *have ? "a USB " : "no USB device", have);
        hg_usb_state_fail(r, msg);
        g_free(msg);
        return;
    }
    if (d)
        hg_usb_device_load(d, r);
}

void hg_uhci_save(HgUhci *u, HgStateWriter *w)
{
    hg_state_begin(w, "uhci", 1);
    hg_state_put_u16(w, u->cmd);
    hg_state_put_u16(w, u->status);
    hg_state_put_u8(w, u->status2);
    hg_state_put_u16(w, u->intr);
    hg_state_put_u16(w, u->frnum);
    hg_state_put_u32(w, u->flbase);
    hg_state_put_u8(w, u->sof);
    for (int i = 0; i < HG_UHCI_PORTS; i++)
        hg_state_put_u16(w, u->ports[i].ctrl);
    hg_state_put_u64(w, (uint64_t)u->next_frame_ns);
    hg_state_put_u32(w, u->quiet);
    hg_state_end(w);
    for (int i = 0; i < HG_UHCI_PORTS; i++)
        hg_usb_slot_save(u->ports[i].dev, w);
}

void hg_uhci_load(HgUhci *u, HgStateReader *r)
{
    if (!hg_state_open(r, "uhci", 1, 1))
        return;
    u->cmd = hg_state_get_u16(r) & 0xff;
    u->status = hg_state_get_u16(r) & 0x3f;
    u->status2 = hg_state_get_u8(r) & 3;
    u->intr = hg_state_get_u16(r) & 0x0f;
    u->frnum = hg_state_get_u16(r) & 0x7ff;
    u->flbase = hg_state_get_u32(r) & 0xfffff000u;
    u->sof = hg_state_get_u8(r) & 0x7f;
    for (int i = 0; i < HG_UHCI_PORTS; i++) {
        uint16_t ctrl = hg_state_get_u16(r);
        /* Connection comes from the device actually attached, not from the file. */
        ctrl = (uint16_t)((ctrl & 0x137e) | PORT_RSVD1);
        u->ports[i].ctrl = u->ports[i].dev ? (uint16_t)(ctrl | PORT_CCS)
                                           : (uint16_t)(ctrl & ~(PORT_PE | PORT_SUSP));
    }
    u->next_frame_ns = (int64_t)hg_state_get_u64(r);
    uint32_t quiet = hg_state_get_u32(r);
    u->quiet = MIN(quiet, (uint32_t)QUIET_FRAMES);
    hg_state_close(r);
    for (int i = 0; i < HG_UHCI_PORTS; i++)
        hg_usb_slot_load(u->ports[i].dev, r);
    if (!hg_state_ok(r))
        return;
    for (int i = 0; i < HG_UHCI_PORTS; i++)
        if (u->ports[i].dev)
            u->ports[i].dev->suspended = (u->ports[i].ctrl & PORT_SUSP) != 0;
    /* The frame timer follows the restored run state. A quiet schedule's deferrable timer
     * lets the frame end lag behind the clock by any amount (frames are counted when
     * looked at), so only a frame end that cannot be (negative, or beyond the frame that
     * runs now: a file from elsewhere) restarts counting from the present. */
    int64_t now = hg_clock_ns(u->clock);
    if (u->next_frame_ns < 0 || u->next_frame_ns > now + FRAME_NS)
        u->next_frame_ns = now + FRAME_NS;
    hg_timer_set_deferrable(u->timer, u->quiet >= QUIET_FRAMES);
    if (u->cmd & CMD_RS) {
        u->status &= (uint16_t)~STS_HALTED;
        hg_timer_mod(u->timer, u->next_frame_ns);
    } else {
        u->status |= STS_HALTED;
        hg_timer_del(u->timer);
    }
    u->irq = false;
    hg_pci_set_irq(u->pci, false);
    update_irq(u);
}
