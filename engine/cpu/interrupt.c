/* Interrupt and exception delivery (Intel SDM Vol. 3A chapter 6; real mode: 20.1.4).
 */
#include "interrupt.h"

#include "ops.h"

/* Exception classes for the double-fault rules (SDM table 6-5). */
static bool contributory(int v)
{
    return v == EX_DE || (v >= EX_TS && v <= EX_GP);
}

static void deliver_real(HgCpu *cpu, int vector)
{
    uint32_t ivt = cpu->idtr_base + (uint32_t)vector * 4;
    if ((uint32_t)vector * 4 + 3 > cpu->idtr_limit)
        hg_raise(cpu, EX_GP, vector * 8 + 2);
    uint32_t entry = hg_lin_read_sys(cpu, ivt, 4);
    uint32_t flags = hg_cpu_get_eflags(cpu);
    hg_push(cpu, flags, 2);
    hg_push(cpu, cpu->seg[S_CS].sel, 2);
    hg_push(cpu, cpu->eip, 2);
    hg_cpu_set_eflags(cpu, 0, FL_IF | FL_TF | FL_AC | FL_RF);
    hg_cpu_load_seg_real(cpu, S_CS, (uint16_t)(entry >> 16));
    cpu->eip = entry & 0xffff;
}

void hg_cpu_interrupt(HgCpu *cpu, int vector, HgIntKind kind, int error_code)
{
    (void)kind;
    (void)error_code;
    cpu->halted = false;
    if (!(cpu->cr0 & CR0_PE)) {
        deliver_real(cpu, vector);
        return;
    }
    hg_cpu_interrupt_prot(cpu, vector, kind, error_code);
}

bool hg_cpu_exception(HgCpu *cpu, int vector, int error_code)
{
    int first = cpu->delivering;
    if (first >= 0) {
        if (first == EX_DF) {
            cpu->delivering = -1;
            if (cpu->hooks.shutdown)
                cpu->hooks.shutdown(cpu->hooks.opaque);
            return false;
        }
        bool df = (contributory(first) && contributory(vector)) ||
                  (first == EX_PF && (contributory(vector) || vector == EX_PF));
        if (df) {
            vector = EX_DF;
            error_code = 0;
        }
    }
    cpu->delivering = vector;
    hg_cpu_interrupt(cpu, vector, INT_EXCEPTION, error_code);
    cpu->delivering = -1;
    return true;
}
