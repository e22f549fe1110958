/* process.c: fork, exec, _exit and dlopen/dlclose.
 *
 * The core's own state across fork (its locks, its clock, the child's
 * profile name through %p) is the core's; the shim tells it when.
 * Functions the core may not have yet are referenced weakly. */
#include "shim/shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#pragma weak tally_track_fork_prepare
#pragma weak tally_track_fork_parent
#pragma weak tally_track_fork_child
#pragma weak tally_track_at_exit

int shim_pid;

static void warn(const char *msg)
{
    tally_track_say_text(msg, strlen(msg)); /* tally's descriptor, not fd 2 */
}

/* ---- fork ------------------------------------------------------------------ */
/* The shim's handlers bracket the core's own (registered earlier: its
 * prepare runs after the shim's, its parent and child before), so in_fork
 * covers every moment the core's fork locks are held. It counts: a fork
 * made inside a fork handler (nested) ends before the outer one does. */
static void fork_prepare(void)
{
    shim_thread.in_fork++;
    if (tally_track_fork_prepare)
        tally_track_fork_prepare();
}

static void fork_parent(void)
{
    if (tally_track_fork_parent)
        tally_track_fork_parent();
    shim_thread.in_fork--;
}

static void fork_child(void)
{
    shim_pid = (int)syscall(SYS_getpid);
    if (tally_track_fork_child)
        tally_track_fork_child();
    shim_thread.in_fork--;
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
    const char *outer = shim_pools_loading(file);
    void *h = real_dlopen(file, mode);
    shim_pools_loading(outer);
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

/* ---- exec: the old image's profile first ------------------------------------- */
/* exec replaces the image without exit: its profile is written here, then
 * the exec runs (and if it fails, tracking goes on and the exit profile
 * replaces this one). glibc's exec family calls its execve internally, past
 * this one, so each name is wrapped. A vfork child shares its parent's
 * memory and must not touch the books: its pid is not shim_pid. */
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);
static int (*real_execveat)(int, const char *, char *const[], char *const[], int);

static void before_exec(void)
{
    if (shim_state != SHIM_READY || shim_thread.busy || (int)syscall(SYS_getpid) != shim_pid)
        return;
    int saved = errno;
    shim_thread.busy = 1;
    tally_track_before_exec();
    shim_thread.busy = 0;
    errno = saved;
}

static void bind_exec(void)
{
    if (!real_execve)
        *(void **)&real_execve = dlsym(RTLD_NEXT, "execve");
    if (!real_execvpe)
        *(void **)&real_execvpe = dlsym(RTLD_NEXT, "execvpe");
    if (!real_fexecve)
        *(void **)&real_fexecve = dlsym(RTLD_NEXT, "fexecve");
    if (!real_execveat)
        *(void **)&real_execveat = dlsym(RTLD_NEXT, "execveat");
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    before_exec();
    return real_execve(path, argv, envp);
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
    before_exec();
    return real_execve(path, argv, environ);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    before_exec();
    return real_execvpe(file, argv, envp);
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
    before_exec();
    return real_execvpe(file, argv, environ);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    before_exec();
    return real_fexecve(fd, argv, envp);
}

SHIM_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                         int flags)
{
    before_exec();
    return real_execveat(dirfd, path, argv, envp, flags);
}

/* execl, execlp, execle: the arguments gathered into an array on the stack
 * (exec may not allocate: it is async-signal-safe, and a vfork child's). */
#define GATHER_ARGS(first, argv)                                                                   \
    size_t n_ = 1;                                                                                 \
    va_list ap_;                                                                                   \
    va_start(ap_, first);                                                                          \
    while (va_arg(ap_, char *) != NULL)                                                            \
        n_++;                                                                                      \
    va_end(ap_);                                                                                   \
    char *argv[n_ + 1]; /* argv[n_]: the terminating NULL, read with the rest */                   \
    argv[0] = (char *)(first);                                                                     \
    va_start(ap_, first);                                                                          \
    for (size_t i_ = 1; i_ <= n_; i_++)                                                            \
        argv[i_] = va_arg(ap_, char *);                                                            \
    va_end(ap_)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
    GATHER_ARGS(arg, argv);
    before_exec();
    return real_execve(path, argv, environ);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
    GATHER_ARGS(arg, argv);
    before_exec();
    return real_execvpe(file, argv, environ);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
    GATHER_ARGS(arg, argv);
    va_start(ap_, arg); /* envp follows the NULL */
    for (size_t i = 0; i < n_; i++)
        (void)va_arg(ap_, char *);
    char *const *envp = va_arg(ap_, char *const *);
    va_end(ap_);
    before_exec();
    return real_execve(path, argv, envp);
}

void shim_process_init(void)
{
    shim_pid = (int)syscall(SYS_getpid);
    *(void **)&real_exit = dlsym(RTLD_NEXT, "_exit");
    bind_dl();
    strip_preload();
    bind_exec();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    shim_signals_init();
}
