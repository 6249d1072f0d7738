/* HangarLogView: the machine's messages with their times (the machine window's "Log"). */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_LOG_VIEW (hangar_log_view_get_type())
G_DECLARE_FINAL_TYPE(HangarLogView, hangar_log_view, HANGAR, LOG_VIEW, GtkScrolledWindow)

GtkWidget *hangar_log_view_new(HangarMachine *machine);
/* The whole log as shown, for tests. */
char *hangar_log_view_get_text(HangarLogView *self);

G_END_DECLS
