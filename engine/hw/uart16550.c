/* National Semiconductor PC16550D UART as found at the PC's COM ports: divisor latch,
 * interrupt enable and identification with the four interrupt sources in priority
 * order, 16-byte receive FIFO with trigger levels, line and modem status, modem control
 * loopback and the scratch register (PC16550D datasheet, "Registers").
 *
 * Transmission is instantaneous: the byte goes to the host callback when written and
 * THR/TSR are empty again at once, which drivers accept (they poll LSR.THRE).
 *
 * Reception from the host (a console, a paste, a pipe) goes through a host-side queue:
 * bytes wait there until the receive buffer has room (16 bytes with the FIFO enabled, the
 * single RBR without it) and move in as the guest reads, like a sender that honours flow
 * control. So a paste of any length into a guest that reads slowly loses nothing, where
 * writing straight into the FIFO would overrun it (QEMU learned this the hard way:
 * launchpad bug 1407808). Bytes the guest itself loops back still overrun as on the chip.
 *
 * The character timeout interrupt (IIR 0xC: data below the trigger level waiting for four
 * character times) is raised as soon as such data waits, since this UART has no notion of
 * character times; drivers treat it like "data available" and read the FIFO empty.
 */
#include "uart16550.h"

#include <glib.h>

#include "bus.h"
#include "state.h"

enum {
    IER_RDA = 1, IER_THRE = 2, IER_RLS = 4, IER_MS = 8,
    LSR_DR = 1, LSR_OE = 2, LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40,
    MCR_OUT2 = 8, MCR_LOOP = 0x10,
    FIFO_SIZE = 16,
    HOST_QUEUE_MAX = 4 << 20, /* bytes waiting on the host side; beyond, input is refused */
};

struct HgUart {
    uint16_t base;
    HgUartTx tx;
    HgUartIrq irq;
    void *opaque;
    uint8_t rbr_fifo[FIFO_SIZE];
    int rx_head, rx_count;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint16_t divisor;
    bool thre_pending; /* THR-empty interrupt latched until IIR is read or THR written */
    bool irq_level;
    /* Host-side input not yet in the receive buffer: host_queue[host_pos..len). */
    GByteArray *host_queue;
    size_t host_pos;
};

static int rx_trigger(const HgUart *u)
{
    static const int levels[4] = {1, 4, 8, 14};
    return (u->fcr & 1) ? levels[u->fcr >> 6] : 1;
}

/* Highest-priority pending interrupt as IIR bits 0-3 (1 = none). */
static uint8_t pending_iid(const HgUart *u)
{
    if ((u->ier & IER_RLS) && (u->lsr & (LSR_OE | LSR_BI)))
        return 0x6;
    if ((u->ier & IER_RDA) && u->rx_count >= rx_trigger(u))
        return 0x4;
    if ((u->ier & IER_RDA) && u->rx_count && (u->fcr & 1))
        return 0xc; /* character timeout */
    if ((u->ier & IER_THRE) && u->thre_pending)
        return 0x2;
    if ((u->ier & IER_MS) && (u->msr & 0x0f))
        return 0x0;
    return 0x1;
}

static void update_irq(HgUart *u)
{
    /* OUT2 gates the interrupt onto the ISA bus on PC serial cards. */
    bool level = pending_iid(u) != 0x1 && (u->mcr & MCR_OUT2);
    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->irq)
            u->irq(u->opaque, level);
    }
}

/* Moves waiting host bytes into the receive buffer while it has room. */
static void host_refill(HgUart *u)
{
    int room = ((u->fcr & 1) ? FIFO_SIZE : 1) - u->rx_count;
    bool moved = false;
    while (room > 0 && u->host_pos < u->host_queue->len) {
        u->rbr_fifo[(u->rx_head + u->rx_count) % FIFO_SIZE] = u->host_queue->data[u->host_pos++];
        u->rx_count++;
        room--;
        moved = true;
    }
    if (u->host_pos == u->host_queue->len) {
        g_byte_array_set_size(u->host_queue, 0);
        u->host_pos = 0;
    } else if (u->host_pos >= 4096 && u->host_pos * 2 >= u->host_queue->len) {
        g_byte_array_remove_range(u->host_queue, 0, (guint)u->host_pos);
        u->host_pos = 0;
    }
    if (moved)
        u->lsr |= LSR_DR;
}

static void transmit(HgUart *u, uint8_t v)
{
    if (u->mcr & MCR_LOOP)
        hg_uart_receive(u, v);
    else if (u->tx)
        u->tx(u->opaque, v);
    u->lsr |= LSR_THRE | LSR_TEMT;
    u->thre_pending = true;
}

static uint32_t uart_read(void *opaque, uint32_t port, int size)
{
    HgUart *u = opaque;
    uint32_t v = 0xff;
    switch (port - u->base) {
    case 0:
        if (u->lcr & 0x80) {
            v = u->divisor & 0xff;
            break;
        }
        v = 0;
        if (u->rx_count) {
            v = u->rbr_fifo[u->rx_head];
            u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
            u->rx_count--;
            host_refill(u);
        }
        if (!u->rx_count)
            u->lsr &= ~LSR_DR;
        break;
    case 1:
        v = (u->lcr & 0x80) ? u->divisor >> 8 : u->ier;
        break;
    case 2:
        v = pending_iid(u) | ((u->fcr & 1) ? 0xc0 : 0);
        if ((v & 0xf) == 0x2)
            u->thre_pending = false;
        break;
    case 3:
        v = u->lcr;
        break;
    case 4:
        v = u->mcr;
        break;
    case 5:
        v = u->lsr;
        u->lsr &= ~(LSR_OE | LSR_BI);
        break;
    case 6:
        if (u->mcr & MCR_LOOP) {
            /* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
            v = ((u->mcr & 1) << 5) | ((u->mcr & 2) << 3) | ((u->mcr & 4) << 4) |
                ((u->mcr & 8) << 4);
        } else {
            v = u->msr | 0xb0; /* DCD, DSR, CTS asserted: a cable with a listener */
        }
        u->msr &= 0xf0;
        break;
    case 7:
        v = u->scr;
        break;
    }
    update_irq(u);
    return size == 1 ? v : v | 0xffffff00u;
}

static void uart_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgUart *u = opaque;
    uint8_t v = (uint8_t)value;
    (void)size;
    switch (port - u->base) {
    case 0:
        if (u->lcr & 0x80) {
            u->divisor = (u->divisor & 0xff00) | v;
        } else {
            u->thre_pending = false;
            transmit(u, v);
        }
        break;
    case 1:
        if (u->lcr & 0x80) {
            u->divisor = (uint16_t)((u->divisor & 0xff) | v << 8);
        } else {
            /* Enabling THRE interrupts with THR empty raises one at once. */
            if ((v & IER_THRE) && !(u->ier & IER_THRE) && (u->lsr & LSR_THRE))
                u->thre_pending = true;
            u->ier = v & 0x0f;
        }
        break;
    case 2:
        if (v & 2) {
            u->rx_count = 0;
            u->lsr &= ~LSR_DR;
        }
        u->fcr = v & 0xc9;
        host_refill(u); /* a cleared or enabled FIFO has room for what waits */
        break;
    case 3:
        u->lcr = v;
        break;
    case 4:
        u->mcr = v & 0x1f;
        break;
    case 7:
        u->scr = v;
        break;
    default:
        break;
    }
    update_irq(u);
}

HgUart *hg_uart_new(HgBus *bus, uint16_t base, HgUartTx tx, HgUartIrq irq, void *opaque)
{
    HgUart *u = g_new0(HgUart, 1);
    u->base = base;
    u->tx = tx;
    u->irq = irq;
    u->opaque = opaque;
    u->host_queue = g_byte_array_new();
    hg_uart_reset(u);
    hg_bus_map_io(bus, base, 8, uart_read, uart_write, u);
    return u;
}

void hg_uart_free(HgUart *u)
{
    if (u)
        g_byte_array_unref(u->host_queue);
    g_free(u);
}

void hg_uart_reset(HgUart *u)
{
    u->rx_head = u->rx_count = 0;
    u->ier = u->mcr = u->scr = u->fcr = 0;
    u->lcr = 0x03;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = 0;
    u->divisor = 12; /* 9600 baud */
    u->thre_pending = false;
    u->irq_level = false;
    /* What the host sent before the reset would reach a program that never asked for
     * it (a reboot drops a terminal's bytes on real hardware too). */
    g_byte_array_set_size(u->host_queue, 0);
    u->host_pos = 0;
}

bool hg_uart_receive(HgUart *u, uint8_t byte)
{
    if (u->rx_count == FIFO_SIZE || (!(u->fcr & 1) && u->rx_count == 1)) {
        u->lsr |= LSR_OE;
        update_irq(u);
        return false;
    }
    u->rbr_fifo[(u->rx_head + u->rx_count) % FIFO_SIZE] = byte;
    u->rx_count++;
    u->lsr |= LSR_DR;
    update_irq(u);
    return true;
}

size_t hg_uart_host_input(HgUart *u, const uint8_t *data, size_t len)
{
    size_t waiting = u->host_queue->len - u->host_pos;
    size_t n = MIN(len, HOST_QUEUE_MAX - MIN(waiting, HOST_QUEUE_MAX));
    g_byte_array_append(u->host_queue, data, (guint)n);
    host_refill(u);
    update_irq(u);
    return n;
}

size_t hg_uart_host_pending(const HgUart *u)
{
    return u->host_queue->len - u->host_pos;
}

void hg_uart_save(const HgUart *u, HgStateWriter *w)
{
    hg_state_begin(w, "uart16550", 1);
    hg_state_put_u16(w, u->base);
    hg_state_put_bytes(w, u->rbr_fifo, FIFO_SIZE);
    hg_state_put_u8(w, (uint8_t)u->rx_head);
    hg_state_put_u8(w, (uint8_t)u->rx_count);
    hg_state_put_u8(w, u->ier);
    hg_state_put_u8(w, u->lcr);
    hg_state_put_u8(w, u->mcr);
    hg_state_put_u8(w, u->lsr);
    hg_state_put_u8(w, u->msr);
    hg_state_put_u8(w, u->scr);
    hg_state_put_u8(w, u->fcr);
    hg_state_put_u16(w, u->divisor);
    hg_state_put_u8(w, u->thre_pending);
    hg_state_end(w);
}

void hg_uart_load(HgUart *u, HgStateReader *r)
{
    if (!hg_state_open(r, "uart16550", 1, 1))
        return;
    hg_state_get_u16(r); /* base: fixed by the board */
    hg_state_get_bytes(r, u->rbr_fifo, FIFO_SIZE);
    u->rx_head = hg_state_get_u8(r) % FIFO_SIZE;
    uint8_t count = hg_state_get_u8(r); /* MIN would read the field twice */
    u->rx_count = MIN(count, FIFO_SIZE);
    u->ier = hg_state_get_u8(r) & 0x0f;
    u->lcr = hg_state_get_u8(r);
    u->mcr = hg_state_get_u8(r) & 0x1f;
    u->lsr = hg_state_get_u8(r);
    u->msr = hg_state_get_u8(r);
    u->scr = hg_state_get_u8(r);
    u->fcr = hg_state_get_u8(r) & 0xc9;
    u->divisor = hg_state_get_u16(r);
    u->thre_pending = hg_state_get_u8(r) != 0;
    hg_state_close(r);
    /* Re-derive the interrupt line from the restored registers. */
    u->irq_level = !u->irq_level;
    update_irq(u);
}
