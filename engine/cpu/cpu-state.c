/* Saving and restoring the whole architectural state of the CPU (the "cpu" section of a
 * machine state, see state.h): what the Intel SDM Vol. 3A chapters 2-6 and 17 and Vol. 1
 * chapters 8-9 define as processor state, plus the execution state between two
 * instructions (HLT, NMI blocking, the interrupt shadow of 6.8.3, debug traps held back
 * by MOV SS).
 *
 * Caches are not saved: the TLB and translated blocks are flushed on load and every
 * derived field (segment ranges, mode key, breakpoint masks) is recomputed. A state file
 * is untrusted input: the loader reads into a copy of the CPU, checks that the result is
 * a state the processor could actually be in, and only then commits it, so a rejected
 * file leaves the CPU exactly as it was.
 *
 * Ordering: cpu->icount is saved, so a machine loading a state must load the CPU before
 * the clock (whose load re-bases an instruction-count clock on the current count). The
 * TSC offset is saved as is: it is relative to the virtual clock, which is restored too.
 */
#include <glib.h>
#include <string.h>

#include "mmu.h"
#include "ops.h"
#include "state.h"
#include "tb.h"

enum { CPU_STATE_VERSION = 1 };

/* Register masks the instructions that write these registers enforce (sysreg.c,
 * system.c, flags.c); a saved value outside them cannot come from a running guest. */
#define CR0_VALID                                                                                  \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD |     \
     CR0_PG)
#define CR4_VALID (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR)
#define EFLAGS_VALID (0x003f7fd5u | FL_FIXED1)
#define DESC_FLAGS_VALID 0x00f0ff00u
#define MXCSR_VALID 0xffbfu
#define DBG_PENDING_VALID (0xfu | DR6_BD | DR6_BS | DR6_BT)

/* MSR numbers (SDM Vol. 4 table 2-3) of the registers checked through hg_msr_write. */
enum {
    MSR_APIC_BASE = 0x1b,
    MSR_SYSENTER_CS = 0x174,
    MSR_MTRR_PHYS_BASE0 = 0x200,
    MSR_PAT = 0x277,
    MSR_MTRR_DEF_TYPE = 0x2ff,
};
/* The fixed-range MTRRs in the order of HgMsrState.mtrr_fixed. */
static const uint32_t fixed_mtrr_msr[11] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                            0x26b, 0x26c, 0x26d, 0x26e, 0x26f};

static void put_seg(HgStateWriter *w, const HgSegment *sg)
{
    hg_state_put_u16(w, sg->sel);
    hg_state_put_u32(w, sg->base);
    hg_state_put_u32(w, sg->limit);
    hg_state_put_u32(w, sg->flags);
}

void hg_cpu_save(const HgCpu *cpu, HgStateWriter *w)
{
    hg_state_begin(w, "cpu", CPU_STATE_VERSION);

    /* User registers; EFLAGS with the lazy arithmetic flags materialised (computing
     * them reads the lazy state only). */
    for (int i = 0; i < 8; i++)
        hg_state_put_u32(w, cpu->regs[i]);
    hg_state_put_u32(w, cpu->eip);
    hg_state_put_u32(w, hg_cpu_get_eflags((HgCpu *)cpu));
    hg_state_put_u8(w, (uint8_t)cpu->cpl);

    /* Segment registers with their descriptor caches, then the descriptor tables. */
    for (int s = 0; s < S_COUNT; s++)
        put_seg(w, &cpu->seg[s]);
    hg_state_put_u32(w, cpu->gdtr_base);
    hg_state_put_u32(w, cpu->gdtr_limit);
    hg_state_put_u32(w, cpu->idtr_base);
    hg_state_put_u32(w, cpu->idtr_limit);

    /* Control and debug registers, and the PDPTEs cached at the last CR3 load. */
    hg_state_put_u32(w, cpu->cr0);
    hg_state_put_u32(w, cpu->cr2);
    hg_state_put_u32(w, cpu->cr3);
    hg_state_put_u32(w, cpu->cr4);
    for (int i = 0; i < 8; i++)
        hg_state_put_u32(w, cpu->dr[i]);
    for (int i = 0; i < 4; i++)
        hg_state_put_u64(w, cpu->pdpte[i]);

    /* Model-specific registers. */
    const HgMsrState *m = &cpu->msr;
    hg_state_put_u32(w, m->sysenter_cs);
    hg_state_put_u32(w, m->sysenter_esp);
    hg_state_put_u32(w, m->sysenter_eip);
    hg_state_put_u64(w, m->apic_base);
    hg_state_put_u64(w, m->tsc_offset);
    hg_state_put_u64(w, m->mtrr_cap);
    hg_state_put_u64(w, m->mtrr_def_type);
    for (int i = 0; i < 11; i++)
        hg_state_put_u64(w, m->mtrr_fixed[i]);
    for (int i = 0; i < 16; i++)
        hg_state_put_u64(w, m->mtrr_var[i]);
    hg_state_put_u64(w, m->pat);
    hg_state_put_u64(w, m->misc_enable);

    /* x87/MMX registers by physical number, the environment, and the SSE part of the
     * FXSAVE image. */
    const HgFpu *f = &cpu->fpu;
    for (int i = 0; i < 8; i++) {
        hg_state_put_u64(w, f->regs[i].mant);
        hg_state_put_u16(w, f->regs[i].sexp);
    }
    hg_state_put_u16(w, f->cw);
    hg_state_put_u16(w, f->sw);
    hg_state_put_u16(w, f->tw);
    hg_state_put_u8(w, f->top);
    hg_state_put_u8(w, f->ferr);
    hg_state_put_u16(w, f->fop);
    hg_state_put_u32(w, f->fip);
    hg_state_put_u16(w, f->fcs);
    hg_state_put_u32(w, f->fdp);
    hg_state_put_u16(w, f->fds);
    hg_state_put_u32(w, f->mxcsr);
    hg_state_put_bytes(w, f->xmm, sizeof(f->xmm));

    /* Interrupt and execution state between two instructions. */
    hg_state_put_u8(w, cpu->intr_line);
    hg_state_put_u8(w, cpu->nmi_pending);
    hg_state_put_u8(w, cpu->nmi_blocked);
    hg_state_put_u8(w, cpu->halted);
    hg_state_put_u8(w, cpu->irq_shadow);
    hg_state_put_u32(w, cpu->dbg_pending);
    hg_state_put_u8(w, cpu->a20_mask != 0xffffffffu);
    hg_state_put_u64(w, cpu->icount);

    hg_state_end(w);
}

/* ---- loading ---- */

/* Records why the state is refused (the first reason only). */
static bool reject(HgStateReader *r, const char *why)
{
    if (!r->error)
        g_set_error(&r->error, g_quark_from_static_string("hg-state-error"), 5,
                    "state section \"cpu\" is invalid: %s", why);
    return false;
}

static bool get_bool(HgStateReader *r, bool *ok)
{
    uint8_t v = hg_state_get_u8(r);
    if (v > 1)
        *ok = false;
    return v != 0;
}

static void get_seg(HgStateReader *r, HgSegment *sg)
{
    sg->sel = hg_state_get_u16(r);
    sg->base = hg_state_get_u32(r);
    sg->limit = hg_state_get_u32(r);
    sg->flags = hg_state_get_u32(r);
}

static unsigned seg_dpl(const HgSegment *sg)
{
    return (sg->flags >> DESC_DPL_SHIFT) & 3;
}

static unsigned seg_type(const HgSegment *sg)
{
    return (sg->flags >> DESC_TYPE_SHIFT) & 15;
}

/* The descriptor caches: each must hold what a descriptor load could have put there,
 * and CS and SS must agree with the CPL (SDM 5.5, 5.7). */
static bool check_segments(HgStateReader *r, const HgCpu *c)
{
    bool pe = c->cr0 & CR0_PE, vm = pe && (c->eflags & FL_VM);
    for (int s = 0; s < S_COUNT; s++) {
        const HgSegment *sg = &c->seg[s];
        if (sg->flags & ~DESC_FLAGS_VALID)
            return reject(r, "segment cache with reserved attribute bits");
        /* A present descriptor's limit is either byte-granular (20 bits) or page-
         * granular (low 12 bits all ones). A cache emptied by a failed task-switch
         * load may keep an old limit, but then it is not present and never used in
         * protected mode. */
        if ((sg->flags & DESC_P) &&
            ((sg->flags & DESC_G) ? (sg->limit & 0xfff) != 0xfff : sg->limit > 0xfffff))
            return reject(r, "segment limit inconsistent with its granularity");
        if (!(sg->flags & DESC_P))
            continue;
        if (s < S_LDTR && !(sg->flags & DESC_S))
            return reject(r, "system descriptor in a segment register");
        if (s == S_LDTR && ((sg->flags & DESC_S) || seg_type(sg) != 2))
            return reject(r, "LDTR cache is not an LDT");
        if (s == S_TR && ((sg->flags & DESC_S) || (seg_type(sg) & 5) != 1))
            return reject(r, "TR cache is not a TSS");
    }
    if (!pe) {
        if (c->cpl != 0)
            return reject(r, "CPL is not 0 in real mode");
        return true;
    }
    const HgSegment *cs = &c->seg[S_CS], *ss = &c->seg[S_SS];
    if (vm) {
        if (c->cpl != 3)
            return reject(r, "CPL is not 3 in virtual-8086 mode");
        for (int s = S_ES; s <= S_GS; s++)
            if (c->seg[s].base != (uint32_t)c->seg[s].sel << 4 || c->seg[s].limit != 0xffff)
                return reject(r, "virtual-8086 segment cache does not match its selector");
        return true;
    }
    if ((cs->flags & (DESC_P | DESC_S | DESC_CODE)) != (DESC_P | DESC_S | DESC_CODE))
        return reject(r, "CS does not hold a present code segment");
    /* The CPL is checked against the CS descriptor, not the selector's RPL: between
     * setting CR0.PE and the far jump that follows, CS still holds a real-mode selector
     * whose low bits mean nothing while the CPL is 0. */
    if ((cs->flags & DESC_C) ? seg_dpl(cs) > (unsigned)c->cpl : seg_dpl(cs) != (unsigned)c->cpl)
        return reject(r, "CPL does not match the CS descriptor");
    if ((ss->flags & DESC_P) &&
        ((ss->flags & DESC_CODE) || !(ss->flags & DESC_W) || seg_dpl(ss) != (unsigned)c->cpl))
        return reject(r, "SS is not a writable data segment at the CPL");
    for (int s = S_ES; s <= S_GS; s++) {
        const HgSegment *sg = &c->seg[s];
        if (s != S_CS && s != S_SS && (sg->flags & DESC_P) && (sg->flags & DESC_CODE) &&
            !(sg->flags & DESC_R))
            return reject(r, "execute-only code segment in a data segment register");
    }
    return true;
}

static bool check_msrs(HgStateReader *r, HgCpu *c, const HgMsrState *m, uint64_t mtrr_cap)
{
    /* The writable ones go through the WRMSR checks (reserved bits, memory types). */
    bool ok = m->sysenter_cs <= 0xffff && m->mtrr_cap == mtrr_cap &&
              hg_msr_write(c, MSR_APIC_BASE, m->apic_base) && hg_msr_write(c, MSR_PAT, m->pat) &&
              hg_msr_write(c, MSR_MTRR_DEF_TYPE, m->mtrr_def_type);
    for (int i = 0; ok && i < 11; i++)
        ok = hg_msr_write(c, fixed_mtrr_msr[i], m->mtrr_fixed[i]);
    for (int i = 0; ok && i < 16; i++)
        ok = hg_msr_write(c, MSR_MTRR_PHYS_BASE0 + (uint32_t)i, m->mtrr_var[i]);
    return ok || reject(r, "model-specific register with a reserved value");
}

static bool check_fpu(HgStateReader *r, const HgFpu *f)
{
    if (f->top > 7)
        return reject(r, "x87 TOP out of range");
    if (f->sw & FSW_TOP)
        return reject(r, "x87 status word holds TOP bits");
    if (f->fop > 0x7ff)
        return reject(r, "x87 opcode wider than 11 bits");
    if (f->mxcsr & ~MXCSR_VALID)
        return reject(r, "MXCSR with reserved bits");
    /* ES and B summarise the unmasked pending exceptions (SDM Vol. 1 8.1.3.4), and
     * FERR# is only asserted while one is pending. */
    bool pending = f->sw & ~f->cw & FSW_EXC;
    bool es = f->sw & FSW_ES, b = f->sw & FSW_B;
    if (es != pending || b != es)
        return reject(r, "x87 error summary inconsistent with the exception flags");
    if (f->ferr && !es)
        return reject(r, "FERR# asserted without a pending x87 exception");
    return true;
}

/* Reads the section into c (a copy of the CPU) and checks it; false: refused. */
static bool read_state(HgStateReader *r, HgCpu *c)
{
    bool ok = true;
    for (int i = 0; i < 8; i++)
        c->regs[i] = hg_state_get_u32(r);
    c->eip = hg_state_get_u32(r);
    uint32_t eflags = hg_state_get_u32(r);
    c->cpl = hg_state_get_u8(r);

    for (int s = 0; s < S_COUNT; s++)
        get_seg(r, &c->seg[s]);
    c->gdtr_base = hg_state_get_u32(r);
    c->gdtr_limit = hg_state_get_u32(r);
    c->idtr_base = hg_state_get_u32(r);
    c->idtr_limit = hg_state_get_u32(r);

    c->cr0 = hg_state_get_u32(r);
    c->cr2 = hg_state_get_u32(r);
    c->cr3 = hg_state_get_u32(r);
    c->cr4 = hg_state_get_u32(r);
    for (int i = 0; i < 8; i++)
        c->dr[i] = hg_state_get_u32(r);
    for (int i = 0; i < 4; i++)
        c->pdpte[i] = hg_state_get_u64(r);

    HgMsrState m;
    m.sysenter_cs = hg_state_get_u32(r);
    m.sysenter_esp = hg_state_get_u32(r);
    m.sysenter_eip = hg_state_get_u32(r);
    m.apic_base = hg_state_get_u64(r);
    m.tsc_offset = hg_state_get_u64(r);
    m.mtrr_cap = hg_state_get_u64(r);
    m.mtrr_def_type = hg_state_get_u64(r);
    for (int i = 0; i < 11; i++)
        m.mtrr_fixed[i] = hg_state_get_u64(r);
    for (int i = 0; i < 16; i++)
        m.mtrr_var[i] = hg_state_get_u64(r);
    m.pat = hg_state_get_u64(r);
    m.misc_enable = hg_state_get_u64(r);

    HgFpu *f = &c->fpu;
    for (int i = 0; i < 8; i++) {
        f->regs[i].mant = hg_state_get_u64(r);
        f->regs[i].sexp = hg_state_get_u16(r);
    }
    f->cw = hg_state_get_u16(r);
    f->sw = hg_state_get_u16(r);
    f->tw = hg_state_get_u16(r);
    f->top = hg_state_get_u8(r);
    f->ferr = get_bool(r, &ok);
    f->fop = hg_state_get_u16(r);
    f->fip = hg_state_get_u32(r);
    f->fcs = hg_state_get_u16(r);
    f->fdp = hg_state_get_u32(r);
    f->fds = hg_state_get_u16(r);
    f->mxcsr = hg_state_get_u32(r);
    hg_state_get_bytes(r, f->xmm, sizeof(f->xmm));

    c->intr_line = get_bool(r, &ok);
    c->nmi_pending = get_bool(r, &ok);
    c->nmi_blocked = get_bool(r, &ok);
    c->halted = get_bool(r, &ok);
    c->irq_shadow = get_bool(r, &ok);
    c->dbg_pending = hg_state_get_u32(r);
    bool a20_off = get_bool(r, &ok);
    c->icount = hg_state_get_u64(r);
    hg_state_close(r);
    if (!hg_state_ok(r))
        return false;
    if (!ok)
        return reject(r, "boolean field out of range");

    /* Architectural registers. */
    if ((eflags & ~EFLAGS_VALID) || !(eflags & FL_FIXED1))
        return reject(r, "EFLAGS with reserved bits");
    c->eflags = eflags & ~FL_ARITH;
    c->cc_op = CC_EFLAGS;
    c->cc_src = eflags & FL_ARITH;
    c->cc_dst = c->cc_src2 = 0;
    if ((c->cr0 & ~CR0_VALID) || !(c->cr0 & CR0_ET))
        return reject(r, "CR0 with reserved bits");
    if ((c->cr0 & CR0_PG) && !(c->cr0 & CR0_PE))
        return reject(r, "CR0.PG without CR0.PE");
    if ((c->cr0 & CR0_NW) && !(c->cr0 & CR0_CD))
        return reject(r, "CR0.NW without CR0.CD");
    if (c->cr4 & ~CR4_VALID)
        return reject(r, "CR4 with reserved bits");
    if ((c->eflags & FL_VM) && !(c->cr0 & CR0_PE))
        return reject(r, "EFLAGS.VM outside protected mode");
    if (c->cpl > 3)
        return reject(r, "CPL out of range");
    if (c->gdtr_limit > 0xffff || c->idtr_limit > 0xffff)
        return reject(r, "descriptor table limit wider than 16 bits");
    if (!check_segments(r, c))
        return false;
    for (int i = 0; i < 4; i++)
        if ((c->pdpte[i] & 1) && (c->pdpte[i] & 0xfffffff0000001e6ull))
            return reject(r, "PDPTE with reserved bits");
    if ((c->dr[6] & ~0xe00fu) != 0xffff0ff0u || (c->dr[7] & ~0xffff27ffu) || !(c->dr[7] & 0x400) ||
        c->dr[4] || c->dr[5])
        return reject(r, "debug register with reserved bits");
    if (c->dbg_pending & ~DBG_PENDING_VALID)
        return reject(r, "pending debug trap bits out of range");

    uint64_t mtrr_cap = c->msr.mtrr_cap;
    if (!check_msrs(r, c, &m, mtrr_cap))
        return false;
    c->msr = m;
    if (!check_fpu(r, f))
        return false;
    c->a20_mask = a20_off ? ~(1u << 20) : 0xffffffffu;
    return true;
}

void hg_cpu_load(HgCpu *cpu, HgStateReader *r)
{
    if (!hg_state_open(r, "cpu", CPU_STATE_VERSION, CPU_STATE_VERSION))
        return;
    /* Everything is read into a copy; the CPU changes only when all of it is valid. */
    HgCpu *c = g_memdup2(cpu, sizeof(*cpu));
    bool ok = read_state(r, c);
    if (ok) {
        memcpy(cpu, c, sizeof(*cpu));
        cpu->regs[R_NONE] = 0;
        cpu->delivering = -1;
        cpu->cur_op = NULL;
        cpu->cur_tb = NULL;
        /* Derived state: segment ranges, mode key and TLB mode, breakpoint masks; the
         * caches of translations and blocks describe the old state. */
        for (int s = 0; s < S_COUNT; s++)
            hg_seg_update(cpu, s);
        hg_cpu_update_mode(cpu);
        hg_debug_regs_changed(cpu);
        hg_tlb_flush(cpu, false);
        hg_tb_flush_all(cpu->tbs);
        /* Chained execution looks at pending events only through this word: make the
         * loop re-read the restored interrupt lines at the next block boundary. */
        __atomic_store_n(&cpu->async_pending, 1, __ATOMIC_RELEASE);
    }
    g_free(c);
}
