/* Key names for the monitor's sendkey and the GUI's send-key menu, mapped to PC key codes
 * (the set-1 make code, with HG_KEY_E0 for extended keys: the code ps2.h takes). */
#pragma once

#include <stdint.h>

/* The key code of a name ("a", "ret", "ctrl", "f12", "kp_enter"...), or 0. Names follow
 * the ones QEMU's monitor made familiar. */
uint16_t hg_keymap_lookup(const char *name);
