/* Yamaha YM3812 (OPL2) FM synthesiser, as on the AdLib card (0x388-0x389) and inside
 * the Sound Blaster 16 (base+0x0-0x3 and base+0x8-0x9).
 *
 * Board wiring:
 *   HgOpl2 *opl = hg_opl2_new(clock, audio);
 *   hg_opl2_map(opl, bus, 0x388);   address/status at port, data at port + 1; one chip
 *                                   may answer at several pairs
 * It plays through one voice of the machine's HgAudio at the chip's own rate
 * (3.579545 MHz / 72 = 49716 Hz). The timers set status flags only (the AdLib has no
 * interrupt line).
 */
#pragma once

#include <stdint.h>

typedef struct HgAudio HgAudio;
typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgOpl2 HgOpl2;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

HgOpl2 *hg_opl2_new(HgClock *clock, HgAudio *audio);
void hg_opl2_map(HgOpl2 *opl, HgBus *bus, uint16_t port);
void hg_opl2_free(HgOpl2 *opl);
/* Its voice (a mixer in front of the chip, the SB16's, sets its gain). */
typedef struct HgVoice HgVoice;
HgVoice *hg_opl2_voice(HgOpl2 *opl);
void hg_opl2_reset(HgOpl2 *opl);
void hg_opl2_save(const HgOpl2 *opl, HgStateWriter *w);
void hg_opl2_load(HgOpl2 *opl, HgStateReader *r);
