/* The instruction table: one row per instruction form in insn.def, used by the
 * decoder, the dispatch to semantics, the disassembler names and the test-vector
 * generator. Operand codes follow the Intel SDM Vol. 2 Appendix A notation.
 *
 * A row:  X(NAME, MAP, OPC, EXT, OP1, OP2, OP3, IMPL, FLAGS)
 *   NAME   mnemonic (a C token; its string is the disassembler name)
 *   MAP    0 for one-byte opcodes, 1 for 0F xx
 *   OPC    opcode byte; with I_PLUSR the row covers OPC..OPC+7: with a Zb/Zv operand
 *          the low three bits name a register (op->reg), otherwise the handler reads
 *          them from op->opcode (CMOVcc, SETcc, Jcc)
 *   EXT    -1, or 0-7: the row applies only when ModRM.reg equals EXT
 *   OP1-3  operand codes (HgOperand, without the OPD_ prefix; __ for none)
 *   IMPL   semantics: the decoder takes hg_impl_IMPL, an HgOpImpl with one handler
 *          per (register/memory operand) x (16/32-bit operand size)
 *   FLAGS  I_* bits
 */
#pragma once

#include "ops.h"

typedef enum HgOperand {
    OPD___ = 0,
    /* ModRM r/m (register or memory) */
    OPD_Eb, OPD_Ew, OPD_Ed, OPD_Ev,
    /* ModRM reg: general register */
    OPD_Gb, OPD_Gw, OPD_Gd, OPD_Gv,
    /* memory only */
    OPD_M, OPD_Mb, OPD_Mw, OPD_Md, OPD_Mq, OPD_Mp, OPD_Ms, OPD_Ma,
    /* register only in ModRM.rm */
    OPD_Rd,
    /* immediates */
    OPD_Ib, OPD_Iw, OPD_Iv, OPD_IbS, OPD_Ap,
    /* relative branch targets (op->imm holds the target EIP) */
    OPD_Jb, OPD_Jv,
    /* direct memory offsets (moffs, in op->disp) */
    OPD_Ob, OPD_Ov,
    /* special registers from ModRM.reg */
    OPD_Sw, OPD_Cd, OPD_Dd,
    /* register encoded in the opcode's low bits (I_PLUSR) */
    OPD_Zb, OPD_Zv,
    /* fixed registers */
    OPD_AL, OPD_eAX, OPD_CL, OPD_DX, OPD_ONE,
    OPD_sES, OPD_sCS, OPD_sSS, OPD_sDS, OPD_sFS, OPD_sGS,
    /* string operands: DS:eSI and ES:eDI */
    OPD_Xb, OPD_Xv, OPD_Yb, OPD_Yv,
    /* MMX: ModRM.reg MMX register, ModRM.rm MMX register or memory, rm register only */
    OPD_Pq, OPD_Qq, OPD_Qd, OPD_Nq,
    /* x87 escape: the handler decodes ModRM itself (memory operand already resolved) */
    OPD_FPU,
    OPD_COUNT
} HgOperand;

/* Row flags */
enum {
    I_PLUSR = 1u << 0,    /* register in opcode bits 0-2 */
    I_LOCK = 1u << 1,     /* LOCK allowed (with a memory destination) */
    I_BRANCH = 1u << 2,   /* may change EIP other than falling through: ends the block */
    I_ENDBLOCK = 1u << 3, /* ends the block (changes mode, flags that gate decoding, ...) */
    I_MEMONLY = 1u << 4,  /* only with a memory ModRM */
    I_REGONLY = 1u << 5,  /* only with a register ModRM */
    I_SYSTEM = 1u << 6,   /* system instruction: no user-level test vectors */
    I_STRING = 1u << 7,   /* string instruction: REP prefixes apply */
    I_NOVEC = 1u << 8,    /* user-level but not testable by host execution */
    I_FPU = 1u << 9,      /* x87 / MMX (#NM and #UD rules of CR0.EM/TS apply) */
    I_IRQSHADOW = 1u << 10, /* inhibits interrupts for one instruction (MOV SS, POP SS, STI) */
    I_NOMOD11 = I_MEMONLY,
};

/* Flag bits the manuals leave undefined for an instruction form, for the generator
 * and the test runner. Encoded in FLAGS bits 16-27 as FL_* >> 0 of the six flags. */
#define I_UNDEF(fl) ((uint32_t)(fl) << 16)
#define I_UNDEF_MASK(f) (((f) >> 16) & 0xfffu)

typedef struct HgOpImpl {
    HgOpFn r16, r32, m16, m32;
} HgOpImpl;

typedef struct HgInsnInfo {
    const char *name;
    uint8_t map, opc;
    int8_t ext;
    uint8_t ops[3];
    const HgOpImpl *impl;
    uint32_t flags;
} HgInsnInfo;

/* The rows of insn.def in order; op->insn is a row's index. */
extern const HgInsnInfo hg_insn_table[];
extern const unsigned hg_insn_count;

/* Declarations of every row's semantics. */
#define X(name, map, opc, ext, o1, o2, o3, impl, flags) extern const HgOpImpl hg_impl_##impl;
#include "insn.def"
#undef X
