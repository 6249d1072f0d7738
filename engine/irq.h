/* Interrupt request lines between devices and interrupt controllers: a value type naming
 * the receiver's input, so a device model holds an HgIrq and never knows what is behind it
 * (a PIC pin, an IOAPIC pin, PCI INTx routing through the PIIX3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef void (*HgIrqSet)(void *opaque, int n, bool level);

typedef struct HgIrq {
    HgIrqSet set;
    void *opaque;
    int n;
} HgIrq;

static inline HgIrq hg_irq(HgIrqSet set, void *opaque, int n)
{
    HgIrq irq = {set, opaque, n};
    return irq;
}

/* Drives the line; a line with no receiver is ignored. */
static inline void hg_irq_set(const HgIrq *irq, bool level)
{
    if (irq->set)
        irq->set(irq->opaque, irq->n, level);
}

static inline void hg_irq_raise(const HgIrq *irq)
{
    hg_irq_set(irq, true);
}

static inline void hg_irq_lower(const HgIrq *irq)
{
    hg_irq_set(irq, false);
}

/* An edge for edge-triggered inputs. */
static inline void hg_irq_pulse(const HgIrq *irq)
{
    hg_irq_set(irq, true);
    hg_irq_set(irq, false);
}
