/* MMX instructions of the Pentium II (Intel SDM Vol. 1 chapter 9, Vol. 2 instruction
 * pages): MOVD MOVQ, the packs and unpacks, wrapping and saturating adds and subtracts,
 * compares, multiplies, logic, shifts by register, memory and immediate counts, EMMS.
 *
 * MMX registers alias the significands of the x87 physical registers (SDM 9.5): every
 * MMX instruction sets TOP to 0 and tags all registers valid; a write also sets the
 * sign and exponent bits to all ones; EMMS tags them all empty. CR0.EM makes them #UD,
 * CR0.TS #NM, and a pending x87 exception is reported first (SDM 9.5.1, 9.6).
 */
#include "fpu-priv.h"

static inline void mmx_enter(HgCpu *cpu)
{
    if (__builtin_expect((cpu->cr0 & (CR0_EM | CR0_TS)) || (cpu->fpu.sw & FSW_ES), 0)) {
        if (cpu->cr0 & CR0_EM)
            hg_raise_ud(cpu);
        if (cpu->cr0 & CR0_TS)
            hg_raise(cpu, EX_NM, -1);
        hg_fpu_pending(cpu);
    }
}

/* The x87 side effect of any MMX instruction but EMMS. */
static inline void mmx_touch(HgCpu *cpu)
{
    cpu->fpu.top = 0;
    cpu->fpu.tw = 0;
}

static inline uint64_t mmx_get(const HgCpu *cpu, int r)
{
    return cpu->fpu.regs[r & 7].mant;
}

static inline void mmx_set(HgCpu *cpu, int r, uint64_t v)
{
    cpu->fpu.regs[r & 7].mant = v;
    cpu->fpu.regs[r & 7].sexp = 0xffff;
}

/* The Qq source: an MMX register or a 64-bit memory operand. */
static inline uint64_t src_q(HgCpu *cpu, const HgOp *op)
{
    if (op->flags & OPF_MEM)
        return fpu_read64(cpu, op->seg, hg_ea(cpu, op));
    return mmx_get(cpu, op->rm);
}

/* The Qd source of the low unpacks: 32 bits of memory, or the register. */
static inline uint64_t src_d(HgCpu *cpu, const HgOp *op)
{
    if (op->flags & OPF_MEM)
        return hg_read32(cpu, op->seg, hg_ea(cpu, op));
    return mmx_get(cpu, op->rm);
}

/* ---- lane helpers ---- */

static inline uint64_t lane(uint64_t v, int bits, int i)
{
    return (v >> (bits * i)) & (bits == 64 ? ~0ull : (1ull << bits) - 1);
}

static inline int64_t slane(uint64_t v, int bits, int i)
{
    uint64_t x = lane(v, bits, i);
    return (int64_t)(x << (64 - bits)) >> (64 - bits);
}

static inline int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

enum { A_ADD, A_ADDS, A_ADDUS, A_SUB, A_SUBS, A_SUBUS, A_CMPEQ, A_CMPGT };

static uint64_t lanewise(uint64_t a, uint64_t b, int bits, int kind)
{
    uint64_t r = 0;
    uint64_t m = (1ull << bits) - 1;
    int64_t smin = -(1ll << (bits - 1)), smax = (1ll << (bits - 1)) - 1;
    for (int i = 0; i < 64 / bits; i++) {
        uint64_t ua = lane(a, bits, i), ub = lane(b, bits, i);
        int64_t sa = slane(a, bits, i), sb = slane(b, bits, i);
        int64_t v;
        switch (kind) {
        case A_ADD: v = (int64_t)(ua + ub); break;
        case A_ADDS: v = clamp(sa + sb, smin, smax); break;
        case A_ADDUS: v = clamp((int64_t)(ua + ub), 0, (int64_t)m); break;
        case A_SUB: v = (int64_t)(ua - ub); break;
        case A_SUBS: v = clamp(sa - sb, smin, smax); break;
        case A_SUBUS: v = clamp((int64_t)ua - (int64_t)ub, 0, (int64_t)m); break;
        case A_CMPEQ: v = ua == ub ? -1 : 0; break;
        default: v = sa > sb ? -1 : 0; break;
        }
        r |= ((uint64_t)v & m) << (bits * i);
    }
    return r;
}

static uint64_t pack(uint64_t a, uint64_t b, int from, bool sat_signed)
{
    int to = from / 2, n = 64 / from;
    int64_t lo = sat_signed ? -(1ll << (to - 1)) : 0;
    int64_t hi = sat_signed ? (1ll << (to - 1)) - 1 : (1ll << to) - 1;
    uint64_t r = 0, m = (1ull << to) - 1;
    for (int i = 0; i < n; i++) {
        r |= ((uint64_t)clamp(slane(a, from, i), lo, hi) & m) << (to * i);
        r |= ((uint64_t)clamp(slane(b, from, i), lo, hi) & m) << (to * (i + n));
    }
    return r;
}

/* Interleaves the low (high = false) or high halves of a and b, a first. */
static uint64_t unpack(uint64_t a, uint64_t b, int bits, bool high)
{
    int n = 32 / bits;
    int base = high ? n : 0;
    uint64_t r = 0;
    for (int i = 0; i < n; i++) {
        r |= lane(a, bits, base + i) << (bits * 2 * i);
        r |= lane(b, bits, base + i) << (bits * (2 * i + 1));
    }
    return r;
}

enum { S_LL, S_RL, S_RA };

static uint64_t shift(uint64_t a, uint64_t count, int bits, int kind)
{
    if (count >= (uint64_t)bits) {
        if (kind != S_RA)
            return 0;
        count = (uint64_t)bits - 1;
    }
    if (bits == 64)
        return kind == S_LL ? a << count : a >> count;
    uint64_t r = 0, m = (1ull << bits) - 1;
    for (int i = 0; i < 64 / bits; i++) {
        uint64_t v;
        switch (kind) {
        case S_LL: v = lane(a, bits, i) << count; break;
        case S_RL: v = lane(a, bits, i) >> count; break;
        default: v = (uint64_t)(slane(a, bits, i) >> count); break;
        }
        r |= (v & m) << (bits * i);
    }
    return r;
}

static uint64_t pmul(uint64_t a, uint64_t b, int kind)
{
    uint64_t r = 0;
    if (kind == 2) { /* PMADDWD */
        for (int i = 0; i < 2; i++) {
            int64_t s = slane(a, 16, 2 * i) * slane(b, 16, 2 * i) +
                        slane(a, 16, 2 * i + 1) * slane(b, 16, 2 * i + 1);
            r |= ((uint64_t)s & 0xffffffffu) << (32 * i);
        }
        return r;
    }
    for (int i = 0; i < 4; i++) {
        int64_t p = slane(a, 16, i) * slane(b, 16, i);
        uint64_t v = kind == 0 ? (uint64_t)p : (uint64_t)(p >> 16);
        r |= (v & 0xffff) << (16 * i);
    }
    return r;
}

/* ---- handlers ---- */

#define MMX_IMPL(name) const HgOpImpl hg_impl_##name = {name, name, name, name}

/* Pq := f(Pq, Qq). */
#define MMX_BIN(name, expr, srcfn)                                                                 \
    static const HgOp *name(HgCpu *cpu, const HgOp *op)                                            \
    {                                                                                              \
        mmx_enter(cpu);                                                                            \
        uint64_t b = srcfn(cpu, op);                                                               \
        uint64_t a = mmx_get(cpu, op->reg);                                                        \
        (void)a;                                                                                   \
        mmx_touch(cpu);                                                                            \
        mmx_set(cpu, op->reg, (expr));                                                             \
        return op + 1;                                                                             \
    }                                                                                              \
    MMX_IMPL(name)

MMX_BIN(PADDB, lanewise(a, b, 8, A_ADD), src_q);
MMX_BIN(PADDW, lanewise(a, b, 16, A_ADD), src_q);
MMX_BIN(PADDD, lanewise(a, b, 32, A_ADD), src_q);
MMX_BIN(PADDSB, lanewise(a, b, 8, A_ADDS), src_q);
MMX_BIN(PADDSW, lanewise(a, b, 16, A_ADDS), src_q);
MMX_BIN(PADDUSB, lanewise(a, b, 8, A_ADDUS), src_q);
MMX_BIN(PADDUSW, lanewise(a, b, 16, A_ADDUS), src_q);
MMX_BIN(PSUBB, lanewise(a, b, 8, A_SUB), src_q);
MMX_BIN(PSUBW, lanewise(a, b, 16, A_SUB), src_q);
MMX_BIN(PSUBD, lanewise(a, b, 32, A_SUB), src_q);
MMX_BIN(PSUBSB, lanewise(a, b, 8, A_SUBS), src_q);
MMX_BIN(PSUBSW, lanewise(a, b, 16, A_SUBS), src_q);
MMX_BIN(PSUBUSB, lanewise(a, b, 8, A_SUBUS), src_q);
MMX_BIN(PSUBUSW, lanewise(a, b, 16, A_SUBUS), src_q);
MMX_BIN(PCMPEQB, lanewise(a, b, 8, A_CMPEQ), src_q);
MMX_BIN(PCMPEQW, lanewise(a, b, 16, A_CMPEQ), src_q);
MMX_BIN(PCMPEQD, lanewise(a, b, 32, A_CMPEQ), src_q);
MMX_BIN(PCMPGTB, lanewise(a, b, 8, A_CMPGT), src_q);
MMX_BIN(PCMPGTW, lanewise(a, b, 16, A_CMPGT), src_q);
MMX_BIN(PCMPGTD, lanewise(a, b, 32, A_CMPGT), src_q);
MMX_BIN(PACKSSWB, pack(a, b, 16, true), src_q);
MMX_BIN(PACKSSDW, pack(a, b, 32, true), src_q);
MMX_BIN(PACKUSWB, pack(a, b, 16, false), src_q);
MMX_BIN(PUNPCKLBW, unpack(a, b, 8, false), src_d);
MMX_BIN(PUNPCKLWD, unpack(a, b, 16, false), src_d);
MMX_BIN(PUNPCKLDQ, unpack(a, b, 32, false), src_d);
MMX_BIN(PUNPCKHBW, unpack(a, b, 8, true), src_q);
MMX_BIN(PUNPCKHWD, unpack(a, b, 16, true), src_q);
MMX_BIN(PUNPCKHDQ, unpack(a, b, 32, true), src_q);
MMX_BIN(PMULLW, pmul(a, b, 0), src_q);
MMX_BIN(PMULHW, pmul(a, b, 1), src_q);
MMX_BIN(PMADDWD, pmul(a, b, 2), src_q);
MMX_BIN(PAND, a &b, src_q);
MMX_BIN(PANDN, ~a &b, src_q);
MMX_BIN(POR, a | b, src_q);
MMX_BIN(PXOR, a ^ b, src_q);
MMX_BIN(PSLLW, shift(a, b, 16, S_LL), src_q);
MMX_BIN(PSLLD, shift(a, b, 32, S_LL), src_q);
MMX_BIN(PSLLQ, shift(a, b, 64, S_LL), src_q);
MMX_BIN(PSRLW, shift(a, b, 16, S_RL), src_q);
MMX_BIN(PSRLD, shift(a, b, 32, S_RL), src_q);
MMX_BIN(PSRLQ, shift(a, b, 64, S_RL), src_q);
MMX_BIN(PSRAW, shift(a, b, 16, S_RA), src_q);
MMX_BIN(PSRAD, shift(a, b, 32, S_RA), src_q);

/* Shifts of Nq by an immediate count (0F 71-73 with ModRM.reg selecting the shift). */
H(mmx_shift_imm)
{
    static const int8_t kinds[8] = {-1, -1, S_RL, -1, S_RA, -1, S_LL, -1};
    int kind = kinds[op->reg];
    int bits = op->opcode == 0x71 ? 16 : op->opcode == 0x72 ? 32 : 64;
    if (kind < 0 || (bits == 64 && kind == S_RA))
        hg_raise_ud(cpu);
    mmx_enter(cpu);
    mmx_touch(cpu);
    mmx_set(cpu, op->rm, shift(mmx_get(cpu, op->rm), op->imm & 0xff, bits, kind));
    return op + 1;
}
const HgOpImpl hg_impl_MMX_SHIFT_IMM = {mmx_shift_imm, mmx_shift_imm, NULL, NULL};

H(MOVD_PqEd)
{
    mmx_enter(cpu);
    uint32_t v =
        (op->flags & OPF_MEM) ? hg_read32(cpu, op->seg, hg_ea(cpu, op)) : cpu->regs[op->rm];
    mmx_touch(cpu);
    mmx_set(cpu, op->reg, v);
    return op + 1;
}
MMX_IMPL(MOVD_PqEd);

H(MOVD_EdPq)
{
    mmx_enter(cpu);
    uint32_t v = (uint32_t)mmx_get(cpu, op->reg);
    if (op->flags & OPF_MEM)
        hg_write32(cpu, op->seg, hg_ea(cpu, op), v);
    else
        cpu->regs[op->rm] = v;
    mmx_touch(cpu);
    return op + 1;
}
MMX_IMPL(MOVD_EdPq);

H(MOVQ_PqQq)
{
    mmx_enter(cpu);
    uint64_t v = src_q(cpu, op);
    mmx_touch(cpu);
    mmx_set(cpu, op->reg, v);
    return op + 1;
}
MMX_IMPL(MOVQ_PqQq);

H(MOVQ_QqPq)
{
    mmx_enter(cpu);
    uint64_t v = mmx_get(cpu, op->reg);
    if (op->flags & OPF_MEM)
        fpu_write64(cpu, op->seg, hg_ea(cpu, op), v);
    else
        mmx_set(cpu, op->rm, v);
    mmx_touch(cpu);
    return op + 1;
}
MMX_IMPL(MOVQ_QqPq);

H(EMMS)
{
    mmx_enter(cpu);
    cpu->fpu.tw = 0xffff;
    return op + 1;
}
MMX_IMPL(EMMS);
