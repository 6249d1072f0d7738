/* Intel 8042 keyboard controller as programmed on PC/AT and PS/2 machines (IBM PS/2
 * Hardware Interface Technical Reference, "Keyboard/auxiliary device controller":
 * status register, command byte, controller commands, output port).
 *
 * Status (read 0x64): bit 0 output buffer full, 1 input buffer full (always clear: bytes
 * are processed when written), 2 system flag (command byte bit 2), 3 last write was a
 * command, 4 keyboard not inhibited, 5 output buffer holds auxiliary data.
 * Command byte: bit 0 IRQ1 enable, 1 IRQ12 enable, 2 system flag, 4 keyboard disabled,
 * 5 aux disabled, 6 translate set 2 to set 1.
 *
 * The output buffer holds one byte. When it is empty the controller takes the next byte
 * from the keyboard's queue, or else from the mouse's (a disabled port is not served),
 * translating keyboard bytes when XLAT is set: a set-2 byte becomes its set-1 code, and
 * the F0 break prefix is swallowed and sets bit 7 of the following code. Controller
 * replies (0x20, 0xAA, 0xD0...) and the 0xD2/0xD3 loopbacks go straight into the output
 * buffer.
 */
#include "i8042.h"

#include <glib.h>

#include "bus.h"
#include "state.h"

enum {
    ST_OBF = 0x01,
    ST_SYS = 0x04,
    ST_CMD = 0x08,
    ST_UNLOCKED = 0x10,
    ST_AUXB = 0x20,
    CB_KBDINT = 0x01,
    CB_AUXINT = 0x02,
    CB_SYS = 0x04,
    CB_KBDDIS = 0x10,
    CB_AUXDIS = 0x20,
    CB_XLAT = 0x40,
    OUT_RESET = 0x01,
    OUT_A20 = 0x02,
    OUT_OBF_KBD = 0x10,
    OUT_OBF_AUX = 0x20,
    SRC_NONE = 0,
    SRC_KBD = 1,
    SRC_AUX = 2,
};

struct HgI8042 {
    HgIrq irq_kbd, irq_aux;
    HgI8042Callbacks cb;
    HgPs2Kbd *kbd;
    HgPs2Mouse *mouse;
    uint8_t xlat[256]; /* set 2 -> set 1, built from the keyboard's table */
    uint8_t ram[32];   /* controller RAM; byte 0 is the command byte */
    uint8_t outport;
    uint8_t obuf, src; /* output buffer and where its byte came from (SRC_*) */
    uint8_t pending;   /* controller command waiting for its data byte, or 0 */
    bool last_was_cmd;
    bool xlat_break; /* an F0 was swallowed by the translation */
    bool irq_kbd_level, irq_aux_level;
    bool filling; /* inside fill(); never set between calls, so not saved */
};

static void build_xlat(HgI8042 *c)
{
    for (int i = 0; i < 256; i++)
        c->xlat[i] = (uint8_t)i;
    for (int s1 = 1; s1 < 128; s1++) {
        uint8_t s2 = hg_ps2_set1_to_set2((uint8_t)s1);
        if (s2)
            c->xlat[s2] = (uint8_t)s1;
    }
    /* The 8042's table answers the scancode-set query bytes 1-3 as 43/41/3F. */
    c->xlat[0x02] = 0x41;
    /* And turns the set-2 overrun code 00 into set 1's FF. */
    c->xlat[0x00] = 0xff;
}

static void update_irq(HgI8042 *c)
{
    bool obf = c->src != SRC_NONE;
    bool kbd = obf && c->src == SRC_KBD && (c->ram[0] & CB_KBDINT);
    bool aux = obf && c->src == SRC_AUX && (c->ram[0] & CB_AUXINT);
    if (kbd != c->irq_kbd_level) {
        c->irq_kbd_level = kbd;
        hg_irq_set(&c->irq_kbd, kbd);
    }
    if (aux != c->irq_aux_level) {
        c->irq_aux_level = aux;
        hg_irq_set(&c->irq_aux, aux);
    }
}

static void put_obuf(HgI8042 *c, uint8_t v, uint8_t src)
{
    c->obuf = v;
    c->src = src;
    update_irq(c);
}

/* Fills an empty output buffer from the devices. */
static void fill(HgI8042 *c)
{
    if (c->src != SRC_NONE || c->filling)
        return;
    /* Reading the mouse's last byte makes it queue its next packet and notify us: that
     * nested call must not take a byte before this one lands in the buffer. */
    c->filling = true;
    while (!(c->ram[0] & CB_KBDDIS) && hg_ps2_kbd_pending(c->kbd)) {
        uint8_t b = hg_ps2_kbd_read(c->kbd);
        if (c->ram[0] & CB_XLAT) {
            if (b == 0xf0) {
                c->xlat_break = true;
                continue;
            }
            b = c->xlat[b] | (c->xlat_break ? 0x80 : 0);
            c->xlat_break = false;
        }
        put_obuf(c, b, SRC_KBD);
        c->filling = false;
        return;
    }
    if (!(c->ram[0] & CB_AUXDIS) && hg_ps2_mouse_pending(c->mouse))
        put_obuf(c, hg_ps2_mouse_read(c->mouse), SRC_AUX);
    c->filling = false;
}

static void notify(void *opaque)
{
    fill(opaque);
}

static void set_outport(HgI8042 *c, uint8_t v)
{
    bool a20_changed = (v ^ c->outport) & OUT_A20;
    c->outport = v | OUT_RESET;
    if (a20_changed && c->cb.a20)
        c->cb.a20(c->cb.opaque, (v & OUT_A20) != 0);
    if (!(v & OUT_RESET) && c->cb.reset)
        c->cb.reset(c->cb.opaque);
}

static uint8_t status(const HgI8042 *c)
{
    uint8_t s = ST_UNLOCKED;
    if (c->src != SRC_NONE)
        s |= ST_OBF;
    if (c->src == SRC_AUX)
        s |= ST_AUXB;
    if (c->ram[0] & CB_SYS)
        s |= ST_SYS;
    if (c->last_was_cmd)
        s |= ST_CMD;
    return s;
}

static uint32_t kbc_read(void *opaque, uint32_t port, int size)
{
    HgI8042 *c = opaque;
    (void)size;
    if (port == 0x64)
        return status(c);
    uint8_t v = c->obuf;
    c->src = SRC_NONE;
    update_irq(c);
    fill(c);
    return v;
}

static void command(HgI8042 *c, uint8_t v)
{
    c->pending = 0;
    if (v >= 0x20 && v < 0x40) {
        put_obuf(c, c->ram[v & 0x1f], SRC_KBD);
        return;
    }
    if ((v >= 0x60 && v < 0x80) || v == 0xd1 || v == 0xd2 || v == 0xd3 || v == 0xd4) {
        c->pending = v;
        return;
    }
    switch (v) {
    case 0xa4:
        put_obuf(c, 0xf1, SRC_KBD); /* no password installed */
        break;
    case 0xa7: c->ram[0] |= CB_AUXDIS; break;
    case 0xa8:
        c->ram[0] &= ~CB_AUXDIS;
        fill(c);
        break;
    case 0xa9:
    case 0xab:
        put_obuf(c, 0x00, SRC_KBD); /* interface test passed */
        break;
    case 0xaa:
        c->ram[0] |= CB_SYS;
        put_obuf(c, 0x55, SRC_KBD);
        break;
    case 0xad: c->ram[0] |= CB_KBDDIS; break;
    case 0xae:
        c->ram[0] &= ~CB_KBDDIS;
        fill(c);
        break;
    case 0xc0:
        put_obuf(c, 0x80, SRC_KBD); /* input port: keyboard not inhibited */
        break;
    case 0xd0: {
        uint8_t o = c->outport & ~(OUT_OBF_KBD | OUT_OBF_AUX);
        o |= c->src == SRC_KBD ? OUT_OBF_KBD : c->src == SRC_AUX ? OUT_OBF_AUX : 0;
        put_obuf(c, o, SRC_KBD);
        break;
    }
    case 0xdd: set_outport(c, c->outport & ~OUT_A20); break;
    case 0xdf: set_outport(c, c->outport | OUT_A20); break;
    case 0xe0: put_obuf(c, 0x00, SRC_KBD); break;
    default:
        /* 0xF0-0xFF pulse the output port bits whose command bits are 0; bit 0 is the
         * CPU reset line. */
        if (v >= 0xf0 && !(v & 1) && c->cb.reset)
            c->cb.reset(c->cb.opaque);
        break;
    }
}

static void data(HgI8042 *c, uint8_t v)
{
    uint8_t p = c->pending;
    c->pending = 0;
    if (p >= 0x60 && p < 0x80) {
        c->ram[p & 0x1f] = v;
        if (p == 0x60) {
            update_irq(c);
            fill(c);
        }
        return;
    }
    switch (p) {
    case 0xd1: set_outport(c, v); break;
    case 0xd2: put_obuf(c, v, SRC_KBD); break;
    case 0xd3: put_obuf(c, v, SRC_AUX); break;
    case 0xd4:
        /* Talking to a device enables its interface again, as on the AMI and Phoenix
         * controllers (and QEMU's), so its answer can reach the host. */
        c->ram[0] &= ~CB_AUXDIS;
        hg_ps2_mouse_write(c->mouse, v);
        fill(c);
        break;
    default:
        c->ram[0] &= ~CB_KBDDIS;
        hg_ps2_kbd_write(c->kbd, v);
        fill(c);
        break;
    }
}

static void kbc_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgI8042 *c = opaque;
    (void)size;
    c->last_was_cmd = port == 0x64;
    if (port == 0x64)
        command(c, (uint8_t)value);
    else
        data(c, (uint8_t)value);
}

void hg_i8042_reset(HgI8042 *c)
{
    hg_ps2_kbd_reset(c->kbd);
    hg_ps2_mouse_reset(c->mouse);
    for (int i = 0; i < 32; i++)
        c->ram[i] = 0;
    c->ram[0] = CB_KBDINT | CB_XLAT;
    c->outport = OUT_RESET | OUT_A20;
    c->src = SRC_NONE;
    c->obuf = 0;
    c->pending = 0;
    c->last_was_cmd = false;
    c->xlat_break = false;
    update_irq(c);
}

HgI8042 *hg_i8042_new(HgBus *bus, HgIrq irq_kbd, HgIrq irq_aux, const HgI8042Callbacks *cb)
{
    HgI8042 *c = g_new0(HgI8042, 1);
    c->irq_kbd = irq_kbd;
    c->irq_aux = irq_aux;
    if (cb)
        c->cb = *cb;
    c->kbd = hg_ps2_kbd_new(notify, c);
    c->mouse = hg_ps2_mouse_new(notify, c);
    build_xlat(c);
    hg_i8042_reset(c);
    hg_bus_map_io(bus, 0x60, 1, kbc_read, kbc_write, c);
    hg_bus_map_io(bus, 0x64, 1, kbc_read, kbc_write, c);
    return c;
}

void hg_i8042_free(HgI8042 *c)
{
    if (!c)
        return;
    hg_ps2_kbd_free(c->kbd);
    hg_ps2_mouse_free(c->mouse);
    g_free(c);
}

HgPs2Kbd *hg_i8042_kbd(HgI8042 *c)
{
    return c->kbd;
}

HgPs2Mouse *hg_i8042_mouse(HgI8042 *c)
{
    return c->mouse;
}

bool hg_i8042_a20(const HgI8042 *c)
{
    return (c->outport & OUT_A20) != 0;
}

void hg_i8042_save(const HgI8042 *c, HgStateWriter *w)
{
    hg_state_begin(w, "i8042", 1);
    hg_state_put_bytes(w, c->ram, sizeof c->ram);
    hg_state_put_u8(w, c->outport);
    hg_state_put_u8(w, c->obuf);
    hg_state_put_u8(w, c->src);
    hg_state_put_u8(w, c->pending);
    hg_state_put_u8(w, c->last_was_cmd);
    hg_state_put_u8(w, c->xlat_break);
    hg_state_end(w);
    hg_ps2_kbd_save(c->kbd, w);
    hg_ps2_mouse_save(c->mouse, w);
}

void hg_i8042_load(HgI8042 *c, HgStateReader *r)
{
    if (!hg_state_open(r, "i8042", 1, 1))
        return;
    hg_state_get_bytes(r, c->ram, sizeof c->ram);
    c->outport = hg_state_get_u8(r) | OUT_RESET;
    c->obuf = hg_state_get_u8(r);
    uint8_t src = hg_state_get_u8(r);
    c->src = src <= SRC_AUX ? src : SRC_NONE;
    uint8_t p = hg_state_get_u8(r);
    bool valid = (p >= 0x60 && p < 0x80) || (p >= 0xd1 && p <= 0xd4);
    c->pending = valid ? p : 0;
    c->last_was_cmd = hg_state_get_u8(r) != 0;
    c->xlat_break = hg_state_get_u8(r) != 0;
    hg_state_close(r);
    hg_ps2_kbd_load(c->kbd, r);
    hg_ps2_mouse_load(c->mouse, r);
    /* Re-derive the lines from the restored state (the board restores A20 itself from
     * hg_i8042_a20 or its own saved gate). */
    bool k = c->src == SRC_KBD && (c->ram[0] & CB_KBDINT);
    bool a = c->src == SRC_AUX && (c->ram[0] & CB_AUXINT);
    c->irq_kbd_level = !k;
    c->irq_aux_level = !a;
    update_irq(c);
}
