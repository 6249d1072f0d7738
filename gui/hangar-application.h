/* HangarApplication: the GtkApplication of the manager (id org.hangar.Hangar). */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_APP_ID "org.hangar.Hangar"

#define HANGAR_TYPE_APPLICATION (hangar_application_get_type())
G_DECLARE_FINAL_TYPE(HangarApplication, hangar_application, HANGAR, APPLICATION, GtkApplication)

HangarApplication *hangar_application_new(GApplicationFlags flags);
/* Starts the machine if it is stopped and presents its window (one per machine);
 * an error is shown in a dialog over parent. Returns the window, or NULL. */
GtkWindow *hangar_application_open_machine(HangarApplication *self, HangarMachine *machine,
                                           GtkWindow *parent);
/* The manager's GSettings, or NULL when the schema is not installed (a warning says so). */
GSettings *hangar_application_settings(void);

G_END_DECLS
