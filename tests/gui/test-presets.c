/* Unit tests (no display) of the assistant's data: the guest type presets are complete and
 * consistent with the engine's parsers, profile ids made from names are safe folder names
 * and unique, and generated MAC addresses are locally administered unicast ones. */
#include <glib/gstdio.h>
#include <stdlib.h>

#include "hangar-assistant.h"
#include "hangar-presets.h"

static void test_presets(void)
{
    size_t n;
    const HangarPreset *p = hangar_presets(&n);
    g_assert_cmpuint(n, ==, 6);
    const char *ids[] = {"linux", "linux-old", "dos", "win9x", "winxp", "other"};
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpstr(p[i].id, ==, ids[i]);
        g_assert_true(hangar_preset_find(ids[i]) == &p[i]);
        /* Within what a profile may hold (engine/config.c: 1 to 3072 MiB). */
        g_assert_cmpuint(p[i].memory_mib, >=, p[i].min_memory_mib);
        g_assert_cmpuint(p[i].memory_mib, <=, 3072);
        g_assert_cmpuint(p[i].disk_mib, >, 0);
        HgConfig c;
        hg_config_init(&c);
        g_assert_true(hg_config_set_boot(&c, p[i].boot, NULL));
        /* The medium the preset offers is first in its boot order. */
        g_assert_cmpint(p[i].boot[0], ==, p[i].medium == HANGAR_MEDIUM_FLOPPY ? 'a' : 'd');
        c.soundhw = p[i].soundhw;
        g_autofree char *sound = hg_config_soundhw_string(&c);
        g_assert_true(hg_config_set_soundhw(&c, sound, NULL));
        g_assert_cmpuint(c.soundhw, ==, p[i].soundhw);
        g_assert_true(hg_config_set_nic(&c, hg_config_nic_name(p[i].nic), NULL));
        hg_config_clear(&c);
    }
    g_assert_true(hangar_preset_find("os2") == &p[n - 1]);
    g_assert_true(hangar_preset_find(NULL) == &p[n - 1]);
    /* The figures of issue 5. */
    g_assert_cmpuint(hangar_preset_find("dos")->memory_mib, ==, 16);
    g_assert_cmpuint(hangar_preset_find("dos")->soundhw, ==, HG_SOUND_SB16 | HG_SOUND_ADLIB);
    g_assert_cmpint(hangar_preset_find("dos")->nic, ==, HG_NIC_NE2K_ISA);
    g_assert_cmpuint(hangar_preset_find("linux")->memory_mib, ==, 1024);
    g_assert_cmpuint(hangar_preset_find("linux")->disk_mib, ==, 20 * 1024);
    g_assert_true(hangar_preset_find("linux")->usb_tablet);
    g_assert_cmpuint(hangar_preset_find("win9x")->memory_mib, ==, 64);
    g_assert_cmpuint(hangar_preset_find("winxp")->memory_mib, ==, 512);
    g_assert_cmpint(hangar_preset_find("winxp")->nic, ==, HG_NIC_RTL8139);
}

static void test_make_id(void)
{
    g_autofree char *tmp = g_dir_make_tmp("hangar-ids-XXXXXX", NULL);
    g_setenv("XDG_DATA_HOME", tmp, TRUE);
    g_autofree char *a = hangar_assistant_make_id("My DOS PC");
    g_assert_cmpstr(a, ==, "my-dos-pc");
    g_autofree char *b = hangar_assistant_make_id("  ../../etc/passwd ");
    g_assert_cmpstr(b, ==, "etc-passwd");
    g_autofree char *c = hangar_assistant_make_id("Windows 98 SE (German)");
    g_assert_cmpstr(c, ==, "windows-98-se-german");
    g_autofree char *d = hangar_assistant_make_id("☃☃");
    g_assert_cmpstr(d, ==, "machine");
    g_autofree char *e = hangar_assistant_make_id("Éléphant Ça");
    g_assert_cmpstr(e, ==, "elephant-ca");
    /* Taken ids get a number. */
    g_autofree char *dir = hg_profile_dir_for_id("my-dos-pc");
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_autofree char *f = hangar_assistant_make_id("My DOS PC");
    g_assert_cmpstr(f, ==, "my-dos-pc-2");
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void test_random_mac(void)
{
    for (int i = 0; i < 100; i++) {
        uint8_t mac[6];
        hangar_assistant_random_mac(mac);
        g_assert_cmpuint(mac[0], ==, 0x52);
        g_assert_cmpuint(mac[1], ==, 0x54);
        g_assert_cmpuint(mac[2], ==, 0x00);
        g_autofree char *text = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                                                mac[2], mac[3], mac[4], mac[5]);
        HgConfig c;
        hg_config_init(&c);
        g_assert_true(hg_config_set_mac(&c, text, NULL));
        hg_config_clear(&c);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/presets/table", test_presets);
    g_test_add_func("/presets/make-id", test_make_id);
    g_test_add_func("/presets/random-mac", test_random_mac);
    return g_test_run();
}
