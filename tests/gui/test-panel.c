/* Widget test of the machine window's control panel under Xvfb (run-xvfb.sh): a machine
 * boots a floppy whose boot sector echoes COM1 in upper case (serial-echo.asm).
 *  - the serial console shows the guest's output; text typed through the terminal's
 *    commit path comes back from the guest, and a 3,000-byte paste arrives whole;
 *  - the monitor console runs "info status" and shows the reply;
 *  - Screenshot writes a PNG that is not blank into the profile and into Pictures, and
 *    Copy to Clipboard puts the image on the clipboard;
 *  - Copy Command Line puts hg_config_to_command_line's text on the clipboard;
 *  - a CD image inserted from the media panel shows in its row, in the profile and the
 *    recent list; a missing one shows an error in words; eject empties the row;
 *  - Shut Down on a guest without ACPI says so in the info bar; the log view has the
 *    messages with times; every control has its accessible name;
 *  - the scaling mode and open panel section come back in a new window (GSettings);
 *  - Saved States: two states saved are listed with their screenshots, one restored, one
 *    deleted; restoring a missing one is refused in words;
 *  - USB: a tablet attached is listed and makes the pointer absolute, a missing storage
 *    image is refused in words, detach empties the list;
 *  - a start failure shows in the window's info bar;
 *  - Sound: Record on a guest playing a tone through the SB16 leaves a WAV file with it.
 * Exit 77 (skipped) when there is no display. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HANGAR_HAVE_VTE
#include <vte/vte.h>
#endif

#include "hangar-application.h"
#include "hangar-console.h"
#include "hangar-log-view.h"
#include "hangar-machine-window.h"
#include "hangar-media-panel.h"
#include "hangar-states-panel.h"
#include "hangar-audio-panel.h"
#include "hangar-usb-panel.h"

static gboolean timed_out;

static gboolean on_timeout(gpointer data)
{
    timed_out = TRUE;
    return G_SOURCE_REMOVE;
}

static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data, int seconds)
{
    timed_out = FALSE;
    guint id = g_timeout_add_seconds(seconds, on_timeout, NULL);
    while (!cond(data) && !timed_out)
        g_main_context_iteration(NULL, TRUE);
    if (!timed_out)
        g_source_remove(id);
    return cond(data);
}

static void spin(int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE), g_usleep(1000);
}

typedef struct TextWait {
    HangarConsole *console;
    const char *text;
} TextWait;

static gboolean console_has(gpointer data)
{
    TextWait *w = data;
    g_autofree char *text = hangar_console_get_text(w->console);
    return text && strstr(text, w->text);
}

static GString *serial_seen;

static void on_serial(HangarMachine *m, int port, GBytes *bytes, gpointer data)
{
    gsize n;
    const char *p = g_bytes_get_data(bytes, &n);
    g_string_append_len(serial_seen, p, (gssize)n);
}

static gboolean paste_echoed(gpointer data)
{
    return strstr(serial_seen->str, (const char *)data) != NULL;
}

static gboolean message_has(gpointer data)
{
    HangarMachineWindow *mw = ((gpointer *)data)[0];
    const char *text = ((gpointer *)data)[1];
    const char *shown = hangar_machine_window_get_message(mw);
    return shown && strstr(shown, text);
}

static void wait_message(HangarMachineWindow *mw, const char *text)
{
    gpointer args[2] = {mw, (gpointer)text};
    if (!wait_for(message_has, args, 20))
        g_error("no message with \"%s\" (shown: %s)", text, hangar_machine_window_get_message(mw));
    g_test_message("info bar: %s", hangar_machine_window_get_message(mw));
}

typedef struct ShownWait {
    HangarMediaPanel *panel;
    const char *drive, *text;
} ShownWait;

static gboolean shown_is(gpointer data)
{
    ShownWait *w = data;
    return !strcmp(hangar_media_panel_get_shown(w->panel, w->drive), w->text);
}

/* Every accessible name under w, internal children included. */
static void collect_names(GtkWidget *w, gpointer data)
{
    const char *name = atk_object_get_name(gtk_widget_get_accessible(w));
    if (name)
        g_ptr_array_add(data, g_strdup(name));
    if (GTK_IS_CONTAINER(w))
        gtk_container_forall(GTK_CONTAINER(w), collect_names, data);
}

static gboolean has_name(GPtrArray *names, const char *name)
{
    for (guint i = 0; i < names->len; i++)
        if (!strcmp(g_ptr_array_index(names, i), name))
            return TRUE;
    return FALSE;
}

static gboolean states_are(gpointer data)
{
    gpointer *args = data;
    return hangar_states_panel_count(args[0]) == GPOINTER_TO_UINT(args[1]);
}

static GtkWidget *find_named(GtkWidget *w, const char *name)
{
    if (!g_strcmp0(atk_object_get_name(gtk_widget_get_accessible(w)), name))
        return w;
    if (!GTK_IS_CONTAINER(w))
        return NULL;
    GList *children = gtk_container_get_children(GTK_CONTAINER(w));
    GtkWidget *found = NULL;
    for (GList *l = children; l && !found; l = l->next)
        found = find_named(l->data, name);
    g_list_free(children);
    return found;
}

static gboolean usb_idle(gpointer data)
{
    return !hangar_usb_panel_busy(data);
}

static gboolean log_has(gpointer data)
{
    gpointer *args = data;
    GPtrArray *msgs = hangar_machine_get_messages(args[0]);
    for (guint i = 0; i < msgs->len; i++) {
        const HangarMachineMessage *msg = g_ptr_array_index(msgs, i);
        if (strstr(msg->text, args[1]))
            return TRUE;
    }
    return FALSE;
}

static void wait_log(HangarMachine *m, const char *text)
{
    if (!wait_for(log_has, (gpointer[]){m, (gpointer)text}, 30))
        g_error("no log message with \"%s\"", text);
}

static void activate(HangarMachineWindow *mw, const char *name, GVariant *param)
{
    GActionGroup *g = gtk_widget_get_action_group(GTK_WIDGET(mw), "machine");
    g_assert_true(g_action_group_get_action_enabled(g, name));
    g_action_group_activate_action(g, name, param);
}

static gboolean png_not_blank(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file(path, &error);
    g_assert_no_error(error);
    int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
    int stride = gdk_pixbuf_get_rowstride(pb), nch = gdk_pixbuf_get_n_channels(pb);
    const guint8 *px = gdk_pixbuf_read_pixels(pb);
    g_test_message("screenshot %s: %dx%d", path, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (px[y * stride + x * nch] | px[y * stride + x * nch + 1] |
                px[y * stride + x * nch + 2])
                return TRUE;
    return FALSE;
}

static char *first_file(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name = d ? g_dir_read_name(d) : NULL;
    return name ? g_build_filename(dir, name, NULL) : NULL;
}

static HangarMachineWindow *open_window(HangarApplication *app, HangarMachine *m)
{
    GtkWindow *w = hangar_application_open_machine(app, m, NULL);
    g_assert_nonnull(w);
    return HANGAR_MACHINE_WINDOW(w);
}

static void run_checks(HangarApplication *app, const char *tmp, const char *floppy)
{
    g_autofree char *dir = hg_profile_dir_for_id("echo-pc");
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.name = g_strdup("Echo PC");
    cfg.memory_mib = 16;
    cfg.fda = g_strdup(floppy);
    g_assert_true(hg_config_set_boot(&cfg, "a", NULL));
    g_assert_true(hg_config_save_profile(&cfg, dir, NULL));
    hg_config_clear(&cfg);
    g_autoptr(GError) error = NULL;
    g_autoptr(HangarMachine) m = hangar_machine_new_from_dir("echo-pc", dir, &error);
    g_assert_no_error(error);
    serial_seen = g_string_new(NULL);
    g_signal_connect(m, "serial-output", G_CALLBACK(on_serial), NULL);

    HangarMachineWindow *mw = open_window(app, m);
    g_assert_true(hangar_machine_window_show_section(mw, "serial"));
    HangarConsole *serial = HANGAR_CONSOLE(hangar_machine_window_get_section(mw, "serial"));
    HangarConsole *monitor = HANGAR_CONSOLE(hangar_machine_window_get_section(mw, "monitor"));

    /* Accessible names the end-to-end test drives. */
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    collect_names(GTK_WIDGET(mw), names);
    collect_names(gtk_window_get_titlebar(GTK_WINDOW(mw)), names);
    const char *expected[] = {"Start",
                              "Pause",
                              "Resume",
                              "Reset",
                              "Shut Down",
                              "Power Off",
                              "Screenshot",
                              "Copy Command Line",
                              "Control Panel",
                              "Send Keys",
                              "CD-ROM: Choose Image",
                              "CD-ROM: Eject",
                              "CD-ROM: Recent Images",
                              "Floppy: Choose Image",
                              "Floppy: Eject",
                              "Serial Console",
                              "Monitor Console",
                              "Machine Log",
                              "Machine display",
                              "Machine state"};
    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
        if (!has_name(names, expected[i]))
            g_error("no widget has the accessible name \"%s\"", expected[i]);

    /* The serial console: the guest's greeting, then typing through the terminal. */
    TextWait ready = {serial, "ECHO READY"};
    if (!wait_for(console_has, &ready, 60)) {
        g_autofree char *shown = hangar_console_get_text(serial);
        GtkWidget *tw = hangar_console_get_terminal(serial);
        g_error("no greeting: the guest sent \"%s\", the console (realized %d, mapped %d) "
                "shows \"%s\"",
                serial_seen->str, gtk_widget_get_realized(tw), gtk_widget_get_mapped(tw), shown);
    }
#ifdef HANGAR_HAVE_VTE
    VteTerminal *t = VTE_TERMINAL(hangar_console_get_terminal(serial));
    vte_terminal_feed_child(t, "hello vte\r", -1); /* what a key press commits */
    TextWait echoed = {serial, "HELLO VTE"};
    g_assert_true(wait_for(console_has, &echoed, 20));
    /* A paste of 3,000 bytes into a guest that polls: every byte comes back. */
    GString *paste = g_string_new(NULL);
    for (int i = 0; i < 3000; i++)
        g_string_append_c(paste, "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]);
    g_autofree char *upper = g_ascii_strup(paste->str, -1);
    g_string_append_c(paste, '\r');
    vte_terminal_feed_child(t, paste->str, (gssize)paste->len);
    g_string_free(paste, TRUE);
    g_assert_true(wait_for(paste_echoed, upper, 30));
#endif
    hangar_console_type(serial, "typed\r");
    TextWait typed = {serial, "TYPED"};
    g_assert_true(wait_for(console_has, &typed, 20));

    /* PANEL_SHOT=FILE.png: a picture of the window for people (not checked). */
    if (g_getenv("PANEL_SHOT")) {
        spin(300);
        GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(mw));
        g_autoptr(GdkPixbuf) pb = gdk_pixbuf_get_from_window(gw, 0, 0, gdk_window_get_width(gw),
                                                             gdk_window_get_height(gw));
        gdk_pixbuf_save(pb, g_getenv("PANEL_SHOT"), "png", NULL, NULL);
    }

    /* The monitor console: a command and its reply; history with Up. */
    hangar_machine_window_show_section(mw, "monitor");
    hangar_console_type(monitor, "info status\r");
    TextWait status = {monitor, "VM status: running"};
    g_assert_true(wait_for(console_has, &status, 20));
    hangar_console_type(monitor, "hlep\r");
    TextWait unknown = {monitor, "unknown command \"hlep\""};
    g_assert_true(wait_for(console_has, &unknown, 20));

    /* Screenshot: a PNG in the profile and in Pictures, not blank; Copy to Clipboard. */
    activate(mw, "screenshot", NULL);
    wait_message(mw, "Screenshot saved");
    g_autofree char *shots = g_build_filename(dir, "screenshots", NULL);
    g_autofree char *shot = first_file(shots);
    g_assert_nonnull(shot);
    g_assert_true(png_not_blank(shot));
    g_autofree char *pictures = g_build_filename(g_get_home_dir(), "Pictures", NULL);
    g_autofree char *copy = first_file(pictures);
    g_assert_nonnull(copy);
    g_assert_true(png_not_blank(copy));
    GtkInfoBar *bar = NULL;
    {
        /* The info bar's "Copy to Clipboard" button is response 1. */
        GtkWidget *outer = gtk_bin_get_child(GTK_BIN(mw));
        g_autoptr(GList) kids = gtk_container_get_children(GTK_CONTAINER(outer));
        for (GList *l = kids; l; l = l->next)
            if (GTK_IS_INFO_BAR(l->data))
                bar = l->data;
    }
    g_assert_nonnull(bar);
    gtk_info_bar_response(bar, 1);
    GtkClipboard *cb = gtk_widget_get_clipboard(GTK_WIDGET(mw), GDK_SELECTION_CLIPBOARD);
    g_autoptr(GdkPixbuf) clip = gtk_clipboard_wait_for_image(cb);
    g_assert_nonnull(clip);
    g_assert_cmpint(gdk_pixbuf_get_width(clip), ==, 720);

    /* Copy Command Line. */
    activate(mw, "copy-command-line", NULL);
    g_autofree char *line = gtk_clipboard_wait_for_text(cb);
    g_autofree char *want = hg_config_to_command_line(hangar_machine_get_config(m));
    g_assert_cmpstr(line, ==, want);
    g_assert_nonnull(strstr(line, "--fda"));
    g_assert_nonnull(strstr(line, "--boot a"));
    g_test_message("command line: %s", line);

    /* Media: a CD image in, shown in the row, the profile and the recent list. */
    hangar_machine_window_show_section(mw, "media");
    HangarMediaPanel *media = HANGAR_MEDIA_PANEL(hangar_machine_window_get_section(mw, "media"));
    g_assert_cmpstr(hangar_media_panel_get_shown(media, "cdrom"), ==, "Empty");
    g_assert_cmpstr(hangar_media_panel_get_shown(media, "fda"), ==, "serial-echo.img");
    g_autofree char *iso = g_build_filename(tmp, "disc.iso", NULL);
    g_autofree char *zeros = g_malloc0(8192);
    g_assert_true(g_file_set_contents(iso, zeros, 8192, NULL));
    GActionGroup *mg = gtk_widget_get_action_group(GTK_WIDGET(media), "media");
    g_action_group_activate_action(mg, "insert", g_variant_new("(ss)", "cdrom", iso));
    ShownWait in = {media, "cdrom", "disc.iso"};
    g_assert_true(wait_for(shown_is, &in, 20));
    g_assert_cmpstr(hangar_machine_get_medium(m, "cdrom"), ==, iso);
    HgConfig saved;
    hg_config_init(&saved);
    g_assert_true(hg_config_load_profile(&saved, dir, NULL));
    g_assert_cmpstr(saved.cdrom, ==, iso);
    hg_config_clear(&saved);
    g_autoptr(GSettings) settings = hangar_application_settings();
    g_auto(GStrv) recent = g_settings_get_strv(settings, "recent-cdrom-images");
    g_assert_cmpstr(recent[0], ==, iso);
    /* A missing image: refused, in words, and the row unchanged. */
    g_autofree char *missing = g_build_filename(tmp, "missing.iso", NULL);
    g_action_group_activate_action(mg, "insert", g_variant_new("(ss)", "cdrom", missing));
    wait_message(mw, "missing.iso");
    g_assert_cmpstr(hangar_media_panel_get_shown(media, "cdrom"), ==, "disc.iso");
    /* Eject. */
    g_action_group_activate_action(mg, "eject", g_variant_new_string("cdrom"));
    ShownWait out = {media, "cdrom", "Empty"};
    g_assert_true(wait_for(shown_is, &out, 20));
    g_assert_null(hangar_machine_get_medium(m, "cdrom"));

    /* Saved states: save two, see them listed with their screenshots, restore one, delete
     * one; restoring a state that does not exist says why in the info bar. */
    HangarStatesPanel *states =
        HANGAR_STATES_PANEL(hangar_machine_window_get_section(mw, "states"));
    g_assert_nonnull(states);
    g_assert_cmpuint(hangar_states_panel_count(states), ==, 0);
    hangar_states_panel_save(states, "first boot");
    g_assert_true(wait_for(states_are, (gpointer[]){states, GUINT_TO_POINTER(1)}, 30));
    hangar_states_panel_save(states, "second");
    g_assert_true(wait_for(states_are, (gpointer[]){states, GUINT_TO_POINTER(2)}, 30));
    g_autofree char *first = g_build_filename(hangar_machine_get_dir(m), "states",
                                              "first boot.hgstate", NULL);
    g_autofree char *first_png = g_build_filename(hangar_machine_get_dir(m), "states",
                                                  "first boot.png", NULL);
    g_assert_true(g_file_test(first, G_FILE_TEST_IS_REGULAR));
    g_assert_true(png_not_blank(first_png));
    g_autoptr(GPtrArray) state_names = g_ptr_array_new_with_free_func(g_free);
    collect_names(GTK_WIDGET(states), state_names);
    g_assert_true(has_name(state_names, "Save State"));
    g_assert_true(has_name(state_names, "Restore state first boot"));
    g_assert_true(has_name(state_names, "Delete state second"));
    hangar_states_panel_restore(states, "first boot");
    wait_log(m, "Restored the state “first boot”");
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_RUNNING);
    hangar_states_panel_restore(states, "never saved");
    wait_message(mw, "never saved");
    GtkWidget *del = find_named(GTK_WIDGET(states), "Delete state second");
    g_assert_nonnull(del);
    gtk_button_clicked(GTK_BUTTON(del));
    g_assert_true(wait_for(states_are, (gpointer[]){states, GUINT_TO_POINTER(1)}, 30));

    /* USB: attach a tablet (listed; a boot sector has no USB driver, so the pointer stays
     * relative and grabbed until a guest configures the tablet), a refused storage image
     * says why, detach empties the list. */
    HangarUsbPanel *usb = HANGAR_USB_PANEL(hangar_machine_window_get_section(mw, "usb"));
    g_assert_nonnull(usb);
    g_assert_true(wait_for(usb_idle, usb, 30));
    g_assert_false(hangar_machine_send_pointer(m, 10, 10, 0));
    hangar_usb_panel_attach(usb, "tablet");
    g_assert_true(wait_for(usb_idle, usb, 30));
    g_assert_cmpuint(hangar_usb_panel_count(usb), ==, 1);
    g_assert_false(hangar_machine_send_pointer(m, 10, 10, 0));
    g_autoptr(GPtrArray) usb_names = g_ptr_array_new_with_free_func(g_free);
    collect_names(GTK_WIDGET(usb), usb_names);
    g_assert_true(has_name(usb_names, "Attach Tablet"));
    g_assert_true(has_name(usb_names, "Detach Tablet"));
    hangar_usb_panel_attach(usb, "storage:/nonexistent/usb.img");
    wait_message(mw, "usb.img");
    GtkWidget *detach = find_named(GTK_WIDGET(usb), "Detach Tablet");
    g_assert_nonnull(detach);
    gtk_button_clicked(GTK_BUTTON(detach));
    g_assert_true(wait_for(usb_idle, usb, 30));
    g_assert_cmpuint(hangar_usb_panel_count(usb), ==, 0);
    g_assert_false(hangar_machine_send_pointer(m, 10, 10, 0));

    /* Shut Down: a boot sector does not listen to the power button, and the window says
     * so (with a Power Off button). */
    activate(mw, "shut-down", NULL);
    wait_message(mw, "power button");
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_RUNNING);

    /* The log: machine messages with times. */
    g_autofree char *log =
        hangar_log_view_get_text(HANGAR_LOG_VIEW(hangar_machine_window_get_section(mw, "log")));
    g_test_message("log:\n%s", log);
    g_assert_nonnull(strstr(log, "CD-ROM: "));
    g_assert_nonnull(strstr(log, "inserted"));
    g_assert_nonnull(strstr(log, "Screenshot saved"));
    g_assert_nonnull(strstr(log, "Started"));
    g_assert_true(g_regex_match_simple("^\\d\\d:\\d\\d:\\d\\d  ", log, G_REGEX_MULTILINE, 0));

    /* Window state per machine: scaling and the open section come back. */
    g_action_group_change_action_state(gtk_widget_get_action_group(GTK_WIDGET(mw), "machine"),
                                       "scale", g_variant_new_string("integer"));
    hangar_machine_window_show_section(mw, "log");
    gtk_widget_destroy(GTK_WIDGET(mw));
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_STOPPED);
    mw = open_window(app, m);
    GActionGroup *g = gtk_widget_get_action_group(GTK_WIDGET(mw), "machine");
    g_autoptr(GVariant) scale = g_action_group_get_action_state(g, "scale");
    g_assert_cmpstr(g_variant_get_string(scale, NULL), ==, "integer");
    g_assert_cmpint(hangar_display_get_scale_mode(hangar_machine_window_get_display(mw)), ==,
                    HANGAR_SCALE_INTEGER);
    g_autoptr(GVariant) panel = g_action_group_get_action_state(g, "show-panel");
    g_assert_true(g_variant_get_boolean(panel));
    GtkWidget *logw = hangar_machine_window_get_section(mw, "log");
    g_assert_true(gtk_widget_get_child_visible(logw) || gtk_widget_get_mapped(logw));

    /* A start failure shows in the window, in words. */
    hangar_machine_power_off(m);
    g_autofree char *gone = g_build_filename(tmp, "gone.img", NULL);
    hangar_machine_set_medium(m, "fda", gone, NULL, NULL);
    activate(mw, "start", NULL);
    wait_message(mw, "gone.img");
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_STOPPED);
    spin(50);
    gtk_widget_destroy(GTK_WIDGET(mw));
    g_string_free(serial_seen, TRUE);
}

/* The Sound section's Record button on a guest that plays a 1 s stereo tone through the
 * SB16 (tests/audio/sb16-16bit.asm as its firmware): a WAV file in the profile's
 * recordings/ folder that wavcheck.py finds the tone in. */
static void check_recording(HangarApplication *app)
{
    const char *program = g_getenv("SB16_TONE_BIN"), *wavcheck = g_getenv("WAVCHECK");
    if (!program || !wavcheck) {
        g_test_message("no SB16 tone program: recording not checked");
        return;
    }
    g_autofree char *dir = hg_profile_dir_for_id("tone-pc");
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.name = g_strdup("Tone PC");
    cfg.memory_mib = 16;
    cfg.bios = g_strdup(program);
    cfg.soundhw = HG_SOUND_SB16;
    cfg.audio = g_strdup("none");
    g_assert_true(hg_config_save_profile(&cfg, dir, NULL));
    hg_config_clear(&cfg);
    g_autoptr(GError) error = NULL;
    g_autoptr(HangarMachine) m = hangar_machine_new_from_dir("tone-pc", dir, &error);
    g_assert_no_error(error);
    HangarMachineWindow *mw = open_window(app, m);
    HangarAudioPanel *audio = HANGAR_AUDIO_PANEL(hangar_machine_window_get_section(mw, "audio"));
    g_assert_nonnull(audio);
    g_test_message("sound section: %s", hangar_audio_panel_get_status(audio));
    /* Record right after the start (opening the window started the machine): the program
     * plays as soon as it runs. */
    if (hangar_machine_get_state(m) == HANGAR_MACHINE_STOPPED)
        activate(mw, "start", NULL);
    hangar_audio_panel_start(audio);
    spin(300);
    g_assert_nonnull(strstr(hangar_audio_panel_get_status(audio), "Recording"));
    spin(1500);
    hangar_audio_panel_stop(audio);
    spin(300);
    const char *wav = hangar_audio_panel_get_path(audio);
    g_assert_nonnull(wav);
    g_assert_true(g_str_has_prefix(wav, dir));
    g_assert_nonnull(strstr(hangar_audio_panel_get_status(audio), "Saved"));
    g_autofree char *cmd = g_strdup_printf(
        "python3 '%s' '%s' --longest 0.5 --tone 0:1005.3314 --tone 1:1505.3055", wavcheck, wav);
    g_test_message("%s", cmd);
    g_assert_cmpint(system(cmd), ==, 0);
    hangar_machine_power_off(m);
    spin(50);
    gtk_widget_destroy(GTK_WIDGET(mw));
}

static void test_panel(void)
{
    const char *floppy = g_getenv("SERIAL_ECHO_IMG");
    g_assert_nonnull(floppy);
    g_autofree char *tmp = g_dir_make_tmp("hangar-panel-XXXXXX", NULL);
    g_setenv("XDG_DATA_HOME", tmp, TRUE);
    g_autofree char *cfg_home = g_build_filename(tmp, "config", NULL);
    g_setenv("XDG_CONFIG_HOME", cfg_home, TRUE);
    /* Copy the floppy: the profile keeps it, and a test must not write the build's copy. */
    g_autofree char *img = g_build_filename(tmp, "serial-echo.img", NULL);
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(floppy, &data, &len, NULL));
    g_assert_true(g_file_set_contents(img, data, (gssize)len, NULL));

    HangarApplication *app = hangar_application_new(G_APPLICATION_NON_UNIQUE);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    g_application_hold(G_APPLICATION(app));
    run_checks(app, tmp, img);
    check_recording(app);
    g_application_release(G_APPLICATION(app));
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_object_unref(app);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
    /* Pictures is ~/Pictures without XDG user dirs: a private home. Set before GLib reads
     * (and caches) it. */
    g_autofree char *home = g_dir_make_tmp("hangar-panel-home-XXXXXX", NULL);
    g_setenv("HOME", home, TRUE);
    if (!gtk_init_check(&argc, &argv)) {
        fprintf(stderr, "no display (run under xvfb-run): skipped\n");
        return 77;
    }
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui/panel", test_panel);
    int ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", home);
    if (system(cmd) != 0)
        ret = 1;
    return ret;
}
