/* The virtual clock of one machine and the timers devices arm on it.
 *
 * Every time source a guest sees (PIT, RTC, TSC, PM timer, APIC timer, UHCI frames, audio
 * and network pacing) reads this one clock, so they agree with each other. Two modes:
 * host-synchronised (guest nanoseconds follow the host's monotonic clock while the machine
 * runs) and instruction-counted (every retired instruction advances the clock by a fixed
 * number of nanoseconds, so runs are exactly reproducible; when the CPU halts, the clock
 * jumps to the next timer).
 *
 * All calls happen on the machine's emulation thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hangar.h"

typedef struct HgClock HgClock;
typedef struct HgTimer HgTimer;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef void (*HgTimerCb)(void *opaque);
/* Instructions retired so far, including the block being executed. */
typedef uint64_t (*HgInsnCounter)(void *opaque);

enum { HG_NS_PER_SEC = 1000000000 };

/* ns_per_insn: the instruction-counted rate (1 gives a 1 GHz guest). */
HgClock *hg_clock_new(HgClockMode mode, uint32_t ns_per_insn, HgInsnCounter counter,
                      void *opaque);
void hg_clock_free(HgClock *c);
HgClockMode hg_clock_mode(const HgClock *c);

/* Guest time in nanoseconds since the machine was created. */
int64_t hg_clock_ns(const HgClock *c);
/* Stops and restarts the host-synchronised clock (pause/resume): guest time does not
 * advance while stopped. */
void hg_clock_stop(HgClock *c);
void hg_clock_start(HgClock *c);
bool hg_clock_running(const HgClock *c);

/* Timers fire on the emulation thread from hg_clock_run_timers once the clock has reached
 * their expiry time; a callback may re-arm its own or any other timer. */
HgTimer *hg_timer_new(HgClock *c, HgTimerCb cb, void *opaque);
void hg_timer_free(HgTimer *t);
void hg_timer_mod(HgTimer *t, int64_t expire_ns);
void hg_timer_del(HgTimer *t);
bool hg_timer_pending(const HgTimer *t);
int64_t hg_timer_expire(const HgTimer *t);

/* A deferrable timer runs on time while the CPU executes, but does not by itself wake a
 * halted CPU: the machine sleeps (or, instruction-counted, warps) to the next ordinary
 * timer and runs the deferrable one then, late. For polling that finds nothing to do
 * while the guest idles (an idle USB schedule); the device catches up on its own. */
void hg_timer_set_deferrable(HgTimer *t, bool deferrable);

/* When a halted CPU must wake: the expiry of the earliest armed timer that is not
 * deferrable (of the earliest deferrable one when no other is armed), or INT64_MAX. */
int64_t hg_clock_deadline(const HgClock *c);
/* Runs every timer that has expired; returns how many ran. */
int hg_clock_run_timers(HgClock *c);
/* Instruction-counted mode, CPU halted: moves the clock forward to the next deadline (the
 * guest would have idled until then; deferrable timers as in hg_clock_deadline). Returns
 * false when no timer is armed. */
bool hg_clock_warp_to_deadline(HgClock *c);
/* Instructions the CPU may run before the next deadline in instruction-counted mode (at
 * least 1), capped at max. In host mode, max. */
int64_t hg_clock_insns_to_deadline(const HgClock *c, int64_t max);

/* Saves and restores the guest time (timers are saved by their devices). */
void hg_clock_save(const HgClock *c, HgStateWriter *w);
void hg_clock_load(HgClock *c, HgStateReader *r);
