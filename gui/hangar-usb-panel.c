/* HangarUsbPanel: the USB devices of a running machine in its control panel: what is
 * plugged in (kind, port, whether the guest's driver took it), Detach for each, and Attach
 * for a tablet, a keyboard, a mouse or a storage image (engine: hg_machine_usb_attach,
 * detach and list; the guest sees the device arrive or leave, as with a real plug).
 *
 * The requests go through the monitor (usb_add, usb_del, info usb), which runs them on the
 * emulation thread and answers on the GTK thread: the main loop never waits for the
 * machine. With a tablet attached, the display sends absolute positions and needs no grab.
 */
#include "hangar-usb-panel.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "hangar.h"

struct _HangarUsbPanel {
    GtkBox parent_instance;
    HangarMachine *machine;
    GtkListBox *list;
    GtkLabel *empty;
    GtkWidget *attach_box;
    int pending; /* engine calls running */
    gulong state_id;
};

G_DEFINE_TYPE(HangarUsbPanel, hangar_usb_panel, GTK_TYPE_BOX)

enum { SIGNAL_ERROR, SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *kind_title(const char *kind)
{
    if (!g_strcmp0(kind, "tablet"))
        return _("Tablet");
    if (!g_strcmp0(kind, "keyboard"))
        return _("Keyboard");
    if (!g_strcmp0(kind, "mouse"))
        return _("Mouse");
    if (!g_strcmp0(kind, "storage"))
        return _("Storage");
    if (!g_strcmp0(kind, "hub"))
        return _("Hub");
    return kind;
}

/* --- engine calls through the monitor (usb_add, usb_del, info usb) --- */

typedef enum { OP_LIST, OP_ATTACH, OP_DETACH } Op;

/* One line of "info usb": "  Device ID, Port P, Speed 12 Mb/s, Product NAME, ID: KIND[ FILE]
 * [ (not configured)]" (engine/monitor.c). */
static HgUsbDeviceInfo *parse_device(const char *line)
{
    int id = 0;
    char port[32] = "";
    if (sscanf(line, " Device %d, Port %31[^,],", &id, port) != 2)
        return NULL;
    const char *prod = strstr(line, ", Product "), *kind = g_strrstr(line, ", ID: ");
    if (!prod || !kind || kind < prod)
        return NULL;
    HgUsbDeviceInfo *d = g_new0(HgUsbDeviceInfo, 1);
    d->id = id;
    d->port = g_strdup(port);
    d->product = g_strndup(prod + 10, (gsize)(kind - prod - 10));
    g_autofree char *rest = g_strdup(kind + 6);
    d->configured = !g_str_has_suffix(rest, " (not configured)");
    if (!d->configured)
        rest[strlen(rest) - strlen(" (not configured)")] = 0;
    char *space = strchr(rest, ' ');
    if (space) {
        d->file = g_strdup(space + 1);
        *space = 0;
    }
    d->kind = g_strdup(rest);
    return d;
}

static void device_info_free(gpointer p)
{
    HgUsbDeviceInfo *d = p;
    g_free(d->kind);
    g_free(d->file);
    g_free(d->port);
    g_free(d->product);
    g_free(d);
}

typedef struct Job {
    HangarUsbPanel *self;
    Op op;
    char *spec;
} Job;

static void job_free(gpointer p)
{
    Job *j = p;
    g_object_unref(j->self);
    g_free(j->spec);
    g_free(j);
}

static void run_job(HangarUsbPanel *self, Op op, const char *arg);

static void detach_clicked(GtkButton *button, gpointer data)
{
    HangarUsbPanel *self = data;
    g_autofree char *id = g_strdup_printf("%d", GPOINTER_TO_INT(g_object_get_data(
                                                     G_OBJECT(button), "id")));
    run_job(self, OP_DETACH, id);
}

static GtkWidget *device_row(HangarUsbPanel *self, const HgUsbDeviceInfo *d)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    g_object_set(box, "margin", 6, NULL);
    g_autofree char *base = d->file ? g_path_get_basename(d->file) : NULL;
    g_autofree char *title =
        base ? g_strdup_printf("%s — %s", kind_title(d->kind), base) : g_strdup(kind_title(d->kind));
    g_autofree char *detail = g_strdup_printf(
        d->configured ? _("port %s · %s · in use by the guest") : _("port %s · %s"), d->port,
        d->product);
    g_autofree char *t = g_markup_escape_text(title, -1), *dt = g_markup_escape_text(detail, -1);
    g_autofree char *markup = g_strdup_printf("%s\n<small>%s</small>", t, dt);
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_markup(GTK_LABEL(label), markup);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_box_pack_start(GTK_BOX(box), label, TRUE, TRUE, 0);
    g_autofree char *a11y = g_strdup_printf(_("USB device %s on port %s"), title, d->port);
    atk_object_set_name(gtk_widget_get_accessible(box), a11y);
    if (d->id > 0) { /* hubs come and go with what is behind them */
        GtkWidget *detach = gtk_button_new_with_mnemonic(_("_Detach"));
        g_object_set_data(G_OBJECT(detach), "id", GINT_TO_POINTER(d->id));
        g_autofree char *name = g_strdup_printf(_("Detach %s"), kind_title(d->kind));
        atk_object_set_name(gtk_widget_get_accessible(detach), name);
        g_signal_connect(detach, "clicked", G_CALLBACK(detach_clicked), self);
        gtk_widget_set_valign(detach, GTK_ALIGN_CENTER);
        gtk_box_pack_end(GTK_BOX(box), detach, FALSE, FALSE, 0);
    }
    gtk_widget_show_all(box);
    return box;
}

static void show_list(HangarUsbPanel *self, GPtrArray *list)
{
    GList *children = gtk_container_get_children(GTK_CONTAINER(self->list));
    for (GList *l = children; l; l = l->next)
        gtk_widget_destroy(l->data);
    g_list_free(children);
    for (guint i = 0; list && i < list->len; i++)
        gtk_container_add(GTK_CONTAINER(self->list), device_row(self, list->pdata[i]));
    gtk_widget_set_visible(GTK_WIDGET(self->empty), !list || list->len == 0);
}

static void update_sensitivity(HangarUsbPanel *self)
{
    gboolean running = hangar_machine_get_state(self->machine) != HANGAR_MACHINE_STOPPED;
    gtk_widget_set_sensitive(self->attach_box, running && self->pending == 0);
    gtk_widget_set_sensitive(GTK_WIDGET(self->list), running && self->pending == 0);
}

static void job_done(const char *reply, gboolean keep_going, gpointer data)
{
    Job *j = data;
    HangarUsbPanel *self = j->self;
    self->pending--;
    const char *prefix = j->op == OP_ATTACH ? "usb_add: " : "usb_del: ";
    if (j->op != OP_LIST && g_str_has_prefix(reply, prefix)) {
        g_autofree char *reason = g_strstrip(g_strdup(reply + strlen(prefix)));
        g_autofree char *msg =
            j->op == OP_ATTACH
                ? g_strdup_printf(_("Cannot attach the USB device “%s”: %s"), j->spec, reason)
                : g_strdup_printf(_("Cannot detach the USB device: %s"), reason);
        g_signal_emit(self, signals[SIGNAL_ERROR], 0, msg);
    } else if (j->op == OP_ATTACH) {
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("USB device attached: %s"),
                           j->spec);
    } else if (j->op == OP_DETACH) {
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("USB device %s detached"),
                           j->spec);
    }
    if (j->op == OP_LIST) {
        GPtrArray *list = g_ptr_array_new_with_free_func(device_info_free);
        g_auto(GStrv) lines = g_strsplit(reply, "\n", -1);
        for (int i = 0; lines[i]; i++) {
            HgUsbDeviceInfo *d = parse_device(lines[i]);
            if (d)
                g_ptr_array_add(list, d);
        }
        show_list(self, list);
        g_ptr_array_unref(list);
        g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
    } else {
        hangar_usb_panel_refresh(self);
    }
    update_sensitivity(self);
}

static void run_job(HangarUsbPanel *self, Op op, const char *arg)
{
    Job *j = g_new0(Job, 1);
    j->self = g_object_ref(self);
    j->op = op;
    j->spec = g_strdup(arg);
    g_autofree char *quoted = arg ? g_shell_quote(arg) : NULL;
    g_autofree char *line = op == OP_LIST     ? g_strdup("info usb")
                            : op == OP_ATTACH ? g_strdup_printf("usb_add %s", quoted)
                                              : g_strdup_printf("usb_del %s", quoted);
    if (!hangar_machine_monitor(self->machine, line, job_done, j, job_free)) {
        job_free(j);
        if (op == OP_LIST)
            show_list(self, NULL);
        return;
    }
    self->pending++;
    update_sensitivity(self);
}

void hangar_usb_panel_refresh(HangarUsbPanel *self)
{
    run_job(self, OP_LIST, NULL);
}

void hangar_usb_panel_attach(HangarUsbPanel *self, const char *spec)
{
    run_job(self, OP_ATTACH, spec);
}

gboolean hangar_usb_panel_busy(HangarUsbPanel *self)
{
    return self->pending > 0;
}

guint hangar_usb_panel_count(HangarUsbPanel *self)
{
    GList *children = gtk_container_get_children(GTK_CONTAINER(self->list));
    guint n = g_list_length(children);
    g_list_free(children);
    return n;
}

/* --- attach buttons --- */

static void attach_kind(GtkButton *button, gpointer data)
{
    hangar_usb_panel_attach(data, g_object_get_data(G_OBJECT(button), "kind"));
}

static void on_storage_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    HangarUsbPanel *self = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));
        if (path) {
            g_autofree char *spec = g_strconcat("storage:", path, NULL);
            hangar_usb_panel_attach(self, spec);
        }
    }
    g_object_unref(self);
    g_object_unref(dialog);
}

static void attach_storage(GtkButton *button, gpointer data)
{
    HangarUsbPanel *self = data;
    GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(self));
    GtkFileChooserNative *chooser = gtk_file_chooser_native_new(
        _("Choose a Disk Image for the USB Storage Device"),
        GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL, GTK_FILE_CHOOSER_ACTION_OPEN,
        _("_Attach"), _("_Cancel"));
    g_signal_connect(chooser, "response", G_CALLBACK(on_storage_response), g_object_ref(self));
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static GtkWidget *attach_button(HangarUsbPanel *self, const char *label, const char *a11y,
                                const char *kind, GCallback cb)
{
    GtkWidget *b = gtk_button_new_with_mnemonic(label);
    atk_object_set_name(gtk_widget_get_accessible(b), a11y);
    if (kind)
        g_object_set_data(G_OBJECT(b), "kind", (gpointer)kind);
    g_signal_connect(b, "clicked", cb, self);
    return b;
}

static void on_state(GObject *machine, GParamSpec *pspec, gpointer data)
{
    HangarUsbPanel *self = data;
    update_sensitivity(self);
    if (hangar_machine_get_state(self->machine) == HANGAR_MACHINE_STOPPED)
        show_list(self, NULL);
    else if (self->pending == 0)
        hangar_usb_panel_refresh(self);
}

static void hangar_usb_panel_map(GtkWidget *widget)
{
    GTK_WIDGET_CLASS(hangar_usb_panel_parent_class)->map(widget);
    hangar_usb_panel_refresh(HANGAR_USB_PANEL(widget));
}

static void hangar_usb_panel_dispose(GObject *object)
{
    HangarUsbPanel *self = HANGAR_USB_PANEL(object);
    if (self->machine && self->state_id)
        g_clear_signal_handler(&self->state_id, self->machine);
    g_clear_object(&self->machine);
    G_OBJECT_CLASS(hangar_usb_panel_parent_class)->dispose(object);
}

static void hangar_usb_panel_class_init(HangarUsbPanelClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = hangar_usb_panel_dispose;
    GTK_WIDGET_CLASS(klass)->map = hangar_usb_panel_map;
    signals[SIGNAL_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           0);
}

static void hangar_usb_panel_init(HangarUsbPanel *self)
{
    gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
    gtk_box_set_spacing(GTK_BOX(self), 12);
    g_object_set(self, "margin", 12, NULL);
    self->attach_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkBox *row = GTK_BOX(self->attach_box);
    gtk_box_pack_start(row, gtk_label_new(_("Attach:")), FALSE, FALSE, 0);
    gtk_box_pack_start(row,
                       attach_button(self, _("_Tablet"), _("Attach Tablet"), "tablet",
                                     G_CALLBACK(attach_kind)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(row,
                       attach_button(self, _("_Keyboard"), _("Attach Keyboard"), "keyboard",
                                     G_CALLBACK(attach_kind)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(row,
                       attach_button(self, _("_Mouse"), _("Attach Mouse"), "mouse",
                                     G_CALLBACK(attach_kind)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(row,
                       attach_button(self, _("_Storage…"), _("Attach Storage"), NULL,
                                     G_CALLBACK(attach_storage)),
                       FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(self), self->attach_box, FALSE, FALSE, 0);
    GtkWidget *note = gtk_label_new(_("With a tablet attached the pointer moves into the guest "
                                      "without a grab."));
    gtk_label_set_line_wrap(GTK_LABEL(note), TRUE);
    gtk_label_set_xalign(GTK_LABEL(note), 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(note), "dim-label");
    gtk_box_pack_start(GTK_BOX(self), note, FALSE, FALSE, 0);
    self->list = GTK_LIST_BOX(gtk_list_box_new());
    gtk_list_box_set_selection_mode(self->list, GTK_SELECTION_NONE);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->list)),
                        _("Attached USB devices"));
    gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->list), FALSE, FALSE, 0);
    self->empty = GTK_LABEL(gtk_label_new(_("No USB devices attached.")));
    gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->empty), FALSE, FALSE, 0);
    gtk_widget_show_all(GTK_WIDGET(self));
}

GtkWidget *hangar_usb_panel_new(HangarMachine *machine)
{
    HangarUsbPanel *self = g_object_new(HANGAR_TYPE_USB_PANEL, NULL);
    self->machine = g_object_ref(machine);
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state), self);
    update_sensitivity(self);
    return GTK_WIDGET(self);
}
