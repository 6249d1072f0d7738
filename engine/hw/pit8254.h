/* Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC/AT system control
 * port B (0x61: channel 2 gate and speaker enable, refresh toggle, channel 2 OUT).
 *
 * Board wiring:
 *   HgPit *pit = hg_pit_new(bus, clock, irq0);
 *   irq0: the HgIrq of PIC input 0 (and/or IOAPIC pin 2 through a splitter). The PIT drives
 *   the level of channel 0's OUT on it: it rises at each period in modes 2 and 3, so the
 *   edge-triggered PIC input sees one request per period.
 *   The PIT maps 0x40-0x43 and 0x61 itself. A future speaker model reads
 *   hg_pit_out(pit, 2) and hg_pit_speaker_enabled(pit) (port 0x61 bits 1 and 0).
 * Time comes only from the HgClock (1.193182 MHz input derived from guest nanoseconds).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgPit HgPit;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

enum { HG_PIT_HZ = 1193182 };

HgPit *hg_pit_new(HgBus *bus, HgClock *clock, HgIrq irq0);
void hg_pit_free(HgPit *p);
/* Power-on state: every channel in mode 3 with count 65536, channel 2 gate low. */
void hg_pit_reset(HgPit *p);

/* OUT of channel ch (0-2) now. */
bool hg_pit_out(HgPit *p, int ch);
/* Channel 2 gate (port 0x61 bit 0) and speaker data enable (bit 1). */
bool hg_pit_gate2(const HgPit *p);
bool hg_pit_speaker_enabled(const HgPit *p);
/* Current channel ch mode (0-5) and reload value (1-65536), for a speaker model. */
int hg_pit_mode(const HgPit *p, int ch);
uint32_t hg_pit_reload(const HgPit *p, int ch);

/* OUT of channel ch at guest time ns (at most now), without changing the channel: the
 * PC speaker renders the wave for times the mixer reaches after the fact. */
bool hg_pit_out_at(HgPit *p, int ch, int64_t ns);
/* The PC speaker's hook: called with after = false just before channel 2 or port 0x61
 * changes (the speaker renders up to now with the old state) and with after = true
 * just after. */
typedef void (*HgPitSpeakerHook)(void *opaque, bool after);
void hg_pit_set_speaker_hook(HgPit *p, HgPitSpeakerHook fn, void *opaque);

void hg_pit_save(const HgPit *p, HgStateWriter *w);
void hg_pit_load(HgPit *p, HgStateReader *r);
