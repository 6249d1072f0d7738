/* The machine's sound: its HgAudio (mixer, output, recording) and the sound cards the
 * configuration asks for (HG_SOUND_* bits), created and wired here so the board only
 * hands over its buses and interrupt lines. A timer on the virtual clock runs the mixer
 * every 5 ms of guest time; cards make it catch up at their own block ends.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct HgAudio HgAudio;
typedef struct HgBus HgBus;
typedef struct HgClock HgClock;
typedef struct HgDma HgDma;
typedef struct HgPciBus HgPciBus;
typedef struct HgPit HgPit;
typedef struct HgSound HgSound;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef struct HgSoundWiring {
    HgBus *bus;
    HgClock *clock;
    HgDma *dma;
    HgPit *pit;
    HgPciBus *pci;
    /* Drives ISA interrupt line `line` for the ISA cards. */
    void (*isa_irq)(void *opaque, int line, bool level);
    void *opaque;
} HgSoundWiring;

/* NULL without error when soundhw is 0 (no sound at all). */
HgSound *hg_sound_new(unsigned soundhw, const char *output, const HgSoundWiring *w, GError **error);
void hg_sound_free(HgSound *s);
void hg_sound_reset(HgSound *s);
HgAudio *hg_sound_audio(HgSound *s);
/* A line per card and the output's figures, for the monitor's "info audio". */
void hg_sound_info(HgSound *s, GString *out);

void hg_sound_save(const HgSound *s, HgStateWriter *w);
void hg_sound_load(HgSound *s, HgStateReader *r);
