/* HangarAssistant: the new-machine assistant, and with the same pages the settings dialog
 * of a stopped machine. */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

#define HANGAR_TYPE_ASSISTANT (hangar_assistant_get_type())
G_DECLARE_FINAL_TYPE(HangarAssistant, hangar_assistant, HANGAR, ASSISTANT, GtkAssistant)

/* A new machine: its profile goes to $XDG_DATA_HOME/hangar/machines/ID/. */
HangarAssistant *hangar_assistant_new(GtkWindow *parent);
/* The settings of a stopped machine, saved back into its profile (keys this version
 * does not know are kept). */
HangarAssistant *hangar_assistant_new_for_machine(GtkWindow *parent, HangarMachine *machine);

/* Signal "saved" (const char *id): the profile was written; the assistant then closes. */
/* Whether the person asked to start the new machine at once (the summary's check box). */
gboolean hangar_assistant_get_start(HangarAssistant *self);

/* Turns a machine name into a profile id ("My DOS PC" -> "my-dos-pc"), unique among the
 * folders in the machines folder (a suffix -2, -3... when taken). */
char *hangar_assistant_make_id(const char *name);

/* A locally administered unicast MAC address in QEMU's 52:54:00 range, random below. */
void hangar_assistant_random_mac(uint8_t mac[6]);

G_END_DECLS
