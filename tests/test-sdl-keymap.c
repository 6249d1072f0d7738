/* The SDL window's keyboard table (cli/sdl-display.c): every key of a PC105 keyboard
 * (ISO layout: the US 104 keys plus the key between left Shift and Z) has its own PC key
 * code, and that code is the one the monitor's sendkey uses for the same key name
 * (engine/keymap.c, written separately), so both input paths agree key by key. */
#include <SDL.h>
#include <glib.h>

#include "keymap.h"
#include "sdl-display.h"

typedef struct {
    SDL_Scancode sc;
    const char *name; /* the monitor's key name */
} Key;

/* Row by row as on the keyboard. The ISO key left of Enter is SDL's "non-US #" (some
 * X servers report it as backslash: both give the same PC key). */
static const Key pc105[] = {
    {SDL_SCANCODE_ESCAPE, "esc"},
    {SDL_SCANCODE_F1, "f1"},
    {SDL_SCANCODE_F2, "f2"},
    {SDL_SCANCODE_F3, "f3"},
    {SDL_SCANCODE_F4, "f4"},
    {SDL_SCANCODE_F5, "f5"},
    {SDL_SCANCODE_F6, "f6"},
    {SDL_SCANCODE_F7, "f7"},
    {SDL_SCANCODE_F8, "f8"},
    {SDL_SCANCODE_F9, "f9"},
    {SDL_SCANCODE_F10, "f10"},
    {SDL_SCANCODE_F11, "f11"},
    {SDL_SCANCODE_F12, "f12"},
    {SDL_SCANCODE_PRINTSCREEN, "print"},
    {SDL_SCANCODE_SCROLLLOCK, "scroll_lock"},
    {SDL_SCANCODE_PAUSE, "pause"},

    {SDL_SCANCODE_GRAVE, "grave_accent"},
    {SDL_SCANCODE_1, "1"},
    {SDL_SCANCODE_2, "2"},
    {SDL_SCANCODE_3, "3"},
    {SDL_SCANCODE_4, "4"},
    {SDL_SCANCODE_5, "5"},
    {SDL_SCANCODE_6, "6"},
    {SDL_SCANCODE_7, "7"},
    {SDL_SCANCODE_8, "8"},
    {SDL_SCANCODE_9, "9"},
    {SDL_SCANCODE_0, "0"},
    {SDL_SCANCODE_MINUS, "minus"},
    {SDL_SCANCODE_EQUALS, "equal"},
    {SDL_SCANCODE_BACKSPACE, "backspace"},
    {SDL_SCANCODE_INSERT, "insert"},
    {SDL_SCANCODE_HOME, "home"},
    {SDL_SCANCODE_PAGEUP, "pgup"},
    {SDL_SCANCODE_NUMLOCKCLEAR, "num_lock"},
    {SDL_SCANCODE_KP_DIVIDE, "kp_divide"},
    {SDL_SCANCODE_KP_MULTIPLY, "kp_multiply"},
    {SDL_SCANCODE_KP_MINUS, "kp_subtract"},

    {SDL_SCANCODE_TAB, "tab"},
    {SDL_SCANCODE_Q, "q"},
    {SDL_SCANCODE_W, "w"},
    {SDL_SCANCODE_E, "e"},
    {SDL_SCANCODE_R, "r"},
    {SDL_SCANCODE_T, "t"},
    {SDL_SCANCODE_Y, "y"},
    {SDL_SCANCODE_U, "u"},
    {SDL_SCANCODE_I, "i"},
    {SDL_SCANCODE_O, "o"},
    {SDL_SCANCODE_P, "p"},
    {SDL_SCANCODE_LEFTBRACKET, "bracket_left"},
    {SDL_SCANCODE_RIGHTBRACKET, "bracket_right"},
    {SDL_SCANCODE_RETURN, "ret"},
    {SDL_SCANCODE_DELETE, "delete"},
    {SDL_SCANCODE_END, "end"},
    {SDL_SCANCODE_PAGEDOWN, "pgdn"},
    {SDL_SCANCODE_KP_7, "kp_7"},
    {SDL_SCANCODE_KP_8, "kp_8"},
    {SDL_SCANCODE_KP_9, "kp_9"},
    {SDL_SCANCODE_KP_PLUS, "kp_add"},

    {SDL_SCANCODE_CAPSLOCK, "caps_lock"},
    {SDL_SCANCODE_A, "a"},
    {SDL_SCANCODE_S, "s"},
    {SDL_SCANCODE_D, "d"},
    {SDL_SCANCODE_F, "f"},
    {SDL_SCANCODE_G, "g"},
    {SDL_SCANCODE_H, "h"},
    {SDL_SCANCODE_J, "j"},
    {SDL_SCANCODE_K, "k"},
    {SDL_SCANCODE_L, "l"},
    {SDL_SCANCODE_SEMICOLON, "semicolon"},
    {SDL_SCANCODE_APOSTROPHE, "apostrophe"},
    {SDL_SCANCODE_NONUSHASH, "backslash"},
    {SDL_SCANCODE_KP_4, "kp_4"},
    {SDL_SCANCODE_KP_5, "kp_5"},
    {SDL_SCANCODE_KP_6, "kp_6"},

    {SDL_SCANCODE_LSHIFT, "shift"},
    {SDL_SCANCODE_NONUSBACKSLASH, "less"},
    {SDL_SCANCODE_Z, "z"},
    {SDL_SCANCODE_X, "x"},
    {SDL_SCANCODE_C, "c"},
    {SDL_SCANCODE_V, "v"},
    {SDL_SCANCODE_B, "b"},
    {SDL_SCANCODE_N, "n"},
    {SDL_SCANCODE_M, "m"},
    {SDL_SCANCODE_COMMA, "comma"},
    {SDL_SCANCODE_PERIOD, "dot"},
    {SDL_SCANCODE_SLASH, "slash"},
    {SDL_SCANCODE_RSHIFT, "shift_r"},
    {SDL_SCANCODE_UP, "up"},
    {SDL_SCANCODE_KP_1, "kp_1"},
    {SDL_SCANCODE_KP_2, "kp_2"},
    {SDL_SCANCODE_KP_3, "kp_3"},
    {SDL_SCANCODE_KP_ENTER, "kp_enter"},

    {SDL_SCANCODE_LCTRL, "ctrl"},
    {SDL_SCANCODE_LGUI, "meta_l"},
    {SDL_SCANCODE_LALT, "alt"},
    {SDL_SCANCODE_SPACE, "spc"},
    {SDL_SCANCODE_RALT, "alt_r"},
    {SDL_SCANCODE_RGUI, "meta_r"},
    {SDL_SCANCODE_APPLICATION, "menu"},
    {SDL_SCANCODE_RCTRL, "ctrl_r"},
    {SDL_SCANCODE_LEFT, "left"},
    {SDL_SCANCODE_DOWN, "down"},
    {SDL_SCANCODE_RIGHT, "right"},
    {SDL_SCANCODE_KP_0, "kp_0"},
    {SDL_SCANCODE_KP_PERIOD, "kp_decimal"},
};

static void test_pc105(void)
{
    g_assert_cmpuint(G_N_ELEMENTS(pc105), ==, 105);
    GHashTable *seen = g_hash_table_new(NULL, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(pc105); i++) {
        unsigned code = hg_sdl_scancode_to_pc(pc105[i].sc);
        unsigned want = hg_keymap_lookup(pc105[i].name);
        if (!want || code != want)
            g_error("%s (SDL %s): the SDL window sends %#x, the monitor %#x", pc105[i].name,
                    SDL_GetScancodeName(pc105[i].sc), code, want);
        if (g_hash_table_contains(seen, GUINT_TO_POINTER(code)))
            g_error("%s: code %#x used by two keys", pc105[i].name, code);
        g_hash_table_add(seen, GUINT_TO_POINTER(code));
    }
    g_hash_table_destroy(seen);
    /* The US key above Enter is the same PC key as the ISO one left of Enter. */
    g_assert_cmphex(hg_sdl_scancode_to_pc(SDL_SCANCODE_BACKSLASH), ==, 0x2b);
    g_assert_cmphex(hg_sdl_scancode_to_pc(SDL_SCANCODE_NONUSBACKSLASH), ==, 0x56);
    g_assert_cmphex(hg_sdl_scancode_to_pc(SDL_SCANCODE_RALT), ==, HG_KEYCODE_E0 | 0x38);
    g_assert_cmphex(hg_sdl_scancode_to_pc(SDL_SCANCODE_PAUSE), ==, HG_KEYCODE_PAUSE);
    /* Keys a PC keyboard lacks send nothing. */
    g_assert_cmphex(hg_sdl_scancode_to_pc(SDL_SCANCODE_F24), ==, 0);
    g_assert_cmphex(hg_sdl_scancode_to_pc(SDL_SCANCODE_UNKNOWN), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdl/keymap-pc105", test_pc105);
    return g_test_run();
}
