/* process.c: fork, exec, _exit, dlopen/dlclose and the dump signal.
 *
 * The core's own state across fork (its locks, its ticker thread, the
 * child's profile name through %p) is the core's; the shim tells it when.
 * Functions the core may not have yet are referenced weakly. */
#include "shim/shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#pragma weak tally_track_fork_prepare
#pragma weak tally_track_fork_parent
#pragma weak tally_track_fork_child
#pragma weak tally_track_request_dump
#pragma weak tally_track_at_exit

int shim_pid;

static void warn(const char *msg)
{
    tally_track_say_text(msg, strlen(msg)); /* tally's descriptor, not fd 2 */
}

/* ---- fork ------------------------------------------------------------------ */
static void fork_prepare(void)
{
    if (tally_track_fork_prepare)
        tally_track_fork_prepare();
}

static void fork_parent(void)
{
    if (tally_track_fork_parent)
        tally_track_fork_parent();
}

static void fork_child(void)
{
    shim_pid = (int)syscall(SYS_getpid);
    if (tally_track_fork_child)
        tally_track_fork_child();
}

/* ---- exec: TALLY_FOLLOW_EXEC=0 -------------------------------------------- */
/* LD_PRELOAD is inherited by exec'd children, so they are tracked too. To
 * stop that, the shim's own entry is cut out of LD_PRELOAD in place: no
 * allocation, and every exec* and posix_spawn* sees it. */
static void strip_preload(void)
{
    const char *follow = getenv("TALLY_FOLLOW_EXEC");
    if (!follow || strcmp(follow, "0") != 0)
        return;
    char *list = getenv("LD_PRELOAD");
    if (!list)
        return;
    char *out = list;
    for (char *p = list; *p;) {
        size_t n = strcspn(p, ": ");
        bool ours = n >= 20 && memmem(p, n, "libtally-preload.so", 19) != NULL;
        if (!ours) {
            if (out != list)
                *out++ = ':';
            memmove(out, p, n);
            out += n;
        }
        p += n;
        while (*p == ':' || *p == ' ')
            p++;
    }
    *out = 0;
}

/* ---- _exit and _Exit: flush the profile first ------------------------------ */
static void (*real_exit)(int) __attribute__((noreturn));

static void flush_for_exit(void)
{
    /* A vfork child shares the parent's memory: it must not touch the books.
     * It never ran the atfork handlers, so its pid differs from shim_pid. */
    if ((int)syscall(SYS_getpid) != shim_pid)
        return;
    if (tally_track_at_exit) {
        shim_freeres_cxx();
        tally_track_at_exit();
    }
}

SHIM_EXPORT void _exit(int status)
{
    flush_for_exit();
    if (real_exit)
        real_exit(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

SHIM_EXPORT void _Exit(int status)
{
    _exit(status);
}

/* ---- dlopen and dlclose ------------------------------------------------------ */
static void *(*real_dlopen)(const char *, int);
static int (*real_dlclose)(void *);

static void bind_dl(void)
{
    if (!real_dlopen)
        *(void **)&real_dlopen = dlsym(RTLD_NEXT, "dlopen");
    if (!real_dlclose)
        *(void **)&real_dlclose = dlsym(RTLD_NEXT, "dlclose");
}

SHIM_EXPORT void *dlopen(const char *file, int mode)
{
    bind_dl();
    if (mode & RTLD_DEEPBIND) {
        /* A library bound to itself first would call its own malloc
         * family, and its blocks would reach our free. */
        static _Atomic int warned;
        if (!__atomic_exchange_n((int *)&warned, 1, __ATOMIC_RELAXED))
            warn("tally: dlopen: RTLD_DEEPBIND removed, so that the library's malloc is "
                 "tally's\n");
        mode &= ~RTLD_DEEPBIND;
    }
    void *h = real_dlopen(file, mode);
    if (h && shim_state == SHIM_READY)
        tally_track_modules_changed();
    return h;
}

SHIM_EXPORT int dlclose(void *handle)
{
    bind_dl();
    int rc = real_dlclose(handle);
    if (shim_state == SHIM_READY)
        tally_track_modules_changed();
    return rc;
}

/* ---- the dump signal ---------------------------------------------------------- */
static void on_dump_signal(int sig)
{
    (void)sig;
    /* Async-signal-safe: the core's ticker thread writes the snapshot. */
    if (tally_track_request_dump)
        tally_track_request_dump();
}

static int dump_signal(void)
{
    const char *s = getenv("TALLY_DUMP_SIGNAL");
    if (!s || !*s)
        return SIGUSR2;
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"USR1", SIGUSR1},   {"USR2", SIGUSR2}, {"HUP", SIGHUP}, {"PWR", SIGPWR},
                 {"WINCH", SIGWINCH}, {"URG", SIGURG},   {"NONE", 0}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].sig;
    if (strncmp(s, "RTMIN+", 6) == 0)
        return SIGRTMIN + atoi(s + 6);
    int n = atoi(s);
    return n > 0 && n < NSIG ? n : SIGUSR2;
}

static void install_dump_signal(void)
{
    int sig = dump_signal();
    if (sig == 0)
        return;
    struct sigaction old, sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_dump_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    /* Never take a signal the program has already claimed. */
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        sigaction(sig, &sa, NULL);
}

void shim_process_init(void)
{
    shim_pid = (int)syscall(SYS_getpid);
    *(void **)&real_exit = dlsym(RTLD_NEXT, "_exit");
    bind_dl();
    strip_preload();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    install_dump_signal();
}
