/* Control registers: MOV to and from CR0, CR2, CR3 and CR4, LMSW, SMSW and CLTS, with
 * the reserved-bit checks, TLB flushes and PAE PDPTE loads their writes imply (Intel SDM
 * Vol. 3A 2.5 "Control Registers", 4.4.1 PDPTE loading, 4.10.4 TLB invalidation).
 */
#include "insn.h"
#include "mmu.h"
#include "seg.h"

#define H(name) static const HgOp *name(HgCpu *cpu, const HgOp *op)

/* CR0 bits a P6 implements; writes to the others are ignored and ET reads as 1. */
#define CR0_IMPL                                                                            \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | \
     CR0_PG)
/* CR4 bits this processor accepts, following what CPUID reports: no VME/PVI, and no
 * OSXMMEXCPT without SSE; setting any other bit raises #GP(0). */
#define CR4_IMPL                                                                            \
    (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR)

/* Loads the PDPTEs for a register state about to be committed; #GP(0) when one has
 * reserved bits set, leaving the old PDPTEs. */
static void load_pdptes(HgCpu *cpu, uint32_t cr3)
{
    uint64_t saved[4];
    uint32_t old_cr3 = cpu->cr3;
    memcpy(saved, cpu->pdpte, sizeof(saved));
    cpu->cr3 = cr3;
    bool ok = hg_mmu_load_pdptes(cpu);
    cpu->cr3 = old_cr3;
    if (!ok) {
        memcpy(cpu->pdpte, saved, sizeof(saved));
        hg_raise_gp(cpu, 0);
    }
}

void hg_cpu_write_cr0(HgCpu *cpu, uint32_t v)
{
    v = (v & CR0_IMPL) | CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE))
        hg_raise_gp(cpu, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        hg_raise_gp(cpu, 0);
    uint32_t old = cpu->cr0;
    if ((v & CR0_PG) && !(old & CR0_PG) && (cpu->cr4 & CR4_PAE))
        load_pdptes(cpu, cpu->cr3);
    cpu->cr0 = v;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
        hg_tlb_flush(cpu, false);
    if ((old ^ v) & CR0_PE) {
        /* Segment caches keep their contents; only how they are checked changes. */
        for (int s = 0; s < S_COUNT; s++)
            hg_seg_update(cpu, s);
    }
    hg_cpu_update_mode(cpu);
}

void hg_cpu_write_cr3(HgCpu *cpu, uint32_t v)
{
    if ((cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE))
        load_pdptes(cpu, v);
    cpu->cr3 = v;
    hg_tlb_flush(cpu, (cpu->cr4 & CR4_PGE) != 0);
}

void hg_cpu_write_cr4(HgCpu *cpu, uint32_t v)
{
    if (v & ~CR4_IMPL)
        hg_raise_gp(cpu, 0);
    uint32_t old = cpu->cr4;
    uint32_t paging = CR4_PAE | CR4_PSE | CR4_PGE;
    if ((cpu->cr0 & CR0_PG) && (v & CR4_PAE) && ((old ^ v) & paging)) {
        uint32_t saved = cpu->cr4;
        cpu->cr4 = v;
        load_pdptes(cpu, cpu->cr3);
        cpu->cr4 = saved;
    }
    cpu->cr4 = v;
    if ((old ^ v) & paging)
        hg_tlb_flush(cpu, false);
}

/* MOV CRn: CR1, CR5-CR7 do not exist (#UD); any other access needs CPL 0, which V86
 * mode never has. The ModRM mod field is ignored by hardware; rows are register-only. */
static inline void check_cr_access(HgCpu *cpu, unsigned n)
{
    if (n == 1 || n > 4)
        hg_raise_ud(cpu);
    if ((cpu->cr0 & CR0_PE) && cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
}

H(mov_rd_cd) {
    check_cr_access(cpu, op->reg);
    uint32_t v = op->reg == 0 ? cpu->cr0 : op->reg == 2 ? cpu->cr2 : op->reg == 3 ? cpu->cr3
                                                                                : cpu->cr4;
    cpu->regs[op->rm] = v;
    return op + 1;
}
const HgOpImpl hg_impl_MOV_RdCd = {mov_rd_cd, mov_rd_cd, NULL, NULL};

H(mov_cd_rd) {
    check_cr_access(cpu, op->reg);
    uint32_t v = cpu->regs[op->rm];
    switch (op->reg) {
    case 0: hg_cpu_write_cr0(cpu, v); break;
    case 2: cpu->cr2 = v; break;
    case 3: hg_cpu_write_cr3(cpu, v); break;
    default: hg_cpu_write_cr4(cpu, v); break;
    }
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_MOV_CdRd = {mov_cd_rd, mov_cd_rd, NULL, NULL};

/* SMSW: the low word of CR0; a 32-bit register destination receives all of CR0 (the
 * upper bits are undefined in the manual; P6 returns CR0). Not privileged. */
H(smsw_rw) { hg_set_reg16(cpu, op->rm, (uint16_t)cpu->cr0); return op + 1; }
H(smsw_rd) { cpu->regs[op->rm] = cpu->cr0; return op + 1; }
H(smsw_m) { hg_write16(cpu, op->seg, hg_ea(cpu, op), (uint16_t)cpu->cr0); return op + 1; }
const HgOpImpl hg_impl_SMSW = {smsw_rw, smsw_rd, smsw_m, smsw_m};

/* LMSW: loads PE MP EM TS; it can set PE but never clear it. */
static inline const HgOp *lmsw(HgCpu *cpu, const HgOp *op, uint16_t v)
{
    if ((cpu->cr0 & CR0_PE) && cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    uint32_t keep = cpu->cr0 & ~(uint32_t)(CR0_MP | CR0_EM | CR0_TS);
    hg_cpu_write_cr0(cpu, keep | (v & (CR0_PE | CR0_MP | CR0_EM | CR0_TS)));
    return hg_end_block(cpu, op);
}
H(lmsw_r) { return lmsw(cpu, op, (uint16_t)cpu->regs[op->rm]); }
H(lmsw_m) { return lmsw(cpu, op, hg_read16(cpu, op->seg, hg_ea(cpu, op))); }
const HgOpImpl hg_impl_LMSW = {lmsw_r, lmsw_r, lmsw_m, lmsw_m};

H(clts) {
    if ((cpu->cr0 & CR0_PE) && cpu->cpl != 0)
        hg_raise_gp(cpu, 0);
    cpu->cr0 &= ~(uint32_t)CR0_TS;
    return hg_end_block(cpu, op);
}
const HgOpImpl hg_impl_CLTS = {clts, clts, NULL, NULL};
