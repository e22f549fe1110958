/* arena.c: the core's own memory, from mmap.
 *
 * Nothing here calls malloc: under the preload shim malloc is the tracked
 * path, and a call from inside the core would recurse. */
#include "track/track_internal.h"

#include <string.h>
#include <sys/mman.h>

void *tt_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void tt_unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

/* Records and stacks are small and live as long as the process: bump them
 * out of 1 MiB chunks. Only a chunk refill takes more than a few instructions. */
#define CHUNK_BYTES (1u << 20)
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *arena_cur, *arena_end;

void *tt_arena_alloc(size_t bytes)
{
    bytes = (bytes + 15) & ~(size_t)15;
    pthread_mutex_lock(&arena_lock);
    if ((size_t)(arena_end - arena_cur) < bytes) {
        size_t n = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
        uint8_t *p = tt_map(n);
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

/* ---- tt_buf ----------------------------------------------------------------- */
static bool buf_reserve(tt_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap < b->len + n)
        cap *= 2;
    void *p = b->data ? mremap(b->data, b->cap, cap, MREMAP_MAYMOVE) : tt_map(cap);
    if (p == MAP_FAILED || p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void tt_buf_put(tt_buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* The format is little-endian, as is every machine tally builds on; the
 * explicit byte order keeps it right anywhere. */
void tt_buf_u32(tt_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tt_buf_put(b, x, 4);
}

void tt_buf_u64(tt_buf *b, uint64_t v)
{
    tt_buf_u32(b, (uint32_t)v);
    tt_buf_u32(b, (uint32_t)(v >> 32));
}

void tt_buf_str(tt_buf *b, const char *s, size_t n)
{
    if (n > 65536)
        n = 65536; /* the format's limit */
    tt_buf_u32(b, (uint32_t)n);
    tt_buf_put(b, s, n);
}

void tt_buf_free(tt_buf *b)
{
    tt_unmap(b->data, b->cap);
    memset(b, 0, sizeof *b);
}
