/* signals.c: the profile of a process that a signal ends, and the dump
 * signal, without taking a signal from the program.
 *
 * A program killed by SIGTERM, SIGINT, SIGHUP or SIGQUIT, or crashing with
 * SIGSEGV, SIGBUS, SIGABRT, SIGFPE or SIGILL, never reaches exit: without a
 * handler its profile is lost. So where the program leaves such a signal at
 * its default action, tally's handler stands in for the default: it writes
 * the profile, restores the default action and raises the signal again, so
 * the process ends exactly as it would have (the same status, the same core
 * dump). To the program the signal still looks untouched: sigaction,
 * signal and their kin are interposed here, report SIG_DFL for a signal
 * tally holds, and hand the signal over the moment the program installs a
 * handler of its own or ignores it. Setting SIG_DFL again gives it back.
 *
 * The dump signal (TALLY_DUMP_SIGNAL) is opt-in: with nothing set, no other
 * signal is touched at all.
 *
 * A handler may interrupt its thread anywhere. Inside tally (shim_thread.busy: a
 * table or ledger lock may be held by this very thread) it writes nothing:
 * a termination signal is remembered and acted on when the thread leaves
 * the shim (shim_thread.pending); a fault there (tally's own bug, or a heap the
 * program corrupted) just takes the default action. Outside, the dump uses
 * no malloc and takes only locks that other threads release. The main
 * thread gets an alternate stack, so that a stack overflow can be written
 * too; sigaltstack does not show it to the program. */
#include "shim/shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALT_STACK_BYTES (256 * 1024)

enum { HELD_NONE, HELD_FATAL, HELD_DUMP };

/* What tally's handler does for each signal it holds (HELD_*), and what the
 * program set last for it (always SIG_DFL, with its flags and mask). */
static _Atomic unsigned char held[NSIG];
static struct sigaction program_view[NSIG];
static int dump_signal;
static void *alt_stack;
static _Atomic int pending_fatal;

static void say(const char *a, const char *b, const char *c)
{
    const char *parts[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        tally_track_say_text(parts[i], strlen(parts[i]));
}

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static int (*real_sigaltstack)(const stack_t *, stack_t *);

static const int fatal_signals[] = {SIGTERM, SIGINT,  SIGHUP, SIGQUIT, SIGSEGV,
                                    SIGBUS,  SIGABRT, SIGFPE, SIGILL};

static bool is_fatal(int sig)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        if (fatal_signals[i] == sig)
            return true;
    return false;
}

/* Sent by someone (kill, raise, a terminal): deliverable again by raise. A
 * fault is not: returning re-runs the faulting instruction instead. */
static bool is_termination(int sig)
{
    return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

static void bind_real(void)
{
    if (!real_sigaction)
        *(void **)&real_sigaction = dlsym(RTLD_NEXT, "sigaction");
    if (!real_sigaltstack)
        *(void **)&real_sigaltstack = dlsym(RTLD_NEXT, "sigaltstack");
}

/* ---- ending the process as the default action would ------------------------- */
static void restore_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    atomic_store(&held[sig], HELD_NONE);
    real_sigaction(sig, &dfl, NULL);
}

/* From the handler: the signal is blocked until it returns, so a raised
 * one is delivered, with the default action, as the handler returns. */
static void reraise_on_return(int sig, const siginfo_t *info)
{
    restore_default(sig);
    if (is_termination(sig) || !info || info->si_code <= 0)
        raise(sig);
}

static void die_now(int sig)
{
    restore_default(sig);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached: the default action of a fatal signal ends us */
}

static void on_fatal(int sig, siginfo_t *info, void *ucontext)
{
    int saved = errno;
    if (shim_thread.in_fork) {
        /* This thread holds the core's locks for a fork: the dump would
         * wait on them for good (a SIGTERM that came during fork hung one
         * run in five of a program that forks in a loop). Deferred to the
         * fork's end, it would let a child be made that plain glibc's
         * process, dead at the signal, never makes. So the signal acts
         * now, as it would without tally, and this one ending goes
         * without a profile. */
        reraise_on_return(sig, info);
        errno = saved;
        return;
    }
    if (shim_thread.busy || shim_thread.in_init) {
        if (is_termination(sig)) {
            atomic_store(&pending_fatal, sig);
            shim_thread.pending = 1; /* this thread acts on it as it leaves the shim */
            errno = saved;
            return;
        }
    } else {
        shim_thread.busy = 1; /* anything the dump might allocate stays out of the books */
        tally_track_fatal(sig, ucontext);
        shim_thread.busy = 0;
    }
    reraise_on_return(sig, info);
    errno = saved;
}

static void on_dump_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (shim_thread.busy || shim_thread.in_init || shim_thread.in_fork || !tally_track_is_on()) {
        tally_track_raise(TT_DUE_DUMP); /* the next call that leaves the shim writes it */
    } else {
        shim_thread.busy = 1;
        tally_track_raise(TT_DUE_DUMP);
        tally_track_service();
        shim_thread.busy = 0;
    }
    errno = saved;
}

/* Puts tally's handler in for sig. The caller has seen SIG_DFL there. */
static void hold(int sig, int what)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (what == HELD_FATAL) {
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        /* No other fatal signal runs its handler on top of this one. */
        for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
            sigaddset(&sa.sa_mask, fatal_signals[i]);
    } else {
        sa.sa_handler = on_dump_signal;
        sa.sa_flags = SA_RESTART;
    }
    atomic_store(&held[sig], (unsigned char)what);
    if (real_sigaction(sig, &sa, NULL) != 0)
        atomic_store(&held[sig], HELD_NONE);
}

static int what_to_hold(int sig)
{
    if (sig == dump_signal)
        return HELD_DUMP;
    return is_fatal(sig) ? HELD_FATAL : HELD_NONE;
}

/* ---- leaving the shim: the core's work, a termination signal kept --------- */
void shim_service(void)
{
    if (shim_thread.busy)
        return;
    shim_thread.busy = 1;
    tally_track_service();
    shim_thread.busy = 0;
}

void shim_signals_act(void)
{
    int sig = atomic_exchange(&pending_fatal, 0);
    if (sig == 0)
        return;
    shim_thread.busy = 1;
    tally_track_fatal(sig, NULL);
    shim_thread.busy = 0;
    die_now(sig);
}

/* ---- the program's view: sigaction and its kin -------------------------------- */
SHIM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    bind_real();
    if (sig <= 0 || sig >= NSIG || what_to_hold(sig) == HELD_NONE || shim_state != SHIM_READY)
        return real_sigaction(sig, act, old);
    if (atomic_load(&held[sig]) != HELD_NONE) {
        struct sigaction view = program_view[sig];
        if (act && act->sa_handler != SIG_DFL) {
            int rc = real_sigaction(sig, act, NULL); /* the program's from now on */
            if (rc != 0)
                return rc;
            atomic_store(&held[sig], HELD_NONE);
        } else if (act) {
            program_view[sig] = *act;
        }
        if (old)
            *old = view;
        return 0;
    }
    int rc = real_sigaction(sig, act, old);
    if (rc == 0 && act && act->sa_handler == SIG_DFL) {
        program_view[sig] = *act;
        hold(sig, what_to_hold(sig));
    }
    return rc;
}

/* glibc's signal, bsd_signal, sysv_signal and sigset call its sigaction
 * internally, past this one: each is redone here on top of ours. */
static sighandler_t set_handler(int sig, sighandler_t handler, int flags)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (!(flags & SA_NODEFER) && sig > 0 && sig < NSIG)
        sigaddset(&act.sa_mask, sig);
    if (handler == SIG_ERR || sigaction(sig, &act, &old) != 0) {
        if (handler == SIG_ERR)
            errno = EINVAL;
        return SIG_ERR;
    }
    return old.sa_handler;
}

SHIM_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESTART);
}

SHIM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESTART);
}

SHIM_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER);
}

SHIM_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
    return sysv_signal(sig, handler);
}

SHIM_EXPORT int sigignore(int sig)
{
    return set_handler(sig, SIG_IGN, 0) == SIG_ERR ? -1 : 0;
}

/* SysV's sigset: SIG_HOLD blocks the signal and leaves its action alone;
 * any other disposition unblocks it. */
SHIM_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
    sigset_t one, was;
    if (sig <= 0 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigemptyset(&one);
    sigaddset(&one, sig);
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) != 0 || sigprocmask(SIG_BLOCK, NULL, &was) != 0)
        return SIG_ERR;
    sighandler_t before = sigismember(&was, sig) ? SIG_HOLD : cur.sa_handler;
    if (disp == SIG_HOLD)
        return sigprocmask(SIG_BLOCK, &one, NULL) == 0 ? before : SIG_ERR;
    if (set_handler(sig, disp, 0) == SIG_ERR || sigprocmask(SIG_UNBLOCK, &one, NULL) != 0)
        return SIG_ERR;
    return before;
}

/* The main thread's alternate stack is tally's: shown as none. */
SHIM_EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
    bind_real();
    int rc = real_sigaltstack(ss, old);
    if (rc == 0 && old && alt_stack && old->ss_sp == alt_stack) {
        old->ss_sp = NULL;
        old->ss_size = 0;
        old->ss_flags = (old->ss_flags & SS_ONSTACK) | SS_DISABLE;
    }
    return rc;
}

/* ---- start-up ---------------------------------------------------------------- */
/* TALLY_DUMP_SIGNAL: USR1, SIGUSR2, RTMIN+3, or a number. 0 when unset or
 * not one of those (with a warning). */
static int parse_dump_signal(const char *s)
{
    if (!s || !*s || strcmp(s, "0") == 0 || strcasecmp(s, "none") == 0)
        return 0;
    const char *name = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
    char *end;
    long n = strtol(name, &end, 10);
    int sig = 0;
    if (end != name && *end == '\0')
        sig = n > 0 && n < NSIG ? (int)n : 0;
    else if (strncmp(name, "RTMIN+", 6) == 0 && (n = strtol(name + 6, &end, 10)) >= 0 && !*end)
        sig = SIGRTMIN + n <= SIGRTMAX ? SIGRTMIN + (int)n : 0;
    else if (strcmp(name, "RTMIN") == 0)
        sig = SIGRTMIN;
    for (int i = 1; !sig && i < SIGRTMIN; i++) {
        const char *abbrev = sigabbrev_np(i);
        if (abbrev && strcmp(abbrev, name) == 0)
            sig = i;
    }
    if (sig == 0 || sig == SIGKILL || sig == SIGSTOP || is_fatal(sig)) {
        say("tally: TALLY_DUMP_SIGNAL=", s,
            ": not a signal tally can use for dumps (USR1, USR2, RTMIN+N, or a number; not "
            "KILL, STOP or a fatal one): no dump signal\n");
        return 0;
    }
    return sig;
}

static void give_main_thread_an_alt_stack(void)
{
    stack_t cur;
    if (real_sigaltstack(NULL, &cur) != 0 || !(cur.ss_flags & SS_DISABLE))
        return; /* the program (or a library) set its own */
    void *mem = mmap(NULL, ALT_STACK_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED)
        return;
    stack_t ss = {.ss_sp = mem, .ss_size = ALT_STACK_BYTES, .ss_flags = 0};
    if (real_sigaltstack(&ss, NULL) == 0)
        alt_stack = mem;
    else
        munmap(mem, ALT_STACK_BYTES);
}

/* Holds each signal the program has left at its default (an inherited
 * SIG_IGN, as under nohup, stays ignored). */
void shim_signals_init(void)
{
    bind_real();
    if (!tally_track_is_on())
        return;
    dump_signal = parse_dump_signal(getenv("TALLY_DUMP_SIGNAL"));
    give_main_thread_an_alt_stack();
    for (int sig = 1; sig < NSIG; sig++) {
        int what = what_to_hold(sig);
        struct sigaction cur;
        if (what == HELD_NONE || real_sigaction(sig, NULL, &cur) != 0 || cur.sa_handler != SIG_DFL)
            continue;
        program_view[sig] = cur;
        hold(sig, what);
    }
}
