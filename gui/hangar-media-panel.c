/* HangarMediaPanel: one row per removable-media drive (the CD-ROM on the secondary IDE
 * master, floppy drive A), each showing the image it holds and offering Choose Image,
 * Eject and the images used recently in drives of that kind.
 *
 * The panel's actions (group "media": choose, eject with the drive as parameter, insert
 * with drive and path) go through HangarMachine's set_medium, which uses the monitor's
 * change and eject while the machine runs (so the guest sees a media change as with a real
 * drive) and keeps the choice in the profile. A refusal (a missing file, a tray the guest
 * locked) comes back as the "error" signal in words. Recent images are GSettings lists per
 * drive kind (recent-cdrom-images, recent-floppy-images), newest first.
 */
#include "hangar-media-panel.h"

#include <glib/gi18n.h>

enum { RECENT_MAX = 8 };

typedef struct Drive {
    const char *id;         /* the monitor's drive name */
    const char *recent_key; /* GSettings key */
    GtkLabel *shown;
    GtkWidget *eject;
    GtkMenuButton *recent;
} Drive;

struct _HangarMediaPanel {
    GtkBox parent_instance;
    HangarMachine *machine;
    GSettings *settings;
    gulong media_id;
    GSimpleActionGroup *actions;
    Drive drives[2];
};

G_DEFINE_TYPE(HangarMediaPanel, hangar_media_panel, GTK_TYPE_BOX)

enum { SIGNAL_ERROR, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *drive_title(const char *id)
{
    return !strcmp(id, "cdrom") ? _("CD-ROM") : _("Floppy");
}

static Drive *find_drive(HangarMediaPanel *self, const char *id)
{
    for (int i = 0; i < 2; i++)
        if (!strcmp(self->drives[i].id, id))
            return &self->drives[i];
    return NULL;
}

static void rebuild_recent(HangarMediaPanel *self, Drive *d)
{
    GMenu *menu = g_menu_new();
    g_auto(GStrv) recent =
        self->settings ? g_settings_get_strv(self->settings, d->recent_key) : NULL;
    for (int i = 0; recent && recent[i]; i++) {
        g_autofree char *base = g_path_get_basename(recent[i]);
        g_autoptr(GMenuItem) item = g_menu_item_new(base, NULL);
        g_menu_item_set_action_and_target_value(item, "media.insert",
                                                g_variant_new("(ss)", d->id, recent[i]));
        g_menu_append_item(menu, item);
    }
    gtk_menu_button_set_menu_model(d->recent, G_MENU_MODEL(menu));
    gtk_widget_set_sensitive(GTK_WIDGET(d->recent), recent && recent[0]);
    g_object_unref(menu);
}

static void remember(HangarMediaPanel *self, Drive *d, const char *path)
{
    if (!self->settings || !path)
        return;
    g_auto(GStrv) old = g_settings_get_strv(self->settings, d->recent_key);
    GPtrArray *list = g_ptr_array_new();
    g_ptr_array_add(list, (char *)path);
    for (int i = 0; old[i] && list->len < RECENT_MAX; i++)
        if (strcmp(old[i], path))
            g_ptr_array_add(list, old[i]);
    g_ptr_array_add(list, NULL);
    g_settings_set_strv(self->settings, d->recent_key, (const char *const *)list->pdata);
    g_ptr_array_free(list, TRUE);
}

static void update_drive(HangarMediaPanel *self, Drive *d)
{
    const char *path = hangar_machine_get_medium(self->machine, d->id);
    g_autofree char *base = path ? g_path_get_basename(path) : NULL;
    gtk_label_set_text(d->shown, base ? base : _("Empty"));
    gtk_widget_set_tooltip_text(GTK_WIDGET(d->shown), path);
    gtk_widget_set_sensitive(d->eject, path != NULL);
    g_autofree char *a11y =
        g_strdup_printf(_("%s: %s"), drive_title(d->id), base ? base : _("Empty"));
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(d->shown)), a11y);
}

static void on_media_changed(HangarMachine *m, const char *drive, gpointer data)
{
    HangarMediaPanel *self = data;
    Drive *d = find_drive(self, drive);
    if (d)
        update_drive(self, d);
}

typedef struct Change {
    HangarMediaPanel *self;
    Drive *drive;
    char *path;
} Change;

static void change_done(const GError *error, gpointer data)
{
    Change *c = data;
    if (error) {
        g_autofree char *msg =
            c->path ? g_strdup_printf(_("%s: cannot use %s: %s"), drive_title(c->drive->id),
                                      c->path, error->message)
                    : g_strdup_printf(_("%s: cannot eject: %s"), drive_title(c->drive->id),
                                      error->message);
        g_signal_emit(c->self, signals[SIGNAL_ERROR], 0, msg);
    } else if (c->path) {
        remember(c->self, c->drive, c->path);
        rebuild_recent(c->self, c->drive);
    }
    g_object_unref(c->self);
    g_free(c->path);
    g_free(c);
}

static void set_medium(HangarMediaPanel *self, Drive *d, const char *path)
{
    Change *c = g_new0(Change, 1);
    c->self = g_object_ref(self);
    c->drive = d;
    c->path = g_strdup(path);
    hangar_machine_set_medium(self->machine, d->id, path, change_done, c);
}

static void insert_activated(GSimpleAction *a, GVariant *param, gpointer data)
{
    HangarMediaPanel *self = data;
    const char *drive, *path;
    g_variant_get(param, "(&s&s)", &drive, &path);
    Drive *d = find_drive(self, drive);
    if (d)
        set_medium(self, d, path);
}

static void eject_activated(GSimpleAction *a, GVariant *param, gpointer data)
{
    HangarMediaPanel *self = data;
    Drive *d = find_drive(self, g_variant_get_string(param, NULL));
    if (d)
        set_medium(self, d, NULL);
}

typedef struct Choose {
    HangarMediaPanel *self;
    Drive *drive;
} Choose;

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    Choose *c = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
        if (path)
            set_medium(c->self, c->drive, path);
    }
    g_object_unref(c->self);
    g_free(c);
    g_object_unref(dialog);
}

static void choose_activated(GSimpleAction *a, GVariant *param, gpointer data)
{
    HangarMediaPanel *self = data;
    Drive *d = find_drive(self, g_variant_get_string(param, NULL));
    if (!d)
        return;
    g_autofree char *title =
        g_strdup_printf(_("Choose an Image for the %s Drive"), drive_title(d->id));
    GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(self));
    GtkFileChooserNative *chooser =
        gtk_file_chooser_native_new(title, GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL,
                                    GTK_FILE_CHOOSER_ACTION_OPEN, _("_Insert"), _("_Cancel"));
    GtkFileFilter *images = gtk_file_filter_new();
    if (!strcmp(d->id, "cdrom")) {
        gtk_file_filter_set_name(images, _("CD images (*.iso)"));
        gtk_file_filter_add_pattern(images, "*.iso");
        gtk_file_filter_add_pattern(images, "*.ISO");
        gtk_file_filter_add_mime_type(images, "application/x-cd-image");
    } else {
        gtk_file_filter_set_name(images, _("Floppy images (*.img, *.ima, *.flp)"));
        for (const char *const *p =
                 (const char *const[]){"*.img", "*.ima", "*.flp", "*.vfd", "*.IMG", NULL};
             *p; p++)
            gtk_file_filter_add_pattern(images, *p);
    }
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), images);
    GtkFileFilter *all = gtk_file_filter_new();
    gtk_file_filter_set_name(all, _("All files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), all);
    const char *current = hangar_machine_get_medium(self->machine, d->id);
    if (current) {
        g_autofree char *folder = g_path_get_dirname(current);
        gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(chooser), folder);
    }
    Choose *c = g_new(Choose, 1);
    c->self = g_object_ref(self);
    c->drive = d;
    g_signal_connect(chooser, "response", G_CALLBACK(on_chooser_response), c);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static const GActionEntry media_actions[] = {
    {"choose", choose_activated, "s", NULL, NULL, {0}},
    {"eject", eject_activated, "s", NULL, NULL, {0}},
    {"insert", insert_activated, "(ss)", NULL, NULL, {0}},
};

static GtkWidget *icon_button(const char *icon, const char *a11y, const char *tooltip)
{
    GtkWidget *b = gtk_button_new_from_icon_name(icon, GTK_ICON_SIZE_BUTTON);
    gtk_widget_set_tooltip_text(b, tooltip);
    atk_object_set_name(gtk_widget_get_accessible(b), a11y);
    return b;
}

static void build_row(HangarMediaPanel *self, Drive *d)
{
    const char *title = drive_title(d->id);
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *name = gtk_label_new(title);
    gtk_style_context_add_class(gtk_widget_get_style_context(name), "dim-label");
    gtk_label_set_width_chars(GTK_LABEL(name), 8);
    gtk_label_set_xalign(GTK_LABEL(name), 0);
    gtk_box_pack_start(GTK_BOX(row), name, FALSE, FALSE, 0);
    d->shown = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(d->shown, 0);
    gtk_label_set_ellipsize(d->shown, PANGO_ELLIPSIZE_MIDDLE);
    gtk_label_set_width_chars(d->shown, 12);
    gtk_box_pack_start(GTK_BOX(row), GTK_WIDGET(d->shown), TRUE, TRUE, 0);

    g_autofree char *choose_name = g_strdup_printf(_("%s: Choose Image"), title);
    GtkWidget *choose = icon_button("document-open-symbolic", choose_name, choose_name);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(choose), "media.choose");
    gtk_actionable_set_action_target(GTK_ACTIONABLE(choose), "s", d->id);
    gtk_box_pack_start(GTK_BOX(row), choose, FALSE, FALSE, 0);

    g_autofree char *recent_name = g_strdup_printf(_("%s: Recent Images"), title);
    d->recent = GTK_MENU_BUTTON(gtk_menu_button_new());
    gtk_button_set_image(
        GTK_BUTTON(d->recent),
        gtk_image_new_from_icon_name("document-open-recent-symbolic", GTK_ICON_SIZE_BUTTON));
    gtk_widget_set_tooltip_text(GTK_WIDGET(d->recent), recent_name);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(d->recent)), recent_name);
    gtk_box_pack_start(GTK_BOX(row), GTK_WIDGET(d->recent), FALSE, FALSE, 0);

    g_autofree char *eject_name = g_strdup_printf(_("%s: Eject"), title);
    d->eject = icon_button("media-eject-symbolic", eject_name, eject_name);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(d->eject), "media.eject");
    gtk_actionable_set_action_target(GTK_ACTIONABLE(d->eject), "s", d->id);
    gtk_box_pack_start(GTK_BOX(row), d->eject, FALSE, FALSE, 0);

    gtk_widget_show_all(row);
    gtk_box_pack_start(GTK_BOX(self), row, FALSE, FALSE, 0);
    update_drive(self, d);
    rebuild_recent(self, d);
}

GtkWidget *hangar_media_panel_new(HangarMachine *machine, GSettings *settings)
{
    HangarMediaPanel *self = g_object_new(HANGAR_TYPE_MEDIA_PANEL, "orientation",
                                          GTK_ORIENTATION_VERTICAL, "spacing", 6, NULL);
    self->machine = g_object_ref(machine);
    self->settings = settings ? g_object_ref(settings) : NULL;
    for (int i = 0; i < 2; i++)
        build_row(self, &self->drives[i]);
    self->media_id = g_signal_connect(machine, "media-changed", G_CALLBACK(on_media_changed), self);
    return GTK_WIDGET(self);
}

const char *hangar_media_panel_get_shown(HangarMediaPanel *self, const char *drive)
{
    Drive *d = find_drive(self, drive);
    return d ? gtk_label_get_text(d->shown) : NULL;
}

static void hangar_media_panel_dispose(GObject *object)
{
    HangarMediaPanel *self = HANGAR_MEDIA_PANEL(object);
    if (self->machine) {
        g_clear_signal_handler(&self->media_id, self->machine);
        g_clear_object(&self->machine);
    }
    g_clear_object(&self->settings);
    g_clear_object(&self->actions);
    G_OBJECT_CLASS(hangar_media_panel_parent_class)->dispose(object);
}

static void hangar_media_panel_class_init(HangarMediaPanelClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = hangar_media_panel_dispose;
    signals[SIGNAL_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void hangar_media_panel_init(HangarMediaPanel *self)
{
    self->drives[0] = (Drive){.id = "cdrom", .recent_key = "recent-cdrom-images"};
    self->drives[1] = (Drive){.id = "fda", .recent_key = "recent-floppy-images"};
    self->actions = g_simple_action_group_new();
    g_action_map_add_action_entries(G_ACTION_MAP(self->actions), media_actions,
                                    G_N_ELEMENTS(media_actions), self);
    gtk_widget_insert_action_group(GTK_WIDGET(self), "media", G_ACTION_GROUP(self->actions));
    gtk_container_set_border_width(GTK_CONTAINER(self), 12);
}
