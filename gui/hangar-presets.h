/* Guest type presets of the new-machine assistant: what a typical machine of each kind
 * gets by default (memory, disk size, sound and network cards, USB tablet, boot order). */
#pragma once

#include <glib.h>

#include "hangar.h"

G_BEGIN_DECLS

typedef enum {
    HANGAR_MEDIUM_CD,     /* installs from a CD/DVD image */
    HANGAR_MEDIUM_FLOPPY, /* boots its installer from a floppy */
} HangarMediumKind;

typedef struct {
    const char *id;    /* machine.ini GuestType= */
    const char *label; /* N_()-marked: translate with _() */
    const char *hint;  /* one line saying what it is for, N_()-marked */
    uint32_t memory_mib;
    uint32_t min_memory_mib; /* below this the system is known not to start */
    uint32_t disk_mib;
    unsigned soundhw; /* HG_SOUND_* */
    HgNicModel nic;
    gboolean usb_tablet;
    HangarMediumKind medium;
    const char *boot; /* boot order with the install medium in place */
} HangarPreset;

/* The presets in the order the assistant offers them; "other" is last. */
const HangarPreset *hangar_presets(size_t *count);
/* The preset of a GuestType= id; unknown ids get "other". */
const HangarPreset *hangar_preset_find(const char *id);

G_END_DECLS
