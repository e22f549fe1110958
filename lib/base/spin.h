/* spin.h: a small spin lock, for critical sections of a few instructions.
 *
 * Never held while unwinding or while waiting on anything else, so a waiter
 * only ever waits for a few stores; sched_yield keeps a waiter from burning
 * the holder's core when the two share one. */
#ifndef TALLY_BASE_SPIN_H
#define TALLY_BASE_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
    _Atomic int v;
} base_spin;

static inline void base_spin_lock(base_spin *l)
{
    while (atomic_exchange_explicit(&l->v, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&l->v, memory_order_relaxed))
            sched_yield();
    }
}

/* One attempt: for a caller that must not wait (another thread, stopped,
 * may hold the lock forever). */
static inline bool base_spin_trylock(base_spin *l)
{
    return !atomic_exchange_explicit(&l->v, 1, memory_order_acquire);
}

static inline void base_spin_unlock(base_spin *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* After fork, in the child: whoever held it is gone. */
static inline void base_spin_reset(base_spin *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_relaxed);
}

#endif
