/* PC speaker (IBM PC/AT Technical Reference, "Speaker": the 8254's counter 2 output
 * ANDed with port 61h bit 1 drives the speaker through a transistor; bit 0 gates the
 * counter). The wave is evaluated at every output frame from the PIT's own state, so a
 * mode 3 tone has the PIT's exact frequency and programs that toggle bit 1 by hand
 * (digitised sound through the speaker) are heard too. A first-order high-pass filter
 * (about 20 Hz) removes the DC a speaker cone cannot hold; its state is derived audio,
 * not machine state, and is not saved.
 */
#include "pcspk.h"

#include <glib.h>

#include "audio.h"
#include "clock.h"
#include "pit8254.h"
#include "state.h"

enum { AMPLITUDE = 8000 };

struct HgPcspk {
    HgPit *pit;
    HgClock *clock;
    HgAudio *audio;
    HgVoice *voice;
    int32_t hp_x, hp_y; /* high-pass filter memory */
};

static int fill(void *opaque, int16_t *buf, int frames, int64_t ns)
{
    HgPcspk *sp = opaque;
    /* Ticks of the PIT do not align with frames; each frame takes OUT at its start. */
    for (int i = 0; i < frames; i++) {
        int64_t t = ns + (int64_t)i * 1000000000 / HG_AUDIO_RATE;
        int32_t x = hg_pit_out_at(sp->pit, 2, t) ? AMPLITUDE : -AMPLITUDE;
        /* y[n] = x[n] - x[n-1] + 0.997 y[n-1] */
        int32_t y = x - sp->hp_x + (int32_t)(((int64_t)sp->hp_y * 32670) >> 15);
        sp->hp_x = x;
        sp->hp_y = y;
        buf[i] = (int16_t)CLAMP(y, -32767, 32767);
    }
    return frames;
}

static void update(HgPcspk *sp)
{
    bool on = hg_pit_speaker_enabled(sp->pit);
    if (on && !hg_voice_active(sp->voice)) {
        /* Start from the level the cone rests at. */
        sp->hp_x = hg_pit_out_at(sp->pit, 2, hg_clock_ns(sp->clock)) ? AMPLITUDE : -AMPLITUDE;
        sp->hp_y = 0;
    }
    hg_voice_set_active(sp->voice, on);
}

static void hook(void *opaque, bool after)
{
    HgPcspk *sp = opaque;
    if (!after)
        hg_audio_mix_to(sp->audio, hg_clock_ns(sp->clock));
    else
        update(sp);
}

HgPcspk *hg_pcspk_new(HgPit *pit, HgClock *clock, HgAudio *audio)
{
    HgPcspk *sp = g_new0(HgPcspk, 1);
    sp->pit = pit;
    sp->clock = clock;
    sp->audio = audio;
    sp->voice = hg_voice_new(audio, "pcspk", fill, sp);
    hg_voice_set_format(sp->voice, HG_AUDIO_RATE, 1);
    hg_pit_set_speaker_hook(pit, hook, sp);
    return sp;
}

void hg_pcspk_free(HgPcspk *sp)
{
    if (!sp)
        return;
    hg_pit_set_speaker_hook(sp->pit, NULL, NULL);
    hg_voice_free(sp->voice);
    g_free(sp);
}

void hg_pcspk_reset(HgPcspk *sp)
{
    update(sp);
}

/* Everything the speaker plays lives in the PIT's state; the section records that a
 * speaker was there. */
void hg_pcspk_save(const HgPcspk *sp, HgStateWriter *w)
{
    (void)sp;
    hg_state_begin(w, "pcspk", 1);
    hg_state_end(w);
}

void hg_pcspk_load(HgPcspk *sp, HgStateReader *r)
{
    if (!hg_state_open(r, "pcspk", 1, 1))
        return;
    hg_state_close(r);
    update(sp);
}
