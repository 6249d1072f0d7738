/* HangarAudioPanel: recording a machine's sound into a WAV file from its control panel
 * (record, elapsed time and file name, stop, open the folder). */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_AUDIO_PANEL (hangar_audio_panel_get_type())
G_DECLARE_FINAL_TYPE(HangarAudioPanel, hangar_audio_panel, HANGAR, AUDIO_PANEL, GtkBox)

/* Signal "error" (const char *message) when a recording could not start or stop. */
GtkWidget *hangar_audio_panel_new(HangarMachine *machine);
/* What Record and Stop do (for tests). */
void hangar_audio_panel_start(HangarAudioPanel *self);
void hangar_audio_panel_stop(HangarAudioPanel *self);
/* The recording in progress or the last one, or NULL; the status line shown. */
const char *hangar_audio_panel_get_path(HangarAudioPanel *self);
const char *hangar_audio_panel_get_status(HangarAudioPanel *self);

G_END_DECLS
