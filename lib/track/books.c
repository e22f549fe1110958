/* books.c: per-pool and per-(stack, pool) books, kept per thread and folded.
 *
 * Global counters touched on every call cost several times over with two
 * threads, so each thread keeps its changes in a small cache and folds them
 * into the shared records when it holds back TT_BATCH_BYTES of current bytes
 * or has booked TT_BATCH_OPS times, when a cache slot is needed, at a new
 * peak, at a dump and at thread exit. One thread's books
 * are exact; with several, the global current and peak are exact to within
 * threads x TT_BATCH_BYTES.
 *
 * Peak attribution: a new global peak bumps tt_g.epoch after the thread that
 * made it folded everything. A record that changes for the first time after
 * a bump saves its value from before the change. At the end, a record's bytes
 * at the peak are its saved value if it changed since the last bump, else its
 * current value. The same runs per pool with the pool's own epoch. O(1) per
 * call, and no event log. */
#include "track/track_internal.h"

#include <string.h>

#define NPEND 128 /* (stack, pool) slots per thread, direct-mapped */
#define NPPEND 16 /* pool slots per thread, direct-mapped */

typedef struct {
    uint64_t key; /* stack << 32 | pool; 0: empty */
    tt_rec *rec;
    int64_t lb, lc, tb, tc, tmp;
    bool dirty;
} pend;

typedef struct {
    int32_t id;
    bool used, dirty;
    tt_pool *pool;
    int64_t cur, live, total, count, temp;
    int32_t hist[TT_NBUCKETS];
} ppend;

struct tt_thread {
    tt_thread *next_all, *next_free;
    tt_stack_cache *stack_cache; /* mmap'd on first use, kept across reuse */
    int64_t net;                 /* unfolded change of tt_g.current */
    int64_t ops;                 /* bookings since the last fold */
    uintptr_t last_ptr;
    uint32_t last_stack;
    bool last_sampled;
    /* This thread's last non-wrapper booking made a new global peak. */
    bool just_peaked;
    int64_t sample_left;
    uint64_t rng;
    int ndirty, npdirty;
    uint16_t dirty[NPEND];
    uint8_t pdirty[NPPEND];
    pend pend[NPEND];
    ppend pp[NPPEND];
};

tt_global tt_g = {
    .peak_lock = PTHREAD_MUTEX_INITIALIZER,
    .fold_lock = PTHREAD_RWLOCK_INITIALIZER,
};

/* ---- pool records --------------------------------------------------------- */
#define POOL_CHUNK 256
static _Atomic(tt_pool *) pool_dir[TT_MAX_POOLS / POOL_CHUNK];
static _Atomic int32_t pool_max = 0;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

tt_pool *tt_pool_get(int32_t id, bool create)
{
    if (id < 0 || id >= TT_MAX_POOLS)
        return NULL;
    tt_pool *chunk = atomic_load_explicit(&pool_dir[id / POOL_CHUNK], memory_order_acquire);
    if (TT_UNLIKELY(!chunk)) {
        if (!create)
            return NULL;
        pthread_mutex_lock(&pool_lock);
        chunk = atomic_load_explicit(&pool_dir[id / POOL_CHUNK], memory_order_relaxed);
        if (!chunk) {
            chunk = tt_arena_alloc(POOL_CHUNK * sizeof *chunk);
            atomic_store_explicit(&pool_dir[id / POOL_CHUNK], chunk, memory_order_release);
        }
        pthread_mutex_unlock(&pool_lock);
        if (!chunk)
            return NULL;
    }
    if (create) {
        int32_t m = atomic_load_explicit(&pool_max, memory_order_relaxed);
        while (id >= m && !atomic_compare_exchange_weak(&pool_max, &m, id + 1))
            ;
    }
    return &chunk[id % POOL_CHUNK];
}

int32_t tt_pool_max_id(void)
{
    return atomic_load_explicit(&pool_max, memory_order_acquire);
}

TALLY_INTERNAL void tally_track_name_pool(int32_t pool_id, const char *name)
{
    tt_pool *p = tt_pool_get(pool_id, true);
    if (!p)
        return;
    tt_spin_lock(&p->lock);
    size_t n = name ? strnlen(name, sizeof p->name - 1) : 0;
    memcpy(p->name, name ? name : "", n);
    p->name[n] = '\0';
    tt_spin_unlock(&p->lock);
}

/* ---- (stack, pool) records: lock-free lookup, locked insert ------------------ */
#define REC_BUCKETS (1u << 16)
static _Atomic(tt_rec *) *rec_buckets;
static tt_rec *rec_all;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

static inline uint32_t rec_hash(uint64_t key)
{
    key *= 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(key >> 40) & (REC_BUCKETS - 1);
}

static tt_rec *rec_get(uint32_t stack, int32_t pool, tt_pool *pool_rec)
{
    uint64_t key = (uint64_t)stack << 32 | (uint32_t)pool;
    _Atomic(tt_rec *) *buckets =
        atomic_load_explicit((_Atomic(_Atomic(tt_rec *) *) *)&rec_buckets, memory_order_acquire);
    if (buckets) {
        for (tt_rec *r = atomic_load_explicit(&buckets[rec_hash(key)], memory_order_acquire); r;
             r = r->next)
            if (r->stack == stack && r->pool == pool)
                return r;
    }
    pthread_mutex_lock(&rec_lock);
    if (!rec_buckets)
        atomic_store_explicit((_Atomic(_Atomic(tt_rec *) *) *)&rec_buckets,
                              tt_map(REC_BUCKETS * sizeof(tt_rec *)), memory_order_release);
    tt_rec *r = NULL;
    if (rec_buckets) {
        _Atomic(tt_rec *) *b = &rec_buckets[rec_hash(key)];
        for (r = atomic_load_explicit(b, memory_order_relaxed); r; r = r->next)
            if (r->stack == stack && r->pool == pool)
                break;
        if (!r && (r = tt_arena_alloc(sizeof *r)) != NULL) {
            r->stack = stack;
            r->pool = pool;
            r->pool_rec = pool_rec;
            /* It held nothing at any earlier peak. */
            r->saved_epoch = atomic_load(&tt_g.epoch);
            r->saved_pool_epoch = atomic_load(&pool_rec->epoch);
            r->next = atomic_load_explicit(b, memory_order_relaxed);
            r->next_all = rec_all;
            rec_all = r;
            atomic_store_explicit(b, r, memory_order_release);
        }
    }
    pthread_mutex_unlock(&rec_lock);
    return r;
}

tt_rec *tt_rec_first(void)
{
    return rec_all;
}

/* ---- threads ------------------------------------------------------------------ */
static __thread tt_thread *tls_thread TT_TLS;
static __thread bool tls_dead TT_TLS;
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static tt_thread *threads_all, *threads_free;
/* After a thread's teardown its allocations go through this one, locked. */
static tt_thread orphan;
static pthread_mutex_t orphan_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t thread_seq;

static void fold_all(tt_thread *t);

static void thread_reset(tt_thread *t)
{
    tt_thread *next_all = t->next_all;
    tt_stack_cache *cache = t->stack_cache;
    memset(t, 0, sizeof *t);
    t->next_all = next_all;
    t->stack_cache = cache;
    if (cache) /* another thread's stack: nothing in it holds */
        tt_stack_cache_clear(cache);
}

tt_stack_cache *tt_thread_stack_cache(void)
{
    tt_thread *t = tls_thread;
    if (TT_UNLIKELY(!t))
        return NULL; /* never take the orphan lock to unwind */
    if (TT_UNLIKELY(!t->stack_cache))
        t->stack_cache = tt_stack_cache_new();
    return t->stack_cache;
}

static void thread_exit(void *arg)
{
    tt_thread *t = arg;
    fold_all(t);
    tls_thread = NULL;
    tls_dead = true;
    pthread_mutex_lock(&threads_lock);
    thread_reset(t);
    t->next_free = threads_free;
    threads_free = t;
    pthread_mutex_unlock(&threads_lock);
}

static void make_key(void)
{
    pthread_key_create(&thread_key, thread_exit);
}

static tt_thread *thread_new(void)
{
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&threads_lock);
    tt_thread *t = threads_free;
    if (t) {
        threads_free = t->next_free;
        t->next_free = NULL;
    } else if ((t = tt_arena_alloc(sizeof *t)) != NULL) {
        t->next_all = threads_all;
        threads_all = t;
    }
    uint64_t seq = ++thread_seq;
    pthread_mutex_unlock(&threads_lock);
    if (!t)
        return NULL;
    /* Deterministic seeds: a sampled run is reproducible. */
    t->rng = 0x9e3779b97f4a7c15ULL * seq + 0x2545f4914f6cdd1dULL;
    atomic_fetch_add_explicit(&tt_g.threads, 1, memory_order_relaxed);
    pthread_setspecific(thread_key, t);
    tls_thread = t;
    return t;
}

tt_thread *tt_thread_enter(void)
{
    tt_thread *t = tls_thread;
    if (TT_LIKELY(t != NULL))
        return t;
    if (!tls_dead && (t = thread_new()) != NULL)
        return t;
    pthread_mutex_lock(&orphan_lock);
    return &orphan;
}

void tt_thread_leave(tt_thread *t)
{
    if (TT_UNLIKELY(t == &orphan)) {
        fold_all(t);
        pthread_mutex_unlock(&orphan_lock);
    }
}

bool tt_thread_sample(tt_thread *t, int64_t size)
{
    if (size <= 0)
        return false;
    t->sample_left -= size;
    if (t->sample_left > 0)
        return false;
    t->sample_left = tt_sample_next(&t->rng);
    return true;
}

void tt_thread_set_last(tt_thread *t, uint32_t stack, bool sampled)
{
    t->last_stack = stack;
    t->last_sampled = sampled;
}

void tt_thread_get_last(tt_thread *t, uint32_t *stack, bool *sampled)
{
    *stack = t->last_stack;
    *sampled = t->last_sampled;
}

/* ---- the thread's cache ---------------------------------------------------------- */
static ppend *ppend_get(tt_thread *t, int32_t id)
{
    ppend *pp = &t->pp[(uint32_t)id % NPPEND];
    if (TT_LIKELY(pp->used && pp->id == id))
        return pp;
    tt_pool *pool = tt_pool_get(id, true);
    if (!pool)
        return NULL;
    if (pp->dirty)
        fold_all(t);
    memset(pp, 0, sizeof *pp);
    pp->used = true;
    pp->id = id;
    pp->pool = pool;
    if (!atomic_load_explicit(&pool->active, memory_order_relaxed))
        atomic_store(&pool->active, 1);
    return pp;
}

static pend *pend_get(tt_thread *t, uint32_t stack, int32_t pool, tt_pool *pool_rec)
{
    uint64_t key = (uint64_t)stack << 32 | (uint32_t)pool;
    uint32_t slot = (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 57) & (NPEND - 1);
    pend *e = &t->pend[slot];
    if (TT_LIKELY(e->key == key))
        return e;
    tt_rec *rec = rec_get(stack, pool, pool_rec);
    if (!rec)
        return NULL;
    if (e->dirty)
        fold_all(t);
    memset(e, 0, sizeof *e);
    e->key = key;
    e->rec = rec;
    return e;
}

static inline void mark_pend(tt_thread *t, pend *e)
{
    if (!e->dirty) {
        e->dirty = true;
        t->dirty[t->ndirty++] = (uint16_t)(e - t->pend);
    }
}

static inline void mark_ppend(tt_thread *t, ppend *pp)
{
    if (!pp->dirty) {
        pp->dirty = true;
        t->pdirty[t->npdirty++] = (uint8_t)(pp - t->pp);
    }
}

static void fold_pend(pend *e, uint64_t global_epoch)
{
    tt_rec *r = e->rec;
    tt_spin_lock(&r->lock);
    if (r->saved_epoch != global_epoch) {
        r->saved_peak = r->live_bytes;
        r->saved_epoch = global_epoch;
    }
    uint64_t pe = atomic_load_explicit(&r->pool_rec->epoch, memory_order_acquire);
    if (r->saved_pool_epoch != pe) {
        r->saved_pool_peak = r->live_bytes;
        r->saved_pool_epoch = pe;
    }
    r->live_bytes += e->lb;
    r->live_count += e->lc;
    r->total_bytes += e->tb;
    r->total_count += e->tc;
    r->temp += e->tmp;
    tt_spin_unlock(&r->lock);
    e->lb = e->lc = e->tb = e->tc = e->tmp = 0;
    e->dirty = false;
}

static void fold_ppend(ppend *pp)
{
    tt_pool *p = pp->pool;
    tt_spin_lock(&p->lock);
    atomic_fetch_add_explicit(&p->current, pp->cur, memory_order_relaxed);
    p->live += pp->live;
    p->total += pp->total;
    p->count += pp->count;
    p->temp += pp->temp;
    for (int k = 0; k < TT_NBUCKETS; k++)
        p->hist[k] += pp->hist[k];
    tt_spin_unlock(&p->lock);
    int32_t id = pp->id;
    tt_pool *pool = pp->pool;
    memset(pp, 0, sizeof *pp);
    pp->used = true;
    pp->id = id;
    pp->pool = pool;
}

static void fold_all(tt_thread *t)
{
    if (t->ndirty || t->npdirty || t->net) {
        pthread_rwlock_rdlock(&tt_g.fold_lock);
        uint64_t ge = atomic_load_explicit(&tt_g.epoch, memory_order_acquire);
        for (int i = 0; i < t->ndirty; i++)
            fold_pend(&t->pend[t->dirty[i]], ge);
        for (int i = 0; i < t->npdirty; i++)
            fold_ppend(&t->pp[t->pdirty[i]]);
        atomic_fetch_add_explicit(&tt_g.current, t->net, memory_order_relaxed);
        pthread_rwlock_unlock(&tt_g.fold_lock);
    }
    t->ndirty = t->npdirty = 0;
    t->net = 0;
    t->ops = 0;
}

void tt_fold_self(void)
{
    tt_thread *t = tt_thread_enter();
    fold_all(t);
    tt_thread_leave(t);
}

static void global_peak(tt_thread *t)
{
    fold_all(t);
    pthread_mutex_lock(&tt_g.peak_lock);
    int64_t cur = atomic_load(&tt_g.current);
    if (cur > atomic_load(&tt_g.peak)) {
        atomic_store(&tt_g.peak, cur);
        tt_g.peak_ns = tt_now_ns() - tt_cfg.start_ns;
        atomic_fetch_add(&tt_g.epoch, 1);
        t->just_peaked = true;
    }
    pthread_mutex_unlock(&tt_g.peak_lock);
}

/* A wrapper pool books its block just after its parent did, and the parent's
 * booking may have made the peak: the wrapper's records belong to that peak
 * too. Fold them and open the epoch again; the peak itself is unchanged. */
static void global_peak_rejoin(tt_thread *t)
{
    fold_all(t);
    pthread_mutex_lock(&tt_g.peak_lock);
    atomic_fetch_add(&tt_g.epoch, 1);
    pthread_mutex_unlock(&tt_g.peak_lock);
}

static void pool_peak(tt_thread *t, tt_pool *p)
{
    fold_all(t);
    tt_spin_lock(&p->lock);
    int64_t cur = atomic_load(&p->current);
    if (cur > atomic_load(&p->peak)) {
        atomic_store(&p->peak, cur);
        p->peak_ns = tt_now_ns() - tt_cfg.start_ns;
        atomic_fetch_add(&p->epoch, 1);
    }
    tt_spin_unlock(&p->lock);
}

/* The global and pool figures are exact to within what threads hold back:
 * fold when this thread holds back TT_BATCH_BYTES of current bytes, net, or
 * has booked TT_BATCH_OPS times, so that totals stay fresh as well. */
static inline bool must_fold(const tt_thread *t, const ppend *pp)
{
    return (uint64_t)(t->net + TT_BATCH_BYTES) > 2 * TT_BATCH_BYTES ||
           (uint64_t)(pp->cur + TT_BATCH_BYTES) > 2 * TT_BATCH_BYTES || t->ops >= TT_BATCH_OPS;
}

static inline int bucket_of(int64_t size)
{
    return size <= 1 ? 0 : 63 - __builtin_clzll((unsigned long long)size);
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

/* A new block of size bytes: the pool's own books. */
static inline __attribute__((always_inline)) void pool_grow(tt_thread *t, ppend *pp, int64_t size)
{
    pp->cur += size;
    pp->live++;
    pp->total += size;
    pp->count++;
    pp->hist[bucket_of(size)]++;
    mark_ppend(t, pp);
}

/* After a new block is booked: the global and pool peaks, then the batch.
 * A wrapper pool's block is its parent's too, and counts once globally. */
static inline __attribute__((always_inline)) void after_grow(tt_thread *t, ppend *pp, uintptr_t ptr,
                                                             int64_t size, bool wrapper)
{
    t->ops++;
    t->last_ptr = ptr;
    tt_pool *p = pp->pool;
    if (wrapper) {
        p->wrapper = true;
        if (TT_UNLIKELY(t->just_peaked))
            global_peak_rejoin(t);
    } else {
        t->just_peaked = false;
        t->net += size;
        if (TT_UNLIKELY(atomic_load_explicit(&tt_g.current, memory_order_relaxed) + t->net >
                        atomic_load_explicit(&tt_g.peak, memory_order_relaxed)))
            global_peak(t);
    }
    if (TT_UNLIKELY(atomic_load_explicit(&p->current, memory_order_relaxed) + pp->cur >
                    atomic_load_explicit(&p->peak, memory_order_relaxed)))
        pool_peak(t, p);
    if (TT_UNLIKELY(must_fold(t, pp)))
        fold_all(t);
}

void tt_book_alloc(tt_thread *t, uintptr_t ptr, int64_t size, int32_t pool, uint32_t stack,
                   unsigned flags)
{
    ppend *pp = ppend_get(t, pool);
    if (!pp)
        return;
    pend *e = stack ? pend_get(t, stack, pool, pp->pool) : NULL;
    pool_grow(t, pp, size);
    if (e) {
        int64_t b, c;
        weights(size, flags, &b, &c);
        e->lb += b;
        e->lc += c;
        e->tb += b;
        e->tc += c;
        mark_pend(t, e);
    }
    after_grow(t, pp, ptr, size, flags & TT_FLAG_WRAPPER);
}

void tt_book_free(tt_thread *t, uintptr_t ptr, int64_t size, int32_t pool, uint32_t stack,
                  unsigned flags)
{
    ppend *pp = ppend_get(t, pool);
    if (!pp)
        return;
    pend *e = stack ? pend_get(t, stack, pool, pp->pool) : NULL;
    /* heaptrack's temporary: freed before this thread's next allocation. */
    bool temp = ptr == t->last_ptr;
    pp->cur -= size;
    pp->live--;
    pp->temp += temp;
    mark_ppend(t, pp);
    if (e) {
        int64_t b, c;
        weights(size, flags, &b, &c);
        e->lb -= b;
        e->lc -= c;
        if (temp)
            e->tmp += c;
        mark_pend(t, e);
    }
    t->ops++;
    if (!(flags & TT_FLAG_WRAPPER)) {
        t->net -= size;
        if (temp)
            t->last_ptr = 0;
    }
    if (TT_UNLIKELY(must_fold(t, pp)))
        fold_all(t);
}

/* ---- the sampled run's fast path -------------------------------------------------- */
static inline ppend *ppend_hit(tt_thread *t, int32_t pool)
{
    ppend *pp = &t->pp[(uint32_t)pool % NPPEND];
    return TT_LIKELY(pp->used && pp->id == pool) ? pp : NULL;
}

static inline __attribute__((always_inline)) bool unsampled_alloc(int32_t pool, uintptr_t ptr,
                                                                  int64_t size, bool wrapper)
{
    tt_thread *t = tls_thread;
    if (TT_UNLIKELY(!t))
        return false;
    ppend *pp = ppend_hit(t, pool);
    if (TT_UNLIKELY(!pp))
        return false;
    if (wrapper) {
        if (t->last_sampled)
            return false;
    } else {
        if (TT_UNLIKELY(t->sample_left - size <= 0 && size > 0))
            return false; /* this one is sampled */
        t->sample_left -= size;
        t->last_stack = 0;
        t->last_sampled = false;
    }
    pool_grow(t, pp, size);
    after_grow(t, pp, ptr, size, wrapper);
    return true;
}

static inline __attribute__((always_inline)) bool unsampled_free(int32_t pool, uintptr_t ptr,
                                                                 int64_t size, bool wrapper)
{
    tt_thread *t = tls_thread;
    if (TT_UNLIKELY(!t))
        return false;
    ppend *pp = ppend_hit(t, pool);
    if (TT_UNLIKELY(!pp))
        return false;
    bool temp = ptr == t->last_ptr;
    pp->cur -= size;
    pp->live--;
    pp->temp += temp;
    mark_ppend(t, pp);
    t->ops++;
    if (!wrapper) {
        t->net -= size;
        if (temp)
            t->last_ptr = 0;
    }
    if (TT_UNLIKELY(must_fold(t, pp)))
        fold_all(t);
    return true;
}

/* ---- the preload shim's unsampled blocks (track.h) ------------------------------------- */
TALLY_INTERNAL bool tally_track_untabled_alloc(void *ptr, int64_t size, int32_t pool_id, int skip,
                                               tally_stack_id *stack)
{
    if (tt_cfg.sample_bytes > 0) {
        if (unsampled_alloc(pool_id, (uintptr_t)ptr, size, false))
            return true;
        tt_thread *t = tt_thread_enter();
        bool sampled = tt_thread_sample(t, size);
        if (!sampled) {
            tt_thread_set_last(t, 0, false);
            tt_book_alloc(t, (uintptr_t)ptr, size, pool_id, 0, 0);
        }
        tt_thread_leave(t);
        if (!sampled)
            return true;
    }
    *stack = tt_capture(skip); /* no lock held while unwinding */
    return false;
}

TALLY_INTERNAL void tally_track_untabled_free(void *ptr, int64_t size, int32_t pool_id)
{
    if (unsampled_free(pool_id, (uintptr_t)ptr, size, false))
        return;
    tt_thread *t = tt_thread_enter();
    tt_book_free(t, (uintptr_t)ptr, size, pool_id, 0, 0);
    tt_thread_leave(t);
}

bool tt_book_unsampled_alloc(int32_t pool, uintptr_t ptr, int64_t size, bool wrapper)
{
    return unsampled_alloc(pool, ptr, size, wrapper);
}

bool tt_book_unsampled_free(int32_t pool, uintptr_t ptr, int64_t size, bool wrapper)
{
    return unsampled_free(pool, ptr, size, wrapper);
}

/* ---- fork ---------------------------------------------------------------------------- */
void tt_books_lock_all(void)
{
    pthread_mutex_lock(&orphan_lock);
    pthread_mutex_lock(&threads_lock);
    pthread_rwlock_wrlock(&tt_g.fold_lock);
    pthread_mutex_lock(&tt_g.peak_lock);
    pthread_mutex_lock(&rec_lock);
    pthread_mutex_lock(&pool_lock);
}

void tt_books_unlock_all(void)
{
    pthread_mutex_unlock(&pool_lock);
    pthread_mutex_unlock(&rec_lock);
    pthread_mutex_unlock(&tt_g.peak_lock);
    pthread_rwlock_unlock(&tt_g.fold_lock);
    pthread_mutex_unlock(&threads_lock);
    pthread_mutex_unlock(&orphan_lock);
}

/* In the child only this thread survives: the others' pending books are part
 * of what the child inherited, so fold them, and free their records. */
void tt_books_fork_child(void)
{
    pthread_mutex_init(&pool_lock, NULL);
    pthread_mutex_init(&rec_lock, NULL);
    pthread_mutex_init(&tt_g.peak_lock, NULL);
    pthread_rwlock_init(&tt_g.fold_lock, NULL);
    pthread_mutex_init(&threads_lock, NULL);
    pthread_mutex_init(&orphan_lock, NULL);
    int alive = 0;
    for (tt_thread *t = threads_all; t; t = t->next_all) {
        bool is_free = false;
        for (tt_thread *f = threads_free; f; f = f->next_free)
            if (f == t)
                is_free = true;
        if (is_free)
            continue;
        if (t == tls_thread) {
            alive++;
            continue;
        }
        fold_all(t);
        thread_reset(t);
        t->next_free = threads_free;
        threads_free = t;
    }
    fold_all(&orphan);
    atomic_store(&tt_g.threads, alive ? alive : 1);
}
