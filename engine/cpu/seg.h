/* Segmentation services shared by the segment, far-transfer, interrupt and task-switch
 * code: descriptor table access, segment register loads with their protection checks,
 * and the task-switch entry point (Intel SDM Vol. 3A chapters 3, 5 and 7).
 */
#pragma once

#include "cpu.h"

/* A descriptor as read from the GDT or LDT: its two dwords and its linear address. */
typedef struct HgDesc {
    uint32_t lo, hi;
    uint32_t addr;
} HgDesc;

/* System descriptor types (S = 0), SDM table 3-2. */
enum {
    SYS_TSS16_AVAIL = 1,
    SYS_LDT = 2,
    SYS_TSS16_BUSY = 3,
    SYS_CALL16 = 4,
    SYS_TASK_GATE = 5,
    SYS_INT16 = 6,
    SYS_TRAP16 = 7,
    SYS_TSS32_AVAIL = 9,
    SYS_TSS32_BUSY = 11,
    SYS_CALL32 = 12,
    SYS_INT32 = 14,
    SYS_TRAP32 = 15,
};

static inline uint32_t hg_desc_flags(const HgDesc *d)
{
    return d->hi & 0x00f0ff00u;
}
static inline unsigned hg_desc_dpl(const HgDesc *d)
{
    return (d->hi >> DESC_DPL_SHIFT) & 3;
}
static inline unsigned hg_desc_type(const HgDesc *d)
{
    return (d->hi >> DESC_TYPE_SHIFT) & 15;
}
static inline bool hg_desc_present(const HgDesc *d)
{
    return (d->hi & DESC_P) != 0;
}
static inline bool hg_desc_is_system(const HgDesc *d)
{
    return !(d->hi & DESC_S);
}
static inline uint32_t hg_desc_base(const HgDesc *d)
{
    return (d->lo >> 16) | ((d->hi & 0xff) << 16) | (d->hi & 0xff000000u);
}
/* Byte-granular limit (4 KiB granularity expanded). */
static inline uint32_t hg_desc_limit(const HgDesc *d)
{
    uint32_t l = (d->lo & 0xffff) | (d->hi & 0x000f0000u);
    return (d->hi & DESC_G) ? (l << 12) | 0xfff : l;
}

/* Reads the descriptor that sel names in the GDT or LDT. Returns false (nothing read)
 * when the selector lies outside its table or names the LDT while none is loaded. The
 * read is a supervisor access and may raise #PF. */
bool hg_desc_read(HgCpu *cpu, uint16_t sel, HgDesc *d);
/* Sets the accessed bit of a code/data descriptor in memory (no-op when set). */
void hg_desc_set_accessed(HgCpu *cpu, HgDesc *d);
/* Loads a segment register's cache from a descriptor, updating the mode key when CS or
 * SS change. Does not check anything and does not change CPL. */
void hg_seg_set(HgCpu *cpu, int seg, uint16_t sel, const HgDesc *d);
/* Loads a null selector into a data segment register (every access then faults). */
void hg_seg_set_null(HgCpu *cpu, int seg, uint16_t sel);

/* Loads ES, SS, DS, FS or GS as MOV/POP Sreg and LxS do in the current mode, with the
 * protection checks of SDM 5.5-5.7: #GP(sel) for type and privilege violations (err_vec
 * replaces #GP where a task switch wants #TS), #SS(sel) for a not-present stack,
 * #NP(sel) for other not-present segments. Nothing changes when it faults. */
void hg_seg_load(HgCpu *cpu, int seg, uint16_t sel);
void hg_seg_load_vec(HgCpu *cpu, int seg, uint16_t sel, int err_vec);
/* Loads CS for a task switch or an IRET to a new task: a code segment with DPL == RPL
 * (non-conforming) or DPL <= RPL (conforming); CPL becomes the selector's RPL. Faults
 * with err_vec(sel) or #NP(sel). */
void hg_seg_load_cs_task(HgCpu *cpu, uint16_t sel, int err_vec);
/* Loads LDTR (LLDT and task switches): null is allowed; a non-LDT descriptor gives
 * err_vec(sel), a not-present one #NP(sel). */
void hg_ldtr_load(HgCpu *cpu, uint16_t sel, int err_vec);
/* Sets CPL (CS.RPL in protected mode) and updates the mode key and TLB mode. */
void hg_cpu_set_cpl(HgCpu *cpu, int cpl);

/* Reasons for a task switch (SDM 7.3): they decide the busy-bit and NT/back-link
 * handling. */
enum { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };

/* Switches to the task whose TSS selector is sel (from a JMP/CALL to a TSS or task gate,
 * an IRET with NT set, or an interrupt through a task gate). next_eip is the EIP saved
 * in the old task; error_code >= 0 is pushed on the new task's stack (exceptions
 * delivered through a task gate). Implemented in task.c. */
void hg_task_switch(HgCpu *cpu, uint16_t sel, int reason, uint32_t next_eip, int error_code);

/* Control register writes with their checks and side effects (sysreg.c): reserved-bit
 * and combination checks raise #GP(0); TLB flushes, PAE PDPTE loads and mode-key updates
 * follow. Used by MOV CRn, LMSW, CLTS and task switches (CR3). */
void hg_cpu_write_cr0(HgCpu *cpu, uint32_t v);
void hg_cpu_write_cr3(HgCpu *cpu, uint32_t v);
void hg_cpu_write_cr4(HgCpu *cpu, uint32_t v);

/* A transaction over the privilege-changing parts of far calls, returns and interrupt
 * delivery: state is committed step by step (new stack, pushes, new CS), and a fault on
 * the way restores the segment registers, ESP, EFLAGS and CPL before the fault is
 * delivered, so exceptions stay precise. Use:
 *     HgSegTxn t;
 *     HG_TXN_BEGIN(cpu, &t);
 *     ...commit and push...
 *     hg_txn_end(cpu, &t);
 */
typedef struct HgSegTxn {
    HgSegment seg[S_COUNT];
    uint32_t esp, eflags, cc_dst, cc_src, cc_src2;
    HgCcOp cc_op;
    int cpl;
    jmp_buf *outer;
    jmp_buf jb;
} HgSegTxn;
void hg_txn_save(HgCpu *cpu, HgSegTxn *t);
_Noreturn void hg_txn_abort(HgCpu *cpu, HgSegTxn *t);
#define HG_TXN_BEGIN(cpu, t)                                                                \
    do {                                                                                    \
        hg_txn_save(cpu, t);                                                                \
        if (setjmp((t)->jb))                                                                \
            hg_txn_abort(cpu, t);                                                           \
        (cpu)->fault_jmp = &(t)->jb;                                                        \
    } while (0)
static inline void hg_txn_end(HgCpu *cpu, HgSegTxn *t)
{
    cpu->fault_jmp = t->outer;
}

/* The stack pointer for privilege level dpl from the current TSS; #TS(TR | ext) when the
 * TSS is too short. */
void hg_tss_stack(HgCpu *cpu, unsigned dpl, int ext, uint16_t *ss, uint32_t *esp);
/* Checks a stack segment for privilege level dpl found in a TSS or a call/return frame:
 * err_vec(sel | ext) for a bad selector or type, #SS(sel | ext) when not present. A null
 * selector gives err_vec(ext). */
void hg_check_stack_seg(HgCpu *cpu, uint16_t sel, unsigned dpl, int err_vec, int ext, HgDesc *d);
/* True when bytes below esp fit in the current SS limits. */
bool hg_stack_room(const HgCpu *cpu, uint32_t esp, uint32_t bytes);
/* After a return to an outer privilege level: ES, DS, FS and GS that the new CPL may not
 * use (data or non-conforming code with DPL < CPL) become null (SDM 5.8.6). */
void hg_null_inaccessible_segs(HgCpu *cpu);
/* Checks the code segment a far return (RETF, IRET) goes back to (control.c). */
void hg_check_return_cs(HgCpu *cpu, uint16_t sel, HgDesc *d);
