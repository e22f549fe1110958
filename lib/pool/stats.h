/* stats.h: a pool's shared books, in requested bytes.
 *
 * Growth is booked in two steps, reserve then commit, so that a capped pool
 * can check its limit and book the bytes in one atomic step, before the
 * memory is allocated, and undo the reservation if the backend fails.
 * Threads together can then never pass the limit. A capped pool books here
 * on every call, so its books are always exact.
 *
 * Every other pool books into its thread's cache (thread_books.h), folded
 * in here in batches. What a read returns:
 * - One thread: exact, at every read it makes (a read folds the reader's
 *   own share first), peak included.
 * - Several threads: current and peak are exact to within
 *   threads x POOL_BOOKS_BATCH (64 KiB) bytes, since each other thread holds
 *   back less than that; total, count and live lag by at most the last
 *   POOL_BOOKS_OPS calls of each other thread.
 * - After the other threads have exited (a thread's exit folds everything it
 *   held back): current, total, count and live are exact again; a peak made
 *   while several threads ran stays within the bound above. */
#ifndef TALLY_POOL_STATS_H
#define TALLY_POOL_STATS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct pool_stats {
    /* current and live are written on every call; keep them off the line
     * that the read-mostly pool fields share. */
    alignas(64) _Atomic int64_t current;
    _Atomic int64_t live; /* blocks, not bytes */
    _Atomic int64_t peak;
    _Atomic int64_t total;
    _Atomic int64_t count;
} pool_stats;

/* Books n more current bytes unless that would pass limit. On success *now is
 * the new current value, for commit. */
static inline bool pool_stats_reserve(pool_stats *s, int64_t n, int64_t limit, int64_t *now)
{
    if (limit == INT64_MAX) {
        *now = atomic_fetch_add_explicit(&s->current, n, memory_order_relaxed) + n;
        return true;
    }
    int64_t cur = atomic_load_explicit(&s->current, memory_order_relaxed);
    do {
        if (n > limit - cur)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&s->current, &cur, cur + n,
                                                    memory_order_relaxed, memory_order_relaxed));
    *now = cur + n;
    return true;
}

static inline void pool_stats_unreserve(pool_stats *s, int64_t n)
{
    atomic_fetch_sub_explicit(&s->current, n, memory_order_relaxed);
}

/* The reservation became memory: n more bytes allocated, current reached now. */
static inline void pool_stats_commit(pool_stats *s, int64_t n, int64_t now, bool new_block)
{
    int64_t peak = atomic_load_explicit(&s->peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &s->peak, &peak, now, memory_order_relaxed, memory_order_relaxed))
        ;
    atomic_fetch_add_explicit(&s->total, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    if (new_block)
        atomic_fetch_add_explicit(&s->live, 1, memory_order_relaxed);
}

static inline void pool_stats_release(pool_stats *s, int64_t n, bool whole_block)
{
    atomic_fetch_sub_explicit(&s->current, n, memory_order_relaxed);
    if (whole_block)
        atomic_fetch_sub_explicit(&s->live, 1, memory_order_relaxed);
}

#endif
