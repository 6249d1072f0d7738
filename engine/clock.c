/* Virtual clock and timers (see clock.h). Timers are kept in a list sorted by expiry:
 * a PC has a few dozen at most, and the head is all the run loop looks at.
 */
#include "clock.h"

#include <glib.h>

#include "state.h"

struct HgTimer {
    HgClock *clock;
    HgTimerCb cb;
    void *opaque;
    int64_t expire; /* valid while pending */
    bool pending;
    bool deferrable; /* does not wake a halted CPU (see clock.h) */
    HgTimer *next;
};

struct HgClock {
    HgClockMode mode;
    uint32_t ns_per_insn;
    HgInsnCounter counter;
    void *opaque;
    /* Host mode: guest ns = host ns - host_offset while running; frozen_ns while stopped. */
    int64_t host_offset;
    int64_t frozen_ns;
    bool running;
    /* Instruction-counted mode: guest ns = insns * ns_per_insn + bias (the bias collects
     * the idle time skipped by warps and the time a restored state started at). */
    int64_t bias;
    HgTimer *timers; /* pending timers, earliest first */
};

static int64_t host_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

HgClock *hg_clock_new(HgClockMode mode, uint32_t ns_per_insn, HgInsnCounter counter,
                      void *opaque)
{
    HgClock *c = g_new0(HgClock, 1);
    c->mode = mode;
    c->ns_per_insn = ns_per_insn ? ns_per_insn : 1;
    c->counter = counter;
    c->opaque = opaque;
    c->frozen_ns = 0;
    c->running = false;
    c->bias = 0;
    return c;
}

void hg_clock_free(HgClock *c)
{
    if (!c)
        return;
    /* Timers belong to their devices, which free them; detach any left over. */
    for (HgTimer *t = c->timers; t; t = t->next)
        t->pending = false;
    g_free(c);
}

HgClockMode hg_clock_mode(const HgClock *c)
{
    return c->mode;
}

static int64_t icount_ns(const HgClock *c)
{
    uint64_t insns = c->counter ? c->counter(c->opaque) : 0;
    return (int64_t)(insns * c->ns_per_insn) + c->bias;
}

int64_t hg_clock_ns(const HgClock *c)
{
    if (c->mode == HG_CLOCK_ICOUNT)
        return icount_ns(c);
    return c->running ? host_ns() - c->host_offset : c->frozen_ns;
}

void hg_clock_stop(HgClock *c)
{
    if (!c->running)
        return;
    c->frozen_ns = hg_clock_ns(c);
    c->running = false;
}

void hg_clock_start(HgClock *c)
{
    if (c->running)
        return;
    c->host_offset = host_ns() - c->frozen_ns;
    c->running = true;
}

bool hg_clock_running(const HgClock *c)
{
    return c->running;
}

HgTimer *hg_timer_new(HgClock *c, HgTimerCb cb, void *opaque)
{
    HgTimer *t = g_new0(HgTimer, 1);
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

static void unlink_timer(HgTimer *t)
{
    if (!t->pending)
        return;
    HgTimer **pp = &t->clock->timers;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->next = NULL;
    t->pending = false;
}

void hg_timer_free(HgTimer *t)
{
    if (!t)
        return;
    unlink_timer(t);
    g_free(t);
}

void hg_timer_mod(HgTimer *t, int64_t expire_ns)
{
    unlink_timer(t);
    HgTimer **pp = &t->clock->timers;
    /* Equal expiry times fire in the order they were armed. */
    while (*pp && (*pp)->expire <= expire_ns)
        pp = &(*pp)->next;
    t->expire = expire_ns;
    t->next = *pp;
    *pp = t;
    t->pending = true;
}

void hg_timer_del(HgTimer *t)
{
    unlink_timer(t);
}

bool hg_timer_pending(const HgTimer *t)
{
    return t->pending;
}

int64_t hg_timer_expire(const HgTimer *t)
{
    return t->pending ? t->expire : INT64_MAX;
}

void hg_timer_set_deferrable(HgTimer *t, bool deferrable)
{
    t->deferrable = deferrable;
}

/* The timer a halted CPU waits for: the earliest that is not deferrable, or the earliest
 * of all when only deferrable ones are armed. */
static const HgTimer *wake_timer(const HgClock *c)
{
    for (const HgTimer *t = c->timers; t; t = t->next)
        if (!t->deferrable)
            return t;
    return c->timers;
}

int64_t hg_clock_deadline(const HgClock *c)
{
    const HgTimer *t = wake_timer(c);
    return t ? t->expire : INT64_MAX;
}

int hg_clock_run_timers(HgClock *c)
{
    int n = 0;
    /* Bounded: a callback that re-arms itself in the past runs once per call, so a
     * guest programming a zero period cannot stall the loop. */
    int64_t now = hg_clock_ns(c);
    int budget = 1000;
    while (c->timers && c->timers->expire <= now && budget-- > 0) {
        HgTimer *t = c->timers;
        c->timers = t->next;
        t->next = NULL;
        t->pending = false;
        t->cb(t->opaque);
        n++;
    }
    return n;
}

bool hg_clock_warp_to_deadline(HgClock *c)
{
    const HgTimer *t = wake_timer(c);
    if (!t)
        return false;
    int64_t now = hg_clock_ns(c);
    if (c->mode == HG_CLOCK_ICOUNT && t->expire > now)
        c->bias += t->expire - now;
    return true;
}

int64_t hg_clock_insns_to_deadline(const HgClock *c, int64_t max)
{
    if (c->mode != HG_CLOCK_ICOUNT || !c->timers)
        return max;
    int64_t delta = c->timers->expire - icount_ns(c);
    if (delta <= 0)
        return 1;
    int64_t n = (delta + c->ns_per_insn - 1) / c->ns_per_insn;
    return n < max ? n : max;
}

void hg_clock_save(const HgClock *c, HgStateWriter *w)
{
    hg_state_begin(w, "clock", 1);
    hg_state_put_u64(w, (uint64_t)hg_clock_ns(c));
    hg_state_end(w);
}

void hg_clock_load(HgClock *c, HgStateReader *r)
{
    if (!hg_state_open(r, "clock", 1, 1))
        return;
    int64_t ns = (int64_t)hg_state_get_u64(r);
    hg_state_close(r);
    if (!hg_state_ok(r))
        return;
    /* Continue from the saved guest time whatever the host or instruction count is now. */
    if (c->mode == HG_CLOCK_ICOUNT) {
        c->bias += ns - icount_ns(c);
    } else {
        c->frozen_ns = ns;
        if (c->running)
            c->host_offset = host_ns() - ns;
    }
}
