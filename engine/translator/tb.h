/* Translation blocks: guest code decoded once into arrays of ops, keyed by physical
 * address and the CPU mode bits that change decoding, with invalidation when the
 * guest (or a device) writes the bytes they came from. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

typedef struct HgTb HgTb;

HgTbCache *hg_tb_cache_new(HgCpu *cpu);
void hg_tb_cache_free(HgTbCache *c);
/* Drops every block (reset, A20 or paging changes that alias code). */
void hg_tb_flush_all(HgTbCache *c);
/* Invalidates the blocks overlapping [phys, phys + size). */
void hg_tb_invalidate_phys(HgTbCache *c, uint32_t phys, int size);
/* True when a block was translated from the physical page holding phys. */
bool hg_tb_page_has_code(HgTbCache *c, uint32_t phys);
/* Forgets the linear-EIP lookup cache and every block link. */
void hg_tb_jmp_cache_clear(HgTbCache *c);
/* The linear mapping changed (TLB flush, INVLPG): blocks are confirmed again against the
 * TLB before the jump cache or a link to another page leads to them. */
void hg_tb_map_changed(HgTbCache *c);
