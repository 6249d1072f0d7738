/* Unit tests of the VNC keysym table (engine/vnc-keysym.c): US letters and digits,
 * shifted punctuation, function, editing and keypad keys, cross-checked against the
 * monitor's key names (engine/keymap.c), and the documented fallback for keysyms no US
 * key produces. And, in a build with the VNC server, hg_vnc_start's checks of its spec. */
#include <glib.h>
#include <glib/gstdio.h>

#include "hangar.h"
#include "keymap.h"
#include "vnc.h"

typedef struct Case {
    uint32_t keysym;
    const char *key; /* monitor key name */
    int shift;
} Case;

enum { NO = HG_VNC_SHIFT_NO, YES = HG_VNC_SHIFT_YES, ANY = HG_VNC_SHIFT_ANY };

static void check(const Case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t code = 0;
        int shift = 99;
        g_assert_true(hg_vnc_keysym_lookup(cases[i].keysym, &code, &shift));
        uint16_t want = hg_keymap_lookup(cases[i].key);
        g_assert_cmpuint(want, !=, 0);
        if (code != want || shift != cases[i].shift)
            g_error("keysym 0x%x: code 0x%x shift %d, expected %s (0x%x) shift %d", cases[i].keysym,
                    code, shift, cases[i].key, want, cases[i].shift);
    }
}

static void test_letters_digits(void)
{
    char name[2] = {0};
    for (char ch = 'a'; ch <= 'z'; ch++) {
        name[0] = ch;
        Case lower = {(uint32_t)ch, name, NO}, upper = {(uint32_t)(ch - 'a' + 'A'), name, YES};
        check(&lower, 1);
        check(&upper, 1);
    }
    for (char ch = '0'; ch <= '9'; ch++) {
        name[0] = ch;
        Case digit = {(uint32_t)ch, name, NO};
        check(&digit, 1);
    }
}

static void test_punctuation(void)
{
    static const Case cases[] = {
        {' ', "spc", NO},
        {'-', "minus", NO},
        {'_', "minus", YES},
        {'=', "equal", NO},
        {'+', "equal", YES},
        {'[', "bracket_left", NO},
        {'{', "bracket_left", YES},
        {']', "bracket_right", NO},
        {'}', "bracket_right", YES},
        {';', "semicolon", NO},
        {':', "semicolon", YES},
        {'\'', "apostrophe", NO},
        {'"', "apostrophe", YES},
        {'`', "grave_accent", NO},
        {'~', "grave_accent", YES},
        {'\\', "backslash", NO},
        {'|', "backslash", YES},
        {',', "comma", NO},
        {'<', "comma", YES},
        {'.', "dot", NO},
        {'>', "dot", YES},
        {'/', "slash", NO},
        {'?', "slash", YES},
        {'!', "1", YES},
        {'@', "2", YES},
        {'#', "3", YES},
        {'$', "4", YES},
        {'%', "5", YES},
        {'^', "6", YES},
        {'&', "7", YES},
        {'*', "8", YES},
        {'(', "9", YES},
        {')', "0", YES},
    };
    check(cases, G_N_ELEMENTS(cases));
    /* Every printable ASCII symbol has a key on the US layout. */
    for (uint32_t ks = 0x20; ks <= 0x7E; ks++) {
        uint16_t code;
        int shift;
        g_assert_true(hg_vnc_keysym_lookup(ks, &code, &shift));
        g_assert_cmpint(shift, !=, ANY);
    }
}

static void test_special_keys(void)
{
    static const Case cases[] = {
        {0xFFBE, "f1", ANY},          {0xFFC7, "f10", ANY},         {0xFFC8, "f11", ANY},
        {0xFFC9, "f12", ANY},         {0xFF1B, "esc", ANY},         {0xFF0D, "ret", ANY},
        {0xFF08, "backspace", ANY},   {0xFF09, "tab", ANY},         {0xFE20, "tab", YES},
        {0xFF50, "home", ANY},        {0xFF57, "end", ANY},         {0xFF55, "pgup", ANY},
        {0xFF56, "pgdn", ANY},        {0xFF51, "left", ANY},        {0xFF52, "up", ANY},
        {0xFF53, "right", ANY},       {0xFF54, "down", ANY},        {0xFF63, "insert", ANY},
        {0xFFFF, "delete", ANY},      {0xFF61, "print", ANY},       {0xFF13, "pause", ANY},
        {0xFFE1, "shift", ANY},       {0xFFE2, "shift_r", ANY},     {0xFFE3, "ctrl", ANY},
        {0xFFE4, "ctrl_r", ANY},      {0xFFE9, "alt", ANY},         {0xFFEA, "alt_r", ANY},
        {0xFE03, "altgr", ANY},       {0xFFEB, "meta_l", ANY},      {0xFFEC, "meta_r", ANY},
        {0xFF67, "menu", ANY},        {0xFFE5, "caps_lock", ANY},   {0xFF7F, "num_lock", ANY},
        {0xFF14, "scroll_lock", ANY}, {0xFFB0, "kp_0", ANY},        {0xFFB5, "kp_5", ANY},
        {0xFFB9, "kp_9", ANY},        {0xFF9C, "kp_1", ANY},        {0xFF95, "kp_7", ANY},
        {0xFFAE, "kp_decimal", ANY},  {0xFF9F, "kp_decimal", ANY},  {0xFF8D, "kp_enter", ANY},
        {0xFFAB, "kp_add", ANY},      {0xFFAD, "kp_subtract", ANY}, {0xFFAA, "kp_multiply", ANY},
        {0xFFAF, "kp_divide", ANY},
    };
    check(cases, G_N_ELEMENTS(cases));
}

/* Documented fallback (vnc-keysym.c): a symbol no US key types is not typed. */
static void test_non_us(void)
{
    static const uint32_t dropped[] = {
        0x00E4, /* adiaeresis */
        0x00C4, /* Adiaeresis */
        0x00DF, /* ssharp */
        0x00E9, /* eacute */
        0x00A3, /* sterling */
        0x20AC, /* EuroSign */
        0xFE51, /* dead_acute */
        0x0000, 0x001F, 0x007F,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(dropped); i++) {
        uint16_t code = 0xDEAD;
        int shift = 99;
        g_assert_false(hg_vnc_keysym_lookup(dropped[i], &code, &shift));
    }
}

static void test_start_errors(void)
{
    if (!hg_vnc_available()) {
        GError *error = NULL;
        g_assert_null(hg_vnc_start(NULL, ":0", NULL, &error));
        g_assert_nonnull(error);
        g_error_free(error);
        return;
    }
    HgConfig cfg;
    hg_config_init(&cfg);
    GError *error = NULL;
    HgMachine *m = hg_machine_new(&cfg, NULL, &error);
    g_assert_no_error(error);
    static const char *const bad[] = {"",    "5",      ":",     ":x",
                                      ":-1", ":70000", "unix:", "no.such.host.invalid:1"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        HgVnc *v = hg_vnc_start(m, bad[i], NULL, &error);
        if (v)
            g_error("hg_vnc_start accepted \"%s\"", bad[i]);
        g_assert_nonnull(error);
        g_clear_error(&error);
    }
    /* A UNIX socket server starts and stops cleanly. */
    char *dir = g_dir_make_tmp("hangar-vnc-XXXXXX", &error);
    g_assert_no_error(error);
    char *path = g_build_filename(dir, "vnc.sock", NULL);
    char *spec = g_strconcat("unix:", path, NULL);
    HgVnc *v = hg_vnc_start(m, spec, "pw", &error);
    g_assert_no_error(error);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    hg_vnc_stop(v);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_rmdir(dir);
    g_free(spec);
    g_free(path);
    g_free(dir);
    hg_machine_free(m);
    hg_config_clear(&cfg);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnc/keysym/letters-digits", test_letters_digits);
    g_test_add_func("/vnc/keysym/punctuation", test_punctuation);
    g_test_add_func("/vnc/keysym/special-keys", test_special_keys);
    g_test_add_func("/vnc/keysym/non-us", test_non_us);
    g_test_add_func("/vnc/start-errors", test_start_errors);
    return g_test_run();
}
