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
