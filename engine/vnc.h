/* The VNC server of a machine (RFB 3.8, RFC 6143) on libvncserver: any frontend
 * (hangar-run --vnc, the GUI) starts one for a running machine. It runs on its own thread,
 * reads the machine's display surface (display.h) and sends clients only the rectangles that
 * changed, follows resolution changes (DesktopSize), and turns the clients' keys and
 * pointer into the engine's input calls (hangar.h). See vnc.c for the details and
 * vnc-keysym.c for how keysyms become PC keys.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct HgMachine HgMachine;
typedef struct HgVnc HgVnc;

/* True when this build has the VNC server (libvncserver found at build time). */
bool hg_vnc_available(void);

/* Starts serving machine m. spec: ":N" (127.0.0.1, TCP port 5900 + N), "HOST:N" (HOST an
 * IPv4 address or name; "0.0.0.0" for every interface) or "unix:PATH" (a UNIX socket,
 * replaced if it exists). password: NULL for none, else clients must answer the VNC
 * authentication challenge (only its first 8 characters count, as in every VNC server).
 * Returns NULL with error set when the spec is wrong or the socket cannot be opened.
 * Start it once the machine's emulation thread runs (hg_machine_start): client input goes
 * through hg_machine_send_*, which runs at once on the caller's thread when none runs. */
HgVnc *hg_vnc_start(HgMachine *m, const char *spec, const char *password, GError **error);
/* Disconnects the clients, closes the socket and ends the thread. NULL is fine. Call it
 * before hg_machine_stop. */
void hg_vnc_stop(HgVnc *v);

/* Checks a spec as hg_vnc_start would (syntax, host name), without listening. */
bool hg_vnc_check_spec(const char *spec, GError **error);

/* --- The keysym table (vnc-keysym.c), public for its unit test. --- */
enum { HG_VNC_SHIFT_NO = 0, HG_VNC_SHIFT_YES = 1, HG_VNC_SHIFT_ANY = -1 };
/* The PC key code (hangar.h: set 1, HG_KEYCODE_E0...) of the US-layout key that produces
 * keysym, and whether that key needs Shift for it (HG_VNC_SHIFT_NO/YES) or Shift does not
 * matter (HG_VNC_SHIFT_ANY: modifiers, function, editing and keypad keys). False for
 * keysyms no US key produces (see vnc-keysym.c for the fallback). */
bool hg_vnc_keysym_lookup(uint32_t keysym, uint16_t *code, int *shift);
