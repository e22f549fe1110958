/* leak_groups.h: live blocks into the LEAKS groups of the format.
 *
 * The format stores leaks per (stack, pool, kind), with bytes and a block
 * count, not per block: a program with 60k live blocks from a few hundred
 * call sites writes a few hundred groups. A writer that holds a list of
 * blocks adds each one here, writes the groups, and when the blocks'
 * addresses are asked for, walks its list again to write LEAK_BLOCKS, each
 * block naming its group:
 *
 *     prof_leak_groups g = {0};
 *     for each block: prof_leak_group_add(&g, stack, pool, kind, size);
 *     prof_write_leak_groups(&w, &g);
 *     prof_section_begin(&w, PROF_SEC_LEAK_BLOCKS);       (only if asked)
 *     for each block: prof_write_leak_block(&w, &(prof_leak_block){
 *         address, size, prof_leak_group_find(&g, stack, pool, kind)});
 *     prof_section_end(&w);
 *     prof_leak_groups_free(&g);
 *
 * Memory is mmap'd (never malloc: under the preload shim malloc is the
 * tracked path) and grows with the groups, not with the blocks. */
#ifndef TALLY_PROFILE_LEAK_GROUPS_H
#define TALLY_PROFILE_LEAK_GROUPS_H

#include "base/mem.h"
#include "profile/write.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    base_buf groups; /* prof_leak[], in the order first met: the file's order */
    uint32_t *slots; /* an open-addressing index: group index + 1, 0 when empty */
    size_t cap, n;
    /* The last block's group + 1 (0: none yet). Blocks come in address
     * order, and neighbours mostly share a group: a heap's run of blocks
     * from one call site, or a sampled run's unsampled blocks, all in one. */
    uint32_t last;
    bool failed; /* out of memory: a group was lost, nothing is complete */
} prof_leak_groups;

#define PROF_NO_GROUP UINT32_MAX

/* Counts one block in its group, made when new. Its index, or PROF_NO_GROUP
 * when out of memory (then g->failed). */
uint32_t prof_leak_group_add(prof_leak_groups *g, uint32_t stack_id, int32_t pool_id, uint32_t kind,
                             int64_t size);
/* Counts count blocks of bytes in all, already summed by the caller. */
uint32_t prof_leak_group_add_n(prof_leak_groups *g, uint32_t stack_id, int32_t pool_id,
                               uint32_t kind, int64_t bytes, int64_t count);
/* The index of an existing group, or PROF_NO_GROUP. */
uint32_t prof_leak_group_find(const prof_leak_groups *g, uint32_t stack_id, int32_t pool_id,
                              uint32_t kind);
/* The whole LEAKS section. */
void prof_write_leak_groups(prof_writer *w, const prof_leak_groups *g);
void prof_leak_groups_free(prof_leak_groups *g);

#endif
