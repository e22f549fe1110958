/* ledger.h: the tracking core's books, per pool and per site.
 *
 * A site is a (stack, pool) pair: where a block was allocated and which pool
 * it was charged to. Each pool and each site has books: live bytes and
 * blocks, totals, temporaries and, for the peak, its bytes at the moment of
 * the last global (and pool) peak.
 *
 * Books are kept per thread and folded: each thread notes its changes in
 * a tt_ledger_cache (plain adds on lines no other thread writes) and folds
 * them into the shared books when it holds back TT_BATCH_BYTES of current
 * bytes or has booked TT_BATCH_OPS times, when a cache slot is needed, at a
 * new peak, at a dump and at thread exit. One thread's books are exact; with
 * several, the global current and peak are exact to within threads x
 * TT_BATCH_BYTES.
 *
 * Peaks are settled lazily. A booking that passes the global (or a pool's)
 * peak only marks it pending, and the thread notes the highest point its
 * own deltas reach (max_net, max_current). At its next fold it raises the
 * peak to the folded current less what it has come down since that point.
 * The fold must then know each site's bytes as they stood at that point.
 * So a site delta that changes while a peak is pending first notes its
 * bytes, once per highest point (high_gen: a new highest point makes every
 * earlier note stale, since the books then stand at it). The fold books
 * the deltas whole and, when it makes a new peak, sets each noted site's
 * bytes at the peak to its folded bytes less what it changed since the
 * note. A growing program that frees between its allocations therefore
 * folds per batch, not per free: folding before every such free was 12%
 * of a live-heavy run. A booking with no stack (a sampled run's
 * unsampled blocks) changes no site. One thread's peaks stay exact. With
 * several, a pending thread folds once it has come down a batch from its
 * highest point (tt_must_fold), so what other threads fold meanwhile is
 * taken in by at most TT_BATCH_BYTES: the bound above. A peak takes its
 * time from the coarse clock read when it became pending: at most a
 * batch before.
 *
 * Peak attribution: a new global peak bumps tt_g.epoch after the thread that
 * made it folded everything. A site that changes for the first time after a
 * bump saves its value from before the change. At the end, a site's bytes at
 * the peak are its saved value if it changed since the last bump, else its
 * current value. The same runs per pool with the pool's own epoch. O(1) per
 * call, and no event log.
 *
 * The ledger also keeps the live table (live_table.h) in step: a block that
 * is booked with its address enters the table here, and leaves it here. */
#ifndef TALLY_TRACK_LEDGER_H
#define TALLY_TRACK_LEDGER_H

#include "base/spin.h"
#include "track/config.h"
#include "track/live_table.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

/* A thread folds when it holds back this many current bytes (the exactness
 * bound per thread), or after this many calls. */
#define TT_BATCH_BYTES (64 * 1024)
#define TT_BATCH_OPS 4096
/* Pool ids the core can book: ids from lib/pool and the shim's 0. */
#define TT_MAX_POOLS (1 << 18)

/* ---- the shared books ----------------------------------------------------- */
typedef struct tt_pool_books {
    base_spin lock;
    _Atomic int active; /* booked something */
    bool wrapper;
    int series_col; /* 1-based column in the time series; 0: none */
    char name[64];
    _Atomic int64_t current;
    _Atomic int64_t peak;
    int64_t peak_ns;
    _Atomic uint64_t epoch; /* bumped at each new peak of this pool */
    int64_t live, total, count, temp;
    int64_t hist[TT_NBUCKETS];
} tt_pool_books;

typedef struct tt_site_books {
    struct tt_site_books *next, *next_all;
    tt_pool_books *pool_books;
    uint32_t stack;
    int32_t pool;
    base_spin lock;
    /* counts are in units of 1/tt_cfg.count_scale */
    int64_t live_bytes, live_count, total_bytes, total_count, temp, temp_bytes;
    int64_t saved_peak, saved_pool_peak; /* live_bytes before the first change after a bump */
    uint64_t saved_epoch, saved_pool_epoch;
} tt_site_books;

typedef struct {
    alignas(64) _Atomic int64_t current; /* live bytes in non-wrapper pools, folded */
    _Atomic int64_t peak;
    int64_t peak_ns;
    _Atomic uint64_t epoch;
    pthread_mutex_t peak_lock;
    /* Folds take it shared; a snapshot takes it exclusively, so it sees the
     * site and pool books at the same instant. */
    alignas(64) pthread_rwlock_t fold_lock;
    _Atomic int threads; /* threads that booked */
} tt_global;
extern tt_global tt_g;

/* ledger_records.c: tt_g, the pool directory and the site hash. Lookups
 * take no lock; a new record takes one. */
tt_pool_books *tt_pool_books_get(int32_t id, bool create);
int32_t tt_pool_max_id(void); /* one past the highest id seen */
tt_site_books *tt_site_books_get(uint32_t stack, int32_t pool, tt_pool_books *pool_books);
tt_site_books *tt_site_books_first(void); /* the newest site; the rest through next_all */
/* fork: every ledger lock (fold, peak, sites, pools), in that order; in the
 * child, fresh ones. */
void tt_ledger_lock_all(void);
void tt_ledger_unlock_all(void);
void tt_ledger_fork_child(void);

/* ---- a thread's unfolded changes ---------------------------------------------- */
/* TT_SITE_SLOTS, direct-mapped, chosen by stack id (ledger.c's site_slot).
 * 2048: cc1 -O2 on 1500 functions books from some 2100 stacks in its hot
 * phases; at 512 slots a third of its 7.7M bookings missed. */
#define TT_SITE_BITS 11
#define TT_SITE_SLOTS (1 << TT_SITE_BITS)
#define TT_POOL_SLOTS 16 /* direct-mapped */
/* Dirty site deltas pushed out of their slot by another site, kept for the
 * next fold (ledger.c: evicting one used to fold everything). */
#define TT_SITE_VICTIMS 64

typedef struct {
    uint64_t key; /* stack << 32 | pool; 0: empty */
    tt_site_books *site;
    int64_t live_bytes, live_count, total_bytes, total_count, temp, temp_bytes;
    bool dirty;
} tt_site_delta;

/* A site delta's live_bytes at the highest point of a pending peak: the
 * global one's, valid while gen equals the cache's high_gen, and its
 * pool's, while pool_gen equals the pool delta's. A fold turns each into
 * what the site changed since (fold_site), for fix_high. Kept beside the
 * deltas, not in them: only a pending peak reads them, and every booking
 * reads a delta (in the deltas, 24 bytes more each, cc1 full ran 10%
 * slower). */
typedef struct {
    int64_t bytes, pool_bytes;
    uint32_t gen, pool_gen;
} tt_site_high;

typedef struct {
    uint32_t key; /* the pool's id + 1; 0: the slot is unused */
    bool dirty;
    bool peak_pending;   /* this pool passed its peak since the last fold */
    int64_t max_current; /* while it is pending: the highest current since */
    uint32_t high_gen;   /* bumped at each new highest point (tt_site_delta) */
    uint64_t new_epoch;  /* during a fold: the epoch of the peak it made, or 0 */
    tt_pool_books *pool;
    int64_t current, live, total, count, temp;
    /* Which hist buckets are not 0: a fold visits only those. Folding all
     * 64 into the shared books and clearing them was two thirds of a fold,
     * and a growing program folds at nearly every allocation (a new peak). */
    uint64_t hist_used;
    int32_t hist[TT_NBUCKETS];
} tt_pool_delta;
_Static_assert(TT_NBUCKETS <= 64, "hist_used has one bit per bucket");

typedef struct {
    int64_t net;        /* unfolded change of tt_g.current */
    int64_t ops;        /* bookings since the last fold */
    uintptr_t last_ptr; /* the last block allocated: freed next, it is a temporary */
    /* This thread's last non-wrapper booking made a new global peak. */
    bool just_peaked;
    /* This thread's last non-wrapper booking raised the highest point of a
     * pending global peak: a wrapper's booking of the same block, which
     * comes next, stands at that point too (note_high in ledger.c). */
    bool high_joinable;
    /* A peak, global or a pool's, awaits settling; global_pending: the
     * global one; pending_ns: the coarse clock when the first became
     * pending (the peaks' time). */
    bool peak_pending, global_pending;
    int64_t pending_ns;
    int64_t max_net;    /* while the global peak is pending: the highest net since */
    uint32_t high_gen;  /* bumped at each new highest point (tt_site_delta) */
    uint64_t new_epoch; /* during a fold: the epoch of the global peak it made, or 0 */
    bool pool_peaked;   /* during a fold: it made a pool's peak (tt_pool_delta.new_epoch) */
    int nsites_dirty, npools_dirty, nvictims;
    /* Every booking reads its pool's delta: next to the fields above, not
     * 200 KB further on behind the site slots (python3 full ran 3.6%
     * slower with it there, once the slots were 2048). */
    tt_pool_delta pools[TT_POOL_SLOTS];
    uint8_t pools_dirty[TT_POOL_SLOTS];
    uint16_t sites_dirty[TT_SITE_SLOTS];
    tt_site_delta victims[TT_SITE_VICTIMS];
    tt_site_high victims_high[TT_SITE_VICTIMS];
    /* Last, and kept when the cache passes to another thread
     * (tt_ledger_cache_reset). */
    tt_site_delta sites[TT_SITE_SLOTS];
    tt_site_high sites_high[TT_SITE_SLOTS];
} tt_ledger_cache;
_Static_assert(offsetof(tt_ledger_cache, sites_high) + sizeof(tt_site_high[TT_SITE_SLOTS]) ==
                   sizeof(tt_ledger_cache),
               "the site slots end the cache");

/* ---- booking ------------------------------------------------------------------- */
/* A block the caller describes; with TT_IN_TABLE it also enters the live
 * table (its free is found by address), else the caller keeps its size. */
typedef struct {
    uintptr_t addr;
    int64_t size;
    uint32_t stack; /* 0: no site books (an unsampled block) */
    int32_t pool;
    uint8_t kind;  /* tally_alloc_kind */
    uint8_t flags; /* TT_FLAG_* */
} tt_block;
enum { TT_UNTABLED = 0, TT_IN_TABLE = 1 };

void tt_ledger_alloc(tt_ledger_cache *c, const tt_block *b, int where);
/* A block freed by address: found (any pool, or `pool`) and removed from the
 * table, then unbooked. False, with nothing changed, when it is not there. */
bool tt_ledger_free_tabled(tt_ledger_cache *c, uintptr_t addr, int32_t pool, tt_entry *out);
/* A block that was booked TT_UNTABLED, with the size (and stack) the caller
 * kept. */
void tt_ledger_free_untabled(tt_ledger_cache *c, uintptr_t addr, int64_t size, int32_t pool,
                             uint32_t stack, unsigned flags);
/* b->size bytes of a block booked TT_UNTABLED leave its site (a mapping's
 * released pages, mappings.c), and `blocks` blocks with them: 1 when the
 * block is gone, 0 when it shrank, -1 when a hole split it in two. */
void tt_ledger_release(tt_ledger_cache *c, const tt_block *b, int blocks);
void tt_ledger_fold(tt_ledger_cache *c);
/* A cache its own thread folded, made ready for another thread: everything
 * cleared but the site slots. A fold leaves them clean, and their keys
 * hold in any thread (site books live as long as the process), so the next
 * thread finds them warm, and a thread's exit does not write (and keep
 * resident) their 200 KB. Not for the caches a forked child inherits from
 * the threads fork stopped, which may hold a booking half made
 * (thread.c). */
void tt_ledger_cache_reset(tt_ledger_cache *c);
/* A booking passed the global peak (d NULL) or d's pool's: mark it
 * pending. */
void tt_ledger_peak_pending(tt_ledger_cache *c, tt_pool_delta *d);
void tt_ledger_global_peak_rejoin(tt_ledger_cache *c);

/* ---- the fast path, inlined into the entry points ---------------------------------------
 * The sampled run's common case, a block with no stack whose pool already
 * has a slot in this cache, costs a few plain additions here: no call. */
static inline void tt_mark_pool(tt_ledger_cache *c, tt_pool_delta *d)
{
    if (!d->dirty) {
        TALLY_ASSERT(c->npools_dirty < TT_POOL_SLOTS);
        d->dirty = true;
        c->pools_dirty[c->npools_dirty++] = (uint8_t)(d - c->pools);
    }
}

/* How far this thread's books stand below the highest point of a pending
 * peak, global or d's pool's: 0 at that point or with none pending. Only
 * d changes in a booking, so only d's pool is looked at. */
static inline int64_t tt_fall_from_peak(const tt_ledger_cache *c, const tt_pool_delta *d)
{
    int64_t global = c->global_pending ? c->max_net - c->net : 0;
    int64_t pool = d->peak_pending ? d->max_current - d->current : 0;
    return global > pool ? global : pool;
}

/* The global and pool figures are exact to within what threads hold back:
 * fold when this thread holds back TT_BATCH_BYTES of current bytes, net, or
 * has booked TT_BATCH_OPS times, so that totals stay fresh as well. And
 * when it stands a batch below a pending peak: settled later, the peak
 * would take in other threads' growth of the meantime as if it came at
 * this thread's highest point, by up to what it came down. */
static inline bool tt_must_fold(const tt_ledger_cache *c, const tt_pool_delta *d)
{
    return (uint64_t)(c->net + TT_BATCH_BYTES) > 2 * TT_BATCH_BYTES ||
           (uint64_t)(d->current + TT_BATCH_BYTES) > 2 * TT_BATCH_BYTES || c->ops >= TT_BATCH_OPS ||
           (TT_UNLIKELY(c->peak_pending) && tt_fall_from_peak(c, d) > TT_BATCH_BYTES);
}

static inline int tt_bucket_of(int64_t size)
{
    return size <= 1 ? 0 : 63 - __builtin_clzll((unsigned long long)size);
}

/* A new block of size bytes: the pool's own books. */
static inline __attribute__((always_inline)) void tt_pool_grow(tt_ledger_cache *c, tt_pool_delta *d,
                                                               int64_t size)
{
    d->current += size;
    d->live++;
    d->total += size;
    d->count++;
    int b = tt_bucket_of(size);
    d->hist[b]++;
    d->hist_used |= 1ull << b;
    tt_mark_pool(c, d);
}

/* A booking while a peak is pending: the highest point the books reach
 * moves up with them (the fold makes the peak of it). */
static inline bool tt_raise_global_high(tt_ledger_cache *c)
{
    if (c->net <= c->max_net)
        return false;
    c->max_net = c->net;
    c->high_gen++;
    return true;
}
static inline void tt_raise_pool_high(tt_pool_delta *d)
{
    if (d->current > d->max_current) {
        d->max_current = d->current;
        d->high_gen++;
    }
}

/* After a new block is booked: the global and pool peaks, then the batch.
 * A wrapper pool's block is its parent's too, and counts once globally. */
static inline __attribute__((always_inline)) void
tt_after_grow(tt_ledger_cache *c, tt_pool_delta *d, uintptr_t ptr, int64_t size, bool wrapper)
{
    c->ops++;
    c->last_ptr = ptr;
    tt_pool_books *p = d->pool;
    if (wrapper) {
        p->wrapper = true;
        if (TT_UNLIKELY(c->just_peaked))
            tt_ledger_global_peak_rejoin(c);
    } else {
        c->just_peaked = false;
        c->net += size;
        bool raised = false;
        if (TT_UNLIKELY(c->global_pending)) {
            raised = tt_raise_global_high(c);
        } else if (TT_UNLIKELY(atomic_load_explicit(&tt_g.current, memory_order_relaxed) + c->net >
                               atomic_load_explicit(&tt_g.peak, memory_order_relaxed))) {
            tt_ledger_peak_pending(c, NULL);
            raised = true;
        }
        c->high_joinable = raised;
    }
    if (TT_UNLIKELY(d->peak_pending)) {
        tt_raise_pool_high(d);
    } else if (TT_UNLIKELY(atomic_load_explicit(&p->current, memory_order_relaxed) + d->current >
                           atomic_load_explicit(&p->peak, memory_order_relaxed))) {
        tt_ledger_peak_pending(c, d);
    }
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        tt_ledger_fold(c);
}

/* tt_after_grow for a block of no wrapper pool, when no peak is passed that
 * was not pending already: the highest points move up, sums change, and
 * nothing is called. The sampled run's fast path takes it inline; a
 * growing program (a peak pending at nearly every booking) stays on it.
 * False, with nothing changed, when a peak is newly passed
 * (tt_after_grow's then). d's books hold the block. No fold: the caller
 * asks tt_must_fold. */
static inline __attribute__((always_inline)) bool
tt_after_grow_plain(tt_ledger_cache *c, tt_pool_delta *d, uintptr_t ptr, int64_t size)
{
    tt_pool_books *p = d->pool;
    if (!c->global_pending &&
        atomic_load_explicit(&tt_g.current, memory_order_relaxed) + c->net + size >
            atomic_load_explicit(&tt_g.peak, memory_order_relaxed))
        return false;
    if (!d->peak_pending && atomic_load_explicit(&p->current, memory_order_relaxed) + d->current >
                                atomic_load_explicit(&p->peak, memory_order_relaxed))
        return false;
    c->ops++;
    c->last_ptr = ptr;
    c->just_peaked = false;
    c->net += size;
    c->high_joinable = TT_UNLIKELY(c->global_pending) && tt_raise_global_high(c);
    if (TT_UNLIKELY(d->peak_pending))
        tt_raise_pool_high(d);
    return true;
}

/* A block of size bytes leaves the pool's books; true when it was a
 * temporary (heaptrack's: freed before this thread's next allocation). */
static inline __attribute__((always_inline)) bool
tt_pool_shrink(tt_ledger_cache *c, tt_pool_delta *d, uintptr_t ptr, int64_t size, bool wrapper)
{
    bool temp = ptr == c->last_ptr;
    d->current -= size;
    d->live--;
    d->temp += temp;
    tt_mark_pool(c, d);
    c->ops++;
    if (!wrapper) {
        c->net -= size;
        c->high_joinable = false;
        if (temp)
            c->last_ptr = 0;
    }
    return temp;
}

static inline tt_pool_delta *tt_pool_delta_hit(tt_ledger_cache *c, int32_t pool)
{
    tt_pool_delta *d = &c->pools[(uint32_t)pool % TT_POOL_SLOTS];
    return TT_LIKELY(d->key == (uint32_t)pool + 1) ? d : NULL;
}

/* A block with no stack, booked in this cache's slot for its pool; false
 * (nothing booked) when the pool has no slot here yet. */
static inline __attribute__((always_inline)) bool
tt_ledger_alloc_fast(tt_ledger_cache *c, int32_t pool, uintptr_t ptr, int64_t size, bool wrapper)
{
    tt_pool_delta *d = tt_pool_delta_hit(c, pool);
    if (TT_UNLIKELY(!d))
        return false;
    tt_pool_grow(c, d, size);
    tt_after_grow(c, d, ptr, size, wrapper);
    return true;
}

/* The same for a block given back, whose size the caller kept. */
static inline __attribute__((always_inline)) bool
tt_ledger_free_fast(tt_ledger_cache *c, int32_t pool, uintptr_t ptr, int64_t size, bool wrapper)
{
    tt_pool_delta *d = tt_pool_delta_hit(c, pool);
    if (TT_UNLIKELY(!d))
        return false;
    tt_pool_shrink(c, d, ptr, size, wrapper); /* no site changes: no settling (ledger.c) */
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        tt_ledger_fold(c);
    return true;
}

#endif
