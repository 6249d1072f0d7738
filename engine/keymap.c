/* Key names to PC key codes (set-1 make codes, IBM PC/AT keyboard layout as scan codes
 * are assigned in the set-1 table; extended keys carry the E0 flag). */
#include "keymap.h"

#include <string.h>

#include "hw/ps2.h"

typedef struct KeyName {
    const char *name;
    uint16_t code;
} KeyName;

#define E0(c) (HG_KEY_E0 | (c))

static const KeyName keys[] = {
    {"esc", 0x01}, {"1", 0x02}, {"2", 0x03}, {"3", 0x04}, {"4", 0x05}, {"5", 0x06},
    {"6", 0x07}, {"7", 0x08}, {"8", 0x09}, {"9", 0x0a}, {"0", 0x0b}, {"minus", 0x0c},
    {"equal", 0x0d}, {"backspace", 0x0e}, {"tab", 0x0f}, {"q", 0x10}, {"w", 0x11},
    {"e", 0x12}, {"r", 0x13}, {"t", 0x14}, {"y", 0x15}, {"u", 0x16}, {"i", 0x17},
    {"o", 0x18}, {"p", 0x19}, {"bracket_left", 0x1a}, {"bracket_right", 0x1b},
    {"ret", 0x1c}, {"ctrl", 0x1d}, {"a", 0x1e}, {"s", 0x1f}, {"d", 0x20}, {"f", 0x21},
    {"g", 0x22}, {"h", 0x23}, {"j", 0x24}, {"k", 0x25}, {"l", 0x26}, {"semicolon", 0x27},
    {"apostrophe", 0x28}, {"grave_accent", 0x29}, {"shift", 0x2a}, {"backslash", 0x2b},
    {"z", 0x2c}, {"x", 0x2d}, {"c", 0x2e}, {"v", 0x2f}, {"b", 0x30}, {"n", 0x31},
    {"m", 0x32}, {"comma", 0x33}, {"dot", 0x34}, {"slash", 0x35}, {"shift_r", 0x36},
    {"kp_multiply", 0x37}, {"alt", 0x38}, {"spc", 0x39}, {"caps_lock", 0x3a},
    {"f1", 0x3b}, {"f2", 0x3c}, {"f3", 0x3d}, {"f4", 0x3e}, {"f5", 0x3f}, {"f6", 0x40},
    {"f7", 0x41}, {"f8", 0x42}, {"f9", 0x43}, {"f10", 0x44}, {"num_lock", 0x45},
    {"scroll_lock", 0x46}, {"kp_7", 0x47}, {"kp_8", 0x48}, {"kp_9", 0x49},
    {"kp_subtract", 0x4a}, {"kp_4", 0x4b}, {"kp_5", 0x4c}, {"kp_6", 0x4d}, {"kp_add", 0x4e},
    {"kp_1", 0x4f}, {"kp_2", 0x50}, {"kp_3", 0x51}, {"kp_0", 0x52}, {"kp_decimal", 0x53},
    {"sysrq", 0x54}, {"less", 0x56}, {"f11", 0x57}, {"f12", 0x58},
    {"kp_enter", E0(0x1c)}, {"ctrl_r", E0(0x1d)}, {"kp_divide", E0(0x35)},
    {"print", E0(0x37)}, {"alt_r", E0(0x38)}, {"home", E0(0x47)}, {"up", E0(0x48)},
    {"pgup", E0(0x49)}, {"left", E0(0x4b)}, {"right", E0(0x4d)}, {"end", E0(0x4f)},
    {"down", E0(0x50)}, {"pgdn", E0(0x51)}, {"insert", E0(0x52)}, {"delete", E0(0x53)},
    {"meta_l", E0(0x5b)}, {"meta_r", E0(0x5c)}, {"menu", E0(0x5d)},
    {"pause", HG_KEY_PAUSE},
    /* Aliases people type. */
    {"enter", 0x1c}, {"return", 0x1c}, {"space", 0x39}, {"escape", 0x01},
    {"control", 0x1d}, {"del", E0(0x53)}, {"ins", E0(0x52)}, {"altgr", E0(0x38)},
    {"shift_l", 0x2a}, {"ctrl_l", 0x1d}, {"alt_l", 0x38}, {"asterisk", 0x37},
};

uint16_t hg_keymap_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, name) == 0)
            return keys[i].code;
    return 0;
}
