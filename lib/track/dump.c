/* dump.c: a profile written now, from a snapshot of the books. Every dump
 * (exit, tally_track_dump, the dump signal, a checkpoint, exec, a fatal
 * signal) takes this one path. */
#include "track/dump.h"

#include "track/mark.h"
#include "track/output.h"
#include "track/say.h"
#include "track/series.h"
#include "track/thread.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int warned;

static bool wants_leak_check(int reason)
{
    /* A fatal signal's handler may have interrupted anything: no helper
     * task, no stopping of threads. Exec frees the whole image anyway. */
    if (prof_reason_kind((uint32_t)reason) == PROF_REASON_FATAL || reason == PROF_REASON_EXEC)
        return false;
    switch (tt_cfg.leak_check) {
    case TT_LEAK_CHECK_ALL:
        return true;
    case TT_LEAK_CHECK_EXIT: /* a detach ends tracking as an exit does */
        return reason == PROF_REASON_EXIT || reason == PROF_REASON_DETACH;
    default:
        return false;
    }
}

/* A copy of every live block (blocks) takes 32 bytes a block, and may not
 * be had near a memory limit. The profile then still goes out, with the
 * blocks summed per (stack, pool), which takes a few bytes a site: the
 * books are kept whole and only the leak check and the addresses are lost,
 * rather than the whole profile. */
static int take_snapshot(tt_snapshot *s, bool blocks)
{
    int rc = tt_snapshot_take(s, blocks);
    if (rc != ENOMEM || !blocks)
        return rc;
    rc = tt_snapshot_take(s, false);
    if (rc == 0)
        tt_say(tally_track_say_fd(), "tally: no memory for a list of every live block: live "
                                     "blocks summed per stack, unclassified, without addresses\n");
    return rc;
}

int tt_dump(const char *path, int reason, const ucontext_t *caller)
{
    if (!tt_cfg.started)
        return EINVAL;
    int saved_errno = errno;
    tt_thread_fold_self();
    pthread_mutex_lock(&write_lock);
    const char *pattern = path ? path : tt_cfg.output;
    char out[1024];
    tt_output_name(pattern, out, sizeof out);
    tt_series_tick_now(true);
    tt_snapshot s;
    bool check = wants_leak_check(reason);
    int rc = take_snapshot(&s, check || tt_cfg.leak_addresses);
    if (rc == 0 && check && !s.grouped && tt_mark_classify(&s, caller) != 0)
        tt_say(tally_track_say_fd(), "tally: no memory for the leak check: live blocks left "
                                     "unclassified\n");
    if (rc == 0)
        rc = tt_profile_write(&s, pattern, reason, out, sizeof out);
    if (rc == EEXIST && !atomic_exchange(&warned, 1))
        tt_say(tally_track_say_fd(),
               "tally: %s exists and is not a regular file: no profile written there\n", out);
    else if (rc != 0 && !atomic_exchange(&warned, 1))
        tt_say(tally_track_say_fd(), "tally: cannot write the profile %s: %s\n", out, strerror(rc));
    int sig = prof_reason_signal((uint32_t)reason);
    if (sig && rc == 0)
        tt_say(tally_track_say_fd(), "tally: SIG%s: profile written to %s\n",
               sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", out);
    if (reason == PROF_REASON_EXIT && s.pools) {
        /* The summary names its stacks with libdw, loaded now, and that
         * allocates. Nothing is booked after the exit profile (tally_track_at_exit
         * stops tracking next): stopping first keeps libdw's blocks out too. */
        atomic_store(&tally_track_on, 0);
        tt_summary_print(&s, out, rc == 0);
    }
    tt_snapshot_free(&s);
    pthread_mutex_unlock(&write_lock);
    errno = saved_errno;
    return rc;
}

__attribute__((noinline)) int tally_track_dump(const char *path)
{
    ucontext_t caller;
    getcontext(&caller);
    return tt_dump(path, PROF_REASON_DUMP, &caller);
}

void tt_dump_lock(void)
{
    pthread_mutex_lock(&write_lock);
}

void tt_dump_unlock(void)
{
    pthread_mutex_unlock(&write_lock);
}

void tt_dump_fork_child(void)
{
    pthread_mutex_init(&write_lock, NULL);
}
