/* Machine configurations and profiles: HgConfig's defaults and copies, and the
 * machine.ini GKeyFile that the GUI writes and hangar-run reads (one parser for both). */
#include "hangar.h"
#include "net/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void hg_config_init(HgConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory_mib = 128;
    cfg->clock = HG_CLOCK_HOST;
    cfg->vga = HG_VGA_MODEL_CIRRUS;
}

void hg_config_clear(HgConfig *cfg)
{
    g_free(cfg->name);
    g_free(cfg->guest_type);
    g_free(cfg->bios);
    g_free(cfg->kernel);
    g_free(cfg->initrd);
    g_free(cfg->append);
    g_free(cfg->hda);
    g_free(cfg->hdb);
    g_free(cfg->hda_format);
    g_free(cfg->hdb_format);
    g_free(cfg->cdrom);
    g_free(cfg->fda);
    g_free(cfg->audio);
    g_free(cfg->nic_options);
    g_free(cfg->net);
    g_free(cfg->net_dump);
    g_strfreev(cfg->usb);
    g_free(cfg->profile_dir);
    memset(cfg, 0, sizeof(*cfg));
}

void hg_config_copy(HgConfig *dst, const HgConfig *src)
{
    *dst = *src;
    dst->name = g_strdup(src->name);
    dst->guest_type = g_strdup(src->guest_type);
    dst->bios = g_strdup(src->bios);
    dst->kernel = g_strdup(src->kernel);
    dst->initrd = g_strdup(src->initrd);
    dst->append = g_strdup(src->append);
    dst->hda = g_strdup(src->hda);
    dst->hdb = g_strdup(src->hdb);
    dst->hda_format = g_strdup(src->hda_format);
    dst->hdb_format = g_strdup(src->hdb_format);
    dst->cdrom = g_strdup(src->cdrom);
    dst->fda = g_strdup(src->fda);
    dst->audio = g_strdup(src->audio);
    dst->nic_options = g_strdup(src->nic_options);
    dst->net = g_strdup(src->net);
    dst->net_dump = g_strdup(src->net_dump);
    dst->usb = g_strdupv(src->usb);
    dst->profile_dir = g_strdup(src->profile_dir);
}

static const struct {
    const char *name;
    unsigned bit;
} sound_cards[] = {
    {"sb16", HG_SOUND_SB16},
    {"adlib", HG_SOUND_ADLIB},
    {"es1370", HG_SOUND_ES1370},
    {"pcspk", HG_SOUND_PCSPK},
};

bool hg_config_set_soundhw(HgConfig *cfg, const char *list, GError **error)
{
    unsigned bits = 0;
    if (strcmp(list, "none") != 0) {
        char **names = g_strsplit(list, ",", -1);
        for (char **n = names; *n; n++) {
            unsigned bit = 0;
            for (size_t i = 0; i < G_N_ELEMENTS(sound_cards); i++) {
                if (strcmp(*n, sound_cards[i].name) == 0)
                    bit = sound_cards[i].bit;
            }
            if (!bit) {
                g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                            "unknown sound card \"%s\": use sb16, adlib, es1370, pcspk (a "
                            "comma-separated list) or none",
                            *n);
                g_strfreev(names);
                return false;
            }
            bits |= bit;
        }
        g_strfreev(names);
    }
    cfg->soundhw = bits;
    return true;
}

char *hg_config_soundhw_string(const HgConfig *cfg)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(sound_cards); i++) {
        if (cfg->soundhw & sound_cards[i].bit)
            g_string_append_printf(s, "%s%s", s->len ? "," : "", sound_cards[i].name);
    }
    if (!s->len)
        g_string_append(s, "none");
    return g_string_free(s, false);
}

static const char *const nic_names[] = {
    [HG_NIC_NONE] = "none",
    [HG_NIC_NE2K_ISA] = "ne2k_isa",
    [HG_NIC_NE2K_PCI] = "ne2k_pci",
    [HG_NIC_RTL8139] = "rtl8139",
};

const char *hg_config_nic_name(HgNicModel nic)
{
    return (unsigned)nic < G_N_ELEMENTS(nic_names) ? nic_names[nic] : "none";
}

bool hg_config_set_nic(HgConfig *cfg, const char *spec, GError **error)
{
    const char *comma = strchr(spec, ',');
    size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
    for (size_t i = 0; i < G_N_ELEMENTS(nic_names); i++) {
        if (strlen(nic_names[i]) == n && strncmp(spec, nic_names[i], n) == 0) {
            cfg->nic = (HgNicModel)i;
            g_free(cfg->nic_options);
            cfg->nic_options = comma && comma[1] ? g_strdup(comma + 1) : NULL;
            return true;
        }
    }
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "unknown network card \"%.*s\": use ne2k_isa, ne2k_pci, rtl8139 or none",
                (int)n, spec);
    return false;
}

bool hg_config_set_net(HgConfig *cfg, const char *spec, GError **error)
{
    if (!hg_net_check_spec(spec, error))
        return false;
    g_free(cfg->net);
    cfg->net = g_strdup(spec);
    return true;
}

bool hg_config_set_mac(HgConfig *cfg, const char *text, GError **error)
{
    unsigned v[6];
    char tail;
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6 ||
        strlen(text) != 17 || (v[0] & 1)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "MAC address \"%s\": expected six hexadecimal bytes separated by colons, "
                    "the first even (not a multicast address), for example 52:54:00:12:34:56",
                    text);
        return false;
    }
    for (int i = 0; i < 6; i++)
        cfg->mac[i] = (uint8_t)v[i];
    return true;
}

bool hg_config_set_usb(HgConfig *cfg, const char *list, GError **error)
{
    char **items = g_strsplit(list, ",", -1);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    for (char **it = items; *it; it++) {
        if (!**it)
            continue;
        if (strcmp(*it, "tablet") != 0 && strcmp(*it, "keyboard") != 0 &&
            strcmp(*it, "mouse") != 0 && !(g_str_has_prefix(*it, "storage:") && (*it)[8])) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "unknown USB device \"%s\": use tablet, keyboard, mouse or "
                        "storage:FILE (a comma-separated list)",
                        *it);
            g_ptr_array_free(out, true);
            g_strfreev(items);
            return false;
        }
        g_ptr_array_add(out, g_strdup(*it));
    }
    g_strfreev(items);
    g_strfreev(cfg->usb);
    if (out->len == 0) {
        g_ptr_array_free(out, true);
        cfg->usb = NULL;
        return true;
    }
    g_ptr_array_add(out, NULL);
    cfg->usb = (char **)g_ptr_array_free(out, false);
    return true;
}

bool hg_config_set_boot(HgConfig *cfg, const char *order, GError **error)
{
    size_t n = strlen(order);
    if (n == 0 || n > 3)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (!strchr("cda", order[i]) || memchr(order, order[i], i))
            goto bad;
    }
    memset(cfg->boot, 0, sizeof(cfg->boot));
    memcpy(cfg->boot, order, n);
    return true;
bad:
    g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                "boot order \"%s\": use the letters c (hard disk), d (CD-ROM) and a (floppy), "
                "each at most once, for example \"dc\"",
                order);
    return false;
}

char *hg_profile_dir_for_id(const char *id)
{
    return g_build_filename(g_get_user_data_dir(), "hangar", "machines", id, NULL);
}

char *hg_profile_resolve(const char *name, GError **error)
{
    if (g_file_test(name, G_FILE_TEST_IS_DIR)) {
        char *ini = g_build_filename(name, "machine.ini", NULL);
        bool ok = g_file_test(ini, G_FILE_TEST_IS_REGULAR);
        g_free(ini);
        if (ok)
            return g_canonicalize_filename(name, NULL);
        g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                    "%s is a folder without a machine.ini: not a Hangar machine profile", name);
        return NULL;
    }
    if (g_file_test(name, G_FILE_TEST_IS_REGULAR) && g_str_has_suffix(name, ".ini")) {
        char *dir = g_path_get_dirname(name);
        char *abs = g_canonicalize_filename(dir, NULL);
        g_free(dir);
        return abs;
    }
    if (!strchr(name, G_DIR_SEPARATOR)) {
        char *dir = hg_profile_dir_for_id(name);
        char *ini = g_build_filename(dir, "machine.ini", NULL);
        bool ok = g_file_test(ini, G_FILE_TEST_IS_REGULAR);
        g_free(ini);
        if (ok)
            return dir;
        g_free(dir);
    }
    g_set_error(error, HG_ERROR, HG_ERROR_FILE,
                "no machine profile \"%s\": give a profile id (a folder in %s/hangar/machines), "
                "a profile folder or its machine.ini",
                name, g_get_user_data_dir());
    return NULL;
}

/* Image paths in a profile: absolute, or relative to the profile folder. */
static char *read_path(GKeyFile *kf, const char *group, const char *key, const char *dir)
{
    char *v = g_key_file_get_string(kf, group, key, NULL);
    if (!v || !*v) {
        g_free(v);
        return NULL;
    }
    if (g_path_is_absolute(v))
        return v;
    char *abs = g_build_filename(dir, v, NULL);
    g_free(v);
    return abs;
}

static char *read_string(GKeyFile *kf, const char *group, const char *key)
{
    char *v = g_key_file_get_string(kf, group, key, NULL);
    if (v && !*v) {
        g_free(v);
        return NULL;
    }
    return v;
}

bool hg_config_load_profile(HgConfig *cfg, const char *dir, GError **error)
{
    char *path = g_build_filename(dir, "machine.ini", NULL);
    GKeyFile *kf = g_key_file_new();
    bool ok = false;
    GError *err = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
        g_set_error(error, HG_ERROR, HG_ERROR_FILE, "cannot read the machine profile %s: %s",
                    path, err->message);
        g_error_free(err);
        goto out;
    }
    if (!g_key_file_has_group(kf, "Machine")) {
        g_set_error(error, HG_ERROR, HG_ERROR_FORMAT,
                    "%s has no [Machine] section: not a Hangar machine profile", path);
        goto out;
    }
    /* Version= only has to be a number: a newer format's profile loads with the keys this
     * version knows (and a save keeps the rest). */
    char *version = read_string(kf, "Machine", "Version");
    if (version && !g_ascii_string_to_unsigned(version, 10, 0, G_MAXUINT32, NULL, NULL)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "%s: [Machine] Version=%s: expected a whole number (the profile format)", path,
                    version);
        g_free(version);
        goto out;
    }
    g_free(version);
    HgConfig c;
    hg_config_init(&c);
    c.name = read_string(kf, "Machine", "Name");
    c.guest_type = read_string(kf, "Machine", "GuestType");
    if (g_key_file_has_key(kf, "Machine", "Memory", NULL)) {
        guint64 mib = 0;
        char *v = g_key_file_get_string(kf, "Machine", "Memory", NULL);
        if (!v || !g_ascii_string_to_unsigned(v, 10, 1, 3072, &mib, NULL)) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "%s: [Machine] Memory=%s: expected a number of MiB from 1 to 3072", path,
                        v ? v : "");
            g_free(v);
            hg_config_clear(&c);
            goto out;
        }
        g_free(v);
        c.memory_mib = (uint32_t)mib;
    }
    char *boot = read_string(kf, "Machine", "Boot");
    if (boot && !hg_config_set_boot(&c, boot, &err)) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "%s: [Machine] Boot: %s", path,
                    err->message);
        g_error_free(err);
        g_free(boot);
        hg_config_clear(&c);
        goto out;
    }
    g_free(boot);
    char *clock = read_string(kf, "Machine", "Clock");
    if (clock && strcmp(clock, "host") != 0 && strcmp(clock, "icount") != 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "%s: [Machine] Clock=%s: expected host or icount", path, clock);
        g_free(clock);
        hg_config_clear(&c);
        goto out;
    }
    if (clock && strcmp(clock, "icount") == 0)
        c.clock = HG_CLOCK_ICOUNT;
    g_free(clock);
    char *vga = read_string(kf, "Machine", "Display");
    if (vga && strcmp(vga, "cirrus") != 0 && strcmp(vga, "std") != 0) {
        g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                    "%s: [Machine] Display=%s: expected cirrus or std", path, vga);
        g_free(vga);
        hg_config_clear(&c);
        goto out;
    }
    if (vga)
        c.vga = strcmp(vga, "std") == 0 ? HG_VGA_MODEL_STD : HG_VGA_MODEL_CIRRUS;
    g_free(vga);
    c.bios = read_path(kf, "Firmware", "Bios", dir);
    c.kernel = read_path(kf, "Firmware", "Kernel", dir);
    c.initrd = read_path(kf, "Firmware", "Initrd", dir);
    c.append = read_string(kf, "Firmware", "Append");
    c.hda = read_path(kf, "Drives", "HDA", dir);
    c.hdb = read_path(kf, "Drives", "HDB", dir);
    c.hda_format = read_string(kf, "Drives", "HDAFormat");
    c.hdb_format = read_string(kf, "Drives", "HDBFormat");
    const char *fmts[2] = {c.hda_format, c.hdb_format};
    for (int i = 0; i < 2; i++)
        if (fmts[i] && strcmp(fmts[i], "raw") != 0 && strcmp(fmts[i], "qcow2") != 0) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG,
                        "%s: [Drives] HD%cFormat=%s: expected raw or qcow2", path, 'A' + i,
                        fmts[i]);
            hg_config_clear(&c);
            goto out;
        }
    c.cdrom = read_path(kf, "Drives", "CDROM", dir);
    c.fda = read_path(kf, "Drives", "FDA", dir);
    c.audio = read_string(kf, "Audio", "Output");
    static const struct {
        const char *group, *key;
        bool (*set)(HgConfig *, const char *, GError **);
    } setters[] = {
        {"Audio", "Cards", hg_config_set_soundhw}, {"Network", "Card", hg_config_set_nic},
        {"Network", "Mode", hg_config_set_net},    {"Network", "MAC", hg_config_set_mac},
        {"USB", "Devices", hg_config_set_usb},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(setters); i++) {
        char *v = read_string(kf, setters[i].group, setters[i].key);
        if (v && !setters[i].set(&c, v, &err)) {
            g_set_error(error, HG_ERROR, HG_ERROR_CONFIG, "%s: [%s] %s: %s", path,
                        setters[i].group, setters[i].key, err->message);
            g_clear_error(&err);
            g_free(v);
            hg_config_clear(&c);
            goto out;
        }
        g_free(v);
    }
    c.profile_dir = g_canonicalize_filename(dir, NULL);
    hg_config_clear(cfg);
    *cfg = c;
    ok = true;
out:
    g_key_file_free(kf);
    g_free(path);
    return ok;
}

/* Stores a path relative to the profile folder when it lies inside it, so a profile
 * folder can be moved or copied whole. */
static void write_path(GKeyFile *kf, const char *group, const char *key, const char *path,
                       const char *dir)
{
    if (!path) {
        g_key_file_remove_key(kf, group, key, NULL);
        return;
    }
    size_t n = strlen(dir);
    if (strncmp(path, dir, n) == 0 && path[n] == G_DIR_SEPARATOR && path[n + 1])
        g_key_file_set_string(kf, group, key, path + n + 1);
    else
        g_key_file_set_string(kf, group, key, path);
}

/* Sets group/key to value, or removes the key when value is NULL (a field cleared since
 * the last save must not come back from the old file). */
static void set_or_remove(GKeyFile *kf, const char *group, const char *key, const char *value)
{
    if (value)
        g_key_file_set_string(kf, group, key, value);
    else
        g_key_file_remove_key(kf, group, key, NULL);
}

/* Groups a profile may hold that are ours: emptied ones are dropped after a save. */
static const char *const own_groups[] = {"Firmware", "Drives", "Audio", "Network", "USB"};

bool hg_config_save_profile(const HgConfig *cfg, const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "cannot create the profile folder %s: %s", dir, g_strerror(e));
        return false;
    }
    /* Start from the file on disk, so that keys and groups this version does not know (a
     * newer Hangar's, or a person's comments) survive a save from an older one. */
    GKeyFile *kf = g_key_file_new();
    char *old = g_build_filename(dir, "machine.ini", NULL);
    if (g_file_test(old, G_FILE_TEST_IS_REGULAR) &&
        !g_key_file_load_from_file(kf, old, G_KEY_FILE_KEEP_COMMENTS, NULL)) {
        /* Unreadable: it cannot be loaded either, so nothing in it can be kept. */
        g_key_file_free(kf);
        kf = g_key_file_new();
    }
    g_free(old);
    /* Written by every save; a newer file keeps its own (higher) version. */
    guint64 version = 0;
    char *v = g_key_file_get_string(kf, "Machine", "Version", NULL);
    if (!v || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT32, &version, NULL) ||
        version < HG_PROFILE_VERSION)
        g_key_file_set_uint64(kf, "Machine", "Version", HG_PROFILE_VERSION);
    g_free(v);
    set_or_remove(kf, "Machine", "Name", cfg->name);
    set_or_remove(kf, "Machine", "GuestType", cfg->guest_type);
    g_key_file_set_uint64(kf, "Machine", "Memory", cfg->memory_mib);
    set_or_remove(kf, "Machine", "Boot", cfg->boot[0] ? cfg->boot : NULL);
    g_key_file_set_string(kf, "Machine", "Clock",
                          cfg->clock == HG_CLOCK_ICOUNT ? "icount" : "host");
    g_key_file_set_string(kf, "Machine", "Display",
                          cfg->vga == HG_VGA_MODEL_STD ? "std" : "cirrus");
    write_path(kf, "Firmware", "Bios", cfg->bios, dir);
    write_path(kf, "Firmware", "Kernel", cfg->kernel, dir);
    write_path(kf, "Firmware", "Initrd", cfg->initrd, dir);
    set_or_remove(kf, "Firmware", "Append", cfg->append);
    write_path(kf, "Drives", "HDA", cfg->hda, dir);
    write_path(kf, "Drives", "HDB", cfg->hdb, dir);
    if (cfg->hda_format)
        g_key_file_set_string(kf, "Drives", "HDAFormat", cfg->hda_format);
    if (cfg->hdb_format)
        g_key_file_set_string(kf, "Drives", "HDBFormat", cfg->hdb_format);
    write_path(kf, "Drives", "CDROM", cfg->cdrom, dir);
    write_path(kf, "Drives", "FDA", cfg->fda, dir);
    char *cards = hg_config_soundhw_string(cfg);
    g_key_file_set_string(kf, "Audio", "Cards", cards);
    g_free(cards);
    set_or_remove(kf, "Audio", "Output", cfg->audio);
    char *nic = cfg->nic_options ? g_strdup_printf("%s,%s", hg_config_nic_name(cfg->nic),
                                                   cfg->nic_options)
                                 : g_strdup(hg_config_nic_name(cfg->nic));
    g_key_file_set_string(kf, "Network", "Card", nic);
    g_free(nic);
    set_or_remove(kf, "Network", "Mode", cfg->net);
    static const uint8_t no_mac[6];
    char mac[18];
    g_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0], cfg->mac[1],
               cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
    set_or_remove(kf, "Network", "MAC", memcmp(cfg->mac, no_mac, 6) != 0 ? mac : NULL);
    char *usb = cfg->usb ? g_strjoinv(",", cfg->usb) : NULL;
    set_or_remove(kf, "USB", "Devices", usb);
    g_free(usb);
    for (size_t i = 0; i < G_N_ELEMENTS(own_groups); i++) {
        gsize n = 0;
        char **keys = g_key_file_get_keys(kf, own_groups[i], &n, NULL);
        g_strfreev(keys);
        if (n == 0)
            g_key_file_remove_group(kf, own_groups[i], NULL);
    }
    gsize len;
    char *data = g_key_file_to_data(kf, &len, NULL);
    char *path = g_build_filename(dir, "machine.ini", NULL);
    bool ok = g_file_set_contents_full(path, data, (gssize)len,
                                       G_FILE_SET_CONTENTS_CONSISTENT |
                                           G_FILE_SET_CONTENTS_DURABLE,
                                       0600, error);
    g_free(path);
    g_free(data);
    g_key_file_free(kf);
    return ok;
}
