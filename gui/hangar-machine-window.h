/* HangarMachineWindow: the window of one running machine (display and controls). */
#pragma once

#include <gtk/gtk.h>

#include "hangar-application.h"
#include "hangar-display.h"
#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_MACHINE_WINDOW (hangar_machine_window_get_type())
G_DECLARE_FINAL_TYPE(HangarMachineWindow, hangar_machine_window, HANGAR, MACHINE_WINDOW,
                     GtkApplicationWindow)

HangarMachineWindow *hangar_machine_window_new(HangarApplication *app, HangarMachine *machine);
HangarMachine *hangar_machine_window_get_machine(HangarMachineWindow *self);
HangarDisplay *hangar_machine_window_get_display(HangarMachineWindow *self);

/* The info bar over the display: errors and confirmations in words. The text shown, or
 * NULL when the bar is hidden. */
void hangar_machine_window_show_message(HangarMachineWindow *self, GtkMessageType type,
                                        const char *text);
const char *hangar_machine_window_get_message(HangarMachineWindow *self);
/* Saves the screen as a PNG in the profile's screenshots folder and copies it to the
 * user's Pictures folder; returns the profile copy's path. */
char *hangar_machine_window_take_screenshot(HangarMachineWindow *self, GError **error);

/* The control panel: one section per capability ("machine", "media", "serial",
 * "monitor", "log"; later issues add theirs with add_section). show_section opens the
 * panel on a section; get_section returns its widget (or NULL). */
void hangar_machine_window_add_section(HangarMachineWindow *self, GtkWidget *section,
                                       const char *name, const char *title);
gboolean hangar_machine_window_show_section(HangarMachineWindow *self, const char *name);
GtkWidget *hangar_machine_window_get_section(HangarMachineWindow *self, const char *name);

G_END_DECLS
