/* lifetime_prog.c: how a process lives and ends: what tally might change in it, or
 * ends in a way that skips exit. Run plain and under the shim by
 * tests/shim/test_shim_host.sh and test_shim_signals.sh, which compare.
 *
 *   lifetime_prog pthread_exit   main leaves with pthread_exit: the process must end
 *   lifetime_prog tasks          prints the number of threads in /proc/self/task
 *   lifetime_prog dispositions   prints each fatal signal's handler (dfl/ign/other)
 *                            and whether an alternate stack is set
 *   lifetime_prog die SIG        leaks 1000 bytes, then ends by SIG: term, int,
 *                            hup, quit (kill), segv (a store to address 16),
 *                            abort, fpe (an integer division by zero), ill
 *                            (ud2), bus (raise), overflow (endless recursion)
 *   lifetime_prog own-handler    installs its own SIGTERM handler, which exits 7
 *   lifetime_prog churn N        N threads allocate and free until killed
 *   lifetime_prog idle           leaks 1000 bytes, then allocates now and then
 *                            until killed
 *   lifetime_prog quick          leaks 1000 bytes, then quick_exit(3)
 *   lifetime_prog exec N         leaks 100 bytes, then execs itself with N-1 (at 0, exits) */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile keep;

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static const struct {
    const char *name;
    int sig;
} fatal[] = {{"term", SIGTERM}, {"int", SIGINT},   {"hup", SIGHUP},
             {"quit", SIGQUIT}, {"segv", SIGSEGV}, {"abort", SIGABRT},
             {"fpe", SIGFPE},   {"ill", SIGILL},   {"bus", SIGBUS}};

static int recurse(volatile int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    return recurse(n + 1) + pad[0];
}

static void die(const char *how)
{
    keep = malloc(1000);
    memset(keep, 1, 1000);
    if (strcmp(how, "segv") == 0)
        *(volatile int *)16 = 1;
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "fpe") == 0) {
        volatile int zero = 0;
        printf("%d\n", 1 / zero);
    }
    if (strcmp(how, "ill") == 0)
        __asm__ volatile("ud2");
    if (strcmp(how, "overflow") == 0)
        printf("%d\n", recurse(0));
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (strcmp(how, fatal[i].name) == 0)
            kill(getpid(), fatal[i].sig);
    fprintf(stderr, "lifetime_prog: %s: still alive\n", how);
    exit(99);
}

static void on_term(int sig)
{
    (void)sig;
    _exit(7);
}

static void *churn(void *arg)
{
    (void)arg;
    void *slots[64] = {0};
    for (unsigned i = 0;; i++) {
        free(slots[i % 64]);
        slots[i % 64] = malloc(16 + i % 512);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "pthread_exit") == 0) {
        keep = malloc(10);
        pthread_exit(NULL);
    }
    if (strcmp(mode, "tasks") == 0) {
        for (int i = 0; i < 100000; i++) {
            void *volatile p = malloc(64);
            free(p);
        }
        printf("%d\n", count_tasks());
        return 0;
    }
    if (strcmp(mode, "dispositions") == 0) {
        for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
            struct sigaction sa;
            sigaction(fatal[i].sig, NULL, &sa);
            void (*old)(int) = signal(fatal[i].sig, SIG_DFL);
            printf("%s %s %s\n", fatal[i].name,
                   sa.sa_handler == SIG_DFL   ? "dfl"
                   : sa.sa_handler == SIG_IGN ? "ign"
                                              : "other",
                   old == SIG_DFL   ? "dfl"
                   : old == SIG_IGN ? "ign"
                                    : "other");
        }
        stack_t ss;
        sigaltstack(NULL, &ss);
        printf("altstack %s\n", ss.ss_flags & SS_DISABLE ? "none" : "set");
        return 0;
    }
    if (strcmp(mode, "die") == 0 && argc > 2)
        die(argv[2]);
    if (strcmp(mode, "own-handler") == 0) {
        signal(SIGTERM, on_term);
        kill(getpid(), SIGTERM);
        return 98;
    }
    if (strcmp(mode, "churn") == 0 && argc > 2) {
        keep = malloc(1000);
        for (int i = atoi(argv[2]); i > 0; i--) {
            pthread_t t;
            pthread_create(&t, NULL, churn, NULL);
        }
        printf("ready\n");
        fflush(stdout);
        churn(NULL);
    }
    if (strcmp(mode, "forkloop") == 0) { /* forks for good; each child leaves at once */
        keep = malloc(1000);
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(0);
            if (pid > 0)
                waitpid(pid, NULL, 0);
            void *volatile p = malloc(100);
            free(p);
        }
    }
    if (strcmp(mode, "idle") == 0) {
        keep = malloc(1000);
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            void *volatile p = malloc(100); /* volatile: not optimised away */
            free(p);
            usleep(1000);
        }
    }
    if (strcmp(mode, "quick") == 0) {
        keep = malloc(1000);
        quick_exit(3);
    }
    if (strcmp(mode, "exec") == 0 && argc > 2) {
        keep = malloc(100);
        int n = atoi(argv[2]);
        if (n <= 0)
            return 0;
        char next[16];
        snprintf(next, sizeof next, "%d", n - 1);
        execl("/proc/self/exe", argv[0], "exec", next, (char *)NULL);
        return 97;
    }
    fprintf(stderr, "usage: lifetime_prog MODE (see the source)\n");
    return 2;
}
