/* Multiplication and division: MUL, IMUL (one-, two- and three-operand forms), DIV and
 * IDIV on 8, 16 and 32 bits (Intel SDM Vol. 2A/2B "MUL", "IMUL", "DIV", "IDIV").
 *
 * MUL/IMUL set CF = OF when the high half is significant; SF, ZF, AF and PF are
 * undefined (we derive SF/ZF/PF from the low half and clear AF, lazily through
 * CC_MUL*). DIV/IDIV leave every arithmetic flag undefined and we leave them
 * unchanged. #DE for a zero divisor or a quotient that does not fit is raised before
 * any register is written.
 */
#include "intops.h"

enum { K_MUL, K_IMUL, K_DIV, K_IDIV };

ALWAYS_INLINE uint32_t read_src(HgCpu *cpu, const HgOp *op, int bits, bool mem)
{
    if (mem)
        return hg_read(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    return iop_get_reg(cpu, op->rm, bits);
}

ALWAYS_INLINE const HgOp *muldiv(HgCpu *cpu, const HgOp *op, int k, int bits, bool mem)
{
    uint32_t src = read_src(cpu, op, bits, mem);
    int si = iop_size_index(bits);
    uint32_t m = iop_mask(bits);

    if (k == K_MUL || k == K_IMUL) {
        uint64_t prod;
        bool ovf;
        if (k == K_MUL) {
            prod = (uint64_t)iop_get_reg(cpu, R_EAX, bits) * src;
            ovf = (prod >> bits) != 0;
        } else {
            int64_t p = (int64_t)iop_sext(iop_get_reg(cpu, R_EAX, bits), bits) *
                        iop_sext(src, bits);
            prod = (uint64_t)p;
            ovf = p != iop_sext((uint32_t)p, bits);
        }
        uint32_t lo = (uint32_t)prod & m;
        if (bits == 8) {
            hg_set_reg16(cpu, R_EAX, (uint16_t)prod);
        } else {
            iop_set_reg(cpu, R_EAX, lo, bits);
            iop_set_reg(cpu, R_EDX, (uint32_t)(prod >> bits) & m, bits);
        }
        hg_cc_set(cpu, CC_MUL8 + si, lo, ovf, 0);
        return op + 1;
    }

    /* Dividend: AX, DX:AX or EDX:EAX. */
    uint64_t dividend = bits == 8 ? hg_get_reg16(cpu, R_EAX)
                                  : (uint64_t)iop_get_reg(cpu, R_EDX, bits) << bits |
                                        iop_get_reg(cpu, R_EAX, bits);
    uint32_t q, r;
    if (src == 0)
        hg_raise(cpu, EX_DE, -1);
    if (k == K_DIV) {
        uint64_t qq = dividend / src;
        if (qq > m)
            hg_raise(cpu, EX_DE, -1);
        q = (uint32_t)qq;
        r = (uint32_t)(dividend % src);
    } else {
        int64_t n = bits == 8 ? (int16_t)dividend : bits == 16 ? (int32_t)dividend
                                                                : (int64_t)dividend;
        int64_t d = iop_sext(src, bits);
        /* INT64_MIN / -1 overflows in C too: it is a #DE for the guest anyway. */
        if (d == -1 && n == INT64_MIN)
            hg_raise(cpu, EX_DE, -1);
        int64_t qq = n / d;
        if (qq != iop_sext((uint32_t)qq, bits))
            hg_raise(cpu, EX_DE, -1);
        q = (uint32_t)qq & m;
        r = (uint32_t)(n % d) & m;
    }
    if (bits == 8) {
        hg_set_reg16(cpu, R_EAX, (uint16_t)(q | r << 8));
    } else {
        iop_set_reg(cpu, R_EAX, q, bits);
        iop_set_reg(cpu, R_EDX, r, bits);
    }
    return op + 1;
}

#define MULDIV_IMPLS(N, K)                                                                 \
    H(N##_b_r) { return muldiv(cpu, op, K, 8, false); }                                    \
    H(N##_b_m) { return muldiv(cpu, op, K, 8, true); }                                     \
    H(N##_w_r) { return muldiv(cpu, op, K, 16, false); }                                   \
    H(N##_w_m) { return muldiv(cpu, op, K, 16, true); }                                    \
    H(N##_d_r) { return muldiv(cpu, op, K, 32, false); }                                   \
    H(N##_d_m) { return muldiv(cpu, op, K, 32, true); }                                    \
    const HgOpImpl hg_impl_##N##_Eb = {N##_b_r, N##_b_r, N##_b_m, N##_b_m};                \
    const HgOpImpl hg_impl_##N##_Ev = {N##_w_r, N##_d_r, N##_w_m, N##_d_m};

MULDIV_IMPLS(MUL, K_MUL)
MULDIV_IMPLS(IMUL, K_IMUL)
MULDIV_IMPLS(DIV, K_DIV)
MULDIV_IMPLS(IDIV, K_IDIV)

/* IMUL Gv, Ev [, imm]: truncated signed product in the register. */
enum { I_NONE, I_IMM };

ALWAYS_INLINE const HgOp *imul_g(HgCpu *cpu, const HgOp *op, int bits, bool mem, int form)
{
    uint32_t src = read_src(cpu, op, bits, mem);
    uint32_t other = form == I_IMM ? op->imm : iop_get_reg(cpu, op->reg, bits);
    int64_t p = (int64_t)iop_sext(src, bits) * iop_sext(other, bits);
    uint32_t lo = (uint32_t)p & iop_mask(bits);
    iop_set_reg(cpu, op->reg, lo, bits);
    hg_cc_set(cpu, CC_MUL8 + iop_size_index(bits), lo, p != iop_sext((uint32_t)p, bits), 0);
    return op + 1;
}

H(imul_gw_r) { return imul_g(cpu, op, 16, false, I_NONE); }
H(imul_gw_m) { return imul_g(cpu, op, 16, true, I_NONE); }
H(imul_gd_r) { return imul_g(cpu, op, 32, false, I_NONE); }
H(imul_gd_m) { return imul_g(cpu, op, 32, true, I_NONE); }
H(imul_gwi_r) { return imul_g(cpu, op, 16, false, I_IMM); }
H(imul_gwi_m) { return imul_g(cpu, op, 16, true, I_IMM); }
H(imul_gdi_r) { return imul_g(cpu, op, 32, false, I_IMM); }
H(imul_gdi_m) { return imul_g(cpu, op, 32, true, I_IMM); }
const HgOpImpl hg_impl_IMUL_GvEv = {imul_gw_r, imul_gd_r, imul_gw_m, imul_gd_m};
const HgOpImpl hg_impl_IMUL_GvEvIv = {imul_gwi_r, imul_gdi_r, imul_gwi_m, imul_gdi_m};
