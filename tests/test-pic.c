/* Unit tests of the 8259A pair and ELCR (engine/hw/pic8259.c), programmed through the I/O
 * ports the way SeaBIOS and Linux do. */
#include <glib.h>

#include "bus.h"
#include "clock.h"
#include "hw/pic8259.h"
#include "hw/pit8254.h"
#include "hw/rtc.h"
#include "state.h"

typedef struct Fx {
    HgBus *bus;
    HgPic *pic;
    bool intr;
    int changes;
} Fx;

static void on_intr(void *opaque, bool level)
{
    Fx *f = opaque;
    f->intr = level;
    f->changes++;
}

static void fx_init(Fx *f)
{
    memset(f, 0, sizeof(*f));
    f->bus = hg_bus_new(1 << 20);
    f->pic = hg_pic_new(f->bus, on_intr, f);
}

static void fx_free(Fx *f)
{
    hg_pic_free(f->pic);
    hg_bus_free(f->bus);
}

static void out(Fx *f, uint16_t port, uint8_t v)
{
    hg_bus_out(f->bus, port, v, 1);
}

static uint8_t in(Fx *f, uint16_t port)
{
    return hg_bus_in(f->bus, port, 1);
}

/* SeaBIOS pic_setup: vectors 0x08 / 0x70, everything but the cascade masked. */
static void seabios_init(Fx *f)
{
    out(f, 0x20, 0x11);
    out(f, 0xa0, 0x11);
    out(f, 0x21, 0x08);
    out(f, 0xa1, 0x70);
    out(f, 0x21, 0x04);
    out(f, 0xa1, 0x02);
    out(f, 0x21, 0x01);
    out(f, 0xa1, 0x01);
    out(f, 0x21, 0xfb);
    out(f, 0xa1, 0xff);
}

/* Linux init_8259A(auto_eoi = 0) after probe_8259A. */
static void linux_init(Fx *f, bool auto_eoi)
{
    out(f, 0x21, 0xff);
    g_assert_cmphex(in(f, 0x21), ==, 0xff); /* probe_8259A */
    out(f, 0xa1, 0xff);
    out(f, 0x20, 0x11);
    out(f, 0x21, 0x30);
    out(f, 0x21, 0x04);
    out(f, 0x21, auto_eoi ? 0x03 : 0x01);
    out(f, 0xa0, 0x11);
    out(f, 0xa1, 0x38);
    out(f, 0xa1, 0x02);
    out(f, 0xa1, 0x01);
    out(f, 0x21, 0xff);
    out(f, 0xa1, 0xff);
}

static uint8_t isr(Fx *f, uint16_t base)
{
    out(f, base, 0x0b);
    uint8_t v = in(f, base);
    out(f, base, 0x0a);
    return v;
}

static void test_seabios(void)
{
    Fx f;
    fx_init(&f);
    seabios_init(&f);
    g_assert_cmphex(in(&f, 0x21), ==, 0xfb);
    g_assert_cmphex(in(&f, 0xa1), ==, 0xff);
    hg_pic_set_irq(f.pic, 0, true);
    g_assert_false(f.intr);                  /* masked */
    g_assert_cmphex(in(&f, 0x20), ==, 0x01); /* IRR */
    out(&f, 0x21, 0xfa);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x08);
    g_assert_false(f.intr);
    g_assert_cmphex(isr(&f, 0x20), ==, 0x01);
    g_assert_cmphex(in(&f, 0x20), ==, 0x00); /* edge request consumed */
    /* Line still high: no new request without a new edge. */
    out(&f, 0x20, 0x20);
    g_assert_cmphex(isr(&f, 0x20), ==, 0x00);
    g_assert_false(f.intr);
    hg_pic_set_irq(f.pic, 0, false);
    hg_pic_set_irq(f.pic, 0, true);
    g_assert_true(f.intr);
    /* RTC on IRQ8 through the cascade. */
    out(&f, 0xa1, 0xfe);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x08);
    hg_pic_set_irq(f.pic, 8, true);
    g_assert_false(f.intr); /* IRQ0 in service blocks IR2 */
    out(&f, 0x20, 0x20);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x70);
    g_assert_cmphex(isr(&f, 0x20), ==, 0x04);
    g_assert_cmphex(isr(&f, 0xa0), ==, 0x01);
    out(&f, 0xa0, 0x20);
    out(&f, 0x20, 0x20);
    g_assert_cmphex(isr(&f, 0x20), ==, 0);
    g_assert_cmphex(isr(&f, 0xa0), ==, 0);
    fx_free(&f);
}

static void test_linux(void)
{
    Fx f;
    fx_init(&f);
    linux_init(&f, false);
    /* enable_8259A_irq(12), then the interrupt and mask_and_ack_8259A. */
    out(&f, 0xa1, 0xef);
    out(&f, 0x21, 0xfb);
    hg_pic_set_irq(f.pic, 12, true);
    hg_pic_set_irq(f.pic, 12, false); /* a short pulse is kept */
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x3c);
    out(&f, 0xa1, 0xff);
    out(&f, 0xa0, 0x60 + 4);
    out(&f, 0x20, 0x60 + 2);
    g_assert_cmphex(isr(&f, 0x20), ==, 0);
    g_assert_cmphex(isr(&f, 0xa0), ==, 0);
    /* Priority: IRQ 1 before 3; 0 preempts 1; 5 waits for the EOI. */
    out(&f, 0x21, 0x00);
    hg_pic_set_irq(f.pic, 3, true);
    hg_pic_set_irq(f.pic, 1, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x31);
    g_assert_false(f.intr);
    hg_pic_set_irq(f.pic, 0, true);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x30);
    g_assert_cmphex(isr(&f, 0x20), ==, 0x03);
    out(&f, 0x20, 0x20); /* clears 0, the highest in service */
    g_assert_cmphex(isr(&f, 0x20), ==, 0x02);
    out(&f, 0x20, 0x20);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x33);
    out(&f, 0x20, 0x63);
    g_assert_false(f.intr);
    /* Auto-EOI setup. */
    linux_init(&f, true);
    out(&f, 0x21, 0xfe);
    hg_pic_set_irq(f.pic, 0, false);
    hg_pic_set_irq(f.pic, 0, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x30);
    g_assert_cmphex(isr(&f, 0x20), ==, 0);
    fx_free(&f);
}

static void test_spurious_and_level(void)
{
    Fx f;
    fx_init(&f);
    seabios_init(&f);
    out(&f, 0x21, 0x00);
    out(&f, 0xa1, 0x00);
    /* Edge request masked after INTR was raised: INTA gets IR7 with no ISR bit. */
    hg_pic_set_irq(f.pic, 3, true);
    g_assert_true(f.intr);
    out(&f, 0x21, 0x08);
    g_assert_false(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x0f);
    g_assert_cmphex(isr(&f, 0x20), ==, 0);
    /* ELCR: IRQ 0, 1, 2, 8, 13 cannot be level. */
    out(&f, 0x4d0, 0xff);
    out(&f, 0x4d1, 0xff);
    g_assert_cmphex(in(&f, 0x4d0), ==, 0xf8);
    g_assert_cmphex(in(&f, 0x4d1), ==, 0xde);
    out(&f, 0x4d0, 0x20);
    out(&f, 0x4d1, 0x08); /* IRQ 11 level */
    hg_pic_set_irq(f.pic, 5, true);
    g_assert_true(f.intr);
    hg_pic_set_irq(f.pic, 5, false); /* a level request vanishes */
    g_assert_false(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x0f);
    /* Level: re-requests after EOI while the line stays high. */
    hg_pic_set_irq(f.pic, 11, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x73);
    g_assert_false(f.intr);
    out(&f, 0xa0, 0x20);
    out(&f, 0x20, 0x20);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x73);
    hg_pic_set_irq(f.pic, 11, false);
    out(&f, 0xa0, 0x20);
    out(&f, 0x20, 0x20);
    g_assert_false(f.intr);
    /* A level request on the slave that goes away after INT rose: master IR2 is latched,
     * the slave answers the spurious IRQ 15 and the master's IR2 stays in service (Linux
     * then sends the master EOI only). */
    out(&f, 0x4d1, 0x00);
    out(&f, 0x4d1, 0x08);
    hg_pic_set_irq(f.pic, 11, true);
    hg_pic_set_irq(f.pic, 11, false);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x77);
    g_assert_cmphex(isr(&f, 0x20), ==, 0x04);
    g_assert_cmphex(isr(&f, 0xa0), ==, 0x00);
    out(&f, 0x20, 0x20);
    g_assert_false(f.intr);
    /* Masking on the slave after INT rose does the same. */
    hg_pic_set_irq(f.pic, 10, true);
    g_assert_true(f.intr);
    out(&f, 0xa1, 0x04);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x77);
    out(&f, 0x20, 0x20);
    out(&f, 0xa1, 0x00);
    g_assert_true(f.intr); /* the unmasked request raises INT again */
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x72);
    out(&f, 0xa0, 0x20);
    out(&f, 0x20, 0x20);
    /* Two slave requests in auto-EOI mode: INT drops during INTA and rises again. */
    out(&f, 0xa0, 0x11);
    out(&f, 0xa1, 0x70);
    out(&f, 0xa1, 0x02);
    out(&f, 0xa1, 0x03);
    out(&f, 0xa1, 0x00);
    hg_pic_set_irq(f.pic, 12, true);
    hg_pic_set_irq(f.pic, 14, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x74);
    out(&f, 0x20, 0x20);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x76);
    out(&f, 0x20, 0x20);
    g_assert_false(f.intr);
    fx_free(&f);
}

static void test_modes(void)
{
    Fx f;
    fx_init(&f);
    seabios_init(&f);
    out(&f, 0x21, 0x00);
    /* Rotate on non-specific EOI: IRQ 1 becomes the lowest priority. */
    hg_pic_set_irq(f.pic, 1, true);
    hg_pic_set_irq(f.pic, 3, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x09);
    out(&f, 0x20, 0xa0);
    hg_pic_set_irq(f.pic, 1, false);
    hg_pic_set_irq(f.pic, 1, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x0b);
    out(&f, 0x20, 0x20);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x09);
    out(&f, 0x20, 0x20);
    /* Set priority: IR4 lowest, so IR5 is the highest. */
    out(&f, 0x20, 0xc4);
    hg_pic_set_irq(f.pic, 0, true);
    hg_pic_set_irq(f.pic, 5, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x0d);
    out(&f, 0x20, 0x65);
    out(&f, 0x20, 0xc7);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x08);
    /* Special mask mode: IR0 in service and masked lets IR6 through. */
    hg_pic_set_irq(f.pic, 6, true);
    g_assert_false(f.intr);
    out(&f, 0x21, 0x01);
    out(&f, 0x20, 0x68);
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x0e);
    out(&f, 0x20, 0x66);
    out(&f, 0x20, 0x48); /* leave special mask mode */
    out(&f, 0x20, 0x60);
    out(&f, 0x21, 0x00);
    /* Poll mode. */
    hg_pic_set_irq(f.pic, 4, true);
    out(&f, 0x20, 0x0c);
    g_assert_cmphex(in(&f, 0x20), ==, 0x84);
    g_assert_cmphex(isr(&f, 0x20), ==, 0x10);
    out(&f, 0x20, 0x0c);
    g_assert_cmphex(in(&f, 0x20), ==, 0x00);
    out(&f, 0x20, 0x20);
    fx_free(&f);
}

/* Special fully nested mode: a higher-priority slave request interrupts a slave
 * handler (the master's IR2 in service does not block it). */
static void test_sfnm(void)
{
    Fx f;
    fx_init(&f);
    out(&f, 0x20, 0x11);
    out(&f, 0x21, 0x08);
    out(&f, 0x21, 0x04);
    out(&f, 0x21, 0x11); /* SFNM, 8086 */
    out(&f, 0xa0, 0x11);
    out(&f, 0xa1, 0x70);
    out(&f, 0xa1, 0x02);
    out(&f, 0xa1, 0x01);
    out(&f, 0x21, 0x00);
    out(&f, 0xa1, 0x00);
    hg_pic_set_irq(f.pic, 12, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x74);
    hg_pic_set_irq(f.pic, 14, true); /* lower than 12: waits */
    g_assert_false(f.intr);
    hg_pic_set_irq(f.pic, 9, true); /* higher than 12: nests */
    g_assert_true(f.intr);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x71);
    g_assert_cmphex(isr(&f, 0xa0), ==, 0x12);
    out(&f, 0xa0, 0x20);
    g_assert_cmphex(isr(&f, 0xa0), ==, 0x10);
    out(&f, 0xa0, 0x20);
    out(&f, 0x20, 0x20);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x76);
    fx_free(&f);
}

static void test_hostile_and_state(void)
{
    Fx f;
    fx_init(&f);
    /* Garbage before and during initialisation. */
    for (int i = 0; i < 256; i++) {
        out(&f, 0x20, i);
        out(&f, 0x21, i * 7);
        out(&f, 0xa0, i ^ 0x55);
        out(&f, 0xa1, i);
        in(&f, 0x20);
        in(&f, 0xa0);
        hg_pic_ack(f.pic);
    }
    hg_pic_set_irq(f.pic, -1, true);
    hg_pic_set_irq(f.pic, 16, true);
    hg_pic_set_irq(f.pic, 2, true);
    hg_pic_reset(f.pic);
    seabios_init(&f);
    out(&f, 0x21, 0x00);
    out(&f, 0xa1, 0x00);
    out(&f, 0x4d1, 0x02);
    hg_pic_set_irq(f.pic, 9, true);
    hg_pic_set_irq(f.pic, 4, true);
    g_assert_cmphex(hg_pic_ack(f.pic), ==, 0x71);
    /* Save with IRQ 9 in service and IRQ 4 waiting. */
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_pic_save(f.pic, &w);
    GBytes *b = hg_state_writer_finish(&w);
    Fx g;
    fx_init(&g);
    gsize len;
    const uint8_t *data = g_bytes_get_data(b, &len);
    HgStateReader r;
    hg_state_reader_init(&r, data, len);
    hg_pic_load(g.pic, &r);
    g_assert_no_error(r.error);
    g_assert_cmpint(g.changes, >=, 1);
    g_assert_false(g.intr); /* IRQ 4 is below IR2 in service */
    g_assert_cmphex(isr(&g, 0xa0), ==, 0x02);
    g_assert_cmphex(in(&g, 0x4d1), ==, 0x02);
    out(&g, 0xa0, 0x20);
    out(&g, 0x20, 0x20);
    g_assert_cmphex(hg_pic_ack(g.pic), ==, 0x71); /* level line still high */
    out(&g, 0xa0, 0x20);
    out(&g, 0x20, 0x20);
    hg_pic_set_irq(g.pic, 9, false);
    /* IRQ 9 requested again after its EOI and vanished: spurious IRQ 15 first. */
    g_assert_cmphex(hg_pic_ack(g.pic), ==, 0x77);
    out(&g, 0x20, 0x20);
    g_assert_cmphex(hg_pic_ack(g.pic), ==, 0x0c);
    /* A truncated state is refused and leaves the device usable. */
    Fx h;
    fx_init(&h);
    hg_state_reader_init(&r, data, len - 3);
    hg_pic_load(h.pic, &r);
    g_assert_false(hg_state_ok(&r));
    g_error_free(r.error);
    g_bytes_unref(b);
    fx_free(&f);
    fx_free(&g);
    fx_free(&h);
}

/* The board wiring: PIT channel 0 on IRQ0 and the RTC on IRQ8, a CPU that takes every
 * interrupt as soon as INTR rises and whose handlers end with EOI (and read RTC C). */
typedef struct Board {
    Fx f;
    uint64_t insns;
    HgClock *clock;
    HgPit *pit;
    HgRtc *rtc;
    int count[256];
} Board;

static uint64_t board_insns(void *opaque)
{
    return ((Board *)opaque)->insns;
}

static void board_take_interrupts(Board *b)
{
    while (b->f.intr) {
        uint8_t vec = hg_pic_ack(b->f.pic);
        b->count[vec]++;
        if (vec == 0x38) {
            out(&b->f, 0x70, 0x0c);
            in(&b->f, 0x71);
            out(&b->f, 0xa0, 0x20);
        }
        if (vec != 0x37 && vec != 0x3f)
            out(&b->f, 0x20, 0x20);
    }
}

static void test_board(void)
{
    Board *b = g_new0(Board, 1);
    fx_init(&b->f);
    b->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, board_insns, b);
    b->pit = hg_pit_new(b->f.bus, b->clock, hg_pic_irq(b->f.pic, 0));
    b->rtc = hg_rtc_new(b->f.bus, b->clock, hg_pic_irq(b->f.pic, 8), 0);
    linux_init(&b->f, false);
    out(&b->f, 0x43, 0x34); /* 1000 Hz */
    out(&b->f, 0x40, 0xa9);
    out(&b->f, 0x40, 0x04);
    out(&b->f, 0x70, 0x0a); /* 1024 Hz periodic */
    out(&b->f, 0x71, 0x26);
    out(&b->f, 0x70, 0x0b);
    out(&b->f, 0x71, 0x42);
    out(&b->f, 0x21, 0xfa);
    out(&b->f, 0xa1, 0xfe);
    /* Halted CPU: jump from timer to timer for one virtual second. */
    while (hg_clock_deadline(b->clock) <= 1000000000) {
        b->insns = hg_clock_deadline(b->clock);
        hg_clock_run_timers(b->clock);
        board_take_interrupts(b);
    }
    g_assert_cmpint(b->count[0x30], >=, 999);
    g_assert_cmpint(b->count[0x30], <=, 1000);
    g_assert_cmpint(b->count[0x38], >=, 1023);
    g_assert_cmpint(b->count[0x38], <=, 1024);
    g_assert_cmpint(b->count[0x37] + b->count[0x3f], ==, 0);
    hg_rtc_free(b->rtc);
    hg_pit_free(b->pit);
    hg_clock_free(b->clock);
    fx_free(&b->f);
    g_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pic/seabios", test_seabios);
    g_test_add_func("/pic/linux", test_linux);
    g_test_add_func("/pic/spurious-level", test_spurious_and_level);
    g_test_add_func("/pic/modes", test_modes);
    g_test_add_func("/pic/sfnm", test_sfnm);
    g_test_add_func("/pic/hostile-state", test_hostile_and_state);
    g_test_add_func("/pic/board-pit-rtc", test_board);
    return g_test_run();
}
