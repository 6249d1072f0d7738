/* Intel 82371AB PIIX4 power management function (PCI 00:01.3, 8086:7113 rev 3, class 0680)
 * as QEMU's "pc" machine has it: ACPI PM1a event/control, the ACPI PM timer, GPE0 at
 * 0xAFE0, APM control/status ports 0xB2/0xB3 (ACPI enable/disable commands), and an SMBus
 * host controller with nothing on the bus. Its presence makes SeaBIOS build its own ACPI
 * tables (FADT: PM1a at PMBASE, PM timer at PMBASE+8, GPE0 0xAFE0, SCI 9, SMI_CMD 0xB2).
 *
 * Board wiring: HgPiix4Pm *pm = hg_piix4pm_new(pci, clock, sci, poweroff, opaque), with sci
 * the ISA IRQ 9 input (level-triggered: the board ORs it with other IRQ 9 sources and the
 * ELCR must mark 9 level, which SeaBIOS does for the SCI); poweroff(opaque) is called when
 * the guest enters S5 (or S4) through PM1a_CNT.SLP_EN. The device is created after the
 * PIIX3 (function 0 of slot 1). hg_piix4pm_reset on system reset before hg_pci_reset;
 * hg_piix4pm_load after hg_pci_load (re-maps PMBASE/SMBus and re-arms the timer).
 * SMI is not generated (there is no SMM); DEVACTB.APMC_EN reads as set, as QEMU does
 * without SMM, so SeaBIOS skips its SMM setup.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

typedef struct HgPciBus HgPciBus;
typedef struct HgClock HgClock;
typedef struct HgPiix4Pm HgPiix4Pm;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

typedef void (*HgPowerOff)(void *opaque);

HgPiix4Pm *hg_piix4pm_new(HgPciBus *pci, HgClock *clock, HgIrq sci, HgPowerOff poweroff,
                          void *opaque);
void hg_piix4pm_free(HgPiix4Pm *pm);
void hg_piix4pm_reset(HgPiix4Pm *pm);
/* A press of the power button: sets PWRBTN_STS and raises the SCI if the guest enabled
 * it. Returns true when an ACPI OS is listening (SCI_EN and PWRBTN_EN set); otherwise the
 * board may power off at once, as a real machine does after holding the button. */
bool hg_piix4pm_power_button(HgPiix4Pm *pm);
/* The 24-bit ACPI PM timer value now (3.579545 MHz). */
uint32_t hg_piix4pm_timer(const HgPiix4Pm *pm);
void hg_piix4pm_save(const HgPiix4Pm *pm, HgStateWriter *w);
void hg_piix4pm_load(HgPiix4Pm *pm, HgStateReader *r);
