/* libunwind_load.h: libunwind, dlopen'ed when tracking starts and started
 * the first time a walk needs it (libunwind_load.c). Not linked: its names
 * stay out of the program's scope. */
#ifndef TALLY_TRACK_LIBUNWIND_LOAD_H
#define TALLY_TRACK_LIBUNWIND_LOAD_H

#include "track/config.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdatomic.h>
#include <stdbool.h>

/* libunwind's entry points, bound before tt_libunwind_state says started. */
typedef struct {
    int (*backtrace)(void **, int);
    int (*getcontext)(unw_context_t *);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
} tt_libunwind_fns;
extern tt_libunwind_fns tt_lu;

enum { TT_LIBUNWIND_NOT_YET, TT_LIBUNWIND_STARTED, TT_LIBUNWIND_MISSING };
extern _Atomic int tt_libunwind_state;

/* At tracking's start, before the program runs: dlopen cannot wait for the
 * first walk, which may be a signal handler's. */
void tt_libunwind_load(void);
bool tt_libunwind_start(void);

/* libunwind is loaded and started, now if need be: call before any of
 * tt_lu's functions. False, and no walk may be made, when it cannot be
 * loaded, or in a signal handler that interrupted its start on its own
 * thread. */
static inline bool tt_libunwind_ready(void)
{
    return TT_LIKELY(atomic_load_explicit(&tt_libunwind_state, memory_order_acquire) ==
                     TT_LIBUNWIND_STARTED) ||
           tt_libunwind_start();
}

/* fork: no start is under way while the lock is held. */
void tt_libunwind_lock(void);
void tt_libunwind_unlock(void);
void tt_libunwind_fork_child(void);

#endif
