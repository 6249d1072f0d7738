/* System instructions of the P6 (Intel SDM Vol. 2 and Vol. 3A): MOV to and from the
 * debug registers (17.2), INVD/WBINVD and INVLPG (4.10.4), CPUID, RDTSC and RDPMC,
 * RDMSR/WRMSR and the model-specific registers of the P6 family (Vol. 4), SYSENTER and
 * SYSEXIT (5.8.7), UD2, RSM and HLT; and the segment-fault helper of the inline checks.
 */
#include "insn.h"
#include "interrupt.h"
#include "mmu.h"

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

/* ---- privilege checks ---- */

/* Instructions reserved to CPL 0: #GP(0) in protected mode at CPL > 0 and always in
 * V86 mode (whose CPL is 3); real mode has no privilege. */
static inline void require_cpl0(HgCpu *cpu)
{
    if ((cpu->cr0 & CR0_PE) && cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
}

/* ---- debug registers (SDM Vol. 3A 17.2) ---- */

/* DR4 and DR5 alias DR6 and DR7 unless CR4.DE, which makes them undefined (#UD).
 * With DR7.GD set, any access faults with #DB and DR6.BD, and GD is cleared so the
 * handler can use the registers (17.2.4). */
static int dr_index(HgCpu *cpu, int n)
{
    require_cpl0(cpu);
    if (n == 4 || n == 5) {
        if (cpu->cr4 & CR4_DE)
            hg_raise_ud(cpu);
        n += 2;
    }
    if (cpu->dr[7] & DR7_GD) {
        cpu->dr[6] |= DR6_BD;
        cpu->dr[7] &= ~DR7_GD;
        hg_raise(cpu, EX_DB, -1);
    }
    return n;
}

H(mov_rd_dd) {
    int n = dr_index(cpu, op->reg);
    cpu->regs[op->rm] = cpu->dr[n];
    return op + 1;
}
const HgOpImpl hg_impl_MOV_RdDd = {mov_rd_dd, mov_rd_dd, NULL, NULL};

H(mov_dd_rd) {
    int n = dr_index(cpu, op->reg);
    uint32_t v = cpu->regs[op->rm];
    switch (n) {
    case 6:
        /* Only B0-B3 and BD BS BT are writable; bits 4-11 and 16-31 read as 1 and
         * bit 12 as 0 on a P6. */
        cpu->dr[6] = (v & 0x0000e00fu) | 0xffff0ff0u;
        break;
    case 7:
        /* Bit 10 reads 1; 11, 12, 14 and 15 read 0 on a P6. */
        cpu->dr[7] = (v & 0xffff23ffu) | 0x400u;
        break;
    default:
        cpu->dr[n] = v;
        break;
    }
    hg_debug_regs_changed(cpu);
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_MOV_DdRd = {mov_dd_rd, mov_dd_rd, NULL, NULL};

/* ---- caches and the TLB ---- */

H(invd) {
    /* No caches are modelled: invalidating them (with or without write-back) only has
     * the privilege check. */
    require_cpl0(cpu);
    return op + 1;
}
const HgOpImpl hg_impl_INVD = {invd, invd, NULL, NULL};

H(invlpg) {
    require_cpl0(cpu);
    /* The operand is a linear address computed without limit checks (SDM Vol. 2,
     * INVLPG); global pages are dropped too. The block ends: code on the page may now
     * come from elsewhere. */
    hg_tlb_flush_page(cpu, cpu->seg[op->seg].base + hg_ea(cpu, op));
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_INVLPG = {NULL, NULL, invlpg, invlpg};

/* ---- identification (SDM Vol. 2, CPUID; Pentium II, family 6 model 5) ---- */

enum {
    CPUID_FPU = 1u << 0,
    CPUID_DE = 1u << 2,
    CPUID_PSE = 1u << 3,
    CPUID_TSC = 1u << 4,
    CPUID_MSR = 1u << 5,
    CPUID_PAE = 1u << 6,
    CPUID_MCE = 1u << 7,
    CPUID_CX8 = 1u << 8,
    CPUID_SEP = 1u << 11,
    CPUID_MTRR = 1u << 12,
    CPUID_PGE = 1u << 13,
    CPUID_CMOV = 1u << 15,
    CPUID_PAT = 1u << 16,
    CPUID_MMX = 1u << 23,
    CPUID_FXSR = 1u << 24,
};

/* Only what the core implements: no VME (its CR4 bits are not honoured), no APIC (none
 * on the board yet), no machine-check architecture banks, no PSE-36, no SSE. */
#define CPUID_FEATURES                                                                      \
    (CPUID_FPU | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_MCE |     \
     CPUID_CX8 | CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_PAT | CPUID_MMX |  \
     CPUID_FXSR)

H(cpuid) {
    uint32_t leaf = cpu->regs[R_EAX];
    uint32_t a, b, c, d;
    /* Leaves above the maximum return the highest basic leaf, as Intel parts do. */
    if (leaf > 2)
        leaf = 2;
    switch (leaf) {
    case 0:
        a = 2;
        b = 0x756e6547u; /* "Genu" */
        d = 0x49656e69u; /* "ineI" */
        c = 0x6c65746eu; /* "ntel" */
        break;
    case 1:
        a = HG_CPU_SIGNATURE;
        b = c = 0;
        d = CPUID_FEATURES;
        break;
    default:
        /* Cache and TLB descriptors of a Pentium II with 512 KiB of L2: instruction
         * and data TLBs (01 02 03 04), 16 KiB L1 caches (08 0c), 512 KiB L2 (43). */
        a = 0x03020101u;
        b = c = 0;
        d = 0x0c040843u;
        break;
    }
    cpu->regs[R_EAX] = a;
    cpu->regs[R_EBX] = b;
    cpu->regs[R_ECX] = c;
    cpu->regs[R_EDX] = d;
    return op + 1;
}
const HgOpImpl hg_impl_CPUID = {cpuid, cpuid, NULL, NULL};

/* ---- time stamp and performance counters ---- */

static uint64_t tsc_now(HgCpu *cpu)
{
    uint64_t t = cpu->hooks.read_tsc ? cpu->hooks.read_tsc(cpu->hooks.opaque) : cpu->icount;
    return t + cpu->msr.tsc_offset;
}

H(rdtsc) {
    if ((cpu->cr4 & CR4_TSD) && (cpu->cr0 & CR0_PE) && cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    uint64_t t = tsc_now(cpu);
    cpu->regs[R_EAX] = (uint32_t)t;
    cpu->regs[R_EDX] = (uint32_t)(t >> 32);
    /* Ending the block retires this instruction before the next one reads the clock,
     * so two RDTSCs in a row see the counter advance. */
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_RDTSC = {rdtsc, rdtsc, NULL, NULL};

H(rdpmc) {
    /* Allowed at CPL 0, or anywhere with CR4.PCE; a P6 has counters 0 and 1. None is
     * modelled, so they read as zero. */
    if ((cpu->cr0 & CR0_PE) && cpu->cpl != 0 && !(cpu->cr4 & CR4_PCE))
        hg_raise_gp(cpu, 0);
    if (cpu->regs[R_ECX] > 1)
        hg_raise_gp(cpu, 0);
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_EDX] = 0;
    return op + 1;
}
const HgOpImpl hg_impl_RDPMC = {rdpmc, rdpmc, NULL, NULL};

/* ---- model-specific registers (SDM Vol. 4, the P6 family table) ---- */

enum {
    MSR_P5_MC_ADDR = 0x0,
    MSR_P5_MC_TYPE = 0x1,
    MSR_TSC = 0x10,
    MSR_PLATFORM_ID = 0x17,
    MSR_APIC_BASE = 0x1b,
    MSR_BIOS_SIGN_ID = 0x8b,
    MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1a0,
    MSR_MTRR_PHYS_BASE0 = 0x200,
    MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K_80000 = 0x258,
    MSR_MTRR_FIX16K_A0000 = 0x259,
    MSR_MTRR_FIX4K_C0000 = 0x268,
    MSR_PAT = 0x277,
    MSR_MTRR_DEF_TYPE = 0x2ff,
};

/* Memory types the MTRRs accept: UC, WC, WT, WP, WB. PAT also takes UC- (7). */
static bool mtrr_type_ok(uint64_t t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool bytes_are_types(uint64_t v, bool pat)
{
    for (int i = 0; i < 8; i++) {
        uint64_t t = (v >> (8 * i)) & 0xff;
        if (!mtrr_type_ok(t) && !(pat && t == 7))
            return false;
    }
    return true;
}

/* Index of a fixed-range MTRR in HgMsrState.mtrr_fixed, or -1. */
static int fixed_mtrr(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K)
        return 0;
    if (msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000)
        return 1 + (int)(msr - MSR_MTRR_FIX16K_80000);
    if (msr >= MSR_MTRR_FIX4K_C0000 && msr < MSR_MTRR_FIX4K_C0000 + 8)
        return 3 + (int)(msr - MSR_MTRR_FIX4K_C0000);
    return -1;
}

/* Reads an MSR; false when it does not exist (#GP). */
bool hg_msr_read(HgCpu *cpu, uint32_t msr, uint64_t *out)
{
    HgMsrState *m = &cpu->msr;
    int i = fixed_mtrr(msr);
    if (i >= 0) {
        *out = m->mtrr_fixed[i];
        return true;
    }
    if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 16) {
        *out = m->mtrr_var[msr - MSR_MTRR_PHYS_BASE0];
        return true;
    }
    switch (msr) {
    case MSR_P5_MC_ADDR:
    case MSR_P5_MC_TYPE:
    case MSR_PLATFORM_ID:
    case MSR_BIOS_SIGN_ID:
        /* No machine check ever happened; platform 0; no microcode update loaded. */
        *out = 0;
        return true;
    case MSR_TSC:
        *out = tsc_now(cpu);
        return true;
    case MSR_APIC_BASE:
        *out = m->apic_base;
        return true;
    case MSR_MTRRCAP:
        *out = m->mtrr_cap;
        return true;
    case MSR_SYSENTER_CS:
        *out = m->sysenter_cs;
        return true;
    case MSR_SYSENTER_ESP:
        *out = m->sysenter_esp;
        return true;
    case MSR_SYSENTER_EIP:
        *out = m->sysenter_eip;
        return true;
    case MSR_MISC_ENABLE:
        *out = m->misc_enable;
        return true;
    case MSR_PAT:
        *out = m->pat;
        return true;
    case MSR_MTRR_DEF_TYPE:
        *out = m->mtrr_def_type;
        return true;
    default:
        return false;
    }
}

/* Writes an MSR; false when it does not exist, is read-only, or a reserved bit or an
 * invalid memory type is set (#GP). */
bool hg_msr_write(HgCpu *cpu, uint32_t msr, uint64_t v)
{
    HgMsrState *m = &cpu->msr;
    int i = fixed_mtrr(msr);
    if (i >= 0) {
        if (!bytes_are_types(v, false))
            return false;
        m->mtrr_fixed[i] = v;
        return true;
    }
    if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 16) {
        bool mask = msr & 1;
        /* 36-bit physical addresses: bits 36-63 are reserved in both halves. */
        uint64_t rsvd = 0xfffffff000000000ull | (mask ? 0x7ffu : 0xf00u);
        if ((v & rsvd) || (!mask && !mtrr_type_ok(v & 0xff)))
            return false;
        m->mtrr_var[msr - MSR_MTRR_PHYS_BASE0] = v;
        return true;
    }
    switch (msr) {
    case MSR_TSC:
        /* A P6 writes the low 32 bits and clears the high ones (SDM 17.17). */
        m->tsc_offset = (v & 0xffffffffu) - (tsc_now(cpu) - m->tsc_offset);
        return true;
    case MSR_BIOS_SIGN_ID:
    case MSR_P5_MC_ADDR:
    case MSR_P5_MC_TYPE:
        return true;
    case MSR_APIC_BASE:
        /* Bits 0-7, 9, 10 and 36-63 are reserved. No local APIC answers at the base
         * yet; the value is kept for the firmware that programs it. */
        if (v & 0xfffffff0000006ffull)
            return false;
        m->apic_base = v;
        return true;
    case MSR_SYSENTER_CS:
        m->sysenter_cs = (uint32_t)v & 0xffff;
        return true;
    case MSR_SYSENTER_ESP:
        m->sysenter_esp = (uint32_t)v;
        return true;
    case MSR_SYSENTER_EIP:
        m->sysenter_eip = (uint32_t)v;
        return true;
    case MSR_MISC_ENABLE:
        m->misc_enable = v;
        return true;
    case MSR_PAT:
        if (!bytes_are_types(v, true))
            return false;
        m->pat = v;
        return true;
    case MSR_MTRR_DEF_TYPE:
        if ((v & ~0xcffull) || !mtrr_type_ok(v & 0xff))
            return false;
        m->mtrr_def_type = v;
        return true;
    default:
        return false;
    }
}

H(rdmsr) {
    require_cpl0(cpu);
    uint64_t v;
    if (!hg_msr_read(cpu, cpu->regs[R_ECX], &v))
        hg_raise_gp(cpu, 0);
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = (uint32_t)(v >> 32);
    return op + 1;
}
const HgOpImpl hg_impl_RDMSR = {rdmsr, rdmsr, NULL, NULL};

H(wrmsr) {
    require_cpl0(cpu);
    uint64_t v = (uint64_t)cpu->regs[R_EDX] << 32 | cpu->regs[R_EAX];
    if (!hg_msr_write(cpu, cpu->regs[R_ECX], v))
        hg_raise_gp(cpu, 0);
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_WRMSR = {wrmsr, wrmsr, NULL, NULL};

/* ---- fast system calls (SDM Vol. 2, SYSENTER/SYSEXIT) ---- */

/* Loads a flat 4 GiB segment cache as SYSENTER/SYSEXIT do: fixed descriptors, no
 * descriptor table access. */
static void load_flat(HgCpu *cpu, int s, uint16_t sel, int dpl, bool code)
{
    HgSegment *sg = &cpu->seg[s];
    sg->sel = sel;
    sg->base = 0;
    sg->limit = 0xffffffffu;
    sg->flags = DESC_P | DESC_S | DESC_A | DESC_B | DESC_G | (uint32_t)dpl << DESC_DPL_SHIFT |
                (code ? DESC_CODE | DESC_R : DESC_W);
    hg_seg_update(cpu, s);
}

H(sysenter) {
    uint16_t cs = (uint16_t)cpu->msr.sysenter_cs;
    if (!(cpu->cr0 & CR0_PE) || !(cs & 0xfffc))
        hg_raise_gp(cpu, 0);
    hg_cpu_set_eflags(cpu, 0, FL_VM | FL_IF | FL_RF);
    cpu->cpl = 0;
    load_flat(cpu, S_CS, cs & 0xfffc, 0, true);
    load_flat(cpu, S_SS, (cs & 0xfffc) + 8, 0, false);
    cpu->regs[R_ESP] = cpu->msr.sysenter_esp;
    hg_cpu_update_mode(cpu);
    return hg_jump(cpu, cpu->msr.sysenter_eip);
}
const HgOpImpl hg_impl_SYSENTER = {sysenter, sysenter, NULL, NULL};

H(sysexit) {
    uint16_t cs = (uint16_t)cpu->msr.sysenter_cs;
    if (!(cpu->cr0 & CR0_PE) || (cpu->eflags & FL_VM) || cpu->cpl != 0 || !(cs & 0xfffc))
        hg_raise_gp(cpu, 0);
    cpu->cpl = 3;
    load_flat(cpu, S_CS, (uint16_t)((cs + 16) | 3), 3, true);
    load_flat(cpu, S_SS, (uint16_t)((cs + 24) | 3), 3, false);
    cpu->regs[R_ESP] = cpu->regs[R_ECX];
    hg_cpu_update_mode(cpu);
    return hg_jump(cpu, cpu->regs[R_EDX]);
}
const HgOpImpl hg_impl_SYSEXIT = {sysexit, sysexit, NULL, NULL};

/* ---- undefined on purpose ---- */

H(ud) { hg_raise_ud(cpu); }
/* UD2 always, RSM outside system-management mode (never entered here). */
const HgOpImpl hg_impl_UD2 = {ud, ud, NULL, NULL};
const HgOpImpl hg_impl_RSM = {ud, ud, NULL, NULL};

_Noreturn void hg_seg_fault(HgCpu *cpu, int seg)
{
    /* SS-relative accesses fault with #SS, others with #GP; the error code is 0 for
     * limit and type violations (SDM 6.15, interrupts 12 and 13). */
    hg_raise(cpu, seg == S_SS ? EX_SS : EX_GP, 0);
}

H(hlt) {
    if (cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    cpu->halted = true;
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_HLT = {hlt, hlt, NULL, NULL};
