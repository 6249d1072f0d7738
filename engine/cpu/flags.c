/* Lazy arithmetic flags: instructions record their operands and result (cc_op,
 * cc_dst = result, cc_src = first operand, cc_src2 = second operand or carry-in) and
 * EFLAGS.CF/PF/AF/ZF/SF/OF are computed here only when read.
 * Flag definitions: Intel SDM Vol. 1, 3.4.3.1 and Appendix A (EFLAGS cross-reference).
 */
#include <glib.h>

#include "ops.h"


static inline uint32_t parity(uint32_t v)
{
    return (__builtin_parity(v & 0xff) ? 0 : FL_PF);
}

static inline uint32_t szp(uint32_t res, int bits)
{
    uint32_t sign = 1u << (bits - 1);
    uint32_t mask = (bits == 32) ? 0xffffffffu : ((1u << bits) - 1);
    uint32_t f = parity(res);
    if ((res & mask) == 0)
        f |= FL_ZF;
    if (res & sign)
        f |= FL_SF;
    return f;
}

static uint32_t flags_add(uint32_t a, uint32_t b, uint32_t r, uint32_t carry_in, int bits)
{
    uint32_t mask = (bits == 32) ? 0xffffffffu : ((1u << bits) - 1);
    uint32_t sign = 1u << (bits - 1);
    uint32_t f = szp(r, bits);
    a &= mask;
    b &= mask;
    r &= mask;
    if (carry_in ? r <= a : r < a)
        f |= FL_CF;
    if ((a ^ b ^ r) & 0x10)
        f |= FL_AF;
    if ((~(a ^ b) & (a ^ r)) & sign)
        f |= FL_OF;
    return f;
}

static uint32_t flags_sub(uint32_t a, uint32_t b, uint32_t r, uint32_t borrow_in, int bits)
{
    uint32_t mask = (bits == 32) ? 0xffffffffu : ((1u << bits) - 1);
    uint32_t sign = 1u << (bits - 1);
    uint32_t f = szp(r, bits);
    a &= mask;
    b &= mask;
    if (borrow_in ? a <= b : a < b)
        f |= FL_CF;
    if ((a ^ b ^ r) & 0x10)
        f |= FL_AF;
    if (((a ^ b) & (a ^ r)) & sign)
        f |= FL_OF;
    return f;
}

/* Shift flags (SDM SAL/SAR/SHL/SHR "Flags Affected"): OF is defined for a count of 1
 * only; the formulas below give the count-1 value and are applied to every count, as
 * common hardware does. AF is undefined and cleared. */
static uint32_t flags_shl(uint32_t shifted, uint32_t r, int bits)
{
    uint32_t f = szp(r, bits);
    uint32_t cf = (shifted >> (bits - 1)) & 1;
    if (cf)
        f |= FL_CF;
    if (cf ^ ((r >> (bits - 1)) & 1))
        f |= FL_OF;
    return f;
}

static uint32_t flags_shr(uint32_t shifted, uint32_t r, int bits)
{
    uint32_t f = szp(r, bits);
    if (shifted & 1)
        f |= FL_CF;
    if (((shifted ^ r) >> (bits - 1)) & 1)
        f |= FL_OF;
    return f;
}

uint32_t hg_cc_compute(HgCpu *cpu)
{
    uint32_t r = cpu->cc_dst, a = cpu->cc_src, b = cpu->cc_src2;
    switch (cpu->cc_op) {
    case CC_EFLAGS:
        return cpu->cc_src & FL_ARITH;
    case CC_ADD8:
        return flags_add(a, b, r, 0, 8);
    case CC_ADD16:
        return flags_add(a, b, r, 0, 16);
    case CC_ADD32:
        return flags_add(a, b, r, 0, 32);
    /* ADC/SBB: the carry-in is not stored; it is recovered by comparing the result
     * with the plain sum or difference of the operands. */
    case CC_ADC8:
        return flags_add(a, b, r, ((a + b) & 0xff) != (r & 0xff), 8);
    case CC_ADC16:
        return flags_add(a, b, r, ((a + b) & 0xffff) != (r & 0xffff), 16);
    case CC_ADC32:
        return flags_add(a, b, r, a + b != r, 32);
    case CC_SUB8:
        return flags_sub(a, b, r, 0, 8);
    case CC_SUB16:
        return flags_sub(a, b, r, 0, 16);
    case CC_SUB32:
        return flags_sub(a, b, r, 0, 32);
    case CC_SBB8:
        return flags_sub(a, b, r, ((a - b) & 0xff) != (r & 0xff), 8);
    case CC_SBB16:
        return flags_sub(a, b, r, ((a - b) & 0xffff) != (r & 0xffff), 16);
    case CC_SBB32:
        return flags_sub(a, b, r, a - b != r, 32);
    case CC_LOGIC8:
        return szp(r, 8);
    case CC_LOGIC16:
        return szp(r, 16);
    case CC_LOGIC32:
        return szp(r, 32);
    case CC_INC8:
        return (flags_add(r - 1, 1, r, 0, 8) & ~FL_CF) | (a & FL_CF);
    case CC_INC16:
        return (flags_add(r - 1, 1, r, 0, 16) & ~FL_CF) | (a & FL_CF);
    case CC_INC32:
        return (flags_add(r - 1, 1, r, 0, 32) & ~FL_CF) | (a & FL_CF);
    case CC_DEC8:
        return (flags_sub(r + 1, 1, r, 0, 8) & ~FL_CF) | (a & FL_CF);
    case CC_DEC16:
        return (flags_sub(r + 1, 1, r, 0, 16) & ~FL_CF) | (a & FL_CF);
    case CC_DEC32:
        return (flags_sub(r + 1, 1, r, 0, 32) & ~FL_CF) | (a & FL_CF);
    case CC_SHL8:
        return flags_shl(a, r, 8);
    case CC_SHL16:
        return flags_shl(a, r, 16);
    case CC_SHL32:
        return flags_shl(a, r, 32);
    case CC_SHR8:
        return flags_shr(a, r, 8);
    case CC_SHR16:
        return flags_shr(a, r, 16);
    case CC_SHR32:
        return flags_shr(a, r, 32);
    case CC_MUL8:
        return szp(r, 8) | (a ? FL_CF | FL_OF : 0);
    case CC_MUL16:
        return szp(r, 16) | (a ? FL_CF | FL_OF : 0);
    case CC_MUL32:
        return szp(r, 32) | (a ? FL_CF | FL_OF : 0);
    default:
        g_assert_not_reached();
    }
}

bool hg_cc_cf(HgCpu *cpu)
{
    uint32_t r = cpu->cc_dst, a = cpu->cc_src, b = cpu->cc_src2;
    switch (cpu->cc_op) {
    case CC_ADD8:
        return (r & 0xff) < (a & 0xff);
    case CC_ADD16:
        return (r & 0xffff) < (a & 0xffff);
    case CC_ADD32:
        return r < a;
    case CC_SUB8:
        return (a & 0xff) < (b & 0xff);
    case CC_SUB16:
        return (a & 0xffff) < (b & 0xffff);
    case CC_SUB32:
        return a < b;
    case CC_LOGIC8:
    case CC_LOGIC16:
    case CC_LOGIC32:
        return false;
    case CC_SHR8:
    case CC_SHR16:
    case CC_SHR32:
        return a & 1;
    case CC_SHL32:
        return a >> 31;
    case CC_MUL8:
    case CC_MUL16:
    case CC_MUL32:
        return a != 0;
    default:
        return (hg_cc_compute(cpu) & FL_CF) != 0;
    }
}

bool hg_cc_cond(HgCpu *cpu, unsigned cc)
{
    bool r;
    /* Fast paths for the common compare-and-branch pairs. */
    switch (cpu->cc_op) {
    case CC_SUB32: {
        uint32_t a = cpu->cc_src, b = cpu->cc_src2;
        switch (cc >> 1) {
        case 1: r = a < b; goto done;            /* B / AE */
        case 2: r = a == b; goto done;           /* E / NE */
        case 3: r = a <= b; goto done;           /* BE / A */
        case 6: r = (int32_t)a < (int32_t)b; goto done;   /* L / GE */
        case 7: r = (int32_t)a <= (int32_t)b; goto done;  /* LE / G */
        default: break;
        }
        break;
    }
    case CC_LOGIC32: {
        uint32_t v = cpu->cc_dst;
        switch (cc >> 1) {
        case 2: r = v == 0; goto done;
        case 4: r = (int32_t)v < 0; goto done;
        default: break;
        }
        break;
    }
    default:
        break;
    }
    {
        uint32_t f = hg_cc_compute(cpu);
        switch (cc >> 1) {
        case 0: r = f & FL_OF; break;
        case 1: r = f & FL_CF; break;
        case 2: r = f & FL_ZF; break;
        case 3: r = f & (FL_CF | FL_ZF); break;
        case 4: r = f & FL_SF; break;
        case 5: r = f & FL_PF; break;
        case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
        default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
        }
    }
done:
    return r ^ (cc & 1);
}

uint32_t hg_cpu_get_eflags(HgCpu *cpu)
{
    return (cpu->eflags & ~FL_ARITH) | hg_cc_compute(cpu) | FL_FIXED1;
}

void hg_cpu_set_eflags(HgCpu *cpu, uint32_t value, uint32_t change_mask)
{
    uint32_t cur = hg_cpu_get_eflags(cpu);
    uint32_t v = (cur & ~change_mask) | (value & change_mask);
    /* Bits 1 set, 3, 5, 15 and 22-31 clear: the reserved bits of a P6. */
    v = (v & 0x003f7fd5u) | FL_FIXED1;
    cpu->cc_op = CC_EFLAGS;
    cpu->cc_src = v & FL_ARITH;
    uint32_t old = cpu->eflags;
    cpu->eflags = v & ~FL_ARITH;
    if ((old ^ v) & (FL_TF | FL_VM))
        hg_cpu_update_mode(cpu);
}
