/* backend: the raw allocators under the pools. No accounting, no tracking.
 *
 * Callers guarantee: size >= 0 and small enough that size + alignment does not
 * overflow; alignment is a power of two. Failure is always "out of memory"
 * and is reported as NULL, leaving any old block untouched. */
#ifndef TALLY_BACKEND_H
#define TALLY_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tally_backend {
    const char *name;
    void *(*allocate)(size_t size, size_t alignment);
    /* Returns the new block or NULL; the alignment survives the move. */
    void *(*reallocate)(void *ptr, size_t old_size, size_t new_size, size_t alignment);
    void (*free)(void *ptr, size_t size, size_t alignment);
    /* The same, for backends whose free needs neither size nor alignment:
     * one call less on the hottest path. NULL when the backend has none. */
    void (*free_unsized)(void *ptr);
    size_t (*usable_size)(const void *ptr);
    /* Return cached memory to the OS. */
    void (*release_unused)(void);
} tally_backend;

/* NULL when the name is unknown, not built, or its library failed to load. */
const tally_backend *tally_backend_find(const char *name);

/* Built and loadable backends, NULL-terminated, in preference order. */
const char *const *tally_backend_names(void);

/* The preferred backend that loads: mimalloc, then jemalloc, then system. */
const tally_backend *tally_backend_preferred(void);

/* One per file; each returns NULL when that backend cannot be used. */
const tally_backend *tally_backend_system(void);
const tally_backend *tally_backend_mimalloc(void);
const tally_backend *tally_backend_jemalloc(void);

#endif
