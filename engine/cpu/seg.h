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
