/* What rtl8139.c (PCI function, registers, EEPROM, classic transmit slots and receive ring,
 * timer, state) and rtl8139-cplus.c (the RTL8139C+ descriptor rings, checksum offload and
 * large send) share: the device structure and register layout from the Realtek
 * "RTL8139C(L)+ Advanced PCI/Mini-PCI/CardBus 3.3V Single-Chip 10/100M Fast Ethernet
 * Controller" datasheet: its register descriptions and its C+ mode chapter. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "nic.h"
#include "pci.h"
#include "rtl8139.h"

enum {
    /* Register offsets (the same in I/O BAR0 and memory BAR1). */
    R_IDR = 0x00,     /* MAC address, 6 bytes */
    R_MAR = 0x08,     /* multicast hash, 8 bytes */
    R_TSD = 0x10,     /* transmit status of slots 0-3; C+ mode: DTCCR (tally dump) */
    R_TSAD = 0x20,    /* transmit buffer addresses 0-3; C+ mode: TNPDS, THPDS */
    R_RBSTART = 0x30, /* receive ring start */
    R_ERBCR = 0x34,
    R_ERSR = 0x36,
    R_CR = 0x37,
    R_CAPR = 0x38, /* where the driver reads the ring, minus 16 */
    R_CBR = 0x3a,  /* where the chip writes the ring */
    R_IMR = 0x3c,
    R_ISR = 0x3e,
    R_TCR = 0x40,
    R_RCR = 0x44,
    R_TCTR = 0x48,
    R_MPC = 0x4c,
    R_9346CR = 0x50,
    R_CONFIG0 = 0x51,
    R_CONFIG1 = 0x52,
    R_TIMERINT = 0x54,
    R_MSR = 0x58,
    R_CONFIG3 = 0x59,
    R_CONFIG4 = 0x5a,
    R_HLTCLK = 0x5b,
    R_MULINT = 0x5c,
    R_RERID = 0x5e,
    R_TSAD_ALL = 0x60, /* summary of the four TSD registers */
    R_BMCR = 0x62,
    R_BMSR = 0x64,
    R_ANAR = 0x66,
    R_ANLPAR = 0x68,
    R_ANER = 0x6a,
    R_DIS = 0x6c,
    R_FCSC = 0x6e,
    R_NWAYTR = 0x70,
    R_REC = 0x72,
    R_CSCR = 0x74,
    R_PARA78 = 0x78,
    R_PARA7C = 0x7c,
    R_TDOKLADDR = 0x82, /* C+: low 16 bits of the last transmit descriptor done */
    R_FLASH = 0xd4,
    R_CONFIG5 = 0xd8,
    R_TPPOLL = 0xd9, /* C+ only from here */
    R_RXMAXSIZE = 0xda,
    R_CPCR = 0xe0,
    R_INTRMIT = 0xe2,
    R_RDSAR = 0xe4, /* 64 bits */
    R_ETTHR = 0xec,

    CR_RST = 0x10,
    CR_RE = 0x08,
    CR_TE = 0x04,
    CR_BUFE = 0x01,

    ISR_ROK = 0x0001,
    ISR_RER = 0x0002,
    ISR_TOK = 0x0004,
    ISR_TER = 0x0008,
    ISR_RXOVW = 0x0010, /* C+ mode: receive descriptor unavailable (RDU) */
    ISR_PUN = 0x0020,   /* packet underrun / link change */
    ISR_FOVW = 0x0040,
    ISR_TDU = 0x0080, /* C+: transmit descriptor unavailable */
    ISR_SWINT = 0x0100,
    ISR_LENCHG = 0x2000,
    ISR_TIMEOUT = 0x4000,
    ISR_SERR = 0x8000,
    ISR_MASK = 0xe1ff,

    TSD_SIZE = 0x1fff,
    TSD_OWN = 0x2000, /* set by the chip once the frame is in its FIFO */
    TSD_TUN = 0x4000,
    TSD_TOK = 0x8000,
    TSD_ERTXTH = 0x003f0000,
    TSD_TABT = 0x40000000,

    RCR_AAP = 0x01,
    RCR_APM = 0x02,
    RCR_AM = 0x04,
    RCR_AB = 0x08,
    RCR_WRAP = 0x80,

    CPCR_TXON = 0x0001,
    CPCR_RXON = 0x0002,
    CPCR_RXCHKSUM = 0x0020,
    CPCR_RXVLAN = 0x0040,

    /* Receive header status (classic ring) */
    RXS_ROK = 0x0001,
    RXS_BAR = 0x2000,
    RXS_PAM = 0x4000,
    RXS_MAR = 0x8000,

    /* Largest frame the receiver takes, CRC included (the RSR LONG limit). */
    RX_MAX = 4096,
    /* Descriptors a C+ ring has at most (the chip wraps there even without EOR). */
    CP_RING_MAX = 64,
    /* Largest frame gathered from C+ transmit descriptors (a large-send frame). */
    CP_TX_MAX = HG_NIC_MAX_FRAME - 4,
};

typedef struct Eeprom93c46 {
    uint16_t mem[64];
    uint8_t state; /* EE_IDLE ... */
    uint8_t bits;  /* bits shifted in or out in this phase */
    uint16_t shift;
    uint8_t addr;
    bool cs, sk, dout, write_enabled;
} Eeprom93c46;

enum { EE_IDLE, EE_CMD, EE_READ, EE_WRITE, EE_WRAL, EE_DONE, EE_NSTATES };

/* The C+ tally counters in the layout the DTCCR dump writes (64 bytes). */
typedef struct Tally {
    uint64_t tx_ok, rx_ok, tx_err;
    uint32_t rx_err;
    uint16_t miss_pkt, fae;
    uint32_t tx_1col, tx_mcol;
    uint64_t rx_ok_phy, rx_ok_brd;
    uint32_t rx_ok_mul;
    uint16_t tx_abt, tx_undrn;
} Tally;

struct HgRtl8139 {
    HgBus *bus;
    HgClock *clock;
    HgPciDevice *pci;
    HgNicLink link;
    HgTimer *timer;
    bool cplus; /* RTL8139C+ (revision 0x20) rather than RTL8139C */

    uint8_t regs[256]; /* registers without side effects: IDR, MAR, PM patterns, PHY params */
    uint32_t tsd[4], tsad[4];
    uint32_t rbstart;
    uint8_t cr;
    uint16_t capr, cbr;
    uint16_t imr, isr;
    uint32_t tcr, rcr;
    uint32_t mpc;
    uint8_t cfg9346, config0, config1, config3, config4, config5, msr, hltclk;
    uint32_t timer_int;
    int64_t tctr_base; /* guest ns at which TCTR was 0 */
    uint16_t mulint;
    uint16_t bmcr, anar, cscr;
    uint8_t tx_next; /* classic: the slot the chip sends next (round robin) */

    uint16_t cpcr, intr_mitigate, rx_max_size, tdokladdr;
    uint32_t rdsar[2];
    uint8_t etthr;
    uint8_t tx_idx[2]; /* C+: next descriptor of the normal (0) and high (1) priority rings */
    uint8_t rx_idx;
    Tally tally;
    Eeprom93c46 ee;
    bool irq_level;

    uint8_t rxbuf[4 + RX_MAX + 8];     /* a received frame as it goes to the guest */
    uint8_t txbuf[CP_TX_MAX];          /* a frame gathered from guest memory */
    uint8_t segbuf[HG_NIC_MAX_FRAME];  /* a large-send segment */
    uint8_t vlanbuf[HG_NIC_MAX_FRAME]; /* a frame with the VLAN tag inserted */
};

/* rtl8139.c */
void rtl_update_irq(HgRtl8139 *s);
void rtl_master_abort(HgRtl8139 *s);
bool rtl_cplus_mode(const HgRtl8139 *s);
/* Hands a finished frame to the link (or back to the receiver in loopback mode), with a
 * VLAN tag (opts2 of a C+ descriptor) inserted when asked. */
void rtl_transfer_frame(HgRtl8139 *s, const uint8_t *frame, size_t len, uint32_t vlan_opts2);

/* rtl8139-cplus.c */
void rtl_cplus_tx_poll(HgRtl8139 *s, uint8_t poll);
void rtl_cplus_tally_dump(HgRtl8139 *s);
/* frame: a padded frame of len bytes (without CRC) that passed the address filter, with
 * room for 8 more bytes after it; type_bits: its RXS_BAR/PAM/MAR. */
HgNicRx rtl_cplus_receive(HgRtl8139 *s, uint8_t *frame, size_t len, uint32_t type_bits);

static inline uint16_t rtl_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void rtl_put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void rtl_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t rtl_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
