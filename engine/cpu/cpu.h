/* The x86 guest CPU: architectural state of a P6-class (i686) processor and the
 * interface the rest of the engine uses to run it.
 *
 * Follows the Intel SDM Vol. 3A (system state, chapters 2-6) and Vol. 1 (user state).
 * Everything a machine owns lives in HgCpu: no global state, so several machines can
 * run in one process.
 */
#pragma once

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fpu.h"

typedef struct HgBus HgBus;
typedef struct HgCpu HgCpu;
typedef struct HgOp HgOp;
typedef struct HgTbCache HgTbCache;
typedef struct HgStateWriter HgStateWriter;
typedef struct HgStateReader HgStateReader;

/* General registers, in the encoding order of the ModRM reg field. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, R_NONE };

/* Segment registers in encoding order, then the system segments. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR, S_COUNT };

/* EFLAGS bits. */
enum {
    FL_CF = 1u << 0,
    FL_FIXED1 = 1u << 1,
    FL_PF = 1u << 2,
    FL_AF = 1u << 4,
    FL_ZF = 1u << 6,
    FL_SF = 1u << 7,
    FL_TF = 1u << 8,
    FL_IF = 1u << 9,
    FL_DF = 1u << 10,
    FL_OF = 1u << 11,
    FL_IOPL = 3u << 12,
    FL_NT = 1u << 14,
    FL_RF = 1u << 16,
    FL_VM = 1u << 17,
    FL_AC = 1u << 18,
    FL_VIF = 1u << 19,
    FL_VIP = 1u << 20,
    FL_ID = 1u << 21,
};
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Control register bits. */
enum {
    CR0_PE = 1u << 0,
    CR0_MP = 1u << 1,
    CR0_EM = 1u << 2,
    CR0_TS = 1u << 3,
    CR0_ET = 1u << 4,
    CR0_NE = 1u << 5,
    CR0_WP = 1u << 16,
    CR0_AM = 1u << 18,
    CR0_NW = 1u << 29,
    CR0_CD = 1u << 30,
    CR0_PG = 1u << 31,
    CR4_VME = 1u << 0,
    CR4_PVI = 1u << 1,
    CR4_TSD = 1u << 2,
    CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4,
    CR4_PAE = 1u << 5,
    CR4_MCE = 1u << 6,
    CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8,
    CR4_OSFXSR = 1u << 9,
    CR4_OSXMMEXCPT = 1u << 10,
};

/* Exception vectors. */
enum {
    EX_DE = 0,
    EX_DB = 1,
    EX_NMI = 2,
    EX_BP = 3,
    EX_OF = 4,
    EX_BR = 5,
    EX_UD = 6,
    EX_NM = 7,
    EX_DF = 8,
    EX_TS = 10,
    EX_NP = 11,
    EX_SS = 12,
    EX_GP = 13,
    EX_PF = 14,
    EX_MF = 16,
    EX_AC = 17,
    EX_MC = 18,
    EX_XM = 19,
};

/* Descriptor attribute bits as kept in HgSegment.flags: bits 8..23 of the high
 * descriptor dword (type, S, DPL, P, AVL, D/B, G), in their descriptor positions. */
enum {
    DESC_TYPE_SHIFT = 8,
    DESC_A = 1u << 8,      /* accessed (code/data) */
    DESC_W = 1u << 9,      /* data: writable */
    DESC_R = 1u << 9,      /* code: readable */
    DESC_E = 1u << 10,     /* data: expand-down */
    DESC_C = 1u << 10,     /* code: conforming */
    DESC_CODE = 1u << 11,  /* code segment */
    DESC_S = 1u << 12,     /* code/data (not system) */
    DESC_DPL_SHIFT = 13,
    DESC_P = 1u << 15,
    DESC_AVL = 1u << 20,
    DESC_B = 1u << 22,     /* D/B: 32-bit default size */
    DESC_G = 1u << 23,
};

/* A segment register with its hidden descriptor cache. The valid offset range is
 * precomputed from limit, expand-down and size bits: an access of n bytes at offset
 * o is within limits when lo <= o and o + n - 1 <= hi. */
typedef struct HgSegment {
    uint16_t sel;
    uint32_t base;
    uint32_t limit; /* byte-granular limit as loaded */
    uint32_t flags; /* DESC_* */
    uint32_t lo, hi; /* valid offset range (hi may be < lo: nothing valid) */
    bool readable, writable; /* derived from flags (and mode) */
    /* Derived too: lo = 0 and hi = 4 GiB - 1 with read (bit 0) / write (bit 1) access,
     * so an access needs only the wrap-around check (ops.h fast path); bit 2: the B
     * bit (a 32-bit stack for SS). */
    uint8_t flat;
} HgSegment;

/* Lazy condition codes: instructions record what they computed; flags are
 * materialised only when something reads them. */
typedef enum HgCcOp {
    CC_EFLAGS, /* arithmetic flags are in cpu->cc_src (already materialised) */
    CC_ADD8, CC_ADD16, CC_ADD32,
    CC_ADC8, CC_ADC16, CC_ADC32,
    CC_SUB8, CC_SUB16, CC_SUB32,
    CC_SBB8, CC_SBB16, CC_SBB32,
    CC_LOGIC8, CC_LOGIC16, CC_LOGIC32,
    CC_INC8, CC_INC16, CC_INC32, /* cc_src holds the previous CF */
    CC_DEC8, CC_DEC16, CC_DEC32, /* cc_src holds the previous CF */
    /* Shifts (shift.c): cc_dst = result; SHL: CF is the operand-size MSB of cc_src,
     * OF = CF ^ MSB(result); SHR/SAR: CF is bit 0 of cc_src, OF = MSB(cc_src ^ result);
     * AF is cleared. */
    CC_SHL8, CC_SHL16, CC_SHL32,
    CC_SHR8, CC_SHR16, CC_SHR32,
    /* MUL/IMUL: cc_dst = low half of the result, cc_src != 0 sets CF and OF. */
    CC_MUL8, CC_MUL16, CC_MUL32,
    CC_COUNT
} HgCcOp;

/* Software TLB: direct-mapped, one table per privilege class (supervisor, user).
 * Tags are the page's linear address; a tag with low bits set never matches an
 * aligned address, which sends the access down the slow path. */
enum { TLB_BITS = 12, TLB_SIZE = 1 << TLB_BITS };
enum {
    TLB_INVALID = 1u << 0,
    TLB_SLOW = 1u << 1, /* MMIO, ROM write, or translated code on the page */
};
typedef struct HgTlbEntry {
    uint32_t tag_read;  /* linear page, or invalid */
    uint32_t tag_write; /* linear page if writable in this mode, else invalid */
    uintptr_t addend;   /* host pointer = linear address + addend */
    uint32_t phys;      /* physical page address */
    uint32_t global;    /* page is global (survives CR3 writes) */
} HgTlbEntry;

typedef struct HgMsrState {
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    uint64_t tsc_offset; /* TSC = virtual clock ticks + offset */
    uint64_t mtrr_cap, mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[16]; /* base/mask pairs for 8 ranges */
    uint64_t pat;
    uint64_t misc_enable;
} HgMsrState;

/* Hooks a machine gives its CPU. All are called on the emulation thread. */
typedef struct HgCpuHooks {
    void *opaque;
    /* Acknowledge the maskable interrupt the PIC/APIC is raising; returns the vector. */
    uint8_t (*intr_ack)(void *opaque);
    /* Current virtual clock in TSC ticks. */
    uint64_t (*read_tsc)(void *opaque);
    /* Triple fault or a reset request from the CPU. */
    void (*shutdown)(void *opaque);
    /* FERR# output of the x87 (CR0.NE = 0 error reporting; the PC board routes it to
     * IRQ 13). May be NULL. */
    void (*ferr)(void *opaque, bool level);
} HgCpuHooks;

/* Why the execution loop returned. */
typedef enum HgExitReason {
    HG_EXIT_BUDGET,   /* the instruction budget ran out */
    HG_EXIT_HALT,     /* HLT with no interrupt able to wake it */
    HG_EXIT_REQUEST,  /* cpu->exit_request was set by a device or the machine */
    HG_EXIT_SHUTDOWN, /* triple fault */
} HgExitReason;

struct HgCpu {
    /* General registers; regs[R_NONE] is always 0 so effective-address
     * arithmetic can index it for an absent base or index register. */
    uint32_t regs[9];
    uint32_t eip;
    /* EFLAGS without the arithmetic bits, which come from the lazy state. */
    uint32_t eflags;
    HgCcOp cc_op;
    uint32_t cc_dst, cc_src, cc_src2;

    HgSegment seg[S_COUNT];
    uint32_t gdtr_base, gdtr_limit;
    uint32_t idtr_base, idtr_limit;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint64_t pdpte[4]; /* PAE page-directory pointers, loaded on CR3 write */
    HgMsrState msr;
    int cpl;

    HgFpu fpu;

    /* Interrupt lines and execution state. */
    bool intr_line;         /* INTR asserted by the interrupt controller */
    bool nmi_pending;
    bool nmi_blocked;       /* in an NMI handler until IRET */
    bool halted;
    bool irq_shadow;        /* one-instruction STI / MOV SS shadow */
    uint32_t dbg_pending;   /* DR6 bits of debug traps to deliver after this instruction */
    uint32_t dbg_data_bps;  /* bit n: DRn is an enabled data breakpoint (TLB slow path) */
    uint32_t dbg_io_bps;    /* bit n: DRn is an enabled I/O breakpoint (with CR4.DE) */
    volatile int exit_request;
    /* Set with exit_request, an NMI, INTR or a data/I/O breakpoint hit (exec.c): tells
     * the loop's block-to-block fast path to go through the full checks; cleared there. */
    volatile int async_pending;

    /* Memory. */
    HgBus *bus;
    uint32_t a20_mask;
    HgTlbEntry tlb[2][TLB_SIZE];
    /* Entries filled since they were last invalidated (a superset: INVLPG leaves its
     * bit). Flushes visit only these: a guest loading CR3 thousands of times a second
     * has a few hundred entries in use, not 2 x TLB_SIZE. */
    uint64_t tlb_used[2][TLB_SIZE / 64];
    int tlb_mode; /* 0 supervisor, 1 user (CPL 3) */
    uint32_t tlb_off; /* byte offset of tlb[tlb_mode] in tlb, set with it (ops.h) */
    bool tlb_large; /* the TLB may hold pieces of 4 MiB / 2 MiB pages (INVLPG) */

    /* Translation. */
    HgTbCache *tbs;
    const HgOp *cur_op;     /* instruction being executed, for precise faults */
    struct HgTb *cur_tb;    /* block being executed */
    int exc_vector, exc_error; /* exception being raised (hg_raise) */
    int delivering;         /* vector being delivered, -1 when none (double faults) */
    uint32_t mode_key;      /* decoding mode bits, see hg_cpu_mode_key() */
    int64_t budget;         /* instructions left in this slice */
    uint64_t icount;        /* instructions retired since reset */
    jmp_buf *fault_jmp;

    HgCpuHooks hooks;
};

/* Mode bits that change how bytes decode or which checks translated code skips. */
enum {
    MODE_CS32 = 1u << 0,
    MODE_SS32 = 1u << 1,
    MODE_PE = 1u << 2,
    MODE_VM86 = 1u << 3,
    MODE_SINGLE = 1u << 4, /* one instruction per block: TF or instruction breakpoints */
    MODE_CPL_SHIFT = 5, /* two bits */
};

HgCpu *hg_cpu_new(HgBus *bus, const HgCpuHooks *hooks);
void hg_cpu_free(HgCpu *cpu);
/* Power-on / RESET state (SDM Vol. 3A 9.1.1). */
void hg_cpu_reset(HgCpu *cpu);
/* Runs up to budget instructions. */
HgExitReason hg_cpu_run(HgCpu *cpu, int64_t budget);
/* Asks the running loop to return at the next block boundary (thread-safe). */
void hg_cpu_kick(HgCpu *cpu);
void hg_cpu_set_intr(HgCpu *cpu, bool level);
void hg_cpu_raise_nmi(HgCpu *cpu);

/* The A20 gate: when disabled, physical address bit 20 reads as 0 (the PC's 8086
 * wrap-around, driven by the keyboard controller and port 0x92). */
void hg_cpu_set_a20(HgCpu *cpu, bool enabled);

/* Instructions retired since reset, including those of the block being executed. */
uint64_t hg_cpu_icount_now(const HgCpu *cpu);

/* EFLAGS with the arithmetic flags materialised, and the inverse. */
uint32_t hg_cpu_get_eflags(HgCpu *cpu);
void hg_cpu_set_eflags(HgCpu *cpu, uint32_t value, uint32_t change_mask);

/* Recomputes the decoding mode key and TLB mode after a mode change. */
void hg_cpu_update_mode(HgCpu *cpu);

/* Segment loads as MOV Sreg would do them: in real/V86 mode (base = sel * 16), and in
 * protected mode from the GDT/LDT at CPL 0 with the architectural checks; the latter
 * returns false (state unchanged) when the descriptor would fault. */
void hg_cpu_load_seg_real(HgCpu *cpu, int seg, uint16_t sel);
bool hg_cpu_load_seg_prot(HgCpu *cpu, int seg, uint16_t sel);
/* Recomputes a segment's derived fields (valid range, access) from base/limit/flags. */
void hg_seg_update(HgCpu *cpu, int seg);

static inline uint32_t hg_cpu_mode_key(const HgCpu *cpu)
{
    return cpu->mode_key;
}

/* Debug register bits (SDM Vol. 3A 17.2). */
enum {
    DR6_BD = 1u << 13, /* debug register access detected (DR7.GD) */
    DR6_BS = 1u << 14, /* single step */
    DR6_BT = 1u << 15, /* task switch to a TSS with the T bit */
    DR7_GD = 1u << 13,
};

/* Recomputes what depends on DR0-DR7: single-instruction blocks for breakpoints and the
 * TLB slow path for pages that hold data breakpoints (exec.c). */
void hg_debug_regs_changed(HgCpu *cpu);
/* Records data-breakpoint hits of an access of size bytes at lin (mmu.c slow path). */
void hg_debug_check_data(HgCpu *cpu, uint32_t lin, int size, bool write);
/* Records I/O-breakpoint hits of an access to size bytes at port (hg_io_check). */
void hg_debug_check_io(HgCpu *cpu, uint16_t port, int size);
/* True when an enabled data breakpoint covers part of the linear page. */
bool hg_debug_page_watched(const HgCpu *cpu, uint32_t page);

/* Processor signature: CPUID leaf 1 EAX and EDX after RESET (family 6, model 5,
 * stepping 2: a Pentium II "Deschutes"). */
#define HG_CPU_SIGNATURE 0x00000652u

/* Model-specific registers (system.c); false: no such register or a reserved value. */
bool hg_msr_read(HgCpu *cpu, uint32_t msr, uint64_t *out);
bool hg_msr_write(HgCpu *cpu, uint32_t msr, uint64_t value);

/* Saves the whole architectural and execution state (cpu-state.c), between two runs
 * (not from inside hg_cpu_run). Loading validates it: a refused state sets the reader's
 * error and leaves the CPU unchanged; an accepted one flushes the TLB and translated
 * blocks. The state includes cpu->icount: load the CPU before the clock. */
void hg_cpu_save(const HgCpu *cpu, HgStateWriter *w);
void hg_cpu_load(HgCpu *cpu, HgStateReader *r);
