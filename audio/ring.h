/* A single-producer single-consumer ring of stereo 16-bit frames: the mixer (emulation
 * thread) writes, an output or the WAV writer thread reads. Lock-free (C11 atomics on
 * the two positions), so neither side ever waits for the other. */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

typedef struct HgAudioRing {
    int16_t *buf;          /* capacity frames of two samples */
    uint32_t capacity;     /* a power of two */
    _Atomic uint64_t head; /* frames written (producer) */
    _Atomic uint64_t tail; /* frames read (consumer) */
} HgAudioRing;

void hg_audio_ring_init(HgAudioRing *r, uint32_t min_frames);
void hg_audio_ring_clear(HgAudioRing *r);
/* Frames ready to read / room to write. */
uint32_t hg_audio_ring_level(HgAudioRing *r);
/* Writes up to n frames; returns how many fitted. Producer only. */
uint32_t hg_audio_ring_write(HgAudioRing *r, const int16_t *frames, uint32_t n);
/* Reads up to n frames; returns how many there were. Consumer only. */
uint32_t hg_audio_ring_read(HgAudioRing *r, int16_t *frames, uint32_t n);
