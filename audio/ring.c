/* Single-producer single-consumer frame ring (see ring.h). The producer publishes
 * frames with a release store of head after copying them; the consumer frees room with
 * a release store of tail after copying out, so each side sees whole frames only. */
#include "ring.h"

#include <glib.h>
#include <string.h>

void hg_audio_ring_init(HgAudioRing *r, uint32_t min_frames)
{
    uint32_t cap = 256;
    while (cap < min_frames)
        cap <<= 1;
    r->buf = g_new0(int16_t, (gsize)cap * 2);
    r->capacity = cap;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
}

void hg_audio_ring_clear(HgAudioRing *r)
{
    g_free(r->buf);
    r->buf = NULL;
    r->capacity = 0;
}

uint32_t hg_audio_ring_level(HgAudioRing *r)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    return (uint32_t)(h - t);
}

/* Copies n frames between the ring at frame position pos and a linear buffer. */
static void copy_in(HgAudioRing *r, uint64_t pos, const int16_t *src, uint32_t n)
{
    uint32_t at = (uint32_t)(pos & (r->capacity - 1));
    uint32_t first = MIN(n, r->capacity - at);
    memcpy(r->buf + at * 2, src, (size_t)first * 4);
    memcpy(r->buf, src + first * 2, (size_t)(n - first) * 4);
}

static void copy_out(HgAudioRing *r, uint64_t pos, int16_t *dst, uint32_t n)
{
    uint32_t at = (uint32_t)(pos & (r->capacity - 1));
    uint32_t first = MIN(n, r->capacity - at);
    memcpy(dst, r->buf + at * 2, (size_t)first * 4);
    memcpy(dst + first * 2, r->buf, (size_t)(n - first) * 4);
}

uint32_t hg_audio_ring_write(HgAudioRing *r, const int16_t *frames, uint32_t n)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint32_t room = r->capacity - (uint32_t)(h - t);
    n = MIN(n, room);
    if (n) {
        copy_in(r, h, frames, n);
        atomic_store_explicit(&r->head, h + n, memory_order_release);
    }
    return n;
}

uint32_t hg_audio_ring_read(HgAudioRing *r, int16_t *frames, uint32_t n)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    n = MIN(n, (uint32_t)(h - t));
    if (n) {
        copy_out(r, t, frames, n);
        atomic_store_explicit(&r->tail, t + n, memory_order_release);
    }
    return n;
}
