/* Software IEEE 754 double-extended arithmetic as the x87 implements it: add, subtract,
 * multiply, divide, square root, partial remainders, scaling, rounding to integer and
 * the conversions, with the four rounding modes, the precision control of the control
 * word, denormals, NaN propagation and the masked and unmasked exception responses
 * (Intel SDM Vol. 1 chapter 4.8-4.9 and 8.5; table 4-7 for NaN operands).
 *
 * Portable C on 64-bit integers: no host floating point. A value in flight is a sign,
 * a biased exponent that may leave the 15-bit range, and a 128-bit significand
 * sig0.sig1 whose bit 63 of sig0 is the integer bit.
 */
#include "fpu.h"

#include <stddef.h>

#define BIAS HG_F80_BIAS

HgFloatx80 hg_f80_indefinite(void)
{
    return hg_f80_make(true, 0x7fff, 0xc000000000000000ull);
}

int hg_f80_tag(HgFloatx80 a)
{
    int e = hg_f80_exp(a);
    if (e == 0x7fff || (e == 0 && a.mant) || (e && !(a.mant >> 63)))
        return FTAG_SPECIAL;
    if (e == 0)
        return FTAG_ZERO;
    return FTAG_VALID;
}

static inline int clz64(uint64_t v)
{
    return v ? __builtin_clzll(v) : 64;
}

/* Shifts sig0.sig1 right by n, ORing every bit shifted out into bit 0 of sig1. */
static void shift_right_jam(uint64_t *s0, uint64_t *s1, int n)
{
    uint64_t a = *s0, b = *s1;
    if (n <= 0)
        return;
    if (n < 64) {
        uint64_t lost = b << (64 - n);
        b = (a << (64 - n)) | (b >> n) | (lost != 0);
        a >>= n;
    } else if (n == 64) {
        b = a | (b != 0);
        a = 0;
    } else if (n < 128) {
        uint64_t lost = (a << (128 - n)) | b;
        b = (a >> (n - 64)) | (lost != 0);
        a = 0;
    } else {
        b = (a | b) != 0;
        a = 0;
    }
    *s0 = a;
    *s1 = b;
}

void hg_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    *lo = (mid << 32) | (uint32_t)ll;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

static int precision_bits(uint16_t cw)
{
    switch ((cw >> FCW_PC_SHIFT) & 3) {
    case 0: return 24;
    case 2: return 53;
    default: return 64;
    }
}

static bool masked(const HgFpCtx *c, uint16_t exc)
{
    return (c->cw & exc) != 0;
}

/* Rounding of a value in flight to prec bits of significand with the normal exponent
 * range [emin, emax] (biased as extended). reg: the destination is a register, where
 * unmasked overflow and underflow deliver the result with the exponent wrapped by
 * 0x6000 (SDM 4.9.1.4-5); for narrower destinations the caller stores nothing then.
 * Tininess is detected after rounding, as the P6 does. A denormal result keeps exponent
 * emin with the integer bit clear; the caller packs it for its format. */
static HgFloatx80 round_pack_ex(HgFpCtx *c, bool sign, int32_t exp, uint64_t s0, uint64_t s1,
                                int prec, int32_t emin, int32_t emax, bool reg)
{
    int rc = (c->cw >> FCW_RC_SHIFT) & 3;
    uint64_t lsb = prec == 64 ? 0 : 1ull << (64 - prec);
    uint64_t mask = lsb ? lsb - 1 : 0;
    bool denorm = false;

    if (!s0 && !s1)
        return hg_f80_make(sign, 0, 0);
    if (!(s0 >> 63)) {
        int n = s0 ? clz64(s0) : 64 + clz64(s1);
        if (n >= 64) {
            s0 = s1 << (n - 64);
            s1 = 0;
        } else {
            s0 = (s0 << n) | (s1 >> (64 - n));
            s1 <<= n;
        }
        exp -= n;
    }
    if (lsb) {
        /* Reduced precision: the bits below the precision become the round bits. */
        s0 |= s1 != 0;
        s1 = 0;
    }
    if (exp < emin) {
        /* Tiny before rounding. Decide tininess after rounding: only a value just
         * under 2^emin that rounds up to it at full width escapes. */
        bool tiny = true;
        if (exp == emin - 1) {
            uint64_t t0 = s0, t1 = s1;
            bool inexact = lsb ? (t0 & mask) != 0 : t1 != 0;
            bool inc = false;
            if (inexact) {
                switch (rc) {
                case FRC_NEAREST: inc = lsb ? (t0 & mask) >= (lsb >> 1) : (t1 >> 63) != 0; break;
                case FRC_UP: inc = !sign; break;
                case FRC_DOWN: inc = sign; break;
                default: break;
                }
            }
            if (inc && ((t0 | mask) == ~0ull))
                tiny = false;
        }
        if (tiny && !masked(c, FSW_UE) && reg) {
            /* Unmasked: deliver with the exponent wrapped; a result too tiny even
             * then is denormalized like a masked one. */
            c->exc |= FSW_UE;
            exp += 0x6000;
            if (exp < emin) {
                /* Too small even with the wrapped exponent: zero. */
                c->exc |= FSW_PE;
                return hg_f80_make(sign, 0, 0);
            }
            tiny = false;
        }
        if (tiny && !masked(c, FSW_UE) && !reg) {
            /* Narrow destination: only UE, and the caller stores nothing. */
            c->exc |= FSW_UE;
            return hg_f80_make(sign, 0, 0);
        }
        if (tiny) {
            shift_right_jam(&s0, &s1, emin - exp);
            if (lsb) {
                s0 |= s1 != 0;
                s1 = 0;
            }
            exp = emin;
            denorm = true;
        }
    }
    bool inexact = lsb ? (s0 & mask) != 0 : s1 != 0;
    bool inc = false;
    if (inexact) {
        switch (rc) {
        case FRC_NEAREST:
            if (lsb) {
                uint64_t r = s0 & mask;
                inc = r > (lsb >> 1) || (r == (lsb >> 1) && (s0 & lsb));
            } else {
                inc = (s1 >> 63) && ((s1 << 1) || (s0 & 1));
            }
            break;
        case FRC_UP: inc = !sign; break;
        case FRC_DOWN: inc = sign; break;
        default: break;
        }
        c->exc |= FSW_PE;
        if (denorm && masked(c, FSW_UE))
            c->exc |= FSW_UE;
    }
    s0 &= ~mask;
    if (inc) {
        uint64_t step = lsb ? lsb : 1;
        uint64_t old = s0;
        s0 += step;
        if (s0 < old) {
            s0 = 1ull << 63;
            exp++;
        }
        c->up = true;
    }
    if (denorm && (s0 >> 63))
        denorm = false; /* rounded up into the normal range */
    if (exp > emax) {
        if (!masked(c, FSW_OE) && !reg) {
            /* Narrow destination: only OE, and the caller stores nothing. */
            c->exc = (uint16_t)((c->exc & ~FSW_PE) | FSW_OE);
            c->up = false;
            return hg_f80_make(sign, 0x7fff, 1ull << 63);
        }
        c->exc |= FSW_OE;
        if (!masked(c, FSW_OE) && exp - 0x6000 <= emax) {
            if (reg)
                exp -= 0x6000;
            c->exc |= inexact ? FSW_PE : 0;
        } else if (!masked(c, FSW_OE)) {
            /* Too large even with the wrapped exponent: infinity. */
            c->exc |= FSW_PE;
            c->up = true;
            return hg_f80_make(sign, 0x7fff, 1ull << 63);
        } else {
            /* Masked: infinity or the largest finite value by rounding mode. */
            c->exc |= FSW_PE;
            bool to_inf = rc == FRC_NEAREST || (rc == FRC_UP && !sign) || (rc == FRC_DOWN && sign);
            if (to_inf) {
                c->up = true;
                return hg_f80_make(sign, 0x7fff, 1ull << 63);
            }
            c->up = false;
            return hg_f80_make(sign, emax, ~mask);
        }
    }
    if (!s0)
        return hg_f80_make(sign, 0, 0);
    if (denorm && emin == 1)
        exp = 0;
    return hg_f80_make(sign, exp, s0);
}

static HgFloatx80 round_pack(HgFpCtx *c, bool sign, int32_t exp, uint64_t s0, uint64_t s1)
{
    return round_pack_ex(c, sign, exp, s0, s1, precision_bits(c->cw), 1, 0x7ffe, true);
}

HgFloatx80 hg_f80_round(HgFpCtx *c, HgFloatx80 a)
{
    int e = hg_f80_exp(a);
    if (e == 0x7fff || (e == 0 && !a.mant))
        return a;
    return round_pack(c, hg_f80_sign(a), e ? e : 1, a.mant, 0);
}

/* Unpacks a finite nonzero operand to a normalized significand and an exponent that
 * may be below 1 (denormals raise DE). */
static void unpack(HgFpCtx *c, HgFloatx80 a, int32_t *e, uint64_t *m)
{
    int32_t ex = hg_f80_exp(a);
    uint64_t mm = a.mant;
    if (ex == 0) {
        c->exc |= FSW_DE;
        ex = 1; /* denormals and pseudo-denormals share the exponent of 1 */
        int n = clz64(mm);
        mm <<= n;
        ex -= n;
    }
    *e = ex;
    *m = mm;
}

static HgFloatx80 invalid(HgFpCtx *c)
{
    c->exc |= FSW_IE;
    return hg_f80_indefinite();
}

static HgFloatx80 quiet(HgFloatx80 a)
{
    a.mant |= 1ull << 62;
    return a;
}

/* NaN operands (SDM table 4-7): an SNaN raises IE; a QNaN operand wins over an SNaN,
 * and between two NaNs of the same kind the larger significand wins. */
static HgFloatx80 propagate_nan(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b)
{
    bool an = hg_f80_is_nan(a), bn = hg_f80_is_nan(b);
    bool as = hg_f80_is_snan(a), bs = hg_f80_is_snan(b);
    if (as || bs)
        c->exc |= FSW_IE;
    if (an && bn) {
        if (as == bs) {
            uint64_t ma = a.mant << 1, mb = b.mant << 1;
            if (ma != mb)
                return quiet(ma > mb ? a : b);
            return quiet(hg_f80_sign(a) ? b : a);
        }
        return quiet(as ? b : a);
    }
    return quiet(an ? a : b);
}

/* Operand screening for one-operand arithmetic: true when *r is the answer. */
static bool special1(HgFpCtx *c, HgFloatx80 a, HgFloatx80 *r)
{
    if (hg_f80_is_unsupported(a)) {
        *r = invalid(c);
        return true;
    }
    if (hg_f80_is_nan(a)) {
        *r = propagate_nan(c, a, a);
        return true;
    }
    return false;
}

/* Common operand screening for two-operand arithmetic: true when *r is the answer. */
static bool special2(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b, HgFloatx80 *r)
{
    if (hg_f80_is_unsupported(a) || hg_f80_is_unsupported(b)) {
        *r = invalid(c);
        return true;
    }
    if (hg_f80_is_nan(a) || hg_f80_is_nan(b)) {
        *r = propagate_nan(c, a, b);
        return true;
    }
    return false;
}

static HgFloatx80 addsub(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b, bool negb)
{
    HgFloatx80 r;
    if (special2(c, a, b, &r))
        return r;
    bool sa = hg_f80_sign(a), sb = hg_f80_sign(b) ^ negb;
    bool ia = hg_f80_is_inf(a), ib = hg_f80_is_inf(b);
    int rc = (c->cw >> FCW_RC_SHIFT) & 3;
    if (ia || ib) {
        if (ia && ib && sa != sb)
            return invalid(c);
        if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
            c->exc |= FSW_DE;
        return hg_f80_make(ia ? sa : sb, 0x7fff, 1ull << 63);
    }
    bool za = hg_f80_is_zero(a), zb = hg_f80_is_zero(b);
    if (za && zb)
        return hg_f80_make(sa == sb ? sa : rc == FRC_DOWN, 0, 0);
    if (za || zb) {
        /* x + 0 = x, but still rounded to the precision control. */
        HgFloatx80 x = za ? b : a;
        int32_t e;
        uint64_t m;
        unpack(c, x, &e, &m);
        return round_pack(c, za ? sb : sa, e, m, 0);
    }
    int32_t ea, eb;
    uint64_t ma, mb;
    unpack(c, a, &ea, &ma);
    unpack(c, b, &eb, &mb);
    if (sa == sb) {
        if (ea < eb) {
            int32_t te = ea;
            ea = eb;
            eb = te;
            uint64_t tm = ma;
            ma = mb;
            mb = tm;
        }
        uint64_t lo = 0;
        shift_right_jam(&mb, &lo, ea - eb);
        uint64_t sum = ma + mb;
        if (sum < ma) {
            shift_right_jam(&sum, &lo, 1);
            sum |= 1ull << 63;
            ea++;
        }
        return round_pack(c, sa, ea, sum, lo);
    }
    /* Opposite signs: subtract the smaller magnitude from the larger. */
    bool swap = ea < eb || (ea == eb && ma < mb);
    if (ea == eb && ma == mb)
        return hg_f80_make(rc == FRC_DOWN, 0, 0);
    if (swap) {
        int32_t te = ea;
        ea = eb;
        eb = te;
        uint64_t tm = ma;
        ma = mb;
        mb = tm;
        sa = sb;
    }
    uint64_t lo = 0;
    shift_right_jam(&mb, &lo, ea - eb);
    uint64_t rlo = 0 - lo;
    uint64_t rhi = ma - mb - (lo != 0);
    return round_pack(c, sa, ea, rhi, rlo);
}

HgFloatx80 hg_f80_add(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b)
{
    return addsub(c, a, b, false);
}

HgFloatx80 hg_f80_sub(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b)
{
    return addsub(c, a, b, true);
}

HgFloatx80 hg_f80_mul(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b)
{
    HgFloatx80 r;
    if (special2(c, a, b, &r))
        return r;
    bool s = hg_f80_sign(a) ^ hg_f80_sign(b);
    bool ia = hg_f80_is_inf(a), ib = hg_f80_is_inf(b);
    bool za = hg_f80_is_zero(a), zb = hg_f80_is_zero(b);
    if (ia || ib) {
        if (za || zb)
            return invalid(c);
        if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
            c->exc |= FSW_DE;
        return hg_f80_make(s, 0x7fff, 1ull << 63);
    }
    if (za || zb) {
        if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
            c->exc |= FSW_DE;
        return hg_f80_make(s, 0, 0);
    }
    int32_t ea, eb;
    uint64_t ma, mb, hi, lo;
    unpack(c, a, &ea, &ma);
    unpack(c, b, &eb, &mb);
    hg_mul64(ma, mb, &hi, &lo);
    return round_pack(c, s, ea + eb - BIAS + 1, hi, lo);
}

HgFloatx80 hg_f80_div(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b)
{
    HgFloatx80 r;
    if (special2(c, a, b, &r))
        return r;
    bool s = hg_f80_sign(a) ^ hg_f80_sign(b);
    bool ia = hg_f80_is_inf(a), ib = hg_f80_is_inf(b);
    bool za = hg_f80_is_zero(a), zb = hg_f80_is_zero(b);
    if (ia && ib)
        return invalid(c);
    if (za && zb)
        return invalid(c);
    if (zb && !ia) {
        /* Division by zero takes precedence over a denormal dividend. */
        c->exc |= FSW_ZE;
        return hg_f80_make(s, 0x7fff, 1ull << 63);
    }
    if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
        c->exc |= FSW_DE;
    if (ia)
        return hg_f80_make(s, 0x7fff, 1ull << 63);
    if (ib || za)
        return hg_f80_make(s, 0, 0);
    int32_t ea, eb;
    uint64_t ma, mb;
    unpack(c, a, &ea, &ma);
    unpack(c, b, &eb, &mb);
    int32_t e = ea - eb + BIAS;
    /* Restoring division on a 65-bit partial remainder (carry + rem). */
    uint64_t rem = ma, carry = 0, q = 0, round = 0;
    if (rem < mb) {
        carry = rem >> 63;
        rem <<= 1;
        e--;
    }
    for (int i = 0; i < 65; i++) {
        bool bit = carry || rem >= mb;
        if (bit)
            rem -= mb;
        if (i < 64)
            q = (q << 1) | bit;
        else
            round = bit;
        carry = rem >> 63;
        rem <<= 1;
    }
    uint64_t s1 = (round << 63) | (rem != 0 || carry);
    return round_pack(c, s, e, q, s1);
}

/* 128-bit helpers for the square root. */
typedef struct U128 {
    uint64_t hi, lo;
} U128;

static bool u128_ge(U128 a, U128 b)
{
    return a.hi > b.hi || (a.hi == b.hi && a.lo >= b.lo);
}

static U128 u128_sub(U128 a, U128 b)
{
    U128 r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
    return r;
}

HgFloatx80 hg_f80_sqrt(HgFpCtx *c, HgFloatx80 a)
{
    HgFloatx80 r;
    if (special1(c, a, &r))
        return r;
    bool s = hg_f80_sign(a);
    if (hg_f80_is_zero(a))
        return a;
    if (s)
        return invalid(c);
    if (hg_f80_is_inf(a))
        return a;
    int32_t ea;
    uint64_t ma;
    unpack(c, a, &ea, &ma);
    int32_t E = ea - BIAS - 63;
    int sh = (E & 1) ? 63 : 64; /* E - sh even */
    /* Radicand X = ma << sh, in [2^126, 2^128). */
    U128 x = {sh == 64 ? ma : ma >> 1, sh == 64 ? 0 : ma << 63};
    U128 rem = {0, 0};
    uint64_t root = 0;
    for (int i = 63; i >= 0; i--) {
        unsigned two = (unsigned)((i >= 32 ? x.hi >> (2 * (i - 32)) : x.lo >> (2 * i)) & 3);
        rem.hi = (rem.hi << 2) | (rem.lo >> 62);
        rem.lo = (rem.lo << 2) | two;
        U128 trial = {root >> 62, (root << 2) | 1};
        root <<= 1;
        if (u128_ge(rem, trial)) {
            rem = u128_sub(rem, trial);
            root |= 1;
        }
    }
    /* rem = X - root^2; sqrt(X) >= root + 1/2 exactly when rem > root. */
    bool half = rem.hi || rem.lo > root;
    bool sticky = rem.hi || rem.lo;
    uint64_t s1 = ((uint64_t)half << 63) | (uint64_t)sticky;
    int32_t e = BIAS + 63 + (E - sh) / 2;
    return round_pack(c, false, e, root, s1);
}

HgFloatx80 hg_f80_rem(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b, bool ieee, uint16_t *cc)
{
    HgFloatx80 r;
    *cc = 0;
    if (special2(c, a, b, &r))
        return r;
    if (hg_f80_is_inf(a) || hg_f80_is_zero(b))
        return invalid(c);
    if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
        c->exc |= FSW_DE;
    if (hg_f80_is_inf(b) || hg_f80_is_zero(a)) {
        if (hg_f80_is_zero(a))
            return a;
        /* x rem inf = x; a denormal x is normalized on the way. */
        int32_t e;
        uint64_t m;
        unpack(c, a, &e, &m);
        return round_pack_ex(c, hg_f80_sign(a), e, m, 0, 64, 1, 0x7ffe, true);
    }
    bool sa = hg_f80_sign(a);
    int32_t ea, eb;
    uint64_t ma, mb;
    unpack(c, a, &ea, &ma);
    unpack(c, b, &eb, &mb);
    int32_t d = ea - eb;
    if (d < 0 && !(ieee && d == -1)) {
        /* |a| < |b|: the remainder is a itself, quotient 0. */
        return round_pack_ex(c, sa, ea, ma, 0, 64, 1, 0x7ffe, true);
    }
    int steps;
    bool partial = d >= 64;
    if (partial) {
        int n = 32 + (d & 31); /* reduce the exponent by d - n, n in 32..63 */
        steps = n + 1;
    } else {
        steps = d + 1;
    }
    uint64_t rem = ma, carry = 0, q = 0;
    int32_t er = ea - (steps - 1);
    if (d == -1) {
        steps = 0;
        er = ea;
    }
    for (int i = 0; i < steps; i++) {
        bool bit = carry || rem >= mb;
        if (bit)
            rem -= mb;
        q = (q << 1) | bit;
        if (i < steps - 1) {
            carry = rem >> 63;
            rem <<= 1;
        }
    }
    /* Now |a| / 2^(d-steps+1) = q * mb + rem at the scale of eb (or ea for d = -1). */
    bool rs = sa;
    if (ieee && !partial) {
        /* Round the quotient to nearest: compare 2 rem with mb at the scale of eb. */
        bool gt, eq;
        if (d == -1) {
            /* rem is a at the scale ea = eb - 1: 2|a| against |b| is rem against mb. */
            gt = rem > mb;
            eq = rem == mb;
        } else {
            gt = (rem >> 63) || (rem << 1) > mb;
            eq = !(rem >> 63) && (rem << 1) == mb;
        }
        if (gt || (eq && (q & 1))) {
            if (d == -1) {
                /* |b| - |a| = (2 mb - ma) at the scale of ea, and 2 mb - ma < mb. */
                rem = mb - (rem - mb);
                er = ea;
            } else {
                rem = mb - rem;
            }
            q++;
            rs = !rs;
        }
    }
    if (partial)
        *cc |= FSW_C2;
    if (!partial) {
        if (q & 1)
            *cc |= FSW_C1;
        if (q & 2)
            *cc |= FSW_C3;
        if (q & 4)
            *cc |= FSW_C0;
    }
    if (!rem)
        return hg_f80_make(sa, 0, 0);
    /* The remainder is exact; only an underflow can make it inexact. */
    return round_pack_ex(c, rs, er, rem, 0, 64, 1, 0x7ffe, true);
}

HgFloatx80 hg_f80_scale(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b)
{
    HgFloatx80 r;
    if (special2(c, a, b, &r))
        return r;
    bool ia = hg_f80_is_inf(a), ib = hg_f80_is_inf(b);
    bool za = hg_f80_is_zero(a);
    bool sb = hg_f80_sign(b);
    if (ib) {
        if ((za && !sb) || (ia && sb))
            return invalid(c);
        if (hg_f80_is_denormal(a))
            c->exc |= FSW_DE;
        if (za || ia)
            return a;
        return sb ? hg_f80_make(hg_f80_sign(a), 0, 0)
                  : hg_f80_make(hg_f80_sign(a), 0x7fff, 1ull << 63);
    }
    if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
        c->exc |= FSW_DE;
    if (ia || za)
        return a;
    /* n = trunc(b), clamped where the result saturates anyway. */
    int32_t n;
    int eb = hg_f80_exp(b);
    if (eb < BIAS) {
        n = 0;
    } else if (eb >= BIAS + 20) {
        n = sb ? -(1 << 20) : (1 << 20);
    } else {
        n = (int32_t)(b.mant >> (63 - (eb - BIAS)));
        if (sb)
            n = -n;
    }
    int32_t ea;
    uint64_t ma;
    unpack(c, a, &ea, &ma);
    HgFpCtx t = *c;
    t.cw |= 3u << FCW_PC_SHIFT;
    r = round_pack(&t, hg_f80_sign(a), ea + n, ma, 0);
    c->exc = t.exc;
    c->up = t.up;
    return r;
}

HgFloatx80 hg_f80_round_int(HgFpCtx *c, HgFloatx80 a)
{
    HgFloatx80 r;
    if (special1(c, a, &r))
        return r;
    if (hg_f80_is_inf(a) || hg_f80_is_zero(a))
        return a;
    int32_t e;
    uint64_t m;
    unpack(c, a, &e, &m);
    bool s = hg_f80_sign(a);
    if (e >= BIAS + 63)
        return a;
    int rc = (c->cw >> FCW_RC_SHIFT) & 3;
    int fb = BIAS + 63 - e;        /* fractional bits, >= 1 */
    uint64_t ip, frac_hi, frac_lo; /* integer part, fraction as 0.hi.lo in units */
    if (fb >= 64) {
        ip = 0;
        frac_hi = m;
        frac_lo = 0;
        shift_right_jam(&frac_hi, &frac_lo, fb - 64);
        /* frac = frac_hi.frac_lo / 2^64: a value in [0, 1). */
    } else {
        ip = m >> fb;
        frac_hi = m << (64 - fb);
        frac_lo = 0;
    }
    bool inexact = frac_hi || frac_lo;
    bool inc = false;
    switch (rc) {
    case FRC_NEAREST: inc = (frac_hi >> 63) && ((frac_hi << 1) || frac_lo || (ip & 1)); break;
    case FRC_UP: inc = inexact && !s; break;
    case FRC_DOWN: inc = inexact && s; break;
    default: break;
    }
    if (inexact)
        c->exc |= FSW_PE;
    if (inc) {
        ip++;
        c->up = true;
    }
    if (!ip)
        return hg_f80_make(s, 0, 0);
    int n = clz64(ip);
    int32_t re = BIAS + 63 - n;
    return hg_f80_make(s, re, ip << n);
}

HgFloatx80 hg_f80_extract(HgFpCtx *c, HgFloatx80 a, HgFloatx80 *sig)
{
    if (hg_f80_is_unsupported(a)) {
        *sig = invalid(c);
        return *sig;
    }
    if (hg_f80_is_nan(a)) {
        *sig = propagate_nan(c, a, a);
        return *sig;
    }
    if (hg_f80_is_inf(a)) {
        *sig = a;
        return hg_f80_make(false, 0x7fff, 1ull << 63);
    }
    if (hg_f80_is_zero(a)) {
        c->exc |= FSW_ZE;
        *sig = a;
        return hg_f80_make(true, 0x7fff, 1ull << 63);
    }
    int32_t e;
    uint64_t m;
    unpack(c, a, &e, &m);
    *sig = hg_f80_make(hg_f80_sign(a), BIAS, m);
    return hg_f80_from_int(e - BIAS);
}

int hg_f80_compare(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b, bool quiet_cmp)
{
    if (hg_f80_is_unsupported(a) || hg_f80_is_unsupported(b)) {
        c->exc |= FSW_IE;
        return 2;
    }
    if (hg_f80_is_nan(a) || hg_f80_is_nan(b)) {
        if (!quiet_cmp || hg_f80_is_snan(a) || hg_f80_is_snan(b))
            c->exc |= FSW_IE;
        return 2;
    }
    if (hg_f80_is_denormal(a) || hg_f80_is_denormal(b))
        c->exc |= FSW_DE;
    bool za = hg_f80_is_zero(a), zb = hg_f80_is_zero(b);
    if (za && zb)
        return 0;
    bool sa = hg_f80_sign(a), sb = hg_f80_sign(b);
    if (sa != sb)
        return sa ? -1 : 1;
    /* Same sign: compare magnitudes, denormals (integer bit clear) sort correctly
     * by exponent 0 then significand; pseudo-denormals compare as exponent 1. */
    int32_t ea = hg_f80_exp(a), eb = hg_f80_exp(b);
    uint64_t ma = a.mant, mb = b.mant;
    if (ea == 0 && (ma >> 63))
        ea = 1;
    if (eb == 0 && (mb >> 63))
        eb = 1;
    int mag;
    if (ea != eb)
        mag = ea < eb ? -1 : 1;
    else
        mag = ma == mb ? 0 : ma < mb ? -1 : 1;
    return sa ? -mag : mag;
}

HgFloatx80 hg_f80_from_int(int64_t v)
{
    if (!v)
        return hg_f80_make(false, 0, 0);
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int n = clz64(m);
    return hg_f80_make(s, BIAS + 63 - n, m << n);
}

static HgFloatx80 from_narrow(HgFpCtx *c, bool s, int32_t e, uint64_t frac, int fbits, int fbias,
                              int emax)
{
    if (e == emax) {
        if (!frac)
            return hg_f80_make(s, 0x7fff, 1ull << 63);
        HgFloatx80 n = hg_f80_make(s, 0x7fff, (1ull << 63) | (frac << (63 - fbits)));
        if (!(n.mant & (1ull << 62))) {
            c->exc |= FSW_IE;
            n.mant |= 1ull << 62;
        }
        return n;
    }
    if (e == 0) {
        if (!frac)
            return hg_f80_make(s, 0, 0);
        c->exc |= FSW_DE;
        int n = clz64(frac);
        /* value = frac * 2^(1 - fbias - fbits) */
        return hg_f80_make(s, BIAS + 1 - fbias - fbits + 63 - n, frac << n);
    }
    return hg_f80_make(s, e - fbias + BIAS, (1ull << 63) | (frac << (63 - fbits)));
}

HgFloatx80 hg_f80_from_f32(HgFpCtx *c, uint32_t v)
{
    return from_narrow(c, v >> 31, (v >> 23) & 0xff, v & 0x7fffff, 23, 127, 0xff);
}

HgFloatx80 hg_f80_from_f64(HgFpCtx *c, uint64_t v)
{
    return from_narrow(c, v >> 63, (v >> 52) & 0x7ff, v & 0xfffffffffffffull, 52, 1023, 0x7ff);
}

/* Rounds a to a binary format with fbits fraction bits and exponent bias fbias; returns
 * the packed bits (as a 64-bit pattern) of sign, biased exponent and fraction. */
static uint64_t to_narrow(HgFpCtx *c, HgFloatx80 a, int fbits, int fbias)
{
    int ebits = fbits == 23 ? 8 : 11;
    uint64_t emaxf = (1u << ebits) - 1;
    bool s = hg_f80_sign(a);
    uint64_t sbit = (uint64_t)s << (fbits + ebits);
    if (hg_f80_is_unsupported(a)) {
        c->exc |= FSW_IE;
        return ((uint64_t)1 << (fbits + ebits)) | (emaxf << fbits) | (1ull << (fbits - 1));
    }
    if (hg_f80_is_nan(a)) {
        if (hg_f80_is_snan(a))
            c->exc |= FSW_IE;
        return sbit | (emaxf << fbits) | (1ull << (fbits - 1)) | ((a.mant << 1) >> (64 - fbits));
    }
    if (hg_f80_is_inf(a))
        return sbit | (emaxf << fbits);
    if (hg_f80_is_zero(a))
        return sbit;
    int32_t e;
    uint64_t m;
    uint16_t before = c->exc;
    unpack(c, a, &e, &m);
    c->exc = before; /* stores do not signal denormal sources */
    int32_t emin = BIAS - fbias + 1, emax = BIAS + fbias;
    HgFloatx80 r = round_pack_ex(c, s, e, m, 0, fbits + 1, emin, emax, false);
    int re = hg_f80_exp(r);
    if (re == 0x7fff)
        return sbit | (emaxf << fbits);
    if (!r.mant)
        return sbit;
    if (!(r.mant >> 63)) /* denormal in the narrow format, at exponent emin */
        return sbit | (r.mant >> (63 - fbits));
    return sbit | ((uint64_t)(re - BIAS + fbias) << fbits) | ((r.mant << 1) >> (64 - fbits));
}

uint32_t hg_f80_to_f32(HgFpCtx *c, HgFloatx80 a)
{
    return (uint32_t)to_narrow(c, a, 23, 127);
}

uint64_t hg_f80_to_f64(HgFpCtx *c, HgFloatx80 a)
{
    return to_narrow(c, a, 52, 1023);
}

int64_t hg_f80_to_int(HgFpCtx *c, HgFloatx80 a, int bits, bool trunc)
{
    int64_t indef = (int64_t)(~0ull << (bits - 1));
    if (hg_f80_is_unsupported(a) || hg_f80_exp(a) == 0x7fff) {
        c->exc |= FSW_IE;
        return indef;
    }
    if (hg_f80_is_zero(a))
        return 0;
    HgFpCtx t = *c;
    if (trunc)
        t.cw |= FRC_ZERO << FCW_RC_SHIFT;
    t.up = false;
    HgFloatx80 r = hg_f80_round_int(&t, a);
    int e = hg_f80_exp(r);
    bool s = hg_f80_sign(r);
    uint64_t mag = 0;
    bool ok = true;
    if (r.mant) {
        if (e > BIAS + 63)
            ok = false;
        else
            mag = r.mant >> (BIAS + 63 - e);
    }
    uint64_t lim = 1ull << (bits - 1);
    if (!ok || (s ? mag > lim : mag >= lim)) {
        c->exc |= FSW_IE;
        return indef;
    }
    c->exc |= t.exc & ~FSW_DE;
    c->up = t.up;
    return s ? (int64_t)(0 - mag) : (int64_t)mag;
}

HgFloatx80 hg_f80_from_bcd(const uint8_t bcd[10])
{
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (uint64_t)(bcd[i] >> 4) * 10 + (bcd[i] & 15);
    HgFloatx80 r = hg_f80_from_int((int64_t)v);
    if (bcd[9] & 0x80)
        r.sexp |= 0x8000;
    return r;
}

void hg_f80_to_bcd(HgFpCtx *c, HgFloatx80 a, uint8_t bcd[10])
{
    HgFpCtx t = *c;
    int64_t v = 0;
    bool bad = hg_f80_is_unsupported(a) || hg_f80_exp(a) == 0x7fff;
    if (!bad && !hg_f80_is_zero(a)) {
        HgFloatx80 r = hg_f80_round_int(&t, a);
        int e = hg_f80_exp(r);
        if (e > BIAS + 59) {
            bad = true;
        } else if (r.mant) {
            uint64_t mag = r.mant >> (BIAS + 63 - e);
            if (mag > 999999999999999999ull)
                bad = true;
            else
                v = (int64_t)mag;
        }
    }
    if (bad) {
        /* The packed BCD indefinite. */
        c->exc |= FSW_IE;
        for (int i = 0; i < 7; i++)
            bcd[i] = 0;
        bcd[7] = 0xc0;
        bcd[8] = bcd[9] = 0xff;
        return;
    }
    c->exc |= t.exc & ~FSW_DE;
    c->up = t.up;
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 9; i++) {
        unsigned lo = (unsigned)(u % 10);
        u /= 10;
        unsigned hi = (unsigned)(u % 10);
        u /= 10;
        bcd[i] = (uint8_t)(hi << 4 | lo);
    }
    bcd[9] = hg_f80_sign(a) ? 0x80 : 0;
}
