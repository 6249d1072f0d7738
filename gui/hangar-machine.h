/* HangarMachine: one machine profile as the manager sees it, and its emulator instance
 * while it runs (created in-process, on its own emulation thread). */
#pragma once

#include <gtk/gtk.h>

#include "display.h"
#include "hangar.h"

G_BEGIN_DECLS

typedef enum {
    HANGAR_MACHINE_STOPPED,
    HANGAR_MACHINE_RUNNING,
    HANGAR_MACHINE_PAUSED,
} HangarMachineState;

#define HANGAR_TYPE_MACHINE (hangar_machine_get_type())
G_DECLARE_FINAL_TYPE(HangarMachine, hangar_machine, HANGAR, MACHINE, GObject)

/* Loads the profile in dir (its machine.ini); id names it (the folder's name). */
HangarMachine *hangar_machine_new_from_dir(const char *id, const char *dir, GError **error);

/* Reads machine.ini again into this object (a powered-off machine only; windows and rows
 * that hold it see the new settings). */
gboolean hangar_machine_reload(HangarMachine *self, GError **error);

const char *hangar_machine_get_id(HangarMachine *self);
const char *hangar_machine_get_dir(HangarMachine *self);
const char *hangar_machine_get_name(HangarMachine *self);
const char *hangar_machine_get_guest_type(HangarMachine *self);
/* The guest type in words ("Windows 9x"), translated. */
const char *hangar_machine_get_guest_type_label(HangarMachine *self);
const HgConfig *hangar_machine_get_config(HangarMachine *self);
HangarMachineState hangar_machine_get_state(HangarMachine *self);
/* The state in words ("Running"), translated. */
const char *hangar_machine_state_label(HangarMachineState state);

/* Creates the emulator from the profile and starts its emulation thread. */
gboolean hangar_machine_start(HangarMachine *self, GError **error);
void hangar_machine_pause(HangarMachine *self);
void hangar_machine_resume(HangarMachine *self);
void hangar_machine_reset(HangarMachine *self);
/* Forced power off: ends the emulation thread and frees the emulator. */
void hangar_machine_power_off(HangarMachine *self);
void hangar_machine_send_key(HangarMachine *self, uint16_t code, gboolean pressed);
/* Relative mouse motion and buttons (HG_BUTTON_*), and the absolute position in guest
 * display pixels: FALSE when the guest has no absolute pointing device. */
void hangar_machine_send_mouse(HangarMachine *self, int dx, int dy, int dz, unsigned buttons);
gboolean hangar_machine_send_pointer(HangarMachine *self, int x, int y, unsigned buttons);
/* Presses the keys of a chord named with the engine's key names ("ctrl+alt+delete") in
 * order and releases them in reverse. FALSE (nothing sent) if a name is unknown. */
gboolean hangar_machine_send_chord(HangarMachine *self, const char *chord);

/* The running emulator's display, or NULL when stopped. Signal "display-changed"
 * (gboolean resized) is emitted on the GTK thread after the guest drew something. */
HgDisplay *hangar_machine_get_display(HangarMachine *self);
/* Writes thumbnail.png in the profile folder from the running machine's screen (done
 * when it pauses, powers off and every 20 s); signal "thumbnail-saved" follows. */
void hangar_machine_save_thumbnail(HangarMachine *self);

/* The running emulator itself, or NULL (for tests and future panels). */
HgMachine *hangar_machine_get_hg(HangarMachine *self);

/* --- The control panel's side (gui/hangar-machine-panel.c) --- */

/* Signals, on the GTK thread: "serial-output" (int port, GBytes *bytes) with what the
 * guest sent on COM1/COM2, batched; "message" (gint64 unix time in µs, int GLogLevelFlags
 * level, const char *text) for the log view; "media-changed" (const char *drive) when
 * a drive's image changed. */
typedef struct HangarMachineMessage {
    gint64 time; /* g_get_real_time() */
    int level;   /* GLogLevelFlags */
    char *text;
} HangarMachineMessage;
/* The messages so far (oldest first; the last few hundred are kept). */
GPtrArray *hangar_machine_get_messages(HangarMachine *self);
/* Adds a message of the manager's own (start failures, screenshots) to the log. */
void hangar_machine_log(HangarMachine *self, int level, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
/* Bytes typed into the serial console: queued for the guest, none lost (the engine's
 * host-side UART queue). Dropped while the machine is stopped. */
void hangar_machine_serial_input(HangarMachine *self, int port, const guint8 *data, gsize len);
/* Runs a monitor command line on the emulation thread; done(reply, keep_going, data) is
 * called on the GTK thread. FALSE (done is not called) when the machine is stopped. */
typedef void (*HangarMonitorDone)(const char *reply, gboolean keep_going, gpointer data);
gboolean hangar_machine_monitor(HangarMachine *self, const char *line, HangarMonitorDone done,
                                gpointer data, GDestroyNotify data_free);
/* Drives the panel knows: "cdrom" and "fda". The image path, or NULL when empty. */
const char *hangar_machine_get_medium(HangarMachine *self, const char *drive);
/* Puts an image in a drive (path) or empties it (NULL): through the monitor's change and
 * eject while it runs, and into the profile either way. done(error, data) on the GTK
 * thread, error NULL on success (its message in words otherwise). */
typedef void (*HangarMediumDone)(const GError *error, gpointer data);
void hangar_machine_set_medium(HangarMachine *self, const char *drive, const char *path,
                               HangarMediumDone done, gpointer data);

G_END_DECLS
