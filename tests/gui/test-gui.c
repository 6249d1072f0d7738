/* Widget test of the manager under a real X server (Xvfb, through run-xvfb.sh): a profile
 * written with the engine's hg_config_save_profile into a temporary XDG_DATA_HOME shows up
 * in the main window's list; activating its row starts the machine in-process and opens
 * its window; SeaBIOS's banner appears on the emulated screen (the engine's text dump) and
 * in the widget's copy of the picture (not all black); pause, resume, reset and power off
 * work through the machine window's actions; two machines run at once.
 * Exit 77 (skipped) when there is no display. */
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>

#include "hangar-application.h"
#include "hangar-display.h"
#include "hangar-machine-row.h"
#include "hangar-machine-window.h"
#include "hangar-window.h"

static gboolean timed_out;

static gboolean on_timeout(gpointer data)
{
    timed_out = TRUE;
    return G_SOURCE_REMOVE;
}

/* Spins the main loop until cond(data) holds or seconds pass. */
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

static void write_profile(const char *id, const char *name, const char *type, const char *hda)
{
    g_autofree char *dir = hg_profile_dir_for_id(id);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.hda = g_strdup(hda);
    cfg.name = g_strdup(name);
    cfg.guest_type = g_strdup(type);
    cfg.memory_mib = 16;
    g_autoptr(GError) error = NULL;
    g_assert_true(hg_config_save_profile(&cfg, dir, &error));
    g_assert_no_error(error);
    hg_config_clear(&cfg);
}

static HangarWindow *main_window(GtkApplication *app)
{
    for (GList *l = gtk_application_get_windows(app); l; l = l->next)
        if (HANGAR_IS_WINDOW(l->data))
            return l->data;
    return NULL;
}

static gboolean main_window_shown(gpointer app)
{
    HangarWindow *w = main_window(app);
    return w && gtk_widget_get_mapped(GTK_WIDGET(w));
}

/* The list row of a machine, found by the name the person sees. */
static GtkListBoxRow *find_row(HangarWindow *w, const char *name)
{
    GtkWidget *label = gtk_test_find_label(GTK_WIDGET(w), name);
    return label ? GTK_LIST_BOX_ROW(gtk_widget_get_ancestor(label, GTK_TYPE_LIST_BOX_ROW)) : NULL;
}

static HangarMachineWindow *machine_window(GtkApplication *app, const char *name)
{
    for (GList *l = gtk_application_get_windows(app); l; l = l->next)
        if (HANGAR_IS_MACHINE_WINDOW(l->data) &&
            !strcmp(hangar_machine_get_name(hangar_machine_window_get_machine(l->data)), name))
            return l->data;
    return NULL;
}

static gboolean banner_shown(gpointer data)
{
    HangarMachine *m = data;
    HgDisplay *d = hangar_machine_get_display(m);
    if (!d)
        return FALSE;
    g_auto(GStrv) lines = hg_display_text_dump(d);
    for (int i = 0; lines && lines[i]; i++)
        if (strstr(lines[i], "SeaBIOS"))
            return TRUE;
    return FALSE;
}

static gboolean screen_has(HangarMachine *m, const char *text)
{
    HgDisplay *d = hangar_machine_get_display(m);
    if (!d)
        return FALSE;
    g_auto(GStrv) lines = hg_display_text_dump(d);
    for (int i = 0; lines && lines[i]; i++)
        if (strstr(lines[i], text))
            return TRUE;
    return FALSE;
}

static gboolean no_boot_device(gpointer data)
{
    return screen_has(data, "No bootable device");
}

static void dump_screen(HangarMachine *m)
{
    g_auto(GStrv) lines = hg_display_text_dump(hangar_machine_get_display(m));
    for (int i = 0; lines && lines[i]; i++)
        g_test_message("screen: %s", lines[i]);
}

/* A reboot is seen through the machine's reset counter: the screen alone can go from "No
 * bootable device" back to "No bootable device" between two looks. */
typedef struct ResetWait {
    HangarMachine *m;
    unsigned before;
} ResetWait;

static gboolean reset_seen(gpointer data)
{
    ResetWait *rw = data;
    return hg_machine_reset_count(hangar_machine_get_hg(rw->m)) != rw->before;
}

static gboolean surface_not_black(gpointer data)
{
    cairo_surface_t *s = hangar_display_get_surface(data);
    if (!s)
        return FALSE;
    cairo_surface_flush(s);
    const guint8 *p = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (((const guint32 *)(p + (size_t)y * stride))[x] & 0xffffff)
                return TRUE;
    return FALSE;
}

typedef struct {
    HangarMachine *m;
    HangarMachineState want;
} StateWait;

static gboolean state_is(gpointer data)
{
    StateWait *w = data;
    return hangar_machine_get_state(w->m) == w->want;
}

static void activate_action(GtkWidget *w, const char *group, const char *name)
{
    GActionGroup *g = gtk_widget_get_action_group(w, group);
    g_assert_nonnull(g);
    g_assert_true(g_action_group_get_action_enabled(g, name));
    g_action_group_activate_action(g, name, NULL);
}

static void activate_action_with(GtkWidget *w, const char *name, GVariant *param)
{
    GActionGroup *g = gtk_widget_get_action_group(w, "machine");
    g_assert_nonnull(g);
    g_assert_true(g_action_group_get_action_enabled(g, name));
    g_action_group_activate_action(g, name, param);
}

/* Starts the machine named name from the list and waits for SeaBIOS on its screen. */
static HangarMachineWindow *start_from_list(GtkApplication *app, HangarWindow *w, const char *name)
{
    GtkListBoxRow *row = find_row(w, name);
    g_assert_nonnull(row);
    g_signal_emit_by_name(row, "activate");
    HangarMachineWindow *mw = machine_window(app, name);
    g_assert_nonnull(mw);
    HangarMachine *m = hangar_machine_window_get_machine(mw);
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_RUNNING);
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(wait_for(banner_shown, m, 60));
    g_test_message("%s: SeaBIOS banner after %.2f s", name, (g_get_monotonic_time() - t0) / 1e6);
    g_assert_true(wait_for(surface_not_black, hangar_machine_window_get_display(mw), 20));
    return mw;
}

/* Input events made here and handed to GTK's event dispatch as if X had sent them
 * (XSendEvent-based simulation does not reach client-side child windows reliably). */
static GdkDevice *pointer_device(GtkWidget *w, gboolean keyboard)
{
    GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(w));
    return keyboard ? gdk_seat_get_keyboard(seat) : gdk_seat_get_pointer(seat);
}

static void send_button(HangarDisplay *display, GdkEventType type)
{
    GtkWidget *w = GTK_WIDGET(display);
    GdkEvent *ev = gdk_event_new(type);
    ev->button.window = g_object_ref(gtk_widget_get_window(w));
    ev->button.time = GDK_CURRENT_TIME;
    ev->button.x = 20;
    ev->button.y = 20;
    ev->button.button = GDK_BUTTON_PRIMARY;
    gdk_event_set_device(ev, pointer_device(w, FALSE));
    gtk_main_do_event(ev);
    gdk_event_free(ev);
}

static void send_key(HangarMachineWindow *mw, GdkEventType type, guint16 hw, guint keyval,
                     GdkModifierType state)
{
    GtkWidget *w = GTK_WIDGET(mw);
    GdkEvent *ev = gdk_event_new(type);
    ev->key.window = g_object_ref(gtk_widget_get_window(w));
    ev->key.time = GDK_CURRENT_TIME;
    ev->key.hardware_keycode = hw;
    ev->key.keyval = keyval;
    ev->key.state = state;
    gdk_event_set_device(ev, pointer_device(w, TRUE));
    gtk_main_do_event(ev);
    gdk_event_free(ev);
}

/* The first visible message dialog among the toplevels. */
static gboolean find_dialog(gpointer data)
{
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l; l = l->next)
        if (GTK_IS_MESSAGE_DIALOG(l->data) && gtk_widget_get_visible(l->data))
            *(GtkWidget **)data = l->data;
    g_list_free(tops);
    return *(GtkWidget **)data != NULL;
}

static void run_checks(GtkApplication *app)
{
    g_assert_true(wait_for(main_window_shown, app, 20));
    HangarWindow *w = main_window(app);
    g_assert_cmpstr(gtk_window_get_title(GTK_WINDOW(w)), ==, "Hangar");

    /* The list is reachable by its accessible name, and shows name, type and state. */
    GtkListBox *list = hangar_window_get_machine_list(w);
    g_assert_cmpstr(atk_object_get_name(gtk_widget_get_accessible(GTK_WIDGET(list))), ==,
                    "Machines");
    g_assert_nonnull(find_row(w, "Test PC"));
    g_assert_nonnull(gtk_test_find_label(GTK_WIDGET(w), "DOS"));
    g_assert_nonnull(gtk_test_find_label(GTK_WIDGET(w), "Windows 9x"));
    g_assert_nonnull(gtk_test_find_label(GTK_WIDGET(w), "Powered off"));
    AtkObject *row_a11y = gtk_widget_get_accessible(GTK_WIDGET(find_row(w, "Test PC")));
    g_assert_cmpstr(atk_object_get_name(row_a11y), ==, "Test PC, DOS, Powered off");

    /* The keyboard shortcuts window comes from the GResource (gtk/help-overlay.ui). */
    g_assert_true(g_action_group_has_action(G_ACTION_GROUP(w), "show-help-overlay"));

    /* A machine that cannot start: an error dialog naming the missing file, no window. */
    g_signal_emit_by_name(find_row(w, "Broken PC"), "activate");
    GtkWidget *error_dialog = NULL;
    g_assert_true(wait_for(find_dialog, &error_dialog, 10));
    g_autofree char *secondary = NULL;
    g_object_get(error_dialog, "secondary-text", &secondary, NULL);
    g_assert_nonnull(strstr(secondary, "missing.img"));
    g_test_message("start error shown: %s", secondary);
    gtk_widget_destroy(error_dialog);
    g_assert_null(machine_window(app, "Broken PC"));

    HangarMachineWindow *mw = start_from_list(app, w, "Test PC");
    HangarMachine *m = hangar_machine_window_get_machine(mw);
    g_assert_cmpstr(atk_object_get_name(row_a11y), ==, "Test PC, DOS, Running");

    /* Typing into the display reaches the machine without disturbing it. */
    gtk_widget_grab_focus(GTK_WIDGET(hangar_machine_window_get_display(mw)));
    g_assert_true(
        gtk_test_widget_send_key(GTK_WIDGET(hangar_machine_window_get_display(mw)), GDK_KEY_a, 0));

    /* A click grabs the mouse (no absolute pointing device on this board); the subtitle
     * says how to leave; Left Ctrl + Left Alt releases it. */
    HangarDisplay *display = hangar_machine_window_get_display(mw);
    g_assert_false(hangar_display_get_grabbed(display));
    send_button(display, GDK_BUTTON_PRESS);
    send_button(display, GDK_BUTTON_RELEASE);
    g_assert_true(hangar_display_get_grabbed(display));
    g_assert_nonnull(
        strstr(gtk_header_bar_get_subtitle(GTK_HEADER_BAR(gtk_window_get_titlebar(GTK_WINDOW(mw)))),
               "Left Ctrl+Left Alt"));
    /* Through the window, as typed keys arrive: X11 keycodes 37 (Control_L), 64 (Alt_L). */
    send_key(mw, GDK_KEY_PRESS, 37, GDK_KEY_Control_L, 0);
    g_assert_true(hangar_display_get_grabbed(display));
    send_key(mw, GDK_KEY_PRESS, 64, GDK_KEY_Alt_L, GDK_CONTROL_MASK);
    g_assert_false(hangar_display_get_grabbed(display));
    send_key(mw, GDK_KEY_RELEASE, 64, GDK_KEY_Alt_L, GDK_CONTROL_MASK | GDK_MOD1_MASK);
    send_key(mw, GDK_KEY_RELEASE, 37, GDK_KEY_Control_L, GDK_CONTROL_MASK);
    g_assert_null(
        strstr(gtk_header_bar_get_subtitle(GTK_HEADER_BAR(gtk_window_get_titlebar(GTK_WINDOW(mw)))),
               "Left Ctrl+Left Alt"));

    StateWait paused = {m, HANGAR_MACHINE_PAUSED}, running = {m, HANGAR_MACHINE_RUNNING};
    activate_action(GTK_WIDGET(mw), "machine", "pause");
    g_assert_true(wait_for(state_is, &paused, 10));
    uint64_t ic = hg_machine_icount(hangar_machine_get_hg(m));
    g_usleep(100000);
    g_assert_cmpuint(hg_machine_icount(hangar_machine_get_hg(m)), ==, ic);
    activate_action(GTK_WIDGET(mw), "machine", "resume");
    g_assert_true(wait_for(state_is, &running, 10));
    /* With no disk SeaBIOS ends at "No bootable device"; a reset clears the screen and
     * shows the banner again without it. Ctrl+Alt+Del from the send-key menu's action
     * reaches SeaBIOS's keyboard handler, which reboots. */
    g_assert_true(wait_for(no_boot_device, m, 60));
    ResetWait rw = {m, hg_machine_reset_count(hangar_machine_get_hg(m))};
    activate_action_with(GTK_WIDGET(mw), "send-keys", g_variant_new_string("ctrl+alt+delete"));
    if (!wait_for(reset_seen, &rw, 10))
        dump_screen(m);
    g_assert_true(reset_seen(&rw));
    g_assert_true(wait_for(no_boot_device, m, 60));
    rw.before = hg_machine_reset_count(hangar_machine_get_hg(m));
    activate_action(GTK_WIDGET(mw), "machine", "reset");
    g_assert_true(wait_for(reset_seen, &rw, 60));
    g_assert_true(wait_for(banner_shown, m, 60));

    /* A second machine alongside the first. */
    HangarMachineWindow *mw2 = start_from_list(app, w, "Second PC");
    HangarMachine *m2 = hangar_machine_window_get_machine(mw2);
    g_assert_true(m2 != m);
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_RUNNING);
    g_assert_cmpint(hangar_machine_get_state(m2), ==, HANGAR_MACHINE_RUNNING);

    /* Scale modes: 720x400 text mode in an 800x~500 window fits at 1.x, whole multiples
     * give 1, actual size 1. */
    HangarDisplay *disp = hangar_machine_window_get_display(mw);
    GActionGroup *mg = gtk_widget_get_action_group(GTK_WIDGET(mw), "machine");
    g_action_group_change_action_state(mg, "scale", g_variant_new_string("integer"));
    g_assert_cmpint(hangar_display_get_scale_mode(disp), ==, HANGAR_SCALE_INTEGER);
    g_action_group_change_action_state(mg, "scale", g_variant_new_string("1:1"));
    g_assert_cmpint(hangar_display_get_scale_mode(disp), ==, HANGAR_SCALE_NONE);
    g_action_group_change_action_state(mg, "scale", g_variant_new_string("fit"));
    g_assert_cmpint(hangar_display_get_scale_mode(disp), ==, HANGAR_SCALE_FIT);
    g_assert_false(g_action_group_get_action_enabled(mg, "start"));

    /* Power off asks first (GSettings confirm-power-off): cancelling keeps it running. */
    activate_action(GTK_WIDGET(mw), "machine", "power-off");
    GtkWidget *dialog = NULL;
    g_assert_true(wait_for(find_dialog, &dialog, 10));
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_RUNNING);
    activate_action(GTK_WIDGET(mw), "machine", "power-off");
    dialog = NULL;
    g_assert_true(wait_for(find_dialog, &dialog, 10));
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_STOPPED);
    g_assert_null(hangar_machine_get_display(m));
    /* Start again from its own window, which stays open when powered off. */
    g_assert_true(g_action_group_get_action_enabled(mg, "start"));
    g_action_group_activate_action(mg, "start", NULL);
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_RUNNING);
    g_assert_true(wait_for(no_boot_device, m, 60));
    activate_action(GTK_WIDGET(mw), "machine", "power-off");
    dialog = NULL;
    g_assert_true(wait_for(find_dialog, &dialog, 10));
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_ACCEPT);
    g_assert_cmpint(hangar_machine_get_state(m), ==, HANGAR_MACHINE_STOPPED);
    g_assert_cmpstr(atk_object_get_name(row_a11y), ==, "Test PC, DOS, Powered off");
    g_assert_cmpint(hangar_machine_get_state(m2), ==, HANGAR_MACHINE_RUNNING);

    /* Closing a machine window powers its machine off. */
    g_object_ref(m2);
    gtk_widget_destroy(GTK_WIDGET(mw2));
    g_assert_cmpint(hangar_machine_get_state(m2), ==, HANGAR_MACHINE_STOPPED);
    g_object_unref(m2);
    gtk_widget_destroy(GTK_WIDGET(mw));
}

static void test_manager(void)
{
    g_autofree char *tmp = g_dir_make_tmp("hangar-gui-XXXXXX", NULL);
    g_assert_nonnull(tmp);
    g_setenv("XDG_DATA_HOME", tmp, TRUE);
    g_autofree char *cfg_home = g_build_filename(tmp, "config", NULL);
    g_setenv("XDG_CONFIG_HOME", cfg_home, TRUE);
    write_profile("test-pc", "Test PC", "dos", NULL);
    write_profile("second-pc", "Second PC", "win9x", NULL);
    /* A disk image that is not there: starting fails, and says why in the window. */
    g_autofree char *missing = g_build_filename(tmp, "missing.img", NULL);
    write_profile("broken-pc", "Broken PC", "linux", missing);

    gint64 t0 = g_get_monotonic_time();
    HangarApplication *app = hangar_application_new(G_APPLICATION_NON_UNIQUE);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    g_application_activate(G_APPLICATION(app));
    g_assert_true(wait_for(main_window_shown, app, 20));
    g_test_message("main window shown %.0f ms after the application was created",
                   (g_get_monotonic_time() - t0) / 1e3);
    run_checks(GTK_APPLICATION(app));
    g_action_group_activate_action(G_ACTION_GROUP(app), "quit", NULL);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_object_unref(app);

    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    /* Memory-backed settings: the test neither needs nor touches the user's dconf. */
    g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
    if (!gtk_init_check(&argc, &argv)) {
        fprintf(stderr, "no display (run under xvfb-run): skipped\n");
        return 77;
    }
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gui/manager", test_manager);
    return g_test_run();
}
