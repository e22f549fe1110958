/* thread_books.h: each thread's unfolded share of the pools' books.
 *
 * Shared atomics touched on every call bounce their cache line between
 * cores: with 2 threads on one pool, 0.36x the throughput of 1. So a thread
 * books into a small direct-mapped cache of its own, with plain adds, and
 * folds a pool's entry into the shared books (stats.h) when it holds back
 * more than POOL_BOOKS_BATCH bytes of current, after POOL_BOOKS_OPS calls,
 * when the slot is needed for another pool, when the thread reads that pool,
 * when the pool is destroyed, at thread exit and in a forked child.
 *
 * Each entry keeps its high-water mark since the last fold, so a batch's
 * internal peak is not lost: a fold raises the shared peak to the shared
 * current before the fold plus that mark. One thread's books are therefore
 * exact at every read it makes; the bound with several threads is in stats.h.
 *
 * Why this and not shards summed on read: a read (and the peak check) would
 * have to visit every thread's shard, and the peak would need a check against
 * the sum on the hot path. Folding keeps the hot path to a TLS load, a
 * compare and a few plain adds on a line no other thread writes.
 *
 * Capped pools do not use this: their check and booking must stay one atomic
 * step on the shared books. */
#ifndef TALLY_POOL_THREAD_BOOKS_H
#define TALLY_POOL_THREAD_BOOKS_H

#include "base/tcache.h"
#include "pool/stats.h"

#include <stdalign.h>
#include <stddef.h>

#define POOL_BOOKS_BATCH (64 * 1024)
#define POOL_BOOKS_OPS 4096
#define POOL_BOOKS_SLOTS 16 /* a power of two; slot = pool id mod this */
/* Calls are counted in the low bits of the byte sums (below): a fold comes
 * at POOL_BOOKS_OPS calls, well below 1 << SHIFT, and the bytes of a batch
 * (at most a few times BATCH, plus one block, which no machine makes
 * larger than 2^48) fit above. */
#define POOL_BOOKS_SHIFT 15
#define POOL_BOOKS_CALLS(x) ((int64_t)((x) & ((1u << POOL_BOOKS_SHIFT) - 1)))
#define POOL_BOOKS_BYTES(x) ((int64_t)((x) >> POOL_BOOKS_SHIFT))

typedef struct pool_books_slot {
    _Atomic(pool_stats *) stats; /* NULL: empty; written under the cache's lock */
    /* Since the last fold: up holds the bytes booked (total) and the calls
     * that booked them (count); down the bytes given back and the blocks
     * freed. current changed by the difference of the bytes. Packed so that
     * an allocation writes one word and a free another: measured, each extra
     * counter cost more than the shared atomics did on one thread. */
    uint64_t up, down;
    int64_t hwm;     /* highest current change since the last fold (>= 0) */
    int64_t growths; /* calls in up that grew a block: no new block */
    int64_t pad_[3];
} pool_books_slot;
/* One cache line each: a booking touches one line. */
_Static_assert(sizeof(pool_books_slot) == 64, "a slot is one cache line");

/* A thread's cache (base/tcache.h keeps the registry, the exit fold and
 * fork). Its lock is taken by the owner only to fold or refill a slot, and
 * by other threads to fold this cache's entry for a pool being destroyed. */
typedef struct pool_thread_books {
    alignas(64) base_tcache_head head;
    pool_books_slot slot[POOL_BOOKS_SLOTS];
} pool_thread_books;

/* This thread's cache; NULL before its first booking and after its exit. */
extern __thread pool_thread_books *pool_books_tls __attribute__((tls_model("initial-exec")));

void pool_books_fold_slot(pool_thread_books *t, pool_books_slot *s);
/* A miss: claim the slot (folding its last pool), or book straight into the
 * shared books once this thread's cache is gone. n >= 0. */
void pool_books_slow(pool_stats *stats, int32_t id, int64_t n, bool block, bool alloc);

/* Fold this thread's entry for stats, so that the shared books include all
 * of this thread's calls: before every read. */
void pool_books_flush(pool_stats *stats, int32_t id);
/* Fold every thread's entry for stats and empty it: the pool is going away,
 * and no cache may mention it afterwards. */
void pool_books_forget(pool_stats *stats, int32_t id);

/* This thread's slot for stats, or NULL (then book through the slow path).
 * Look it up after the call that moved the memory: a wrapper's call books
 * into its parent, which may take this thread's slot for another pool. */
static inline __attribute__((always_inline)) pool_books_slot *pool_books_lookup(pool_stats *stats,
                                                                                int32_t id)
{
    pool_thread_books *t = pool_books_tls;
    if (__builtin_expect(t == NULL, 0))
        return NULL;
    pool_books_slot *s = &t->slot[(uint32_t)id & (POOL_BOOKS_SLOTS - 1)];
    if (__builtin_expect(atomic_load_explicit(&s->stats, memory_order_relaxed) != stats, 0))
        return NULL;
    return s;
}

static inline __attribute__((always_inline)) void pool_books_fold_at(pool_books_slot *s, int32_t id)
{
    pool_books_slot *first = s - ((uint32_t)id & (POOL_BOOKS_SLOTS - 1));
    pool_books_fold_slot((pool_thread_books *)((char *)first - offsetof(pool_thread_books, slot)),
                         s);
}

/* |cur| > BATCH, in one unsigned compare. */
static inline __attribute__((always_inline)) bool pool_books_over(int64_t cur)
{
    return (uint64_t)(cur + POOL_BOOKS_BATCH) > 2 * POOL_BOOKS_BATCH;
}

/* n more bytes allocated (a new block, or growth of one), like
 * pool_stats_commit; s from pool_books_lookup. Folds when this thread
 * holds back more than BATCH bytes, or after OPS allocations so that totals
 * and counts stay fresh. */
static inline __attribute__((always_inline)) void
pool_books_alloc(pool_books_slot *s, pool_stats *stats, int32_t id, int64_t n, bool new_block)
{
    if (__builtin_expect(s == NULL, 0)) {
        pool_books_slow(stats, id, n, new_block, true);
        return;
    }
    uint64_t up = s->up + ((uint64_t)n << POOL_BOOKS_SHIFT) + 1;
    s->up = up;
    int64_t cur = POOL_BOOKS_BYTES(up) - POOL_BOOKS_BYTES(s->down);
    if (cur > s->hwm)
        s->hwm = cur;
    if (!new_block)
        s->growths++;
    if (__builtin_expect(pool_books_over(cur) || POOL_BOOKS_CALLS(up) >= POOL_BOOKS_OPS, 0))
        pool_books_fold_at(s, id);
}

/* n bytes given back (a whole block, or a shrink), like pool_stats_release. */
static inline __attribute__((always_inline)) void
pool_books_release(pool_books_slot *s, pool_stats *stats, int32_t id, int64_t n, bool whole_block)
{
    if (__builtin_expect(s == NULL, 0)) {
        pool_books_slow(stats, id, n, whole_block, false);
        return;
    }
    uint64_t down = s->down + ((uint64_t)n << POOL_BOOKS_SHIFT) + whole_block;
    s->down = down;
    int64_t cur = POOL_BOOKS_BYTES(s->up) - POOL_BOOKS_BYTES(down);
    if (__builtin_expect(pool_books_over(cur) || POOL_BOOKS_CALLS(down) >= POOL_BOOKS_OPS, 0))
        pool_books_fold_at(s, id);
}

#endif
