/* Creative Sound Blaster 16 (CT1740 with DSP 4.05 and the CT1745 mixer) on ISA.
 *
 * Board wiring:
 *   HgSb16 *sb = hg_sb16_new(bus, clock, dma, audio, 0x220, set_irq, opaque);
 *   The card maps base+0x4 to base+0xF (mixer, DSP) itself; the FM ports base+0x0-0x3
 *   and base+0x8-0x9 belong to the OPL model. set_irq(opaque, line, level) drives ISA
 *   line 2 (9), 5, 7 or 10, whichever mixer register 0x80 selects (5 at reset). DMA
 *   goes through the 8237 channels mixer register 0x81 selects (1 and 5 at reset).
 * Sound comes out of one voice of the machine's HgAudio: the mixer pulls frames at the
 * programmed rate, the card reads them from guest memory by DMA and raises its
 * interrupt at each block end.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgAudio HgAudio;
typedef struct HgVoice HgVoice;
typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgDma HgDma;
typedef struct HgSb16 HgSb16;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef void (*HgSb16Irq)(void *opaque, int line, bool level);

HgSb16 *hg_sb16_new(HgBus *bus, HgClock *clock, HgDma *dma, HgAudio *audio, uint16_t base,
                    HgSb16Irq set_irq, void *opaque);
void hg_sb16_free(HgSb16 *s);
void hg_sb16_reset(HgSb16 *s);

/* The voice of the FM chip on the card: the mixer's master and FM volumes (0x30/0x31,
 * 0x34/0x35) apply to it. */
void hg_sb16_set_fm_voice(HgSb16 *s, HgVoice *fm);

void hg_sb16_save(const HgSb16 *s, HgStateWriter *w);
void hg_sb16_load(HgSb16 *s, HgStateReader *r);
