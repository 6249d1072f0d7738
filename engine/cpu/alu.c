/* Integer arithmetic, logic, data movement and flag instructions: ADD OR ADC SBB AND
 * SUB XOR CMP TEST INC DEC NOT NEG, MOV MOVZX MOVSX LEA XCHG XADD CMPXCHG CMPXCHG8B,
 * CMOVcc SETcc, CBW/CWDE CWD/CDQ, LAHF SAHF SALC XLAT, CLC STC CMC CLD STD, BSWAP and
 * the hint NOPs (Intel SDM Vol. 2A/2B instruction pages).
 *
 * Handlers are generated from a few always-inline templates with constant operand
 * size and form, so each specialised handler compiles to straight-line code.
 */
#include "intops.h"

enum { K_ADD, K_OR, K_ADC, K_SBB, K_AND, K_SUB, K_XOR, K_CMP, K_TEST };

ALWAYS_INLINE uint32_t alu(HgCpu *cpu, int k, uint32_t a, uint32_t b, int bits)
{
    uint32_t m = iop_mask(bits), r;
    int si = iop_size_index(bits);
    switch (k) {
    case K_ADD:
        r = (a + b) & m;
        hg_cc_set(cpu, CC_ADD8 + si, r, a, b);
        break;
    case K_ADC: {
        uint32_t c = hg_cc_cf_fast(cpu);
        r = (a + b + c) & m;
        hg_cc_set(cpu, CC_ADC8 + si, r, a, b);
        break;
    }
    case K_SBB: {
        uint32_t c = hg_cc_cf_fast(cpu);
        r = (a - b - c) & m;
        hg_cc_set(cpu, CC_SBB8 + si, r, a, b);
        break;
    }
    case K_SUB:
    case K_CMP:
        r = (a - b) & m;
        hg_cc_set(cpu, CC_SUB8 + si, r, a, b);
        break;
    case K_OR:
        r = a | b;
        hg_cc_set(cpu, CC_LOGIC8 + si, r, 0, 0);
        break;
    case K_XOR:
        r = a ^ b;
        hg_cc_set(cpu, CC_LOGIC8 + si, r, 0, 0);
        break;
    default: /* AND, TEST */
        r = a & b;
        hg_cc_set(cpu, CC_LOGIC8 + si, r, 0, 0);
        break;
    }
    return r;
}

ALWAYS_INLINE bool alu_writes(int k)
{
    return k != K_CMP && k != K_TEST;
}

enum { SRC_REG, SRC_IMM };

/* op E, G/imm: the destination is the ModRM r/m operand. */
ALWAYS_INLINE const HgOp *alu_e(HgCpu *cpu, const HgOp *op, int k, int bits, bool mem, int src)
{
    uint32_t b = src == SRC_REG ? iop_get_reg(cpu, op->reg, bits) : (op->imm & iop_mask(bits));
    if (!mem) {
        uint32_t r = alu(cpu, k, iop_get_reg(cpu, op->rm, bits), b, bits);
        if (alu_writes(k))
            iop_set_reg(cpu, op->rm, r, bits);
        return hg_next(cpu, op);
    }
    uint32_t off = hg_ea(cpu, op);
    if (!alu_writes(k)) {
        alu(cpu, k, hg_read(cpu, op->seg, off, bits / 8), b, bits);
        return hg_next(cpu, op);
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, off, bits / 8);
    uint32_t r = alu(cpu, k, hg_lin_read(cpu, lin, bits / 8), b, bits);
    hg_lin_write(cpu, lin, r, bits / 8);
    return hg_next(cpu, op);
}

/* op G, E: the destination is the ModRM reg register. */
ALWAYS_INLINE const HgOp *alu_g(HgCpu *cpu, const HgOp *op, int k, int bits, bool mem)
{
    uint32_t b = mem ? hg_read(cpu, op->seg, hg_ea(cpu, op), bits / 8) : iop_get_reg(cpu, op->rm, bits);
    uint32_t r = alu(cpu, k, iop_get_reg(cpu, op->reg, bits), b, bits);
    if (alu_writes(k))
        iop_set_reg(cpu, op->reg, r, bits);
    return hg_next(cpu, op);
}

/* op AL/eAX, imm */
ALWAYS_INLINE const HgOp *alu_acc(HgCpu *cpu, const HgOp *op, int k, int bits)
{
    uint32_t r = alu(cpu, k, iop_get_reg(cpu, R_EAX, bits), op->imm & iop_mask(bits), bits);
    if (alu_writes(k))
        iop_set_reg(cpu, R_EAX, r, bits);
    return hg_next(cpu, op);
}

/* General form of a memory handler whose fast form (below) tail-calls it when an
 * access cannot take the fast path. */
#define HG(name) static __attribute__((noinline)) const HgOp *name(HgCpu *cpu, const HgOp *op)

/* Fast forms of the memory-operand templates: flat segment and TLB hit, checked
 * without faulting (hg_read_ptr and friends); anything else runs the general form. */
ALWAYS_INLINE const HgOp *alu_e_fast(HgCpu *cpu, const HgOp *op, int k, int bits, int src,
                                     HgOpFn general)
{
    uint32_t b = src == SRC_REG ? iop_get_reg(cpu, op->reg, bits) : (op->imm & iop_mask(bits));
    uint32_t off = hg_ea(cpu, op);
    if (!alu_writes(k)) {
        const uint8_t *p = hg_read_ptr(cpu, op->seg, off, bits / 8);
        if (__builtin_expect(!p, 0))
            return general(cpu, op);
        alu(cpu, k, hg_host_load(p, bits / 8), b, bits);
        return hg_next(cpu, op);
    }
    uint8_t *p = hg_rmw_ptr(cpu, op->seg, off, bits / 8);
    if (__builtin_expect(!p, 0))
        return general(cpu, op);
    hg_host_store(p, alu(cpu, k, hg_host_load(p, bits / 8), b, bits), bits / 8);
    return hg_next(cpu, op);
}

ALWAYS_INLINE const HgOp *alu_g_fast(HgCpu *cpu, const HgOp *op, int k, int bits, HgOpFn general)
{
    const uint8_t *p = hg_read_ptr(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    if (__builtin_expect(!p, 0))
        return general(cpu, op);
    uint32_t r = alu(cpu, k, iop_get_reg(cpu, op->reg, bits), hg_host_load(p, bits / 8), bits);
    if (alu_writes(k))
        iop_set_reg(cpu, op->reg, r, bits);
    return hg_next(cpu, op);
}

#define ALU_IMPLS(N, K)                                                                    \
    H(N##_EbGb_r) { return alu_e(cpu, op, K, 8, false, SRC_REG); }                         \
    HG(N##_EbGb_mg) { return alu_e(cpu, op, K, 8, true, SRC_REG); }                        \
    H(N##_EbGb_m) { return alu_e_fast(cpu, op, K, 8, SRC_REG, N##_EbGb_mg); }              \
    H(N##_EwGw_r) { return alu_e(cpu, op, K, 16, false, SRC_REG); }                        \
    HG(N##_EwGw_mg) { return alu_e(cpu, op, K, 16, true, SRC_REG); }                       \
    H(N##_EwGw_m) { return alu_e_fast(cpu, op, K, 16, SRC_REG, N##_EwGw_mg); }             \
    H(N##_EdGd_r) { return alu_e(cpu, op, K, 32, false, SRC_REG); }                        \
    HG(N##_EdGd_mg) { return alu_e(cpu, op, K, 32, true, SRC_REG); }                       \
    H(N##_EdGd_m) { return alu_e_fast(cpu, op, K, 32, SRC_REG, N##_EdGd_mg); }             \
    H(N##_EbIb_r) { return alu_e(cpu, op, K, 8, false, SRC_IMM); }                         \
    HG(N##_EbIb_mg) { return alu_e(cpu, op, K, 8, true, SRC_IMM); }                        \
    H(N##_EbIb_m) { return alu_e_fast(cpu, op, K, 8, SRC_IMM, N##_EbIb_mg); }              \
    H(N##_EwIw_r) { return alu_e(cpu, op, K, 16, false, SRC_IMM); }                        \
    HG(N##_EwIw_mg) { return alu_e(cpu, op, K, 16, true, SRC_IMM); }                       \
    H(N##_EwIw_m) { return alu_e_fast(cpu, op, K, 16, SRC_IMM, N##_EwIw_mg); }             \
    H(N##_EdId_r) { return alu_e(cpu, op, K, 32, false, SRC_IMM); }                        \
    HG(N##_EdId_mg) { return alu_e(cpu, op, K, 32, true, SRC_IMM); }                       \
    H(N##_EdId_m) { return alu_e_fast(cpu, op, K, 32, SRC_IMM, N##_EdId_mg); }             \
    H(N##_GbEb_r) { return alu_g(cpu, op, K, 8, false); }                                  \
    HG(N##_GbEb_mg) { return alu_g(cpu, op, K, 8, true); }                                 \
    H(N##_GbEb_m) { return alu_g_fast(cpu, op, K, 8, N##_GbEb_mg); }                       \
    H(N##_GwEw_r) { return alu_g(cpu, op, K, 16, false); }                                 \
    HG(N##_GwEw_mg) { return alu_g(cpu, op, K, 16, true); }                                \
    H(N##_GwEw_m) { return alu_g_fast(cpu, op, K, 16, N##_GwEw_mg); }                      \
    H(N##_GdEd_r) { return alu_g(cpu, op, K, 32, false); }                                 \
    HG(N##_GdEd_mg) { return alu_g(cpu, op, K, 32, true); }                                \
    H(N##_GdEd_m) { return alu_g_fast(cpu, op, K, 32, N##_GdEd_mg); }                      \
    H(N##_ALIb_h) { return alu_acc(cpu, op, K, 8); }                                       \
    H(N##_AXIw_h) { return alu_acc(cpu, op, K, 16); }                                      \
    H(N##_EAXId_h) { return alu_acc(cpu, op, K, 32); }                                     \
    const HgOpImpl hg_impl_##N##_EbGb = {N##_EbGb_r, N##_EbGb_r, N##_EbGb_m, N##_EbGb_m};  \
    const HgOpImpl hg_impl_##N##_EvGv = {N##_EwGw_r, N##_EdGd_r, N##_EwGw_m, N##_EdGd_m};  \
    const HgOpImpl hg_impl_##N##_EbIb = {N##_EbIb_r, N##_EbIb_r, N##_EbIb_m, N##_EbIb_m};  \
    const HgOpImpl hg_impl_##N##_EvIv = {N##_EwIw_r, N##_EdId_r, N##_EwIw_m, N##_EdId_m};  \
    const HgOpImpl hg_impl_##N##_GbEb = {N##_GbEb_r, N##_GbEb_r, N##_GbEb_m, N##_GbEb_m};  \
    const HgOpImpl hg_impl_##N##_GvEv = {N##_GwEw_r, N##_GdEd_r, N##_GwEw_m, N##_GdEd_m};  \
    const HgOpImpl hg_impl_##N##_ALIb = {N##_ALIb_h, N##_ALIb_h, NULL, NULL};              \
    const HgOpImpl hg_impl_##N##_eAXIv = {N##_AXIw_h, N##_EAXId_h, NULL, NULL};

ALU_IMPLS(ADD, K_ADD)
ALU_IMPLS(OR, K_OR)
ALU_IMPLS(ADC, K_ADC)
ALU_IMPLS(SBB, K_SBB)
ALU_IMPLS(AND, K_AND)
ALU_IMPLS(SUB, K_SUB)
ALU_IMPLS(XOR, K_XOR)
ALU_IMPLS(CMP, K_CMP)
ALU_IMPLS(TEST, K_TEST)

/* ---- one-operand arithmetic ---- */

enum { U_INC, U_DEC, U_NOT, U_NEG };

ALWAYS_INLINE uint32_t unary(HgCpu *cpu, int k, uint32_t a, int bits)
{
    uint32_t m = iop_mask(bits), r;
    int si = iop_size_index(bits);
    switch (k) {
    case U_INC: {
        uint32_t cf = hg_cc_cf_fast(cpu) ? FL_CF : 0;
        r = (a + 1) & m;
        hg_cc_set(cpu, CC_INC8 + si, r, cf, 0);
        break;
    }
    case U_DEC: {
        uint32_t cf = hg_cc_cf_fast(cpu) ? FL_CF : 0;
        r = (a - 1) & m;
        hg_cc_set(cpu, CC_DEC8 + si, r, cf, 0);
        break;
    }
    case U_NOT:
        r = ~a & m;
        break;
    default:
        r = (0 - a) & m;
        hg_cc_set(cpu, CC_SUB8 + si, r, 0, a);
        break;
    }
    return r;
}

ALWAYS_INLINE const HgOp *unary_e(HgCpu *cpu, const HgOp *op, int k, int bits, bool mem)
{
    if (!mem) {
        iop_set_reg(cpu, op->rm, unary(cpu, k, iop_get_reg(cpu, op->rm, bits), bits), bits);
        return hg_next(cpu, op);
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    uint32_t r = unary(cpu, k, hg_lin_read(cpu, lin, bits / 8), bits);
    hg_lin_write(cpu, lin, r, bits / 8);
    return hg_next(cpu, op);
}

#define UNARY_IMPLS(N, K)                                                                  \
    H(N##_b_r) { return unary_e(cpu, op, K, 8, false); }                                   \
    H(N##_b_m) { return unary_e(cpu, op, K, 8, true); }                                    \
    H(N##_w_r) { return unary_e(cpu, op, K, 16, false); }                                  \
    H(N##_w_m) { return unary_e(cpu, op, K, 16, true); }                                   \
    H(N##_d_r) { return unary_e(cpu, op, K, 32, false); }                                  \
    H(N##_d_m) { return unary_e(cpu, op, K, 32, true); }                                   \
    const HgOpImpl hg_impl_##N##_Eb = {N##_b_r, N##_b_r, N##_b_m, N##_b_m};                \
    const HgOpImpl hg_impl_##N##_Ev = {N##_w_r, N##_d_r, N##_w_m, N##_d_m};

UNARY_IMPLS(INC, U_INC)
UNARY_IMPLS(DEC, U_DEC)
UNARY_IMPLS(NOT, U_NOT)
UNARY_IMPLS(NEG, U_NEG)

H(inc_zw) { hg_set_reg16(cpu, op->reg, (uint16_t)unary(cpu, U_INC, hg_get_reg16(cpu, op->reg), 16)); return hg_next(cpu, op); }
H(dec_zw) { hg_set_reg16(cpu, op->reg, (uint16_t)unary(cpu, U_DEC, hg_get_reg16(cpu, op->reg), 16)); return hg_next(cpu, op); }
/* The 32-bit forms sit in every loop: when CF is not known inline they leave through a
 * tail call, so the common path needs no stack frame. */
static __attribute__((noinline)) const HgOp *inc_zd_slow(HgCpu *cpu, const HgOp *op)
{
    cpu->regs[op->reg] = unary(cpu, U_INC, cpu->regs[op->reg], 32);
    return hg_next(cpu, op);
}
static __attribute__((noinline)) const HgOp *dec_zd_slow(HgCpu *cpu, const HgOp *op)
{
    cpu->regs[op->reg] = unary(cpu, U_DEC, cpu->regs[op->reg], 32);
    return hg_next(cpu, op);
}
H(inc_zd)
{
    int cf = hg_cc_cf_try(cpu);
    if (__builtin_expect(cf < 0, 0))
        return inc_zd_slow(cpu, op);
    uint32_t r = cpu->regs[op->reg] + 1;
    hg_cc_set(cpu, CC_INC32, r, cf ? FL_CF : 0, 0);
    cpu->regs[op->reg] = r;
    return hg_next(cpu, op);
}
H(dec_zd)
{
    int cf = hg_cc_cf_try(cpu);
    if (__builtin_expect(cf < 0, 0))
        return dec_zd_slow(cpu, op);
    uint32_t r = cpu->regs[op->reg] - 1;
    hg_cc_set(cpu, CC_DEC32, r, cf ? FL_CF : 0, 0);
    cpu->regs[op->reg] = r;
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_INC_Zv = {inc_zw, inc_zd, NULL, NULL};
const HgOpImpl hg_impl_DEC_Zv = {dec_zw, dec_zd, NULL, NULL};

/* ---- data movement ---- */

ALWAYS_INLINE const HgOp *mov_eg(HgCpu *cpu, const HgOp *op, int bits, bool mem, int src)
{
    uint32_t v = src == SRC_REG ? iop_get_reg(cpu, op->reg, bits) : op->imm;
    if (mem)
        hg_write(cpu, op->seg, hg_ea(cpu, op), v, bits / 8);
    else
        iop_set_reg(cpu, op->rm, v, bits);
    return hg_next(cpu, op);
}

ALWAYS_INLINE const HgOp *mov_ge(HgCpu *cpu, const HgOp *op, int bits, bool mem)
{
    uint32_t v = mem ? hg_read(cpu, op->seg, hg_ea(cpu, op), bits / 8) : iop_get_reg(cpu, op->rm, bits);
    iop_set_reg(cpu, op->reg, v, bits);
    return hg_next(cpu, op);
}

ALWAYS_INLINE const HgOp *mov_eg_fast(HgCpu *cpu, const HgOp *op, int bits, int src,
                                      HgOpFn general)
{
    uint8_t *p = hg_write_ptr(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    if (__builtin_expect(!p, 0))
        return general(cpu, op);
    hg_host_store(p, src == SRC_REG ? iop_get_reg(cpu, op->reg, bits) : op->imm, bits / 8);
    return hg_next(cpu, op);
}

ALWAYS_INLINE const HgOp *mov_ge_fast(HgCpu *cpu, const HgOp *op, int bits, HgOpFn general)
{
    const uint8_t *p = hg_read_ptr(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    if (__builtin_expect(!p, 0))
        return general(cpu, op);
    iop_set_reg(cpu, op->reg, hg_host_load(p, bits / 8), bits);
    return hg_next(cpu, op);
}

H(mov_EbGb_r) { return mov_eg(cpu, op, 8, false, SRC_REG); }
HG(mov_EbGb_mg) { return mov_eg(cpu, op, 8, true, SRC_REG); }
H(mov_EbGb_m) { return mov_eg_fast(cpu, op, 8, SRC_REG, mov_EbGb_mg); }
H(mov_EwGw_r) { return mov_eg(cpu, op, 16, false, SRC_REG); }
HG(mov_EwGw_mg) { return mov_eg(cpu, op, 16, true, SRC_REG); }
H(mov_EwGw_m) { return mov_eg_fast(cpu, op, 16, SRC_REG, mov_EwGw_mg); }
H(mov_EdGd_r) { return mov_eg(cpu, op, 32, false, SRC_REG); }
HG(mov_EdGd_mg) { return mov_eg(cpu, op, 32, true, SRC_REG); }
H(mov_EdGd_m) { return mov_eg_fast(cpu, op, 32, SRC_REG, mov_EdGd_mg); }
H(mov_EbIb_r) { return mov_eg(cpu, op, 8, false, SRC_IMM); }
HG(mov_EbIb_mg) { return mov_eg(cpu, op, 8, true, SRC_IMM); }
H(mov_EbIb_m) { return mov_eg_fast(cpu, op, 8, SRC_IMM, mov_EbIb_mg); }
H(mov_EwIw_r) { return mov_eg(cpu, op, 16, false, SRC_IMM); }
HG(mov_EwIw_mg) { return mov_eg(cpu, op, 16, true, SRC_IMM); }
H(mov_EwIw_m) { return mov_eg_fast(cpu, op, 16, SRC_IMM, mov_EwIw_mg); }
H(mov_EdId_r) { return mov_eg(cpu, op, 32, false, SRC_IMM); }
HG(mov_EdId_mg) { return mov_eg(cpu, op, 32, true, SRC_IMM); }
H(mov_EdId_m) { return mov_eg_fast(cpu, op, 32, SRC_IMM, mov_EdId_mg); }
H(mov_GbEb_r) { return mov_ge(cpu, op, 8, false); }
HG(mov_GbEb_mg) { return mov_ge(cpu, op, 8, true); }
H(mov_GbEb_m) { return mov_ge_fast(cpu, op, 8, mov_GbEb_mg); }
H(mov_GwEw_r) { return mov_ge(cpu, op, 16, false); }
HG(mov_GwEw_mg) { return mov_ge(cpu, op, 16, true); }
H(mov_GwEw_m) { return mov_ge_fast(cpu, op, 16, mov_GwEw_mg); }
H(mov_GdEd_r) { return mov_ge(cpu, op, 32, false); }
HG(mov_GdEd_mg) { return mov_ge(cpu, op, 32, true); }
H(mov_GdEd_m) { return mov_ge_fast(cpu, op, 32, mov_GdEd_mg); }
const HgOpImpl hg_impl_MOV_EbGb = {mov_EbGb_r, mov_EbGb_r, mov_EbGb_m, mov_EbGb_m};
const HgOpImpl hg_impl_MOV_EvGv = {mov_EwGw_r, mov_EdGd_r, mov_EwGw_m, mov_EdGd_m};
const HgOpImpl hg_impl_MOV_EbIb = {mov_EbIb_r, mov_EbIb_r, mov_EbIb_m, mov_EbIb_m};
const HgOpImpl hg_impl_MOV_EvIv = {mov_EwIw_r, mov_EdId_r, mov_EwIw_m, mov_EdId_m};
const HgOpImpl hg_impl_MOV_GbEb = {mov_GbEb_r, mov_GbEb_r, mov_GbEb_m, mov_GbEb_m};
const HgOpImpl hg_impl_MOV_GvEv = {mov_GwEw_r, mov_GdEd_r, mov_GwEw_m, mov_GdEd_m};

H(mov_zb) { hg_set_reg8(cpu, op->reg, (uint8_t)op->imm); return hg_next(cpu, op); }
H(mov_zw) { hg_set_reg16(cpu, op->reg, (uint16_t)op->imm); return hg_next(cpu, op); }
H(mov_zd) { cpu->regs[op->reg] = op->imm; return hg_next(cpu, op); }
const HgOpImpl hg_impl_MOV_ZbIb = {mov_zb, mov_zb, NULL, NULL};
const HgOpImpl hg_impl_MOV_ZvIv = {mov_zw, mov_zd, NULL, NULL};

/* A0-A3: moffs forms; the offset is in op->disp. */
H(mov_al_ob) { hg_set_reg8(cpu, R_EAX, hg_read8(cpu, op->seg, op->disp)); return hg_next(cpu, op); }
H(mov_ax_ow) { hg_set_reg16(cpu, R_EAX, hg_read16(cpu, op->seg, op->disp)); return hg_next(cpu, op); }
H(mov_eax_od) { cpu->regs[R_EAX] = hg_read32(cpu, op->seg, op->disp); return hg_next(cpu, op); }
H(mov_ob_al) { hg_write8(cpu, op->seg, op->disp, hg_get_reg8(cpu, R_EAX)); return hg_next(cpu, op); }
H(mov_ow_ax) { hg_write16(cpu, op->seg, op->disp, hg_get_reg16(cpu, R_EAX)); return hg_next(cpu, op); }
H(mov_od_eax) { hg_write32(cpu, op->seg, op->disp, cpu->regs[R_EAX]); return hg_next(cpu, op); }
const HgOpImpl hg_impl_MOV_ALOb = {mov_al_ob, mov_al_ob, NULL, NULL};
const HgOpImpl hg_impl_MOV_eAXOv = {mov_ax_ow, mov_eax_od, NULL, NULL};
const HgOpImpl hg_impl_MOV_ObAL = {mov_ob_al, mov_ob_al, NULL, NULL};
const HgOpImpl hg_impl_MOV_OveAX = {mov_ow_ax, mov_od_eax, NULL, NULL};

H(lea_w) { hg_set_reg16(cpu, op->reg, (uint16_t)hg_ea(cpu, op)); return hg_next(cpu, op); }
H(lea_d) { cpu->regs[op->reg] = hg_ea(cpu, op); return hg_next(cpu, op); }
const HgOpImpl hg_impl_LEA_GvM = {NULL, NULL, lea_w, lea_d};

ALWAYS_INLINE const HgOp *xchg_eg(HgCpu *cpu, const HgOp *op, int bits, bool mem)
{
    uint32_t g = iop_get_reg(cpu, op->reg, bits);
    if (!mem) {
        iop_set_reg(cpu, op->reg, iop_get_reg(cpu, op->rm, bits), bits);
        iop_set_reg(cpu, op->rm, g, bits);
        return hg_next(cpu, op);
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    uint32_t m = hg_lin_read(cpu, lin, bits / 8);
    hg_lin_write(cpu, lin, g, bits / 8);
    iop_set_reg(cpu, op->reg, m, bits);
    return hg_next(cpu, op);
}
H(xchg_b_r) { return xchg_eg(cpu, op, 8, false); }
H(xchg_b_m) { return xchg_eg(cpu, op, 8, true); }
H(xchg_w_r) { return xchg_eg(cpu, op, 16, false); }
H(xchg_w_m) { return xchg_eg(cpu, op, 16, true); }
H(xchg_d_r) { return xchg_eg(cpu, op, 32, false); }
H(xchg_d_m) { return xchg_eg(cpu, op, 32, true); }
const HgOpImpl hg_impl_XCHG_EbGb = {xchg_b_r, xchg_b_r, xchg_b_m, xchg_b_m};
const HgOpImpl hg_impl_XCHG_EvGv = {xchg_w_r, xchg_d_r, xchg_w_m, xchg_d_m};

H(xchg_zw) {
    uint16_t t = hg_get_reg16(cpu, op->reg);
    hg_set_reg16(cpu, op->reg, hg_get_reg16(cpu, R_EAX));
    hg_set_reg16(cpu, R_EAX, t);
    return hg_next(cpu, op);
}
H(xchg_zd) {
    uint32_t t = cpu->regs[op->reg];
    cpu->regs[op->reg] = cpu->regs[R_EAX];
    cpu->regs[R_EAX] = t;
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_XCHG_ZveAX = {xchg_zw, xchg_zd, NULL, NULL};

ALWAYS_INLINE const HgOp *movx(HgCpu *cpu, const HgOp *op, int src_bits, int dst_bits, bool sx,
                               bool mem)
{
    uint32_t v = mem ? hg_read(cpu, op->seg, hg_ea(cpu, op), src_bits / 8)
                     : iop_get_reg(cpu, op->rm, src_bits);
    if (sx)
        v = src_bits == 8 ? (uint32_t)(int8_t)v : (uint32_t)(int16_t)v;
    iop_set_reg(cpu, op->reg, v, dst_bits);
    return hg_next(cpu, op);
}
ALWAYS_INLINE const HgOp *movx_fast(HgCpu *cpu, const HgOp *op, int src_bits, int dst_bits,
                                    bool sx, HgOpFn general)
{
    const uint8_t *p = hg_read_ptr(cpu, op->seg, hg_ea(cpu, op), src_bits / 8);
    if (__builtin_expect(!p, 0))
        return general(cpu, op);
    uint32_t v = hg_host_load(p, src_bits / 8);
    if (sx)
        v = src_bits == 8 ? (uint32_t)(int8_t)v : (uint32_t)(int16_t)v;
    iop_set_reg(cpu, op->reg, v, dst_bits);
    return hg_next(cpu, op);
}
H(movzx_wb_r) { return movx(cpu, op, 8, 16, false, false); }
HG(movzx_wb_mg) { return movx(cpu, op, 8, 16, false, true); }
H(movzx_wb_m) { return movx_fast(cpu, op, 8, 16, false, movzx_wb_mg); }
H(movzx_db_r) { return movx(cpu, op, 8, 32, false, false); }
HG(movzx_db_mg) { return movx(cpu, op, 8, 32, false, true); }
H(movzx_db_m) { return movx_fast(cpu, op, 8, 32, false, movzx_db_mg); }
H(movzx_ww_r) { return movx(cpu, op, 16, 16, false, false); }
HG(movzx_ww_mg) { return movx(cpu, op, 16, 16, false, true); }
H(movzx_ww_m) { return movx_fast(cpu, op, 16, 16, false, movzx_ww_mg); }
H(movzx_dw_r) { return movx(cpu, op, 16, 32, false, false); }
HG(movzx_dw_mg) { return movx(cpu, op, 16, 32, false, true); }
H(movzx_dw_m) { return movx_fast(cpu, op, 16, 32, false, movzx_dw_mg); }
H(movsx_wb_r) { return movx(cpu, op, 8, 16, true, false); }
HG(movsx_wb_mg) { return movx(cpu, op, 8, 16, true, true); }
H(movsx_wb_m) { return movx_fast(cpu, op, 8, 16, true, movsx_wb_mg); }
H(movsx_db_r) { return movx(cpu, op, 8, 32, true, false); }
HG(movsx_db_mg) { return movx(cpu, op, 8, 32, true, true); }
H(movsx_db_m) { return movx_fast(cpu, op, 8, 32, true, movsx_db_mg); }
H(movsx_dw_r) { return movx(cpu, op, 16, 32, true, false); }
HG(movsx_dw_mg) { return movx(cpu, op, 16, 32, true, true); }
H(movsx_dw_m) { return movx_fast(cpu, op, 16, 32, true, movsx_dw_mg); }
const HgOpImpl hg_impl_MOVZX_GvEb = {movzx_wb_r, movzx_db_r, movzx_wb_m, movzx_db_m};
const HgOpImpl hg_impl_MOVZX_GvEw = {movzx_ww_r, movzx_dw_r, movzx_ww_m, movzx_dw_m};
const HgOpImpl hg_impl_MOVSX_GvEb = {movsx_wb_r, movsx_db_r, movsx_wb_m, movsx_db_m};
const HgOpImpl hg_impl_MOVSX_GvEw = {movzx_ww_r, movsx_dw_r, movzx_ww_m, movsx_dw_m};

ALWAYS_INLINE const HgOp *cmov(HgCpu *cpu, const HgOp *op, int bits, bool mem)
{
    /* The source is read (and may fault) whether or not the condition holds. */
    uint32_t v = mem ? hg_read(cpu, op->seg, hg_ea(cpu, op), bits / 8) : iop_get_reg(cpu, op->rm, bits);
    if (hg_cc_cond_fast(cpu, op->opcode & 15))
        iop_set_reg(cpu, op->reg, v, bits);
    return hg_next(cpu, op);
}
H(cmov_w_r) { return cmov(cpu, op, 16, false); }
H(cmov_w_m) { return cmov(cpu, op, 16, true); }
H(cmov_d_r) { return cmov(cpu, op, 32, false); }
H(cmov_d_m) { return cmov(cpu, op, 32, true); }
const HgOpImpl hg_impl_CMOVcc_GvEv = {cmov_w_r, cmov_d_r, cmov_w_m, cmov_d_m};

H(setcc_r) { hg_set_reg8(cpu, op->rm, hg_cc_cond_fast(cpu, op->opcode & 15)); return hg_next(cpu, op); }
H(setcc_m) {
    uint32_t off = hg_ea(cpu, op);
    hg_write8(cpu, op->seg, off, hg_cc_cond_fast(cpu, op->opcode & 15));
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_SETcc_Eb = {setcc_r, setcc_r, setcc_m, setcc_m};

H(cbw) { hg_set_reg16(cpu, R_EAX, (uint16_t)(int8_t)cpu->regs[R_EAX]); return hg_next(cpu, op); }
H(cwde) { cpu->regs[R_EAX] = (uint32_t)(int16_t)cpu->regs[R_EAX]; return hg_next(cpu, op); }
H(cwd) { hg_set_reg16(cpu, R_EDX, (cpu->regs[R_EAX] & 0x8000) ? 0xffff : 0); return hg_next(cpu, op); }
H(cdq) { cpu->regs[R_EDX] = (cpu->regs[R_EAX] & 0x80000000u) ? 0xffffffffu : 0; return hg_next(cpu, op); }
const HgOpImpl hg_impl_CBW = {cbw, cwde, NULL, NULL};
const HgOpImpl hg_impl_CWD = {cwd, cdq, NULL, NULL};

H(sahf) {
    uint32_t keep = hg_cc_compute(cpu) & FL_OF;
    uint32_t ah = (cpu->regs[R_EAX] >> 8) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
    hg_cc_set_flags(cpu, keep | ah);
    return hg_next(cpu, op);
}
H(lahf) {
    uint32_t f = (hg_cc_compute(cpu) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | FL_FIXED1;
    hg_set_reg8(cpu, 4, (uint8_t)f);
    return hg_next(cpu, op);
}
H(salc) { hg_set_reg8(cpu, R_EAX, hg_cc_cf(cpu) ? 0xff : 0); return hg_next(cpu, op); }
H(xlat) {
    uint32_t off = cpu->regs[R_EBX] + (cpu->regs[R_EAX] & 0xff);
    if (op->flags & OPF_ADDR16)
        off &= 0xffff;
    hg_set_reg8(cpu, R_EAX, hg_read8(cpu, op->seg, off));
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_SAHF = {sahf, sahf, NULL, NULL};
const HgOpImpl hg_impl_LAHF = {lahf, lahf, NULL, NULL};
const HgOpImpl hg_impl_SALC = {salc, salc, NULL, NULL};
const HgOpImpl hg_impl_XLAT = {xlat, xlat, NULL, NULL};

H(cmc) { hg_cc_set_flags(cpu, hg_cc_compute(cpu) ^ FL_CF); return hg_next(cpu, op); }
H(clc) { hg_cc_set_flags(cpu, hg_cc_compute(cpu) & ~FL_CF); return hg_next(cpu, op); }
H(stc) { hg_cc_set_flags(cpu, hg_cc_compute(cpu) | FL_CF); return hg_next(cpu, op); }
H(cld) { cpu->eflags &= ~FL_DF; return hg_next(cpu, op); }
H(std_) { cpu->eflags |= FL_DF; return hg_next(cpu, op); }
const HgOpImpl hg_impl_CMC = {cmc, cmc, NULL, NULL};
const HgOpImpl hg_impl_CLC = {clc, clc, NULL, NULL};
const HgOpImpl hg_impl_STC = {stc, stc, NULL, NULL};
const HgOpImpl hg_impl_CLD = {cld, cld, NULL, NULL};
const HgOpImpl hg_impl_STD = {std_, std_, NULL, NULL};

/* 0F 18-1F: hint NOPs; the memory operand is not accessed. */
H(nop_ev) { return hg_next(cpu, op); }
const HgOpImpl hg_impl_NOP_Ev = {nop_ev, nop_ev, nop_ev, nop_ev};

/* ---- atomics (a single CPU: LOCK needs no extra work) ---- */

ALWAYS_INLINE const HgOp *xadd(HgCpu *cpu, const HgOp *op, int bits, bool mem)
{
    uint32_t src = iop_get_reg(cpu, op->reg, bits);
    if (!mem) {
        uint32_t dst = iop_get_reg(cpu, op->rm, bits);
        uint32_t sum = alu(cpu, K_ADD, dst, src, bits);
        iop_set_reg(cpu, op->reg, dst, bits);
        iop_set_reg(cpu, op->rm, sum, bits);
        return hg_next(cpu, op);
    }
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    uint32_t dst = hg_lin_read(cpu, lin, bits / 8);
    uint32_t sum = alu(cpu, K_ADD, dst, src, bits);
    hg_lin_write(cpu, lin, sum, bits / 8);
    iop_set_reg(cpu, op->reg, dst, bits);
    return hg_next(cpu, op);
}
H(xadd_b_r) { return xadd(cpu, op, 8, false); }
H(xadd_b_m) { return xadd(cpu, op, 8, true); }
H(xadd_w_r) { return xadd(cpu, op, 16, false); }
H(xadd_w_m) { return xadd(cpu, op, 16, true); }
H(xadd_d_r) { return xadd(cpu, op, 32, false); }
H(xadd_d_m) { return xadd(cpu, op, 32, true); }
const HgOpImpl hg_impl_XADD_EbGb = {xadd_b_r, xadd_b_r, xadd_b_m, xadd_b_m};
const HgOpImpl hg_impl_XADD_EvGv = {xadd_w_r, xadd_d_r, xadd_w_m, xadd_d_m};

ALWAYS_INLINE const HgOp *cmpxchg(HgCpu *cpu, const HgOp *op, int bits, bool mem)
{
    uint32_t acc = iop_get_reg(cpu, R_EAX, bits);
    uint32_t src = iop_get_reg(cpu, op->reg, bits);
    if (!mem) {
        uint32_t dst = iop_get_reg(cpu, op->rm, bits);
        alu(cpu, K_CMP, acc, dst, bits);
        if (acc == dst)
            iop_set_reg(cpu, op->rm, src, bits);
        else
            iop_set_reg(cpu, R_EAX, dst, bits);
        return hg_next(cpu, op);
    }
    /* The destination is always written: with the old value when the compare fails. */
    uint32_t lin = hg_rmw_lin(cpu, op->seg, hg_ea(cpu, op), bits / 8);
    uint32_t dst = hg_lin_read(cpu, lin, bits / 8);
    alu(cpu, K_CMP, acc, dst, bits);
    if (acc == dst) {
        hg_lin_write(cpu, lin, src, bits / 8);
    } else {
        hg_lin_write(cpu, lin, dst, bits / 8);
        iop_set_reg(cpu, R_EAX, dst, bits);
    }
    return hg_next(cpu, op);
}
H(cmpxchg_b_r) { return cmpxchg(cpu, op, 8, false); }
H(cmpxchg_b_m) { return cmpxchg(cpu, op, 8, true); }
H(cmpxchg_w_r) { return cmpxchg(cpu, op, 16, false); }
H(cmpxchg_w_m) { return cmpxchg(cpu, op, 16, true); }
H(cmpxchg_d_r) { return cmpxchg(cpu, op, 32, false); }
H(cmpxchg_d_m) { return cmpxchg(cpu, op, 32, true); }
const HgOpImpl hg_impl_CMPXCHG_EbGb = {cmpxchg_b_r, cmpxchg_b_r, cmpxchg_b_m, cmpxchg_b_m};
const HgOpImpl hg_impl_CMPXCHG_EvGv = {cmpxchg_w_r, cmpxchg_d_r, cmpxchg_w_m, cmpxchg_d_m};

H(cmpxchg8b) {
    uint32_t off = hg_ea(cpu, op);
    uint32_t lin = hg_rmw_lin(cpu, op->seg, off, 8);
    uint32_t lo = hg_lin_read(cpu, lin, 4), hi = hg_lin_read(cpu, lin + 4, 4);
    uint32_t f = hg_cc_compute(cpu) & ~FL_ZF;
    if (lo == cpu->regs[R_EAX] && hi == cpu->regs[R_EDX]) {
        hg_lin_write(cpu, lin, cpu->regs[R_EBX], 4);
        hg_lin_write(cpu, lin + 4, cpu->regs[R_ECX], 4);
        f |= FL_ZF;
    } else {
        hg_lin_write(cpu, lin, lo, 4);
        hg_lin_write(cpu, lin + 4, hi, 4);
        cpu->regs[R_EAX] = lo;
        cpu->regs[R_EDX] = hi;
    }
    hg_cc_set_flags(cpu, f);
    return hg_next(cpu, op);
}
const HgOpImpl hg_impl_CMPXCHG8B_Mq = {NULL, NULL, cmpxchg8b, cmpxchg8b};

/* BSWAP with a 16-bit operand is undefined; P6-family and later CPUs clear the low
 * word, which is what we do. */
H(bswap_w) { hg_set_reg16(cpu, op->reg, 0); return hg_next(cpu, op); }
H(bswap_d) { cpu->regs[op->reg] = __builtin_bswap32(cpu->regs[op->reg]); return hg_next(cpu, op); }
const HgOpImpl hg_impl_BSWAP_Zv = {bswap_w, bswap_d, NULL, NULL};
