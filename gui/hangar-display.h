/* HangarDisplay: a running machine's screen, scaled to fit, and its keyboard. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_DISPLAY (hangar_display_get_type())
G_DECLARE_FINAL_TYPE(HangarDisplay, hangar_display, HANGAR, DISPLAY, GtkDrawingArea)

typedef enum {
    HANGAR_SCALE_FIT,     /* as large as the widget allows, aspect ratio kept */
    HANGAR_SCALE_INTEGER, /* the largest whole multiple that fits (at least 1:1) */
    HANGAR_SCALE_NONE,    /* 1:1, the widget asks for the guest's size */
} HangarScaleMode;

GtkWidget *hangar_display_new(void);
void hangar_display_set_scale_mode(HangarDisplay *self, HangarScaleMode mode);
HangarScaleMode hangar_display_get_scale_mode(HangarDisplay *self);
/* The scale factor the last drawing used (guest pixels to widget pixels). */
double hangar_display_get_scale(HangarDisplay *self);
void hangar_display_set_machine(HangarDisplay *self, HangarMachine *machine);
/* The pointer and keyboard grab: a click on the display takes them (unless the guest has an
 * absolute pointing device), Left Ctrl + Left Alt gives them back. Property "grabbed". */
gboolean hangar_display_get_grabbed(HangarDisplay *self);
void hangar_display_ungrab(HangarDisplay *self);
/* The copy of the guest screen the widget draws (NULL before the first frame). */
cairo_surface_t *hangar_display_get_surface(HangarDisplay *self);

G_END_DECLS
