/* tcache.h: one cache per thread, folded into shared books.
 *
 * Counters that every thread touches on every call bounce their cache line
 * between cores, so tally's two ledgers (the pools' statistics in lib/pool
 * and the tracking core's per-stack books in lib/track) each keep a small
 * cache per thread, written with plain stores, and fold it into the shared
 * books now and then. What both need around such a cache is the same, and
 * lives here once:
 *
 *   - a registry of the live threads' caches, and a free list of those whose
 *     thread exited (caches are reused, never unmapped);
 *   - memory from mmap, never malloc (malloc may be the tracked path);
 *   - a pthread key whose destructor folds the cache at thread exit, so a
 *     joiner reads books that include all the thread did;
 *   - the thread's initial-exec TLS pointer, cleared at exit, and a "dead"
 *     flag that sends a late caller (a later TLS destructor that frees) to
 *     its ledger's shared path;
 *   - a spin lock per cache, taken by the owner to fold and by another thread
 *     to fold the cache for it (a pool being destroyed), never otherwise;
 *   - fork: every lock taken before, and in the child, where only the
 *     forking thread lives on, the other threads' caches folded and freed.
 *
 * A ledger embeds base_tcache_head first in its cache struct, describes the
 * struct in a base_tcache_class, and keeps its own TLS pointer (it must be
 * its own variable for the fast path to be one TLS load). */
#ifndef TALLY_BASE_TCACHE_H
#define TALLY_BASE_TCACHE_H

#include "base/spin.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct base_tcache_head base_tcache_head;
struct base_tcache_head {
    base_tcache_head *next; /* the registry, or the free list */
    base_spin lock;
    struct base_tcache_class *cls;
    /* The owning thread's TLS pointer and dead flag (addresses inside its
     * TLS block), for the exit destructor, which runs on that thread. */
    void **tls;
    bool *dead;
};

typedef struct base_tcache_class {
    size_t size; /* of the whole cache, head first */
    /* Moves the cache's changes into the shared books. Called with the
     * cache's lock held (or in a forked child, with no other thread). */
    void (*fold)(base_tcache_head *h);
    /* Makes a folded cache ready for another thread; NULL: zero all after
     * the head. by_owner: its own thread folded it, as it exited (or it
     * was never used). False in a forked child, for the threads fork
     * stopped: anywhere, perhaps halfway through a change to the cache. */
    void (*recycle)(base_tcache_head *h, bool by_owner);

    /* Private: initialise with BASE_TCACHE_CLASS. */
    pthread_mutex_t lock;
    base_tcache_head *live, *free_list;
    uint8_t *chunk_cur, *chunk_end;
    pthread_key_t key;
    int key_state; /* 0: not made yet, 1: made, -1: failed */
} base_tcache_class;

#define BASE_TCACHE_CLASS(type, fold_fn, recycle_fn)                                               \
    {                                                                                              \
        .size = sizeof(type), .fold = (fold_fn), .recycle = (recycle_fn),                          \
        .lock = PTHREAD_MUTEX_INITIALIZER                                                          \
    }

/* The calling thread's new cache, stored in *tls too; NULL when the thread
 * has already exited (*dead set) or no memory is left. The slow path of a
 * thread's first booking. */
base_tcache_head *base_tcache_attach(base_tcache_class *c, void **tls, bool *dead);

static inline void base_tcache_lock(base_tcache_head *h)
{
    base_spin_lock(&h->lock);
}
static inline void base_tcache_unlock(base_tcache_head *h)
{
    base_spin_unlock(&h->lock);
}

/* Calls fn for every live thread's cache, with the registry locked (fn may
 * take a cache's lock). */
void base_tcache_foreach(base_tcache_class *c, void (*fn)(base_tcache_head *h, void *arg),
                         void *arg);

/* fork: prepare takes the registry lock and every cache's lock; parent
 * releases them; child folds and frees every cache but `self` (the forking
 * thread's, or NULL) and releases them. Returns the caches still live. */
void base_tcache_fork_prepare(base_tcache_class *c);
void base_tcache_fork_parent(base_tcache_class *c);
int base_tcache_fork_child(base_tcache_class *c, base_tcache_head *self);

#endif
