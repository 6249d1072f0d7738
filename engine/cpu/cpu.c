/* CPU object lifetime, the RESET state (Intel SDM Vol. 3A 9.1.1, table 9-1), the mode
 * key that translation blocks are specialised on, and segment descriptor caches.
 */
#include <glib.h>

#include "bus.h"
#include "mmu.h"
#include "ops.h"
#include "tb.h"

HgCpu *hg_cpu_new(HgBus *bus, const HgCpuHooks *hooks)
{
    HgCpu *cpu = g_new0(HgCpu, 1);
    cpu->bus = bus;
    if (hooks)
        cpu->hooks = *hooks;
    cpu->tbs = hg_tb_cache_new(cpu);
    hg_cpu_reset(cpu);
    return cpu;
}

void hg_cpu_free(HgCpu *cpu)
{
    if (!cpu)
        return;
    hg_tb_cache_free(cpu->tbs);
    g_free(cpu);
}

static void seg_update_ranges(HgCpu *cpu, int s);

void hg_seg_update(HgCpu *cpu, int s)
{
    HgSegment *sg = &cpu->seg[s];
    seg_update_ranges(cpu, s);
    bool full = sg->lo == 0 && sg->hi == 0xffffffffu;
    sg->flat = (full && sg->readable ? 1 : 0) | (full && sg->writable ? 2 : 0) |
               (sg->flags & DESC_B ? 4 : 0);
}

static void seg_update_ranges(HgCpu *cpu, int s)
{
    HgSegment *sg = &cpu->seg[s];
    bool prot = (cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM);
    if (!prot) {
        /* Real and V86 mode keep the cached limit and attributes of the descriptor
         * (that is how "unreal mode" works) but ignore the type checks. */
        sg->lo = 0;
        sg->hi = sg->limit;
        sg->readable = sg->writable = true;
        return;
    }
    if (s < S_LDTR && !(sg->flags & DESC_P)) {
        /* Null or not-present: every access faults. */
        sg->lo = 1;
        sg->hi = 0;
        sg->readable = sg->writable = false;
        return;
    }
    bool code = sg->flags & DESC_CODE;
    if (!code && (sg->flags & DESC_E)) {
        sg->lo = sg->limit + 1;
        sg->hi = (sg->flags & DESC_B) ? 0xffffffffu : 0xffffu;
        if (sg->lo == 0) { /* limit 0xffffffff expand-down: nothing is valid */
            sg->lo = 1;
            sg->hi = 0;
        }
    } else {
        sg->lo = 0;
        sg->hi = sg->limit;
    }
    sg->readable = !code || (sg->flags & DESC_R);
    sg->writable = !code && (sg->flags & DESC_W);
}

void hg_cpu_load_seg_real(HgCpu *cpu, int s, uint16_t sel)
{
    HgSegment *sg = &cpu->seg[s];
    sg->sel = sel;
    sg->base = (uint32_t)sel << 4;
    if (cpu->eflags & FL_VM) {
        /* V86: a fresh 64 KiB, DPL 3 writable data segment (SDM 20.2.1). */
        sg->limit = 0xffff;
        sg->flags = DESC_P | DESC_S | DESC_W | DESC_A | (3u << DESC_DPL_SHIFT);
        if (s == S_CS)
            sg->flags |= DESC_CODE | DESC_R;
    } else if (!(cpu->cr0 & CR0_PE) && s == S_CS) {
        /* Real mode CS loads keep the limit but are always 16-bit. */
        sg->flags &= ~DESC_B;
    }
    hg_seg_update(cpu, s);
    if (s == S_CS || s == S_SS)
        hg_cpu_update_mode(cpu);
}

void hg_cpu_update_mode(HgCpu *cpu)
{
    uint32_t m = 0;
    bool pe = cpu->cr0 & CR0_PE;
    bool vm = pe && (cpu->eflags & FL_VM);
    if (vm)
        cpu->cpl = 3;
    else if (!pe)
        cpu->cpl = 0;
    if ((cpu->seg[S_CS].flags & DESC_B) && !vm)
        m |= MODE_CS32;
    if (cpu->seg[S_SS].flags & DESC_B)
        m |= MODE_SS32;
    if (pe)
        m |= MODE_PE;
    if (vm)
        m |= MODE_VM86;
    if ((cpu->eflags & FL_TF) || (cpu->dr[7] & 0xff))
        m |= MODE_SINGLE;
    m |= (uint32_t)cpu->cpl << MODE_CPL_SHIFT;
    cpu->mode_key = m;
    cpu->tlb_mode = cpu->cpl == 3 ? 1 : 0;
    cpu->tlb_off = (uint32_t)(cpu->tlb_mode * sizeof(cpu->tlb[0]));
}

void hg_cpu_reset(HgCpu *cpu)
{
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = HG_CPU_SIGNATURE;
    cpu->eip = 0xfff0;
    cpu->eflags = FL_FIXED1;
    cpu->cc_op = CC_EFLAGS;
    cpu->cc_src = cpu->cc_dst = cpu->cc_src2 = 0;
    for (int s = 0; s < S_COUNT; s++) {
        HgSegment *sg = &cpu->seg[s];
        memset(sg, 0, sizeof(*sg));
        sg->limit = 0xffff;
        sg->flags = DESC_P | DESC_S | DESC_W | DESC_A;
    }
    cpu->seg[S_CS].sel = 0xf000;
    cpu->seg[S_CS].base = 0xffff0000u;
    cpu->seg[S_CS].flags |= DESC_CODE | DESC_R;
    cpu->seg[S_LDTR].flags = DESC_P | 2u << DESC_TYPE_SHIFT;
    cpu->seg[S_TR].flags = DESC_P | 11u << DESC_TYPE_SHIFT;
    cpu->gdtr_base = cpu->idtr_base = 0;
    cpu->gdtr_limit = cpu->idtr_limit = 0xffff;
    cpu->cr0 = CR0_ET | CR0_CD | CR0_NW;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0u;
    cpu->dr[7] = 0x00000400u;
    cpu->dbg_pending = 0;
    cpu->dbg_data_bps = 0;
    cpu->dbg_io_bps = 0;
    memset(cpu->pdpte, 0, sizeof(cpu->pdpte));
    memset(&cpu->msr, 0, sizeof(cpu->msr));
    cpu->msr.apic_base = 0xfee00000ull | (1u << 11) | (1u << 8);
    cpu->msr.pat = 0x0007040600070406ull;
    cpu->msr.mtrr_cap = 0x508; /* 8 variable ranges, fixed ranges, write-combining */
    memset(&cpu->fpu, 0, sizeof(cpu->fpu));
    cpu->fpu.cw = 0x0040;
    cpu->fpu.tw = 0x5555;
    cpu->fpu.mxcsr = 0x1f80;
    cpu->intr_line = false;
    cpu->nmi_pending = cpu->nmi_blocked = false;
    cpu->halted = false;
    cpu->irq_shadow = false;
    cpu->delivering = -1;
    cpu->a20_mask = 0xffffffffu;
    cpu->cur_op = NULL;
    cpu->cur_tb = NULL;
    cpu->icount = 0;
    for (int s = 0; s < S_COUNT; s++)
        hg_seg_update(cpu, s);
    hg_cpu_update_mode(cpu);
    hg_tlb_reset(cpu);
    hg_tb_flush_all(cpu->tbs);
}

void hg_cpu_set_a20(HgCpu *cpu, bool enabled)
{
    uint32_t mask = enabled ? 0xffffffffu : ~(1u << 20);
    if (mask == cpu->a20_mask)
        return;
    cpu->a20_mask = mask;
    hg_tlb_flush(cpu, false);
    hg_tb_jmp_cache_clear(cpu->tbs);
}
