/* HangarWindow: the main window, listing the machine profiles. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-application.h"
#include "hangar-assistant.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_WINDOW (hangar_window_get_type())
G_DECLARE_FINAL_TYPE(HangarWindow, hangar_window, HANGAR, WINDOW, GtkApplicationWindow)

HangarWindow *hangar_window_new(HangarApplication *app);
/* Reads $XDG_DATA_HOME/hangar/machines/ID/machine.ini again (running machines are kept). */
void hangar_window_reload(HangarWindow *self);
GtkListBox *hangar_window_get_machine_list(HangarWindow *self);
/* Selects the machine with this profile id; FALSE if the list does not have it. */
gboolean hangar_window_select(HangarWindow *self, const char *id);
/* What the New, Settings and Delete buttons do (for tests: the assistant or the dialog
 * shown, or NULL when the selected machine is not powered off). */
HangarAssistant *hangar_window_new_machine(HangarWindow *self);
HangarAssistant *hangar_window_edit_selected(HangarWindow *self);
GtkWidget *hangar_window_delete_selected(HangarWindow *self);

G_END_DECLS
