/* The execution loop: finds or translates the block at CS:EIP, runs its ops through
 * the threaded dispatcher, and between blocks takes interrupts, honours the interrupt
 * shadow, single-step traps and exit requests. Exceptions unwind here with longjmp
 * from hg_raise and are delivered with the faulting instruction's EIP.
 *
 * Debug facilities follow the Intel SDM Vol. 3A chapter 17: TF single-step traps,
 * instruction breakpoints (faults before the instruction, suppressed by RF) and data
 * breakpoints (traps after the access) from DR0-DR7, and the T-bit trap of a task
 * switch. Whenever TF or a breakpoint is enabled, blocks hold one instruction
 * (MODE_SINGLE), so every check here happens between instructions.
 *
 * Speed: handlers fall through to the next op by tail calls (hg_next), and a block
 * that leaves through its chaining exit (a near branch, or its end) goes straight to
 * a linked successor, from the branch handler itself (hg_tb_branch_exit) or from
 * run_blocks, as long as nothing is pending. Everything that needs the checks above
 * either ends a block through another exit (mode, flag and CS changes, HLT, shadows,
 * far transfers, I/O) or sets cpu->async_pending (exit requests, NMI, INTR, data and
 * I/O breakpoint hits).
 */
#include <glib.h>

#include "insn.h"
#include "interrupt.h"
#include "mmu.h"
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
    __atomic_store_n(&cpu->async_pending, 1, __ATOMIC_RELEASE);
}

void hg_cpu_set_intr(HgCpu *cpu, bool level)
{
    cpu->intr_line = level;
    if (level)
        __atomic_store_n(&cpu->async_pending, 1, __ATOMIC_RELAXED);
}

void hg_cpu_raise_nmi(HgCpu *cpu)
{
    cpu->nmi_pending = true;
    __atomic_store_n(&cpu->async_pending, 1, __ATOMIC_RELAXED);
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

/* ---- debug registers ---- */

/* DR7 fields of breakpoint n: L/G enables, R/W (00 execute, 01 write, 10 I/O, 11 read
 * or write) and LEN (00 one byte, 01 two, 11 four). */
static inline bool bp_enabled(const HgCpu *cpu, int n)
{
    return (cpu->dr[7] >> (2 * n)) & 3;
}
static inline unsigned bp_rw(const HgCpu *cpu, int n)
{
    return (cpu->dr[7] >> (16 + 4 * n)) & 3;
}
static inline uint32_t bp_len(const HgCpu *cpu, int n)
{
    static const uint8_t len[4] = {1, 2, 4, 4}; /* 10 is undefined on a P6 */
    return len[(cpu->dr[7] >> (18 + 4 * n)) & 3];
}
/* First byte a breakpoint covers: the address is aligned down to its length. */
static inline uint32_t bp_addr(const HgCpu *cpu, int n)
{
    return cpu->dr[n] & ~(bp_len(cpu, n) - 1);
}

void hg_debug_regs_changed(HgCpu *cpu)
{
    uint32_t data = 0, io = 0;
    for (int n = 0; n < 4; n++) {
        unsigned rw = bp_rw(cpu, n);
        if (bp_enabled(cpu, n) && (rw == 1 || rw == 3))
            data |= 1u << n;
        if (bp_enabled(cpu, n) && rw == 2)
            io |= 1u << n;
    }
    bool flush = data || cpu->dbg_data_bps;
    cpu->dbg_data_bps = data;
    cpu->dbg_io_bps = io;
    hg_cpu_update_mode(cpu);
    if (flush)
        hg_tlb_flush(cpu, false);
}

bool hg_debug_page_watched(const HgCpu *cpu, uint32_t page)
{
    for (int n = 0; n < 4; n++) {
        if (!(cpu->dbg_data_bps & (1u << n)))
            continue;
        uint32_t a = bp_addr(cpu, n);
        if ((a & ~0xfffu) == page || ((a + bp_len(cpu, n) - 1) & ~0xfffu) == page)
            return true;
    }
    return false;
}

void hg_debug_check_data(HgCpu *cpu, uint32_t lin, int size, bool write)
{
    for (int n = 0; n < 4; n++) {
        if (!(cpu->dbg_data_bps & (1u << n)) || (!write && bp_rw(cpu, n) == 1))
            continue;
        uint32_t a = bp_addr(cpu, n);
        if (lin - a < bp_len(cpu, n) || a - lin < (uint32_t)size) {
            cpu->dbg_pending |= 1u << n;
            cpu->async_pending = 1; /* the trap is taken after this instruction */
        }
    }
}

void hg_debug_check_io(HgCpu *cpu, uint16_t port, int size)
{
    /* R/W = 10 means I/O only with CR4.DE; without it the encoding is undefined and
     * nothing is reported. */
    if (!(cpu->cr4 & CR4_DE))
        return;
    for (int n = 0; n < 4; n++) {
        if (!(cpu->dbg_io_bps & (1u << n)))
            continue;
        uint32_t a = bp_addr(cpu, n) & 0xffff;
        if ((uint32_t)port - a < bp_len(cpu, n) || a - port < (uint32_t)size) {
            cpu->dbg_pending |= 1u << n;
            cpu->async_pending = 1;
        }
    }
}

/* Instruction breakpoints matching the next instruction (a fault: nothing executed). */
static uint32_t exec_breakpoints(HgCpu *cpu)
{
    uint32_t hit = 0;
    uint32_t lin = cpu->seg[S_CS].base + cpu->eip;
    for (int n = 0; n < 4; n++)
        if (bp_enabled(cpu, n) && bp_rw(cpu, n) == 0 && cpu->dr[n] == lin)
            hit |= 1u << n;
    return hit;
}

/* Delivers the pending debug traps as one #DB: B0-B3 report this exception's
 * breakpoints only, the other status bits accumulate (17.2.3). False: triple fault. */
static bool deliver_pending_traps(HgCpu *cpu)
{
    cpu->dr[6] = (cpu->dr[6] & ~0xfu) | cpu->dbg_pending;
    cpu->dbg_pending = 0;
    return hg_cpu_exception(cpu, EX_DB, -1);
}

/* INT n, INT3 and INTO clear TF on the way into their handler, which is not single-
 * stepped and reports no trap for the INT itself (SDM 17.3.1.4). */
static bool is_soft_int(const HgOp *op)
{
    const HgInsnInfo *row = &hg_insn_table[op->insn];
    return row->map == 0 && (row->opc == 0xcc || row->opc == 0xcd || row->opc == 0xce);
}

/* MOV SS and POP SS hold off interrupts and debug traps for one instruction; STI holds
 * off only interrupts. */
static bool loads_ss(const HgOp *op)
{
    const HgInsnInfo *row = &hg_insn_table[op->insn];
    return (row->flags & I_IRQSHADOW) && !(row->map == 0 && row->opc == 0xfb);
}

enum {
    /* Instructions a chain of branch handlers may run before returning to run_blocks:
     * the handlers tail-call each other at -O2, but an unoptimised build really nests
     * the calls, so the depth must stay bounded. */
    CHAIN_INSNS_MAX = 256,
};

/* Runs tb, then block after block while each leaves through its chaining exit and
 * nothing needs the full checks of hg_cpu_run. Returns the last block run (cur_op and
 * cur_tb cleared). Kept out of hg_cpu_run, whose setjmp would keep cpu in memory. */
static __attribute__((noinline)) HgTb *run_blocks(HgCpu *cpu, HgTb *tb, bool single_step)
{
    HgTbCache *c = cpu->tbs;
    for (;;) {
        cpu->cur_tb = tb;
        /* Budget left (> 0) and depth bounded: see CHAIN_INSNS_MAX. */
        c->chain_floor = cpu->budget > CHAIN_INSNS_MAX ? cpu->budget - CHAIN_INSNS_MAX : 0;
        const HgOp *op = tb->ops;
        do {
            cpu->cur_op = op;
            op = op->fn(cpu, op);
        } while (op);
        if (cpu->cur_tb)
            tb = cpu->cur_tb; /* branches may have gone on into linked blocks */
        /* Handlers chain to the next op themselves, so the op that ended the block is
         * the last cur_op; NULL after a task switch (never a chaining exit). */
        const HgOp *cur = cpu->cur_op;
        cpu->budget -= tb->n_insns;
        cpu->icount += tb->n_insns;
        /* Block to block without the checks of hg_cpu_run when the block left through its
         * chaining exit (a near branch or its end: every mode, flag or CS change,
         * HLT, shadow or RF ends a block through another exit) with budget left
         * and nothing in async_pending (exit request, NMI, INTR, a data or I/O
         * breakpoint hit). */
        if (__builtin_expect(cur != tb->chain_op || !cur || single_step || cpu->async_pending ||
                                 cpu->budget <= 0,
                             0))
            break;
        uint32_t eip = cpu->eip;
        HgTb *next;
        if (tb->link_gen == c->link_gen) {
            next = tb->link[0];
            if (next && next->eip == eip && hg_tb_link_ok(c, tb, next))
                goto chained;
            next = tb->link[1];
            if (next && next->eip == eip && hg_tb_link_ok(c, tb, next))
                goto chained;
        } else {
            tb->link[0] = tb->link[1] = NULL;
            tb->link_gen = c->link_gen;
        }
        next = hg_tb_find_fast(c, cpu->seg[S_CS].base, eip, tb->mode);
        if (!next) {
            cpu->cur_op = NULL; /* a fault while translating is not this block's */
            cpu->cur_tb = NULL;
            next = hg_tb_find(c);
            if (!next->cached) {
                tb = next;
                continue; /* runs once; its chain_op is NULL, so it ends the loop */
            }
            if (tb->link_gen != c->link_gen) {
                tb = next; /* the translation invalidated links (or tb itself) */
                continue;
            }
        }
        if (next->cs_base == tb->cs_base && next->mode == tb->mode) {
            /* Keep the last two successors: taken and not taken. */
            tb->link[1] = tb->link[0];
            tb->link[0] = next;
        }
    chained:
        tb = next;
    }
    cpu->cur_op = NULL;
    cpu->cur_tb = NULL;
    return tb;
}

HgExitReason hg_cpu_run(HgCpu *cpu, int64_t budget)
{
    jmp_buf jb;
    jmp_buf *saved = cpu->fault_jmp;
    HgExitReason reason;

    cpu->fault_jmp = &jb;
    cpu->budget = budget;
    if (setjmp(jb)) {
        /* An exception unwound from an op, a translation or a delivery. Traps the
         * faulting instruction had recorded are lost with it. */
        account_partial(cpu);
        cpu->dbg_pending &= DR6_BT;
        hg_cpu_update_mode(cpu); /* drops a MODE_SINGLE forced for a shadow */
        if (!hg_cpu_exception(cpu, cpu->exc_vector, cpu->exc_error)) {
            reason = HG_EXIT_SHUTDOWN;
            goto out;
        }
    }
    for (;;) {
        if (cpu->tbs->graveyard)
            hg_tb_collect(cpu->tbs);
        /* Cleared before the fields it stands for are read, so an event arriving
         * from now on sets it again. */
        __atomic_store_n(&cpu->async_pending, 0, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&cpu->exit_request, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&cpu->exit_request, 0, __ATOMIC_RELAXED);
            reason = HG_EXIT_REQUEST;
            break;
        }
        bool shadow = cpu->irq_shadow;
        if (cpu->dbg_pending && !shadow) {
            /* A trap raised outside an instruction: the T bit of a task switched to by
             * an exception or interrupt, before the new task's first instruction. */
            if (!deliver_pending_traps(cpu)) {
                reason = HG_EXIT_SHUTDOWN;
                break;
            }
            continue;
        }
        if (!shadow && (cpu->nmi_pending || cpu->intr_line) && take_interrupt(cpu))
            continue;
        if (cpu->halted) {
            reason = HG_EXIT_HALT;
            break;
        }
        if (cpu->budget <= 0) {
            reason = HG_EXIT_BUDGET; /* a shadow carries over to the next slice */
            break;
        }
        cpu->irq_shadow = false;
        uint32_t mode = cpu->mode_key;
        if (cpu->eflags & FL_RF) {
            /* RF suppresses instruction breakpoints for one instruction and is cleared
             * once it starts (IRET may set it again). */
            cpu->eflags &= ~FL_RF;
        } else if ((mode & MODE_SINGLE) && (cpu->dr[7] & 0xff)) {
            uint32_t hit = exec_breakpoints(cpu);
            if (hit) {
                cpu->dbg_pending = 0;
                cpu->dr[6] = (cpu->dr[6] & ~0xfu) | hit;
                hg_raise(cpu, EX_DB, -1);
            }
        }
        bool single_step = cpu->eflags & FL_TF;
        /* After STI or MOV SS exactly one instruction runs before interrupts are
         * checked again: that block must hold one instruction. */
        if (shadow)
            cpu->mode_key = mode | MODE_SINGLE;
        HgTb *tb = hg_tb_find(cpu->tbs);
        cpu->mode_key = mode;
        tb = run_blocks(cpu, tb, single_step);
        const HgOp *last = &tb->ops[tb->n_insns - 1];
        if (single_step && !(is_soft_int(last) && !(cpu->eflags & FL_TF)))
            cpu->dbg_pending |= DR6_BS;
        /* Traps of the instruction that just completed: single step, data breakpoints,
         * the T bit (17.3.1.2); a MOV SS defers them by one instruction. */
        bool trap = cpu->dbg_pending && !loads_ss(last);
        if (!tb->cached)
            g_free(tb);
        if (trap && !deliver_pending_traps(cpu)) {
            reason = HG_EXIT_SHUTDOWN;
            break;
        }
    }
out:
    hg_tb_collect(cpu->tbs);
    cpu->fault_jmp = saved;
    return reason;
}
