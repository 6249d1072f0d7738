/* System instructions: HLT, and the segment fault helper. */
#include "insn.h"
#include "interrupt.h"

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

_Noreturn void hg_seg_fault(HgCpu *cpu, int seg)
{
    /* SS-relative accesses fault with #SS, others with #GP; the error code is 0 for
     * limit and type violations (SDM 6.15, interrupts 12 and 13). */
    hg_raise(cpu, seg == S_SS ? EX_SS : EX_GP, 0);
}

H(hlt) {
    if (cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    cpu->halted = true;
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_HLT = {hlt, hlt, NULL, NULL};

void hg_cpu_interrupt_prot(HgCpu *cpu, int vector, HgIntKind kind, int error_code)
{
    (void)vector;
    (void)kind;
    (void)error_code;
    hg_raise(cpu, -1, -1);
}

/* CLI/STI: IOPL-sensitive in protected and V86 mode (VME and PVI are not offered). */
static inline void check_iopl(HgCpu *cpu)
{
    if ((cpu->cr0 & CR0_PE) && (uint32_t)cpu->cpl > ((cpu->eflags & FL_IOPL) >> 12))
        hg_raise_gp(cpu, 0);
}

H(cli) {
    check_iopl(cpu);
    cpu->eflags &= ~FL_IF;
    return op + 1;
}
const HgOpImpl hg_impl_CLI = {cli, cli, NULL, NULL};

H(sti) {
    check_iopl(cpu);
    /* Interrupts stay blocked until after the next instruction when IF was clear. */
    if (!(cpu->eflags & FL_IF))
        cpu->irq_shadow = true;
    cpu->eflags |= FL_IF;
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_STI = {sti, sti, NULL, NULL};
