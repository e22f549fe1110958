/* leak_exit MODE: a process that exits while something else happens, to
 * check that the leak check at exit neither crashes nor hangs and that the
 * exit status is the program's. Each mode first keeps 200000 small blocks
 * reachable, so that a check at exit takes a while, then starts the
 * disturbance and returns from main (or calls exit) while it goes on:
 *   thread_exit  a thread creates short-lived threads, one after another,
 *                each allocating, freeing and exiting: exits 3
 *   fork         a thread forks children, one after another, that allocate
 *                and exit(0); it waits for each: exits 4
 *   signal       SIGALRM every millisecond (an interval timer) and SIGUSR1
 *                sent to the main thread in a loop, both with handlers
 *                installed without SA_RESTART: exits 5
 *   multi_exit   eight threads and main wait at a barrier, then all call
 *                exit(6) at once: exits 6 */
#include "leak_common.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define NBLOCKS 200000

void **blocks;
static pthread_t main_thread;
static volatile sig_atomic_t signals_seen;
static pthread_barrier_t barrier;

static void keep_blocks(void)
{
    blocks = lk_escape(malloc(NBLOCKS * sizeof *blocks));
    if (!blocks)
        exit(99);
    for (int i = 0; i < NBLOCKS; i++)
        blocks[i] = lk_escape(malloc(16 + (size_t)(i % 5) * 16));
}

static void nap_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void *short_lived(void *arg)
{
    free(lk_escape(malloc(64)));
    return arg;
}

static void *make_threads(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_lived, NULL) == 0)
            pthread_join(t, NULL);
    }
    return NULL;
}

static void *make_children(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            free(lk_escape(malloc(128)));
            exit(0);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    signals_seen++;
}

static void *send_signals(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_kill(main_thread, SIGUSR1);
        nap_us(200);
    }
    return NULL;
}

static void *exit_at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier);
    exit(6);
}

static void start(void *(*fn)(void *))
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) != 0)
        exit(98);
}

int main(int argc, char **argv)
{
    main_thread = pthread_self();
    if (lk_mode(argc, argv, "thread_exit")) {
        keep_blocks();
        start(make_threads);
        nap_us(20000);
        return 3;
    }
    if (lk_mode(argc, argv, "fork")) {
        keep_blocks();
        start(make_children);
        nap_us(20000);
        return 4;
    }
    if (lk_mode(argc, argv, "signal")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGALRM, &sa, NULL) != 0)
            return 97;
        keep_blocks();
        struct itimerval every_ms = {{0, 1000}, {0, 1000}};
        if (setitimer(ITIMER_REAL, &every_ms, NULL) != 0)
            return 96;
        start(send_signals);
        nap_us(20000);
        return 5;
    }
    if (lk_mode(argc, argv, "multi_exit")) {
        keep_blocks();
        enum { NTHREADS = 8 };
        if (pthread_barrier_init(&barrier, NULL, NTHREADS + 1) != 0)
            return 95;
        for (int i = 0; i < NTHREADS; i++)
            start(exit_at_barrier);
        pthread_barrier_wait(&barrier);
        exit(6);
    }
    return lk_usage("leak_exit");
}
