/* Decoded instructions ("ops") and the helpers every instruction-semantics file uses:
 * register and effective-address access, segmented memory access with precise faults,
 * and the handler conventions of the threaded dispatcher.
 *
 * An op handler executes one decoded instruction and returns the op to run next:
 * op + 1 to fall through inside the block, or NULL to leave the block after setting
 * cpu->eip. Faults never return: hg_raise() unwinds to the execution loop, which
 * restores EIP from cpu->cur_op (the faulting instruction) and delivers the exception.
 */
#pragma once

#include <string.h>

#include "cpu.h"

typedef const HgOp *(*HgOpFn)(HgCpu *cpu, const HgOp *op);

/* op->flags */
enum {
    OPF_ADDR16 = 1u << 0, /* 16-bit address size */
    OPF_OP16 = 1u << 1,   /* 16-bit operand size */
    OPF_REP = 1u << 2,    /* F3 prefix */
    OPF_REPNE = 1u << 3,  /* F2 prefix */
    OPF_LOCK = 1u << 4,   /* F0 prefix */
    OPF_MEM = 1u << 5,    /* ModRM names memory (mod != 3) */
    OPF_SEGOVR = 1u << 6, /* an explicit segment prefix was given */
    OPF_LAST = 1u << 7,   /* last op of its block */
};

struct HgOp {
    HgOpFn fn;
    uint32_t eip;  /* EIP of the instruction */
    uint8_t len;   /* instruction length in bytes */
    uint8_t reg;   /* ModRM reg field, or the register encoded in the opcode */
    uint8_t rm;    /* ModRM rm field (a register when !(flags & OPF_MEM)) */
    uint8_t seg;   /* segment of the memory operand (S_*) */
    uint8_t base;  /* base register or R_NONE */
    uint8_t index; /* index register or R_NONE */
    uint8_t scale; /* index shift 0-3 */
    uint8_t flags; /* OPF_* */
    uint32_t disp; /* displacement; moffs for A0-A3 */
    uint32_t imm;  /* immediate; branch target EIP for relative jumps */
    uint16_t imm2; /* second immediate: far selector, ENTER level, ... */
    uint8_t opcode; /* primary opcode byte (second byte for 0F xx) */
    uint8_t modrm;  /* raw ModRM byte (FPU decoding needs it) */
    uint16_t insn;  /* index of the instruction-table row (HgInsnId) */
    uint16_t pad;
};

/* EIP of the following instruction. The decoder never builds an op that crosses the
 * end of a 16-bit code segment, so no wrap is needed. */
static inline uint32_t hg_op_next_eip(const HgOp *op)
{
    return op->eip + op->len;
}

/* ---- registers ---- */

static inline uint8_t *hg_reg8p(HgCpu *cpu, unsigned r)
{
    /* AL CL DL BL AH CH DH BH: low or high byte of EAX..EBX (little-endian host). */
    return (uint8_t *)&cpu->regs[r & 3] + (r >> 2);
}
static inline uint8_t hg_get_reg8(HgCpu *cpu, unsigned r)
{
    return *hg_reg8p(cpu, r);
}
static inline void hg_set_reg8(HgCpu *cpu, unsigned r, uint8_t v)
{
    *hg_reg8p(cpu, r) = v;
}
static inline uint16_t hg_get_reg16(HgCpu *cpu, unsigned r)
{
    return (uint16_t)cpu->regs[r];
}
static inline void hg_set_reg16(HgCpu *cpu, unsigned r, uint16_t v)
{
    cpu->regs[r] = (cpu->regs[r] & 0xffff0000u) | v;
}

/* ---- faults ---- */

/* Raises exception vector with an error code (or -1 for none) for the current
 * instruction. Never returns. */
_Noreturn void hg_raise(HgCpu *cpu, int vector, int error_code);
static inline _Noreturn void hg_raise_gp(HgCpu *cpu, int error_code)
{
    hg_raise(cpu, EX_GP, error_code);
}
static inline _Noreturn void hg_raise_ud(HgCpu *cpu)
{
    hg_raise(cpu, EX_UD, -1);
}

/* ---- port I/O ---- */

/* Protected-mode I/O permission check for an access of size bytes at port (SDM Vol. 1
 * 18.5): allowed when CPL <= IOPL outside V86 mode, otherwise only when the TSS I/O
 * permission bitmap clears every bit of the access; raises #GP(0) when denied. */
void hg_io_check(HgCpu *cpu, uint16_t port, int size);

/* ---- effective addresses ---- */

static inline uint32_t hg_ea(HgCpu *cpu, const HgOp *op)
{
    uint32_t off = op->disp + cpu->regs[op->base] + (cpu->regs[op->index] << op->scale);
    return (op->flags & OPF_ADDR16) ? (off & 0xffff) : off;
}

/* ---- linear and segmented memory ---- */

/* The TLB entry for lin in the current privilege class (tlb[tlb_mode]). */
static inline const HgTlbEntry *hg_tlb_entry(const HgCpu *cpu, uint32_t lin)
{
    const HgTlbEntry *t = (const HgTlbEntry *)((const char *)cpu->tlb + cpu->tlb_off);
    return &t[(lin >> 12) & (TLB_SIZE - 1)];
}

/* Slow paths (engine/cpu/mmu.c): page walk, MMIO, page-crossing, code pages. */
uint32_t hg_mmu_read_slow(HgCpu *cpu, uint32_t lin, int size);
void hg_mmu_write_slow(HgCpu *cpu, uint32_t lin, uint32_t value, int size);
/* Makes sure size bytes at lin are writable (page walk, dirty bit, faults). */
void hg_mmu_probe_write(HgCpu *cpu, uint32_t lin, int size);
/* Linear reads/writes at an explicit privilege (0 = supervisor access such as
 * descriptor table reads, which must not take CPL into account). */
uint32_t hg_lin_read_sys(HgCpu *cpu, uint32_t lin, int size);
void hg_lin_write_sys(HgCpu *cpu, uint32_t lin, uint32_t value, int size);
/* Raises the segment-limit or segment-type fault for seg. */
_Noreturn void hg_seg_fault(HgCpu *cpu, int seg);

/* The TLB fast path compares the tag with the page of the access's last byte: the
 * entry is indexed by the first byte's page, and the next page (an access crossing
 * the page end) never has that index, so one compare covers both conditions. */
static inline uint32_t hg_lin_read(HgCpu *cpu, uint32_t lin, int size)
{
    const HgTlbEntry *e = hg_tlb_entry(cpu, lin);
    if (__builtin_expect(e->tag_read == ((lin + size - 1) & ~0xfffu), 1)) {
        const uint8_t *p = (const uint8_t *)(uintptr_t)(lin + e->addend);
        switch (size) {
        case 1:
            return *p;
        case 2: {
            uint16_t v;
            memcpy(&v, p, 2);
            return v;
        }
        default: {
            uint32_t v;
            memcpy(&v, p, 4);
            return v;
        }
        }
    }
    return hg_mmu_read_slow(cpu, lin, size);
}

static inline void hg_lin_write(HgCpu *cpu, uint32_t lin, uint32_t value, int size)
{
    const HgTlbEntry *e = hg_tlb_entry(cpu, lin);
    if (__builtin_expect(e->tag_write == ((lin + size - 1) & ~0xfffu), 1)) {
        uint8_t *p = (uint8_t *)(uintptr_t)(lin + e->addend);
        switch (size) {
        case 1:
            *p = (uint8_t)value;
            return;
        case 2: {
            uint16_t v = (uint16_t)value;
            memcpy(p, &v, 2);
            return;
        }
        default:
            memcpy(p, &value, 4);
            return;
        }
    }
    hg_mmu_write_slow(cpu, lin, value, size);
}

/* Checks that size bytes at offset off of segment s may be read; returns the linear
 * address. */
static inline uint32_t hg_seg_check_read(HgCpu *cpu, int s, uint32_t off, int size)
{
    const HgSegment *sg = &cpu->seg[s];
    if (__builtin_expect((sg->flat & 1) && off <= 0u - (uint32_t)size, 1))
        return sg->base + off;
    if (__builtin_expect(!sg->readable || off < sg->lo || off > sg->hi ||
                             sg->hi - off < (uint32_t)size - 1,
                         0))
        hg_seg_fault(cpu, s);
    return sg->base + off;
}

static inline uint32_t hg_seg_check_write(HgCpu *cpu, int s, uint32_t off, int size)
{
    const HgSegment *sg = &cpu->seg[s];
    if (__builtin_expect((sg->flat & 2) && off <= 0u - (uint32_t)size, 1))
        return sg->base + off;
    if (__builtin_expect(!sg->writable || off < sg->lo || off > sg->hi ||
                             sg->hi - off < (uint32_t)size - 1,
                         0))
        hg_seg_fault(cpu, s);
    return sg->base + off;
}

static inline uint32_t hg_read(HgCpu *cpu, int s, uint32_t off, int size)
{
    return hg_lin_read(cpu, hg_seg_check_read(cpu, s, off, size), size);
}
static inline void hg_write(HgCpu *cpu, int s, uint32_t off, uint32_t v, int size)
{
    hg_lin_write(cpu, hg_seg_check_write(cpu, s, off, size), v, size);
}
static inline uint8_t hg_read8(HgCpu *cpu, int s, uint32_t off)
{
    return (uint8_t)hg_read(cpu, s, off, 1);
}
static inline uint16_t hg_read16(HgCpu *cpu, int s, uint32_t off)
{
    return (uint16_t)hg_read(cpu, s, off, 2);
}
static inline uint32_t hg_read32(HgCpu *cpu, int s, uint32_t off)
{
    return hg_read(cpu, s, off, 4);
}
static inline void hg_write8(HgCpu *cpu, int s, uint32_t off, uint8_t v)
{
    hg_write(cpu, s, off, v, 1);
}
static inline void hg_write16(HgCpu *cpu, int s, uint32_t off, uint16_t v)
{
    hg_write(cpu, s, off, v, 2);
}
static inline void hg_write32(HgCpu *cpu, int s, uint32_t off, uint32_t v)
{
    hg_write(cpu, s, off, v, 4);
}

/* ---- fast-path probes ----
 * Host address of size bytes at offset off of segment s when the whole access can take
 * the fast path (flat segment, TLB hit within one page, no slow-path tag), else NULL.
 * Nothing is checked in a way that faults: a handler built on these runs its general
 * form (through a tail call, so the common path needs no stack frame) when they fail,
 * and that form raises the faults in order. */
static inline const uint8_t *hg_read_ptr(HgCpu *cpu, int s, uint32_t off, int size)
{
    const HgSegment *sg = &cpu->seg[s];
    if (!(sg->flat & 1) || off > 0u - (uint32_t)size)
        return NULL;
    uint32_t lin = sg->base + off;
    const HgTlbEntry *e = hg_tlb_entry(cpu, lin);
    if (e->tag_read != ((lin + size - 1) & ~0xfffu))
        return NULL;
    return (const uint8_t *)(uintptr_t)(lin + e->addend);
}

static inline uint8_t *hg_write_ptr(HgCpu *cpu, int s, uint32_t off, int size)
{
    const HgSegment *sg = &cpu->seg[s];
    if (!(sg->flat & 2) || off > 0u - (uint32_t)size)
        return NULL;
    uint32_t lin = sg->base + off;
    const HgTlbEntry *e = hg_tlb_entry(cpu, lin);
    if (e->tag_write != ((lin + size - 1) & ~0xfffu))
        return NULL;
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* Both permissions (read-modify-write operands). */
static inline uint8_t *hg_rmw_ptr(HgCpu *cpu, int s, uint32_t off, int size)
{
    const HgSegment *sg = &cpu->seg[s];
    if ((sg->flat & 3) != 3 || off > 0u - (uint32_t)size)
        return NULL;
    uint32_t lin = sg->base + off, page = (lin + size - 1) & ~0xfffu;
    const HgTlbEntry *e = hg_tlb_entry(cpu, lin);
    if (e->tag_write != page || e->tag_read != page)
        return NULL;
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

static inline uint32_t hg_host_load(const uint8_t *p, int size)
{
    if (size == 1)
        return *p;
    if (size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void hg_host_store(uint8_t *p, uint32_t v, int size)
{
    if (size == 1) {
        *p = (uint8_t)v;
    } else if (size == 2) {
        uint16_t w = (uint16_t)v;
        memcpy(p, &w, 2);
    } else {
        memcpy(p, &v, 4);
    }
}

/* Read-modify-write operands: the write permission is checked before the read so a
 * read-only page faults with the write error code, as hardware does. */
static inline uint32_t hg_rmw_lin(HgCpu *cpu, int s, uint32_t off, int size)
{
    uint32_t lin = hg_seg_check_write(cpu, s, off, size);
    const HgTlbEntry *e = hg_tlb_entry(cpu, lin);
    if (e->tag_write != ((lin + size - 1) & ~0xfffu))
        hg_mmu_probe_write(cpu, lin, size);
    return lin;
}

/* ---- stack ---- */

static inline bool hg_ss32(const HgCpu *cpu)
{
    return (cpu->seg[S_SS].flags & DESC_B) != 0;
}
static inline uint32_t hg_sp_mask(const HgCpu *cpu)
{
    return hg_ss32(cpu) ? 0xffffffffu : 0xffffu;
}
static inline void hg_set_sp(HgCpu *cpu, uint32_t v)
{
    uint32_t m = hg_sp_mask(cpu);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | (v & m);
}
/* Pushes size bytes (2 or 4); ESP changes only after the write succeeded. */
static inline void hg_push(HgCpu *cpu, uint32_t v, int size)
{
    const HgSegment *ss = &cpu->seg[S_SS];
    if (__builtin_expect((ss->flat & 6) == 6, 1)) {
        /* Flat writable 32-bit stack: only a wrap below 0 needs the full checks. */
        uint32_t nsp = cpu->regs[R_ESP] - size;
        if (__builtin_expect(nsp <= 0u - (uint32_t)size, 1)) {
            hg_lin_write(cpu, ss->base + nsp, v, size);
            cpu->regs[R_ESP] = nsp;
            return;
        }
    }
    uint32_t sp = (cpu->regs[R_ESP] - size) & hg_sp_mask(cpu);
    hg_write(cpu, S_SS, sp, v, size);
    hg_set_sp(cpu, sp);
}
static inline uint32_t hg_pop(HgCpu *cpu, int size)
{
    const HgSegment *ss = &cpu->seg[S_SS];
    uint32_t esp = cpu->regs[R_ESP];
    if (__builtin_expect((ss->flat & 5) == 5 && esp <= 0u - (uint32_t)size, 1)) {
        uint32_t v = hg_lin_read(cpu, ss->base + esp, size);
        cpu->regs[R_ESP] = esp + size;
        return v;
    }
    uint32_t sp = cpu->regs[R_ESP] & hg_sp_mask(cpu);
    uint32_t v = hg_read(cpu, S_SS, sp, size);
    hg_set_sp(cpu, sp + size);
    return v;
}

/* ---- flags ---- */

uint32_t hg_cc_compute(HgCpu *cpu); /* arithmetic flags from the lazy state */
bool hg_cc_cf(HgCpu *cpu);
bool hg_cc_cond(HgCpu *cpu, unsigned cc); /* condition code 0-15 as in Jcc */

static inline void hg_cc_set(HgCpu *cpu, HgCcOp op, uint32_t dst, uint32_t src, uint32_t src2)
{
    cpu->cc_op = op;
    cpu->cc_dst = dst;
    cpu->cc_src = src;
    cpu->cc_src2 = src2;
}
/* Inline fast paths of hg_cc_cf / hg_cc_cond for the flag producers that dominate
 * real code (compare, logic, add, inc/dec): Jcc, SETcc, CMOVcc and ADC/INC/DEC read one
 * condition straight from the recorded operands without materialising EFLAGS.
 * Everything else falls back to the out-of-line versions in flags.c. */
/* Operand-size mask of a lazy op: every op but CC_EFLAGS comes in 8/16/32-bit triples
 * starting at 1 (a table, not a division, as this sits on the Jcc path). */
_Static_assert(CC_COUNT == 31, "update the size table of hg_cc_size_mask");
static inline uint32_t hg_cc_size_mask(HgCcOp op)
{
#define HG_CC_M3 0xffu, 0xffffu, 0xffffffffu
    static const uint32_t masks[CC_COUNT] = {0xffffffffu, HG_CC_M3, HG_CC_M3, HG_CC_M3,
                                             HG_CC_M3,    HG_CC_M3, HG_CC_M3, HG_CC_M3,
                                             HG_CC_M3,    HG_CC_M3, HG_CC_M3};
#undef HG_CC_M3
    return masks[op];
}

/* CF, or -1 when only hg_cc_cf knows it. The "try" forms let a handler leave its
 * rare case through a tail call, so its common path needs no stack frame. */
static inline int hg_cc_cf_try(const HgCpu *cpu)
{
    switch (cpu->cc_op) {
    case CC_ADD32:
        return cpu->cc_dst < cpu->cc_src;
    case CC_SUB32:
        return cpu->cc_src < cpu->cc_src2;
    case CC_LOGIC8:
    case CC_LOGIC16:
    case CC_LOGIC32:
        return 0;
    case CC_INC8: case CC_INC16: case CC_INC32:
    case CC_DEC8: case CC_DEC16: case CC_DEC32:
        return cpu->cc_src & FL_CF;
    default:
        return -1;
    }
}

static inline bool hg_cc_cf_fast(HgCpu *cpu)
{
    int v = hg_cc_cf_try(cpu);
    return v >= 0 ? v : hg_cc_cf(cpu);
}

/* Condition cc (0-15 as in Jcc), or -1 when only hg_cc_cond knows it. */
static inline int hg_cc_cond_try(const HgCpu *cpu, unsigned cc)
{
    HgCcOp o = cpu->cc_op;
    uint32_t r = cpu->cc_dst;
    int v;
    if (__builtin_expect(o == CC_EFLAGS, 0))
        return -1;
    switch (cc >> 1) {
    case 1: /* B / AE */
        v = hg_cc_cf_try(cpu);
        if (v < 0)
            return -1;
        break;
    case 2: /* E / NE: the result is recorded for every lazy op */
        v = (r & hg_cc_size_mask(o)) == 0;
        break;
    case 3: /* BE / A */
        if (o == CC_SUB32) {
            v = cpu->cc_src <= cpu->cc_src2;
        } else if ((r & hg_cc_size_mask(o)) == 0) {
            v = 1;
        } else {
            v = hg_cc_cf_try(cpu);
            if (v < 0)
                return -1;
        }
        break;
    case 4: /* S / NS */
        v = (r & ~(hg_cc_size_mask(o) >> 1) & hg_cc_size_mask(o)) != 0;
        break;
    case 6: /* L / GE */
        if (o == CC_SUB32)
            v = (int32_t)cpu->cc_src < (int32_t)cpu->cc_src2;
        else if (o == CC_LOGIC32)
            v = (int32_t)r < 0;
        else
            return -1;
        break;
    case 7: /* LE / G */
        if (o == CC_SUB32)
            v = (int32_t)cpu->cc_src <= (int32_t)cpu->cc_src2;
        else if (o == CC_LOGIC32)
            v = (int32_t)r <= 0;
        else
            return -1;
        break;
    default: /* O, P */
        return -1;
    }
    return v ^ (int)(cc & 1);
}

static inline bool hg_cc_cond_fast(HgCpu *cpu, unsigned cc)
{
    int v = hg_cc_cond_try(cpu, cc);
    return v >= 0 ? v : hg_cc_cond(cpu, cc);
}

/* Sets the arithmetic flags to explicit values (bits of FL_ARITH). */
static inline void hg_cc_set_flags(HgCpu *cpu, uint32_t flags)
{
    cpu->cc_op = CC_EFLAGS;
    cpu->cc_src = flags & FL_ARITH;
}

/* Falls through to the next op of the block by calling its handler directly: a tail
 * call (a jump) at -O2, which saves the round trip through the dispatcher loop. The
 * value the block's last handler returns comes back unchanged, so the loop sees the
 * same result; cur_op is kept up to date for precise faults. */
static inline const HgOp *hg_next(HgCpu *cpu, const HgOp *op)
{
    const HgOp *n = op + 1;
    cpu->cur_op = n;
    return n->fn(cpu, n);
}

/* Jcc handlers specialised per condition code (control.c), chosen by the decoder. */
extern const HgOpFn hg_jcc_fn[16];

/* Leaves the block: the next instruction is at eip. */
static inline const HgOp *hg_jump(HgCpu *cpu, uint32_t eip)
{
    cpu->eip = eip;
    return NULL;
}
/* Ends the block after this instruction (mode change, serialising instruction). */
static inline const HgOp *hg_end_block(HgCpu *cpu, const HgOp *op)
{
    cpu->eip = op->eip + op->len;
    return NULL;
}
