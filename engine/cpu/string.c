/* String instructions: MOVS CMPS SCAS LODS STOS INS OUTS on bytes, words and dwords,
 * with 16- or 32-bit addressing and the REP/REPE/REPNE prefixes (Intel SDM Vol. 2
 * "MOVS", "CMPS", "SCAS", "LODS", "STOS", "INS", "OUTS", "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * The source is seg:eSI (DS unless overridden); the destination is always ES:eDI.
 * Registers are updated after every iteration, so a fault in the middle of a repeated
 * instruction leaves ECX/ESI/EDI describing the iterations done and EIP at the
 * instruction: re-executing it resumes (precise, as on hardware). A repeated
 * instruction also stops between chunks of iterations when the machine asks for the
 * CPU (exit request, pending interrupt, spent budget, single-step), leaving EIP at the
 * instruction. F2 on MOVS/LODS/STOS/INS/OUTS repeats like F3, as hardware does.
 *
 * REP MOVS and REP STOS copy or fill runs that stay within one page on both sides in
 * one go when the TLB maps both pages as RAM. A destination page holding translated
 * code (slow write tag) gets the blocks the run overlaps invalidated first, as the
 * per-element stores would do.
 */
#include "intops.h"

#include "bus.h"
#include "tb.h"

enum { K_MOVS, K_CMPS, K_STOS, K_LODS, K_SCAS, K_INS, K_OUTS };

/* Iterations between checks for a reason to leave the instruction. */
enum { REP_CHUNK = 1024 };

ALWAYS_INLINE uint32_t areg(HgCpu *cpu, int r, bool a16)
{
    return a16 ? cpu->regs[r] & 0xffff : cpu->regs[r];
}

ALWAYS_INLINE void set_areg(HgCpu *cpu, int r, uint32_t v, bool a16)
{
    if (a16)
        hg_set_reg16(cpu, r, (uint16_t)v);
    else
        cpu->regs[r] = v;
}

ALWAYS_INLINE uint32_t step_delta(HgCpu *cpu, int bits)
{
    return (cpu->eflags & FL_DF) ? (uint32_t)-(bits / 8) : (uint32_t)(bits / 8);
}

/* One iteration. Returns, for CMPS/SCAS, whether the operands were equal (ZF). */
ALWAYS_INLINE bool step(HgCpu *cpu, const HgOp *op, int k, int bits, bool a16)
{
    int n = bits / 8;
    uint32_t d = step_delta(cpu, bits);
    int si = iop_size_index(bits);
    switch (k) {
    case K_MOVS: {
        uint32_t s = areg(cpu, R_ESI, a16), t = areg(cpu, R_EDI, a16);
        uint32_t v = hg_read(cpu, op->seg, s, n);
        hg_write(cpu, S_ES, t, v, n);
        set_areg(cpu, R_ESI, s + d, a16);
        set_areg(cpu, R_EDI, t + d, a16);
        return false;
    }
    case K_CMPS: {
        uint32_t s = areg(cpu, R_ESI, a16), t = areg(cpu, R_EDI, a16);
        uint32_t a = hg_read(cpu, op->seg, s, n);
        uint32_t b = hg_read(cpu, S_ES, t, n);
        hg_cc_set(cpu, CC_SUB8 + si, (a - b) & iop_mask(bits), a, b);
        set_areg(cpu, R_ESI, s + d, a16);
        set_areg(cpu, R_EDI, t + d, a16);
        return a == b;
    }
    case K_STOS: {
        uint32_t t = areg(cpu, R_EDI, a16);
        hg_write(cpu, S_ES, t, iop_get_reg(cpu, R_EAX, bits), n);
        set_areg(cpu, R_EDI, t + d, a16);
        return false;
    }
    case K_LODS: {
        uint32_t s = areg(cpu, R_ESI, a16);
        iop_set_reg(cpu, R_EAX, hg_read(cpu, op->seg, s, n), bits);
        set_areg(cpu, R_ESI, s + d, a16);
        return false;
    }
    case K_SCAS: {
        uint32_t t = areg(cpu, R_EDI, a16);
        uint32_t a = iop_get_reg(cpu, R_EAX, bits);
        uint32_t b = hg_read(cpu, S_ES, t, n);
        hg_cc_set(cpu, CC_SUB8 + si, (a - b) & iop_mask(bits), a, b);
        set_areg(cpu, R_EDI, t + d, a16);
        return a == b;
    }
    case K_INS: {
        uint16_t port = (uint16_t)cpu->regs[R_EDX];
        uint32_t t = areg(cpu, R_EDI, a16);
        hg_io_check(cpu, port, n);
        /* The destination is checked before the port is read, so a faulting store
         * does not lose a value a device handed over. */
        uint32_t lin = hg_rmw_lin(cpu, S_ES, t, n);
        hg_lin_write(cpu, lin, hg_bus_in(cpu->bus, port, n), n);
        set_areg(cpu, R_EDI, t + d, a16);
        return false;
    }
    default: { /* OUTS */
        uint16_t port = (uint16_t)cpu->regs[R_EDX];
        uint32_t s = areg(cpu, R_ESI, a16);
        hg_io_check(cpu, port, n);
        hg_bus_out(cpu->bus, port, hg_read(cpu, op->seg, s, n), n);
        set_areg(cpu, R_ESI, s + d, a16);
        return false;
    }
    }
}

/* How many of up to cnt elements of n bytes, starting at offset off and going
 * forward or backward, lie inside the segment's valid range without wrapping the
 * address size. */
ALWAYS_INLINE uint32_t fit_segment(const HgSegment *sg, uint32_t off, int n, bool back, bool a16,
                                   uint32_t cnt)
{
    uint32_t hi = sg->hi;
    if (a16 && hi > 0xffff)
        hi = 0xffff;
    if (off < sg->lo || off > hi || hi - off < (uint32_t)n - 1)
        return 0;
    uint32_t avail = back ? (off - sg->lo) / n + 1 : (hi - off - (n - 1)) / n + 1;
    return avail < cnt ? avail : cnt;
}

/* The same within the 4 KiB page of lin. */
ALWAYS_INLINE uint32_t fit_page(uint32_t lin, int n, bool back, uint32_t cnt)
{
    uint32_t pg = lin & 0xfff;
    if (pg + n > 0x1000)
        return 0;
    uint32_t avail = back ? pg / n + 1 : (0x1000 - pg) / n;
    return avail < cnt ? avail : cnt;
}

/* Host pointer for an access that the TLB maps directly (plain RAM), or NULL. */
ALWAYS_INLINE uint8_t *host_ptr(HgCpu *cpu, uint32_t lin, bool write)
{
    const HgTlbEntry *e = &cpu->tlb[cpu->tlb_mode][(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t tag = write ? e->tag_write : e->tag_read;
    if (tag != (lin & ~0xfffu))
        return NULL;
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* REP MOVS / REP STOS over up to max elements that need no per-element checks.
 * Returns how many were done (0: take the per-element path once). */
ALWAYS_INLINE uint32_t fast_block(HgCpu *cpu, const HgOp *op, int k, int bits, bool a16,
                                  uint32_t max)
{
    int n = bits / 8;
    bool back = cpu->eflags & FL_DF;
    const HgSegment *es = &cpu->seg[S_ES];
    uint32_t t = areg(cpu, R_EDI, a16), s = 0;
    if (!es->writable)
        return 0;
    uint32_t cnt = fit_segment(es, t, n, back, a16, max);
    uint32_t dlin = es->base + t, slin = 0;
    cnt = fit_page(dlin, n, back, cnt);
    if (k == K_MOVS) {
        const HgSegment *ss = &cpu->seg[op->seg];
        if (!ss->readable)
            return 0;
        s = areg(cpu, R_ESI, a16);
        cnt = fit_segment(ss, s, n, back, a16, cnt);
        slin = ss->base + s;
        cnt = fit_page(slin, n, back, cnt);
    }
    if (cnt < 2)
        return 0;
    uint32_t len = cnt * n;
    /* Lowest byte of each run: the runs go down from the first element when DF=1. */
    uint32_t lo_off = back ? (cnt - 1) * n : 0;
    uint8_t *pd = host_ptr(cpu, dlin, true);
    uint32_t code_phys = 0;
    bool code = false;
    if (!pd) {
        /* A RAM page holding translated code has a slow write tag: invalidate the
         * blocks the run overlaps once, then store directly. */
        const HgTlbEntry *e = &cpu->tlb[cpu->tlb_mode][(dlin >> 12) & (TLB_SIZE - 1)];
        bool writable = false;
        if (e->tag_write != ((dlin & ~0xfffu) | TLB_SLOW))
            return 0;
        uint8_t *page = hg_bus_page(cpu->bus, e->phys, &writable);
        if (!page || !writable)
            return 0;
        pd = page + (dlin & 0xfff);
        code_phys = e->phys | ((dlin - lo_off) & 0xfff);
        code = true;
    }
    uint8_t *dlo = pd - lo_off;
    uint8_t *ps = NULL;
    if (k == K_MOVS) {
        ps = host_ptr(cpu, slin, false);
        if (!ps)
            return 0;
    }
    if (code) {
        hg_tb_invalidate_phys(cpu->tbs, code_phys, (int)len);
        hg_bus_mark_dirty(cpu->bus, code_phys);
    }
    if (k == K_STOS) {
        uint32_t v = iop_get_reg(cpu, R_EAX, bits);
        if (n == 1) {
            memset(dlo, (int)v, len);
        } else {
            for (uint32_t i = 0; i < cnt; i++)
                memcpy(dlo + i * n, &v, n);
        }
    } else {
        uint8_t *slo = ps - lo_off;
        /* Element order matters only when the destination overlaps the part of the
         * source not yet read: ahead of it going forward, behind it going backward.
         * Otherwise memmove gives the same bytes. */
        bool ordered = back ? (dlo < slo && dlo + len > slo) : (dlo > slo && dlo < slo + len);
        if (!ordered) {
            memmove(dlo, slo, len);
        } else if (!back) {
            for (uint32_t i = 0; i < cnt; i++)
                memmove(pd + i * n, ps + i * n, n);
        } else {
            for (uint32_t i = 0; i < cnt; i++)
                memmove(pd - i * n, ps - i * n, n);
        }
        set_areg(cpu, R_ESI, s + (back ? -len : len), a16);
    }
    set_areg(cpu, R_EDI, t + (back ? -len : len), a16);
    return cnt;
}

/* Something outside the instruction needs the CPU: leave at a chunk boundary. */
static inline bool should_yield(HgCpu *cpu)
{
    return __atomic_load_n(&cpu->exit_request, __ATOMIC_RELAXED) || cpu->nmi_pending ||
           (cpu->intr_line && (cpu->eflags & FL_IF)) || cpu->budget <= 0 ||
           (cpu->eflags & FL_TF);
}

/* Leaves the block with EIP at the repeated instruction. The loop retires a whole
 * block when it leaves it, so take back this instruction and the ones after it in
 * the block, which did not run: an instruction that resumes is counted once. */
static const HgOp *rep_yield(HgCpu *cpu, const HgOp *op)
{
    int64_t n = 1;
    for (const HgOp *o = op; !(o->flags & OPF_LAST); o++)
        n++;
    cpu->budget += n;
    cpu->icount -= (uint64_t)n;
    return hg_jump(cpu, op->eip);
}

ALWAYS_INLINE const HgOp *rep(HgCpu *cpu, const HgOp *op, int k, int bits, bool a16)
{
    bool cond = k == K_CMPS || k == K_SCAS;
    bool repne = op->flags & OPF_REPNE;
    uint32_t amask = a16 ? 0xffffu : 0xffffffffu;
    uint32_t cx = areg(cpu, R_ECX, a16);
    if (!cx)
        return op + 1;
    /* Single-stepping traps after every iteration. */
    uint32_t chunk = (cpu->eflags & FL_TF) ? 1 : REP_CHUNK;
    for (;;) {
        uint32_t done = 0, stepped = 0;
        while (done < chunk) {
            if (k == K_MOVS || k == K_STOS) {
                uint32_t m = fast_block(cpu, op, k, bits, a16,
                                        cx < chunk - done ? cx : chunk - done);
                if (m) {
                    cx -= m;
                    done += m;
                    set_areg(cpu, R_ECX, cx, a16);
                    if (!cx)
                        return op + 1;
                    continue;
                }
            }
            bool eq = step(cpu, op, k, bits, a16);
            cx = (cx - 1) & amask;
            set_areg(cpu, R_ECX, cx, a16);
            done++;
            stepped++;
            if (!cx || (cond && eq == repne))
                return op + 1;
        }
        /* Long runs count against the slice roughly by the host time they take, so that a
         * slice (and with it the timers, such as the display refresh) is not held up for
         * seconds: four elements through the full path (MMIO, say) like an instruction, 32
         * elements of a block copied in one go like one. A chunk costs at most 257, so a
         * small budget still sees the interrupt that ended the chunk taken. */
        cpu->budget -= 1 + stepped / 4 + (done - stepped) / 32;
        if (should_yield(cpu))
            return rep_yield(cpu, op);
    }
}

ALWAYS_INLINE const HgOp *str(HgCpu *cpu, const HgOp *op, int k, int bits)
{
    bool a16 = op->flags & OPF_ADDR16;
    if (__builtin_expect(op->flags & (OPF_REP | OPF_REPNE), 0))
        return a16 ? rep(cpu, op, k, bits, true) : rep(cpu, op, k, bits, false);
    if (a16)
        step(cpu, op, k, bits, true);
    else
        step(cpu, op, k, bits, false);
    return op + 1;
}

#define STR_IMPLS(N, K)                                                                    \
    H(N##_b) { return str(cpu, op, K, 8); }                                                \
    H(N##_w) { return str(cpu, op, K, 16); }                                               \
    H(N##_d) { return str(cpu, op, K, 32); }                                               \
    const HgOpImpl hg_impl_##N##B = {N##_b, N##_b, NULL, NULL};                            \
    const HgOpImpl hg_impl_##N##v = {N##_w, N##_d, NULL, NULL};

STR_IMPLS(MOVS, K_MOVS)
STR_IMPLS(CMPS, K_CMPS)
STR_IMPLS(STOS, K_STOS)
STR_IMPLS(LODS, K_LODS)
STR_IMPLS(SCAS, K_SCAS)
STR_IMPLS(INS, K_INS)
STR_IMPLS(OUTS, K_OUTS)
