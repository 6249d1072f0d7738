/* Intel 8042 keyboard controller of the PC/AT and PS/2 (ports 0x60 and 0x64) with a PS/2
 * keyboard on its first port and a PS/2 mouse on the auxiliary port.
 *
 * Board wiring:
 *   HgI8042 *kbc = hg_i8042_new(bus, irq1, irq12, &callbacks);
 * maps ports 0x60 and 0x64; irq1 and irq12 are the ISA IRQ 1 and 12 lines (level: high
 * while the output buffer holds a byte from that device and the command byte enables its
 * interrupt; the PIC sees the rising edge). callbacks.a20 is called with the new A20 gate
 * state when the guest writes the output port (0xD1, 0xDD/0xDF); callbacks.reset when it
 * pulses the reset line (0xFE, or an output port write with bit 0 clear) and the board
 * should reset the machine (the controller resets itself through hg_i8042_reset when the
 * board resets every device). The board's port 0x92 handles "fast A20" separately.
 *
 * Frontends reach the devices through hg_i8042_kbd / hg_i8042_mouse and the input API of
 * engine/hw/ps2.h. Save/load cover the controller, the keyboard and the mouse.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"
#include "ps2.h"

typedef struct HgBus HgBus;
typedef struct HgI8042 HgI8042;

typedef struct HgI8042Callbacks {
    void (*a20)(void *opaque, bool enabled);
    void (*reset)(void *opaque);
    void *opaque;
} HgI8042Callbacks;

HgI8042 *hg_i8042_new(HgBus *bus, HgIrq irq_kbd, HgIrq irq_aux, const HgI8042Callbacks *cb);
void hg_i8042_free(HgI8042 *c);
/* Power-on state of the controller and both devices. */
void hg_i8042_reset(HgI8042 *c);
HgPs2Kbd *hg_i8042_kbd(HgI8042 *c);
HgPs2Mouse *hg_i8042_mouse(HgI8042 *c);
/* The controller's A20 output (output port bit 1). */
bool hg_i8042_a20(const HgI8042 *c);

void hg_i8042_save(const HgI8042 *c, HgStateWriter *w);
void hg_i8042_load(HgI8042 *c, HgStateReader *r);
