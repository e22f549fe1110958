/* snapshot.c: one consistent copy of the books.
 *
 * Taken with the fold lock held exclusively, so every pool's books and every
 * (stack, pool) record are read at the same instant: in a full-tracking run
 * the per-stack live bytes of a pool add up to the pool's current bytes. The
 * copy lives in mmap'd memory; nothing here allocates through malloc. */
#include "track/snapshot.h"

#include "base/mem.h"
#include "track/leak_list.h"
#include "track/ledger.h"
#include "track/live_table.h"
#include "track/mappings.h"
#include "track/shadow.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* An empty array needs no mapping: a program that allocated nothing (every
 * short-lived process that a shell or make runs) wrote its exit profile
 * after mapping a byte twice. map_bytes 0: nothing to unmap. */
static max_align_t empty_array;

static void *snap_map(tt_snapshot *s, int which, size_t bytes)
{
    s->map_bytes[which] = bytes;
    return bytes == 0 ? (void *)&empty_array : base_map(bytes);
}

static void snap_unmap(void *p, size_t bytes)
{
    if (bytes != 0)
        base_unmap(p, bytes);
}

static int64_t unscale(int64_t count)
{
    int64_t k = tt_cfg.count_scale;
    if (k <= 1)
        return count;
    return count >= 0 ? (count + k / 2) / k : -((-count + k / 2) / k);
}

_Static_assert(TT_FLAG_MAPPING <= UINT8_MAX, "a block's flags fit tt_snap_leak's byte");

static void copy_leak(const tt_entry *e, void *arg)
{
    if (tt_entry_flags(e) & TT_FLAG_COVERED)
        return; /* the same block, booked again by a wrapper pool on top */
    tt_leak_list_add(arg, e->addr, tt_entry_size(e), e->stack, e->pool, (uint8_t)tt_entry_flags(e));
}

/* A block in the shadow map, pool 0: a sampled run's unsampled one (no
 * stack, no weight) or a full run's small one, with its stack. */
static void copy_shadowed(uintptr_t addr, int64_t size, uint32_t stack, void *arg)
{
    tt_leak_list_add(arg, addr, size, stack, 0, 0);
}

/* A mapping of the program's (TALLY_MMAP): a block of the pool "mmap". */
static void copy_mapping(uintptr_t lo, uintptr_t hi, uint32_t stack, int32_t pool, void *arg)
{
    tt_leak_list_add(arg, lo, (int64_t)(hi - lo), stack, pool, TT_FLAG_MAPPING);
}

/* Pools become active (book their first block) on the program's threads,
 * without the fold lock. So the pools are chosen once, into a bitmap, and
 * exactly those are copied: a pool that became active between a count and
 * a copy overran the copy, or pushed out one that was counted. And the
 * records' list is read first: every record in it belongs to a pool that
 * was active before it was made, hence before the pools are chosen, so no
 * record refers to a pool that is not in the snapshot. */
static size_t choose_pools(uint64_t *chosen, int32_t max)
{
    size_t n = 0;
    for (int32_t id = 0; id < max; id++) {
        tt_pool_books *p = tt_pool_books_get(id, false);
        if (p && atomic_load(&p->active)) {
            chosen[id / 64] |= 1ull << (id % 64);
            n++;
        }
    }
    return n;
}

int tt_snapshot_take(tt_snapshot *s, bool blocks)
{
    memset(s, 0, sizeof *s);
    pthread_rwlock_wrlock(&tt_g.fold_lock);

    size_t nrecs = 0;
    /* One head for the count and the copy: sites created meanwhile (not
     * folded yet: folds wait for the lock we hold) go before it. Reading
     * the head twice dropped the oldest sites when new ones came between. */
    tt_site_books *head = tt_site_books_first();
    for (tt_site_books *r = head; r; r = r->next_all)
        nrecs++;
    int32_t max = tt_pool_max_id();
    size_t chosen_bytes = ((size_t)max / 64 + 1) * sizeof(uint64_t);
    /* A few pools (most programs): the bitmap on the stack, not mapped. */
    uint64_t chosen_few[64];
    uint64_t *chosen = chosen_bytes <= sizeof chosen_few ? memset(chosen_few, 0, chosen_bytes)
                                                         : base_map(chosen_bytes);
    size_t npools = chosen ? choose_pools(chosen, max) : 0;
    s->pools = snap_map(s, 0, npools * sizeof *s->pools);
    s->recs = snap_map(s, 1, nrecs * sizeof *s->recs);
    if (!chosen || !s->pools || !s->recs) {
        pthread_rwlock_unlock(&tt_g.fold_lock);
        if (chosen != chosen_few)
            base_unmap(chosen, chosen_bytes);
        tt_snapshot_free(s);
        return ENOMEM;
    }
    for (int32_t id = 0; id < max; id++) {
        if (!(chosen[id / 64] >> (id % 64) & 1))
            continue;
        tt_pool_books *p = tt_pool_books_get(id, false);
        TALLY_ASSERT(p && s->npools < npools);
        tt_snap_pool *q = &s->pools[s->npools++];
        base_spin_lock(&p->lock);
        q->id = id;
        q->wrapper = p->wrapper;
        memcpy(q->name, p->name, sizeof q->name);
        q->current = atomic_load(&p->current);
        q->peak = atomic_load(&p->peak);
        q->total_bytes = p->total;
        q->total_count = p->count;
        q->temp = p->temp;
        q->live_count = p->live;
        memcpy(q->hist, p->hist, sizeof q->hist);
        base_spin_unlock(&p->lock);
    }
    if (chosen != chosen_few)
        base_unmap(chosen, chosen_bytes);

    pthread_mutex_lock(&tt_g.peak_lock);
    uint64_t epoch = atomic_load(&tt_g.epoch);
    s->peak_bytes = atomic_load(&tt_g.peak);
    s->peak_ns = tt_g.peak_ns;
    pthread_mutex_unlock(&tt_g.peak_lock);

    for (tt_site_books *r = head; r && s->nrecs < nrecs; r = r->next_all) {
        tt_snap_rec *q = &s->recs[s->nrecs++];
        base_spin_lock(&r->pool_books->lock);
        uint64_t pool_epoch = atomic_load(&r->pool_books->epoch);
        base_spin_unlock(&r->pool_books->lock);
        q->stack = r->stack;
        q->pool = r->pool;
        q->live_bytes = r->live_bytes;
        q->live_count = unscale(r->live_count);
        q->total_bytes = r->total_bytes;
        q->total_count = unscale(r->total_count);
        q->temp = unscale(r->temp);
        q->temp_bytes = r->temp_bytes;
        q->peak_bytes = r->saved_epoch == epoch ? r->saved_peak : r->live_bytes;
        q->pool_peak_bytes = r->saved_pool_epoch == pool_epoch ? r->saved_pool_peak : r->live_bytes;
    }
    s->threads = (uint32_t)atomic_load(&tt_g.threads);
    s->now_ns = tt_now_ns() - tt_cfg.start_ns;
    pthread_rwlock_unlock(&tt_g.fold_lock);

    /* Blocks come and go while the shards are walked one by one: each shard
     * is consistent, which is all a list of leaks needs. The shadow map's
     * blocks, in address order, come first: most blocks are there, and the
     * leak check sorts only those after them (mark_index.c). */
    tt_leak_list leaks = {.grouped = !blocks};
    if (tt_shadow_on)
        tt_shadow_foreach(copy_shadowed, &leaks);
    tt_leak_list_sorted_so_far(&leaks);
    tt_live_foreach(copy_leak, &leaks);
    tt_mappings_foreach(copy_mapping, &leaks);
    int rc = tt_leak_list_finish(&leaks, s);
    if (rc != 0)
        tt_snapshot_free(s);
    return rc;
}

void tt_snapshot_free(tt_snapshot *s)
{
    snap_unmap(s->pools, s->map_bytes[0]);
    snap_unmap(s->recs, s->map_bytes[1]);
    snap_unmap(s->leaks, s->map_bytes[2]);
    memset(s, 0, sizeof *s);
}

const tt_snap_pool *tt_snapshot_pool(const tt_snapshot *s, int32_t id)
{
    if (s->npools > 0 && s->pools[0].id == id)
        return &s->pools[0];       /* the shim's pool 0, which holds most leaks: no search */
    size_t lo = 0, hi = s->npools; /* pools are in id order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->pools[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->npools && s->pools[lo].id == id ? &s->pools[lo] : NULL;
}
