/* world.c: stopping the other threads with a ptrace helper (world.h).
 *
 * The helper is a task of its own (clone with CLONE_VM, not CLONE_THREAD:
 * a thread cannot ptrace its own thread group). It shares our memory, so
 * the two talk through w->stage: 1 go, 2 all stopped (or given up), 3 the
 * check is done, 4 the helper has detached. It inherits our thread pointer
 * (no CLONE_SETTLS), so it calls nothing that keeps state in TLS beyond
 * errno, which tt_dump saves and restores. */
#include "track/world.h"

#include "base/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRACER_STACK (256 * 1024)
#define WAIT_MS 3000    /* for each hand-over between us and the helper */
#define STOP_TRIES 5000 /* 200 us apart: a second for each thread to stop */

enum { GO = 1, STOPPED = 2, DONE = 3, DETACHED = 4 };

static void nap(void)
{
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
}

/* Waits until w->stage reaches `want`; false after WAIT_MS. */
static bool await_stage(tt_world *w, int want)
{
    for (int i = 0; i < WAIT_MS * 5; i++) {
        if (atomic_load(&w->stage) >= want)
            return true;
        nap();
    }
    return false;
}

/* Calls fn for each thread id of this process but the caller's, from
 * /proc/self/task read with getdents64 (opendir would call malloc), until
 * fn returns false. 0 or an errno value. */
static int each_other_thread(bool (*fn)(pid_t tid, void *arg), void *arg)
{
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    pid_t self = (pid_t)syscall(SYS_gettid);
    char buf[4096];
    long got;
    bool more = true;
    while (more && (got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; more && off < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            pid_t tid = 0;
            for (const char *p = d->d_name; *p >= '0' && *p <= '9'; p++)
                tid = tid * 10 + (*p - '0');
            if (tid > 0 && tid != self)
                more = fn(tid, arg);
        }
    }
    close(fd);
    return 0;
}

static bool add_thread(pid_t tid, void *arg)
{
    tt_world *w = arg;
    if (w->n < TT_WORLD_MAX_THREADS)
        w->threads[w->n++].tid = tid;
    return true;
}

static bool found_one(pid_t tid, void *arg)
{
    (void)tid;
    *(bool *)arg = true;
    return false;
}

TALLY_INTERNAL bool tally_track_alone(void)
{
    bool other = false;
    return each_other_thread(found_one, &other) == 0 && !other;
}

/* One thread into a ptrace stop. Its stop is noticed by waitpid or, when
 * that does not report it (seen: a forked child's thread, stopped, whose
 * notification never came), by PTRACE_GETREGS succeeding, which only a
 * stopped tracee allows. A signal that stopped it first (signal-delivery-
 * stop) is remembered, to give it back on detach. */
static void stop_one(tt_world_thread *t)
{
    if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) != 0)
        return;
    if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) != 0) {
        ptrace(PTRACE_DETACH, t->tid, 0, 0);
        return;
    }
    for (int tries = 0; tries < STOP_TRIES; tries++) {
        int status;
        pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);
        if (r == t->tid && !WIFSTOPPED(status))
            return; /* it exited meanwhile */
        if (r == t->tid || ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) == 0)
            break;
        nap();
    }
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) == 0 && si.si_signo != SIGTRAP)
        t->pending_signal = si.si_signo;
    t->stopped = ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) == 0;
    if (!t->stopped)
        ptrace(PTRACE_DETACH, t->tid, 0, t->pending_signal);
}

static int tracer_main(void *arg)
{
    tt_world *w = arg;
    if (!await_stage(w, GO))
        return 0;
    for (int i = 0; i < w->n; i++)
        stop_one(&w->threads[i]);
    atomic_store(&w->stage, STOPPED);
    await_stage(w, DONE); /* after a timeout, let them go all the same */
    for (int i = 0; i < w->n; i++)
        if (w->threads[i].stopped)
            ptrace(PTRACE_DETACH, w->threads[i].tid, 0, w->threads[i].pending_signal);
    atomic_store(&w->stage, DETACHED);
    return 0;
}

#define WORLD_BYTES (sizeof(tt_world) + TT_WORLD_MAX_THREADS * sizeof(tt_world_thread))

static void world_free(tt_world *w)
{
    base_unmap(w->tracer_stack, TRACER_STACK);
    base_unmap(w, WORLD_BYTES);
}

tt_world *tt_world_stop(void)
{
    tt_world *w = base_map(WORLD_BYTES);
    if (!w)
        return NULL;
    if (each_other_thread(add_thread, w) != 0 || w->n == 0) {
        world_free(w);
        return NULL;
    }
    w->tracer_stack = base_map(TRACER_STACK);
    if (w->tracer_stack)
        w->tracer = clone(tracer_main, (char *)w->tracer_stack + TRACER_STACK,
                          CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED, w);
    if (!w->tracer_stack || w->tracer <= 0) {
        w->tracer = 0;
        return w; /* no helper: the threads run on, unstopped */
    }
    /* Where Yama restricts ptrace to descendants, allow our helper. */
    prctl(PR_SET_PTRACER, w->tracer, 0, 0, 0);
    atomic_store(&w->stage, GO);
    await_stage(w, STOPPED);
    return w;
}

void tt_world_resume(tt_world *w)
{
    if (!w)
        return;
    if (w->tracer > 0) {
        atomic_store(&w->stage, DONE);
        bool gone = await_stage(w, DETACHED);
        prctl(PR_SET_PTRACER, 0, 0, 0, 0);
        if (!gone)
            return; /* the helper may still be on its stack: leave it its memory */
        waitpid(w->tracer, NULL, __WALL);
    }
    world_free(w);
}
