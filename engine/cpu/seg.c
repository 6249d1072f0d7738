/* Segmentation: descriptor tables, segment register loads with their protection checks
 * in real, protected and V86 mode, and the instructions that load or store segment and
 * descriptor-table registers: MOV/PUSH/POP Sreg, LDS LES LFS LGS LSS, LGDT LIDT SGDT SIDT
 * (Intel SDM Vol. 3A chapters 3 and 5: 3.4 segment selectors and descriptors, 5.5-5.7
 * privilege checks on data and stack segment loads; Vol. 2 instruction pages).
 */
#include "seg.h"

#include "insn.h"

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

/* ---- descriptors ---- */

bool hg_desc_read(HgCpu *cpu, uint16_t sel, HgDesc *d)
{
    uint32_t base, limit;
    if (sel & 4) {
        const HgSegment *ldt = &cpu->seg[S_LDTR];
        if (!(ldt->flags & DESC_P))
            return false;
        base = ldt->base;
        limit = ldt->limit;
    } else {
        base = cpu->gdtr_base;
        limit = cpu->gdtr_limit;
    }
    uint32_t off = sel & ~7u;
    if (off + 7 > limit)
        return false;
    d->addr = base + off;
    d->lo = hg_lin_read_sys(cpu, d->addr, 4);
    d->hi = hg_lin_read_sys(cpu, d->addr + 4, 4);
    return true;
}

void hg_desc_set_accessed(HgCpu *cpu, HgDesc *d)
{
    if (d->hi & DESC_A)
        return;
    d->hi |= DESC_A;
    /* Only the access byte is written, as the processor does (a locked byte update). */
    hg_lin_write_sys(cpu, d->addr + 5, (d->hi >> 8) & 0xff, 1);
}

void hg_seg_set(HgCpu *cpu, int s, uint16_t sel, const HgDesc *d)
{
    HgSegment *sg = &cpu->seg[s];
    sg->sel = sel;
    sg->base = hg_desc_base(d);
    sg->limit = hg_desc_limit(d);
    sg->flags = hg_desc_flags(d);
    hg_seg_update(cpu, s);
    if (s == S_CS || s == S_SS)
        hg_cpu_update_mode(cpu);
}

void hg_seg_set_null(HgCpu *cpu, int s, uint16_t sel)
{
    HgSegment *sg = &cpu->seg[s];
    sg->sel = sel;
    sg->base = 0;
    sg->limit = 0;
    sg->flags = 0;
    hg_seg_update(cpu, s);
    if (s == S_SS)
        hg_cpu_update_mode(cpu);
}

void hg_cpu_set_cpl(HgCpu *cpu, int cpl)
{
    cpu->cpl = cpl;
    hg_cpu_update_mode(cpu);
}

static inline bool prot_mode(const HgCpu *cpu)
{
    return (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
}

/* Checks a protected-mode load of a data or stack segment register at CPL cpl.
 * Returns -1 when the load may proceed (d filled), -2 for a null selector that may be
 * loaded, or the vector to raise with *err. */
static int check_data_load(HgCpu *cpu, int s, uint16_t sel, int cpl, int err_vec, HgDesc *d,
                           int *err)
{
    *err = sel & 0xfffc;
    if ((sel & 0xfffc) == 0) {
        if (s == S_SS) {
            *err = 0;
            return err_vec;
        }
        return -2;
    }
    if (!hg_desc_read(cpu, sel, d))
        return err_vec;
    unsigned rpl = sel & 3, dpl = hg_desc_dpl(d);
    bool code = d->hi & DESC_CODE;
    if (hg_desc_is_system(d))
        return err_vec;
    if (s == S_SS) {
        if (code || !(d->hi & DESC_W) || rpl != (unsigned)cpl || dpl != (unsigned)cpl)
            return err_vec;
        if (!hg_desc_present(d))
            return EX_SS;
        return -1;
    }
    if (code && !(d->hi & DESC_R))
        return err_vec;
    /* Data and non-conforming code: the selector and CPL must both be privileged
     * enough; conforming code is accessible from any level. */
    if ((!code || !(d->hi & DESC_C)) && (rpl > dpl || (unsigned)cpl > dpl))
        return err_vec;
    if (!hg_desc_present(d))
        return EX_NP;
    return -1;
}

void hg_seg_load_vec(HgCpu *cpu, int s, uint16_t sel, int err_vec)
{
    if (!prot_mode(cpu)) {
        hg_cpu_load_seg_real(cpu, s, sel);
        return;
    }
    HgDesc d;
    int err;
    int v = check_data_load(cpu, s, sel, cpu->cpl, err_vec, &d, &err);
    if (v == -2) {
        hg_seg_set_null(cpu, s, sel);
        return;
    }
    if (v >= 0)
        hg_raise(cpu, v, err);
    hg_desc_set_accessed(cpu, &d);
    hg_seg_set(cpu, s, sel, &d);
}

void hg_seg_load(HgCpu *cpu, int s, uint16_t sel)
{
    hg_seg_load_vec(cpu, s, sel, EX_GP);
}

void hg_seg_load_cs_task(HgCpu *cpu, uint16_t sel, int err_vec)
{
    HgDesc d;
    int err = sel & 0xfffc;
    if ((sel & 0xfffc) == 0)
        hg_raise(cpu, err_vec, 0);
    if (!hg_desc_read(cpu, sel, &d) || hg_desc_is_system(&d) || !(d.hi & DESC_CODE))
        hg_raise(cpu, err_vec, err);
    unsigned rpl = sel & 3, dpl = hg_desc_dpl(&d);
    if ((d.hi & DESC_C) ? dpl > rpl : dpl != rpl)
        hg_raise(cpu, err_vec, err);
    if (!hg_desc_present(&d))
        hg_raise(cpu, EX_NP, err);
    hg_desc_set_accessed(cpu, &d);
    cpu->cpl = (int)rpl;
    hg_seg_set(cpu, S_CS, sel, &d);
}

void hg_ldtr_load(HgCpu *cpu, uint16_t sel, int err_vec)
{
    HgSegment *ldt = &cpu->seg[S_LDTR];
    if ((sel & 0xfffc) == 0) {
        /* A null LDTR: later references through TI=1 selectors fault. */
        ldt->sel = sel;
        ldt->base = 0;
        ldt->limit = 0;
        ldt->flags = 0;
        hg_seg_update(cpu, S_LDTR);
        return;
    }
    HgDesc d;
    int err = sel & 0xfffc;
    if ((sel & 4) || !hg_desc_read(cpu, sel, &d) || !hg_desc_is_system(&d) ||
        hg_desc_type(&d) != SYS_LDT)
        hg_raise(cpu, err_vec, err);
    if (!hg_desc_present(&d))
        hg_raise(cpu, EX_NP, err);
    ldt->sel = sel;
    ldt->base = hg_desc_base(&d);
    ldt->limit = hg_desc_limit(&d);
    ldt->flags = hg_desc_flags(&d);
    hg_seg_update(cpu, S_LDTR);
}

/* The test-vector loader's entry: a load at CPL 0 that reports failure instead of
 * faulting. CS is accepted when it names a present code segment; CPL becomes its RPL. */
bool hg_cpu_load_seg_prot(HgCpu *cpu, int s, uint16_t sel)
{
    HgDesc d;
    int err;
    if (s == S_CS) {
        if ((sel & 0xfffc) == 0 || !hg_desc_read(cpu, sel, &d) || hg_desc_is_system(&d) ||
            !(d.hi & DESC_CODE) || !hg_desc_present(&d))
            return false;
        cpu->cpl = sel & 3;
        hg_seg_set(cpu, S_CS, sel, &d);
        return true;
    }
    int v = check_data_load(cpu, s, sel, 0, EX_GP, &d, &err);
    if (v == -2) {
        hg_seg_set_null(cpu, s, sel);
        return true;
    }
    if (v >= 0)
        return false;
    hg_seg_set(cpu, s, sel, &d);
    return true;
}

/* ---- MOV, PUSH and POP of segment registers ---- */

H(mov_sw_ew_r) {
    if (op->reg == S_CS || op->reg > S_GS)
        hg_raise_ud(cpu);
    hg_seg_load(cpu, op->reg, (uint16_t)cpu->regs[op->rm]);
    /* MOV SS holds off interrupts and debug traps until after the next instruction,
     * so a following MOV ESP completes the stack switch (SDM 6.8.3). */
    if (op->reg == S_SS)
        cpu->irq_shadow = true;
    return op + 1;
}
H(mov_sw_ew_m) {
    if (op->reg == S_CS || op->reg > S_GS)
        hg_raise_ud(cpu);
    uint16_t sel = hg_read16(cpu, op->seg, hg_ea(cpu, op));
    hg_seg_load(cpu, op->reg, sel);
    if (op->reg == S_SS)
        cpu->irq_shadow = true;
    return op + 1;
}
const HgOpImpl hg_impl_MOV_SwEw = {mov_sw_ew_r, mov_sw_ew_r, mov_sw_ew_m, mov_sw_ew_m};

/* MOV r/m16, Sreg: a 32-bit register destination is zero-extended on P6 processors;
 * memory destinations are always 16 bits. */
H(mov_ew_sw_rw) {
    if (op->reg > S_GS)
        hg_raise_ud(cpu);
    hg_set_reg16(cpu, op->rm, cpu->seg[op->reg].sel);
    return op + 1;
}
H(mov_ew_sw_rd) {
    if (op->reg > S_GS)
        hg_raise_ud(cpu);
    cpu->regs[op->rm] = cpu->seg[op->reg].sel;
    return op + 1;
}
H(mov_ew_sw_m) {
    if (op->reg > S_GS)
        hg_raise_ud(cpu);
    hg_write16(cpu, op->seg, hg_ea(cpu, op), cpu->seg[op->reg].sel);
    return op + 1;
}
const HgOpImpl hg_impl_MOV_EwSw = {mov_ew_sw_rw, mov_ew_sw_rd, mov_ew_sw_m, mov_ew_sw_m};

/* PUSH Sreg with a 32-bit operand size writes only the low word on P6 processors, but
 * ESP moves by four. */
static inline const HgOp *push_sreg(HgCpu *cpu, const HgOp *op, int s, int size)
{
    uint32_t sp = (cpu->regs[R_ESP] - size) & hg_sp_mask(cpu);
    if (size == 4)
        hg_seg_check_write(cpu, S_SS, sp, 4);
    hg_write(cpu, S_SS, sp, cpu->seg[s].sel, 2);
    hg_set_sp(cpu, sp);
    return op + 1;
}

/* POP Sreg: the stack pointer moves only after the load succeeded. */
static inline const HgOp *pop_sreg(HgCpu *cpu, const HgOp *op, int s, int size)
{
    uint32_t sp = cpu->regs[R_ESP] & hg_sp_mask(cpu);
    uint16_t sel = (uint16_t)hg_read(cpu, S_SS, sp, size);
    uint32_t old_mask = hg_sp_mask(cpu);
    hg_seg_load(cpu, s, sel);
    /* A POP SS that changes SS.B still advances the stack pointer by the old width. */
    uint32_t nsp = (sp + size) & old_mask;
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~old_mask) | nsp;
    if (s == S_SS)
        cpu->irq_shadow = true;
    return op + 1;
}

#define SREG_PUSHPOP(S, NAME)                                                               \
    H(push_##NAME##_w) { return push_sreg(cpu, op, S, 2); }                                 \
    H(push_##NAME##_d) { return push_sreg(cpu, op, S, 4); }                                 \
    H(pop_##NAME##_w) { return pop_sreg(cpu, op, S, 2); }                                   \
    H(pop_##NAME##_d) { return pop_sreg(cpu, op, S, 4); }                                   \
    const HgOpImpl hg_impl_PUSH_##S = {push_##NAME##_w, push_##NAME##_d, NULL, NULL};       \
    const HgOpImpl hg_impl_POP_##S = {pop_##NAME##_w, pop_##NAME##_d, NULL, NULL};
SREG_PUSHPOP(S_ES, es)
SREG_PUSHPOP(S_SS, ss)
SREG_PUSHPOP(S_DS, ds)
SREG_PUSHPOP(S_FS, fs)
SREG_PUSHPOP(S_GS, gs)

H(push_cs_w) { return push_sreg(cpu, op, S_CS, 2); }
H(push_cs_d) { return push_sreg(cpu, op, S_CS, 4); }
const HgOpImpl hg_impl_PUSH_S_CS = {push_cs_w, push_cs_d, NULL, NULL};

/* LDS LES LFS LGS LSS: offset then selector from memory; the segment load comes first
 * so a faulting load leaves the general register unchanged. */
static inline const HgOp *load_far(HgCpu *cpu, const HgOp *op, int s, int size)
{
    uint32_t off = hg_ea(cpu, op);
    uint32_t amask = (op->flags & OPF_ADDR16) ? 0xffff : 0xffffffffu;
    uint32_t v = hg_read(cpu, op->seg, off, size);
    uint16_t sel = hg_read16(cpu, op->seg, (off + size) & amask);
    hg_seg_load(cpu, s, sel);
    if (size == 2)
        hg_set_reg16(cpu, op->reg, (uint16_t)v);
    else
        cpu->regs[op->reg] = v;
    return op + 1;
}
#define LOAD_FAR(S, NAME)                                                                   \
    H(NAME##_w) { return load_far(cpu, op, S, 2); }                                         \
    H(NAME##_d) { return load_far(cpu, op, S, 4); }                                         \
    const HgOpImpl hg_impl_##NAME = {NULL, NULL, NAME##_w, NAME##_d};
LOAD_FAR(S_ES, LES)
LOAD_FAR(S_DS, LDS)
LOAD_FAR(S_SS, LSS)
LOAD_FAR(S_FS, LFS)
LOAD_FAR(S_GS, LGS)

/* ---- descriptor-table registers ---- */

static inline void check_cpl0(HgCpu *cpu)
{
    if ((cpu->cr0 & CR0_PE) && cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
}

/* LGDT/LIDT: a 16-bit limit and a 32-bit base; with a 16-bit operand size only 24 bits
 * of the base are used (the 80286 format). */
static inline const HgOp *load_dtr(HgCpu *cpu, const HgOp *op, bool idt, bool op16)
{
    check_cpl0(cpu);
    uint32_t off = hg_ea(cpu, op);
    uint32_t amask = (op->flags & OPF_ADDR16) ? 0xffff : 0xffffffffu;
    uint32_t limit = hg_read16(cpu, op->seg, off);
    uint32_t base = hg_read32(cpu, op->seg, (off + 2) & amask);
    if (op16)
        base &= 0xffffff;
    if (idt) {
        cpu->idtr_base = base;
        cpu->idtr_limit = limit;
    } else {
        cpu->gdtr_base = base;
        cpu->gdtr_limit = limit;
    }
    return op + 1;
}
H(lgdt_w) { return load_dtr(cpu, op, false, true); }
H(lgdt_d) { return load_dtr(cpu, op, false, false); }
H(lidt_w) { return load_dtr(cpu, op, true, true); }
H(lidt_d) { return load_dtr(cpu, op, true, false); }
const HgOpImpl hg_impl_LGDT = {NULL, NULL, lgdt_w, lgdt_d};
const HgOpImpl hg_impl_LIDT = {NULL, NULL, lidt_w, lidt_d};

/* SGDT/SIDT are not privileged on this processor (no UMIP); a 16-bit operand size
 * stores the base's high byte as zero. */
static inline const HgOp *store_dtr(HgCpu *cpu, const HgOp *op, bool idt, bool op16)
{
    uint32_t off = hg_ea(cpu, op);
    uint32_t amask = (op->flags & OPF_ADDR16) ? 0xffff : 0xffffffffu;
    uint32_t base = idt ? cpu->idtr_base : cpu->gdtr_base;
    uint32_t limit = idt ? cpu->idtr_limit : cpu->gdtr_limit;
    if (op16)
        base &= 0xffffff;
    hg_seg_check_write(cpu, op->seg, off, 2);
    hg_seg_check_write(cpu, op->seg, (off + 2) & amask, 4);
    hg_write16(cpu, op->seg, off, (uint16_t)limit);
    hg_write32(cpu, op->seg, (off + 2) & amask, base);
    return op + 1;
}
H(sgdt_w) { return store_dtr(cpu, op, false, true); }
H(sgdt_d) { return store_dtr(cpu, op, false, false); }
H(sidt_w) { return store_dtr(cpu, op, true, true); }
H(sidt_d) { return store_dtr(cpu, op, true, false); }
const HgOpImpl hg_impl_SGDT = {NULL, NULL, sgdt_w, sgdt_d};
const HgOpImpl hg_impl_SIDT = {NULL, NULL, sidt_w, sidt_d};

/* ---- transactions and stacks for privilege changes ---- */

void hg_txn_save(HgCpu *cpu, HgSegTxn *t)
{
    memcpy(t->seg, cpu->seg, sizeof(t->seg));
    t->esp = cpu->regs[R_ESP];
    t->eflags = cpu->eflags;
    t->cc_op = cpu->cc_op;
    t->cc_dst = cpu->cc_dst;
    t->cc_src = cpu->cc_src;
    t->cc_src2 = cpu->cc_src2;
    t->cpl = cpu->cpl;
    t->outer = cpu->fault_jmp;
}

_Noreturn void hg_txn_abort(HgCpu *cpu, HgSegTxn *t)
{
    memcpy(cpu->seg, t->seg, sizeof(t->seg));
    cpu->regs[R_ESP] = t->esp;
    cpu->eflags = t->eflags;
    cpu->cc_op = t->cc_op;
    cpu->cc_dst = t->cc_dst;
    cpu->cc_src = t->cc_src;
    cpu->cc_src2 = t->cc_src2;
    cpu->cpl = t->cpl;
    hg_cpu_update_mode(cpu);
    cpu->fault_jmp = t->outer;
    longjmp(*t->outer, 1);
}

void hg_tss_stack(HgCpu *cpu, unsigned dpl, int ext, uint16_t *ss, uint32_t *esp)
{
    const HgSegment *tr = &cpu->seg[S_TR];
    bool t32 = ((tr->flags >> DESC_TYPE_SHIFT) & 8) != 0;
    uint32_t off = t32 ? 4 + dpl * 8 : 2 + dpl * 4;
    uint32_t len = t32 ? 8 : 4;
    if (off + len - 1 > tr->limit)
        hg_raise(cpu, EX_TS, (tr->sel & 0xfffc) | ext);
    if (t32) {
        *esp = hg_lin_read_sys(cpu, tr->base + off, 4);
        *ss = (uint16_t)hg_lin_read_sys(cpu, tr->base + off + 4, 2);
    } else {
        *esp = hg_lin_read_sys(cpu, tr->base + off, 2);
        *ss = (uint16_t)hg_lin_read_sys(cpu, tr->base + off + 2, 2);
    }
}

void hg_check_stack_seg(HgCpu *cpu, uint16_t sel, unsigned dpl, int err_vec, int ext, HgDesc *d)
{
    int err = (sel & 0xfffc) | ext;
    if ((sel & 0xfffc) == 0)
        hg_raise(cpu, err_vec, ext);
    if (!hg_desc_read(cpu, sel, d) || (sel & 3u) != dpl || hg_desc_is_system(d) ||
        (d->hi & DESC_CODE) || !(d->hi & DESC_W) || hg_desc_dpl(d) != dpl)
        hg_raise(cpu, err_vec, err);
    if (!hg_desc_present(d))
        hg_raise(cpu, EX_SS, err);
}

bool hg_stack_room(const HgCpu *cpu, uint32_t esp, uint32_t bytes)
{
    const HgSegment *ss = &cpu->seg[S_SS];
    uint32_t mask = hg_sp_mask(cpu);
    uint32_t top = (esp - 1) & mask, bot = (esp - bytes) & mask;
    return bot <= top && bot >= ss->lo && top <= ss->hi && ss->writable;
}

void hg_null_inaccessible_segs(HgCpu *cpu)
{
    static const int segs[] = {S_ES, S_DS, S_FS, S_GS};
    for (unsigned i = 0; i < 4; i++) {
        HgSegment *sg = &cpu->seg[segs[i]];
        uint32_t f = sg->flags;
        unsigned dpl = (f >> DESC_DPL_SHIFT) & 3;
        bool conforming_code = (f & DESC_CODE) && (f & DESC_C);
        if (!(f & DESC_P) || (!conforming_code && dpl < (unsigned)cpu->cpl))
            hg_seg_set_null(cpu, segs[i], 0);
    }
}

/* ---- LLDT SLDT LTR STR LAR LSL VERR VERW ARPL (SDM Vol. 2; Vol. 3A 3.5, 7.2.4) ---- */

/* These need protected mode: #UD in real-address and V86 mode. */
static inline void check_prot(HgCpu *cpu)
{
    if (!prot_mode(cpu))
        hg_raise_ud(cpu);
}

static inline uint16_t read_ew(HgCpu *cpu, const HgOp *op)
{
    if (op->flags & OPF_MEM)
        return hg_read16(cpu, op->seg, hg_ea(cpu, op));
    return (uint16_t)cpu->regs[op->rm];
}

/* SLDT/STR store the selector; a 32-bit register destination is zero-extended. */
static inline const HgOp *store_sel(HgCpu *cpu, const HgOp *op, int s, bool op32)
{
    check_prot(cpu);
    uint16_t sel = cpu->seg[s].sel;
    if (op->flags & OPF_MEM)
        hg_write16(cpu, op->seg, hg_ea(cpu, op), sel);
    else if (op32)
        cpu->regs[op->rm] = sel;
    else
        hg_set_reg16(cpu, op->rm, sel);
    return op + 1;
}
H(sldt_w) { return store_sel(cpu, op, S_LDTR, false); }
H(sldt_d) { return store_sel(cpu, op, S_LDTR, true); }
H(str_w) { return store_sel(cpu, op, S_TR, false); }
H(str_d) { return store_sel(cpu, op, S_TR, true); }
const HgOpImpl hg_impl_SLDT = {sldt_w, sldt_d, sldt_w, sldt_w};
const HgOpImpl hg_impl_STR = {str_w, str_d, str_w, str_w};

H(lldt) {
    check_prot(cpu);
    if (cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    hg_ldtr_load(cpu, read_ew(cpu, op), EX_GP);
    return op + 1;
}
const HgOpImpl hg_impl_LLDT = {lldt, lldt, lldt, lldt};

/* LTR: an available TSS in the GDT, which becomes busy. */
H(ltr) {
    check_prot(cpu);
    if (cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    uint16_t sel = read_ew(cpu, op);
    int err = sel & 0xfffc;
    HgDesc d;
    if ((sel & 0xfffc) == 0)
        hg_raise_gp(cpu, 0);
    if ((sel & 4) || !hg_desc_read(cpu, sel, &d) || !hg_desc_is_system(&d) ||
        (hg_desc_type(&d) != SYS_TSS16_AVAIL && hg_desc_type(&d) != SYS_TSS32_AVAIL))
        hg_raise_gp(cpu, err);
    if (!hg_desc_present(&d))
        hg_raise(cpu, EX_NP, err);
    d.hi |= 2u << DESC_TYPE_SHIFT;
    hg_lin_write_sys(cpu, d.addr + 5, (d.hi >> 8) & 0xff, 1);
    HgSegment *tr = &cpu->seg[S_TR];
    tr->sel = sel;
    tr->base = hg_desc_base(&d);
    tr->limit = hg_desc_limit(&d);
    tr->flags = hg_desc_flags(&d);
    hg_seg_update(cpu, S_TR);
    return op + 1;
}
const HgOpImpl hg_impl_LTR = {ltr, ltr, ltr, ltr};

/* Reads the descriptor for LAR/LSL/VERR/VERW: false for null selectors and selectors
 * outside their table (ZF = 0, no fault). */
static bool probe_desc(HgCpu *cpu, uint16_t sel, HgDesc *d)
{
    return (sel & 0xfffc) != 0 && hg_desc_read(cpu, sel, d);
}

/* The privilege rule of LAR, LSL, VERR and VERW: conforming code is always visible,
 * everything else needs DPL >= CPL and DPL >= RPL. */
static bool visible(const HgCpu *cpu, uint16_t sel, const HgDesc *d)
{
    if (!hg_desc_is_system(d) && (d->hi & DESC_CODE) && (d->hi & DESC_C))
        return true;
    unsigned dpl = hg_desc_dpl(d);
    return dpl >= (unsigned)cpu->cpl && dpl >= (sel & 3u);
}

static inline void set_zf(HgCpu *cpu, bool z)
{
    uint32_t f = hg_cc_compute(cpu);
    hg_cc_set_flags(cpu, z ? f | FL_ZF : f & ~(uint32_t)FL_ZF);
}

/* System types LAR accepts (gates and TSS/LDT, not interrupt and trap gates) and LSL
 * accepts (only segments that have a limit: TSS and LDT). */
static bool lar_type_ok(const HgDesc *d, bool lsl)
{
    if (!hg_desc_is_system(d))
        return true;
    switch (hg_desc_type(d)) {
    case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY:
    case SYS_TSS32_AVAIL: case SYS_TSS32_BUSY:
        return true;
    case SYS_CALL16: case SYS_TASK_GATE: case SYS_CALL32:
        return !lsl;
    default:
        return false;
    }
}

static inline const HgOp *lar_lsl(HgCpu *cpu, const HgOp *op, bool lsl, bool op32)
{
    check_prot(cpu);
    uint16_t sel = read_ew(cpu, op);
    HgDesc d;
    if (!probe_desc(cpu, sel, &d) || !lar_type_ok(&d, lsl) || !visible(cpu, sel, &d)) {
        set_zf(cpu, false);
        return op + 1;
    }
    uint32_t v = lsl ? hg_desc_limit(&d) : d.hi & 0x00f0ff00u;
    if (op32)
        cpu->regs[op->reg] = v;
    else
        hg_set_reg16(cpu, op->reg, (uint16_t)v);
    set_zf(cpu, true);
    return op + 1;
}
H(lar_w) { return lar_lsl(cpu, op, false, false); }
H(lar_d) { return lar_lsl(cpu, op, false, true); }
H(lsl_w) { return lar_lsl(cpu, op, true, false); }
H(lsl_d) { return lar_lsl(cpu, op, true, true); }
const HgOpImpl hg_impl_LAR = {lar_w, lar_d, lar_w, lar_d};
const HgOpImpl hg_impl_LSL = {lsl_w, lsl_d, lsl_w, lsl_d};

static inline const HgOp *verify(HgCpu *cpu, const HgOp *op, bool write)
{
    check_prot(cpu);
    uint16_t sel = read_ew(cpu, op);
    HgDesc d;
    bool ok = probe_desc(cpu, sel, &d) && !hg_desc_is_system(&d) && visible(cpu, sel, &d);
    if (ok) {
        bool code = d.hi & DESC_CODE;
        ok = write ? !code && (d.hi & DESC_W) : !code || (d.hi & DESC_R);
    }
    set_zf(cpu, ok);
    return op + 1;
}
H(verr) { return verify(cpu, op, false); }
H(verw) { return verify(cpu, op, true); }
const HgOpImpl hg_impl_VERR = {verr, verr, verr, verr};
const HgOpImpl hg_impl_VERW = {verw, verw, verw, verw};

/* ARPL r/m16, r16: raises the destination selector's RPL to the source's. Always 16
 * bits; #UD outside protected mode. */
H(arpl_r) {
    check_prot(cpu);
    uint16_t dst = (uint16_t)cpu->regs[op->rm], src = (uint16_t)cpu->regs[op->reg];
    bool adj = (dst & 3) < (src & 3);
    if (adj)
        hg_set_reg16(cpu, op->rm, (uint16_t)((dst & ~3u) | (src & 3u)));
    set_zf(cpu, adj);
    return op + 1;
}
H(arpl_m) {
    check_prot(cpu);
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), 2);
    uint16_t dst = (uint16_t)hg_lin_read(cpu, lin, 2), src = (uint16_t)cpu->regs[op->reg];
    bool adj = (dst & 3) < (src & 3);
    if (adj)
        hg_lin_write(cpu, lin, (dst & ~3u) | (src & 3u), 2);
    set_zf(cpu, adj);
    return op + 1;
}
const HgOpImpl hg_impl_ARPL = {arpl_r, arpl_r, arpl_m, arpl_m};
