/* Unit tests of the host audio core (audio/): the resampler keeps pitch, the mixer is
 * paced exactly by the guest time it is given, and the WAV writer leaves a valid file
 * even when the process is killed in the middle of a recording. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "wav.h"

typedef struct Tone {
    double freq;
    int rate, channels;
    uint64_t produced; /* source frames handed out */
    int calls;
} Tone;

static int tone_fill(void *opaque, int16_t *buf, int frames, int64_t ns)
{
    Tone *t = opaque;
    for (int i = 0; i < frames; i++) {
        double ph = 2 * G_PI * t->freq * (double)(t->produced + (uint64_t)i) / t->rate;
        int16_t s = (int16_t)lrint(12000 * sin(ph));
        for (int c = 0; c < t->channels; c++)
            buf[i * t->channels + c] = c == 0 ? s : (int16_t)-s;
    }
    t->produced += (uint64_t)frames;
    t->calls++;
    return frames;
}

/* Frequency of the left channel by rising zero crossings, interpolated between samples. */
static double measure_freq(const int16_t *st, size_t frames, int rate)
{
    double first = -1, last = -1;
    int count = 0;
    for (size_t i = 1; i < frames; i++) {
        int a = st[(i - 1) * 2], b = st[i * 2];
        if (a < 0 && b >= 0) {
            double t = (double)(i - 1) + (double)-a / (double)(b - a);
            if (first < 0)
                first = t;
            last = t;
            count++;
        }
    }
    if (count < 2)
        return 0;
    return (count - 1) / (last - first) * rate;
}

static void read_wav(const char *path, int16_t **frames, size_t *n, uint32_t *riff, uint32_t *data,
                     int *channels, int *rate)
{
    gchar *buf;
    gsize len;
    g_assert_true(g_file_get_contents(path, &buf, &len, NULL));
    g_assert_cmpuint(len, >=, 44);
    g_assert_cmpmem(buf, 4, "RIFF", 4);
    g_assert_cmpmem(buf + 8, 8, "WAVEfmt ", 8);
    g_assert_cmpmem(buf + 36, 4, "data", 4);
    const uint8_t *u = (const uint8_t *)buf;
    *riff = u[4] | u[5] << 8 | u[6] << 16 | (uint32_t)u[7] << 24;
    *channels = u[22] | u[23] << 8;
    *rate = (int)(u[24] | u[25] << 8 | u[26] << 16 | (uint32_t)u[27] << 24);
    *data = u[40] | u[41] << 8 | u[42] << 16 | (uint32_t)u[43] << 24;
    g_assert_cmpuint(*riff, ==, *data + 36);
    g_assert_cmpuint(*data, <=, len - 44);
    g_assert_cmpuint(*data % (uint32_t)(*channels * 2), ==, 0);
    *n = *data / (size_t)(*channels * 2);
    *frames = g_memdup2(buf + 44, *data ? *data : 1);
    g_free(buf);
}

/* Renders seconds of a tone voice through the mixer into a WAV file and returns it. */
static int16_t *render(int src_rate, int channels, double freq, double seconds, int steps,
                       size_t *frames, Tone *tone_out)
{
    gchar *dir = g_dir_make_tmp("hangar-audio-XXXXXX", NULL);
    gchar *path = g_build_filename(dir, "out.wav", NULL);
    HgAudio *a = hg_audio_new("none", NULL);
    g_assert_nonnull(a);
    Tone tone = {freq, src_rate, channels, 0, 0};
    HgVoice *v = hg_voice_new(a, "tone", tone_fill, &tone);
    hg_voice_set_format(v, src_rate, channels);
    hg_voice_set_active(v, true);
    g_assert_true(hg_audio_capture_start(a, path, NULL));
    int64_t end = (int64_t)(seconds * 1e9);
    for (int i = 1; i <= steps; i++)
        hg_audio_mix_to(a, end / steps * i + (i == steps ? end % steps : 0));
    g_assert_cmpuint(hg_audio_frames_mixed(a), ==, (uint64_t)(seconds * HG_AUDIO_RATE));
    g_assert_true(hg_audio_capture_stop(a));
    HgAudioStats st;
    hg_audio_get_stats(a, &st);
    g_assert_cmpuint(st.capture_dropped, ==, 0);
    hg_voice_free(v);
    hg_audio_free(a);
    int16_t *data;
    uint32_t riff, bytes;
    int ch, rate;
    read_wav(path, &data, frames, &riff, &bytes, &ch, &rate);
    g_assert_cmpint(ch, ==, 2);
    g_assert_cmpint(rate, ==, HG_AUDIO_RATE);
    g_assert_cmpuint(*frames, ==, (uint64_t)(seconds * HG_AUDIO_RATE));
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
    if (tone_out)
        *tone_out = tone;
    return data;
}

static void test_resample_pitch(void)
{
    static const struct {
        int rate, channels;
        double freq;
    } cases[] = {
        {8000, 1, 440},   {11025, 1, 1000}, {22050, 2, 1000}, {44100, 2, 3000},
        {48000, 2, 1000}, {5512, 1, 700},   {96000, 1, 2500},
    };
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        size_t n;
        Tone tone;
        int16_t *d = render(cases[c].rate, cases[c].channels, cases[c].freq, 1.0, 100, &n, &tone);
        double f = measure_freq(d, n, HG_AUDIO_RATE);
        g_test_message("%d Hz source, %.0f Hz tone: %.3f Hz", cases[c].rate, cases[c].freq, f);
        g_assert_cmpfloat(fabs(f - cases[c].freq) / cases[c].freq, <, 0.001);
        /* The right channel is the inverted left (or the mono copy). */
        size_t mid = n / 2;
        if (cases[c].channels == 2)
            g_assert_cmpint(abs(d[mid * 2] + d[mid * 2 + 1]), <=, 1);
        else
            g_assert_cmpint(d[mid * 2], ==, d[mid * 2 + 1]);
        /* The voice was asked for exactly the source frames a second holds. */
        g_assert_cmpint(llabs((long long)tone.produced - cases[c].rate), <=, 4);
        g_free(d);
    }
}

/* Mixing in many small steps or a few big ones gives the same samples: what a device
 * plays depends on guest time only. */
static void test_pacing_deterministic(void)
{
    size_t n1, n2;
    int16_t *a = render(22050, 2, 1234, 0.5, 1, &n1, NULL);
    int16_t *b = render(22050, 2, 1234, 0.5, 997, &n2, NULL);
    g_assert_cmpuint(n1, ==, n2);
    g_assert_cmpmem(a, n1 * 4, b, n2 * 4);
    g_free(a);
    g_free(b);
}

/* Time before the base, repeated times and a jump of the clock. */
static void test_pacing_edges(void)
{
    HgAudio *a = hg_audio_new("none", NULL);
    hg_audio_set_time(a, 1000000000);
    hg_audio_mix_to(a, 5);
    g_assert_cmpuint(hg_audio_frames_mixed(a), ==, 0);
    hg_audio_mix_to(a, 1000000000 + 10000000);
    g_assert_cmpuint(hg_audio_frames_mixed(a), ==, 441);
    hg_audio_mix_to(a, 1000000000 + 10000000);
    g_assert_cmpuint(hg_audio_frames_mixed(a), ==, 441);
    hg_audio_mix_to(a, 1000000000 + 10000001);
    g_assert_cmpuint(hg_audio_frames_mixed(a), ==, 441);
    /* Ten seconds later: one second is mixed, the rest skipped, the position is right. */
    hg_audio_mix_to(a, 11000000000);
    g_assert_cmpuint(hg_audio_frames_mixed(a), ==, 441000);
    hg_audio_free(a);
}

static void test_bad_output(void)
{
    GError *error = NULL;
    g_assert_null(hg_audio_new("oss", &error));
    g_assert_nonnull(strstr(error->message, "pulse, sdl or none"));
    g_clear_error(&error);
}

/* Writes frames whose samples count up, for the kill test. */
static void write_counting(HgWavWriter *w, uint32_t *next, uint32_t n)
{
    int16_t buf[1024 * 2];
    while (n > 0) {
        uint32_t k = MIN(n, 1024u);
        for (uint32_t i = 0; i < k; i++) {
            buf[i * 2] = (int16_t)(*next & 0x7fff);
            buf[i * 2 + 1] = (int16_t) - (int16_t)(*next & 0x7fff);
            (*next)++;
        }
        hg_wav_writer_write(w, buf, k);
        n -= k;
    }
}

static void test_wav_killed(void)
{
    gchar *dir = g_dir_make_tmp("hangar-wav-XXXXXX", NULL);
    gchar *path = g_build_filename(dir, "killed.wav", NULL);
    if (g_test_subprocess()) {
        const char *p = g_getenv("HANGAR_WAV_PATH");
        HgWavWriter *w = hg_wav_writer_new(p, 44100, 2, 50, NULL);
        uint32_t next = 0;
        for (int i = 0; i < 30; i++) {
            write_counting(w, &next, 441); /* 10 ms of audio every 10 ms */
            g_usleep(10000);
        }
        raise(SIGKILL); /* no close, no final header */
        return;
    }
    g_setenv("HANGAR_WAV_PATH", path, TRUE);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_failed();
    int16_t *d;
    size_t n;
    uint32_t riff, data;
    int ch, rate;
    read_wav(path, &d, &n, &riff, &data, &ch, &rate);
    g_test_message("killed recording holds %zu frames in its header", n);
    g_assert_cmpint(ch, ==, 2);
    g_assert_cmpint(rate, ==, 44100);
    /* Patched every 50 ms during 300 ms: most of the audio is declared. */
    g_assert_cmpuint(n, >=, 441 * 10);
    g_assert_cmpuint(n, <=, 441 * 30);
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpint(d[i * 2], ==, (int16_t)(i & 0x7fff));
        g_assert_cmpint(d[i * 2 + 1], ==, (int16_t) - (int16_t)(i & 0x7fff));
    }
    g_free(d);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

static void test_wav_close_mono(void)
{
    gchar *dir = g_dir_make_tmp("hangar-wav-XXXXXX", NULL);
    gchar *path = g_build_filename(dir, "mono.wav", NULL);
    HgWavWriter *w = hg_wav_writer_new(path, 22050, 1, 2000, NULL);
    uint32_t next = 0;
    write_counting(w, &next, 22050);
    g_assert_true(hg_wav_writer_close(w, NULL));
    int16_t *d;
    size_t n;
    uint32_t riff, data;
    int ch, rate;
    read_wav(path, &d, &n, &riff, &data, &ch, &rate);
    g_assert_cmpint(ch, ==, 1);
    g_assert_cmpint(rate, ==, 22050);
    g_assert_cmpuint(n, ==, 22050);
    for (size_t i = 0; i < n; i++)
        g_assert_cmpint(d[i], ==, (int16_t)(i & 0x7fff));
    g_free(d);
    GError *error = NULL;
    g_assert_null(hg_wav_writer_new("/nonexistent/dir/x.wav", 44100, 2, 2000, &error));
    g_assert_nonnull(strstr(error->message, "/nonexistent/dir/x.wav"));
    g_clear_error(&error);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

/* An instruction-counted run makes sound far faster than real time: ten seconds of it
 * written at once must all reach the file. */
static void test_wav_fast_producer(void)
{
    gchar *dir = g_dir_make_tmp("hangar-wav-XXXXXX", NULL);
    gchar *path = g_build_filename(dir, "fast.wav", NULL);
    HgWavWriter *w = hg_wav_writer_new(path, 44100, 2, 2000, NULL);
    uint32_t next = 0;
    write_counting(w, &next, 441000);
    g_assert_cmpuint(hg_wav_writer_dropped(w), ==, 0);
    g_assert_true(hg_wav_writer_close(w, NULL));
    int16_t *d;
    size_t n;
    uint32_t riff, data;
    int ch, rate;
    read_wav(path, &d, &n, &riff, &data, &ch, &rate);
    g_assert_cmpuint(n, ==, 441000);
    for (size_t i = 0; i < n; i += 997)
        g_assert_cmpint(d[i * 2], ==, (int16_t)(i & 0x7fff));
    g_free(d);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/audio/resample-pitch", test_resample_pitch);
    g_test_add_func("/audio/pacing-deterministic", test_pacing_deterministic);
    g_test_add_func("/audio/pacing-edges", test_pacing_edges);
    g_test_add_func("/audio/bad-output", test_bad_output);
    g_test_add_func("/audio/wav-killed", test_wav_killed);
    g_test_add_func("/audio/wav-close-mono", test_wav_close_mono);
    g_test_add_func("/audio/wav-fast-producer", test_wav_fast_producer);
    return g_test_run();
}
