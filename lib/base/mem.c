/* mem.c: mmap'd memory, a bump arena and a growable buffer. */
#include <config.h> /* _GNU_SOURCE: mremap */

#include "base/mem.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the registry of tally's own mappings ----------------------------------- */
/* Tally's tables hold every live block's address: to the leak check they
 * would look like pointers from the program. It skips these ranges. */
#define OWN_MAX 16384
static base_range own[OWN_MAX];
static size_t nown;
static bool own_lost; /* a range did not fit: the registry is incomplete */

/* The registry's lock holds its holder's process id, 0 when free. A thread
 * that forks while another thread is inside own_add or own_remove leaves
 * the child a lock whose holder does not exist there, and the child's
 * first base_map spun for good: a child of the test suite's leak_exit fork
 * was found spinning half an hour after its test had passed. No fork
 * handler can fix that in time: the child's other handlers may map memory
 * before this one would run, whatever the order they were registered in.
 * So a waiter that finds another process's id in the lock takes it over.
 * The holder's update may be half done: the child's registry may then lack
 * that one range, and the child's leak check reads it as a root. getpid is
 * a system call, but every caller is about to make one (mmap, munmap) or
 * is the leak check. */
static _Atomic pid_t own_lock;

/* One attempt, by a thread of process me: the lock free, or held by a
 * thread of another process (the parent's, gone in this one). */
static bool own_try(pid_t me)
{
    pid_t holder = 0;
    if (atomic_compare_exchange_strong_explicit(&own_lock, &holder, me, memory_order_acquire,
                                                memory_order_relaxed))
        return true;
    return holder != me && atomic_compare_exchange_strong_explicit(
                               &own_lock, &holder, me, memory_order_acquire, memory_order_relaxed);
}

static void own_take(void)
{
    pid_t me = getpid();
    while (!own_try(me))
        sched_yield();
}

static void own_release(void)
{
    atomic_store_explicit(&own_lock, 0, memory_order_release);
}

static void own_add(void *p, size_t bytes)
{
    own_take();
    if (nown < OWN_MAX)
        own[nown++] = (base_range){(uintptr_t)p, (uintptr_t)p + bytes};
    else
        own_lost = true;
    own_release();
}

static void own_remove(void *p)
{
    own_take();
    for (size_t i = 0; i < nown; i++)
        if (own[i].lo == (uintptr_t)p) {
            own[i] = own[--nown];
            break;
        }
    own_release();
}

size_t base_own_ranges(base_range *out, size_t max)
{
    /* One attempt: with the other threads stopped, a holder in this
     * process may never let go. */
    if (!own_try(getpid()))
        return SIZE_MAX;
    size_t n = own_lost || nown > max ? SIZE_MAX : nown;
    if (n != SIZE_MAX)
        memcpy(out, own, n * sizeof *own);
    own_release();
    return n;
}

void *base_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    own_add(p, bytes);
    return p;
}

#define HUGE_PAGE ((size_t)2 << 20)

void *base_map_huge(size_t bytes)
{
    size_t want = (bytes + BASE_PAGE - 1) & ~(BASE_PAGE - 1);
    uint8_t *p = mmap(NULL, want + HUGE_PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *aligned = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (aligned > p)
        munmap(p, (size_t)(aligned - p));
    size_t tail = (size_t)(p + want + HUGE_PAGE - (aligned + want));
    if (tail)
        munmap(aligned + want, tail);
    /* Only advice: without transparent huge pages this is base_map. */
    (void)madvise(aligned, want, MADV_HUGEPAGE);
    own_add(aligned, want);
    return aligned;
}

/* From here a table written whole is worth its huge pages: base_map_large,
 * and a growing base_buf. */
#define LARGE_FROM (2 * HUGE_PAGE)

void *base_map_large(size_t bytes)
{
    return bytes >= LARGE_FROM ? base_map_huge(bytes) : base_map(bytes);
}

void base_populate(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    (void)madvise(p, bytes, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}

void base_unmap(void *p, size_t bytes)
{
    if (p) {
        own_remove(p);
        munmap(p, bytes);
    }
}

/* Records and stacks are small and live as long as the process: bump them
 * out of 1 MiB chunks. Only a chunk refill takes more than a few instructions. */
#define CHUNK_BYTES (1u << 20)
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *arena_cur, *arena_end;

void *base_arena_alloc(size_t bytes)
{
    bytes = (bytes + 15) & ~(size_t)15;
    pthread_mutex_lock(&arena_lock);
    if ((size_t)(arena_end - arena_cur) < bytes) {
        size_t n = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
        uint8_t *p = base_map(n);
        if (!p) {
            pthread_mutex_unlock(&arena_lock);
            return NULL;
        }
        arena_cur = p;
        arena_end = p + n;
    }
    void *r = arena_cur;
    arena_cur += bytes;
    pthread_mutex_unlock(&arena_lock);
    return r;
}

static bool buf_reserve(base_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap < b->len + n)
        cap *= 2;
    void *p;
    if (b->data) {
        own_remove(b->data);
        p = mremap(b->data, b->cap, cap, MREMAP_MAYMOVE);
        own_add(p == MAP_FAILED ? b->data : p, p == MAP_FAILED ? b->cap : cap);
    } else {
        p = base_map(cap);
    }
    if (p == MAP_FAILED || p == NULL) {
        b->failed = true;
        return false;
    }
    /* A buffer is written as it grows (the snapshot's list of blocks):
     * base_map_large's reason. */
    if (cap >= LARGE_FROM)
        (void)madvise(p, cap, MADV_HUGEPAGE);
    b->data = p;
    b->cap = cap;
    return true;
}

void base_buf_put_slow(base_buf *b, const void *p, size_t n)
{
    if (n == 0 || !buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Every machine tally builds on is little-endian; the explicit byte order
 * keeps the files right anywhere. */
void base_buf_u32(base_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    base_buf_put(b, x, 4);
}

void base_buf_u64(base_buf *b, uint64_t v)
{
    base_buf_u32(b, (uint32_t)v);
    base_buf_u32(b, (uint32_t)(v >> 32));
}

void base_buf_free(base_buf *b)
{
    base_unmap(b->data, b->cap);
    memset(b, 0, sizeof *b);
}
