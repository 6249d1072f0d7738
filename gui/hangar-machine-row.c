/* HangarMachineRow: a list row (template gui/ui/hangar-machine-row.ui) that follows its
 * machine's state. */
#include "hangar-machine-row.h"

#include <glib/gi18n.h>

struct _HangarMachineRow {
    GtkListBoxRow parent_instance;
    HangarMachine *machine;
    gulong state_id;
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

static void on_state_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    update_state(HANGAR_MACHINE_ROW(data));
}

GtkWidget *hangar_machine_row_new(HangarMachine *machine)
{
    HangarMachineRow *self = g_object_new(HANGAR_TYPE_MACHINE_ROW, NULL);
    self->machine = g_object_ref(machine);
    gtk_label_set_text(self->name_label, hangar_machine_get_name(machine));
    gtk_label_set_text(self->type_label, hangar_machine_get_guest_type_label(machine));
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state_notify), self);
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
        g_clear_object(&self->machine);
    }
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
}

static void hangar_machine_row_init(HangarMachineRow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
