/* HangarAudioPanel: recording the guest's sound from the control panel. Record starts a
 * WAV capture (the monitor's wavcapture: 16-bit stereo 44.1 kHz, written by a thread of the
 * engine's own, after the mixer) into the profile's recordings/ folder under the machine's
 * name and the time; while it runs the panel shows the file name and the elapsed time;
 * Stop ends it (stopcapture) and offers Open Folder. A machine without a sound card says so
 * and offers nothing to record. Powering off ends a recording (the engine closes the file
 * with its sizes patched).
 */
#include "hangar-audio-panel.h"

#include <errno.h>
#include <glib/gi18n.h>

struct _HangarAudioPanel {
    GtkBox parent_instance;
    HangarMachine *machine;
    GtkWidget *record, *stop, *open_folder;
    GtkLabel *status, *cards;
    char *path;        /* the recording in progress or the last one, or NULL */
    gint64 started_us; /* monotonic time the recording started, 0 when none runs */
    guint tick;
    gulong state_id;
};

G_DEFINE_TYPE(HangarAudioPanel, hangar_audio_panel, GTK_TYPE_BOX)

enum { SIGNAL_ERROR, N_SIGNALS };
static guint signals[N_SIGNALS];

static void show_cards(HangarAudioPanel *self);

static void show_status(HangarAudioPanel *self)
{
    gboolean recording = self->started_us != 0;
    gboolean running = hangar_machine_get_state(self->machine) != HANGAR_MACHINE_STOPPED;
    gboolean has_sound = hangar_machine_get_config(self->machine)->soundhw != 0;
    gtk_widget_set_sensitive(self->record, has_sound && running && !recording);
    gtk_widget_set_sensitive(self->stop, recording);
    gtk_widget_set_visible(self->open_folder, self->path && !recording);
    g_autofree char *base = self->path ? g_path_get_basename(self->path) : NULL;
    g_autofree char *text = NULL;
    if (recording) {
        gint64 s = (g_get_monotonic_time() - self->started_us) / G_USEC_PER_SEC;
        text = g_strdup_printf(_("Recording “%s” — %d:%02d"), base, (int)(s / 60), (int)(s % 60));
    } else if (self->path) {
        text = g_strdup_printf(_("Saved “%s”"), base);
    } else if (!has_sound) {
        text = g_strdup(_("This machine has no sound card: add one in its settings."));
    } else {
        text = g_strdup(_("Not recording"));
    }
    gtk_label_set_text(self->status, text);
    atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(self->status)), text);
}

static gboolean on_tick(gpointer data)
{
    show_status(data);
    return G_SOURCE_CONTINUE;
}

static void stop_ticking(HangarAudioPanel *self)
{
    g_clear_handle_id(&self->tick, g_source_remove);
    self->started_us = 0;
}

typedef struct Call {
    HangarAudioPanel *self;
    gboolean start;
} Call;

static void call_free(gpointer p)
{
    Call *c = p;
    g_object_unref(c->self);
    g_free(c);
}

static void capture_done(const char *reply, gboolean keep_going, gpointer data)
{
    Call *c = data;
    HangarAudioPanel *self = c->self;
    const char *prefix = c->start ? "wavcapture: " : "stopcapture: ";
    if (g_str_has_prefix(reply, prefix)) {
        g_autofree char *reason = g_strstrip(g_strdup(reply + strlen(prefix)));
        g_autofree char *msg = c->start
                                   ? g_strdup_printf(_("Cannot record: %s"), reason)
                                   : g_strdup_printf(_("Cannot stop the recording: %s"), reason);
        if (c->start) {
            stop_ticking(self);
            g_clear_pointer(&self->path, g_free);
        }
        g_signal_emit(self, signals[SIGNAL_ERROR], 0, msg);
    } else if (c->start) {
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("Recording the sound into %s"),
                           self->path);
    } else {
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("Recording saved as %s"),
                           self->path);
    }
    show_cards(self);
    show_status(self);
}

static void send(HangarAudioPanel *self, gboolean start)
{
    Call *c = g_new0(Call, 1);
    c->self = g_object_ref(self);
    c->start = start;
    g_autofree char *quoted = self->path ? g_shell_quote(self->path) : NULL;
    g_autofree char *line = start ? g_strdup_printf("wavcapture %s", quoted)
                                  : g_strdup("stopcapture");
    if (!hangar_machine_monitor(self->machine, line, capture_done, c, call_free)) {
        call_free(c);
        stop_ticking(self);
        show_status(self);
    }
}

/* recordings/NAME YYYY-MM-DD HH-MM-SS.wav in the profile folder. */
static char *recording_path(HangarAudioPanel *self, GError **error)
{
    const char *dir = hangar_machine_get_dir(self->machine);
    g_autofree char *folder = g_build_filename(dir, "recordings", NULL);
    if (g_mkdir_with_parents(folder, 0755) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    _("Cannot create the folder %s: %s"), folder, g_strerror(errno));
        return NULL;
    }
    GDateTime *now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H-%M-%S");
    g_date_time_unref(now);
    g_autofree char *name = g_strdup_printf("%s %s.wav", hangar_machine_get_name(self->machine),
                                            stamp);
    g_strdelimit(name, "/", '-');
    return g_build_filename(folder, name, NULL);
}

void hangar_audio_panel_start(HangarAudioPanel *self)
{
    if (self->started_us)
        return;
    GError *error = NULL;
    char *path = recording_path(self, &error);
    if (!path) {
        g_signal_emit(self, signals[SIGNAL_ERROR], 0, error->message);
        g_error_free(error);
        return;
    }
    g_free(self->path);
    self->path = path;
    self->started_us = g_get_monotonic_time();
    self->tick = g_timeout_add(500, on_tick, self);
    send(self, TRUE);
    show_status(self);
}

void hangar_audio_panel_stop(HangarAudioPanel *self)
{
    if (!self->started_us)
        return;
    stop_ticking(self);
    send(self, FALSE);
    show_status(self);
}

const char *hangar_audio_panel_get_path(HangarAudioPanel *self)
{
    return self->path;
}

const char *hangar_audio_panel_get_status(HangarAudioPanel *self)
{
    return gtk_label_get_text(self->status);
}

static void open_folder_clicked(GtkButton *button, gpointer data)
{
    HangarAudioPanel *self = data;
    if (!self->path)
        return;
    g_autofree char *folder = g_path_get_dirname(self->path);
    g_autofree char *uri = g_filename_to_uri(folder, NULL, NULL);
    GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(self));
    GError *error = NULL;
    if (uri && !gtk_show_uri_on_window(GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL, uri,
                                       GDK_CURRENT_TIME, &error)) {
        g_autofree char *msg = g_strdup_printf(_("Cannot open %s: %s"), folder, error->message);
        g_signal_emit(self, signals[SIGNAL_ERROR], 0, msg);
        g_error_free(error);
    }
}

static void on_state(GObject *machine, GParamSpec *pspec, gpointer data)
{
    HangarAudioPanel *self = data;
    if (hangar_machine_get_state(self->machine) == HANGAR_MACHINE_STOPPED && self->started_us) {
        /* Power off ends the capture: the engine closes the file. */
        stop_ticking(self);
        hangar_machine_log(self->machine, G_LOG_LEVEL_INFO, _("Recording saved as %s"),
                           self->path);
    }
    show_cards(self);
    show_status(self);
}

static void show_cards(HangarAudioPanel *self)
{
    g_autofree char *cards = hg_config_soundhw_string(hangar_machine_get_config(self->machine));
    g_autofree char *text = g_strdup_printf(_("Sound hardware: %s"), cards);
    gtk_label_set_text(self->cards, text);
}

static void hangar_audio_panel_dispose(GObject *object)
{
    HangarAudioPanel *self = HANGAR_AUDIO_PANEL(object);
    g_clear_handle_id(&self->tick, g_source_remove);
    if (self->machine && self->state_id)
        g_clear_signal_handler(&self->state_id, self->machine);
    g_clear_object(&self->machine);
    G_OBJECT_CLASS(hangar_audio_panel_parent_class)->dispose(object);
}

static void hangar_audio_panel_finalize(GObject *object)
{
    g_free(HANGAR_AUDIO_PANEL(object)->path);
    G_OBJECT_CLASS(hangar_audio_panel_parent_class)->finalize(object);
}

static void hangar_audio_panel_class_init(HangarAudioPanelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->dispose = hangar_audio_panel_dispose;
    object_class->finalize = hangar_audio_panel_finalize;
    signals[SIGNAL_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static GtkWidget *button(const char *label, const char *a11y, const char *icon)
{
    GtkWidget *b = gtk_button_new_with_mnemonic(label);
    gtk_button_set_image(GTK_BUTTON(b), gtk_image_new_from_icon_name(icon, GTK_ICON_SIZE_BUTTON));
    gtk_button_set_always_show_image(GTK_BUTTON(b), TRUE);
    atk_object_set_name(gtk_widget_get_accessible(b), a11y);
    return b;
}

static void hangar_audio_panel_init(HangarAudioPanel *self)
{
    gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
    gtk_box_set_spacing(GTK_BOX(self), 12);
    g_object_set(self, "margin", 12, NULL);
    self->cards = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(self->cards, 0);
    gtk_style_context_add_class(gtk_widget_get_style_context(GTK_WIDGET(self->cards)),
                                "dim-label");
    gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->cards), FALSE, FALSE, 0);

    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    self->record = button(_("_Record"), _("Record Sound"), "media-record-symbolic");
    gtk_widget_set_tooltip_text(self->record,
                                _("Record what the guest plays into a WAV file"));
    g_signal_connect_swapped(self->record, "clicked", G_CALLBACK(hangar_audio_panel_start),
                             self);
    self->stop = button(_("_Stop"), _("Stop Recording"), "media-playback-stop-symbolic");
    g_signal_connect_swapped(self->stop, "clicked", G_CALLBACK(hangar_audio_panel_stop), self);
    self->open_folder = button(_("_Open Folder"), _("Open Recordings Folder"), "folder-open-symbolic");
    g_signal_connect(self->open_folder, "clicked", G_CALLBACK(open_folder_clicked), self);
    gtk_box_pack_start(GTK_BOX(row), self->record, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), self->stop, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), self->open_folder, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(self), row, FALSE, FALSE, 0);

    self->status = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(self->status, 0);
    gtk_label_set_ellipsize(self->status, PANGO_ELLIPSIZE_MIDDLE);
    gtk_box_pack_start(GTK_BOX(self), GTK_WIDGET(self->status), FALSE, FALSE, 0);
    gtk_widget_show_all(GTK_WIDGET(self));
}

GtkWidget *hangar_audio_panel_new(HangarMachine *machine)
{
    HangarAudioPanel *self = g_object_new(HANGAR_TYPE_AUDIO_PANEL, NULL);
    self->machine = g_object_ref(machine);
    self->state_id = g_signal_connect(machine, "notify::state", G_CALLBACK(on_state), self);
    show_cards(self);
    show_status(self);
    return GTK_WIDGET(self);
}
