/* YM3812 (OPL2), written from Yamaha's public YM3812 application manual (register map,
 * operator/channel layout, frequency formula f = F-Number * 49716 / 2^(20 - Block),
 * multiplier, key scale level and rate tables, envelope times, the two timers and the
 * status register) and the AdLib programming guide (the timer-based detection: reset
 * the timers, start timer 1 at 0xFF, wait 80 us, expect status 0xC0 in bits 7-5).
 *
 * Model: 18 operators in 9 two-operator channels, each operator a phase accumulator
 * (20 bits per cycle) reading a 1024-entry sine (or one of the three other waveforms
 * when register 1 enables them), attenuated by its envelope, total level, key scale
 * level and tremolo in 0.1875 dB units. FM connection: the modulator's output shifts the
 * carrier's table index (full scale = four cycles), with self-feedback on the modulator;
 * additive connection sums both. The envelope runs attack, decay, sustain (held with
 * EG-TYP set, else decaying at the release rate) and release, at rates that double for
 * every 4 steps of the effective rate (4 * R + key scale offset), scaled to the manual's
 * times (rate 1: attack 2826 ms, decay 39280 ms). Vibrato and tremolo come from two
 * triangle LFOs (6.1 Hz, 3.7 Hz). Rhythm mode is approximate: bass drum is channel 6,
 * the four others are single operators of channels 7 and 8, the hi-hat, snare and
 * cymbal with noise from a 23-bit LFSR.
 * Tables are computed into each chip (no global state); the chip is silent, and costs
 * nothing, while no operator sounds.
 */
#include "opl2.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "audio.h"
#include "bus.h"
#include "clock.h"
#include "state.h"

enum {
    OPL_RATE = 49716,
    NOPS = 18,
    NCH = 9,
    SINE_LEN = 1024,
    ATT_MAX = 768,       /* attenuation table size, 0.1875 dB units (144 dB) */
    ENV_MAX = 511 << 16, /* envelope level, 16.16 */
};

enum { EG_OFF, EG_ATTACK, EG_DECAY, EG_SUSTAIN, EG_RELEASE };

typedef struct Op {
    uint32_t phase;
    uint32_t inc;
    uint32_t level; /* 16.16 in 0.1875 dB units */
    uint8_t state;
    bool key;
    uint32_t ar, dr, rr; /* per-sample level steps */
    int16_t out[2];      /* last two outputs (feedback) */
} Op;

struct HgOpl2 {
    HgClock *clock;
    HgAudio *audio;
    HgVoice *voice;
    uint8_t regs[256];
    uint8_t addr;
    /* timers: start time and period in ns, 0 when stopped */
    int64_t t_start[2], t_period[2];
    uint8_t flags;         /* status bits 6 (T1) and 5 (T2) latched */
    uint32_t status_reads; /* since the last timer start */
    Op op[NOPS];
    uint32_t lfo_am, lfo_vib; /* LFO phases, 32-bit per cycle */
    uint32_t noise;
    int16_t sine[SINE_LEN];
    int32_t lin[ATT_MAX];
};

static const uint8_t mult2[16] = {1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 20, 24, 24, 30, 30};
static const uint8_t ksl_rom[16] = {0, 32, 40, 45, 48, 51, 53, 55, 56, 58, 59, 60, 61, 62, 63, 64};
static const uint8_t ksl_shift[4] = {8, 1, 2, 0};
/* Register offset (0x00-0x15) of each operator. */
static const uint8_t op_offset[NOPS] = {0,  1,  2,  3,  4,  5,  8,  9,  10,
                                        11, 12, 13, 16, 17, 18, 19, 20, 21};

/* Operator index of a register offset, or -1. */
static int op_of(int off)
{
    for (int i = 0; i < NOPS; i++)
        if (op_offset[i] == off)
            return i;
    return -1;
}

/* Channel c's modulator is operator (c / 3) * 6 + c % 3, its carrier three further. */
static int chan_op(int c, int which)
{
    return (c / 3) * 6 + c % 3 + which * 3;
}

static int chan_of_op(int o)
{
    return (o / 6) * 3 + o % 3;
}

static uint8_t opreg(const HgOpl2 *opl, int base, int o)
{
    return opl->regs[base + op_offset[o]];
}

static int fnum(const HgOpl2 *opl, int c)
{
    return opl->regs[0xa0 + c] | (opl->regs[0xb0 + c] & 3) << 8;
}

static int block(const HgOpl2 *opl, int c)
{
    return (opl->regs[0xb0 + c] >> 2) & 7;
}

/* Rate step per sample for a 4-bit rate R of operator o: the manual's time for rate 1
 * (full range) halves every 4 steps of 4 * R + key scale offset. */
static uint32_t rate_step(const HgOpl2 *opl, int o, int r, double rate1_ms)
{
    if (r == 0)
        return 0;
    int c = chan_of_op(o);
    int keycode = block(opl, c) << 1 | ((fnum(opl, c) >> ((opl->regs[8] & 0x40) ? 8 : 9)) & 1);
    int rof = (opreg(opl, 0x20, o) & 0x10) ? keycode : keycode >> 2;
    int eff = MIN(4 * r + rof, 60);
    double samples = rate1_ms / 1000.0 * OPL_RATE / exp2((eff - 4) / 4.0);
    double step = (double)ENV_MAX / MAX(samples, 1.0);
    return (uint32_t)MIN(step, (double)ENV_MAX);
}

static void update_op(HgOpl2 *opl, int o)
{
    Op *op = &opl->op[o];
    int c = chan_of_op(o);
    op->inc = (uint32_t)((fnum(opl, c) << block(opl, c)) * mult2[opreg(opl, 0x20, o) & 15]) / 2;
    uint8_t ad = opreg(opl, 0x60, o), sr = opreg(opl, 0x80, o);
    op->ar = (ad >> 4) == 15 ? ENV_MAX : rate_step(opl, o, ad >> 4, 2826.0);
    op->dr = rate_step(opl, o, ad & 15, 39280.0);
    op->rr = rate_step(opl, o, sr & 15, 39280.0);
}

static void key(HgOpl2 *opl, int o, bool on)
{
    Op *op = &opl->op[o];
    if (on && !op->key) {
        op->phase = 0;
        op->state = EG_ATTACK;
    } else if (!on && op->key && op->state != EG_OFF) {
        op->state = EG_RELEASE;
    }
    op->key = on;
}

static bool rhythm(const HgOpl2 *opl)
{
    return opl->regs[0xbd] & 0x20;
}

static void update_keys(HgOpl2 *opl)
{
    for (int c = 0; c < NCH; c++) {
        bool on = opl->regs[0xb0 + c] & 0x20;
        bool r = rhythm(opl);
        uint8_t bd = opl->regs[0xbd];
        if (r && c == 6) {
            on = on || (bd & 0x10);
        }
        if (r && c >= 7) {
            /* Channels 7 and 8: hi-hat/snare and tom/cymbal, one operator each. */
            key(opl, chan_op(c, 0), (c == 7 ? bd & 0x01 : bd & 0x04) || on);
            key(opl, chan_op(c, 1), (c == 7 ? bd & 0x08 : bd & 0x02) || on);
            continue;
        }
        key(opl, chan_op(c, 0), on);
        key(opl, chan_op(c, 1), on);
    }
}

static bool any_sounding(const HgOpl2 *opl)
{
    for (int o = 0; o < NOPS; o++)
        if (opl->op[o].state != EG_OFF)
            return true;
    return false;
}

/* ---- synthesis ---- */

static void envelope(HgOpl2 *opl, Op *op, int o)
{
    uint32_t sl = (uint32_t)(opreg(opl, 0x80, o) >> 4);
    uint32_t sustain = (sl == 15 ? 31u : sl) * 16u << 16; /* 3 dB steps; 15 is 93 dB */
    switch (op->state) {
    case EG_ATTACK:
        op->level = op->level > op->ar ? op->level - op->ar : 0;
        if (op->level == 0)
            op->state = EG_DECAY;
        break;
    case EG_DECAY:
        op->level += op->dr;
        if (op->level >= sustain) {
            op->level = sustain;
            op->state = EG_SUSTAIN;
        }
        break;
    case EG_SUSTAIN:
        if (!(opreg(opl, 0x20, o) & 0x20))
            op->level += op->rr; /* percussive: no hold */
        break;
    case EG_RELEASE: op->level += op->rr; break;
    default: break;
    }
    if (op->level >= ENV_MAX) {
        op->level = ENV_MAX;
        if (op->state != EG_ATTACK)
            op->state = EG_OFF;
    }
}

static int32_t op_out(HgOpl2 *opl, int o, int32_t mod, int trem)
{
    Op *op = &opl->op[o];
    if (op->state == EG_OFF)
        return 0;
    int c = chan_of_op(o);
    int ksl = (ksl_rom[fnum(opl, c) >> 6] << 2) - ((8 - block(opl, c)) << 5);
    ksl = MAX(ksl, 0) >> ksl_shift[opreg(opl, 0x40, o) >> 6];
    int att = (int)(op->level >> 16) + ((opreg(opl, 0x40, o) & 0x3f) << 2) + ksl +
              ((opreg(opl, 0x20, o) & 0x80) ? trem : 0);
    if (att >= ATT_MAX)
        return 0;
    uint32_t idx = ((op->phase >> 10) + (uint32_t)mod) & (SINE_LEN - 1);
    int ws = (opl->regs[1] & 0x20) ? opreg(opl, 0xe0, o) & 3 : 0;
    int32_t s = opl->sine[idx];
    switch (ws) {
    case 1: s = idx < SINE_LEN / 2 ? s : 0; break;
    case 2: s = ABS(s); break;
    case 3: s = (idx & (SINE_LEN / 4)) ? 0 : ABS(s); break;
    default: break;
    }
    return (s * opl->lin[att]) >> 15;
}

static int32_t noise_index(const HgOpl2 *opl, const Op *op)
{
    /* A noisy phase for the hi-hat, snare and cymbal. */
    return (int32_t)((opl->noise & 1) ? SINE_LEN / 4 : 3 * SINE_LEN / 4) -
           (int32_t)(op->phase >> 10);
}

static int16_t sample(HgOpl2 *opl)
{
    /* LFOs: tremolo 3.7 Hz, 1 or 4.8 dB; vibrato 6.1 Hz, 7 or 14 cents. */
    opl->lfo_am += (uint32_t)(3.7 * 4294967296.0 / OPL_RATE);
    opl->lfo_vib += (uint32_t)(6.1 * 4294967296.0 / OPL_RATE);
    int x = (int)(opl->lfo_am >> 16);
    int tri_am = x < 32768 ? x : 65535 - x; /* 0-32767 */
    int trem = ((opl->regs[0xbd] & 0x80) ? 26 : 5) * tri_am / 32768;
    int32_t vib_tri = (int32_t)(opl->lfo_vib >> 16) - 32768; /* -32768..32767 saw */
    vib_tri = vib_tri < 0 ? -vib_tri : vib_tri;              /* 0..32768 triangle */
    vib_tri = vib_tri * 2 - 32768;
    double vib_depth = (opl->regs[0xbd] & 0x40) ? 0.0081 : 0.0040; /* 14 / 7 cents */
    uint32_t noise_bit = ((opl->noise >> 22) ^ (opl->noise >> 8)) & 1;
    opl->noise = ((opl->noise << 1) | noise_bit) & 0x7fffff;

    for (int o = 0; o < NOPS; o++) {
        Op *op = &opl->op[o];
        if (op->state == EG_OFF)
            continue;
        uint32_t inc = op->inc;
        if (opreg(opl, 0x20, o) & 0x40)
            inc = (uint32_t)((double)inc * (1.0 + vib_depth * vib_tri / 32768.0));
        op->phase += inc;
        envelope(opl, op, o);
    }
    int32_t mix = 0;
    bool r = rhythm(opl);
    for (int c = 0; c < NCH; c++) {
        int m = chan_op(c, 0), k = chan_op(c, 1);
        if (opl->op[m].state == EG_OFF && opl->op[k].state == EG_OFF)
            continue;
        uint8_t fbc = opl->regs[0xc0 + c];
        if (r && c >= 7) {
            /* Hi-hat/tom (modulator slot) and snare/cymbal (carrier slot), doubled. */
            int32_t a = c == 7 ? op_out(opl, m, noise_index(opl, &opl->op[m]), trem)
                               : op_out(opl, m, 0, trem);
            int32_t b = op_out(opl, k, noise_index(opl, &opl->op[k]), trem);
            mix += 2 * (a + b);
            continue;
        }
        int fb = (fbc >> 1) & 7;
        Op *mo = &opl->op[m];
        int32_t fbmod = fb ? (mo->out[0] + mo->out[1]) >> (9 - fb) : 0;
        int32_t o1 = op_out(opl, m, fbmod, trem);
        mo->out[1] = mo->out[0];
        mo->out[0] = (int16_t)o1;
        int32_t out;
        if ((fbc & 1) && !(r && c == 6))
            out = o1 + op_out(opl, k, 0, trem);
        else
            out = op_out(opl, k, o1, trem);
        mix += (r && c == 6) ? 2 * out : out;
    }
    mix *= 2;
    return (int16_t)CLAMP(mix, -32767, 32767);
}

static int fill(void *opaque, int16_t *buf, int frames, int64_t ns)
{
    HgOpl2 *opl = opaque;
    for (int i = 0; i < frames; i++)
        buf[i] = sample(opl);
    if (!any_sounding(opl))
        hg_voice_set_active(opl->voice, false);
    return frames;
}

/* ---- timers and ports ---- */

/* An ISA read of the status port takes about a microsecond on the AdLib, and the
 * detection in its programming guide (and in countless games) waits for timer 1 by
 * reading the status port a hundred times or so: each read counts as that microsecond,
 * whichever is later, guest time or the reads. */
enum { ISA_READ_NS = 1000 };

static void update_flags(HgOpl2 *opl)
{
    int64_t now = hg_clock_ns(opl->clock);
    for (int t = 0; t < 2; t++) {
        if (!opl->t_period[t])
            continue;
        int64_t elapsed = MAX(now - opl->t_start[t], (int64_t)opl->status_reads * ISA_READ_NS);
        if (elapsed >= opl->t_period[t])
            opl->flags |= t == 0 ? 0x40 : 0x20;
    }
}

static uint32_t opl_read(void *opaque, uint32_t port, int size)
{
    HgOpl2 *opl = opaque;
    if (port & 1)
        return 0xff; /* the data port is write-only */
    if (opl->status_reads < UINT32_MAX)
        opl->status_reads++;
    update_flags(opl);
    uint8_t f = opl->flags;
    /* Bits 2-1 read as 1 on the OPL2 (0 on the OPL3): how drivers tell them apart. */
    return (f ? 0x80 : 0) | f | 0x06;
}

static void timer_control(HgOpl2 *opl, uint8_t v)
{
    if (v & 0x80) {
        update_flags(opl);
        opl->flags = 0; /* IRQ reset: clears the flags, nothing else */
        return;
    }
    update_flags(opl);
    int64_t now = hg_clock_ns(opl->clock);
    static const int64_t unit[2] = {80000, 320000}; /* 80 us, 320 us per count */
    for (int t = 0; t < 2; t++) {
        bool masked = v & (t == 0 ? 0x40 : 0x20);
        bool start = v & (1 << t);
        if (start && !masked) {
            if (!opl->t_period[t]) {
                opl->t_start[t] = now;
                opl->status_reads = 0;
                opl->t_period[t] = (256 - opl->regs[2 + t]) * unit[t];
            }
        } else {
            opl->t_period[t] = 0;
        }
        if (masked)
            opl->flags &= ~(t == 0 ? 0x40 : 0x20);
    }
}

static void reg_write(HgOpl2 *opl, uint8_t a, uint8_t v)
{
    hg_audio_mix_to(opl->audio, hg_clock_ns(opl->clock));
    opl->regs[a] = v;
    if (a == 4) {
        timer_control(opl, v);
        return;
    }
    if (a >= 0x20 && a < 0xa0) {
        int o = op_of(a & 0x1f);
        if (o >= 0 && (a & 0x1f) < 0x16)
            update_op(opl, o);
    } else if ((a >= 0xa0 && a <= 0xa8) || (a >= 0xb0 && a <= 0xb8)) {
        int c = a & 0x0f;
        update_op(opl, chan_op(c, 0));
        update_op(opl, chan_op(c, 1));
        if (a >= 0xb0)
            update_keys(opl);
    } else if (a == 0xbd) {
        update_keys(opl);
    }
    if (any_sounding(opl))
        hg_voice_set_active(opl->voice, true);
}

static void opl_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgOpl2 *opl = opaque;
    if (port & 1)
        reg_write(opl, opl->addr, (uint8_t)value);
    else
        opl->addr = (uint8_t)value;
}

HgOpl2 *hg_opl2_new(HgClock *clock, HgAudio *audio)
{
    HgOpl2 *opl = g_new0(HgOpl2, 1);
    opl->clock = clock;
    opl->audio = audio;
    for (int i = 0; i < SINE_LEN; i++)
        opl->sine[i] = (int16_t)lrint(4095.0 * sin((i + 0.5) * 2 * G_PI / SINE_LEN));
    for (int i = 0; i < ATT_MAX; i++)
        opl->lin[i] = (int32_t)lrint(32768.0 * pow(10.0, -0.1875 * i / 20.0));
    opl->voice = hg_voice_new(audio, "opl2", fill, opl);
    hg_voice_set_format(opl->voice, OPL_RATE, 1);
    hg_opl2_reset(opl);
    return opl;
}

void hg_opl2_map(HgOpl2 *opl, HgBus *bus, uint16_t port)
{
    hg_bus_map_io(bus, port, 2, opl_read, opl_write, opl);
}

HgVoice *hg_opl2_voice(HgOpl2 *opl)
{
    return opl->voice;
}

void hg_opl2_free(HgOpl2 *opl)
{
    if (!opl)
        return;
    hg_voice_free(opl->voice);
    g_free(opl);
}

void hg_opl2_reset(HgOpl2 *opl)
{
    memset(opl->regs, 0, sizeof opl->regs);
    opl->addr = 0;
    opl->flags = 0;
    memset(opl->t_start, 0, sizeof opl->t_start);
    memset(opl->t_period, 0, sizeof opl->t_period);
    for (int o = 0; o < NOPS; o++) {
        memset(&opl->op[o], 0, sizeof(Op));
        opl->op[o].level = ENV_MAX;
        update_op(opl, o);
    }
    opl->lfo_am = opl->lfo_vib = 0;
    opl->noise = 1;
    hg_voice_set_active(opl->voice, false);
}

void hg_opl2_save(const HgOpl2 *opl, HgStateWriter *w)
{
    hg_state_begin(w, "opl2", 1);
    hg_state_put_bytes(w, opl->regs, sizeof opl->regs);
    hg_state_put_u8(w, opl->addr);
    hg_state_put_u8(w, opl->flags);
    int64_t now = hg_clock_ns(opl->clock);
    for (int t = 0; t < 2; t++) {
        /* Times relative to now, so a restored clock can start anywhere. */
        hg_state_put_u64(w, (uint64_t)(now - opl->t_start[t]));
        hg_state_put_u64(w, (uint64_t)opl->t_period[t]);
    }
    for (int o = 0; o < NOPS; o++) {
        const Op *op = &opl->op[o];
        hg_state_put_u32(w, op->phase);
        hg_state_put_u32(w, op->level);
        hg_state_put_u8(w, op->state);
        hg_state_put_u8(w, op->key);
        hg_state_put_u16(w, (uint16_t)op->out[0]);
        hg_state_put_u16(w, (uint16_t)op->out[1]);
    }
    hg_state_put_u32(w, opl->lfo_am);
    hg_state_put_u32(w, opl->lfo_vib);
    hg_state_put_u32(w, opl->noise);
    hg_state_end(w);
}

void hg_opl2_load(HgOpl2 *opl, HgStateReader *r)
{
    if (!hg_state_open(r, "opl2", 1, 1))
        return;
    hg_state_get_bytes(r, opl->regs, sizeof opl->regs);
    opl->addr = hg_state_get_u8(r);
    opl->flags = hg_state_get_u8(r) & 0x60;
    int64_t now = hg_clock_ns(opl->clock);
    for (int t = 0; t < 2; t++) {
        uint64_t ago = hg_state_get_u64(r), period = hg_state_get_u64(r);
        opl->t_start[t] = now - (int64_t)MIN(ago, (uint64_t)1 << 40);
        /* 256 counts of 320 us at most. */
        opl->t_period[t] = (int64_t)MIN(period, (uint64_t)256 * 320000);
    }
    for (int o = 0; o < NOPS; o++) {
        Op *op = &opl->op[o];
        op->phase = hg_state_get_u32(r);
        uint32_t level = hg_state_get_u32(r);
        op->level = MIN(level, (uint32_t)ENV_MAX);
        uint8_t st = hg_state_get_u8(r);
        op->state = st <= EG_RELEASE ? st : EG_OFF;
        op->key = hg_state_get_u8(r) != 0;
        op->out[0] = (int16_t)hg_state_get_u16(r);
        op->out[1] = (int16_t)hg_state_get_u16(r);
        update_op(opl, o);
    }
    opl->lfo_am = hg_state_get_u32(r);
    opl->lfo_vib = hg_state_get_u32(r);
    opl->noise = (hg_state_get_u32(r) & 0x7fffff) | 1;
    hg_state_close(r);
    hg_voice_set_active(opl->voice, any_sounding(opl));
}
