/* What the mixer hands to an output (PulseAudio, SDL2): a frame ring the output's own
 * thread empties at the host's pace. Internal to audio/. */
#pragma once

#include <glib.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ring.h"

typedef struct HgAudioSink {
    HgAudioRing ring;
    int rate;
    _Atomic bool playing;      /* a voice is active: a short ring is an underrun */
    _Atomic int64_t last_emit; /* monotonic us of the mixer's last frames */
    _Atomic uint64_t underruns;
    bool started; /* consumer only: prefilled and playing out */
} HgAudioSink;

/* An output found the ring short: counted as an underrun when a voice was playing and
 * the mixer is running (a paused machine produces nothing, and that is no underrun). */
void hg_audio_sink_underrun(HgAudioSink *s);

/* Consumer side: fills n frames from the ring. It waits for a prefill of about 20 ms
 * before playing out (silence meanwhile), pads a short ring with silence and counts an
 * underrun when a voice was playing, and drops the oldest frames when the ring holds far
 * more than the output's latency (the guest clock ran ahead of the host's). */
void hg_audio_sink_pull(HgAudioSink *s, int16_t *frames, uint32_t n);

/* Producer side, for outputs that take what there is instead of asking for a size: drops
 * the oldest frames when the ring holds far more than the output's latency (the guest
 * clock ran ahead of the host's). */
void hg_audio_sink_trim(HgAudioSink *s);

typedef struct HgAudioBackend {
    const char *name;
    void *(*open)(HgAudioSink *sink, GError **error);
    void (*close)(void *state);
    /* Called on the emulation thread after the mixer added frames, or NULL. */
    void (*kick)(void *state);
} HgAudioBackend;

extern const HgAudioBackend hg_audio_backend_pulse; /* NULL open when not built */
extern const HgAudioBackend hg_audio_backend_sdl;
