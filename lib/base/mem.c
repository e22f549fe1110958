/* mem.c: mmap'd memory, a bump arena and a growable buffer. */
#include <config.h> /* _GNU_SOURCE: mremap */

#include "base/mem.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

void *base_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void base_unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
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
    void *p = b->data ? mremap(b->data, b->cap, cap, MREMAP_MAYMOVE) : base_map(cap);
    if (p == MAP_FAILED || p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void base_buf_put(base_buf *b, const void *p, size_t n)
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
