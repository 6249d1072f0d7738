/* HangarAssistant: the new-machine assistant (template gui/ui/hangar-assistant.ui), a
 * GtkAssistant in the order the GNOME HIG and the managers of docs/reference/gui.md §3.1
 * converge on: name and guest type (whose preset fills the defaults), memory, install
 * medium and boot order, disk, sound and network, summary. Every page checks its fields as
 * they change and says what is wrong in words under them; the page cannot be left until
 * it is right. Apply writes the profile with hg_config_save_profile (and creates the disk
 * image with hg_image_create); a failure is shown on the summary page and the assistant
 * stays open. The same pages, filled from a profile, are the settings dialog of a stopped
 * machine. */
#include "hangar-assistant.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hangar-presets.h"

enum { PAGE_NAME, PAGE_MEMORY, PAGE_MEDIUM, PAGE_DISK, PAGE_HARDWARE, PAGE_SUMMARY };

struct _HangarAssistant {
    GtkAssistant parent_instance;
    HangarMachine *machine; /* the machine whose settings these are, or NULL for a new one */
    gboolean filling;       /* fields set by the program, not the person: no preset */
    gboolean apply_failed;  /* the last Apply failed: "close" must not close */
    char *title;            /* "New Machine" or "Settings of “NAME”" */
    GPtrArray *names;       /* the other machines' names, case-folded (name_taken) */
    GHashTable *disk_users; /* their disk images: canonical path -> machine name */

    GtkWidget *name_page, *memory_page, *medium_page, *disk_page, *hardware_page, *summary_page;
    GtkEntry *name_entry;
    GtkComboBoxText *type_combo;
    GtkLabel *type_hint, *name_error;
    GtkSpinButton *memory_spin;
    GtkLabel *memory_hint;
    GtkToggleButton *medium_none, *medium_cd, *medium_floppy;
    GtkEntry *medium_entry;
    GtkWidget *medium_browse;
    GtkComboBoxText *boot_combo;
    GtkLabel *medium_error;
    GtkToggleButton *disk_new, *disk_existing, *disk_none;
    GtkSpinButton *disk_size_spin;
    GtkComboBoxText *disk_format_combo;
    GtkEntry *disk_entry;
    GtkWidget *disk_browse;
    GtkLabel *disk_error;
    GtkComboBoxText *sound_combo, *nic_combo, *net_combo;
    GtkEntry *mac_entry;
    GtkToggleButton *usb_tablet_check;
    GtkLabel *hardware_error;
    GtkLabel *summary_label, *apply_error;
    GtkToggleButton *start_check;
};

G_DEFINE_TYPE(HangarAssistant, hangar_assistant, GTK_TYPE_ASSISTANT)

enum { SIGNAL_SAVED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* --- Helpers without widgets --- */

char *hangar_assistant_make_id(const char *name)
{
    g_autoptr(GString) id = g_string_new(NULL);
    g_autofree char *ascii = g_str_to_ascii(name ? name : "", "C");
    for (const char *p = ascii; *p; p++) {
        if (g_ascii_isalnum(*p))
            g_string_append_c(id, g_ascii_tolower(*p));
        else if (id->len && id->str[id->len - 1] != '-')
            g_string_append_c(id, '-');
    }
    while (id->len && id->str[id->len - 1] == '-')
        g_string_truncate(id, id->len - 1);
    if (id->len > 40)
        g_string_truncate(id, 40);
    if (!id->len)
        g_string_assign(id, "machine");
    char *candidate = g_strdup(id->str);
    for (int n = 2;; n++) {
        g_autofree char *dir = hg_profile_dir_for_id(candidate);
        if (!g_file_test(dir, G_FILE_TEST_EXISTS))
            return candidate;
        g_free(candidate);
        candidate = g_strdup_printf("%s-%d", id->str, n);
    }
}

void hangar_assistant_random_mac(uint8_t mac[6])
{
    /* 52:54:00 is the locally administered range QEMU and libvirt use: bit 1 of the first
     * byte says "local", bit 0 clear says unicast. */
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    for (int i = 3; i < 6; i++)
        mac[i] = (uint8_t)g_random_int_range(0, 256);
}

/* What the other profiles in the machines folder hold that this one must not clash with:
 * their names (case-folded) and their hard disk images (path -> machine name). Read once
 * per assistant rather than at every key press. */
static void read_other_profiles(HangarAssistant *self)
{
    const char *own_id = self->machine ? hangar_machine_get_id(self->machine) : NULL;
    self->names = g_ptr_array_new_with_free_func(g_free);
    self->disk_users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char *probe = hg_profile_dir_for_id("x");
    g_autofree char *root = g_path_get_dirname(probe);
    g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
    const char *id;
    while (dir && (id = g_dir_read_name(dir))) {
        if (own_id && !strcmp(id, own_id))
            continue;
        g_autofree char *path = g_build_filename(root, id, NULL);
        HgConfig cfg;
        hg_config_init(&cfg);
        if (hg_config_load_profile(&cfg, path, NULL)) {
            const char *name = cfg.name && *cfg.name ? cfg.name : id;
            g_ptr_array_add(self->names, g_utf8_casefold(name, -1));
            const char *disks[] = {cfg.hda, cfg.hdb};
            for (size_t i = 0; i < G_N_ELEMENTS(disks); i++)
                if (disks[i])
                    g_hash_table_replace(self->disk_users, g_canonicalize_filename(disks[i], NULL),
                                         g_strdup(name));
        }
        hg_config_clear(&cfg);
    }
}

static gboolean name_taken(HangarAssistant *self, const char *name)
{
    if (!self->names)
        read_other_profiles(self);
    g_autofree char *want = g_utf8_casefold(name, -1);
    for (guint i = 0; i < self->names->len; i++)
        if (!strcmp(self->names->pdata[i], want))
            return TRUE;
    return FALSE;
}

/* Empty when the file can be used; otherwise the reason, in words. */
static char *check_file(const char *path, gboolean writable)
{
    if (!path || !*path)
        return g_strdup(_("Choose a file."));
    if (!g_path_is_absolute(path))
        return g_strdup_printf(_("“%s” is not a full path: it must start with /."), path);
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return g_strdup_printf(_("%s does not exist."), path);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return g_strdup_printf(_("%s is not a file."), path);
    if (g_access(path, writable ? R_OK | W_OK : R_OK) != 0) {
        int e = errno;
        return g_strdup_printf(writable ? _("%s cannot be read and written: %s.")
                                        : _("%s cannot be read: %s."),
                               path, g_strerror(e));
    }
    return NULL;
}

/* --- Reading the fields --- */

static const HangarPreset *current_preset(HangarAssistant *self)
{
    return hangar_preset_find(gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->type_combo)));
}

static gboolean toggled(GtkToggleButton *b)
{
    return gtk_toggle_button_get_active(b);
}

static char *entry_text(GtkEntry *e)
{
    return g_strstrip(g_strdup(gtk_entry_get_text(e)));
}

static const char *combo_id(GtkComboBoxText *c)
{
    const char *id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(c));
    return id ? id : "";
}

static const char *disk_format(HangarAssistant *self)
{
    return !strcmp(combo_id(self->disk_format_combo), "raw") ? "raw" : "qcow2";
}

static void show_error(GtkLabel *label, const char *text)
{
    gtk_label_set_text(label, text ? text : "");
    gtk_widget_set_visible(GTK_WIDGET(label), text && *text);
}

/* --- Validation: each returns whether its page is complete and shows why not --- */

static gboolean validate_name(HangarAssistant *self)
{
    g_autofree char *name = entry_text(self->name_entry);
    g_autofree char *msg = NULL;
    if (!*name)
        msg = g_strdup(_("Give the machine a name."));
    else if (g_utf8_strlen(name, -1) > 64)
        msg = g_strdup(_("The name is too long: at most 64 characters."));
    else if (name_taken(self, name))
        msg =
            g_strdup_printf(_("A machine called “%s” exists already: choose another name."), name);
    show_error(self->name_error, msg);
    return msg == NULL;
}

static gboolean validate_memory(HangarAssistant *self)
{
    /* Advice, not a refusal: the spin button keeps the value within what the board takes. */
    const HangarPreset *p = current_preset(self);
    guint mib = (guint)gtk_spin_button_get_value_as_int(self->memory_spin);
    guint64 host = (guint64)sysconf(_SC_PHYS_PAGES) * (guint64)sysconf(_SC_PAGESIZE) >> 20;
    g_autofree char *msg = NULL;
    if (mib < p->min_memory_mib)
        msg = g_strdup_printf(_("%s usually needs at least %u MiB to start."), _(p->label),
                              p->min_memory_mib);
    else if (host && mib > host / 2)
        msg = g_strdup_printf(
            _("This computer has %u MiB: more than half of it for one machine can slow both."),
            (guint)host);
    show_error(self->memory_hint, msg);
    return TRUE;
}

static gboolean validate_medium(HangarAssistant *self)
{
    gboolean none = toggled(self->medium_none);
    gtk_widget_set_sensitive(GTK_WIDGET(self->medium_entry), !none);
    gtk_widget_set_sensitive(self->medium_browse, !none);
    g_autofree char *msg = NULL;
    if (!none) {
        g_autofree char *path = entry_text(self->medium_entry);
        if (!*path)
            msg = g_strdup(_("Choose the image file, or pick “No install medium”."));
        else
            msg = check_file(path, FALSE);
        if (!msg && toggled(self->medium_floppy)) {
            GStatBuf st;
            if (g_stat(path, &st) == 0 && st.st_size > 2949120)
                msg = g_strdup_printf(_("%s is larger than a 2.88 MB floppy: is it a disk "
                                        "image? Choose it on the Disk page instead."),
                                      path);
        }
    }
    const char *boot = combo_id(self->boot_combo);
    if (!msg && toggled(self->medium_cd) && boot[0] == 'a')
        msg = g_strdup(_("The boot order starts from the floppy, but the medium is a CD: "
                         "choose “CD, then hard disk”."));
    if (!msg && toggled(self->medium_floppy) && boot[0] == 'd')
        msg = g_strdup(_("The boot order starts from the CD, but the medium is a floppy: "
                         "choose “Floppy, then hard disk”."));
    show_error(self->medium_error, msg);
    return msg == NULL;
}

/* Free bytes on the file system that holds the machines folder (or the nearest folder
 * above it that exists yet); 0 when unknown. */
static guint64 free_space_for_profiles(void)
{
    g_autofree char *probe = hg_profile_dir_for_id("x");
    g_autofree char *dir = g_path_get_dirname(probe);
    while (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        char *up = g_path_get_dirname(dir);
        gboolean top = !strcmp(up, dir);
        g_free(dir);
        dir = up;
        if (top)
            return 0;
    }
    g_autoptr(GFile) f = g_file_new_for_path(dir);
    g_autoptr(GFileInfo) info =
        g_file_query_filesystem_info(f, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, NULL);
    return info ? g_file_info_get_attribute_uint64(info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE) : 0;
}

static gboolean validate_disk(HangarAssistant *self)
{
    gboolean is_new = toggled(self->disk_new), existing = toggled(self->disk_existing);
    gtk_widget_set_sensitive(GTK_WIDGET(self->disk_size_spin), is_new);
    gtk_widget_set_sensitive(GTK_WIDGET(self->disk_format_combo), is_new);
    gtk_widget_set_sensitive(GTK_WIDGET(self->disk_entry), existing);
    gtk_widget_set_sensitive(self->disk_browse, existing);
    g_autofree char *msg = NULL;  /* what stops the page */
    g_autofree char *warn = NULL; /* advice that does not */
    if (existing) {
        g_autofree char *path = entry_text(self->disk_entry);
        if (!*path)
            msg = g_strdup(_("Choose the disk image, or create a new one."));
        else
            msg = check_file(path, TRUE);
        if (!msg) {
            if (!self->names)
                read_other_profiles(self);
            g_autofree char *canon = g_canonicalize_filename(path, NULL);
            const char *user = g_hash_table_lookup(self->disk_users, canon);
            if (user)
                warn = g_strdup_printf(_("“%s” uses this image too: never run both machines at "
                                         "once, or the disk is damaged."),
                                       user);
        }
    } else if (toggled(self->disk_none) && toggled(self->medium_none)) {
        msg = g_strdup(_("With no install medium and no hard disk the machine has nothing to "
                         "start from: choose a disk or go back and choose a medium."));
    } else if (is_new && gtk_spin_button_get_value(self->disk_size_spin) < 0.1) {
        msg = g_strdup(_("A disk needs at least 0.1 GiB."));
    } else if (is_new) {
        /* New images are sparse: they fill up as the guest writes, so too little room is
         * a warning, not a refusal. */
        guint64 want = (guint64)(gtk_spin_button_get_value(self->disk_size_spin) * 1024.0) << 20;
        guint64 free = free_space_for_profiles();
        if (free && want > free)
            warn = g_strdup_printf(_("Only %.1f GiB are free where the machine is kept: the disk "
                                     "can fill it as the guest writes."),
                                   free / 1073741824.0);
    }
    show_error(self->disk_error, msg ? msg : warn);
    return msg == NULL;
}

static gboolean validate_hardware(HangarAssistant *self)
{
    gboolean nic = strcmp(combo_id(self->nic_combo), "none") != 0;
    gtk_widget_set_sensitive(GTK_WIDGET(self->net_combo), nic);
    gtk_widget_set_sensitive(GTK_WIDGET(self->mac_entry), nic);
    g_autofree char *msg = NULL;
    g_autofree char *mac = entry_text(self->mac_entry);
    HgConfig probe;
    hg_config_init(&probe);
    if (nic && !hg_config_set_mac(&probe, mac, NULL)) {
        guint first = 0;
        if (sscanf(mac, "%2x", &first) == 1 && (first & 1) && strlen(mac) == 17)
            msg = g_strdup_printf(_("%s is a multicast address: the first byte must be even, "
                                    "for example 52:54:00:12:34:56."),
                                  mac);
        else
            msg = g_strdup_printf(_("“%s” is not a MAC address: six pairs of hexadecimal "
                                    "digits separated by colons, like 52:54:00:12:34:56."),
                                  mac);
    }
    hg_config_clear(&probe);
    show_error(self->hardware_error, msg);
    return msg == NULL;
}

/* The visible text of the active row; free with g_free. */
static char *combo_text(GtkComboBoxText *c)
{
    char *text = gtk_combo_box_text_get_active_text(c);
    return text ? text : g_strdup("");
}

static void update_summary(HangarAssistant *self)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *name = entry_text(self->name_entry);
    g_string_append_printf(s, _("Name: %s\n"), name);
    g_string_append_printf(s, _("Guest type: %s\n"), _(current_preset(self)->label));
    g_string_append_printf(s, _("Memory: %d MiB\n"),
                           gtk_spin_button_get_value_as_int(self->memory_spin));
    g_autofree char *medium = entry_text(self->medium_entry);
    if (toggled(self->medium_none))
        g_string_append(s, _("Install medium: none\n"));
    else if (toggled(self->medium_cd))
        g_string_append_printf(s, _("Install medium: CD image %s\n"), medium);
    else
        g_string_append_printf(s, _("Install medium: floppy image %s\n"), medium);
    g_autofree char *boot = combo_text(self->boot_combo);
    g_string_append_printf(s, _("Boot order: %s\n"), boot);
    g_autofree char *disk = entry_text(self->disk_entry);
    if (toggled(self->disk_new))
        g_string_append_printf(s, _("Disk: new %s image of %.1f GiB\n"), disk_format(self),
                               gtk_spin_button_get_value(self->disk_size_spin));
    else if (toggled(self->disk_existing))
        g_string_append_printf(s, _("Disk: %s\n"), disk);
    else
        g_string_append(s, _("Disk: none\n"));
    g_autofree char *sound = combo_text(self->sound_combo);
    g_string_append_printf(s, _("Sound card: %s\n"), sound);
    if (!strcmp(combo_id(self->nic_combo), "none")) {
        g_string_append(s, _("Network: none\n"));
    } else {
        g_autofree char *mac = entry_text(self->mac_entry);
        g_autofree char *nic = combo_text(self->nic_combo);
        g_autofree char *net = combo_text(self->net_combo);
        g_string_append_printf(s, _("Network: %s, %s, MAC address %s\n"), nic, net, mac);
    }
    g_string_append(s, toggled(self->usb_tablet_check) ? _("USB tablet: yes\n")
                                                       : _("USB tablet: no\n"));
    if (self->machine)
        g_string_append_printf(s, _("Folder: %s"), hangar_machine_get_dir(self->machine));
    else
        g_string_append(s, _("The machine gets its own folder in the machines folder."));
    gtk_label_set_text(self->summary_label, s->str);
}

static void validate_all(HangarAssistant *self)
{
    GtkAssistant *a = GTK_ASSISTANT(self);
    gtk_widget_set_visible(GTK_WIDGET(self->type_hint), TRUE);
    gtk_label_set_text(self->type_hint, _(current_preset(self)->hint));
    gboolean ok[] = {
        validate_name(self), validate_memory(self),   validate_medium(self),
        validate_disk(self), validate_hardware(self),
    };
    gboolean all = TRUE;
    GtkWidget *pages[] = {self->name_page, self->memory_page, self->medium_page, self->disk_page,
                          self->hardware_page};
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        gtk_assistant_set_page_complete(a, pages[i], ok[i]);
        all = all && ok[i];
    }
    gtk_assistant_set_page_complete(a, self->summary_page, all);
    update_summary(self);
}

static void on_field_changed(HangarAssistant *self)
{
    /* A change after a failed Apply may have fixed it: the message is about the past. */
    show_error(self->apply_error, NULL);
    validate_all(self);
}

/* --- Presets --- */

static char *soundhw_id(unsigned bits)
{
    HgConfig c;
    hg_config_init(&c);
    c.soundhw = bits & (HG_SOUND_SB16 | HG_SOUND_ADLIB | HG_SOUND_ES1370);
    char *s = hg_config_soundhw_string(&c);
    hg_config_clear(&c);
    return s;
}

/* Selects id in a combo, adding a row for it first when the list does not have it (a
 * profile written by hand or by hangar-run may hold any combination). */
static void combo_select(GtkComboBoxText *c, const char *id, const char *label)
{
    if (!gtk_combo_box_set_active_id(GTK_COMBO_BOX(c), id)) {
        gtk_combo_box_text_append(c, id, label ? label : id);
        gtk_combo_box_set_active_id(GTK_COMBO_BOX(c), id);
    }
}

static void apply_preset(HangarAssistant *self, const HangarPreset *p)
{
    gboolean was = self->filling;
    self->filling = TRUE;
    gtk_spin_button_set_value(self->memory_spin, p->memory_mib);
    if (!self->machine)
        gtk_spin_button_set_value(self->disk_size_spin, p->disk_mib / 1024.0);
    if (!toggled(self->medium_none) || !self->machine)
        gtk_toggle_button_set_active(
            p->medium == HANGAR_MEDIUM_FLOPPY ? self->medium_floppy : self->medium_cd, TRUE);
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->boot_combo), p->boot);
    g_autofree char *sound = soundhw_id(p->soundhw);
    combo_select(self->sound_combo, sound, NULL);
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->nic_combo), hg_config_nic_name(p->nic));
    gtk_toggle_button_set_active(self->usb_tablet_check, p->usb_tablet);
    self->filling = was;
}

static void on_type_changed(HangarAssistant *self)
{
    if (!self->filling)
        apply_preset(self, current_preset(self));
    on_field_changed(self);
}

/* --- File choosers --- */

static void browse(HangarAssistant *self, GtkEntry *entry, const char *title,
                   const char *filter_name, const char *const *patterns)
{
    g_autoptr(GtkFileChooserNative) chooser = gtk_file_chooser_native_new(
        title, GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, filter_name);
    for (int i = 0; patterns[i]; i++)
        gtk_file_filter_add_pattern(f, patterns[i]);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), f);
    GtkFileFilter *all = gtk_file_filter_new();
    gtk_file_filter_set_name(all, _("All files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), all);
    if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(chooser)) == GTK_RESPONSE_ACCEPT) {
        g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
        if (path)
            gtk_entry_set_text(entry, path);
    }
}

static void on_medium_browse(HangarAssistant *self)
{
    if (toggled(self->medium_floppy)) {
        static const char *const pats[] = {"*.img", "*.ima", "*.vfd", "*.flp", "*.IMG", NULL};
        browse(self, self->medium_entry, _("Choose a Floppy Image"), _("Floppy images"), pats);
    } else {
        static const char *const pats[] = {"*.iso", "*.ISO", NULL};
        browse(self, self->medium_entry, _("Choose a CD Image"), _("CD images (ISO)"), pats);
    }
}

static void on_disk_browse(HangarAssistant *self)
{
    static const char *const pats[] = {"*.img", "*.qcow2", "*.raw", "*.IMG", NULL};
    browse(self, self->disk_entry, _("Choose a Disk Image"), _("Disk images"), pats);
}

/* --- Apply --- */

/* Copies the fields into cfg (over what it held: the settings of an existing machine keep
 * the fields the pages do not show). */
static void fill_config(HangarAssistant *self, HgConfig *cfg, const char *new_disk)
{
    g_free(cfg->name);
    cfg->name = entry_text(self->name_entry);
    g_free(cfg->guest_type);
    cfg->guest_type = g_strdup(current_preset(self)->id);
    cfg->memory_mib = (uint32_t)gtk_spin_button_get_value_as_int(self->memory_spin);
    g_clear_pointer(&cfg->cdrom, g_free);
    g_clear_pointer(&cfg->fda, g_free);
    if (toggled(self->medium_cd))
        cfg->cdrom = entry_text(self->medium_entry);
    else if (toggled(self->medium_floppy))
        cfg->fda = entry_text(self->medium_entry);
    hg_config_set_boot(cfg, combo_id(self->boot_combo), NULL);
    g_clear_pointer(&cfg->hda, g_free);
    if (new_disk)
        cfg->hda = g_strdup(new_disk);
    else if (toggled(self->disk_existing))
        cfg->hda = entry_text(self->disk_entry);
    /* The PC speaker is not offered here: it stays as the profile had it. */
    unsigned speaker = cfg->soundhw & HG_SOUND_PCSPK;
    hg_config_set_soundhw(cfg, combo_id(self->sound_combo), NULL);
    cfg->soundhw |= speaker;
    HgNicModel old_nic = cfg->nic;
    g_autofree char *old_opts = g_strdup(cfg->nic_options);
    hg_config_set_nic(cfg, combo_id(self->nic_combo), NULL);
    if (cfg->nic == old_nic && old_opts)
        cfg->nic_options = g_steal_pointer(&old_opts);
    if (cfg->nic != HG_NIC_NONE) {
        hg_config_set_net(cfg, combo_id(self->net_combo), NULL);
        g_autofree char *mac = entry_text(self->mac_entry);
        hg_config_set_mac(cfg, mac, NULL);
    }
    /* The tablet is one entry of the USB list; the others stay. */
    g_autoptr(GPtrArray) usb = g_ptr_array_new_with_free_func(g_free);
    for (char **u = cfg->usb; u && *u; u++)
        if (strcmp(*u, "tablet") != 0)
            g_ptr_array_add(usb, g_strdup(*u));
    if (toggled(self->usb_tablet_check))
        g_ptr_array_insert(usb, 0, g_strdup("tablet"));
    g_strfreev(cfg->usb);
    cfg->usb = NULL;
    if (usb->len) {
        g_ptr_array_add(usb, NULL);
        cfg->usb = (char **)g_ptr_array_steal(usb, NULL);
    }
}

/* A file name for a new disk in dir that is not taken yet. */
static char *new_disk_path(const char *dir, const char *format)
{
    const char *ext = !strcmp(format, "raw") ? "img" : "qcow2";
    for (int n = 1;; n++) {
        g_autofree char *base =
            n == 1 ? g_strdup_printf("disk.%s", ext) : g_strdup_printf("disk-%d.%s", n, ext);
        char *path = g_build_filename(dir, base, NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            return path;
        g_free(path);
    }
}

static gboolean save(HangarAssistant *self, char **out_id, GError **error)
{
    g_autofree char *name = entry_text(self->name_entry);
    g_autofree char *id = self->machine ? g_strdup(hangar_machine_get_id(self->machine))
                                        : hangar_assistant_make_id(name);
    g_autofree char *dir =
        self->machine ? g_strdup(hangar_machine_get_dir(self->machine)) : hg_profile_dir_for_id(id);
    gboolean made_dir = FALSE;
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        if (g_mkdir_with_parents(dir, 0700) != 0) {
            int e = errno;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                        _("The machine’s folder %s cannot be created: %s."), dir, g_strerror(e));
            return FALSE;
        }
        made_dir = TRUE;
    }
    g_autofree char *disk = NULL;
    if (toggled(self->disk_new)) {
        const char *format = disk_format(self);
        disk = new_disk_path(dir, format);
        uint64_t size =
            (uint64_t)(gtk_spin_button_get_value(self->disk_size_spin) * 1024.0) * 1024 * 1024;
        g_autoptr(GError) err = NULL;
        if (!hg_image_create(disk, format, size, NULL, NULL, &err)) {
            g_unlink(disk);
            if (made_dir)
                g_rmdir(dir);
            if (!strcmp(format, "qcow2"))
                g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                            _("The disk image could not be created: %s. Choose the raw format "
                              "on the Disk page instead."),
                            err->message);
            else
                g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                            _("The disk image could not be created: %s."), err->message);
            return FALSE;
        }
    }
    HgConfig cfg;
    hg_config_init(&cfg);
    if (self->machine)
        hg_config_copy(&cfg, hangar_machine_get_config(self->machine));
    fill_config(self, &cfg, disk);
    g_autoptr(GError) err = NULL;
    gboolean ok = hg_config_save_profile(&cfg, dir, &err);
    hg_config_clear(&cfg);
    if (!ok) {
        if (disk)
            g_unlink(disk);
        if (made_dir)
            g_rmdir(dir);
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, _("The profile could not be saved: %s."),
                    err->message);
        return FALSE;
    }
    *out_id = g_steal_pointer(&id);
    return TRUE;
}

static void on_apply(GtkAssistant *assistant, gpointer data)
{
    HangarAssistant *self = HANGAR_ASSISTANT(assistant);
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;
    if (!save(self, &id, &error)) {
        /* GtkAssistant emits "close" next (the summary is the last page): stay open. */
        self->apply_failed = TRUE;
        show_error(self->apply_error, error->message);
        return;
    }
    g_signal_emit(self, signals[SIGNAL_SAVED], 0, id);
}

static void on_close(GtkAssistant *assistant, gpointer data)
{
    HangarAssistant *self = HANGAR_ASSISTANT(assistant);
    if (self->apply_failed) {
        self->apply_failed = FALSE;
        return;
    }
    gtk_widget_destroy(GTK_WIDGET(self));
}

static void on_cancel(GtkAssistant *assistant, gpointer data)
{
    gtk_widget_destroy(GTK_WIDGET(assistant));
}

static void on_prepare(GtkAssistant *assistant, GtkWidget *page, gpointer data)
{
    HangarAssistant *self = HANGAR_ASSISTANT(assistant);
    validate_all(self);
    /* The first field of each page takes the keyboard. */
    if (page == self->name_page)
        gtk_widget_grab_focus(GTK_WIDGET(self->name_entry));
    else if (page == self->memory_page)
        gtk_widget_grab_focus(GTK_WIDGET(self->memory_spin));
}

/* GtkAssistant titles the window after the current page (after "prepare"); the task's
 * name goes first, so the window says what it is for. */
static void on_title_notify(GObject *object, GParamSpec *pspec, gpointer data)
{
    HangarAssistant *self = HANGAR_ASSISTANT(object);
    const char *title = gtk_window_get_title(GTK_WINDOW(self));
    if (!self->title || (title && g_str_has_prefix(title, self->title)))
        return;
    g_autofree char *full = g_strdup_printf("%s — %s", self->title, title ? title : "");
    gtk_window_set_title(GTK_WINDOW(self), full);
}

/* --- Construction --- */

/* Shows mac in its field; an all-zero one (none chosen yet) becomes a new random one. */
static void show_mac(HangarAssistant *self, const uint8_t given[6])
{
    static const uint8_t zero[6];
    uint8_t mac[6];
    memcpy(mac, given, 6);
    if (!memcmp(mac, zero, 6))
        hangar_assistant_random_mac(mac);
    g_autofree char *text = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                                            mac[3], mac[4], mac[5]);
    gtk_entry_set_text(self->mac_entry, text);
}

static void fill_from_machine(HangarAssistant *self, HangarMachine *m)
{
    const HgConfig *cfg = hangar_machine_get_config(m);
    self->filling = TRUE;
    gtk_entry_set_text(self->name_entry, hangar_machine_get_name(m));
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->type_combo),
                                hangar_preset_find(cfg->guest_type)->id);
    gtk_spin_button_set_value(self->memory_spin, cfg->memory_mib);
    if (cfg->cdrom) {
        gtk_toggle_button_set_active(self->medium_cd, TRUE);
        gtk_entry_set_text(self->medium_entry, cfg->cdrom);
    } else if (cfg->fda) {
        gtk_toggle_button_set_active(self->medium_floppy, TRUE);
        gtk_entry_set_text(self->medium_entry, cfg->fda);
    } else {
        gtk_toggle_button_set_active(self->medium_none, TRUE);
    }
    combo_select(self->boot_combo, cfg->boot[0] ? cfg->boot : "c", NULL);
    if (cfg->hda) {
        gtk_toggle_button_set_active(self->disk_existing, TRUE);
        gtk_entry_set_text(self->disk_entry, cfg->hda);
    } else {
        gtk_toggle_button_set_active(self->disk_none, TRUE);
    }
    g_autofree char *sound = soundhw_id(cfg->soundhw);
    combo_select(self->sound_combo, sound, NULL);
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->nic_combo), hg_config_nic_name(cfg->nic));
    combo_select(self->net_combo, cfg->net ? cfg->net : "user", NULL);
    show_mac(self, cfg->mac);
    gboolean tablet = FALSE;
    for (char **u = cfg->usb; u && *u; u++)
        tablet = tablet || !strcmp(*u, "tablet");
    gtk_toggle_button_set_active(self->usb_tablet_check, tablet);
    self->filling = FALSE;
}

gboolean hangar_assistant_get_start(HangarAssistant *self)
{
    return !self->machine && toggled(self->start_check);
}

HangarAssistant *hangar_assistant_new(GtkWindow *parent)
{
    return g_object_new(HANGAR_TYPE_ASSISTANT, "transient-for", parent, NULL);
}

HangarAssistant *hangar_assistant_new_for_machine(GtkWindow *parent, HangarMachine *machine)
{
    HangarAssistant *self = hangar_assistant_new(parent);
    self->machine = g_object_ref(machine);
    /* Its own name and disks are not "taken": read the others again without them. */
    g_clear_pointer(&self->names, g_ptr_array_unref);
    g_clear_pointer(&self->disk_users, g_hash_table_unref);
    g_free(self->title);
    self->title = g_strdup_printf(_("Settings of “%s”"), hangar_machine_get_name(machine));
    /* Settings are for a machine that exists: starting it is the list's business. */
    gtk_widget_hide(GTK_WIDGET(self->start_check));
    gtk_window_set_title(GTK_WINDOW(self),
                         gtk_assistant_get_page_title(GTK_ASSISTANT(self), self->name_page));
    fill_from_machine(self, machine);
    validate_all(self);
    return self;
}

static void hangar_assistant_dispose(GObject *object)
{
    HangarAssistant *self = HANGAR_ASSISTANT(object);
    g_clear_object(&self->machine);
    g_clear_pointer(&self->title, g_free);
    g_clear_pointer(&self->names, g_ptr_array_unref);
    g_clear_pointer(&self->disk_users, g_hash_table_unref);
    G_OBJECT_CLASS(hangar_assistant_parent_class)->dispose(object);
}

static void hangar_assistant_class_init(HangarAssistantClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = hangar_assistant_dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/hangar/Hangar/ui/hangar-assistant.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, HangarAssistant, name)
    CHILD(name_page);
    CHILD(memory_page);
    CHILD(medium_page);
    CHILD(disk_page);
    CHILD(hardware_page);
    CHILD(summary_page);
    CHILD(name_entry);
    CHILD(type_combo);
    CHILD(type_hint);
    CHILD(name_error);
    CHILD(memory_spin);
    CHILD(memory_hint);
    CHILD(medium_none);
    CHILD(medium_cd);
    CHILD(medium_floppy);
    CHILD(medium_entry);
    CHILD(medium_browse);
    CHILD(boot_combo);
    CHILD(medium_error);
    CHILD(disk_new);
    CHILD(disk_existing);
    CHILD(disk_none);
    CHILD(disk_size_spin);
    CHILD(disk_format_combo);
    CHILD(disk_entry);
    CHILD(disk_browse);
    CHILD(disk_error);
    CHILD(sound_combo);
    CHILD(nic_combo);
    CHILD(net_combo);
    CHILD(mac_entry);
    CHILD(usb_tablet_check);
    CHILD(hardware_error);
    CHILD(summary_label);
    CHILD(apply_error);
    CHILD(start_check);
#undef CHILD
    gtk_widget_class_bind_template_callback(wc, on_field_changed);
    gtk_widget_class_bind_template_callback(wc, on_type_changed);
    gtk_widget_class_bind_template_callback(wc, on_medium_browse);
    gtk_widget_class_bind_template_callback(wc, on_disk_browse);
    gtk_widget_class_bind_template_callback(wc, on_apply);
    gtk_widget_class_bind_template_callback(wc, on_close);
    gtk_widget_class_bind_template_callback(wc, on_cancel);
    gtk_widget_class_bind_template_callback(wc, on_prepare);

    signals[SIGNAL_SAVED] = g_signal_new("saved", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void hangar_assistant_init(HangarAssistant *self)
{
    self->filling = TRUE;
    self->title = g_strdup(_("New Machine"));
    gtk_widget_init_template(GTK_WIDGET(self));
    g_signal_connect(self, "notify::title", G_CALLBACK(on_title_notify), NULL);
    size_t n;
    const HangarPreset *p = hangar_presets(&n);
    for (size_t i = 0; i < n; i++)
        gtk_combo_box_text_append(self->type_combo, p[i].id, _(p[i].label));
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->type_combo), p[0].id);
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->disk_format_combo), "qcow2");
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(self->net_combo), "user");
    apply_preset(self, &p[0]);
    static const uint8_t none[6];
    show_mac(self, none);
    self->filling = FALSE;
    validate_all(self);
}
