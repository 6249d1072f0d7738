/* The machine's USB: which device sits on which port of the UHCI (two root ports, and a
 * hub on the second when more devices arrive), the numbers people use to name them
 * (usb_del ID), and the routing of host input to the USB keyboard, mouse and tablet.
 * Runs on the emulation thread; hangar.h's hg_machine_usb_* reach it from any thread.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hangar.h"
#include "hw/uhci.h"

typedef struct HgUsbHost HgUsbHost;

HgUsbHost *hg_usb_host_new(HgUhci *uhci);
/* Forgets the devices (the controller frees them). */
void hg_usb_host_free(HgUsbHost *h);
/* Plugs in a device: "tablet", "keyboard", "mouse" or "storage:FILE". Returns its id (1
 * and up) or 0 with an error saying what was wrong. */
int hg_usb_host_attach(HgUsbHost *h, const char *spec, GError **error);
bool hg_usb_host_detach(HgUsbHost *h, int id, GError **error);
/* HgUsbDeviceInfo entries. */
GPtrArray *hg_usb_host_list(HgUsbHost *h);
HgUhci *hg_usb_host_uhci(HgUsbHost *h);
/* Any thread: whether a tablet is plugged in and the guest drives it (configured it). */
bool hg_usb_host_has_tablet(HgUsbHost *h);
/* Input for the first configured device of the kind; false when there is none (the
 * caller then uses the PS/2 devices). Tablet coordinates are 0..0x7FFF. */
bool hg_usb_host_key(HgUsbHost *h, uint16_t code, bool pressed);
bool hg_usb_host_mouse(HgUsbHost *h, int dx, int dy, int dz, unsigned buttons);
bool hg_usb_host_pointer(HgUsbHost *h, int x, int y, unsigned buttons);
