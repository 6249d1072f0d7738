/* Translation-block cache: lookup by linear EIP through a per-CPU jump cache, then by
 * physical address and mode in a hash table; translation of new blocks; invalidation
 * when guest stores or device writes touch the bytes a block came from.
 *
 * A block lies inside one 4 KiB physical page. Only the first instruction of a block
 * may cross into the next page; such a block, and blocks decoded from memory that is
 * not RAM or ROM, are built for one execution and not cached, so a remapped second
 * page can never leave a stale block behind. Code presence is tracked per 128-byte
 * line so data stored next to code does not invalidate it.
 *
 * Blocks also link to their successors (HgTb.link, used by the execution loop). A
 * link is only as good as the blocks it joins, so every invalidation, flush and
 * jump-cache clear bumps a generation that drops all links at once.
 *
 * Changes of the linear mapping (CR3 loads, TLB flushes, INVLPG) do not empty the jump
 * cache: they bump map_gen, and a block found there or through a link to another page
 * is used once its page is confirmed against the TLB (hg_tb_revalidate). A guest that
 * switches address spaces thousands of times a second keeps its kernel's blocks (on
 * global pages, which keep their TLB entries) instead of looking every one up again.
 */
#include "tbcache.h"

#include <glib.h>

#include "bus.h"
#include "decode.h"
#include "mmu.h"

static inline uint32_t hash_key(uint32_t phys, uint32_t mode)
{
    uint32_t h = phys * 0x9e3779b1u ^ mode * 0x85ebca6bu;
    return (h ^ (h >> 15)) & (TB_HASH_SIZE - 1);
}

#define jmp_hash hg_tb_jmp_hash

HgTbCache *hg_tb_cache_new(HgCpu *cpu)
{
    HgTbCache *c = g_new0(HgTbCache, 1);
    c->cpu = cpu;
    c->dec = hg_decoder_new();
    c->n_pages = hg_bus_ram_size(cpu->bus) >> 12;
    c->page_tbs = g_new0(HgTb *, c->n_pages + 1);
    c->code_lines = g_new0(uint32_t, c->n_pages + 1);
    return c;
}

static void free_list(HgTb *tb)
{
    while (tb) {
        HgTb *next = tb->all_next;
        g_free(tb);
        tb = next;
    }
}

void hg_tb_cache_free(HgTbCache *c)
{
    if (!c)
        return;
    hg_tb_flush_all(c);
    free_list(c->graveyard);
    hg_decoder_free(c->dec);
    g_free(c->page_tbs);
    g_free(c->code_lines);
    g_free(c);
}

void hg_tb_jmp_cache_clear(HgTbCache *c)
{
    memset(c->jmp_cache, 0, sizeof(c->jmp_cache));
    c->link_gen++;
}

void hg_tb_map_changed(HgTbCache *c)
{
    c->map_gen++;
}

bool hg_tb_revalidate(HgTbCache *c, HgTb *tb)
{
    uint32_t lin = tb->cs_base + tb->eip;
    const HgTlbEntry *e = hg_tlb_entry(c->cpu, lin);
    if ((e->tag_read & ~TLB_SLOW) != (lin & ~0xfffu) || e->phys != (tb->phys & ~0xfffu))
        return false;
    tb->map_gen = c->map_gen;
    return true;
}

void hg_tb_flush_all(HgTbCache *c)
{
    /* Blocks may still be executing (a flush from inside an instruction): retire them
     * to the graveyard, freed when the CPU is between blocks. */
    for (int i = 0; i < TB_HASH_SIZE; i++) {
        HgTb *tb = c->hash[i];
        while (tb) {
            HgTb *next = tb->hash_next;
            tb->invalid = true;
            tb->all_next = c->graveyard;
            c->graveyard = tb;
            tb = next;
        }
    }
    c->n_tbs = 0;
    memset(c->hash, 0, sizeof(c->hash));
    memset(c->page_tbs, 0, sizeof(HgTb *) * (c->n_pages + 1));
    memset(c->code_lines, 0, sizeof(uint32_t) * (c->n_pages + 1));
    hg_tb_jmp_cache_clear(c);
    if (c->cpu->cur_tb)
        hg_tb_stop_current(c->cpu);
}

void hg_tb_collect(HgTbCache *c)
{
    free_list(c->graveyard);
    c->graveyard = NULL;
}

bool hg_tb_page_has_code(HgTbCache *c, uint32_t phys)
{
    uint32_t page = phys >> 12;
    return page < c->n_pages && c->code_lines[page] != 0;
}

static void unlink_tb(HgTbCache *c, HgTb *tb)
{
    HgTb **pp = &c->hash[hash_key(tb->phys, tb->mode)];
    while (*pp && *pp != tb)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = tb->hash_next;
    uint32_t page = tb->phys >> 12;
    if (page < c->n_pages) {
        pp = &c->page_tbs[page];
        while (*pp && *pp != tb)
            pp = &(*pp)->page_next;
        if (*pp)
            *pp = tb->page_next;
    }
    HgTb **slot = &c->jmp_cache[jmp_hash(tb->eip)];
    if (*slot == tb)
        *slot = NULL;
    tb->invalid = true;
    tb->all_next = c->graveyard;
    c->graveyard = tb;
    c->n_tbs--;
    c->link_gen++; /* other blocks may link to this one */
}

void hg_tb_invalidate_phys(HgTbCache *c, uint32_t phys, int size)
{
    uint32_t page = phys >> 12;
    if (page >= c->n_pages || !c->code_lines[page])
        return;
    uint32_t first = (phys & 0xfff) >> 7, last = ((phys & 0xfff) + size - 1) >> 7;
    if (last > 31)
        last = 31; /* the rest is on the next page, handled by its own call */
    uint32_t lines = (uint32_t)(((2ull << last) - 1) & ~((1ull << first) - 1));
    if (!(c->code_lines[page] & lines))
        return;
    uint32_t end = phys + size;
    uint32_t remaining = 0;
    HgTb *tb = c->page_tbs[page];
    while (tb) {
        HgTb *next = tb->page_next;
        if (tb->phys < end && phys < tb->phys_end) {
            if (tb == c->cpu->cur_tb)
                hg_tb_stop_current(c->cpu);
            unlink_tb(c, tb);
        } else {
            uint32_t a = (tb->phys & 0xfff) >> 7, b = ((tb->phys_end - 1) & 0xfff) >> 7;
            remaining |= (uint32_t)(((2ull << b) - 1) & ~((1ull << a) - 1));
        }
        tb = next;
    }
    c->code_lines[page] = remaining;
}

static const HgOp *op_exit(HgCpu *cpu, const HgOp *op)
{
    return hg_jump(cpu, op->eip);
}

void hg_tb_stop_current(HgCpu *cpu)
{
    /* The running block was invalidated by the instruction being executed (self-
     * modifying code). Its remaining ops are stale: make the next one leave the block
     * so execution resumes by decoding the new bytes. */
    HgOp *next = (HgOp *)cpu->cur_op + 1;
    HgTb *tb = cpu->cur_tb;
    if (cpu->cur_op && next < tb->ops + tb->n_insns + 1) {
        next->fn = op_exit;
        next->eip = hg_op_next_eip(cpu->cur_op);
    }
}

/* Reads up to 15 instruction bytes at eip through the MMU (faulting), stopping at the
 * code segment limit. Returns how many bytes are available. */
static int fetch_slow(HgCpu *cpu, uint32_t eip, uint8_t *buf)
{
    const HgSegment *cs = &cpu->seg[S_CS];
    int n = 0;
    for (; n < 15; n++) {
        uint32_t off = eip + n;
        if (!(cpu->mode_key & MODE_CS32))
            off &= 0xffff;
        if (off < cs->lo || off > cs->hi)
            break;
        buf[n] = (uint8_t)hg_lin_read(cpu, cs->base + off, 1);
    }
    return n;
}

/* The op through which a block may leave straight into a linked successor: a near
 * branch ending the block (it changes only EIP, ESP and memory), or the exit op of a
 * block cut short by its size or the page end. Anything else (far transfers, mode
 * changes, I/O, an instruction ending the block early) goes through the full checks
 * of the execution loop. */
static const HgOp *chain_exit(const HgTb *tb)
{
    const HgOp *last = &tb->ops[tb->n_insns - 1];
    if (tb->mode & MODE_SINGLE)
        return NULL;
    if (!hg_decode_ends_block(last))
        return last + 1;
    const HgInsnInfo *row = &hg_insn_table[last->insn];
    if (row->map == 1)
        return (row->opc & 0xf0) == 0x80 ? last : NULL; /* Jcc rel16/32 */
    if ((row->opc & 0xf0) == 0x70 || (row->opc >= 0xe0 && row->opc <= 0xe3) || row->opc == 0xe8 ||
        row->opc == 0xe9 || row->opc == 0xeb || row->opc == 0xc2 || row->opc == 0xc3 ||
        (row->opc == 0xff && (row->ext == 2 || row->ext == 4)))
        return last; /* Jcc, LOOPcc, JCXZ, CALL, JMP, RET, CALL/JMP r/m: all near */
    return NULL;
}

HgTb *hg_tb_translate(HgTbCache *c, uint32_t phys, bool cacheable)
{
    HgCpu *cpu = c->cpu;
    const HgSegment *cs = &cpu->seg[S_CS];
    uint32_t eip = cpu->eip;
    HgOp ops[TB_MAX_INSNS + 1];
    int n = 0;
    uint32_t start_phys = phys;
    bool writable;
    const uint8_t *page = cacheable ? hg_bus_page(cpu->bus, phys, &writable) : NULL;
    if (!page)
        cacheable = false;
    uint32_t off = phys & 0xfff;

    if (eip < cs->lo || eip > cs->hi)
        hg_raise_gp(cpu, 0);
    while (n < TB_MAX_INSNS) {
        /* Bytes available in this page and below the CS limit. */
        uint32_t lim = cs->hi - eip + 1;
        int avail = 0x1000 - (int)off;
        if (cs->hi - eip < 15 && (int)lim < avail)
            avail = (int)lim;
        int len = 0;
        if (page && avail > 0)
            len = hg_decode(c->dec, page + off, avail, eip, cpu->mode_key, &ops[n]);
        if (len == 0) {
            if (n > 0)
                break;
            /* First instruction crosses the page or needs bytes near the CS limit:
             * fetch through the MMU so faults come in hardware order. */
            uint8_t buf[15];
            int got = fetch_slow(cpu, eip, buf);
            len = hg_decode(c->dec, buf, got, eip, cpu->mode_key, &ops[n]);
            if (len == 0)
                hg_raise_gp(cpu, 0);
            cacheable = false;
        }
        if (!(cpu->mode_key & MODE_CS32) && eip + len > 0x10000) {
            if (n > 0)
                break;
            /* 16-bit code running past 0xffff: the fetch wraps only in real mode where
             * the limit allows; treat it as a limit violation. */
            hg_raise_gp(cpu, 0);
        }
        bool end = hg_decode_ends_block(&ops[n]);
        n++;
        eip += len;
        off += len;
        if (end || off >= 0x1000 || !cacheable || (cpu->mode_key & MODE_SINGLE))
            break;
    }
    ops[n - 1].flags |= OPF_LAST;
    memset(&ops[n], 0, sizeof(HgOp));
    ops[n].fn = op_exit;
    ops[n].eip = eip;

    HgTb *tb = g_malloc(sizeof(HgTb) + sizeof(HgOp) * (n + 1));
    memset(tb, 0, sizeof(*tb));
    memcpy(tb->ops, ops, sizeof(HgOp) * (n + 1));
    tb->n_insns = (uint16_t)n;
    tb->phys = start_phys;
    tb->phys_end = start_phys + (eip - cpu->eip);
    if (tb->phys_end > ((start_phys | 0xfff) + 1))
        tb->phys_end = (start_phys | 0xfff) + 1;
    tb->eip = cpu->eip;
    tb->cs_base = cs->base;
    tb->lin_page = (cs->base + cpu->eip) >> 12;
    tb->mode = cpu->mode_key;
    tb->map_gen = c->map_gen;
    tb->cached = cacheable;
    if (!cacheable)
        return tb;
    tb->chain_op = chain_exit(tb);

    if (c->n_tbs >= TB_MAX_BLOCKS)
        hg_tb_flush_all(c);
    uint32_t h = hash_key(tb->phys, tb->mode);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    c->n_tbs++;
    uint32_t pg = start_phys >> 12;
    if (pg < c->n_pages) {
        tb->page_next = c->page_tbs[pg];
        c->page_tbs[pg] = tb;
        bool had_code = c->code_lines[pg] != 0;
        uint32_t a = (tb->phys & 0xfff) >> 7, b = ((tb->phys_end - 1) & 0xfff) >> 7;
        c->code_lines[pg] |= (uint32_t)(((2ull << b) - 1) & ~((1ull << a) - 1));
        if (!had_code)
            hg_tlb_protect_code(cpu, start_phys & ~0xfffu);
    }
    return tb;
}

HgTb *hg_tb_find(HgTbCache *c)
{
    HgCpu *cpu = c->cpu;
    uint32_t cs_base = cpu->seg[S_CS].base;
    uint32_t eip = cpu->eip;
    uint32_t mode = cpu->mode_key;
    HgTb **slot = &c->jmp_cache[jmp_hash(eip)];
    HgTb *tb = hg_tb_find_fast(c, cs_base, eip, mode);
    if (tb)
        return tb;

    uint32_t phys = hg_mmu_translate_code(cpu, cs_base + eip);
    tb = *slot;
    if (tb && tb->phys == phys && tb->eip == eip && tb->cs_base == cs_base && tb->mode == mode) {
        tb->map_gen = c->map_gen; /* the walk just confirmed its mapping */
        return tb;
    }
    for (tb = c->hash[hash_key(phys, mode)]; tb; tb = tb->hash_next) {
        if (tb->phys == phys && tb->eip == eip && tb->cs_base == cs_base && tb->mode == mode) {
            tb->map_gen = c->map_gen;
            *slot = tb;
            return tb;
        }
    }
    tb = hg_tb_translate(c, phys, true);
    if (tb->cached)
        *slot = tb;
    return tb;
}

uint64_t hg_cpu_icount_now(const HgCpu *cpu)
{
    /* Blocks are accounted when they end; inside one, the ops before the current one
     * have retired (an I/O instruction reading a timer sees its own position). */
    const HgTb *tb = cpu->cur_tb;
    if (tb && cpu->cur_op >= tb->ops && cpu->cur_op <= tb->ops + tb->n_insns)
        return cpu->icount + (uint64_t)(cpu->cur_op - tb->ops);
    return cpu->icount;
}
