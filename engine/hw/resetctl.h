/* Reset and A20 control ports of the PC: port 0x92 (PS/2 system control port A: bit 0 fast
 * reset, bit 1 fast A20) and 0xCF9 (PIIX3 reset control register).
 *
 * Board wiring: hg_resetctl_new(bus, reset, a20, opaque). reset(opaque, hard) requests a
 * system reset (hard: 0xCF9 bit 1 set, a cold reset; port 0x92 resets are soft: only the
 * CPU, but the board may treat both alike as QEMU does); a20(opaque, on) follows bit 1 of
 * port 0x92 (the board ORs/merges it with the keyboard controller's A20 output). Call
 * hg_resetctl_reset on every system reset.
 */
#pragma once

#include <stdbool.h>

typedef struct HgBus HgBus;
typedef struct HgResetCtl HgResetCtl;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef void (*HgResetRequest)(void *opaque, bool hard);
typedef void (*HgA20Set)(void *opaque, bool on);

HgResetCtl *hg_resetctl_new(HgBus *bus, HgResetRequest reset, HgA20Set a20, void *opaque);
void hg_resetctl_free(HgResetCtl *rc);
void hg_resetctl_reset(HgResetCtl *rc);
/* The A20 state port 0x92 reports (bit 1), for a board that changes A20 elsewhere. */
void hg_resetctl_set_a20(HgResetCtl *rc, bool on);
void hg_resetctl_save(const HgResetCtl *rc, HgStateWriter *w);
void hg_resetctl_load(HgResetCtl *rc, HgStateReader *r);
