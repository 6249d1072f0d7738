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

G_END_DECLS
