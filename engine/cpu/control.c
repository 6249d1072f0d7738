/* Near control transfers and the stack: Jcc, JMP, CALL, RET, LOOP/LOOPE/LOOPNE,
 * JCXZ/JECXZ, PUSH, POP, PUSHA, POPA, ENTER, LEAVE and BOUND (Intel SDM Vol. 2).
 * Far transfers, interrupts and the flags register instructions are in system code.
 */
#include "insn.h"
#include "tbcache.h"

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)
/* General form of a handler whose fast form tail-calls it (no stack frame there). */
#define HG(name) static __attribute__((noinline)) const HgOp *name(HgCpu *cpu, const HgOp *op)

/* Flat 32-bit stack fast paths: the host address of the bytes a push of size would
 * write or a pop would read, or NULL when the general form must run (and fault). */
static inline uint8_t *push_ptr(HgCpu *cpu, int size)
{
    if ((cpu->seg[S_SS].flat & 6) != 6)
        return NULL;
    return hg_write_ptr(cpu, S_SS, cpu->regs[R_ESP] - size, size);
}
static inline const uint8_t *pop_ptr(HgCpu *cpu, int size)
{
    if ((cpu->seg[S_SS].flat & 5) != 5)
        return NULL;
    return hg_read_ptr(cpu, S_SS, cpu->regs[R_ESP], size);
}

/* A near branch to eip, which ends the block (hg_tb_branch_exit). */
static inline const HgOp *branch_to(HgCpu *cpu, const HgOp *op, uint32_t eip)
{
    cpu->eip = eip;
    return hg_tb_branch_exit(cpu, op);
}

/* Near branch: the target must lie within the CS limit (#GP(0) at the branch). */
static inline const HgOp *branch(HgCpu *cpu, const HgOp *op, uint32_t target)
{
    const HgSegment *cs = &cpu->seg[S_CS];
    if (target > cs->hi)
        hg_raise_gp(cpu, 0);
    return branch_to(cpu, op, target);
}

H(jcc) {
    if (hg_cc_cond_fast(cpu, op->opcode & 15))
        return branch(cpu, op, op->imm);
    return branch_to(cpu, op, hg_op_next_eip(op));
}
/* One handler per condition (the decoder picks it), so the condition test is
 * specialised at compile time. */
#define JCC_CC(n)                                                                          \
    H(jcc_##n)                                                                             \
    {                                                                                      \
        int taken = hg_cc_cond_try(cpu, n);                                                \
        if (__builtin_expect(taken < 0, 0))                                                \
            return jcc(cpu, op); /* tail call: no frame on the common path */              \
        if (taken)                                                                         \
            return branch(cpu, op, op->imm);                                                   \
        return branch_to(cpu, op, hg_op_next_eip(op));                                  \
    }
JCC_CC(0) JCC_CC(1) JCC_CC(2) JCC_CC(3) JCC_CC(4) JCC_CC(5) JCC_CC(6) JCC_CC(7)
JCC_CC(8) JCC_CC(9) JCC_CC(10) JCC_CC(11) JCC_CC(12) JCC_CC(13) JCC_CC(14) JCC_CC(15)
const HgOpFn hg_jcc_fn[16] = {jcc_0, jcc_1, jcc_2,  jcc_3,  jcc_4,  jcc_5,  jcc_6,  jcc_7,
                              jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15};

const HgOpImpl hg_impl_Jcc_Jb = {jcc, jcc, NULL, NULL};
const HgOpImpl hg_impl_Jcc_Jv = {jcc, jcc, NULL, NULL};

H(jmp_j) { return branch(cpu, op, op->imm); }
const HgOpImpl hg_impl_JMP_J = {jmp_j, jmp_j, NULL, NULL};

H(jmp_ew_r) { return branch(cpu, op, cpu->regs[op->rm] & 0xffff); }
H(jmp_ed_r) { return branch(cpu, op, cpu->regs[op->rm]); }
H(jmp_ew_m) { return branch(cpu, op, hg_read16(cpu, op->seg, hg_ea(cpu, op))); }
H(jmp_ed_m) { return branch(cpu, op, hg_read32(cpu, op->seg, hg_ea(cpu, op))); }
const HgOpImpl hg_impl_JMP_Ev = {jmp_ew_r, jmp_ed_r, jmp_ew_m, jmp_ed_m};

static inline const HgOp *call(HgCpu *cpu, const HgOp *op, uint32_t target, int size)
{
    if (target > cpu->seg[S_CS].hi)
        hg_raise_gp(cpu, 0);
    hg_push(cpu, hg_op_next_eip(op), size);
    return branch_to(cpu, op, target);
}
H(call_jw) { return call(cpu, op, op->imm, 2); }
HG(call_jd_g) { return call(cpu, op, op->imm, 4); }
H(call_jd)
{
    uint8_t *p = push_ptr(cpu, 4);
    if (__builtin_expect(!p || op->imm > cpu->seg[S_CS].hi, 0))
        return call_jd_g(cpu, op);
    hg_host_store(p, hg_op_next_eip(op), 4);
    cpu->regs[R_ESP] -= 4;
    return branch_to(cpu, op, op->imm);
}
const HgOpImpl hg_impl_CALL_Jv = {call_jw, call_jd, NULL, NULL};
H(call_ew_r) { return call(cpu, op, cpu->regs[op->rm] & 0xffff, 2); }
H(call_ed_r) { return call(cpu, op, cpu->regs[op->rm], 4); }
H(call_ew_m) { return call(cpu, op, hg_read16(cpu, op->seg, hg_ea(cpu, op)), 2); }
H(call_ed_m) { return call(cpu, op, hg_read32(cpu, op->seg, hg_ea(cpu, op)), 4); }
const HgOpImpl hg_impl_CALL_Ev = {call_ew_r, call_ed_r, call_ew_m, call_ed_m};

static inline const HgOp *ret(HgCpu *cpu, const HgOp *op, int size, uint32_t extra)
{
    if (extra == 0) {
        /* hg_pop has the flat-stack fast path; the limit check comes before ESP moves. */
        const HgSegment *ss = &cpu->seg[S_SS];
        uint32_t esp = cpu->regs[R_ESP];
        if (__builtin_expect((ss->flat & 5) == 5 && esp <= 0u - (uint32_t)size, 1)) {
            uint32_t target = hg_lin_read(cpu, ss->base + esp, size);
            if (target > cpu->seg[S_CS].hi)
                hg_raise_gp(cpu, 0);
            cpu->regs[R_ESP] = esp + size;
            return branch_to(cpu, op, target);
        }
    }
    uint32_t sp = cpu->regs[R_ESP] & hg_sp_mask(cpu);
    uint32_t target = hg_read(cpu, S_SS, sp, size);
    if (target > cpu->seg[S_CS].hi)
        hg_raise_gp(cpu, 0);
    hg_set_sp(cpu, sp + size + extra);
    return branch_to(cpu, op, target);
}
H(ret_w) { return ret(cpu, op, 2, 0); }
HG(ret_d_g) { return ret(cpu, op, 4, 0); }
H(ret_d)
{
    const uint8_t *p = pop_ptr(cpu, 4);
    if (__builtin_expect(!p, 0))
        return ret_d_g(cpu, op);
    uint32_t target = hg_host_load(p, 4);
    if (__builtin_expect(target > cpu->seg[S_CS].hi, 0))
        return ret_d_g(cpu, op); /* raises #GP(0) with ESP unchanged */
    cpu->regs[R_ESP] += 4;
    return branch_to(cpu, op, target);
}
H(ret_iw_w) { return ret(cpu, op, 2, op->imm & 0xffff); }
H(ret_iw_d) { return ret(cpu, op, 4, op->imm & 0xffff); }
const HgOpImpl hg_impl_RET = {ret_w, ret_d, NULL, NULL};
const HgOpImpl hg_impl_RET_Iw = {ret_iw_w, ret_iw_d, NULL, NULL};

/* LOOP family: the counter is CX or ECX by address size. */
static inline uint32_t dec_count(HgCpu *cpu, const HgOp *op)
{
    if (op->flags & OPF_ADDR16) {
        uint16_t c = (uint16_t)(cpu->regs[R_ECX] - 1);
        hg_set_reg16(cpu, R_ECX, c);
        return c;
    }
    return --cpu->regs[R_ECX];
}
static inline const HgOp *loop_to(HgCpu *cpu, const HgOp *op, bool taken)
{
    return taken ? branch(cpu, op, op->imm) : branch_to(cpu, op, hg_op_next_eip(op));
}
H(loop) { return loop_to(cpu, op, dec_count(cpu, op) != 0); }
H(loope) {
    uint32_t c = dec_count(cpu, op);
    return loop_to(cpu, op, c != 0 && hg_cc_cond(cpu, 4));
}
H(loopne) {
    uint32_t c = dec_count(cpu, op);
    return loop_to(cpu, op, c != 0 && hg_cc_cond(cpu, 5));
}
H(jcxz) {
    uint32_t c = (op->flags & OPF_ADDR16) ? (cpu->regs[R_ECX] & 0xffff) : cpu->regs[R_ECX];
    return loop_to(cpu, op, c == 0);
}
const HgOpImpl hg_impl_LOOP = {loop, loop, NULL, NULL};
const HgOpImpl hg_impl_LOOPE = {loope, loope, NULL, NULL};
const HgOpImpl hg_impl_LOOPNE = {loopne, loopne, NULL, NULL};
const HgOpImpl hg_impl_JCXZ = {jcxz, jcxz, NULL, NULL};

H(push_zw) { hg_push(cpu, cpu->regs[op->reg] & 0xffff, 2); return hg_next(cpu, op); }
HG(push_zd_g) { hg_push(cpu, cpu->regs[op->reg], 4); return hg_next(cpu, op); }
H(push_zd)
{
    uint8_t *p = push_ptr(cpu, 4);
    if (__builtin_expect(!p, 0))
        return push_zd_g(cpu, op);
    hg_host_store(p, cpu->regs[op->reg], 4); /* PUSH ESP stores the old value */
    cpu->regs[R_ESP] -= 4;
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_PUSH_Zv = {push_zw, push_zd, NULL, NULL};
H(pop_zw) { uint32_t v = hg_pop(cpu, 2); hg_set_reg16(cpu, op->reg, (uint16_t)v); return hg_next(cpu, op); }
HG(pop_zd_g) { uint32_t v = hg_pop(cpu, 4); cpu->regs[op->reg] = v; return hg_next(cpu, op); }
H(pop_zd)
{
    const uint8_t *p = pop_ptr(cpu, 4);
    if (__builtin_expect(!p, 0))
        return pop_zd_g(cpu, op);
    uint32_t v = hg_host_load(p, 4);
    cpu->regs[R_ESP] += 4;
    cpu->regs[op->reg] = v; /* POP ESP loads the value read */
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_POP_Zv = {pop_zw, pop_zd, NULL, NULL};
H(push_iw) { hg_push(cpu, op->imm & 0xffff, 2); return hg_next(cpu, op); }
H(push_id) { hg_push(cpu, op->imm, 4); return hg_next(cpu, op); }
const HgOpImpl hg_impl_PUSH_Iv = {push_iw, push_id, NULL, NULL};
H(push_ew_r) { hg_push(cpu, cpu->regs[op->rm] & 0xffff, 2); return hg_next(cpu, op); }
H(push_ed_r) { hg_push(cpu, cpu->regs[op->rm], 4); return hg_next(cpu, op); }
H(push_ew_m) { hg_push(cpu, hg_read16(cpu, op->seg, hg_ea(cpu, op)), 2); return hg_next(cpu, op); }
H(push_ed_m) { hg_push(cpu, hg_read32(cpu, op->seg, hg_ea(cpu, op)), 4); return hg_next(cpu, op); }
const HgOpImpl hg_impl_PUSH_Ev = {push_ew_r, push_ed_r, push_ew_m, push_ed_m};

/* POP Ev: ESP is incremented before the destination address is computed, and the
 * increment is undone if the store faults. */
static inline const HgOp *pop_ev(HgCpu *cpu, const HgOp *op, int size, bool mem)
{
    uint32_t old_esp = cpu->regs[R_ESP];
    uint32_t v = hg_pop(cpu, size);
    if (!mem) {
        if (size == 2)
            hg_set_reg16(cpu, op->rm, (uint16_t)v);
        else
            cpu->regs[op->rm] = v;
        return hg_next(cpu, op);
    }
    uint32_t off = hg_ea(cpu, op);
    uint32_t new_esp = cpu->regs[R_ESP];
    cpu->regs[R_ESP] = old_esp;
    uint32_t lin = hg_seg_check_write(cpu, op->seg, off, size);
    hg_mmu_probe_write(cpu, lin, size);
    cpu->regs[R_ESP] = new_esp;
    hg_lin_write(cpu, lin, v, size);
    return hg_next(cpu, op);
}
H(pop_ew_r) { return pop_ev(cpu, op, 2, false); }
H(pop_ed_r) { return pop_ev(cpu, op, 4, false); }
H(pop_ew_m) { return pop_ev(cpu, op, 2, true); }
H(pop_ed_m) { return pop_ev(cpu, op, 4, true); }
const HgOpImpl hg_impl_POP_Ev = {pop_ew_r, pop_ed_r, pop_ew_m, pop_ed_m};

/* PUSHA/POPA: all stores (loads) are checked before the stack pointer moves. */
static inline const HgOp *pusha(HgCpu *cpu, const HgOp *op, int size)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t vals[8];
    for (int r = 0; r < 8; r++)
        vals[r] = size == 2 ? cpu->regs[r] & 0xffff : cpu->regs[r];
    for (int r = 0; r < 8; r++) {
        sp = (sp - size) & mask;
        hg_seg_check_write(cpu, S_SS, sp, size);
    }
    sp = cpu->regs[R_ESP];
    for (int r = 0; r < 8; r++) {
        sp = (sp - size) & mask;
        hg_write(cpu, S_SS, sp, vals[r], size);
    }
    hg_set_sp(cpu, sp);
    return hg_next(cpu, op);
}
static inline const HgOp *popa(HgCpu *cpu, const HgOp *op, int size)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t vals[8];
    for (int r = 7; r >= 0; r--) {
        vals[r] = hg_read(cpu, S_SS, sp, size);
        sp = (sp + size) & mask;
    }
    for (int r = 0; r < 8; r++) {
        if (r == R_ESP)
            continue;
        if (size == 2)
            hg_set_reg16(cpu, r, (uint16_t)vals[r]);
        else
            cpu->regs[r] = vals[r];
    }
    hg_set_sp(cpu, sp);
    return hg_next(cpu, op);
}
H(pusha_w) { return pusha(cpu, op, 2); }
H(pusha_d) { return pusha(cpu, op, 4); }
H(popa_w) { return popa(cpu, op, 2); }
H(popa_d) { return popa(cpu, op, 4); }
const HgOpImpl hg_impl_PUSHA = {pusha_w, pusha_d, NULL, NULL};
const HgOpImpl hg_impl_POPA = {popa_w, popa_d, NULL, NULL};

/* ENTER size, level (SDM Vol. 2A "ENTER"): level is taken modulo 32. */
static inline const HgOp *enter(HgCpu *cpu, const HgOp *op, int size)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t alloc = op->imm & 0xffff;
    unsigned level = op->imm2 & 31;
    uint32_t sp = cpu->regs[R_ESP];
    uint32_t bp = cpu->regs[R_EBP];
    sp = (sp - size) & mask;
    hg_write(cpu, S_SS, sp, size == 2 ? bp & 0xffff : bp, size);
    uint32_t frame = sp;
    if (level > 0) {
        uint32_t p = bp;
        for (unsigned i = 1; i < level; i++) {
            p = (p - size) & mask;
            uint32_t v = hg_read(cpu, S_SS, p, size);
            sp = (sp - size) & mask;
            hg_write(cpu, S_SS, sp, v, size);
        }
        sp = (sp - size) & mask;
        hg_write(cpu, S_SS, sp, frame, size);
    }
    sp = (sp - alloc) & mask;
    /* The new stack top must be writable (a P6 checks it and faults with #SS). */
    hg_seg_check_write(cpu, S_SS, sp, 1);
    if (size == 2)
        hg_set_reg16(cpu, R_EBP, (uint16_t)frame);
    else if (hg_ss32(cpu))
        cpu->regs[R_EBP] = frame;
    else
        cpu->regs[R_EBP] = (cpu->regs[R_EBP] & 0xffff0000u) | (frame & 0xffff);
    hg_set_sp(cpu, sp);
    return hg_next(cpu, op);
}
H(enter_w) { return enter(cpu, op, 2); }
H(enter_d) { return enter(cpu, op, 4); }
const HgOpImpl hg_impl_ENTER = {enter_w, enter_d, NULL, NULL};

static inline const HgOp *leave(HgCpu *cpu, const HgOp *op, int size)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_EBP] & mask;
    uint32_t v = hg_read(cpu, S_SS, sp, size);
    hg_set_sp(cpu, sp + size);
    if (size == 2)
        hg_set_reg16(cpu, R_EBP, (uint16_t)v);
    else
        cpu->regs[R_EBP] = v;
    return hg_next(cpu, op);
}
H(leave_w) { return leave(cpu, op, 2); }
H(leave_d) { return leave(cpu, op, 4); }
const HgOpImpl hg_impl_LEAVE = {leave_w, leave_d, NULL, NULL};

static inline const HgOp *bound(HgCpu *cpu, const HgOp *op, int size)
{
    uint32_t off = hg_ea(cpu, op);
    int32_t lo, hi, v;
    if (size == 2) {
        lo = (int16_t)hg_read16(cpu, op->seg, off);
        hi = (int16_t)hg_read16(cpu, op->seg, (off + 2) & ((op->flags & OPF_ADDR16) ? 0xffff : ~0u));
        v = (int16_t)cpu->regs[op->reg];
    } else {
        lo = (int32_t)hg_read32(cpu, op->seg, off);
        hi = (int32_t)hg_read32(cpu, op->seg, (off + 4) & ((op->flags & OPF_ADDR16) ? 0xffff : ~0u));
        v = (int32_t)cpu->regs[op->reg];
    }
    if (v < lo || v > hi)
        hg_raise(cpu, EX_BR, -1);
    return hg_next(cpu, op);
}
H(bound_w) { return bound(cpu, op, 2); }
H(bound_d) { return bound(cpu, op, 4); }
const HgOpImpl hg_impl_BOUND = {NULL, NULL, bound_w, bound_d};

/* ---- far transfers (SDM Vol. 2 JMP, CALL, RET; Vol. 3A 5.8 and 7.3) ---- */

#include "seg.h"

/* Real and V86 mode: the offset must lie within the current CS limit. */
static const HgOp *far_jump_real(HgCpu *cpu, uint16_t sel, uint32_t off)
{
    if (off > cpu->seg[S_CS].limit)
        hg_raise_gp(cpu, 0);
    hg_cpu_load_seg_real(cpu, S_CS, sel);
    return hg_jump(cpu, off);
}

/* Checks a code segment that a JMP, CALL or call gate targets at the current CPL
 * (conforming: DPL <= CPL; non-conforming: DPL == CPL, RPL <= CPL unless via a gate). */
static void check_code_target(HgCpu *cpu, uint16_t sel, HgDesc *d, bool via_gate)
{
    int err = sel & 0xfffc;
    if ((sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    if (!hg_desc_read(cpu, sel, d) || hg_desc_is_system(d) || !(d->hi & DESC_CODE))
        hg_raise_gp(cpu, err);
    unsigned dpl = hg_desc_dpl(d), rpl = sel & 3, cpl = (unsigned)cpu->cpl;
    if (d->hi & DESC_C) {
        if (dpl > cpl)
            hg_raise_gp(cpu, err);
    } else if (via_gate ? dpl > cpl : (rpl > cpl || dpl != cpl)) {
        hg_raise_gp(cpu, err);
    }
    if (!hg_desc_present(d))
        hg_raise(cpu, EX_NP, err);
}

/* Loads CS at the current privilege (RPL := CPL) and jumps to off, which must lie
 * within the new segment's limit. */
static const HgOp *enter_code(HgCpu *cpu, uint16_t sel, HgDesc *d, uint32_t off)
{
    if (off > hg_desc_limit(d))
        hg_raise_gp(cpu, 0);
    hg_desc_set_accessed(cpu, d);
    hg_seg_set(cpu, S_CS, (uint16_t)((sel & 0xfffc) | (unsigned)cpu->cpl), d);
    return hg_jump(cpu, off);
}

/* Reads a gate or TSS descriptor named by a far JMP/CALL and checks its DPL against
 * CPL and RPL and its presence. */
static void check_gate(HgCpu *cpu, uint16_t sel, const HgDesc *d)
{
    unsigned dpl = hg_desc_dpl(d);
    if (dpl < (unsigned)cpu->cpl || dpl < (sel & 3u))
        hg_raise_gp(cpu, sel & 0xfffc);
    if (!hg_desc_present(d))
        hg_raise(cpu, EX_NP, sel & 0xfffc);
}

static inline uint16_t gate_selector(const HgDesc *d)
{
    return (uint16_t)(d->lo >> 16);
}
static inline uint32_t gate_offset(const HgDesc *d, bool gate32)
{
    return gate32 ? (d->lo & 0xffff) | (d->hi & 0xffff0000u) : (d->lo & 0xffff);
}

static const HgOp *far_jump(HgCpu *cpu, const HgOp *op, uint16_t sel, uint32_t off)
{
    if (!(cpu->cr0 & CR0_PE) || (cpu->eflags & FL_VM))
        return far_jump_real(cpu, sel, off);
    HgDesc d;
    if ((sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    if (!hg_desc_read(cpu, sel, &d))
        hg_raise_gp(cpu, sel & 0xfffc);
    if (!hg_desc_is_system(&d)) {
        check_code_target(cpu, sel, &d, false);
        return enter_code(cpu, sel, &d, off);
    }
    switch (hg_desc_type(&d)) {
    case SYS_CALL16:
    case SYS_CALL32: {
        check_gate(cpu, sel, &d);
        uint16_t csel = gate_selector(&d);
        uint32_t goff = gate_offset(&d, hg_desc_type(&d) == SYS_CALL32);
        HgDesc cd;
        check_code_target(cpu, csel, &cd, true);
        /* A JMP through a call gate never changes privilege: a non-conforming target
         * must be at CPL exactly. */
        if (!(cd.hi & DESC_C) && hg_desc_dpl(&cd) != (unsigned)cpu->cpl)
            hg_raise_gp(cpu, csel & 0xfffc);
        return enter_code(cpu, csel, &cd, goff);
    }
    case SYS_TASK_GATE:
        check_gate(cpu, sel, &d);
        hg_task_switch(cpu, gate_selector(&d), TASK_JMP, hg_op_next_eip(op), -1);
        return hg_jump(cpu, cpu->eip);
    case SYS_TSS16_AVAIL:
    case SYS_TSS32_AVAIL:
        check_gate(cpu, sel, &d);
        hg_task_switch(cpu, sel, TASK_JMP, hg_op_next_eip(op), -1);
        return hg_jump(cpu, cpu->eip);
    default:
        hg_raise_gp(cpu, sel & 0xfffc);
    }
}

H(jmp_ap_w) { return far_jump(cpu, op, op->imm2, op->imm & 0xffff); }
H(jmp_ap_d) { return far_jump(cpu, op, op->imm2, op->imm); }
const HgOpImpl hg_impl_JMP_Ap = {jmp_ap_w, jmp_ap_d, NULL, NULL};

/* m16:16 / m16:32 far pointer operands: offset first, then the selector. */
static inline uint32_t read_far_ptr(HgCpu *cpu, const HgOp *op, int size, uint16_t *sel)
{
    uint32_t off = hg_ea(cpu, op);
    uint32_t amask = (op->flags & OPF_ADDR16) ? 0xffff : 0xffffffffu;
    uint32_t v = hg_read(cpu, op->seg, off, size);
    *sel = hg_read16(cpu, op->seg, (off + size) & amask);
    return v;
}
H(jmp_ep_w) {
    uint16_t sel;
    uint32_t off = read_far_ptr(cpu, op, 2, &sel);
    return far_jump(cpu, op, sel, off);
}
H(jmp_ep_d) {
    uint16_t sel;
    uint32_t off = read_far_ptr(cpu, op, 4, &sel);
    return far_jump(cpu, op, sel, off);
}
const HgOpImpl hg_impl_JMP_Ep = {NULL, NULL, jmp_ep_w, jmp_ep_d};

/* Pushes two values (CS then EIP) after checking both slots, so a fault leaves the
 * stack pointer and memory as they were. */
static void push_pair(HgCpu *cpu, uint32_t first, uint32_t second, int size)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp1 = (cpu->regs[R_ESP] - size) & mask;
    uint32_t sp2 = (cpu->regs[R_ESP] - 2 * size) & mask;
    uint32_t l1 = hg_seg_check_write(cpu, S_SS, sp1, size);
    uint32_t l2 = hg_seg_check_write(cpu, S_SS, sp2, size);
    hg_mmu_probe_write(cpu, l1, size);
    hg_mmu_probe_write(cpu, l2, size);
    hg_lin_write(cpu, l1, first, size);
    hg_lin_write(cpu, l2, second, size);
    hg_set_sp(cpu, sp2);
}

/* CALL through a call gate to a more privileged non-conforming segment (SDM 5.8.5):
 * the new stack comes from the TSS, the caller's SS:ESP and count parameters are
 * copied onto it, then the return address. */
static const HgOp *call_inner(HgCpu *cpu, const HgOp *op, uint16_t csel, HgDesc *cd,
                              uint32_t off, int size, unsigned count)
{
    unsigned dpl = hg_desc_dpl(cd);
    uint16_t ss_sel;
    uint32_t new_esp;
    HgDesc sd;
    hg_tss_stack(cpu, dpl, 0, &ss_sel, &new_esp);
    hg_check_stack_seg(cpu, ss_sel, dpl, EX_TS, 0, &sd);
    if (off > hg_desc_limit(cd))
        hg_raise_gp(cpu, 0);
    uint32_t params[32];
    uint32_t old_mask = hg_sp_mask(cpu), old_esp = cpu->regs[R_ESP];
    for (unsigned i = 0; i < count; i++)
        params[i] = hg_read(cpu, S_SS, (old_esp + i * size) & old_mask, size);
    uint16_t old_ss = cpu->seg[S_SS].sel, old_cs = cpu->seg[S_CS].sel;

    HgSegTxn t;
    HG_TXN_BEGIN(cpu, &t);
    hg_desc_set_accessed(cpu, &sd);
    cpu->cpl = (int)dpl;
    hg_seg_set(cpu, S_SS, ss_sel, &sd);
    cpu->regs[R_ESP] = new_esp;
    if (!hg_stack_room(cpu, new_esp, (uint32_t)size * (4 + count)))
        hg_raise(cpu, EX_SS, ss_sel & 0xfffc);
    hg_push(cpu, old_ss, size);
    hg_push(cpu, old_esp, size);
    for (unsigned i = count; i-- > 0;)
        hg_push(cpu, params[i], size);
    hg_push(cpu, old_cs, size);
    hg_push(cpu, hg_op_next_eip(op), size);
    hg_desc_set_accessed(cpu, cd);
    hg_seg_set(cpu, S_CS, (uint16_t)((csel & 0xfffc) | dpl), cd);
    hg_txn_end(cpu, &t);
    return hg_jump(cpu, off);
}

static const HgOp *far_call(HgCpu *cpu, const HgOp *op, uint16_t sel, uint32_t off, int size)
{
    uint32_t next = hg_op_next_eip(op);
    if (!(cpu->cr0 & CR0_PE) || (cpu->eflags & FL_VM)) {
        if (off > cpu->seg[S_CS].limit)
            hg_raise_gp(cpu, 0);
        push_pair(cpu, cpu->seg[S_CS].sel, next, size);
        hg_cpu_load_seg_real(cpu, S_CS, sel);
        return hg_jump(cpu, off);
    }
    HgDesc d;
    if ((sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    if (!hg_desc_read(cpu, sel, &d))
        hg_raise_gp(cpu, sel & 0xfffc);
    if (!hg_desc_is_system(&d)) {
        check_code_target(cpu, sel, &d, false);
        if (off > hg_desc_limit(&d))
            hg_raise_gp(cpu, 0);
        /* The accessed bit is written before the pushes so a fault on it leaves ESP. */
        hg_desc_set_accessed(cpu, &d);
        push_pair(cpu, cpu->seg[S_CS].sel, next, size);
        return enter_code(cpu, sel, &d, off);
    }
    switch (hg_desc_type(&d)) {
    case SYS_CALL16:
    case SYS_CALL32: {
        check_gate(cpu, sel, &d);
        bool g32 = hg_desc_type(&d) == SYS_CALL32;
        uint16_t csel = gate_selector(&d);
        uint32_t goff = gate_offset(&d, g32);
        int gsize = g32 ? 4 : 2;
        HgDesc cd;
        check_code_target(cpu, csel, &cd, true);
        if (!(cd.hi & DESC_C) && hg_desc_dpl(&cd) < (unsigned)cpu->cpl)
            return call_inner(cpu, op, csel, &cd, goff, gsize, d.hi & 0x1f);
        if (goff > hg_desc_limit(&cd))
            hg_raise_gp(cpu, 0);
        hg_desc_set_accessed(cpu, &cd);
        push_pair(cpu, cpu->seg[S_CS].sel, next, gsize);
        return enter_code(cpu, csel, &cd, goff);
    }
    case SYS_TASK_GATE:
        check_gate(cpu, sel, &d);
        hg_task_switch(cpu, gate_selector(&d), TASK_CALL, next, -1);
        return hg_jump(cpu, cpu->eip);
    case SYS_TSS16_AVAIL:
    case SYS_TSS32_AVAIL:
        check_gate(cpu, sel, &d);
        hg_task_switch(cpu, sel, TASK_CALL, next, -1);
        return hg_jump(cpu, cpu->eip);
    default:
        hg_raise_gp(cpu, sel & 0xfffc);
    }
}

H(call_ap_w) { return far_call(cpu, op, op->imm2, op->imm & 0xffff, 2); }
H(call_ap_d) { return far_call(cpu, op, op->imm2, op->imm, 4); }
const HgOpImpl hg_impl_CALL_Ap = {call_ap_w, call_ap_d, NULL, NULL};
H(call_ep_w) {
    uint16_t sel;
    uint32_t off = read_far_ptr(cpu, op, 2, &sel);
    return far_call(cpu, op, sel, off, 2);
}
H(call_ep_d) {
    uint16_t sel;
    uint32_t off = read_far_ptr(cpu, op, 4, &sel);
    return far_call(cpu, op, sel, off, 4);
}
const HgOpImpl hg_impl_CALL_Ep = {NULL, NULL, call_ep_w, call_ep_d};

/* Checks the code segment a far return (RETF, IRET) goes back to: RPL >= CPL, and
 * DPL == RPL (non-conforming) or DPL <= RPL (conforming). */
void hg_check_return_cs(HgCpu *cpu, uint16_t sel, HgDesc *d)
{
    int err = sel & 0xfffc;
    if ((sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    if (!hg_desc_read(cpu, sel, d) || hg_desc_is_system(d) || !(d->hi & DESC_CODE))
        hg_raise_gp(cpu, err);
    unsigned rpl = sel & 3, dpl = hg_desc_dpl(d);
    if (rpl < (unsigned)cpu->cpl)
        hg_raise_gp(cpu, err);
    if ((d->hi & DESC_C) ? dpl > rpl : dpl != rpl)
        hg_raise_gp(cpu, err);
    if (!hg_desc_present(d))
        hg_raise(cpu, EX_NP, err);
}

/* RETF [imm16] (SDM Vol. 2 RET, far return; Vol. 3A 5.8.6). */
static const HgOp *far_ret(HgCpu *cpu, int size, uint32_t imm)
{
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & mask;
    uint32_t off = hg_read(cpu, S_SS, sp, size);
    uint16_t sel = (uint16_t)hg_read(cpu, S_SS, (sp + size) & mask, size);
    if (size == 2)
        off &= 0xffff;
    if (!(cpu->cr0 & CR0_PE) || (cpu->eflags & FL_VM)) {
        if (off > cpu->seg[S_CS].limit)
            hg_raise_gp(cpu, 0);
        hg_cpu_load_seg_real(cpu, S_CS, sel);
        hg_set_sp(cpu, sp + 2 * size + imm);
        return hg_jump(cpu, off);
    }
    HgDesc cd;
    hg_check_return_cs(cpu, sel, &cd);
    unsigned rpl = sel & 3;
    if (rpl == (unsigned)cpu->cpl) {
        if (off > hg_desc_limit(&cd))
            hg_raise_gp(cpu, 0);
        hg_desc_set_accessed(cpu, &cd);
        hg_seg_set(cpu, S_CS, sel, &cd);
        hg_set_sp(cpu, sp + 2 * size + imm);
        return hg_jump(cpu, off);
    }
    /* Return to an outer level: the caller's SS:ESP follow the parameters. */
    uint32_t osp = (sp + 2 * size + imm) & mask;
    uint32_t new_esp = hg_read(cpu, S_SS, osp, size);
    uint16_t ss_sel = (uint16_t)hg_read(cpu, S_SS, (osp + size) & mask, size);
    HgDesc sd;
    if ((ss_sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    hg_check_stack_seg(cpu, ss_sel, rpl, EX_GP, 0, &sd);
    if (off > hg_desc_limit(&cd))
        hg_raise_gp(cpu, 0);
    hg_desc_set_accessed(cpu, &cd);
    hg_desc_set_accessed(cpu, &sd);
    cpu->cpl = (int)rpl;
    hg_seg_set(cpu, S_CS, sel, &cd);
    hg_seg_set(cpu, S_SS, ss_sel, &sd);
    if (size == 2)
        new_esp &= 0xffff;
    hg_set_sp(cpu, new_esp + imm);
    hg_null_inaccessible_segs(cpu);
    return hg_jump(cpu, off);
}
H(retf_w) { return far_ret(cpu, 2, 0); }
H(retf_d) { return far_ret(cpu, 4, 0); }
H(retf_iw_w) { return far_ret(cpu, 2, op->imm & 0xffff); }
H(retf_iw_d) { return far_ret(cpu, 4, op->imm & 0xffff); }
const HgOpImpl hg_impl_RETF = {retf_w, retf_d, NULL, NULL};
const HgOpImpl hg_impl_RETF_Iw = {retf_iw_w, retf_iw_d, NULL, NULL};
