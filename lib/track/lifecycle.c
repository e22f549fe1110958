/* lifecycle.c: starting and stopping, fork, and the profile at exit.
 *
 * TALLY_TRACK=1 makes a program that links libtally track from its first
 * allocation: a constructor starts tracking. The profile is written once at
 * exit, by an atexit handler registered from that constructor (so it runs
 * after every handler the program registers later) and, as a fallback, by a
 * destructor. */
#include "track/api.h"

#include "track/dump.h"
#include "track/ledger.h"
#include "track/libunwind_load.h"
#include "track/live_table.h"
#include "track/mappings.h"
#include "track/output.h"
#include "track/publish.h"
#include "track/series.h"
#include "track/stack_table.h"
#include "track/service.h"
#include "track/thread.h"
#include "track/unwind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int exit_written;

/* ---- fork ------------------------------------------------------------------------ */
/* The shim forwards its own atfork calls here as well: only the outermost
 * call of each pair takes or releases the locks. Order: libunwind's start
 * (a walk holds none of the others), the dump's and the series' locks, the mappings' (a booking
 * holds it), then the threads' (the late state, every thread's cache), the ledger's (fold, peak,
 * records), the stack table's, the live table's. */
static __thread int fork_depth TT_TLS;

TALLY_INTERNAL void tally_track_fork_prepare(void)
{
    if (fork_depth++ > 0)
        return;
    pthread_mutex_lock(&start_lock);
    tt_libunwind_lock();
    tt_dump_lock();
    tt_series_lock();
    tt_mappings_lock();
    tt_thread_fork_prepare();
    tt_ledger_lock_all();
    tt_stack_lock();
    tt_live_lock_all();
}

TALLY_INTERNAL void tally_track_fork_parent(void)
{
    if (--fork_depth > 0)
        return;
    tt_live_unlock_all();
    tt_stack_unlock();
    tt_ledger_unlock_all();
    tt_thread_fork_parent();
    tt_mappings_unlock();
    tt_series_unlock();
    tt_dump_unlock();
    tt_libunwind_unlock();
    pthread_mutex_unlock(&start_lock);
}

/* The ledger's locks are made fresh before the other threads' books are
 * folded into it. */
TALLY_INTERNAL void tally_track_fork_child(void)
{
    if (--fork_depth > 0)
        return;
    tt_live_unlock_all();
    tt_stack_unlock();
    tt_ledger_fork_child();
    tt_thread_fork_child();
    tt_mappings_fork_child();
    tt_series_fork_child();
    tt_dump_fork_child();
    tt_output_fork_child();
    tt_libunwind_fork_child();
    pthread_mutex_init(&start_lock, NULL);
    /* The child writes its own profile (%p) at its own exit. */
    atomic_store(&exit_written, 0);
    tt_publish_fork_child();
    tt_service_start();
}

/* ---- start and stop --------------------------------------------------------------- */
static void init_once(void)
{
    tt_unwind_init();
    pthread_atfork(tally_track_fork_prepare, tally_track_fork_parent, tally_track_fork_child);
}

int tally_track_start(const tally_track_options *opts)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_mutex_lock(&start_lock);
    if (tally_track_is_on()) {
        pthread_mutex_unlock(&start_lock);
        return EBUSY;
    }
    pthread_once(&once, init_once);
    tally_track_say_init(); /* stderr as it is at start */
    tt_configure(opts);
    if (!tt_cfg.started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        tt_cfg.start_realtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        tt_cfg.start_ns = tt_now_ns();
        tt_cfg.started = true;
    }
    tt_publish_start();
    tt_service_start();
    atomic_store(&tally_track_on, 1);
    pthread_mutex_unlock(&start_lock);
    return 0;
}

TALLY_INTERNAL int tally_track_start_from_env(void)
{
    return tally_track_start(NULL);
}

void tally_track_stop(void)
{
    atomic_store(&tally_track_on, 0);
}

bool tally_track_active(void)
{
    return tally_track_is_on();
}

/* ---- exit --------------------------------------------------------------------------- */
/* Once per process: at exit, from _exit through the shim, or the destructor. */
TALLY_INTERNAL __attribute__((noinline)) void tally_track_at_exit(void)
{
    if (!tt_cfg.started || atomic_exchange(&exit_written, 1))
        return;
    ucontext_t caller;
    getcontext(&caller);
    tt_dump(NULL, PROF_REASON_EXIT, &caller);
    tt_unwind_report();
    /* What the program frees after this point is no longer booked. */
    atomic_store(&tally_track_on, 0);
    tt_publish_stop();
}

/* ---- tally attach ------------------------------------------------------------------ */
/* Tracking started in a running process by the shim it loaded (shim/attach.c).
 * No exit summary: the program's stderr is its own, and the user reads
 * the profile with tally report. */
TALLY_INTERNAL int tally_track_start_attached(const tally_track_options *opts)
{
    tt_cfg.attached = true;
    int rc = tally_track_start(opts);
    if (rc == 0)
        tt_cfg.report = TT_REPORT_NONE;
    return rc;
}

/* The detach profile, with the leak check an exit profile gets; then
 * tracking ends for good, and no exit profile replaces this one. */
TALLY_INTERNAL __attribute__((noinline)) int tally_track_detach(void)
{
    if (!tt_cfg.started || atomic_exchange(&exit_written, 1))
        return EALREADY;
    ucontext_t caller;
    getcontext(&caller);
    int rc = tt_dump(NULL, PROF_REASON_DETACH, &caller);
    atomic_store(&tally_track_on, 0);
    return rc;
}

/* A child forked by an attached process: nobody asked to track it, and its
 * profile would take its parent's name. */
TALLY_INTERNAL void tally_track_end_quietly(void)
{
    atomic_store(&exit_written, 1);
    atomic_store(&tally_track_on, 0);
}

TALLY_INTERNAL void tally_track_before_exec(void)
{
    if (!tt_cfg.started || !tally_track_is_on() || atomic_load(&exit_written))
        return;
    tt_dump(NULL, PROF_REASON_EXEC, NULL);
    tt_publish_stop(); /* the new image makes its own; a failed exec, this one again */
}

/* Once per process. A second fatal signal in another thread (its fault
 * while the first one writes) waits for the first one's re-raise, which
 * ends the process; after 10 s it gives up waiting and its own re-raise
 * does. The handler blocks the other fatal signals, so no thread waits here
 * for itself. After the exit profile there is nothing left to write. */
TALLY_INTERNAL void tally_track_fatal(int sig, const void *caller)
{
    static _Atomic int claimed;
    if (!tt_cfg.started)
        return;
    if (atomic_exchange(&claimed, 1)) {
        struct timespec tick = {0, 10 * 1000 * 1000};
        for (int i = 0; i < 1000; i++)
            nanosleep(&tick, NULL);
        return;
    }
    if (atomic_exchange(&exit_written, 1))
        return;
    tt_dump(NULL, (int)prof_reason_fatal(sig), (const ucontext_t *)caller);
    atomic_store(&tally_track_on, 0);
    tt_publish_stop();
}

static void at_exit_handler(void)
{
    tally_track_at_exit();
}

/* Registered first, so run last: after every handler the program adds. */
__attribute__((constructor(101))) static void track_constructor(void)
{
    atexit(at_exit_handler);
    at_quick_exit(at_exit_handler);
    const char *env = getenv("TALLY_TRACK");
    if (env && *env && strcmp(env, "0") != 0)
        tally_track_start(NULL);
}

__attribute__((destructor(101))) static void track_destructor(void)
{
    tally_track_at_exit();
}
