/* Host key to PC key code translation for the machine display.
 *
 * GDK reports the hardware keycode of a key: on X11 (evdev driver) and on Wayland it is the
 * Linux evdev code (linux/input-event-codes.h) plus 8. The engine takes PC key codes: the
 * scan code set 1 make code, ORed with HG_KEYCODE_E0 for the keys set 1 prefixes with 0xE0,
 * or HG_KEYCODE_PAUSE (engine/hangar.h). Translating by position, not by keysym, keeps the
 * guest's own keyboard layout in charge, as on real hardware.
 */
#pragma once

#include <stdint.h>

/* The PC key code of a Linux evdev key code, or 0 for keys a PC keyboard does not have. */
uint16_t hangar_keycode_from_evdev(unsigned evdev);
/* The same for a GDK hardware keycode on X11 (xf86-input-evdev/libinput) and Wayland. */
uint16_t hangar_keycode_from_hardware(unsigned hardware_keycode);
