/* PS/2 keyboard (IBM Model M / MF II protocol) and PS/2 mouse (with the IntelliMouse and
 * IntelliMouse Explorer wheel extensions) as devices on a PS/2 port.
 *
 * A device talks to its host controller (engine/hw/i8042.c) with bytes: the controller
 * passes every byte the guest sends with hg_ps2_*_write and pulls queued bytes with
 * hg_ps2_*_read while hg_ps2_*_pending says some are there. The device calls the notify
 * callback given at creation whenever it queues bytes, so the controller can fill its
 * output buffer.
 *
 * Host input (GTK, VNC, SDL frontends and tests all use these two functions):
 * - hg_ps2_kbd_key(kbd, code, pressed): code is the key's PC scancode-set-1 make code
 *   (0x01-0x7F) ORed with HG_KEY_E0 for the keys that set 1 prefixes with 0xE0 (arrows,
 *   right Ctrl/Alt, keypad Enter and /, Insert/Delete/Home/End/PgUp/PgDn, Windows and
 *   Menu keys, Print Screen as HG_KEY_E0 | 0x37), or HG_KEY_PAUSE. The keyboard converts
 *   to the scancode set the guest selected (set 2 by default; the i8042 translates it
 *   back to set 1 when its command byte asks to).
 * - hg_ps2_mouse_event(mouse, dx, dy, dz, buttons): relative motion in mouse counts with
 *   dx to the right and dy DOWN (screen convention), dz wheel steps with positive meaning
 *   towards the user (scroll down), buttons a mask of HG_PS2_BTN_*.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgPs2Kbd HgPs2Kbd;
typedef struct HgPs2Mouse HgPs2Mouse;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* The device queued bytes for its host. */
typedef void (*HgPs2Notify)(void *opaque);

enum {
    HG_KEY_E0 = 0x100,    /* key code flag: set-1 0xE0 prefixed key */
    HG_KEY_PAUSE = 0x200, /* Pause/Break: a make-only sequence */
    HG_PS2_BTN_LEFT = 1,
    HG_PS2_BTN_RIGHT = 2,
    HG_PS2_BTN_MIDDLE = 4,
    HG_PS2_BTN_SIDE = 8,
    HG_PS2_BTN_EXTRA = 16,
    HG_PS2_KBD_QUEUE = 16, /* the keyboard's buffer, as on real keyboards */
    HG_PS2_MOUSE_QUEUE = 64,
};

HgPs2Kbd *hg_ps2_kbd_new(HgPs2Notify notify, void *opaque);
void hg_ps2_kbd_free(HgPs2Kbd *k);
/* Power-on state: set 2, scanning enabled, empty queue (no BAT code queued). */
void hg_ps2_kbd_reset(HgPs2Kbd *k);
void hg_ps2_kbd_write(HgPs2Kbd *k, uint8_t byte);
int hg_ps2_kbd_pending(const HgPs2Kbd *k);
/* Pops the next byte (the last one again when the queue is empty). */
uint8_t hg_ps2_kbd_read(HgPs2Kbd *k);
void hg_ps2_kbd_key(HgPs2Kbd *k, uint16_t code, bool pressed);
/* LED state as set by the guest: bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock. */
uint8_t hg_ps2_kbd_leds(const HgPs2Kbd *k);
int hg_ps2_kbd_scancode_set(const HgPs2Kbd *k);
/* Set-2 code of a set-1 code (0 when the key has none); the i8042 inverts it. */
uint8_t hg_ps2_set1_to_set2(uint8_t set1);
void hg_ps2_kbd_save(const HgPs2Kbd *k, HgStateWriter *w);
void hg_ps2_kbd_load(HgPs2Kbd *k, HgStateReader *r);

HgPs2Mouse *hg_ps2_mouse_new(HgPs2Notify notify, void *opaque);
void hg_ps2_mouse_free(HgPs2Mouse *m);
void hg_ps2_mouse_reset(HgPs2Mouse *m);
void hg_ps2_mouse_write(HgPs2Mouse *m, uint8_t byte);
int hg_ps2_mouse_pending(const HgPs2Mouse *m);
uint8_t hg_ps2_mouse_read(HgPs2Mouse *m);
void hg_ps2_mouse_event(HgPs2Mouse *m, int dx, int dy, int dz, unsigned buttons);
/* Device ID: 0 standard, 3 IntelliMouse (wheel), 4 IntelliMouse Explorer (5 buttons). */
uint8_t hg_ps2_mouse_id(const HgPs2Mouse *m);
void hg_ps2_mouse_save(const HgPs2Mouse *m, HgStateWriter *w);
void hg_ps2_mouse_load(HgPs2Mouse *m, HgStateReader *r);
