/* PulseAudio output (libpulse's asynchronous API with a threaded main loop, as QEMU's
 * audio/paaudio.c uses it; libpulse documentation, "Asynchronous API" and "Threaded main
 * loop"). The server asks for data in its write callback, on the main loop's thread with
 * the loop's lock held; the callback takes frames from the mixer's ring. The target
 * length of the server-side buffer is about 30 ms (tlength); the other buffer attributes
 * are left to the server, as the libpulse documentation recommends. A server that cannot
 * keep 30 ms filled (a heavily loaded machine: the server renders late and the stream
 * underruns) can be given more with HANGAR_AUDIO_LATENCY_MS (10 to 1000).
 */
#include <gio/gio.h>
#include <pulse/pulseaudio.h>
#include <stdlib.h>

#include "audio.h"
#include "output.h"

enum { LATENCY_US = 30000 };

typedef struct Pulse {
    pa_threaded_mainloop *ml;
    pa_context *ctx;
    pa_stream *stream;
    HgAudioSink *sink;
} Pulse;

static pa_usec_t latency_us(void)
{
    const char *env = getenv("HANGAR_AUDIO_LATENCY_MS");
    long ms = env ? strtol(env, NULL, 10) : 0;
    return ms >= 10 && ms <= 1000 ? (pa_usec_t)ms * 1000 : LATENCY_US;
}

static void context_state(pa_context *c, void *opaque)
{
    Pulse *p = opaque;
    pa_threaded_mainloop_signal(p->ml, 0);
}

static void stream_state(pa_stream *s, void *opaque)
{
    Pulse *p = opaque;
    pa_threaded_mainloop_signal(p->ml, 0);
}

/* Hands the server what the ring holds, up to `writable` bytes. Called with the main
 * loop's lock held. Frames are never invented: when the guest produced too little the
 * stream runs dry and the server reports an underflow, which is counted. */
static void push(Pulse *p, size_t writable)
{
    hg_audio_sink_trim(p->sink);
    while (writable >= 4) {
        uint32_t level = hg_audio_ring_level(&p->sink->ring);
        if (!level)
            return;
        void *data = NULL;
        size_t n = MIN(writable, (size_t)level * 4);
        if (pa_stream_begin_write(p->stream, &data, &n) < 0 || !data)
            return;
        n &= ~(size_t)3;
        uint32_t got = n ? hg_audio_ring_read(&p->sink->ring, data, (uint32_t)(n / 4)) : 0;
        if (!got) {
            pa_stream_cancel_write(p->stream);
            return;
        }
        if (pa_stream_write(p->stream, data, (size_t)got * 4, NULL, 0, PA_SEEK_RELATIVE) < 0)
            return;
        writable -= (size_t)got * 4;
    }
}

static void stream_write(pa_stream *s, size_t nbytes, void *opaque)
{
    push(opaque, nbytes);
}

static void stream_underflow(pa_stream *s, void *opaque)
{
    Pulse *p = opaque;
    hg_audio_sink_underrun(p->sink);
}

/* The mixer added frames (emulation thread): pass them on now rather than at the
 * server's next request, so the server's buffer stays as full as the guest allows. */
static void pulse_kick(void *state)
{
    Pulse *p = state;
    pa_threaded_mainloop_lock(p->ml);
    if (pa_stream_get_state(p->stream) == PA_STREAM_READY) {
        size_t w = pa_stream_writable_size(p->stream);
        if (w != (size_t)-1)
            push(p, w);
    }
    pa_threaded_mainloop_unlock(p->ml);
}

static void drained(pa_stream *s, int success, void *opaque)
{
    Pulse *p = opaque;
    pa_threaded_mainloop_signal(p->ml, 0);
}

static void pulse_close(void *state)
{
    Pulse *p = state;
    if (!p)
        return;
    if (p->ml && p->stream && pa_stream_get_state(p->stream) == PA_STREAM_READY) {
        /* Let the server play what it holds (the last tens of milliseconds), at most a
         * second. */
        pa_threaded_mainloop_lock(p->ml);
        pa_operation *op = pa_stream_drain(p->stream, drained, p);
        gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
        while (op && pa_operation_get_state(op) == PA_OPERATION_RUNNING &&
               g_get_monotonic_time() < until) {
            pa_threaded_mainloop_unlock(p->ml);
            g_usleep(10000);
            pa_threaded_mainloop_lock(p->ml);
        }
        if (op)
            pa_operation_unref(op);
        pa_threaded_mainloop_unlock(p->ml);
    }
    if (p->ml)
        pa_threaded_mainloop_stop(p->ml);
    if (p->stream) {
        pa_stream_disconnect(p->stream);
        pa_stream_unref(p->stream);
    }
    if (p->ctx) {
        pa_context_disconnect(p->ctx);
        pa_context_unref(p->ctx);
    }
    if (p->ml)
        pa_threaded_mainloop_free(p->ml);
    g_free(p);
}

static bool fail(Pulse *p, GError **error, const char *what)
{
    int e = p->ctx ? pa_context_errno(p->ctx) : PA_ERR_UNKNOWN;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "%s: %s (is a PulseAudio or PipeWire server running? --audio none plays "
                "nothing)",
                what, pa_strerror(e));
    return false;
}

static bool connect(Pulse *p, GError **error)
{
    p->ctx = pa_context_new(pa_threaded_mainloop_get_api(p->ml), "Hangar");
    if (!p->ctx)
        return fail(p, error, "cannot create a PulseAudio context");
    pa_context_set_state_callback(p->ctx, context_state, p);
    if (pa_context_connect(p->ctx, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0)
        return fail(p, error, "cannot connect to the PulseAudio server");
    for (;;) {
        pa_context_state_t st = pa_context_get_state(p->ctx);
        if (st == PA_CONTEXT_READY)
            break;
        if (!PA_CONTEXT_IS_GOOD(st))
            return fail(p, error, "cannot connect to the PulseAudio server");
        pa_threaded_mainloop_wait(p->ml);
    }
    pa_sample_spec ss = {.format = PA_SAMPLE_S16LE, .rate = (uint32_t)p->sink->rate, .channels = 2};
    p->stream = pa_stream_new(p->ctx, "Guest sound", &ss, NULL);
    if (!p->stream)
        return fail(p, error, "cannot create a PulseAudio stream");
    pa_stream_set_state_callback(p->stream, stream_state, p);
    pa_stream_set_write_callback(p->stream, stream_write, p);
    pa_stream_set_underflow_callback(p->stream, stream_underflow, p);
    pa_buffer_attr attr = {
        .maxlength = (uint32_t)-1,
        .tlength = (uint32_t)pa_usec_to_bytes(latency_us(), &ss),
        .prebuf = (uint32_t)-1,
        .minreq = (uint32_t)-1,
        .fragsize = (uint32_t)-1,
    };
    if (pa_stream_connect_playback(p->stream, NULL, &attr, PA_STREAM_ADJUST_LATENCY, NULL, NULL) <
        0)
        return fail(p, error, "cannot start PulseAudio playback");
    for (;;) {
        pa_stream_state_t st = pa_stream_get_state(p->stream);
        if (st == PA_STREAM_READY)
            break;
        if (!PA_STREAM_IS_GOOD(st))
            return fail(p, error, "PulseAudio refused the playback stream");
        pa_threaded_mainloop_wait(p->ml);
    }
    return true;
}

static void *pulse_open(HgAudioSink *sink, GError **error)
{
    Pulse *p = g_new0(Pulse, 1);
    p->sink = sink;
    p->ml = pa_threaded_mainloop_new();
    if (!p->ml) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start libpulse's thread");
        g_free(p);
        return NULL;
    }
    pa_threaded_mainloop_set_name(p->ml, "hangar-pulse");
    pa_threaded_mainloop_lock(p->ml);
    if (pa_threaded_mainloop_start(p->ml) < 0) {
        pa_threaded_mainloop_unlock(p->ml);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start libpulse's thread");
        pulse_close(p);
        return NULL;
    }
    bool ok = connect(p, error);
    pa_threaded_mainloop_unlock(p->ml);
    if (!ok) {
        pulse_close(p);
        return NULL;
    }
    return p;
}

const HgAudioBackend hg_audio_backend_pulse = {"pulse", pulse_open, pulse_close, pulse_kick};
