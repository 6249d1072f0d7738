/* HangarLogView: a read-only GtkTextView of the machine's messages (HangarMachine
 * "message": the engine's HgMachineHooks.message and the manager's own), each line with
 * its local time, warnings set apart. It starts with the messages the machine kept from
 * before the window opened (a failed start, say) and follows new ones, scrolled to the
 * end unless the person scrolled up to read. */
#include "hangar-log-view.h"

#include <glib/gi18n.h>

struct _HangarLogView {
    GtkScrolledWindow parent_instance;
    HangarMachine *machine;
    gulong message_id;
    GtkTextView *view;
    GtkTextBuffer *buffer;
};

G_DEFINE_TYPE(HangarLogView, hangar_log_view, GTK_TYPE_SCROLLED_WINDOW)

static void append(HangarLogView *self, gint64 time, int level, const char *text)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(time / G_USEC_PER_SEC);
    g_autofree char *stamp = dt ? g_date_time_format(dt, "%H:%M:%S") : g_strdup("--:--:--");
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(self));
    gboolean at_end = gtk_adjustment_get_value(adj) + gtk_adjustment_get_page_size(adj) >=
                      gtk_adjustment_get_upper(adj) - 1;
    GtkTextIter end;
    gtk_text_buffer_get_end_iter(self->buffer, &end);
    gtk_text_buffer_insert_with_tags_by_name(self->buffer, &end, stamp, -1, "time", NULL);
    gtk_text_buffer_insert(self->buffer, &end, "  ", -1);
    gboolean warning = level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
    gtk_text_buffer_insert_with_tags_by_name(self->buffer, &end, text, -1,
                                             warning ? "warning" : "normal", NULL);
    gtk_text_buffer_insert(self->buffer, &end, "\n", -1);
    if (at_end) {
        GtkTextMark *mark = gtk_text_buffer_get_insert(self->buffer);
        gtk_text_buffer_place_cursor(self->buffer, &end);
        gtk_text_view_scroll_mark_onscreen(self->view, mark);
    }
}

static void on_message(HangarMachine *m, gint64 time, int level, const char *text, gpointer data)
{
    append(HANGAR_LOG_VIEW(data), time, level, text);
}

GtkWidget *hangar_log_view_new(HangarMachine *machine)
{
    HangarLogView *self = g_object_new(HANGAR_TYPE_LOG_VIEW, NULL);
    self->machine = g_object_ref(machine);
    GPtrArray *kept = hangar_machine_get_messages(machine);
    for (guint i = 0; i < kept->len; i++) {
        HangarMachineMessage *msg = g_ptr_array_index(kept, i);
        append(self, msg->time, msg->level, msg->text);
    }
    self->message_id = g_signal_connect(machine, "message", G_CALLBACK(on_message), self);
    return GTK_WIDGET(self);
}

char *hangar_log_view_get_text(HangarLogView *self)
{
    GtkTextIter start, end;
    gtk_text_buffer_get_bounds(self->buffer, &start, &end);
    return gtk_text_buffer_get_text(self->buffer, &start, &end, FALSE);
}

static void hangar_log_view_dispose(GObject *object)
{
    HangarLogView *self = HANGAR_LOG_VIEW(object);
    if (self->machine) {
        g_clear_signal_handler(&self->message_id, self->machine);
        g_clear_object(&self->machine);
    }
    G_OBJECT_CLASS(hangar_log_view_parent_class)->dispose(object);
}

static void hangar_log_view_class_init(HangarLogViewClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = hangar_log_view_dispose;
}

static void hangar_log_view_init(HangarLogView *self)
{
    self->view = GTK_TEXT_VIEW(gtk_text_view_new());
    self->buffer = gtk_text_view_get_buffer(self->view);
    gtk_text_view_set_editable(self->view, FALSE);
    gtk_text_view_set_cursor_visible(self->view, FALSE);
    gtk_text_view_set_wrap_mode(self->view, GTK_WRAP_WORD_CHAR);
    gtk_text_view_set_left_margin(self->view, 6);
    gtk_text_view_set_right_margin(self->view, 6);
    gtk_text_buffer_create_tag(self->buffer, "time", "family", "monospace", "foreground", "#77767b",
                               NULL);
    gtk_text_buffer_create_tag(self->buffer, "normal", NULL);
    gtk_text_buffer_create_tag(self->buffer, "warning", "weight", PANGO_WEIGHT_BOLD, "foreground",
                               "#c01c28", NULL);
    gtk_widget_show(GTK_WIDGET(self->view));
    gtk_container_add(GTK_CONTAINER(self), GTK_WIDGET(self->view));
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(self), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->view)), _("Machine Log"));
}
