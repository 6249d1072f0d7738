/* VNC keysyms (RFB 3.8, RFC 6143 section 7.5.4: X11 keysyms) to PC key codes.
 *
 * A VNC client sends the symbol a key produced on the client's layout, not the key. Like
 * QEMU's VNC server with its default en-us keymap, Hangar maps each symbol to the key that
 * produces it on a US keyboard and says whether that key needs Shift there; vnc.c then
 * presses or lifts Shift around the key so the guest, set to a US layout, types the symbol
 * the client typed whatever the client's own layout is (a German client's Shift+7 "/" reaches
 * the guest as the unshifted US "/" key).
 *
 * Fallback for symbols no US key produces (adiaeresis, eacute, sterling, EuroSign, dead
 * keys...): they are not typed and vnc_keysym_lookup returns false; the server drops them
 * (and logs the keysym once per client). Guessing a key position for them would depend on
 * the guest's layout, which the server cannot know; QEMU needs "-k LAYOUT" for the same
 * reason. Clients that send raw keys instead (the "QEMU Extended Key Event"
 * pseudo-encoding: gtk-vnc/virt-viewer, TigerVNC, noVNC) avoid the problem entirely: the
 * guest's own layout then decides, as with a physical keyboard; vnc.c implements that
 * message as a libvncserver protocol extension (libvncserver 0.9.14 lacks it).
 */
#include "vnc.h"

#include <stddef.h>

#include "hangar.h"

typedef struct KeysymRow {
    uint32_t keysym;
    uint16_t code;
    int8_t shift; /* HG_VNC_SHIFT_* */
} KeysymRow;

enum { NO = HG_VNC_SHIFT_NO, YES = HG_VNC_SHIFT_YES, ANY = HG_VNC_SHIFT_ANY };
#define E0(c) (HG_KEYCODE_E0 | (c))

/* The printable ASCII symbols of a US keyboard (keysyms 0x20-0x7E equal their ASCII code). */
static const KeysymRow ascii_rows[] = {
    {' ', 0x39, NO},  {'!', 0x02, YES}, {'"', 0x28, YES}, {'#', 0x04, YES}, {'$', 0x05, YES},
    {'%', 0x06, YES}, {'&', 0x08, YES}, {'\'', 0x28, NO}, {'(', 0x0A, YES}, {')', 0x0B, YES},
    {'*', 0x09, YES}, {'+', 0x0D, YES}, {',', 0x33, NO},  {'-', 0x0C, NO},  {'.', 0x34, NO},
    {'/', 0x35, NO},  {'0', 0x0B, NO},  {'1', 0x02, NO},  {'2', 0x03, NO},  {'3', 0x04, NO},
    {'4', 0x05, NO},  {'5', 0x06, NO},  {'6', 0x07, NO},  {'7', 0x08, NO},  {'8', 0x09, NO},
    {'9', 0x0A, NO},  {':', 0x27, YES}, {';', 0x27, NO},  {'<', 0x33, YES}, {'=', 0x0D, NO},
    {'>', 0x34, YES}, {'?', 0x35, YES}, {'@', 0x03, YES}, {'[', 0x1A, NO},  {'\\', 0x2B, NO},
    {']', 0x1B, NO},  {'^', 0x07, YES}, {'_', 0x0C, YES}, {'`', 0x29, NO},  {'{', 0x1A, YES},
    {'|', 0x2B, YES}, {'}', 0x1B, YES}, {'~', 0x29, YES},
};

/* Set 1 codes of the letters a..z. */
static const uint8_t letter_codes[26] = {
    0x1E, 0x30, 0x2E, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32,
    0x31, 0x18, 0x19, 0x10, 0x13, 0x1F, 0x14, 0x16, 0x2F, 0x11, 0x2D, 0x15, 0x2C,
};

/* Function, editing, keypad and modifier keys (keysyms 0xFExx/0xFFxx): Shift does not
 * matter for them (the client's own Shift state goes through unchanged). */
static const KeysymRow special_rows[] = {
    {0xFE03, E0(0x38), ANY}, /* ISO_Level3_Shift (AltGr) */
    {0xFE20, 0x0F, YES},     /* ISO_Left_Tab: Shift+Tab */
    {0xFF08, 0x0E, ANY},     /* BackSpace */
    {0xFF09, 0x0F, ANY},     /* Tab */
    {0xFF0D, 0x1C, ANY},     /* Return */
    {0xFF13, HG_KEYCODE_PAUSE, ANY},
    {0xFF14, 0x46, ANY},     /* Scroll_Lock */
    {0xFF15, E0(0x37), ANY}, /* Sys_Req: the Print Screen key */
    {0xFF1B, 0x01, ANY},     /* Escape */
    {0xFF50, E0(0x47), ANY}, /* Home */
    {0xFF51, E0(0x4B), ANY}, /* Left */
    {0xFF52, E0(0x48), ANY}, /* Up */
    {0xFF53, E0(0x4D), ANY}, /* Right */
    {0xFF54, E0(0x50), ANY}, /* Down */
    {0xFF55, E0(0x49), ANY}, /* Prior (Page Up) */
    {0xFF56, E0(0x51), ANY}, /* Next (Page Down) */
    {0xFF57, E0(0x4F), ANY}, /* End */
    {0xFF61, E0(0x37), ANY}, /* Print */
    {0xFF63, E0(0x52), ANY}, /* Insert */
    {0xFF67, E0(0x5D), ANY}, /* Menu */
    {0xFF7E, E0(0x38), ANY}, /* Mode_switch (AltGr on some clients) */
    {0xFF7F, 0x45, ANY},     /* Num_Lock */
    {0xFF8D, E0(0x1C), ANY}, /* KP_Enter */
    {0xFF95, 0x47, ANY},     /* KP_Home */
    {0xFF96, 0x4B, ANY},     /* KP_Left */
    {0xFF97, 0x48, ANY},     /* KP_Up */
    {0xFF98, 0x4D, ANY},     /* KP_Right */
    {0xFF99, 0x50, ANY},     /* KP_Down */
    {0xFF9A, 0x49, ANY},     /* KP_Prior */
    {0xFF9B, 0x51, ANY},     /* KP_Next */
    {0xFF9C, 0x4F, ANY},     /* KP_End */
    {0xFF9D, 0x4C, ANY},     /* KP_Begin */
    {0xFF9E, 0x52, ANY},     /* KP_Insert */
    {0xFF9F, 0x53, ANY},     /* KP_Delete */
    {0xFFAA, 0x37, ANY},     /* KP_Multiply */
    {0xFFAB, 0x4E, ANY},     /* KP_Add */
    {0xFFAC, 0x53, ANY},     /* KP_Separator */
    {0xFFAD, 0x4A, ANY},     /* KP_Subtract */
    {0xFFAE, 0x53, ANY},     /* KP_Decimal */
    {0xFFAF, E0(0x35), ANY}, /* KP_Divide */
    {0xFFB0, 0x52, ANY},     /* KP_0 */
    {0xFFB1, 0x4F, ANY},     /* KP_1 */
    {0xFFB2, 0x50, ANY},     /* KP_2 */
    {0xFFB3, 0x51, ANY},     /* KP_3 */
    {0xFFB4, 0x4B, ANY},     /* KP_4 */
    {0xFFB5, 0x4C, ANY},     /* KP_5 */
    {0xFFB6, 0x4D, ANY},     /* KP_6 */
    {0xFFB7, 0x47, ANY},     /* KP_7 */
    {0xFFB8, 0x48, ANY},     /* KP_8 */
    {0xFFB9, 0x49, ANY},     /* KP_9 */
    {0xFFBD, 0x0D, ANY},     /* KP_Equal: no such key on a PC keypad; the = key */
    {0xFFE1, 0x2A, ANY},     /* Shift_L */
    {0xFFE2, 0x36, ANY},     /* Shift_R */
    {0xFFE3, 0x1D, ANY},     /* Control_L */
    {0xFFE4, E0(0x1D), ANY}, /* Control_R */
    {0xFFE5, 0x3A, ANY},     /* Caps_Lock */
    {0xFFE7, E0(0x5B), ANY}, /* Meta_L: the Windows keys */
    {0xFFE8, E0(0x5C), ANY}, /* Meta_R */
    {0xFFE9, 0x38, ANY},     /* Alt_L */
    {0xFFEA, E0(0x38), ANY}, /* Alt_R */
    {0xFFEB, E0(0x5B), ANY}, /* Super_L */
    {0xFFEC, E0(0x5C), ANY}, /* Super_R */
    {0xFFFF, E0(0x53), ANY}, /* Delete */
};

bool hg_vnc_keysym_lookup(uint32_t keysym, uint16_t *code, int *shift)
{
    if (keysym >= 'a' && keysym <= 'z') {
        *code = letter_codes[keysym - 'a'];
        *shift = NO;
        return true;
    }
    if (keysym >= 'A' && keysym <= 'Z') {
        *code = letter_codes[keysym - 'A'];
        *shift = YES;
        return true;
    }
    if (keysym >= 0xFFBE && keysym <= 0xFFC9) { /* F1..F12 */
        static const uint8_t fkeys[12] = {0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40,
                                          0x41, 0x42, 0x43, 0x44, 0x57, 0x58};
        *code = fkeys[keysym - 0xFFBE];
        *shift = ANY;
        return true;
    }
    const KeysymRow *rows = ascii_rows;
    size_t n = G_N_ELEMENTS(ascii_rows);
    if (keysym >= 0xFE00) {
        rows = special_rows;
        n = G_N_ELEMENTS(special_rows);
    }
    for (size_t i = 0; i < n; i++) {
        if (rows[i].keysym == keysym) {
            *code = rows[i].code;
            *shift = rows[i].shift;
            return true;
        }
    }
    return false;
}
