/* Bit test and scan: BT BTS BTR BTC with a register or immediate bit offset, BSF and
 * BSR (Intel SDM Vol. 2A "BT", "BTS", "BTR", "BTC", "BSF", "BSR").
 *
 * With a register offset and a memory operand the offset is a signed bit index into a
 * bit string starting at the operand: the access moves by (offset >> 4) * 2 or
 * (offset >> 5) * 4 bytes, wrapped to the address size. An immediate offset is taken
 * modulo the operand size. CF receives the bit; ZF is unchanged; OF, SF, AF and PF are
 * undefined and we leave them unchanged.
 * BSF/BSR leave the destination unchanged when the source is 0 (as P6 and later
 * processors do) and set ZF; the other flags are undefined (we set them as a logical
 * result of the source: CF = OF = 0, SF/PF of the source).
 */
#include "intops.h"

enum { K_BT, K_BTS, K_BTR, K_BTC };
enum { O_REG, O_IMM };

ALWAYS_INLINE void set_cf(HgCpu *cpu, bool cf)
{
    hg_cc_set_flags(cpu, (hg_cc_compute(cpu) & ~FL_CF) | (cf ? FL_CF : 0));
}

ALWAYS_INLINE uint32_t bit_apply(int k, uint32_t v, uint32_t mask)
{
    switch (k) {
    case K_BTS:
        return v | mask;
    case K_BTR:
        return v & ~mask;
    case K_BTC:
        return v ^ mask;
    default:
        return v;
    }
}

ALWAYS_INLINE const HgOp *bt(HgCpu *cpu, const HgOp *op, int k, int bits, bool mem, int osrc)
{
    uint32_t off = osrc == O_IMM ? op->imm : iop_get_reg(cpu, op->reg, bits);
    uint32_t mask = 1u << (off & (bits - 1));
    if (!mem) {
        uint32_t v = iop_get_reg(cpu, op->rm, bits);
        if (k != K_BT)
            iop_set_reg(cpu, op->rm, bit_apply(k, v, mask), bits);
        set_cf(cpu, v & mask);
        return op + 1;
    }
    uint32_t ea = hg_ea(cpu, op);
    if (osrc == O_REG) {
        int32_t disp = iop_sext(off, bits) >> (bits == 16 ? 4 : 5);
        ea += (uint32_t)disp * (bits / 8);
        if (op->flags & OPF_ADDR16)
            ea &= 0xffff;
    }
    if (k == K_BT) {
        set_cf(cpu, hg_read(cpu, op->seg, ea, bits / 8) & mask);
        return op + 1;
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, ea, bits / 8);
    uint32_t v = hg_lin_read(cpu, lin, bits / 8);
    hg_lin_write(cpu, lin, bit_apply(k, v, mask), bits / 8);
    set_cf(cpu, v & mask);
    return op + 1;
}

#define BT_FORM(N, K, O, ON)                                                               \
    H(N##_w##ON##_r) { return bt(cpu, op, K, 16, false, O); }                              \
    H(N##_w##ON##_m) { return bt(cpu, op, K, 16, true, O); }                               \
    H(N##_d##ON##_r) { return bt(cpu, op, K, 32, false, O); }                              \
    H(N##_d##ON##_m) { return bt(cpu, op, K, 32, true, O); }                               \
    const HgOpImpl hg_impl_##N##_Ev##ON = {N##_w##ON##_r, N##_d##ON##_r, N##_w##ON##_m,     \
                                           N##_d##ON##_m};
#define BT_IMPLS(N, K) BT_FORM(N, K, O_REG, Gv) BT_FORM(N, K, O_IMM, Ib)

BT_IMPLS(BT, K_BT)
BT_IMPLS(BTS, K_BTS)
BT_IMPLS(BTR, K_BTR)
BT_IMPLS(BTC, K_BTC)

ALWAYS_INLINE const HgOp *bsx(HgCpu *cpu, const HgOp *op, bool rev, int bits, bool mem)
{
    uint32_t v = mem ? hg_read(cpu, op->seg, hg_ea(cpu, op), bits / 8)
                     : iop_get_reg(cpu, op->rm, bits);
    hg_cc_set(cpu, bits == 16 ? CC_LOGIC16 : CC_LOGIC32, v, 0, 0);
    if (v) {
        uint32_t idx = rev ? 31 - (uint32_t)__builtin_clz(v) : (uint32_t)__builtin_ctz(v);
        iop_set_reg(cpu, op->reg, idx, bits);
    }
    return op + 1;
}

H(bsf_w_r) { return bsx(cpu, op, false, 16, false); }
H(bsf_w_m) { return bsx(cpu, op, false, 16, true); }
H(bsf_d_r) { return bsx(cpu, op, false, 32, false); }
H(bsf_d_m) { return bsx(cpu, op, false, 32, true); }
H(bsr_w_r) { return bsx(cpu, op, true, 16, false); }
H(bsr_w_m) { return bsx(cpu, op, true, 16, true); }
H(bsr_d_r) { return bsx(cpu, op, true, 32, false); }
H(bsr_d_m) { return bsx(cpu, op, true, 32, true); }
const HgOpImpl hg_impl_BSF_GvEv = {bsf_w_r, bsf_d_r, bsf_w_m, bsf_d_m};
const HgOpImpl hg_impl_BSR_GvEv = {bsr_w_r, bsr_d_r, bsr_w_m, bsr_d_m};
