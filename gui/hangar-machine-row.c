/* HangarMachineRow: a list row (template gui/ui/hangar-machine-row.ui) that follows its
 * machine's state and shows a thumbnail of its last screen (thumbnail.png in the profile
 * folder). While the machine runs in a text mode, the thumbnail's accessible description
 * is the text on its screen, so screen readers (and the accessibility-tree tests) can
 * read what the machine shows from the list. */
#include "hangar-machine-row.h"

#include <glib/gi18n.h>

#include "hangar-thumbnail.h"

struct _HangarMachineRow {
    GtkListBoxRow parent_instance;
    HangarMachine *machine;
    gulong state_id, thumbnail_id, display_id;
    guint text_timer; /* pending update of the screen text (at most twice a second) */
    GtkImage *thumbnail_image;
    GtkLabel *name_label;
    GtkLabel *type_label;
    GtkLabel *state_label;
};

G_DEFINE_TYPE(HangarMachineRow, hangar_machine_row, GTK_TYPE_LIST_BOX_ROW)

static void update_state(HangarMachineRow *self)
{
    HangarMachineState state = hangar_machine_get_state(self->machine);
    const char *label = hangar_machine_state_label(state);
    gtk_label_set_text(self->state_label, label);
    /* Screen readers hear the whole row as one sentence. */
    g_autofree char *a11y =
        g_strdup_printf("%s, %s, %s", hangar_machine_get_name(self->machine),
                        hangar_machine_get_guest_type_label(self->machine), label);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self)), a11y);
}

static void load_thumbnail(HangarMachineRow *self)
{
    g_autofree char *path = hangar_thumbnail_path(hangar_machine_get_dir(self->machine));
    g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file_at_scale(path, 64, 48, TRUE, NULL);
    if (pb)
        gtk_image_set_from_pixbuf(self->thumbnail_image, pb);
    else
        gtk_image_set_from_icon_name(self->thumbnail_image, "computer-symbolic", GTK_ICON_SIZE_DND);
}

static void on_thumbnail_saved(HangarMachine *machine, gpointer data)
{
    load_thumbnail(HANGAR_MACHINE_ROW(data));
}

static void update_screen_text(HangarMachineRow *self)
{
    HgDisplay *d = hangar_machine_get_display(self->machine);
    g_auto(GStrv) lines = d ? hg_display_text_dump(d) : NULL;
    g_autofree char *text = lines ? g_strjoinv("\n", lines) : NULL;
    atk_object_set_description(gtk_widget_get_accessible(GTK_WIDGET(self->thumbnail_image)),
                               text ? g_strstrip(text) : "");
}

static gboolean screen_text_timeout(gpointer data)
{
    HangarMachineRow *self = data;
    self->text_timer = 0;
    update_screen_text(self);
    return G_SOURCE_REMOVE;
}

static void on_display_changed(HangarMachine *machine, gboolean resized, gpointer data)
{
    HangarMachineRow *self = data;
    if (!self->text_timer)
        self->text_timer = g_timeout_add(500, screen_text_timeout, self);
}

static void on_state_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    HangarMachineRow *self = HANGAR_MACHINE_ROW(data);
    update_state(self);
    if (hangar_machine_get_state(self->machine) == HANGAR_MACHINE_STOPPED) {
        /* Powered off: no screen any more, and no pending look at it. */
        g_clear_handle_id(&self->text_timer, g_source_remove);
        update_screen_text(self);
    }
}

GtkWidget *hangar_machine_row_new(HangarMachine *machine)
{
    HangarMachineRow *self = g_object_new(HANGAR_TYPE_MACHINE_ROW, NULL);
    self->machine = g_object_ref(machine);
    gtk_label_set_text(self->name_label, hangar_machine_get_name(machine));
    gtk_label_set_text(self->type_label, hangar_machine_get_guest_type_label(machine));
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state_notify), self);
    self->thumbnail_id =
        g_signal_connect(machine, "thumbnail-saved", G_CALLBACK(on_thumbnail_saved), self);
    self->display_id =
        g_signal_connect(machine, "display-changed", G_CALLBACK(on_display_changed), self);
    g_autofree char *a11y = g_strdup_printf(_("Screen of %s"), hangar_machine_get_name(machine));
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->thumbnail_image)), a11y);
    load_thumbnail(self);
    update_state(self);
    return GTK_WIDGET(self);
}

HangarMachine *hangar_machine_row_get_machine(HangarMachineRow *self)
{
    return self->machine;
}

static void hangar_machine_row_dispose(GObject *object)
{
    HangarMachineRow *self = HANGAR_MACHINE_ROW(object);
    if (self->machine) {
        g_clear_signal_handler(&self->state_id, self->machine);
        g_clear_signal_handler(&self->thumbnail_id, self->machine);
        g_clear_signal_handler(&self->display_id, self->machine);
        g_clear_object(&self->machine);
    }
    g_clear_handle_id(&self->text_timer, g_source_remove);
    G_OBJECT_CLASS(hangar_machine_row_parent_class)->dispose(object);
}

static void hangar_machine_row_class_init(HangarMachineRowClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = hangar_machine_row_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/hangar/Hangar/ui/hangar-machine-row.ui");
    gtk_widget_class_bind_template_child(widget_class, HangarMachineRow, name_label);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineRow, type_label);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineRow, state_label);
    gtk_widget_class_bind_template_child(widget_class, HangarMachineRow, thumbnail_image);
}

static void hangar_machine_row_init(HangarMachineRow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
