/* Unit tests of the i8042 controller with its PS/2 keyboard and mouse
 * (engine/hw/i8042.c, engine/hw/ps2.c), driven through ports 0x60/0x64 as SeaBIOS
 * (ps2port.c) and Linux (i8042.c, atkbd.c, psmouse) program them. */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "hw/i8042.h"
#include "state.h"

typedef struct Board {
    HgBus *bus;
    HgI8042 *kbc;
    bool level[16];
    int edges[16];
    int resets;
    int a20_calls;
    bool a20;
} Board;

static void set_irq(void *opaque, int n, bool level)
{
    Board *b = opaque;
    if (level && !b->level[n])
        b->edges[n]++;
    b->level[n] = level;
}

static void on_a20(void *opaque, bool on)
{
    Board *b = opaque;
    b->a20_calls++;
    b->a20 = on;
}

static void on_reset(void *opaque)
{
    ((Board *)opaque)->resets++;
}

static Board *board_new(void)
{
    Board *b = g_new0(Board, 1);
    b->bus = hg_bus_new(1 << 20);
    HgI8042Callbacks cb = {on_a20, on_reset, b};
    b->kbc = hg_i8042_new(b->bus, hg_irq(set_irq, b, 1), hg_irq(set_irq, b, 12), &cb);
    b->a20 = true;
    return b;
}

static void board_free(Board *b)
{
    hg_i8042_free(b->kbc);
    hg_bus_free(b->bus);
    g_free(b);
}

static uint8_t st(Board *b)
{
    return hg_bus_in(b->bus, 0x64, 1) & 0xff;
}

static void cmd(Board *b, uint8_t v)
{
    g_assert_false(st(b) & 0x02); /* input buffer empty, as drivers wait for */
    hg_bus_out(b->bus, 0x64, v, 1);
}

static void dat(Board *b, uint8_t v)
{
    hg_bus_out(b->bus, 0x60, v, 1);
}

/* Reads the output buffer, which must be full (from the aux device when aux is set). */
static uint8_t rd(Board *b, bool aux)
{
    uint8_t s = st(b);
    g_assert_true(s & 0x01);
    g_assert_cmpint(!!(s & 0x20), ==, aux);
    return hg_bus_in(b->bus, 0x60, 1) & 0xff;
}

static void assert_empty(Board *b)
{
    g_assert_false(st(b) & 0x01);
}

static void flush(Board *b)
{
    for (int i = 0; i < 4096 && (st(b) & 1); i++)
        hg_bus_in(b->bus, 0x60, 1);
    assert_empty(b);
}

/* SeaBIOS ps2port.c: controller self-test, keyboard test, keyboard reset, scanning
 * disabled, set 2 selected, scanning enabled, CTR with translation. */
static void seabios_init(Board *b)
{
    flush(b);
    cmd(b, 0xad);
    cmd(b, 0xa7);
    cmd(b, 0x20);
    uint8_t ctr = rd(b, false);
    (void)ctr;
    cmd(b, 0x60);
    dat(b, 0x30); /* both disabled, interrupts off */
    cmd(b, 0xaa);
    g_assert_cmphex(rd(b, false), ==, 0x55);
    cmd(b, 0xab);
    g_assert_cmphex(rd(b, false), ==, 0x00);
    cmd(b, 0x60);
    dat(b, 0x20); /* keyboard enabled, no interrupts, no translation */
    dat(b, 0xff);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    g_assert_cmphex(rd(b, false), ==, 0xaa);
    dat(b, 0xf5);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0xf0);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0x02);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0xf4);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    assert_empty(b);
    cmd(b, 0x60);
    dat(b, 0x65); /* AUXDIS | XLATE | SYS | KBDINT */
    g_assert_cmphex(st(b) & 0x04, ==, 0x04);
}

static void test_seabios_keyboard(void)
{
    Board *b = board_new();
    seabios_init(b);
    HgPs2Kbd *k = hg_i8042_kbd(b->kbc);
    int e0 = b->edges[1];
    hg_ps2_kbd_key(k, 0x1e, true); /* A */
    g_assert_true(b->level[1]);
    g_assert_cmphex(rd(b, false), ==, 0x1e);
    g_assert_false(b->level[1]);
    hg_ps2_kbd_key(k, 0x1e, false);
    g_assert_cmphex(rd(b, false), ==, 0x9e);
    hg_ps2_kbd_key(k, HG_KEY_E0 | 0x48, true); /* Up */
    hg_ps2_kbd_key(k, HG_KEY_E0 | 0x48, false);
    g_assert_cmphex(rd(b, false), ==, 0xe0);
    g_assert_cmphex(rd(b, false), ==, 0x48);
    g_assert_cmphex(rd(b, false), ==, 0xe0);
    g_assert_cmphex(rd(b, false), ==, 0xc8);
    hg_ps2_kbd_key(k, 0x41, true); /* F7: set 2 0x83, the odd one out */
    g_assert_cmphex(rd(b, false), ==, 0x41);
    hg_ps2_kbd_key(k, HG_KEY_PAUSE, true);
    static const uint8_t pause[6] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
    for (int i = 0; i < 6; i++)
        g_assert_cmphex(rd(b, false), ==, pause[i]);
    assert_empty(b);
    g_assert_cmpint(b->edges[1] - e0, ==, 13);
    /* Every set-1 code of the table survives the set 2 round trip through XLAT. */
    for (int c = 1; c < 128; c++) {
        if (!hg_ps2_set1_to_set2((uint8_t)c))
            continue;
        hg_ps2_kbd_key(k, (uint16_t)c, true);
        hg_ps2_kbd_key(k, (uint16_t)c, false);
        g_assert_cmphex(rd(b, false), ==, c);
        g_assert_cmphex(rd(b, false), ==, c | 0x80);
    }
    /* LEDs and typematic. */
    dat(b, 0xed);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0x05);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    g_assert_cmphex(hg_ps2_kbd_leds(k), ==, 5);
    dat(b, 0xf3);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0x00);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0xee);
    g_assert_cmphex(rd(b, false), ==, 0xee);
    dat(b, 0xfe);
    g_assert_cmphex(rd(b, false), ==, 0xee); /* resend */
    dat(b, 0x12);
    g_assert_cmphex(rd(b, false), ==, 0xfe); /* unknown command */
    /* Disabled scanning drops keys. */
    dat(b, 0xf5);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    hg_ps2_kbd_key(k, 0x1e, true);
    assert_empty(b);
    board_free(b);
}

/* Linux i8042_controller_check / selftest / check_aux / atkbd probe. */
static void test_linux_probe(void)
{
    Board *b = board_new();
    g_assert_cmphex(st(b), !=, 0xff);
    flush(b);
    cmd(b, 0x20);
    uint8_t ctr = rd(b, false);
    g_assert_cmphex(ctr & 0x40, ==, 0x40);
    cmd(b, 0xaa);
    g_assert_cmphex(rd(b, false), ==, 0x55);
    /* check_aux: AUX loopback through 0xD3 and IRQ12 delivery. */
    cmd(b, 0x60);
    dat(b, (ctr & ~0x20) | 0x02);
    cmd(b, 0xd3);
    dat(b, 0x5a);
    g_assert_true(b->level[12]);
    g_assert_cmphex(rd(b, true), ==, 0x5a);
    g_assert_false(b->level[12]);
    cmd(b, 0xa7);
    cmd(b, 0x20);
    g_assert_cmphex(rd(b, false) & 0x20, ==, 0x20);
    cmd(b, 0xa8);
    cmd(b, 0x20);
    g_assert_cmphex(rd(b, false) & 0x20, ==, 0x00);
    cmd(b, 0xa9);
    g_assert_cmphex(rd(b, false), ==, 0x00);
    /* atkbd: identify through translation gives AB 41; set query gives 41 (set 2). */
    dat(b, 0xf2);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    g_assert_cmphex(rd(b, false), ==, 0xab);
    g_assert_cmphex(rd(b, false), ==, 0x41);
    dat(b, 0xf0);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    dat(b, 0x00);
    g_assert_cmphex(rd(b, false), ==, 0xfa);
    g_assert_cmphex(rd(b, false), ==, 0x41);
    /* Untranslated set 1 and set 2. */
    cmd(b, 0x60);
    dat(b, 0x07);
    HgPs2Kbd *k = hg_i8042_kbd(b->kbc);
    hg_ps2_kbd_key(k, HG_KEY_E0 | 0x1d, false); /* right Ctrl up, set 2 */
    g_assert_cmphex(rd(b, false), ==, 0xe0);
    g_assert_cmphex(rd(b, false), ==, 0xf0);
    g_assert_cmphex(rd(b, false), ==, 0x14);
    dat(b, 0xf0);
    rd(b, false);
    dat(b, 0x01);
    rd(b, false);
    g_assert_cmpint(hg_ps2_kbd_scancode_set(k), ==, 1);
    hg_ps2_kbd_key(k, 0x2a, false);
    g_assert_cmphex(rd(b, false), ==, 0xaa);
    dat(b, 0xf0);
    rd(b, false);
    dat(b, 0x09); /* invalid set */
    g_assert_cmphex(rd(b, false), ==, 0xfe);
    /* Output port: A20 and reset. */
    cmd(b, 0xd0);
    uint8_t out = rd(b, false);
    g_assert_cmphex(out & 0x03, ==, 0x03);
    cmd(b, 0xd1);
    dat(b, out & ~0x02);
    g_assert_cmpint(b->a20_calls, ==, 1);
    g_assert_false(b->a20);
    g_assert_false(hg_i8042_a20(b->kbc));
    cmd(b, 0xdf);
    g_assert_true(b->a20);
    g_assert_cmpint(b->resets, ==, 0);
    cmd(b, 0xfe);
    g_assert_cmpint(b->resets, ==, 1);
    cmd(b, 0xff); /* pulses nothing */
    g_assert_cmpint(b->resets, ==, 1);
    cmd(b, 0xd1);
    dat(b, 0x02);
    g_assert_cmpint(b->resets, ==, 2);
    /* 0xD2: keyboard output buffer loopback raises IRQ1. */
    cmd(b, 0x60);
    dat(b, 0x47);
    int e = b->edges[1];
    cmd(b, 0xd2);
    dat(b, 0x33);
    g_assert_cmpint(b->edges[1], ==, e + 1);
    g_assert_cmphex(rd(b, false), ==, 0x33);
    board_free(b);
}

static void aux(Board *b, uint8_t v)
{
    cmd(b, 0xd4);
    dat(b, v);
}

static void test_mouse(void)
{
    Board *b = board_new();
    seabios_init(b);
    cmd(b, 0x60);
    dat(b, 0x47); /* Linux: both ports, both interrupts, translation */
    HgPs2Mouse *m = hg_i8042_mouse(b->kbc);
    aux(b, 0xff);
    g_assert_true(b->level[12]);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    g_assert_cmphex(rd(b, true), ==, 0xaa);
    g_assert_cmphex(rd(b, true), ==, 0x00);
    aux(b, 0xf2);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    g_assert_cmphex(rd(b, true), ==, 0x00);
    /* IntelliMouse magic: 200, 100, 80. */
    static const uint8_t rates[3] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        aux(b, 0xf3);
        g_assert_cmphex(rd(b, true), ==, 0xfa);
        aux(b, rates[i]);
        g_assert_cmphex(rd(b, true), ==, 0xfa);
    }
    aux(b, 0xf2);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    g_assert_cmphex(rd(b, true), ==, 0x03);
    g_assert_cmpint(hg_ps2_mouse_id(m), ==, 3);
    /* Status request. */
    aux(b, 0xe8);
    rd(b, true);
    aux(b, 3);
    rd(b, true);
    aux(b, 0xe9);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    g_assert_cmphex(rd(b, true), ==, 0x00);
    g_assert_cmphex(rd(b, true), ==, 3);
    g_assert_cmphex(rd(b, true), ==, 80);
    /* No packets before reporting is enabled. */
    hg_ps2_mouse_event(m, 5, 5, 0, 0);
    assert_empty(b);
    aux(b, 0xf4);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    hg_ps2_mouse_event(m, 10, 5, 1, HG_PS2_BTN_LEFT);
    g_assert_cmphex(rd(b, true), ==, 0x29);
    g_assert_cmphex(rd(b, true), ==, 10);
    g_assert_cmphex(rd(b, true), ==, 0xfb);
    g_assert_cmphex(rd(b, true), ==, 0x01);
    assert_empty(b);
    /* A large motion is split into packets within the 9-bit range. */
    hg_ps2_mouse_event(m, -600, 0, 0, HG_PS2_BTN_LEFT);
    int total = 0;
    for (int p = 0; p < 3; p++) {
        uint8_t b0 = rd(b, true);
        g_assert_cmphex(b0 & 0xc8, ==, 0x08);
        g_assert_cmphex(b0 & 0x10, ==, 0x10);
        int x = rd(b, true) - 256;
        total += x;
        rd(b, true);
        rd(b, true);
    }
    g_assert_cmpint(total, ==, -600);
    assert_empty(b);
    /* Button release alone makes a packet. */
    hg_ps2_mouse_event(m, 0, 0, 0, 0);
    g_assert_cmphex(rd(b, true), ==, 0x08);
    for (int i = 0; i < 3; i++)
        g_assert_cmphex(rd(b, true), ==, 0);
    /* Remote mode: read data saturates and reports overflow. */
    aux(b, 0xf0);
    rd(b, true);
    hg_ps2_mouse_event(m, 1000, -1000, 0, HG_PS2_BTN_RIGHT);
    assert_empty(b);
    aux(b, 0xeb);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    g_assert_cmphex(rd(b, true), ==, 0xca);
    g_assert_cmphex(rd(b, true), ==, 0xff);
    g_assert_cmphex(rd(b, true), ==, 0xff);
    rd(b, true);
    aux(b, 0xea);
    rd(b, true);
    /* Keyboard and mouse bytes interleave through the one output buffer. */
    hg_ps2_kbd_key(hg_i8042_kbd(b->kbc), 0x10, true);
    hg_ps2_mouse_event(m, 1, 0, 0, 0);
    g_assert_cmphex(rd(b, false), ==, 0x10);
    g_assert_cmphex(rd(b, true), ==, 0x08);
    /* Explorer: 200, 200, 80 after IntelliMouse gives ID 4. */
    flush(b);
    static const uint8_t rates4[3] = {200, 200, 80};
    for (int i = 0; i < 3; i++) {
        aux(b, 0xf3);
        rd(b, true);
        aux(b, rates4[i]);
        rd(b, true);
    }
    aux(b, 0xf2);
    rd(b, true);
    g_assert_cmphex(rd(b, true), ==, 0x04);
    hg_ps2_mouse_event(m, 0, 0, -1, HG_PS2_BTN_SIDE);
    g_assert_cmphex(rd(b, true), ==, 0x08);
    rd(b, true);
    rd(b, true);
    g_assert_cmphex(rd(b, true), ==, 0x1f);
    /* Wrap mode echoes. */
    aux(b, 0xee);
    rd(b, true);
    aux(b, 0x42);
    g_assert_cmphex(rd(b, true), ==, 0x42);
    aux(b, 0xec);
    g_assert_cmphex(rd(b, true), ==, 0xfa);
    aux(b, 0xe1); /* Trackpoint probe: unknown */
    g_assert_cmphex(rd(b, true), ==, 0xfe);
    /* The aux port disabled holds mouse data back. */
    cmd(b, 0xa7);
    hg_ps2_mouse_event(m, 3, 0, 0, 0);
    assert_empty(b);
    cmd(b, 0xa8);
    g_assert_cmphex(rd(b, true), ==, 0x08);
    board_free(b);
}

static void test_hostile(void)
{
    Board *b = board_new();
    seabios_init(b);
    HgPs2Kbd *k = hg_i8042_kbd(b->kbc);
    /* 20 presses without reading: the 16-byte buffer ends with one overrun code. */
    for (int i = 0; i < 20; i++)
        hg_ps2_kbd_key(k, 0x1e, true);
    int n = 0;
    uint8_t last = 0;
    while (st(b) & 1) {
        last = rd(b, false);
        n++;
    }
    g_assert_cmpint(n, ==, 17);      /* the output buffer, 15 keys and the overrun code */
    g_assert_cmphex(last, ==, 0xff); /* set-2 00 translated: the 8042 table's overrun */
    /* Garbage key codes are ignored. */
    hg_ps2_kbd_key(k, 0xffff, true);
    hg_ps2_kbd_key(k, 0, true);
    hg_ps2_kbd_key(k, 0x80, true);
    assert_empty(b);
    /* A flood of mouse events does not grow the queue beyond its size. */
    HgPs2Mouse *m = hg_i8042_mouse(b->kbc);
    cmd(b, 0x60);
    dat(b, 0x47);
    aux(b, 0xf4);
    rd(b, true);
    for (int i = 0; i < 10000; i++)
        hg_ps2_mouse_event(m, INT32_MAX, INT32_MIN, INT32_MAX, ~0u);
    g_assert_cmpint(hg_ps2_mouse_pending(m), <=, HG_PS2_MOUSE_QUEUE);
    /* Draining it gives whole packets in step (none lost or torn), the pending motion
     * saturated at 4096 counts once the queue was full. */
    int sum_x = 0, sum_y = 0, packets = 0;
    while (st(b) & 1) {
        uint8_t b0 = rd(b, true);
        g_assert_cmphex(b0 & 0xcf, ==, 0x0f);
        sum_x += rd(b, true) - ((b0 & 0x10) ? 256 : 0);
        sum_y += rd(b, true) - ((b0 & 0x20) ? 256 : 0);
        packets++;
    }
    g_assert_cmpint(sum_x, ==, sum_y);
    g_assert_cmpint(sum_x, >=, 4096);
    g_assert_cmpint(sum_x, <=, 4096 + 21 * 255);
    g_assert_cmpint(packets, >=, 17);
    /* Every controller command and data byte, in any order, without a crash. */
    for (int c = 0; c < 256; c++) {
        if (c == 0xd1 || (c >= 0xf0 && !(c & 1)))
            continue;
        hg_bus_out(b->bus, 0x64, c, 1);
        hg_bus_out(b->bus, 0x60, 0x100 - c, 1);
        hg_bus_in(b->bus, 0x60, 1);
    }
    for (int c = 0; c < 256; c++) {
        aux(b, (uint8_t)c);
        dat(b, (uint8_t)c);
        flush(b);
    }
    board_free(b);
}

static GBytes *save(Board *b)
{
    HgStateWriter w;
    hg_state_writer_init(&w);
    hg_i8042_save(b->kbc, &w);
    return hg_state_writer_finish(&w);
}

static void test_save_load(void)
{
    Board *b = board_new();
    seabios_init(b);
    cmd(b, 0x60);
    dat(b, 0x47);
    aux(b, 0xff);
    rd(b, true); /* FA read, AA in the buffer, 00 queued */
    hg_ps2_kbd_key(hg_i8042_kbd(b->kbc), 0x20, true);
    dat(b, 0xed); /* keyboard awaits the LED byte */
    GBytes *blob = save(b);

    Board *b2 = board_new();
    HgStateReader r;
    gsize len;
    const uint8_t *data = g_bytes_get_data(blob, &len);
    hg_state_reader_init(&r, data, len);
    hg_i8042_load(b2->kbc, &r);
    if (r.error)
        g_error("%s", r.error->message);
    g_assert_true(b2->level[12]);
    g_assert_cmphex(rd(b2, true), ==, 0xaa);
    g_assert_cmphex(rd(b2, false), ==, 0x20);
    g_assert_cmphex(rd(b2, false), ==, 0xfa);
    g_assert_cmphex(rd(b2, true), ==, 0x00);
    dat(b2, 0x02);
    g_assert_cmphex(rd(b2, false), ==, 0xfa);
    g_assert_cmphex(hg_ps2_kbd_leds(hg_i8042_kbd(b2->kbc)), ==, 2);

    /* Corrupt every byte of the payloads: loads clamp, the devices stay usable. */
    for (int pass = 0; pass < 2; pass++) {
        uint8_t *bad = g_memdup2(data, len);
        for (gsize i = 0; i < len; i++)
            if (i % 7 != 0)
                bad[i] = pass ? 0xff : (uint8_t)(i * 37);
        hg_state_reader_init(&r, bad, len);
        hg_i8042_load(b2->kbc, &r);
        g_free(bad);
        hg_ps2_kbd_key(hg_i8042_kbd(b2->kbc), 0x20, true);
        hg_ps2_mouse_event(hg_i8042_mouse(b2->kbc), 1, 1, 1, 1);
        for (int i = 0; i < 100; i++) {
            hg_bus_in(b2->bus, 0x60, 1);
            hg_bus_out(b2->bus, 0x60, 0xf4, 1);
        }
    }
    g_bytes_unref(blob);
    board_free(b2);
    board_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ps2/seabios-keyboard", test_seabios_keyboard);
    g_test_add_func("/ps2/linux-probe", test_linux_probe);
    g_test_add_func("/ps2/mouse", test_mouse);
    g_test_add_func("/ps2/hostile", test_hostile);
    g_test_add_func("/ps2/save-load", test_save_load);
    return g_test_run();
}
