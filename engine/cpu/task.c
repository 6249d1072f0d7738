/* Task switching (Intel SDM Vol. 3A chapter 7): JMP and CALL to a TSS or task gate,
 * interrupts and exceptions through task gates, and IRET with NT set, for 32-bit and
 * 16-bit TSSs.
 *
 * The order follows 7.3: every check that can fault in the old task's context and every
 * read of the new TSS happen first; then the old state is saved, the busy bits, back
 * link and NT are updated, TR changes (the commit point), and the new state is loaded.
 * Faults while loading the new LDTR and segment registers (table 7-1) are raised in the
 * new task's context: its EIP and selectors are already in place.
 */
#include "ops.h"
#include "seg.h"

/* TSS layouts (figures 7-2 and 7-11): offsets of the fields a switch touches. */
enum {
    TSS32_CR3 = 0x1c,
    TSS32_EIP = 0x20,
    TSS32_EFLAGS = 0x24,
    TSS32_REGS = 0x28, /* EAX ECX EDX EBX ESP EBP ESI EDI, 4 bytes each */
    TSS32_SEGS = 0x48, /* ES CS SS DS FS GS, 4 bytes each */
    TSS32_LDT = 0x60,
    TSS32_TRAP = 0x64,
    TSS32_MIN_LIMIT = 0x67,
    TSS16_IP = 0x0e,
    TSS16_FLAGS = 0x10,
    TSS16_REGS = 0x12, /* AX CX DX BX SP BP SI DI, 2 bytes each */
    TSS16_SEGS = 0x22, /* ES CS SS DS, 2 bytes each */
    TSS16_LDT = 0x2a,
    TSS16_MIN_LIMIT = 0x2b,
};

/* State of the task being switched to, read before anything changes. */
typedef struct TaskState {
    uint32_t cr3, eip, eflags;
    uint32_t regs[8];
    uint16_t segs[6]; /* S_ES .. S_GS */
    uint16_t ldt;
    bool trap;
} TaskState;

static bool tss_is_32(unsigned type)
{
    return type & 8;
}

static void read_tss(HgCpu *cpu, uint32_t base, bool is32, TaskState *t)
{
    if (is32) {
        t->cr3 = hg_lin_read_sys(cpu, base + TSS32_CR3, 4);
        t->eip = hg_lin_read_sys(cpu, base + TSS32_EIP, 4);
        t->eflags = hg_lin_read_sys(cpu, base + TSS32_EFLAGS, 4);
        for (int i = 0; i < 8; i++)
            t->regs[i] = hg_lin_read_sys(cpu, base + TSS32_REGS + 4 * i, 4);
        for (int s = 0; s < 6; s++)
            t->segs[s] = (uint16_t)hg_lin_read_sys(cpu, base + TSS32_SEGS + 4 * s, 2);
        t->ldt = (uint16_t)hg_lin_read_sys(cpu, base + TSS32_LDT, 2);
        t->trap = hg_lin_read_sys(cpu, base + TSS32_TRAP, 2) & 1;
        return;
    }
    /* A 16-bit TSS holds the low halves of the registers; the high halves become all
     * ones, and FS and GS are loaded null, as the P6 (and QEMU and Bochs) do. */
    t->cr3 = cpu->cr3;
    t->eip = hg_lin_read_sys(cpu, base + TSS16_IP, 2);
    t->eflags = hg_lin_read_sys(cpu, base + TSS16_FLAGS, 2);
    for (int i = 0; i < 8; i++)
        t->regs[i] = 0xffff0000u | hg_lin_read_sys(cpu, base + TSS16_REGS + 2 * i, 2);
    for (int s = 0; s < 4; s++)
        t->segs[s] = (uint16_t)hg_lin_read_sys(cpu, base + TSS16_SEGS + 2 * s, 2);
    t->segs[S_FS] = t->segs[S_GS] = 0;
    t->ldt = (uint16_t)hg_lin_read_sys(cpu, base + TSS16_LDT, 2);
    t->trap = false;
}

/* Saves the outgoing task's dynamic fields into its TSS (CR3, LDTR and the T bit are
 * static and not written back). */
static void save_tss(HgCpu *cpu, uint32_t base, bool is32, uint32_t eip, uint32_t eflags)
{
    if (is32) {
        hg_lin_write_sys(cpu, base + TSS32_EIP, eip, 4);
        hg_lin_write_sys(cpu, base + TSS32_EFLAGS, eflags, 4);
        for (int i = 0; i < 8; i++)
            hg_lin_write_sys(cpu, base + TSS32_REGS + 4 * i, cpu->regs[i], 4);
        for (int s = 0; s < 6; s++)
            hg_lin_write_sys(cpu, base + TSS32_SEGS + 4 * s, cpu->seg[s].sel, 2);
        return;
    }
    hg_lin_write_sys(cpu, base + TSS16_IP, eip & 0xffff, 2);
    hg_lin_write_sys(cpu, base + TSS16_FLAGS, eflags & 0xffff, 2);
    for (int i = 0; i < 8; i++)
        hg_lin_write_sys(cpu, base + TSS16_REGS + 2 * i, cpu->regs[i] & 0xffff, 2);
    for (int s = 0; s < 4; s++)
        hg_lin_write_sys(cpu, base + TSS16_SEGS + 2 * s, cpu->seg[s].sel, 2);
}

/* Sets or clears the busy bit (type bit 1) of the TSS descriptor of sel in the GDT. */
static void set_busy(HgCpu *cpu, uint16_t sel, bool busy)
{
    uint32_t addr = cpu->gdtr_base + (sel & ~7u) + 5;
    uint32_t b = hg_lin_read_sys(cpu, addr, 1);
    b = busy ? (b | 2) : (b & ~2u);
    hg_lin_write_sys(cpu, addr, b, 1);
}

/* Loads the new task's LDTR, segment registers and CPL with the checks of table 7-1;
 * faults are #TS(selector), #NP or #SS as the table gives them. */
static void load_segments(HgCpu *cpu, const TaskState *t)
{
    hg_ldtr_load(cpu, t->ldt, EX_TS);
    if (cpu->eflags & FL_VM) {
        /* A V86 task: every segment register is a paragraph number, CPL is 3. */
        for (int s = 0; s < 6; s++)
            hg_cpu_load_seg_real(cpu, s, t->segs[s]);
        hg_cpu_update_mode(cpu);
        return;
    }
    /* CS first: its RPL is the new CPL that the SS and data checks compare with. */
    hg_seg_load_cs_task(cpu, t->segs[S_CS], EX_TS);
    hg_seg_load_vec(cpu, S_SS, t->segs[S_SS], EX_TS);
    static const int data[4] = {S_DS, S_ES, S_FS, S_GS};
    for (int i = 0; i < 4; i++)
        hg_seg_load_vec(cpu, data[i], t->segs[data[i]], EX_TS);
}

void hg_task_switch(HgCpu *cpu, uint16_t sel, int reason, uint32_t next_eip, int error_code)
{
    /* Faults before the commit point: #TS for the back link of an IRET, #GP for the
     * other reasons (the descriptor checks of 7.3 steps 1-3). */
    int err_vec = reason == TASK_IRET ? EX_TS : EX_GP;
    uint16_t err = sel & 0xfffc;
    HgDesc d;
    if ((sel & 4) || !hg_desc_read(cpu, sel, &d))
        hg_raise(cpu, err_vec, err);
    unsigned type = hg_desc_type(&d);
    bool want_busy = reason == TASK_IRET;
    if (!hg_desc_is_system(&d) ||
        (type != SYS_TSS16_AVAIL && type != SYS_TSS32_AVAIL && type != SYS_TSS16_BUSY &&
         type != SYS_TSS32_BUSY) ||
        ((type & 2) != 0) != want_busy)
        hg_raise(cpu, err_vec, err);
    if (!hg_desc_present(&d))
        hg_raise(cpu, EX_NP, err);
    bool new32 = tss_is_32(type);
    uint32_t new_base = hg_desc_base(&d), new_limit = hg_desc_limit(&d);
    if (new_limit < (new32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
        hg_raise(cpu, EX_TS, err);

    HgSegment *tr = &cpu->seg[S_TR];
    unsigned old_type = (tr->flags >> DESC_TYPE_SHIFT) & 15;
    bool old32 = tss_is_32(old_type);
    if (tr->limit < (old32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
        hg_raise(cpu, EX_TS, tr->sel & 0xfffc);

    /* Read everything of the new task (page faults happen here, in the old context). */
    TaskState t;
    read_tss(cpu, new_base, new32, &t);

    /* Save the old task. IRET clears NT in the image it saves; the old task's busy
     * bit is cleared by JMP and IRET (it stays busy, linked, for CALL and INT). */
    uint32_t old_eflags = hg_cpu_get_eflags(cpu);
    if (reason == TASK_IRET)
        old_eflags &= ~FL_NT;
    save_tss(cpu, tr->base, old32, next_eip, old_eflags);
    if (reason == TASK_CALL || reason == TASK_INT) {
        hg_lin_write_sys(cpu, new_base, tr->sel, 2);
        t.eflags |= FL_NT;
    }
    if (reason == TASK_JMP || reason == TASK_IRET)
        set_busy(cpu, tr->sel, false);
    if (reason != TASK_IRET)
        set_busy(cpu, sel, true);

    /* Commit point: TR names the new task. Faults from here on belong to it, so EIP
     * must not be rolled back to the instruction that switched. */
    cpu->cur_op = NULL;
    tr->sel = sel;
    tr->base = new_base;
    tr->limit = new_limit;
    tr->flags = hg_desc_flags(&d) | (2u << DESC_TYPE_SHIFT);
    hg_seg_update(cpu, S_TR);
    cpu->cr0 |= CR0_TS;
    if (new32 && (cpu->cr0 & CR0_PG))
        hg_cpu_write_cr3(cpu, t.cr3);

    cpu->eip = t.eip;
    for (int i = 0; i < 8; i++)
        cpu->regs[i] = t.regs[i];
    /* VM can only come from a 32-bit TSS; the flags image sets every other bit. */
    hg_cpu_set_eflags(cpu, new32 ? t.eflags : t.eflags & 0xffff, 0xffffffffu);
    cpu->cpl = (cpu->eflags & FL_VM) ? 3 : t.segs[S_CS] & 3;
    /* The selectors first, with empty caches, so a fault below shows the new task's
     * values (7.3 step 12); then each descriptor with its checks. */
    for (int s = 0; s < 6; s++) {
        cpu->seg[s].sel = t.segs[s];
        if (s != S_CS) {
            cpu->seg[s].flags = 0;
            hg_seg_update(cpu, s);
        }
    }
    cpu->seg[S_LDTR].sel = t.ldt;
    hg_cpu_update_mode(cpu);
    load_segments(cpu, &t);

    /* Local breakpoint enables (L0-L3, LE) belong to the old task (SDM 17.2.4). */
    if (cpu->dr[7] & 0x155u) {
        cpu->dr[7] &= ~0x155u;
        hg_debug_regs_changed(cpu);
    }
    if (t.trap)
        cpu->dbg_pending |= DR6_BT;
    if (error_code >= 0)
        hg_push(cpu, (uint32_t)error_code, new32 ? 4 : 2);
    if (cpu->eip > cpu->seg[S_CS].hi)
        hg_raise_gp(cpu, 0);
}
