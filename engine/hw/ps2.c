/* PS/2 keyboard and mouse (IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
 * auxiliary device controller" and "Keyboards (101/102-key)" command sets; the Microsoft
 * IntelliMouse and IntelliMouse Explorer extensions as documented for their PS/2 protocol).
 *
 * Keyboard: commands FF reset (ACK, BAT AA), FE resend, F6/F5 defaults (enable / disable
 * scanning), F4 enable, F3 typematic, F2 identify (AB 83), F0 scancode set, EE echo, ED
 * LEDs, F7-FD (set-3 key types, accepted); others answer FE. Keys come from the host as
 * set-1 codes and leave in the selected set: set 1 as is, sets 2 and 3 through the
 * set-1 -> set-2 table with F0 break prefixes (set 3 is answered and reported but keys
 * use the set-2 codes, which no guest we run notices). The 16-byte buffer reports an
 * overrun with the set's overrun code (00 in set 2, FF in set 1) and drops the key.
 *
 * Mouse: FF reset (FA AA 00), FE resend, F6 defaults, F5/F4 reporting, F3 rate (the 200,
 * 100, 80 sequence switches to ID 3 with a wheel byte, 200, 200, 80 to ID 4 with wheel and
 * buttons 4/5), F2 identify, F0 remote mode, EE/EC wrap mode, EB read data, EA stream
 * mode, E9 status, E8 resolution, E7/E6 scaling. Motion accumulates from host events and
 * leaves as packets whenever the queue has room; in stream mode motions beyond the 9-bit
 * range are split into several packets, in remote mode (EB) they saturate and set the
 * overflow bits.
 */
#include "ps2.h"

#include <glib.h>
#include <string.h>

#include "state.h"

enum { ACK = 0xfa, RESEND = 0xfe, BAT_OK = 0xaa };

typedef struct Queue {
    uint8_t data[HG_PS2_MOUSE_QUEUE];
    int head, count, cap;
} Queue;

static int q_free(const Queue *q)
{
    return q->cap - q->count;
}

static void q_push(Queue *q, uint8_t b)
{
    if (q->count >= q->cap)
        return;
    q->data[(q->head + q->count) % q->cap] = b;
    q->count++;
}

static uint8_t q_pop(Queue *q)
{
    uint8_t b = q->data[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return b;
}

static void q_clear(Queue *q)
{
    q->head = q->count = 0;
}

static void q_save(const Queue *q, HgStateWriter *w)
{
    hg_state_put_bytes(w, q->data, sizeof q->data);
    hg_state_put_u8(w, (uint8_t)q->head);
    hg_state_put_u8(w, (uint8_t)q->count);
}

static void q_load(Queue *q, HgStateReader *r)
{
    hg_state_get_bytes(r, q->data, sizeof q->data);
    q->head = hg_state_get_u8(r) % q->cap;
    int count = hg_state_get_u8(r); /* not inside MIN: it evaluates twice */
    q->count = MIN(count, q->cap);
}

/* ---- Keyboard ---- */

/* Set-2 make code of each set-1 make code (IBM 101/102-key and the later 104-key, F13-F24
 * and Japanese/Korean keyboards; the inverse of the 8042's translation). E0-prefixed keys
 * share the table (their set-2 code carries the same E0 prefix), which is why 0x5B-0x5F
 * hold the Windows, Menu, Power and Sleep keys. F7 (set 1 0x41) is set-2 0x83, the one
 * code above 0x7F. */
static const uint8_t set1_to_set2[128] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25, [0x06] = 0x2e,
    [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46, [0x0b] = 0x45, [0x0c] = 0x4e,
    [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d, [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24,
    [0x13] = 0x2d, [0x14] = 0x2c, [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44,
    [0x19] = 0x4d, [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33, [0x24] = 0x3b,
    [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52, [0x29] = 0x0e, [0x2a] = 0x12,
    [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22, [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32,
    [0x31] = 0x31, [0x32] = 0x3a, [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59,
    [0x37] = 0x7c, [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83, [0x42] = 0x0a,
    [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e, [0x47] = 0x6c, [0x48] = 0x75,
    [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b, [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79,
    [0x4f] = 0x69, [0x50] = 0x72, [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84,
    [0x55] = 0x60, [0x56] = 0x61, [0x57] = 0x78, [0x58] = 0x07, [0x59] = 0x0f, [0x5a] = 0x17,
    [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f, [0x5e] = 0x37, [0x5f] = 0x3f, [0x60] = 0x47,
    [0x61] = 0x4f, [0x62] = 0x56, [0x63] = 0x5e, [0x64] = 0x08, [0x65] = 0x10, [0x66] = 0x18,
    [0x67] = 0x20, [0x68] = 0x28, [0x69] = 0x30, [0x6a] = 0x38, [0x6b] = 0x40, [0x6c] = 0x48,
    [0x6d] = 0x50, [0x6e] = 0x57, [0x6f] = 0x6f, [0x70] = 0x13, [0x71] = 0x19, [0x72] = 0x39,
    [0x73] = 0x51, [0x74] = 0x53, [0x75] = 0x5c, [0x76] = 0x5f, [0x77] = 0x62, [0x78] = 0x63,
    [0x79] = 0x64, [0x7a] = 0x65, [0x7b] = 0x67, [0x7c] = 0x68, [0x7d] = 0x6a, [0x7e] = 0x6d,
    [0x7f] = 0x6e,
};

uint8_t hg_ps2_set1_to_set2(uint8_t set1)
{
    return set1 < 128 ? set1_to_set2[set1] : 0;
}

struct HgPs2Kbd {
    HgPs2Notify notify;
    void *opaque;
    Queue q;
    uint8_t set; /* 1, 2 or 3 */
    uint8_t leds;
    uint8_t typematic;
    bool scanning;
    uint8_t expect; /* command waiting for its parameter byte, or 0 */
    uint8_t last;   /* last byte sent, for FE */
};

static void kbd_notify(HgPs2Kbd *k)
{
    if (k->q.count && k->notify)
        k->notify(k->opaque);
}

static void kbd_defaults(HgPs2Kbd *k)
{
    k->typematic = 0x2b; /* 10.9 characters/s after 500 ms */
    k->leds = 0;
}

void hg_ps2_kbd_reset(HgPs2Kbd *k)
{
    q_clear(&k->q);
    kbd_defaults(k);
    k->set = 2;
    k->scanning = true;
    k->expect = 0;
    k->last = 0;
}

HgPs2Kbd *hg_ps2_kbd_new(HgPs2Notify notify, void *opaque)
{
    HgPs2Kbd *k = g_new0(HgPs2Kbd, 1);
    k->notify = notify;
    k->opaque = opaque;
    k->q.cap = HG_PS2_KBD_QUEUE;
    hg_ps2_kbd_reset(k);
    return k;
}

void hg_ps2_kbd_free(HgPs2Kbd *k)
{
    g_free(k);
}

static void kbd_param(HgPs2Kbd *k, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case 0xed:
        k->leds = v & 7;
        q_push(&k->q, ACK);
        break;
    case 0xf3:
        k->typematic = v & 0x7f;
        q_push(&k->q, ACK);
        break;
    case 0xf0:
        if (v == 0) {
            q_push(&k->q, ACK);
            q_push(&k->q, k->set);
        } else if (v <= 3) {
            k->set = v;
            q_push(&k->q, ACK);
        } else {
            q_push(&k->q, RESEND);
        }
        break;
    }
}

void hg_ps2_kbd_write(HgPs2Kbd *k, uint8_t v)
{
    /* A parameter byte, unless the guest gave up and sent a new command instead. */
    if (k->expect && v < 0xed) {
        uint8_t cmd = k->expect;
        k->expect = 0;
        kbd_param(k, cmd, v);
        kbd_notify(k);
        return;
    }
    k->expect = 0;
    switch (v) {
    case 0xff:
        hg_ps2_kbd_reset(k);
        q_push(&k->q, ACK);
        q_push(&k->q, BAT_OK);
        break;
    case 0xfe: q_push(&k->q, k->last); break;
    case 0xf6:
    case 0xf5:
        q_clear(&k->q);
        kbd_defaults(k);
        k->scanning = v == 0xf6;
        q_push(&k->q, ACK);
        break;
    case 0xf4:
        q_clear(&k->q);
        k->scanning = true;
        q_push(&k->q, ACK);
        break;
    case 0xf2:
        q_push(&k->q, ACK);
        q_push(&k->q, 0xab);
        q_push(&k->q, 0x83);
        break;
    case 0xed:
    case 0xf0:
    case 0xf3:
        k->expect = v;
        q_push(&k->q, ACK);
        break;
    case 0xee: q_push(&k->q, 0xee); break;
    case 0xf7:
    case 0xf8:
    case 0xf9:
    case 0xfa:
    case 0xfb:
    case 0xfc:
    case 0xfd: q_push(&k->q, ACK); break;
    default: q_push(&k->q, RESEND); break;
    }
    kbd_notify(k);
}

int hg_ps2_kbd_pending(const HgPs2Kbd *k)
{
    return k->q.count;
}

uint8_t hg_ps2_kbd_read(HgPs2Kbd *k)
{
    if (k->q.count)
        k->last = q_pop(&k->q);
    return k->last;
}

/* Queues a whole key sequence, or the overrun code when it does not fit. */
static void kbd_send(HgPs2Kbd *k, const uint8_t *seq, int n)
{
    if (q_free(&k->q) > n) {
        for (int i = 0; i < n; i++)
            q_push(&k->q, seq[i]);
    } else if (q_free(&k->q) > 0 &&
               (k->q.count == 0 || k->q.data[(k->q.head + k->q.count - 1) % k->q.cap] !=
                                       (k->set == 1 ? 0xff : 0x00))) {
        /* The last slot holds the overrun code (once). */
        q_push(&k->q, k->set == 1 ? 0xff : 0x00);
    }
    kbd_notify(k);
}

void hg_ps2_kbd_key(HgPs2Kbd *k, uint16_t code, bool pressed)
{
    uint8_t seq[8];
    int n = 0;
    if (!k->scanning)
        return;
    if (code == HG_KEY_PAUSE) {
        static const uint8_t pause1[6] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
        static const uint8_t pause2[8] = {0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77};
        if (pressed)
            kbd_send(k, k->set == 1 ? pause1 : pause2, k->set == 1 ? 6 : 8);
        return;
    }
    uint8_t base = code & 0x7f;
    bool e0 = (code & HG_KEY_E0) != 0;
    if (code & ~(HG_KEY_E0 | 0x7f) || base == 0)
        return;
    bool prtsc = e0 && base == 0x37;
    if (k->set == 1) {
        if (prtsc && pressed) {
            seq[n++] = 0xe0;
            seq[n++] = 0x2a;
        }
        if (e0)
            seq[n++] = 0xe0;
        seq[n++] = base | (pressed ? 0 : 0x80);
        if (prtsc && !pressed) {
            seq[n++] = 0xe0;
            seq[n++] = 0xaa;
        }
    } else {
        uint8_t s2 = set1_to_set2[base];
        if (!s2)
            return;
        /* Print Screen comes wrapped in a fake left shift (E0 12 / E0 F0 12). */
        if (prtsc && pressed) {
            seq[n++] = 0xe0;
            seq[n++] = 0x12;
        }
        if (e0)
            seq[n++] = 0xe0;
        if (!pressed)
            seq[n++] = 0xf0;
        seq[n++] = s2;
        if (prtsc && !pressed) {
            seq[n++] = 0xe0;
            seq[n++] = 0xf0;
            seq[n++] = 0x12;
        }
    }
    kbd_send(k, seq, n);
}

uint8_t hg_ps2_kbd_leds(const HgPs2Kbd *k)
{
    return k->leds;
}

int hg_ps2_kbd_scancode_set(const HgPs2Kbd *k)
{
    return k->set;
}

void hg_ps2_kbd_save(const HgPs2Kbd *k, HgStateWriter *w)
{
    hg_state_begin(w, "ps2-kbd", 1);
    q_save(&k->q, w);
    hg_state_put_u8(w, k->set);
    hg_state_put_u8(w, k->leds);
    hg_state_put_u8(w, k->typematic);
    hg_state_put_u8(w, k->scanning);
    hg_state_put_u8(w, k->expect);
    hg_state_put_u8(w, k->last);
    hg_state_end(w);
}

void hg_ps2_kbd_load(HgPs2Kbd *k, HgStateReader *r)
{
    if (!hg_state_open(r, "ps2-kbd", 1, 1))
        return;
    q_load(&k->q, r);
    uint8_t set = hg_state_get_u8(r);
    k->set = set >= 1 && set <= 3 ? set : 2;
    k->leds = hg_state_get_u8(r) & 7;
    k->typematic = hg_state_get_u8(r) & 0x7f;
    k->scanning = hg_state_get_u8(r) != 0;
    uint8_t e = hg_state_get_u8(r);
    k->expect = (e == 0xed || e == 0xf0 || e == 0xf3) ? e : 0;
    k->last = hg_state_get_u8(r);
    hg_state_close(r);
}

/* ---- Mouse ---- */

enum {
    MS_REMOTE = 0x40,
    MS_ENABLED = 0x20,
    MS_SCALE21 = 0x10, /* status byte bits */
};

struct HgPs2Mouse {
    HgPs2Notify notify;
    void *opaque;
    Queue q;
    uint8_t status; /* MS_* */
    uint8_t rate, resolution, id;
    bool wrap;
    uint8_t expect;
    uint8_t last;
    uint8_t rates[3]; /* the last three sample rates set, newest last */
    uint8_t buttons;
    bool buttons_changed;
    int32_t dx, dy, dz; /* accumulated, PS/2 orientation (y up) */
};

static void mouse_notify(HgPs2Mouse *m)
{
    if (m->q.count && m->notify)
        m->notify(m->opaque);
}

static void mouse_defaults(HgPs2Mouse *m)
{
    m->status = 0;
    m->rate = 100;
    m->resolution = 2;
    m->dx = m->dy = m->dz = 0;
    m->buttons_changed = false;
}

void hg_ps2_mouse_reset(HgPs2Mouse *m)
{
    q_clear(&m->q);
    mouse_defaults(m);
    m->id = 0;
    m->wrap = false;
    m->expect = 0;
    m->last = 0;
    memset(m->rates, 0, sizeof m->rates);
    m->buttons = 0;
}

HgPs2Mouse *hg_ps2_mouse_new(HgPs2Notify notify, void *opaque)
{
    HgPs2Mouse *m = g_new0(HgPs2Mouse, 1);
    m->notify = notify;
    m->opaque = opaque;
    m->q.cap = HG_PS2_MOUSE_QUEUE;
    hg_ps2_mouse_reset(m);
    return m;
}

void hg_ps2_mouse_free(HgPs2Mouse *m)
{
    g_free(m);
}

static int packet_size(const HgPs2Mouse *m)
{
    return m->id ? 4 : 3;
}

/* 2:1 scaling of one packet's motion (stream mode only). */
static int scale21(int v)
{
    static const int small[6] = {0, 1, 1, 3, 6, 9};
    int a = ABS(v);
    int s = a < 6 ? small[a] : 2 * a;
    return v < 0 ? -s : s;
}

/* Queues one packet taking what fits of the accumulated motion; split: leave the rest
 * for later packets, otherwise saturate and report overflow. */
static void mouse_packet(HgPs2Mouse *m, bool split)
{
    int dx = CLAMP(m->dx, -256, 255), dy = CLAMP(m->dy, -256, 255);
    /* The wheel byte is 8-bit for ID 3, a 4-bit field for ID 4. */
    int dz = m->id == 4 ? CLAMP(m->dz, -8, 7) : CLAMP(m->dz, -128, 127);
    bool ovx = !split && dx != m->dx, ovy = !split && dy != m->dy;
    if (split) {
        m->dx -= dx;
        m->dy -= dy;
        m->dz -= dz;
    } else {
        m->dx = m->dy = m->dz = 0;
    }
    int px = dx, py = dy;
    if ((m->status & MS_SCALE21) && !(m->status & MS_REMOTE)) {
        px = CLAMP(scale21(dx), -256, 255);
        py = CLAMP(scale21(dy), -256, 255);
    }
    uint8_t b0 = 0x08 | (m->buttons & 7);
    b0 |= (px < 0 ? 0x10 : 0) | (py < 0 ? 0x20 : 0) | (ovx ? 0x40 : 0) | (ovy ? 0x80 : 0);
    q_push(&m->q, b0);
    q_push(&m->q, (uint8_t)px);
    q_push(&m->q, (uint8_t)py);
    if (m->id == 3)
        q_push(&m->q, (uint8_t)dz);
    else if (m->id == 4)
        q_push(&m->q, (uint8_t)((dz & 0x0f) | ((m->buttons & 0x18) << 1)));
    m->buttons_changed = false;
}

/* Stream mode: turns accumulated input into packets while the queue has room. */
static void mouse_flush(HgPs2Mouse *m)
{
    if ((m->status & (MS_REMOTE | MS_ENABLED)) != MS_ENABLED || m->wrap || m->expect)
        return;
    while ((m->dx || m->dy || m->dz || m->buttons_changed) && q_free(&m->q) >= packet_size(m))
        mouse_packet(m, true);
    mouse_notify(m);
}

static void mouse_param(HgPs2Mouse *m, uint8_t cmd, uint8_t v)
{
    if (cmd == 0xf3) {
        m->rate = v ? v : 100;
        m->rates[0] = m->rates[1];
        m->rates[1] = m->rates[2];
        m->rates[2] = v;
        if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80)
            m->id = 3;
        else if (m->rates[0] == 200 && m->rates[1] == 200 && m->rates[2] == 80 && m->id == 3)
            m->id = 4;
    } else {
        m->resolution = v & 3;
    }
    q_push(&m->q, ACK);
}

void hg_ps2_mouse_write(HgPs2Mouse *m, uint8_t v)
{
    if (m->wrap && v != 0xff && v != 0xec) {
        q_push(&m->q, v);
        mouse_notify(m);
        return;
    }
    if (m->expect) {
        uint8_t cmd = m->expect;
        m->expect = 0;
        mouse_param(m, cmd, v);
        mouse_notify(m);
        return;
    }
    /* A command discards the motion not yet sent (the controller is talking to us). */
    switch (v) {
    case 0xff:
        hg_ps2_mouse_reset(m);
        q_push(&m->q, ACK);
        q_push(&m->q, BAT_OK);
        q_push(&m->q, 0x00);
        break;
    case 0xfe: q_push(&m->q, m->last); break;
    case 0xf6:
        q_clear(&m->q);
        mouse_defaults(m);
        q_push(&m->q, ACK);
        break;
    case 0xf5:
        q_clear(&m->q);
        m->status &= ~MS_ENABLED;
        m->dx = m->dy = m->dz = 0;
        q_push(&m->q, ACK);
        break;
    case 0xf4:
        m->status |= MS_ENABLED;
        m->dx = m->dy = m->dz = 0;
        q_push(&m->q, ACK);
        break;
    case 0xf3:
    case 0xe8:
        m->expect = v;
        q_push(&m->q, ACK);
        break;
    case 0xf2:
        q_push(&m->q, ACK);
        q_push(&m->q, m->id);
        break;
    case 0xf0:
        m->status |= MS_REMOTE;
        q_push(&m->q, ACK);
        break;
    case 0xee:
        m->wrap = true;
        q_push(&m->q, ACK);
        break;
    case 0xec:
        m->wrap = false;
        q_push(&m->q, ACK);
        break;
    case 0xeb:
        q_push(&m->q, ACK);
        if (q_free(&m->q) >= packet_size(m))
            mouse_packet(m, false);
        break;
    case 0xea:
        m->status &= ~MS_REMOTE;
        q_push(&m->q, ACK);
        break;
    case 0xe9: {
        /* Status: bit 2 left, bit 1 middle, bit 0 right. */
        uint8_t b = ((m->buttons & 1) << 2) | ((m->buttons & 4) >> 1) | ((m->buttons & 2) >> 1);
        q_push(&m->q, ACK);
        q_push(&m->q, m->status | b);
        q_push(&m->q, m->resolution);
        q_push(&m->q, m->rate);
        break;
    }
    case 0xe7:
    case 0xe6:
        if (v == 0xe7)
            m->status |= MS_SCALE21;
        else
            m->status &= ~MS_SCALE21;
        q_push(&m->q, ACK);
        break;
    default: q_push(&m->q, RESEND); break;
    }
    mouse_notify(m);
}

int hg_ps2_mouse_pending(const HgPs2Mouse *m)
{
    return m->q.count;
}

uint8_t hg_ps2_mouse_read(HgPs2Mouse *m)
{
    if (m->q.count)
        m->last = q_pop(&m->q);
    if (!m->q.count)
        mouse_flush(m);
    return m->last;
}

void hg_ps2_mouse_event(HgPs2Mouse *m, int dx, int dy, int dz, unsigned buttons)
{
    /* Saturate at 16 packets' worth: enough for any real hand movement between two
     * reads, and hostile host input can neither overflow nor flood the guest. */
    const int lim = 4096;
    m->dx = CLAMP(m->dx + CLAMP(dx, -lim, lim), -lim, lim);
    m->dy = CLAMP(m->dy - CLAMP(dy, -lim, lim), -lim, lim);
    if (m->id)
        m->dz = CLAMP(m->dz + CLAMP(dz, -lim, lim), -lim, lim);
    uint8_t b = buttons & (m->id == 4 ? 0x1f : 0x07);
    if (b != m->buttons) {
        m->buttons = b;
        m->buttons_changed = true;
    }
    mouse_flush(m);
}

uint8_t hg_ps2_mouse_id(const HgPs2Mouse *m)
{
    return m->id;
}

void hg_ps2_mouse_save(const HgPs2Mouse *m, HgStateWriter *w)
{
    hg_state_begin(w, "ps2-mouse", 1);
    q_save(&m->q, w);
    hg_state_put_u8(w, m->status);
    hg_state_put_u8(w, m->rate);
    hg_state_put_u8(w, m->resolution);
    hg_state_put_u8(w, m->id);
    hg_state_put_u8(w, m->wrap);
    hg_state_put_u8(w, m->expect);
    hg_state_put_u8(w, m->last);
    hg_state_put_bytes(w, m->rates, sizeof m->rates);
    hg_state_put_u8(w, m->buttons);
    hg_state_put_u8(w, m->buttons_changed);
    hg_state_put_u32(w, (uint32_t)m->dx);
    hg_state_put_u32(w, (uint32_t)m->dy);
    hg_state_put_u32(w, (uint32_t)m->dz);
    hg_state_end(w);
}

void hg_ps2_mouse_load(HgPs2Mouse *m, HgStateReader *r)
{
    if (!hg_state_open(r, "ps2-mouse", 1, 1))
        return;
    q_load(&m->q, r);
    m->status = hg_state_get_u8(r) & (MS_REMOTE | MS_ENABLED | MS_SCALE21);
    m->rate = hg_state_get_u8(r);
    m->resolution = hg_state_get_u8(r) & 3;
    uint8_t id = hg_state_get_u8(r);
    m->id = (id == 3 || id == 4) ? id : 0;
    m->wrap = hg_state_get_u8(r) != 0;
    uint8_t e = hg_state_get_u8(r);
    m->expect = (e == 0xf3 || e == 0xe8) ? e : 0;
    m->last = hg_state_get_u8(r);
    hg_state_get_bytes(r, m->rates, sizeof m->rates);
    m->buttons = hg_state_get_u8(r) & 0x1f;
    m->buttons_changed = hg_state_get_u8(r) != 0;
    const int32_t lim = 4096;
    int32_t dx = (int32_t)hg_state_get_u32(r);
    int32_t dy = (int32_t)hg_state_get_u32(r);
    int32_t dz = (int32_t)hg_state_get_u32(r);
    m->dx = CLAMP(dx, -lim, lim);
    m->dy = CLAMP(dy, -lim, lim);
    m->dz = CLAMP(dz, -lim, lim);
    hg_state_close(r);
}
