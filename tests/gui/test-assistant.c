/* Widget test of the new-machine assistant, the settings dialog and deletion, under Xvfb
 * (run-xvfb.sh). Widgets are found by their accessible names, as a screen reader (and the
 * dogtail test) finds them. Checks: guest type presets fill the defaults; every page
 * refuses bad input and says why; Apply with a machines folder that cannot be created
 * shows the reason and keeps the assistant open; a machine made from it exists on disk
 * with the machine.ini the pages describe and a raw disk of the chosen size; the settings
 * dialog edits it and keeps keys it does not know; a running machine leaves a thumbnail
 * and its screen text in the list; deleting asks, names the disk images and keeps or
 * deletes them. Exit 77 (skipped) when there is no display. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hangar-application.h"
#include "hangar-assistant.h"
#include "hangar-machine-row.h"
#include "hangar-thumbnail.h"
#include "hangar-window.h"

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

static void spin(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

typedef struct {
    const char *name;
    GtkWidget *found;
} Find;

static void find_cb(GtkWidget *w, gpointer data)
{
    Find *f = data;
    if (f->found)
        return;
    const char *n = atk_object_get_name(gtk_widget_get_accessible(w));
    if (n && !strcmp(n, f->name)) {
        f->found = w;
        return;
    }
    if (GTK_IS_CONTAINER(w))
        gtk_container_forall(GTK_CONTAINER(w), find_cb, f);
}

/* The widget whose accessible name is name, anywhere under root; fails the test if none. */
static GtkWidget *by_name(GtkWidget *root, const char *name)
{
    Find f = {name, NULL};
    gtk_container_forall(GTK_CONTAINER(root), find_cb, &f);
    if (!f.found)
        g_error("no widget with the accessible name \"%s\"", name);
    return f.found;
}

/* A button (or check/radio) found by its label text, without the mnemonic underline. */
static GtkWidget *by_label(GtkWidget *root, const char *text)
{
    GtkWidget *label = gtk_test_find_label(root, text);
    if (!label)
        g_error("no label \"%s\"", text);
    GtkWidget *b = gtk_widget_get_ancestor(label, GTK_TYPE_BUTTON);
    return b ? b : label;
}

static void set_text(GtkWidget *root, const char *name, const char *text)
{
    gtk_entry_set_text(GTK_ENTRY(by_name(root, name)), text);
    spin();
}

static void set_combo(GtkWidget *root, const char *name, const char *id)
{
    g_assert_true(gtk_combo_box_set_active_id(GTK_COMBO_BOX(by_name(root, name)), id));
    spin();
}

static const char *combo(GtkWidget *root, const char *name)
{
    return gtk_combo_box_get_active_id(GTK_COMBO_BOX(by_name(root, name)));
}

static void set_spin(GtkWidget *root, const char *name, double v)
{
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(by_name(root, name)), v);
    spin();
}

static double spin_value(GtkWidget *root, const char *name)
{
    return gtk_spin_button_get_value(GTK_SPIN_BUTTON(by_name(root, name)));
}

static void click(GtkWidget *root, const char *label)
{
    GtkWidget *b = by_label(root, label);
    g_assert_true(gtk_widget_is_sensitive(b));
    if (GTK_IS_TOGGLE_BUTTON(b))
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b), TRUE);
    else
        gtk_button_clicked(GTK_BUTTON(b));
    spin();
}

/* The message under a page, "" when it shows none. */
static const char *problem(GtkWidget *root, const char *name)
{
    GtkWidget *l = by_name(root, name);
    return gtk_widget_get_visible(l) ? gtk_label_get_text(GTK_LABEL(l)) : "";
}

static void expect_problem(GtkWidget *root, const char *name, const char *part)
{
    const char *p = problem(root, name);
    if (!strstr(p, part))
        g_error("%s: \"%s\" lacks \"%s\"", name, p, part);
    g_test_message("%s: %s", name, p);
}

static gboolean page_complete(GtkAssistant *a, int page)
{
    return gtk_assistant_get_page_complete(a, gtk_assistant_get_nth_page(a, page));
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

static gboolean destroyed(gpointer data)
{
    return *(gpointer *)data == NULL;
}

static HangarMachineRow *find_row(HangarWindow *w, const char *id)
{
    g_autoptr(GList) rows =
        gtk_container_get_children(GTK_CONTAINER(hangar_window_get_machine_list(w)));
    for (GList *l = rows; l; l = l->next)
        if (!strcmp(hangar_machine_get_id(hangar_machine_row_get_machine(l->data)), id))
            return l->data;
    return NULL;
}

static char *ini_string(const char *id, const char *group, const char *key)
{
    g_autofree char *dir = hg_profile_dir_for_id(id);
    g_autofree char *path = g_build_filename(dir, "machine.ini", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(kf, path, 0, NULL));
    return g_key_file_get_string(kf, group, key, NULL);
}

static void expect_ini(const char *id, const char *group, const char *key, const char *want)
{
    g_autofree char *v = ini_string(id, group, key);
    if (g_strcmp0(v, want))
        g_error("%s: [%s] %s=%s, expected %s", id, group, key, v ? v : "(none)",
                want ? want : "(none)");
}

static void write_profile(const char *id, const char *name, const char *hda)
{
    g_autofree char *dir = hg_profile_dir_for_id(id);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.name = g_strdup(name);
    cfg.guest_type = g_strdup("dos");
    cfg.memory_mib = 16;
    if (hda) {
        cfg.hda = g_build_filename(dir, hda, NULL);
        g_assert_true(hg_image_create(cfg.hda, "raw", 1 << 20, NULL, NULL, NULL));
    }
    g_assert_true(hg_config_save_profile(&cfg, dir, NULL));
    hg_config_clear(&cfg);
}

/* Presets: each guest type fills memory, disk, cards, tablet, medium and boot order. */
static void check_presets(GtkWidget *a)
{
    /* A new machine starts as a modern Linux with a qcow2 disk. */
    g_assert_cmpstr(combo(a, "Guest type"), ==, "linux");
    g_assert_cmpfloat(spin_value(a, "Memory in MiB"), ==, 1024);
    g_assert_cmpfloat(spin_value(a, "Disk size"), ==, 20);
    g_assert_cmpstr(combo(a, "Disk format"), ==, "qcow2");
    g_assert_cmpstr(combo(a, "Sound card"), ==, "es1370");
    g_assert_cmpstr(combo(a, "Network card"), ==, "rtl8139");
    g_assert_cmpstr(combo(a, "Boot order"), ==, "dc");
    g_assert_true(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(
        by_label(a, "USB tablet (the pointer follows the mouse without a grab)"))));
    g_assert_true(
        gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(by_label(a, "CD or DVD image (ISO file)"))));
    /* A locally administered unicast address in 52:54:00. */
    const char *mac = gtk_entry_get_text(GTK_ENTRY(by_name(a, "MAC address")));
    g_assert_true(g_str_has_prefix(mac, "52:54:00:"));
    g_assert_cmpuint(strlen(mac), ==, 17);

    set_combo(a, "Guest type", "dos");
    g_assert_cmpfloat(spin_value(a, "Memory in MiB"), ==, 16);
    g_assert_cmpfloat(fabs(spin_value(a, "Disk size") - 504 / 1024.0), <, 0.01);
    g_assert_cmpstr(combo(a, "Sound card"), ==, "sb16,adlib");
    g_assert_cmpstr(combo(a, "Network card"), ==, "ne2k_isa");
    g_assert_cmpstr(combo(a, "Boot order"), ==, "ac");
    g_assert_true(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(by_label(a, "Floppy image"))));
    g_assert_false(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(
        by_label(a, "USB tablet (the pointer follows the mouse without a grab)"))));

    set_combo(a, "Guest type", "winxp");
    g_assert_cmpfloat(spin_value(a, "Memory in MiB"), ==, 512);
    g_assert_cmpstr(combo(a, "Sound card"), ==, "es1370");
    g_assert_cmpstr(combo(a, "Network card"), ==, "rtl8139");

    set_combo(a, "Guest type", "linux-old");
    g_assert_cmpfloat(spin_value(a, "Memory in MiB"), ==, 256);
    g_assert_cmpstr(combo(a, "Sound card"), ==, "sb16");
    g_assert_cmpstr(combo(a, "Network card"), ==, "ne2k_pci");

    set_combo(a, "Guest type", "win9x");
    g_assert_cmpfloat(spin_value(a, "Memory in MiB"), ==, 64);
    g_assert_cmpfloat(spin_value(a, "Disk size"), ==, 2);
    g_assert_cmpstr(combo(a, "Sound card"), ==, "sb16");
    g_assert_cmpstr(combo(a, "Network card"), ==, "ne2k_pci");
    g_assert_cmpstr(combo(a, "Boot order"), ==, "dc");
    g_assert_true(
        gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(by_label(a, "CD or DVD image (ISO file)"))));
}

static void check_validation(GtkWidget *a, const char *iso)
{
    GtkAssistant *as = GTK_ASSISTANT(a);
    /* Name. */
    expect_problem(a, "Name problem", "Give the machine a name");
    g_assert_false(page_complete(as, 0));
    set_text(a, "Name", "   ");
    expect_problem(a, "Name problem", "Give the machine a name");
    set_text(a, "Name", "existing pc");
    expect_problem(a, "Name problem", "exists already");
    g_assert_false(page_complete(as, 0));
    set_text(a, "Name", "New PC");
    g_assert_cmpstr(problem(a, "Name problem"), ==, "");
    g_assert_true(page_complete(as, 0));

    /* Memory: advice below what the guest type needs, never a refusal. */
    set_spin(a, "Memory in MiB", 8);
    expect_problem(a, "Memory problem", "at least 16 MiB");
    g_assert_true(page_complete(as, 1));
    set_spin(a, "Memory in MiB", 64);
    g_assert_cmpstr(problem(a, "Memory problem"), ==, "");

    /* Install medium. */
    expect_problem(a, "Install medium problem", "Choose the image file");
    g_assert_false(page_complete(as, 2));
    set_text(a, "Install medium file", "/nonexistent/win98.iso");
    expect_problem(a, "Install medium problem", "does not exist");
    set_text(a, "Install medium file", "relative.iso");
    expect_problem(a, "Install medium problem", "not a full path");
    set_text(a, "Install medium file", g_get_tmp_dir());
    expect_problem(a, "Install medium problem", "is not a file");
    set_text(a, "Install medium file", iso);
    g_assert_cmpstr(problem(a, "Install medium problem"), ==, "");
    set_combo(a, "Boot order", "ac");
    expect_problem(a, "Install medium problem", "starts from the floppy");
    set_combo(a, "Boot order", "dc");
    g_assert_true(page_complete(as, 2));

    /* Disk. */
    click(a, "Use an existing image");
    expect_problem(a, "Disk problem", "Choose the disk image");
    set_text(a, "Existing disk image", "/nonexistent/disk.img");
    expect_problem(a, "Disk problem", "does not exist");
    g_assert_false(page_complete(as, 3));
    click(a, "No install medium");
    click(a, "No hard disk");
    expect_problem(a, "Disk problem", "nothing to start from");
    click(a, "CD or DVD image (ISO file)");
    g_assert_cmpstr(problem(a, "Disk problem"), ==, "");
    /* Another machine's disk: allowed, with a warning. */
    g_autofree char *probe = hg_profile_dir_for_id("existing-pc");
    g_autofree char *shared = g_build_filename(probe, "disk.img", NULL);
    click(a, "Use an existing image");
    set_text(a, "Existing disk image", shared);
    expect_problem(a, "Disk problem", "“Existing PC” uses this image too");
    g_assert_true(page_complete(as, 3));
    click(a, "Create a new disk image");
    /* More than the file system holds: a sparse image may still do, so only a warning. */
    set_spin(a, "Disk size", 2048);
    if (*problem(a, "Disk problem"))
        expect_problem(a, "Disk problem", "are free where the machine is kept");
    g_assert_true(page_complete(as, 3));
    g_assert_true(page_complete(as, 3));
    g_assert_true(gtk_widget_is_sensitive(by_name(a, "Disk size")));
    g_assert_false(gtk_widget_is_sensitive(by_name(a, "Existing disk image")));

    /* Network: the MAC address. */
    set_text(a, "MAC address", "52:54:00:zz:00:01");
    expect_problem(a, "Hardware problem", "not a MAC address");
    g_assert_false(page_complete(as, 4));
    set_text(a, "MAC address", "01:00:5e:00:00:01");
    expect_problem(a, "Hardware problem", "multicast");
    /* No card, no address to check. */
    set_combo(a, "Network card", "none");
    g_assert_cmpstr(problem(a, "Hardware problem"), ==, "");
    g_assert_false(gtk_widget_is_sensitive(by_name(a, "MAC address")));
    set_combo(a, "Network card", "ne2k_pci");
    set_text(a, "MAC address", "52:54:00:12:34:56");
    g_assert_cmpstr(problem(a, "Hardware problem"), ==, "");
    g_assert_true(page_complete(as, 4));
    g_assert_true(page_complete(as, 5));
}

static void go_to_summary(GtkAssistant *a)
{
    while (gtk_assistant_get_current_page(a) < 5) {
        gtk_assistant_next_page(a);
        spin();
    }
}

static gboolean row_has_thumbnail(gpointer data)
{
    GtkImage *img = GTK_IMAGE(by_name(data, "Screen of Thumb PC"));
    return gtk_image_get_storage_type(img) == GTK_IMAGE_PIXBUF;
}

static gboolean row_text_has_seabios(gpointer data)
{
    const char *d =
        atk_object_get_description(gtk_widget_get_accessible(by_name(data, "Screen of Thumb PC")));
    return d && strstr(d, "SeaBIOS");
}

static gboolean is_paused(gpointer m)
{
    return hangar_machine_get_state(m) == HANGAR_MACHINE_PAUSED;
}

static void run_checks(GtkApplication *app, const char *tmp)
{
    g_assert_true(wait_for(main_window_shown, app, 20));
    HangarWindow *w = main_window(app);
    GtkWidget *ww = GTK_WIDGET(w);
    /* The header bar's buttons carry names. */
    g_assert_true(GTK_IS_BUTTON(by_name(ww, "New Machine")));
    by_name(ww, "Machine Settings");
    by_name(ww, "Delete Machine");
    /* Ctrl+N opens the assistant, Delete asks to delete the selected machine. */
    g_auto(GStrv) accels = gtk_application_get_accels_for_action(app, "win.new-machine");
    g_assert_cmpstr(accels[0], ==, "<Primary>n");

    g_autofree char *iso = g_build_filename(tmp, "install.iso", NULL);
    g_assert_true(g_file_set_contents(iso, "CD001", -1, NULL));

    HangarAssistant *assistant = hangar_window_new_machine(w);
    GtkWidget *a = GTK_WIDGET(assistant);
    g_object_add_weak_pointer(G_OBJECT(a), (gpointer *)&a);
    spin();
    g_assert_true(gtk_widget_get_mapped(a));
    g_assert_cmpstr(gtk_window_get_title(GTK_WINDOW(a)), ==, "New Machine — Name and Type");
    check_presets(a);
    check_validation(a, iso);
    set_combo(a, "Disk format", "raw");
    set_spin(a, "Disk size", 0.1);
    go_to_summary(GTK_ASSISTANT(a));
    const char *summary = gtk_label_get_text(GTK_LABEL(by_name(a, "Machine summary")));
    g_test_message("summary:\n%s", summary);
    g_assert_nonnull(strstr(summary, "Name: New PC"));
    g_assert_nonnull(strstr(summary, "Memory: 64 MiB"));
    g_assert_nonnull(strstr(summary, iso));
    g_assert_nonnull(strstr(summary, "new raw image of 0.1 GiB"));

    /* A machines folder that cannot be made: the reason is shown, nothing closes, and
     * nothing is left behind. */
    g_autofree char *probe = hg_profile_dir_for_id("x");
    g_autofree char *root = g_path_get_dirname(probe);
    g_autofree char *saved = g_strconcat(root, ".saved", NULL);
    g_assert_cmpint(g_rename(root, saved), ==, 0);
    g_assert_true(g_file_set_contents(root, "not a folder", -1, NULL));
    click(a, "Apply");
    g_assert_nonnull(a);
    expect_problem(a, "Creation problem", "cannot be created");
    g_assert_cmpint(g_unlink(root), ==, 0);
    g_assert_cmpint(g_rename(saved, root), ==, 0);

    /* qcow2 is the default; until this build can create qcow2 images, Apply says so in
     * words and points at raw. Either way the outcome is checked. */
    set_combo(a, "Disk format", "qcow2");
    click(a, "Apply");
    if (a) {
        expect_problem(a, "Creation problem", "raw format");
        g_autofree char *dir = hg_profile_dir_for_id("new-pc");
        g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
        set_combo(a, "Disk format", "raw");
        g_assert_cmpstr(problem(a, "Creation problem"), ==, "");
        click(a, "Apply");
        g_assert_true(wait_for(destroyed, &a, 5));
        expect_ini("new-pc", "Drives", "HDA", "disk.img");
        g_autofree char *disk = g_build_filename(dir, "disk.img", NULL);
        GStatBuf st;
        g_assert_cmpint(g_stat(disk, &st), ==, 0);
        g_assert_cmpuint(st.st_size, ==, (guint64)102 << 20);
    } else {
        g_test_message("this build creates qcow2 images: the machine has a qcow2 disk");
        expect_ini("new-pc", "Drives", "HDA", "disk.qcow2");
    }
    /* The machine exists on disk with what the pages said. */
    expect_ini("new-pc", "Machine", "Name", "New PC");
    expect_ini("new-pc", "Machine", "GuestType", "win9x");
    expect_ini("new-pc", "Machine", "Memory", "64");
    expect_ini("new-pc", "Machine", "Boot", "dc");
    g_autofree char *version = g_strdup_printf("%d", HG_PROFILE_VERSION);
    expect_ini("new-pc", "Machine", "Version", version);
    expect_ini("new-pc", "Drives", "CDROM", iso);
    expect_ini("new-pc", "Drives", "FDA", NULL);
    expect_ini("new-pc", "Audio", "Cards", "sb16");
    expect_ini("new-pc", "Network", "Card", "ne2k_pci");
    expect_ini("new-pc", "Network", "Mode", "user");
    expect_ini("new-pc", "Network", "MAC", "52:54:00:12:34:56");
    expect_ini("new-pc", "USB", "Devices", NULL);
    /* The list shows it, selected; a profile the engine can load. */
    HangarMachineRow *row = find_row(w, "new-pc");
    g_assert_nonnull(row);
    g_assert_true(gtk_list_box_get_selected_row(hangar_window_get_machine_list(w)) ==
                  GTK_LIST_BOX_ROW(row));
    HgConfig cfg;
    hg_config_init(&cfg);
    g_autofree char *dir = hg_profile_dir_for_id("new-pc");
    g_assert_true(hg_config_load_profile(&cfg, dir, NULL));
    hg_config_clear(&cfg);
    /* A second machine of the same name is refused; a new id would be new-pc-2. */
    g_autofree char *id2 = hangar_assistant_make_id("New PC");
    g_assert_cmpstr(id2, ==, "new-pc-2");

    /* Settings: the same pages, filled from the profile; keys unknown here survive. */
    g_autofree char *ini = g_build_filename(dir, "machine.ini", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(ini, &text, NULL, NULL));
    g_autofree char *more = g_strconcat(text, "\n[Future]\nKey=kept\n", NULL);
    g_assert_true(g_file_set_contents(ini, more, -1, NULL));
    hangar_window_reload(w);
    g_assert_true(hangar_window_select(w, "new-pc"));
    a = GTK_WIDGET(hangar_window_edit_selected(w));
    g_assert_nonnull(a);
    g_object_add_weak_pointer(G_OBJECT(a), (gpointer *)&a);
    spin();
    g_assert_true(g_str_has_prefix(gtk_window_get_title(GTK_WINDOW(a)), "Settings of “New PC” — "));
    g_assert_cmpstr(gtk_entry_get_text(GTK_ENTRY(by_name(a, "Name"))), ==, "New PC");
    g_assert_cmpstr(combo(a, "Guest type"), ==, "win9x");
    g_assert_cmpfloat(spin_value(a, "Memory in MiB"), ==, 64);
    g_assert_cmpstr(gtk_entry_get_text(GTK_ENTRY(by_name(a, "Install medium file"))), ==, iso);
    g_assert_true(
        gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(by_label(a, "Use an existing image"))));
    g_assert_cmpstr(gtk_entry_get_text(GTK_ENTRY(by_name(a, "MAC address"))), ==,
                    "52:54:00:12:34:56");
    g_assert_false(gtk_widget_get_visible(by_label(a, "Start the machine when it is created")));
    /* Its own name is not "taken". */
    g_assert_cmpstr(problem(a, "Name problem"), ==, "");
    set_spin(a, "Memory in MiB", 128);
    click(a, "No install medium");
    set_combo(a, "Boot order", "c");
    set_combo(a, "Sound card", "none");
    go_to_summary(GTK_ASSISTANT(a));
    click(a, "Apply");
    g_assert_true(wait_for(destroyed, &a, 5));
    expect_ini("new-pc", "Machine", "Memory", "128");
    expect_ini("new-pc", "Machine", "Boot", "c");
    expect_ini("new-pc", "Drives", "CDROM", NULL);
    expect_ini("new-pc", "Audio", "Cards", "none");
    expect_ini("new-pc", "Future", "Key", "kept");
    expect_ini("new-pc", "Drives", "HDA", ini_string("new-pc", "Drives", "HDA"));

    /* A running machine leaves a thumbnail of its screen, and the list row can read the
     * screen's text; Settings and Delete wait until it is off. */
    write_profile("thumb-pc", "Thumb PC", NULL);
    hangar_window_reload(w);
    g_assert_true(hangar_window_select(w, "thumb-pc"));
    HangarMachine *m = hangar_machine_row_get_machine(find_row(w, "thumb-pc"));
    g_autoptr(GError) error = NULL;
    g_assert_true(hangar_machine_start(m, &error));
    spin();
    g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "settings"));
    g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "delete"));
    g_assert_null(hangar_window_edit_selected(w));
    g_assert_true(wait_for(row_text_has_seabios, ww, 60));
    hangar_machine_pause(m);
    g_assert_true(wait_for(is_paused, m, 10));
    g_autofree char *thumb_dir = hg_profile_dir_for_id("thumb-pc");
    g_autofree char *thumb = hangar_thumbnail_path(thumb_dir);
    g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file(thumb, &error);
    g_assert_no_error(error);
    g_assert_cmpint(gdk_pixbuf_get_width(pb), <=, HANGAR_THUMBNAIL_WIDTH);
    g_assert_cmpint(gdk_pixbuf_get_height(pb), <=, HANGAR_THUMBNAIL_HEIGHT);
    g_assert_cmpint(gdk_pixbuf_get_width(pb), >=, HANGAR_THUMBNAIL_WIDTH - 1);
    g_assert_true(wait_for(row_has_thumbnail, ww, 5));
    hangar_machine_power_off(m);
    spin();
    g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(w), "delete"));

    /* Delete asks and names the disk images; keeping them leaves the image. */
    write_profile("keep-pc", "Keep PC", "disk.img");
    hangar_window_reload(w);
    g_assert_true(hangar_window_select(w, "keep-pc"));
    GtkWidget *dialog = hangar_window_delete_selected(w);
    g_autofree char *secondary = NULL;
    g_object_get(dialog, "secondary-text", &secondary, NULL);
    g_test_message("delete asks: %s", secondary);
    g_autofree char *keep_dir = hg_profile_dir_for_id("keep-pc");
    g_autofree char *keep_disk = g_build_filename(keep_dir, "disk.img", NULL);
    g_assert_nonnull(strstr(secondary, keep_disk));
    gtk_dialog_response(GTK_DIALOG(dialog), 1 /* keep */);
    spin();
    g_assert_null(find_row(w, "keep-pc"));
    g_assert_true(g_file_test(keep_disk, G_FILE_TEST_IS_REGULAR));

    /* Cancel changes nothing; deleting the images removes the whole folder. */
    g_assert_true(hangar_window_select(w, "new-pc"));
    dialog = hangar_window_delete_selected(w);
    gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
    spin();
    g_assert_nonnull(find_row(w, "new-pc"));
    dialog = hangar_window_delete_selected(w);
    g_object_get(dialog, "secondary-text", &secondary, NULL);
    g_assert_nonnull(strstr(secondary, dir));
    gtk_dialog_response(GTK_DIALOG(dialog), 2 /* delete the images */);
    spin();
    g_assert_null(find_row(w, "new-pc"));
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void test_assistant(void)
{
    g_autofree char *tmp = g_dir_make_tmp("hangar-assistant-XXXXXX", NULL);
    g_assert_nonnull(tmp);
    g_setenv("XDG_DATA_HOME", tmp, TRUE);
    g_autofree char *cfg_home = g_build_filename(tmp, "config", NULL);
    g_setenv("XDG_CONFIG_HOME", cfg_home, TRUE);
    write_profile("existing-pc", "Existing PC", "disk.img");

    HangarApplication *app = hangar_application_new(G_APPLICATION_NON_UNIQUE);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    g_application_activate(G_APPLICATION(app));
    run_checks(GTK_APPLICATION(app), tmp);
    g_action_group_activate_action(G_ACTION_GROUP(app), "quit", NULL);
    spin();
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
    g_test_add_func("/gui/assistant", test_assistant);
    return g_test_run();
}
