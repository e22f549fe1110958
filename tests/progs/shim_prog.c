/* shim_prog: C workloads for tests/test_shim_*.sh, run under the preload
 * shim. Each mode leaks an exact, known number of bytes (see the scripts). */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leak_common.h" /* lk_scrub */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static void *volatile keep[64];
static int nkeep;
#define LEAK(p) (keep[nkeep++] = (p))
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "shim_prog: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c);       \
            exit(3);                                                                               \
        }                                                                                          \
    } while (0)

static int leak100(void)
{
    LEAK(malloc(100));
    char *s = strdup("not leaked");
    printf("%s\n", s); /* stdout's buffer is glibc's: freeres, not a leak */
    free(s);
    return 0;
}

/* Every C entry point leaks once; the script knows the sum. */
static int entry(void)
{
    void *p;
    LEAK(malloc(11));
    char *z = calloc(3, 7);
    for (int i = 0; i < 21; i++)
        CHECK(z[i] == 0);
    LEAK(z);
    LEAK(realloc(NULL, 31));
    p = malloc(5);
    memcpy(p, "abcd", 5);
    p = realloc(p, 41);
    CHECK(strcmp(p, "abcd") == 0);
    LEAK(p);
    LEAK(reallocarray(NULL, 3, 17));
    CHECK(posix_memalign(&p, 64, 61) == 0 && (uintptr_t)p % 64 == 0);
    LEAK(p);
    p = aligned_alloc(64, 128);
    CHECK((uintptr_t)p % 64 == 0);
    LEAK(p);
    p = memalign(256, 71);
    CHECK((uintptr_t)p % 256 == 0);
    LEAK(p);
    p = valloc(81);
    CHECK((uintptr_t)p % 4096 == 0);
    LEAK(p);
    p = pvalloc(1); /* booked as a whole page */
    CHECK((uintptr_t)p % 4096 == 0 && malloc_usable_size(p) >= 4096);
    LEAK(p);
    LEAK(__libc_malloc(13));
    LEAK(__libc_calloc(1, 15));
    LEAK(__libc_realloc(NULL, 17));
    LEAK(__libc_memalign(32, 19));
    /* Freed, not leaked. */
    void (*cfree_fn)(void *);
    *(void **)&cfree_fn = dlsym(RTLD_DEFAULT, "cfree"); /* a compat symbol: not linkable */
    CHECK(cfree_fn != NULL);
    cfree_fn(malloc(1000));
    __libc_free(malloc(1001));
    free(NULL);
    /* glibc semantics. */
    p = malloc(10);
    CHECK(malloc_usable_size(p) >= 10);
    errno = 1234;
    CHECK(realloc(p, 0) == NULL); /* frees */
    p = malloc(7);
    errno = 4321;
    free(p);
    CHECK(errno == 4321);
    errno = 0;
    CHECK(calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(SIZE_MAX) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(reallocarray(NULL, SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);
    p = malloc(3);
    errno = 0;
    CHECK(realloc(p, SIZE_MAX - 4096) == NULL && errno == ENOMEM);
    free(p); /* still ours after the failed realloc */
    CHECK(malloc_usable_size(NULL) == 0);
    return 0;
}

static int align(void)
{
    static const size_t bad[] = {0, 1, 2, 3, 4, 12, 24, 48, 100, 4097, SIZE_MAX};
    void *sentinel = (void *)0x1234, *p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = sentinel;
        errno = 0;
        CHECK(posix_memalign(&p, bad[i], 10) == EINVAL && p == sentinel && errno == 0);
    }
    p = sentinel;
    CHECK(posix_memalign(&p, 64, SIZE_MAX - 100) == ENOMEM && p == sentinel);
    errno = 0;
    CHECK(memalign(SIZE_MAX, 10) == NULL && errno == EINVAL);
    errno = 0;
    CHECK(aligned_alloc(SIZE_MAX, 10) == NULL && errno == EINVAL);
    /* glibc rounds a non-power-of-two alignment up. */
    p = memalign(100, 10);
    CHECK(p && (uintptr_t)p % 128 == 0);
    free(p);
    CHECK(posix_memalign(&p, 8, 10) == 0);
    free(p);
    return 0;
}

/* 8 threads; each frees the blocks its neighbour allocated. */
#define THREADS 8
#define PER_THREAD 20000
static void **slots[THREADS];
static pthread_barrier_t barrier;

static void *thread_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    slots[id] = malloc(PER_THREAD * sizeof(void *));
    for (int i = 0; i < PER_THREAD; i++)
        slots[id][i] = malloc(16 + (size_t)(i * 7 + id) % 2000);
    pthread_barrier_wait(&barrier);
    void **theirs = slots[(id + 1) % THREADS];
    /* free keeps each thread's own errno, while the others free too. */
    for (int i = 0; i < PER_THREAD; i++) {
        errno = 1000 + id;
        free(theirs[i]);
        CHECK(errno == 1000 + id);
    }
    pthread_barrier_wait(&barrier);
    free(theirs);
    return malloc(1000 + (size_t)id); /* leaked: 8028 bytes in 8 blocks */
}

static int threads(void)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        LEAK(r);
    }
    pthread_barrier_destroy(&barrier);
    return 0;
}

/* Parent leaks 100; a forked child adds 200 and exits through exit(); a
 * second adds 50 and leaves through _exit(); a third execs "leak100". */
static int forks(const char *self)
{
    LEAK(malloc(100));
    pid_t c = fork();
    if (c == 0) {
        LEAK(malloc(200));
        exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    c = fork();
    if (c == 0) {
        LEAK(malloc(50));
        _exit(0);
    }
    waitpid(c, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    c = fork();
    if (c == 0) {
        execl(self, self, "leak100", (char *)NULL);
        _exit(127);
    }
    waitpid(c, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
}

static int dl(const char *lib, int deep)
{
    void *h = dlopen(lib, RTLD_NOW | (deep ? RTLD_DEEPBIND : 0));
    CHECK(h != NULL);
    void *(*fn)(void);
    *(void **)&fn = dlsym(h, "shim_dl_work");
    CHECK(fn != NULL);
    LEAK(fn()); /* the library keeps 123 bytes, returns them */
    CHECK(dlclose(h) == 0);
    return 0;
}

static volatile sig_atomic_t ticks;
static void on_alarm(int sig)
{
    (void)sig;
    void *p = malloc(37);
    memset(p, 1, 37);
    free(p);
    ticks++;
}
static void on_usr1(int sig)
{
    (void)sig;
    LEAK(malloc(29));
}

static int signals(void)
{
    signal(SIGALRM, on_alarm);
    signal(SIGUSR1, on_usr1);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    while (ticks < 300) {
        void *ps[16];
        for (int i = 0; i < 16; i++)
            ps[i] = malloc(64 + (size_t)i);
        for (int i = 0; i < 16; i++)
            free(ps[i]);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    raise(SIGUSR1);
    return 0;
}

static int errors(void)
{
    char *volatile p = malloc(24); /* volatile: the compiler may not elide the pair */
    free(p);
    free(p); /* double free */
    int local;
    free(&local); /* not a heap block */
    char *volatile q = malloc(48);
    free(q + 8); /* inside a block */
    CHECK(realloc(&local, 100) == NULL);
    free(q);
    LEAK(malloc(5));
    printf("survived\n");
    return 0;
}

static int big(void)
{
    size_t n = (size_t)2 << 30;
    unsigned char *p = calloc(n, 1);
    CHECK(p != NULL);
    for (size_t i = 0; i < n; i += n / 16)
        CHECK(p[i] == 0);
    free(p);
    errno = 0;
    CHECK(calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);
    /* Large blocks of changing sizes: mimalloc's slow case without an arena. */
    for (int i = 0; i < 200; i++) {
        size_t sz = ((size_t)1 << 20) * (1 + (size_t)(i * 7) % 32);
        char *b = malloc(sz);
        b[0] = b[sz - 1] = 1;
        free(b);
    }
    LEAK(malloc(64));
    return 0;
}

/* A signal handler frees a block while its thread is inside the shim: the
 * free waits in the thread's deferred slots until the thread leaves
 * (shim/reentry.c). Then a block is made at the freed one's address and
 * dropped. It must be definitely lost: the slots are in TLS, which the
 * leak check scans as a root, and one that kept the address would make
 * the new block look reachable. The thread is held inside the shim by the
 * write of an error report to a full pipe: stderr must be a pipe whose
 * reader waits until the handler has created the file named by argv[2].
 * Exit status 4: the handler did not run inside that call, or no block
 * came back at the address, so nothing was shown. */
static void *volatile victim;
static uintptr_t victim_key; /* its address bit-inverted: not a pointer */
static const char *handled_path;
static volatile sig_atomic_t reporting, freed_while_reporting;

static void on_alarm_free(int sig)
{
    (void)sig;
    void *p = victim;
    victim = NULL;
    free(p);
    freed_while_reporting = reporting;
    close(open(handled_path, O_WRONLY | O_CREAT, 0600)); /* the reader may drain */
}

/* stderr full: 4096-byte writes (a pipe takes such a write whole or not
 * at all), then single bytes. */
static void fill_stderr(void)
{
    static char junk[4096];
    memset(junk, '.', sizeof junk);
    int flags = fcntl(STDERR_FILENO, F_GETFL);
    CHECK(fcntl(STDERR_FILENO, F_SETFL, flags | O_NONBLOCK) == 0);
    while (write(STDERR_FILENO, junk, sizeof junk) > 0)
        ;
    while (write(STDERR_FILENO, junk, 1) > 0)
        ;
    CHECK(fcntl(STDERR_FILENO, F_SETFL, flags) == 0);
}

__attribute__((noinline)) static int drop_at_victim(void)
{
    enum { TRIES = 100000 };
    void **others = malloc(TRIES * sizeof *others);
    CHECK(others != NULL);
    int n = 0, found = 0;
    while (n < TRIES) {
        void *p = malloc(40);
        if ((uintptr_t)p == ~victim_key) {
            found = 1; /* dropped */
            break;
        }
        others[n++] = p;
    }
    while (n > 0)
        free(others[--n]);
    free(others);
    return found;
}

static int deferred(const char *handled)
{
    handled_path = handled;
    victim = malloc(40);
    victim_key = ~(uintptr_t)victim;
    char *volatile inner = malloc(48);
    struct sigaction sa = {.sa_handler = on_alarm_free};
    sigemptyset(&sa.sa_mask);
    CHECK(handled && sigaction(SIGALRM, &sa, NULL) == 0);
    fill_stderr();
    reporting = 1;
    alarm(1);
    free(inner + 8); /* invalid: its report waits for the pipe's reader */
    reporting = 0;
    free(inner); /* leaves the shim: the deferred free runs */
    if (!freed_while_reporting || victim != NULL)
        return 4;
    int found = drop_at_victim();
    lk_scrub(); /* no stale copy of the dropped block's address below us */
    return found ? 0 : 4;
}

static int pools(void)
{
    LEAK(malloc(10));
    LEAK(strdup("twenty bytes string")); /* 20, via libc's strdup: charged to main */
    return 0;
}

/* forkbook: a thread books from 4096 stacks without pause (each bit of a
 * path picks one of two calls on the way down) while main forks; each
 * child allocates, frees and leaves. fork stops the booking thread
 * anywhere, a booking half made among them, and the child recycles that
 * thread's books (a debug build checks them there). Exits 1 when a child
 * failed, or did not leave within 10 s (it is killed then). */
#include <stdatomic.h>
static atomic_int forkbook_stop;

__attribute__((noinline)) static void *forkbook_site(unsigned path, int bits)
{
    void *p;
    if (bits == 0)
        return malloc(64);
    if (path & 1) { /* two calls, two return addresses: the asm keeps them apart */
        __asm__ volatile("nop" ::: "memory");
        p = forkbook_site(path >> 1, bits - 1);
        __asm__ volatile("nop" ::: "memory");
    } else {
        __asm__ volatile("nop; nop" ::: "memory");
        p = forkbook_site(path >> 1, bits - 1);
        __asm__ volatile("nop; nop" ::: "memory");
    }
    return p;
}

static void *forkbook_booker(void *arg)
{
    (void)arg;
    unsigned s = 1;
    void *held[64] = {0};
    while (!atomic_load(&forkbook_stop))
        for (int i = 0; i < 64; i++) {
            s = s * 1103515245u + 12345u;
            free(held[i]);
            held[i] = forkbook_site(s >> 8, 12);
        }
    for (int i = 0; i < 64; i++)
        free(held[i]);
    return NULL;
}

static int forkbook(int forks)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, forkbook_booker, NULL) == 0);
    int bad = 0;
    for (int i = 0; i < forks && !bad; i++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            free(malloc(10));
            _exit(0);
        }
        int status = -1;
        for (int ms = 0; ms < 10000 && waitpid(pid, &status, WNOHANG) == 0; ms++)
            usleep(1000);
        if (status == -1) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "shim_prog: forkbook: child %d of %d %s\n", i + 1, forks,
                    status == -1 ? "hung" : "failed");
            bad = 1;
        }
    }
    atomic_store(&forkbook_stop, 1);
    CHECK(pthread_join(t, NULL) == 0);
    return bad;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "leak100";
    if (!strcmp(m, "leak100"))
        return leak100();
    if (!strcmp(m, "entry"))
        return entry();
    if (!strcmp(m, "align"))
        return align();
    if (!strcmp(m, "threads"))
        return threads();
    if (!strcmp(m, "fork"))
        return forks(argv[0]);
    if (!strcmp(m, "dl"))
        return dl(argv[2], 0);
    if (!strcmp(m, "dldeep"))
        return dl(argv[2], 1);
    if (!strcmp(m, "signal"))
        return signals();
    if (!strcmp(m, "errors"))
        return errors();
    if (!strcmp(m, "big"))
        return big();
    if (!strcmp(m, "pools"))
        return pools();
    if (!strcmp(m, "deferred"))
        return deferred(argv[2]);
    if (!strcmp(m, "forkbook"))
        return forkbook(atoi(argv[2]));
    fprintf(stderr, "shim_prog: unknown mode %s\n", m);
    return 2;
}
