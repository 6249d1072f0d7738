/* Unit tests of machine configurations and profiles (engine/config.c). */
#include <glib.h>
#include <glib/gstdio.h>

#include "hangar.h"

static char *make_dir(void)
{
    return g_dir_make_tmp("hangar-profile-XXXXXX", NULL);
}

static void write_ini(const char *dir, const char *text)
{
    char *p = g_build_filename(dir, "machine.ini", NULL);
    g_assert_true(g_file_set_contents(p, text, -1, NULL));
    g_free(p);
}

static void remove_dir(const char *dir)
{
    char *p = g_build_filename(dir, "machine.ini", NULL);
    g_unlink(p);
    g_free(p);
    g_rmdir(dir);
}

static void test_round_trip(void)
{
    char *dir = make_dir();
    HgConfig a;
    hg_config_init(&a);
    a.name = g_strdup("Debian 12");
    a.guest_type = g_strdup("linux");
    a.memory_mib = 512;
    a.hda = g_build_filename(dir, "disk.img", NULL);
    a.cdrom = g_strdup("/srv/iso/debian.iso");
    a.append = g_strdup("console=ttyS0 quiet");
    a.clock = HG_CLOCK_ICOUNT;
    a.vga = HG_VGA_MODEL_STD;
    g_assert_true(hg_config_set_boot(&a, "dc", NULL));
    g_assert_true(hg_config_save_profile(&a, dir, NULL));

    /* Images inside the folder are stored relative to it. */
    char *ini = g_build_filename(dir, "machine.ini", NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(ini, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "HDA=disk.img\n"));
    g_free(text);
    g_free(ini);

    HgConfig b;
    hg_config_init(&b);
    g_assert_true(hg_config_load_profile(&b, dir, NULL));
    g_assert_cmpstr(b.name, ==, "Debian 12");
    g_assert_cmpstr(b.guest_type, ==, "linux");
    g_assert_cmpuint(b.memory_mib, ==, 512);
    g_assert_cmpstr(b.hda, ==, a.hda);
    g_assert_cmpstr(b.cdrom, ==, "/srv/iso/debian.iso");
    g_assert_cmpstr(b.append, ==, "console=ttyS0 quiet");
    g_assert_cmpstr(b.boot, ==, "dc");
    g_assert_cmpint(b.clock, ==, HG_CLOCK_ICOUNT);
    g_assert_cmpint(b.vga, ==, HG_VGA_MODEL_STD);
    g_assert_null(b.fda);

    char *resolved = hg_profile_resolve(dir, NULL);
    g_assert_cmpstr(resolved, ==, dir);
    g_free(resolved);
    hg_config_clear(&a);
    hg_config_clear(&b);
    remove_dir(dir);
    g_free(dir);
}

static void expect_load_error(const char *text, const char *what)
{
    char *dir = make_dir();
    write_ini(dir, text);
    HgConfig c;
    hg_config_init(&c);
    c.memory_mib = 77;
    GError *error = NULL;
    g_assert_false(hg_config_load_profile(&c, dir, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, what))
        g_error("message \"%s\" lacks \"%s\"", error->message, what);
    g_assert_cmpuint(c.memory_mib, ==, 77); /* untouched on failure */
    g_error_free(error);
    hg_config_clear(&c);
    remove_dir(dir);
    g_free(dir);
}

static void test_bad_profiles(void)
{
    expect_load_error("[Machine]\nMemory=lots\n", "Memory=lots");
    expect_load_error("[Machine]\nMemory=0\n", "1 to 3072");
    expect_load_error("[Machine]\nMemory=99999\n", "1 to 3072");
    expect_load_error("[Machine]\nBoot=cx\n", "boot order");
    expect_load_error("[Machine]\nBoot=cc\n", "boot order");
    expect_load_error("[Machine]\nClock=fast\n", "Clock=fast");
    expect_load_error("[Machine]\nDisplay=hercules\n", "Display=hercules");
    expect_load_error("[Drives]\nHDA=x\n", "no [Machine]");
    expect_load_error("this is not an ini file\n", "cannot read");
    expect_load_error("[Machine\n", "cannot read");

    GError *error = NULL;
    g_assert_null(hg_profile_resolve("/nonexistent/profile", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_null(hg_profile_resolve("no-such-machine-id-here", &error));
    g_assert_nonnull(strstr(error->message, "no machine profile"));
    g_clear_error(&error);
}

static void test_boot_order(void)
{
    HgConfig c;
    hg_config_init(&c);
    g_assert_true(hg_config_set_boot(&c, "adc", NULL));
    g_assert_cmpstr(c.boot, ==, "adc");
    g_assert_false(hg_config_set_boot(&c, "", NULL));
    g_assert_false(hg_config_set_boot(&c, "cdac", NULL));
    g_assert_false(hg_config_set_boot(&c, "n", NULL));
    g_assert_cmpstr(c.boot, ==, "adc");
    hg_config_clear(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/round-trip", test_round_trip);
    g_test_add_func("/config/bad-profiles", test_bad_profiles);
    g_test_add_func("/config/boot-order", test_boot_order);
    return g_test_run();
}
