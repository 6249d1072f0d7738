/* HangarMediaPanel: the removable-media drives of a machine (CD-ROM, floppy): the image in
 * each, choose another, eject, recent images. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_MEDIA_PANEL (hangar_media_panel_get_type())
G_DECLARE_FINAL_TYPE(HangarMediaPanel, hangar_media_panel, HANGAR, MEDIA_PANEL, GtkBox)

/* settings: the manager's GSettings (recent images), or NULL. Signal "error" (const char
 * *message) when a change failed, with the reason in words. */
GtkWidget *hangar_media_panel_new(HangarMachine *machine, GSettings *settings);
/* What the drive's row shows: the image's file name, or "Empty" (for tests). */
const char *hangar_media_panel_get_shown(HangarMediaPanel *self, const char *drive);

G_END_DECLS
