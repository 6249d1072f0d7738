/* Unit test of gui/hangar-keycodes.c: GDK hardware keycodes (evdev + 8) to PC key codes,
 * cross-checked against the engine's key names (engine/keymap.c), which name the same
 * set-1 codes independently. */
#include <glib.h>

#include "hangar-keycodes.h"
#include "hangar.h"
#include "keymap.h"

/* evdev code (linux/input-event-codes.h) and the engine's name of the same key. */
static const struct {
    unsigned evdev;
    const char *name;
} keys[] = {
    {1, "esc"},
    {2, "1"},
    {11, "0"},
    {12, "minus"},
    {13, "equal"},
    {14, "backspace"},
    {15, "tab"},
    {16, "q"},
    {26, "bracket_left"},
    {27, "bracket_right"},
    {28, "ret"},
    {29, "ctrl"},
    {30, "a"},
    {39, "semicolon"},
    {40, "apostrophe"},
    {41, "grave_accent"},
    {42, "shift"},
    {43, "backslash"},
    {44, "z"},
    {52, "dot"},
    {53, "slash"},
    {54, "shift_r"},
    {55, "kp_multiply"},
    {56, "alt"},
    {57, "spc"},
    {58, "caps_lock"},
    {59, "f1"},
    {68, "f10"},
    {69, "num_lock"},
    {70, "scroll_lock"},
    {71, "kp_7"},
    {74, "kp_subtract"},
    {78, "kp_add"},
    {82, "kp_0"},
    {83, "kp_decimal"},
    {86, "less"},
    {87, "f11"},
    {88, "f12"},
    {96, "kp_enter"},
    {97, "ctrl_r"},
    {98, "kp_divide"},
    {99, "print"},
    {100, "alt_r"},
    {102, "home"},
    {103, "up"},
    {104, "pgup"},
    {105, "left"},
    {106, "right"},
    {107, "end"},
    {108, "down"},
    {109, "pgdn"},
    {110, "insert"},
    {111, "delete"},
    {119, "pause"},
    {125, "meta_l"},
    {126, "meta_r"},
    {127, "menu"},
};

static void test_named_keys(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        uint16_t want = hg_keymap_lookup(keys[i].name);
        g_assert_cmpuint(want, !=, 0);
        g_assert_cmpuint(hangar_keycode_from_evdev(keys[i].evdev), ==, want);
        /* The X11/Wayland hardware keycode is the evdev code + 8. */
        g_assert_cmpuint(hangar_keycode_from_hardware(keys[i].evdev + 8), ==, want);
    }
}

/* Every key of a 105-key PC keyboard is present, and nothing maps to a code the engine's
 * keyboard would misread (a break bit, or two keys on one code). */
static void test_whole_table(void)
{
    gboolean seen[0x300] = {FALSE};
    int mapped = 0;
    for (unsigned ev = 0; ev < 0x300; ev++) {
        uint16_t c = hangar_keycode_from_evdev(ev);
        if (!c)
            continue;
        mapped++;
        if (c != HG_KEYCODE_PAUSE) {
            g_assert_cmpuint(c & ~(unsigned)HG_KEYCODE_E0, <, 0x80);
            g_assert_cmpuint(c & 0x7f, !=, 0);
        }
        g_assert_false(seen[c]);
        seen[c] = TRUE;
    }
    /* 1..83, 86..88, the 0xE0 block of 101/104-key boards (18), Pause: at least 105. */
    g_assert_cmpint(mapped, >=, 105);
    for (unsigned ev = 1; ev <= 83; ev++)
        g_assert_cmpuint(hangar_keycode_from_evdev(ev), ==, ev);
}

static void test_out_of_range(void)
{
    g_assert_cmpuint(hangar_keycode_from_evdev(0), ==, 0);     /* KEY_RESERVED */
    g_assert_cmpuint(hangar_keycode_from_evdev(84), ==, 0);    /* unassigned */
    g_assert_cmpuint(hangar_keycode_from_evdev(0x2ff), ==, 0); /* KEY_MAX */
    g_assert_cmpuint(hangar_keycode_from_evdev(100000), ==, 0);
    for (unsigned k = 0; k < 8; k++)
        g_assert_cmpuint(hangar_keycode_from_hardware(k), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keycodes/named-keys", test_named_keys);
    g_test_add_func("/keycodes/whole-table", test_whole_table);
    g_test_add_func("/keycodes/out-of-range", test_out_of_range);
    return g_test_run();
}
