/* x87 FPU and MMX register state (Intel SDM Vol. 1, chapters 8 and 9), and the
 * software extended-precision arithmetic the FPU instructions are built on
 * (softfloat80.c; IEEE 754 as the x87 implements it, SDM Vol. 1 chapter 4 and 8.5).
 *
 * The eight data registers are kept by physical number; ST(i) is
 * regs[(top + i) & 7]. MMX registers alias the 64-bit significands.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct HgFloatx80 {
    uint64_t mant; /* significand with explicit integer bit 63 */
    uint16_t sexp; /* sign in bit 15, biased exponent in bits 0-14 */
} HgFloatx80;

typedef struct HgFpu {
    HgFloatx80 regs[8];
    uint16_t cw; /* control word */
    uint16_t sw; /* status word without TOP (bits 11-13 come from top) */
    uint16_t tw; /* full tag word, two bits per physical register */
    uint8_t top;
    bool ferr;    /* FERR# output level last given to the board */
    uint16_t fop; /* last non-control instruction's opcode (11 bits) */
    uint32_t fip, fdp;
    uint16_t fcs, fds;
    uint32_t mxcsr;     /* kept for FXSAVE/FXRSTOR images */
    uint8_t xmm[8][16]; /* kept for FXSAVE/FXRSTOR images */
} HgFpu;

/* Status word bits. */
enum {
    FSW_IE = 1u << 0,
    FSW_DE = 1u << 1,
    FSW_ZE = 1u << 2,
    FSW_OE = 1u << 3,
    FSW_UE = 1u << 4,
    FSW_PE = 1u << 5,
    FSW_SF = 1u << 6,
    FSW_ES = 1u << 7,
    FSW_C0 = 1u << 8,
    FSW_C1 = 1u << 9,
    FSW_C2 = 1u << 10,
    FSW_TOP = 7u << 11,
    FSW_C3 = 1u << 14,
    FSW_B = 1u << 15,
    FSW_EXC = 0x3f,
    FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3,
};

/* Control word fields. */
enum {
    FCW_MASKS = 0x3f,
    FCW_PC_SHIFT = 8,
    FCW_RC_SHIFT = 10,
    FRC_NEAREST = 0,
    FRC_DOWN = 1,
    FRC_UP = 2,
    FRC_ZERO = 3,
};

/* Tag values. */
enum { FTAG_VALID = 0, FTAG_ZERO = 1, FTAG_SPECIAL = 2, FTAG_EMPTY = 3 };

/* ---- software extended-precision arithmetic (softfloat80.c) ---- */

/* The rounding environment of one operation: the control word to honour, and what the
 * operation raised (FSW_IE..FSW_PE) and whether it rounded the magnitude up (C1). */
typedef struct HgFpCtx {
    uint16_t cw;
    uint16_t exc;
    bool up;
} HgFpCtx;

#define HG_F80_BIAS 16383

static inline HgFloatx80 hg_f80_make(bool sign, int exp, uint64_t mant)
{
    HgFloatx80 r = {mant, (uint16_t)(((unsigned)sign << 15) | (unsigned)exp)};
    return r;
}
static inline int hg_f80_exp(HgFloatx80 a)
{
    return a.sexp & 0x7fff;
}
static inline bool hg_f80_sign(HgFloatx80 a)
{
    return a.sexp >> 15;
}
static inline bool hg_f80_is_nan(HgFloatx80 a)
{
    return hg_f80_exp(a) == 0x7fff && (a.mant >> 63) && (a.mant << 1);
}
static inline bool hg_f80_is_snan(HgFloatx80 a)
{
    return hg_f80_is_nan(a) && !(a.mant & (1ull << 62));
}
static inline bool hg_f80_is_inf(HgFloatx80 a)
{
    return hg_f80_exp(a) == 0x7fff && a.mant == (1ull << 63);
}
static inline bool hg_f80_is_zero(HgFloatx80 a)
{
    return hg_f80_exp(a) == 0 && a.mant == 0;
}
/* Unnormals, pseudo-NaNs and pseudo-infinities: invalid operands since the 387. */
static inline bool hg_f80_is_unsupported(HgFloatx80 a)
{
    return hg_f80_exp(a) != 0 && !(a.mant >> 63);
}
static inline bool hg_f80_is_denormal(HgFloatx80 a)
{
    return hg_f80_exp(a) == 0 && a.mant != 0;
}

/* 64 x 64 -> 128-bit unsigned product. */
void hg_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo);

/* The default NaN ("real indefinite"). */
HgFloatx80 hg_f80_indefinite(void);
/* Tag (FTAG_*) of a register value. */
int hg_f80_tag(HgFloatx80 a);

HgFloatx80 hg_f80_add(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b);
HgFloatx80 hg_f80_sub(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b);
HgFloatx80 hg_f80_mul(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b);
HgFloatx80 hg_f80_div(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b);
HgFloatx80 hg_f80_sqrt(HgFpCtx *c, HgFloatx80 a);
/* FPREM (ieee false: truncating quotient) and FPREM1 (ieee true: nearest). *cc gets
 * the condition code bits (C0 C1 C3 from the quotient, C2 when the reduction is
 * partial). */
HgFloatx80 hg_f80_rem(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b, bool ieee, uint16_t *cc);
HgFloatx80 hg_f80_scale(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b);
HgFloatx80 hg_f80_round_int(HgFpCtx *c, HgFloatx80 a);
/* FXTRACT: *sig gets the significand (exponent 0), the result is the exponent. */
HgFloatx80 hg_f80_extract(HgFpCtx *c, HgFloatx80 a, HgFloatx80 *sig);
/* Rounds a to the precision and rounding of c->cw as an arithmetic result would be
 * (used by the transcendental instructions on their raw results). */
HgFloatx80 hg_f80_round(HgFpCtx *c, HgFloatx80 a);

/* Compares: 0 equal, -1 a < b, 1 a > b, 2 unordered. quiet: only SNaNs raise IE. */
int hg_f80_compare(HgFpCtx *c, HgFloatx80 a, HgFloatx80 b, bool quiet);

/* Conversions. Loads of narrower formats are exact (SNaNs raise IE and are quieted,
 * denormals raise DE); stores round with the control word's rounding mode. */
HgFloatx80 hg_f80_from_int(int64_t v);
HgFloatx80 hg_f80_from_f32(HgFpCtx *c, uint32_t v);
HgFloatx80 hg_f80_from_f64(HgFpCtx *c, uint64_t v);
uint32_t hg_f80_to_f32(HgFpCtx *c, HgFloatx80 a);
uint64_t hg_f80_to_f64(HgFpCtx *c, HgFloatx80 a);
/* To a bits-wide integer (16, 32, 64); out of range or NaN: IE and the integer
 * indefinite. trunc: round toward zero whatever the control word says. */
int64_t hg_f80_to_int(HgFpCtx *c, HgFloatx80 a, int bits, bool trunc);
/* Packed BCD (18 digits and a sign byte) in 10 bytes. */
HgFloatx80 hg_f80_from_bcd(const uint8_t bcd[10]);
void hg_f80_to_bcd(HgFpCtx *c, HgFloatx80 a, uint8_t bcd[10]);
