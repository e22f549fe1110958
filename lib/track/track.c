/* track.c: starting, stopping and the entry points lib/pool and the shim call.
 *
 * TALLY_TRACK=1 makes a program that links libtally track from its first
 * allocation: a constructor starts tracking. The profile is written once at
 * exit, by an atexit handler registered from that constructor (so it runs
 * after every handler the program registers later) and, as a fallback, by a
 * destructor. */
#include "track/track_internal.h"

#include <tally/track.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TALLY_INTERNAL _Atomic int tally_track_on;
tt_config tt_cfg = {.depth = TT_DEFAULT_DEPTH, .interval_ms = 10, .count_scale = 1};

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int exit_written;
static _Atomic int warned;

int64_t tt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- configuration ------------------------------------------------------------ */
/* A size with an optional k, m or g suffix (powers of 1024). */
static int64_t parse_size(const char *s, int64_t dflt)
{
    if (!s || !*s)
        return dflt;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0)
        return dflt;
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        break;
    default:
        break;
    }
    return v;
}

static void configure(const tally_track_options *opts)
{
    const char *output = NULL;
    tt_cfg.depth = TT_DEFAULT_DEPTH;
    tt_cfg.sample_bytes = 0;
    tt_cfg.interval_ms = 10;
    if (opts) {
        if (opts->depth > 0)
            tt_cfg.depth = opts->depth;
        tt_cfg.sample_bytes = opts->sample_bytes > 0 ? opts->sample_bytes : 0;
        tt_cfg.interval_ms = opts->interval_ms >= 0 ? opts->interval_ms : 10;
        output = opts->output;
    } else {
        tt_cfg.depth = (int)parse_size(getenv("TALLY_DEPTH"), TT_DEFAULT_DEPTH);
        tt_cfg.sample_bytes = parse_size(getenv("TALLY_SAMPLE"), 0);
        tt_cfg.interval_ms = (int)parse_size(getenv("TALLY_INTERVAL"), 10);
        output = getenv("TALLY_OUTPUT");
    }
    if (tt_cfg.depth <= 0)
        tt_cfg.depth = TT_DEFAULT_DEPTH;
    if (tt_cfg.depth > TT_MAX_DEPTH)
        tt_cfg.depth = TT_MAX_DEPTH;
    tt_cfg.count_scale = tt_cfg.sample_bytes > 0 ? 1024 : 1;
    snprintf(tt_cfg.output, sizeof tt_cfg.output, "%s",
             output && *output ? output : "tally.%e.%p.prof");

    const char *report = getenv("TALLY_REPORT");
    tt_cfg.report = TT_REPORT_SUMMARY;
    if (report && strcmp(report, "full") == 0)
        tt_cfg.report = TT_REPORT_FULL;
    else if (report && strcmp(report, "none") == 0)
        tt_cfg.report = TT_REPORT_NONE;
    const char *unwind = getenv("TALLY_UNWIND");
    tt_cfg.unwind_fp = unwind && strcmp(unwind, "fp") == 0;
}

/* ---- fork ------------------------------------------------------------------------ */
/* The shim forwards its own atfork calls here as well: only the outermost
 * call of each pair takes or releases the locks. */
static __thread int fork_depth TT_TLS;

TALLY_INTERNAL void tally_track_fork_prepare(void)
{
    if (fork_depth++ > 0)
        return;
    pthread_mutex_lock(&start_lock);
    pthread_mutex_lock(&write_lock);
    tt_series_lock();
    tt_books_lock_all();
    tt_stack_lock();
    tt_live_lock_all();
}

TALLY_INTERNAL void tally_track_fork_parent(void)
{
    if (--fork_depth > 0)
        return;
    tt_live_unlock_all();
    tt_stack_unlock();
    tt_books_unlock_all();
    tt_series_unlock();
    pthread_mutex_unlock(&write_lock);
    pthread_mutex_unlock(&start_lock);
}

TALLY_INTERNAL void tally_track_fork_child(void)
{
    if (--fork_depth > 0)
        return;
    tt_live_unlock_all();
    tt_stack_unlock();
    tt_books_fork_child();
    tt_series_fork_child();
    pthread_mutex_init(&write_lock, NULL);
    pthread_mutex_init(&start_lock, NULL);
    /* The child writes its own profile (%p) at its own exit. */
    atomic_store(&exit_written, 0);
    if (tally_track_is_on())
        tt_series_start();
}

/* ---- start and stop --------------------------------------------------------------- */
static void at_exit_handler(void);

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
    configure(opts);
    if (!tt_cfg.started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        tt_cfg.start_realtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        tt_cfg.start_ns = tt_now_ns();
        tt_cfg.started = true;
    }
    atomic_store(&tally_track_on, 1);
    pthread_mutex_unlock(&start_lock);
    tt_series_start();
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

/* ---- dumps ----------------------------------------------------------------------------- */
int tt_dump(const char *path, int reason)
{
    if (!tt_cfg.started)
        return EINVAL;
    int saved_errno = errno;
    tt_fold_self();
    pthread_mutex_lock(&write_lock);
    char out[1024];
    tt_expand_output(path ? path : tt_cfg.output, out, sizeof out);
    tt_snapshot s;
    int rc = tt_snapshot_take(&s);
    if (rc == 0)
        rc = tt_profile_write(&s, out, reason);
    if (rc != 0 && !atomic_exchange(&warned, 1))
        tt_say(STDERR_FILENO, "tally: cannot write the profile %s: %s\n", out, strerror(rc));
    if (reason == TT_REASON_EXIT && s.pools)
        tt_summary_print(&s, out, rc == 0);
    tt_snapshot_free(&s);
    pthread_mutex_unlock(&write_lock);
    errno = saved_errno;
    return rc;
}

int tally_track_dump(const char *path)
{
    return tt_dump(path, TT_REASON_DUMP);
}

/* Once per process: at exit, from _exit through the shim, or the destructor. */
TALLY_INTERNAL void tally_track_at_exit(void)
{
    if (!tt_cfg.started || atomic_exchange(&exit_written, 1))
        return;
    tt_dump(NULL, TT_REASON_EXIT);
    /* What the program frees after this point is no longer booked. */
    atomic_store(&tally_track_on, 0);
}

static void at_exit_handler(void)
{
    tally_track_at_exit();
}

__attribute__((constructor(101))) static void track_constructor(void)
{
    atexit(at_exit_handler);
    const char *env = getenv("TALLY_TRACK");
    if (env && *env && strcmp(env, "0") != 0)
        tally_track_start(NULL);
}

__attribute__((destructor(101))) static void track_destructor(void)
{
    tally_track_at_exit();
}

/* ---- the hot entry points ---------------------------------------------------------------- */
uint32_t tt_capture(int skip)
{
    uintptr_t frames[TT_MAX_DEPTH];
    int n = tt_unwind(frames, tt_cfg.depth, skip);
    return tt_stack_intern(frames, n);
}

static inline uint32_t capture(int skip)
{
    return tt_capture(skip);
}

TALLY_INTERNAL tally_stack_id tally_track_capture(int64_t size, int skip)
{
    if (tt_cfg.sample_bytes > 0) {
        tt_thread *t = tt_thread_enter();
        bool sampled = tt_thread_sample(t, size);
        tt_thread_leave(t);
        if (!sampled)
            return 0;
    }
    return capture(skip);
}

TALLY_INTERNAL tally_stack_id tally_track_capture_from(int64_t size, const uintptr_t *ret_slot)
{
    if (tt_cfg.sample_bytes > 0) {
        tt_thread *t = tt_thread_enter();
        bool sampled = tt_thread_sample(t, size);
        tt_thread_leave(t);
        if (!sampled)
            return 0;
    }
    return tt_capture_from(ret_slot, 1); /* the fallback skips the entry point */
}

TALLY_INTERNAL void tally_track_alloc(void *ptr, int64_t size, int32_t pool_id,
                                      tally_stack_id stack, tally_alloc_kind kind)
{
    unsigned flags = stack && tt_cfg.sample_bytes > 0 ? TT_FLAG_SAMPLED : 0;
    tt_live_insert((uintptr_t)ptr, size, stack, pool_id, kind, flags);
    tt_thread *t = tt_thread_enter();
    tt_book_alloc(t, (uintptr_t)ptr, size, pool_id, stack, flags);
    tt_thread_leave(t);
}

TALLY_INTERNAL bool tally_track_free(void *ptr, tally_block_info *info)
{
    tt_entry e;
    if (!tt_live_remove((uintptr_t)ptr, TT_ANY_POOL, &e))
        return false;
    tt_thread *t = tt_thread_enter();
    tt_book_free(t, (uintptr_t)ptr, tt_entry_size(&e), e.pool, e.stack, tt_entry_flags(&e));
    tt_thread_leave(t);
    if (info)
        *info = (tally_block_info){tt_entry_size(&e), e.stack, e.pool, (uint8_t)tt_entry_kind(&e)};
    return true;
}

TALLY_INTERNAL bool tally_track_find(const void *ptr, tally_block_info *info)
{
    tt_entry e;
    if (!tt_live_find((uintptr_t)ptr, TT_ANY_POOL, &e))
        return false;
    if (info)
        *info = (tally_block_info){tt_entry_size(&e), e.stack, e.pool, (uint8_t)tt_entry_kind(&e)};
    return true;
}

/* lib/pool: a wrapper pool's block was booked by its parent just before, on
 * this thread, with the same stack: reuse it rather than unwind twice. */
TALLY_INTERNAL void tally_track_pool_alloc(int32_t pool_id, void *ptr, int64_t size, bool wrapper)
{
    if (tt_cfg.sample_bytes > 0 && tt_book_unsampled_alloc(pool_id, (uintptr_t)ptr, size, wrapper))
        return;
    uint32_t stack;
    bool sampled;
    tt_thread *t = tt_thread_enter();
    if (wrapper) {
        tt_thread_get_last(t, &stack, &sampled);
    } else {
        sampled = tt_cfg.sample_bytes == 0 || tt_thread_sample(t, size);
        stack = 0;
    }
    tt_thread_leave(t);
    if (!wrapper && sampled)
        stack = capture(0); /* no lock held while unwinding */
    unsigned flags = (wrapper ? TT_FLAG_WRAPPER : 0) |
                     (sampled && tt_cfg.sample_bytes > 0 ? TT_FLAG_SAMPLED : 0);
    /* Unsampled blocks stay out of the table: the pool knows their size. */
    if (sampled)
        tt_live_insert((uintptr_t)ptr, size, stack, pool_id, TALLY_KIND_POOL, flags);
    t = tt_thread_enter();
    if (!wrapper)
        tt_thread_set_last(t, stack, sampled);
    tt_book_alloc(t, (uintptr_t)ptr, size, pool_id, sampled ? stack : 0, flags);
    tt_thread_leave(t);
}

TALLY_INTERNAL void tally_track_pool_free(int32_t pool_id, void *ptr, int64_t size, bool wrapper)
{
    if (tt_cfg.sample_bytes > 0 && !tt_live_maybe((uintptr_t)ptr) &&
        tt_book_unsampled_free(pool_id, (uintptr_t)ptr, size, wrapper))
        return;
    tt_entry e;
    bool found = (tt_cfg.sample_bytes == 0 || tt_live_maybe((uintptr_t)ptr)) &&
                 tt_live_remove((uintptr_t)ptr, pool_id, &e);
    if (!found && tt_cfg.sample_bytes == 0)
        return; /* allocated before tracking started */
    tt_thread *t = tt_thread_enter();
    if (found)
        tt_book_free(t, (uintptr_t)ptr, tt_entry_size(&e), pool_id, e.stack, tt_entry_flags(&e));
    else
        tt_book_free(t, (uintptr_t)ptr, size, pool_id, 0, wrapper ? TT_FLAG_WRAPPER : 0);
    tt_thread_leave(t);
}

TALLY_INTERNAL void tally_track_pool_realloc(int32_t pool_id, void *old_ptr, int64_t old_size,
                                             void *new_ptr, int64_t new_size, bool wrapper)
{
    tally_track_pool_free(pool_id, old_ptr, old_size, wrapper);
    tally_track_pool_alloc(pool_id, new_ptr, new_size, wrapper);
}
