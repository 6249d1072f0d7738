/* HangarWindow: the main window, listing the machine profiles. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-application.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_WINDOW (hangar_window_get_type())
G_DECLARE_FINAL_TYPE(HangarWindow, hangar_window, HANGAR, WINDOW, GtkApplicationWindow)

HangarWindow *hangar_window_new(HangarApplication *app);
/* Reads $XDG_DATA_HOME/hangar/machines/ID/machine.ini again (running machines are kept). */
void hangar_window_reload(HangarWindow *self);
GtkListBox *hangar_window_get_machine_list(HangarWindow *self);

G_END_DECLS
