/* Host audio of one machine: voices that sound cards write PCM into, the mixer that
 * resamples and sums them at the host rate, an output (PulseAudio, SDL2 or none) and an
 * optional WAV capture fed after the mixer (docs/architecture.md, "Frontends": audio).
 *
 * Pacing: the mixer runs on the emulation thread and is driven by the machine's virtual
 * clock. hg_audio_mix_to(a, ns) produces exactly the output frames due by guest time ns
 * (frame k belongs to time k / rate), pulling from each active voice exactly the source
 * frames that those output frames need. A device therefore never guesses how much to
 * produce: its fill callback is asked for the frames, reads them from guest memory and
 * raises its interrupts at block ends. In instruction-counted runs the mixed audio (and a
 * WAV recording of it) is a function of the guest's instructions only, so it is
 * reproducible. The output runs on its own thread and takes what the mixer produced
 * through a ring buffer; when the host plays faster than the guest produces (a busy or
 * paused guest) it plays silence and counts an underrun.
 *
 * audio/ depends on GLib only (and the optional libpulse and SDL2), not on the engine.
 * It keeps no global state: several machines have several HgAudio objects.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgAudio HgAudio;
typedef struct HgVoice HgVoice;

enum {
    HG_AUDIO_RATE = 44100, /* the mixer's rate: what outputs and recordings get */
    HG_AUDIO_CHANNELS = 2,
    HG_AUDIO_UNITY = 0x10000, /* voice gain 1.0 */
};

/* Asked for up to `frames` frames of the voice's format (signed 16-bit, `channels`
 * interleaved samples per frame) starting at guest time ns. Returns how many it
 * produced; the rest is played as silence (the stream paused or stopped). */
typedef int (*HgVoiceFill)(void *opaque, int16_t *buf, int frames, int64_t ns);

/* output: "pulse", "sdl", "none", or NULL for PulseAudio when a server answers and
 * silence otherwise. Fails with a message when a named output cannot be opened. */
HgAudio *hg_audio_new(const char *output, GError **error);
void hg_audio_free(HgAudio *a);
/* The output actually in use ("pulse", "sdl" or "none"). */
const char *hg_audio_output_name(const HgAudio *a);
/* Checks an output name as typed (--audio): pulse, sdl or none, and whether this build
 * has it. */
bool hg_audio_output_valid(const char *output, GError **error);

/* A device's stream; starts inactive with 44.1 kHz stereo and unity gain. */
HgVoice *hg_voice_new(HgAudio *a, const char *name, HgVoiceFill fill, void *opaque);
void hg_voice_free(HgVoice *v);
/* rate 1-192000 Hz (clamped), channels 1 or 2. A change restarts the resampler. */
void hg_voice_set_format(HgVoice *v, int rate, int channels);
/* Only active voices are asked for frames. Starting a voice restarts its resampler. */
void hg_voice_set_active(HgVoice *v, bool active);
bool hg_voice_active(const HgVoice *v);
/* Gains in 1/65536 (HG_AUDIO_UNITY is 1.0), applied when mixing. */
void hg_voice_set_gain(HgVoice *v, uint32_t left, uint32_t right);

/* Mixes everything due by guest time ns (see above). Calls from a fill callback, or
 * with ns before the last call, do nothing. */
void hg_audio_mix_to(HgAudio *a, int64_t ns);
/* Starts the time base again at ns (a restored machine state, a clock that jumped). */
void hg_audio_set_time(HgAudio *a, int64_t ns);
/* Output frames mixed since the time base. */
uint64_t hg_audio_frames_mixed(const HgAudio *a);

/* Recording of the mixed output to a WAV file (16-bit stereo at HG_AUDIO_RATE), written
 * by a thread of its own; callable from any thread. */
bool hg_audio_capture_start(HgAudio *a, const char *path, GError **error);
/* Returns false when no capture was running. */
bool hg_audio_capture_stop(HgAudio *a);
bool hg_audio_capturing(HgAudio *a);

typedef struct HgAudioStats {
    uint64_t frames_mixed;
    uint64_t underruns;       /* times the output found too little while a voice played */
    uint64_t dropped;         /* frames the output ring had no room for */
    uint64_t capture_dropped; /* frames the WAV writer had no room for */
} HgAudioStats;
void hg_audio_get_stats(HgAudio *a, HgAudioStats *s);
