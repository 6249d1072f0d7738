/* Helpers shared by the integer instruction classes (alu.c, shift.c, muldiv.c, bitops.c,
 * bcd.c, string.c, io.c): size-generic register access and flag helpers, written as
 * always-inline functions so handlers specialised on a constant size fold them away.
 */
#pragma once

#include "insn.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

ALWAYS_INLINE uint32_t iop_mask(int bits)
{
    return bits == 32 ? 0xffffffffu : (1u << bits) - 1;
}

ALWAYS_INLINE int iop_size_index(int bits)
{
    return bits == 8 ? 0 : bits == 16 ? 1 : 2;
}

ALWAYS_INLINE uint32_t iop_get_reg(HgCpu *cpu, unsigned r, int bits)
{
    if (bits == 8)
        return hg_get_reg8(cpu, r);
    if (bits == 16)
        return hg_get_reg16(cpu, r);
    return cpu->regs[r];
}

ALWAYS_INLINE void iop_set_reg(HgCpu *cpu, unsigned r, uint32_t v, int bits)
{
    if (bits == 8)
        hg_set_reg8(cpu, r, (uint8_t)v);
    else if (bits == 16)
        hg_set_reg16(cpu, r, (uint16_t)v);
    else
        cpu->regs[r] = v;
}

/* Sign-extends the low bits of v. */
ALWAYS_INLINE int32_t iop_sext(uint32_t v, int bits)
{
    if (bits == 8)
        return (int8_t)v;
    if (bits == 16)
        return (int16_t)v;
    return (int32_t)v;
}

/* SF, ZF and PF of a result of the given width. */
ALWAYS_INLINE uint32_t iop_szp(uint32_t r, int bits)
{
    uint32_t f = __builtin_parity(r & 0xff) ? 0 : FL_PF;
    if (!(r & iop_mask(bits)))
        f |= FL_ZF;
    if ((r >> (bits - 1)) & 1)
        f |= FL_SF;
    return f;
}
