/* A WAV (RIFF, PCM 16-bit) file written by a thread of its own from a frame ring, so the
 * emulation thread never waits for the disk. The header's RIFF and data sizes are
 * patched every patch_ms milliseconds (and at close), so a process killed in the middle
 * of a recording leaves a file every player opens, holding the audio up to the last
 * patch. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgWavWriter HgWavWriter;

enum { HG_WAV_PATCH_MS = 2000 };

/* Creates (truncates) path. channels is 1 or 2. */
HgWavWriter *hg_wav_writer_new(const char *path, int rate, int channels, int patch_ms,
                               GError **error);
/* Queues n frames. When the ring (about two seconds) is full it waits up to 250 ms for
 * the thread to make room, then drops and counts what does not fit. Mono files take the
 * first channel. */
void hg_wav_writer_write(HgWavWriter *w, const int16_t *stereo_frames, uint32_t n);
uint64_t hg_wav_writer_dropped(HgWavWriter *w);
/* Writes what is queued, the final header, closes and frees. Returns false with a message
 * when the file could not be written completely (disk full...). */
bool hg_wav_writer_close(HgWavWriter *w, GError **error);
