/* Guest time for the sound unit tests: an instruction-counted clock the test moves by
 * hand, running the timers and the mixer as the machine's loop would. */
#pragma once

#include "audio.h"
#include "clock.h"

typedef struct TestTime {
    uint64_t insns;
    HgClock *clock;
} TestTime;

static inline uint64_t test_time_counter(void *opaque)
{
    return ((TestTime *)opaque)->insns;
}

static inline void test_time_init(TestTime *t)
{
    t->insns = 0;
    t->clock = hg_clock_new(HG_CLOCK_ICOUNT, 1, test_time_counter, t);
}

/* Moves guest time forward by ns, stopping at each timer deadline on the way, then
 * mixes up to the new time. */
static inline void test_time_advance(TestTime *t, HgAudio *audio, uint64_t ns)
{
    uint64_t end = t->insns + ns;
    while (t->insns < end) {
        int64_t dl = hg_clock_deadline(t->clock);
        int64_t now = hg_clock_ns(t->clock);
        uint64_t step = end - t->insns;
        if (dl != INT64_MAX && dl > now && (uint64_t)(dl - now) < step)
            step = (uint64_t)(dl - now);
        t->insns += step ? step : 1;
        hg_clock_run_timers(t->clock);
    }
    hg_audio_mix_to(audio, hg_clock_ns(t->clock));
}
