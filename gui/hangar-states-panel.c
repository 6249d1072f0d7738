/* HangarStatesPanel: the saved states of a machine (engine/machine-state.c) in its control
 * panel: Save State under a name, and a list of the states in the profile's states/
 * folder, newest first, each with the screenshot taken when it was saved, its date and the
 * guest's clock then, and Restore and Delete.
 *
 * Saving, restoring and deleting go through the monitor's savevm, loadvm and delvm, so they
 * run on the emulation thread between slices like every other command; the list is read
 * from the files (hg_state_file_info), which needs no running machine. A refusal (a state
 * of a differently built machine, a damaged file) comes back as the "error" signal in the
 * engine's words.
 */
#include "hangar-states-panel.h"

#include <glib/gi18n.h>

#include "hangar.h"

struct _HangarStatesPanel {
    GtkBox parent_instance;
    HangarMachine *machine;
    GtkEntry *name;
    GtkWidget *save;
    GtkListBox *list;
    GtkLabel *empty;
    gboolean busy;
};

G_DEFINE_TYPE(HangarStatesPanel, hangar_states_panel, GTK_TYPE_BOX)

enum { SIGNAL_ERROR, N_SIGNALS };
static guint signals[N_SIGNALS];

typedef struct StateEntry {
    char *name, *path;
    HgStateInfo info;
} StateEntry;

static void state_entry_free(gpointer p)
{
    StateEntry *e = p;
    g_free(e->name);
    g_free(e->path);
    hg_state_info_clear(&e->info);
    g_free(e);
}

static int newest_first(gconstpointer a, gconstpointer b)
{
    const StateEntry *x = *(StateEntry *const *)a, *y = *(StateEntry *const *)b;
    return x->info.saved_usec < y->info.saved_usec ? 1
           : x->info.saved_usec > y->info.saved_usec ? -1
                                                       : g_strcmp0(x->name, y->name);
}

/* The states in the profile folder that can be read; unreadable files are skipped (the
 * monitor's info snapshots names them). */
static GPtrArray *read_states(HangarStatesPanel *self)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(state_entry_free);
    const char *dir = hangar_machine_get_dir(self->machine);
    if (!dir)
        return out;
    g_autofree char *states = g_build_filename(dir, "states", NULL);
    GDir *d = g_dir_open(states, 0, NULL);
    const char *file;
    while (d && (file = g_dir_read_name(d))) {
        if (!g_str_has_suffix(file, ".hgstate") || file[0] == '.')
            continue;
        StateEntry *e = g_new0(StateEntry, 1);
        e->name = g_strndup(file, strlen(file) - strlen(".hgstate"));
        e->path = g_build_filename(states, file, NULL);
        if (hg_state_file_info(e->path, &e->info, NULL))
            g_ptr_array_add(out, e);
        else
            state_entry_free(e);
    }
    if (d)
        g_dir_close(d);
    g_ptr_array_sort(out, newest_first);
    return out;
}

static void run_command(HangarStatesPanel *self, const char *verb, const char *name);

static void restore_clicked(GtkButton *button, gpointer data)
{
    run_command(data, "loadvm", g_object_get_data(G_OBJECT(button), "state-name"));
}

static void delete_clicked(GtkButton *button, gpointer data)
{
    run_command(data, "delvm", g_object_get_data(G_OBJECT(button), "state-name"));
}

static GtkWidget *row_button(HangarStatesPanel *self, const char *label, const char *a11y_fmt,
                             const char *name, GCallback cb)
{
    GtkWidget *b = gtk_button_new_with_mnemonic(label);
    g_object_set_data_full(G_OBJECT(b), "state-name", g_strdup(name), g_free);
    g_autofree char *a11y = g_strdup_printf(a11y_fmt, name);
    atk_object_set_name(gtk_widget_get_accessible(b), a11y);
    g_signal_connect(b, "clicked", cb, self);
    gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
    return b;
}

static GtkWidget *state_row(HangarStatesPanel *self, const StateEntry *e)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    g_object_set(box, "margin", 6, NULL);
    /* The screen when it was saved, 128 pixels wide. */
    g_autofree char *png = hg_state_screenshot_path(e->path);
    GdkPixbuf *pix = gdk_pixbuf_new_from_file_at_scale(png, 128, 96, TRUE, NULL);
    GtkWidget *image = pix ? gtk_image_new_from_pixbuf(pix) : gtk_image_new_from_icon_name(
                                                                  "image-missing",
                                                                  GTK_ICON_SIZE_DIALOG);
    g_clear_object(&pix);
    gtk_widget_set_size_request(image, 128, -1);
    gtk_box_pack_start(GTK_BOX(box), image, FALSE, FALSE, 0);

    GDateTime *dt = g_date_time_new_from_unix_local(e->info.saved_usec / G_USEC_PER_SEC);
    g_autofree char *date = dt ? g_date_time_format(dt, "%x %X") : g_strdup("?");
    if (dt)
        g_date_time_unref(dt);
    int64_t s = e->info.guest_ns / 1000000000;
    g_autofree char *clock = g_strdup_printf("%" G_GINT64_FORMAT ":%02d:%02d", s / 3600,
                                             (int)(s / 60 % 60), (int)(s % 60));
    /* TRANSLATORS: the guest's clock (hours:minutes:seconds since power-on) at the save */
    g_autofree char *uptime = g_strdup_printf(_("guest clock %s"), clock);
    g_autofree char *escaped = g_markup_escape_text(e->name, -1);
    g_autofree char *markup =
        g_strdup_printf("<b>%s</b>\n<small>%s · %s</small>", escaped, date, uptime);
    GtkWidget *text = gtk_label_new(NULL);
    gtk_label_set_markup(GTK_LABEL(text), markup);
    gtk_label_set_xalign(GTK_LABEL(text), 0);
    gtk_label_set_ellipsize(GTK_LABEL(text), PANGO_ELLIPSIZE_END);
    gtk_box_pack_start(GTK_BOX(box), text, TRUE, TRUE, 0);

    gtk_box_pack_end(GTK_BOX(box),
                     row_button(self, _("_Delete"), _("Delete state %s"), e->name,
                                G_CALLBACK(delete_clicked)),
                     FALSE, FALSE, 0);
    gtk_box_pack_end(GTK_BOX(box),
                     row_button(self, _("_Restore"), _("Restore state %s"), e->name,
                                G_CALLBACK(restore_clicked)),
                     FALSE, FALSE, 0);
    g_autofree char *a11y = g_strdup_printf(_("State %s, saved %s"), e->name, date);
    atk_object_set_name(gtk_widget_get_accessible(box), a11y);
    gtk_widget_show_all(box);
    return box;
}

void hangar_states_panel_refresh(HangarStatesPanel *self)
{
    GList *children = gtk_container_get_children(GTK_CONTAINER(self->list));
    for (GList *l = children; l; l = l->next)
        gtk_widget_destroy(l->data);
    g_list_free(children);
    g_autoptr(GPtrArray) states = read_states(self);
    for (guint i = 0; i < states->len; i++)
        gtk_container_add(GTK_CONTAINER(self->list), state_row(self, states->pdata[i]));
    gtk_widget_set_visible(GTK_WIDGET(self->empty), states->len == 0);
}

guint hangar_states_panel_count(HangarStatesPanel *self)
{
    GList *children = gtk_container_get_children(GTK_CONTAINER(self->list));
    guint n = g_list_length(children);
    g_list_free(children);
    return n;
}

typedef struct Call {
    HangarStatesPanel *self;
    char *verb, *name;
} Call;

static void call_free(gpointer p)
{
    Call *c = p;
    g_object_unref(c->self);
    g_free(c->verb);
    g_free(c->name);
    g_free(c);
}

static void command_done(const char *reply, gboolean keep_going, gpointer data)
{
    Call *c = data;
    HangarStatesPanel *self = c->self;
    self->busy = FALSE;
    gtk_widget_set_sensitive(GTK_WIDGET(self), TRUE);
    /* The monitor answers "VERB: reason" when it refused. */
    g_autofree char *prefix = g_strconcat(c->verb, ": ", NULL);
    if (g_str_has_prefix(reply, prefix)) {
        g_autofree char *reason = g_strstrip(g_strdup(reply + strlen(prefix)));
        g_autofree char *msg =
            !strcmp(c->verb, "savevm")   ? g_strdup_printf(_("Cannot save the state “%s”: %s"),
                                                           c->name, reason)
            : !strcmp(c->verb, "loadvm") ? g_strdup_printf(
                                               _("Cannot restore the state “%s”: %s"), c->name,
                                               reason)
                                         : g_strdup_printf(_("Cannot delete the state “%s”: %s"),
                                                           c->name, reason);
        g_signal_emit(self, signals[SIGNAL_ERROR], 0, msg);
    } else {
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO,
                           !strcmp(c->verb, "savevm")   ? _("Saved the state “%s”")
                           : !strcmp(c->verb, "loadvm") ? _("Restored the state “%s”")
                                                        : _("Deleted the state “%s”"),
                           c->name);
    }
    hangar_states_panel_refresh(self);
}

static void run_command(HangarStatesPanel *self, const char *verb, const char *name)
{
    if (self->busy || !name || !*name)
        return;
    Call *c = g_new0(Call, 1);
    c->self = g_object_ref(self);
    c->verb = g_strdup(verb);
    c->name = g_strdup(name);
    g_autofree char *quoted = g_shell_quote(name);
    g_autofree char *line = g_strdup_printf("%s %s", verb, quoted);
    if (!hangar_machine_monitor(self->machine, line, command_done, c, call_free)) {
        g_signal_emit(self, signals[SIGNAL_ERROR], 0,
                      _("The machine is not running: start it to save or restore states."));
        call_free(c);
        return;
    }
    self->busy = TRUE;
    gtk_widget_set_sensitive(GTK_WIDGET(self), FALSE);
}

static char *default_name(void)
{
    GDateTime *now = g_date_time_new_now_local();
    char *name = g_date_time_format(now, "state-%Y%m%d-%H%M%S");
    g_date_time_unref(now);
    return name;
}

static void save_clicked(GtkButton *button, gpointer data)
{
    HangarStatesPanel *self = data;
    const char *typed = gtk_entry_get_text(self->name);
    g_autofree char *name = *typed ? g_strstrip(g_strdup(typed)) : default_name();
    run_command(self, "savevm", name);
    gtk_entry_set_text(self->name, "");
}

void hangar_states_panel_save(HangarStatesPanel *self, const char *name)
{
    run_command(self, "savevm", name);
}

void hangar_states_panel_restore(HangarStatesPanel *self, const char *name)
{
    run_command(self, "loadvm", name);
}

static void hangar_states_panel_dispose(GObject *object)
{
    HangarStatesPanel *self = HANGAR_STATES_PANEL(object);
    g_clear_object(&self->machine);
    G_OBJECT_CLASS(hangar_states_panel_parent_class)->dispose(object);
}

static void hangar_states_panel_class_init(HangarStatesPanelClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = hangar_states_panel_dispose;
    signals[SIGNAL_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void hangar_states_panel_init(HangarStatesPanel *self)
{
    gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
    gtk_box_set_spacing(GTK_BOX(self), 12);
    g_object_set(self, "margin", 12, NULL);

    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    self->name = GTK_ENTRY(gtk_entry_new());
    gtk_entry_set_placeholder_text(self->name, _("Name (optional)"));
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->name)), _("State name"));
    gtk_entry_set_activates_default(self->name, FALSE);
    gtk_box_pack_start(GTK_BOX(top), GTK_WIDGET(self->name), TRUE, TRUE, 0);
    self->save = gtk_button_new_with_mnemonic(_("_Save State"));
    atk_object_set_name(gtk_widget_get_accessible(self->save), _("Save State"));
    gtk_widget_set_tooltip_text(self->save,
                                _("Save the whole running machine, to restore it later"));
    g_signal_connect(self->save, "clicked", G_CALLBACK(save_clicked), self);
    g_signal_connect_swapped(self->name, "activate", G_CALLBACK(gtk_button_clicked), self->save);
    gtk_box_pack_start(GTK_BOX(top), self->save, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(self), top, FALSE, FALSE, 0);

    GtkWidget *note = gtk_label_new(_("A state holds the running machine, not its disks: "
                                      "restore it while the disks are as they were then."));
    gtk_label_set_line_wrap(GTK_LABEL(note), TRUE);
    gtk_label_set_xalign(GTK_LABEL(note), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(note), "dim-label");
    gtk_box_pack_start(GTK_BOX(self), note, FALSE, FALSE, 0);

    GtkWidget *scroll = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    self->list = GTK_LIST_BOX(gtk_list_box_new());
    gtk_list_box_set_selection_mode(self->list, GTK_SELECTION_NONE);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->list)), _("Saved states"));
    gtk_container_add(GTK_CONTAINER(scroll), GTK_WIDGET(self->list));
    gtk_box_pack_start(GTK_BOX(self), scroll, TRUE, TRUE, 0);
    self->empty = GTK_LABEL(gtk_label_new(_("No saved states yet.")));
    gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->empty), FALSE, FALSE, 0);
    gtk_widget_show_all(GTK_WIDGET(self));
}

GtkWidget *hangar_states_panel_new(HangarMachine *machine)
{
    HangarStatesPanel *self = g_object_new(HANGAR_TYPE_STATES_PANEL, NULL);
    self->machine = g_object_ref(machine);
    hangar_states_panel_refresh(self);
    return GTK_WIDGET(self);
}
