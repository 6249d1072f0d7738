/* Intel 8259A programmable interrupt controller pair as wired in the PC/AT, plus the
 * PIIX3 ELCR registers (Intel 8259A datasheet, "Programming the 8259A": ICW1-ICW4,
 * OCW1-OCW3, priority rotation, special mask and poll modes; Intel 82371SB PIIX3
 * datasheet 4.1.13 "ELCR1/ELCR2").
 *
 * Each input is edge-sensitive unless its ELCR bit (or the chip's ICW1.LTIM) makes it
 * level-sensitive. An edge request stays latched in IRR until acknowledged, so a short
 * pulse (hg_irq_pulse) is never lost; a level request follows its line, so a request that
 * goes away before INTA yields the spurious IR7. The slave's INT output feeds master IR2
 * like any edge-triggered input, so a slave request that vanishes (line dropped, or
 * masked) after INT rose gives the spurious IRQ 15 with master IR2 in service, as Linux
 * expects. INT drops during the INTA cycles and rises again if another request is
 * still pending, which re-latches IR2.
 */
#include "pic8259.h"

#include <glib.h>

#include "bus.h"
#include "state.h"

typedef struct Chip {
    uint8_t lines; /* current input levels */
    uint8_t irr, isr, imr;
    uint8_t elcr, elcr_mask;
    uint8_t base;      /* ICW2 vector base (bits 7-3) */
    uint8_t lowest;    /* IR of the lowest priority; highest is lowest + 1 */
    uint8_t init_step; /* 0 ready, 1 expects ICW2, 2 ICW3, 3 ICW4 */
    bool ic4, single, ltim;
    bool aeoi, rotate_aeoi, sfnm;
    bool read_isr, poll, special_mask;
    uint8_t icw3;
} Chip;

struct HgPic {
    Chip c[2]; /* master, slave */
    HgPicIntr intr;
    void *opaque;
    bool out;
    bool slave_int; /* slave INT output, as last seen by master IR2 */
};

/* Requests are level-sensitive where ELCR or LTIM says so. */
static uint8_t level_mask(const Chip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Priority position (0 = highest) of the best bit in mask, or 8 when mask is empty. */
static int best_priority(const Chip *c, uint8_t mask)
{
    for (int prio = 0; prio < 8; prio++) {
        if (mask & (1u << ((c->lowest + 1 + prio) & 7)))
            return prio;
    }
    return 8;
}

/* The IR this chip would present to its INTA now, or -1. */
static int chip_pending(const Chip *c, bool master)
{
    int req = best_priority(c, c->irr & ~c->imr);
    if (req == 8)
        return -1;
    uint8_t in_service = c->isr;
    /* Special mask mode: masked in-service levels do not inhibit lower ones. */
    if (c->special_mask)
        in_service &= ~c->imr;
    /* Special fully nested mode: the slave may interrupt while its cascade IR is served. */
    if (master && c->sfnm)
        in_service &= ~(1u << 2);
    int cur = best_priority(c, in_service);
    if (req < cur)
        return (c->lowest + 1 + req) & 7;
    return -1;
}

static void update_out(HgPic *p, bool force)
{
    Chip *m = &p->c[0];
    bool s_int = chip_pending(&p->c[1], false) >= 0;
    if (s_int && (!p->slave_int || (level_mask(m) & 4)))
        m->irr |= 1u << 2;
    else if (!s_int && (level_mask(m) & 4))
        m->irr &= ~(1u << 2);
    p->slave_int = s_int;
    bool out = chip_pending(m, true) >= 0;
    if (out != p->out || force) {
        p->out = out;
        if (p->intr)
            p->intr(p->opaque, out);
    }
}

static void update(HgPic *p)
{
    update_out(p, false);
}

void hg_pic_set_irq(HgPic *p, int irq, bool level)
{
    if (irq < 0 || irq > 15 || irq == 2)
        return;
    Chip *c = &p->c[irq >> 3];
    uint8_t bit = 1u << (irq & 7);
    bool was = c->lines & bit;
    if (level) {
        c->lines |= bit;
        if (!was || (level_mask(c) & bit))
            c->irr |= bit;
    } else {
        c->lines &= ~bit;
        if (level_mask(c) & bit)
            c->irr &= ~bit;
    }
    update(p);
}

void hg_pic_irq_set(void *opaque, int irq, bool level)
{
    hg_pic_set_irq(opaque, irq, level);
}

HgIrq hg_pic_irq(HgPic *p, int irq)
{
    return hg_irq(hg_pic_irq_set, p, irq);
}

bool hg_pic_intr(const HgPic *p)
{
    return p->out;
}

/* Second INTA pulse of one chip for IR irq. */
static void chip_ack(Chip *c, int irq)
{
    uint8_t bit = 1u << irq;
    if (c->aeoi) {
        if (c->rotate_aeoi)
            c->lowest = irq;
    } else {
        c->isr |= bit;
    }
    if (!(level_mask(c) & bit))
        c->irr &= ~bit;
}

uint8_t hg_pic_ack(HgPic *p)
{
    Chip *m = &p->c[0], *s = &p->c[1];
    uint8_t vec;
    int irq = chip_pending(m, true);
    if (irq < 0) {
        vec = m->base + 7;
    } else if (irq == 2 && !m->single) {
        int irq2 = chip_pending(s, false);
        chip_ack(m, 2);
        p->slave_int = false;
        if (irq2 < 0) {
            vec = s->base + 7;
        } else {
            chip_ack(s, irq2);
            vec = s->base + irq2;
        }
    } else {
        chip_ack(m, irq);
        vec = m->base + irq;
    }
    update(p);
    return vec;
}

uint8_t hg_pic_intr_ack(void *opaque)
{
    return hg_pic_ack(opaque);
}

static void chip_init_reset(Chip *c)
{
    c->imr = 0;
    c->isr = 0;
    /* Edge sense is reset: an edge input must go low and high again to request. */
    c->irr = c->lines & level_mask(c);
    c->lowest = 7;
    c->read_isr = false;
    c->poll = false;
    c->special_mask = false;
    c->aeoi = c->rotate_aeoi = c->sfnm = false;
}

static void write_ocw2(Chip *c, uint8_t v)
{
    int level = v & 7;
    switch (v >> 5) {
    case 0: c->rotate_aeoi = false; break;
    case 4: c->rotate_aeoi = true; break;
    case 1:   /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        int prio = best_priority(c, c->isr);
        if (prio < 8) {
            int irq = (c->lowest + 1 + prio) & 7;
            c->isr &= ~(1u << irq);
            if (v & 0x80)
                c->lowest = irq;
        }
        break;
    }
    case 3: c->isr &= ~(1u << level); break;
    case 7:
        c->isr &= ~(1u << level);
        c->lowest = level;
        break;
    case 6: c->lowest = level; break;
    default: break; /* 2: no operation */
    }
}

/* Poll command read: acknowledges the highest request like an INTA. */
static uint8_t poll_read(HgPic *p, int idx)
{
    Chip *c = &p->c[idx];
    c->poll = false;
    int irq = chip_pending(c, idx == 0);
    if (irq < 0)
        return 0;
    chip_ack(c, irq);
    if (idx == 1)
        p->slave_int = false;
    update(p);
    return 0x80 | irq;
}

static uint32_t pic_read(void *opaque, uint32_t port, int size)
{
    (void)size;
    HgPic *p = opaque;
    int idx = (port & 0x80) ? 1 : 0;
    Chip *c = &p->c[idx];
    if (c->poll)
        return poll_read(p, idx);
    if (port & 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)size;
    HgPic *p = opaque;
    int idx = (port & 0x80) ? 1 : 0;
    Chip *c = &p->c[idx];
    uint8_t v = value;
    if (!(port & 1)) {
        if (v & 0x10) { /* ICW1 */
            c->ic4 = v & 1;
            c->single = v & 2;
            c->ltim = v & 8;
            chip_init_reset(c);
            c->init_step = 1;
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04)
                c->poll = true;
            if (v & 0x02)
                c->read_isr = v & 1;
            if (v & 0x40)
                c->special_mask = (v >> 5) & 1;
        } else {
            write_ocw2(c, v);
        }
        update(p);
        return;
    }
    switch (c->init_step) {
    case 1:
        c->base = v & 0xf8;
        c->init_step = c->single ? (c->ic4 ? 3 : 0) : 2;
        break;
    case 2:
        c->icw3 = v;
        c->init_step = c->ic4 ? 3 : 0;
        break;
    case 3:
        c->aeoi = v & 2;
        c->sfnm = v & 0x10;
        c->init_step = 0;
        break;
    default:
        c->imr = v;
        update(p);
        break;
    }
}

static uint32_t elcr_read(void *opaque, uint32_t port, int size)
{
    (void)size;
    HgPic *p = opaque;
    return p->c[port & 1].elcr;
}

static void elcr_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)size;
    HgPic *p = opaque;
    Chip *c = &p->c[port & 1];
    c->elcr = value & c->elcr_mask;
    /* Inputs that became level-sensitive request exactly while their line is high. */
    uint8_t lv = level_mask(c);
    c->irr = (c->irr & ~lv) | (c->lines & lv);
    update(p);
}

void hg_pic_reset(HgPic *p)
{
    for (int i = 0; i < 2; i++) {
        Chip *c = &p->c[i];
        uint8_t lines = c->lines;
        memset(c, 0, sizeof(*c));
        c->lines = lines;
        c->elcr_mask = i ? 0xde : 0xf8; /* IRQ 0, 1, 2, 8, 13 are always edge */
        chip_init_reset(c);
    }
    p->slave_int = false;
    update(p);
}

HgPic *hg_pic_new(HgBus *bus, HgPicIntr intr, void *opaque)
{
    HgPic *p = g_new0(HgPic, 1);
    p->intr = intr;
    p->opaque = opaque;
    hg_pic_reset(p);
    if (bus) {
        hg_bus_map_io(bus, 0x20, 2, pic_read, pic_write, p);
        hg_bus_map_io(bus, 0xa0, 2, pic_read, pic_write, p);
        hg_bus_map_io(bus, 0x4d0, 2, elcr_read, elcr_write, p);
    }
    return p;
}

void hg_pic_free(HgPic *p)
{
    g_free(p);
}

void hg_pic_save(const HgPic *p, HgStateWriter *w)
{
    hg_state_begin(w, "pic8259", 1);
    for (int i = 0; i < 2; i++) {
        const Chip *c = &p->c[i];
        hg_state_put_u8(w, c->lines);
        hg_state_put_u8(w, c->irr);
        hg_state_put_u8(w, c->isr);
        hg_state_put_u8(w, c->imr);
        hg_state_put_u8(w, c->elcr);
        hg_state_put_u8(w, c->base);
        hg_state_put_u8(w, c->lowest);
        hg_state_put_u8(w, c->init_step);
        hg_state_put_u8(w, c->icw3);
        uint16_t flags = (i ? p->slave_int << 9 : 0) | c->ic4 | c->single << 1 | c->ltim << 2 |
                         c->aeoi << 3 | c->rotate_aeoi << 4 | c->sfnm << 5 | c->read_isr << 6 |
                         c->poll << 7 | c->special_mask << 8;
        hg_state_put_u16(w, flags);
    }
    hg_state_end(w);
}

void hg_pic_load(HgPic *p, HgStateReader *r)
{
    if (!hg_state_open(r, "pic8259", 1, 1))
        return;
    Chip c[2];
    bool slave_int = false;
    for (int i = 0; i < 2; i++) {
        Chip *x = &c[i];
        memset(x, 0, sizeof(*x));
        x->lines = hg_state_get_u8(r);
        x->irr = hg_state_get_u8(r);
        x->isr = hg_state_get_u8(r);
        x->imr = hg_state_get_u8(r);
        x->elcr_mask = i ? 0xde : 0xf8;
        x->elcr = hg_state_get_u8(r) & x->elcr_mask;
        x->base = hg_state_get_u8(r) & 0xf8;
        x->lowest = hg_state_get_u8(r) & 7;
        uint8_t step = hg_state_get_u8(r);
        x->init_step = MIN(step, 3);
        x->icw3 = hg_state_get_u8(r);
        uint16_t f = hg_state_get_u16(r);
        x->ic4 = f & 1;
        x->single = f & 2;
        x->ltim = f & 4;
        x->aeoi = f & 8;
        x->rotate_aeoi = f & 0x10;
        x->sfnm = f & 0x20;
        x->read_isr = f & 0x40;
        x->poll = f & 0x80;
        x->special_mask = f & 0x100;
        if (i)
            slave_int = f & 0x200;
    }
    hg_state_close(r);
    if (!hg_state_ok(r))
        return;
    p->c[0] = c[0];
    p->c[1] = c[1];
    p->slave_int = slave_int;
    /* Tell the CPU the restored INTR level whatever it was before. */
    update_out(p, true);
}
