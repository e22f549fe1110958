/* mem.h: memory for tally's own tables, straight from mmap.
 *
 * Never from malloc: under the preload shim malloc is the tracked path, and
 * a call from inside the bookkeeping would recurse into it. */
#ifndef TALLY_BASE_MEM_H
#define TALLY_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* x86-64's base page: the unit of mmap, madvise, mincore and pagemap, and
 * of what base_map hands out. */
#define BASE_PAGE ((size_t)4096)

void *base_map(size_t bytes); /* zeroed, reserved lazily; NULL on failure */
void base_unmap(void *p, size_t bytes);
/* base_map for a big table read at random: aligned to a 2 MiB page, and
 * the kernel is asked for transparent huge pages, so that a lookup costs a
 * cache miss but rarely a TLB miss too. Each whole 2 MiB stretch gets a huge
 * page, the tail past the last one small pages: a table's size is its own,
 * not rounded to 2 MiB. */
void *base_map_huge(size_t bytes);
/* base_map_huge from 4 MiB, else base_map: for a table that is written
 * whole once made (the leak check's arrays, some 60 MB for a million live
 * blocks). A huge page costs one fault where small ones cost 512: on
 * live-heavy (1M blocks live at exit) the check's 15k faults were about a
 * fifth of its time. */
void *base_map_large(size_t bytes);
/* Backs bytes at p (from base_map or base_map_huge) now, writable, in one
 * call: for a table about to be written all over (a rehash), where a
 * fault a page was a tenth of python3's full run, and reading a fresh huge
 * page before writing it faults twice (the shared zero page, then a copy).
 * Only advice: without MADV_POPULATE_WRITE (Linux before 5.14) the pages
 * fault in as they are touched. */
void base_populate(void *p, size_t bytes);

/* The ranges base_map handed out and base_unmap did not take back: tally's
 * own memory. Copies at most max into out; SIZE_MAX when more exist, some
 * were not recorded, or the registry is busy (it never waits: the leak
 * check calls it with the other threads stopped). */
typedef struct {
    uintptr_t lo, hi;
} base_range;
size_t base_own_ranges(base_range *out, size_t max);
/* Zeroed, 16-byte aligned, never freed: for records that live as long as
 * the process. Takes a lock only to refill its 1 MiB chunk. */
void *base_arena_alloc(size_t bytes);

/* A growable mmap'd byte buffer (profiles, module lists). After a failed
 * growth it stays `failed` and ignores further writes, so a writer checks
 * once at the end. Integers go out little-endian. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} base_buf;
/* Appends n bytes. Inline while they fit: a profile's writer puts a record
 * per live block, and the call with its checks was most of that. */
void base_buf_put_slow(base_buf *b, const void *p, size_t n);
static inline void base_buf_put(base_buf *b, const void *p, size_t n)
{
    if (__builtin_expect(b->len + n > b->cap || n == 0 || b->failed, 0)) {
        base_buf_put_slow(b, p, n);
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
void base_buf_u32(base_buf *b, uint32_t v);
void base_buf_u64(base_buf *b, uint64_t v);
void base_buf_free(base_buf *b);

#endif
