/* Unit tests of the NE2000 and RTL8029AS models (engine/hw/ne2000.c), driven through their
 * I/O ports the way Linux's ne.c, ne2k-pci.c and lib8390.c drive the card: the reset port
 * and the station address PROM in byte and word mode, the IRQ autoprobe's zero-length
 * remote read, transmission by remote DMA, reception into the ring with its headers,
 * wrap-around and boundary handling, ring overflow and the board's retry, the address
 * filters, internal loopback, the PCI identity and BAR, save/load in the middle of a ring
 * and refused lying states, and random hostile register traffic and frames. */
#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "bus.h"
#include "hw/ne2000.h"
#include "hw/pci.h"
#include "state.h"

enum {
    ISA_BASE = 0x300,
    PCI_BASE = 0xc100,
    DEVFN = HG_PCI_DEVFN(3, 0),
    TX_PAGE = 0x40,  /* lib8390 with ne/ne2k-pci: NESM_START_PG */
    RX_START = 0x4c, /* + TX_PAGES (6) */
    RX_STOP = 0x80,
};

/* Register offsets (Linux 8390.h names in comments). */
enum {
    CMD = 0x00,
    P0_PSTART = 0x01, /* EN0_STARTPG */
    P0_PSTOP = 0x02,
    P0_BNRY = 0x03,
    P0_TPSR = 0x04, /* write; TSR on read */
    P0_TBCR0 = 0x05,
    P0_TBCR1 = 0x06, /* write; FIFO on read */
    P0_ISR = 0x07,
    P0_RSAR0 = 0x08,
    P0_RSAR1 = 0x09,
    P0_RBCR0 = 0x0a,
    P0_RBCR1 = 0x0b,
    P0_RCR = 0x0c, /* write; RSR on read */
    P0_TCR = 0x0d, /* write; CNTR0 on read */
    P0_DCR = 0x0e, /* write; CNTR1 on read */
    P0_IMR = 0x0f, /* write; CNTR2 on read */
    P1_CURR = 0x07,
    P1_MAR0 = 0x08,
    DATA = 0x10,
    RESET = 0x1f,

    ISR_PRX = 0x01,
    ISR_PTX = 0x02,
    ISR_RXE = 0x04,
    ISR_OVW = 0x10,
    ISR_RDC = 0x40,
    ISR_RST = 0x80,
};

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t PEER[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

typedef struct Fx {
    HgBus *bus;
    HgPciBus *pci;
    HgNe2000 *ne;
    uint16_t base;
    bool is_pci;
    bool word; /* DCR.WTS, as the driver set it */
    bool wide; /* ne2k-pci's 32-bit data port accesses */
    bool irq;  /* ISA line */
    bool pirq[4];
    GPtrArray *sent;
    int rx_ready;
    /* A frame the board holds back after NO_ROOM and offers again from rx_ready. */
    GBytes *pending;
    int redelivered;
} Fx;

/* ---- the board's side ---- */

static void link_send(void *opaque, const uint8_t *frame, size_t len)
{
    Fx *f = opaque;
    g_assert_cmpuint(len, >=, HG_NIC_MIN_FRAME);
    g_assert_cmpuint(len, <=, HG_NIC_MAX_FRAME);
    g_ptr_array_add(f->sent, g_bytes_new(frame, len));
}

static void link_rx_ready(void *opaque)
{
    Fx *f = opaque;
    f->rx_ready++;
    if (f->pending) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(f->pending, &len);
        if (hg_ne2000_receive(f->ne, p, len) == HG_NIC_RX_TAKEN) {
            g_bytes_unref(f->pending);
            f->pending = NULL;
            f->redelivered++;
        }
    }
}

static void isa_irq(void *opaque, int n, bool level)
{
    Fx *f = opaque;
    g_assert_cmpint(n, ==, 9);
    f->irq = level;
}

static void pirq(void *opaque, int n, bool level)
{
    ((Fx *)opaque)->pirq[n] = level;
}

static bool line(const Fx *f)
{
    if (!f->is_pci)
        return f->irq;
    return f->pirq[0] || f->pirq[1] || f->pirq[2] || f->pirq[3];
}

static void fx_common(Fx *f)
{
    memset(f, 0, sizeof *f);
    f->bus = hg_bus_new(1 << 20);
    f->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
}

static HgNicLink fx_link(Fx *f)
{
    HgNicLink link = {f, link_send, link_rx_ready};
    return link;
}

static void fx_isa(Fx *f)
{
    fx_common(f);
    HgNicLink link = fx_link(f);
    f->base = ISA_BASE;
    f->ne = hg_ne2000_isa_new(f->bus, ISA_BASE, hg_irq(isa_irq, f, 9), MAC, &link);
}

static void fx_pci_unmapped(Fx *f)
{
    fx_common(f);
    HgNicLink link = fx_link(f);
    f->is_pci = true;
    f->base = PCI_BASE;
    f->pci = hg_pci_new(f->bus);
    hg_pci_set_pirq_handler(f->pci, pirq, f);
    f->ne = hg_ne2000_pci_new(f->pci, DEVFN, f->bus, MAC, &link);
}

static void fx_pci(Fx *f)
{
    fx_pci_unmapped(f);
    hg_pci_config_write(f->pci, DEVFN, HG_PCI_BAR0, PCI_BASE, 4);
    hg_pci_config_write(f->pci, DEVFN, HG_PCI_COMMAND, HG_PCI_CMD_IO, 2);
}

static void fx_free(Fx *f)
{
    hg_ne2000_free(f->ne);
    if (f->pci)
        hg_pci_free(f->pci);
    hg_bus_free(f->bus);
    g_ptr_array_unref(f->sent);
    if (f->pending)
        g_bytes_unref(f->pending);
}

/* ---- port access ---- */

static void outb(Fx *f, int off, uint8_t v)
{
    hg_bus_out(f->bus, (uint16_t)(f->base + off), v, 1);
}

static uint8_t inb(Fx *f, int off)
{
    return (uint8_t)hg_bus_in(f->bus, (uint16_t)(f->base + off), 1);
}

static uint16_t inw(Fx *f, int off)
{
    return (uint16_t)hg_bus_in(f->bus, (uint16_t)(f->base + off), 2);
}

static uint32_t inl(Fx *f, int off)
{
    return hg_bus_in(f->bus, (uint16_t)(f->base + off), 4);
}

static void page(Fx *f, int p)
{
    /* E8390_NODMA + page, without STA or STP: the chip keeps running or stopped. */
    outb(f, CMD, (uint8_t)(0x20 | p << 6));
}

/* ---- the driver (after Linux ne.c / ne2k-pci.c / lib8390.c) ---- */

static void ne_reset(Fx *f)
{
    outb(f, RESET, inb(f, RESET));
    int tries = 0;
    while (!(inb(f, P0_ISR) & ISR_RST))
        g_assert_cmpint(++tries, <, 100);
    outb(f, P0_ISR, 0xff);
}

/* The probe's PROM read: 32 inb of the data port in the given DCR mode. */
static void read_prom(Fx *f, uint8_t dcr, uint8_t prom[32])
{
    static const uint8_t seq[][2] = {
        {0x21, CMD},      {0, P0_DCR},      {0x00, P0_RBCR0}, {0x00, P0_RBCR1}, {0x00, P0_IMR},
        {0xff, P0_ISR},   {0x20, P0_RCR},   {0x02, P0_TCR},   {32, P0_RBCR0},   {0x00, P0_RBCR1},
        {0x00, P0_RSAR0}, {0x00, P0_RSAR1}, {0x0a, CMD},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(seq); i++)
        outb(f, seq[i][1], seq[i][1] == P0_DCR ? dcr : seq[i][0]);
    for (int i = 0; i < 32; i++)
        prom[i] = inb(f, DATA);
}

static void ns8390_init(Fx *f, bool startp)
{
    outb(f, CMD, 0x21);
    outb(f, P0_DCR, f->word ? 0x49 : 0x48);
    outb(f, P0_RBCR0, 0);
    outb(f, P0_RBCR1, 0);
    outb(f, P0_RCR, 0x20);
    outb(f, P0_TCR, 0x02);
    outb(f, P0_TPSR, TX_PAGE);
    outb(f, P0_PSTART, RX_START);
    outb(f, P0_BNRY, RX_STOP - 1);
    outb(f, P0_PSTOP, RX_STOP);
    outb(f, P0_ISR, 0xff);
    outb(f, P0_IMR, 0x00);
    outb(f, CMD, 0x61);
    for (int i = 0; i < 6; i++)
        outb(f, 1 + i, MAC[i]);
    outb(f, P1_CURR, RX_START);
    outb(f, CMD, 0x21);
    if (!startp)
        return;
    outb(f, P0_ISR, 0xff);
    outb(f, P0_IMR, 0x3f); /* ENISR_ALL */
    outb(f, CMD, 0x22);
    outb(f, P0_TCR, 0x00);
    outb(f, P0_RCR, 0x04); /* E8390_RXCONFIG: broadcasts */
    page(f, 1);
    for (int i = 0; i < 8; i++)
        outb(f, P1_MAR0 + i, 0);
    page(f, 0);
}

static void open_card(Fx *f, bool word)
{
    f->word = word;
    ne_reset(f);
    ns8390_init(f, true);
}

static void set_rcr_mar(Fx *f, uint8_t rcr, const uint8_t mar[8])
{
    page(f, 1);
    for (int i = 0; i < 8; i++)
        outb(f, P1_MAR0 + i, mar[i]);
    page(f, 0);
    outb(f, P0_RCR, rcr);
}

static void block_output(Fx *f, const uint8_t *buf, int count, int start_page)
{
    uint8_t *copy = g_malloc0((size_t)count + 4);
    memcpy(copy, buf, (size_t)count);
    if (f->word && (count & 1))
        count++;
    outb(f, CMD, 0x22);
    outb(f, P0_ISR, ISR_RDC);
    outb(f, P0_RBCR0, (uint8_t)count);
    outb(f, P0_RBCR1, (uint8_t)(count >> 8));
    outb(f, P0_RSAR0, 0);
    outb(f, P0_RSAR1, (uint8_t)start_page);
    outb(f, CMD, 0x12);
    if (f->wide) {
        for (int i = 0; i < count; i += 4)
            hg_bus_out(f->bus, f->base + DATA,
                       (uint32_t)copy[i] | copy[i + 1] << 8 | copy[i + 2] << 16 |
                           (uint32_t)copy[i + 3] << 24,
                       count - i >= 4 ? 4 : 2);
    } else if (f->word) {
        for (int i = 0; i < count; i += 2)
            hg_bus_out(f->bus, f->base + DATA, copy[i] | copy[i + 1] << 8, 2);
    } else {
        for (int i = 0; i < count; i++)
            outb(f, DATA, copy[i]);
    }
    /* NE_SANITY_CHECK: the current remote DMA address is the end of the block. */
    uint16_t end = (uint16_t)(inb(f, P0_RSAR0) | inb(f, P0_RSAR1) << 8);
    g_assert_cmphex(end, ==, (start_page << 8) + count);
    g_assert_true(inb(f, P0_ISR) & ISR_RDC);
    outb(f, P0_ISR, ISR_RDC);
    g_free(copy);
}

/* ei_start_xmit: pad to ETH_ZLEN, copy, trigger. */
static void xmit(Fx *f, const uint8_t *frame, int len)
{
    uint8_t pad[60] = {0};
    if (len < 60) {
        memcpy(pad, frame, (size_t)len);
        frame = pad;
        len = 60;
    }
    block_output(f, frame, len, TX_PAGE);
    page(f, 0);
    g_assert_false(inb(f, CMD) & 0x04);
    outb(f, P0_TBCR0, (uint8_t)len);
    outb(f, P0_TBCR1, (uint8_t)(len >> 8));
    outb(f, P0_TPSR, TX_PAGE);
    outb(f, CMD, 0x26);
}

static void read_data(Fx *f, uint8_t *buf, int count)
{
    int i = 0;
    if (f->wide) {
        for (; i + 4 <= count; i += 4) {
            uint32_t v = inl(f, DATA);
            for (int k = 0; k < 4; k++)
                buf[i + k] = (uint8_t)(v >> (8 * k));
        }
    }
    if (f->word || f->wide) {
        for (; i + 2 <= count; i += 2) {
            uint16_t v = inw(f, DATA);
            buf[i] = (uint8_t)v;
            buf[i + 1] = (uint8_t)(v >> 8);
        }
    }
    for (; i < count; i++)
        buf[i] = inb(f, DATA);
}

static void block_input(Fx *f, int count, int offset, uint8_t *buf)
{
    outb(f, CMD, 0x22);
    outb(f, P0_RBCR0, (uint8_t)count);
    outb(f, P0_RBCR1, (uint8_t)(count >> 8));
    outb(f, P0_RSAR0, (uint8_t)offset);
    outb(f, P0_RSAR1, (uint8_t)(offset >> 8));
    outb(f, CMD, 0x0a);
    read_data(f, buf, count);
    outb(f, P0_ISR, ISR_RDC);
}

typedef struct Hdr {
    uint8_t status, next;
    uint16_t count;
} Hdr;

static Hdr get_hdr(Fx *f, int ring_page)
{
    uint8_t b[4];
    block_input(f, 4, ring_page << 8, b);
    Hdr h = {b[0], b[1], (uint16_t)(b[2] | b[3] << 8)};
    return h;
}

static uint8_t read_curr(Fx *f)
{
    page(f, 1);
    uint8_t curr = inb(f, P1_CURR);
    page(f, 0);
    return curr;
}

/* ei_receive, with the consistency checks turned into assertions. Appends the frames to
 * out (when given) and returns how many were read. */
static int ei_receive(Fx *f, GPtrArray *out)
{
    int n = 0;
    int num_rx_pages = RX_STOP - RX_START;
    for (;;) {
        uint8_t rxing_page = read_curr(f);
        int this_frame = inb(f, P0_BNRY) + 1;
        if (this_frame >= RX_STOP)
            this_frame = RX_START;
        if (this_frame == rxing_page)
            break;
        Hdr h = get_hdr(f, this_frame);
        int pkt_len = h.count - 4;
        int next_frame = this_frame + 1 + ((pkt_len + 4) >> 8);
        g_assert_true(h.next == next_frame || h.next == next_frame + 1 ||
                      h.next == next_frame - num_rx_pages ||
                      h.next == next_frame + 1 - num_rx_pages);
        g_assert_cmpint(pkt_len, >=, 60);
        g_assert_cmphex(h.status & 0x0f, ==, 0x01);
        uint8_t *buf = g_malloc((size_t)pkt_len + 4);
        /* The frame and the CRC the card stored after it. */
        block_input(f, pkt_len + 4, (this_frame << 8) + 4, buf);
        uint32_t fcs = (uint32_t)crc32(0, buf, (uInt)pkt_len);
        uint32_t stored = (uint32_t)buf[pkt_len] | buf[pkt_len + 1] << 8 | buf[pkt_len + 2] << 16 |
                          (uint32_t)buf[pkt_len + 3] << 24;
        g_assert_cmphex(stored, ==, fcs);
        if (out)
            g_ptr_array_add(out, g_bytes_new(buf, (gsize)pkt_len));
        g_free(buf);
        g_assert_cmpint(h.next, <, RX_STOP);
        outb(f, P0_BNRY, (uint8_t)(h.next - 1));
        g_assert_cmpint(++n, <, 1000);
    }
    outb(f, P0_ISR, ISR_PRX | ISR_RXE);
    return n;
}

static uint8_t *make_frame(const uint8_t dst[6], size_t len, unsigned seed)
{
    uint8_t *p = g_malloc0(MAX(len, (size_t)14));
    memcpy(p, dst, 6);
    memcpy(p + 6, PEER, 6);
    p[12] = 0x08;
    p[13] = 0x00;
    for (size_t i = 14; i < len; i++)
        p[i] = (uint8_t)(i * 7 + seed * 13);
    return p;
}

static void assert_frame(GBytes *b, const uint8_t *expect, size_t len)
{
    gsize n;
    const uint8_t *p = g_bytes_get_data(b, &n);
    g_assert_cmpuint(n, ==, len);
    g_assert_cmpmem(p, n, expect, len);
}

/* ---- tests ---- */

static void test_isa_probe(void)
{
    Fx f;
    fx_isa(&f);
    /* ne_probe1: a register answers, the counters clear on read. */
    g_assert_cmphex(inb(&f, CMD), !=, 0xff);
    outb(&f, CMD, 0x61);
    outb(&f, 0x0d, 0xff);
    outb(&f, CMD, 0x20);
    inb(&f, P0_TCR);
    g_assert_cmphex(inb(&f, P0_TCR), ==, 0);
    ne_reset(&f);

    /* Byte mode: every PROM byte doubled, so ne.c decides the card is 16-bit. */
    uint8_t prom[32];
    read_prom(&f, 0x48, prom);
    for (int i = 0; i < 32; i += 2)
        g_assert_cmphex(prom[i], ==, prom[i + 1]);
    for (int i = 0; i < 16; i++)
        prom[i] = prom[i + i];
    g_assert_cmpmem(prom, 6, MAC, 6);
    g_assert_cmphex(prom[14], ==, 0x57);
    g_assert_cmphex(prom[15], ==, 0x57);

    /* Word mode as ne2k-pci reads it: one word per inb, its low byte. */
    read_prom(&f, 0x49, prom);
    g_assert_cmpmem(prom, 6, MAC, 6);
    g_assert_cmphex(prom[14], ==, 0x57);
    g_assert_cmphex(prom[15], ==, 0x57);

    /* The IRQ autoprobe: a zero-length remote read completes at once. */
    outb(&f, P0_ISR, 0xff);
    g_assert_false(f.irq);
    outb(&f, P0_IMR, 0x50);
    outb(&f, P0_RBCR0, 0);
    outb(&f, P0_RBCR1, 0);
    outb(&f, CMD, 0x0a);
    g_assert_true(f.irq);
    g_assert_true(inb(&f, P0_ISR) & ISR_RDC);
    outb(&f, P0_IMR, 0);
    g_assert_false(f.irq);

    /* RST is set by stop and reset, cleared by start, not by writing ISR. */
    outb(&f, CMD, 0x21);
    outb(&f, P0_ISR, 0xff);
    g_assert_true(inb(&f, P0_ISR) & ISR_RST);
    outb(&f, CMD, 0x22);
    g_assert_false(inb(&f, P0_ISR) & ISR_RST);
    /* Page 2 reads back the configuration. */
    ns8390_init(&f, true);
    page(&f, 2);
    g_assert_cmphex(inb(&f, 0x01), ==, RX_START);
    g_assert_cmphex(inb(&f, 0x02), ==, RX_STOP);
    g_assert_cmphex(inb(&f, 0x04), ==, TX_PAGE);
    g_assert_cmphex(inb(&f, 0x0c), ==, 0x04);
    g_assert_cmphex(inb(&f, 0x0e), ==, 0x48);
    g_assert_cmphex(inb(&f, 0x0f), ==, 0x3f);
    page(&f, 0);
    fx_free(&f);
}

static void test_isa_transmit(void)
{
    for (int word = 0; word < 2; word++) {
        Fx f;
        fx_isa(&f);
        open_card(&f, word);
        uint8_t *arp = make_frame(BCAST, 42, 1);
        xmit(&f, arp, 42);
        g_assert_cmpuint(f.sent->len, ==, 1);
        uint8_t padded[60] = {0};
        memcpy(padded, arp, 42);
        assert_frame(f.sent->pdata[0], padded, 60);
        g_assert_cmphex(inb(&f, P0_ISR), ==, ISR_PTX);
        g_assert_cmphex(inb(&f, P0_TPSR) /* TSR */, ==, 0x01);
        g_assert_false(inb(&f, CMD) & 0x04);
        g_assert_true(f.irq);
        outb(&f, P0_ISR, ISR_PTX);
        g_assert_false(f.irq);

        /* An odd length (word mode rounds the copy up; TBCR says the truth), and the
         * line following IMR. */
        outb(&f, P0_IMR, 0);
        uint8_t *big = make_frame(PEER, 1513, 2);
        xmit(&f, big, 1513);
        g_assert_cmpuint(f.sent->len, ==, 2);
        assert_frame(f.sent->pdata[1], big, 1513);
        g_assert_false(f.irq);
        outb(&f, P0_IMR, 0x3f);
        g_assert_true(f.irq);
        outb(&f, P0_ISR, 0xff);
        g_assert_false(f.irq);

        /* A stopped chip does not transmit. */
        outb(&f, CMD, 0x21);
        outb(&f, CMD, 0x25);
        g_assert_cmpuint(f.sent->len, ==, 2);
        g_free(arp);
        g_free(big);
        fx_free(&f);
    }
}

static void test_isa_receive(void)
{
    for (int word = 0; word < 2; word++) {
        Fx f;
        fx_isa(&f);
        open_card(&f, word);
        GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        /* A short frame is padded to 60 bytes. */
        uint8_t *small = make_frame(MAC, 20, 3);
        g_assert_cmpint(hg_ne2000_receive(f.ne, small, 20), ==, HG_NIC_RX_TAKEN);
        g_assert_true(f.irq);
        g_assert_true(inb(&f, P0_ISR) & ISR_PRX);
        Hdr h = get_hdr(&f, RX_START);
        g_assert_cmphex(h.status, ==, 0x01);
        g_assert_cmphex(h.next, ==, RX_START + 1);
        g_assert_cmpuint(h.count, ==, 64);
        g_assert_cmphex(inb(&f, 0x0c) /* RSR */, ==, 0x01);
        g_assert_cmpint(ei_receive(&f, got), ==, 1);
        uint8_t padded[60] = {0};
        memcpy(padded, small, 20);
        assert_frame(got->pdata[0], padded, 60);
        g_assert_false(f.irq);

        /* Enough full-size frames to wrap the ring several times, read as they come
         * (two at a time), each wrapped one through the remote DMA's PSTOP-PSTART
         * wrap. */
        int wrapped = 0;
        for (unsigned k = 0; k < 40; k++) {
            size_t len = 1514 - (k % 7) * 3;
            uint8_t *fr = make_frame(MAC, len, k);
            uint8_t at = read_curr(&f);
            g_assert_cmpint(hg_ne2000_receive(f.ne, fr, len), ==, HG_NIC_RX_TAKEN);
            if (at + (len + 8 + 255) / 256 > RX_STOP)
                wrapped++;
            if (k % 2) {
                g_ptr_array_set_size(got, 0);
                g_assert_cmpint(ei_receive(&f, got), ==, 2);
                assert_frame(got->pdata[1], fr, len);
            }
            g_free(fr);
        }
        g_assert_cmpint(wrapped, >=, 3);
        g_assert_cmpint(f.rx_ready, ==, 0);
        g_free(small);
        g_ptr_array_unref(got);
        fx_free(&f);
    }
}

static void test_overflow(void)
{
    Fx f;
    fx_isa(&f);
    open_card(&f, true);
    /* 51 free pages, 6 per full-size frame, one page always left free: 8 frames. */
    int taken = 0;
    uint8_t *fr = make_frame(MAC, 1514, 9);
    while (hg_ne2000_receive(f.ne, fr, 1514) == HG_NIC_RX_TAKEN)
        g_assert_cmpint(++taken, <, 100);
    g_assert_cmpint(taken, ==, 8);
    uint8_t isr = inb(&f, P0_ISR);
    g_assert_true(isr & ISR_OVW);
    g_assert_true(isr & ISR_RST);
    g_assert_true(f.irq);
    g_assert_cmpint(f.rx_ready, ==, 0);
    /* The ring was not touched by the refused frame: CURR one page short of BNRY's. */
    g_assert_cmpint(read_curr(&f), ==, RX_START + 48);

    /* lib8390's ei_rx_overrun: stop, clear RBCR, loopback, start, drain, ack, resume.
     * The board holds the frame and offers it again when told there is room. */
    f.pending = g_bytes_new(fr, 1514);
    outb(&f, CMD, 0x21);
    outb(&f, P0_RBCR0, 0);
    outb(&f, P0_RBCR1, 0);
    outb(&f, P0_TCR, 0x02);
    outb(&f, CMD, 0x22);
    GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_assert_cmpint(ei_receive(&f, got), ==, 8);
    /* In loopback the receiver cannot take frames from the wire yet. */
    g_assert_cmpint(f.redelivered, ==, 0);
    outb(&f, P0_ISR, ISR_OVW);
    g_assert_false(inb(&f, P0_ISR) & ISR_RST);
    outb(&f, P0_TCR, 0x00);
    g_assert_cmpint(f.rx_ready, >=, 1);
    g_assert_cmpint(f.redelivered, ==, 1);
    g_assert_null(f.pending);
    g_assert_cmpint(ei_receive(&f, got), ==, 1);
    for (guint i = 0; i < got->len; i++)
        assert_frame(got->pdata[i], fr, 1514);

    /* Filling again without the overrun routine: the guest freeing ring space by moving
     * BNRY is enough for the board's retry. */
    while (hg_ne2000_receive(f.ne, fr, 1514) == HG_NIC_RX_TAKEN)
        ;
    f.pending = g_bytes_new(fr, 1514);
    int before = f.rx_ready;
    /* The retried frame lands while the driver is still reading: it reads it too. */
    g_assert_cmpint(ei_receive(&f, NULL), ==, 9);
    g_assert_cmpint(f.rx_ready, >, before);
    g_assert_cmpint(f.redelivered, ==, 2);

    /* A stopped receiver refuses; starting it calls rx_ready. */
    outb(&f, CMD, 0x21);
    g_assert_cmpint(hg_ne2000_receive(f.ne, fr, 100), ==, HG_NIC_RX_NO_ROOM);
    before = f.rx_ready;
    outb(&f, CMD, 0x22);
    g_assert_cmpint(f.rx_ready, ==, before + 1);
    g_free(fr);
    g_ptr_array_unref(got);
    fx_free(&f);
}

/* Receives one frame and says whether it was stored in the ring. */
static bool stored(Fx *f, const uint8_t *frame, size_t len)
{
    uint8_t curr = read_curr(f);
    g_assert_cmpint(hg_ne2000_receive(f->ne, frame, len), ==, HG_NIC_RX_TAKEN);
    bool in_ring = read_curr(f) != curr;
    ei_receive(f, NULL);
    return in_ring;
}

static void test_filters(void)
{
    Fx f;
    fx_isa(&f);
    open_card(&f, true);
    static const uint8_t other[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
    /* 01:00:5e:00:00:01 hashes (Linux ether_crc >> 26) to bit 31: MAR3 bit 7. */
    static const uint8_t allhosts[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    static const uint8_t mar_allhosts[8] = {0, 0, 0, 0x80, 0, 0, 0, 0};
    static const uint8_t mar_other[8] = {0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mar_none[8] = {0};
    uint8_t *to_me = make_frame(MAC, 100, 1);
    uint8_t *to_other = make_frame(other, 100, 2);
    uint8_t *bcast = make_frame(BCAST, 100, 3);
    uint8_t *mcast = make_frame(allhosts, 100, 4);

    g_assert_true(stored(&f, to_me, 100));
    g_assert_false(stored(&f, to_other, 100));
    g_assert_true(stored(&f, bcast, 100));
    g_assert_false(stored(&f, mcast, 100));

    set_rcr_mar(&f, 0x00, mar_none);
    g_assert_false(stored(&f, bcast, 100));
    g_assert_true(stored(&f, to_me, 100));

    set_rcr_mar(&f, 0x0c, mar_allhosts);
    g_assert_cmpint(hg_ne2000_receive(f.ne, mcast, 100), ==, HG_NIC_RX_TAKEN);
    Hdr h = get_hdr(&f, inb(&f, P0_BNRY) + 1 >= RX_STOP ? RX_START : inb(&f, P0_BNRY) + 1);
    g_assert_cmphex(h.status, ==, 0x21); /* PRX, multicast/broadcast */
    ei_receive(&f, NULL);
    set_rcr_mar(&f, 0x0c, mar_other);
    g_assert_false(stored(&f, mcast, 100));
    set_rcr_mar(&f, 0x04, mar_allhosts);
    g_assert_false(stored(&f, mcast, 100));

    /* Promiscuous (Linux: MAR all ones, RCR 0x1c) takes everything; PRO alone opens
     * physical addresses only. */
    static const uint8_t all[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    set_rcr_mar(&f, 0x1c, all);
    g_assert_true(stored(&f, to_other, 100));
    g_assert_true(stored(&f, mcast, 100));
    g_assert_true(stored(&f, bcast, 100));
    set_rcr_mar(&f, 0x10, all);
    g_assert_true(stored(&f, to_other, 100));
    g_assert_false(stored(&f, bcast, 100));
    g_assert_false(stored(&f, mcast, 100));

    /* Monitor mode: checked and counted as missed, not stored. */
    set_rcr_mar(&f, 0x24, mar_none);
    g_assert_false(stored(&f, to_me, 100));
    g_assert_cmphex(inb(&f, 0x0c) /* RSR */, ==, 0x50);
    g_assert_cmpuint(inb(&f, 0x0f) /* CNTR2 */, ==, 1);
    g_assert_cmpuint(inb(&f, 0x0f), ==, 0);
    g_free(to_me);
    g_free(to_other);
    g_free(bcast);
    g_free(mcast);
    fx_free(&f);
}

static void test_loopback(void)
{
    Fx f;
    fx_isa(&f);
    open_card(&f, true);
    outb(&f, P0_RCR, 0x00);
    uint8_t *fr = make_frame(MAC, 64, 5);
    uint8_t curr = read_curr(&f);

    /* Mode 1, CRC generated by the transmitter: the receiver sees its own CRC logic busy
     * and reports a CRC error for the matching frame (AN-937: TSR 51, RSR 02, ISR 06). */
    outb(&f, P0_TCR, 0x02);
    xmit(&f, fr, 64);
    g_assert_cmpuint(f.sent->len, ==, 0);
    g_assert_cmphex(inb(&f, P0_ISR), ==, ISR_PTX | ISR_RXE);
    g_assert_cmphex(inb(&f, P0_TPSR) /* TSR */, ==, 0x51);
    g_assert_cmphex(inb(&f, 0x0c) /* RSR */, ==, 0x02);
    g_assert_cmpuint(inb(&f, 0x0e) /* CNTR1 */, ==, 1);
    /* The FIFO holds the last 8 bytes: the frame's last 4, then its CRC. */
    uint32_t fcs = (uint32_t)crc32(0, fr, 64);
    uint8_t expect[8];
    memcpy(expect, fr + 60, 4);
    for (int i = 0; i < 4; i++)
        expect[4 + i] = (uint8_t)(fcs >> (8 * i));
    for (int i = 0; i < 8; i++)
        g_assert_cmphex(inb(&f, 0x06), ==, expect[i]);
    g_assert_cmpint(read_curr(&f), ==, curr);
    outb(&f, P0_ISR, 0xff);

    /* With TCR.CRC the program appends the CRC and the receiver checks it. */
    uint8_t with_crc[68];
    memcpy(with_crc, fr, 64);
    memcpy(with_crc + 64, expect + 4, 4);
    outb(&f, P0_TCR, 0x03);
    xmit(&f, with_crc, 68);
    g_assert_cmphex(inb(&f, P0_ISR), ==, ISR_PTX);
    g_assert_cmphex(inb(&f, 0x0c), ==, 0x01);
    for (int i = 0; i < 8; i++)
        g_assert_cmphex(inb(&f, 0x06), ==, with_crc[60 + i]);
    outb(&f, P0_ISR, 0xff);
    with_crc[67] ^= 1;
    xmit(&f, with_crc, 68);
    g_assert_cmphex(inb(&f, P0_ISR), ==, ISR_PTX | ISR_RXE);
    g_assert_cmphex(inb(&f, 0x0c), ==, 0x02);
    outb(&f, P0_ISR, 0xff);

    /* A frame for another station is ignored by the receiver. */
    outb(&f, P0_TCR, 0x02);
    uint8_t *other = make_frame(PEER, 64, 6);
    xmit(&f, other, 64);
    g_assert_cmphex(inb(&f, P0_ISR), ==, ISR_PTX);
    g_assert_cmpint(read_curr(&f), ==, curr);
    g_assert_cmpuint(f.sent->len, ==, 0);

    /* While looped back nothing comes in from the wire; leaving loopback says so. */
    g_assert_cmpint(hg_ne2000_receive(f.ne, fr, 64), ==, HG_NIC_RX_NO_ROOM);
    outb(&f, P0_TCR, 0x00);
    g_assert_cmpint(f.rx_ready, ==, 1);
    g_assert_cmpint(hg_ne2000_receive(f.ne, fr, 64), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpint(read_curr(&f), ==, curr + 1);
    g_free(fr);
    g_free(other);
    fx_free(&f);
}

static void test_pci(void)
{
    Fx f;
    fx_pci_unmapped(&f);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x00, 4), ==, 0x802910ec);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, 0x08, 4) >> 8, ==, 0x020000);
    g_assert_cmpuint(hg_pci_config_read(f.pci, DEVFN, HG_PCI_INTERRUPT_PIN, 1), ==, 1);
    hg_pci_config_write(f.pci, DEVFN, HG_PCI_BAR0, 0xffffffff, 4);
    g_assert_cmphex(hg_pci_config_read(f.pci, DEVFN, HG_PCI_BAR0, 4), ==, 0xffffffe1);
    /* Nothing answers until the BAR is placed and I/O decoding is on. */
    hg_pci_config_write(f.pci, DEVFN, HG_PCI_BAR0, PCI_BASE, 4);
    g_assert_cmphex(inb(&f, CMD), ==, 0xff);
    hg_pci_config_write(f.pci, DEVFN, HG_PCI_COMMAND, HG_PCI_CMD_IO, 2);
    g_assert_cmphex(inb(&f, CMD), ==, 0x21);

    /* ne2k-pci's probe: identity, reset, word-mode PROM. */
    g_assert_cmphex(inb(&f, 0x0a), ==, 'P');
    g_assert_cmphex(inb(&f, 0x0b), ==, 'C');
    ne_reset(&f);
    uint8_t prom[32];
    read_prom(&f, 0x49, prom);
    g_assert_cmpmem(prom, 6, MAC, 6);

    /* set_realtek_fdx: CONFIG3 takes the write only while 9346CR enables it. */
    outb(&f, CMD, 0xe0);
    outb(&f, 0x06, 0x40);
    g_assert_cmphex(inb(&f, 0x06), ==, 0x00);
    outb(&f, 0x01, 0xc0);
    outb(&f, 0x06, 0x40);
    outb(&f, 0x01, 0x00);
    g_assert_cmphex(inb(&f, 0x06), ==, 0x40);
    outb(&f, CMD, 0x20);

    /* Running with 32-bit data port accesses, INTA through the PIRQ routing. */
    f.wide = true;
    open_card(&f, true);
    uint8_t *fr = make_frame(MAC, 333, 7);
    xmit(&f, fr, 333);
    g_assert_cmpuint(f.sent->len, ==, 1);
    assert_frame(f.sent->pdata[0], fr, 333);
    g_assert_true(line(&f));
    outb(&f, P0_ISR, 0xff);
    g_assert_false(line(&f));
    g_assert_cmpint(hg_ne2000_receive(f.ne, fr, 333), ==, HG_NIC_RX_TAKEN);
    g_assert_true(line(&f));
    GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_assert_cmpint(ei_receive(&f, got), ==, 1);
    assert_frame(got->pdata[0], fr, 333);
    g_assert_false(line(&f));
    /* INTx disable in the command register holds the pin down. */
    g_assert_cmpint(hg_ne2000_receive(f.ne, fr, 333), ==, HG_NIC_RX_TAKEN);
    hg_pci_config_write(f.pci, DEVFN, HG_PCI_COMMAND, HG_PCI_CMD_IO | HG_PCI_CMD_INTX_DISABLE, 2);
    g_assert_false(line(&f));
    g_ptr_array_unref(got);
    g_free(fr);
    fx_free(&f);
}

static GBytes *save(Fx *f)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_ne2000_save(f->ne, &w);
    return hg_state_writer_finish(&w);
}

static bool load(Fx *f, const void *p, gsize len)
{
    HgStateReader r;
    hg_state_reader_init(&r, p, len);
    hg_ne2000_load(f->ne, &r);
    bool ok = hg_state_ok(&r);
    g_clear_error(&r.error);
    return ok;
}

static void test_save_load(void)
{
    for (int pci = 0; pci < 2; pci++) {
        Fx f, g;
        if (pci) {
            fx_pci(&f);
            fx_pci(&g);
        } else {
            fx_isa(&f);
            fx_isa(&g);
        }
        open_card(&f, true);
        g.word = true;
        /* Mid-ring: frames wrapped around, one read, three waiting, PRX pending. */
        uint8_t *frs[12];
        for (unsigned k = 0; k < 12; k++) {
            frs[k] = make_frame(MAC, 1000 + k, k);
            g_assert_cmpint(hg_ne2000_receive(f.ne, frs[k], 1000 + k), ==, HG_NIC_RX_TAKEN);
            if (k < 8)
                ei_receive(&f, NULL);
        }
        GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        g_assert_true(line(&f));
        GBytes *a = save(&f);
        gsize len;
        const uint8_t *p = g_bytes_get_data(a, &len);
        g_assert_false(line(&g));
        g_assert_true(load(&g, p, len));
        g_assert_true(line(&g));
        GBytes *b = save(&g);
        g_assert_true(g_bytes_equal(a, b));
        g_assert_cmpint(ei_receive(&g, got), ==, 4);
        for (unsigned k = 8; k < 12; k++)
            assert_frame(got->pdata[k - 8], frs[k], 1000 + k);
        /* The restored card keeps working. */
        g_assert_cmpint(hg_ne2000_receive(g.ne, frs[0], 1000), ==, HG_NIC_RX_TAKEN);
        g_assert_cmpint(ei_receive(&g, NULL), ==, 1);
        xmit(&g, frs[1], 1001);
        g_assert_cmpuint(g.sent->len, ==, 1);
        for (unsigned k = 0; k < 12; k++)
            g_free(frs[k]);
        g_ptr_array_unref(got);
        g_bytes_unref(a);
        g_bytes_unref(b);
        fx_free(&g);
        fx_free(&f);
    }
}

static void test_lying_state(void)
{
    Fx f, g, h;
    fx_isa(&f);
    fx_isa(&g);
    fx_pci(&h);
    open_card(&f, true);
    uint8_t *fr = make_frame(MAC, 200, 1);
    hg_ne2000_receive(f.ne, fr, 200);
    GBytes *a = save(&f);
    gsize len;
    const uint8_t *p = g_bytes_get_data(a, &len);
    GBytes *before = save(&g);
    GByteArray *bad = g_byte_array_new();

    /* The interrupt line (the last byte) disagreeing with ISR & IMR. */
    g_byte_array_append(bad, p, (guint)len);
    bad->data[len - 1] ^= 1;
    g_assert_false(load(&g, bad->data, bad->len));
    /* A flag that is neither 0 nor 1. */
    g_byte_array_set_size(bad, 0);
    g_byte_array_append(bad, p, (guint)len);
    bad->data[len - 2] = 7;
    g_assert_false(load(&g, bad->data, bad->len));
    /* A PROM without the NE2000 signature. */
    uint8_t prom[32];
    for (int i = 0; i < 16; i++)
        prom[2 * i] = prom[2 * i + 1] = i < 6 ? MAC[i] : i >= 14 ? 0x57 : 0;
    gsize at = 0;
    while (at + sizeof prom <= len && memcmp(p + at, prom, sizeof prom) != 0)
        at++;
    g_assert_cmpuint(at + sizeof prom, <=, len);
    g_byte_array_set_size(bad, 0);
    g_byte_array_append(bad, p, (guint)len);
    bad->data[at + 28] = 0x42;
    bad->data[at + 29] = 0x42;
    g_assert_false(load(&g, bad->data, bad->len));
    /* Truncated. */
    g_assert_false(load(&g, p, len - 100));
    /* The other front end's state. */
    g_assert_false(load(&h, p, len));
    /* Nothing of the refused states was applied. */
    GBytes *after = save(&g);
    g_assert_true(g_bytes_equal(before, after));
    g_assert_false(g.irq);
    /* Random damage anywhere never crashes; whatever is accepted still works. */
    GRand *rnd = g_rand_new_with_seed(77);
    for (int n = 0; n < 300; n++) {
        g_byte_array_set_size(bad, 0);
        g_byte_array_append(bad, p, (guint)len);
        for (int k = 0; k < 4; k++)
            bad->data[g_rand_int_range(rnd, 0, (gint32)len)] = (uint8_t)g_rand_int(rnd);
        load(&g, bad->data, bad->len);
    }
    ne_reset(&g);
    g.word = true;
    ns8390_init(&g, true);
    g_assert_cmpint(hg_ne2000_receive(g.ne, fr, 200), ==, HG_NIC_RX_TAKEN);
    g_assert_cmpint(ei_receive(&g, NULL), ==, 1);
    g_rand_free(rnd);
    g_byte_array_free(bad, TRUE);
    g_bytes_unref(a);
    g_bytes_unref(before);
    g_bytes_unref(after);
    g_free(fr);
    fx_free(&h);
    fx_free(&g);
    fx_free(&f);
}

/* Random register traffic, remote DMA and transmissions with random counts and
 * addresses, random frames of random and absurd lengths, save/load round trips. */
static void hostile(Fx *f, guint32 seed)
{
    GRand *rnd = g_rand_new_with_seed(seed);
    int refused = 0, in_ring = 0;
    uint8_t *frame = g_malloc0(HG_NIC_MAX_FRAME + 1);
    for (size_t i = 0; i < HG_NIC_MAX_FRAME + 1; i++)
        frame[i] = (uint8_t)g_rand_int(rnd);
    for (int n = 0; n < 20000; n++) {
        int op = g_rand_int_range(rnd, 0, 100);
        int size = 1 << g_rand_int_range(rnd, 0, 3);
        uint16_t port = (uint16_t)(f->base + g_rand_int_range(rnd, 0, 33));
        if (op < 3) {
            /* A driver starting over, so the traffic also hits a working card. */
            f->word = g_rand_boolean(rnd);
            ns8390_init(f, true);
        } else if (op < 40) {
            hg_bus_out(f->bus, port, g_rand_int(rnd), size);
        } else if (op < 60) {
            hg_bus_in(f->bus, port, size);
        } else if (op < 75) {
            /* A remote DMA with a random address and count, then a burst. */
            uint16_t addr = (uint16_t)g_rand_int(rnd), count = (uint16_t)g_rand_int(rnd);
            outb(f, CMD, 0x22);
            outb(f, P0_RSAR0, (uint8_t)addr);
            outb(f, P0_RSAR1, (uint8_t)(addr >> 8));
            outb(f, P0_RBCR0, (uint8_t)count);
            outb(f, P0_RBCR1, (uint8_t)(count >> 8));
            outb(f, CMD, (uint8_t)(0x02 | g_rand_int_range(rnd, 1, 8) << 3));
            int burst = g_rand_int_range(rnd, 0, 300);
            bool wr = g_rand_boolean(rnd);
            for (int k = 0; k < burst; k++) {
                if (wr)
                    hg_bus_out(f->bus, f->base + DATA, g_rand_int(rnd), size);
                else
                    hg_bus_in(f->bus, f->base + DATA, size);
            }
        } else if (op < 82) {
            /* A transmission from anywhere with any count, looped back or not. */
            uint16_t count = (uint16_t)g_rand_int(rnd);
            outb(f, CMD, 0x22);
            outb(f, P0_TCR, (uint8_t)g_rand_int_range(rnd, 0, 8));
            outb(f, P0_TPSR, (uint8_t)g_rand_int(rnd));
            outb(f, P0_TBCR0, (uint8_t)count);
            outb(f, P0_TBCR1, (uint8_t)(count >> 8));
            outb(f, CMD, 0x26);
        } else if (op < 97) {
            size_t len;
            int kind = g_rand_int_range(rnd, 0, 10);
            if (kind < 7)
                len = (size_t)g_rand_int_range(rnd, 0, 2001);
            else if (kind < 9)
                len = (size_t)g_rand_int_range(rnd, 2001, HG_NIC_MAX_FRAME + 1);
            else
                len = g_rand_boolean(rnd) ? HG_NIC_MAX_FRAME : HG_NIC_MAX_FRAME + 1;
            if (g_rand_boolean(rnd))
                memcpy(frame, g_rand_boolean(rnd) ? MAC : BCAST, 6);
            uint8_t curr = read_curr(f);
            HgNicRx rx = hg_ne2000_receive(f->ne, len ? frame : NULL, len);
            g_assert_true(rx == HG_NIC_RX_TAKEN || rx == HG_NIC_RX_NO_ROOM);
            refused += rx == HG_NIC_RX_NO_ROOM;
            in_ring += read_curr(f) != curr;
        } else {
            GBytes *a = save(f);
            gsize len;
            const void *p = g_bytes_get_data(a, &len);
            g_assert_true(load(f, p, len));
            GBytes *b = save(f);
            g_assert_true(g_bytes_equal(a, b));
            g_bytes_unref(a);
            g_bytes_unref(b);
        }
        /* The line always follows ISR & IMR (IMR read back through page 2). */
        page(f, 2);
        uint8_t imr = inb(f, P0_IMR);
        page(f, 0);
        uint8_t isr = inb(f, P0_ISR);
        g_assert_cmpint(line(f), ==, (isr & imr & 0x7f) != 0);
    }
    /* The traffic reached the interesting places. */
    g_test_message("refused %d, stored %d, sent %u", refused, in_ring, f->sent->len);
    g_assert_cmpint(refused, >, 0);
    g_assert_cmpint(in_ring, >, 0);
    g_assert_cmpuint(f->sent->len, >, 0);
    /* The card comes back for a driver that starts over. */
    f->wide = false;
    open_card(f, true);
    uint8_t prom[32];
    read_prom(f, 0x49, prom);
    g_assert_cmpmem(prom, 6, MAC, 6);
    ns8390_init(f, true);
    uint8_t *fr = make_frame(MAC, 500, 1);
    g_assert_cmpint(hg_ne2000_receive(f->ne, fr, 500), ==, HG_NIC_RX_TAKEN);
    GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_assert_cmpint(ei_receive(f, got), ==, 1);
    assert_frame(got->pdata[0], fr, 500);
    g_ptr_array_unref(got);
    g_free(fr);
    g_free(frame);
    g_rand_free(rnd);
}

static void test_hostile(void)
{
    for (int pci = 0; pci < 2; pci++) {
        Fx f;
        if (pci)
            fx_pci(&f);
        else
            fx_isa(&f);
        hostile(&f, 1000 + (guint32)pci);
        fx_free(&f);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ne2000/isa-probe", test_isa_probe);
    g_test_add_func("/ne2000/isa-transmit", test_isa_transmit);
    g_test_add_func("/ne2000/isa-receive", test_isa_receive);
    g_test_add_func("/ne2000/overflow", test_overflow);
    g_test_add_func("/ne2000/filters", test_filters);
    g_test_add_func("/ne2000/loopback", test_loopback);
    g_test_add_func("/ne2000/pci", test_pci);
    g_test_add_func("/ne2000/save-load", test_save_load);
    g_test_add_func("/ne2000/lying-state", test_lying_state);
    g_test_add_func("/ne2000/hostile", test_hostile);
    return g_test_run();
}
