/* HangarUsbPanel: a running machine's USB devices in its control panel: attach a tablet,
 * keyboard, mouse or storage image, see what is plugged in, detach. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_USB_PANEL (hangar_usb_panel_get_type())
G_DECLARE_FINAL_TYPE(HangarUsbPanel, hangar_usb_panel, HANGAR, USB_PANEL, GtkBox)

/* Signals: "error" (const char *message) when attaching or detaching was refused, with the
 * reason in words; "changed" when the list was read again. */
GtkWidget *hangar_usb_panel_new(HangarMachine *machine);
void hangar_usb_panel_refresh(HangarUsbPanel *self);
/* What the Attach buttons do: spec is "tablet", "keyboard", "mouse" or "storage:FILE". */
void hangar_usb_panel_attach(HangarUsbPanel *self, const char *spec);
/* For tests: requests still on their way, and the rows shown. */
gboolean hangar_usb_panel_busy(HangarUsbPanel *self);
guint hangar_usb_panel_count(HangarUsbPanel *self);

G_END_DECLS
