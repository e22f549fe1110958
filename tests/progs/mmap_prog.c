/* mmap_prog: the program's own mappings, for tests/shim/test_shim_mmap.sh.
 *
 * Each scenario maps and unmaps in known pages and leaves a known set of
 * mappings live at exit; the test checks the pool "mmap" against it. Each
 * checks its own results too (the addresses mremap promises, glibc's
 * errors), and exits 1 with a message when one is wrong. No stdio: the
 * only mappings live at exit are the scenario's. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define PG 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void *volatile sink;

static void die(const char *what)
{
    write(2, "mmap_prog: ", 11);
    write(2, what, strlen(what));
    write(2, "\n", 1);
    _exit(1);
}

static char *map(size_t pages)
{
    char *p = mmap(NULL, pages * PG, RW, ANON, -1, 0);
    if (p == MAP_FAILED)
        die("mmap failed");
    return p;
}

/* Far from where the kernel puts mappings by default: the pages ld.so
 * unmapped at start (its cache file) are the first reused, and a stale
 * pointer ld.so keeps to them would make a mapping there look reachable. */
static char *map_far(size_t pages)
{
    char *p = mmap((void *)0x3f0000000000UL, pages * PG, RW, ANON, -1, 0);
    if (p == MAP_FAILED)
        die("mmap failed");
    return p;
}

/* Address space with nothing tracked in it: a PROT_NONE reservation. */
static char *reserve(size_t pages)
{
    char *p = mmap(NULL, pages * PG, PROT_NONE, ANON, -1, 0);
    if (p == MAP_FAILED)
        die("reservation failed");
    return p;
}

static void unmap(char *p, size_t pages)
{
    if (munmap(p, pages * PG) != 0)
        die("munmap failed");
}

/* 10 pages, then 3 of them released: 7 left in each case. */
static NOINLINE void head(void)
{
    char *p = map(10);
    unmap(p, 3);
}

static NOINLINE void tail(void)
{
    char *p = map(10);
    unmap(p + 7 * PG, 3);
}

static NOINLINE void hole(void)
{
    char *p = map(10);
    unmap(p + 3 * PG, 3); /* 3 pages, then 4: two mappings */
}

/* 4 pages grown to 8 where they are: the 4 pages after them were freed
 * just before. */
static NOINLINE void grow(void)
{
    char *p = map(8);
    unmap(p + 4 * PG, 4);
    char *q = mremap(p, 4 * PG, 8 * PG, 0);
    if (q != p)
        die("mremap did not grow in place");
}

/* 4 pages that cannot grow where they are (a reservation right after
 * them) move and grow to 8. */
static NOINLINE void move(void)
{
    char *r = reserve(12);
    char *p = mmap(r, 4 * PG, RW, ANON | MAP_FIXED, -1, 0);
    if (p != r)
        die("MAP_FIXED failed");
    memset(p, 1, 4 * PG);
    char *q = mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
    if (q == MAP_FAILED || q == p)
        die("mremap did not move");
    if (q[4 * PG - 1] != 1)
        die("mremap lost the contents");
    unmap(r, 12); /* the reservation, where p was too */
}

/* MREMAP_DONTUNMAP: the 4 pages move, and the old range stays mapped
 * (empty): 8 pages in 2 mappings. A kernel before 5.7 refuses the flag:
 * exit 77, skipped. */
static NOINLINE void dontunmap(void)
{
    char *p = map(4);
    char *q = mremap(p, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    if (q == MAP_FAILED && errno == EINVAL)
        _exit(77);
    if (q == MAP_FAILED || q == p)
        die("MREMAP_DONTUNMAP did not move");
}

/* MREMAP_FIXED onto a tracked mapping of 6 pages: its first 4 are
 * replaced by the 4 moved there, its last 2 stay. */
static NOINLINE void fixed(void)
{
    char *a = map(4), *b = map(6);
    char *q = mremap(a, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, b);
    if (q != b)
        die("MREMAP_FIXED did not move to its target");
}

/* MAP_FIXED over a tracked mapping of 8 pages: 3 pages of it replaced by a
 * new private mapping, then 1 by a shared one (not tracked). Left: pages
 * 0-1, the new 2-4, 5 and 7: 7 pages in 4 mappings. */
static NOINLINE void overmap(void)
{
    char *p = map(8);
    if (mmap(p + 2 * PG, 3 * PG, RW, ANON | MAP_FIXED, -1, 0) != p + 2 * PG)
        die("MAP_FIXED failed");
    if (mmap(p + 6 * PG, PG, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p + 6 * PG)
        die("shared MAP_FIXED failed");
}

/* One munmap over three mappings and the untracked space between them:
 * pages 1-4, 7-10 and 13-16 of a reservation, unmapped from 3 to 14. Left:
 * 1-2 and 15-16, 4 pages in 2 mappings. */
static NOINLINE void span(void)
{
    char *r = reserve(20);
    for (int at = 1; at <= 13; at += 6)
        if (mmap(r + at * PG, 4 * PG, RW, ANON | MAP_FIXED, -1, 0) != r + at * PG)
            die("MAP_FIXED failed");
    unmap(r + 3 * PG, 12);
}

/* 100 MiB mapped and touched, then unmapped: at the peak, not at exit. */
static NOINLINE void map_big(void)
{
    char *p = map(100 << 8);
    for (size_t i = 0; i < (100UL << 20); i += PG)
        p[i] = 1;
    unmap(p, 100 << 8);
}

/* 5 pages that stay mapped, and nothing points to them at exit; the only
 * pointer to a 100-byte block is in them: the mapping is definitely lost,
 * the block indirectly (the leak check reads the mapping as a block). */
static NOINLINE void leak_map(void)
{
    char *p = map_far(5);
    void *block = malloc(100);
    memcpy(p + 3 * PG, &block, sizeof block);
    sink = p;
    sink = NULL;
}

/* The same, kept in a global: both still reachable. */
static char *volatile kept;
static NOINLINE void keep_map(void)
{
    char *p = map_far(5);
    void *block = malloc(100);
    memcpy(p + 3 * PG, &block, sizeof block);
    kept = p;
}

/* 64 MiB mapped, one page of it touched, kept; then a profile with the
 * leak check (TALLY_DUMP_SIGNAL=USR1, TALLY_LEAK_CHECK=all: the dump comes
 * at the next allocation). The check reads the mapping as a block, and must
 * not fault in its 16383 other pages: still one page resident after. */
static NOINLINE void untouched(void)
{
    size_t pages = 64 << 8;
    char *p = mmap((void *)0x3e0000000000UL, pages * PG, RW, ANON | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        die("mmap failed");
    void *block = malloc(100);
    memcpy(p, &block, sizeof block);
    kept = p;
    kill(getpid(), SIGUSR1);
    free(malloc(16));
    static unsigned char vec[64 << 8];
    if (mincore(p, pages * PG, vec) != 0)
        die("mincore failed");
    size_t resident = 0;
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    if (resident != 1)
        die("the leak check faulted in untouched pages");
}

/* Overwrites the dead stack below main: no stale copy of a pointer. */
static NOINLINE void scrub(void)
{
    char buf[64 * 1024];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* Only the allocator maps here (large blocks, many small ones): none of
 * its mappings is the program's. */
static NOINLINE void allocator(void)
{
    for (int round = 0; round < 4; round++) {
        char *big = malloc(64 << 20);
        memset(big, 1, 64 << 20);
        sink = big;
        free(sink);
        void *small[20000];
        for (int i = 0; i < 20000; i++)
            sink = small[i] = malloc(100 + i % 900);
        for (int i = 0; i < 20000; i++)
            free(small[i]);
    }
}

/* Four threads map and unmap at once, each in pieces (a hole first, then
 * head and tail), 1000 times, and keep their last mapping: 4 mappings of
 * 3 pages live at exit, 4000 booked. */
static void *churn(void *arg __attribute__((unused)))
{
    char *p = NULL;
    for (int i = 0; i < 1000; i++) {
        if (p)
            unmap(p, 3);
        p = map(4);
        unmap(p + PG, 1); /* a hole */
        unmap(p, 1);      /* then the head: pages 2 and 3 left */
        p += 2 * PG;
        unmap(p + PG, 1); /* the tail: page 2 left */
        p = mremap(p, PG, 3 * PG, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            die("mremap failed");
    }
    return p;
}

static NOINLINE void threads(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, churn, NULL) != 0)
            die("pthread_create failed");
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

/* mallinfo2 counts the heap: 64 MiB mapped and touched are not in it. */
static NOINLINE void heap_only(void)
{
    char *p = map(64 << 8);
    memset(p, 1, 64 << 20);
    struct mallinfo2 m = mallinfo2();
    if (m.uordblks >= (64 << 20))
        die("mallinfo2 counts the program's mappings as heap");
    unmap(p, 64 << 8);
}

/* A child inherits the parent's mappings and books: 4 pages mapped before
 * the fork; the child unmaps 1 and maps 2 (5 pages, 2 mappings, 2
 * booked), the parent keeps its 4. */
static NOINLINE void forked(void)
{
    char *p = map(4);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        unmap(p, 1);
        sink = map(2);
        exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the child failed");
}

/* glibc's answers, and errno left alone by a call that succeeds. */
static NOINLINE void errors(void)
{
    errno = 0;
    if (mmap(NULL, 0, RW, ANON, -1, 0) != MAP_FAILED || errno != EINVAL)
        die("mmap of 0 bytes: not EINVAL");
    errno = 0;
    if (mmap(NULL, PG, RW, ANON, -1, 1) != MAP_FAILED || errno != EINVAL)
        die("mmap at an unaligned offset: not EINVAL");
    errno = 0;
    if (mmap(NULL, PG, RW, MAP_PRIVATE, -1, 0) != MAP_FAILED || errno != EBADF)
        die("mmap of a bad descriptor: not EBADF");
    errno = 0;
    if (munmap((void *)(PG + 1), PG) != -1 || errno != EINVAL)
        die("munmap of an unaligned address: not EINVAL");
    errno = 0;
    if (mremap(NULL, PG, 2 * PG, 0) != MAP_FAILED || errno != EFAULT)
        die("mremap of nothing: not EFAULT");
    errno = 1234;
    char *p = map(2);
    if (errno != 1234)
        die("a successful mmap changed errno");
    p = mremap(p, 2 * PG, 64 * PG, MREMAP_MAYMOVE);
    if (p == MAP_FAILED || errno != 1234)
        die("a successful mremap changed errno");
    unmap(p, 64);
    if (errno != 1234)
        die("a successful munmap changed errno");
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } scenarios[] = {
        {"head", head},           {"tail", tail},          {"hole", hole},
        {"grow", grow},           {"move", move},          {"fixed", fixed},
        {"dontunmap", dontunmap}, {"overmap", overmap},    {"span", span},
        {"big", map_big},         {"leak", leak_map},      {"keep", keep_map},
        {"untouched", untouched}, {"errors", errors},      {"allocator", allocator},
        {"threads", threads},     {"mallinfo", heap_only}, {"fork", forked},
    };
    if (argc < 2)
        die("usage: mmap_prog SCENARIO");
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(argv[1], scenarios[i].name) == 0) {
            scenarios[i].fn();
            scrub();
            return 0;
        }
    die("unknown scenario");
}
