/* Decimal arithmetic adjustments: DAA DAS AAA AAS AAM AAD, with any immediate base
 * for AAM/AAD (Intel SDM Vol. 2A, the pseudo-code of each instruction page).
 *
 * AAA/AAS adjust the whole of AX (AX +/- 6 then AH +/- 1, as the 80286 and later do).
 * Undefined flags get these values: DAA/DAS clear OF; AAA/AAS set SF, ZF and PF from
 * the final AL and clear OF; AAM sets flags as a logical result of AL (CF = OF = AF =
 * 0); AAD sets them as the 8-bit addition AL + AH * base it performs.
 */
#include "intops.h"

H(daa) {
    uint32_t f = hg_cc_compute(cpu);
    uint32_t al = hg_get_reg8(cpu, R_EAX), old_al = al;
    bool old_cf = f & FL_CF, cf = false, af = false;
    if ((al & 0x0f) > 9 || (f & FL_AF)) {
        cf = old_cf || al + 6 > 0xff;
        al = (al + 6) & 0xff;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    } else {
        cf = false;
    }
    hg_set_reg8(cpu, R_EAX, (uint8_t)al);
    hg_cc_set_flags(cpu, iop_szp(al, 8) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
    return op + 1;
}

H(das) {
    uint32_t f = hg_cc_compute(cpu);
    uint32_t al = hg_get_reg8(cpu, R_EAX), old_al = al;
    bool old_cf = f & FL_CF, cf = false, af = false;
    if ((al & 0x0f) > 9 || (f & FL_AF)) {
        cf = old_cf || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al - 0x60) & 0xff;
        cf = true;
    }
    hg_set_reg8(cpu, R_EAX, (uint8_t)al);
    hg_cc_set_flags(cpu, iop_szp(al, 8) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
    return op + 1;
}

/* AAA (sub = false) and AAS (sub = true). */
static inline const HgOp *aaa_aas(HgCpu *cpu, const HgOp *op, bool sub)
{
    uint32_t f = hg_cc_compute(cpu);
    uint32_t ax = hg_get_reg16(cpu, R_EAX);
    bool adj = (ax & 0x0f) > 9 || (f & FL_AF);
    if (adj)
        ax = sub ? ax - 6 - 0x100 : ax + 0x106;
    ax &= 0xff0f;
    hg_set_reg16(cpu, R_EAX, (uint16_t)ax);
    hg_cc_set_flags(cpu, iop_szp(ax & 0xff, 8) | (adj ? FL_CF | FL_AF : 0));
    return op + 1;
}
H(aaa) { return aaa_aas(cpu, op, false); }
H(aas) { return aaa_aas(cpu, op, true); }

H(aam) {
    uint32_t base = op->imm & 0xff;
    if (!base)
        hg_raise(cpu, EX_DE, -1);
    uint32_t al = hg_get_reg8(cpu, R_EAX);
    uint32_t r = al % base;
    hg_set_reg16(cpu, R_EAX, (uint16_t)((al / base) << 8 | r));
    hg_cc_set(cpu, CC_LOGIC8, r, 0, 0);
    return op + 1;
}

H(aad) {
    uint32_t al = hg_get_reg8(cpu, R_EAX), ah = (cpu->regs[R_EAX] >> 8) & 0xff;
    uint32_t b = (ah * (op->imm & 0xff)) & 0xff;
    uint32_t r = (al + b) & 0xff;
    hg_set_reg16(cpu, R_EAX, (uint16_t)r);
    hg_cc_set(cpu, CC_ADD8, r, al, b);
    return op + 1;
}

const HgOpImpl hg_impl_DAA = {daa, daa, NULL, NULL};
const HgOpImpl hg_impl_DAS = {das, das, NULL, NULL};
const HgOpImpl hg_impl_AAA = {aaa, aaa, NULL, NULL};
const HgOpImpl hg_impl_AAS = {aas, aas, NULL, NULL};
const HgOpImpl hg_impl_AAM = {aam, aam, NULL, NULL};
const HgOpImpl hg_impl_AAD = {aad, aad, NULL, NULL};
