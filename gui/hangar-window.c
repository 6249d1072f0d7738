/* HangarWindow: the main window (template gui/ui/hangar-window.ui). Lists the profiles
 * found in the machines folder (docs/architecture.md, "Files on disk") with their guest
 * type, state and last screen; activating one starts it in its own machine window. New
 * opens the assistant; Settings (the assistant's pages again) and Delete act on the
 * selected machine while it is powered off. Its size is kept in GSettings. */
#include "hangar-window.h"

#include <glib/gi18n.h>

#include <glib/gstdio.h>

#include "hangar-assistant.h"
#include "hangar-machine-row.h"
#include "hangar-machine-window.h"
#include "hangar-thumbnail.h"

struct _HangarWindow {
    GtkApplicationWindow parent_instance;
    GSettings *settings;
    GtkListBox *machine_list;
    GtkLabel *status_label;
    HangarMachine *watched; /* the selected machine, whose state enables Settings/Delete */
    gulong watched_id;
};

G_DEFINE_TYPE(HangarWindow, hangar_window, GTK_TYPE_APPLICATION_WINDOW)

static HangarMachine *find_row_machine(HangarWindow *self, const char *id)
{
    g_autoptr(GList) rows = gtk_container_get_children(GTK_CONTAINER(self->machine_list));
    for (GList *l = rows; l; l = l->next) {
        HangarMachine *m = hangar_machine_row_get_machine(HANGAR_MACHINE_ROW(l->data));
        if (!strcmp(hangar_machine_get_id(m), id))
            return m;
    }
    return NULL;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return g_utf8_collate(hangar_machine_get_name(*(HangarMachine *const *)a),
                          hangar_machine_get_name(*(HangarMachine *const *)b));
}

void hangar_window_reload(HangarWindow *self)
{
    g_autoptr(GPtrArray) machines = g_ptr_array_new_with_free_func(g_object_unref);
    g_autoptr(GString) problems = g_string_new(NULL);
    /* hg_profile_dir_for_id("") is the machines folder itself. */
    g_autofree char *probe = hg_profile_dir_for_id("x");
    g_autofree char *root = g_path_get_dirname(probe);
    g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
    const char *id;
    while (dir && (id = g_dir_read_name(dir))) {
        g_autofree char *path = hg_profile_dir_for_id(id);
        g_autofree char *ini = g_build_filename(path, "machine.ini", NULL);
        if (!g_file_test(ini, G_FILE_TEST_IS_REGULAR))
            continue;
        /* A machine already listed stays the same object (its window, if one is open,
         * holds it): only its settings are read again. */
        HangarMachine *m = find_row_machine(self, id);
        g_autoptr(GError) error = NULL;
        if (m && hangar_machine_reload(m, &error)) {
            g_ptr_array_add(machines, g_object_ref(m));
            continue;
        }
        if (!m)
            m = hangar_machine_new_from_dir(id, path, &error);
        else
            m = NULL;
        if (m)
            g_ptr_array_add(machines, m);
        else
            g_string_append_printf(problems, "%s%s", problems->len ? "\n" : "", error->message);
    }
    g_ptr_array_sort(machines, compare_names);

    g_autoptr(GList) rows = gtk_container_get_children(GTK_CONTAINER(self->machine_list));
    for (GList *l = rows; l; l = l->next)
        gtk_widget_destroy(l->data);
    for (guint i = 0; i < machines->len; i++)
        gtk_container_add(GTK_CONTAINER(self->machine_list),
                          hangar_machine_row_new(machines->pdata[i]));
    /* A selected machine from the start, so Start (and Enter) act at once. */
    GtkListBoxRow *first = gtk_list_box_get_row_at_index(self->machine_list, 0);
    if (first)
        gtk_list_box_select_row(self->machine_list, first);

    /* Profiles that cannot be read are named, not silently left out. */
    gtk_label_set_text(self->status_label, problems->str);
    gtk_widget_set_visible(GTK_WIDGET(self->status_label), problems->len > 0);
}

GtkListBox *hangar_window_get_machine_list(HangarWindow *self)
{
    return self->machine_list;
}

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, HangarWindow *self)
{
    HangarMachine *m = hangar_machine_row_get_machine(HANGAR_MACHINE_ROW(row));
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));
    hangar_application_open_machine(HANGAR_APPLICATION(app), m, GTK_WINDOW(self));
}

static void start_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
    HangarWindow *self = data;
    GtkListBoxRow *row = gtk_list_box_get_selected_row(self->machine_list);
    if (row)
        on_row_activated(self->machine_list, row, self);
}

static void reload_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
    hangar_window_reload(HANGAR_WINDOW(data));
}

static HangarMachine *selected_machine(HangarWindow *self)
{
    GtkListBoxRow *row = gtk_list_box_get_selected_row(self->machine_list);
    return row ? hangar_machine_row_get_machine(HANGAR_MACHINE_ROW(row)) : NULL;
}

static void update_actions(HangarWindow *self)
{
    HangarMachine *m = selected_machine(self);
    gboolean stopped = m && hangar_machine_get_state(m) == HANGAR_MACHINE_STOPPED;
    const char *names[] = {"start", "settings", "delete"};
    gboolean enabled[] = {m != NULL, stopped, stopped};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        g_simple_action_set_enabled(
            G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), names[i])), enabled[i]);
}

static void on_watched_state(GObject *object, GParamSpec *pspec, gpointer data)
{
    update_actions(HANGAR_WINDOW(data));
}

static void unwatch(HangarWindow *self)
{
    if (self->watched) {
        g_clear_signal_handler(&self->watched_id, self->watched);
        g_clear_object(&self->watched);
    }
}

static void on_selection_changed(GtkListBox *box, HangarWindow *self)
{
    HangarMachine *m = selected_machine(self);
    if (m != self->watched) {
        unwatch(self);
        if (m) {
            self->watched = g_object_ref(m);
            self->watched_id =
                g_signal_connect(m, "notify::state", G_CALLBACK(on_watched_state), self);
        }
    }
    update_actions(self);
}

gboolean hangar_window_select(HangarWindow *self, const char *id)
{
    g_autoptr(GList) rows = gtk_container_get_children(GTK_CONTAINER(self->machine_list));
    for (GList *l = rows; l; l = l->next) {
        HangarMachine *m = hangar_machine_row_get_machine(HANGAR_MACHINE_ROW(l->data));
        if (!strcmp(hangar_machine_get_id(m), id)) {
            gtk_list_box_select_row(self->machine_list, l->data);
            return TRUE;
        }
    }
    return FALSE;
}

static void on_assistant_saved(HangarAssistant *assistant, const char *id, HangarWindow *self)
{
    hangar_window_reload(self);
    if (hangar_window_select(self, id) && hangar_assistant_get_start(assistant))
        start_activated(NULL, NULL, self);
}

static HangarAssistant *show_assistant(HangarWindow *self, HangarAssistant *a)
{
    g_signal_connect_object(a, "saved", G_CALLBACK(on_assistant_saved), self, 0);
    gtk_window_present(GTK_WINDOW(a));
    return a;
}

HangarAssistant *hangar_window_new_machine(HangarWindow *self)
{
    return show_assistant(self, hangar_assistant_new(GTK_WINDOW(self)));
}

HangarAssistant *hangar_window_edit_selected(HangarWindow *self)
{
    HangarMachine *m = selected_machine(self);
    if (!m || hangar_machine_get_state(m) != HANGAR_MACHINE_STOPPED)
        return NULL;
    return show_assistant(self, hangar_assistant_new_for_machine(GTK_WINDOW(self), m));
}

static void new_machine_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
    hangar_window_new_machine(data);
}

static void settings_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
    hangar_window_edit_selected(data);
}

/* --- Delete --- */

enum { RESPONSE_KEEP_DISKS = 1, RESPONSE_DELETE_DISKS = 2 };

typedef struct {
    HangarWindow *window;
    HangarMachine *machine;
    GPtrArray *inside; /* images in the machine's folder: deleted on request */
} DeleteRequest;

static void delete_request_free(gpointer data)
{
    DeleteRequest *r = data;
    g_object_unref(r->machine);
    g_ptr_array_unref(r->inside);
    g_free(r);
}

static void remove_profile(HangarMachine *m, GPtrArray *images)
{
    const char *dir = hangar_machine_get_dir(m);
    g_autofree char *ini = g_build_filename(dir, "machine.ini", NULL);
    g_autofree char *thumb = hangar_thumbnail_path(dir);
    g_unlink(ini);
    g_unlink(thumb);
    for (guint i = 0; images && i < images->len; i++)
        g_unlink(images->pdata[i]);
    /* Only an empty folder goes: saved states or files a person put there stay. */
    g_rmdir(dir);
}

static void on_delete_response(GtkDialog *dialog, int response, gpointer data)
{
    DeleteRequest *r = g_object_get_data(G_OBJECT(dialog), "request");
    if ((response == RESPONSE_KEEP_DISKS || response == RESPONSE_DELETE_DISKS) &&
        hangar_machine_get_state(r->machine) == HANGAR_MACHINE_STOPPED) {
        remove_profile(r->machine, response == RESPONSE_DELETE_DISKS ? r->inside : NULL);
        /* Its window (open after a power off) would start a machine that is gone. */
        GtkApplication *app = gtk_window_get_application(GTK_WINDOW(r->window));
        g_autoptr(GList) windows = g_list_copy(gtk_application_get_windows(app));
        for (GList *l = windows; l; l = l->next)
            if (HANGAR_IS_MACHINE_WINDOW(l->data) &&
                hangar_machine_window_get_machine(l->data) == r->machine)
                gtk_widget_destroy(l->data);
        hangar_window_reload(r->window);
    }
    gtk_widget_destroy(GTK_WIDGET(dialog));
}

GtkWidget *hangar_window_delete_selected(HangarWindow *self)
{
    HangarMachine *m = selected_machine(self);
    if (!m || hangar_machine_get_state(m) != HANGAR_MACHINE_STOPPED)
        return NULL;
    const HgConfig *cfg = hangar_machine_get_config(m);
    const char *dir = hangar_machine_get_dir(m);
    DeleteRequest *r = g_new0(DeleteRequest, 1);
    r->window = self;
    r->machine = g_object_ref(m);
    r->inside = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) inside = g_string_new(NULL), outside = g_string_new(NULL);
    const char *disks[] = {cfg->hda, cfg->hdb};
    size_t n = strlen(dir);
    for (size_t i = 0; i < G_N_ELEMENTS(disks); i++) {
        if (!disks[i])
            continue;
        /* Images elsewhere may belong to other machines too: never deleted from here. */
        gboolean in = !strncmp(disks[i], dir, n) && disks[i][n] == G_DIR_SEPARATOR;
        if (in)
            g_ptr_array_add(r->inside, g_strdup(disks[i]));
        g_string_append_printf(in ? inside : outside, "\n%s", disks[i]);
    }
    g_autoptr(GString) text = g_string_new(NULL);
    if (inside->len)
        g_string_append_printf(text,
                               _("Its disk images in its folder:%s\n\nKeep them to use "
                                 "them in another machine, or delete them for good."),
                               inside->str);
    else
        g_string_append(text, _("It has no disk images in its folder."));
    if (outside->len)
        g_string_append_printf(text, _("\n\nThese disk images are elsewhere and stay:%s"),
                               outside->str);
    GtkWidget *dialog = gtk_message_dialog_new(
        GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
        GTK_BUTTONS_NONE, _("Delete “%s”?"), hangar_machine_get_name(m));
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dialog), "%s", text->str);
    gtk_dialog_add_button(GTK_DIALOG(dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
    GtkWidget *del;
    if (r->inside->len) {
        gtk_dialog_add_button(GTK_DIALOG(dialog), _("_Keep Disk Images"), RESPONSE_KEEP_DISKS);
        del = gtk_dialog_add_button(GTK_DIALOG(dialog), _("_Delete Disk Images"),
                                    RESPONSE_DELETE_DISKS);
    } else {
        del = gtk_dialog_add_button(GTK_DIALOG(dialog), _("_Delete"), RESPONSE_KEEP_DISKS);
    }
    gtk_style_context_add_class(gtk_widget_get_style_context(del), "destructive-action");
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
    g_object_set_data_full(G_OBJECT(dialog), "request", r, delete_request_free);
    g_signal_connect(dialog, "response", G_CALLBACK(on_delete_response), NULL);
    gtk_widget_show(dialog);
    return dialog;
}

static void delete_activated(GSimpleAction *action, GVariant *param, gpointer data)
{
    hangar_window_delete_selected(data);
}

HangarWindow *hangar_window_new(HangarApplication *app)
{
    return g_object_new(HANGAR_TYPE_WINDOW, "application", app, NULL);
}

static void hangar_window_dispose(GObject *object)
{
    HangarWindow *self = HANGAR_WINDOW(object);
    if (self->settings) {
        GtkWindow *window = GTK_WINDOW(self);
        gboolean maximized = gtk_window_is_maximized(window);
        g_settings_set_boolean(self->settings, "window-maximized", maximized);
        if (!maximized) {
            int w, h;
            gtk_window_get_size(window, &w, &h);
            g_settings_set_int(self->settings, "window-width", w);
            g_settings_set_int(self->settings, "window-height", h);
        }
        g_clear_object(&self->settings);
    }
    unwatch(self);
    G_OBJECT_CLASS(hangar_window_parent_class)->dispose(object);
}

static void hangar_window_class_init(HangarWindowClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = hangar_window_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/hangar/Hangar/ui/hangar-window.ui");
    gtk_widget_class_bind_template_child(widget_class, HangarWindow, machine_list);
    gtk_widget_class_bind_template_child(widget_class, HangarWindow, status_label);
    gtk_widget_class_bind_template_callback(widget_class, on_row_activated);
    gtk_widget_class_bind_template_callback(widget_class, on_selection_changed);
}

static const GActionEntry win_actions[] = {
    {"start", start_activated, NULL, NULL, NULL, {0}},
    {"reload", reload_activated, NULL, NULL, NULL, {0}},
    {"new-machine", new_machine_activated, NULL, NULL, NULL, {0}},
    {"settings", settings_activated, NULL, NULL, NULL, {0}},
    {"delete", delete_activated, NULL, NULL, NULL, {0}},
};

static void hangar_window_init(HangarWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    g_action_map_add_action_entries(G_ACTION_MAP(self), win_actions, G_N_ELEMENTS(win_actions),
                                    self);
    on_selection_changed(self->machine_list, self);

    self->settings = hangar_application_settings();
    if (self->settings) {
        gtk_window_set_default_size(GTK_WINDOW(self),
                                    g_settings_get_int(self->settings, "window-width"),
                                    g_settings_get_int(self->settings, "window-height"));
        if (g_settings_get_boolean(self->settings, "window-maximized"))
            gtk_window_maximize(GTK_WINDOW(self));
    }
    hangar_window_reload(self);
}
