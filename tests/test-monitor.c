/* Unit tests of the monitor (engine/monitor.c) on a real PC machine (SeaBIOS firmware,
 * run synchronously): replies, errors, and commands reaching the devices. */
#include <glib.h>
#include <glib/gstdio.h>

#include "hangar.h"

static HgMachine *make(void)
{
    HgConfig cfg;
    hg_config_init(&cfg);
    cfg.memory_mib = 32;
    cfg.clock = HG_CLOCK_ICOUNT;
    GError *error = NULL;
    HgMachine *m = hg_machine_new(&cfg, NULL, &error);
    g_assert_no_error(error);
    hg_config_clear(&cfg);
    return m;
}

static char *run(HgMachine *m, const char *line, bool *keep)
{
    GString *out = g_string_new(NULL);
    bool k = hg_monitor_execute(m, line, out);
    if (keep)
        *keep = k;
    return g_string_free(out, FALSE);
}

static void expect(HgMachine *m, const char *line, const char *want)
{
    char *out = run(m, line, NULL);
    if (!strstr(out, want))
        g_error("\"%s\" answered \"%s\", lacking \"%s\"", line, out, want);
    g_free(out);
}

static void test_commands(void)
{
    if (!g_file_test("/usr/share/seabios/bios-256k.bin", G_FILE_TEST_EXISTS)) {
        g_test_skip("Debian's seabios is not installed");
        return;
    }
    HgMachine *m = make();
    expect(m, "help", "sendkey KEYS");
    expect(m, "help eject", "eject [-f] DRIVE");
    expect(m, "info status", "VM status: running");
    expect(m, "info version", "Hangar");
    expect(m, "info", "info what?");
    expect(m, "info nothing", "unknown item");
    expect(m, "frobnicate", "unknown command \"frobnicate\"");
    expect(m, "sendkey ctrl-alt-nokey", "unknown key \"nokey\"");
    expect(m, "sendkey", "usage: sendkey");
    expect(m, "change fda /nonexistent.img", "cannot open");
    expect(m, "change cdrom /nonexistent.iso", "cannot open");
    expect(m, "change zip /x", "no drive \"zip\"");
    expect(m, "eject tape", "no drive \"tape\"");
    expect(m, "change 'unterminated", "cannot parse");
    char *out = run(m, "", NULL);
    g_assert_cmpstr(out, ==, "");
    g_free(out);
    bool keep = true;
    out = run(m, "quit", &keep);
    g_assert_false(keep);
    g_free(out);

    /* POST, then the text screen shows the firmware's banner (checked every few million
     * instructions: the sanitizer build runs far slower). */
    for (int i = 0; i < 100; i++) {
        hg_machine_run(m, 5000000);
        char *screen = run(m, "info screen", NULL);
        bool found = strstr(screen, "SeaBIOS (version") != NULL;
        g_free(screen);
        if (found)
            break;
    }
    expect(m, "info screen", "SeaBIOS (version");
    expect(m, "info registers", "EIP=");
    /* Keys go to the keyboard controller without complaint. */
    out = run(m, "sendkey ctrl-alt-delete", NULL);
    g_assert_cmpstr(out, ==, "");
    g_free(out);
    /* The public input path: keys and mouse motion are accepted on a running board, and
     * there is no absolute pointing device yet. */
    hg_machine_send_key(m, 0x1e, true);
    hg_machine_send_key(m, 0x1e, false);
    hg_machine_send_key(m, HG_KEYCODE_E0 | 0x48, true);
    hg_machine_send_mouse(m, 5, -3, 1, HG_BUTTON_LEFT);
    g_assert_false(hg_machine_send_pointer(m, 10, 10, 0));
    /* With no ACPI OS listening, the power button says so. */
    expect(m, "system_powerdown", "does not listen");
    hg_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/monitor/commands", test_commands);
    return g_test_run();
}
