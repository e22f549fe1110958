/* thread.h: the tracking core's per-thread state.
 *
 * Each thread that books gets a tt_thread (from base/tcache.h: mmap'd,
 * reused after the thread exits, folded at its exit and in a forked child).
 * It holds the thread's sampling generator, the stack cache, the ledger's
 * unfolded changes, and what a wrapper pool's booking reuses from its
 * parent's a moment before. Only its own thread touches it, so no lock.
 *
 * After a thread's teardown (a later TLS destructor that frees) there is
 * no tt_thread for it: tt_thread_enter then hands out the one "late" state,
 * under a mutex, folded at every tt_thread_leave. */
#ifndef TALLY_TRACK_THREAD_H
#define TALLY_TRACK_THREAD_H

#include "base/tcache.h"
#include "track/config.h"
#include "track/ledger.h"
#include "track/unwind.h"

typedef struct tt_thread {
    base_tcache_head head;
    tt_stack_cache *stack_cache; /* mmap'd on first use, kept across reuse */
    uint64_t rng;
    uint32_t last_stack; /* the last non-wrapper pool block's, for its wrappers */
    bool last_sampled;
    uint16_t clock_countdown; /* captures until this thread next reads the clock */
    tt_ledger_cache books;
} tt_thread;

/* This thread's state, or NULL before its first booking or after its exit:
 * the fast paths' one TLS load. */
extern __thread tt_thread *tt_thread_tls TT_TLS;
static inline tt_thread *tt_thread_current(void)
{
    return tt_thread_tls;
}

tt_thread *tt_thread_enter_slow(void);
void tt_thread_leave_late(tt_thread *t);

/* This thread's state, made on first use, or the late state (locked until
 * tt_thread_leave). Never NULL. */
static inline tt_thread *tt_thread_enter(void)
{
    tt_thread *t = tt_thread_tls;
    return TT_LIKELY(t != NULL) ? t : tt_thread_enter_slow();
}

/* The late state is the one that was never attached to a thread. */
static inline void tt_thread_leave(tt_thread *t)
{
    if (TT_UNLIKELY(t->head.cls == NULL))
        tt_thread_leave_late(t);
}
/* The thread's stack cache; NULL when it cannot have one (late, no memory).
 * Inline once made: every capture asks. The late state never gets one, so
 * it always takes the call, which says no. */
tt_stack_cache *tt_thread_stack_cache_make(tt_thread *t);
static inline tt_stack_cache *tt_thread_stack_cache(tt_thread *t)
{
    return TT_LIKELY(t->stack_cache != NULL) ? t->stack_cache : tt_thread_stack_cache_make(t);
}
/* Folds the calling thread's books. */
void tt_thread_fold_self(void);

/* fork, after the ledger's locks: see lifecycle.c for the order. */
void tt_thread_fork_prepare(void);
void tt_thread_fork_parent(void);
void tt_thread_fork_child(void);

#endif
