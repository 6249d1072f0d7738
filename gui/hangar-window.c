/* HangarWindow: the main window (template gui/ui/hangar-window.ui). Lists the profiles
 * found in the machines folder (docs/architecture.md, "Files on disk") with their guest
 * type and state; activating one starts it in its own machine window. Its size is kept in
 * GSettings. */
#include "hangar-window.h"

#include <glib/gi18n.h>

#include "hangar-machine-row.h"

struct _HangarWindow {
    GtkApplicationWindow parent_instance;
    GSettings *settings;
    GtkListBox *machine_list;
    GtkLabel *status_label;
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
        HangarMachine *m = find_row_machine(self, id);
        if (m && hangar_machine_get_state(m) != HANGAR_MACHINE_STOPPED) {
            g_ptr_array_add(machines, g_object_ref(m));
            continue;
        }
        g_autoptr(GError) error = NULL;
        m = hangar_machine_new_from_dir(id, path, &error);
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

static void on_selection_changed(GtkListBox *box, HangarWindow *self)
{
    GAction *start = g_action_map_lookup_action(G_ACTION_MAP(self), "start");
    g_simple_action_set_enabled(G_SIMPLE_ACTION(start), gtk_list_box_get_selected_row(box) != NULL);
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
