/* HangarConsole: a machine's serial port or its monitor in a terminal (VTE, no PTY). */
#pragma once

#include <gtk/gtk.h>

#include "hangar-machine.h"

G_BEGIN_DECLS

typedef enum {
    HANGAR_CONSOLE_SERIAL,  /* COM1: guest output shown, typed bytes sent to the guest */
    HANGAR_CONSOLE_MONITOR, /* the monitor: a prompt with line editing, replies shown */
} HangarConsoleKind;

#define HANGAR_TYPE_CONSOLE (hangar_console_get_type())
G_DECLARE_FINAL_TYPE(HangarConsole, hangar_console, HANGAR, CONSOLE, GtkBox)

GtkWidget *hangar_console_new(HangarMachine *machine, HangarConsoleKind kind);
/* What a person types, as the terminal's "commit" signal delivers it (tests use it). */
void hangar_console_type(HangarConsole *self, const char *text);
/* The text on the terminal so far (scrollback included), for tests. */
char *hangar_console_get_text(HangarConsole *self);
/* The terminal widget (keyboard focus goes there), or a label without VTE. */
GtkWidget *hangar_console_get_terminal(HangarConsole *self);

G_END_DECLS
