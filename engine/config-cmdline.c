/* The hangar-run command line equal to a configuration: what the manager's "Copy Command
 * Line" puts on the clipboard, so a machine made in the GUI can be started from a shell or
 * a script (README "Running a machine" lists the options). Every HgConfig field that
 * changes the machine has its option; the profile's display name and guest type do not
 * change it and have none. Options that match hangar-run's defaults are left out, except
 * the memory size, which people look for. The inverse is hangar-run's own parser; the
 * unit test tests/panel/test-config-cmdline.c runs it on the result.
 */
#include "hangar.h"

#include <string.h>

static void add(GPtrArray *a, const char *opt, const char *value)
{
    g_ptr_array_add(a, g_strdup(opt));
    if (value)
        g_ptr_array_add(a, g_strdup(value));
}

static void add_path(GPtrArray *a, const char *opt, const char *path)
{
    if (path)
        add(a, opt, path);
}

char **hg_config_to_argv(const HgConfig *cfg)
{
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, g_strdup("hangar-run"));
    char mem[16];
    g_snprintf(mem, sizeof(mem), "%u", cfg->memory_mib);
    add(a, "-m", mem);
    add_path(a, "--bios", cfg->bios);
    add_path(a, "--kernel", cfg->kernel);
    add_path(a, "--initrd", cfg->initrd);
    if (cfg->append)
        add(a, "--append", cfg->append);
    add_path(a, "--hda", cfg->hda);
    add_path(a, "--hdb", cfg->hdb);
    add_path(a, "--cdrom", cfg->cdrom);
    add_path(a, "--fda", cfg->fda);
    if (cfg->boot[0])
        add(a, "--boot", cfg->boot);
    if (cfg->vga == HG_VGA_MODEL_STD)
        add(a, "--vga", "std");
    if (cfg->clock == HG_CLOCK_ICOUNT)
        add(a, "--clock", "icount");
    if (cfg->debug_exit)
        add(a, "--debug-exit", NULL);
    if (cfg->no_reboot)
        add(a, "--no-reboot", NULL);
    if (cfg->soundhw) {
        char *cards = hg_config_soundhw_string(cfg);
        add(a, "--soundhw", cards);
        g_free(cards);
    }
    if (cfg->audio)
        add(a, "--audio", cfg->audio);
    if (cfg->nic != HG_NIC_NONE || cfg->nic_options) {
        char *nic = cfg->nic_options
                        ? g_strdup_printf("%s,%s", hg_config_nic_name(cfg->nic), cfg->nic_options)
                        : g_strdup(hg_config_nic_name(cfg->nic));
        add(a, "--nic", nic);
        g_free(nic);
    }
    if (cfg->net)
        add(a, "--net", cfg->net);
    static const uint8_t no_mac[6];
    if (memcmp(cfg->mac, no_mac, 6) != 0) {
        char mac[18];
        g_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0], cfg->mac[1],
                   cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
        add(a, "--mac", mac);
    }
    if (cfg->usb && cfg->usb[0]) {
        char *usb = g_strjoinv(",", cfg->usb);
        add(a, "--usb", usb);
        g_free(usb);
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, false);
}

/* Words made only of these need no quotes in a POSIX shell. */
static bool shell_safe(const char *word)
{
    if (!*word)
        return false;
    for (const char *p = word; *p; p++)
        if (!g_ascii_isalnum(*p) && !strchr("-_./:,=+@%", *p))
            return false;
    return true;
}

char *hg_config_to_command_line(const HgConfig *cfg)
{
    char **argv = hg_config_to_argv(cfg);
    GString *s = g_string_new(NULL);
    for (char **w = argv; *w; w++) {
        if (s->len)
            g_string_append_c(s, ' ');
        if (shell_safe(*w)) {
            g_string_append(s, *w);
        } else {
            char *q = g_shell_quote(*w);
            g_string_append(s, q);
            g_free(q);
        }
    }
    g_strfreev(argv);
    return g_string_free(s, false);
}
