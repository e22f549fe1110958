/* ledger_records.c: where the shared books live: the global figures
 * (tt_g), pools found by id in a directory of chunks, and sites by (stack,
 * pool) in a hash table with a directory by stack id in front. Pools and
 * sites are read without a lock (records are published with a release store
 * and never freed); a new record takes the directory's or the table's
 * mutex. */
#include "track/ledger.h"

#include "base/mem.h"

#include <string.h>

tt_global tt_g = {
    .peak_lock = PTHREAD_MUTEX_INITIALIZER,
    .fold_lock = PTHREAD_RWLOCK_INITIALIZER,
};

/* ---- pools ---------------------------------------------------------------- */
#define POOL_CHUNK 256
static _Atomic(tt_pool_books *) pool_dir[TT_MAX_POOLS / POOL_CHUNK];
static _Atomic int32_t pool_max = 0;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

tt_pool_books *tt_pool_books_get(int32_t id, bool create)
{
    if (id < 0 || id >= TT_MAX_POOLS)
        return NULL;
    tt_pool_books *chunk = atomic_load_explicit(&pool_dir[id / POOL_CHUNK], memory_order_acquire);
    if (TT_UNLIKELY(!chunk)) {
        if (!create)
            return NULL;
        pthread_mutex_lock(&pool_lock);
        chunk = atomic_load_explicit(&pool_dir[id / POOL_CHUNK], memory_order_relaxed);
        if (!chunk) {
            chunk = base_arena_alloc(POOL_CHUNK * sizeof *chunk);
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

TALLY_INTERNAL void tally_track_name_pool(int32_t id, const char *name)
{
    tt_pool_books *p = tt_pool_books_get(id, true);
    if (!p)
        return;
    base_spin_lock(&p->lock);
    size_t n = name ? strnlen(name, sizeof p->name - 1) : 0;
    memcpy(p->name, name ? name : "", n);
    p->name[n] = '\0';
    base_spin_unlock(&p->lock);
}

/* ---- sites ------------------------------------------------------------------- */
#define SITE_BUCKETS (1u << 16)
static _Atomic(tt_site_books *) *site_buckets;
/* Newest first. New sites are prepended (under site_lock) while readers
 * walk without it: a walk from one head sees a list that never changes. */
static _Atomic(tt_site_books *) site_all;
static pthread_mutex_t site_lock = PTHREAD_MUTEX_INITIALIZER;

static inline uint32_t site_hash(uint64_t key)
{
    key *= 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(key >> 40) & (SITE_BUCKETS - 1);
}

static tt_site_books *find_in(tt_site_books *r, uint32_t stack, int32_t pool)
{
    for (; r; r = r->next)
        if (r->stack == stack && r->pool == pool)
            return r;
    return NULL;
}

/* Sites by stack id, for the first pool a stack was booked to (nearly
 * always its only one). Stack ids are dense, so a program's sites are found
 * in a few cache lines of this directory, where the hash's buckets each take
 * a line of their own: on cc1 full, that bucket's cache miss was 6% of the
 * run. Other pools of a stack go to the hash alone. */
#define SITE_DIR_CHUNK 4096
#define SITE_DIR_SIZE 1024 /* 4M stack ids, as many as the stack table holds */
static _Atomic(_Atomic(tt_site_books *) *) site_dir[SITE_DIR_SIZE];

static _Atomic(tt_site_books *) *site_dir_chunk(uint32_t stack, bool create)
{
    if (stack / SITE_DIR_CHUNK >= SITE_DIR_SIZE)
        return NULL;
    _Atomic(_Atomic(tt_site_books *) *) *at = &site_dir[stack / SITE_DIR_CHUNK];
    _Atomic(tt_site_books *) *chunk = atomic_load_explicit(at, memory_order_acquire);
    if (!chunk && create) { /* under site_lock */
        chunk = base_map(SITE_DIR_CHUNK * sizeof *chunk);
        atomic_store_explicit(at, chunk, memory_order_release);
    }
    return chunk;
}

tt_site_books *tt_site_books_get(uint32_t stack, int32_t pool, tt_pool_books *pool_books)
{
    _Atomic(tt_site_books *) *chunk = site_dir_chunk(stack, false);
    if (TT_LIKELY(chunk != NULL)) {
        tt_site_books *r =
            atomic_load_explicit(&chunk[stack % SITE_DIR_CHUNK], memory_order_acquire);
        if (TT_LIKELY(r != NULL && r->pool == pool))
            return r;
    }
    uint64_t key = (uint64_t)stack << 32 | (uint32_t)pool;
    _Atomic(tt_site_books *) *buckets = atomic_load_explicit(
        (_Atomic(_Atomic(tt_site_books *) *) *)&site_buckets, memory_order_acquire);
    if (buckets) {
        tt_site_books *r = find_in(
            atomic_load_explicit(&buckets[site_hash(key)], memory_order_acquire), stack, pool);
        if (r)
            return r;
    }
    pthread_mutex_lock(&site_lock);
    if (!site_buckets)
        atomic_store_explicit((_Atomic(_Atomic(tt_site_books *) *) *)&site_buckets,
                              base_map(SITE_BUCKETS * sizeof(tt_site_books *)),
                              memory_order_release);
    tt_site_books *r = NULL;
    if (site_buckets) {
        _Atomic(tt_site_books *) *b = &site_buckets[site_hash(key)];
        r = find_in(atomic_load_explicit(b, memory_order_relaxed), stack, pool);
        if (!r && (r = base_arena_alloc(sizeof *r)) != NULL) {
            r->stack = stack;
            r->pool = pool;
            r->pool_books = pool_books;
            /* It held nothing at any earlier peak. */
            r->saved_epoch = atomic_load(&tt_g.epoch);
            r->saved_pool_epoch = atomic_load(&pool_books->epoch);
            r->next = atomic_load_explicit(b, memory_order_relaxed);
            r->next_all = atomic_load_explicit(&site_all, memory_order_relaxed);
            atomic_store_explicit(&site_all, r, memory_order_release);
            atomic_store_explicit(b, r, memory_order_release);
        }
        /* The directory holds a stack's first site: once set, a slot stays. */
        chunk = r ? site_dir_chunk(stack, true) : NULL;
        if (chunk && !atomic_load_explicit(&chunk[stack % SITE_DIR_CHUNK], memory_order_relaxed))
            atomic_store_explicit(&chunk[stack % SITE_DIR_CHUNK], r, memory_order_release);
    }
    pthread_mutex_unlock(&site_lock);
    return r;
}

tt_site_books *tt_site_books_first(void)
{
    return atomic_load_explicit(&site_all, memory_order_acquire);
}

/* In the order a fold, a new peak and a new record nest. */
void tt_ledger_lock_all(void)
{
    pthread_rwlock_wrlock(&tt_g.fold_lock);
    pthread_mutex_lock(&tt_g.peak_lock);
    pthread_mutex_lock(&site_lock);
    pthread_mutex_lock(&pool_lock);
}

void tt_ledger_unlock_all(void)
{
    pthread_mutex_unlock(&pool_lock);
    pthread_mutex_unlock(&site_lock);
    pthread_mutex_unlock(&tt_g.peak_lock);
    pthread_rwlock_unlock(&tt_g.fold_lock);
}

void tt_ledger_fork_child(void)
{
    pthread_mutex_init(&pool_lock, NULL);
    pthread_mutex_init(&site_lock, NULL);
    pthread_mutex_init(&tt_g.peak_lock, NULL);
    pthread_rwlock_init(&tt_g.fold_lock, NULL);
}
