/* The execution loop: finds or translates the block at CS:EIP, runs its ops through
 * the threaded dispatcher, and between blocks takes interrupts, honours the interrupt
 * shadow, single-step traps and exit requests. Exceptions unwind here with longjmp
 * from hg_raise and are delivered with the faulting instruction's EIP.
 */
#include <glib.h>

#include "interrupt.h"
#include "ops.h"
#include "tbcache.h"

_Noreturn void hg_raise(HgCpu *cpu, int vector, int error_code)
{
    if (cpu->cur_op)
        cpu->eip = cpu->cur_op->eip;
    cpu->exc_vector = vector;
    cpu->exc_error = error_code;
    longjmp(*cpu->fault_jmp, 1);
}

void hg_cpu_kick(HgCpu *cpu)
{
    __atomic_store_n(&cpu->exit_request, 1, __ATOMIC_RELEASE);
}

void hg_cpu_set_intr(HgCpu *cpu, bool level)
{
    cpu->intr_line = level;
}

void hg_cpu_raise_nmi(HgCpu *cpu)
{
    cpu->nmi_pending = true;
}

/* Retires the instructions of the current block that completed before a fault. */
static void account_partial(HgCpu *cpu)
{
    HgTb *tb = cpu->cur_tb;
    if (tb && cpu->cur_op) {
        int64_t done = cpu->cur_op - tb->ops;
        cpu->budget -= done;
        cpu->icount += (uint64_t)done;
    }
    cpu->cur_op = NULL;
    if (tb && !tb->cached)
        g_free(tb);
    cpu->cur_tb = NULL;
}

/* Takes a pending NMI or maskable interrupt; true when one was delivered. */
static bool take_interrupt(HgCpu *cpu)
{
    if (cpu->nmi_pending && !cpu->nmi_blocked) {
        cpu->nmi_pending = false;
        cpu->nmi_blocked = true;
        cpu->halted = false;
        hg_cpu_interrupt(cpu, EX_NMI, INT_HARDWARE, -1);
        return true;
    }
    if (cpu->intr_line && (cpu->eflags & FL_IF) && cpu->hooks.intr_ack) {
        uint8_t vector = cpu->hooks.intr_ack(cpu->hooks.opaque);
        cpu->halted = false;
        hg_cpu_interrupt(cpu, vector, INT_HARDWARE, -1);
        return true;
    }
    return false;
}

HgExitReason hg_cpu_run(HgCpu *cpu, int64_t budget)
{
    jmp_buf jb;
    jmp_buf *saved = cpu->fault_jmp;
    HgExitReason reason;

    cpu->fault_jmp = &jb;
    cpu->budget = budget;
    if (setjmp(jb)) {
        /* An exception unwound from an op, a translation or a delivery. */
        account_partial(cpu);
        if (!hg_cpu_exception(cpu, cpu->exc_vector, cpu->exc_error)) {
            reason = HG_EXIT_SHUTDOWN;
            goto out;
        }
    }
    for (;;) {
        hg_tb_collect(cpu->tbs);
        if (__atomic_load_n(&cpu->exit_request, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_RELAXED);
            reason = HG_EXIT_REQUEST;
            break;
        }
        if (cpu->irq_shadow)
            cpu->irq_shadow = false;
        else if ((cpu->nmi_pending || cpu->intr_line) && take_interrupt(cpu))
            continue;
        if (cpu->halted) {
            reason = HG_EXIT_HALT;
            break;
        }
        if (cpu->budget <= 0) {
            reason = HG_EXIT_BUDGET;
            break;
        }
        bool single_step = cpu->eflags & FL_TF;
        HgTb *tb = hg_tb_find(cpu->tbs);
        cpu->cur_tb = tb;
        const HgOp *op = tb->ops;
        do {
            cpu->cur_op = op;
            op = op->fn(cpu, op);
        } while (op);
        cpu->cur_op = NULL;
        cpu->cur_tb = NULL;
        cpu->budget -= tb->n_insns;
        cpu->icount += tb->n_insns;
        if (!tb->cached)
            g_free(tb);
        if (single_step) {
            /* TF was set when the instruction began: single-step trap (SDM 17.3.1.4). */
            cpu->dr[6] |= 1u << 14;
            hg_cpu_interrupt(cpu, EX_DB, INT_EXCEPTION, -1);
        }
    }
out:
    hg_tb_collect(cpu->tbs);
    cpu->fault_jmp = saved;
    return reason;
}
