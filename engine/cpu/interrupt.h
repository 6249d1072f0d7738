/* Interrupt and exception delivery (interrupt.c): real mode through the IVT,
 * protected mode through IDT interrupt, trap and task gates with privilege changes,
 * V86 mode, error codes, double and triple faults (Intel SDM Vol. 3A chapter 6). */
#pragma once

#include "cpu.h"

typedef enum HgIntKind {
    INT_EXCEPTION, /* processor exception (fault, trap or abort) */
    INT_SOFTWARE,  /* INT n: gate DPL checked against CPL; IOPL-sensitive in V86 */
    INT_SOFT_EXC,  /* INT3 and INTO: gate DPL checked, not IOPL-sensitive */
    INT_ICEBP,     /* INT1 (F1): delivered like a hardware #DB */
    INT_HARDWARE,  /* INTR line, NMI */
} HgIntKind;

/* Delivers vector; cpu->eip must already be the return address (the faulting
 * instruction for faults, the next one for traps and INT n). error_code < 0: none.
 * Faults during delivery are raised with hg_raise and combined by the loop. */
void hg_cpu_interrupt(HgCpu *cpu, int vector, HgIntKind kind, int error_code);
/* Delivers an exception raised by hg_raise, turning a second fault during delivery
 * into #DF and a fault while delivering #DF into a shutdown (triple fault): then it
 * calls the shutdown hook and returns false. */
bool hg_cpu_exception(HgCpu *cpu, int vector, int error_code);
/* Protected-mode and V86 delivery through the IDT. */
void hg_cpu_interrupt_prot(HgCpu *cpu, int vector, HgIntKind kind, int error_code);
