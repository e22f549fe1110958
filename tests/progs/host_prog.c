/* host_prog MODE [ARG]: a program doing what hosts do that tally must not
 * disturb, for tests/shim/test_shim_output.sh, test_shim_stderr.sh and
 * test_shim_errors.sh. Exact leaks per mode:
 *   chdir DIR     leaks 32 bytes and forks; the child chdir()s to DIR and
 *                 leaks 64 more (96 in all); the parent waits for it
 *   exec N        leaks 10 bytes, dumps (tally_track_dump, found with
 *                 dlsym: the program does not link libtally) twice, and
 *                 execs itself with N-1 until N is 0 (which leaks 20)
 *   fd2 FILE      closes stderr, opens FILE (which gets fd 2) and writes
 *                 "data\n" there; leaks 40 bytes and frees one block twice;
 *                 writes "more\n"
 *   closefrom FILE  closes every descriptor from 3 up, opens FILE on every
 *                 number up to 1100, writes "data\n"; leaks 40 bytes and
 *                 frees one block twice
 *   dfree N       frees one block N + 1 times: N double frees from one stack
 *   dsites N      N double frees, each from its own call site (N <= 50)
 *   dmany         1250 double frees from 1250 different stacks (50 sites,
 *                 each at 25 depths)
 *   interior      frees a pointer 8 bytes into a live 32-byte block
 *   dfork         a double free, then a fork whose child makes the same one
 *   lowmem KB     keeps 200000 blocks of 48 bytes (9.6 MB) reachable, then
 *                 limits its address space (RLIMIT_AS) to what it maps now
 *                 and KB more, and exits: a dump at exit near a memory limit */
#include <config.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile keep[8];
static volatile int sink;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stdout, "host_prog: %s:%d: check failed: %s\n", __FILE__, __LINE__, #c);       \
            exit(3);                                                                               \
        }                                                                                          \
    } while (0)

static int chdir_child(const char *dir)
{
    keep[0] = malloc(32);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CHECK(chdir(dir) == 0);
        keep[1] = malloc(64); /* and the parent's 32, live here too */
        exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}

static int exec_chain(const char *self, int n)
{
    if (n == 0) {
        keep[0] = malloc(20);
        return 0;
    }
    keep[0] = malloc(10);
    int (*dump)(const char *);
    *(void **)&dump = dlsym(RTLD_DEFAULT, "tally_track_dump");
    if (dump) {
        dump(NULL);
        dump(NULL); /* the second replaces the first: the same name */
    }
    char arg[16];
    snprintf(arg, sizeof arg, "%d", n - 1);
    execl(self, self, "exec", arg, (char *)NULL);
    return 4;
}

static void double_free(void)
{
    char *volatile p = malloc(8);
    free(p);
    free(p);
}

static int fd2(const char *file)
{
    close(2);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd == 2);
    CHECK(write(2, "data\n", 5) == 5);
    keep[0] = malloc(40);
    double_free();
    CHECK(write(2, "more\n", 5) == 5);
    return 0;
}

static int closefrom_reopen(const char *file)
{
    for (int fd = 3; fd < 1200; fd++)
        close(fd);
    int first = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    CHECK(first >= 3);
    int fd;
    while ((fd = dup(first)) >= 0 && fd < 1100)
        ;
    CHECK(write(first, "data\n", 5) == 5);
    keep[0] = malloc(40);
    double_free();
    return 0;
}

static int dfree(long n)
{
    char *volatile p = malloc(24);
    free(p);
    for (long i = 0; i < n; i++)
        free(p);
    return 0;
}

/* Fifty call sites, each its own function: noinline and a store of its
 * own keep the compiler from merging them. */
// clang-format off
#define SITE(n) __attribute__((noinline)) static void site##n(void *p) { free(p); sink = n; }
#define TEN(t) SITE(t##0) SITE(t##1) SITE(t##2) SITE(t##3) SITE(t##4) \
               SITE(t##5) SITE(t##6) SITE(t##7) SITE(t##8) SITE(t##9)
TEN(1) TEN(2) TEN(3) TEN(4) TEN(5)
#define ADDR(n) site##n,
#define ADDRS(t) ADDR(t##0) ADDR(t##1) ADDR(t##2) ADDR(t##3) ADDR(t##4) \
                 ADDR(t##5) ADDR(t##6) ADDR(t##7) ADDR(t##8) ADDR(t##9)
static void (*const sites[50])(void *) = {ADDRS(1) ADDRS(2) ADDRS(3) ADDRS(4) ADDRS(5)};
// clang-format on

static void double_free_at(int site)
{
    char *volatile p = malloc(16);
    free(p);
    sites[site](p);
}

/* depth more frames between main and the site: another stack each. */
__attribute__((noinline)) static void nested(int depth, int site)
{
    if (depth == 0)
        double_free_at(site);
    else
        nested(depth - 1, site);
    sink++; /* not a tail call: the frame stays */
}

static int dsites(int n)
{
    CHECK(n > 0 && n <= 50);
    for (int i = 0; i < n; i++)
        double_free_at(i);
    return 0;
}

static int dmany(void)
{
    for (int depth = 0; depth < 25; depth++)
        for (int i = 0; i < 50; i++)
            nested(depth, i);
    return 0;
}

static int dfork(void)
{
    double_free();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        double_free();
        exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return 0;
}

static int interior(void)
{
    static volatile int eight = 8; /* unknown to the compiler: no warning */
    char *p = malloc(32);
    free(p + eight);
    keep[0] = p;
    return 0;
}

static int lowmem(long headroom_kb)
{
    enum { NBLOCKS = 200000 };
    void **blocks = malloc(NBLOCKS * sizeof *blocks);
    CHECK(blocks);
    for (int i = 0; i < NBLOCKS; i++)
        CHECK((blocks[i] = malloc(48)) != NULL);
    keep[0] = blocks;
    long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    CHECK(statm && fscanf(statm, "%ld", &pages) == 1);
    fclose(statm);
    rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)headroom_kb * 1024;
    struct rlimit limit = {cap, cap};
    CHECK(setrlimit(RLIMIT_AS, &limit) == 0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(m, "chdir"))
        return chdir_child(arg);
    if (!strcmp(m, "exec"))
        return exec_chain(argv[0], atoi(arg));
    if (!strcmp(m, "fd2"))
        return fd2(arg);
    if (!strcmp(m, "closefrom"))
        return closefrom_reopen(arg);
    if (!strcmp(m, "dfree"))
        return dfree(atol(arg));
    if (!strcmp(m, "dsites"))
        return dsites(atoi(arg));
    if (!strcmp(m, "dmany"))
        return dmany();
    if (!strcmp(m, "dfork"))
        return dfork();
    if (!strcmp(m, "interior"))
        return interior();
    if (!strcmp(m, "lowmem"))
        return lowmem(atol(arg));
    fprintf(stdout, "host_prog: unknown mode '%s'\n", m);
    return 2;
}
