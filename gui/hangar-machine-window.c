/* HangarMachineWindow: one machine's display and control panel (template
 * gui/ui/hangar-machine-window.ui).
 *
 * The controls are actions of a per-machine group "machine" (pause, resume, reset,
 * power-off) so menus, buttons and shortcuts share them and each later panel (media, USB,
 * recording) adds its own actions to the same group. Their enabled state follows the
 * machine's state, which the header bar's subtitle also shows. Closing the window powers
 * the machine off.
 *
 * Keys typed while the display has the focus go to the guest before any accelerator, so
 * that Ctrl+Q or F10 reach the guest; only Ctrl+Alt chords stay the manager's own.
 */
#include "hangar-machine-window.h"

#include <glib/gi18n.h>

struct _HangarMachineWindow {
    GtkApplicationWindow parent_instance;
    HangarMachine *machine;
    gulong state_id;
    GSimpleActionGroup *actions;
    GtkHeaderBar *header;
    HangarDisplay *display;
    GtkLabel *state_label;
    GtkBox *display_box;
    GSettings *settings;
};

G_DEFINE_TYPE(HangarMachineWindow, hangar_machine_window, GTK_TYPE_APPLICATION_WINDOW)

static void set_enabled(HangarMachineWindow *self, const char *name, gboolean enabled)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self->actions), name);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(a), enabled);
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
    set_enabled(self, "start", state == HANGAR_MACHINE_STOPPED);
    set_enabled(self, "pause", state == HANGAR_MACHINE_RUNNING);
    set_enabled(self, "resume", state == HANGAR_MACHINE_PAUSED);
    set_enabled(self, "reset", state != HANGAR_MACHINE_STOPPED);
    set_enabled(self, "power-off", state != HANGAR_MACHINE_STOPPED);
    set_enabled(self, "send-keys", state != HANGAR_MACHINE_STOPPED);
}

static void on_state_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    update_state(HANGAR_MACHINE_WINDOW(data));
}

static void start_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    HangarMachineWindow *self = data;
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));
    hangar_application_open_machine(HANGAR_APPLICATION(app), self->machine, GTK_WINDOW(self));
}

static void scale_changed(GSimpleAction *a, GVariant *value, gpointer data)
{
    HangarMachineWindow *self = data;
    const char *mode = g_variant_get_string(value, NULL);
    HangarScaleMode m = !strcmp(mode, "integer") ? HANGAR_SCALE_INTEGER
                        : !strcmp(mode, "1:1")   ? HANGAR_SCALE_NONE
                                                 : HANGAR_SCALE_FIT;
    hangar_display_set_scale_mode(self->display, m);
    g_simple_action_set_state(a, value);
}

static void fullscreen_changed(GSimpleAction *a, GVariant *value, gpointer data)
{
    if (g_variant_get_boolean(value))
        gtk_window_fullscreen(GTK_WINDOW(data));
    else
        gtk_window_unfullscreen(GTK_WINDOW(data));
    g_simple_action_set_state(a, value);
}

static void on_grab_notify(HangarMachineWindow *self)
{
    if (self->machine)
        update_state(self);
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

static const GActionEntry machine_actions[] = {
    {"start", start_activated, NULL, NULL, NULL, {0}},
    {"scale", NULL, "s", "'fit'", scale_changed, {0}},
    {"fullscreen", NULL, NULL, "false", fullscreen_changed, {0}},
    {"pause", pause_activated, NULL, NULL, NULL, {0}},
    {"resume", resume_activated, NULL, NULL, NULL, {0}},
    {"reset", reset_activated, NULL, NULL, NULL, {0}},
    {"power-off", power_off_activated, NULL, NULL, NULL, {0}},
    {"send-keys", send_keys_activated, "s", NULL, NULL, {0}},
};

HangarMachineWindow *hangar_machine_window_new(HangarApplication *app, HangarMachine *machine)
{
    HangarMachineWindow *self = g_object_new(HANGAR_TYPE_MACHINE_WINDOW, "application", app, NULL);
    self->machine = g_object_ref(machine);
    const char *name = hangar_machine_get_name(machine);
    gtk_window_set_title(GTK_WINDOW(self), name);
    gtk_header_bar_set_title(self->header, name);
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state_notify), self);
    hangar_display_set_machine(self->display, machine);
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
    if (self->machine) {
        g_clear_signal_handler(&self->state_id, self->machine);
        hangar_machine_power_off(self->machine);
        g_clear_object(&self->machine);
    }
    g_clear_object(&self->actions);
    g_clear_object(&self->settings);
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
    G_OBJECT_CLASS(klass)->dispose = hangar_machine_window_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/hangar/Hangar/ui/hangar-machine-window.ui");
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, header);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, display_box);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineWindow, state_label);
}

static void hangar_machine_window_init(HangarMachineWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->display = HANGAR_DISPLAY(hangar_display_new());
    gtk_widget_show(GTK_WIDGET(self->display));
    gtk_box_pack_start(self->display_box, GTK_WIDGET(self->display), TRUE, TRUE, 0);
    g_signal_connect_object(self->display, "notify::grabbed", G_CALLBACK(on_grab_notify), self,
                            G_CONNECT_SWAPPED);
    self->actions = g_simple_action_group_new();
    g_action_map_add_action_entries(G_ACTION_MAP(self->actions), machine_actions,
                                    G_N_ELEMENTS(machine_actions), self);
    gtk_widget_insert_action_group(GTK_WIDGET(self), "machine", G_ACTION_GROUP(self->actions));
    self->settings = hangar_application_settings();
}
