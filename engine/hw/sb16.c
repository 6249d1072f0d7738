/* Sound Blaster 16: the DSP (version 4.05) and the CT1745 mixer, following Creative's
 * "Sound Blaster Series Hardware Programming Guide" (DSP I/O ports, "Digitized sound I/O
 * programming", the DSP command reference, "Mixer chip" CT1745 register map) and what
 * Linux's snd-sb16 (sb_common.c probe, sb16_main.c, sb_mixer.c) and DOS programs do.
 *
 * Playback: a DMA command (0x14, 0x1C, 0x90, 0x91, 0xBx, 0xCx, 0x80 silence) sets the
 * format and the block length; the mixer then pulls frames through fill(), which reads
 * exactly the bytes those frames need from the 8237 channel (whose current address and
 * count therefore move as the sound plays, as Linux's pointer callback expects). When a
 * block's bytes are all transferred the card raises its 8-bit or 16-bit interrupt
 * (mixer register 0x82), reloads the length in auto-init mode or stops otherwise. A
 * timer at the block's end makes the mixer catch up then, so the interrupt comes at the
 * right guest time rather than at the mixer's next period.
 * Recording (0x24, 0x2C, 0x98, 0x99, 0xBx/0xCx with the A/D bit) runs the same way and
 * writes silence to memory: the host's microphone is not connected.
 * Not modelled: ADPCM (commands are accepted and play silence), MIDI, the ASP, the E2
 * DMA identification's memory write.
 */
#include "sb16.h"

#include <glib.h>
#include <string.h>

#include "audio.h"
#include "bus.h"
#include "clock.h"
#include "dma8237.h"
#include "state.h"

enum {
    FIFO_SIZE = 64,
    XFER_MAX = 4096, /* bytes converted per pass of fill() */
    RATE_MIN = 4000,
    RATE_MAX = 48000,
};

enum { DSP_VERSION_MAJOR = 4, DSP_VERSION_MINOR = 5 };

struct HgSb16 {
    HgBus *bus;
    HgClock *clock;
    HgDma *dma;
    HgAudio *audio;
    HgVoice *voice;
    HgVoice *fm_voice; /* the OPL's, or NULL */
    HgTimer *timer;
    HgSb16Irq set_irq;
    void *irq_opaque;
    uint16_t base;

    uint8_t mixer[256];
    uint8_t mixer_index;
    int irq_line; /* the line currently driven, from mixer 0x80 */
    bool irq_level;

    /* DSP command parser and output FIFO */
    uint8_t cmd; /* command collecting its arguments, or 0 */
    uint8_t args[4];
    int nargs, need;
    uint8_t fifo[FIFO_SIZE];
    int fifo_head, fifo_len;
    uint8_t last_read;
    bool reset_high;
    bool speaker;
    uint8_t test_reg;
    uint8_t time_const;
    uint16_t out_rate, in_rate; /* 0x41 / 0x42 rates; 0 until set */
    bool rate_from_tc;          /* the time constant was written last */
    uint16_t block_size;        /* 0x48: bytes per block of the 8-bit legacy commands */

    /* the transfer in progress */
    bool active; /* a DMA (or silence) transfer is programmed */
    bool paused;
    bool bits16, stereo, is_signed, input, autoinit, silence, exit_autoinit;
    uint32_t rate;
    uint32_t count; /* bytes per block */
    uint32_t left;  /* bytes until the block ends */
    uint8_t carry[4];
    int carry_len;
    uint8_t irq_status; /* mixer 0x82: bit 0 8-bit, bit 1 16-bit */

    /* scratch of one DMA pass */
    uint8_t *xfer_buf;
    int xfer_want, xfer_got, xfer_ch;
    uint8_t bytes[XFER_MAX + 4];
};

/* 2 dB steps below 0 dB of the 5-bit volume registers, as 1/65536 gains. */
static const uint32_t vol_gain[32] = {
    52,   66,    83,    104,   131,   165,   207,   261,   328,   414,   521,
    655,  825,   1039,  1308,  1646,  2072,  2609,  3285,  4135,  5206,  6554,
    8250, 10387, 13076, 16462, 20724, 26090, 32846, 41350, 52057, 65536,
};

static const char copyright[] = "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.";

/* ---- interrupts ---- */

static int line_of(uint8_t sel)
{
    switch (sel & 0x0f) {
    case 1: return 9; /* IRQ 2 on the card's edge connector is 9 on the AT bus */
    case 4: return 7;
    case 8: return 10;
    case 2: return 5;
    default: return -1;
    }
}

static void update_irq(HgSb16 *s)
{
    int line = line_of(s->mixer[0x80]);
    bool level = s->irq_status != 0 && line >= 0;
    if (line != s->irq_line && s->irq_level && s->irq_line >= 0) {
        s->set_irq(s->irq_opaque, s->irq_line, false);
        s->irq_level = false;
    }
    s->irq_line = line;
    if (line >= 0 && level != s->irq_level) {
        s->set_irq(s->irq_opaque, line, level);
        s->irq_level = level;
    }
}

static void raise_irq(HgSb16 *s, bool sixteen)
{
    s->irq_status |= sixteen ? 2 : 1;
    update_irq(s);
}

static void ack_irq(HgSb16 *s, bool sixteen)
{
    s->irq_status &= sixteen ? ~2 : ~1;
    update_irq(s);
}

/* ---- mixer ---- */

/* Master times one input's volume pair (5-bit registers reg, reg + 1), as gains. */
static void pair_gain(const HgSb16 *s, int reg, uint32_t *l, uint32_t *r)
{
    uint64_t gl = (uint64_t)vol_gain[s->mixer[0x30] >> 3] * vol_gain[s->mixer[reg] >> 3];
    uint64_t gr = (uint64_t)vol_gain[s->mixer[0x31] >> 3] * vol_gain[s->mixer[reg + 1] >> 3];
    *l = (uint32_t)(gl >> 16);
    *r = (uint32_t)(gr >> 16);
}

static void update_gain(HgSb16 *s)
{
    if (s->fm_voice) {
        uint32_t l, r;
        pair_gain(s, 0x34, &l, &r);
        hg_voice_set_gain(s->fm_voice, l, r);
    }
    uint64_t l = (uint64_t)vol_gain[s->mixer[0x30] >> 3] * vol_gain[s->mixer[0x32] >> 3];
    uint64_t r = (uint64_t)vol_gain[s->mixer[0x31] >> 3] * vol_gain[s->mixer[0x33] >> 3];
    /* Output gain (0x41/0x42 bits 7-6): x1, x2, x4, x8. */
    l = (l >> 16) << (s->mixer[0x41] >> 6);
    r = (r >> 16) << (s->mixer[0x42] >> 6);
    hg_voice_set_gain(s->voice, (uint32_t)MIN(l, 4u * HG_AUDIO_UNITY),
                      (uint32_t)MIN(r, 4u * HG_AUDIO_UNITY));
}

static void mixer_defaults(HgSb16 *s)
{
    uint8_t irq = s->mixer[0x80], dma = s->mixer[0x81];
    memset(s->mixer + 0x30, 0, 0x48 - 0x30);
    for (int i = 0x30; i <= 0x35; i++)
        s->mixer[i] = 0xc0; /* master, voice, MIDI: -14 dB */
    s->mixer[0x3c] = 0x1f;
    s->mixer[0x3d] = 0x15;
    s->mixer[0x3e] = 0x0b;
    for (int i = 0x44; i <= 0x47; i++)
        s->mixer[i] = 0x80;
    s->mixer[0x80] = irq;
    s->mixer[0x81] = dma;
    update_gain(s);
}

/* The SB Pro registers are views of the SB16 ones: a nibble per channel. */
static int sbpro_pair(uint8_t reg)
{
    switch (reg) {
    case 0x04: return 0x32; /* voice */
    case 0x22: return 0x30; /* master */
    case 0x26: return 0x34; /* FM */
    case 0x28: return 0x36; /* CD */
    case 0x2e: return 0x38; /* line */
    default: return 0;
    }
}

static uint8_t mixer_read(HgSb16 *s, uint8_t reg)
{
    int pair = sbpro_pair(reg);
    if (pair)
        return (s->mixer[pair] & 0xf0) | (s->mixer[pair + 1] >> 4);
    switch (reg) {
    case 0x0a: return (s->mixer[0x3a] >> 5) & 7;
    case 0x80: return s->mixer[0x80] & 0x0f;
    case 0x81: return s->mixer[0x81];
    case 0x82: return s->irq_status; /* MPU-401 bit 2 never set */
    default: return s->mixer[reg];
    }
}

static void mixer_write(HgSb16 *s, uint8_t reg, uint8_t v)
{
    int pair = sbpro_pair(reg);
    if (pair) {
        s->mixer[pair] = (v & 0xf0) | 8;
        s->mixer[pair + 1] = (uint8_t)(v << 4) | 8;
    } else if (reg == 0x00) {
        mixer_defaults(s);
    } else if (reg == 0x0a) {
        s->mixer[0x3a] = (uint8_t)((v & 7) << 5);
    } else if (reg == 0x80) {
        s->mixer[0x80] = v & 0x0f;
        update_irq(s);
    } else if (reg == 0x81) {
        s->mixer[0x81] = v & 0xeb; /* channels 0, 1, 3 and 5, 6, 7 */
    } else if (reg == 0x82) {
        /* read-only */
    } else if (reg >= 0x30 && reg <= 0x47) {
        s->mixer[reg] = v;
    } else {
        s->mixer[reg] = v; /* scratch, as unused registers read back on the CT1745 */
    }
    update_gain(s);
}

/* ---- DMA ---- */

static int chan8(const HgSb16 *s)
{
    uint8_t m = s->mixer[0x81];
    return m & 2 ? 1 : m & 1 ? 0 : m & 8 ? 3 : -1;
}

static int chan16(const HgSb16 *s)
{
    uint8_t m = s->mixer[0x81];
    int c = m & 0x20 ? 5 : m & 0x40 ? 6 : m & 0x80 ? 7 : -1;
    /* Without a 16-bit channel, 16-bit transfers go through the 8-bit one. */
    return c >= 0 ? c : chan8(s);
}

static int dma_xfer(void *opaque, int ch, int pos, int len)
{
    HgSb16 *s = opaque;
    if (ch != s->xfer_ch || s->xfer_want <= 0)
        return pos;
    int n = MIN(s->xfer_want, len - pos);
    if (s->input) {
        uint8_t silence[256];
        memset(silence, s->bits16 ? 0 : (s->is_signed ? 0 : 0x80), sizeof silence);
        if (s->bits16 && !s->is_signed)
            for (size_t i = 1; i < sizeof silence; i += 2)
                silence[i] = 0x80;
        int done = 0;
        while (done < n) {
            int k = hg_dma_write_memory(s->dma, ch, silence, pos + done,
                                        MIN(n - done, (int)sizeof silence));
            if (k <= 0)
                break;
            done += k;
        }
        n = done;
    } else {
        n = hg_dma_read_memory(s->dma, ch, s->xfer_buf + s->xfer_got, pos, n);
    }
    s->xfer_got += n;
    s->xfer_want -= n;
    return pos + n;
}

/* Moves up to want bytes from the transfer's DMA channel into buf; returns how many the
 * controller gave (fewer when the channel is masked or its single cycle has ended). */
static int dma_move(HgSb16 *s, uint8_t *buf, int want)
{
    int ch = s->bits16 ? chan16(s) : chan8(s);
    if (ch < 0)
        return 0;
    s->xfer_buf = buf;
    s->xfer_want = want;
    s->xfer_got = 0;
    s->xfer_ch = ch;
    hg_dma_hold_dreq(s->dma, ch);
    /* An auto-init channel wraps at its terminal count: keep serving until it stalls. */
    for (;;) {
        int before = s->xfer_got;
        hg_dma_run(s->dma);
        if (s->xfer_want <= 0 || s->xfer_got == before)
            break;
    }
    hg_dma_release_dreq(s->dma, ch);
    s->xfer_ch = -1;
    s->xfer_want = 0;
    return s->xfer_got;
}

/* ---- the transfer engine ---- */

static int frame_bytes(const HgSb16 *s)
{
    return (s->bits16 ? 2 : 1) * (s->stereo ? 2 : 1);
}

static void update_voice(HgSb16 *s)
{
    hg_voice_set_format(s->voice, (int)s->rate, s->stereo ? 2 : 1);
    hg_voice_set_active(s->voice, s->active && !s->paused && !s->input);
}

static int64_t frame_ns(const HgSb16 *s, uint64_t frames)
{
    return (int64_t)(frames * 1000000000ull / MAX(s->rate, 1u));
}

/* Arms the timer for the end of the current block (from guest time `at`, where the
 * transfer stands now). Recording has no voice: the timer runs it. */
static void arm_block_timer(HgSb16 *s, int64_t at)
{
    if (!s->active || s->paused) {
        hg_timer_del(s->timer);
        return;
    }
    int fb = frame_bytes(s);
    uint64_t frames = ((uint64_t)s->left + (uint64_t)fb - 1) / (uint64_t)fb;
    /* One mixer frame later: the voice runs a frame behind (audio.c). */
    int64_t when = at + frame_ns(s, frames) + 2 * 1000000000ll / HG_AUDIO_RATE + 1000;
    hg_timer_mod(s->timer, when);
}

static void block_end(HgSb16 *s)
{
    raise_irq(s, s->bits16);
    if (s->autoinit && !s->exit_autoinit) {
        s->left = s->count;
    } else {
        s->active = false;
        s->exit_autoinit = false;
    }
}

static int16_t sample_at(const HgSb16 *s, const uint8_t *p)
{
    if (s->bits16) {
        uint16_t v = (uint16_t)(p[0] | p[1] << 8);
        return (int16_t)(s->is_signed ? v : v ^ 0x8000);
    }
    uint8_t b = s->is_signed ? p[0] : p[0] ^ 0x80;
    return (int16_t)((int8_t)b * 256);
}

/* Produces up to frames frames into out (NULL: recording, the bytes go to memory);
 * returns the frames done. */
static int run_transfer(HgSb16 *s, int16_t *out, int frames)
{
    int fb = frame_bytes(s), bps = s->bits16 ? 2 : 1, ch = s->stereo ? 2 : 1;
    int done = 0;
    while (done < frames && s->active && !s->paused) {
        int want = (frames - done) * fb - s->carry_len;
        want = MIN(want, XFER_MAX);
        want = (int)MIN((uint32_t)want, s->left);
        int got;
        memcpy(s->bytes, s->carry, (size_t)s->carry_len);
        uint8_t *dst = s->bytes + s->carry_len;
        if (want <= 0) {
            got = 0;
        } else if (s->silence) {
            memset(dst, s->bits16 ? 0 : 0x80, (size_t)want);
            got = want;
        } else {
            got = dma_move(s, dst, want);
        }
        s->left -= (uint32_t)got;
        int have = s->carry_len + got;
        int whole = have / fb;
        if (out) {
            for (int f = 0; f < whole; f++)
                for (int c = 0; c < ch; c++) {
                    const uint8_t *p = s->bytes + f * fb + c * bps;
                    out[(done + f) * ch + c] = s->silence ? 0 : sample_at(s, p);
                }
        }
        s->carry_len = have - whole * fb;
        memmove(s->carry, s->bytes + whole * fb, (size_t)s->carry_len);
        done += whole;
        if (s->left == 0) {
            s->carry_len = 0; /* a block ends on a frame for every sane program */
            block_end(s);
        } else if (got == 0) {
            break; /* the DMA controller is not serving (masked, ended) */
        }
    }
    return done;
}

static int voice_fill(void *opaque, int16_t *buf, int frames, int64_t ns)
{
    HgSb16 *s = opaque;
    int done = run_transfer(s, buf, frames);
    if (s->active && !s->paused)
        arm_block_timer(s, ns + frame_ns(s, (uint64_t)frames));
    else
        hg_timer_del(s->timer);
    /* A stopped transfer leaves the voice: the mixer stops asking. */
    hg_voice_set_active(s->voice, s->active && !s->paused && !s->input);
    return done;
}

/* Brings the sound up to now before the guest changes something it depends on. */
static void catch_up(HgSb16 *s)
{
    hg_audio_mix_to(s->audio, hg_clock_ns(s->clock));
}

static void timer_cb(void *opaque)
{
    HgSb16 *s = opaque;
    int64_t now = hg_clock_ns(s->clock);
    if (s->input && s->active && !s->paused) {
        /* Recording: move the bytes the elapsed time holds (the block, at most). */
        int fb = frame_bytes(s);
        run_transfer(s, NULL, (int)((s->left + (uint32_t)fb - 1) / (uint32_t)fb));
        arm_block_timer(s, now);
        return;
    }
    catch_up(s);
    if (s->active && !s->paused && !hg_timer_pending(s->timer))
        arm_block_timer(s, now);
}

static void start_transfer(HgSb16 *s, bool bits16, bool input, bool autoinit, bool stereo,
                           bool is_signed, uint32_t bytes)
{
    catch_up(s);
    s->bits16 = bits16;
    s->input = input;
    s->autoinit = autoinit;
    s->stereo = stereo;
    s->is_signed = is_signed;
    s->silence = false;
    s->exit_autoinit = false;
    s->count = MAX(bytes, 1u);
    s->left = s->count;
    s->carry_len = 0;
    s->active = true;
    s->paused = false;
    uint32_t rate;
    if (s->rate_from_tc || !(input ? s->in_rate : s->out_rate)) {
        rate = 1000000u / (256u - s->time_const);
        /* SB Pro stereo: the time constant gives the rate of both channels together. */
        if (stereo && !bits16)
            rate /= 2;
    } else {
        rate = input ? s->in_rate : s->out_rate;
    }
    s->rate = CLAMP(rate, (uint32_t)RATE_MIN / 2, (uint32_t)RATE_MAX);
    update_voice(s);
    arm_block_timer(s, hg_clock_ns(s->clock));
}

/* ---- DSP ---- */

static void fifo_clear(HgSb16 *s)
{
    s->fifo_head = s->fifo_len = 0;
}

static void fifo_push(HgSb16 *s, uint8_t v)
{
    if (s->fifo_len >= FIFO_SIZE)
        return;
    s->fifo[(s->fifo_head + s->fifo_len) % FIFO_SIZE] = v;
    s->fifo_len++;
}

static void dsp_reset(HgSb16 *s)
{
    catch_up(s);
    s->active = false;
    s->paused = false;
    s->cmd = 0;
    s->nargs = s->need = 0;
    s->speaker = false;
    s->time_const = 0;
    s->out_rate = s->in_rate = 0;
    s->rate_from_tc = false;
    s->block_size = 0x800;
    s->rate = 11025;
    s->carry_len = 0;
    s->irq_status = 0;
    update_irq(s);
    update_voice(s);
    hg_timer_del(s->timer);
    fifo_clear(s);
}

static int args_needed(uint8_t cmd)
{
    if (cmd >= 0xb0 && cmd <= 0xcf)
        return 3;
    switch (cmd) {
    case 0x10:
    case 0x38:
    case 0x40:
    case 0xe0:
    case 0xe2:
    case 0xe4:
    case 0xf9: return 1;
    case 0x14:
    case 0x16:
    case 0x17:
    case 0x24:
    case 0x41:
    case 0x42:
    case 0x48:
    case 0x74:
    case 0x75:
    case 0x76:
    case 0x77:
    case 0x80: return 2;
    default: return 0;
    }
}

static uint16_t arg16(const HgSb16 *s, int i)
{
    return (uint16_t)(s->args[i] | s->args[i + 1] << 8);
}

static void dsp_command(HgSb16 *s)
{
    uint8_t c = s->cmd;
    if (c >= 0xb0 && c <= 0xcf) {
        /* Bx: 16-bit, Cx: 8-bit; bit 3 A/D, bit 2 auto-init; mode bit 4 signed, bit 5
         * stereo; length in samples minus one. */
        bool bits16 = c < 0xc0;
        uint8_t mode = s->args[0];
        uint32_t samples = (uint32_t)arg16(s, 1) + 1;
        start_transfer(s, bits16, c & 8, c & 4, mode & 0x20, mode & 0x10,
                       samples * (bits16 ? 2 : 1));
        return;
    }
    switch (c) {
    case 0x10: /* direct DAC: one sample, not paced; heard as nothing */ break;
    case 0x14: /* 8-bit single-cycle output */
    case 0x16:
    case 0x17: /* ADPCM single-cycle: played as silence */
    case 0x24: /* 8-bit single-cycle input */
        start_transfer(s, false, c == 0x24, false, s->mixer[0x0e] & 2, false,
                       (uint32_t)arg16(s, 0) + 1);
        if (c == 0x16 || c == 0x17)
            s->silence = true;
        break;
    case 0x1c:
    case 0x90: /* 8-bit auto-init output (normal, high-speed) */
    case 0x2c:
    case 0x98:
        start_transfer(s, false, c == 0x2c || c == 0x98, true, s->mixer[0x0e] & 2, false,
                       s->block_size);
        break;
    case 0x91:
    case 0x99: /* high-speed single-cycle */
        start_transfer(s, false, c == 0x99, false, s->mixer[0x0e] & 2, false, s->block_size);
        break;
    case 0x1f:
    case 0x7d:
    case 0x7f: /* ADPCM auto-init */
        start_transfer(s, false, false, true, false, false, s->block_size);
        s->silence = true;
        break;
    case 0x74:
    case 0x75:
    case 0x76:
    case 0x77: /* ADPCM single-cycle */
        start_transfer(s, false, false, false, false, false, (uint32_t)arg16(s, 0) + 1);
        s->silence = true;
        break;
    case 0x20: /* direct ADC: mid-scale */ fifo_push(s, 0x80); break;
    case 0x40:
        s->time_const = s->args[0];
        s->rate_from_tc = true;
        break;
    case 0x41:
    case 0x42: {
        /* Rate high byte first. */
        uint16_t rate = (uint16_t)(s->args[0] << 8 | s->args[1]);
        rate = CLAMP(rate, RATE_MIN, RATE_MAX);
        if (c == 0x41)
            s->out_rate = rate;
        else
            s->in_rate = rate;
        s->rate_from_tc = false;
        break;
    }
    case 0x45:
    case 0x47: /* continue auto-init */
        catch_up(s);
        s->exit_autoinit = false;
        break;
    case 0x48:
        s->block_size = (uint16_t)(arg16(s, 0) + 1);
        if (!s->block_size)
            s->block_size = 1; /* 0xFFFF + 1: keep it non-zero */
        break;
    case 0x80: /* silence: the length in samples, then the interrupt */
        start_transfer(s, false, false, false, false, false, (uint32_t)arg16(s, 0) + 1);
        s->silence = true;
        break;
    case 0xd0:
    case 0xd5: /* pause */
        catch_up(s);
        s->paused = true;
        update_voice(s);
        hg_timer_del(s->timer);
        break;
    case 0xd4:
    case 0xd6: /* continue */
        catch_up(s);
        s->paused = false;
        update_voice(s);
        arm_block_timer(s, hg_clock_ns(s->clock));
        break;
    case 0xd1: s->speaker = true; break;
    case 0xd3: s->speaker = false; break;
    case 0xd8: fifo_push(s, s->speaker ? 0xff : 0x00); break;
    case 0xd9:
    case 0xda: /* leave auto-init at the end of the block */
        catch_up(s);
        if (s->active)
            s->exit_autoinit = true;
        break;
    case 0xe0: fifo_push(s, (uint8_t)~s->args[0]); break;
    case 0xe1:
        fifo_push(s, DSP_VERSION_MAJOR);
        fifo_push(s, DSP_VERSION_MINOR);
        break;
    case 0xe3:
        for (size_t i = 0; i < sizeof copyright; i++)
            fifo_push(s, (uint8_t)copyright[i]);
        break;
    case 0xe4: s->test_reg = s->args[0]; break;
    case 0xe8: fifo_push(s, s->test_reg); break;
    case 0xf2: raise_irq(s, false); break;
    case 0xf3: raise_irq(s, true); break;
    case 0xf8: fifo_push(s, 0); break;
    case 0xf9: fifo_push(s, 0); break;
    default: break; /* unknown commands are ignored, as the DSP does */
    }
}

static void dsp_write(HgSb16 *s, uint8_t v)
{
    if (!s->cmd) {
        s->cmd = v;
        s->nargs = 0;
        s->need = args_needed(v);
        if (v == 0)
            return;
    } else {
        s->args[s->nargs++] = v;
    }
    if (s->nargs >= s->need) {
        dsp_command(s);
        s->cmd = 0;
    }
}

/* ---- ports ---- */

static uint32_t sb_read(void *opaque, uint32_t port, int size)
{
    HgSb16 *s = opaque;
    switch (port - s->base) {
    case 0x5: return mixer_read(s, s->mixer_index);
    case 0xa:
        if (s->fifo_len) {
            s->last_read = s->fifo[s->fifo_head];
            s->fifo_head = (s->fifo_head + 1) % FIFO_SIZE;
            s->fifo_len--;
        }
        return s->last_read;
    case 0xc: return 0x7f; /* bit 7 clear: ready for a command */
    case 0xe: ack_irq(s, false); return s->fifo_len ? 0xff : 0x7f;
    case 0xf: ack_irq(s, true); return 0xff;
    case 0x4: return s->mixer_index;
    default: return 0xff;
    }
}

static void sb_write(void *opaque, uint32_t port, uint32_t value, int size)
{
    HgSb16 *s = opaque;
    uint8_t v = (uint8_t)value;
    switch (port - s->base) {
    case 0x4: s->mixer_index = v; break;
    case 0x5: mixer_write(s, s->mixer_index, v); break;
    case 0x6:
        if (v & 1) {
            s->reset_high = true;
        } else if (s->reset_high) {
            s->reset_high = false;
            dsp_reset(s);
            fifo_push(s, 0xaa);
        }
        break;
    case 0xc: dsp_write(s, v); break;
    default: break;
    }
}

HgSb16 *hg_sb16_new(HgBus *bus, HgClock *clock, HgDma *dma, HgAudio *audio, uint16_t base,
                    HgSb16Irq set_irq, void *opaque)
{
    HgSb16 *s = g_new0(HgSb16, 1);
    s->bus = bus;
    s->clock = clock;
    s->dma = dma;
    s->audio = audio;
    s->base = base;
    s->set_irq = set_irq;
    s->irq_opaque = opaque;
    s->irq_line = -1;
    s->xfer_ch = -1;
    s->voice = hg_voice_new(audio, "sb16", voice_fill, s);
    s->timer = hg_timer_new(clock, timer_cb, s);
    static const int chans[] = {0, 1, 3, 5, 6, 7};
    for (size_t i = 0; i < G_N_ELEMENTS(chans); i++)
        hg_dma_register(dma, chans[i], dma_xfer, s);
    hg_bus_map_io(bus, base + 4, 12, sb_read, sb_write, s);
    hg_sb16_reset(s);
    return s;
}

void hg_sb16_free(HgSb16 *s)
{
    if (!s)
        return;
    hg_timer_free(s->timer);
    hg_voice_free(s->voice);
    g_free(s);
}

void hg_sb16_reset(HgSb16 *s)
{
    s->mixer[0x80] = 0x02; /* IRQ 5 */
    s->mixer[0x81] = 0x22; /* DMA 1 and 5 */
    mixer_defaults(s);
    s->mixer_index = 0;
    s->reset_high = false;
    s->test_reg = 0;
    s->last_read = 0xff;
    dsp_reset(s);
}

void hg_sb16_set_fm_voice(HgSb16 *s, HgVoice *fm)
{
    s->fm_voice = fm;
    update_gain(s);
}

void hg_sb16_save(const HgSb16 *s, HgStateWriter *w)
{
    hg_state_begin(w, "sb16", 1);
    hg_state_put_bytes(w, s->mixer, sizeof s->mixer);
    hg_state_put_u8(w, s->mixer_index);
    hg_state_put_u8(w, s->cmd);
    hg_state_put_bytes(w, s->args, sizeof s->args);
    hg_state_put_u8(w, (uint8_t)(s->cmd ? s->nargs : 0));
    hg_state_put_u8(w, (uint8_t)s->fifo_len);
    for (int i = 0; i < s->fifo_len; i++)
        hg_state_put_u8(w, s->fifo[(s->fifo_head + i) % FIFO_SIZE]);
    hg_state_put_u8(w, s->last_read);
    hg_state_put_u8(w, s->reset_high);
    hg_state_put_u8(w, s->speaker);
    hg_state_put_u8(w, s->test_reg);
    hg_state_put_u8(w, s->time_const);
    hg_state_put_u16(w, s->out_rate);
    hg_state_put_u16(w, s->in_rate);
    hg_state_put_u8(w, s->rate_from_tc);
    hg_state_put_u16(w, s->block_size);
    uint8_t flags =
        (uint8_t)(s->active | s->paused << 1 | s->bits16 << 2 | s->stereo << 3 | s->is_signed << 4 |
                  s->input << 5 | s->autoinit << 6 | s->silence << 7);
    hg_state_put_u8(w, flags);
    hg_state_put_u8(w, s->exit_autoinit);
    hg_state_put_u32(w, s->rate);
    hg_state_put_u32(w, s->count);
    hg_state_put_u32(w, s->left);
    hg_state_put_u8(w, (uint8_t)s->carry_len);
    hg_state_put_bytes(w, s->carry, sizeof s->carry);
    hg_state_put_u8(w, s->irq_status);
    hg_state_end(w);
}

void hg_sb16_load(HgSb16 *s, HgStateReader *r)
{
    if (!hg_state_open(r, "sb16", 1, 1))
        return;
    hg_state_get_bytes(r, s->mixer, sizeof s->mixer);
    s->mixer[0x80] &= 0x0f;
    s->mixer[0x81] &= 0xeb;
    s->mixer_index = hg_state_get_u8(r);
    s->cmd = hg_state_get_u8(r);
    hg_state_get_bytes(r, s->args, sizeof s->args);
    s->need = s->cmd ? args_needed(s->cmd) : 0;
    int nargs = hg_state_get_u8(r);
    s->nargs = MIN(nargs, s->need);
    int n = hg_state_get_u8(r);
    n = MIN(n, FIFO_SIZE);
    s->fifo_head = 0;
    s->fifo_len = n;
    for (int i = 0; i < n; i++)
        s->fifo[i] = hg_state_get_u8(r);
    s->last_read = hg_state_get_u8(r);
    s->reset_high = hg_state_get_u8(r) != 0;
    s->speaker = hg_state_get_u8(r) != 0;
    s->test_reg = hg_state_get_u8(r);
    s->time_const = hg_state_get_u8(r);
    s->out_rate = hg_state_get_u16(r);
    s->in_rate = hg_state_get_u16(r);
    if (s->out_rate)
        s->out_rate = CLAMP(s->out_rate, RATE_MIN, RATE_MAX);
    if (s->in_rate)
        s->in_rate = CLAMP(s->in_rate, RATE_MIN, RATE_MAX);
    s->rate_from_tc = hg_state_get_u8(r) != 0;
    uint16_t block = hg_state_get_u16(r);
    s->block_size = MAX(block, 1);
    uint8_t f = hg_state_get_u8(r);
    s->active = f & 1;
    s->paused = f & 2;
    s->bits16 = f & 4;
    s->stereo = f & 8;
    s->is_signed = f & 16;
    s->input = f & 32;
    s->autoinit = f & 64;
    s->silence = f & 128;
    s->exit_autoinit = hg_state_get_u8(r) != 0;
    uint32_t rate = hg_state_get_u32(r);
    s->rate = CLAMP(rate, (uint32_t)RATE_MIN / 2, (uint32_t)RATE_MAX);
    uint32_t count = hg_state_get_u32(r);
    /* 0 is the power-on value of an idle DSP; a running transfer counts at least 1. */
    s->count = MIN(count, 0x20000u);
    if (s->active && s->count == 0)
        s->count = 1;
    uint32_t left = hg_state_get_u32(r);
    s->left = MIN(left, s->count);
    if (s->active && s->left == 0)
        s->left = s->count;
    int carry = hg_state_get_u8(r);
    s->carry_len = MIN(carry, frame_bytes(s) - 1);
    hg_state_get_bytes(r, s->carry, sizeof s->carry);
    s->irq_status = hg_state_get_u8(r) & 3;
    hg_state_close(r);
    s->irq_level = false;
    s->irq_line = -1;
    update_irq(s);
    update_gain(s);
    update_voice(s);
    arm_block_timer(s, hg_clock_ns(s->clock));
}
