/* HangarApplication: startup (actions, accelerators), the main window, and the machine
 * windows, several at once, all emulators running in this process on their own threads. */
#include "hangar-application.h"

#include <glib/gi18n.h>

#include "hangar-machine-window.h"
#include "hangar-window.h"

struct _HangarApplication {
    GtkApplication parent_instance;
};

G_DEFINE_TYPE(HangarApplication, hangar_application, GTK_TYPE_APPLICATION)

GSettings *hangar_application_settings(void)
{
    GSettingsSchemaSource *src = g_settings_schema_source_get_default();
    g_autoptr(GSettingsSchema) schema =
        src ? g_settings_schema_source_lookup(src, HANGAR_APP_ID, TRUE) : NULL;
    if (!schema) {
        /* g_settings_new would abort: run without saved preferences instead. */
        g_warning("GSettings schema %s is not installed: preferences are not kept "
                  "(set GSETTINGS_SCHEMA_DIR to the build's data folder)",
                  HANGAR_APP_ID);
        return NULL;
    }
    return g_settings_new_full(schema, NULL, NULL);
}

GtkWindow *hangar_application_open_machine(HangarApplication *self, HangarMachine *machine,
                                           GtkWindow *parent)
{
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(self)); l; l = l->next) {
        if (HANGAR_IS_MACHINE_WINDOW(l->data) &&
            hangar_machine_window_get_machine(l->data) == machine) {
            hangar_machine_start(machine, NULL);
            gtk_window_present(l->data);
            return l->data;
        }
    }
    g_autoptr(GError) error = NULL;
    if (!hangar_machine_start(machine, &error)) {
        GtkWidget *dialog = gtk_message_dialog_new(
            parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_ERROR,
            GTK_BUTTONS_CLOSE, _("“%s” cannot start"), hangar_machine_get_name(machine));
        gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", error->message);
        g_signal_connect(dialog, "response", G_CALLBACK(gtk_widget_destroy), NULL);
        gtk_widget_show(dialog);
        return NULL;
    }
    HangarMachineWindow *window = hangar_machine_window_new(self, machine);
    gtk_window_present(GTK_WINDOW(window));
    return GTK_WINDOW(window);
}

static void quit_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    /* Destroying the windows powers their machines off. */
    GList *windows = g_list_copy(gtk_application_get_windows(GTK_APPLICATION(data)));
    for (GList *l = windows; l; l = l->next)
        gtk_widget_destroy(l->data);
    g_list_free(windows);
    g_application_quit(G_APPLICATION(data));
}

static void about_activated(GSimpleAction *a, GVariant *p, gpointer data)
{
    GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(data));
    gtk_show_about_dialog(parent, "program-name", "Hangar", "logo-icon-name", HANGAR_APP_ID,
                          "version", HG_VERSION, "comments", _("Create and run virtual PCs"),
                          "license-type", GTK_LICENSE_GPL_3_0, NULL);
}

static const GActionEntry app_actions[] = {
    {"quit", quit_activated, NULL, NULL, NULL, {0}},
    {"about", about_activated, NULL, NULL, NULL, {0}},
};

static void hangar_application_startup(GApplication *app)
{
    G_APPLICATION_CLASS(hangar_application_parent_class)->startup(app);
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
    GtkApplication *gapp = GTK_APPLICATION(app);
    gtk_application_set_accels_for_action(gapp, "app.quit", (const char *[]){"<Ctrl>q", NULL});
    gtk_application_set_accels_for_action(gapp, "win.reload", (const char *[]){"F5", NULL});
    gtk_application_set_accels_for_action(gapp, "win.new-machine",
                                          (const char *[]){"<Ctrl>n", NULL});
    gtk_application_set_accels_for_action(gapp, "win.delete", (const char *[]){"Delete", NULL});
    gtk_application_set_accels_for_action(gapp, "machine.fullscreen",
                                          (const char *[]){"<Ctrl><Alt>f", NULL});
    gtk_application_set_accels_for_action(gapp, "machine.pause",
                                          (const char *[]){"<Ctrl><Alt>p", NULL});
    gtk_application_set_accels_for_action(gapp, "machine.resume",
                                          (const char *[]){"<Ctrl><Alt>r", NULL});
    gtk_window_set_default_icon_name(HANGAR_APP_ID);
}

static void hangar_application_activate(GApplication *app)
{
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l; l = l->next) {
        if (HANGAR_IS_WINDOW(l->data)) {
            gtk_window_present(l->data);
            return;
        }
    }
    gtk_window_present(GTK_WINDOW(hangar_window_new(HANGAR_APPLICATION(app))));
}

HangarApplication *hangar_application_new(GApplicationFlags flags)
{
    return g_object_new(HANGAR_TYPE_APPLICATION, "application-id", HANGAR_APP_ID, "flags", flags,
                        "resource-base-path", "/org/hangar/Hangar", NULL);
}

static void hangar_application_class_init(HangarApplicationClass *klass)
{
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);
    app_class->startup = hangar_application_startup;
    app_class->activate = hangar_application_activate;
}

static void hangar_application_init(HangarApplication *self)
{
}
