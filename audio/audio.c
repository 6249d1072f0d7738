/* The mixer (see audio.h): voices, their resamplers, the virtual-time pacing, and the
 * hand-over to the output ring and the WAV capture.
 *
 * Resampling is linear interpolation between consecutive source frames with a 32.32
 * fixed-point position, so the pitch is exact (the step is src_rate / out_rate to 2^-32)
 * and the result depends on nothing but the frames and the rates. A voice is one source
 * frame behind its input: the frame being approached must be known before the output
 * can reach it. Linear interpolation dulls the top octave a little; sound cards of the
 * era had their own analogue filters, and the frequencies of what they play stay right.
 */
#include "audio.h"

#include <string.h>

#include "output.h"
#include "wav.h"

enum {
    CHUNK = 512,                    /* output frames mixed per inner pass */
    MAX_MIX_FRAMES = HG_AUDIO_RATE, /* at most a second per call: later frames are skipped */
    SINK_FRAMES = 16384,            /* output ring: about 370 ms */
};

struct HgVoice {
    HgAudio *audio;
    char *name;
    HgVoiceFill fill;
    void *opaque;
    int rate, channels;
    bool active;
    uint32_t gain[2];
    uint64_t step; /* source frames per output frame, 32.32 */
    uint64_t frac; /* position between prev and next, 32.32; >= 1.0 means advance */
    int32_t prev[2], next[2];
    int16_t src[CHUNK * 4 * 2 + 16]; /* source frames of one pass (rates up to 4x ours) */
};

struct HgAudio {
    GPtrArray *voices;
    int rate;
    int64_t base_ns;
    uint64_t mixed; /* output frames since base_ns */
    bool mixing;
    const HgAudioBackend *backend;
    void *backend_state;
    HgAudioSink sink;
    _Atomic uint64_t dropped;
    GMutex capture_lock; /* guards capture: monitors and GUIs start and stop it */
    HgWavWriter *capture;
    uint64_t capture_dropped_before; /* of writers already closed */
    int32_t acc[CHUNK * 2];
    int16_t out[CHUNK * 2];
};

static const HgAudioBackend *find_backend(const char *name)
{
    if (strcmp(name, "pulse") == 0)
        return &hg_audio_backend_pulse;
    if (strcmp(name, "sdl") == 0)
        return &hg_audio_backend_sdl;
    return NULL;
}

bool hg_audio_output_valid(const char *output, GError **error)
{
    if (!output || strcmp(output, "none") == 0)
        return true;
    const HgAudioBackend *b = find_backend(output);
    if (!b) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "unknown audio output \"%s\" (pulse, sdl or none)", output);
        return false;
    }
    if (!b->open) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "this build has no %s audio output (install %s and rebuild)", output,
                    strcmp(output, "pulse") == 0 ? "libpulse-dev" : "libsdl2-dev");
        return false;
    }
    return true;
}

HgAudio *hg_audio_new(const char *output, GError **error)
{
    if (!hg_audio_output_valid(output, error))
        return NULL;
    HgAudio *a = g_new0(HgAudio, 1);
    a->voices = g_ptr_array_new();
    a->rate = HG_AUDIO_RATE;
    g_mutex_init(&a->capture_lock);
    hg_audio_ring_init(&a->sink.ring, SINK_FRAMES);
    a->sink.rate = a->rate;
    if (output && strcmp(output, "none") != 0) {
        const HgAudioBackend *b = find_backend(output);
        a->backend_state = b->open(&a->sink, error);
        if (!a->backend_state) {
            g_prefix_error(error, "audio output %s: ", output);
            hg_audio_free(a);
            return NULL;
        }
        a->backend = b;
    } else if (!output && hg_audio_backend_pulse.open) {
        /* The default: PulseAudio when a server answers, silence otherwise. */
        a->backend_state = hg_audio_backend_pulse.open(&a->sink, NULL);
        if (a->backend_state)
            a->backend = &hg_audio_backend_pulse;
    }
    return a;
}

void hg_audio_free(HgAudio *a)
{
    if (!a)
        return;
    hg_audio_capture_stop(a);
    if (a->backend) {
        /* Let the output play what the guest produced last (at most a third of a
         * second: the ring's size), so a program's final sound is heard. */
        for (int i = 0; i < 40 && hg_audio_ring_level(&a->sink.ring) > 0; i++)
            g_usleep(10000);
        a->backend->close(a->backend_state);
    }
    /* Voices belong to their devices; they must be freed first. */
    g_assert(a->voices->len == 0);
    g_ptr_array_free(a->voices, TRUE);
    hg_audio_ring_clear(&a->sink.ring);
    g_mutex_clear(&a->capture_lock);
    g_free(a);
}

const char *hg_audio_output_name(const HgAudio *a)
{
    return a->backend ? a->backend->name : "none";
}

static void voice_restart(HgVoice *v)
{
    v->step = ((uint64_t)v->rate << 32) / (uint64_t)v->audio->rate;
    v->frac = 0;
    memset(v->prev, 0, sizeof v->prev);
    memset(v->next, 0, sizeof v->next);
}

HgVoice *hg_voice_new(HgAudio *a, const char *name, HgVoiceFill fill, void *opaque)
{
    HgVoice *v = g_new0(HgVoice, 1);
    v->audio = a;
    v->name = g_strdup(name);
    v->fill = fill;
    v->opaque = opaque;
    v->rate = a->rate;
    v->channels = 2;
    v->gain[0] = v->gain[1] = HG_AUDIO_UNITY;
    voice_restart(v);
    g_ptr_array_add(a->voices, v);
    return v;
}

void hg_voice_free(HgVoice *v)
{
    if (!v)
        return;
    g_ptr_array_remove(v->audio->voices, v);
    g_free(v->name);
    g_free(v);
}

void hg_voice_set_format(HgVoice *v, int rate, int channels)
{
    rate = CLAMP(rate, 1, 4 * HG_AUDIO_RATE);
    channels = channels == 1 ? 1 : 2;
    if (rate == v->rate && channels == v->channels)
        return;
    v->rate = rate;
    v->channels = channels;
    voice_restart(v);
}

void hg_voice_set_active(HgVoice *v, bool active)
{
    if (active && !v->active)
        voice_restart(v);
    v->active = active;
}

bool hg_voice_active(const HgVoice *v)
{
    return v->active;
}

void hg_voice_set_gain(HgVoice *v, uint32_t left, uint32_t right)
{
    v->gain[0] = MIN(left, 4u * HG_AUDIO_UNITY);
    v->gain[1] = MIN(right, 4u * HG_AUDIO_UNITY);
}

static int64_t frame_time(const HgAudio *a, uint64_t frame)
{
    return a->base_ns + (int64_t)(frame / (uint64_t)a->rate * G_GINT64_CONSTANT(1000000000) +
                                  frame % (uint64_t)a->rate * 1000000000ull / (uint64_t)a->rate);
}

/* Adds n output frames of v, starting at output frame `first`, into acc. */
static void mix_voice(HgAudio *a, HgVoice *v, int32_t *acc, int n, uint64_t first)
{
    /* Source frames the pass advances over: one each time the position crosses 1.0. */
    uint64_t end = v->frac + (uint64_t)(n - 1) * v->step;
    int need = (int)(end >> 32);
    int got = 0;
    if (need > 0) {
        got = v->fill(v->opaque, v->src, need, frame_time(a, first));
        got = CLAMP(got, 0, need);
        memset(v->src + got * v->channels, 0, (size_t)(need - got) * v->channels * 2);
    }
    const int16_t *s = v->src;
    int32_t gl = (int32_t)(v->gain[0] >> 4), gr = (int32_t)(v->gain[1] >> 4); /* 1.12 */
    for (int i = 0; i < n; i++) {
        while (v->frac >= (1ull << 32)) {
            v->prev[0] = v->next[0];
            v->prev[1] = v->next[1];
            v->next[0] = s[0];
            v->next[1] = v->channels == 2 ? s[1] : s[0];
            s += v->channels;
            v->frac -= 1ull << 32;
        }
        int32_t f = (int32_t)(v->frac >> 17); /* 15 bits */
        int32_t l = v->prev[0] + (((v->next[0] - v->prev[0]) * f) >> 15);
        int32_t r = v->prev[1] + (((v->next[1] - v->prev[1]) * f) >> 15);
        acc[i * 2] += (l * gl) >> 12;
        acc[i * 2 + 1] += (r * gr) >> 12;
        v->frac += v->step;
    }
}

static void emit(HgAudio *a, const int16_t *frames, int n, bool playing)
{
    atomic_store(&a->sink.playing, playing);
    atomic_store(&a->sink.last_emit, g_get_monotonic_time());
    if (a->backend) {
        uint32_t done = hg_audio_ring_write(&a->sink.ring, frames, (uint32_t)n);
        if (done < (uint32_t)n)
            atomic_fetch_add(&a->dropped, (uint32_t)n - done);
        if (a->backend->kick)
            a->backend->kick(a->backend_state);
    }
    g_mutex_lock(&a->capture_lock);
    if (a->capture)
        hg_wav_writer_write(a->capture, frames, (uint32_t)n);
    g_mutex_unlock(&a->capture_lock);
}

void hg_audio_mix_to(HgAudio *a, int64_t ns)
{
    if (a->mixing || ns <= a->base_ns)
        return;
    int64_t d = ns - a->base_ns;
    uint64_t target = (uint64_t)(d / 1000000000) * (uint64_t)a->rate +
                      (uint64_t)(d % 1000000000) * (uint64_t)a->rate / 1000000000u;
    if (target <= a->mixed)
        return;
    uint64_t n = target - a->mixed;
    if (n > MAX_MIX_FRAMES) {
        /* The clock jumped (a long pause of the mixer's timer): skip, do not catch up. */
        a->mixed = target - MAX_MIX_FRAMES;
        n = MAX_MIX_FRAMES;
    }
    a->mixing = true;
    while (n > 0) {
        int k = (int)MIN(n, (uint64_t)CHUNK);
        memset(a->acc, 0, sizeof(int32_t) * (size_t)k * 2);
        bool playing = false;
        for (guint i = 0; i < a->voices->len; i++) {
            HgVoice *v = g_ptr_array_index(a->voices, i);
            if (v->active) {
                mix_voice(a, v, a->acc, k, a->mixed);
                playing = true;
            }
        }
        for (int i = 0; i < k * 2; i++)
            a->out[i] = (int16_t)CLAMP(a->acc[i], -32768, 32767);
        a->mixed += (uint64_t)k;
        n -= (uint64_t)k;
        emit(a, a->out, k, playing);
    }
    a->mixing = false;
}

void hg_audio_set_time(HgAudio *a, int64_t ns)
{
    a->base_ns = ns;
    a->mixed = 0;
}

uint64_t hg_audio_frames_mixed(const HgAudio *a)
{
    return a->mixed;
}

bool hg_audio_capture_start(HgAudio *a, const char *path, GError **error)
{
    HgWavWriter *w = hg_wav_writer_new(path, a->rate, HG_AUDIO_CHANNELS, HG_WAV_PATCH_MS, error);
    if (!w)
        return false;
    g_mutex_lock(&a->capture_lock);
    HgWavWriter *old = a->capture;
    a->capture = w;
    if (old)
        a->capture_dropped_before += hg_wav_writer_dropped(old);
    g_mutex_unlock(&a->capture_lock);
    if (old)
        hg_wav_writer_close(old, NULL);
    return true;
}

bool hg_audio_capture_stop(HgAudio *a)
{
    g_mutex_lock(&a->capture_lock);
    HgWavWriter *w = a->capture;
    a->capture = NULL;
    if (w)
        a->capture_dropped_before += hg_wav_writer_dropped(w);
    g_mutex_unlock(&a->capture_lock);
    if (!w)
        return false;
    GError *error = NULL;
    if (!hg_wav_writer_close(w, &error)) {
        g_warning("%s", error->message);
        g_error_free(error);
    }
    return true;
}

bool hg_audio_capturing(HgAudio *a)
{
    g_mutex_lock(&a->capture_lock);
    bool on = a->capture != NULL;
    g_mutex_unlock(&a->capture_lock);
    return on;
}

void hg_audio_get_stats(HgAudio *a, HgAudioStats *s)
{
    s->frames_mixed = a->mixed;
    s->underruns = atomic_load(&a->sink.underruns);
    s->dropped = atomic_load(&a->dropped);
    g_mutex_lock(&a->capture_lock);
    s->capture_dropped =
        a->capture_dropped_before + (a->capture ? hg_wav_writer_dropped(a->capture) : 0);
    g_mutex_unlock(&a->capture_lock);
}

/* ---- the consumer side shared by the outputs ---- */

enum {
    PREFILL_FRAMES = HG_AUDIO_RATE / 50,  /* 20 ms */
    MAX_LEVEL_FRAMES = HG_AUDIO_RATE / 5, /* 200 ms: beyond, the guest ran ahead */
};

static void trim(HgAudioSink *s, uint32_t n)
{
    uint32_t level = hg_audio_ring_level(&s->ring);
    if (level <= MAX_LEVEL_FRAMES + n)
        return;
    /* Drop the oldest, down to the prefill: latency stays bounded. */
    int16_t scratch[256 * 2];
    uint32_t extra = level - PREFILL_FRAMES - n;
    while (extra > 0) {
        uint32_t k = hg_audio_ring_read(&s->ring, scratch, MIN(extra, 256u));
        if (!k)
            break;
        extra -= k;
    }
}

void hg_audio_sink_trim(HgAudioSink *s)
{
    trim(s, 0);
}

void hg_audio_sink_pull(HgAudioSink *s, int16_t *frames, uint32_t n)
{
    trim(s, n);
    uint32_t level = hg_audio_ring_level(&s->ring);
    if (!s->started) {
        if (level < PREFILL_FRAMES + n) {
            memset(frames, 0, (size_t)n * 4);
            return;
        }
        s->started = true;
    }
    uint32_t got = hg_audio_ring_read(&s->ring, frames, n);
    if (got < n) {
        memset(frames + got * 2, 0, (size_t)(n - got) * 4);
        s->started = false;
        hg_audio_sink_underrun(s);
    }
}

void hg_audio_sink_underrun(HgAudioSink *s)
{
    int64_t idle = g_get_monotonic_time() - atomic_load(&s->last_emit);
    if (atomic_load(&s->playing) && idle < 100 * 1000)
        atomic_fetch_add(&s->underruns, 1);
}
