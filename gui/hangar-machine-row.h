/* HangarMachineRow: one machine in the main window's list (name, guest type, state). */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_MACHINE_ROW (hangar_machine_row_get_type())
G_DECLARE_FINAL_TYPE(HangarMachineRow, hangar_machine_row, HANGAR, MACHINE_ROW, GtkListBoxRow)

GtkWidget *hangar_machine_row_new(HangarMachine *machine);
HangarMachine *hangar_machine_row_get_machine(HangarMachineRow *self);

G_END_DECLS
