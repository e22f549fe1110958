/* run_child.c: `tally run`'s program: started, sent the signals tally
 * gets, waited for, and its end passed on as tally's own.
 *
 * The program stays in tally's process group, as under system(3), env or
 * a shell: it reads the terminal, ^C and ^Z reach it, and job control sees
 * one job. So a signal sent to the whole group reaches it without tally,
 * and tally relays only what was meant for tally alone:
 *   - a signal the kernel sent (si_code > 0: the terminal's ^C, ^\ and
 *     hangup go to the whole foreground group) is not relayed;
 *   - nor one sent by the program or a process it started (a script's
 *     `kill 0` reached the program already);
 *   - anything else sent with kill(2) (`kill PID`, a supervisor) is.
 * A group-wide kill(2) from outside (kill -- -PGID) cannot be told from a
 * kill of tally alone: the program gets that one twice.
 *
 * Signals are blocked outside sigsuspend, so none arrives between the
 * check of what came and the wait for more. */
#include <config.h>

#include "cli.h"
#include "run.h"
#include "top.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const int relayed[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/* What the handler saw, per signal: it runs only inside sigsuspend. */
static volatile sig_atomic_t arrived[NSIG];
static volatile int arrived_code[NSIG];
static volatile pid_t arrived_from[NSIG];

static void on_relayed(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    arrived[sig] = 1;
    arrived_code[sig] = si->si_code;
    arrived_from[sig] = si->si_pid;
}

static void on_child(int sig)
{
    (void)sig; /* only to end sigsuspend */
}

/* The parent of pid, from /proc; 0 when unknown. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
    char *close = strrchr(buf, ')');
    int ppid = 0;
    if (!close || sscanf(close + 1, " %*c %d", &ppid) != 1)
        return 0;
    return (pid_t)ppid;
}

/* Whether sender is the program or one of its descendants. */
static int from_program(pid_t sender, pid_t child)
{
    for (int depth = 0; sender > 1 && depth < 64; depth++) {
        if (sender == child)
            return 1;
        sender = parent_of(sender);
    }
    return 0;
}

static void relay(pid_t child)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (!arrived[sig])
            continue;
        arrived[sig] = 0;
        if (arrived_code[sig] > 0 || from_program(arrived_from[sig], child))
            continue;
        kill(child, sig);
    }
}

void run_live_output(char *out, size_t cap, const char *dir, const char *prog, pid_t pid)
{
    const char *base = strrchr(prog, '/');
    int n = snprintf(out, cap, "%s/tally.%s.%d.out", dir, base ? base + 1 : prog, (int)pid);
    if (n < 0 || (size_t)n >= cap) /* too long for a path: the directory alone would not do */
        snprintf(out, cap, "/tmp/tally.%d.out", (int)pid);
}

/* --live, in the child: the standard streams that are a terminal leave it:
 * input from /dev/null (the view reads the keys), output and errors to
 * the run's file, so that neither corrupts the other. */
static int live_streams(int tty, const char *out)
{
    int file = -1;
    for (int fd = 0; fd <= 2; fd++) {
        if (!isatty(fd))
            continue;
        int to = fd == 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC) : file;
        if (fd > 0 && file < 0)
            to = file = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (to < 0 || dup2(to, fd) < 0)
            return errno;
        if (fd == 0)
            close(to);
    }
    if (file >= 0)
        close(file);
    close(tty);
    return 0;
}

/* What the child reports through the pipe when it cannot exec. */
typedef struct {
    int making_dir; /* 1: the directory, 0: exec */
    int err;
} child_failure;

static void child_fail(int fd, int making_dir, int err)
{
    child_failure f = {making_dir, err};
    ssize_t w = write(fd, &f, sizeof f);
    (void)w;
    _exit(err == ENOENT && !making_dir ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC);
}

int run_child(const run_child_spec *spec, pid_t *pid_out, int *status)
{
    /* The signals to relay: those not ignored nor blocked on entry (nohup's
     * SIGHUP, a background job's SIGINT stay so, in the program too). */
    enum { NRELAYED = sizeof relayed / sizeof relayed[0] };
    int sigs[NRELAYED + 1];
    struct sigaction saved[NRELAYED + 1], saved_chld;
    int nsigs = 0;
    sigset_t mine, orig, waiting;
    sigprocmask(SIG_BLOCK, NULL, &orig);
    sigemptyset(&mine);
    sigaddset(&mine, SIGCHLD);
    struct sigaction sa = {0};
    sigfillset(&sa.sa_mask);
    sa.sa_sigaction = on_relayed;
    sa.sa_flags = SA_SIGINFO;
    for (int i = 0; i <= NRELAYED; i++) {
        int sig = i < NRELAYED ? relayed[i] : spec->dump_signal;
        if (sig <= 0 || sigismember(&mine, sig) == 1 || sigismember(&orig, sig) == 1 ||
            sigaction(sig, NULL, &saved[nsigs]) != 0 || saved[nsigs].sa_handler == SIG_IGN)
            continue;
        sigaddset(&mine, sig);
        sigaction(sig, &sa, NULL);
        sigs[nsigs++] = sig;
    }
    struct sigaction chld = {0};
    chld.sa_handler = on_child;
    chld.sa_flags = SA_NOCLDSTOP;
    sigemptyset(&chld.sa_mask);
    sigaction(SIGCHLD, &chld, &saved_chld);
    sigprocmask(SIG_BLOCK, &mine, NULL);
    waiting = orig;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&mine, sig) == 1)
            sigdelset(&waiting, sig);

    int fds[2] = {-1, -1};
    pid_t pid = -1;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        perror("tally run: pipe");
    } else {
        fflush(NULL);
        pid = fork();
        if (pid < 0)
            perror("tally run: fork");
    }
    if (pid <= 0 && fds[0] >= 0) /* the child does not read it, nor tally without one */
        close(fds[0]);
    if (pid == 0) {
        /* The program gets tally's own dispositions and mask, as on entry. */
        for (int i = 0; i < nsigs; i++)
            sigaction(sigs[i], &saved[i], NULL);
        sigaction(SIGCHLD, &saved_chld, NULL);
        sigprocmask(SIG_SETMASK, &orig, NULL);
        run_output *o = spec->out;
        if (o->dir_per_pid) {
            int rc = run_output_for_pid(o, getpid(), 1);
            if (rc)
                child_fail(fds[1], 1, rc);
        }
        setenv("TALLY_OUTPUT", o->pattern, 1);
        if (spec->live_tty >= 0) {
            char out[PATH_MAX];
            run_live_output(out, sizeof out, o->cwd, spec->argv[0], getpid());
            int rc = live_streams(spec->live_tty, out);
            if (rc)
                child_fail(fds[1], 0, rc);
        }
        execvp(spec->argv[0], spec->argv);
        child_fail(fds[1], 0, errno);
    }
    if (fds[1] >= 0)
        close(fds[1]);
    child_failure f;
    ssize_t got = 0;
    int rc = 0;
    if (pid < 0) {
        rc = CLI_EXIT_FAILURE;
        goto restore;
    }
    *pid_out = pid;
    run_output_for_pid(spec->out, pid, 0);
    while ((got = read(fds[0], &f, sizeof f)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    /* --live: the view, until q or the program's end; then the plain wait. */
    top_ui *ui = NULL;
    if (spec->live_tty >= 0 && got == 0 &&
        (ui = top_ui_new(pid, NULL, spec->live_tty, spec->live_tty)) != NULL && top_ui_start(ui)) {
        top_ui_end(ui);
        ui = NULL;
    }

    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            perror("tally run: waitpid");
            rc = CLI_EXIT_FAILURE;
            break;
        }
        relay(pid);
        if (r == 0 && ui) {
            if (top_ui_step(ui, &waiting) != TOP_UI_GOING) {
                top_ui_end(ui);
                ui = NULL;
            }
        } else if (r == 0) {
            sigsuspend(&waiting);
        }
    }
    top_ui_end(ui);
restore:
    /* The program has ended: tally's report may be cut short as any
     * program's would, and what came meanwhile has no one to go to. */
    for (int i = 0; i < nsigs; i++)
        sigaction(sigs[i], &saved[i], NULL);
    sigaction(SIGCHLD, &saved_chld, NULL);
    sigprocmask(SIG_SETMASK, &orig, NULL);

    if (got == (ssize_t)sizeof f) {
        if (f.making_dir)
            fprintf(stderr, "tally run: cannot make the directory %s: %s\n", spec->out->dir,
                    strerror(f.err));
        else
            fprintf(stderr, "tally run: cannot run %s: %s\n", spec->argv[0], strerror(f.err));
        run_output_tidy(spec->out);
        return f.making_dir      ? CLI_EXIT_FAILURE
               : f.err == ENOENT ? CLI_EXIT_NOT_FOUND
                                 : CLI_EXIT_CANNOT_EXEC;
    }
    return rc;
}

int run_exit_like(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    int sig = WTERMSIG(status);
    fflush(NULL);
    /* As timeout(1) does: the program's core was its own; tally leaves none. */
    prctl(PR_SET_DUMPABLE, 0);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    return CLI_EXIT_SIGNAL_BASE + sig;
}
