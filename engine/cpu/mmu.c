/* Paging and the software TLB: 32-bit paging with 4 KiB and 4 MiB pages (PSE), PAE
 * with 2 MiB pages, global pages, write protection, accessed and dirty bits, and the
 * page-fault error code (Intel SDM Vol. 3A, chapter 4).
 *
 * The TLB is direct-mapped with one table for supervisor and one for user accesses.
 * A fill happens on a miss; it records a host pointer for RAM and ROM pages so the
 * inline fast path in ops.h is one compare and one load. Pages that hold translated
 * code get a slow write tag so every store there is seen by the translator.
 */
#include "mmu.h"

#include <glib.h>

#include "bus.h"
#include "ops.h"
#include "tb.h"

enum { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };
enum {
    PTE_P = 1,
    PTE_RW = 2,
    PTE_US = 4,
    PTE_A = 0x20,
    PTE_D = 0x40,
    PTE_PS = 0x80,
    PTE_G = 0x100
};
enum { PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8 };

/* PAE entries: bits 36-62 are reserved on a P6 (36-bit physical addresses); bit 63
 * (NX) is reserved because the P6 has no EFER.NXE. */
#define PAE_RSVD_HIGH 0xfffffff000000000ull

typedef struct Translation {
    uint32_t phys; /* physical page address */
    bool writable; /* writes allowed for the access's privilege */
    bool user_ok;  /* user accesses allowed */
    bool dirty;    /* dirty bit already set (writes need no walk) */
    bool global;
    bool large; /* from a 4 MiB or 2 MiB page */
} Translation;

static uint32_t phys_read32(HgCpu *cpu, uint64_t addr)
{
    if (addr > 0xfffffffcull)
        return 0xffffffffu;
    return hg_bus_read(cpu->bus, (uint32_t)addr & cpu->a20_mask, 4);
}

static void phys_write32(HgCpu *cpu, uint64_t addr, uint32_t v)
{
    if (addr > 0xfffffffcull)
        return;
    uint32_t a = (uint32_t)addr & cpu->a20_mask;
    hg_bus_write(cpu->bus, a, v, 4);
    hg_tb_invalidate_phys(cpu->tbs, a, 4);
}

static _Noreturn void page_fault(HgCpu *cpu, uint32_t lin, int acc, bool user, uint32_t err)
{
    if (acc == ACC_WRITE)
        err |= PF_W;
    if (user)
        err |= PF_U;
    cpu->cr2 = lin;
    hg_raise(cpu, EX_PF, (int)err);
}

/* Walks the page tables for lin. user: the access is subject to user-mode checks.
 * Sets accessed and dirty bits as hardware does: only when the access is allowed. */
static Translation walk(HgCpu *cpu, uint32_t lin, int acc, bool user)
{
    Translation t = {0};
    bool write = acc == ACC_WRITE;
    bool wp = (cpu->cr0 & CR0_WP) != 0;

    if (!(cpu->cr0 & CR0_PG)) {
        t.phys = lin & ~0xfffu;
        t.writable = t.user_ok = t.dirty = true;
        return t;
    }

    if (cpu->cr4 & CR4_PAE) {
        uint64_t pdpte = cpu->pdpte[lin >> 30];
        if (!(pdpte & PTE_P))
            page_fault(cpu, lin, acc, user, 0);
        uint64_t pde_addr = (pdpte & 0xffffff000ull) + ((lin >> 21) & 0x1ff) * 8;
        uint64_t pde = phys_read32(cpu, pde_addr) | (uint64_t)phys_read32(cpu, pde_addr + 4) << 32;
        if (!(pde & PTE_P))
            page_fault(cpu, lin, acc, user, 0);
        if (pde & PAE_RSVD_HIGH)
            page_fault(cpu, lin, acc, user, PF_P | PF_RSVD);
        bool rw = pde & PTE_RW, us = pde & PTE_US;
        if (pde & PTE_PS) {
            if (pde & 0x1fe000)
                page_fault(cpu, lin, acc, user, PF_P | PF_RSVD);
            if ((user && (!us || (write && !rw))) || (!user && write && !rw && wp))
                page_fault(cpu, lin, acc, user, PF_P);
            uint32_t lo = (uint32_t)pde | PTE_A | (write ? PTE_D : 0);
            if (lo != (uint32_t)pde)
                phys_write32(cpu, pde_addr, lo);
            t.phys = ((uint32_t)pde & 0xffe00000u) | (lin & 0x1ff000u);
            t.writable = user ? rw : (rw || !wp);
            t.user_ok = us;
            t.dirty = (lo & PTE_D) != 0;
            t.global = (pde & PTE_G) && (cpu->cr4 & CR4_PGE);
            t.large = true;
            return t;
        }
        /* The directory entry is used (accessed) even when the table entry then
         * faults, as the P6 does. */
        if (!(pde & PTE_A))
            phys_write32(cpu, pde_addr, (uint32_t)pde | PTE_A);
        uint64_t pte_addr = (pde & 0xffffff000ull) + ((lin >> 12) & 0x1ff) * 8;
        uint64_t pte = phys_read32(cpu, pte_addr) | (uint64_t)phys_read32(cpu, pte_addr + 4) << 32;
        if (!(pte & PTE_P))
            page_fault(cpu, lin, acc, user, 0);
        if (pte & PAE_RSVD_HIGH)
            page_fault(cpu, lin, acc, user, PF_P | PF_RSVD);
        rw = rw && (pte & PTE_RW);
        us = us && (pte & PTE_US);
        if ((user && (!us || (write && !rw))) || (!user && write && !rw && wp))
            page_fault(cpu, lin, acc, user, PF_P);
        uint32_t lo = (uint32_t)pte | PTE_A | (write ? PTE_D : 0);
        if (lo != (uint32_t)pte)
            phys_write32(cpu, pte_addr, lo);
        t.phys = (uint32_t)pte & 0xfffff000u;
        if (pte >> 32)
            t.phys = 0xfffff000u; /* beyond our 4 GiB bus: reads as unmapped */
        t.writable = user ? rw : (rw || !wp);
        t.user_ok = us;
        t.dirty = (lo & PTE_D) != 0;
        t.global = (pte & PTE_G) && (cpu->cr4 & CR4_PGE);
        return t;
    }

    uint32_t pde_addr = (cpu->cr3 & 0xfffff000u) + (lin >> 22) * 4;
    uint32_t pde = phys_read32(cpu, pde_addr);
    if (!(pde & PTE_P))
        page_fault(cpu, lin, acc, user, 0);
    bool rw = pde & PTE_RW, us = pde & PTE_US;
    if ((pde & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
        /* 4 MiB page; bits 13-20 would hold physical address bits 32-39 (PSE-36),
         * which our 32-bit bus does not have: a P6 without PSE-36 reserves them. */
        if (pde & 0x3fe000u)
            page_fault(cpu, lin, acc, user, PF_P | PF_RSVD);
        if ((user && (!us || (write && !rw))) || (!user && write && !rw && wp))
            page_fault(cpu, lin, acc, user, PF_P);
        uint32_t n = pde | PTE_A | (write ? PTE_D : 0);
        if (n != pde)
            phys_write32(cpu, pde_addr, n);
        t.phys = (pde & 0xffc00000u) | (lin & 0x3ff000u);
        t.writable = user ? rw : (rw || !wp);
        t.user_ok = us;
        t.dirty = (n & PTE_D) != 0;
        t.global = (pde & PTE_G) && (cpu->cr4 & CR4_PGE);
        t.large = true;
        return t;
    }
    if (!(pde & PTE_A))
        phys_write32(cpu, pde_addr, pde | PTE_A);
    uint32_t pte_addr = (pde & 0xfffff000u) + ((lin >> 12) & 0x3ff) * 4;
    uint32_t pte = phys_read32(cpu, pte_addr);
    if (!(pte & PTE_P))
        page_fault(cpu, lin, acc, user, 0);
    rw = rw && (pte & PTE_RW);
    us = us && (pte & PTE_US);
    if ((user && (!us || (write && !rw))) || (!user && write && !rw && wp))
        page_fault(cpu, lin, acc, user, PF_P);
    uint32_t n = pte | PTE_A | (write ? PTE_D : 0);
    if (n != pte)
        phys_write32(cpu, pte_addr, n);
    t.phys = pte & 0xfffff000u;
    t.writable = user ? rw : (rw || !wp);
    t.user_ok = us;
    t.dirty = (n & PTE_D) != 0;
    t.global = (pte & PTE_G) && (cpu->cr4 & CR4_PGE);
    return t;
}

/* Translates and fills the TLB entry of mode for lin. Returns the entry. */
static HgTlbEntry *fill(HgCpu *cpu, uint32_t lin, int acc, int mode)
{
    bool user = mode == 1;
    Translation t = walk(cpu, lin, acc, user);
    uint32_t page = lin & ~0xfffu;
    uint32_t phys = t.phys & cpu->a20_mask;
    HgTlbEntry *e = &cpu->tlb[mode][(lin >> 12) & (TLB_SIZE - 1)];
    bool writable = false;
    uint8_t *host = hg_bus_page(cpu->bus, phys, &writable);
    if (!host) /* a frame buffer's plain memory behind MMIO (hg_bus_set_direct) */
        host = hg_bus_direct_page(cpu->bus, phys, &writable);

    e->phys = phys;
    e->global = t.global;
    unsigned idx = (lin >> 12) & (TLB_SIZE - 1);
    cpu->tlb_used[mode][idx / 64] |= 1ull << (idx % 64);
    if (t.large)
        cpu->tlb_large = true;
    /* With A20 masked, the page at 1 MiB aliases page 0 only in bit 20; mapping a
     * whole 4 KiB page is exact because the mask clears a bit above 12. */
    if (host) {
        e->addend = (uintptr_t)host - page;
        e->tag_read = page;
    } else {
        e->addend = 0;
        e->tag_read = page | TLB_SLOW;
    }
    if (t.writable && t.dirty) {
        e->tag_write = page;
        if (!host || !writable || hg_tb_page_has_code(cpu->tbs, phys))
            e->tag_write |= TLB_SLOW;
        else
            hg_bus_mark_dirty(cpu->bus, phys);
    } else {
        e->tag_write = TLB_INVALID;
    }
    /* A page holding a data breakpoint sends every access through the slow path, where
     * hits are recorded: breakpoints cost nothing on the inline fast path. */
    if (cpu->dbg_data_bps && hg_debug_page_watched(cpu, page)) {
        e->tag_read |= TLB_SLOW;
        if (!(e->tag_write & TLB_INVALID))
            e->tag_write |= TLB_SLOW;
    }
    return e;
}

static inline int access_mode(HgCpu *cpu)
{
    return cpu->tlb_mode;
}

/* Resolves lin for an access of the current privilege; returns the entry, with
 * tag_write usable (possibly slow) for writes. */
static HgTlbEntry *lookup(HgCpu *cpu, uint32_t lin, int acc, int mode)
{
    HgTlbEntry *e = &cpu->tlb[mode][(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t page = lin & ~0xfffu;
    if (acc == ACC_WRITE) {
        if ((e->tag_write & ~TLB_SLOW) == page)
            return e;
    } else if ((e->tag_read & ~TLB_SLOW) == page) {
        return e;
    }
    return fill(cpu, lin, acc, mode);
}

static uint32_t read_in_page(HgCpu *cpu, uint32_t lin, int size, int mode)
{
    HgTlbEntry *e = lookup(cpu, lin, ACC_READ, mode);
    if (!(e->tag_read & TLB_SLOW)) {
        uint32_t v = 0;
        memcpy(&v, (const uint8_t *)(uintptr_t)(lin + e->addend), size);
        return v;
    }
    if (cpu->dbg_data_bps)
        hg_debug_check_data(cpu, lin, size, false);
    return hg_bus_read(cpu->bus, e->phys | (lin & 0xfff), size);
}

static void write_in_page(HgCpu *cpu, HgTlbEntry *e, uint32_t lin, uint32_t v, int size)
{
    uint32_t phys = e->phys | (lin & 0xfff);
    if (!(e->tag_write & TLB_SLOW)) {
        memcpy((uint8_t *)(uintptr_t)(lin + e->addend), &v, size);
        return;
    }
    if (cpu->dbg_data_bps)
        hg_debug_check_data(cpu, lin, size, true);
    hg_tb_invalidate_phys(cpu->tbs, phys, size);
    hg_bus_write(cpu->bus, phys, v, size);
}

static uint32_t read_lin(HgCpu *cpu, uint32_t lin, int size, int mode)
{
    if ((lin & 0xfff) + size <= 0x1000)
        return read_in_page(cpu, lin, size, mode);
    int first = 0x1000 - (lin & 0xfff);
    uint32_t lo = read_in_page(cpu, lin, first, mode);
    uint32_t hi = read_in_page(cpu, lin + first, size - first, mode);
    return lo | hi << (8 * first);
}

static void write_lin(HgCpu *cpu, uint32_t lin, uint32_t v, int size, int mode)
{
    if ((lin & 0xfff) + size <= 0x1000) {
        write_in_page(cpu, lookup(cpu, lin, ACC_WRITE, mode), lin, v, size);
        return;
    }
    /* Both pages must be writable before either is written. */
    int first = 0x1000 - (lin & 0xfff);
    lookup(cpu, lin, ACC_WRITE, mode);
    HgTlbEntry *e2 = lookup(cpu, lin + first, ACC_WRITE, mode);
    HgTlbEntry *e1 = lookup(cpu, lin, ACC_WRITE, mode);
    if (e1 == e2) {
        /* Both pages share a TLB slot: write byte by byte, refilling as needed. */
        for (int i = 0; i < size; i++)
            write_in_page(cpu, lookup(cpu, lin + i, ACC_WRITE, mode), lin + i,
                          (v >> (8 * i)) & 0xff, 1);
        return;
    }
    write_in_page(cpu, e1, lin, v, first);
    write_in_page(cpu, e2, lin + first, v >> (8 * first), size - first);
}

uint32_t hg_mmu_read_slow(HgCpu *cpu, uint32_t lin, int size)
{
    return read_lin(cpu, lin, size, access_mode(cpu));
}

void hg_mmu_write_slow(HgCpu *cpu, uint32_t lin, uint32_t value, int size)
{
    write_lin(cpu, lin, value, size, access_mode(cpu));
}

void hg_mmu_probe_write(HgCpu *cpu, uint32_t lin, int size)
{
    int mode = access_mode(cpu);
    lookup(cpu, lin, ACC_WRITE, mode);
    if ((lin & 0xfff) + size > 0x1000)
        lookup(cpu, lin + size - 1, ACC_WRITE, mode);
}

uint32_t hg_lin_read_sys(HgCpu *cpu, uint32_t lin, int size)
{
    return read_lin(cpu, lin, size, 0);
}

void hg_lin_write_sys(HgCpu *cpu, uint32_t lin, uint32_t value, int size)
{
    write_lin(cpu, lin, value, size, 0);
}

uint32_t hg_mmu_translate_code(HgCpu *cpu, uint32_t lin)
{
    HgTlbEntry *e = lookup(cpu, lin, ACC_EXEC, access_mode(cpu));
    return e->phys | (lin & 0xfff);
}

bool hg_mmu_debug_translate(HgCpu *cpu, uint32_t lin, uint32_t *phys)
{
    /* Side-effect free walk for debuggers and monitors. */
    if (!(cpu->cr0 & CR0_PG)) {
        *phys = lin & cpu->a20_mask;
        return true;
    }
    if (cpu->cr4 & CR4_PAE) {
        uint64_t pdpte = cpu->pdpte[lin >> 30];
        if (!(pdpte & PTE_P))
            return false;
        uint64_t pa = (pdpte & 0xffffff000ull) + ((lin >> 21) & 0x1ff) * 8;
        uint64_t pde = phys_read32(cpu, pa) | (uint64_t)phys_read32(cpu, pa + 4) << 32;
        if (!(pde & PTE_P))
            return false;
        if (pde & PTE_PS) {
            *phys = ((uint32_t)pde & 0xffe00000u) | (lin & 0x1fffff);
            return true;
        }
        pa = (pde & 0xffffff000ull) + ((lin >> 12) & 0x1ff) * 8;
        uint32_t pte = phys_read32(cpu, pa);
        if (!(pte & PTE_P))
            return false;
        *phys = (pte & 0xfffff000u) | (lin & 0xfff);
        return true;
    }
    uint32_t pde = phys_read32(cpu, (cpu->cr3 & 0xfffff000u) + (lin >> 22) * 4);
    if (!(pde & PTE_P))
        return false;
    if ((pde & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
        *phys = (pde & 0xffc00000u) | (lin & 0x3fffff);
        return true;
    }
    uint32_t pte = phys_read32(cpu, (pde & 0xfffff000u) + ((lin >> 12) & 0x3ff) * 4);
    if (!(pte & PTE_P))
        return false;
    *phys = (pte & 0xfffff000u) | (lin & 0xfff);
    return true;
}

static void invalidate(HgTlbEntry *e)
{
    e->tag_read = TLB_INVALID;
    e->tag_write = TLB_INVALID;
    e->global = 0;
}

void hg_tlb_reset(HgCpu *cpu)
{
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < TLB_SIZE; i++)
            invalidate(&cpu->tlb[m][i]);
    memset(cpu->tlb_used, 0, sizeof(cpu->tlb_used));
    cpu->tlb_large = false;
    hg_tb_map_changed(cpu->tbs);
}

void hg_tlb_flush(HgCpu *cpu, bool keep_global)
{
    for (int m = 0; m < 2; m++) {
        for (int w = 0; w < TLB_SIZE / 64; w++) {
            uint64_t bits = cpu->tlb_used[m][w], keep = 0;
            while (bits) {
                int b = __builtin_ctzll(bits);
                bits &= bits - 1;
                HgTlbEntry *e = &cpu->tlb[m][w * 64 + b];
                if (keep_global && e->global)
                    keep |= 1ull << b;
                else
                    invalidate(e);
            }
            cpu->tlb_used[m][w] = keep;
        }
    }
    if (!keep_global)
        cpu->tlb_large = false;
    hg_tb_map_changed(cpu->tbs);
}

static void drop_page(HgCpu *cpu, uint32_t page)
{
    for (int m = 0; m < 2; m++) {
        HgTlbEntry *e = &cpu->tlb[m][(page >> 12) & (TLB_SIZE - 1)];
        if ((e->tag_read & ~0xfffu) == page || (e->tag_write & ~0xfffu) == page)
            invalidate(e);
    }
}

void hg_tlb_flush_page(HgCpu *cpu, uint32_t lin)
{
    if (!cpu->tlb_large) {
        drop_page(cpu, lin & ~0xfffu);
        hg_tb_map_changed(cpu->tbs);
        return;
    }
    /* The TLB holds large pages as 4 KiB pieces; INVLPG drops the whole large page
     * that contains lin (SDM 4.10.4.1), so every piece of the largest page size the
     * current paging mode has must go. */
    uint32_t size = (cpu->cr4 & CR4_PAE) ? 2u << 20 : 4u << 20;
    uint32_t base = lin & ~(size - 1);
    for (uint32_t off = 0; off < size; off += 0x1000)
        drop_page(cpu, base + off);
    hg_tb_map_changed(cpu->tbs);
}

/* Runs body with e pointing at each entry that may be valid. */
#define FOR_EACH_USED(cpu, e, body)                                                            \
    for (int m_ = 0; m_ < 2; m_++)                                                             \
        for (int w_ = 0; w_ < TLB_SIZE / 64; w_++)                                             \
            for (uint64_t bits_ = (cpu)->tlb_used[m_][w_]; bits_; bits_ &= bits_ - 1) {        \
                HgTlbEntry *e = &(cpu)->tlb[m_][w_ * 64 + __builtin_ctzll(bits_)];             \
                body                                                                           \
            }

void hg_tlb_protect_code(HgCpu *cpu, uint32_t phys_page)
{
    FOR_EACH_USED(cpu, e, {
        if (e->phys == phys_page && !(e->tag_write & TLB_INVALID))
            e->tag_write |= TLB_SLOW;
    })
}

void hg_tlb_drop_writes_phys(HgCpu *cpu, uint32_t base, uint32_t size)
{
    FOR_EACH_USED(cpu, e, {
        if (!(e->tag_write & TLB_INVALID) && e->phys - base < size)
            e->tag_write = TLB_INVALID;
    })
}

bool hg_mmu_load_pdptes(HgCpu *cpu)
{
    uint32_t base = cpu->cr3 & 0xffffffe0u;
    for (int i = 0; i < 4; i++) {
        uint64_t e = phys_read32(cpu, base + i * 8) | (uint64_t)phys_read32(cpu, base + i * 8 + 4)
                                                          << 32;
        /* Reserved: bits 1-2, 5-8, and 36-63 (SDM 4.4.1). */
        if ((e & PTE_P) && (e & (0x1e6ull | PAE_RSVD_HIGH)))
            return false;
        cpu->pdpte[i] = e;
    }
    return true;
}
