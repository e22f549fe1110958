/* thread_books.c: the per-thread caches' slow paths, folding, thread exit,
 * pool destruction and fork.
 *
 * Nothing here calls malloc (under the preload shim malloc is the tracked
 * path): caches are carved from mmap'd chunks and reused after their thread
 * exits. Locks: the registry lock, then a cache's lock, never the reverse. */
#include "pool/thread_books.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>

__thread tally_thread_books *tally_books_tls __attribute__((tls_model("initial-exec")));
/* Set at thread exit: after it, this thread books straight into the shared
 * books (a later TLS destructor may still free through a pool). */
static __thread bool books_dead __attribute__((tls_model("initial-exec")));

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static tally_thread_books *registry;  /* caches of live threads */
static tally_thread_books *free_list; /* caches of exited threads, empty */
static uint8_t *chunk_cur, *chunk_end;
static pthread_key_t exit_key;
static bool have_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* A cache line each, so that two threads' caches never share one. */
#define CACHE_BYTES ((sizeof(tally_thread_books) + 63) & ~(size_t)63)
#define CHUNK_BYTES (64 * 1024)

static void cache_lock(tally_thread_books *t)
{
    while (atomic_exchange_explicit(&t->lock, 1, memory_order_acquire))
        sched_yield(); /* held only by a fold, which does not wait on anything */
}

static void cache_unlock(tally_thread_books *t)
{
    atomic_store_explicit(&t->lock, 0, memory_order_release);
}

static void peak_at_least(tally_stats *g, int64_t v)
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
static void fold_locked(tally_books_slot *s)
{
    tally_stats *g = atomic_load_explicit(&s->stats, memory_order_relaxed);
    if (g && (s->up | s->down)) {
        int64_t total = TALLY_BOOKS_BYTES(s->up), count = TALLY_BOOKS_CALLS(s->up);
        int64_t before = atomic_fetch_add_explicit(&g->current, total - TALLY_BOOKS_BYTES(s->down),
                                                   memory_order_relaxed);
        peak_at_least(g, before + s->hwm);
        int64_t live = count - s->growths - TALLY_BOOKS_CALLS(s->down);
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

void tally_books_fold_slot(tally_thread_books *t, tally_books_slot *s)
{
    cache_lock(t);
    fold_locked(s);
    cache_unlock(t);
}

static void fold_and_empty(tally_thread_books *t)
{
    for (int i = 0; i < TALLY_BOOKS_SLOTS; i++) {
        fold_locked(&t->slot[i]);
        atomic_store_explicit(&t->slot[i].stats, NULL, memory_order_relaxed);
    }
}

/* Caller holds registry_lock. */
static void unregister(tally_thread_books *t)
{
    for (tally_thread_books **pp = &registry; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    t->next = free_list;
    free_list = t;
}

/* The pthread key's destructor: pthread_join returns after it, so a joiner
 * reads books that include everything the thread did. */
static void thread_exit(void *arg)
{
    tally_thread_books *t = arg;
    books_dead = true;
    tally_books_tls = NULL;
    cache_lock(t);
    fold_and_empty(t);
    cache_unlock(t);
    pthread_mutex_lock(&registry_lock);
    unregister(t);
    pthread_mutex_unlock(&registry_lock);
}

/* fork: no fold may be half done in the child, so take every cache's lock. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    for (tally_thread_books *t = registry; t; t = t->next)
        cache_lock(t);
}

static void fork_parent(void)
{
    for (tally_thread_books *t = registry; t; t = t->next)
        cache_unlock(t);
    pthread_mutex_unlock(&registry_lock);
}

/* Only the forking thread lives on in the child: the others' unfolded books
 * describe memory the child inherited, so fold them, and free their caches. */
static void fork_child(void)
{
    tally_thread_books **pp = &registry;
    while (*pp) {
        tally_thread_books *t = *pp;
        atomic_store_explicit(&t->lock, 0, memory_order_relaxed);
        if (t == tally_books_tls) {
            pp = &t->next;
            continue;
        }
        fold_and_empty(t);
        *pp = t->next;
        t->next = free_list;
        free_list = t;
    }
    pthread_mutex_unlock(&registry_lock);
}

static void init(void)
{
    have_key = pthread_key_create(&exit_key, thread_exit) == 0;
    if (have_key)
        pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Caller holds registry_lock. */
static tally_thread_books *cache_take(void)
{
    tally_thread_books *t = free_list;
    if (t) {
        free_list = t->next;
        return t;
    }
    if ((size_t)(chunk_end - chunk_cur) < CACHE_BYTES) {
        void *p =
            mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        /* Off the start of the page: allocators keep their hot metadata at
         * small page offsets, and a store here that shares an address's low
         * 12 bits with their next load stalls it (4K aliasing). */
        chunk_cur = (uint8_t *)p + 13 * 64;
        chunk_end = (uint8_t *)p + CHUNK_BYTES;
    }
    t = (tally_thread_books *)chunk_cur; /* zero from mmap */
    chunk_cur += CACHE_BYTES;
    return t;
}

static tally_thread_books *cache_new(void)
{
    pthread_once(&init_once, init);
    if (!have_key)
        return NULL;
    pthread_mutex_lock(&registry_lock);
    tally_thread_books *t = cache_take();
    if (t) {
        t->next = registry;
        registry = t;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!t)
        return NULL;
    if (pthread_setspecific(exit_key, t) != 0) {
        pthread_mutex_lock(&registry_lock);
        unregister(t);
        pthread_mutex_unlock(&registry_lock);
        return NULL;
    }
    tally_books_tls = t;
    return t;
}

void tally_books_slow(tally_stats *stats, int32_t id, int64_t n, bool block, bool alloc)
{
    tally_thread_books *t = tally_books_tls;
    if (!t && !books_dead)
        t = cache_new();
    if (!t) {
        /* No cache (thread exited, or no memory): the shared books, exactly. */
        if (alloc) {
            int64_t now;
            tally_stats_reserve(stats, n, INT64_MAX, &now);
            tally_stats_commit(stats, n, now, block);
        } else
            tally_stats_release(stats, n, block);
        return;
    }
    tally_books_slot *s = &t->slot[(uint32_t)id & (TALLY_BOOKS_SLOTS - 1)];
    cache_lock(t);
    if (atomic_load_explicit(&s->stats, memory_order_relaxed) != stats) {
        fold_locked(s);
        atomic_store_explicit(&s->stats, stats, memory_order_relaxed);
    }
    cache_unlock(t);
    if (alloc)
        tally_books_alloc(s, stats, id, n, block);
    else
        tally_books_release(s, stats, id, n, block);
}

void tally_books_flush(tally_stats *stats, int32_t id)
{
    tally_books_slot *s = tally_books_lookup(stats, id);
    if (s)
        tally_books_fold_slot(tally_books_tls, s);
}

void tally_books_forget(tally_stats *stats, int32_t id)
{
    pthread_mutex_lock(&registry_lock);
    for (tally_thread_books *t = registry; t; t = t->next) {
        tally_books_slot *s = &t->slot[(uint32_t)id & (TALLY_BOOKS_SLOTS - 1)];
        cache_lock(t);
        if (atomic_load_explicit(&s->stats, memory_order_relaxed) == stats) {
            fold_locked(s);
            atomic_store_explicit(&s->stats, NULL, memory_order_relaxed);
        }
        cache_unlock(t);
    }
    pthread_mutex_unlock(&registry_lock);
}
