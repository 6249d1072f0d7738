/* Intel 8254 programmable interval timer and the PC/AT port 0x61 (Intel 8254 datasheet:
 * "Control Word Format", "Read Operations" (counter latch, read-back), "Mode Definitions"
 * 0-5 with the gate behaviour of each; IBM PC/AT Technical Reference, port 61h).
 *
 * Counters are not stepped: each channel remembers the input-clock tick at which it
 * started counting, and its count and OUT are computed from the virtual clock when read.
 * Channel 0's OUT drives IRQ0 through one timer armed for OUT's next transition only.
 * A count written while modes 2 and 3 run takes over at the end of the current period
 * (pending/switch_at). Simplification: the load cycle after a count write is not
 * modelled (OUT in mode 0 rises N input clocks after the write, not N + 1), and in mode 3
 * a new count waits for the end of the period rather than of the half-cycle.
 */
#include "pit8254.h"

#include <glib.h>

#include "bus.h"
#include "clock.h"
#include "state.h"

enum { ST_WAIT_COUNT, ST_WAIT_GATE, ST_COUNTING, ST_PAUSED };

/* Port 0x61 refresh request toggle period: DRAM refresh from channel 1 every 15.085 us. */
enum { REFRESH_NS = 15085 };

typedef struct Chan {
    uint8_t mode, rw, bcd, state;
    uint32_t count;   /* 1-65536, or 1-10000 in BCD */
    int64_t start;    /* input-clock tick at which counting started */
    int64_t paused_d; /* ticks counted before the gate went low */
    uint32_t pending; /* modes 2, 3: count taking over at switch_at, or 0 */
    int64_t switch_at;
    bool gate;
    bool wlsb_done; /* write flip-flop: LSB of a 16-bit count written */
    uint8_t wbyte;
    bool rmsb; /* read flip-flop: next live read returns the MSB */
    uint16_t latch;
    uint8_t latch_bytes; /* latched count bytes still to read */
    bool status_latched;
    uint8_t status;
} Chan;

struct HgPit {
    HgClock *clock;
    HgIrq irq0;
    HgTimer *timer;
    Chan ch[3];
    uint8_t port61;   /* bits 0-3 as written */
    bool irq_level;   /* level last driven on IRQ0 */
    int64_t irq_next; /* tick of the OUT0 transition the timer is armed for */
    HgPitSpeakerHook speaker_hook;
    void *speaker_opaque;
};

static void speaker_hook(HgPit *p, bool after)
{
    if (p->speaker_hook)
        p->speaker_hook(p->speaker_opaque, after);
}

static int64_t ns_to_ticks(int64_t ns)
{
    if (ns < 0)
        return 0;
    return ns / HG_NS_PER_SEC * HG_PIT_HZ + ns % HG_NS_PER_SEC * HG_PIT_HZ / HG_NS_PER_SEC;
}

/* First nanosecond at which ns_to_ticks reaches t. */
static int64_t ticks_to_ns(int64_t t)
{
    return t / HG_PIT_HZ * HG_NS_PER_SEC +
           (t % HG_PIT_HZ * HG_NS_PER_SEC + HG_PIT_HZ - 1) / HG_PIT_HZ;
}

static int64_t now_tick(const HgPit *p)
{
    return ns_to_ticks(hg_clock_ns(p->clock));
}

static uint32_t modulus(const Chan *c)
{
    return c->bcd ? 10000 : 65536;
}

/* OUT after d ticks of counting. */
static bool out_after(const Chan *c, int64_t d)
{
    int64_t n = c->count;
    switch (c->mode) {
    case 0:
    case 1: return d >= n;
    case 2: return d % n != n - 1;
    case 3: return d % n < (n + 1) / 2;
    default: return d != n; /* 4, 5: strobe low for one clock */
    }
}

/* Counting element after d ticks of counting. */
static uint32_t count_after(const Chan *c, int64_t d)
{
    int64_t n = c->count, m = modulus(c), v;
    switch (c->mode) {
    case 2: v = n - d % n; break;
    case 3: {
        /* Decrements by two; reloads at each half period. */
        int64_t p = d % n, half = (n + 1) / 2;
        v = (n - 2 * (p < half ? p : p - half)) & ~(int64_t)1;
        break;
    }
    default: v = n - d % m; break;
    }
    return (uint32_t)(((v % m) + m) % m);
}

/* Applies a pending mode 2/3 count once its period boundary is reached. */
static void settle(Chan *c, int64_t now)
{
    if (c->pending && c->state == ST_COUNTING && now >= c->switch_at) {
        c->count = c->pending;
        c->start = c->switch_at;
        c->pending = 0;
    }
}

static bool chan_out(Chan *c, int64_t now)
{
    settle(c, now);
    switch (c->state) {
    case ST_WAIT_COUNT: return c->mode != 0;
    case ST_WAIT_GATE: return true;
    case ST_PAUSED:
        if (c->mode == 2 || c->mode == 3)
            return true;
        return out_after(c, c->paused_d);
    default: return out_after(c, now - c->start);
    }
}

static uint32_t chan_count(Chan *c, int64_t now)
{
    settle(c, now);
    switch (c->state) {
    case ST_COUNTING: return count_after(c, now - c->start);
    case ST_PAUSED: return count_after(c, c->paused_d);
    default: return c->count % modulus(c);
    }
}

/* Tick after `after` at which OUT changes, or -1, for the count now in effect. */
static int64_t next_transition_now(const Chan *c, int64_t after)
{
    if (c->state != ST_COUNTING)
        return -1;
    int64_t d = after - c->start, n = c->count, rel;
    if (d < 0)
        d = 0;
    switch (c->mode) {
    case 0:
    case 1:
        if (d >= n)
            return -1;
        rel = n;
        break;
    case 2:
    case 3: {
        int64_t low_at = c->mode == 2 ? n - 1 : (n + 1) / 2;
        if (n < 2)
            return -1; /* count 1 never toggles */
        int64_t p = d % n, base = d - p;
        rel = p < low_at ? base + low_at : base + n;
        break;
    }
    default:
        if (d < n)
            rel = n;
        else if (d == n)
            rel = n + 1;
        else
            return -1;
        break;
    }
    return c->start + rel;
}

/* Same, with a pending count: the old period ends (OUT rises) at switch_at. */
static int64_t next_transition(const Chan *c, int64_t after)
{
    if (c->pending && c->state == ST_COUNTING && after < c->switch_at) {
        int64_t t = next_transition_now(c, after);
        return t >= 0 && t < c->switch_at ? t : c->switch_at;
    }
    return next_transition_now(c, after);
}

static void drive_irq(HgPit *p, bool level)
{
    if (level != p->irq_level) {
        p->irq_level = level;
        hg_irq_set(&p->irq0, level);
    }
}

static void arm_irq_timer(HgPit *p, int64_t after)
{
    settle(&p->ch[0], after);
    p->irq_next = next_transition(&p->ch[0], after);
    if (p->irq_next < 0)
        hg_timer_del(p->timer);
    else
        hg_timer_mod(p->timer, ticks_to_ns(p->irq_next));
}

/* Channel 0 was reprogrammed: drive OUT now and re-arm for its next change. */
static void irq_update(HgPit *p)
{
    int64_t now = now_tick(p);
    drive_irq(p, chan_out(&p->ch[0], now));
    arm_irq_timer(p, now);
}

static void irq_timer_cb(void *opaque)
{
    HgPit *p = opaque;
    Chan *c = &p->ch[0];
    int64_t now = now_tick(p);
    int64_t t = p->irq_next;
    /* Replay the transitions due, so a late timer still delivers the rising edge of a
     * one-tick low pulse; beyond one period of lateness the missed periods are dropped. */
    for (int i = 0; i < 2 && t >= 0 && t <= now; i++) {
        drive_irq(p, chan_out(c, t));
        t = next_transition(c, t);
    }
    if (t >= 0 && t <= now)
        drive_irq(p, chan_out(c, now));
    arm_irq_timer(p, now);
}

static void channel_changed(HgPit *p, Chan *c)
{
    if (c == &p->ch[0])
        irq_update(p);
}

static void start_counting(Chan *c, int64_t now)
{
    c->start = now;
    c->paused_d = 0;
    c->pending = 0;
    c->state = c->gate ? ST_COUNTING : ST_PAUSED;
}

static void load_count(HgPit *p, Chan *c, uint16_t raw)
{
    uint32_t v = raw;
    if (c->bcd) {
        /* Invalid BCD digits are undefined on the chip; keep them in range. */
        v = (raw & 0xf) + (raw >> 4 & 0xf) * 10 + (raw >> 8 & 0xf) * 100 + (raw >> 12 & 0xf) * 1000;
        v %= 10000;
    }
    v = v ? v : modulus(c);
    int64_t now = now_tick(p);
    settle(c, now);
    if ((c->mode == 2 || c->mode == 3) && c->state == ST_COUNTING) {
        /* Reprogrammed while running: the current period completes first. */
        int64_t n = c->count, d = now - c->start;
        c->pending = v;
        c->switch_at = c->start + (d / n + 1) * n;
        channel_changed(p, c);
        return;
    }
    c->count = v;
    switch (c->mode) {
    case 1:
    case 5:
        if (c->state == ST_WAIT_COUNT)
            c->state = ST_WAIT_GATE;
        break;
    default: start_counting(c, now); break;
    }
    channel_changed(p, c);
}

static void set_gate(HgPit *p, Chan *c, bool gate)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    int64_t now = now_tick(p);
    settle(c, now);
    if (c->pending) {
        /* The gate stops the period; its next rise loads the newest count. */
        c->count = c->pending;
        c->pending = 0;
    }
    if (gate) {
        switch (c->mode) {
        case 1:
        case 5:
            if (c->state != ST_WAIT_COUNT) {
                c->start = now;
                c->state = ST_COUNTING;
            }
            break;
        case 2:
        case 3:
            if (c->state == ST_PAUSED) {
                c->start = now;
                c->state = ST_COUNTING;
            }
            break;
        default:
            if (c->state == ST_PAUSED) {
                c->start = now - c->paused_d;
                c->state = ST_COUNTING;
            }
            break;
        }
    } else if (c->state == ST_COUNTING && c->mode != 1 && c->mode != 5) {
        c->paused_d = now - c->start;
        c->state = ST_PAUSED;
    }
    channel_changed(p, c);
}

static uint8_t status_byte(Chan *c, int64_t now)
{
    bool null_count = c->state == ST_WAIT_COUNT || c->state == ST_WAIT_GATE ||
                      (c->state == ST_COUNTING && now <= c->start);
    return chan_out(c, now) << 7 | null_count << 6 | c->rw << 4 | c->mode << 1 | c->bcd;
}

static void latch_count(Chan *c, int64_t now)
{
    if (c->latch_bytes)
        return; /* a second latch before the first is read is ignored */
    uint32_t v = chan_count(c, now);
    if (c->bcd)
        v = (v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12;
    c->latch = v;
    c->latch_bytes = c->rw == 3 ? 2 : 1;
}

static void write_control(HgPit *p, uint8_t v)
{
    int64_t now = now_tick(p);
    int sc = v >> 6;
    if (sc == 3) { /* read-back */
        for (int i = 0; i < 3; i++) {
            Chan *c = &p->ch[i];
            if (!(v & (2 << i)))
                continue;
            if (!(v & 0x20))
                latch_count(c, now);
            if (!(v & 0x10) && !c->status_latched) {
                c->status = status_byte(c, now);
                c->status_latched = true;
            }
        }
        return;
    }
    Chan *c = &p->ch[sc];
    int rw = (v >> 4) & 3;
    if (rw == 0) {
        latch_count(c, now);
        return;
    }
    c->rw = rw;
    c->mode = (v >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* 6 and 7 are aliases of 2 and 3 */
    c->bcd = v & 1;
    c->state = ST_WAIT_COUNT;
    c->pending = 0;
    c->wlsb_done = false;
    c->rmsb = false;
    c->latch_bytes = 0;
    c->status_latched = false;
    if (c->count > modulus(c))
        c->count = modulus(c);
    channel_changed(p, c);
}

static uint32_t pit_read(void *opaque, uint32_t port, int size)
{
    (void)size;
    HgPit *p = opaque;
    if ((port & 3) == 3)
        return 0xff; /* the control register is write-only */
    Chan *c = &p->ch[port & 3];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    bool msb;
    uint16_t v;
    if (c->latch_bytes) {
        msb = c->rw == 2 || (c->rw == 3 && c->latch_bytes == 1);
        c->latch_bytes--;
        v = c->latch;
    } else {
        uint32_t n = chan_count(c, now_tick(p));
        if (c->bcd)
            n = (n % 10) | (n / 10 % 10) << 4 | (n / 100 % 10) << 8 | (n / 1000 % 10) << 12;
        v = n;
        if (c->rw == 3) {
            msb = c->rmsb;
            c->rmsb = !c->rmsb;
        } else {
            msb = c->rw == 2;
        }
    }
    return msb ? v >> 8 : v & 0xff;
}

static void pit_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)size;
    HgPit *p = opaque;
    uint8_t v = value;
    /* Channel 2 feeds the speaker: it renders what was played before the change. */
    bool ch2 = (port & 3) == 2 || ((port & 3) == 3 && (v >> 6) == 2);
    if (ch2)
        speaker_hook(p, false);
    if ((port & 3) == 3) {
        write_control(p, v);
        if (ch2)
            speaker_hook(p, true);
        return;
    }
    Chan *c = &p->ch[port & 3];
    switch (c->rw) {
    case 1: load_count(p, c, v); break;
    case 2: load_count(p, c, v << 8); break;
    default:
        if (!c->wlsb_done) {
            c->wbyte = v;
            c->wlsb_done = true;
            /* Mode 0: writing the first byte stops the count and drops OUT. */
            if (c->mode == 0) {
                c->state = ST_WAIT_COUNT;
                channel_changed(p, c);
            }
        } else {
            c->wlsb_done = false;
            load_count(p, c, c->wbyte | v << 8);
        }
        break;
    }
    if (ch2)
        speaker_hook(p, true);
}

static uint32_t port61_read(void *opaque, uint32_t port, int size)
{
    (void)port;
    (void)size;
    HgPit *p = opaque;
    bool refresh = (hg_clock_ns(p->clock) / REFRESH_NS) & 1;
    return (p->port61 & 0x0f) | refresh << 4 | hg_pit_out(p, 2) << 5;
}

static void port61_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    (void)port;
    (void)size;
    HgPit *p = opaque;
    speaker_hook(p, false);
    p->port61 = value & 0x0f;
    set_gate(p, &p->ch[2], value & 1);
    speaker_hook(p, true);
}

bool hg_pit_out_at(HgPit *p, int ch, int64_t ns)
{
    if (ch < 0 || ch > 2)
        return false;
    Chan copy = p->ch[ch];
    return chan_out(&copy, ns_to_ticks(ns));
}

void hg_pit_set_speaker_hook(HgPit *p, HgPitSpeakerHook fn, void *opaque)
{
    p->speaker_hook = fn;
    p->speaker_opaque = opaque;
}

bool hg_pit_out(HgPit *p, int ch)
{
    if (ch < 0 || ch > 2)
        return false;
    return chan_out(&p->ch[ch], now_tick(p));
}

bool hg_pit_gate2(const HgPit *p)
{
    return p->port61 & 1;
}

bool hg_pit_speaker_enabled(const HgPit *p)
{
    return p->port61 & 2;
}

int hg_pit_mode(const HgPit *p, int ch)
{
    return ch >= 0 && ch <= 2 ? p->ch[ch].mode : 0;
}

uint32_t hg_pit_reload(const HgPit *p, int ch)
{
    return ch >= 0 && ch <= 2 ? p->ch[ch].count : 0;
}

void hg_pit_reset(HgPit *p)
{
    int64_t now = now_tick(p);
    for (int i = 0; i < 3; i++) {
        Chan *c = &p->ch[i];
        memset(c, 0, sizeof(*c));
        c->mode = 3;
        c->rw = 3;
        c->count = 65536;
        c->gate = i != 2;
        start_counting(c, now);
    }
    p->port61 = 0;
    irq_update(p);
}

HgPit *hg_pit_new(HgBus *bus, HgClock *clock, HgIrq irq0)
{
    HgPit *p = g_new0(HgPit, 1);
    p->clock = clock;
    p->irq0 = irq0;
    p->timer = hg_timer_new(clock, irq_timer_cb, p);
    hg_pit_reset(p);
    if (bus) {
        hg_bus_map_io(bus, 0x40, 4, pit_read, pit_write, p);
        hg_bus_map_io(bus, 0x61, 1, port61_read, port61_write, p);
    }
    return p;
}

void hg_pit_free(HgPit *p)
{
    if (!p)
        return;
    hg_timer_free(p->timer);
    g_free(p);
}

void hg_pit_save(const HgPit *p, HgStateWriter *w)
{
    hg_state_begin(w, "pit8254", 1);
    for (int i = 0; i < 3; i++) {
        const Chan *c = &p->ch[i];
        hg_state_put_u8(w, c->mode);
        hg_state_put_u8(w, c->rw);
        hg_state_put_u8(w, c->bcd);
        hg_state_put_u8(w, c->state);
        hg_state_put_u32(w, c->count);
        hg_state_put_u64(w, (uint64_t)c->start);
        hg_state_put_u64(w, (uint64_t)c->paused_d);
        hg_state_put_u32(w, c->pending);
        /* switch_at means something only while a count is pending: save it canonically. */
        hg_state_put_u64(w, c->pending ? (uint64_t)c->switch_at : 0);
        hg_state_put_u8(w, c->gate);
        hg_state_put_u8(w, c->wlsb_done);
        hg_state_put_u8(w, c->wbyte);
        hg_state_put_u8(w, c->rmsb);
        hg_state_put_u16(w, c->latch);
        hg_state_put_u8(w, c->latch_bytes);
        hg_state_put_u8(w, c->status_latched);
        hg_state_put_u8(w, c->status);
    }
    hg_state_put_u8(w, p->port61);
    hg_state_put_u8(w, p->irq_level);
    hg_state_put_u64(w, (uint64_t)p->irq_next);
    bool pending = hg_timer_pending(p->timer);
    hg_state_put_u8(w, pending);
    hg_state_put_u64(w, pending ? (uint64_t)hg_timer_expire(p->timer) : 0);
    hg_state_end(w);
}

void hg_pit_load(HgPit *p, HgStateReader *r)
{
    if (!hg_state_open(r, "pit8254", 1, 1))
        return;
    int64_t now = now_tick(p);
    Chan ch[3];
    for (int i = 0; i < 3; i++) {
        Chan *c = &ch[i];
        memset(c, 0, sizeof(*c));
        c->mode = hg_state_get_u8(r) % 6;
        c->rw = hg_state_get_u8(r) & 3;
        if (!c->rw)
            c->rw = 3;
        c->bcd = hg_state_get_u8(r) & 1;
        c->state = hg_state_get_u8(r) & 3;
        uint32_t count = hg_state_get_u32(r);
        c->count = count >= 1 && count <= modulus(c) ? count : modulus(c);
        /* Keep times sane so tick arithmetic cannot overflow. */
        int64_t start = (int64_t)hg_state_get_u64(r);
        c->start = CLAMP(start, now - ((int64_t)1 << 52), now);
        int64_t paused = (int64_t)hg_state_get_u64(r);
        c->paused_d = CLAMP(paused, 0, (int64_t)1 << 52);
        uint32_t pending = hg_state_get_u32(r);
        c->pending = pending <= modulus(c) ? pending : 0;
        int64_t sw = (int64_t)hg_state_get_u64(r);
        if (c->mode != 2 && c->mode != 3)
            c->pending = 0;
        c->switch_at = c->pending ? CLAMP(sw, c->start, now + ((int64_t)1 << 17)) : 0;
        c->gate = hg_state_get_u8(r) != 0;
        c->wlsb_done = hg_state_get_u8(r) != 0;
        c->wbyte = hg_state_get_u8(r);
        c->rmsb = hg_state_get_u8(r) != 0;
        c->latch = hg_state_get_u16(r);
        uint8_t lb = hg_state_get_u8(r);
        c->latch_bytes = MIN(lb, 2);
        c->status_latched = hg_state_get_u8(r) != 0;
        c->status = hg_state_get_u8(r);
    }
    uint8_t port61 = hg_state_get_u8(r) & 0x0f;
    bool irq_level = hg_state_get_u8(r) != 0;
    int64_t irq_next = (int64_t)hg_state_get_u64(r);
    bool pending = hg_state_get_u8(r) != 0;
    int64_t expire = (int64_t)hg_state_get_u64(r);
    hg_state_close(r);
    if (!hg_state_ok(r))
        return;
    memcpy(p->ch, ch, sizeof(ch));
    p->ch[0].gate = p->ch[1].gate = true;
    p->ch[2].gate = port61 & 1;
    p->port61 = port61;
    p->irq_level = irq_level;
    p->irq_next = CLAMP(irq_next, -1, now + ((int64_t)1 << 52));
    /* Re-arm at the saved expiry; the callback recomputes from the channel state. */
    if (pending && p->irq_next >= 0)
        hg_timer_mod(p->timer, MAX(expire, 0));
    else
        hg_timer_del(p->timer);
}
