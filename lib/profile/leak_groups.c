/* leak_groups.c: blocks into (stack, pool, kind) groups (see leak_groups.h).
 *
 * A hash index over a dense array rather than a sort of the blocks: one pass,
 * no copy of the block list (10M blocks would need 400 MB more to sort), and
 * the index holds 4 bytes per slot, so even a group per block costs little. */
#include <config.h>

#include "profile/leak_groups.h"

#include "base/assert.h"
#include "base/hash.h"

#include <string.h>

#define FIRST_SLOTS 1024u

static prof_leak *group_at(const prof_leak_groups *g, size_t i)
{
    return (prof_leak *)g->groups.data + i;
}

static bool same(const prof_leak *l, uint32_t stack, int32_t pool, uint32_t kind)
{
    return l->stack_id == stack && l->pool_id == pool && l->kind == kind;
}

/* The slot holding the group, or the empty slot where it would go. */
static size_t slot_of(const prof_leak_groups *g, uint32_t stack, int32_t pool, uint32_t kind)
{
    /* The kind shares the second key with the pool, in its low byte. */
    TALLY_ASSERT(kind <= PROF_LEAK_REACHABLE);
    size_t mask = g->cap - 1,
           j = base_hash_pair(stack, (uint64_t)(uint32_t)pool << 8 | kind) & mask;
    while (g->slots[j] && !same(group_at(g, g->slots[j] - 1), stack, pool, kind))
        j = (j + 1) & mask;
    return j;
}

/* Doubles the index (kept at most half full) and puts every group back. */
static bool grow(prof_leak_groups *g)
{
    size_t cap = g->cap ? 2 * g->cap : FIRST_SLOTS;
    uint32_t *slots = base_map(cap * sizeof *slots);
    if (!slots)
        return false;
    base_unmap(g->slots, g->cap * sizeof *g->slots);
    g->slots = slots;
    g->cap = cap;
    for (size_t i = 0; i < g->n; i++) {
        const prof_leak *l = group_at(g, i);
        g->slots[slot_of(g, l->stack_id, l->pool_id, l->kind)] = (uint32_t)i + 1;
    }
    return true;
}

uint32_t prof_leak_group_add(prof_leak_groups *g, uint32_t stack_id, int32_t pool_id, uint32_t kind,
                             int64_t size)
{
    return prof_leak_group_add_n(g, stack_id, pool_id, kind, size, 1);
}

uint32_t prof_leak_group_add_n(prof_leak_groups *g, uint32_t stack_id, int32_t pool_id,
                               uint32_t kind, int64_t bytes, int64_t count)
{
    if (g->failed)
        return PROF_NO_GROUP;
    if (g->last && same(group_at(g, g->last - 1), stack_id, pool_id, kind)) {
        prof_leak *l = group_at(g, g->last - 1);
        l->bytes += bytes;
        l->count += count;
        return g->last - 1;
    }
    if ((g->n + 1) * 2 > g->cap && (g->n + 1 >= PROF_NO_GROUP || !grow(g))) {
        g->failed = true;
        return PROF_NO_GROUP;
    }
    size_t j = slot_of(g, stack_id, pool_id, kind);
    if (!g->slots[j]) {
        prof_leak l = {stack_id, pool_id, kind, 0, 0};
        base_buf_put(&g->groups, &l, sizeof l);
        if (g->groups.failed) {
            g->failed = true;
            return PROF_NO_GROUP;
        }
        g->slots[j] = (uint32_t)++g->n;
    }
    prof_leak *l = group_at(g, g->slots[j] - 1);
    l->bytes += bytes;
    l->count += count;
    g->last = g->slots[j];
    return g->slots[j] - 1;
}

uint32_t prof_leak_group_find(const prof_leak_groups *g, uint32_t stack_id, int32_t pool_id,
                              uint32_t kind)
{
    if (g->cap == 0)
        return PROF_NO_GROUP;
    size_t j = slot_of(g, stack_id, pool_id, kind);
    return g->slots[j] ? g->slots[j] - 1 : PROF_NO_GROUP;
}

void prof_write_leak_groups(prof_writer *w, const prof_leak_groups *g)
{
    prof_section_begin(w, PROF_SEC_LEAKS);
    for (size_t i = 0; i < g->n; i++)
        prof_write_leak(w, group_at(g, i));
    prof_section_end(w);
}

void prof_leak_groups_free(prof_leak_groups *g)
{
    base_unmap(g->slots, g->cap * sizeof *g->slots);
    base_buf_free(&g->groups);
    memset(g, 0, sizeof *g);
}
