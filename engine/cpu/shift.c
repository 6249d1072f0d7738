/* Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR with a count of 1, CL or an
 * immediate, and the double-precision shifts SHLD/SHRD (Intel SDM Vol. 2B, "RCL/RCR/
 * ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
 *
 * The count is masked to 5 bits; a masked count of 0 changes neither the operand nor
 * the flags (the memory operand is still checked for writing, as it is accessed).
 * Shifts set flags lazily (CC_SHL*, CC_SHR*); OF is architecturally defined for a
 * count of 1 only, and for other counts we keep the count-1 formula (the result of the
 * last one-bit step), which is what current Intel and AMD parts commonly produce. AF
 * is undefined for shifts and cleared. Rotates change only CF and OF. RCL/RCR rotate
 * through CF over 9/17/33 bits, so their 8- and 16-bit counts are taken mod 9 and 17.
 * SHLD/SHRD with a 16-bit operand and a count above 16 are undefined; we shift the
 * 48-bit pattern dst:src:dst, as P6-family and later Intel hardware does (the Pentium
 * and the AMD parts we tested shift dst:src:src, so vectors recorded there differ).
 */
#include "intops.h"

enum { K_ROL, K_ROR, K_RCL, K_RCR, K_SHL, K_SHR, K_SAL, K_SAR };
enum { C_ONE, C_CL, C_IMM };

ALWAYS_INLINE unsigned shift_count(HgCpu *cpu, const HgOp *op, int csrc)
{
    if (csrc == C_ONE)
        return 1;
    if (csrc == C_CL)
        return cpu->regs[R_ECX] & 31;
    return op->imm & 31;
}

/* Rotates: CF and OF replace their old values, the other flags are kept. */
ALWAYS_INLINE void rot_flags(HgCpu *cpu, uint32_t old, bool cf, bool of)
{
    hg_cc_set_flags(cpu, (old & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
}

/* Shifts v (already masked to bits) by count 1..31 and sets the flags. */
ALWAYS_INLINE uint32_t do_shift(HgCpu *cpu, int k, uint32_t v, unsigned c, int bits)
{
    uint32_t m = iop_mask(bits), r;
    int si = iop_size_index(bits);
    switch (k) {
    case K_SHL:
    case K_SAL:
        r = (v << c) & m;
        hg_cc_set(cpu, CC_SHL8 + si, r, v << (c - 1), 0);
        return r;
    case K_SHR:
        r = v >> c;
        hg_cc_set(cpu, CC_SHR8 + si, r, v >> (c - 1), 0);
        return r;
    case K_SAR: {
        int32_t s = iop_sext(v, bits);
        r = (uint32_t)(s >> c) & m;
        hg_cc_set(cpu, CC_SHR8 + si, r, (uint32_t)(s >> (c - 1)), 0);
        return r;
    }
    case K_ROL: {
        uint32_t old = hg_cc_compute(cpu);
        unsigned n = c & (bits - 1);
        r = n ? ((v << n) | (v >> (bits - n))) & m : v;
        bool cf = r & 1;
        rot_flags(cpu, old, cf, ((r >> (bits - 1)) & 1) ^ cf);
        return r;
    }
    case K_ROR: {
        uint32_t old = hg_cc_compute(cpu);
        unsigned n = c & (bits - 1);
        r = n ? ((v >> n) | (v << (bits - n))) & m : v;
        bool msb = (r >> (bits - 1)) & 1;
        rot_flags(cpu, old, msb, msb ^ ((r >> (bits - 2)) & 1));
        return r;
    }
    case K_RCL:
    case K_RCR: {
        uint32_t old = hg_cc_compute(cpu);
        unsigned n = bits == 8 ? c % 9 : bits == 16 ? c % 17 : c;
        uint64_t x = v | (uint64_t)(old & FL_CF) << bits;
        uint64_t wm = (2ull << bits) - 1; /* bits + 1 wide */
        if (n) {
            if (k == K_RCL)
                x = ((x << n) | (x >> (bits + 1 - n))) & wm;
            else
                x = ((x >> n) | (x << (bits + 1 - n))) & wm;
        }
        r = (uint32_t)x & m;
        bool cf = (x >> bits) & 1;
        bool msb = (r >> (bits - 1)) & 1;
        /* RCL: OF = MSB(result) ^ CF; RCR: OF = the two top bits of the result differ
         * (equal to MSB(dest) ^ CF before a one-bit rotate). */
        bool of = k == K_RCL ? msb ^ cf : msb ^ ((r >> (bits - 2)) & 1);
        rot_flags(cpu, old, cf, of);
        return r;
    }
    }
    __builtin_unreachable();
}

ALWAYS_INLINE const HgOp *shift_e(HgCpu *cpu, const HgOp *op, int k, int bits, bool mem,
                                  int csrc)
{
    unsigned c = shift_count(cpu, op, csrc);
    if (!mem) {
        if (c)
            iop_set_reg(cpu, op->rm, do_shift(cpu, k, iop_get_reg(cpu, op->rm, bits), c, bits),
                        bits);
        return op + 1;
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    uint32_t v = hg_lin_read(cpu, lin, bits / 8);
    if (c)
        hg_lin_write(cpu, lin, do_shift(cpu, k, v, c, bits), bits / 8);
    return op + 1;
}

#define SHIFT_FORM(N, K, C, CN)                                                            \
    H(N##_b##CN##_r) { return shift_e(cpu, op, K, 8, false, C); }                         \
    H(N##_b##CN##_m) { return shift_e(cpu, op, K, 8, true, C); }                          \
    H(N##_w##CN##_r) { return shift_e(cpu, op, K, 16, false, C); }                        \
    H(N##_w##CN##_m) { return shift_e(cpu, op, K, 16, true, C); }                         \
    H(N##_d##CN##_r) { return shift_e(cpu, op, K, 32, false, C); }                        \
    H(N##_d##CN##_m) { return shift_e(cpu, op, K, 32, true, C); }                         \
    const HgOpImpl hg_impl_##N##_Eb##CN = {N##_b##CN##_r, N##_b##CN##_r, N##_b##CN##_m,    \
                                           N##_b##CN##_m};                                 \
    const HgOpImpl hg_impl_##N##_Ev##CN = {N##_w##CN##_r, N##_d##CN##_r, N##_w##CN##_m,    \
                                           N##_d##CN##_m};

#define SHIFT_IMPLS(N, K)                                                                  \
    SHIFT_FORM(N, K, C_ONE, 1)                                                             \
    SHIFT_FORM(N, K, C_CL, CL)                                                             \
    SHIFT_FORM(N, K, C_IMM, Ib)

SHIFT_IMPLS(ROL, K_ROL)
SHIFT_IMPLS(ROR, K_ROR)
SHIFT_IMPLS(RCL, K_RCL)
SHIFT_IMPLS(RCR, K_RCR)
SHIFT_IMPLS(SHL, K_SHL)
SHIFT_IMPLS(SHR, K_SHR)
SHIFT_IMPLS(SAR, K_SAR)

/* ---- SHLD / SHRD ---- */

/* dst shifted by c (1..31) with bits of src coming in; sets the flags. */
ALWAYS_INLINE uint32_t do_shxd(HgCpu *cpu, bool left, uint32_t dst, uint32_t src, unsigned c,
                               int bits)
{
    uint32_t r;
    if (bits == 16) {
        uint64_t t = (uint64_t)dst << 32 | (uint64_t)src << 16 | dst;
        if (left) {
            r = (uint32_t)(t >> (32 - c)) & 0xffff;
            uint32_t cf = (uint32_t)(t >> (48 - c)) & 1;
            hg_cc_set(cpu, CC_SHL16, r, cf << 15, 0);
        } else {
            r = (uint32_t)(t >> c) & 0xffff;
            hg_cc_set(cpu, CC_SHR16, r, (uint32_t)(t >> (c - 1)) & 0xffff, 0);
        }
        return r;
    }
    if (left) {
        r = (dst << c) | (src >> (32 - c));
        hg_cc_set(cpu, CC_SHL32, r, dst << (c - 1), 0);
    } else {
        uint64_t t = (uint64_t)src << 32 | dst;
        r = (uint32_t)(t >> c);
        hg_cc_set(cpu, CC_SHR32, r, (uint32_t)(t >> (c - 1)), 0);
    }
    return r;
}

ALWAYS_INLINE const HgOp *shxd(HgCpu *cpu, const HgOp *op, bool left, int bits, bool mem,
                               int csrc)
{
    unsigned c = shift_count(cpu, op, csrc);
    uint32_t src = iop_get_reg(cpu, op->reg, bits);
    if (!mem) {
        if (c)
            iop_set_reg(cpu, op->rm,
                        do_shxd(cpu, left, iop_get_reg(cpu, op->rm, bits), src, c, bits), bits);
        return op + 1;
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    uint32_t v = hg_lin_read(cpu, lin, bits / 8);
    if (c)
        hg_lin_write(cpu, lin, do_shxd(cpu, left, v, src, c, bits), bits / 8);
    return op + 1;
}

#define SHXD_IMPLS(N, L, C, CN)                                                            \
    H(N##_w##CN##_r) { return shxd(cpu, op, L, 16, false, C); }                           \
    H(N##_w##CN##_m) { return shxd(cpu, op, L, 16, true, C); }                            \
    H(N##_d##CN##_r) { return shxd(cpu, op, L, 32, false, C); }                           \
    H(N##_d##CN##_m) { return shxd(cpu, op, L, 32, true, C); }                            \
    const HgOpImpl hg_impl_##N##_EvGv##CN = {N##_w##CN##_r, N##_d##CN##_r, N##_w##CN##_m,  \
                                             N##_d##CN##_m};

SHXD_IMPLS(SHLD, true, C_IMM, Ib)
SHXD_IMPLS(SHLD, true, C_CL, CL)
SHXD_IMPLS(SHRD, false, C_IMM, Ib)
SHXD_IMPLS(SHRD, false, C_CL, CL)

/* /6 is an undocumented alias of SHL (SAL). */
const HgOpImpl hg_impl_SAL_Eb1 = {SHL_b1_r, SHL_b1_r, SHL_b1_m, SHL_b1_m};
const HgOpImpl hg_impl_SAL_Ev1 = {SHL_w1_r, SHL_d1_r, SHL_w1_m, SHL_d1_m};
const HgOpImpl hg_impl_SAL_EbCL = {SHL_bCL_r, SHL_bCL_r, SHL_bCL_m, SHL_bCL_m};
const HgOpImpl hg_impl_SAL_EvCL = {SHL_wCL_r, SHL_dCL_r, SHL_wCL_m, SHL_dCL_m};
const HgOpImpl hg_impl_SAL_EbIb = {SHL_bIb_r, SHL_bIb_r, SHL_bIb_m, SHL_bIb_m};
const HgOpImpl hg_impl_SAL_EvIb = {SHL_wIb_r, SHL_dIb_r, SHL_wIb_m, SHL_dIb_m};
