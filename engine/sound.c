/* Assembly of the machine's sound (see sound.h) and the public recording calls. */
#include "sound.h"

#include "audio.h"
#include "board.h"
#include "clock.h"
#include "hangar.h"
#include "hw/es1370.h"
#include "hw/opl2.h"
#include "hw/pci.h"
#include "hw/pcspk.h"
#include "hw/sb16.h"
#include "machine-internal.h"
#include "state.h"

/* 5 ms: what the output receives lags the guest by at most this, out of its 30 ms. */
enum { MIX_PERIOD_NS = 10 * 1000 * 1000 };

struct HgSound {
    unsigned soundhw;
    HgClock *clock;
    HgAudio *audio;
    HgTimer *tick;
    int64_t next_tick;
    HgSb16 *sb16;
    HgPcspk *pcspk;
    HgEs1370 *es1370;
    HgOpl2 *opl;
    HgSoundWiring w;
};

static void tick_cb(void *opaque)
{
    HgSound *s = opaque;
    int64_t now = hg_clock_ns(s->clock);
    hg_audio_mix_to(s->audio, now);
    s->next_tick += MIX_PERIOD_NS;
    if (s->next_tick <= now)
        s->next_tick = now + MIX_PERIOD_NS; /* the clock jumped: no burst of catch-ups */
    hg_timer_mod(s->tick, s->next_tick);
}

static void start_ticks(HgSound *s)
{
    int64_t now = hg_clock_ns(s->clock);
    hg_audio_set_time(s->audio, now);
    s->next_tick = now + MIX_PERIOD_NS;
    hg_timer_mod(s->tick, s->next_tick);
}

static void sb16_irq(void *opaque, int line, bool level)
{
    HgSound *s = opaque;
    s->w.isa_irq(s->w.opaque, line, level);
}

HgSound *hg_sound_new(unsigned soundhw, const char *output, const HgSoundWiring *w, GError **error)
{
    if (!soundhw)
        return NULL;
    HgAudio *audio = hg_audio_new(output, error);
    if (!audio)
        return NULL;
    HgSound *s = g_new0(HgSound, 1);
    s->soundhw = soundhw;
    s->w = *w;
    s->clock = w->clock;
    s->audio = audio;
    s->tick = hg_timer_new(w->clock, tick_cb, s);
    if (soundhw & HG_SOUND_SB16)
        s->sb16 = hg_sb16_new(w->bus, w->clock, w->dma, audio, 0x220, sb16_irq, s);
    if (soundhw & HG_SOUND_PCSPK)
        s->pcspk = hg_pcspk_new(w->pit, w->clock, audio);
    if (soundhw & (HG_SOUND_ADLIB | HG_SOUND_SB16)) {
        /* One FM chip: the AdLib's ports, and the SB16's own when there is one (its
         * OPL3's first bank at base+0 and the OPL2-compatible pair at base+8). */
        s->opl = hg_opl2_new(w->clock, audio);
        hg_opl2_map(s->opl, w->bus, 0x388);
        if (soundhw & HG_SOUND_SB16) {
            hg_opl2_map(s->opl, w->bus, 0x220);
            hg_opl2_map(s->opl, w->bus, 0x228);
            hg_sb16_set_fm_voice(s->sb16, hg_opl2_voice(s->opl));
        }
    }
    if (soundhw & HG_SOUND_ES1370) {
        /* The first free slot from 5 (QEMU's "pc" puts a -soundhw card after the VGA and
         * the network card). */
        int slot = 5;
        while (slot < 31 && hg_pci_find(w->pci, HG_PCI_DEVFN(slot, 0)))
            slot++;
        s->es1370 = hg_es1370_new(w->pci, HG_PCI_DEVFN(slot, 0), w->bus, w->clock, audio);
    }
    start_ticks(s);
    return s;
}

void hg_sound_free(HgSound *s)
{
    if (!s)
        return;
    hg_timer_free(s->tick);
    hg_sb16_free(s->sb16);
    hg_pcspk_free(s->pcspk);
    hg_es1370_free(s->es1370);
    hg_opl2_free(s->opl);
    hg_audio_free(s->audio);
    g_free(s);
}

void hg_sound_reset(HgSound *s)
{
    if (!s)
        return;
    if (s->sb16)
        hg_sb16_reset(s->sb16);
    if (s->pcspk)
        hg_pcspk_reset(s->pcspk);
    if (s->es1370)
        hg_es1370_reset(s->es1370);
    if (s->opl)
        hg_opl2_reset(s->opl);
}

HgAudio *hg_sound_audio(HgSound *s)
{
    return s ? s->audio : NULL;
}

void hg_sound_info(HgSound *s, GString *out)
{
    if (!s) {
        g_string_append(out, "no sound hardware (hangar-run --soundhw)\n");
        return;
    }
    HgConfig tmp = {.soundhw = s->soundhw};
    char *names = hg_config_soundhw_string(&tmp);
    HgAudioStats st;
    hg_audio_get_stats(s->audio, &st);
    g_string_append_printf(out,
                           "sound hardware: %s\noutput: %s, %d Hz stereo\n"
                           "mixed: %" G_GUINT64_FORMAT " frames, underruns: %" G_GUINT64_FORMAT
                           ", dropped: %" G_GUINT64_FORMAT "\nrecording: %s\n",
                           names, hg_audio_output_name(s->audio), HG_AUDIO_RATE, st.frames_mixed,
                           st.underruns, st.dropped, hg_audio_capturing(s->audio) ? "on" : "off");
    g_free(names);
}

void hg_sound_save(const HgSound *s, HgStateWriter *w)
{
    hg_state_begin(w, "sound", 1);
    hg_state_put_u32(w, s->soundhw);
    hg_state_end(w);
    if (s->sb16)
        hg_sb16_save(s->sb16, w);
    if (s->pcspk)
        hg_pcspk_save(s->pcspk, w);
    if (s->es1370)
        hg_es1370_save(s->es1370, w);
    if (s->opl)
        hg_opl2_save(s->opl, w);
}

void hg_sound_load(HgSound *s, HgStateReader *r)
{
    if (!hg_state_open(r, "sound", 1, 1))
        return;
    uint32_t hw = hg_state_get_u32(r);
    hg_state_close(r);
    if (hw != s->soundhw) {
        if (!r->error)
            g_set_error(&r->error, HG_ERROR, HG_ERROR_FORMAT,
                        "the saved machine had other sound hardware (0x%x, this one 0x%x)", hw,
                        s->soundhw);
        return;
    }
    if (s->sb16)
        hg_sb16_load(s->sb16, r);
    if (s->pcspk)
        hg_pcspk_load(s->pcspk, r);
    if (s->es1370)
        hg_es1370_load(s->es1370, r);
    if (s->opl)
        hg_opl2_load(s->opl, r);
    start_ticks(s);
}

/* ---- public recording calls ---- */

bool hg_machine_wavcapture_start(HgMachine *m, const char *path, GError **error)
{
    HgAudio *a = hg_sound_audio(hg_board_sound(m->board));
    if (!a) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "this machine has no sound hardware to record (add a card with "
                    "--soundhw, e.g. sb16)");
        return false;
    }
    /* The capture side of HgAudio is thread-safe. */
    return hg_audio_capture_start(a, path, error);
}

bool hg_machine_wavcapture_stop(HgMachine *m)
{
    HgAudio *a = hg_sound_audio(hg_board_sound(m->board));
    return a && hg_audio_capture_stop(a);
}
