/* x87 FPU instructions: the escape opcodes D8-DF (Intel SDM Vol. 2 instruction pages,
 * opcode map tables) and WAIT, on the software arithmetic of
 * softfloat80.c, with the register stack, tags, condition codes, stack faults and the
 * masked/unmasked exception responses of SDM Vol. 1 chapter 8.
 *
 * One handler per escape byte decodes ModRM itself. The decoder has already resolved a
 * memory operand (op->seg, base, index, disp).
 */
#include "fpu-priv.h"

/* ---- exception and status bookkeeping ---- */

void hg_fpu_set_ferr(HgCpu *cpu, bool level)
{
    if (cpu->fpu.ferr == level)
        return;
    cpu->fpu.ferr = level;
    if (cpu->hooks.ferr)
        cpu->hooks.ferr(cpu->hooks.opaque, level);
}

void hg_fpu_pending(HgCpu *cpu)
{
    if (cpu->cr0 & CR0_NE)
        hg_raise(cpu, EX_MF, -1);
    /* MS-DOS compatible reporting: FERR# goes to the board (IRQ 13 through the PIC) and
     * the instruction goes on, as with IGNNE# asserted by the chipset. */
    hg_fpu_set_ferr(cpu, true);
}

void hg_fpu_update_es(HgCpu *cpu)
{
    if (cpu->fpu.sw & ~cpu->fpu.cw & FSW_EXC) {
        cpu->fpu.sw |= FSW_ES | FSW_B;
    } else {
        cpu->fpu.sw &= (uint16_t) ~(FSW_ES | FSW_B);
        hg_fpu_set_ferr(cpu, false);
    }
}

bool hg_fpu_commit(HgCpu *cpu, const HgFpCtx *c)
{
    /* An invalid operation or a division by zero hides a denormal operand (a denormal
     * memory operand is flagged when loaded, before the operation looks further). */
    uint16_t exc = (c->exc & (FSW_IE | FSW_ZE)) ? c->exc & ~FSW_DE : c->exc;
    uint16_t unmasked = exc & ~cpu->fpu.cw & FSW_EXC;
    if (unmasked & (FSW_IE | FSW_DE | FSW_ZE)) {
        cpu->fpu.sw |= (exc & (FSW_IE | FSW_DE | FSW_ZE)) | FSW_ES | FSW_B;
        cpu->fpu.sw &= (uint16_t)~FSW_C1;
        return false;
    }
    cpu->fpu.sw |= exc;
    if (unmasked)
        cpu->fpu.sw |= FSW_ES | FSW_B;
    cpu->fpu.sw = (uint16_t)((cpu->fpu.sw & ~FSW_C1) | (c->up ? FSW_C1 : 0));
    return true;
}

bool hg_fpu_stack_fault(HgCpu *cpu, bool overflow)
{
    cpu->fpu.sw = (uint16_t)((cpu->fpu.sw & ~FSW_C1) | FSW_IE | FSW_SF | (overflow ? FSW_C1 : 0));
    if (cpu->fpu.cw & FSW_IE)
        return true;
    cpu->fpu.sw |= FSW_ES | FSW_B;
    return false;
}

/* ---- operand loads ---- */

enum { FMT_F32, FMT_I32, FMT_F64, FMT_I16 }; /* D8/DA/DC/DE memory operand formats */

/* A memory source operand of an arithmetic or compare instruction. An SNaN stays
 * signalling so the operation applies the NaN rules of two operands (a QNaN in ST(0)
 * wins over it); the operation then raises IE. */
static HgFloatx80 load_mem(HgCpu *cpu, const HgOp *op, uint32_t ea, int fmt, HgFpCtx *c)
{
    HgFpCtx l = *c;
    HgFloatx80 v;
    switch (fmt) {
    case FMT_F32: v = hg_f80_from_f32(&l, hg_read32(cpu, op->seg, ea)); break;
    case FMT_I32: return hg_f80_from_int((int32_t)hg_read32(cpu, op->seg, ea));
    case FMT_F64: v = hg_f80_from_f64(&l, fpu_read64(cpu, op->seg, ea)); break;
    default: return hg_f80_from_int((int16_t)hg_read16(cpu, op->seg, ea));
    }
    if (l.exc & FSW_IE)
        v.mant &= ~(1ull << 62);
    c->exc |= l.exc & FSW_DE;
    return v;
}

/* ---- arithmetic ---- */

enum { K_ADD, K_MUL, K_COM, K_COMP, K_SUB, K_SUBR, K_DIV, K_DIVR };

static HgFloatx80 arith(HgFpCtx *c, int k, HgFloatx80 x, HgFloatx80 y)
{
    switch (k) {
    case K_ADD: return hg_f80_add(c, x, y);
    case K_MUL: return hg_f80_mul(c, x, y);
    case K_SUB: return hg_f80_sub(c, x, y);
    case K_SUBR: return hg_f80_sub(c, y, x);
    case K_DIV: return hg_f80_div(c, x, y);
    default: return hg_f80_div(c, y, x);
    }
}

static const uint16_t cmp_cc[4] = {
    [0] = FSW_C3,                   /* equal */
    [1] = 0,                        /* greater */
    [2] = FSW_C3 | FSW_C2 | FSW_C0, /* unordered */
    [3] = FSW_C0,                   /* less (index -1 & 3) */
};

/* FCOM family: ST(0) against y; pops = 0, 1 or 2. */
static void fcom(HgCpu *cpu, HgFloatx80 y, HgFpCtx *c, bool quiet, int pops, bool y_empty)
{
    if (fpu_empty(cpu, 0) || y_empty) {
        /* Unordered whether or not IE is masked; only a masked fault pops. */
        bool masked = hg_fpu_stack_fault(cpu, false);
        fpu_set_cc(cpu, FSW_C3 | FSW_C2 | FSW_C0);
        if (!masked)
            return;
    } else {
        int r = hg_f80_compare(c, fpu_st(cpu, 0), y, quiet);
        if (!hg_fpu_commit(cpu, c)) {
            /* Unmasked: the condition codes are still set (unordered for IE), but
             * nothing is popped. */
            fpu_set_cc(cpu, cmp_cc[r & 3]);
            return;
        }
        fpu_set_cc(cpu, cmp_cc[r & 3]);
    }
    while (pops--)
        fpu_pop(cpu);
}

/* FCOMI family: the result goes to ZF, PF, CF. */
static void fcomi(HgCpu *cpu, int i, bool quiet, bool pop)
{
    HgFpCtx c = fpu_ctx(cpu);
    static const uint32_t fl[4] = {FL_ZF, 0, FL_ZF | FL_PF | FL_CF, FL_CF};
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, i)) {
        bool masked = hg_fpu_stack_fault(cpu, false);
        hg_cc_set_flags(cpu, fl[2]);
        if (!masked)
            return;
    } else {
        int r = hg_f80_compare(&c, fpu_st(cpu, 0), fpu_st(cpu, i), quiet);
        bool ok = hg_fpu_commit(cpu, &c);
        cpu->fpu.sw &= (uint16_t)~FSW_C1;
        hg_cc_set_flags(cpu, fl[r & 3]); /* set even when the exception is unmasked */
        if (!ok)
            return;
    }
    if (pop)
        fpu_pop(cpu);
}

/* dst = x op y for the stack register dst; pop afterwards. */
static void arith_reg(HgCpu *cpu, int k, int dst, int other, bool pop)
{
    HgFpCtx c = fpu_ctx(cpu);
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, other)) {
        if (!hg_fpu_stack_fault(cpu, false))
            return;
        fpu_set_st(cpu, dst, hg_f80_indefinite());
    } else {
        HgFloatx80 r = arith(&c, k, fpu_st(cpu, dst), fpu_st(cpu, dst == 0 ? other : 0));
        if (!hg_fpu_commit(cpu, &c))
            return;
        fpu_set_st(cpu, dst, r);
    }
    if (pop)
        fpu_pop(cpu);
}

/* D8, DA, DC, DE with a memory operand: ST(0) op m32fp / m32int / m64fp / m16int. */
static void arith_mem(HgCpu *cpu, const HgOp *op, int fmt)
{
    uint32_t ea = hg_ea(cpu, op);
    HgFpCtx c = fpu_ctx(cpu);
    HgFloatx80 y = load_mem(cpu, op, ea, fmt, &c);
    int k = op->reg;
    fpu_note(cpu, op, ea);
    /* A NaN in ST(0) hides a denormal m32fp/m64fp operand (checked against the host
     * FPU); invalid operations and division by zero do too (hg_fpu_commit). */
    HgFloatx80 x = fpu_st(cpu, 0);
    if (hg_f80_is_nan(x) || hg_f80_is_unsupported(x))
        c.exc &= (uint16_t)~FSW_DE;
    if (k == K_COM || k == K_COMP) {
        fcom(cpu, y, &c, false, k == K_COMP, false);
        return;
    }
    if (fpu_empty(cpu, 0)) {
        if (hg_fpu_stack_fault(cpu, false))
            fpu_set_st(cpu, 0, hg_f80_indefinite());
        return;
    }
    HgFloatx80 r = arith(&c, k, fpu_st(cpu, 0), y);
    if (hg_fpu_commit(cpu, &c))
        fpu_set_st(cpu, 0, r);
}

/* ---- loads and stores ---- */

static void fld_value(HgCpu *cpu, HgFloatx80 v, HgFpCtx *c)
{
    if (!fpu_empty(cpu, 7)) {
        if (hg_fpu_stack_fault(cpu, true))
            fpu_push(cpu, hg_f80_indefinite());
        return;
    }
    if ((c->exc & FSW_DE) && !(c->exc & FSW_IE)) {
        /* A denormal m32fp/m64fp source is loaded even when DE is unmasked (as the
         * host FPU does): the exception is reported, the push happens. */
        cpu->fpu.sw |= FSW_DE;
        if (!(cpu->fpu.cw & FSW_DE))
            cpu->fpu.sw |= FSW_ES | FSW_B;
        c->exc &= (uint16_t)~FSW_DE;
    }
    if (!hg_fpu_commit(cpu, c))
        return;
    fpu_push(cpu, v);
}

static void fld_st(HgCpu *cpu, int i)
{
    HgFpCtx c = fpu_ctx(cpu);
    if (fpu_empty(cpu, i)) {
        if (hg_fpu_stack_fault(cpu, false))
            fpu_push(cpu, hg_f80_indefinite());
        return;
    }
    fld_value(cpu, fpu_st(cpu, i), &c);
}

/* Stores ST(0) to memory in format fmt (0 m32fp, 1 m64fp, 2 m80fp, 3 m16int, 4 m32int,
 * 5 m64int, 6 m80bcd), then pops when asked. Unmasked exceptions store nothing. */
enum { ST_F32, ST_F64, ST_F80, ST_I16, ST_I32, ST_I64, ST_BCD };

static void fst_mem(HgCpu *cpu, const HgOp *op, int fmt, bool pop)
{
    static const uint8_t sizes[] = {4, 8, 10, 2, 4, 8, 10};
    uint32_t ea = hg_ea(cpu, op);
    int s = op->seg;
    fpu_probe_write(cpu, s, ea, sizes[fmt]);
    fpu_note(cpu, op, ea);
    HgFpCtx c = fpu_ctx(cpu);
    HgFloatx80 v = fpu_st(cpu, 0);
    if (fpu_empty(cpu, 0)) {
        if (!hg_fpu_stack_fault(cpu, false))
            return;
        v = hg_f80_indefinite();
        c.cw |= FSW_IE; /* the indefinite of the destination format is stored */
    }
    uint64_t bits = 0;
    uint8_t bcd[10];
    switch (fmt) {
    case ST_F32: bits = hg_f80_to_f32(&c, v); break;
    case ST_F64: bits = hg_f80_to_f64(&c, v); break;
    case ST_F80: break;
    case ST_I16: bits = (uint64_t)hg_f80_to_int(&c, v, 16, false); break;
    case ST_I32: bits = (uint64_t)hg_f80_to_int(&c, v, 32, false); break;
    case ST_I64: bits = (uint64_t)hg_f80_to_int(&c, v, 64, false); break;
    default: hg_f80_to_bcd(&c, v, bcd); break;
    }
    if (fpu_empty(cpu, 0)) {
        c.exc = 0;
        c.cw = cpu->fpu.cw;
    } else {
        uint16_t unmasked = c.exc & ~cpu->fpu.cw & FSW_EXC;
        if (unmasked & ~FSW_PE) {
            /* Nothing is stored and the stack is untouched (SDM 4.9.1.4-5, 8.5). */
            cpu->fpu.sw |= c.exc | FSW_ES | FSW_B;
            cpu->fpu.sw = (uint16_t)((cpu->fpu.sw & ~FSW_C1) | (c.up ? FSW_C1 : 0));
            return;
        }
        hg_fpu_commit(cpu, &c);
    }
    switch (fmt) {
    case ST_F32:
    case ST_I32: hg_write32(cpu, s, ea, (uint32_t)bits); break;
    case ST_I16: hg_write16(cpu, s, ea, (uint16_t)bits); break;
    case ST_F64:
    case ST_I64: fpu_write64(cpu, s, ea, bits); break;
    case ST_F80: fpu_write80(cpu, s, ea, v); break;
    default:
        for (int i = 0; i < 10; i++)
            hg_write8(cpu, s, ea + (uint32_t)i, bcd[i]);
        break;
    }
    if (pop)
        fpu_pop(cpu);
}

static void fld_mem(HgCpu *cpu, const HgOp *op, int fmt)
{
    uint32_t ea = hg_ea(cpu, op);
    int s = op->seg;
    HgFpCtx c = fpu_ctx(cpu);
    HgFloatx80 v;
    switch (fmt) {
    case ST_F32: v = hg_f80_from_f32(&c, hg_read32(cpu, s, ea)); break;
    case ST_F64: v = hg_f80_from_f64(&c, fpu_read64(cpu, s, ea)); break;
    case ST_F80: v = fpu_read80(cpu, s, ea); break;
    case ST_I16: v = hg_f80_from_int((int16_t)hg_read16(cpu, s, ea)); break;
    case ST_I32: v = hg_f80_from_int((int32_t)hg_read32(cpu, s, ea)); break;
    case ST_I64: v = hg_f80_from_int((int64_t)fpu_read64(cpu, s, ea)); break;
    default: {
        uint8_t b[10];
        for (int i = 0; i < 10; i++)
            b[i] = hg_read8(cpu, s, ea + (uint32_t)i);
        v = hg_f80_from_bcd(b);
        break;
    }
    }
    fpu_note(cpu, op, ea);
    fld_value(cpu, v, &c);
}

/* FST/FSTP ST(i). */
static void fst_reg(HgCpu *cpu, int i, bool pop)
{
    if (fpu_empty(cpu, 0)) {
        if (!hg_fpu_stack_fault(cpu, false))
            return;
        fpu_set_st(cpu, i, hg_f80_indefinite());
    } else {
        cpu->fpu.sw &= (uint16_t)~FSW_C1;
        fpu_set_st(cpu, i, fpu_st(cpu, 0));
    }
    if (pop)
        fpu_pop(cpu);
}

static void fxch(HgCpu *cpu, int i)
{
    HgFloatx80 a = fpu_st(cpu, 0), b = fpu_st(cpu, i);
    bool ea = fpu_empty(cpu, 0), eb = fpu_empty(cpu, i);
    if (ea || eb) {
        if (!hg_fpu_stack_fault(cpu, false))
            return;
        if (ea)
            a = hg_f80_indefinite();
        if (eb)
            b = hg_f80_indefinite();
    } else {
        cpu->fpu.sw &= (uint16_t)~FSW_C1;
    }
    fpu_set_st(cpu, 0, b);
    fpu_set_st(cpu, i, a);
}

/* ---- D9 register forms ---- */

/* The constants of FLDxx as 66-bit values (64 bits and 2 more), rounded by RC the way
 * the 387 and later do (SDM Vol. 1 8.3.8). */
static void fld_const(HgCpu *cpu, int which)
{
    static const struct {
        uint16_t sexp;
        uint64_t mant;
        uint8_t extra; /* the two bits below the significand */
    } k[] = {
        {0x3fff, 0x8000000000000000ull, 0}, /* 1 */
        {0x4000, 0xd49a784bcd1b8afeull, 1}, /* log2(10) */
        {0x3fff, 0xb8aa3b295c17f0bbull, 3}, /* log2(e) */
        {0x4000, 0xc90fdaa22168c234ull, 3}, /* pi */
        {0x3ffd, 0x9a209a84fbcff798ull, 3}, /* log10(2) */
        {0x3ffe, 0xb17217f7d1cf79abull, 3}, /* ln(2) */
        {0x0000, 0, 0},                     /* +0 */
    };
    HgFloatx80 v = {k[which].mant, k[which].sexp};
    int rc = (cpu->fpu.cw >> FCW_RC_SHIFT) & 3;
    bool inc = (rc == FRC_NEAREST && k[which].extra >= 2) || (rc == FRC_UP && k[which].extra);
    if (inc)
        v.mant++;
    HgFpCtx c = fpu_ctx(cpu);
    fld_value(cpu, v, &c);
}

static void fxam(HgCpu *cpu)
{
    HgFloatx80 v = fpu_st(cpu, 0);
    uint16_t cc = hg_f80_sign(v) ? FSW_C1 : 0;
    if (fpu_empty(cpu, 0))
        cc |= FSW_C3 | FSW_C0;
    else if (hg_f80_is_unsupported(v))
        cc |= 0;
    else if (hg_f80_is_nan(v))
        cc |= FSW_C0;
    else if (hg_f80_is_inf(v))
        cc |= FSW_C2 | FSW_C0;
    else if (hg_f80_is_zero(v))
        cc |= FSW_C3;
    else if (hg_f80_is_denormal(v))
        cc |= FSW_C3 | FSW_C2;
    else
        cc |= FSW_C2;
    fpu_set_cc(cpu, cc);
}

/* One-operand operations on ST(0): FCHS FABS FSQRT FRNDINT. */
static void unary(HgCpu *cpu, int which)
{
    if (fpu_empty(cpu, 0)) {
        if (hg_fpu_stack_fault(cpu, false))
            fpu_set_st(cpu, 0, hg_f80_indefinite());
        return;
    }
    HgFloatx80 v = fpu_st(cpu, 0);
    HgFpCtx c = fpu_ctx(cpu);
    switch (which) {
    case 0: v.sexp ^= 0x8000; break;
    case 1: v.sexp &= 0x7fff; break;
    case 2: v = hg_f80_sqrt(&c, v); break;
    default: v = hg_f80_round_int(&c, v); break;
    }
    if (hg_fpu_commit(cpu, &c))
        fpu_set_st(cpu, 0, v);
}

/* Two-operand operations on ST(0) and ST(1) that leave both: FPREM FPREM1 FSCALE. */
static void binary01(HgCpu *cpu, int which)
{
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, 1)) {
        if (hg_fpu_stack_fault(cpu, false))
            fpu_set_st(cpu, 0, hg_f80_indefinite());
        return;
    }
    HgFpCtx c = fpu_ctx(cpu);
    uint16_t cc = 0;
    HgFloatx80 r;
    if (which == 2)
        r = hg_f80_scale(&c, fpu_st(cpu, 0), fpu_st(cpu, 1));
    else
        r = hg_f80_rem(&c, fpu_st(cpu, 0), fpu_st(cpu, 1), which == 1, &cc);
    if (!hg_fpu_commit(cpu, &c))
        return;
    if (which != 2)
        fpu_set_cc(cpu, cc);
    fpu_set_st(cpu, 0, r);
}

static void fxtract(HgCpu *cpu)
{
    if (fpu_empty(cpu, 0)) {
        if (hg_fpu_stack_fault(cpu, false)) {
            fpu_set_st(cpu, 0, hg_f80_indefinite());
            fpu_push(cpu, hg_f80_indefinite());
        }
        return;
    }
    if (!fpu_empty(cpu, 7)) {
        if (hg_fpu_stack_fault(cpu, true)) {
            fpu_set_st(cpu, 0, hg_f80_indefinite());
            fpu_push(cpu, hg_f80_indefinite());
        }
        return;
    }
    HgFpCtx c = fpu_ctx(cpu);
    HgFloatx80 sig, e = hg_f80_extract(&c, fpu_st(cpu, 0), &sig);
    if (!hg_fpu_commit(cpu, &c))
        return;
    fpu_set_st(cpu, 0, e);
    fpu_push(cpu, sig);
}

static void d9_reg(HgCpu *cpu, const HgOp *op)
{
    uint8_t m = op->modrm;
    int i = m & 7;
    switch (m) {
    case 0xc0 ... 0xc7: fld_st(cpu, i); return;
    case 0xc8 ... 0xcf: fxch(cpu, i); return;
    case 0xd0: return;                                 /* FNOP */
    case 0xd8 ... 0xdf: fst_reg(cpu, i, true); return; /* FSTP1 alias */
    case 0xe0: unary(cpu, 0); return;
    case 0xe1: unary(cpu, 1); return;
    case 0xe4: {
        HgFpCtx c = fpu_ctx(cpu);
        fcom(cpu, hg_f80_make(false, 0, 0), &c, false, 0, false);
        return;
    }
    case 0xe5: fxam(cpu); return;
    case 0xe8 ... 0xee: fld_const(cpu, m - 0xe8); return;
    case 0xf4: fxtract(cpu); return;
    case 0xf5: binary01(cpu, 1); return;
    case 0xf6:
        cpu->fpu.top = (cpu->fpu.top - 1) & 7;
        cpu->fpu.sw &= (uint16_t)~FSW_C1;
        return;
    case 0xf7:
        cpu->fpu.top = (cpu->fpu.top + 1) & 7;
        cpu->fpu.sw &= (uint16_t)~FSW_C1;
        return;
    case 0xf8: binary01(cpu, 0); return;
    case 0xfa: unary(cpu, 2); return;
    case 0xfc: unary(cpu, 3); return;
    case 0xfd: binary01(cpu, 2); return;
    default:
        if (!hg_fpu_transcendental(cpu, m))
            hg_raise_ud(cpu);
        return;
    }
}

/* ---- FCMOVcc ---- */

static void fcmov(HgCpu *cpu, const HgOp *op, bool negate)
{
    static const uint32_t cond[4] = {FL_CF, FL_ZF, FL_CF | FL_ZF, FL_PF};
    uint32_t fl = hg_cc_compute(cpu);
    bool take = ((fl & cond[(op->modrm >> 3) & 3]) != 0) != negate;
    int i = op->modrm & 7;
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, i)) {
        /* Masked: ST(0) gets the indefinite whether or not the condition holds. */
        if (hg_fpu_stack_fault(cpu, false))
            fpu_set_st(cpu, 0, hg_f80_indefinite());
        return;
    }
    cpu->fpu.sw &= (uint16_t)~FSW_C1;
    if (take)
        fpu_set_st(cpu, 0, fpu_st(cpu, i));
}

/* ---- the escape handlers ---- */

/* D8 and DC: ST(0) op= m32fp / ST(i) and ST(i) op= ST(0) / ST(0) op= m64fp. In the DC
 * register forms the subtract and divide rows name the reversed operation (SDM FSUB:
 * DC E8+i is FSUB ST(i), ST(0)), which is the D8 row's kind with bit 0 flipped. */
static const HgOp *arith_esc(HgCpu *cpu, const HgOp *op, int fmt, bool to_sti)
{
    fpu_enter(cpu, true);
    if (op->flags & OPF_MEM) {
        arith_mem(cpu, op, fmt);
        return op + 1;
    }
    fpu_note(cpu, op, 0);
    int i = op->modrm & 7;
    if (op->reg == K_COM || op->reg == K_COMP) {
        HgFpCtx c = fpu_ctx(cpu);
        fcom(cpu, fpu_st(cpu, i), &c, false, op->reg == K_COMP, fpu_empty(cpu, i));
    } else if (to_sti) {
        arith_reg(cpu, op->reg ^ (op->reg >> 2), i, i, false); /* x = ST(i), y = ST(0) */
    } else {
        arith_reg(cpu, op->reg, 0, i, false);
    }
    return op + 1;
}

H(esc_d8)
{
    return arith_esc(cpu, op, FMT_F32, false);
}

/* D9 and DD memory forms share their layout: /0 load, /2 store, /3 store and pop,
 * /4 FLDENV or FRSTOR, /6 FNSTENV or FNSAVE; /5 and /7 differ. */
static void d9_dd_mem(HgCpu *cpu, const HgOp *op, int fmt, bool whole_state)
{
    uint32_t ea = hg_ea(cpu, op);
    switch (op->reg) {
    case 0:
        fpu_enter(cpu, true);
        fld_mem(cpu, op, fmt);
        break;
    case 2:
    case 3:
        fpu_enter(cpu, true);
        fst_mem(cpu, op, fmt, op->reg == 3);
        break;
    case 4:
        fpu_enter(cpu, true);
        hg_fpu_fldenv(cpu, op, whole_state);
        break;
    case 5:
        if (whole_state)
            hg_raise_ud(cpu);
        fpu_enter(cpu, true); /* FLDCW */
        cpu->fpu.cw = (uint16_t)(hg_read16(cpu, op->seg, ea) | 0x40);
        hg_fpu_update_es(cpu);
        break;
    case 6:
        fpu_enter(cpu, false);
        hg_fpu_fstenv(cpu, op, whole_state);
        break;
    case 7: /* FNSTCW or FNSTSW */
        fpu_enter(cpu, false);
        hg_write16(cpu, op->seg, ea, whole_state ? fpu_get_sw(cpu) : cpu->fpu.cw);
        break;
    default: hg_raise_ud(cpu); /* /1: FISTTP m64 (SSE3) in DD, reserved in D9 */
    }
}

H(esc_d9)
{
    if (op->flags & OPF_MEM) {
        d9_dd_mem(cpu, op, ST_F32, false);
        return op + 1;
    }
    uint8_t m = op->modrm;
    if ((m >= 0xd1 && m <= 0xd7) || m == 0xe2 || m == 0xe3 || m == 0xe6 || m == 0xe7 || m == 0xef)
        hg_raise_ud(cpu);
    fpu_enter(cpu, true);
    fpu_note(cpu, op, 0);
    d9_reg(cpu, op);
    return op + 1;
}

H(esc_da)
{
    if (op->flags & OPF_MEM) {
        fpu_enter(cpu, true);
        arith_mem(cpu, op, FMT_I32);
        return op + 1;
    }
    uint8_t m = op->modrm;
    if (m < 0xe0) {
        fpu_enter(cpu, true);
        fpu_note(cpu, op, 0);
        fcmov(cpu, op, false);
    } else if (m == 0xe9) {
        fpu_enter(cpu, true);
        fpu_note(cpu, op, 0);
        HgFpCtx c = fpu_ctx(cpu);
        fcom(cpu, fpu_st(cpu, 1), &c, true, 2, fpu_empty(cpu, 1));
    } else {
        hg_raise_ud(cpu);
    }
    return op + 1;
}

H(esc_db)
{
    if (op->flags & OPF_MEM) {
        static const int8_t fmt[8] = {ST_I32, -1, ST_I32, ST_I32, -1, ST_F80, -1, ST_F80};
        if (fmt[op->reg] < 0)
            hg_raise_ud(cpu); /* FISTTP is SSE3 */
        fpu_enter(cpu, true);
        if (op->reg == 0 || op->reg == 5)
            fld_mem(cpu, op, fmt[op->reg]);
        else
            fst_mem(cpu, op, fmt[op->reg], op->reg != 2);
        return op + 1;
    }
    uint8_t m = op->modrm;
    if (m < 0xe0) {
        fpu_enter(cpu, true);
        fpu_note(cpu, op, 0);
        fcmov(cpu, op, true);
    } else if (m == 0xe0 || m == 0xe1 || m == 0xe4) {
        fpu_enter(cpu, true); /* FENI, FDISI, FSETPM: no-ops since the 387 */
    } else if (m == 0xe2) {
        fpu_enter(cpu, false);
        cpu->fpu.sw &= (uint16_t) ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
        hg_fpu_set_ferr(cpu, false);
    } else if (m == 0xe3) {
        fpu_enter(cpu, false);
        hg_fpu_init(cpu);
    } else if (m >= 0xe8 && m <= 0xf7) {
        fpu_enter(cpu, true);
        fpu_note(cpu, op, 0);
        fcomi(cpu, m & 7, m < 0xf0, false);
    } else {
        hg_raise_ud(cpu);
    }
    return op + 1;
}

H(esc_dc)
{
    return arith_esc(cpu, op, FMT_F64, true);
}

H(esc_dd)
{
    if (op->flags & OPF_MEM) {
        d9_dd_mem(cpu, op, ST_F64, true);
        return op + 1;
    }
    uint8_t m = op->modrm;
    int i = m & 7;
    if (m >= 0xf0)
        hg_raise_ud(cpu);
    fpu_enter(cpu, true);
    fpu_note(cpu, op, 0);
    switch (op->reg) {
    case 0: fpu_set_tag_phys(cpu, fpu_phys(cpu, i), FTAG_EMPTY); break; /* FFREE */
    case 1: fxch(cpu, i); break;
    case 2: fst_reg(cpu, i, false); break;
    case 3: fst_reg(cpu, i, true); break;
    default: {
        HgFpCtx c = fpu_ctx(cpu);
        fcom(cpu, fpu_st(cpu, i), &c, true, op->reg == 5, fpu_empty(cpu, i));
        break;
    }
    }
    return op + 1;
}

H(esc_de)
{
    if (op->flags & OPF_MEM) {
        fpu_enter(cpu, true);
        arith_mem(cpu, op, FMT_I16);
        return op + 1;
    }
    uint8_t m = op->modrm;
    int i = m & 7;
    if (op->reg == K_COMP && m != 0xd9)
        hg_raise_ud(cpu);
    fpu_enter(cpu, true);
    fpu_note(cpu, op, 0);
    if (op->reg == K_COM || op->reg == K_COMP) {
        /* DE D0+i: FCOMP alias; DE D9: FCOMPP. */
        HgFpCtx c = fpu_ctx(cpu);
        fcom(cpu, fpu_st(cpu, i), &c, false, op->reg == K_COMP ? 2 : 1, fpu_empty(cpu, i));
    } else {
        arith_reg(cpu, op->reg ^ (op->reg >> 2), i, i, true);
    }
    return op + 1;
}

H(esc_df)
{
    if (op->flags & OPF_MEM) {
        static const int8_t fmt[8] = {ST_I16, -1, ST_I16, ST_I16, ST_BCD, ST_I64, ST_BCD, ST_I64};
        if (fmt[op->reg] < 0)
            hg_raise_ud(cpu);
        fpu_enter(cpu, true);
        if (op->reg == 0 || op->reg == 4 || op->reg == 5)
            fld_mem(cpu, op, fmt[op->reg]);
        else
            fst_mem(cpu, op, fmt[op->reg], op->reg != 2);
        return op + 1;
    }
    uint8_t m = op->modrm;
    int i = m & 7;
    if (m == 0xe0) {
        fpu_enter(cpu, false); /* FNSTSW AX */
        hg_set_reg16(cpu, R_EAX, fpu_get_sw(cpu));
        return op + 1;
    }
    if (m > 0xe0 && m < 0xe8)
        hg_raise_ud(cpu);
    if (m >= 0xf8)
        hg_raise_ud(cpu);
    fpu_enter(cpu, true);
    fpu_note(cpu, op, 0);
    switch (op->reg) {
    case 0: /* FFREEP */
        fpu_set_tag_phys(cpu, fpu_phys(cpu, i), FTAG_EMPTY);
        fpu_pop(cpu);
        break;
    case 1: fxch(cpu, i); break;
    case 2:
    case 3: fst_reg(cpu, i, true); break;
    default: fcomi(cpu, i, op->reg == 5, true); break;
    }
    return op + 1;
}

const HgOpImpl hg_impl_FPU_D8 = {esc_d8, esc_d8, esc_d8, esc_d8};
const HgOpImpl hg_impl_FPU_D9 = {esc_d9, esc_d9, esc_d9, esc_d9};
const HgOpImpl hg_impl_FPU_DA = {esc_da, esc_da, esc_da, esc_da};
const HgOpImpl hg_impl_FPU_DB = {esc_db, esc_db, esc_db, esc_db};
const HgOpImpl hg_impl_FPU_DC = {esc_dc, esc_dc, esc_dc, esc_dc};
const HgOpImpl hg_impl_FPU_DD = {esc_dd, esc_dd, esc_dd, esc_dd};
const HgOpImpl hg_impl_FPU_DE = {esc_de, esc_de, esc_de, esc_de};
const HgOpImpl hg_impl_FPU_DF = {esc_df, esc_df, esc_df, esc_df};

/* WAIT/FWAIT: #NM only when both MP and TS are set; then the pending exception check. */
H(fwait)
{
    if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        hg_raise(cpu, EX_NM, -1);
    if (cpu->fpu.sw & FSW_ES)
        hg_fpu_pending(cpu);
    return op + 1;
}
const HgOpImpl hg_impl_FWAIT = {fwait, fwait, fwait, fwait};
