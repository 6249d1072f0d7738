/* x87 transcendental instructions: FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1
 * (Intel SDM Vol. 2 instruction pages; Vol. 1 8.3.10). Special operands (NaNs,
 * infinities, zeros, empty registers) follow the instruction pages exactly. The finite
 * values are computed with the host's long double, which on x86 hosts is the same
 * 80-bit format (results are correct to about one unit in the last place, as the
 * brief of these instructions on real hardware is too); elsewhere with double.
 * Arguments with |x| >= 2^63 leave ST(0) unchanged and set C2 (SDM FSIN).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "fpu-priv.h"

#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
typedef long double host_float;
static host_float to_host(HgFloatx80 a)
{
    long double d = 0;
    memcpy(&d, &a.mant, 8);
    memcpy((uint8_t *)&d + 8, &a.sexp, 2);
    return d;
}
static HgFloatx80 from_host(host_float d)
{
    HgFloatx80 a;
    memcpy(&a.mant, &d, 8);
    memcpy(&a.sexp, (uint8_t *)&d + 8, 2);
    return a;
}
#define H_SIN sinl
#define H_COS cosl
#define H_TAN tanl
#define H_ATAN2 atan2l
#define H_EXPM1 expm1l
#define H_LOG2 log2l
#define H_LOG1P log1pl
#define H_LN2 0.693147180559945309417232121458176568L
#else
typedef double host_float;
static host_float to_host(HgFloatx80 a)
{
    HgFpCtx c = {0x037f, 0, false};
    uint64_t b = hg_f80_to_f64(&c, a);
    double d;
    memcpy(&d, &b, 8);
    return d;
}
static HgFloatx80 from_host(host_float d)
{
    HgFpCtx c = {0x037f, 0, false};
    uint64_t b;
    memcpy(&b, &d, 8);
    return hg_f80_from_f64(&c, b);
}
#define H_SIN sin
#define H_COS cos
#define H_TAN tan
#define H_ATAN2 atan2
#define H_EXPM1 expm1
#define H_LOG2 log2
#define H_LOG1P log1p
#define H_LN2 0.693147180559945309417232121458176568
#endif

static bool finite_nonzero(HgFloatx80 a)
{
    return hg_f80_exp(a) != 0x7fff && !hg_f80_is_zero(a);
}

/* Result of a host computation, rounded by the control word. Inexact as a rule. */
static HgFloatx80 finish(HgFpCtx *c, host_float r)
{
    HgFloatx80 v = from_host(r);
    if (hg_f80_exp(v) == 0x7fff)
        return v;
    /* Precision control does not apply to the transcendental instructions. */
    HgFpCtx t = *c;
    t.cw |= 3u << FCW_PC_SHIFT;
    HgFloatx80 out = hg_f80_round(&t, v);
    c->exc |= t.exc | FSW_PE;
    if (hg_f80_exp(out) == 0)
        c->exc |= FSW_UE; /* tiny and (as a rule) inexact */
    c->up = t.up;
    return out;
}

/* y * f where f came from the host: the product rounded by the soft multiply, so tiny
 * and huge y keep their exact scaling. */
static HgFloatx80 finish_mul(HgFpCtx *c, HgFloatx80 y, host_float f)
{
    HgFpCtx t = *c;
    t.cw |= 3u << FCW_PC_SHIFT;
    HgFloatx80 r = hg_f80_mul(&t, y, from_host(f));
    c->exc |= (t.exc & ~FSW_DE) | FSW_PE;
    if (hg_f80_exp(r) == 0)
        c->exc |= FSW_UE;
    c->up = t.up;
    return r;
}

/* a as m * 2^e with m in [1, 2) (finite nonzero a). */
static HgFloatx80 split(HgFloatx80 a, int32_t *e)
{
    int32_t ex = hg_f80_exp(a);
    uint64_t m = a.mant;
    if (ex == 0) {
        int n = __builtin_clzll(m);
        m <<= n;
        ex = 1 - n;
    }
    *e = ex - HG_F80_BIAS;
    return hg_f80_make(hg_f80_sign(a), HG_F80_BIAS, m);
}

/* x * k * y for a tiny x, where the host's long double would lose x's low bits: the
 * significands are multiplied near 1 and the exponents added apart, so only the final
 * scaling rounds into the destination's range (an unmasked UE sees the full result). */
static HgFloatx80 tiny_product(HgFpCtx *c, HgFloatx80 x, HgFloatx80 k, HgFloatx80 y)
{
    HgFpCtx t = {(uint16_t)(0x037f | (c->cw & (3u << FCW_RC_SHIFT))), 0, false};
    int32_t ex, ek, ey;
    HgFloatx80 v = hg_f80_mul(&t, split(x, &ex), split(k, &ek));
    v = hg_f80_mul(&t, v, split(y, &ey));
    HgFpCtx f = *c;
    f.cw |= 3u << FCW_PC_SHIFT;
    v = hg_f80_scale(&f, v, hg_f80_from_int(ex + ek + ey));
    c->exc |= (f.exc & ~FSW_DE) | FSW_PE;
    if (hg_f80_exp(v) == 0)
        c->exc |= FSW_UE;
    c->up = f.up;
    return v;
}

static const HgFloatx80 k_ln2 = {0xb17217f7d1cf79acull, 0x3ffe};
static const HgFloatx80 k_log2e = {0xb8aa3b295c17f0bcull, 0x3fff};
static const HgFloatx80 k_one = {0x8000000000000000ull, 0x3fff};

/* Screens one operand: NaN, unsupported. True when *r is the answer. */
static bool special1(HgFpCtx *c, HgFloatx80 a, HgFloatx80 *r)
{
    if (hg_f80_is_unsupported(a)) {
        c->exc |= FSW_IE;
        *r = hg_f80_indefinite();
        return true;
    }
    if (hg_f80_is_nan(a)) {
        if (hg_f80_is_snan(a))
            c->exc |= FSW_IE;
        *r = a;
        r->mant |= 1ull << 62;
        return true;
    }
    if (hg_f80_is_denormal(a))
        c->exc |= FSW_DE;
    return false;
}

static bool too_big(HgFloatx80 a)
{
    return hg_f80_exp(a) != 0x7fff && hg_f80_exp(a) >= HG_F80_BIAS + 63;
}

/* Argument reduction as the P6 does it: modulo pi/2 with pi rounded to 66 bits
 * (0xC90FDAA22168C234C * 2^-66), exactly, so large arguments drift from the true
 * functions the way they do on hardware. Returns |x| reduced to about [-pi/4, pi/4] and
 * the quadrant. */
static HgFloatx80 reduce(HgFloatx80 x, int *quadrant)
{
    static const uint64_t m_lo = 0x90fdaa22168c234cull, m_hi = 0xc; /* pi/2 * 2^67 */
    int e = hg_f80_exp(x);
    x.sexp &= 0x7fff;
    *quadrant = 0;
    if (e < HG_F80_BIAS - 1 || (e == HG_F80_BIAS - 1 && x.mant < 0xc90fdaa22168c234ull))
        return x; /* |x| < pi/4: no reduction */
    /* X = |x| * 2^67 as a 192-bit integer. */
    int sh = e - HG_F80_BIAS + 4; /* 3..66 */
    uint64_t x0, x1, x2;
    if (sh < 64) {
        x0 = x.mant << sh;
        x1 = x.mant >> (64 - sh);
        x2 = 0;
    } else {
        x0 = 0;
        x1 = x.mant << (sh - 64);
        x2 = sh == 64 ? 0 : x.mant >> (128 - sh);
    }
    /* k = nearest integer to |x| / (pi/2), estimated in host precision: at most one off,
     * corrected below. */
    host_float q = to_host(x) / (host_float)1.57079632679489661923132169163975144L;
    uint64_t k = (uint64_t)(q + (host_float)0.5);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t h, l, th, tl;
        hg_mul64(k, m_lo, &h, &l);
        hg_mul64(k, m_hi, &th, &tl);
        uint64_t k1 = h + tl, k2 = th + (k1 < h);
        /* r = X - k * M (two's complement over 192 bits). */
        uint64_t r0 = x0 - l, b0 = x0 < l;
        uint64_t r1 = x1 - k1 - b0, b1 = x1 < k1 || (x1 == k1 && b0);
        uint64_t r2 = x2 - k2 - b1;
        bool neg = r2 >> 63;
        if (neg) {
            r0 = ~r0 + 1;
            r1 = ~r1 + (r0 == 0);
            r2 = ~r2 + (r0 == 0 && r1 == 0);
        }
        /* |r| > M/2: the estimate of k was one off. */
        bool over = r2 || (r1 >> 3) > (m_hi >> 1) ||
                    ((r1 >> 3) == (m_hi >> 1) && ((r1 << 61) | (r0 >> 3)) > (m_lo >> 1));
        if (over && pass == 0) {
            k += neg ? (uint64_t)-1 : 1;
            continue;
        }
        *quadrant = (int)(k & 3);
        if (!r1 && !r0)
            return hg_f80_make(false, 0, 0);
        int top = r1 ? 127 - __builtin_clzll(r1) : 63 - __builtin_clzll(r0);
        uint64_t mant;
        if (top == 127)
            mant = r1;
        else if (top >= 64)
            mant = (r1 << (127 - top)) | (r0 >> (top - 63));
        else
            mant = r0 << (63 - top);
        return hg_f80_make(neg, HG_F80_BIAS + top - 67, mant);
    }
    return x;
}

/* FSIN, FCOS, FPTAN, FSINCOS. */
static void trig(HgCpu *cpu, int which)
{
    bool push = which == 2 || which == 3;
    if (fpu_empty(cpu, 0) || (push && !fpu_empty(cpu, 7))) {
        bool over = !fpu_empty(cpu, 0);
        if (hg_fpu_stack_fault(cpu, over)) {
            fpu_set_st(cpu, 0, hg_f80_indefinite());
            if (push)
                fpu_push(cpu, hg_f80_indefinite());
        }
        return;
    }
    HgFloatx80 x = fpu_st(cpu, 0), r1, r2 = {0, 0};
    if (too_big(x) && !hg_f80_is_unsupported(x)) {
        fpu_set_cc(cpu, FSW_C2);
        return;
    }
    HgFpCtx c = fpu_ctx(cpu);
    if (special1(&c, x, &r1)) {
        r2 = r1;
    } else if (hg_f80_is_inf(x)) {
        r1 = r2 = hg_f80_indefinite();
        c.exc |= FSW_IE;
    } else if (hg_f80_is_zero(x)) {
        r1 = x;                                           /* sin, tan */
        r2 = hg_f80_make(false, HG_F80_BIAS, 1ull << 63); /* cos, and FPTAN's 1.0 */
        if (which == 1)
            r1 = r2;
    } else {
        int quad;
        host_float h = to_host(reduce(x, &quad));
        host_float sn = H_SIN(h), cs = H_COS(h), sin_x, cos_x;
        switch (quad) {
        case 0: sin_x = sn, cos_x = cs; break;
        case 1: sin_x = cs, cos_x = -sn; break;
        case 2: sin_x = -sn, cos_x = -cs; break;
        default: sin_x = -cs, cos_x = sn; break;
        }
        if (hg_f80_sign(x))
            sin_x = -sin_x;
        switch (which) {
        case 0: r1 = finish(&c, sin_x); break;
        case 1: r1 = finish(&c, cos_x); break;
        case 2:
            r1 = finish(&c, (quad & 1) ? sin_x / cos_x : (hg_f80_sign(x) ? -H_TAN(h) : H_TAN(h)));
            r2 = hg_f80_make(false, HG_F80_BIAS, 1ull << 63);
            break;
        default: {
            HgFpCtx c2 = c;
            r1 = finish(&c, sin_x);
            r2 = finish(&c2, cos_x);
            c.exc |= c2.exc;
            break;
        }
        }
    }
    if (!hg_fpu_commit(cpu, &c))
        return;
    cpu->fpu.sw &= (uint16_t)~FSW_C2;
    fpu_set_st(cpu, 0, r1);
    if (which == 2)
        fpu_push(cpu, hg_f80_is_nan(r1) ? r1 : r2);
    else if (which == 3)
        fpu_push(cpu, r2);
}

/* F2XM1: 2^x - 1 for -1 <= x <= 1. */
static void f2xm1(HgCpu *cpu)
{
    if (fpu_empty(cpu, 0)) {
        if (hg_fpu_stack_fault(cpu, false))
            fpu_set_st(cpu, 0, hg_f80_indefinite());
        return;
    }
    HgFloatx80 x = fpu_st(cpu, 0), r;
    HgFpCtx c = fpu_ctx(cpu);
    if (special1(&c, x, &r)) {
    } else if (hg_f80_is_inf(x)) {
        r = hg_f80_sign(x) ? hg_f80_make(true, HG_F80_BIAS, 1ull << 63) : x;
    } else if (hg_f80_is_zero(x)) {
        r = x;
    } else if (hg_f80_exp(x) >= HG_F80_BIAS && (hg_f80_exp(x) > HG_F80_BIAS || x.mant << 1)) {
        /* Outside -1..1 the result is undefined; Intel FPUs leave x (and set PE). */
        r = x;
        c.exc |= FSW_PE;
    } else if (hg_f80_exp(x) < HG_F80_BIAS - 64) {
        r = tiny_product(&c, x, k_ln2, k_one); /* 2^x - 1 = x ln 2 to the last bit */
    } else {
        r = finish(&c, H_EXPM1(to_host(x) * H_LN2));
    }
    if (hg_fpu_commit(cpu, &c))
        fpu_set_st(cpu, 0, r);
}

/* FPATAN, FYL2X, FYL2XP1: ST(1) := f(ST(1), ST(0)), then pop. */
static void binary_pop(HgCpu *cpu, int which)
{
    if (fpu_empty(cpu, 0) || fpu_empty(cpu, 1)) {
        if (hg_fpu_stack_fault(cpu, false)) {
            fpu_set_st(cpu, 1, hg_f80_indefinite());
            fpu_pop(cpu);
        }
        return;
    }
    HgFloatx80 x = fpu_st(cpu, 0), y = fpu_st(cpu, 1), r;
    HgFpCtx c = fpu_ctx(cpu);
    bool sx = hg_f80_sign(x), sy = hg_f80_sign(y);
    if (hg_f80_is_unsupported(x) || hg_f80_is_unsupported(y)) {
        c.exc |= FSW_IE;
        r = hg_f80_indefinite();
    } else if (hg_f80_is_nan(x) || hg_f80_is_nan(y)) {
        /* The addition's NaN rules apply to any two-operand instruction. */
        HgFpCtx t = c;
        r = hg_f80_add(&t, x, y);
        c.exc |= t.exc & FSW_IE;
    } else {
        if (hg_f80_is_denormal(x) || hg_f80_is_denormal(y))
            c.exc |= FSW_DE;
        if (which == 0) {
            if (finite_nonzero(x) && finite_nonzero(y) && !sx &&
                hg_f80_exp(y) - hg_f80_exp(x) < -40) {
                /* atan(t) = t (1 - t^2/3 ...): with |t| < 2^-39 the quotient is the
                 * result to the last bit, also when it is tiny or denormal. */
                HgFpCtx t = c;
                t.cw |= 3u << FCW_PC_SHIFT;
                r = hg_f80_div(&t, y, x);
                c.exc |= (t.exc & ~FSW_DE) | FSW_PE;
                if (hg_f80_exp(r) == 0)
                    c.exc |= FSW_UE;
                c.up = t.up;
            } else if (finite_nonzero(x) && finite_nonzero(y)) {
                r = finish(&c, H_ATAN2(to_host(y), to_host(x)));
            } else {
                /* Zeros and infinities: the host's atan2 knows the IEEE table; the
                 * results (0, pi/2, pi, pi/4, 3pi/4) are rounded by RC as constants. */
                host_float h = H_ATAN2(to_host(y), to_host(x));
                r = from_host(h);
                if (!hg_f80_is_zero(r))
                    r = finish(&c, h);
            }
        } else if (which == 1) {
            /* y * log2(x) */
            if (sx && !hg_f80_is_zero(x)) {
                c.exc |= FSW_IE;
                r = hg_f80_indefinite();
            } else if (hg_f80_is_zero(x)) {
                if (hg_f80_is_zero(y)) {
                    c.exc |= FSW_IE;
                    r = hg_f80_indefinite();
                } else if (hg_f80_is_inf(y)) {
                    r = hg_f80_make(!sy, 0x7fff, 1ull << 63);
                } else {
                    c.exc |= FSW_ZE;
                    r = hg_f80_make(!sy, 0x7fff, 1ull << 63);
                }
            } else if (hg_f80_is_inf(x)) {
                if (hg_f80_is_zero(y)) {
                    c.exc |= FSW_IE;
                    r = hg_f80_indefinite();
                } else {
                    r = hg_f80_make(sy, 0x7fff, 1ull << 63);
                }
            } else if (x.sexp == HG_F80_BIAS && x.mant == 1ull << 63) {
                /* log2(1) = 0: infinities times zero are invalid. */
                if (hg_f80_is_inf(y)) {
                    c.exc |= FSW_IE;
                    r = hg_f80_indefinite();
                } else {
                    r = hg_f80_make(sy, 0, 0);
                }
            } else if (hg_f80_is_inf(y)) {
                bool below_one = hg_f80_exp(x) < HG_F80_BIAS;
                r = hg_f80_make(sy ^ below_one, 0x7fff, 1ull << 63);
            } else if (hg_f80_is_zero(y)) {
                r = hg_f80_make(sy ^ (hg_f80_exp(x) < HG_F80_BIAS), 0, 0);
            } else {
                r = finish_mul(&c, y, H_LOG2(to_host(x)));
            }
        } else {
            /* y * log2(x + 1), |x| < 1 - sqrt(2)/2 */
            if (hg_f80_is_zero(x)) {
                if (hg_f80_is_inf(y)) {
                    c.exc |= FSW_IE;
                    r = hg_f80_indefinite();
                } else {
                    r = hg_f80_make(sx ^ sy, 0, 0);
                }
            } else if (hg_f80_is_inf(x) || hg_f80_is_inf(y)) {
                if (hg_f80_is_zero(y) || hg_f80_is_zero(x)) {
                    c.exc |= FSW_IE;
                    r = hg_f80_indefinite();
                } else if (hg_f80_is_inf(x) && sx) {
                    c.exc |= FSW_IE;
                    r = hg_f80_indefinite();
                } else {
                    r = hg_f80_make(sx ^ sy, 0x7fff, 1ull << 63);
                }
            } else if (hg_f80_is_zero(y)) {
                r = hg_f80_make(sx ^ sy, 0, 0);
            } else if (sx && hg_f80_exp(x) >= HG_F80_BIAS) {
                /* x <= -1 (undefined): Intel FPUs return x itself, with PE. */
                r = x;
                c.exc |= FSW_PE;
            } else if (hg_f80_exp(x) < HG_F80_BIAS - 64) {
                r = tiny_product(&c, x, k_log2e, y); /* log2(1 + x) = x log2(e) */
            } else {
                r = finish_mul(&c, y, H_LOG1P(to_host(x)) / H_LN2);
            }
        }
    }
    if (!hg_fpu_commit(cpu, &c))
        return;
    fpu_set_st(cpu, 1, r);
    fpu_pop(cpu);
}

bool hg_fpu_transcendental(HgCpu *cpu, uint8_t modrm)
{
    switch (modrm) {
    case 0xf0: f2xm1(cpu); return true;
    case 0xf1: binary_pop(cpu, 1); return true;
    case 0xf2: trig(cpu, 2); return true;
    case 0xf3: binary_pop(cpu, 0); return true;
    case 0xf9: binary_pop(cpu, 2); return true;
    case 0xfb: trig(cpu, 3); return true;
    case 0xfe: trig(cpu, 0); return true;
    case 0xff: trig(cpu, 1); return true;
    default: return false;
    }
}
