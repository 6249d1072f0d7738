/* HangarStatesPanel: a machine's saved states in its control panel: save the running
 * machine under a name, list the states with their screenshots and dates, restore and
 * delete them. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_STATES_PANEL (hangar_states_panel_get_type())
G_DECLARE_FINAL_TYPE(HangarStatesPanel, hangar_states_panel, HANGAR, STATES_PANEL, GtkBox)

/* Signal "error" (const char *message) when saving, restoring or deleting was refused,
 * with the reason in words. */
GtkWidget *hangar_states_panel_new(HangarMachine *machine);
/* Reads the profile's states/ folder again. */
void hangar_states_panel_refresh(HangarStatesPanel *self);
/* The rows shown (for tests). */
guint hangar_states_panel_count(HangarStatesPanel *self);
/* What the Save State and Restore buttons do (for tests). */
void hangar_states_panel_save(HangarStatesPanel *self, const char *name);
void hangar_states_panel_restore(HangarStatesPanel *self, const char *name);

G_END_DECLS
