/* Paging and TLB management (mmu.c). The inline fast paths are in ops.h. */
#pragma once

#include "cpu.h"

/* Flushes the TLB; keep_global keeps global-page entries (a CR3 write with CR4.PGE). */
void hg_tlb_flush(HgCpu *cpu, bool keep_global);
/* Invalidates every entry, used or not (CPU creation and reset). */
void hg_tlb_reset(HgCpu *cpu);
/* INVLPG: drops the entries of one linear page, global or not. */
void hg_tlb_flush_page(HgCpu *cpu, uint32_t lin);
/* Makes writes to a physical page take the slow path (it now holds translated code). */
void hg_tlb_protect_code(HgCpu *cpu, uint32_t phys_page);
/* Makes the next write to any page of physical [base, base + size) map it again (the bus's
 * direct frame-buffer pages: mapping it tells the device the page is being written). */
void hg_tlb_drop_writes_phys(HgCpu *cpu, uint32_t base, uint32_t size);
/* Translates the linear address of an instruction fetch (faults like a read). */
uint32_t hg_mmu_translate_code(HgCpu *cpu, uint32_t lin);
/* Walks the page tables without side effects or faults (debuggers, monitor). */
bool hg_mmu_debug_translate(HgCpu *cpu, uint32_t lin, uint32_t *phys);
/* Loads the four PAE PDPTEs from CR3; false when one has reserved bits set. */
bool hg_mmu_load_pdptes(HgCpu *cpu);
