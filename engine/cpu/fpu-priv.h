/* Helpers shared by the x87 and MMX instruction files (fpu.c, fpu-env.c, fpu-trans.c,
 * mmx.c): the register stack and its tags, the #NM / #MF checks made on entry, the
 * exception bookkeeping of the status word (Intel SDM Vol. 1 8.1-8.7) and the memory
 * operand accessors. */
#pragma once

#include "insn.h"

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

static inline int fpu_phys(const HgCpu *cpu, int i)
{
    return (cpu->fpu.top + i) & 7;
}
static inline HgFloatx80 fpu_st(const HgCpu *cpu, int i)
{
    return cpu->fpu.regs[fpu_phys(cpu, i)];
}
static inline int fpu_tag_phys(const HgCpu *cpu, int p)
{
    return (cpu->fpu.tw >> (2 * p)) & 3;
}
static inline bool fpu_empty(const HgCpu *cpu, int i)
{
    return fpu_tag_phys(cpu, fpu_phys(cpu, i)) == FTAG_EMPTY;
}
static inline void fpu_set_tag_phys(HgCpu *cpu, int p, int tag)
{
    cpu->fpu.tw = (uint16_t)((cpu->fpu.tw & ~(3u << (2 * p))) | ((unsigned)tag << (2 * p)));
}
static inline void fpu_set_st(HgCpu *cpu, int i, HgFloatx80 v)
{
    int p = fpu_phys(cpu, i);
    cpu->fpu.regs[p] = v;
    fpu_set_tag_phys(cpu, p, hg_f80_tag(v));
}
static inline void fpu_push(HgCpu *cpu, HgFloatx80 v)
{
    cpu->fpu.top = (cpu->fpu.top - 1) & 7;
    fpu_set_st(cpu, 0, v);
}
static inline void fpu_pop(HgCpu *cpu)
{
    fpu_set_tag_phys(cpu, fpu_phys(cpu, 0), FTAG_EMPTY);
    cpu->fpu.top = (cpu->fpu.top + 1) & 7;
}
static inline void fpu_set_cc(HgCpu *cpu, uint16_t cc)
{
    cpu->fpu.sw = (uint16_t)((cpu->fpu.sw & ~FSW_CC) | cc);
}
/* The status word as software sees it, with TOP. */
static inline uint16_t fpu_get_sw(const HgCpu *cpu)
{
    return (uint16_t)((cpu->fpu.sw & ~FSW_TOP) | (cpu->fpu.top << 11));
}
static inline HgFpCtx fpu_ctx(const HgCpu *cpu)
{
    HgFpCtx c = {cpu->fpu.cw, 0, false};
    return c;
}

/* FERR# follows ES while CR0.NE = 0 (SDM Vol. 3A 8.7 / Vol. 1 D.1). */
void hg_fpu_set_ferr(HgCpu *cpu, bool level);
/* A pending unmasked exception at a waiting instruction: #MF or FERR#. */
void hg_fpu_pending(HgCpu *cpu);
/* Recomputes ES and B from the flags and the masks (after FLDCW, FLDENV, FRSTOR). */
void hg_fpu_update_es(HgCpu *cpu);

/* Entry check of an x87 instruction: #NM when CR0.EM or CR0.TS, then the pending
 * exception check of waiting instructions. One test on the fast path. */
static inline void fpu_enter(HgCpu *cpu, bool wait)
{
    if (__builtin_expect((cpu->cr0 & (CR0_EM | CR0_TS)) || (wait && (cpu->fpu.sw & FSW_ES)), 0)) {
        if (cpu->cr0 & (CR0_EM | CR0_TS))
            hg_raise(cpu, EX_NM, -1);
        hg_fpu_pending(cpu);
    }
}

/* Records the last non-control instruction (FIP, FCS, FOP, and FDP, FDS for a memory
 * operand). */
static inline void fpu_note(HgCpu *cpu, const HgOp *op, uint32_t ea)
{
    cpu->fpu.fip = op->eip;
    cpu->fpu.fcs = cpu->seg[S_CS].sel;
    cpu->fpu.fop = (uint16_t)(((op->opcode & 7u) << 8) | op->modrm);
    if (op->flags & OPF_MEM) {
        cpu->fpu.fdp = ea;
        cpu->fpu.fds = cpu->seg[op->seg].sel;
    }
}

/* Folds what an operation raised into the status word. Returns false when an unmasked
 * invalid, denormal or divide-by-zero exception forbids writing the result. C1 takes
 * the round-up indication. */
bool hg_fpu_commit(HgCpu *cpu, const HgFpCtx *c);
/* Stack overflow (push onto a full register) and underflow (empty operand): IE, SF,
 * C1 = overflow. Returns true when masked, the default result is then written. */
bool hg_fpu_stack_fault(HgCpu *cpu, bool overflow);

/* Memory operands of 8 and 10 bytes. Stores probe the whole operand first so a fault
 * leaves memory unchanged. */
static inline uint64_t fpu_read64(HgCpu *cpu, int s, uint32_t ea)
{
    uint64_t lo = hg_read32(cpu, s, ea);
    return lo | (uint64_t)hg_read32(cpu, s, ea + 4) << 32;
}
static inline HgFloatx80 fpu_read80(HgCpu *cpu, int s, uint32_t ea)
{
    HgFloatx80 v;
    v.mant = fpu_read64(cpu, s, ea);
    v.sexp = hg_read16(cpu, s, ea + 8);
    return v;
}
static inline void fpu_probe_write(HgCpu *cpu, int s, uint32_t ea, int size)
{
    hg_rmw_lin(cpu, s, ea, size);
}
static inline void fpu_write64(HgCpu *cpu, int s, uint32_t ea, uint64_t v)
{
    fpu_probe_write(cpu, s, ea, 8);
    hg_write32(cpu, s, ea, (uint32_t)v);
    hg_write32(cpu, s, ea + 4, (uint32_t)(v >> 32));
}
static inline void fpu_write80(HgCpu *cpu, int s, uint32_t ea, HgFloatx80 v)
{
    fpu_probe_write(cpu, s, ea, 10);
    hg_write32(cpu, s, ea, (uint32_t)v.mant);
    hg_write32(cpu, s, ea + 4, (uint32_t)(v.mant >> 32));
    hg_write16(cpu, s, ea + 8, v.sexp);
}

/* The transcendental instructions (fpu-trans.c), ModRM D9 F0-FF except the
 * non-transcendental ones; returns false for a row it does not handle. */
bool hg_fpu_transcendental(HgCpu *cpu, uint8_t modrm);
/* The environment and state instructions (fpu-env.c). */
void hg_fpu_fldenv(HgCpu *cpu, const HgOp *op, bool restore);
void hg_fpu_fstenv(HgCpu *cpu, const HgOp *op, bool save);
void hg_fpu_init(HgCpu *cpu);
