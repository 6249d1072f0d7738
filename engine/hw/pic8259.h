/* The PC's two cascaded Intel 8259A programmable interrupt controllers (master at
 * 0x20-0x21, slave at 0xA0-0xA1 on the master's IR2) and the PIIX3 edge/level control
 * registers (ELCR, 0x4D0-0x4D1).
 *
 * Board wiring:
 *   HgPic *pic = hg_pic_new(bus, intr_cb, cpu);   intr_cb(cpu, level) -> hg_cpu_set_intr
 *   cpu hooks: intr_ack = hg_pic_intr_ack with opaque = pic (or call hg_pic_ack(pic) from
 *   the board's own hook when an APIC decides between them)
 *   device lines: hg_pic_irq(pic, n) gives an HgIrq for input n (0-15); or pass
 *   hg_pic_irq_set with opaque = pic as an HgIrqSet.
 *   Input 2 is the cascade and is driven internally: a device wired to "IRQ 2" should be
 *   given input 9 (the PC/AT redirects IRQ2 of the ISA bus to IR9 of the slave).
 * The output callback is called only when INTR changes; it is also called once from
 * hg_pic_load with the restored level.
 * Inputs: an edge-sensitive input latches a request on its rising edge (a pulse is
 * enough); a level-sensitive one (ELCR bit set) requests while high. Devices drive the
 * level they have (hg_irq_set) and may call it repeatedly with the same level.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

typedef struct HgBus HgBus;
typedef struct HgPic HgPic;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* INTR output of the master to the CPU. */
typedef void (*HgPicIntr)(void *opaque, bool level);

HgPic *hg_pic_new(HgBus *bus, HgPicIntr intr, void *opaque);
void hg_pic_free(HgPic *p);
/* Hardware reset: both chips wait for ICW1 (masks clear, vectors 0), ELCR all edge. */
void hg_pic_reset(HgPic *p);

/* Drives input irq (0-15; out-of-range values are ignored). */
void hg_pic_set_irq(HgPic *p, int irq, bool level);
/* HgIrqSet adapter: opaque is the HgPic. */
void hg_pic_irq_set(void *opaque, int irq, bool level);
HgIrq hg_pic_irq(HgPic *p, int irq);

/* The CPU's interrupt acknowledge (both INTA cycles): returns the vector and updates
 * ISR/IRR. When no request is pending any more it returns the spurious vector of IR7
 * (master base + 7, or slave base + 7 if the cascade was acknowledged) without setting
 * an ISR bit. */
uint8_t hg_pic_ack(HgPic *p);
/* The same with the signature of HgCpuHooks.intr_ack (opaque is the HgPic). */
uint8_t hg_pic_intr_ack(void *opaque);
/* Current INTR output level. */
bool hg_pic_intr(const HgPic *p);

void hg_pic_save(const HgPic *p, HgStateWriter *w);
void hg_pic_load(HgPic *p, HgStateReader *r);
