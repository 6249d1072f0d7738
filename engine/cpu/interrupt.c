/* Interrupt and exception delivery and the instructions around it: INT n, INT3, INTO,
 * INT1 and IRET (Intel SDM Vol. 3A chapter 6: 6.10-6.14 IDT gates, privilege changes and
 * error codes, 6.15 exception classes; 7.3 task gates; 20.1.4 real-address mode and 20.3
 * V86 mode interrupt handling).
 */
#include "interrupt.h"

#include "insn.h"
#include "seg.h"

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
    /* A stack fault on the second or third push leaves SP as it was. */
    HgSegTxn t;
    HG_TXN_BEGIN(cpu, &t);
    hg_push(cpu, flags, 2);
    hg_push(cpu, cpu->seg[S_CS].sel, 2);
    hg_push(cpu, cpu->eip, 2);
    hg_txn_end(cpu, &t);
    hg_cpu_set_eflags(cpu, 0, FL_IF | FL_TF | FL_AC | FL_RF);
    hg_cpu_load_seg_real(cpu, S_CS, (uint16_t)(entry >> 16));
    cpu->eip = entry & 0xffff;
}

void hg_cpu_interrupt(HgCpu *cpu, int vector, HgIntKind kind, int error_code)
{
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

/* ---- protected-mode and V86 delivery through the IDT ---- */

static inline bool soft_kind(HgIntKind kind)
{
    return kind == INT_SOFTWARE || kind == INT_SOFT_EXC;
}

void hg_cpu_interrupt_prot(HgCpu *cpu, int vector, HgIntKind kind, int error_code)
{
    /* EXT marks error codes of faults met while delivering an event the program did not
     * request itself: hardware interrupts, exceptions and INT1. */
    int ext = soft_kind(kind) ? 0 : 1;
    int idt_err = vector * 8 + 2 + ext;
    bool vm86 = cpu->eflags & FL_VM;
    if ((uint32_t)vector * 8 + 7 > cpu->idtr_limit)
        hg_raise_gp(cpu, idt_err);
    HgDesc g;
    g.addr = cpu->idtr_base + (uint32_t)vector * 8;
    g.lo = hg_lin_read_sys(cpu, g.addr, 4);
    g.hi = hg_lin_read_sys(cpu, g.addr + 4, 4);
    unsigned type = hg_desc_type(&g);
    if (!hg_desc_is_system(&g) ||
        !(type == SYS_TASK_GATE || type == SYS_INT16 || type == SYS_TRAP16 ||
          type == SYS_INT32 || type == SYS_TRAP32))
        hg_raise_gp(cpu, idt_err);
    /* Software interrupts may only use gates their privilege level can reach. */
    if (soft_kind(kind) && hg_desc_dpl(&g) < (unsigned)cpu->cpl)
        hg_raise_gp(cpu, idt_err);
    if (!hg_desc_present(&g))
        hg_raise(cpu, EX_NP, idt_err);
    uint16_t csel = (uint16_t)(g.lo >> 16);
    if (type == SYS_TASK_GATE) {
        hg_task_switch(cpu, csel, TASK_INT, cpu->eip, error_code);
        return;
    }
    bool g32 = type & 8;
    int size = g32 ? 4 : 2;
    uint32_t off = g32 ? (g.lo & 0xffff) | (g.hi & 0xffff0000u) : (g.lo & 0xffff);

    HgDesc cd;
    int cerr = (csel & 0xfffc) | ext;
    if ((csel & 0xfffc) == 0)
        hg_raise_gp(cpu, ext);
    if (!hg_desc_read(cpu, csel, &cd) || hg_desc_is_system(&cd) || !(cd.hi & DESC_CODE) ||
        hg_desc_dpl(&cd) > (unsigned)cpu->cpl)
        hg_raise_gp(cpu, cerr);
    if (!hg_desc_present(&cd))
        hg_raise(cpu, EX_NP, cerr);
    unsigned dpl = hg_desc_dpl(&cd);
    bool inner = !(cd.hi & DESC_C) && dpl < (unsigned)cpu->cpl;
    /* From V86 mode the handler must run at ring 0 on a fresh stack (SDM 20.3.1.1). */
    if (vm86 && (!inner || dpl != 0))
        hg_raise_gp(cpu, cerr);
    if (off > hg_desc_limit(&cd))
        hg_raise_gp(cpu, ext);

    uint32_t flags = hg_cpu_get_eflags(cpu);
    uint16_t old_cs = cpu->seg[S_CS].sel, old_ss = cpu->seg[S_SS].sel;
    uint32_t old_esp = cpu->regs[R_ESP], eip = cpu->eip;
    unsigned words = 3 + (error_code >= 0);
    HgSegTxn t;
    if (inner) {
        uint16_t ss_sel;
        uint32_t new_esp;
        HgDesc sd;
        hg_tss_stack(cpu, dpl, ext, &ss_sel, &new_esp);
        hg_check_stack_seg(cpu, ss_sel, dpl, EX_TS, ext, &sd);
        HG_TXN_BEGIN(cpu, &t);
        hg_desc_set_accessed(cpu, &sd);
        cpu->eflags &= ~FL_VM;
        cpu->cpl = (int)dpl;
        hg_seg_set(cpu, S_SS, ss_sel, &sd);
        cpu->regs[R_ESP] = new_esp;
        words += 2 + (vm86 ? 4 : 0);
        if (!hg_stack_room(cpu, new_esp, words * (uint32_t)size))
            hg_raise(cpu, EX_SS, (ss_sel & 0xfffc) | ext);
        if (vm86) {
            static const int vsegs[] = {S_GS, S_FS, S_DS, S_ES};
            for (unsigned i = 0; i < 4; i++) {
                hg_push(cpu, cpu->seg[vsegs[i]].sel, size);
                hg_seg_set_null(cpu, vsegs[i], 0);
            }
        }
        hg_push(cpu, old_ss, size);
        hg_push(cpu, old_esp, size);
    } else {
        HG_TXN_BEGIN(cpu, &t);
        if (!hg_stack_room(cpu, old_esp, words * (uint32_t)size))
            hg_raise(cpu, EX_SS, ext);
    }
    hg_push(cpu, flags, size);
    hg_push(cpu, old_cs, size);
    hg_push(cpu, eip, size);
    if (error_code >= 0)
        hg_push(cpu, (uint32_t)error_code, size);
    hg_desc_set_accessed(cpu, &cd);
    hg_seg_set(cpu, S_CS, (uint16_t)((csel & 0xfffc) | (unsigned)cpu->cpl), &cd);
    uint32_t clear = FL_TF | FL_NT | FL_RF | FL_VM;
    if (!(type & 1))
        clear |= FL_IF; /* interrupt gates, not trap gates */
    hg_cpu_set_eflags(cpu, 0, clear);
    hg_txn_end(cpu, &t);
    cpu->eip = off;
}

/* ---- INT n, INT3, INTO, INT1 ---- */

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

static inline uint32_t iopl(const HgCpu *cpu)
{
    return (cpu->eflags & FL_IOPL) >> 12;
}

/* INT n and its one-byte forms are traps: the return address is the next instruction. */
static inline const HgOp *soft_int(HgCpu *cpu, const HgOp *op, int vector, HgIntKind kind)
{
    cpu->eip = hg_op_next_eip(op);
    hg_cpu_interrupt(cpu, vector, kind, -1);
    return NULL;
}

H(int_ib) {
    /* INT n in V86 mode is IOPL-sensitive (no VME here): #GP(0) below IOPL 3. */
    if ((cpu->eflags & FL_VM) && iopl(cpu) < 3)
        hg_raise_gp(cpu, 0);
    return soft_int(cpu, op, op->imm & 0xff, INT_SOFTWARE);
}
H(int3) { return soft_int(cpu, op, EX_BP, INT_SOFT_EXC); }
H(into) {
    if (!(hg_cc_compute(cpu) & FL_OF))
        return hg_jump(cpu, hg_op_next_eip(op));
    return soft_int(cpu, op, EX_OF, INT_SOFT_EXC);
}
H(int1) { return soft_int(cpu, op, EX_DB, INT_ICEBP); }
const HgOpImpl hg_impl_INT_Ib = {int_ib, int_ib, NULL, NULL};
const HgOpImpl hg_impl_INT3 = {int3, int3, NULL, NULL};
const HgOpImpl hg_impl_INTO = {into, into, NULL, NULL};
const HgOpImpl hg_impl_INT1 = {int1, int1, NULL, NULL};

/* ---- IRET ---- */

/* EFLAGS bits IRET and POPF may always change, and the privileged ones. */
#define FL_USER_CHANGE                                                                      \
    (FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID)

static const HgOp *iret_real(HgCpu *cpu, int size, bool vm86)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t eip = hg_read(cpu, S_SS, sp, size);
    uint16_t cs = (uint16_t)hg_read(cpu, S_SS, (sp + size) & mask, size);
    uint32_t fl = hg_read(cpu, S_SS, (sp + 2 * size) & mask, size);
    if (size == 2)
        eip &= 0xffff;
    if (eip > cpu->seg[S_CS].limit)
        hg_raise_gp(cpu, 0);
    uint32_t change = size == 4 ? FL_USER_CHANGE | FL_IF | FL_IOPL : 0xffffu;
    if (vm86)
        change &= ~(uint32_t)FL_IOPL;
    hg_cpu_load_seg_real(cpu, S_CS, cs);
    hg_set_sp(cpu, sp + 3 * size);
    hg_cpu_set_eflags(cpu, fl, change);
    cpu->nmi_blocked = false;
    return hg_jump(cpu, eip);
}

/* IRET from ring 0 to V86 mode (SDM 20.3.1.3): the frame holds ESP, SS, ES, DS, FS, GS
 * after EFLAGS. */
static const HgOp *iret_to_vm86(HgCpu *cpu, uint32_t sp, uint32_t eip, uint16_t cs, uint32_t fl)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t v[6];
    for (int i = 0; i < 6; i++)
        v[i] = hg_read(cpu, S_SS, (sp + 12 + 4 * i) & mask, 4);
    hg_cpu_set_eflags(cpu, fl, 0xffffffffu);
    hg_cpu_load_seg_real(cpu, S_CS, cs);
    hg_cpu_load_seg_real(cpu, S_SS, (uint16_t)v[1]);
    hg_cpu_load_seg_real(cpu, S_ES, (uint16_t)v[2]);
    hg_cpu_load_seg_real(cpu, S_DS, (uint16_t)v[3]);
    hg_cpu_load_seg_real(cpu, S_FS, (uint16_t)v[4]);
    hg_cpu_load_seg_real(cpu, S_GS, (uint16_t)v[5]);
    cpu->regs[R_ESP] = v[0];
    cpu->nmi_blocked = false;
    return hg_jump(cpu, eip & 0xffff);
}

static const HgOp *iret(HgCpu *cpu, const HgOp *op, int size)
{
    if (!(cpu->cr0 & CR0_PE))
        return iret_real(cpu, size, false);
    if (cpu->eflags & FL_VM) {
        if (iopl(cpu) < 3)
            hg_raise_gp(cpu, 0);
        return iret_real(cpu, size, true);
    }
    if (cpu->eflags & FL_NT) {
        /* Return to the task named by the back link of the current TSS. */
        uint16_t link = (uint16_t)hg_lin_read_sys(cpu, cpu->seg[S_TR].base, 2);
        hg_task_switch(cpu, link, TASK_IRET, hg_op_next_eip(op), -1);
        cpu->nmi_blocked = false;
        return hg_jump(cpu, cpu->eip);
    }
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t eip = hg_read(cpu, S_SS, sp, size);
    uint16_t sel = (uint16_t)hg_read(cpu, S_SS, (sp + size) & mask, size);
    uint32_t fl = hg_read(cpu, S_SS, (sp + 2 * size) & mask, size);
    if (size == 2)
        eip &= 0xffff;
    if (size == 4 && (fl & FL_VM) && cpu->cpl == 0)
        return iret_to_vm86(cpu, sp, eip, sel, fl);

    uint32_t change = FL_USER_CHANGE;
    if ((uint32_t)cpu->cpl <= iopl(cpu))
        change |= FL_IF;
    if (cpu->cpl == 0)
        change |= FL_IOPL | FL_VIF | FL_VIP;
    if (size == 2)
        change &= 0xffff;

    HgDesc cd;
    hg_check_return_cs(cpu, sel, &cd);
    unsigned rpl = sel & 3;
    if (rpl == (unsigned)cpu->cpl) {
        if (eip > hg_desc_limit(&cd))
            hg_raise_gp(cpu, 0);
        hg_desc_set_accessed(cpu, &cd);
        hg_seg_set(cpu, S_CS, sel, &cd);
        hg_set_sp(cpu, sp + 3 * size);
        hg_cpu_set_eflags(cpu, fl, change);
        cpu->nmi_blocked = false;
        return hg_jump(cpu, eip);
    }
    /* Return to an outer level: SS:ESP of the interrupted code follow EFLAGS. */
    uint32_t new_esp = hg_read(cpu, S_SS, (sp + 3 * size) & mask, size);
    uint16_t ss_sel = (uint16_t)hg_read(cpu, S_SS, (sp + 4 * size) & mask, size);
    HgDesc sd;
    if ((ss_sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    hg_check_stack_seg(cpu, ss_sel, rpl, EX_GP, 0, &sd);
    if (eip > hg_desc_limit(&cd))
        hg_raise_gp(cpu, 0);
    hg_desc_set_accessed(cpu, &cd);
    hg_desc_set_accessed(cpu, &sd);
    hg_cpu_set_eflags(cpu, fl, change);
    cpu->cpl = (int)rpl;
    hg_seg_set(cpu, S_CS, sel, &cd);
    hg_seg_set(cpu, S_SS, ss_sel, &sd);
    if (size == 2)
        new_esp &= 0xffff;
    hg_set_sp(cpu, new_esp);
    hg_null_inaccessible_segs(cpu);
    cpu->nmi_blocked = false;
    return hg_jump(cpu, eip);
}
H(iret_w) { return iret(cpu, op, 2); }
H(iret_d) { return iret(cpu, op, 4); }
const HgOpImpl hg_impl_IRET = {iret_w, iret_d, NULL, NULL};

/* ---- flag instructions: PUSHF, POPF, CLI, STI (SDM Vol. 2, 20.2.7 for V86) ---- */

H(pushf_w) {
    if ((cpu->eflags & FL_VM) && iopl(cpu) < 3)
        hg_raise_gp(cpu, 0);
    hg_push(cpu, hg_cpu_get_eflags(cpu) & 0xffff, 2);
    return op + 1;
}
H(pushf_d) {
    if ((cpu->eflags & FL_VM) && iopl(cpu) < 3)
        hg_raise_gp(cpu, 0);
    /* VM and RF read as zero in the pushed image. */
    hg_push(cpu, hg_cpu_get_eflags(cpu) & 0x00fcffffu, 4);
    return op + 1;
}
const HgOpImpl hg_impl_PUSHF = {pushf_w, pushf_d, NULL, NULL};

static inline const HgOp *popf(HgCpu *cpu, const HgOp *op, int size)
{
    bool vm86 = cpu->eflags & FL_VM;
    if (vm86 && iopl(cpu) < 3)
        hg_raise_gp(cpu, 0);
    uint32_t v = hg_pop(cpu, size);
    /* Real mode behaves as CPL 0. RF is cleared by a 32-bit POPF. */
    int cpl = (cpu->cr0 & CR0_PE) ? cpu->cpl : 0;
    uint32_t change = FL_USER_CHANGE;
    if (!vm86 && cpl == 0)
        change |= FL_IOPL;
    if (vm86 || (uint32_t)cpl <= iopl(cpu))
        change |= FL_IF;
    if (size == 2)
        change &= 0xffff;
    else
        v &= ~(uint32_t)FL_RF;
    hg_cpu_set_eflags(cpu, v, change);
    return hg_end_block(cpu, op);
}
H(popf_w) { return popf(cpu, op, 2); }
H(popf_d) { return popf(cpu, op, 4); }
const HgOpImpl hg_impl_POPF = {popf_w, popf_d, NULL, NULL};

/* CLI/STI: IOPL-sensitive in protected and V86 mode (VME and PVI are not offered). */
static inline void check_iopl(HgCpu *cpu)
{
    if ((cpu->cr0 & CR0_PE) && (uint32_t)cpu->cpl > iopl(cpu))
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
