/* leak_list.c: see leak_list.h. */
#include <config.h>

#include "track/leak_list.h"

#include "base/assert.h"
#include "base/hash.h"
#include "profile/format.h"

#include <errno.h>
#include <string.h>

#define FIRST_SLOTS 256u

static tt_snap_leak *entry_at(const tt_leak_list *l, uint32_t i)
{
    return (tt_snap_leak *)l->entries.data + i;
}

/* The slot of (stack, pool)'s newest entry, or the empty one where it
 * would go. */
static size_t slot_of(const tt_leak_list *l, uint32_t stack, int32_t pool)
{
    size_t mask = l->cap - 1, j = base_hash_pair(stack, (uint32_t)pool) & mask;
    for (; l->slots[j]; j = (j + 1) & mask) {
        const tt_snap_leak *e = entry_at(l, l->slots[j] - 1);
        if (e->stack == stack && e->pool == pool)
            break;
    }
    return j;
}

/* Doubles the index. The entries go back in order, so where a group was
 * split, its slot ends on its newest entry. */
static bool grow(tt_leak_list *l)
{
    size_t cap = l->cap ? 2 * l->cap : FIRST_SLOTS;
    uint32_t *slots = base_map(cap * sizeof *slots);
    if (!slots)
        return false;
    base_unmap(l->slots, l->cap * sizeof *l->slots);
    l->slots = slots;
    l->cap = cap;
    for (uint32_t i = 0; i < l->n; i++) {
        const tt_snap_leak *e = entry_at(l, i);
        l->slots[slot_of(l, e->stack, e->pool)] = i + 1;
    }
    return true;
}

static void put(tt_leak_list *l, const tt_snap_leak *e)
{
    base_buf_put(&l->entries, e, sizeof *e);
    l->failed |= l->entries.failed;
}

/* The group a block of (stack, pool) joins, made when new or full. */
static tt_snap_leak *group_for(tt_leak_list *l, uint32_t stack, int32_t pool)
{
    if (l->last) {
        tt_snap_leak *e = entry_at(l, l->last - 1);
        if (e->stack == stack && e->pool == pool && e->count < UINT32_MAX)
            return e;
    }
    if ((l->n + 1) * 2 > l->cap && (l->n + 1 >= UINT32_MAX || !grow(l))) {
        l->failed = true;
        return NULL;
    }
    size_t j = slot_of(l, stack, pool);
    if (!l->slots[j] || entry_at(l, l->slots[j] - 1)->count == UINT32_MAX) {
        put(l, &(tt_snap_leak){.stack = stack, .pool = pool, .kind = PROF_LEAK_LIVE});
        if (l->failed)
            return NULL;
        l->slots[j] = (uint32_t)++l->n;
    }
    l->last = l->slots[j];
    return entry_at(l, l->last - 1);
}

void tt_leak_list_add(tt_leak_list *l, uint64_t address, int64_t size, uint32_t stack, int32_t pool,
                      uint8_t flags)
{
    if (l->failed)
        return;
    if (!l->grouped) {
        put(l, &(tt_snap_leak){address, size, stack, pool, 1, flags, PROF_LEAK_LIVE});
        return;
    }
    tt_snap_leak *g = group_for(l, stack, pool);
    if (g) {
        g->size += size;
        g->count++;
    }
}

int tt_leak_list_finish(tt_leak_list *l, tt_snapshot *s)
{
    base_unmap(l->slots, l->cap * sizeof *l->slots);
    l->slots = NULL;
    if (l->failed) {
        base_buf_free(&l->entries);
        return ENOMEM;
    }
    TALLY_ASSERT(l->entries.len % sizeof(tt_snap_leak) == 0);
    s->leaks = (tt_snap_leak *)l->entries.data;
    s->nleaks = l->entries.len / sizeof(tt_snap_leak);
    s->map_bytes[2] = l->entries.cap;
    s->grouped = l->grouped;
    return 0;
}
