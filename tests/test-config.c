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
    g_assert_true(hg_config_set_soundhw(&a, "es1370,sb16", NULL));
    g_assert_true(hg_config_set_nic(&a, "ne2k_isa,io=0x320,irq=10", NULL));
    g_assert_true(hg_config_set_net(&a, "user,hostfwd=tcp:127.0.0.1:8080-:80", NULL));
    g_assert_true(hg_config_set_mac(&a, "52:54:00:ab:cd:ef", NULL));
    g_assert_true(hg_config_set_usb(&a, "tablet,storage:/tmp/u.img", NULL));
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
    g_assert_cmpuint(b.soundhw, ==, HG_SOUND_SB16 | HG_SOUND_ES1370);
    g_assert_cmpint(b.nic, ==, HG_NIC_NE2K_ISA);
    g_assert_cmpstr(b.nic_options, ==, "io=0x320,irq=10");
    g_assert_cmpstr(b.net, ==, "user,hostfwd=tcp:127.0.0.1:8080-:80");
    g_assert_cmpmem(b.mac, 6, ((uint8_t[]){0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}), 6);
    g_assert_nonnull(b.usb);
    g_assert_cmpuint(g_strv_length(b.usb), ==, 2);
    g_assert_cmpstr(b.usb[1], ==, "storage:/tmp/u.img");

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
    expect_load_error("[Machine]\n[Audio]\nCards=sb16,gus\n", "gus");
    expect_load_error("[Machine]\n[Network]\nCard=e1000\n", "e1000");
    expect_load_error("[Machine]\n[Network]\nMode=vde\n", "vde");
    expect_load_error("[Machine]\n[Network]\nMAC=01:00:5e:00:00:01\n", "multicast");
    expect_load_error("[Machine]\n[Network]\nMAC=52:54:00:12:34\n", "MAC");
    expect_load_error("[Machine]\n[USB]\nDevices=tablet,printer\n", "printer");
    expect_load_error("this is not an ini file\n", "cannot read");
    expect_load_error("[Machine\n", "cannot read");
    expect_load_error("[Machine]\nVersion=two\n", "Version=two");

    GError *error = NULL;
    g_assert_null(hg_profile_resolve("/nonexistent/profile", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_null(hg_profile_resolve("no-such-machine-id-here", &error));
    g_assert_nonnull(strstr(error->message, "no machine profile"));
    g_clear_error(&error);
}

/* A profile written by a newer Hangar: the keys and groups this version does not know,
 * and comments, survive a load-modify-save; fields cleared since are removed. */
static void test_unknown_keys_kept(void)
{
    char *dir = make_dir();
    write_ini(dir, "# my lab machine\n"
                   "[Machine]\nVersion=7\nName=Future\nMemory=64\nTurbo=yes\n"
                   "Boot=dc\n[Drives]\nCDROM=/srv/x.iso\nHDC=third.img\n"
                   "[Network]\nCard=rtl8139\nMode=user\n"
                   "[Spice]\nPort=5930\n");
    HgConfig c;
    hg_config_init(&c);
    g_assert_true(hg_config_load_profile(&c, dir, NULL));
    g_assert_cmpstr(c.name, ==, "Future");
    g_assert_cmpuint(c.memory_mib, ==, 64);
    c.memory_mib = 256;
    g_clear_pointer(&c.cdrom, g_free);
    g_clear_pointer(&c.net, g_free);
    g_assert_true(hg_config_set_boot(&c, "c", NULL));
    g_assert_true(hg_config_save_profile(&c, dir, NULL));

    char *ini = g_build_filename(dir, "machine.ini", NULL);
    GKeyFile *kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(kf, ini, G_KEY_FILE_KEEP_COMMENTS, NULL));
    char *s = g_key_file_get_string(kf, "Machine", "Turbo", NULL);
    g_assert_cmpstr(s, ==, "yes");
    g_free(s);
    s = g_key_file_get_string(kf, "Drives", "HDC", NULL);
    g_assert_cmpstr(s, ==, "third.img");
    g_free(s);
    s = g_key_file_get_string(kf, "Spice", "Port", NULL);
    g_assert_cmpstr(s, ==, "5930");
    g_free(s);
    /* The newer format's number stays: this version did not make it older. */
    g_assert_cmpuint(g_key_file_get_uint64(kf, "Machine", "Version", NULL), ==, 7);
    g_assert_cmpuint(g_key_file_get_uint64(kf, "Machine", "Memory", NULL), ==, 256);
    g_assert_false(g_key_file_has_key(kf, "Drives", "CDROM", NULL));
    g_assert_false(g_key_file_has_key(kf, "Network", "Mode", NULL));
    s = g_key_file_get_string(kf, "Machine", "Boot", NULL);
    g_assert_cmpstr(s, ==, "c");
    g_free(s);
    s = g_key_file_get_comment(kf, NULL, NULL, NULL);
    g_assert_nonnull(strstr(s, "my lab machine"));
    g_free(s);
    g_key_file_free(kf);
    g_free(ini);
    hg_config_clear(&c);
    remove_dir(dir);
    g_free(dir);
}

/* A first-format profile (no Version=, few keys) loads with the defaults, and saving it
 * writes the current format's number; emptied groups of ours are not left behind. */
static void test_old_profile_defaults(void)
{
    char *dir = make_dir();
    write_ini(dir, "[Machine]\nName=Old\n[Drives]\nFDA=boot.img\n");
    HgConfig c;
    hg_config_init(&c);
    g_assert_true(hg_config_load_profile(&c, dir, NULL));
    HgConfig d;
    hg_config_init(&d);
    g_assert_cmpuint(c.memory_mib, ==, d.memory_mib);
    g_assert_cmpint(c.vga, ==, d.vga);
    g_assert_cmpint(c.clock, ==, d.clock);
    g_assert_cmpuint(c.soundhw, ==, 0);
    g_assert_cmpint(c.nic, ==, HG_NIC_NONE);
    g_assert_null(c.usb);
    g_assert_cmpstr(c.boot, ==, "");
    g_clear_pointer(&c.fda, g_free);
    g_assert_true(hg_config_save_profile(&c, dir, NULL));
    char *ini = g_build_filename(dir, "machine.ini", NULL);
    GKeyFile *kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_file(kf, ini, 0, NULL));
    g_assert_cmpuint(g_key_file_get_uint64(kf, "Machine", "Version", NULL), ==, HG_PROFILE_VERSION);
    g_assert_false(g_key_file_has_group(kf, "Drives"));
    g_key_file_free(kf);
    g_free(ini);
    hg_config_clear(&c);
    hg_config_clear(&d);
    remove_dir(dir);
    g_free(dir);
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
    g_test_add_func("/config/unknown-keys-kept", test_unknown_keys_kept);
    g_test_add_func("/config/old-profile-defaults", test_old_profile_defaults);
    return g_test_run();
}
