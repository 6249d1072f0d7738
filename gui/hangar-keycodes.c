/* Linux evdev key codes to PC (scan code set 1) key codes.
 *
 * Follows linux/input-event-codes.h for the evdev side and the IBM PC/AT set 1 scan codes
 * (with the 0xE0-prefixed extended keys of the 101/104-key and multimedia keyboards, as in
 * Microsoft's "Keyboard Scan Code Specification", rev. 1.3a) for the PC side. For codes
 * 1..83 (Esc through keypad '.') evdev numbered the keys after set 1, so those map to
 * themselves; the rest are listed one by one.
 */
#include "hangar-keycodes.h"

#include "hangar.h"

#define E0(c) (HG_KEYCODE_E0 | (c))

/* Indexed by evdev code; 0 = no PC key. */
static const uint16_t evdev_to_pc[] = {
    /* 1..83 are identical in evdev and set 1: filled by the range check below. */
    [85] = 0x76,              /* KEY_ZENKAKUHANKAKU */
    [86] = 0x56,              /* KEY_102ND: the extra key left of Z on ISO keyboards */
    [87] = 0x57,              /* KEY_F11 */
    [88] = 0x58,              /* KEY_F12 */
    [89] = 0x73,              /* KEY_RO (Japanese backslash/underscore) */
    [90] = 0x78,              /* KEY_KATAKANA */
    [91] = 0x77,              /* KEY_HIRAGANA */
    [92] = 0x79,              /* KEY_HENKAN */
    [93] = 0x70,              /* KEY_KATAKANAHIRAGANA */
    [94] = 0x7b,              /* KEY_MUHENKAN */
    [95] = 0x5c,              /* KEY_KPJPCOMMA */
    [96] = E0(0x1c),          /* KEY_KPENTER */
    [97] = E0(0x1d),          /* KEY_RIGHTCTRL */
    [98] = E0(0x35),          /* KEY_KPSLASH */
    [99] = E0(0x37),          /* KEY_SYSRQ: Print Screen (the keyboard adds the fake shifts) */
    [100] = E0(0x38),         /* KEY_RIGHTALT (AltGr) */
    [102] = E0(0x47),         /* KEY_HOME */
    [103] = E0(0x48),         /* KEY_UP */
    [104] = E0(0x49),         /* KEY_PAGEUP */
    [105] = E0(0x4b),         /* KEY_LEFT */
    [106] = E0(0x4d),         /* KEY_RIGHT */
    [107] = E0(0x4f),         /* KEY_END */
    [108] = E0(0x50),         /* KEY_DOWN */
    [109] = E0(0x51),         /* KEY_PAGEDOWN */
    [110] = E0(0x52),         /* KEY_INSERT */
    [111] = E0(0x53),         /* KEY_DELETE */
    [113] = E0(0x20),         /* KEY_MUTE */
    [114] = E0(0x2e),         /* KEY_VOLUMEDOWN */
    [115] = E0(0x30),         /* KEY_VOLUMEUP */
    [116] = E0(0x5e),         /* KEY_POWER (ACPI power) */
    [117] = 0x59,             /* KEY_KPEQUAL */
    [119] = HG_KEYCODE_PAUSE, /* KEY_PAUSE: E1 1D 45 E1 9D C5, make only */
    [121] = 0x7e,             /* KEY_KPCOMMA (Brazilian keypad '.') */
    /* KEY_HANGEUL (122) and KEY_HANJA (123) send 0xF2/0xF1 with no break code on Korean
     * keyboards: the engine's key codes cannot express that yet, so they have none. */
    [124] = 0x7d,     /* KEY_YEN */
    [125] = E0(0x5b), /* KEY_LEFTMETA (left Windows key) */
    [126] = E0(0x5c), /* KEY_RIGHTMETA */
    [127] = E0(0x5d), /* KEY_COMPOSE (Menu key) */
    [128] = E0(0x68), /* KEY_STOP (browser stop) */
    [140] = E0(0x21), /* KEY_CALC */
    [142] = E0(0x5f), /* KEY_SLEEP */
    [143] = E0(0x63), /* KEY_WAKEUP */
    [155] = E0(0x6c), /* KEY_MAIL */
    [156] = E0(0x66), /* KEY_BOOKMARKS (browser favourites) */
    [157] = E0(0x6b), /* KEY_COMPUTER (my computer) */
    [158] = E0(0x6a), /* KEY_BACK */
    [159] = E0(0x69), /* KEY_FORWARD */
    [163] = E0(0x19), /* KEY_NEXTSONG */
    [164] = E0(0x22), /* KEY_PLAYPAUSE */
    [165] = E0(0x10), /* KEY_PREVIOUSSONG */
    [166] = E0(0x24), /* KEY_STOPCD */
    [172] = E0(0x32), /* KEY_HOMEPAGE */
    [173] = E0(0x67), /* KEY_REFRESH */
    [217] = E0(0x65), /* KEY_SEARCH */
    [226] = E0(0x6d), /* KEY_MEDIA (media select) */
};

uint16_t hangar_keycode_from_evdev(unsigned evdev)
{
    if (evdev >= 1 && evdev <= 83)
        return (uint16_t)evdev;
    if (evdev < G_N_ELEMENTS(evdev_to_pc))
        return evdev_to_pc[evdev];
    return 0;
}

uint16_t hangar_keycode_from_hardware(unsigned hardware_keycode)
{
    /* X11 keycodes start at 8: keycode = evdev code + 8 (same offset on Wayland). */
    if (hardware_keycode < 8)
        return 0;
    return hangar_keycode_from_evdev(hardware_keycode - 8);
}
