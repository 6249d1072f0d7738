/* Asynchronous image I/O: requests submitted with hg_block_submit() run on a worker thread
 * of their image while the guest goes on, and complete on the emulation thread.
 *
 * One HgAio per machine collects finished requests; the machine's emulation thread runs
 * their callbacks with hg_aio_run_completions() between execution slices, so device code
 * still needs no locks. Each image gets one worker thread (started at its first
 * asynchronous request), so requests of one image run in order and a format driver never
 * sees two at once; synchronous calls on that image (hg_block_pread...) first wait until
 * its worker is idle.
 *
 * Asynchronous mode is on only while enabled (the machine enables it when its emulation
 * thread runs on the host clock): without it, and in the instruction-counted clock whose
 * runs must be reproducible, hg_block_submit completes before it returns, as before.
 */
#pragma once

#include <stdbool.h>

#include "block.h"

typedef struct HgAio HgAio;

/* wake(opaque) is called from a worker thread when a completion is ready. */
HgAio *hg_aio_new(void (*wake)(void *opaque), void *opaque);
/* Requests must have been drained (hg_block_close does it) before this. */
void hg_aio_free(HgAio *aio);
void hg_aio_set_enabled(HgAio *aio, bool enabled);
bool hg_aio_enabled(const HgAio *aio);
/* True when completions wait to be run (any thread). */
bool hg_aio_pending(HgAio *aio);
/* Runs the callbacks of finished requests; emulation thread only. Returns how many. */
int hg_aio_run_completions(HgAio *aio);

/* Lets an image's requests run asynchronously through aio (NULL: always synchronous). */
void hg_block_set_aio(HgBlock *b, HgAio *aio);
/* Waits until no request of the image is running on its worker (their completions may
 * still wait in the HgAio). */
void hg_block_drain(HgBlock *b);
/* Requests of the image submitted and not yet completed (callback not yet run). */
int hg_block_in_flight(HgBlock *b);
