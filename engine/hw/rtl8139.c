/* Realtek RTL8139C and RTL8139C+ Fast Ethernet controllers: the PCI function, registers,
 * the 93C46 EEPROM, the classic transmit slots and receive ring, the TCTR timer and saved
 * states. Follows the Realtek "RTL8139C(L)+" datasheet (its EEPROM contents table, the
 * register descriptions, transmit and receive operation) and the RTL8139 programming guide;
 * Linux 6.1's 8139too.c and 8139cp.c for what drivers rely on. The C+ descriptor rings,
 * checksum offload and large send are in rtl8139-cplus.c.
 *
 * Identity. Both Linux drivers match 10EC:8139 and choose by PCI revision:
 * 8139too's rtl8139_init_one refuses revision >= 0x20 ("is an enhanced 8139C+ chip, use
 * 8139cp") and 8139cp's cp_init_one refuses revision < 0x20 ("is not an 8139C+ compatible
 * chip, use 8139too"). So the RTL8139C reports revision 0x10 and the C+ 0x20 (also in
 * RERID, 0x5E). The hardware version in TCR bits 30:26 and 23:22 is 11101 00
 * (0x74000000) for the RTL8139C, "RTL-8139C" in 8139too's rtl_chip_info (HasLWake, not
 * HasHltClk: 8139too never halts its clock), and 11101 10 (0x74800000) for the
 * RTL8139C+. 8139cp (6.1) reads no version bits (its ChipVersion 0x43 is never used).
 *
 * EEPROM: a 93C46, 64 words of 16 bits, 6 address bits (RCR bit 6, 9356SEL, reads 0).
 * Word 0 0x8129 (the Realtek ID; both drivers read word 0 with 8 address bits first: a
 * 93C56 answers 0x8129, a 93C46 a shifted word, and they go on with 6 bits), 1 vendor
 * 0x10EC, 2 device 0x8139, 3-4 subsystem 1AF4:1100 (as configuration space), 5 Min_Gnt
 * 0x20 and Max_Lat 0x40, 7-9 the MAC (low byte first), the rest zero. Drivers bit-bang it
 * in 9346CR programming mode (EEM 10): EECS, EESK, EEDI in, EEDO out; a read goes on into
 * the next word while the clock runs, writes need EWEN, leaving programming mode drops chip
 * select. Auto-load mode (EEM 01) reloads the MAC and resets the registers as RSTB does.
 * IDR, CONFIG1/3/4 and BMCR take writes only in config-write mode (EEM 11), as the drivers
 * unlock them.
 *
 * Link: always up at 100 Mbit/s full duplex with autonegotiation complete (BMSR 0x782D,
 * ANAR 0x05E1, ANLPAR 0x45E1, ANER 1; MSR link and 10 Mbit/s bits clear; CSCR connected
 * and link-OK bits, which 8139too looks at on PUN). The link never changes, so
 * PUN/LinkChg stays clear.
 *
 * Receive, classic ring: a frame that passes the filter (AAP any, APM our address, AB
 * broadcast, AM multicast whose bit in MAR is set; the bit is the top six bits of the
 * Ethernet CRC as Linux's ether_crc computes them) is padded to the 60-byte minimum as the
 * sender's MAC would have, followed by its CRC and preceded by a 4-byte header (status
 * ROK/BAR/PAM/MAR, length with CRC) at CBR; the next one starts at the 4-byte aligned
 * offset after it. The ring is 8 KiB << RBLEN; with RCR.WRAP (below 64 KiB) a frame runs on
 * past the end into the guest's spare 1.5 KiB instead of wrapping to the start. CAPR is
 * the driver's read offset minus 16 (0xFFF0 after reset). A frame that does not fit
 * between CBR and CAPR + 16 is refused with HG_NIC_RX_NO_ROOM: the board keeps it, nothing
 * is lost, so MPC does not move, but RXOVW is raised as the chip raises it (drivers count
 * on an Rx interrupt while the ring is full); link->rx_ready runs when CAPR moves. Enabling
 * the receiver (CR.RE 0 -> 1) restarts the ring at offset 0, which 8139too's rx_err
 * recovery expects. Frames are never runts or CRC errors here, so AR and AER are kept with
 * nothing to act on; frames over 4 KiB with CRC are dropped as LONG.
 *
 * Transmit, classic: writing TSD n with OWN clear queues slot n; the chip serves slots in
 * round-robin order from slot 0, copies the frame and sets OWN, then TOK (ISR TOK). A size
 * over 1792 bytes (the transmit FIFO, the chip's maximum) or a buffer outside RAM ends with
 * TUN instead of TOK and ISR TER, as an underrun would (8139too counts it and goes on); the
 * DMA failure also sets ISR SERR and the PCI master-abort status bit. Frames under 14 bytes
 * complete without reaching the link. TCR LBK 11 loops frames back to the receiver; TCR
 * CRC (the frame carries its own FCS) drops those 4 bytes, as the link takes none.
 *
 * Bounds: every DMA goes through hg_bus_dma_read/write, which refuse ranges outside RAM:
 * a PCI master abort and never more. Without bus mastering nothing moves (frames wait with
 * NO_ROOM, slots stay queued). Accesses of any size at any offset reach whole registers
 * by merging bytes.
 *
 * Kept but not acted on: early receive/transmit thresholds and MULINT, IntrMitigate
 * (interrupts are immediate), HltClk, RxMaxSize, power management and wake-up patterns,
 * the flash interface, PHY parameter registers. CardBus registers read 0.
 */
#include "rtl8139.h"

#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "rtl8139-internal.h"
#include "state.h"

enum {
    REV_C = 0x10,
    REV_CPLUS = 0x20,

    TCR_WMASK = 0x030707f0, /* IFG, LBK, CRC, MXDMA, TXRR */
    TCR_LBK = 0x00060000,
    TCR_CRC = 0x00010000,
    RCR_WMASK = 0x0f03ffbf, /* all but the reserved bits and 9356SEL */

    TX_FIFO = 1792,
    TCTR_NS = 30, /* TCTR counts the 33.3 MHz PCI clock */

    CFG_EEM = 0xc0,
    EEM_AUTOLOAD = 0x40,
    EEM_PROGRAM = 0x80,
    EEM_CONFIG = 0xc0,
    EE_CS = 0x08,
    EE_SK = 0x04,
    EE_DI = 0x02,
    EE_DO = 0x01,

    BMCR_RESET = 0x8000,
    BMCR_SPEED100 = 0x2000,
    BMCR_ANE = 0x1000,
    BMCR_FULL = 0x0100,
    BMCR_WMASK = BMCR_SPEED100 | BMCR_ANE | BMCR_FULL,
    BMCR_DEFAULT = 0x3100,
    BMSR_VALUE = 0x782d, /* 100/10 full/half, AN complete, AN able, link, extended */
    ANAR_DEFAULT = 0x05e1,
    ANAR_WMASK = 0x05e0,
    ANLPAR_VALUE = 0x45e1, /* the same abilities, acknowledged */
    ANER_VALUE = 0x0001,
    CSCR_DEFAULT = 0x0340, /* LD, heart beat, F_LINK_100 */
    CSCR_WMASK = 0x83e5,
    CSCR_STATUS = 0x0408, /* connected; link OK as 8139too names bit 10 */
    MSR_TXFCE = 0x80,
    MSR_SPEED10 = 0x10,
    CONFIG1_DEFAULT = 0x0c, /* I/O and memory mapping */

    STATE_VERSION = 1,
};

/* Registers wider than a byte, for accesses that cover part of one or several. */
typedef struct Span {
    uint8_t start, width;
} Span;

static const Span wide_regs[] = {
    {R_TSD, 4},       {R_TSD + 4, 4},  {R_TSD + 8, 4},   {R_TSD + 12, 4},  {R_TSAD, 4},
    {R_TSAD + 4, 4},  {R_TSAD + 8, 4}, {R_TSAD + 12, 4}, {R_RBSTART, 4},   {R_ERBCR, 2},
    {R_CAPR, 2},      {R_CBR, 2},      {R_IMR, 2},       {R_ISR, 2},       {R_TCR, 4},
    {R_RCR, 4},       {R_TCTR, 4},     {R_MPC, 4},       {R_TIMERINT, 4},  {R_MULINT, 2},
    {R_TSAD_ALL, 2},  {R_BMCR, 2},     {R_BMSR, 2},      {R_ANAR, 2},      {R_ANLPAR, 2},
    {R_ANER, 2},      {R_DIS, 2},      {R_FCSC, 2},      {R_NWAYTR, 2},    {R_REC, 2},
    {R_CSCR, 2},      {R_PARA78, 4},   {R_PARA7C, 4},    {R_TDOKLADDR, 2}, {R_FLASH, 4},
    {R_RXMAXSIZE, 2}, {R_CPCR, 2},     {R_INTRMIT, 2},   {R_RDSAR, 4},     {R_RDSAR + 4, 4},
};

/* ---- interrupts, errors, modes ---- */

void rtl_update_irq(HgRtl8139 *s)
{
    s->irq_level = (s->isr & s->imr) != 0;
    hg_pci_set_irq(s->pci, s->irq_level);
}

/* A DMA the bus refused (outside RAM): the chip's cycle ends in a master abort, which it
 * records in PCI status and reports as a system error. */
void rtl_master_abort(HgRtl8139 *s)
{
    hg_pci_config(s->pci)[HG_PCI_STATUS + 1] |= 0x20; /* received master abort */
    s->isr |= ISR_SERR;
}

/* C+ mode: either C+ enable bit in CPCR. TSD0-1 then are DTCCR and TSAD0-3 the ring
 * addresses: the same registers. */
bool rtl_cplus_mode(const HgRtl8139 *s)
{
    return s->cplus && (s->cpcr & (CPCR_TXON | CPCR_RXON));
}

static bool config_unlocked(const HgRtl8139 *s)
{
    return (s->cfg9346 & CFG_EEM) == EEM_CONFIG;
}

static void rx_room_changed(HgRtl8139 *s)
{
    if ((s->cr & CR_RE) && s->link.rx_ready)
        s->link.rx_ready(s->link.opaque);
}

/* ---- the 93C46 ---- */

static void ee_init(Eeprom93c46 *e, const uint8_t mac[6], const uint8_t *cfg)
{
    memset(e, 0, sizeof(*e));
    e->mem[0] = 0x8129;
    e->mem[1] = 0x10ec;
    e->mem[2] = 0x8139;
    e->mem[3] = (uint16_t)(cfg[HG_PCI_SUBSYSTEM_VENDOR] | cfg[HG_PCI_SUBSYSTEM_VENDOR + 1] << 8);
    e->mem[4] = (uint16_t)(cfg[HG_PCI_SUBSYSTEM_ID] | cfg[HG_PCI_SUBSYSTEM_ID + 1] << 8);
    e->mem[5] = 0x4020;
    for (int i = 0; i < 3; i++)
        e->mem[7 + i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
}

/* The eight bits after the start bit: two of opcode, six of address. */
static void ee_command(Eeprom93c46 *e, uint8_t cmd)
{
    uint8_t a = cmd & 0x3f;
    e->bits = 0;
    e->shift = 0;
    e->state = EE_DONE;
    switch (cmd >> 6) {
    case 2: /* READ: a dummy 0 bit, then the word */
        e->addr = a;
        e->shift = e->mem[a];
        e->dout = false;
        e->state = EE_READ;
        break;
    case 1: /* WRITE: 16 data bits follow */
        e->addr = a;
        e->state = EE_WRITE;
        break;
    case 3: /* ERASE */
        if (e->write_enabled)
            e->mem[a] = 0xffff;
        break;
    default:
        switch (a >> 4) {
        case 0: e->write_enabled = false; break; /* EWDS */
        case 1: e->state = EE_WRAL; break;
        case 2: /* ERAL */
            if (e->write_enabled)
                memset(e->mem, 0xff, sizeof(e->mem));
            break;
        default: e->write_enabled = true; break; /* EWEN */
        }
        break;
    }
}

static void ee_clock(Eeprom93c46 *e, bool di)
{
    switch (e->state) {
    case EE_IDLE: /* zeros before the start bit do not count */
        if (di) {
            e->state = EE_CMD;
            e->bits = 0;
            e->shift = 0;
        }
        break;
    case EE_CMD:
        e->shift = (uint16_t)(e->shift << 1 | di);
        if (++e->bits == 8)
            ee_command(e, (uint8_t)e->shift);
        break;
    case EE_READ:
        e->dout = (e->shift & 0x8000) != 0;
        e->shift = (uint16_t)(e->shift << 1);
        if (++e->bits == 16) {
            e->addr = (e->addr + 1) & 0x3f;
            e->shift = e->mem[e->addr];
            e->bits = 0;
        }
        break;
    case EE_WRITE:
    case EE_WRAL:
        e->shift = (uint16_t)(e->shift << 1 | di);
        if (++e->bits == 16) {
            if (e->write_enabled) {
                if (e->state == EE_WRITE)
                    e->mem[e->addr] = e->shift;
                else
                    for (int i = 0; i < 64; i++)
                        e->mem[i] = e->shift;
            }
            e->state = EE_DONE;
            e->bits = 0;
        }
        break;
    default: break;
    }
}

static void ee_pins(Eeprom93c46 *e, bool cs, bool sk, bool di)
{
    if (!cs) {
        e->cs = false;
        e->sk = sk;
        e->state = EE_IDLE;
        return;
    }
    if (!e->cs) {
        e->state = EE_IDLE; /* chip select starts a new command */
        e->bits = 0;
    }
    bool rise = sk && !e->sk;
    e->cs = true;
    e->sk = sk;
    if (rise)
        ee_clock(e, di);
}

/* DO: the data bit while reading; between commands the ready status (programming takes no
 * time here), which 8139cp's write_eeprom polls for. */
static bool ee_dout(const Eeprom93c46 *e)
{
    if (!e->cs)
        return false;
    if (e->state == EE_READ)
        return e->dout;
    return e->state == EE_IDLE || e->state == EE_DONE;
}

/* ---- the receiver ---- */

static uint32_t ring_size(uint32_t rcr)
{
    return 8192u << ((rcr >> 11) & 3);
}

static bool rx_empty(const HgRtl8139 *s)
{
    uint32_t size = ring_size(s->rcr);
    return (((uint32_t)s->capr + 16) & (size - 1)) == s->cbr;
}

/* The MAR bit of a multicast address: Linux's ether_crc(6, addr) >> 26, the top six bits
 * of the bit-reversed CRC register, i.e. the low six bits of the un-inverted CRC-32
 * register, reversed. */
static bool mcast_hit(const HgRtl8139 *s, const uint8_t *dest)
{
    uint32_t reg = ~(uint32_t)crc32(0, dest, 6);
    unsigned bit = 0;
    for (int i = 0; i < 6; i++)
        bit |= ((reg >> i) & 1u) << (5 - i);
    return (s->regs[R_MAR + bit / 8] >> (bit % 8)) & 1;
}

/* The address filter (RCR bits 3:0); *type gets the header status bits. */
static bool accept(const HgRtl8139 *s, const uint8_t *f, uint32_t *type)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    bool all = s->rcr & RCR_AAP;
    if (!memcmp(f, bcast, 6)) {
        *type = RXS_BAR;
        return all || (s->rcr & RCR_AB);
    }
    if (f[0] & 1) {
        *type = RXS_MAR;
        return all || ((s->rcr & RCR_AM) && mcast_hit(s, f));
    }
    if (!memcmp(f, s->regs + R_IDR, 6)) {
        *type = RXS_PAM;
        return all || (s->rcr & RCR_APM);
    }
    *type = 0;
    return all;
}

static void count_rx(HgRtl8139 *s, uint32_t type)
{
    s->tally.rx_ok++;
    if (type & RXS_PAM)
        s->tally.rx_ok_phy++;
    if (type & RXS_BAR)
        s->tally.rx_ok_brd++;
    if (type & RXS_MAR)
        s->tally.rx_ok_mul++;
}

static void count_missed(HgRtl8139 *s)
{
    s->mpc = (s->mpc + 1) & 0xffffff;
    s->tally.miss_pkt++;
    s->tally.rx_err++;
}

/* The frame (len bytes, padded) is at rxbuf + 4. */
static HgNicRx classic_receive(HgRtl8139 *s, size_t len, uint32_t type)
{
    uint32_t size = ring_size(s->rcr);
    uint32_t wp = s->cbr & (size - 1);
    uint32_t rp = ((uint32_t)s->capr + 16) & (size - 1);
    uint32_t pkt = (uint32_t)len + 4;
    uint32_t need = (4 + pkt + 3) & ~3u;
    uint32_t used = (wp - rp) & (size - 1);
    /* Never fill it completely: CBR == CAPR + 16 means empty. A frame that does not fit
     * raises RXOVW as on the chip: 8139too's poll reads the ring only while an Rx status
     * bit is set, so a driver that acknowledged ROK with frames still in a full ring
     * would otherwise never look again. The frame itself waits with the board. */
    if (used + need >= size) {
        s->isr |= ISR_RXOVW;
        rtl_update_irq(s);
        return HG_NIC_RX_NO_ROOM;
    }
    uint8_t *b = s->rxbuf;
    rtl_put_le32(b, type | RXS_ROK | pkt << 16);
    rtl_put_le32(b + 4 + len, (uint32_t)crc32(0, b + 4, (uInt)len));
    uint32_t n = 4 + pkt;
    bool linear = (s->rcr & RCR_WRAP) && size < 65536;
    bool ok;
    if (linear || wp + n <= size) {
        ok = hg_bus_dma_write(s->bus, (uint64_t)s->rbstart + wp, b, n);
    } else {
        uint32_t first = size - wp;
        ok = hg_bus_dma_write(s->bus, (uint64_t)s->rbstart + wp, b, first) &&
             hg_bus_dma_write(s->bus, s->rbstart, b + first, n - first);
    }
    if (!ok) {
        rtl_master_abort(s);
        count_missed(s);
    } else {
        s->cbr = (uint16_t)((wp + need) & (size - 1));
        s->isr |= ISR_ROK;
        count_rx(s, type);
    }
    rtl_update_irq(s);
    return HG_NIC_RX_TAKEN;
}

HgNicRx hg_rtl8139_receive(HgRtl8139 *s, const uint8_t *frame, size_t len)
{
    if (len < HG_NIC_MIN_FRAME || len + 4 > RX_MAX)
        return HG_NIC_RX_TAKEN; /* not a frame this receiver takes (LONG) */
    if (!(s->cr & CR_RE) || !hg_pci_bus_master(s->pci))
        return HG_NIC_RX_NO_ROOM;
    uint32_t type;
    if (!accept(s, frame, &type))
        return HG_NIC_RX_TAKEN;
    size_t plen = len < 60 ? 60 : len;
    memcpy(s->rxbuf + 4, frame, len);
    memset(s->rxbuf + 4 + len, 0, plen - len);
    if (s->cplus && (s->cpcr & CPCR_RXON))
        return rtl_cplus_receive(s, s->rxbuf + 4, plen, type);
    return classic_receive(s, plen, type);
}

void hg_rtl8139_describe(const HgRtl8139 *s, GString *out)
{
    g_string_append_printf(out,
                           "  card: CR %02x ISR %04x IMR %04x RCR %08x ring %u KiB at %08x, "
                           "CBR %04x CAPR %04x%s\n",
                           s->cr | (rx_empty(s) ? CR_BUFE : 0), s->isr, s->imr, s->rcr,
                           ring_size(s->rcr) / 1024, s->rbstart, s->cbr, s->capr,
                           s->irq_level ? ", interrupt raised" : "");
    if (s->cplus)
        g_string_append_printf(out, "  C+: CPCR %04x RDSAR %08x, next rx %u, tx %u/%u\n",
                               s->cpcr, s->rdsar[0], s->rx_idx, s->tx_idx[0], s->tx_idx[1]);
}

/* ---- the transmitter ---- */

void rtl_transfer_frame(HgRtl8139 *s, const uint8_t *frame, size_t len, uint32_t vlan_opts2)
{
    if (len < HG_NIC_MIN_FRAME)
        return;
    if (vlan_opts2 & (1u << 17)) {
        if (len + 4 > HG_NIC_MAX_FRAME)
            return;
        /* The tag's bytes are in bits 15:0 in network order (8139cp swabs the TCI). */
        uint8_t *t = s->vlanbuf;
        memcpy(t, frame, 12);
        t[12] = 0x81;
        t[13] = 0x00;
        t[14] = (uint8_t)vlan_opts2;
        t[15] = (uint8_t)(vlan_opts2 >> 8);
        memcpy(t + 16, frame + 12, len - 12);
        frame = t;
        len += 4;
    }
    if (len > HG_NIC_MAX_FRAME)
        return;
    if ((s->tcr & TCR_LBK) == TCR_LBK) {
        hg_rtl8139_receive(s, frame, len);
        return;
    }
    if (s->link.send)
        s->link.send(s->link.opaque, frame, len);
}

static void tx_slot(HgRtl8139 *s, int n)
{
    uint32_t size = s->tsd[n] & TSD_SIZE;
    if (size > TX_FIFO || !hg_bus_dma_read(s->bus, s->tsad[n], s->txbuf, size)) {
        if (size <= TX_FIFO)
            rtl_master_abort(s);
        s->tsd[n] |= TSD_OWN | TSD_TUN;
        s->isr |= ISR_TER;
        s->tally.tx_err++;
        s->tally.tx_undrn++;
        return;
    }
    s->tsd[n] |= TSD_OWN;
    size_t len = size;
    if ((s->tcr & TCR_CRC) && len >= HG_NIC_MIN_FRAME + 4)
        len -= 4;
    rtl_transfer_frame(s, s->txbuf, len, 0);
    s->tsd[n] |= TSD_TOK;
    s->isr |= ISR_TOK;
    s->tally.tx_ok++;
}

/* Serves queued slots in round-robin order (the chip waits at a slot that is not queued). */
static void tx_kick(HgRtl8139 *s)
{
    if (!(s->cr & CR_TE) || rtl_cplus_mode(s) || !hg_pci_bus_master(s->pci))
        return;
    for (int k = 0; k < 4 && !(s->tsd[s->tx_next] & TSD_OWN); k++) {
        tx_slot(s, s->tx_next);
        s->tx_next = (s->tx_next + 1) & 3;
    }
    rtl_update_irq(s);
}

/* ---- the timer ---- */

static uint64_t tctr_ticks(const HgRtl8139 *s)
{
    int64_t d = hg_clock_ns(s->clock) - s->tctr_base;
    return d > 0 ? (uint64_t)d / TCTR_NS : 0;
}

/* TimeOut comes each time the 32-bit TCTR passes TimerInt (0 disables it). */
static void arm_timer(HgRtl8139 *s)
{
    if (!s->timer_int) {
        hg_timer_del(s->timer);
        return;
    }
    uint64_t now = tctr_ticks(s);
    uint64_t target = (now & ~(uint64_t)0xffffffffu) | s->timer_int;
    if (target <= now)
        target += (uint64_t)1 << 32;
    hg_timer_mod(s->timer, s->tctr_base + (int64_t)(target * TCTR_NS));
}

static void timer_cb(void *opaque)
{
    HgRtl8139 *s = opaque;
    s->isr |= ISR_TIMEOUT;
    rtl_update_irq(s);
    arm_timer(s);
}

/* ---- resets ---- */

/* CR.RST: transmitter and receiver off, buffer pointers and interrupts back to their
 * initial values; IDR, MAR and the configuration stay. */
static void soft_reset(HgRtl8139 *s)
{
    s->cr = 0;
    s->isr = 0;
    s->imr = 0;
    for (int n = 0; n < 4; n++)
        s->tsd[n] = TSD_OWN;
    s->tx_next = 0;
    s->cbr = 0;
    s->capr = 0xfff0;
    s->cpcr = 0;
    s->rx_idx = 0;
    s->tx_idx[0] = s->tx_idx[1] = 0;
    rtl_update_irq(s);
}

void hg_rtl8139_reset(HgRtl8139 *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    for (int i = 0; i < 3; i++) {
        s->regs[R_IDR + 2 * i] = (uint8_t)s->ee.mem[7 + i];
        s->regs[R_IDR + 2 * i + 1] = (uint8_t)(s->ee.mem[7 + i] >> 8);
    }
    memset(s->tsad, 0, sizeof(s->tsad));
    s->rbstart = 0;
    s->tcr = 0;
    s->rcr = 0;
    s->mpc = 0;
    s->cfg9346 = 0;
    s->config0 = 0;
    s->config1 = CONFIG1_DEFAULT;
    s->config3 = 0;
    s->config4 = 0;
    s->config5 = 0;
    s->msr = 0;
    s->hltclk = 0;
    s->timer_int = 0;
    s->tctr_base = hg_clock_ns(s->clock);
    s->mulint = 0;
    s->bmcr = BMCR_DEFAULT;
    s->anar = ANAR_DEFAULT;
    s->cscr = CSCR_DEFAULT;
    s->intr_mitigate = 0;
    s->rx_max_size = 0;
    s->tdokladdr = 0;
    s->rdsar[0] = s->rdsar[1] = 0;
    s->etthr = 0;
    memset(&s->tally, 0, sizeof(s->tally));
    s->ee.state = EE_IDLE;
    s->ee.cs = s->ee.sk = s->ee.dout = false;
    s->ee.bits = 0;
    s->ee.shift = 0;
    s->ee.write_enabled = false;
    arm_timer(s);
    soft_reset(s);
}

/* ---- registers ---- */

static bool plain_reg(uint32_t off)
{
    return off < 6 || (off >= R_MAR && off < R_MAR + 8) || off == R_NWAYTR || off == R_NWAYTR + 1 ||
           (off >= R_PARA78 && off <= 0x80) || (off >= 0x84 && off < R_CONFIG5);
}

static uint16_t tsad_summary(const HgRtl8139 *s)
{
    /* TOK 15:12, TUN 11:8, TABT 7:4, OWN 3:0, one bit per slot. */
    uint32_t v = 0;
    for (int n = 0; n < 4; n++) {
        uint32_t t = s->tsd[n];
        if (t & TSD_TOK)
            v |= 0x1000u << n;
        if (t & TSD_TUN)
            v |= 0x100u << n;
        if (t & TSD_TABT)
            v |= 0x10u << n;
        if (t & TSD_OWN)
            v |= 1u << n;
    }
    return (uint16_t)v;
}

static uint32_t read_reg(const HgRtl8139 *s, uint32_t r, uint32_t width)
{
    bool cp = s->cplus;
    switch (r) {
    case R_TSD:
    case R_TSD + 4:
    case R_TSD + 8:
    case R_TSD + 12: return s->tsd[(r - R_TSD) / 4];
    case R_TSAD:
    case R_TSAD + 4:
    case R_TSAD + 8:
    case R_TSAD + 12: return s->tsad[(r - R_TSAD) / 4];
    case R_RBSTART: return s->rbstart;
    case R_CR: return s->cr | (rx_empty(s) ? CR_BUFE : 0);
    case R_CAPR: return s->capr;
    case R_CBR: return s->cbr;
    case R_IMR: return s->imr;
    case R_ISR: return s->isr;
    case R_TCR: return s->tcr | (cp ? 0x74800000u : 0x74000000u);
    case R_RCR: return s->rcr;
    case R_TCTR: return (uint32_t)tctr_ticks(s);
    case R_MPC: return s->mpc;
    case R_9346CR:
        if ((s->cfg9346 & CFG_EEM) == EEM_PROGRAM && ee_dout(&s->ee))
            return s->cfg9346 | EE_DO;
        return s->cfg9346;
    case R_CONFIG0: return s->config0;
    case R_CONFIG1: return s->config1;
    case R_TIMERINT: return s->timer_int;
    case R_MSR: {
        bool ten = !(s->bmcr & BMCR_ANE) && !(s->bmcr & BMCR_SPEED100);
        return (s->msr & MSR_TXFCE) | (ten ? MSR_SPEED10 : 0);
    }
    case R_CONFIG3: return s->config3;
    case R_CONFIG4: return s->config4;
    case R_HLTCLK: return s->hltclk;
    case R_MULINT: return s->mulint;
    case R_RERID: return cp ? REV_CPLUS : REV_C;
    case R_TSAD_ALL: return tsad_summary(s);
    case R_BMCR: return s->bmcr;
    case R_BMSR: return BMSR_VALUE;
    case R_ANAR: return s->anar;
    case R_ANLPAR: return ANLPAR_VALUE;
    case R_ANER: return ANER_VALUE;
    case R_CSCR: return s->cscr | CSCR_STATUS;
    case R_CONFIG5: return s->config5;
    case R_TDOKLADDR: return cp ? s->tdokladdr : 0;
    case R_RXMAXSIZE: return cp ? s->rx_max_size : 0;
    case R_CPCR: return s->cpcr;
    case R_INTRMIT: return cp ? s->intr_mitigate : 0;
    case R_RDSAR: return s->rdsar[0];
    case R_RDSAR + 4: return s->rdsar[1];
    case R_ETTHR: return cp ? s->etthr : 0;
    default:
        if (!plain_reg(r))
            return 0;
        uint32_t v = 0;
        for (uint32_t i = 0; i < width; i++)
            v |= (uint32_t)s->regs[r + i] << (8 * i);
        return v;
    }
}

static void write_rcr(HgRtl8139 *s, uint32_t v)
{
    s->rcr = v & RCR_WMASK;
    s->cbr &= (uint16_t)(ring_size(s->rcr) - 1);
    rx_room_changed(s);
}

static void write_cr(HgRtl8139 *s, uint8_t v)
{
    if (v & CR_RST)
        soft_reset(s);
    uint8_t old = s->cr;
    s->cr = v & (CR_RE | CR_TE);
    bool rx_on = (s->cr & CR_RE) && !(old & CR_RE);
    if (rx_on) {
        s->cbr = 0;
        s->capr = 0xfff0;
        s->rx_idx = 0;
    }
    if ((s->cr & CR_TE) && !(old & CR_TE))
        s->tx_idx[0] = s->tx_idx[1] = 0;
    tx_kick(s);
    rtl_update_irq(s);
    if (rx_on)
        rx_room_changed(s);
}

static void write_9346(HgRtl8139 *s, uint8_t v)
{
    if ((v & CFG_EEM) == EEM_AUTOLOAD) {
        hg_rtl8139_reset(s);
        return;
    }
    s->cfg9346 = v & 0xce;
    bool prog = (v & CFG_EEM) == EEM_PROGRAM;
    ee_pins(&s->ee, prog && (v & EE_CS), prog && (v & EE_SK), prog && (v & EE_DI));
}

/* TSD in classic mode queues a slot; in C+ mode TSD0-1 are DTCCR. */
static void write_tsd(HgRtl8139 *s, int n, uint32_t v)
{
    if (rtl_cplus_mode(s)) {
        s->tsd[n] = v;
        if (n == 0 && (v & 0x08))
            rtl_cplus_tally_dump(s);
        return;
    }
    /* The write replaces the status bits (TOK, TUN, TABT, collisions) with zeros. */
    s->tsd[n] = v & (TSD_SIZE | TSD_OWN | TSD_ERTXTH);
    if (!(v & TSD_OWN))
        tx_kick(s);
}

static void write_cpcr(HgRtl8139 *s, uint32_t v)
{
    uint16_t old = s->cpcr;
    s->cpcr = (uint16_t)(v & 0x007b);
    if ((s->cpcr & CPCR_RXON) != (old & CPCR_RXON))
        rx_room_changed(s);
}

static void write_reg(HgRtl8139 *s, uint32_t r, uint32_t width, uint32_t v)
{
    switch (r) {
    case R_TSD:
    case R_TSD + 4:
    case R_TSD + 8:
    case R_TSD + 12: write_tsd(s, (int)(r - R_TSD) / 4, v); return;
    case R_TSAD:
    case R_TSAD + 4:
    case R_TSAD + 8:
    case R_TSAD + 12: s->tsad[(r - R_TSAD) / 4] = v; return;
    case R_RBSTART: s->rbstart = v; return;
    case R_CR: write_cr(s, (uint8_t)v); return;
    case R_CAPR:
        s->capr = (uint16_t)v;
        rx_room_changed(s);
        return;
    case R_IMR:
        s->imr = (uint16_t)v;
        rtl_update_irq(s);
        return;
    case R_ISR:
        s->isr &= (uint16_t)~v;
        rtl_update_irq(s);
        return;
    case R_TCR: s->tcr = v & TCR_WMASK; return;
    case R_RCR: write_rcr(s, v); return;
    case R_TCTR:
        s->tctr_base = hg_clock_ns(s->clock);
        arm_timer(s);
        return;
    case R_MPC: s->mpc = 0; return;
    case R_9346CR: write_9346(s, (uint8_t)v); return;
    case R_CONFIG1:
        if (config_unlocked(s))
            s->config1 = (uint8_t)((s->config1 & 0x0c) | (v & 0xf3));
        return;
    case R_TIMERINT:
        s->timer_int = v;
        arm_timer(s);
        return;
    case R_MSR: s->msr = v & MSR_TXFCE; return;
    case R_CONFIG3:
        if (config_unlocked(s))
            s->config3 = (uint8_t)(v & 0xf0);
        return;
    case R_CONFIG4:
        if (config_unlocked(s))
            s->config4 = (uint8_t)(v & 0xf5);
        return;
    case R_HLTCLK: s->hltclk = (uint8_t)v; return;
    case R_MULINT: s->mulint = v & 0x0fff; return;
    case R_BMCR:
        if (!config_unlocked(s))
            return;
        if (v & BMCR_RESET) {
            s->bmcr = BMCR_DEFAULT;
            s->anar = ANAR_DEFAULT;
        } else {
            s->bmcr = v & BMCR_WMASK; /* restart-AN self-clears: negotiation is instant */
        }
        return;
    case R_ANAR: s->anar = (uint16_t)((v & ANAR_WMASK) | 0x0001); return;
    case R_CSCR: s->cscr = v & CSCR_WMASK; return;
    case R_CONFIG5: s->config5 = v & 0x7f; return;
    default: break;
    }
    if (s->cplus) {
        switch (r) {
        case R_TPPOLL: rtl_cplus_tx_poll(s, (uint8_t)v); return;
        case R_RXMAXSIZE: s->rx_max_size = v & 0x1fff; return;
        case R_CPCR: write_cpcr(s, v); return;
        case R_INTRMIT: s->intr_mitigate = (uint16_t)v; return;
        case R_RDSAR: s->rdsar[0] = v; return;
        case R_RDSAR + 4: s->rdsar[1] = v; return;
        case R_ETTHR: s->etthr = v & 0x3f; return;
        default: break;
        }
    }
    if (!plain_reg(r) || (r < 6 && !config_unlocked(s)))
        return;
    for (uint32_t i = 0; i < width; i++)
        s->regs[r + i] = (uint8_t)(v >> (8 * i));
}

static void span_of(uint32_t off, uint32_t *start, uint32_t *width)
{
    for (size_t i = 0; i < G_N_ELEMENTS(wide_regs); i++) {
        if (off >= wide_regs[i].start && off < (uint32_t)wide_regs[i].start + wide_regs[i].width) {
            *start = wide_regs[i].start;
            *width = wide_regs[i].width;
            return;
        }
    }
    *start = off;
    *width = 1;
}

/* The value a partial write merges into: strobes and write-1-to-clear registers take
 * only the bytes written. */
static uint32_t merge_base(const HgRtl8139 *s, uint32_t r, uint32_t width)
{
    switch (r) {
    case R_ISR:
    case R_TCTR:
    case R_MPC:
    case R_TPPOLL: return 0;
    case R_9346CR: return s->cfg9346;
    default: return read_reg(s, r, width);
    }
}

static uint32_t bar_read(void *opaque, uint32_t addr, int size)
{
    const HgRtl8139 *s = opaque;
    uint32_t v = 0;
    for (uint32_t i = 0; i < (uint32_t)size && addr + i < 256;) {
        uint32_t start, width;
        span_of(addr + i, &start, &width);
        uint32_t reg = read_reg(s, start, width);
        for (; i < (uint32_t)size && addr + i < start + width; i++)
            v |= ((reg >> (8 * (addr + i - start))) & 0xff) << (8 * i);
    }
    return v;
}

static void bar_write(void *opaque, uint32_t addr, uint32_t value, int size)
{
    HgRtl8139 *s = opaque;
    for (uint32_t i = 0; i < (uint32_t)size && addr + i < 256;) {
        uint32_t start, width;
        span_of(addr + i, &start, &width);
        uint32_t v = merge_base(s, start, width);
        for (; i < (uint32_t)size && addr + i < start + width; i++) {
            uint32_t sh = 8 * (addr + i - start);
            v = (v & ~(0xffu << sh)) | (((value >> (8 * i)) & 0xff) << sh);
        }
        write_reg(s, start, width, v);
    }
}

/* ---- the device ---- */

HgRtl8139 *hg_rtl8139_new(HgPciBus *pci, int devfn, HgBus *bus, HgClock *clock,
                          const uint8_t mac[6], bool cplus, const HgNicLink *link)
{
    HgRtl8139 *s = g_new0(HgRtl8139, 1);
    s->bus = bus;
    s->clock = clock;
    s->cplus = cplus;
    if (link)
        s->link = *link;
    s->pci = hg_pci_register(pci, devfn, 0x10ec, 0x8139, cplus ? REV_CPLUS : REV_C, 0x020000, s);
    uint8_t *cfg = hg_pci_config(s->pci);
    cfg[HG_PCI_INTERRUPT_PIN] = 1;
    cfg[0x3e] = 0x20; /* Min_Gnt, Max_Lat as the EEPROM gives them */
    cfg[0x3f] = 0x40;
    hg_pci_set_bar(s->pci, 0, 256, HG_PCI_BAR_IO, bar_read, bar_write);
    hg_pci_set_bar(s->pci, 1, 256, HG_PCI_BAR_MEM, bar_read, bar_write);
    s->timer = hg_timer_new(clock, timer_cb, s);
    ee_init(&s->ee, mac, cfg);
    hg_rtl8139_reset(s);
    return s;
}

void hg_rtl8139_free(HgRtl8139 *s)
{
    if (!s)
        return;
    hg_timer_free(s->timer);
    g_free(s);
}

/* ---- saved states ---- */

static void put_tally(HgStateWriter *w, const Tally *t)
{
    hg_state_put_u64(w, t->tx_ok);
    hg_state_put_u64(w, t->rx_ok);
    hg_state_put_u64(w, t->tx_err);
    hg_state_put_u32(w, t->rx_err);
    hg_state_put_u16(w, t->miss_pkt);
    hg_state_put_u16(w, t->fae);
    hg_state_put_u32(w, t->tx_1col);
    hg_state_put_u32(w, t->tx_mcol);
    hg_state_put_u64(w, t->rx_ok_phy);
    hg_state_put_u64(w, t->rx_ok_brd);
    hg_state_put_u32(w, t->rx_ok_mul);
    hg_state_put_u16(w, t->tx_abt);
    hg_state_put_u16(w, t->tx_undrn);
}

static void get_tally(HgStateReader *r, Tally *t)
{
    t->tx_ok = hg_state_get_u64(r);
    t->rx_ok = hg_state_get_u64(r);
    t->tx_err = hg_state_get_u64(r);
    t->rx_err = hg_state_get_u32(r);
    t->miss_pkt = hg_state_get_u16(r);
    t->fae = hg_state_get_u16(r);
    t->tx_1col = hg_state_get_u32(r);
    t->tx_mcol = hg_state_get_u32(r);
    t->rx_ok_phy = hg_state_get_u64(r);
    t->rx_ok_brd = hg_state_get_u64(r);
    t->rx_ok_mul = hg_state_get_u32(r);
    t->tx_abt = hg_state_get_u16(r);
    t->tx_undrn = hg_state_get_u16(r);
}

void hg_rtl8139_save(const HgRtl8139 *s, HgStateWriter *w)
{
    hg_state_begin(w, "rtl8139", STATE_VERSION);
    hg_state_put_u8(w, s->cplus);
    hg_state_put_bytes(w, s->regs, sizeof(s->regs));
    for (int n = 0; n < 4; n++) {
        hg_state_put_u32(w, s->tsd[n]);
        hg_state_put_u32(w, s->tsad[n]);
    }
    hg_state_put_u32(w, s->rbstart);
    hg_state_put_u8(w, s->cr);
    hg_state_put_u16(w, s->capr);
    hg_state_put_u16(w, s->cbr);
    hg_state_put_u16(w, s->imr);
    hg_state_put_u16(w, s->isr);
    hg_state_put_u32(w, s->tcr);
    hg_state_put_u32(w, s->rcr);
    hg_state_put_u32(w, s->mpc);
    const uint8_t bytes[8] = {s->cfg9346, s->config0, s->config1, s->config3,
                              s->config4, s->config5, s->msr,     s->hltclk};
    hg_state_put_bytes(w, bytes, sizeof(bytes));
    hg_state_put_u32(w, s->timer_int);
    int64_t elapsed = hg_clock_ns(s->clock) - s->tctr_base;
    hg_state_put_u64(w, (uint64_t)(elapsed > 0 ? elapsed : 0));
    hg_state_put_u16(w, s->mulint);
    hg_state_put_u16(w, s->bmcr);
    hg_state_put_u16(w, s->anar);
    hg_state_put_u16(w, s->cscr);
    hg_state_put_u8(w, s->tx_next);
    hg_state_put_u16(w, s->cpcr);
    hg_state_put_u16(w, s->intr_mitigate);
    hg_state_put_u16(w, s->rx_max_size);
    hg_state_put_u16(w, s->tdokladdr);
    hg_state_put_u32(w, s->rdsar[0]);
    hg_state_put_u32(w, s->rdsar[1]);
    hg_state_put_u8(w, s->etthr);
    hg_state_put_u8(w, s->tx_idx[0]);
    hg_state_put_u8(w, s->tx_idx[1]);
    hg_state_put_u8(w, s->rx_idx);
    put_tally(w, &s->tally);
    const Eeprom93c46 *e = &s->ee;
    for (int i = 0; i < 64; i++)
        hg_state_put_u16(w, e->mem[i]);
    hg_state_put_u8(w, e->state);
    hg_state_put_u8(w, e->bits);
    hg_state_put_u16(w, e->shift);
    hg_state_put_u8(w, e->addr);
    hg_state_put_u8(w, (uint8_t)(e->cs | e->sk << 1 | e->dout << 2 | e->write_enabled << 3));
    hg_state_put_u8(w, s->irq_level);
    hg_state_end(w);
}

/* Why a loaded state cannot be this card's, or NULL. */
static const char *state_invalid(const HgRtl8139 *t, bool cplus, uint64_t elapsed)
{
    if (t->cplus != cplus)
        return cplus ? "is of an RTL8139C and this card is an RTL8139C+"
                     : "is of an RTL8139C+ and this card is an RTL8139C";
    if (t->cr & ~(CR_RE | CR_TE) || t->isr & ~ISR_MASK || t->tcr & ~TCR_WMASK ||
        t->rcr & ~RCR_WMASK || t->mpc > 0xffffff || t->mulint > 0x0fff)
        return "has impossible command, interrupt or configuration bits";
    if (t->cbr >= ring_size(t->rcr) || (t->cbr & 3))
        return "has a receive write pointer outside its ring";
    if (t->cfg9346 & ~0xce || (t->cfg9346 & CFG_EEM) == EEM_AUTOLOAD || t->config5 & 0x80 ||
        t->msr & ~MSR_TXFCE || t->bmcr & ~BMCR_WMASK || t->anar & ~(ANAR_WMASK | 1) ||
        t->cscr & ~CSCR_WMASK)
        return "has impossible EEPROM control, PHY or media bits";
    if (t->tx_next > 3 || t->tx_idx[0] >= CP_RING_MAX || t->tx_idx[1] >= CP_RING_MAX ||
        t->rx_idx >= CP_RING_MAX)
        return "has a descriptor index outside its ring";
    if (t->cpcr & ~0x007b || t->rx_max_size > 0x1fff || t->etthr > 0x3f ||
        (!cplus && (t->cpcr || t->rdsar[0] || t->rdsar[1])))
        return "has impossible C+ registers";
    const Eeprom93c46 *e = &t->ee;
    if (e->state >= EE_NSTATES || e->bits >= 16 || (e->state == EE_CMD && e->bits >= 8) ||
        e->addr >= 64)
        return "has an impossible EEPROM state";
    if (elapsed > (uint64_t)1 << 62)
        return "has an impossible timer count";
    if (t->irq_level != ((t->isr & t->imr) != 0))
        return "has an interrupt line that disagrees with its registers";
    return NULL;
}

void hg_rtl8139_load(HgRtl8139 *s, HgStateReader *r)
{
    if (!hg_state_open(r, "rtl8139", STATE_VERSION, STATE_VERSION))
        return;
    /* Everything goes into a copy first: a state that fails a check leaves the card as
     * it was. */
    HgRtl8139 *t = g_malloc(sizeof(*t));
    memcpy(t, s, sizeof(*t));
    t->cplus = hg_state_get_u8(r) != 0;
    hg_state_get_bytes(r, t->regs, sizeof(t->regs));
    for (int n = 0; n < 4; n++) {
        t->tsd[n] = hg_state_get_u32(r);
        t->tsad[n] = hg_state_get_u32(r);
    }
    t->rbstart = hg_state_get_u32(r);
    t->cr = hg_state_get_u8(r);
    t->capr = hg_state_get_u16(r);
    t->cbr = hg_state_get_u16(r);
    t->imr = hg_state_get_u16(r);
    t->isr = hg_state_get_u16(r);
    t->tcr = hg_state_get_u32(r);
    t->rcr = hg_state_get_u32(r);
    t->mpc = hg_state_get_u32(r);
    uint8_t bytes[8];
    hg_state_get_bytes(r, bytes, sizeof(bytes));
    t->cfg9346 = bytes[0];
    t->config0 = bytes[1];
    t->config1 = bytes[2];
    t->config3 = bytes[3];
    t->config4 = bytes[4];
    t->config5 = bytes[5];
    t->msr = bytes[6];
    t->hltclk = bytes[7];
    t->timer_int = hg_state_get_u32(r);
    uint64_t elapsed = hg_state_get_u64(r);
    t->mulint = hg_state_get_u16(r);
    t->bmcr = hg_state_get_u16(r);
    t->anar = hg_state_get_u16(r);
    t->cscr = hg_state_get_u16(r);
    t->tx_next = hg_state_get_u8(r);
    t->cpcr = hg_state_get_u16(r);
    t->intr_mitigate = hg_state_get_u16(r);
    t->rx_max_size = hg_state_get_u16(r);
    t->tdokladdr = hg_state_get_u16(r);
    t->rdsar[0] = hg_state_get_u32(r);
    t->rdsar[1] = hg_state_get_u32(r);
    t->etthr = hg_state_get_u8(r);
    t->tx_idx[0] = hg_state_get_u8(r);
    t->tx_idx[1] = hg_state_get_u8(r);
    t->rx_idx = hg_state_get_u8(r);
    get_tally(r, &t->tally);
    Eeprom93c46 *e = &t->ee;
    for (int i = 0; i < 64; i++)
        e->mem[i] = hg_state_get_u16(r);
    e->state = hg_state_get_u8(r);
    e->bits = hg_state_get_u8(r);
    e->shift = hg_state_get_u16(r);
    e->addr = hg_state_get_u8(r);
    uint8_t flags = hg_state_get_u8(r);
    e->cs = flags & 1;
    e->sk = flags & 2;
    e->dout = flags & 4;
    e->write_enabled = flags & 8;
    uint8_t level = hg_state_get_u8(r);
    t->irq_level = level != 0;
    hg_state_close(r);
    const char *why = NULL;
    if (hg_state_ok(r)) {
        why = state_invalid(t, s->cplus, elapsed);
        if (!why && (level > 1 || flags > 15))
            why = "has impossible flag bytes";
        if (why)
            g_set_error(&r->error, g_quark_from_static_string("hg-state-error"), 5,
                        "the RTL8139 state %s", why);
    }
    if (hg_state_ok(r)) {
        memcpy(s, t, sizeof(*s));
        s->tctr_base = hg_clock_ns(s->clock) - (int64_t)elapsed;
        arm_timer(s);
        rtl_update_irq(s);
    }
    g_free(t);
}
