/* stack_table.h: every unique stack, interned once and named by an id.
 * Lookups take no lock; inserts take one. */
#ifndef TALLY_TRACK_STACK_TABLE_H
#define TALLY_TRACK_STACK_TABLE_H

#include "track/config.h"

typedef struct tt_stack {
    uint64_t hash;
    uint32_t id;
    uint32_t nframes;
    _Atomic int32_t pool_slot;
    uintptr_t frames[];
} tt_stack;

tally_stack_id tt_stack_intern(const uintptr_t *frames, int n);

/* A thread's direct-mapped cache in front of the table: the shared index
 * and the stacks' directory are lines other threads write, a thread's
 * recent stacks are its own. Zeroed memory is an empty cache. */
#define TT_INTERN_SLOTS 1024
typedef struct {
    struct {
        uint64_t hash;
        const tt_stack *stack;
    } e[TT_INTERN_SLOTS];
} tt_intern_cache;
/* tt_stack_intern through c (NULL: straight to the table). */
tally_stack_id tt_stack_intern_cached(tt_intern_cache *c, const uintptr_t *frames, int n);
const tt_stack *tt_stack_get(tally_stack_id id);
uint32_t tt_stack_max_id(void);
void tt_stack_lock(void);
void tt_stack_unlock(void);

#endif
