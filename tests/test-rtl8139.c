/* Unit tests of the RTL8139C and RTL8139C+ (engine/hw/rtl8139.c, rtl8139-cplus.c), driven
 * through their registers the way Linux 6.1's 8139too and 8139cp do: PCI identity and the
 * drivers' revision and chip-version checks, the bit-banged EEPROM, resets, the four
 * transmit slots, the receive ring (headers, alignment, wrap, CAPR, filters, a full ring),
 * C+ descriptor rings (fragments, checksum offload checked by recomputing the sums, large
 * send of 20 KiB cut at MSS 1460, receive descriptors and RDU), the TCTR timer, saved
 * states taken mid-operation and lying ones, and random hostile register, descriptor and
 * frame traffic. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "hw/pci.h"
#include "hw/rtl8139.h"
#include "state.h"

enum {
    DEVFN = HG_PCI_DEVFN(4, 0),
    IOB = 0xc000,
    MMIO = 0xfebf0000u,
    RAM = 4 << 20,
    /* Guest memory used by the tests. */
    RX_RING = 0x100000,
    TX_BUFS = 0x180000,
    CP_RINGS = 0x200000, /* 64 RX descriptors, then 64 TX, as 8139cp lays them out */
    CP_HIRING = 0x201000,
    CP_BUFS = 0x210000,
    FRAMES = 0x300000,
};

/* Register names as the drivers have them. */
enum {
    MAC0 = 0x00,
    MAR0 = 0x08,
    TxStatus0 = 0x10,
    TxAddr0 = 0x20,
    RxBuf = 0x30,
    ChipCmd = 0x37,
    RxBufPtr = 0x38,
    RxBufAddr = 0x3a,
    IntrMask = 0x3c,
    IntrStatus = 0x3e,
    TxConfig = 0x40,
    RxConfig = 0x44,
    Timer = 0x48,
    RxMissed = 0x4c,
    Cfg9346 = 0x50,
    Config1 = 0x52,
    TimerInt = 0x54,
    MediaStatus = 0x58,
    Config3 = 0x59,
    Config4 = 0x5a,
    HltClk = 0x5b,
    MultiIntr = 0x5c,
    TxSummary = 0x60,
    BasicModeCtrl = 0x62,
    BasicModeStatus = 0x64,
    NWayAdvert = 0x66,
    NWayLPAR = 0x68,
    NWayExpansion = 0x6a,
    CSCR = 0x74,
    TxDmaOkLowDesc = 0x82,
    Config5 = 0xd8,
    TxPoll = 0xd9,
    CpCmd = 0xe0,
    IntrMitigate = 0xe2,
    RxRingAddr = 0xe4,
    TxThresh = 0xec,
    StatsAddr = 0x10,
    TxRingAddr = 0x20,
    HiTxRingAddr = 0x28,
};

enum {
    CmdReset = 0x10,
    CmdRxEnb = 0x08,
    CmdTxEnb = 0x04,
    RxBufEmpty = 0x01,
    PCIErr = 0x8000,
    PCSTimeout = 0x4000,
    RxFIFOOver = 0x40,
    RxUnderrun = 0x20,
    RxOverflow = 0x10,
    TxErr = 0x08,
    TxOK = 0x04,
    RxErr = 0x02,
    RxOK = 0x01,
    TxHostOwns = 0x2000,
    TxUnderrun = 0x4000,
    TxStatOK = 0x8000,
    RxMulticast = 0x8000,
    RxPhysical = 0x4000,
    RxBroadcast = 0x2000,
    RxStatusOK = 0x0001,
    AcceptBroadcast = 0x08,
    AcceptMulticast = 0x04,
    AcceptMyPhys = 0x02,
    AcceptAllPhys = 0x01,
    RxNoWrap = 0x80,
    Cfg9346_Unlock = 0xc0,
    /* 8139too's RTL8139 setup with RX_BUF_IDX 2: 32 KiB ring, no wrap. */
    too_rx_config = (1 << 12) | RxNoWrap | (7 << 13) | (7 << 8),
    too_tx_config = (3 << 24) | (6 << 8) | (8 << 4),
    too_intr_mask =
        PCIErr | PCSTimeout | RxUnderrun | RxOverflow | RxFIFOOver | TxErr | TxOK | RxErr | RxOK,
    /* 8139cp */
    TimerIntr = 1 << 14,
    SWInt = 1 << 8,
    TxEmpty = 1 << 7,
    LinkChg = 1 << 5,
    RxEmpty = 1 << 4,
    cp_intr_mask = RxOK | RxErr | RxEmpty | RxFIFOOver | PCIErr | LinkChg | TxOK | TxErr | TxEmpty,
    RxChkSum = 1 << 5,
    RxVlanOn = 1 << 6,
    PCIMulRW = 1 << 3,
    CpRxOn = 1 << 1,
    CpTxOn = 1 << 0,
    NormalTxPoll = 1 << 6,
    HighTxPoll = 1 << 7,
};

#define DescOwn (1u << 31)
#define RingEnd (1u << 30)
#define FirstFrag (1u << 29)
#define LastFrag (1u << 28)
#define LargeSend (1u << 27)
#define TxError (1u << 23)
#define TxFIFOUnder (1u << 25)
#define IPCS (1u << 18)
#define UDPCS (1u << 17)
#define TCPCS (1u << 16)
#define TxVlanTag (1u << 17)
#define RxVlanTagged (1u << 16)
#define IPFail (1u << 15)
#define UDPFail (1u << 14)
#define TCPFail (1u << 13)
#define RxError (1u << 20)
#define RxMcast (1u << 26)
#define RxPAM (1u << 25)
#define RxBAR (1u << 24)

static const uint8_t test_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};

/* ---- the board ---- */

typedef struct Fx {
    uint64_t insns;
    HgClock *clock;
    HgBus *bus;
    HgPciBus *pci;
    HgRtl8139 *nic;
    bool cplus, mmio;
    bool pirq[4];
    GPtrArray *sent; /* GByteArray per frame given to link->send */
    int rx_ready;
} Fx;

static uint64_t insn_counter(void *opaque)
{
    return ((Fx *)opaque)->insns;
}

static void pirq(void *opaque, int n, bool level)
{
    ((Fx *)opaque)->pirq[n] = level;
}

static bool irq(const Fx *f)
{
    return f->pirq[0] || f->pirq[1] || f->pirq[2] || f->pirq[3];
}

static void link_send(void *opaque, const uint8_t *frame, size_t len)
{
    Fx *f = opaque;
    g_assert_cmpuint(len, >=, 14);
    g_assert_cmpuint(len, <=, 65536);
    GByteArray *a = g_byte_array_sized_new((guint)len);
    g_byte_array_append(a, frame, (guint)len);
    g_ptr_array_add(f->sent, a);
}

static void link_rx_ready(void *opaque)
{
    ((Fx *)opaque)->rx_ready++;
}

static void fx_init_mac(Fx *f, bool cplus, const uint8_t mac[6])
{
    memset(f, 0, sizeof(*f));
    f->cplus = cplus;
    f->mmio = cplus; /* 8139cp uses the memory BAR, 8139too (PIO build) the I/O one */
    f->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, insn_counter, f);
    f->bus = hg_bus_new(RAM);
    f->pci = hg_pci_new(f->bus);
    hg_pci_set_pirq_handler(f->pci, pirq, f);
    f->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    HgNicLink link = {f, link_send, link_rx_ready};
    f->nic = hg_rtl8139_new(f->pci, DEVFN, f->bus, f->clock, mac, cplus, &link);
    hg_pci_config_write(f->pci, DEVFN, 0x10, IOB, 4);
    hg_pci_config_write(f->pci, DEVFN, 0x14, MMIO, 4);
    hg_pci_config_write(f->pci, DEVFN, 0x04, 7, 2); /* I/O, memory, bus master */
}

static void fx_init(Fx *f, bool cplus)
{
    fx_init_mac(f, cplus, test_mac);
}

static void fx_free(Fx *f)
{
    hg_rtl8139_free(f->nic);
    hg_pci_free(f->pci);
    hg_bus_free(f->bus);
    hg_clock_free(f->clock);
    g_ptr_array_unref(f->sent);
}

static void advance(Fx *f, uint64_t ns)
{
    uint64_t end = f->insns + ns;
    while (f->insns < end) {
        int64_t dl = hg_clock_deadline(f->clock);
        int64_t now = hg_clock_ns(f->clock);
        uint64_t step = end - f->insns;
        if (dl != INT64_MAX && dl > now && (uint64_t)(dl - now) < step)
            step = (uint64_t)(dl - now);
        f->insns += step ? step : 1;
        hg_clock_run_timers(f->clock);
    }
}

static void wr(Fx *f, uint32_t off, uint32_t v, int size)
{
    if (f->mmio)
        hg_bus_write(f->bus, MMIO + off, v, size);
    else
        hg_bus_out(f->bus, (uint16_t)(IOB + off), v, size);
}

static uint32_t rd(Fx *f, uint32_t off, int size)
{
    if (f->mmio)
        return hg_bus_read(f->bus, MMIO + off, size);
    return hg_bus_in(f->bus, (uint16_t)(IOB + off), size);
}

static void w8(Fx *f, uint32_t off, uint32_t v)
{
    wr(f, off, v, 1);
}
static void w16(Fx *f, uint32_t off, uint32_t v)
{
    wr(f, off, v, 2);
}
static void w32(Fx *f, uint32_t off, uint32_t v)
{
    wr(f, off, v, 4);
}
static uint32_t r8(Fx *f, uint32_t off)
{
    return rd(f, off, 1);
}
static uint32_t r16(Fx *f, uint32_t off)
{
    return rd(f, off, 2);
}
static uint32_t r32(Fx *f, uint32_t off)
{
    return rd(f, off, 4);
}

static uint8_t *ram(Fx *f, uint32_t addr)
{
    return hg_bus_ram(f->bus) + addr;
}

static void put32(Fx *f, uint32_t addr, uint32_t v)
{
    uint8_t *p = ram(f, addr);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(Fx *f, uint32_t addr)
{
    const uint8_t *p = ram(f, addr);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static GByteArray *sent(Fx *f, guint i)
{
    g_assert_cmpuint(i, <, f->sent->len);
    return g_ptr_array_index(f->sent, i);
}

/* ---- what the drivers compute ---- */

/* Linux's crc32_le(~0, p, n) (no final inversion) and ether_crc. */
static uint32_t crc32_le_reg(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ ((crc & 1) ? 0xedb88320u : 0);
    }
    return crc;
}

static uint32_t bitrev32(uint32_t x)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i++)
        r |= ((x >> i) & 1u) << (31 - i);
    return r;
}

/* The Ethernet FCS as it goes on the wire (little-endian of the inverted register). */
static uint32_t fcs(const uint8_t *p, size_t n)
{
    return ~crc32_le_reg(p, n);
}

static uint32_t csum_add(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void set_be32(uint8_t *p, uint32_t v)
{
    set_be16(p, v >> 16);
    set_be16(p + 2, v);
}

/* True when the IPv4 header at ip and its TCP or UDP payload carry correct checksums. */
static bool ip_csum_ok(const uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    return csum_fold(csum_add(ip, ihl, 0)) == 0xffff;
}

static bool l4_csum_ok(const uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t n = be16(ip + 2) - ihl;
    uint32_t sum = csum_add(ip + 12, 8, 0) + ip[9] + (uint32_t)n;
    return csum_fold(csum_add(ip + ihl, n, sum)) == 0xffff;
}

/* An Ethernet + IPv4 + TCP (proto 6) or UDP (17) frame with a patterned payload and wrong
 * checksums; returns its length. */
static size_t make_ip_frame(uint8_t *b, const uint8_t *dst, uint8_t proto, size_t payload,
                            uint32_t seq, uint8_t tcp_flags)
{
    memcpy(b, dst, 6);
    memcpy(b + 6, peer_mac, 6);
    set_be16(b + 12, 0x0800);
    uint8_t *ip = b + 14;
    size_t l4len = (proto == 6 ? 20 : 8) + payload;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    set_be16(ip + 2, (uint32_t)(20 + l4len));
    set_be16(ip + 4, 0x1234);
    set_be16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = proto;
    set_be16(ip + 10, 0xdead);
    set_be32(ip + 12, 0x0a000002);
    set_be32(ip + 16, 0x0a00020f);
    uint8_t *l4 = ip + 20;
    if (proto == 6) {
        memset(l4, 0, 20);
        set_be16(l4, 40000);
        set_be16(l4 + 2, 80);
        set_be32(l4 + 4, seq);
        set_be32(l4 + 8, 0x01020304);
        l4[12] = 5 << 4;
        l4[13] = tcp_flags;
        set_be16(l4 + 14, 29200);
        set_be16(l4 + 16, 0xbeef);
    } else {
        set_be16(l4, 5353);
        set_be16(l4 + 2, 53);
        set_be16(l4 + 4, (uint32_t)l4len);
        set_be16(l4 + 6, 0xbeef);
    }
    uint8_t *d = l4 + (proto == 6 ? 20 : 8);
    for (size_t i = 0; i < payload; i++)
        d[i] = (uint8_t)(i * 7 + (i >> 8));
    return 14 + 20 + l4len;
}

/* Fills the checksums in software (for frames the card receives). */
static void fix_csums(uint8_t *b)
{
    uint8_t *ip = b + 14;
    size_t n = be16(ip + 2) - 20u;
    set_be16(ip + 10, 0);
    set_be16(ip + 10, (uint16_t)~csum_fold(csum_add(ip, 20, 0)));
    size_t field = ip[9] == 6 ? 16 : 6;
    set_be16(ip + 20 + field, 0);
    uint32_t sum = csum_add(ip + 12, 8, 0) + ip[9] + (uint32_t)n;
    set_be16(ip + 20 + field, (uint16_t)~csum_fold(csum_add(ip + 20, n, sum)));
}

/* ---- 8139too and 8139cp, as far as the tests need them ---- */

static void cp_eeprom_cmd(Fx *f, int cmd, int cmd_len)
{
    for (int i = cmd_len - 1; i >= 0; i--) {
        int dataval = (cmd & (1 << i)) ? 2 : 0;
        w8(f, Cfg9346, 0x88 | dataval);
        r8(f, Cfg9346);
        w8(f, Cfg9346, 0x88 | dataval | 4);
        r8(f, Cfg9346);
    }
    w8(f, Cfg9346, 0x88);
    r8(f, Cfg9346);
}

static void cp_eeprom_start(Fx *f)
{
    w8(f, Cfg9346, 0x80);
    w8(f, Cfg9346, 0x88);
    r8(f, Cfg9346);
}

static void cp_eeprom_end(Fx *f)
{
    w8(f, Cfg9346, 0);
    r8(f, Cfg9346);
}

/* Both drivers' read_eeprom: they differ only in the command length, 8139too shifting out
 * two leading zeros before the start bit (5 + addr_len bits), 8139cp not (3 + addr_len). */
static unsigned read_eeprom(Fx *f, int location, int addr_len, int cmd_len)
{
    unsigned retval = 0;
    cp_eeprom_start(f);
    cp_eeprom_cmd(f, location | (6 << addr_len), cmd_len);
    for (int i = 16; i > 0; i--) {
        w8(f, Cfg9346, 0x88 | 4);
        r8(f, Cfg9346);
        retval = (retval << 1) | ((r8(f, Cfg9346) & 1) ? 1 : 0);
        w8(f, Cfg9346, 0x88);
        r8(f, Cfg9346);
    }
    cp_eeprom_end(f);
    return retval;
}

static unsigned too_read_eeprom(Fx *f, int location, int addr_len)
{
    return read_eeprom(f, location, addr_len, 5 + addr_len);
}

static unsigned cp_read_eeprom(Fx *f, int location, int addr_len)
{
    return read_eeprom(f, location, addr_len, 3 + addr_len);
}

static void cp_eeprom_extend(Fx *f, int ext, int addr_len)
{
    cp_eeprom_start(f);
    cp_eeprom_cmd(f, (4 << addr_len) | (ext << (addr_len - 2)), 3 + addr_len);
    cp_eeprom_end(f);
}

/* 8139cp's write_eeprom: EWEN, WRITE, wait for ready, EWDS. */
static bool cp_write_eeprom(Fx *f, int location, unsigned val, int addr_len)
{
    cp_eeprom_extend(f, 3, addr_len);
    cp_eeprom_start(f);
    cp_eeprom_cmd(f, location | (5 << addr_len), 3 + addr_len);
    cp_eeprom_cmd(f, (int)val, 16);
    cp_eeprom_end(f);
    cp_eeprom_start(f);
    bool ready = false;
    for (int i = 0; i < 20000 && !ready; i++)
        ready = r8(f, Cfg9346) & 1;
    cp_eeprom_end(f);
    cp_eeprom_extend(f, 0, addr_len);
    return ready;
}

/* rtl8139_hw_start after rtl8139_init_board: chip reset, MAC, ring, enables, config. */
static void too_hw_start(Fx *f, uint32_t rx_config)
{
    w8(f, HltClk, 'R');
    w8(f, ChipCmd, CmdReset);
    g_assert_cmpuint(r8(f, ChipCmd) & CmdReset, ==, 0);
    w8(f, Cfg9346, Cfg9346_Unlock);
    r8(f, Cfg9346);
    w32(f, MAC0,
        (uint32_t)test_mac[0] | test_mac[1] << 8 | test_mac[2] << 16 | (uint32_t)test_mac[3] << 24);
    w32(f, MAC0 + 4, (uint32_t)test_mac[4] | test_mac[5] << 8);
    w32(f, RxBuf, RX_RING);
    w8(f, ChipCmd, CmdRxEnb | CmdTxEnb);
    w32(f, RxConfig, rx_config);
    w32(f, TxConfig, too_tx_config);
    w8(f, Config3, r8(f, Config3) & ~0x20u);
    w8(f, Cfg9346, 0);
    for (int i = 0; i < 4; i++)
        w32(f, TxAddr0 + 4 * i, TX_BUFS + 1536u * i);
    w32(f, RxMissed, 0);
    w32(f, MAR0, 0);
    w32(f, MAR0 + 4, 0);
    w16(f, MultiIntr, r16(f, MultiIntr) & 0xf000);
    w16(f, IntrMask, too_intr_mask);
}

/* cp_init_hw with both rings at CP_RINGS (RX first), then the RX ring filled as
 * cp_refill_rx does. */
static void cp_init(Fx *f, int rx_count, uint32_t buf_sz)
{
    w8(f, ChipCmd, CmdReset);
    g_assert_cmpuint(r8(f, ChipCmd) & CmdReset, ==, 0);
    w8(f, Cfg9346, Cfg9346_Unlock);
    w32(f, MAC0,
        (uint32_t)test_mac[0] | test_mac[1] << 8 | test_mac[2] << 16 | (uint32_t)test_mac[3] << 24);
    w32(f, MAC0 + 4, (uint32_t)test_mac[4] | test_mac[5] << 8);
    w16(f, CpCmd, PCIMulRW | RxChkSum | CpRxOn | CpTxOn);
    w32(f, HiTxRingAddr, 0);
    w32(f, HiTxRingAddr + 4, 0);
    w32(f, RxRingAddr, CP_RINGS);
    w32(f, RxRingAddr + 4, 0);
    w32(f, TxRingAddr, CP_RINGS + 64 * 16);
    w32(f, TxRingAddr + 4, 0);
    w8(f, ChipCmd, CmdRxEnb | CmdTxEnb);
    w8(f, TxThresh, 0x06);
    w32(f, RxConfig, (5 << 13) | (4 << 8) | AcceptBroadcast | AcceptMyPhys);
    w32(f, MAR0, 0);
    w32(f, MAR0 + 4, 0);
    w32(f, TxConfig, (3 << 24) | (6 << 8));
    w8(f, Config1, r8(f, Config1) | 0x20 | 0x01);
    w8(f, Config3, 0x40);
    w8(f, Config5, r8(f, Config5) & 1);
    w16(f, MultiIntr, 0);
    w8(f, Cfg9346, 0);
    memset(ram(f, CP_RINGS), 0, 128 * 16);
    put32(f, CP_RINGS + 64 * 16 + 63 * 16, RingEnd);
    for (int i = 0; i < rx_count; i++) {
        uint32_t d = CP_RINGS + 16u * i;
        put32(f, d, DescOwn | (i == rx_count - 1 ? RingEnd : 0) | buf_sz);
        put32(f, d + 4, 0);
        put32(f, d + 8, CP_BUFS + 0x2000u * i);
        put32(f, d + 12, 0);
    }
    w16(f, IntrMask, cp_intr_mask);
}

/* ---- identity ---- */

/* 8139too's rtl_chip_info versions and the chip it would pick for a TxConfig value. */
static const char *too_chip_name(uint32_t txconfig)
{
    static const struct {
        const char *name;
        uint32_t version;
    } chips[] = {
        {"RTL-8139", 0x40000000},        {"RTL-8139 rev K", 0x60000000},
        {"RTL-8139A", 0x70000000},       {"RTL-8139A rev G", 0x70800000},
        {"RTL-8139B", 0x78000000},       {"RTL-8130", 0x7c000000},
        {"RTL-8139C", 0x74000000},       {"RTL-8100", 0x78800000},
        {"RTL-8100B/8139D", 0x74400000}, {"RTL-8101", 0x74c00000},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(chips); i++)
        if ((txconfig & 0x7cc00000u) == chips[i].version)
            return chips[i].name;
    return "unknown";
}

static void test_identity(void)
{
    for (int v = 0; v < 2; v++) {
        Fx f;
        fx_init(&f, v == 1);
        g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x00, 4), ==, 0x813910ec);
        uint32_t rev = hg_pci_config_read(f.pci, DEVFN, 0x08, 4);
        g_assert_cmphex(rev >> 8, ==, 0x020000);
        g_assert_cmphex(rev & 0xff, ==, v ? 0x20 : 0x10);
        /* The drivers' probe checks: 8139too refuses >= 0x20, 8139cp < 0x20. */
        bool too_binds = (rev & 0xff) < 0x20, cp_binds = (rev & 0xff) >= 0x20;
        g_assert_true(too_binds == !v && cp_binds == (v == 1));
        g_assert_cmpuint(hg_pci_config_read(f.pci, DEVFN, 0x3d, 1), ==, 1);
        /* BAR0: 256 bytes of I/O; BAR1: 256 bytes of memory. */
        hg_pci_config_write(f.pci, DEVFN, 0x10, 0xffffffff, 4);
        g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x10, 4), ==, 0xffffff01);
        hg_pci_config_write(f.pci, DEVFN, 0x14, 0xffffffff, 4);
        g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x14, 4), ==, 0xffffff00);
        hg_pci_config_write(f.pci, DEVFN, 0x10, IOB, 4);
        hg_pci_config_write(f.pci, DEVFN, 0x14, MMIO, 4);
        /* The same registers through both BARs. */
        f.mmio = false;
        uint32_t tcr = r32(&f, TxConfig);
        f.mmio = true;
        g_assert_cmphex(r32(&f, TxConfig), ==, tcr);
        g_assert_cmphex(tcr & 0x7c800000u, ==, v ? 0x74800000u : 0x74000000u);
        if (!v)
            g_assert_cmpstr(too_chip_name(tcr), ==, "RTL-8139C");
        g_assert_cmpuint(r8(&f, 0x5e), ==, v ? 0x20 : 0x10);
        /* The MAC comes from the EEPROM at power-on. */
        for (int i = 0; i < 6; i++)
            g_assert_cmpuint(r8(&f, MAC0 + (uint32_t)i), ==, test_mac[i]);
        /* Link up, 100 Mbit/s full duplex, negotiation complete (what mii_check_media
         * reads through the internal PHY registers). */
        uint16_t bmsr = (uint16_t)r16(&f, BasicModeStatus);
        g_assert_true(bmsr & 0x0004);
        g_assert_true(bmsr & 0x0020);
        uint16_t common = (uint16_t)(r16(&f, NWayAdvert) & r16(&f, NWayLPAR));
        g_assert_true(common & 0x0100);                      /* LPA_100FULL */
        g_assert_cmpuint(r8(&f, MediaStatus) & 0x18, ==, 0); /* link ok, 100 Mbit/s */
        g_assert_cmpuint(r16(&f, NWayExpansion) & 1, ==, 1);
        /* C+ registers exist only on the C+. */
        w16(&f, CpCmd, 0x0020);
        g_assert_cmphex(r16(&f, CpCmd), ==, v ? 0x0020 : 0);
        w16(&f, CpCmd, 0);
        fx_free(&f);
    }
}

static void test_eeprom(void)
{
    for (int v = 0; v < 2; v++) {
        Fx f;
        fx_init(&f, v == 1);
        /* Both drivers probe with 8 address bits first: a 93C46 does not answer 0x8129. */
        g_assert_cmphex(too_read_eeprom(&f, 0, 8), !=, 0x8129);
        g_assert_cmphex(cp_read_eeprom(&f, 0, 8), !=, 0x8129);
        g_assert_cmphex(too_read_eeprom(&f, 0, 6), ==, 0x8129);
        g_assert_cmphex(too_read_eeprom(&f, 1, 6), ==, 0x10ec);
        g_assert_cmphex(cp_read_eeprom(&f, 2, 6), ==, 0x8139);
        uint8_t mac[6];
        for (int i = 0; i < 3; i++) {
            unsigned w = v ? cp_read_eeprom(&f, 7 + i, 6) : too_read_eeprom(&f, 7 + i, 6);
            mac[2 * i] = (uint8_t)w;
            mac[2 * i + 1] = (uint8_t)(w >> 8);
        }
        g_assert_cmpmem(mac, 6, test_mac, 6);
        /* Without chip select (normal mode) EEDO reads 0. */
        g_assert_cmpuint(r8(&f, Cfg9346) & 1, ==, 0);
        /* A read goes on into the next word while the clock runs (FreeBSD's rl reads
         * a word, then leaves programming mode without dropping EECS itself). */
        cp_eeprom_start(&f);
        cp_eeprom_cmd(&f, 7 | (6 << 6), 9);
        unsigned two = 0;
        for (int i = 0; i < 32; i++) {
            w8(&f, Cfg9346, 0x88 | 4);
            two = (two << 1) | (r8(&f, Cfg9346) & 1);
            w8(&f, Cfg9346, 0x88);
        }
        w8(&f, Cfg9346, 0);
        g_assert_cmphex(two, ==,
                        (uint32_t)(test_mac[0] | test_mac[1] << 8) << 16 |
                            (uint32_t)(test_mac[2] | test_mac[3] << 8));
        /* Writes need EWEN; 8139cp's write_eeprom does EWEN, WRITE, waits, EWDS. */
        g_assert_true(cp_write_eeprom(&f, 0x20, 0xa55a, 6));
        g_assert_cmphex(cp_read_eeprom(&f, 0x20, 6), ==, 0xa55a);
        cp_eeprom_start(&f); /* write disabled now: this one is ignored */
        cp_eeprom_cmd(&f, 0x20 | (5 << 6), 9);
        cp_eeprom_cmd(&f, 0x1111, 16);
        cp_eeprom_end(&f);
        g_assert_cmphex(cp_read_eeprom(&f, 0x20, 6), ==, 0xa55a);
        /* A new MAC in the EEPROM; auto-load (EEM 01) reloads it and resets the chip. */
        g_assert_true(cp_write_eeprom(&f, 9, 0x9988, 6));
        w16(&f, IntrMask, 0xffff);
        w8(&f, Cfg9346, 0x40);
        g_assert_cmpuint(r8(&f, Cfg9346), ==, 0);
        g_assert_cmpuint(r16(&f, IntrMask), ==, 0);
        g_assert_cmpuint(r8(&f, MAC0 + 4), ==, 0x88);
        g_assert_cmpuint(r8(&f, MAC0 + 5), ==, 0x99);
        /* The contents survive a power-on reset, which takes the MAC from them too. */
        hg_rtl8139_reset(f.nic);
        g_assert_cmphex(too_read_eeprom(&f, 9, 6), ==, 0x9988);
        g_assert_cmpuint(r8(&f, MAC0 + 5), ==, 0x99);
        fx_free(&f);
    }
}

static void test_reset(void)
{
    Fx f;
    fx_init(&f, false);
    too_hw_start(&f, too_rx_config | AcceptMyPhys);
    /* IDR takes writes only while unlocked (9346CR config-write mode). */
    w8(&f, MAC0, 0x76);
    g_assert_cmpuint(r8(&f, MAC0), ==, test_mac[0]);
    w8(&f, Cfg9346, Cfg9346_Unlock);
    w8(&f, MAC0, 0x76);
    g_assert_cmpuint(r8(&f, MAC0), ==, 0x76);
    w8(&f, Cfg9346, 0);
    /* Unlocked BMCR writes, as mdio_write(location 0) does. */
    w16(&f, BasicModeCtrl, 0x0000);
    g_assert_cmphex(r16(&f, BasicModeCtrl), ==, 0x3100);
    w8(&f, Cfg9346, Cfg9346_Unlock);
    w16(&f, BasicModeCtrl, 0x0100); /* forced 10 Mbit/s full duplex */
    w8(&f, Cfg9346, 0);
    g_assert_cmpuint(r8(&f, MediaStatus) & 0x10, ==, 0x10);
    w8(&f, Cfg9346, Cfg9346_Unlock);
    w16(&f, BasicModeCtrl, 0x8000); /* PHY reset */
    w8(&f, Cfg9346, 0);
    g_assert_cmphex(r16(&f, BasicModeCtrl), ==, 0x3100);
    /* Put some state in, then CR.RST. */
    w32(&f, TxStatus0, 60);
    g_assert_cmpuint(f.sent->len, ==, 1);
    uint8_t frame[60] = {0};
    memcpy(frame, test_mac, 6);
    frame[0] = 0x76; /* the address as changed above */
    g_assert_cmpint(hg_rtl8139_receive(f.nic, frame, sizeof(frame)), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpuint(r16(&f, RxBufAddr), !=, 0);
    g_assert_true(irq(&f));
    w8(&f, ChipCmd, CmdReset);
    g_assert_cmpuint(r8(&f, ChipCmd), ==, RxBufEmpty); /* RST cleared, RE/TE off */
    g_assert_cmpuint(r16(&f, IntrMask), ==, 0);
    g_assert_cmpuint(r16(&f, IntrStatus), ==, 0);
    g_assert_false(irq(&f));
    g_assert_cmphex(r16(&f, RxBufPtr), ==, 0xfff0);
    g_assert_cmphex(r16(&f, RxBufAddr), ==, 0);
    for (int i = 0; i < 4; i++)
        g_assert_cmphex(r32(&f, TxStatus0 + 4u * i), ==, TxHostOwns);
    g_assert_cmphex(r16(&f, TxSummary), ==, 0x000f);
    g_assert_cmpuint(r8(&f, MAC0), ==, 0x76); /* IDR survives a software reset */
    /* Power-on: the MAC comes back from the EEPROM. */
    hg_rtl8139_reset(f.nic);
    g_assert_cmpuint(r8(&f, MAC0), ==, test_mac[0]);
    g_assert_cmphex(r32(&f, RxConfig), ==, 0);
    /* The receiver is off: frames wait. */
    g_assert_cmpint(hg_rtl8139_receive(f.nic, frame, sizeof(frame)), ==, HG_NIC_RX_NO_ROOM);
    fx_free(&f);
}

/* ---- classic transmit ---- */

/* rtl8139_start_xmit for a frame already in slot entry's buffer. */
static void too_xmit(Fx *f, int entry, uint32_t len)
{
    uint32_t tx_flag = (256 << 11) & 0x003f0000; /* TX_FIFO_THRESH */
    w32(f, TxStatus0 + 4u * (uint32_t)entry, tx_flag | (len < 60 ? 60 : len));
}

static void test_classic_tx(void)
{
    Fx f;
    fx_init(&f, false);
    too_hw_start(&f, too_rx_config | AcceptMyPhys | AcceptBroadcast);
    /* Eight frames through the four slots in turn, acknowledged as the interrupt handler
     * does. */
    for (int k = 0; k < 8; k++) {
        int entry = k % 4;
        uint32_t len = 60 + 97u * (uint32_t)k;
        uint8_t *buf = ram(&f, TX_BUFS + 1536u * (uint32_t)entry);
        memcpy(buf, peer_mac, 6);
        memcpy(buf + 6, test_mac, 6);
        for (uint32_t i = 12; i < len; i++)
            buf[i] = (uint8_t)(i + 31 * k);
        too_xmit(&f, entry, len);
        g_assert_cmpuint(f.sent->len, ==, (guint)k + 1);
        GByteArray *a = sent(&f, (guint)k);
        g_assert_cmpmem(a->data, a->len, buf, len);
        uint32_t tsd = r32(&f, TxStatus0 + 4u * (uint32_t)entry);
        g_assert_cmphex(tsd & (TxStatOK | TxHostOwns | TxUnderrun), ==, TxStatOK | TxHostOwns);
        g_assert_cmpuint(tsd & 0x1fff, ==, len);
        g_assert_cmphex(r16(&f, TxSummary) & (0x1000u << entry), !=, 0);
        g_assert_true(irq(&f));
        g_assert_cmphex(r16(&f, IntrStatus), ==, TxOK);
        w16(&f, IntrStatus, TxOK);
        g_assert_false(irq(&f));
    }
    /* Masked: the status is there, the line stays low. */
    w16(&f, IntrMask, too_intr_mask & ~TxOK);
    too_xmit(&f, 0, 100);
    g_assert_cmphex(r16(&f, IntrStatus), ==, TxOK);
    g_assert_false(irq(&f));
    w16(&f, IntrStatus, 0xffff);
    w16(&f, IntrMask, too_intr_mask);
    /* Over 1792 bytes: an underrun, not a frame. */
    too_xmit(&f, 1, 1793);
    g_assert_cmpuint(f.sent->len, ==, 9);
    uint32_t tsd = r32(&f, TxStatus0 + 4);
    g_assert_cmphex(tsd & (TxStatOK | TxUnderrun | TxHostOwns), ==, TxUnderrun | TxHostOwns);
    g_assert_cmphex(r16(&f, IntrStatus), ==, TxErr);
    w16(&f, IntrStatus, TxErr);
    /* A buffer outside RAM: a master abort. */
    w32(&f, TxAddr0 + 8, 0xfffff000);
    too_xmit(&f, 2, 200);
    g_assert_cmpuint(f.sent->len, ==, 9);
    g_assert_cmphex(r32(&f, TxStatus0 + 8) & TxUnderrun, ==, TxUnderrun);
    g_assert_cmphex(r16(&f, IntrStatus), ==, TxErr | PCIErr);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x06, 2) & 0x2000, ==, 0x2000);
    hg_pci_config_write(f.pci, DEVFN, 0x06, 0x2000, 2); /* as the handler clears it */
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x06, 2) & 0x2000, ==, 0);
    w16(&f, IntrStatus, 0xffff);
    w32(&f, TxAddr0 + 8, TX_BUFS + 1536 * 2);
    /* Without bus mastering the slot waits; it goes once the transmitter starts again. */
    hg_pci_config_write(f.pci, DEVFN, 0x04, 3, 2);
    too_xmit(&f, 3, 64);
    g_assert_cmpuint(f.sent->len, ==, 9);
    g_assert_cmphex(r32(&f, TxStatus0 + 12) & (TxHostOwns | TxStatOK), ==, 0);
    hg_pci_config_write(f.pci, DEVFN, 0x04, 7, 2);
    w8(&f, ChipCmd, CmdRxEnb);
    w8(&f, ChipCmd, CmdRxEnb | CmdTxEnb);
    g_assert_cmpuint(f.sent->len, ==, 10);
    g_assert_cmphex(r32(&f, TxStatus0 + 12) & TxStatOK, ==, TxStatOK);
    /* Slots go round robin: the next is slot 0; slot 1 written first waits for it. */
    too_xmit(&f, 1, 64);
    g_assert_cmpuint(f.sent->len, ==, 10);
    too_xmit(&f, 0, 61);
    g_assert_cmpuint(f.sent->len, ==, 12);
    g_assert_cmpuint(sent(&f, 10)->len, ==, 61);
    g_assert_cmpuint(sent(&f, 11)->len, ==, 64);
    /* Loopback (TCR LBK 11): the frame comes back into the receive ring. */
    w32(&f, TxConfig, too_tx_config | (3 << 17));
    uint8_t *buf = ram(&f, TX_BUFS + 1536 * 2);
    memcpy(buf, test_mac, 6);
    too_xmit(&f, 2, 80);
    g_assert_cmpuint(f.sent->len, ==, 12);
    uint32_t hdr = get32(&f, RX_RING);
    g_assert_cmphex(hdr & 0xffff, ==, RxPhysical | RxStatusOK);
    g_assert_cmpuint(hdr >> 16, ==, 84);
    g_assert_cmpmem(ram(&f, RX_RING + 4), 80, buf, 80);
    fx_free(&f);
}

/* ---- classic receive ---- */

/* What rtl8139_rx reads: the frames waiting in the ring from *cur_rx, each checked against
 * its expected length and type, CAPR moved after each. Returns how many. */
static int too_rx(Fx *f, uint32_t *cur_rx, uint32_t ring_len, bool wrap_copy, const uint8_t *expect,
                  size_t expect_len, uint16_t type)
{
    int n = 0;
    while (!(r8(f, ChipCmd) & RxBufEmpty)) {
        uint32_t off = *cur_rx % ring_len;
        uint32_t status = get32(f, RX_RING + off);
        uint32_t rx_size = status >> 16;
        g_assert_cmphex(status & 0xffff, ==, RxStatusOK | type);
        size_t plen = expect_len < 60 ? 60 : expect_len;
        g_assert_cmpuint(rx_size, ==, plen + 4);
        uint8_t got[2048];
        for (uint32_t i = 0; i < rx_size; i++) {
            uint32_t at = off + 4 + i;
            if (wrap_copy)
                at %= ring_len;
            got[i] = *ram(f, RX_RING + at);
        }
        g_assert_cmpmem(got, expect_len, expect, expect_len);
        for (size_t i = expect_len; i < plen; i++)
            g_assert_cmpuint(got[i], ==, 0);
        uint8_t crc[4];
        uint32_t c = fcs(got, plen);
        for (int i = 0; i < 4; i++)
            crc[i] = (uint8_t)(c >> (8 * i));
        g_assert_cmpmem(got + plen, 4, crc, 4);
        *cur_rx = (*cur_rx + rx_size + 4 + 3) & ~3u;
        g_assert_cmpuint(*cur_rx % 4, ==, 0);
        w16(f, RxBufPtr, (uint16_t)(*cur_rx - 16));
        w16(f, IntrStatus, RxOK | RxOverflow | RxFIFOOver);
        n++;
    }
    return n;
}

static size_t make_frame(uint8_t *b, const uint8_t *dst, size_t len, int seed)
{
    memcpy(b, dst, 6);
    memcpy(b + 6, peer_mac, 6);
    b[12] = 0x08;
    b[13] = 0x06;
    for (size_t i = 14; i < len; i++)
        b[i] = (uint8_t)(i * 13 + (size_t)seed);
    return len;
}

static void test_classic_rx(void)
{
    Fx f;
    fx_init(&f, false);
    /* 8139too's own setup: 32 KiB, WRAP (frames run on past the end), APM and AB. */
    too_hw_start(&f, too_rx_config | AcceptMyPhys | AcceptBroadcast);
    g_assert_cmpuint(r8(&f, ChipCmd) & RxBufEmpty, ==, RxBufEmpty);
    uint32_t cur_rx = 0;
    uint8_t b[1600];
    int total = 0;
    for (int k = 0; k < 60; k++) {
        size_t len = make_frame(b, test_mac, 42 + (size_t)(k * 97) % 1473, k);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
        g_assert_true(irq(&f));
        g_assert_cmphex(r16(&f, IntrStatus) & RxOK, ==, RxOK);
        g_assert_cmpint(too_rx(&f, &cur_rx, 32768, false, b, len, RxPhysical), ==, 1);
        g_assert_false(irq(&f));
        total++;
    }
    g_assert_cmpuint(cur_rx, >, 32768); /* it went past the end at least once */
    /* The filter: other unicast dropped, broadcast taken, multicast only by its hash. */
    uint8_t other[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
    make_frame(b, other, 100, 1);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 100), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpuint(r8(&f, ChipCmd) & RxBufEmpty, ==, RxBufEmpty);
    make_frame(b, bcast, 100, 2);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 100), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpint(too_rx(&f, &cur_rx, 32768, false, b, 100, RxBroadcast), ==, 1);
    make_frame(b, mcast, 100, 3);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 100), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpuint(r8(&f, ChipCmd) & RxBufEmpty, ==, RxBufEmpty);
    /* __set_rx_mode with one multicast address: AM and its bit in MAR. */
    uint32_t mc_filter[2] = {0, 0};
    int bit_nr = (int)(bitrev32(crc32_le_reg(mcast, 6)) >> 26);
    mc_filter[bit_nr >> 5] |= 1u << (bit_nr & 31);
    w32(&f, RxConfig, too_rx_config | AcceptMyPhys | AcceptBroadcast | AcceptMulticast);
    w32(&f, MAR0, mc_filter[0]);
    w32(&f, MAR0 + 4, mc_filter[1]);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 100), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpint(too_rx(&f, &cur_rx, 32768, false, b, 100, RxMulticast), ==, 1);
    mcast[5] ^= 1; /* another group, another bit */
    int other_bit = (int)(bitrev32(crc32_le_reg(mcast, 6)) >> 26);
    g_assert_cmpint(other_bit, !=, bit_nr);
    make_frame(b, mcast, 100, 4);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 100), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpuint(r8(&f, ChipCmd) & RxBufEmpty, ==, RxBufEmpty);
    /* Promiscuous: everything, with the type bits of what it is. */
    w32(&f, RxConfig, too_rx_config | 0x0f);
    make_frame(b, other, 70, 5);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 70), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpint(too_rx(&f, &cur_rx, 32768, false, b, 70, 0), ==, 1);
    /* Without AB, broadcast is dropped. */
    w32(&f, RxConfig, too_rx_config | AcceptMyPhys);
    make_frame(b, bcast, 100, 6);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 100), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpuint(r8(&f, ChipCmd) & RxBufEmpty, ==, RxBufEmpty);
    /* A short frame is padded to 60 bytes (64 with CRC). */
    make_frame(b, test_mac, 20, 7);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 20), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpint(too_rx(&f, &cur_rx, 32768, false, b, 20, RxPhysical), ==, 1);
    fx_free(&f);
}

/* An 8 KiB ring filled until a frame meets the end, with and without WRAP. */
static void test_classic_wrap(void)
{
    for (int wrap = 0; wrap < 2; wrap++) {
        Fx f;
        fx_init(&f, false);
        uint32_t rcr = (7 << 13) | (7 << 8) | AcceptMyPhys | (wrap ? RxNoWrap : 0);
        too_hw_start(&f, rcr);
        memset(ram(&f, RX_RING), 0xee, 8192 + 16 + 2048);
        uint32_t cur_rx = 0;
        uint8_t b[1600];
        /* 1000-byte frames take 1008 bytes: the 9th starts at 8064 and crosses 8192. */
        uint8_t start[880];
        for (int k = 0; k < 9; k++) {
            size_t len = make_frame(b, test_mac, 1000, k);
            if (k == 8)
                memcpy(start, ram(&f, RX_RING), sizeof(start));
            g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
            if (k < 8)
                g_assert_cmpint(too_rx(&f, &cur_rx, 8192, false, b, len, RxPhysical), ==, 1);
        }
        g_assert_cmpuint(cur_rx, ==, 8064);
        g_assert_cmpuint(r16(&f, RxBufAddr), ==, (8064 + 1008) % 8192);
        if (wrap) {
            /* The frame runs on past the ring into the guest's spare room. */
            g_assert_cmpmem(ram(&f, RX_RING + 8064 + 4), 1000, b, 1000);
            g_assert_cmpmem(ram(&f, RX_RING), sizeof(start), start, sizeof(start));
            g_assert_cmpint(too_rx(&f, &cur_rx, 8192, false, b, 1000, RxPhysical), ==, 1);
        } else {
            /* It wraps: the tail is at the ring's start; nothing beyond the ring. */
            g_assert_cmpmem(ram(&f, RX_RING + 8064 + 4), 124, b, 124);
            g_assert_cmpmem(ram(&f, RX_RING), 1000 - 124, b + 124, 1000 - 124);
            g_assert_cmpuint(*ram(&f, RX_RING + 8192), ==, 0xee);
            g_assert_cmpint(too_rx(&f, &cur_rx, 8192, true, b, 1000, RxPhysical), ==, 1);
        }
        g_assert_cmpuint(cur_rx % 8192, ==, 880);
        /* Fill the ring without reading: frames wait with NO_ROOM once it is full, and
         * rx_ready comes as soon as CAPR moves. */
        int taken = 0;
        HgNicRx res;
        while ((res = hg_rtl8139_receive(f.nic, b, 1000)) == HG_NIC_RX_TAKEN)
            taken++;
        g_assert_cmpint(res, ==, HG_NIC_RX_NO_ROOM);
        g_assert_cmpint(taken, ==, 8); /* a ninth would leave CBR on CAPR + 16 or past it */
        g_assert_cmpuint(r32(&f, RxMissed), ==, 0);
        /* The refusal raises RXOVW (nothing is missed: the frame waits with the board). */
        g_assert_cmphex(r16(&f, IntrStatus) & RxOverflow, ==, RxOverflow);
        w16(&f, IntrStatus, RxOverflow);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 1000), ==, HG_NIC_RX_NO_ROOM);
        int before = f.rx_ready;
        uint32_t off = cur_rx % 8192;
        uint32_t rx_size = get32(&f, RX_RING + off) >> 16;
        cur_rx = (cur_rx + rx_size + 4 + 3) & ~3u;
        w16(&f, RxBufPtr, (uint16_t)(cur_rx - 16));
        g_assert_cmpint(f.rx_ready, ==, before + 1);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 1000), ==, HG_NIC_RX_TAKEN);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 1000), ==, HG_NIC_RX_NO_ROOM);
        int left = too_rx(&f, &cur_rx, 8192, !wrap, b, 1000, RxPhysical);
        g_assert_cmpint(left, ==, 8);
        /* The receiver off: frames wait; turning it on restarts the ring at 0 and tells
         * the board. */
        w8(&f, ChipCmd, CmdTxEnb);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 1000), ==, HG_NIC_RX_NO_ROOM);
        before = f.rx_ready;
        w8(&f, ChipCmd, CmdRxEnb | CmdTxEnb);
        g_assert_cmpint(f.rx_ready, ==, before + 1);
        g_assert_cmpuint(r16(&f, RxBufAddr), ==, 0);
        g_assert_cmphex(r16(&f, RxBufPtr), ==, 0xfff0);
        cur_rx = 0;
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, 1000), ==, HG_NIC_RX_TAKEN);
        g_assert_cmpint(too_rx(&f, &cur_rx, 8192, !wrap, b, 1000, RxPhysical), ==, 1);
        fx_free(&f);
    }
}

/* ---- C+ transmit ---- */

/* A TX descriptor of 8139cp's ring at CP_RINGS + 1024. */
static void cp_txd(Fx *f, int i, uint32_t opts1, uint32_t opts2, uint32_t addr)
{
    uint32_t d = CP_RINGS + 1024 + 16u * (uint32_t)i;
    put32(f, d + 4, opts2);
    put32(f, d + 8, addr);
    put32(f, d + 12, 0);
    put32(f, d, opts1 | (i == 63 ? RingEnd : 0));
}

static uint32_t cp_txd_opts1(Fx *f, int i)
{
    return get32(f, CP_RINGS + 1024 + 16u * (uint32_t)i);
}

/* A frame split over descriptors first..first+parts-1, as cp_start_xmit queues an skb
 * with fragments (the first descriptor written last), then the TxPoll doorbell. */
static void cp_xmit(Fx *f, int first, const uint8_t *frame, size_t len, int parts, uint32_t opts,
                    uint32_t opts2)
{
    size_t cut[8];
    for (int p = 0; p < parts; p++)
        cut[p] = len * (size_t)p / (size_t)parts;
    cut[parts] = len;
    memcpy(ram(f, FRAMES), frame, len);
    for (int p = parts - 1; p >= 0; p--) {
        uint32_t o = DescOwn | opts | (uint32_t)(cut[p + 1] - cut[p]);
        if (p == 0)
            o |= FirstFrag;
        if (p == parts - 1)
            o |= LastFrag;
        cp_txd(f, (first + p) % 64, o, opts2, FRAMES + (uint32_t)cut[p]);
    }
    w8(f, TxPoll, NormalTxPoll);
}

/* What cp_tx checks of a finished descriptor. */
static void assert_tx_done(Fx *f, int i, bool last)
{
    uint32_t st = cp_txd_opts1(f, i);
    g_assert_cmphex(st & DescOwn, ==, 0);
    if (last) {
        g_assert_cmphex(st & (TxError | TxFIFOUnder), ==, 0);
        g_assert_cmphex((st >> 16) & 0xf, ==, 0); /* no collisions */
    }
}

static void test_cplus_tx(void)
{
    Fx f;
    fx_init(&f, true);
    cp_init(&f, 64, 1536);
    uint8_t b[9000];
    /* An empty poll: TDU. */
    w8(&f, TxPoll, NormalTxPoll);
    g_assert_cmphex(r16(&f, IntrStatus) & TxEmpty, ==, TxEmpty);
    w16(&f, IntrStatus, 0xffff);
    /* Frames in one to four fragments, around the ring's end (EOR at 63). */
    int entry = 0;
    for (int k = 0; k < 40; k++) {
        size_t len = make_frame(b, peer_mac, 60 + (size_t)k * 37, k);
        int parts = 1 + k % 4;
        cp_xmit(&f, entry, b, len, parts, 0, 0);
        g_assert_cmpuint(f.sent->len, ==, (guint)k + 1);
        GByteArray *a = sent(&f, (guint)k);
        g_assert_cmpmem(a->data, a->len, b, len);
        for (int p = 0; p < parts; p++)
            assert_tx_done(&f, (entry + p) % 64, p == parts - 1);
        g_assert_cmphex(r16(&f, TxDmaOkLowDesc), ==,
                        (CP_RINGS + 1024 + 16 * ((entry + parts - 1) % 64)) & 0xffff);
        g_assert_true(irq(&f));
        g_assert_cmphex(r16(&f, IntrStatus), ==, TxOK);
        w16(&f, IntrStatus, TxOK);
        entry = (entry + parts) % 64;
    }
    g_assert_cmpint(entry, <, 40); /* it went round */
    /* A frame whose last fragment is still the driver's waits for it. */
    size_t len = make_frame(b, peer_mac, 300, 99);
    memcpy(ram(&f, FRAMES), b, len);
    cp_txd(&f, entry, DescOwn | FirstFrag | 100, 0, FRAMES);
    cp_txd(&f, (entry + 1) % 64, LastFrag | 200, 0, FRAMES + 100);
    w8(&f, TxPoll, NormalTxPoll);
    g_assert_cmpuint(f.sent->len, ==, 40);
    g_assert_cmphex(cp_txd_opts1(&f, entry) & DescOwn, ==, DescOwn);
    cp_txd(&f, (entry + 1) % 64, DescOwn | LastFrag | 200, 0, FRAMES + 100);
    w8(&f, TxPoll, NormalTxPoll);
    g_assert_cmpuint(f.sent->len, ==, 41);
    g_assert_cmpmem(sent(&f, 40)->data, sent(&f, 40)->len, b, len);
    entry = (entry + 2) % 64;
    /* The high-priority ring (THPDS), polled with HPQ. */
    w32(&f, HiTxRingAddr, CP_HIRING);
    memcpy(ram(&f, FRAMES + 0x1000), b, len);
    put32(&f, CP_HIRING + 4, 0);
    put32(&f, CP_HIRING + 8, FRAMES + 0x1000);
    put32(&f, CP_HIRING + 12, 0);
    put32(&f, CP_HIRING, DescOwn | RingEnd | FirstFrag | LastFrag | (uint32_t)len);
    w8(&f, TxPoll, HighTxPoll);
    g_assert_cmpuint(f.sent->len, ==, 42);
    g_assert_cmphex(get32(&f, CP_HIRING) & DescOwn, ==, 0);
    /* The software interrupt bit of TxPoll. */
    w16(&f, IntrStatus, 0xffff);
    w8(&f, TxPoll, 0x01);
    g_assert_cmphex(r16(&f, IntrStatus) & SWInt, ==, SWInt);
    w16(&f, IntrStatus, 0xffff);
    /* A VLAN tag from opts2 (the TCI byte-swapped, as cp_tx_vlan_tag puts it). */
    uint16_t tci = 0x2005;
    cp_xmit(&f, entry, b, len, 2, 0, TxVlanTag | (uint32_t)((tci >> 8) | (tci & 0xff) << 8));
    GByteArray *a = sent(&f, 42);
    g_assert_cmpuint(a->len, ==, len + 4);
    g_assert_cmpmem(a->data, 12, b, 12);
    g_assert_cmphex(be16(a->data + 12), ==, 0x8100);
    g_assert_cmphex(be16(a->data + 14), ==, tci);
    g_assert_cmpmem(a->data + 16, a->len - 16, b + 12, len - 12);
    entry = (entry + 2) % 64;
    fx_free(&f);
}

static void test_cplus_csum(void)
{
    Fx f;
    fx_init(&f, true);
    cp_init(&f, 64, 1536);
    uint8_t b[2000];
    int entry = 0;
    /* TCP and UDP, odd and even lengths, split so the checksummed fields straddle
     * fragments; the stored checksums are garbage the chip must replace. */
    for (int k = 0; k < 12; k++) {
        bool tcp = k % 2 == 0;
        size_t len = make_ip_frame(b, peer_mac, tcp ? 6 : 17, 1 + (size_t)k * 111, 1000, 0x18);
        uint32_t opts = IPCS | (tcp ? TCPCS : UDPCS);
        int parts = 1 + k % 3;
        cp_xmit(&f, entry, b, len, parts, opts, 0);
        entry = (entry + parts) % 64;
        GByteArray *a = sent(&f, (guint)k);
        g_assert_cmpuint(a->len, ==, len);
        g_assert_true(ip_csum_ok(a->data + 14));
        g_assert_true(l4_csum_ok(a->data + 14));
        /* Only the checksum fields changed. */
        uint8_t *ip = a->data + 14;
        memcpy(b + 14 + 10, ip + 10, 2);
        memcpy(b + 34 + (tcp ? 16 : 6), ip + 20 + (tcp ? 16 : 6), 2);
        g_assert_cmpmem(a->data, a->len, b, len);
    }
    /* Without the offload bits the frame goes as it is. */
    size_t len = make_ip_frame(b, peer_mac, 6, 100, 1, 0x10);
    cp_xmit(&f, entry, b, len, 1, 0, 0);
    g_assert_cmpmem(sent(&f, 12)->data, sent(&f, 12)->len, b, len);
    fx_free(&f);
}

static void test_cplus_tso(void)
{
    Fx f;
    fx_init(&f, true);
    cp_init(&f, 64, 1536);
    enum { PAYLOAD = 20 * 1024, MSS = 1460 };
    static uint8_t b[PAYLOAD + 100];
    uint32_t seq0 = 0xfffff000u; /* the sequence numbers wrap on the way */
    /* ACK | PSH | FIN | CWR on the super-frame. */
    size_t len = make_ip_frame(b, peer_mac, 6, PAYLOAD, seq0, 0x10 | 0x08 | 0x01 | 0x80);
    /* Headers in the first descriptor, the payload in two more, as a TSO skb comes. */
    memcpy(ram(&f, FRAMES), b, len);
    uint32_t o = DescOwn | LargeSend | (uint32_t)MSS << 16;
    cp_txd(&f, 2, o | LastFrag | (uint32_t)(len - 54 - 9000), 0, FRAMES + 54 + 9000);
    cp_txd(&f, 1, o | 9000, 0, FRAMES + 54);
    cp_txd(&f, 0, o | FirstFrag | 54, 0, FRAMES);
    w8(&f, TxPoll, NormalTxPoll);
    guint nseg = (PAYLOAD + MSS - 1) / MSS;
    g_assert_cmpuint(f.sent->len, ==, nseg);
    for (guint i = 0; i < nseg; i++) {
        GByteArray *a = sent(&f, i);
        size_t seg = i < nseg - 1 ? MSS : PAYLOAD - MSS * (nseg - 1);
        g_assert_cmpuint(a->len, ==, 54 + seg);
        g_assert_cmpmem(a->data, 14, b, 14);
        uint8_t *ip = a->data + 14, *tcp = ip + 20;
        g_assert_cmpuint(be16(ip + 2), ==, 40 + seg);
        g_assert_cmphex(be16(ip + 4), ==, (0x1234 + i) & 0xffff);
        g_assert_true(ip_csum_ok(ip));
        g_assert_true(l4_csum_ok(ip));
        g_assert_cmphex(be32(tcp + 4), ==, seq0 + MSS * i);
        g_assert_cmphex(be32(tcp + 8), ==, 0x01020304);
        uint8_t flags = 0x10 | (i == 0 ? 0x80 : 0) | (i == nseg - 1 ? 0x09 : 0);
        g_assert_cmphex(tcp[13], ==, flags);
        g_assert_cmpmem(tcp + 20, seg, b + 54 + MSS * i, seg);
    }
    /* 8139cp sees three finished descriptors and no error, although the MSS bits it
     * wrote overlap the status bits. */
    for (int i = 0; i < 3; i++)
        assert_tx_done(&f, i, i == 2);
    g_assert_cmphex(r16(&f, IntrStatus), ==, TxOK);
    w16(&f, IntrStatus, 0xffff);
    /* An MSS larger than the payload: one segment, headers fixed all the same. */
    len = make_ip_frame(b, peer_mac, 6, 500, 7, 0x18);
    cp_xmit(&f, 3, b, len, 1, LargeSend | 1460u << 16, 0);
    g_assert_cmpuint(f.sent->len, ==, nseg + 1);
    GByteArray *a = sent(&f, nseg);
    g_assert_cmpuint(a->len, ==, len);
    g_assert_true(ip_csum_ok(a->data + 14) && l4_csum_ok(a->data + 14));
    w16(&f, IntrStatus, 0xffff);
    /* MSS 0, a UDP frame, a TCP header claiming more than the frame: errors, nothing
     * sent, the descriptors given back with TxError. */
    cp_xmit(&f, 4, b, len, 1, LargeSend, 0);
    g_assert_cmphex(cp_txd_opts1(&f, 4) & (DescOwn | TxError), ==, TxError);
    len = make_ip_frame(b, peer_mac, 17, 3000, 0, 0);
    cp_xmit(&f, 5, b, len, 2, LargeSend | 1000u << 16, 0);
    g_assert_cmphex(cp_txd_opts1(&f, 6) & (DescOwn | TxError), ==, TxError);
    len = make_ip_frame(b, peer_mac, 6, 100, 0, 0x10);
    b[34 + 12] = 0xf0;                      /* 60-byte TCP header in a 100-byte payload: fine */
    set_be16(b + 16, 20 + 20 + 100 + 4000); /* IP total length past the frame */
    cp_xmit(&f, 7, b, len, 1, LargeSend | 536u << 16, 0);
    g_assert_cmphex(cp_txd_opts1(&f, 7) & (DescOwn | TxError), ==, TxError);
    g_assert_cmpuint(f.sent->len, ==, nseg + 1);
    g_assert_cmphex(r16(&f, IntrStatus) & (TxErr | TxOK), ==, TxErr);
    fx_free(&f);
}

/* ---- C+ receive ---- */

typedef struct CpRx {
    uint32_t status, opts2, len;
    uint8_t data[9000];
} CpRx;

/* cp_rx_poll for the descriptor at rx_tail: false when it is still the NIC's. The
 * descriptor goes back to the NIC as the driver refills it. */
static bool cp_rx_one(Fx *f, int *rx_tail, int ring, uint32_t buf_sz, CpRx *out)
{
    uint32_t d = CP_RINGS + 16u * (uint32_t)*rx_tail;
    uint32_t status = get32(f, d);
    if (status & DescOwn)
        return false;
    out->status = status;
    out->opts2 = get32(f, d + 4);
    out->len = (status & 0x1fff) - 4;
    memcpy(out->data, ram(f, get32(f, d + 8)), MIN(out->len + 4, buf_sz));
    put32(f, d + 4, 0);
    put32(f, d, DescOwn | (*rx_tail == ring - 1 ? RingEnd : 0) | buf_sz);
    *rx_tail = (*rx_tail + 1) % ring;
    return true;
}

static void test_cplus_rx(void)
{
    Fx f;
    fx_init(&f, true);
    enum { RING = 8 };
    cp_init(&f, RING, 1536);
    static CpRx got;
    uint8_t b[2000];
    int tail = 0;
    /* 20 frames around an 8-descriptor ring (EOR on the last). */
    for (int k = 0; k < 20; k++) {
        size_t len = make_frame(b, test_mac, 42 + (size_t)k * 71, k);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
        g_assert_true(irq(&f));
        g_assert_cmphex(r16(&f, IntrStatus), ==, RxOK);
        w16(&f, IntrStatus, RxOK | RxErr | RxEmpty | RxFIFOOver);
        g_assert_true(cp_rx_one(&f, &tail, RING, 1536, &got));
        g_assert_false(cp_rx_one(&f, &tail, RING, 1536, &got));
        size_t plen = len < 60 ? 60 : len;
        g_assert_cmphex(got.status & (FirstFrag | LastFrag | RxError), ==, FirstFrag | LastFrag);
        g_assert_cmphex(got.status & (RxPAM | RxBAR | RxMcast), ==, RxPAM);
        g_assert_cmphex((got.status >> 16) & 3, ==, 0); /* not IP */
        g_assert_cmpuint(got.len, ==, plen);
        g_assert_cmpmem(got.data, len, b, len);
        uint32_t c = fcs(got.data, plen);
        g_assert_cmphex(got.data[plen] | got.data[plen + 1] << 8 | got.data[plen + 2] << 16 |
                            (uint32_t)got.data[plen + 3] << 24,
                        ==, c);
    }
    /* Checksum status (CpCmd RxChkSum): good TCP, bad TCP, good UDP, bad IP header. */
    struct {
        uint8_t proto;
        int spoil; /* 0 none, 1 L4 sum, 2 IP header sum */
        uint32_t expect;
    } cases[] = {
        {6, 0, 1u << 16},          {6, 1, 1u << 16 | TCPFail},
        {17, 0, 2u << 16},         {17, 1, 2u << 16 | UDPFail},
        {6, 2, 1u << 16 | IPFail},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        size_t len = make_ip_frame(b, test_mac, cases[i].proto, 333, 5, 0x10);
        fix_csums(b);
        if (cases[i].spoil == 1)
            b[14 + 20 + (cases[i].proto == 6 ? 16 : 6)] ^= 0x40;
        else if (cases[i].spoil == 2)
            b[14 + 10] ^= 0x40;
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
        g_assert_true(cp_rx_one(&f, &tail, RING, 1536, &got));
        g_assert_cmphex(got.status & (3u << 16 | IPFail | UDPFail | TCPFail), ==, cases[i].expect);
        g_assert_cmpmem(got.data, len, b, len);
    }
    /* VLAN tag removal into opts2 (CpCmd RxVlanOn). */
    w16(&f, CpCmd, PCIMulRW | RxChkSum | RxVlanOn | CpRxOn | CpTxOn);
    size_t len = make_frame(b, test_mac, 200, 3);
    uint8_t tagged[204];
    memcpy(tagged, b, 12);
    tagged[12] = 0x81;
    tagged[13] = 0x00;
    tagged[14] = 0x30;
    tagged[15] = 0x07;
    memcpy(tagged + 16, b + 12, len - 12);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, tagged, sizeof(tagged)), ==, HG_NIC_RX_TAKEN);
    g_assert_true(cp_rx_one(&f, &tail, RING, 1536, &got));
    g_assert_cmphex(got.opts2, ==, RxVlanTagged | 0x0730);
    g_assert_cmpuint(got.len, ==, len);
    g_assert_cmpmem(got.data, len, b, len);
    /* Broadcast and multicast type bits. */
    uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    len = make_frame(b, bcast, 100, 4);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
    g_assert_true(cp_rx_one(&f, &tail, RING, 1536, &got));
    g_assert_cmphex(got.status & (RxPAM | RxBAR | RxMcast), ==, RxBAR);
    /* Descriptors not given back: RDU and the frame waits; back: it goes in. */
    w16(&f, IntrStatus, 0xffff);
    for (int k = 0; k < RING; k++) {
        len = make_frame(b, test_mac, 500, k);
        g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
    }
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_NO_ROOM);
    g_assert_cmphex(r16(&f, IntrStatus), ==, RxOK | RxEmpty);
    g_assert_cmpuint(r32(&f, RxMissed), ==, 0);
    g_assert_true(cp_rx_one(&f, &tail, RING, 1536, &got));
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
    for (int k = 0; k < RING; k++)
        g_assert_true(cp_rx_one(&f, &tail, RING, 1536, &got));
    g_assert_false(cp_rx_one(&f, &tail, RING, 1536, &got));
    /* Buffers smaller than the frame: it spreads over descriptors, FS first, LS last
     * with the whole length (8139cp counts such frames as errors and recycles them). */
    for (int i = 0; i < RING; i++)
        put32(&f, CP_RINGS + 16u * (uint32_t)i, DescOwn | (i == RING - 1 ? RingEnd : 0) | 256);
    len = make_frame(b, test_mac, 600, 9);
    g_assert_cmpint(hg_rtl8139_receive(f.nic, b, len), ==, HG_NIC_RX_TAKEN);
    uint8_t joined[700];
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t d = CP_RINGS + 16u * (uint32_t)((tail + i) % RING);
        uint32_t st = get32(&f, d);
        g_assert_cmphex(st & DescOwn, ==, 0);
        g_assert_cmphex(st & (FirstFrag | LastFrag), ==,
                        (i == 0 ? FirstFrag : 0) | (i == 2 ? LastFrag : 0));
        size_t n = i == 2 ? 604 - 512 : 256;
        g_assert_cmpuint(st & 0x1fff, ==, i == 2 ? 604 : 256);
        memcpy(joined + at, ram(&f, get32(&f, d + 8)), n);
        at += n;
    }
    g_assert_cmpmem(joined, 600, b, 600);
    fx_free(&f);
}

/* ---- TCTR and TimerInt ---- */

static void test_timer(void)
{
    Fx f;
    fx_init(&f, true);
    w32(&f, Timer, 0); /* any write restarts the count */
    advance(&f, 1000000000);
    uint32_t t = r32(&f, Timer);
    g_assert_cmpuint(t, >=, 33333000);
    g_assert_cmpuint(t, <=, 33334000);
    /* TimerInt: TimeOut when the count reaches it. */
    w16(&f, IntrMask, TimerIntr);
    w32(&f, Timer, 0);
    w32(&f, TimerInt, 3333333); /* 100 ms */
    advance(&f, 99000000);
    g_assert_false(irq(&f));
    advance(&f, 2000000);
    g_assert_true(irq(&f));
    g_assert_cmphex(r16(&f, IntrStatus), ==, TimerIntr);
    w16(&f, IntrStatus, TimerIntr);
    g_assert_false(irq(&f));
    /* Not again until the 32-bit count comes round (about 129 s). */
    advance(&f, 10000000000ull);
    g_assert_false(irq(&f));
    /* 0 turns it off. */
    w32(&f, TimerInt, 0);
    advance(&f, 200000000000ull);
    g_assert_false(irq(&f));
    fx_free(&f);
}

/* ---- saved states ---- */

static GBytes *save(Fx *f)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_pci_save(f->pci, &w);
    hg_rtl8139_save(f->nic, &w);
    return hg_state_writer_finish(&w);
}

static bool load(Fx *f, GBytes *b, GError **err)
{
    HgStateReader r;
    gsize len;
    const void *p = g_bytes_get_data(b, &len);
    hg_state_reader_init(&r, p, len);
    hg_pci_load(f->pci, &r);
    hg_rtl8139_load(f->nic, &r);
    if (r.error) {
        g_propagate_error(err, r.error);
        return false;
    }
    return true;
}

/* The other machine: the same RAM and the same time. */
static void clone_into(Fx *f, Fx *g, GBytes *state)
{
    memcpy(hg_bus_ram(g->bus), hg_bus_ram(f->bus), RAM);
    g->insns = f->insns;
    GError *err = NULL;
    g_assert_true(load(g, state, &err));
    g_assert_no_error(err);
}

/* The machine and its clone went the same way: same RAM, same state. */
static void assert_same_and_free(Fx *f, Fx *g)
{
    g_assert_cmpmem(hg_bus_ram(f->bus), RAM, hg_bus_ram(g->bus), RAM);
    GBytes *sf = save(f), *sg = save(g);
    g_assert_true(g_bytes_equal(sf, sg));
    g_bytes_unref(sf);
    g_bytes_unref(sg);
    fx_free(g);
    fx_free(f);
}

static void test_save_load_classic(void)
{
    Fx f, g;
    fx_init(&f, false);
    too_hw_start(&f, too_rx_config | AcceptMyPhys);
    w16(&f, IntrMask, too_intr_mask | PCSTimeout);
    w32(&f, TimerInt, 5000000);
    uint8_t b[1600];
    for (int k = 0; k < 5; k++) {
        size_t len = make_frame(b, test_mac, 300 + (size_t)k, k);
        hg_rtl8139_receive(f.nic, b, len);
    }
    advance(&f, 1000000);
    /* Mid-way through an EEPROM read: command sent, 5 of 16 data bits clocked. */
    w8(&f, Cfg9346, 0x80);
    w8(&f, Cfg9346, 0x88);
    for (int i = 8; i >= 0; i--) {
        int dv = ((8 | (6 << 6)) & (1 << i)) ? 2 : 0;
        w8(&f, Cfg9346, 0x88 | dv);
        w8(&f, Cfg9346, 0x88 | dv | 4);
    }
    w8(&f, Cfg9346, 0x88);
    unsigned word = 0;
    for (int i = 0; i < 5; i++) {
        w8(&f, Cfg9346, 0x88 | 4);
        word = word << 1 | (r8(&f, Cfg9346) & 1);
        w8(&f, Cfg9346, 0x88);
    }
    GBytes *state = save(&f);
    fx_init(&g, false);
    clone_into(&f, &g, state);
    GBytes *again = save(&g);
    g_assert_true(g_bytes_equal(state, again));
    g_bytes_unref(again);
    /* Both go on alike: the rest of the EEPROM word, the interrupt line, the timer, a
     * transmit and more frames. */
    Fx *both[2] = {&f, &g};
    unsigned words[2];
    for (int m = 0; m < 2; m++) {
        Fx *x = both[m];
        unsigned w = word;
        for (int i = 0; i < 11; i++) {
            w8(x, Cfg9346, 0x88 | 4);
            w = w << 1 | (r8(x, Cfg9346) & 1);
            w8(x, Cfg9346, 0x88);
        }
        w8(x, Cfg9346, 0);
        words[m] = w;
        g_assert_true(irq(x)); /* RxOK pending since the frames */
        w16(x, IntrStatus, 0xffff);
        g_assert_false(irq(x));
        advance(x, 200000000);
        g_assert_true(irq(x)); /* the timer, re-armed on the clock */
        make_frame(b, peer_mac, 100, 42);
        memcpy(ram(x, TX_BUFS), b, 100);
        too_xmit(x, 0, 100);
        g_assert_cmpuint(x->sent->len, ==, 1);
        size_t len = make_frame(b, test_mac, 700, 9);
        g_assert_cmpint(hg_rtl8139_receive(x->nic, b, len), ==, HG_NIC_RX_TAKEN);
    }
    g_assert_cmphex(words[0], ==, (uint32_t)(test_mac[2] | test_mac[3] << 8));
    g_assert_cmphex(words[1], ==, words[0]);
    assert_same_and_free(&f, &g);
    g_bytes_unref(state);
}

static void test_save_load_cplus(void)
{
    Fx f, g;
    fx_init(&f, true);
    cp_init(&f, 16, 1536);
    uint8_t b[4000];
    /* Some frames in, some out, the ring indexes off zero, a frame half queued. */
    for (int k = 0; k < 5; k++) {
        size_t len = make_frame(b, test_mac, 100 + (size_t)k, k);
        hg_rtl8139_receive(f.nic, b, len);
    }
    size_t len = make_ip_frame(b, peer_mac, 6, 3000, 1, 0x18);
    cp_xmit(&f, 0, b, len, 2, LargeSend | 1000u << 16, 0);
    g_assert_cmpuint(f.sent->len, ==, 3);
    memcpy(ram(&f, FRAMES), b, len);
    cp_txd(&f, 2, DescOwn | FirstFrag | 54, 0, FRAMES);
    GBytes *state = save(&f);
    fx_init(&g, true);
    clone_into(&f, &g, state);
    Fx *both[2] = {&f, &g};
    for (int m = 0; m < 2; m++) {
        Fx *x = both[m];
        /* The last fragment arrives: the frame goes from descriptor 2 on. */
        memcpy(ram(x, FRAMES), b, len);
        cp_txd(x, 3, DescOwn | LastFrag | (uint32_t)(len - 54), 0, FRAMES + 54);
        w8(x, TxPoll, NormalTxPoll);
        GByteArray *a = sent(x, m == 0 ? 3 : 0);
        g_assert_cmpmem(a->data, a->len, b, len);
        for (int k = 0; k < 12; k++) {
            size_t n = make_frame(b, test_mac, 200 + (size_t)k, k);
            HgNicRx res = hg_rtl8139_receive(x->nic, b, n);
            g_assert_cmpint(res, ==, k < 11 ? HG_NIC_RX_TAKEN : HG_NIC_RX_NO_ROOM);
        }
        len = make_ip_frame(b, peer_mac, 6, 3000, 1, 0x18);
    }
    assert_same_and_free(&f, &g);
    g_bytes_unref(state);
}

static GBytes *save_nic(Fx *f)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_rtl8139_save(f->nic, &w);
    return hg_state_writer_finish(&w);
}

/* Offset of the card's section payload in a state from save(). */
static gsize nic_payload(GBytes *b)
{
    gsize len;
    const uint8_t *p = g_bytes_get_data(b, &len);
    for (gsize i = 0; i + 40 < len; i++)
        if (!memcmp(p + i, "rtl8139\0", 8))
            return i + 40;
    g_assert_not_reached();
}

static GBytes *patched(GBytes *b, gsize off, const void *v, gsize n)
{
    gsize len;
    const uint8_t *p = g_bytes_get_data(b, &len);
    uint8_t *c = g_memdup2(p, len);
    g_assert_cmpuint(off + n, <=, len);
    memcpy(c + off, v, n);
    return g_bytes_new_take(c, len);
}

static void test_lying_state(void)
{
    Fx f, g;
    fx_init(&f, false);
    too_hw_start(&f, too_rx_config | AcceptMyPhys);
    uint8_t b[200];
    make_frame(b, test_mac, 200, 1);
    hg_rtl8139_receive(f.nic, b, 200);
    GBytes *good = save(&f);
    gsize body = nic_payload(good);
    fx_init(&g, false);
    GBytes *before = save_nic(&g);
    /* Payload layout: variant (0), registers (1-256), TSD/TSAD pairs (257-288), RBSTART
     * (289), CR (293), CAPR (294), CBR (296). */
    const uint8_t cplus = 1, cr = 0xff;
    const uint8_t cbr_far[2] = {0xfe, 0xff};
    struct {
        gsize off;
        const void *v;
        gsize n;
        const char *why;
    } lies[] = {
        {body, &cplus, 1, "is of an RTL8139C+ and this card is an RTL8139C"},
        {body + 293, &cr, 1, "impossible command"},
        {body + 296, cbr_far, 2, "receive write pointer"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lies); i++) {
        GBytes *bad = patched(good, lies[i].off, lies[i].v, lies[i].n);
        GError *err = NULL;
        g_assert_false(load(&g, bad, &err));
        g_assert_nonnull(err);
        g_assert_nonnull(strstr(err->message, lies[i].why));
        g_error_free(err);
        g_bytes_unref(bad);
        /* Refused whole: the card is as it was. */
        GBytes *now = save_nic(&g);
        g_assert_true(g_bytes_equal(now, before));
        g_bytes_unref(now);
    }
    /* Truncated. */
    gsize len;
    const uint8_t *p = g_bytes_get_data(good, &len);
    GBytes *cut = g_bytes_new(p, len - 7);
    GError *err = NULL;
    g_assert_false(load(&g, cut, &err));
    g_clear_error(&err);
    g_bytes_unref(cut);
    /* A classic state offered to a C+ card. */
    Fx h;
    fx_init(&h, true);
    g_assert_false(load(&h, good, &err));
    g_assert_nonnull(strstr(err->message, "RTL8139C and this card is an RTL8139C+"));
    g_clear_error(&err);
    /* Random lies: refused (card unchanged) or taken and then harmless. */
    GRand *rand = g_rand_new_with_seed(8139);
    for (int k = 0; k < 3000; k++) {
        uint8_t junk[4];
        for (int i = 0; i < 4; i++)
            junk[i] = (uint8_t)g_rand_int(rand);
        gsize off = body + (gsize)g_rand_int_range(rand, 0, (gint32)(len - body - 4));
        GBytes *bad = patched(good, off, junk, (gsize)g_rand_int_range(rand, 1, 5));
        GBytes *prev = save_nic(&g);
        if (load(&g, bad, &err)) {
            hg_rtl8139_receive(g.nic, b, 200);
            w32(&g, TxStatus0, 100);
            w8(&g, TxPoll, 0x40);
            advance(&g, 1000000);
        } else {
            g_clear_error(&err);
            GBytes *now = save_nic(&g);
            g_assert_true(g_bytes_equal(now, prev));
            g_bytes_unref(now);
        }
        g_bytes_unref(prev);
        g_bytes_unref(bad);
    }
    g_rand_free(rand);
    g_bytes_unref(before);
    g_bytes_unref(good);
    fx_free(&h);
    fx_free(&g);
    fx_free(&f);
}

/* ---- a hostile guest ---- */

static uint32_t rand_addr(GRand *r)
{
    switch (g_rand_int_range(r, 0, 6)) {
    case 0: return g_rand_int(r);                              /* anywhere */
    case 1: return RAM - (uint32_t)g_rand_int_range(r, 0, 64); /* the end of RAM */
    case 2: return 0xfffff000u + (uint32_t)g_rand_int_range(r, 0, 4096);
    default: return (uint32_t)g_rand_int_range(r, 0, RAM); /* inside RAM */
    }
}

static uint32_t rand_value(GRand *r)
{
    switch (g_rand_int_range(r, 0, 5)) {
    case 0: return 0;
    case 1: return 0xffffffffu;
    case 2: return 1u << g_rand_int_range(r, 0, 32);
    default: return g_rand_int(r);
    }
}

static void hostile(bool cplus, uint32_t seed)
{
    Fx f;
    fx_init(&f, cplus);
    GRand *r = g_rand_new_with_seed(seed);
    uint8_t *mem = hg_bus_ram(f.bus);
    /* Rings and buffers full of noise, descriptors mostly owned by the NIC. */
    for (uint32_t i = 0; i < 0x20000; i += 4)
        put32(&f, CP_RINGS + i, g_rand_int(r));
    for (uint32_t i = 0; i < 128; i++) {
        uint32_t d = CP_RINGS + 16 * i;
        put32(&f, d, get32(&f, d) | DescOwn);
        put32(&f, d + 12, g_rand_int_range(r, 0, 8) ? 0 : g_rand_int(r));
        if (g_rand_int_range(r, 0, 4))
            put32(&f, d + 8, (uint32_t)g_rand_int_range(r, 0, RAM));
    }
    static const uint8_t hot[] = {
        TxStatus0,     TxStatus0 + 4, TxStatus0 + 8, TxStatus0 + 12, TxAddr0,        TxAddr0 + 4,
        TxAddr0 + 8,   TxAddr0 + 12,  RxBuf,         ChipCmd,        RxBufPtr,       IntrMask,
        IntrStatus,    TxConfig,      RxConfig,      Timer,          TimerInt,       Cfg9346,
        BasicModeCtrl, TxPoll,        CpCmd,         RxRingAddr,     RxRingAddr + 4, 0x5c,
        MAC0,          MAR0,          Config1,       Config3,
    };
    uint8_t frame[5000];
    int txc = 0; /* where the transmitter is likely to look next */
    for (int k = 0; k < 20000; k++) {
        if (k % 100 == 0 && g_rand_int_range(r, 0, 3)) {
            /* Now and then the driver sets the card up properly, so that the noise meets
             * a running transmitter and receiver rather than a card long since reset. */
            hg_pci_config_write(f.pci, DEVFN, 0x04, 7, 2);
            f.mmio = cplus;
            txc = 0;
            if (cplus)
                cp_init(&f, g_rand_int_range(r, 1, 65), 1536);
            else
                too_hw_start(&f, too_rx_config | AcceptMyPhys | AcceptBroadcast);
        }
        int what = g_rand_int_range(r, 0, 1000);
        if (what < 250) {
            uint32_t off = g_rand_int_range(r, 0, 3) ? hot[g_rand_int_range(r, 0, sizeof(hot))]
                                                     : (uint32_t)g_rand_int_range(r, 0, 256);
            int size = 1 << g_rand_int_range(r, 0, 3);
            uint32_t v = rand_value(r);
            if (off == TxAddr0 || off == RxBuf || off == RxRingAddr || off == TxAddr0 + 8) {
                /* Often the rings where the descriptors are, else anywhere. */
                static const uint32_t rings[] = {CP_RINGS, CP_RINGS + 1024, CP_RINGS + 0x800,
                                                 RX_RING};
                v = g_rand_int_range(r, 0, 2) ? rings[g_rand_int_range(r, 0, 4)] : rand_addr(r);
                size = 4;
            }
            if ((off == TxAddr0 + 4 || off == TxAddr0 + 12 || off == RxRingAddr + 4) &&
                g_rand_int_range(r, 0, 4))
                v = 0;
            if (off == ChipCmd && g_rand_int_range(r, 0, 2))
                v = CmdRxEnb | CmdTxEnb;
            if (off == CpCmd && g_rand_int_range(r, 0, 2))
                v = CpRxOn | CpTxOn | RxChkSum | RxVlanOn;
            if (off == TxPoll)
                v = g_rand_int_range(r, 0, 2) ? NormalTxPoll : HighTxPoll | 1;
            f.mmio = g_rand_int_range(r, 0, 2);
            wr(&f, off, v, size);
        } else if (what < 350) {
            f.mmio = g_rand_int_range(r, 0, 2);
            rd(&f, (uint32_t)g_rand_int_range(r, 0, 256), 1 << g_rand_int_range(r, 0, 3));
        } else if (what < 600) {
            size_t len = (size_t)g_rand_int_range(r, 0, (gint32)sizeof(frame));
            for (size_t i = 0; i < len; i++)
                frame[i] = (uint8_t)g_rand_int(r);
            if (len >= 6 && g_rand_int_range(r, 0, 2))
                memcpy(frame, test_mac, 6);
            if (len >= 600 && g_rand_int_range(r, 0, 2)) {
                /* A good TCP or UDP frame, maybe tagged, maybe spoilt a little. */
                len = make_ip_frame(frame, test_mac, g_rand_int_range(r, 0, 2) ? 6 : 17,
                                    (size_t)g_rand_int_range(r, 0, 1400), 1, 0x18);
                fix_csums(frame);
                for (int k2 = g_rand_int_range(r, 0, 3); k2 > 0; k2--)
                    frame[g_rand_int_range(r, 12, (gint32)len)] ^= (uint8_t)g_rand_int(r);
                if (g_rand_int_range(r, 0, 3) == 0) {
                    memmove(frame + 16, frame + 12, len - 12);
                    frame[12] = 0x81;
                    frame[13] = 0x00;
                    len += 4;
                }
            } else if (len >= 14 && g_rand_int_range(r, 0, 2)) {
                /* Something that looks like TCP or UDP over IPv4 with lying lengths. */
                frame[12] = 0x08;
                frame[13] = 0x00;
                if (len >= 34) {
                    frame[14] = (uint8_t)(0x40 | g_rand_int_range(r, 0, 16));
                    frame[23] = g_rand_int_range(r, 0, 2) ? 6 : 17;
                }
            }
            hg_rtl8139_receive(f.nic, frame, len);
        } else if (what < 850) {
            /* Descriptor contents: random, but often owned and pointing at something that
             * looks like a TCP or UDP frame, with large send or checksums asked for. */
            uint32_t d = CP_RINGS + 16u * (uint32_t)g_rand_int_range(r, 0, 128);
            bool in_order = g_rand_int_range(r, 0, 2);
            if (in_order) {
                d = CP_RINGS + 1024 + 16u * (uint32_t)txc;
                txc = (txc + 1) % 64;
            }
            uint32_t o1 = g_rand_int(r);
            uint32_t a = rand_addr(r);
            if (g_rand_int_range(r, 0, 3))
                o1 = (o1 | DescOwn) & ~RingEnd;
            if (g_rand_int_range(r, 0, 2)) {
                uint32_t slot = (uint32_t)g_rand_int_range(r, 0, 8);
                a = FRAMES + 0x4000 * slot;
                size_t len = make_ip_frame(mem + a, peer_mac, g_rand_int_range(r, 0, 4) ? 6 : 17,
                                           (size_t)g_rand_int_range(r, 0, 9000), g_rand_int(r),
                                           (uint8_t)g_rand_int(r));
                for (int k2 = g_rand_int_range(r, 0, 4); k2 > 0; k2--)
                    mem[a + (uint32_t)g_rand_int_range(r, 12, 60)] = (uint8_t)g_rand_int(r);
                uint32_t flags = g_rand_int_range(r, 0, 2)
                                     ? LargeSend | (uint32_t)g_rand_int_range(r, 0, 2048) << 16
                                     : (g_rand_int(r) & (IPCS | UDPCS | TCPCS));
                uint32_t dlen = g_rand_int_range(r, 0, 4) ? (uint32_t)len : g_rand_int(r);
                o1 = DescOwn | flags | (g_rand_int(r) & (FirstFrag | LastFrag)) | (dlen & 0xffff);
                if (g_rand_int_range(r, 0, 2))
                    o1 |= FirstFrag | LastFrag;
                if (in_order && d == CP_RINGS + 1024 + 63 * 16)
                    o1 |= RingEnd;
            }
            if (d < CP_RINGS + 64 * 16 && g_rand_int_range(r, 0, 2)) {
                /* A receive descriptor with a buffer in RAM. */
                uint32_t size = g_rand_int_range(r, 0, 4) ? 1536 : g_rand_int(r) & 0x1fff;
                o1 = DescOwn | size | (g_rand_int_range(r, 0, 8) ? 0 : RingEnd);
                a = CP_BUFS + 0x2000 * ((d - CP_RINGS) / 16);
            }
            put32(&f, d + 4, g_rand_int(r));
            put32(&f, d + 8, a);
            put32(&f, d + 12, g_rand_int_range(r, 0, 8) ? 0 : g_rand_int(r));
            put32(&f, d, o1);
        } else if (what < 900) {
            /* PCI: bus mastering on and off, the BARs stay. */
            hg_pci_config_write(f.pci, DEVFN, 0x04, g_rand_int_range(r, 0, 4) ? 7 : 3, 2);
        } else if (what < 950) {
            advance(&f, (uint64_t)g_rand_int_range(r, 0, 5000000));
        } else if (what < 995) {
            w8(&f, TxPoll, NormalTxPoll);
        } else {
            hg_rtl8139_reset(f.nic);
        }
        if (f.sent->len > 1000)
            g_ptr_array_set_size(f.sent, 0);
        if (k % 97 == 0) {
            /* Whatever the noise left, its saved state loads back as it was. */
            GBytes *st = save_nic(&f);
            HgStateReader rd_state;
            gsize len;
            const void *p = g_bytes_get_data(st, &len);
            hg_state_reader_init(&rd_state, p, len);
            hg_rtl8139_load(f.nic, &rd_state);
            g_assert_no_error(rd_state.error);
            GBytes *again = save_nic(&f);
            g_assert_true(g_bytes_equal(st, again));
            g_bytes_unref(again);
            g_bytes_unref(st);
        }
    }
    /* Still a working card after all that. */
    hg_pci_config_write(f.pci, DEVFN, 0x04, 7, 2);
    hg_rtl8139_reset(f.nic);
    f.mmio = cplus;
    g_ptr_array_set_size(f.sent, 0);
    if (cplus) {
        cp_init(&f, 64, 1536);
        size_t len = make_frame(frame, peer_mac, 100, 1);
        cp_xmit(&f, 0, frame, len, 1, 0, 0);
    } else {
        too_hw_start(&f, too_rx_config | AcceptMyPhys);
        memcpy(ram(&f, TX_BUFS), frame, 100);
        too_xmit(&f, 0, 100);
    }
    g_assert_cmpuint(f.sent->len, ==, 1);
    g_rand_free(r);
    fx_free(&f);
}

static void test_hostile(void)
{
    for (uint32_t seed = 1; seed <= 3; seed++) {
        hostile(false, seed);
        hostile(true, seed);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtl8139/identity", test_identity);
    g_test_add_func("/rtl8139/eeprom", test_eeprom);
    g_test_add_func("/rtl8139/reset", test_reset);
    g_test_add_func("/rtl8139/classic-tx", test_classic_tx);
    g_test_add_func("/rtl8139/classic-rx", test_classic_rx);
    g_test_add_func("/rtl8139/classic-wrap", test_classic_wrap);
    g_test_add_func("/rtl8139/cplus-tx", test_cplus_tx);
    g_test_add_func("/rtl8139/cplus-csum", test_cplus_csum);
    g_test_add_func("/rtl8139/cplus-tso", test_cplus_tso);
    g_test_add_func("/rtl8139/cplus-rx", test_cplus_rx);
    g_test_add_func("/rtl8139/timer", test_timer);
    g_test_add_func("/rtl8139/save-load-classic", test_save_load_classic);
    g_test_add_func("/rtl8139/save-load-cplus", test_save_load_cplus);
    g_test_add_func("/rtl8139/lying-state", test_lying_state);
    g_test_add_func("/rtl8139/hostile", test_hostile);
    return g_test_run();
}
