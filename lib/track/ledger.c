/* ledger.c: booking into a thread's cache, folding it, and the peaks
 * (ledger.h says how the books and the peak attribution work). */
#include "track/ledger.h"

#include "track/due.h"

#include "track/sample.h"

#include <string.h>

/* ---- the cache's slots ---------------------------------------------------------- */
/* Each lookup is a hit inlined into the booking and one named miss: with
 * the miss's calls in the same function, every booking paid for saving
 * the registers they need (callgrind: 32 instructions a lookup, for a
 * compare and a load). */
static __attribute__((noinline)) tt_pool_delta *pool_delta_miss(tt_ledger_cache *c, int32_t id)
{
    tt_pool_delta *d = &c->pools[(uint32_t)id % TT_POOL_SLOTS];
    tt_pool_books *pool = tt_pool_books_get(id, true);
    if (!pool)
        return NULL;
    if (d->dirty)
        tt_ledger_fold(c);
    memset(d, 0, sizeof *d);
    d->key = (uint32_t)id + 1;
    d->pool = pool;
    if (!atomic_load_explicit(&pool->active, memory_order_relaxed))
        atomic_store(&pool->active, 1);
    return d;
}

static inline tt_pool_delta *pool_delta(tt_ledger_cache *c, int32_t id)
{
    tt_pool_delta *d = tt_pool_delta_hit(c, id);
    return TT_LIKELY(d != NULL) ? d : pool_delta_miss(c, id);
}

static inline uint64_t site_key(uint32_t stack, int32_t pool)
{
    return (uint64_t)stack << 32 | (uint32_t)pool;
}

/* The slot is the stack id's low bits (another pool than the shim's moves
 * it by a multiple of the golden ratio). Stack ids are dense and handed out
 * in the order stacks are first seen, so stacks that are busy together
 * tend to have ids near each other, and TT_SITE_SLOTS consecutive ids never
 * share a slot. A hash of the key scattered them: cc1 full missed on a
 * third of its 7.7M bookings at 512 slots, and still 14% at 2048; indexed
 * by id, 2048 slots miss only the 4000 first bookings of its stacks. */
static inline tt_site_delta *site_slot(tt_ledger_cache *c, uint32_t stack, int32_t pool)
{
    return &c->sites[(stack + (uint32_t)pool * 0x9e3779b9u) & (TT_SITE_SLOTS - 1)];
}

/* d's note: d is one of the cache's slots or one of its victims. */
static inline tt_site_high *high_of(tt_ledger_cache *c, const tt_site_delta *d)
{
    if (d >= c->sites && d < c->sites + TT_SITE_SLOTS)
        return &c->sites_high[d - c->sites];
    TALLY_ASSERT(d >= c->victims && d < c->victims + TT_SITE_VICTIMS);
    return &c->victims_high[d - c->victims];
}

/* d: the site's slot, held by another site or empty. */
static __attribute__((noinline)) tt_site_delta *site_delta_miss(tt_ledger_cache *c,
                                                                tt_site_delta *d, uint32_t stack,
                                                                int32_t pool,
                                                                tt_pool_books *pool_books)
{
    tt_site_books *site = tt_site_books_get(stack, pool, pool_books);
    if (!site)
        return NULL;
    /* A dirty slot's changes wait among the victims for the next fold; the
     * slot stays on the dirty list, for its new site. Folding everything
     * here instead made a program with thousands of busy stacks fold on
     * most of its bookings. */
    bool dirty = d->dirty;
    if (dirty) {
        if (c->nvictims == TT_SITE_VICTIMS) {
            tt_ledger_fold(c);
            dirty = false;
        } else {
            /* Its note goes with it. A clean slot has none: a note comes
             * only before a change, and the fold that ends the peak's
             * pending clears it. */
            tt_site_high *h = high_of(c, d);
            c->victims_high[c->nvictims] = *h;
            c->victims[c->nvictims++] = *d;
            memset(h, 0, sizeof *h);
        }
    }
    TALLY_ASSERT(high_of(c, d)->gen == 0 && high_of(c, d)->pool_gen == 0);
    memset(d, 0, sizeof *d);
    d->key = site_key(stack, pool);
    d->site = site;
    d->dirty = dirty;
    return d;
}

static inline tt_site_delta *site_delta(tt_ledger_cache *c, uint32_t stack, int32_t pool,
                                        tt_pool_books *pool_books)
{
    uint64_t key = site_key(stack, pool);
    tt_site_delta *d = site_slot(c, stack, pool);
    return TT_LIKELY(d->key == key) ? d : site_delta_miss(c, d, stack, pool, pool_books);
}

static inline void mark_site(tt_ledger_cache *c, tt_site_delta *d)
{
    if (!d->dirty) {
        TALLY_ASSERT(c->nsites_dirty < TT_SITE_SLOTS);
        d->dirty = true;
        c->sites_dirty[c->nsites_dirty++] = (uint16_t)(d - c->sites);
    }
}

/* ---- folding --------------------------------------------------------------------- */
/* The site's bytes noted at the highest point of c's pending global peak,
 * or of its pool's, are still that point's (ledger.h). */
static inline bool high_noted(const tt_ledger_cache *c, const tt_site_high *h)
{
    return c->global_pending && h->gen == c->high_gen;
}

static inline bool high_pool_noted(const tt_ledger_cache *c, const tt_site_delta *d,
                                   const tt_site_high *h)
{
    const tt_pool_delta *pd = tt_pool_delta_hit((tt_ledger_cache *)c, d->site->pool);
    return pd && pd->peak_pending && h->pool_gen == pd->high_gen;
}

/* Books the delta whole. What the site changed since a note at the highest
 * point stays in its tt_site_high, for fix_high once the fold knows whether
 * that point made a new peak. */
static void fold_site(tt_ledger_cache *c, tt_site_delta *d, uint64_t global_epoch)
{
    /* No peak pending: no note since the last fold, and no fix_high. */
    if (TT_UNLIKELY(c->peak_pending)) {
        tt_site_high *h = high_of(c, d);
        h->bytes = high_noted(c, h) ? d->live_bytes - h->bytes : 0;
        h->pool_bytes = high_pool_noted(c, d, h) ? d->live_bytes - h->pool_bytes : 0;
        h->gen = h->pool_gen = 0;
    } else {
        TALLY_ASSERT(high_of(c, d)->gen == 0 && high_of(c, d)->pool_gen == 0);
    }
    tt_site_books *r = d->site;
    base_spin_lock(&r->lock);
    if (r->saved_epoch != global_epoch) {
        r->saved_peak = r->live_bytes;
        r->saved_epoch = global_epoch;
    }
    uint64_t pe = atomic_load_explicit(&r->pool_books->epoch, memory_order_acquire);
    if (r->saved_pool_epoch != pe) {
        r->saved_pool_peak = r->live_bytes;
        r->saved_pool_epoch = pe;
    }
    r->live_bytes += d->live_bytes;
    r->live_count += d->live_count;
    r->total_bytes += d->total_bytes;
    r->total_count += d->total_count;
    r->temp += d->temp;
    r->temp_bytes += d->temp_bytes;
    base_spin_unlock(&r->lock);
    d->live_bytes = d->live_count = d->total_bytes = d->total_count = d->temp = d->temp_bytes = 0;
    d->dirty = false;
}

/* The time since start of a peak: the coarse clock's read when it became
 * pending (a few ms of resolution). While a program grows, nearly every
 * allocation passes the peak: the precise clock's read was a tenth of a
 * sampled run. */
static int64_t peak_time(const tt_ledger_cache *c)
{
    int64_t since = c->pending_ns - tt_cfg.start_ns;
    return since > 0 ? since : 0; /* the coarse clock lags the precise one */
}

static void fold_pool(tt_ledger_cache *c, tt_pool_delta *d)
{
    tt_pool_books *p = d->pool;
    base_spin_lock(&p->lock);
    int64_t cur =
        atomic_fetch_add_explicit(&p->current, d->current, memory_order_relaxed) + d->current;
    p->live += d->live;
    p->total += d->total;
    p->count += d->count;
    p->temp += d->temp;
    for (uint64_t m = d->hist_used; m; m &= m - 1) {
        int k = __builtin_ctzll(m);
        p->hist[k] += d->hist[k];
        d->hist[k] = 0;
    }
    /* The pool's pending peak, settled after the sites it covers were
     * folded (they fold first): its epoch opens a new peak for them. The
     * highest point tracks every rise since the peak went pending. */
    if (d->peak_pending) {
        TALLY_ASSERT(d->current <= d->max_current);
        int64_t high = cur - (d->current - d->max_current);
        if (high > atomic_load_explicit(&p->peak, memory_order_relaxed)) {
            atomic_store_explicit(&p->peak, high, memory_order_relaxed);
            p->peak_ns = peak_time(c);
            d->new_epoch = atomic_fetch_add(&p->epoch, 1) + 1;
            c->pool_peaked = true;
        }
    }
    base_spin_unlock(&p->lock);
    d->current = d->live = d->total = d->count = d->temp = 0;
    d->hist_used = 0;
    d->dirty = false;
    d->peak_pending = false;
}

/* A pending global peak, after the fold: raise it to the folded current,
 * less what this thread came down since its highest point. */
static void settle_global(tt_ledger_cache *c)
{
    TALLY_ASSERT(c->global_pending && c->net <= c->max_net);
    pthread_mutex_lock(&tt_g.peak_lock);
    int64_t cur = atomic_load(&tt_g.current) - (c->net - c->max_net);
    if (cur > atomic_load(&tt_g.peak)) {
        atomic_store(&tt_g.peak, cur);
        tt_g.peak_ns = peak_time(c);
        c->new_epoch = atomic_fetch_add(&tt_g.epoch, 1) + 1;
        c->just_peaked = true;
    }
    pthread_mutex_unlock(&tt_g.peak_lock);
}

/* A new peak took each site's folded bytes as its bytes at the peak
 * (saved on its first change after the epoch's bump). A site that changed
 * after the highest point had other bytes there: take the change back out. */
static void fix_high_one(tt_ledger_cache *c, const tt_site_delta *d)
{
    const tt_site_high *h = high_of(c, d);
    tt_site_books *r = d->site;
    uint64_t pool_epoch = 0;
    if (h->pool_bytes) {
        const tt_pool_delta *pd = tt_pool_delta_hit(c, r->pool);
        pool_epoch = pd ? pd->new_epoch : 0;
    }
    bool global = h->bytes && c->new_epoch;
    if (!global && !pool_epoch)
        return;
    base_spin_lock(&r->lock);
    if (global) {
        if (r->saved_epoch != c->new_epoch) {
            r->saved_peak = r->live_bytes;
            r->saved_epoch = c->new_epoch;
        }
        r->saved_peak -= h->bytes;
    }
    if (pool_epoch) {
        if (r->saved_pool_epoch != pool_epoch) {
            r->saved_pool_peak = r->live_bytes;
            r->saved_pool_epoch = pool_epoch;
        }
        r->saved_pool_peak -= h->pool_bytes;
    }
    base_spin_unlock(&r->lock);
}

static void fix_high(tt_ledger_cache *c)
{
    for (int i = 0; i < c->nsites_dirty; i++)
        fix_high_one(c, &c->sites[c->sites_dirty[i]]);
    for (int i = 0; i < c->nvictims; i++)
        fix_high_one(c, &c->victims[i]);
}

/* A fold with nothing to fold reads no clock: every booking dirties its
 * pool, so such a fold follows another one, and the clock is still looked
 * at every TT_BATCH_OPS bookings. A pending peak is something to fold: a
 * wrapper's booking can fold (a rejoin) between its pool's change and the
 * check that finds the pool past its peak. */
void tt_ledger_fold(tt_ledger_cache *c)
{
    if (!(c->nsites_dirty || c->npools_dirty || c->nvictims || c->net || c->peak_pending)) {
        TALLY_ASSERT(c->ops == 0);
        return;
    }
    pthread_rwlock_rdlock(&tt_g.fold_lock);
    uint64_t ge = atomic_load_explicit(&tt_g.epoch, memory_order_acquire);
    for (int i = 0; i < c->nsites_dirty; i++)
        fold_site(c, &c->sites[c->sites_dirty[i]], ge);
    for (int i = 0; i < c->nvictims; i++)
        fold_site(c, &c->victims[i], ge);
    for (int i = 0; i < c->npools_dirty; i++)
        fold_pool(c, &c->pools[c->pools_dirty[i]]);
    atomic_fetch_add_explicit(&tt_g.current, c->net, memory_order_relaxed);
    /* Still under the fold lock: a snapshot sees a new peak's epoch only
     * with its sites' bytes fixed. */
    if (c->global_pending)
        settle_global(c);
    if (c->new_epoch || c->pool_peaked) {
        fix_high(c);
        c->new_epoch = 0;
        c->pool_peaked = false;
        for (int i = 0; i < c->npools_dirty; i++)
            c->pools[c->pools_dirty[i]].new_epoch = 0;
    }
    pthread_rwlock_unlock(&tt_g.fold_lock);
    c->peak_pending = c->global_pending = false;
    c->max_net = 0;
    c->nsites_dirty = c->npools_dirty = c->nvictims = 0;
    c->net = 0;
    c->ops = 0;
    (void)tt_due_check_clock(); /* at least every TT_BATCH_OPS bookings (due.h) */
}

#ifdef TALLY_DEBUG
static bool sites_clean(const tt_ledger_cache *c)
{
    for (int i = 0; i < TT_SITE_SLOTS; i++) {
        const tt_site_delta *d = &c->sites[i];
        const tt_site_high *h = &c->sites_high[i];
        if (d->dirty || d->live_bytes || d->live_count || d->total_bytes || d->total_count ||
            d->temp || d->temp_bytes || h->gen || h->pool_gen)
            return false;
    }
    return true;
}
#endif

void tt_ledger_cache_reset(tt_ledger_cache *c)
{
    TALLY_ASSERT(c->nsites_dirty == 0 && c->nvictims == 0 && !c->peak_pending);
    TALLY_ASSERT(sites_clean(c));
    memset(c, 0, offsetof(tt_ledger_cache, sites));
}

/* ---- peaks ------------------------------------------------------------------------ */
void tt_ledger_peak_pending(tt_ledger_cache *c, tt_pool_delta *d)
{
    if (!c->peak_pending) {
        c->peak_pending = true;
        c->pending_ns = tt_due_check_clock();
    }
    if (d) {
        d->peak_pending = true;
        d->max_current = d->current;
        d->high_gen++;
        tt_mark_pool(c, d); /* the fold settles the pools it visits */
    } else {
        c->global_pending = true;
        c->max_net = c->net;
        c->high_gen++;
    }
}

/* A wrapper pool books its block just after its parent did, and the parent's
 * booking may have made the peak: the wrapper's sites belong to that peak
 * too. Fold them and open the epoch again; the peak itself is unchanged. */
void tt_ledger_global_peak_rejoin(tt_ledger_cache *c)
{
    tt_ledger_fold(c);
    pthread_mutex_lock(&tt_g.peak_lock);
    atomic_fetch_add(&tt_g.epoch, 1);
    pthread_mutex_unlock(&tt_g.peak_lock);
}

static inline void weights(int64_t size, unsigned flags, int64_t *bytes, int64_t *count)
{
    if (flags & TT_FLAG_SAMPLED) {
        tt_sample_weight(size, bytes, count);
    } else {
        *bytes = size;
        *count = tt_cfg.count_scale;
    }
}

/* Before a booking changes site s while a peak is pending: s notes its
 * bytes at the highest point, unless it did since that point was reached
 * (ledger.h). joins: a wrapper's allocation right after its parent's raised
 * the global highest point, which its block is part of. The booking joins
 * no peak if it gives bytes back or the books stand below their highest:
 * a wrapper's booking after it must not reopen the last one
 * (just_peaked). */
static inline void note_high(tt_ledger_cache *c, const tt_pool_delta *d, tt_site_delta *s,
                             bool gives_back, bool joins)
{
    if (TT_LIKELY(!c->peak_pending))
        return;
    tt_site_high *h = high_of(c, s);
    if (c->global_pending && h->gen != c->high_gen && !joins) {
        h->bytes = s->live_bytes;
        h->gen = c->high_gen;
    }
    if (d->peak_pending && h->pool_gen != d->high_gen) {
        h->pool_bytes = s->live_bytes;
        h->pool_gen = d->high_gen;
    }
    if (gives_back || tt_fall_from_peak(c, d) > 0)
        c->just_peaked = false;
}

/* A site's share of a booking: bytes and count, weighted when sampled. */
static inline void site_grow(tt_ledger_cache *c, tt_site_delta *s, int64_t bytes, int64_t count)
{
    s->live_bytes += bytes;
    s->live_count += count;
    s->total_bytes += bytes;
    s->total_count += count;
    mark_site(c, s);
}

static inline void site_shrink(tt_ledger_cache *c, tt_site_delta *s, int64_t bytes, int64_t count,
                               bool temp)
{
    s->live_bytes -= bytes;
    s->live_count -= count;
    if (temp) {
        s->temp += count;
        s->temp_bytes += bytes;
    }
    mark_site(c, s);
}

static void book_alloc(tt_ledger_cache *c, const tt_block *b)
{
    tt_pool_delta *d = pool_delta(c, b->pool);
    if (!d)
        return;
    tt_site_delta *s = b->stack ? site_delta(c, b->stack, b->pool, d->pool) : NULL;
    if (s)
        note_high(c, d, s, false, (b->flags & TT_FLAG_WRAPPER) && c->high_joinable);
    tt_pool_grow(c, d, b->size);
    if (s) {
        int64_t bytes, count;
        weights(b->size, b->flags, &bytes, &count);
        site_grow(c, s, bytes, count);
    }
    tt_after_grow(c, d, b->addr, b->size, b->flags & TT_FLAG_WRAPPER);
}

static void book_free(tt_ledger_cache *c, uintptr_t ptr, int64_t size, int32_t pool, uint32_t stack,
                      unsigned flags)
{
    tt_pool_delta *d = pool_delta(c, pool);
    if (!d)
        return;
    tt_site_delta *s = stack ? site_delta(c, stack, pool, d->pool) : NULL;
    if (s)
        note_high(c, d, s, true, false);
    bool temp = tt_pool_shrink(c, d, ptr, size, flags & TT_FLAG_WRAPPER);
    if (s) {
        int64_t bytes, count;
        weights(size, flags, &bytes, &count);
        site_shrink(c, s, bytes, count, temp);
    }
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        tt_ledger_fold(c);
}

/* ---- the common cases, without a call ------------------------------------------ */
/* A booking whose pool and site have their deltas in this cache, of a plain
 * block (no wrapper's, not sampled): book_alloc and book_free then change
 * sums and, while a peak is pending, note the site's bytes (note_high),
 * and an allocation that newly passes a peak leaves to tt_after_grow.
 * Their callers take that case inline and leave every other by a tail
 * call, so they save no registers: a full run books every block. A
 * growing program has a peak pending at nearly every booking, so the
 * pending case stays inline too (callgrind, live-heavy 1M full: 0.6%
 * fewer instructions than through book_alloc). */
static inline bool plain_booking(const tt_ledger_cache *c, int32_t pool, uint32_t stack,
                                 unsigned flags, tt_pool_delta **d, tt_site_delta **s)
{
    if (flags & (TT_FLAG_WRAPPER | TT_FLAG_SAMPLED))
        return false;
    *d = tt_pool_delta_hit((tt_ledger_cache *)c, pool);
    if (!*d)
        return false;
    *s = NULL;
    if (stack) {
        uint64_t key = site_key(stack, pool);
        *s = site_slot((tt_ledger_cache *)c, stack, pool);
        if ((*s)->key != key)
            return false;
    }
    return true;
}

/* The pool's delta, or NULL (nothing booked) when the free is not plain. */
static inline tt_pool_delta *book_free_plain(tt_ledger_cache *c, uintptr_t ptr, int64_t size,
                                             int32_t pool, uint32_t stack, unsigned flags)
{
    tt_pool_delta *d;
    tt_site_delta *s;
    if (!plain_booking(c, pool, stack, flags, &d, &s))
        return NULL;
    if (s)
        note_high(c, d, s, true, false);
    bool temp = tt_pool_shrink(c, d, ptr, size, false);
    if (s)
        site_shrink(c, s, size, tt_cfg.count_scale, temp);
    return d;
}

/* A block booked TT_IN_TABLE enters the live table once its books are done. */
static inline void enter_table(const tt_block *b, int where)
{
    if (where == TT_IN_TABLE)
        tt_live_insert(b->addr, b->size, b->stack, b->pool, b->kind, b->flags);
}

/* The booking passed a peak that was not pending: tt_after_grow marks it
 * (and folds when due). */
static __attribute__((noinline)) void alloc_booked_peak(tt_ledger_cache *c, tt_pool_delta *d,
                                                        const tt_block *b, int where)
{
    tt_after_grow(c, d, b->addr, b->size, false);
    enter_table(b, where);
}

static __attribute__((noinline)) void alloc_booked_fold(tt_ledger_cache *c, const tt_block *b,
                                                        int where)
{
    tt_ledger_fold(c);
    enter_table(b, where);
}

static __attribute__((noinline)) void alloc_unusual(tt_ledger_cache *c, const tt_block *b,
                                                    int where)
{
    book_alloc(c, b);
    enter_table(b, where);
}

static __attribute__((noinline)) void free_unusual(tt_ledger_cache *c, uintptr_t addr, int64_t size,
                                                   int32_t pool, uint32_t stack, unsigned flags)
{
    book_free(c, addr, size, pool, stack, flags);
}

/* Booked, then entered in the table: no other thread can free the block
 * before this call returns it to the program. */
void tt_ledger_alloc(tt_ledger_cache *c, const tt_block *b, int where)
{
    TALLY_ASSERT(b->size >= 0);
    tt_pool_delta *d;
    tt_site_delta *s;
    if (TT_UNLIKELY(!plain_booking(c, b->pool, b->stack, b->flags, &d, &s)))
        return alloc_unusual(c, b, where);
    if (s)
        note_high(c, d, s, false, false); /* no wrapper's block: it joins no high point */
    tt_pool_grow(c, d, b->size);
    if (s)
        site_grow(c, s, b->size, tt_cfg.count_scale);
    if (TT_UNLIKELY(!tt_after_grow_plain(c, d, b->addr, b->size)))
        return alloc_booked_peak(c, d, b, where);
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        return alloc_booked_fold(c, b, where);
    enter_table(b, where);
}

bool tt_ledger_free_tabled(tt_ledger_cache *c, uintptr_t addr, int32_t pool, tt_entry *out)
{
    if (!tt_live_remove(addr, pool, out))
        return false;
    tt_ledger_free_untabled(c, addr, tt_entry_size(out), out->pool, out->stack,
                            tt_entry_flags(out));
    return true;
}

void tt_ledger_free_untabled(tt_ledger_cache *c, uintptr_t addr, int64_t size, int32_t pool,
                             uint32_t stack, unsigned flags)
{
    tt_pool_delta *d = book_free_plain(c, addr, size, pool, stack, flags);
    if (TT_UNLIKELY(!d))
        return free_unusual(c, addr, size, pool, stack, flags);
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        return tt_ledger_fold(c);
}

void tt_ledger_release(tt_ledger_cache *c, const tt_block *b, int blocks)
{
    TALLY_ASSERT(b->size >= 0 && blocks >= -1 && blocks <= 1 && !(b->flags & TT_FLAG_WRAPPER));
    if (blocks == 1) {
        book_free(c, b->addr, b->size, b->pool, b->stack, b->flags);
        return;
    }
    tt_pool_delta *d = pool_delta(c, b->pool);
    if (!d)
        return;
    tt_site_delta *s = b->stack ? site_delta(c, b->stack, b->pool, d->pool) : NULL;
    if (s)
        note_high(c, d, s, b->size > 0, false);
    d->current -= b->size;
    d->live -= blocks;
    tt_mark_pool(c, d);
    c->ops++;
    c->net -= b->size;
    c->high_joinable = false;
    if (s) {
        int64_t bytes, count;
        weights(b->size, b->flags, &bytes, &count);
        s->live_bytes -= bytes;
        s->live_count -= blocks * count;
        mark_site(c, s);
    }
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        tt_ledger_fold(c);
}
