/* Bus-master IDE DMA engine (Intel 82371SB PIIX3 datasheet 2.7 "Bus Master IDE
 * Registers" and 3.7 "Bus Master IDE function"; SFF-8038i): per channel the command,
 * status and PRD table pointer registers, and the PRD walk the channel's DMA transfers use.
 * The behaviour at the end of a transfer is described in ide-bmdma.h.
 */
#include "ide-internal.h"

#include <string.h>

#include "bus.h"
#include "state.h"

enum {
    BM_CMD_START = 0x01,
    BM_CMD_TO_MEMORY = 0x08,
    BM_ST_ACTIVE = 0x01,
    BM_ST_ERROR = 0x02,
    BM_ST_INT = 0x04,
    BM_ST_CAPABLE = 0x60,
    PRD_EOT = 0x8000,
    PRD_MAX_ENTRIES = 8192, /* a 64 KiB table */
    MAX_MAPPED = 16,
};

typedef struct BmChannel {
    uint8_t cmd, status;
    uint32_t prdt; /* PRD table address register */
    /* Walk state since the last start */
    uint32_t cur_prd;  /* next entry to fetch */
    uint32_t cur_addr; /* current region: next byte */
    uint32_t cur_left; /* bytes left in the current region */
    bool cur_eot;      /* the current region is the table's last */
    uint32_t entries;  /* entries fetched since the start */
} BmChannel;

struct HgIdeBmdma {
    HgBus *bus;
    HgIdeChannel *ch[2];
    uint16_t base;
    uint16_t mapped[MAX_MAPPED]; /* bases whose ports already lead to us */
    int n_mapped;
    BmChannel c[2];
};

bool ide_bmdma_started(const HgIdeBmdma *bm, int chan)
{
    return (bm->c[chan].cmd & BM_CMD_START) != 0;
}

void ide_bmdma_irq(HgIdeBmdma *bm, int chan)
{
    bm->c[chan].status |= BM_ST_INT;
}

void ide_bmdma_done(HgIdeBmdma *bm, int chan, bool table_end, bool error)
{
    BmChannel *c = &bm->c[chan];
    if (table_end || error)
        c->status &= (uint8_t)~BM_ST_ACTIVE;
    if (error)
        c->status |= BM_ST_ERROR;
}

/* Copies n bytes (inside one 4 KiB page) between buf and guest physical memory. RAM goes
 * straight to the page (marked dirty so translated code and migration see it); anything
 * else through the bus's MMIO handlers (unmapped space reads ones, drops writes). */
static void copy_phys(HgIdeBmdma *bm, uint32_t addr, uint8_t *buf, uint32_t n, bool to_mem)
{
    bool writable = false;
    uint8_t *page = hg_bus_page(bm->bus, addr, &writable);
    uint32_t off = addr & 0xfff;
    if (page && (writable || !to_mem)) {
        if (to_mem) {
            memcpy(page + off, buf, n);
            hg_bus_mark_dirty(bm->bus, addr);
        } else {
            memcpy(buf, page + off, n);
        }
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (to_mem)
            hg_bus_write(bm->bus, addr + i, buf[i], 1);
        else
            buf[i] = (uint8_t)hg_bus_read(bm->bus, addr + i, 1);
    }
}

uint32_t ide_bmdma_rw(HgIdeBmdma *bm, int chan, uint8_t *buf, uint32_t len, bool to_mem, bool *stop,
                      bool *abort)
{
    BmChannel *c = &bm->c[chan];
    uint32_t moved = 0;
    *abort = false;
    while (moved < len) {
        if (c->cur_left == 0) {
            if (c->cur_eot || c->entries >= PRD_MAX_ENTRIES)
                break;
            uint32_t addr = hg_bus_read(bm->bus, c->cur_prd, 4) & ~1u;
            uint32_t count = hg_bus_read(bm->bus, c->cur_prd + 4, 2) & 0xfffe;
            uint32_t flags = hg_bus_read(bm->bus, c->cur_prd + 6, 2);
            /* The table lives inside one 64 KiB page too. */
            c->cur_prd = (c->cur_prd & 0xffff0000u) | ((c->cur_prd + 8) & 0xffff);
            c->entries++;
            c->cur_addr = addr;
            c->cur_left = count ? count : 0x10000;
            c->cur_eot = (flags & PRD_EOT) != 0;
        }
        uint32_t n = MIN(len - moved, c->cur_left);
        n = MIN(n, 0x1000 - (c->cur_addr & 0xfff));
        copy_phys(bm, c->cur_addr, buf + moved, n, to_mem);
        /* The region's address counter wraps inside its 64 KiB page. */
        c->cur_addr = (c->cur_addr & 0xffff0000u) | ((c->cur_addr + n) & 0xffff);
        c->cur_left -= n;
        moved += n;
    }
    *stop = c->cur_left == 0 && (c->cur_eot || c->entries >= PRD_MAX_ENTRIES);
    return moved;
}

/* ---- Registers ------------------------------------------------------------------------ */

static uint8_t reg_read(HgIdeBmdma *bm, uint32_t off)
{
    BmChannel *c = &bm->c[(off >> 3) & 1];
    switch (off & 7) {
    case 0: return c->cmd;
    case 2: return c->status;
    case 4:
    case 5:
    case 6:
    case 7: return (uint8_t)(c->prdt >> (8 * (off & 3)));
    default: return 0;
    }
}

static void reg_write(HgIdeBmdma *bm, uint32_t off, uint8_t v)
{
    int chan = (off >> 3) & 1;
    BmChannel *c = &bm->c[chan];
    switch (off & 7) {
    case 0: {
        uint8_t old = c->cmd;
        c->cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
        if (!(old & BM_CMD_START) && (v & BM_CMD_START)) {
            /* Start: walk the table from its beginning. */
            c->status |= BM_ST_ACTIVE;
            c->cur_prd = c->prdt;
            c->cur_left = 0;
            c->cur_eot = false;
            c->entries = 0;
            if (bm->ch[chan])
                ide_dma_kick(bm->ch[chan]);
        } else if ((old & BM_CMD_START) && !(v & BM_CMD_START)) {
            /* Stop: nothing more moves; a drive still requesting keeps its data. */
            c->status &= (uint8_t)~BM_ST_ACTIVE;
        }
        break;
    }
    case 2:
        c->status = (uint8_t)((c->status & ~(v & (BM_ST_ERROR | BM_ST_INT)) & ~BM_ST_CAPABLE) |
                              (v & BM_ST_CAPABLE));
        break;
    case 4:
    case 5:
    case 6:
    case 7: {
        int shift = 8 * (off & 3);
        c->prdt = ((c->prdt & ~(0xffu << shift)) | ((uint32_t)v << shift)) & ~3u;
        break;
    }
    default: break;
    }
}

uint32_t hg_ide_bmdma_read(void *opaque, uint32_t port, int size)
{
    HgIdeBmdma *bm = opaque;
    uint32_t off = port - bm->base, v = 0;
    if (!bm->base || off >= 16)
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    for (int i = 0; i < size && off + i < 16; i++)
        v |= (uint32_t)reg_read(bm, off + i) << (8 * i);
    return v;
}

void hg_ide_bmdma_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgIdeBmdma *bm = opaque;
    uint32_t off = port - bm->base;
    if (!bm->base || off >= 16)
        return;
    for (int i = 0; i < size && off + i < 16; i++)
        reg_write(bm, off + i, (uint8_t)(value >> (8 * i)));
}

uint32_t hg_ide_bmdma_bar_read(void *opaque, uint32_t off, int size)
{
    HgIdeBmdma *bm = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size && off + i < 16; i++)
        v |= (uint32_t)reg_read(bm, off + i) << (8 * i);
    return v;
}

void hg_ide_bmdma_bar_write(void *opaque, uint32_t off, uint32_t value, int size)
{
    HgIdeBmdma *bm = opaque;
    for (int i = 0; i < size && off + i < 16; i++)
        reg_write(bm, off + i, (uint8_t)(value >> (8 * i)));
}

/* ---- Life cycle ------------------------------------------------------------------------ */

HgIdeBmdma *hg_ide_bmdma_new(HgBus *bus, HgIdeChannel *primary, HgIdeChannel *secondary)
{
    HgIdeBmdma *bm = g_new0(HgIdeBmdma, 1);
    bm->bus = bus;
    bm->ch[0] = primary;
    bm->ch[1] = secondary;
    for (int i = 0; i < 2; i++) {
        if (bm->ch[i])
            ide_channel_set_bmdma(bm->ch[i], bm);
    }
    hg_ide_bmdma_reset(bm);
    return bm;
}

void hg_ide_bmdma_free(HgIdeBmdma *bm)
{
    if (!bm)
        return;
    for (int i = 0; i < 2; i++) {
        if (bm->ch[i])
            ide_channel_set_bmdma(bm->ch[i], NULL);
    }
    g_free(bm);
}

void hg_ide_bmdma_reset(HgIdeBmdma *bm)
{
    memset(bm->c, 0, sizeof(bm->c));
}

void hg_ide_bmdma_set_base(HgIdeBmdma *bm, uint16_t base)
{
    base &= 0xfff0;
    if (base == bm->base)
        return;
    bm->base = base;
    if (!base)
        return;
    /* The bus cannot unmap ports: handlers at old bases stay but answer only at the
     * current base. Remapping a base seen before is skipped to save handler slots. */
    for (int i = 0; i < bm->n_mapped; i++) {
        if (bm->mapped[i] == base)
            return;
    }
    hg_bus_map_io(bm->bus, base, 16, hg_ide_bmdma_read, hg_ide_bmdma_write, bm);
    if (bm->n_mapped < MAX_MAPPED)
        bm->mapped[bm->n_mapped++] = base;
}

uint16_t hg_ide_bmdma_base(const HgIdeBmdma *bm)
{
    return bm->base;
}

void hg_ide_bmdma_save(const HgIdeBmdma *bm, HgStateWriter *w)
{
    hg_state_begin(w, "ide-bmdma", 1);
    for (int i = 0; i < 2; i++) {
        const BmChannel *c = &bm->c[i];
        hg_state_put_u8(w, c->cmd);
        hg_state_put_u8(w, c->status);
        hg_state_put_u32(w, c->prdt);
        hg_state_put_u32(w, c->cur_prd);
        hg_state_put_u32(w, c->cur_addr);
        hg_state_put_u32(w, c->cur_left);
        hg_state_put_u8(w, c->cur_eot);
        hg_state_put_u32(w, c->entries);
    }
    hg_state_end(w);
}

void hg_ide_bmdma_load(HgIdeBmdma *bm, HgStateReader *r)
{
    if (!hg_state_open(r, "ide-bmdma", 1, 1))
        return;
    for (int i = 0; i < 2; i++) {
        BmChannel *c = &bm->c[i];
        c->cmd = hg_state_get_u8(r) & (BM_CMD_START | BM_CMD_TO_MEMORY);
        c->status = hg_state_get_u8(r) & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INT | BM_ST_CAPABLE);
        c->prdt = hg_state_get_u32(r) & ~3u;
        c->cur_prd = hg_state_get_u32(r);
        c->cur_addr = hg_state_get_u32(r);
        uint32_t left = hg_state_get_u32(r); /* MIN evaluates twice: read first */
        c->cur_left = MIN(left, 0x10000u);
        c->cur_eot = hg_state_get_u8(r) != 0;
        uint32_t entries = hg_state_get_u32(r);
        c->entries = MIN(entries, (uint32_t)PRD_MAX_ENTRIES);
    }
    hg_state_close(r);
}
