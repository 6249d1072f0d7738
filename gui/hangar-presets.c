/* Guest type presets. The figures follow what each system needs on an i440FX PC of its
 * time: DOS fits in 16 MiB and a 504 MiB disk (the BIOS CHS limit its tools expect) and
 * talks to an ISA NE2000 and a Sound Blaster 16 with AdLib; Windows 9x ships drivers for
 * the SB16 and the PCI NE2000 (RTL8029); Windows XP and Linux drive the ES1370 and the
 * RTL8139; a modern Linux desktop wants an absolute pointer (the USB tablet). */
#include "hangar-presets.h"

#include <glib/gi18n.h>
#include <string.h>

static const HangarPreset presets[] = {
    {"linux", N_("Modern Linux"), N_("A current Linux distribution (kernel 4 or later)"), 1024, 128,
     20 * 1024, HG_SOUND_ES1370, HG_NIC_RTL8139, TRUE, HANGAR_MEDIUM_CD, "dc"},
    {"linux-old", N_("Older Linux"), N_("A Linux distribution from the 1990s or 2000s"), 256, 16,
     4 * 1024, HG_SOUND_SB16, HG_NIC_NE2K_PCI, FALSE, HANGAR_MEDIUM_CD, "dc"},
    {"dos", N_("DOS"), N_("MS-DOS, FreeDOS or PC DOS, started from a floppy"), 16, 1, 504,
     HG_SOUND_SB16 | HG_SOUND_ADLIB, HG_NIC_NE2K_ISA, FALSE, HANGAR_MEDIUM_FLOPPY, "ac"},
    {"win9x", N_("Windows 9x"), N_("Windows 95, 98 or Me"), 64, 16, 2 * 1024, HG_SOUND_SB16,
     HG_NIC_NE2K_PCI, FALSE, HANGAR_MEDIUM_CD, "dc"},
    {"winxp", N_("Windows XP"), N_("Windows 2000 or XP"), 512, 64, 10 * 1024, HG_SOUND_ES1370,
     HG_NIC_RTL8139, FALSE, HANGAR_MEDIUM_CD, "dc"},
    {"other", N_("Other"), N_("Any other PC operating system"), 128, 1, 2 * 1024, 0, HG_NIC_RTL8139,
     FALSE, HANGAR_MEDIUM_CD, "dc"},
};

const HangarPreset *hangar_presets(size_t *count)
{
    *count = G_N_ELEMENTS(presets);
    return presets;
}

const HangarPreset *hangar_preset_find(const char *id)
{
    for (size_t i = 0; id && i < G_N_ELEMENTS(presets); i++)
        if (!strcmp(presets[i].id, id))
            return &presets[i];
    return &presets[G_N_ELEMENTS(presets) - 1];
}
