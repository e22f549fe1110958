/* inject.c: a function call made inside another process's thread.
 *
 * The thread is seized (PTRACE_SEIZE, then PTRACE_INTERRUPT: no SIGSTOP
 * is sent, and nothing is queued for the process to see). It must not be
 * stopped inside glibc's allocator or the loader, whose locks the call
 * (dlopen, then tally's start) takes again on the same thread: one stopped
 * inside glibc's or the loader's code, or in brk, mmap, munmap, mremap,
 * madvise or mprotect (which malloc calls holding its arena lock), is let
 * go and another thread, or the same one a moment later, is tried. A
 * thread blocked in any other system call (read, poll, a futex wait, a
 * sleep) is at a safe moment.
 *
 * The call: the registers as they were, but rip at the function, its
 * arguments in rdi and rsi, orig_rax -1 (so that the kernel does not
 * restart the interrupted system call into the function), and a stack
 * below the thread's own and its 128-byte red zone, where the string
 * argument is copied and the return address is 0. The function's return
 * faults at address 0 (a SIGSEGV the tracer sees first and discards) and
 * rax holds the result. At the end every register and the FPU/SSE/AVX
 * state are put back: a system call the thread was in (rax -ERESTART*,
 * orig_rax its number) is then restarted by the kernel on the way out, as
 * after any signal that found no handler. */
#include <config.h>

#include "inject.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <stdlib.h>

#define RED_ZONE 128
#define SAFE_TRIES 300 /* rounds over the threads, 10 ms apart: about 3 s */

static void why_set(char *why, size_t cap, const char *fmt, const char *arg)
{
    if (why && cap)
        snprintf(why, cap, fmt, arg);
}

/* Waits for tid's next stop. 0 and the status; ESRCH when it is gone. */
static int wait_stop(pid_t tid, int *status)
{
    for (;;) {
        pid_t r = waitpid(tid, status, __WALL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (WIFEXITED(*status) || WIFSIGNALED(*status))
            return ESRCH;
        if (WIFSTOPPED(*status))
            return 0;
    }
}

/* The executable code of glibc and of the loader, from /proc/PID/maps. */
typedef struct {
    uint64_t lo[16], hi[16];
    int n;
} code_ranges;

static void read_code_ranges(pid_t pid, code_ranges *c)
{
    c->n = 0;
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(name, "re");
    if (!f)
        return;
    char line[PATH_MAX + 128];
    while (fgets(line, sizeof line, f) && c->n < 16) {
        uint64_t lo, hi;
        char perms[8];
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi, perms) != 3 || perms[2] != 'x')
            continue;
        if (strstr(line, "/libc.so") || strstr(line, "/ld-linux")) {
            c->lo[c->n] = lo;
            c->hi[c->n++] = hi;
        }
    }
    fclose(f);
}

static bool safe_moment(const struct user_regs_struct *r, const code_ranges *c)
{
    long nr = (long)r->orig_rax;
    if (nr >= 0) /* blocked in a system call */
        return nr != SYS_brk && nr != SYS_mmap && nr != SYS_munmap && nr != SYS_mremap &&
               nr != SYS_madvise && nr != SYS_mprotect;
    for (int i = 0; i < c->n; i++)
        if (r->rip >= c->lo[i] && r->rip < c->hi[i])
            return false;
    return true;
}

/* The process's threads, the main one first. */
static int list_threads(pid_t pid, pid_t *tids, int cap)
{
    int n = 0;
    tids[n++] = pid;
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/task", (int)pid);
    DIR *d = opendir(name);
    if (!d)
        return n;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        pid_t t = (pid_t)atoi(e->d_name);
        if (t > 0 && t != pid)
            tids[n++] = t;
    }
    closedir(d);
    return n;
}

static int begin(inject_session *s, pid_t pid, char *why, size_t cap);

static void let_go(pid_t tid, int sig)
{
    ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
}

/* Seizes tid and stops it: 0 with the registers, or an errno value. */
static int stop_thread(inject_session *s, pid_t tid)
{
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
        return errno;
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
        int err = errno;
        let_go(tid, 0);
        return err;
    }
    int status, rc = wait_stop(tid, &status);
    if (rc != 0)
        return rc;
    /* A signal on its way in is held back and delivered when we let go. */
    s->pending_sig = (status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP ? WSTOPSIG(status) : 0;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &s->regs) != 0) {
        int err = errno;
        let_go(tid, s->pending_sig);
        return err;
    }
    return 0;
}

int inject_begin(inject_session *s, pid_t pid, char *why, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->pid = pid;
    s->mem = -1;
    sigset_t ending;
    sigemptyset(&ending);
    sigaddset(&ending, SIGINT);
    sigaddset(&ending, SIGTERM);
    sigaddset(&ending, SIGHUP);
    sigaddset(&ending, SIGQUIT);
    sigprocmask(SIG_BLOCK, &ending, &s->held);
    int rc = begin(s, pid, why, cap);
    if (rc != 0)
        sigprocmask(SIG_SETMASK, &s->held, NULL);
    return rc;
}

static int begin(inject_session *s, pid_t pid, char *why, size_t cap)
{
    code_ranges code;
    read_code_ranges(pid, &code);
    pid_t tids[64];
    struct timespec pause = {0, 10 * 1000 * 1000};
    for (int round = 0; round < SAFE_TRIES; round++) {
        int n = list_threads(pid, tids, 64);
        for (int i = 0; i < n; i++) {
            int rc = stop_thread(s, tids[i]);
            if (rc == ESRCH && tids[i] != pid)
                continue; /* a thread that just ended */
            if (rc != 0) {
                why_set(why, cap, "ptrace: %s", strerror(rc));
                return rc;
            }
            if (safe_moment(&s->regs, &code)) {
                s->tid = tids[i];
                s->seized = true;
                goto stopped;
            }
            let_go(tids[i], s->pending_sig);
        }
        nanosleep(&pause, NULL);
    }
    why_set(why, cap, "%s",
            "no thread came to a moment outside glibc's allocator and the loader in 3 s");
    return EAGAIN;
stopped:;
    struct iovec iov = {s->xstate, sizeof s->xstate};
    if (ptrace(PTRACE_GETREGSET, s->tid, (void *)NT_X86_XSTATE, &iov) == 0)
        s->xstate_len = iov.iov_len;
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/mem", (int)pid);
    s->mem = open(name, O_RDWR | O_CLOEXEC);
    if (s->mem < 0) {
        int err = errno;
        why_set(why, cap, "cannot open its memory: %s", strerror(err));
        inject_end(s);
        return err;
    }
    return 0;
}

static int poke(inject_session *s, uint64_t addr, const void *data, size_t n)
{
    ssize_t w = pwrite(s->mem, data, n, (off_t)addr);
    return w == (ssize_t)n ? 0 : (w < 0 ? errno : EIO);
}

int inject_read_string(inject_session *s, uint64_t addr, char *out, size_t cap)
{
    if (cap == 0)
        return EINVAL;
    ssize_t r = pread(s->mem, out, cap - 1, (off_t)addr);
    if (r <= 0)
        return r < 0 ? errno : EIO;
    out[r] = 0;
    return 0;
}

int inject_call(inject_session *s, uint64_t fn, const char *str, uint64_t a1, uint64_t *ret,
                char *why, size_t cap)
{
    struct user_regs_struct r = s->regs;
    uint64_t top = (s->regs.rsp - RED_ZONE) & ~(uint64_t)15;
    uint64_t arg0 = 0;
    if (str) {
        size_t n = strlen(str) + 1;
        top = (top - n) & ~(uint64_t)15;
        if (poke(s, top, str, n) != 0) {
            why_set(why, cap, "%s", "cannot write to its stack");
            return EFAULT;
        }
        arg0 = top;
    }
    uint64_t sp = ((top - 256) & ~(uint64_t)15) - 8; /* as right after a call */
    /* What lies below the red zone is dead to the program (a signal
     * handler may overwrite it at any time), but it holds old copies of its
     * pointers. The leak check at detach scans the thread's stack from the
     * shim's frames up: cleared, those copies cannot keep a lost block
     * "reachable". From 16 KiB below (the call's own frames) up to the
     * string; a page that is not mapped yet ends the clearing. */
    static const unsigned char zeros[4096];
    for (uint64_t hi = top; hi > sp - 16384;) {
        uint64_t lo = hi - sizeof zeros < (sp - 16384) ? sp - 16384 : hi - sizeof zeros;
        lo = (hi & 4095) ? (hi & ~(uint64_t)4095) : lo; /* page by page */
        if (lo < sp - 16384)
            lo = sp - 16384;
        if (poke(s, lo, zeros, hi - lo) != 0)
            break;
        hi = lo;
    }
    uint64_t zero = 0;
    if (poke(s, sp, &zero, sizeof zero) != 0) {
        why_set(why, cap, "%s", "cannot write to its stack");
        return EFAULT;
    }
    r.rip = fn;
    r.rdi = arg0;
    r.rsi = a1;
    r.rax = 0;
    r.orig_rax = (uint64_t)-1; /* no system call to restart into the function */
    r.rsp = sp;
    r.eflags &= ~(uint64_t)0x400; /* the direction flag clear, as the ABI wants at a call */
    if (ptrace(PTRACE_SETREGS, s->tid, NULL, &r) != 0 ||
        ptrace(PTRACE_CONT, s->tid, NULL, NULL) != 0) {
        why_set(why, cap, "ptrace: %s", strerror(errno));
        return errno;
    }
    for (;;) {
        int status, rc = wait_stop(s->tid, &status);
        if (rc != 0) {
            s->seized = false;
            why_set(why, cap, "%s", "the process ended during the call");
            return rc;
        }
        int sig = WSTOPSIG(status);
        if ((status >> 16) != 0 || sig == SIGTRAP) {
            ptrace(PTRACE_CONT, s->tid, NULL, NULL); /* an interrupt or group stop */
            continue;
        }
        if (sig != SIGSEGV) {
            /* The program's own signal: delivered now, to its handler,
             * as it could be at any instruction. */
            ptrace(PTRACE_CONT, s->tid, NULL, (void *)(long)sig);
            continue;
        }
        struct user_regs_struct out;
        if (ptrace(PTRACE_GETREGS, s->tid, NULL, &out) != 0) {
            why_set(why, cap, "ptrace: %s", strerror(errno));
            return errno;
        }
        if (out.rip != 0) {
            why_set(why, cap, "%s", "the call faulted");
            return EFAULT;
        }
        *ret = out.rax;
        return 0;
    }
}

void inject_end(inject_session *s)
{
    if (s->seized) {
        ptrace(PTRACE_SETREGS, s->tid, NULL, &s->regs);
        if (s->xstate_len) {
            struct iovec iov = {s->xstate, s->xstate_len};
            ptrace(PTRACE_SETREGSET, s->tid, (void *)NT_X86_XSTATE, &iov);
        }
        let_go(s->tid, s->pending_sig);
        s->seized = false;
    }
    if (s->mem >= 0)
        close(s->mem);
    s->mem = -1;
    sigprocmask(SIG_SETMASK, &s->held, NULL);
}
