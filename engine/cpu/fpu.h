/* x87 FPU and MMX register state (Intel SDM Vol. 1, chapters 8 and 9).
 *
 * The eight data registers are kept by physical number; ST(i) is
 * regs[(top + i) & 7]. MMX registers alias the 64-bit significands.
 */
#pragma once

#include <stdint.h>

typedef struct HgFloatx80 {
    uint64_t mant; /* significand with explicit integer bit 63 */
    uint16_t sexp; /* sign in bit 15, biased exponent in bits 0-14 */
} HgFloatx80;

typedef struct HgFpu {
    HgFloatx80 regs[8];
    uint16_t cw;  /* control word */
    uint16_t sw;  /* status word without TOP (bits 11-13 come from top) */
    uint16_t tw;  /* full tag word, two bits per physical register */
    uint8_t top;
    uint16_t fop; /* last non-control instruction's opcode (11 bits) */
    uint32_t fip, fdp;
    uint16_t fcs, fds;
    uint32_t mxcsr; /* kept for FXSAVE/FXRSTOR images */
    uint8_t xmm[8][16]; /* kept for FXSAVE/FXRSTOR images */
} HgFpu;
