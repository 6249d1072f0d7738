/* HangarDisplay: a running machine's screen, scaled to fit, and its keyboard. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_DISPLAY (hangar_display_get_type())
G_DECLARE_FINAL_TYPE(HangarDisplay, hangar_display, HANGAR, DISPLAY, GtkDrawingArea)

GtkWidget *hangar_display_new(void);
void hangar_display_set_machine(HangarDisplay *self, HangarMachine *machine);
/* The copy of the guest screen the widget draws (NULL before the first frame). */
cairo_surface_t *hangar_display_get_surface(HangarDisplay *self);

G_END_DECLS
