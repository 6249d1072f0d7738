/* hangar-run's SDL2 window (--display sdl): shows the machine's display surface
 * (engine/display.h) and feeds the keyboard and mouse to the machine's input path
 * (hg_machine_send_key / hg_machine_send_mouse / hg_machine_send_pointer).
 *
 * Threads and loops: SDL's video and event functions belong to the thread that
 * initialised SDL, here hangar-run's main thread, which runs a GLib main loop. The window
 * therefore lives inside that loop: a GLib timeout at about 60 Hz drains SDL_PollEvent
 * and redraws when needed. The emulation thread only posts an SDL user event from the
 * display's notify callback (SDL_PushEvent is thread-safe), at most one in flight; the
 * main thread then copies the dirty rectangles into the SDL texture and presents it.
 * Keeping GLib as the owner of the loop leaves the monitor, serial console and signal
 * sources of hangar-run untouched.
 *
 * Mouse: a click in the window grabs the pointer (relative mode, the title says how to
 * release it); Ctrl+Alt pressed and released alone releases it; Ctrl+Alt+F toggles
 * fullscreen. The window is resizable; the picture is scaled to fit, keeping its aspect,
 * and the window follows the guest's resolution changes.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "hangar.h"

typedef struct HgSdlDisplay HgSdlDisplay;

/* Called on the main thread when the user closes the window. */
typedef void (*HgSdlCloseFn)(void *opaque);

/* Initialises SDL's video, opens the window and starts showing m's display; NULL with
 * error set when SDL cannot open a window (no display server, for example). */
HgSdlDisplay *hg_sdl_display_new(HgMachine *m, HgSdlCloseFn on_close, void *opaque, GError **error);
/* Closes the window and shuts SDL down. Call after the machine stopped (no more notify
 * callbacks from the emulation thread). */
void hg_sdl_display_free(HgSdlDisplay *s);

/* The PC key code (set-1 make code | HG_KEYCODE_E0, or HG_KEYCODE_PAUSE) of an SDL
 * scancode, 0 for keys a PC keyboard does not have. */
unsigned hg_sdl_scancode_to_pc(int scancode);
