/* backend: the raw allocators under the pools. No accounting, no tracking.
 *
 * Callers guarantee: size >= 0 and small enough that size + alignment does not
 * overflow; alignment is a power of two. Failure is always "out of memory"
 * and is reported as NULL, leaving any old block untouched. */
#ifndef TALLY_BACKEND_H
#define TALLY_BACKEND_H

#include "base/export.h"

#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct backend_ops {
    const char *name;
    void *(*allocate)(size_t size, size_t alignment);
    /* The same, for alignments up to TALLY_DEFAULT_ALIGNMENT (the pools'
     * usual call): may skip what only larger alignments need. */
    void *(*allocate_default_aligned)(size_t size, size_t alignment);
    /* Returns the new block or NULL; the alignment survives the move. */
    void *(*reallocate)(void *ptr, size_t old_size, size_t new_size, size_t alignment);
    void (*free)(void *ptr, size_t size, size_t alignment);
    /* The same, for backends whose free needs neither size nor alignment:
     * one call less on the hottest path. NULL when the backend has none. */
    void (*free_unsized)(void *ptr);
    size_t (*usable_size)(const void *ptr);
    /* Return cached memory to the OS. */
    void (*release_unused)(void);
} backend_ops;

/* The same allocators in malloc's shape, for the preload shim: it hands
 * their blocks to programs as malloc's, so each entry behaves as its libc
 * namesake (malloc(0) is a block, calloc zeroes, realloc keeps the data).
 * A failure returns NULL and leaves errno to the caller. */
typedef struct backend_malloc_entries {
    void *(*malloc)(size_t size);
    void *(*calloc)(size_t n, size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
    void *(*aligned)(size_t size, size_t alignment); /* alignment: a power of two */
    size_t (*usable_size)(void *ptr);
    size_t (*good_size)(size_t size); /* NULL: the size itself */
    /* Asked before a request of BACKEND_ASK_FROM bytes or more: false when
     * glibc's malloc would fail it (backend_refuses). NULL when the
     * allocator fails where glibc does by itself (glibc's own). */
    bool (*grants)(size_t bytes);
    /* The allocator's own mallinfo2, when it keeps glibc's figures (glibc's
     * own); NULL when the shim has to answer from its books. */
    struct mallinfo2 (*mallinfo2)(void);
} backend_malloc_entries;

/* Huge requests. glibc asks the kernel for them with a plain private
 * mapping, which the kernel refuses beyond what it would commit
 * (vm.overcommit_memory: by default a request larger than RAM and swap).
 * mimalloc maps with MAP_NORESERVE, which that check does not see, and so
 * gives 64 TiB where glibc says ENOMEM. Requests from this size on are
 * checked the way glibc would be answered: a mapping made and unmapped
 * again (a few microseconds, against the milliseconds it takes to touch
 * 256 MiB). Below it, the kernel's default heuristic never refuses a
 * machine with that much memory, and the check costs the fast path one
 * compare. */
#define BACKEND_ASK_FROM ((size_t)256 << 20)

/* Would glibc's malloc get bytes (chunk header included) from the kernel
 * now? Never for more than PTRDIFF_MAX. A system call: slow path only. */
bool backend_kernel_grants(size_t bytes);

/* True when e's allocator would give size bytes at this alignment (0 for
 * malloc's) where glibc would fail: glibc over-allocates an aligned request
 * by its alignment. One compare of a constant when the request is small. */
static inline bool backend_refuses(const backend_malloc_entries *e, size_t size, size_t alignment)
{
    size_t bytes;
    if (__builtin_add_overflow(size, alignment, &bytes))
        bytes = SIZE_MAX;
    return __builtin_expect(bytes >= BACKEND_ASK_FROM, 0) && e->grants && !e->grants(bytes);
}

/* "mimalloc" or "system"; NULL when that allocator cannot be loaded. */
TALLY_INTERNAL const backend_malloc_entries *tally_backend_malloc_entries(const char *name);
/* mimalloc only: commit (without touching) an arena of this many bytes up
 * front; false when not loaded. */
TALLY_INTERNAL bool tally_backend_mimalloc_reserve(size_t bytes);
/* p lies in memory mimalloc manages (false when mimalloc was never loaded:
 * this does not load it). */
bool backend_mimalloc_owns(const void *p);

/* An address inside each allocator library that is loaded now, mimalloc's
 * and jemalloc's, at most max of them in out; their count. Their own
 * mmap calls reach a preloaded mmap (through the PLT), and the shim's
 * tells them apart from the program's by where they come from. */
TALLY_INTERNAL size_t tally_backend_code(const void **out, size_t max);
const void *backend_mimalloc_code(void); /* NULL when not loaded */
const void *backend_jemalloc_code(void); /* NULL without libtally-jemalloc */

/* NULL when the name is unknown, not built, or its library failed to load. */
const backend_ops *backend_find(const char *name);

/* Built and loadable backends, NULL-terminated, in preference order. */
const char *const *backend_names(void);

/* The preferred backend that loads: mimalloc, then jemalloc, then system. */
const backend_ops *backend_preferred(void);

/* One per file; each returns NULL when that backend cannot be used
 * (jemalloc: when the program did not link libtally-jemalloc). */
const backend_ops *backend_system(void);
const backend_ops *backend_mimalloc(void);
const backend_ops *backend_jemalloc(void);
const backend_malloc_entries *backend_system_entries(void);
const backend_malloc_entries *backend_mimalloc_entries(void);

#endif
