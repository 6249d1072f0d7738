/* HangarMachineWindow: one machine's display and control panel (template
 * gui/ui/hangar-machine-window.ui).
 *
 * The controls are actions of a per-machine group "machine" (start, pause, resume, reset,
 * shut-down, power-off, send-keys, screenshot, copy-command-line, scale, fullscreen,
 * show-panel) so header-bar buttons, menus and keyboard shortcuts share them. Their
 * enabled state follows the machine's state, which the header bar's subtitle and the
 * status line show at all times. Closing the window powers the machine off.
 *
 * The control panel beside the display is a GtkStack with a sidebar, one page per
 * capability, each its own small widget: "Machine" (the hangar-run command line),
 * "Media" (HangarMediaPanel), "Serial Console" and "Monitor Console" (HangarConsole),
 * "Log" (HangarLogView). USB, audio recording and saved states join it the same way with
 * hangar_machine_window_add_section.
 *
 * Errors reach the person here, in words: a failed start, a refused media change, a
 * screenshot that could not be written, a guest that ignores the power button show in an
 * info bar over the display (and in the log).
 *
 * Window size, maximized, scaling mode and the open panel page are kept per machine in
 * GSettings (relocatable schema org.hangar.Hangar.MachineWindow at
 * /org/hangar/Hangar/machines/ID/, as virt-manager keeps per-VM state).
 *
 * Keys typed while the display has the focus go to the guest before any accelerator, so
 * that Ctrl+Q or F10 reach the guest; only Ctrl+Alt chords stay the manager's own.
 */
#include "hangar-machine-window.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "hangar-console.h"
#include "hangar-log-view.h"
#include "hangar-media-panel.h"
#include "hangar-states-panel.h"
#include "hangar-audio-panel.h"
#include "hangar-usb-panel.h"

enum { RESPONSE_COPY_IMAGE = 1, RESPONSE_POWER_OFF = 2 };

struct _HangarMachineWindow {
    GtkApplicationWindow parent_instance;
    HangarMachine *machine;
    gulong state_id, media_id;
    GSimpleActionGroup *actions;
    GtkHeaderBar *header;
    HangarDisplay *display;
    GtkLabel *state_label;
    GtkBox *display_box;
    GtkWidget *panel_box;
    GtkStack *panel_stack;
    GtkInfoBar *info_bar;
    GtkLabel *info_label;
    GtkWidget *start_button, *pause_button, *resume_button;
    GtkLabel *command_line_label;
    GtkWidget *serial_console, *monitor_console, *log_view, *media_panel;
    GSettings *settings;        /* the manager's, or NULL */
    GSettings *window_settings; /* this machine's window, or NULL */
    char *last_screenshot;      /* for the info bar's Copy to Clipboard */
    int width, height;          /* the unmaximized size, saved at close */
    gboolean maximized;
};

G_DEFINE_TYPE(HangarMachineWindow, hangar_machine_window, GTK_TYPE_APPLICATION_WINDOW)

static void set_enabled(HangarMachineWindow *self, const char *name, gboolean enabled)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self->actions), name);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(a), enabled);
}

/* --- Messages in the window --- */

static void on_info_response(GtkInfoBar *bar, int response, gpointer data)
{
    HangarMachineWindow *self = data;
    if (response == RESPONSE_COPY_IMAGE && self->last_screenshot) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file(self->last_screenshot, &error);
        if (pixbuf)
            gtk_clipboard_set_image(
                gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD), pixbuf);
        else
            hangar_machine_window_show_message(self, GTK_MESSAGE_ERROR, error->message);
        if (pixbuf)
            gtk_widget_hide(GTK_WIDGET(bar));
        return;
    }
    if (response == RESPONSE_POWER_OFF && self->machine)
        hangar_machine_power_off(self->machine);
    gtk_widget_hide(GTK_WIDGET(bar));
}

/* Replaces the info bar's buttons (none, or one with the response). */
static void set_info_button(HangarMachineWindow *self, const char *label, int response)
{
    GtkWidget *area = gtk_info_bar_get_action_area(self->info_bar);
    g_autoptr(GList) children = gtk_container_get_children(GTK_CONTAINER(area));
    /* Only the buttons added here go: the close button is GtkInfoBar's own. */
    for (GList *l = children; l; l = l->next)
        if (g_object_get_data(l->data, "hangar-response"))
            gtk_widget_destroy(l->data);
    if (label) {
        GtkWidget *b = gtk_info_bar_add_button(self->info_bar, label, response);
        g_object_set_data(G_OBJECT(b), "hangar-response", GINT_TO_POINTER(response));
    }
}

void hangar_machine_window_show_message(HangarMachineWindow *self, GtkMessageType type,
                                        const char *text)
{
    set_info_button(self, NULL, 0);
    gtk_info_bar_set_message_type(self->info_bar, type);
    gtk_label_set_text(self->info_label, text);
    gtk_widget_show(GTK_WIDGET(self->info_bar));
}

const char *hangar_machine_window_get_message(HangarMachineWindow *self)
{
    return gtk_widget_get_visible(GTK_WIDGET(self->info_bar)) ? gtk_label_get_text(self->info_label)
                                                              : NULL;
}

/* --- State --- */

static void update_command_line(HangarMachineWindow *self)
{
    g_autofree char *line = hg_config_to_command_line(hangar_machine_get_config(self->machine));
    gtk_label_set_text(self->command_line_label, line);
}

static void update_state(HangarMachineWindow *self)
{
    HangarMachineState state = hangar_machine_get_state(self->machine);
    const char *label = hangar_machine_state_label(state);
    /* The way out of the grab is always in sight while the grab holds. */
    g_autofree char *subtitle =
        hangar_display_get_grabbed(self->display)
            ? g_strdup_printf(_("%s — press Left Ctrl+Left Alt to release the mouse"), label)
            : g_strdup(label);
    gtk_header_bar_set_subtitle(self->header, subtitle);
    gtk_label_set_text(self->state_label, subtitle);
    gboolean stopped = state == HANGAR_MACHINE_STOPPED;
    set_enabled(self, "start", stopped);
    set_enabled(self, "pause", state == HANGAR_MACHINE_RUNNING);
    set_enabled(self, "resume", state == HANGAR_MACHINE_PAUSED);
    set_enabled(self, "reset", !stopped);
    set_enabled(self, "shut-down", state == HANGAR_MACHINE_RUNNING);
    set_enabled(self, "power-off", !stopped);
    set_enabled(self, "send-keys", !stopped);
    set_enabled(self, "screenshot", !stopped);
    /* Only the buttons that can do something now are shown. */
    gtk_widget_set_visible(self->start_button, stopped);
    gtk_widget_set_visible(self->pause_button, state != HANGAR_MACHINE_PAUSED);
    gtk_widget_set_visible(self->resume_button, state == HANGAR_MACHINE_PAUSED);
}

static void on_state_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    update_state(HANGAR_MACHINE_WINDOW(data));
}

static void on_media_changed(HangarMachine *m, const char *drive, gpointer data)
{
    update_command_line(HANGAR_MACHINE_WINDOW(data));
}

static void on_grab_notify(HangarMachineWindow *self)
{
    if (self->machine)
        update_state(self);
}

/* --- Actions --- */

static void start_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    g_autoptr(GError) error = NULL;
    if (!hangar_machine_start(self->machine, &error)) {
        g_autofree char *text = g_strdup_printf(
            _("“%s” cannot start: %s"), hangar_machine_get_name(self->machine), error->message);
        hangar_machine_window_show_message(self, GTK_MESSAGE_ERROR, text);
        return;
    }
    gtk_widget_hide(GTK_WIDGET(self->info_bar));
    gtk_widget_grab_focus(GTK_WIDGET(self->display));
}

static const char *scale_name(HangarScaleMode m)
{
    return m == HANGAR_SCALE_INTEGER ? "integer" : m == HANGAR_SCALE_NONE ? "1:1" : "fit";
}

static void scale_changed(GSimpleAction *a, GVariant *value, gpointer data)
{
    HangarMachineWindow *self = data;
    const char *mode = g_variant_get_string(value, NULL);
    HangarScaleMode m = !strcmp(mode, "integer") ? HANGAR_SCALE_INTEGER
                        : !strcmp(mode, "1:1")   ? HANGAR_SCALE_NONE
                                                 : HANGAR_SCALE_FIT;
    hangar_display_set_scale_mode(self->display, m);
    g_simple_action_set_state(a, g_variant_new_string(scale_name(m)));
    if (self->window_settings)
        g_settings_set_string(self->window_settings, "scale-mode", scale_name(m));
}

static void fullscreen_changed(GSimpleAction *a, GVariant *value, gpointer data)
{
    if (g_variant_get_boolean(value))
        gtk_window_fullscreen(GTK_WINDOW(data));
    else
        gtk_window_unfullscreen(GTK_WINDOW(data));
    g_simple_action_set_state(a, value);
}

static void show_panel_changed(GSimpleAction *a, GVariant *value, gpointer data)
{
    HangarMachineWindow *self = data;
    gboolean show = g_variant_get_boolean(value);
    gtk_widget_set_visible(self->panel_box, show);
    g_simple_action_set_state(a, value);
    if (self->window_settings)
        g_settings_set_boolean(self->window_settings, "panel-visible", show);
}

static void pause_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    hangar_machine_pause(HANGAR_MACHINE_WINDOW(data)->machine);
}

static void resume_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    hangar_machine_resume(HANGAR_MACHINE_WINDOW(data)->machine);
}

static void reset_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    hangar_machine_reset(HANGAR_MACHINE_WINDOW(data)->machine);
}

static void shut_down_reply(const char *reply, gboolean keep_going, gpointer data)
{
    HangarMachineWindow *self = data;
    if (!*reply) {
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("Power button pressed"));
        return;
    }
    /* No ACPI operating system listens (a DOS, or the firmware still runs). */
    hangar_machine_window_show_message(
        self, GTK_MESSAGE_WARNING,
        _("The guest does not react to the power button (it has no ACPI support running). "
          "Shut it down from inside, or power it off."));
    set_info_button(self, _("_Power Off"), RESPONSE_POWER_OFF);
    hangar_machine_log(self->machine, G_LOG_LEVEL_WARNING,
                       _("The guest does not react to the power button"));
}

static void shut_down_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    hangar_machine_monitor(self->machine, "system_powerdown", shut_down_reply, g_object_ref(self),
                           g_object_unref);
}

static void on_power_off_response(GtkDialog *dialog, int response, gpointer data)
{
    HangarMachineWindow *self = data;
    gtk_widget_destroy(GTK_WIDGET(dialog));
    if (response == GTK_RESPONSE_ACCEPT && self->machine)
        hangar_machine_power_off(self->machine);
}

static void power_off_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    if (!self->settings || !g_settings_get_boolean(self->settings, "confirm-power-off")) {
        hangar_machine_power_off(self->machine);
        return;
    }
    /* Like pulling the plug: whatever the guest did not write to disk is lost. */
    GtkWidget *dialog = gtk_message_dialog_new(
        GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_WARNING,
        GTK_BUTTONS_NONE, _("Power off “%s”?"), hangar_machine_get_name(self->machine));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(dialog), "%s",
        _("The machine stops at once, as if unplugged: what its programs have not saved is "
          "lost."));
    gtk_dialog_add_buttons(GTK_DIALOG(dialog), _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Power Off"),
                           GTK_RESPONSE_ACCEPT, NULL);
    GtkWidget *ok = gtk_dialog_get_widget_for_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
    gtk_style_context_add_class(gtk_widget_get_style_context(ok), "destructive-action");
    g_signal_connect_object(dialog, "response", G_CALLBACK(on_power_off_response), self, 0);
    gtk_widget_show(dialog);
}

static void send_keys_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    hangar_machine_send_chord(self->machine, g_variant_get_string(p, NULL));
}

/* The user's Pictures folder (XDG user dirs), or ~/Pictures when none is configured. */
static char *pictures_dir(void)
{
    const char *dir = g_get_user_special_dir(G_USER_DIRECTORY_PICTURES);
    return dir ? g_strdup(dir) : g_build_filename(g_get_home_dir(), "Pictures", NULL);
}

char *hangar_machine_window_take_screenshot(HangarMachineWindow *self, GError **error)
{
    HgMachine *hg = hangar_machine_get_hg(self->machine);
    if (!hg) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    _("The machine is not running: there is no screen to take."));
        return NULL;
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H-%M-%S");
    g_autofree char *name =
        g_strdup_printf("%s %s.png", hangar_machine_get_name(self->machine), stamp);
    g_strdelimit(name, "/", '-');
    /* Into the profile first (docs/architecture.md: screenshots live with the machine). */
    g_autofree char *dir =
        g_build_filename(hangar_machine_get_dir(self->machine), "screenshots", NULL);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    _("Cannot create the folder %s: %s"), dir, g_strerror(e));
        return NULL;
    }
    char *path = g_build_filename(dir, name, NULL);
    if (!hg_machine_screendump(hg, path, error)) {
        g_free(path);
        return NULL;
    }
    g_autofree char *pictures = pictures_dir();
    g_autofree char *copy = g_build_filename(pictures, name, NULL);
    g_autoptr(GFile) src = g_file_new_for_path(path);
    g_autoptr(GFile) dst = g_file_new_for_path(copy);
    if (g_mkdir_with_parents(pictures, 0755) != 0 ||
        !g_file_copy(src, dst, G_FILE_COPY_NONE, NULL, NULL, NULL, error)) {
        if (error && !*error)
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("Cannot create the folder %s"),
                        pictures);
        g_prefix_error(error, _("The screenshot is in %s, but not in Pictures: "), path);
        g_free(path);
        return NULL;
    }
    return path;
}

/* Whether a notification server runs (GNOME Shell's org.gtk.Notifications or any
 * org.freedesktop.Notifications): without one GLib would only warn. */
static gboolean notifications_available(GApplication *app)
{
    GDBusConnection *bus = g_application_get_dbus_connection(app);
    if (!bus)
        return FALSE;
    for (const char *const *name =
             (const char *const[]){"org.gtk.Notifications", "org.freedesktop.Notifications", NULL};
         *name; name++) {
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
            bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "NameHasOwner", g_variant_new("(s)", *name), G_VARIANT_TYPE("(b)"),
            G_DBUS_CALL_FLAGS_NONE, 500, NULL, NULL);
        gboolean owned = FALSE;
        if (reply)
            g_variant_get(reply, "(b)", &owned);
        if (owned)
            return TRUE;
    }
    return FALSE;
}

static void screenshot_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = hangar_machine_window_take_screenshot(self, &error);
    if (!path) {
        g_autofree char *text = g_strdup_printf(_("The screenshot failed: %s"), error->message);
        hangar_machine_window_show_message(self, GTK_MESSAGE_ERROR, text);
        hangar_machine_log(self->machine, G_LOG_LEVEL_WARNING, "%s", text);
        return;
    }
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *text = g_strdup_printf(
        _("Screenshot saved as “%s” in Pictures and in the machine's folder."), base);
    g_free(self->last_screenshot);
    self->last_screenshot = g_strdup(path);
    hangar_machine_window_show_message(self, GTK_MESSAGE_INFO, text);
    set_info_button(self, _("_Copy to Clipboard"), RESPONSE_COPY_IMAGE);
    hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("Screenshot saved: %s"), path);
    /* The desktop's notification too, for when the window is not in sight. */
    GApplication *app = G_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
    if (app && g_application_get_is_registered(app) && notifications_available(app)) {
        g_autoptr(GNotification) n = g_notification_new(_("Screenshot taken"));
        g_notification_set_body(n, text);
        g_application_send_notification(app, "hangar-screenshot", n);
    }
}

static void copy_command_line_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    g_autofree char *line = hg_config_to_command_line(hangar_machine_get_config(self->machine));
    gtk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self), GDK_SELECTION_CLIPBOARD),
                           line, -1);
    hangar_machine_window_show_message(
        self, GTK_MESSAGE_INFO,
        _("The hangar-run command line of this machine is on the clipboard."));
}

static const GActionEntry machine_actions[] = {
    {"start", start_activated, NULL, NULL, NULL, {0}},
    {"scale", NULL, "s", "'fit'", scale_changed, {0}},
    {"fullscreen", NULL, NULL, "false", fullscreen_changed, {0}},
    {"show-panel", NULL, NULL, "false", show_panel_changed, {0}},
    {"pause", pause_activated, NULL, NULL, NULL, {0}},
    {"resume", resume_activated, NULL, NULL, NULL, {0}},
    {"reset", reset_activated, NULL, NULL, NULL, {0}},
    {"shut-down", shut_down_activated, NULL, NULL, NULL, {0}},
    {"power-off", power_off_activated, NULL, NULL, NULL, {0}},
    {"send-keys", send_keys_activated, "s", NULL, NULL, {0}},
    {"screenshot", screenshot_activated, NULL, NULL, NULL, {0}},
    {"copy-command-line", copy_command_line_activated, NULL, NULL, NULL, {0}},
};

/* Shortcuts of the machine window: Ctrl+Alt chords, the only keys the display does not
 * pass to the guest (see hangar_machine_window_key_press). Listed in help-overlay.ui. */
static const struct {
    const char *action;
    const char *accel;
} machine_accels[] = {
    {"machine.screenshot", "<Ctrl><Alt>s"},
    {"machine.show-panel", "<Ctrl><Alt>m"},
    {"machine.copy-command-line", "<Ctrl><Alt>c"},
    {"machine.shut-down", "<Ctrl><Alt>d"},
};

/* --- Panel sections --- */

void hangar_machine_window_add_section(HangarMachineWindow *self, GtkWidget *section,
                                       const char *name, const char *title)
{
    gtk_widget_show(section);
    gtk_stack_add_titled(self->panel_stack, section, name, title);
}

gboolean hangar_machine_window_show_section(HangarMachineWindow *self, const char *name)
{
    GtkWidget *child = gtk_stack_get_child_by_name(self->panel_stack, name);
    if (!child)
        return FALSE;
    g_action_group_change_action_state(G_ACTION_GROUP(self->actions), "show-panel",
                                       g_variant_new_boolean(TRUE));
    gtk_stack_set_visible_child(self->panel_stack, child);
    return TRUE;
}

GtkWidget *hangar_machine_window_get_section(HangarMachineWindow *self, const char *name)
{
    return gtk_stack_get_child_by_name(self->panel_stack, name);
}

static void on_section_changed(GObject *stack, GParamSpec *pspec, gpointer data)
{
    HangarMachineWindow *self = data;
    const char *name = gtk_stack_get_visible_child_name(self->panel_stack);
    if (self->window_settings && name)
        g_settings_set_string(self->window_settings, "panel", name);
}

static void on_media_error(HangarMediaPanel *panel, const char *message, gpointer data)
{
    hangar_machine_window_show_message(HANGAR_MACHINE_WINDOW(data), GTK_MESSAGE_ERROR, message);
}

static void on_panel_error(GtkWidget *panel, const char *message, gpointer data)
{
    hangar_machine_window_show_message(HANGAR_MACHINE_WINDOW(data), GTK_MESSAGE_ERROR, message);
}

/* The "Machine" page: what the machine is, as the hangar-run line that builds it. */
static GtkWidget *machine_section(HangarMachineWindow *self)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_container_set_border_width(GTK_CONTAINER(box), 12);
    GtkWidget *heading = gtk_label_new(_("Command line"));
    gtk_label_set_xalign(GTK_LABEL(heading), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(heading), "dim-label");
    gtk_box_pack_start(GTK_BOX(box), heading, FALSE, FALSE, 0);
    self->command_line_label = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(self->command_line_label, 0);
    gtk_label_set_line_wrap(self->command_line_label, TRUE);
    gtk_label_set_line_wrap_mode(self->command_line_label, PANGO_WRAP_WORD_CHAR);
    gtk_label_set_selectable(self->command_line_label, TRUE);
    gtk_style_context_add_class(gtk_widget_get_style_context(GTK_WIDGET(self->command_line_label)),
                                "monospace");
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->command_line_label)),
                        _("Command line"));
    gtk_box_pack_start(GTK_BOX(box), GTK_WIDGET(self->command_line_label), FALSE, FALSE, 0);
    GtkWidget *copy = gtk_button_new_with_mnemonic(_("_Copy Command Line"));
    gtk_actionable_set_action_name(GTK_ACTIONABLE(copy), "machine.copy-command-line");
    gtk_widget_set_halign(copy, GTK_ALIGN_START);
    gtk_widget_set_tooltip_text(copy, _("Copy the hangar-run command that starts this machine "
                                        "without the manager"));
    atk_object_set_name(gtk_widget_get_accessible(copy), _("Copy Command Line"));
    gtk_box_pack_start(GTK_BOX(box), copy, FALSE, FALSE, 0);
    gtk_widget_show_all(box);
    return box;
}

static void build_sections(HangarMachineWindow *self)
{
    hangar_machine_window_add_section(self, machine_section(self), "machine", _("Machine"));
    self->media_panel = hangar_media_panel_new(self->machine, self->settings);
    g_signal_connect_object(self->media_panel, "error", G_CALLBACK(on_media_error), self, 0);
    hangar_machine_window_add_section(self, self->media_panel, "media", _("Media"));
    GtkWidget *states = hangar_states_panel_new(self->machine);
    g_signal_connect_object(states, "error", G_CALLBACK(on_panel_error), self, 0);
    hangar_machine_window_add_section(self, states, "states", _("Saved States"));
    GtkWidget *audio = hangar_audio_panel_new(self->machine);
    g_signal_connect_object(audio, "error", G_CALLBACK(on_panel_error), self, 0);
    hangar_machine_window_add_section(self, audio, "audio", _("Sound"));
    GtkWidget *usb = hangar_usb_panel_new(self->machine);
    g_signal_connect_object(usb, "error", G_CALLBACK(on_panel_error), self, 0);
    hangar_machine_window_add_section(self, usb, "usb", _("USB"));
    self->serial_console = hangar_console_new(self->machine, HANGAR_CONSOLE_SERIAL);
    hangar_machine_window_add_section(self, self->serial_console, "serial", _("Serial Console"));
    self->monitor_console = hangar_console_new(self->machine, HANGAR_CONSOLE_MONITOR);
    hangar_machine_window_add_section(self, self->monitor_console, "monitor", _("Monitor Console"));
    self->log_view = hangar_log_view_new(self->machine);
    hangar_machine_window_add_section(self, self->log_view, "log", _("Log"));
    g_signal_connect_object(self->panel_stack, "notify::visible-child",
                            G_CALLBACK(on_section_changed), self, 0);
}

/* --- Per-machine window state --- */

static GSettings *window_settings_for(const char *id)
{
    GSettingsSchemaSource *src = g_settings_schema_source_get_default();
    g_autoptr(GSettingsSchema) schema =
        src ? g_settings_schema_source_lookup(src, HANGAR_APP_ID ".MachineWindow", TRUE) : NULL;
    if (!schema)
        return NULL;
    /* GSettings paths take [A-Za-z0-9-_.] safely; other characters of a folder name are
     * replaced (two ids differing only there share their window state). */
    g_autofree char *safe = g_strdup(id);
    g_strcanon(safe, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", '_');
    g_autofree char *path = g_strdup_printf("/org/hangar/Hangar/machines/%s/", safe);
    return g_settings_new_full(schema, NULL, path);
}

static void restore_window_state(HangarMachineWindow *self)
{
    GSettings *s = self->window_settings;
    if (!s)
        return;
    self->width = g_settings_get_int(s, "width");
    self->height = g_settings_get_int(s, "height");
    gtk_window_set_default_size(GTK_WINDOW(self), self->width, self->height);
    if (g_settings_get_boolean(s, "maximized"))
        gtk_window_maximize(GTK_WINDOW(self));
    g_autofree char *scale = g_settings_get_string(s, "scale-mode");
    g_action_group_change_action_state(G_ACTION_GROUP(self->actions), "scale",
                                       g_variant_new_string(scale));
    g_autofree char *panel = g_settings_get_string(s, "panel");
    GtkWidget *page = gtk_stack_get_child_by_name(self->panel_stack, panel);
    if (page)
        gtk_stack_set_visible_child(self->panel_stack, page);
    g_action_group_change_action_state(
        G_ACTION_GROUP(self->actions), "show-panel",
        g_variant_new_boolean(g_settings_get_boolean(s, "panel-visible")));
}

static void save_window_state(HangarMachineWindow *self)
{
    GSettings *s = self->window_settings;
    if (!s)
        return;
    g_settings_set_int(s, "width", self->width);
    g_settings_set_int(s, "height", self->height);
    g_settings_set_boolean(s, "maximized", self->maximized);
}

static void hangar_machine_window_size_allocate(GtkWidget *widget, GtkAllocation *alloc)
{
    HangarMachineWindow *self = HANGAR_MACHINE_WINDOW(widget);
    GTK_WIDGET_CLASS(hangar_machine_window_parent_class)->size_allocate(widget, alloc);
    GdkWindow *w = gtk_widget_get_window(widget);
    GdkWindowState st = w ? gdk_window_get_state(w) : 0;
    if (!(st & (GDK_WINDOW_STATE_MAXIMIZED | GDK_WINDOW_STATE_FULLSCREEN | GDK_WINDOW_STATE_TILED)))
        gtk_window_get_size(GTK_WINDOW(widget), &self->width, &self->height);
}

static gboolean hangar_machine_window_state_event(GtkWidget *widget, GdkEventWindowState *event)
{
    HANGAR_MACHINE_WINDOW(widget)->maximized =
        (event->new_window_state & GDK_WINDOW_STATE_MAXIMIZED) != 0;
    return GTK_WIDGET_CLASS(hangar_machine_window_parent_class)->window_state_event(widget, event);
}

/* --- Construction --- */

HangarMachineWindow *hangar_machine_window_new(HangarApplication *app, HangarMachine *machine)
{
    HangarMachineWindow *self = g_object_new(HANGAR_TYPE_MACHINE_WINDOW, "application", app, NULL);
    self->machine = g_object_ref(machine);
    const char *name = hangar_machine_get_name(machine);
    gtk_window_set_title(GTK_WINDOW(self), name);
    gtk_header_bar_set_title(self->header, name);
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state_notify), self);
    self->media_id = g_signal_connect(machine, "media-changed", G_CALLBACK(on_media_changed), self);
    hangar_display_set_machine(self->display, machine);
    build_sections(self);
    update_command_line(self);
    self->window_settings = window_settings_for(hangar_machine_get_id(machine));
    restore_window_state(self);
    for (size_t i = 0; i < G_N_ELEMENTS(machine_accels); i++)
        gtk_application_set_accels_for_action(GTK_APPLICATION(app), machine_accels[i].action,
                                              (const char *[]){machine_accels[i].accel, NULL});
    update_state(self);
    gtk_widget_grab_focus(GTK_WIDGET(self->display));
    return self;
}

HangarMachine *hangar_machine_window_get_machine(HangarMachineWindow *self)
{
    return self->machine;
}

HangarDisplay *hangar_machine_window_get_display(HangarMachineWindow *self)
{
    return self->display;
}

static void hangar_machine_window_dispose(GObject *object)
{
    HangarMachineWindow *self = HANGAR_MACHINE_WINDOW(object);
    save_window_state(self);
    if (self->machine) {
        g_clear_signal_handler(&self->state_id, self->machine);
        g_clear_signal_handler(&self->media_id, self->machine);
        hangar_machine_power_off(self->machine);
        g_clear_object(&self->machine);
    }
    g_clear_object(&self->actions);
    g_clear_object(&self->settings);
    g_clear_object(&self->window_settings);
    g_clear_pointer(&self->last_screenshot, g_free);
    G_OBJECT_CLASS(hangar_machine_window_parent_class)->dispose(object);
}

static gboolean hangar_machine_window_key_press(GtkWidget *widget, GdkEventKey *event)
{
    HangarMachineWindow *self = HANGAR_MACHINE_WINDOW(widget);
    GdkModifierType mods = event->state & gtk_accelerator_get_default_mod_mask();
    gboolean host_chord =
        (mods & (GDK_CONTROL_MASK | GDK_MOD1_MASK)) == (GDK_CONTROL_MASK | GDK_MOD1_MASK);
    if (!host_chord && gtk_widget_has_focus(GTK_WIDGET(self->display)) &&
        gtk_window_propagate_key_event(GTK_WINDOW(self), event))
        return GDK_EVENT_STOP;
    return GTK_WIDGET_CLASS(hangar_machine_window_parent_class)->key_press_event(widget, event);
}

static void hangar_machine_window_class_init(HangarMachineWindowClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    widget_class->key_press_event = hangar_machine_window_key_press;
    widget_class->size_allocate = hangar_machine_window_size_allocate;
    widget_class->window_state_event = hangar_machine_window_state_event;
    G_OBJECT_CLASS(klass)->dispose = hangar_machine_window_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/hangar/Hangar/ui/hangar-machine-window.ui");
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, header);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, display_box);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, state_label);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, panel_box);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, panel_stack);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, info_bar);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, info_label);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, start_button);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, pause_button);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, resume_button);
}

static void hangar_machine_window_init(HangarMachineWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->width = 800;
    self->height = 560;
    self->display = HANGAR_DISPLAY(hangar_display_new());
    gtk_widget_show(GTK_WIDGET(self->display));
    gtk_box_pack_start(self->display_box, GTK_WIDGET(self->display), TRUE, TRUE, 0);
    g_signal_connect_object(self->display, "notify::grabbed", G_CALLBACK(on_grab_notify), self,
                            G_CONNECT_SWAPPED);
    g_signal_connect_object(self->info_bar, "response", G_CALLBACK(on_info_response), self, 0);
    self->actions = g_simple_action_group_new();
    g_action_map_add_action_entries(G_ACTION_MAP(self->actions), machine_actions,
                                    G_N_ELEMENTS(machine_actions), self);
    gtk_widget_insert_action_group(GTK_WIDGET(self), "machine", G_ACTION_GROUP(self->actions));
    self->settings = hangar_application_settings();
}
