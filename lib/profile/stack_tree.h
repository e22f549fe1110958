/* stack_tree.h: stacks into the tree the format stores (docs/FORMAT.md,
 * FRAMES, NODES and STACKS).
 *
 * Stacks share their callers: a thousand stacks that differ only in their
 * innermost frame share every frame above it. So the format stores each
 * distinct return address once (FRAMES), each distinct chain of callers
 * once, as a tree of (parent, frame) nodes rooted at the outermost frame
 * (NODES), and a stack as the node of its innermost frame (STACKS). A writer
 * adds its stacks here, in ascending id order, then writes the three
 * sections:
 *
 *     prof_stack_tree t = {0};
 *     for each stack: prof_stack_tree_add(&t, id, frames, nframes);
 *     prof_write_stack_tree(&w, &t);
 *     prof_stack_tree_free(&t);
 *
 * Memory is mmap'd (never malloc: the tracking core writes profiles from
 * inside the process it tracks) and grows with the nodes, which are at most
 * the frames and usually far fewer. A stack that shares its outer frames
 * with the stack added before it reuses that one's nodes without a lookup. */
#ifndef TALLY_PROFILE_STACK_TREE_H
#define TALLY_PROFILE_STACK_TREE_H

#include "base/mem.h"
#include "profile/write.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    base_buf nodes;       /* prof_tree_node[]: node k (from 1) at index k - 1 */
    base_buf addrs;       /* uint64_t[]: the FRAMES, in the order first met */
    base_buf stacks;      /* {uint32_t id, node}[], in the order added */
    uint32_t *node_slots; /* open addressing over (parent, address): node number, 0 empty */
    size_t node_cap;      /* slots; kept at most half full */
    uint32_t *addr_slots; /* open addressing over the address: frame index + 1, 0 empty */
    size_t addr_cap;      /* slots; kept at most half full */
    uint32_t *path;       /* the last stack's nodes, outermost first (PROF_MAX_FRAMES) */
    uint32_t path_len;    /* how many of them */
    uint32_t nnodes, naddrs, nstacks;
    uint32_t last_id; /* ids must ascend */
    bool failed;      /* out of memory: nothing is complete */
} prof_stack_tree;

/* Adds stack id (nonzero, above every id added before) with its frames,
 * innermost first; at most PROF_MAX_FRAMES of them, the innermost kept. */
void prof_stack_tree_add(prof_stack_tree *t, uint32_t id, const uintptr_t *frames,
                         uint32_t nframes);
/* The FRAMES, NODES and STACKS sections. After an out-of-memory the writer's
 * buffer is marked failed, so prof_write_end reports ENOMEM. */
void prof_write_stack_tree(prof_writer *w, const prof_stack_tree *t);
void prof_stack_tree_free(prof_stack_tree *t);

#endif
