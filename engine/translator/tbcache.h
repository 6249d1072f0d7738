/* Internals of the translation-block cache, shared by tb.c and the execution loop. */
#pragma once

#include "ops.h"
#include "tb.h"

typedef struct HgDecoder HgDecoder;

enum {
    TB_MAX_INSNS = 64,
    TB_HASH_SIZE = 1 << 16,
    JMP_CACHE_SIZE = 1 << 12,
    TB_MAX_BLOCKS = 1 << 17,
};

struct HgTb {
    uint32_t phys, phys_end; /* physical bytes the block was decoded from */
    uint32_t eip, cs_base, mode;
    uint16_t n_insns;
    bool cached;  /* in the hash table (else built for one execution) */
    bool invalid; /* unlinked; freed at the next collection */
    HgTb *hash_next, *page_next, *all_next;
    /* Direct chaining. When the block leaves through chain_op (a near branch as its
     * last instruction, or the exit op of a block cut at its size or page limit), CS
     * and the mode are those it was translated for, so the next block can be taken
     * from link[] (the successors seen so far) without a lookup. Links are valid while
     * link_gen equals the cache's: any invalidation or flush bumps that, which drops
     * every link at once. A link to a block on the same linear page (lin_page) survives
     * changes of the linear mapping (TLB flushes, INVLPG, CR3 loads): the block running
     * was reached through the current mapping, and that page maps to one physical page,
     * so the successor is still the code at its address (QEMU's rule for direct jumps).
     * A link to another page is good once its target's mapping is confirmed (map_gen). */
    const HgOp *chain_op;
    HgTb *link[2];
    uint64_t link_gen;
    /* The linear-mapping generation (the cache's map_gen) in which cs_base + eip was
     * last seen to map to phys. Changes of the mapping only bump the cache's map_gen;
     * a block is confirmed again against the TLB when it is next reached, so kernel
     * code on global pages stays in the jump cache across CR3 loads. */
    uint64_t map_gen;
    uint32_t lin_page; /* (cs_base + eip) >> 12 */
    HgOp ops[]; /* n_insns ops and an exit op */
};

struct HgTbCache {
    HgCpu *cpu;
    HgDecoder *dec;
    HgTb *hash[TB_HASH_SIZE];
    HgTb *jmp_cache[JMP_CACHE_SIZE];
    HgTb **page_tbs;      /* per RAM page: blocks starting there */
    uint32_t *code_lines; /* per RAM page: 128-byte lines holding translated code */
    uint32_t n_pages;
    uint32_t n_tbs;
    uint64_t link_gen;    /* generation of valid block links (HgTb.link_gen) */
    uint64_t map_gen;     /* generation of the linear mapping (HgTb.map_gen) */
    int64_t chain_floor;  /* budget below which branch handlers stop entering blocks */
    HgTb *graveyard;      /* invalidated blocks not yet freed */
};

HgTb *hg_tb_find(HgTbCache *c);
/* Confirms, without a page walk, that tb's linear page still maps to its physical page
 * under the current mapping (the TLB holds that translation); records it in map_gen. */
bool hg_tb_revalidate(HgTbCache *c, HgTb *tb);

/* Whether tb's link to next still leads to the code at next's address (link_gen checked
 * by the caller). */
static inline bool hg_tb_link_ok(HgTbCache *c, const HgTb *tb, HgTb *next)
{
    return next->lin_page == tb->lin_page || next->map_gen == c->map_gen ||
           hg_tb_revalidate(c, next);
}

static inline uint32_t hg_tb_jmp_hash(uint32_t eip)
{
    return (eip ^ (eip >> 12)) & (JMP_CACHE_SIZE - 1);
}

/* The jump-cache probe of hg_tb_find, inlined into the execution loop: the block for
 * CS:EIP in the current mode, or NULL when it must be looked up the slow way. */
static inline HgTb *hg_tb_find_fast(HgTbCache *c, uint32_t cs_base, uint32_t eip, uint32_t mode)
{
    HgTb *tb = c->jmp_cache[hg_tb_jmp_hash(eip)];
    if (tb && tb->eip == eip && tb->cs_base == cs_base && tb->mode == mode &&
        (tb->map_gen == c->map_gen || hg_tb_revalidate(c, tb)))
        return tb;
    return NULL;
}
/* The block's chaining exit, called by a near branch handler (control.c) as its last
 * action, with EIP set. When the branch is its block's chain_op, nothing is pending and
 * the block links to the one at EIP, the next block starts right here (a tail call);
 * otherwise NULL, leaving the block as hg_jump does. Inlined into each branch handler,
 * so each kind of branch leaves its block through its own indirect jump, which the
 * host's predictor learns separately. */
static inline const HgOp *hg_tb_branch_exit(HgCpu *cpu, const HgOp *op)
{
    /* The checks of run_blocks' fast path, done by the branch itself: the next block
     * starts without returning to the loop, so the branch's indirect jump predicts
     * its own successors. Anything unusual returns NULL and run_blocks takes over,
     * accounting for cur_tb (the block that was running). */
    HgTb *tb = cpu->cur_tb;
    HgTbCache *c = cpu->tbs;
    int64_t budget = cpu->budget - tb->n_insns;
    if (op != tb->chain_op || tb->link_gen != c->link_gen || cpu->async_pending ||
        budget <= c->chain_floor)
        return NULL;
    uint32_t eip = cpu->eip;
    HgTb *next = tb->link[0];
    if (!next || next->eip != eip) {
        next = tb->link[1];
        if (!next || next->eip != eip)
            return NULL;
    }
    if (!hg_tb_link_ok(c, tb, next))
        return NULL;
    cpu->budget = budget;
    cpu->icount += tb->n_insns;
    cpu->cur_tb = next;
    cpu->cur_op = next->ops;
    return next->ops[0].fn(cpu, next->ops);
}

HgTb *hg_tb_translate(HgTbCache *c, uint32_t phys, bool cacheable);
/* Frees invalidated blocks; only when no block is executing. */
void hg_tb_collect(HgTbCache *c);
void hg_tb_stop_current(HgCpu *cpu);
