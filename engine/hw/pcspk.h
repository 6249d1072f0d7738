/* The PC speaker: PIT channel 2's OUT gated by port 0x61 bit 1, as a voice of the
 * machine's HgAudio.
 *
 * Board wiring: HgPcspk *sp = hg_pcspk_new(pit, clock, audio). The speaker registers
 * itself as the PIT's speaker hook, so it renders what was played before each change of
 * channel 2 or port 0x61 with the old settings.
 */
#pragma once

typedef struct HgAudio HgAudio;
typedef struct HgClock HgClock;
typedef struct HgPit HgPit;
typedef struct HgPcspk HgPcspk;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

HgPcspk *hg_pcspk_new(HgPit *pit, HgClock *clock, HgAudio *audio);
void hg_pcspk_free(HgPcspk *sp);
void hg_pcspk_reset(HgPcspk *sp);
void hg_pcspk_save(const HgPcspk *sp, HgStateWriter *w);
void hg_pcspk_load(HgPcspk *sp, HgStateReader *r);
