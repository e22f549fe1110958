/* thread_books.c: the per-thread caches' slow paths and folding.
 *
 * The caches' registry, memory, thread exit and fork are base/tcache.c's;
 * this file says what folding a slot means for a pool's books. Nothing here
 * calls malloc (under the preload shim malloc is the tracked path). */
#include <config.h>

#include "pool/thread_books.h"

#include "base/assert.h"

#include <pthread.h>
#include <stdint.h>

__thread pool_thread_books *pool_books_tls __attribute__((tls_model("initial-exec")));
/* Set at thread exit: after it, this thread books straight into the shared
 * books (a later TLS destructor may still free through a pool). */
static __thread bool books_dead __attribute__((tls_model("initial-exec")));

static void fold_and_empty(base_tcache_head *h);
static base_tcache_class books_class = BASE_TCACHE_CLASS(pool_thread_books, fold_and_empty, NULL);
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void peak_at_least(pool_stats *g, int64_t v)
{
    int64_t peak = atomic_load_explicit(&g->peak, memory_order_relaxed);
    while (v > peak && !atomic_compare_exchange_weak_explicit(
                           &g->peak, &peak, v, memory_order_relaxed, memory_order_relaxed))
        ;
}

/* Moves the slot's changes into the shared books; the caller holds the
 * cache's lock (or is the only thread left, after fork). With one thread,
 * current before the fold plus the slot's high-water mark is exactly the
 * peak reached during the batch. */
static void fold_locked(pool_books_slot *s)
{
    pool_stats *g = atomic_load_explicit(&s->stats, memory_order_relaxed);
    TALLY_ASSERT(g != NULL || (s->up | s->down) == 0);
    TALLY_ASSERT(s->hwm >= 0);
    if (g && (s->up | s->down)) {
        int64_t total = POOL_BOOKS_BYTES(s->up), count = POOL_BOOKS_CALLS(s->up);
        int64_t before = atomic_fetch_add_explicit(&g->current, total - POOL_BOOKS_BYTES(s->down),
                                                   memory_order_relaxed);
        peak_at_least(g, before + s->hwm);
        int64_t live = count - s->growths - POOL_BOOKS_CALLS(s->down);
        if (total)
            atomic_fetch_add_explicit(&g->total, total, memory_order_relaxed);
        if (count)
            atomic_fetch_add_explicit(&g->count, count, memory_order_relaxed);
        if (live)
            atomic_fetch_add_explicit(&g->live, live, memory_order_relaxed);
    }
    s->up = s->down = 0;
    s->hwm = s->growths = 0;
}

void pool_books_fold_slot(pool_thread_books *t, pool_books_slot *s)
{
    base_tcache_lock(&t->head);
    fold_locked(s);
    base_tcache_unlock(&t->head);
}

/* The whole cache, at its thread's exit or in a forked child: no slot may
 * name a pool afterwards. */
static void fold_and_empty(base_tcache_head *h)
{
    pool_thread_books *t = (pool_thread_books *)h;
    for (int i = 0; i < POOL_BOOKS_SLOTS; i++) {
        fold_locked(&t->slot[i]);
        atomic_store_explicit(&t->slot[i].stats, NULL, memory_order_relaxed);
    }
}

static void fork_prepare(void)
{
    base_tcache_fork_prepare(&books_class);
}

static void fork_parent(void)
{
    base_tcache_fork_parent(&books_class);
}

static void fork_child(void)
{
    base_tcache_fork_child(&books_class, pool_books_tls ? &pool_books_tls->head : NULL);
}

static void register_atfork(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static pool_thread_books *cache_new(void)
{
    pthread_once(&atfork_once, register_atfork);
    return (pool_thread_books *)base_tcache_attach(&books_class, (void **)&pool_books_tls,
                                                   &books_dead);
}

void pool_books_slow(pool_stats *stats, int32_t id, int64_t n, bool block, bool alloc)
{
    pool_thread_books *t = pool_books_tls;
    if (!t)
        t = cache_new();
    if (!t) {
        /* No cache (thread exited, or no memory): the shared books, exactly. */
        if (alloc) {
            int64_t now;
            pool_stats_reserve(stats, n, INT64_MAX, &now);
            pool_stats_commit(stats, n, now, block);
        } else
            pool_stats_release(stats, n, block);
        return;
    }
    pool_books_slot *s = &t->slot[(uint32_t)id & (POOL_BOOKS_SLOTS - 1)];
    base_tcache_lock(&t->head);
    if (atomic_load_explicit(&s->stats, memory_order_relaxed) != stats) {
        fold_locked(s);
        atomic_store_explicit(&s->stats, stats, memory_order_relaxed);
    }
    base_tcache_unlock(&t->head);
    if (alloc)
        pool_books_alloc(s, stats, id, n, block);
    else
        pool_books_release(s, stats, id, n, block);
}

void pool_books_flush(pool_stats *stats, int32_t id)
{
    pool_books_slot *s = pool_books_lookup(stats, id);
    if (s)
        pool_books_fold_slot(pool_books_tls, s);
}

struct forget {
    pool_stats *stats;
    int32_t id;
};

static void forget_in(base_tcache_head *h, void *arg)
{
    const struct forget *f = arg;
    pool_thread_books *t = (pool_thread_books *)h;
    pool_books_slot *s = &t->slot[(uint32_t)f->id & (POOL_BOOKS_SLOTS - 1)];
    base_tcache_lock(h);
    if (atomic_load_explicit(&s->stats, memory_order_relaxed) == f->stats) {
        fold_locked(s);
        atomic_store_explicit(&s->stats, NULL, memory_order_relaxed);
    }
    base_tcache_unlock(h);
}

void pool_books_forget(pool_stats *stats, int32_t id)
{
    struct forget f = {stats, id};
    base_tcache_foreach(&books_class, forget_in, &f);
}
