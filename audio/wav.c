/* WAV writer thread (see wav.h). File layout: the canonical 44-byte header of a RIFF
 * "WAVE" file with one "fmt " chunk (PCM, format tag 1) and one "data" chunk (Microsoft
 * "Multimedia Programming Interface and Data Specifications 1.0", RIFF and WAVE
 * chapters). All multi-byte fields are little-endian. */
#include "wav.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "ring.h"

struct HgWavWriter {
    char *path;
    int fd;
    int rate, channels, patch_ms;
    HgAudioRing ring;
    GThread *thread;
    GMutex lock;
    GCond cond;          /* wakes the thread */
    GCond room;          /* the thread made room in the ring */
    bool stop;           /* under lock */
    uint64_t data_bytes; /* thread only */
    int err;             /* first errno of the thread, under lock */
    _Atomic uint64_t dropped;
};

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8 & 0xff;
    p[2] = v >> 16 & 0xff;
    p[3] = v >> 24;
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8;
}

static void make_header(uint8_t *h, int rate, int channels, uint32_t data_bytes)
{
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, 36 + data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);
    put_le16(h + 20, 1); /* PCM */
    put_le16(h + 22, (uint16_t)channels);
    put_le32(h + 24, (uint32_t)rate);
    put_le32(h + 28, (uint32_t)(rate * channels * 2));
    put_le16(h + 32, (uint16_t)(channels * 2));
    put_le16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data_bytes);
}

static int write_all(int fd, const void *p, size_t n, off_t at)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = at >= 0 ? pwrite(fd, b, n, at) : write(fd, b, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        b += k;
        n -= (size_t)k;
        if (at >= 0)
            at += k;
    }
    return 0;
}

/* The sizes in the header; a data chunk stays below 4 GiB (RIFF's limit). */
static int patch_header(HgWavWriter *w)
{
    uint8_t h[44];
    make_header(h, w->rate, w->channels, (uint32_t)MIN(w->data_bytes, 0xffffffd0u));
    return write_all(w->fd, h, sizeof h, 0);
}

/* Moves what the ring holds to the file; returns an errno or 0. */
static int drain(HgWavWriter *w)
{
    int16_t frames[2048 * 2];
    int16_t out[2048 * 2];
    uint32_t n;
    while ((n = hg_audio_ring_read(&w->ring, frames, 2048)) > 0) {
        const int16_t *src = frames;
        if (w->channels == 1) {
            for (uint32_t i = 0; i < n; i++)
                out[i] = frames[i * 2];
            src = out;
        }
        size_t bytes = (size_t)n * (size_t)w->channels * 2;
        if (w->data_bytes + bytes > 0xffffffd0u)
            return EFBIG;
        int e = write_all(w->fd, src, bytes, -1);
        if (e)
            return e;
        w->data_bytes += bytes;
    }
    return 0;
}

static gpointer writer_main(gpointer data)
{
    HgWavWriter *w = data;
    int64_t next_patch = g_get_monotonic_time() + (int64_t)w->patch_ms * 1000;
    int64_t patched = 0;
    for (;;) {
        g_mutex_lock(&w->lock);
        bool stop = w->stop;
        if (!stop)
            g_cond_wait_until(&w->cond, &w->lock, g_get_monotonic_time() + 20 * 1000);
        stop = w->stop;
        g_mutex_unlock(&w->lock);
        int e = drain(w);
        g_mutex_lock(&w->lock);
        g_cond_broadcast(&w->room);
        g_mutex_unlock(&w->lock);
        int64_t now = g_get_monotonic_time();
        if (!e && (stop || now >= next_patch)) {
            if ((int64_t)w->data_bytes != patched)
                e = patch_header(w);
            patched = (int64_t)w->data_bytes;
            next_patch = now + (int64_t)w->patch_ms * 1000;
        }
        if (e) {
            g_mutex_lock(&w->lock);
            if (!w->err)
                w->err = e;
            g_mutex_unlock(&w->lock);
            /* Keep emptying the ring so the producer does not count drops forever. */
            int16_t sink[1024 * 2];
            while (hg_audio_ring_read(&w->ring, sink, 1024) > 0) {
            }
        }
        if (stop)
            break;
    }
    return NULL;
}

HgWavWriter *hg_wav_writer_new(const char *path, int rate, int channels, int patch_ms,
                               GError **error)
{
    g_return_val_if_fail(channels == 1 || channels == 2, NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot create the recording %s: %s (choose a folder you can write to)", path,
                    g_strerror(e));
        return NULL;
    }
    HgWavWriter *w = g_new0(HgWavWriter, 1);
    w->path = g_strdup(path);
    w->fd = fd;
    w->rate = rate;
    w->channels = channels;
    w->patch_ms = MAX(patch_ms, 10);
    /* About two seconds of room: the disk may stall, the guest goes on. */
    hg_audio_ring_init(&w->ring, (uint32_t)rate * 2);
    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
    g_cond_init(&w->room);
    int e = patch_header(w);
    if (!e && lseek(fd, 44, SEEK_SET) < 0)
        e = errno;
    if (e) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "cannot write the recording %s: %s", path, g_strerror(e));
        close(fd);
        hg_audio_ring_clear(&w->ring);
        g_mutex_clear(&w->lock);
        g_cond_clear(&w->cond);
        g_cond_clear(&w->room);
        g_free(w->path);
        g_free(w);
        return NULL;
    }
    w->thread = g_thread_new("hangar-wav", writer_main, w);
    return w;
}

void hg_wav_writer_write(HgWavWriter *w, const int16_t *stereo_frames, uint32_t n)
{
    uint32_t done = hg_audio_ring_write(&w->ring, stereo_frames, n);
    if (done == n)
        return;
    /* The disk fell two seconds behind (or an instruction-counted run produces sound
     * much faster than real time): wait for room a little rather than leave a hole in
     * the recording; only a stalled disk makes us drop. */
    gint64 until = g_get_monotonic_time() + 250 * 1000;
    g_mutex_lock(&w->lock);
    while (done < n && !w->err && g_get_monotonic_time() < until) {
        g_cond_signal(&w->cond);
        g_cond_wait_until(&w->room, &w->lock, until);
        done += hg_audio_ring_write(&w->ring, stereo_frames + (size_t)done * 2, n - done);
    }
    g_mutex_unlock(&w->lock);
    if (done < n)
        atomic_fetch_add(&w->dropped, n - done);
}

uint64_t hg_wav_writer_dropped(HgWavWriter *w)
{
    return atomic_load(&w->dropped);
}

bool hg_wav_writer_close(HgWavWriter *w, GError **error)
{
    if (!w)
        return true;
    g_mutex_lock(&w->lock);
    w->stop = true;
    g_cond_signal(&w->cond);
    g_mutex_unlock(&w->lock);
    g_thread_join(w->thread);
    int e = w->err;
    if (close(w->fd) < 0 && !e)
        e = errno;
    if (e)
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "the recording %s is incomplete: %s", w->path, g_strerror(e));
    hg_audio_ring_clear(&w->ring);
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
    g_cond_clear(&w->room);
    g_free(w->path);
    g_free(w);
    return e == 0;
}
