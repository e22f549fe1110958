/* thread.c: per-thread state (thread.h) and the late state after teardown. */
#include "track/thread.h"

#include <stddef.h>
#include <string.h>

__thread tt_thread *tt_thread_tls TT_TLS;
static __thread bool tls_dead TT_TLS;

static void thread_fold(base_tcache_head *h);
static void thread_recycle(base_tcache_head *h, bool by_owner);
static base_tcache_class thread_class = BASE_TCACHE_CLASS(tt_thread, thread_fold, thread_recycle);

static tt_thread late;
static pthread_mutex_t late_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t thread_seq;

static void thread_fold(base_tcache_head *h)
{
    tt_ledger_fold(&((tt_thread *)h)->books);
}

/* Everything but the stack cache, which is kept (cleared: nothing in it
 * holds for another thread's stack), and, when the thread folded its own
 * books, their site slots, which hold for any thread
 * (tt_ledger_cache_reset). In a forked child a booking may be half made
 * among the books of a thread fork stopped (a site marked dirty, not yet
 * on the dirty list): there the slots are cleared with the rest. */
static void thread_recycle(base_tcache_head *h, bool by_owner)
{
    _Static_assert(offsetof(tt_thread, books) + sizeof(tt_ledger_cache) == sizeof(tt_thread),
                   "the books end the thread's state");
    tt_thread *t = (tt_thread *)h;
    tt_stack_cache *cache = t->stack_cache;
    if (by_owner) {
        memset((char *)t + sizeof t->head, 0, offsetof(tt_thread, books) - sizeof t->head);
        tt_ledger_cache_reset(&t->books);
    } else {
        memset((char *)t + sizeof t->head, 0, sizeof *t - sizeof t->head);
    }
    t->stack_cache = cache;
    if (cache)
        tt_stack_cache_clear(cache);
}

static tt_thread *thread_new(void)
{
    tt_thread *t =
        (tt_thread *)base_tcache_attach(&thread_class, (void **)&tt_thread_tls, &tls_dead);
    if (!t)
        return NULL;
    /* Deterministic seeds: a sampled run is reproducible. */
    uint64_t seq = atomic_fetch_add(&thread_seq, 1) + 1;
    t->rng = 0x9e3779b97f4a7c15ULL * seq + 0x2545f4914f6cdd1dULL;
    atomic_fetch_add_explicit(&tt_g.threads, 1, memory_order_relaxed);
    return t;
}

tt_thread *tt_thread_enter_slow(void)
{
    tt_thread *t = thread_new();
    if (t)
        return t;
    pthread_mutex_lock(&late_lock);
    return &late;
}

void tt_thread_leave_late(tt_thread *t)
{
    TALLY_ASSERT(t == &late);
    tt_ledger_fold(&t->books);
    pthread_mutex_unlock(&late_lock);
}

tt_stack_cache *tt_thread_stack_cache_make(tt_thread *t)
{
    if (t == &late)
        return NULL; /* never unwind under the late lock */
    TALLY_ASSERT(t->stack_cache == NULL);
    t->stack_cache = tt_stack_cache_new();
    return t->stack_cache;
}

void tt_thread_fold_self(void)
{
    tt_thread *t = tt_thread_enter();
    tt_ledger_fold(&t->books);
    tt_thread_leave(t);
}

void tt_thread_fork_prepare(void)
{
    pthread_mutex_lock(&late_lock);
    base_tcache_fork_prepare(&thread_class);
}

void tt_thread_fork_parent(void)
{
    base_tcache_fork_parent(&thread_class);
    pthread_mutex_unlock(&late_lock);
}

/* Only this thread lives on: the others' unfolded books describe memory the
 * child inherited, so they are folded (the ledger's locks are fresh by now). */
void tt_thread_fork_child(void)
{
    pthread_mutex_init(&late_lock, NULL);
    int alive = base_tcache_fork_child(&thread_class, tt_thread_tls ? &tt_thread_tls->head : NULL);
    tt_ledger_fold(&late.books);
    atomic_store(&tt_g.threads, alive ? alive : 1);
}
