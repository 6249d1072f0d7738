/* Intel 8237A DMA controllers of the PC/AT (8237A datasheet, "Register description"; IBM
 * PC/AT Technical Reference, "DMA controller" for the page registers and the cascade).
 *
 * Controller 1 serves channels 0-3 with byte transfers; controller 2 serves channels 4-7
 * with word transfers: its address and count registers count words, the address is
 * shifted left by one onto the bus, the page register's bit 0 is ignored and a transfer
 * wraps within its 128 KiB block. Channel 4 carries controller 1's requests (cascade).
 * The flip-flop selects the low or high byte of the 16-bit address and count registers.
 *
 * Transfers are driven by the device (see dma8237.h): the controller keeps, per channel,
 * the byte position reached in the programmed block and derives the current address and
 * count from it after each run, so a guest polling the count (Linux's SB16 pointer) sees
 * the progress. The bus decides what lies at each address: RAM, MMIO or nothing (reads of
 * unmapped space give 0xFF, writes vanish), so a count past RAM cannot escape it.
 */
#include "dma8237.h"

#include <glib.h>
#include <string.h>

#include "bus.h"
#include "state.h"

enum {
    MODE_TYPE = 0x0c,
    MODE_AUTOINIT = 0x10,
    MODE_DEC = 0x20,
    MODE_CASCADE = 0xc0,
    CMD_DISABLE = 0x04,
};

typedef struct DmaChannel {
    uint16_t base_addr, base_count, cur_addr, cur_count;
    uint8_t mode, page;
    int pos; /* bytes transferred in the current block */
    HgDmaTransfer fn;
    void *opaque;
} DmaChannel;

typedef struct DmaCtrl {
    bool flipflop;
    uint8_t command, status, mask, request;
} DmaCtrl;

struct HgDma {
    HgBus *bus;
    DmaCtrl ctrl[2];
    DmaChannel ch[HG_DMA_CHANNELS];
    uint8_t pages[16]; /* 0x80-0x8F as written (the unused ones are scratch registers) */
    uint8_t dreq;      /* one bit per channel */
    bool running;
};

/* Page register port (offset from 0x80) of each channel. */
static const uint8_t page_port[HG_DMA_CHANNELS] = {0x7, 0x3, 0x1, 0x2, 0xf, 0xb, 0x9, 0xa};

static bool valid_channel(int ch)
{
    return ch >= 0 && ch < HG_DMA_CHANNELS && ch != 4;
}

static int shift_of(int ch)
{
    return ch >= 4;
}

static int block_len(const DmaChannel *c, int ch)
{
    return ((int)c->base_count + 1) << shift_of(ch);
}

/* Physical address of byte off of the block. */
static uint32_t byte_addr(const DmaChannel *c, int ch, int off)
{
    int step = (c->mode & MODE_DEC) ? -1 : 1;
    if (ch < 4) {
        uint16_t a = (uint16_t)(c->base_addr + step * off);
        return ((uint32_t)c->page << 16) | a;
    }
    uint16_t w = (uint16_t)(c->base_addr + step * (off >> 1));
    return ((uint32_t)(c->page & 0xfe) << 16) | ((uint32_t)w << 1) | (off & 1);
}

static void sync_current(DmaChannel *c, int ch)
{
    int units = c->pos >> shift_of(ch);
    int step = (c->mode & MODE_DEC) ? -1 : 1;
    c->cur_count = (uint16_t)(c->base_count - units);
    c->cur_addr = (uint16_t)(c->base_addr + step * units);
}

static void master_clear(HgDma *d, int n)
{
    DmaCtrl *k = &d->ctrl[n];
    k->flipflop = false;
    k->command = 0;
    k->status = 0;
    k->request = 0;
    k->mask = 0x0f;
}

void hg_dma_reset(HgDma *d)
{
    for (int n = 0; n < 2; n++)
        master_clear(d, n);
    for (int i = 0; i < HG_DMA_CHANNELS; i++) {
        DmaChannel *c = &d->ch[i];
        c->base_addr = c->base_count = c->cur_addr = c->cur_count = 0;
        c->mode = 0;
        c->page = 0;
        c->pos = 0;
    }
    memset(d->pages, 0, sizeof d->pages);
}

static uint32_t ctrl_read(HgDma *d, int n, int reg)
{
    DmaCtrl *k = &d->ctrl[n];
    if (reg < 8) {
        DmaChannel *c = &d->ch[n * 4 + (reg >> 1)];
        uint16_t v = (reg & 1) ? c->cur_count : c->cur_addr;
        uint8_t b = k->flipflop ? v >> 8 : v & 0xff;
        k->flipflop = !k->flipflop;
        return b;
    }
    switch (reg) {
    case 8: {
        /* Status: TC bits 0-3 (cleared by the read), request bits 4-7. */
        uint8_t req = ((d->dreq >> (n * 4)) | k->request) & 0x0f;
        uint8_t v = (k->status & 0x0f) | (uint8_t)(req << 4);
        k->status &= 0xf0;
        return v;
    }
    case 13: return 0; /* temporary register: memory-to-memory transfers are not modelled */
    case 15: return 0xf0 | k->mask; /* the mask register, readable on the PIIX's 8237 cores */
    default: return 0xff;
    }
}

static void ctrl_write(HgDma *d, int n, int reg, uint8_t v)
{
    DmaCtrl *k = &d->ctrl[n];
    if (reg < 8) {
        int ch = n * 4 + (reg >> 1);
        DmaChannel *c = &d->ch[ch];
        uint16_t *base = (reg & 1) ? &c->base_count : &c->base_addr;
        if (k->flipflop)
            *base = (uint16_t)((*base & 0x00ff) | (v << 8));
        else
            *base = (uint16_t)((*base & 0xff00) | v);
        k->flipflop = !k->flipflop;
        /* Writing a base register also loads the current one: the block restarts. */
        c->pos = 0;
        sync_current(c, ch);
        return;
    }
    switch (reg) {
    case 8: k->command = v; break;
    case 9:
        if (v & 4)
            k->request |= 1 << (v & 3);
        else
            k->request &= ~(1 << (v & 3));
        break;
    case 10:
        if (v & 4)
            k->mask |= 1 << (v & 3);
        else
            k->mask &= ~(1 << (v & 3));
        break;
    case 11: d->ch[n * 4 + (v & 3)].mode = v & 0xfc; break;
    case 12: k->flipflop = false; break;
    case 13: master_clear(d, n); break;
    case 14: k->mask = 0; break;
    case 15: k->mask = v & 0x0f; break;
    }
    /* Unmasking or enabling lets a request the device already holds proceed. */
    if (reg == 8 || reg == 10 || reg == 14 || reg == 15)
        hg_dma_run(d);
}

static uint32_t dma1_read(void *opaque, uint32_t port, int size)
{
    (void)size;
    return ctrl_read(opaque, 0, port & 0x0f);
}

static void dma1_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)size;
    ctrl_write(opaque, 0, port & 0x0f, (uint8_t)value);
}

/* Controller 2's registers sit on the even ports 0xC0-0xDE; odd ports are not decoded. */
static uint32_t dma2_read(void *opaque, uint32_t port, int size)
{
    (void)size;
    if (port & 1)
        return 0xff;
    return ctrl_read(opaque, 1, ((port - 0xc0) >> 1) & 0x0f);
}

static void dma2_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)size;
    if (!(port & 1))
        ctrl_write(opaque, 1, ((port - 0xc0) >> 1) & 0x0f, (uint8_t)value);
}

static uint32_t page_read(void *opaque, uint32_t port, int size)
{
    HgDma *d = opaque;
    (void)size;
    return d->pages[port & 0x0f];
}

static void page_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgDma *d = opaque;
    (void)size;
    int off = port & 0x0f;
    d->pages[off] = (uint8_t)value;
    for (int ch = 0; ch < HG_DMA_CHANNELS; ch++)
        if (page_port[ch] == off)
            d->ch[ch].page = (uint8_t)value;
}

HgDma *hg_dma_new(HgBus *bus)
{
    HgDma *d = g_new0(HgDma, 1);
    d->bus = bus;
    hg_dma_reset(d);
    hg_bus_map_io(bus, 0x00, 16, dma1_read, dma1_write, d);
    hg_bus_map_io(bus, 0xc0, 32, dma2_read, dma2_write, d);
    hg_bus_map_io(bus, 0x81, 15, page_read, page_write, d);
    return d;
}

void hg_dma_free(HgDma *d)
{
    g_free(d);
}

void hg_dma_register(HgDma *d, int channel, HgDmaTransfer fn, void *opaque)
{
    g_assert(valid_channel(channel));
    d->ch[channel].fn = fn;
    d->ch[channel].opaque = opaque;
}

void hg_dma_hold_dreq(HgDma *d, int channel)
{
    if (!valid_channel(channel))
        return;
    d->dreq |= 1 << channel;
}

void hg_dma_release_dreq(HgDma *d, int channel)
{
    if (!valid_channel(channel))
        return;
    d->dreq &= ~(1 << channel);
}

static bool channel_active(const HgDma *d, int ch)
{
    const DmaCtrl *k = &d->ctrl[ch >> 2];
    if (!(d->dreq & (1 << ch)) || (k->mask & (1 << (ch & 3))) || (k->command & CMD_DISABLE))
        return false;
    /* Controller 2 passes controller 1's requests through channel 4, which must be
     * unmasked (and in cascade mode, as SeaBIOS and every PC BIOS program it). */
    if (ch < 4 && (d->ctrl[1].mask & 1 || d->ctrl[1].command & CMD_DISABLE))
        return false;
    return (d->ch[ch].mode & MODE_CASCADE) != MODE_CASCADE;
}

void hg_dma_run(HgDma *d)
{
    if (d->running)
        return;
    d->running = true;
    for (int ch = 0; ch < HG_DMA_CHANNELS; ch++) {
        DmaChannel *c = &d->ch[ch];
        if (!valid_channel(ch) || !c->fn || !channel_active(d, ch))
            continue;
        int len = block_len(c, ch);
        int pos = c->fn(c->opaque, ch, c->pos, len);
        c->pos = CLAMP(pos, 0, len);
        sync_current(c, ch);
        if (c->pos == len) {
            d->ctrl[ch >> 2].status |= 1 << (ch & 3);
            if (c->mode & MODE_AUTOINIT) {
                c->pos = 0;
                sync_current(c, ch);
            } else {
                d->ctrl[ch >> 2].mask |= 1 << (ch & 3);
            }
        }
    }
    d->running = false;
}

int hg_dma_read_memory(HgDma *d, int channel, void *buf, int pos, int len)
{
    if (!valid_channel(channel))
        return 0;
    const DmaChannel *c = &d->ch[channel];
    int block = block_len(c, channel);
    if (pos < 0 || pos >= block || len <= 0)
        return 0;
    int n = MIN(len, block - pos);
    uint8_t *p = buf;
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)hg_bus_read(d->bus, byte_addr(c, channel, pos + i), 1);
    return n;
}

int hg_dma_write_memory(HgDma *d, int channel, const void *buf, int pos, int len)
{
    if (!valid_channel(channel))
        return 0;
    const DmaChannel *c = &d->ch[channel];
    int block = block_len(c, channel);
    if (pos < 0 || pos >= block || len <= 0)
        return 0;
    int n = MIN(len, block - pos);
    const uint8_t *p = buf;
    for (int i = 0; i < n; i++)
        hg_bus_write(d->bus, byte_addr(c, channel, pos + i), p[i], 1);
    return n;
}

uint8_t hg_dma_mode(const HgDma *d, int channel)
{
    return valid_channel(channel) ? d->ch[channel].mode : 0;
}

bool hg_dma_masked(const HgDma *d, int channel)
{
    if (channel < 0 || channel >= HG_DMA_CHANNELS)
        return true;
    return (d->ctrl[channel >> 2].mask >> (channel & 3)) & 1;
}

uint16_t hg_dma_current_count(const HgDma *d, int channel)
{
    return valid_channel(channel) ? d->ch[channel].cur_count : 0;
}

void hg_dma_save(const HgDma *d, HgStateWriter *w)
{
    hg_state_begin(w, "dma8237", 1);
    for (int n = 0; n < 2; n++) {
        const DmaCtrl *k = &d->ctrl[n];
        hg_state_put_u8(w, k->flipflop);
        hg_state_put_u8(w, k->command);
        hg_state_put_u8(w, k->status);
        hg_state_put_u8(w, k->mask);
        hg_state_put_u8(w, k->request);
    }
    for (int i = 0; i < HG_DMA_CHANNELS; i++) {
        const DmaChannel *c = &d->ch[i];
        hg_state_put_u16(w, c->base_addr);
        hg_state_put_u16(w, c->base_count);
        hg_state_put_u8(w, c->mode);
        hg_state_put_u32(w, (uint32_t)c->pos);
    }
    hg_state_put_bytes(w, d->pages, sizeof d->pages);
    hg_state_put_u8(w, d->dreq);
    hg_state_end(w);
}

void hg_dma_load(HgDma *d, HgStateReader *r)
{
    if (!hg_state_open(r, "dma8237", 1, 1))
        return;
    for (int n = 0; n < 2; n++) {
        DmaCtrl *k = &d->ctrl[n];
        k->flipflop = hg_state_get_u8(r) != 0;
        k->command = hg_state_get_u8(r);
        k->status = hg_state_get_u8(r) & 0x0f;
        k->mask = hg_state_get_u8(r) & 0x0f;
        k->request = hg_state_get_u8(r) & 0x0f;
    }
    for (int i = 0; i < HG_DMA_CHANNELS; i++) {
        DmaChannel *c = &d->ch[i];
        c->base_addr = hg_state_get_u16(r);
        c->base_count = hg_state_get_u16(r);
        c->mode = hg_state_get_u8(r) & 0xfc;
        uint32_t pos = hg_state_get_u32(r);
        c->pos = (int)MIN(pos, (uint32_t)block_len(c, i));
        sync_current(c, i);
    }
    hg_state_get_bytes(r, d->pages, sizeof d->pages);
    for (int ch = 0; ch < HG_DMA_CHANNELS; ch++)
        d->ch[ch].page = d->pages[page_port[ch]];
    d->dreq = hg_state_get_u8(r) & 0xef;
    hg_state_close(r);
}
