/* Ensoniq AudioPCI ES1370 (PCI 1274:5000): two playback channels (DAC1, DAC2) and one
 * recording channel (ADC) that fetch and store PCM in guest memory, as Linux's
 * snd-ens1370 drives them.
 *
 * Board wiring:
 *   HgEs1370 *es = hg_es1370_new(pci, devfn, bus, clock, audio);
 * The card registers its PCI function (I/O BAR0 of 64 bytes, INTA) and plays through
 * two voices of the machine's HgAudio; the ADC records silence (no host capture).
 */
#pragma once

typedef struct HgAudio HgAudio;
typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgEs1370 HgEs1370;
typedef struct HgPciBus HgPciBus;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

HgEs1370 *hg_es1370_new(HgPciBus *pci, int devfn, HgBus *bus, HgClock *clock, HgAudio *audio);
void hg_es1370_free(HgEs1370 *es);
void hg_es1370_reset(HgEs1370 *es);
void hg_es1370_save(const HgEs1370 *es, HgStateWriter *w);
void hg_es1370_load(HgEs1370 *es, HgStateReader *r);
