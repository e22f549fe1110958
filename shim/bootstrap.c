/* bootstrap.c: the static arena that serves allocations before the raw
 * allocator is bound.
 *
 * dlsym and dlopen call calloc and malloc themselves, so binding the real
 * allocator needs memory before there is one. These blocks are recognised by
 * their address and never reach a real free; they are few and small, so
 * they are simply never reused. Nor are they booked: they are the loader's
 * and the shim's, not the program's. */
#include "shim/shim.h"

#include <stdalign.h>

#define HEADER 16 /* the block's size, kept so realloc can copy it */

alignas(4096) unsigned char shim_boot_arena[SHIM_BOOT_ARENA_SIZE];
static _Atomic size_t arena_used;

void *shim_boot_alloc(size_t size, size_t alignment)
{
    if (alignment < HEADER)
        alignment = HEADER;
    if (size > SHIM_BOOT_ARENA_SIZE || alignment > SHIM_BOOT_ARENA_SIZE / 2)
        return NULL;
    size_t old = arena_used, start;
    do {
        start = (old + HEADER + alignment - 1) & ~(alignment - 1);
        if (start + size > SHIM_BOOT_ARENA_SIZE)
            return NULL;
    } while (!__atomic_compare_exchange_n((size_t *)&arena_used, &old, start + size, true,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    *(size_t *)(shim_boot_arena + start - sizeof(size_t)) = size;
    /* Static storage is zero and never reused: calloc needs no memset. */
    return shim_boot_arena + start;
}

size_t shim_boot_size(const void *ptr)
{
    return *(const size_t *)((const unsigned char *)ptr - sizeof(size_t));
}
