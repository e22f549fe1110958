/* mimalloc.c: the default backend.
 *
 * Debian's libmimalloc is built to override malloc: it exports malloc, free
 * and some forty other allocator names. Linking it would silently replace the
 * malloc of every program that links libtally, so it is loaded privately
 * (RTLD_LOCAL) and only its mi_* entry points are bound. */
#include "backend/backend.h"

#include <config.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <tally/pool.h>

static void (*mi_collect_fn)(bool);

static void mimalloc_release_unused(void)
{
    mi_collect_fn(true);
}

/* Filled at load time with mimalloc's own entry points where their signatures
 * match ours; a pool allocation costs a compare and a jump more (see
 * mimalloc_allocate). */
static backend_ops mimalloc_backend = {
    .name = "mimalloc",
    .release_unused = mimalloc_release_unused,
};

/* mi_free_size_aligned only forwards to mi_free through two PLT hops. */
static void (*mi_free_fn)(void *);

static void mimalloc_free(void *ptr, size_t size, size_t alignment)
{
    (void)size;
    (void)alignment;
    mi_free_fn(ptr);
}

/* ---- aligned blocks ----------------------------------------------------------------------
 * mimalloc 2.0.9 (Debian's) starts each page of 8..1024-byte blocks 384
 * bytes (3 x 128) into its 64 KiB slice, to spread pages over cache sets
 * (segment.c, _mi_segment_page_start_from_slice). mi_malloc_aligned still
 * treats such a block of a power-of-two size as aligned to that size (the
 * comment there: "any small sized allocation is naturally aligned"), and
 * hands it out without looking: right for alignments up to 128, wrong above.
 * Every 256-, 512- or 1024-aligned request of 256, 512 or 1024 bytes came
 * back 128 mod 256 or 384 mod 512/1024, every time. mi_malloc_aligned_at
 * with offset 0 is the same allocation without that shortcut: it takes a
 * free block only if its address is aligned, else over-allocates by the
 * alignment and aligns inside (mimalloc then marks the page, so mi_free and
 * mi_usable_size find the block from the inner pointer). Tested for every
 * power of two up to 1 MiB: tests/lib/test_pool.c, tests/shim/test_shim_align.sh.
 * The price: a 256-byte block aligned to 256 takes a 512-byte one. */
#define MI_NATURAL_ALIGNMENT_MAX 128

static void *(*mi_malloc_aligned_fn)(size_t, size_t);
static void *(*mi_malloc_aligned_at_fn)(size_t, size_t, size_t);
static size_t (*mi_usable_size_fn)(const void *);

/* A request above mimalloc's small-object limit (1 KiB) never meets a
 * shortcut: it is always over-allocated and aligned by its address. */
#define MI_SMALL_SIZE_MAX 1024

static bool is_aligned(const void *p, size_t alignment)
{
    return ((uintptr_t)p & (alignment - 1)) == 0;
}

static __attribute__((noinline)) void *allocate_overaligned(size_t size, size_t alignment)
{
    void *p = mi_malloc_aligned_at_fn(size, alignment, 0);
    if (__builtin_expect(p == NULL || is_aligned(p, alignment), 1))
        return p;
    /* Not with 2.0.9: another libmimalloc.so.2 whose small-page path errs
     * the same way still gets an aligned block, one past the small sizes. */
    mi_free_fn(p);
    p = mi_malloc_aligned_at_fn(size > MI_SMALL_SIZE_MAX ? size : MI_SMALL_SIZE_MAX + 1, alignment,
                                0);
    if (p && !is_aligned(p, alignment)) { /* never hand out a misaligned block */
        mi_free_fn(p);
        p = NULL;
    }
    return p;
}

/* The pools' allocate and the shim's aligned entry. */
static void *mimalloc_allocate(size_t size, size_t alignment)
{
    if (__builtin_expect(alignment <= MI_NATURAL_ALIGNMENT_MAX, 1))
        return mi_malloc_aligned_fn(size, alignment);
    return allocate_overaligned(size, alignment);
}

/* ---- the pools' default alignment ---------------------------------------------------------
 * mi_malloc_aligned(n, 64) takes mimalloc's generic path whenever the first
 * free block of n's size class is not 64-aligned, and above 1 KiB always:
 * it allocates n + 63 bytes and aligns inside. A 64-byte multiple needs no
 * such care, because mimalloc's size classes from 64 bytes up are 64-byte
 * multiples and its pages start 64-aligned, so the class's every block is
 * aligned. That is mimalloc's layout, not its promise: a block that is not
 * aligned after all goes back, and mi_malloc_aligned answers instead
 * (tests/lib/test_pool.c checks every size up to 64 KiB). Memory: rounding
 * up to 64 never costs more than the 63 bytes the generic path adds. */
static void *(*mi_malloc_fn)(size_t);

/* Never taken with mimalloc 2.0.9. It takes only the block, so that the
 * hot path keeps nothing across its call: the block holds the size asked. */
static __attribute__((noinline)) void *allocate_default_misaligned(void *p)
{
    size_t size = mi_usable_size_fn(p);
    mi_free_fn(p);
    return mi_malloc_aligned_fn(size, TALLY_DEFAULT_ALIGNMENT);
}

/* For alignments up to TALLY_DEFAULT_ALIGNMENT: a 64-aligned block is
 * aligned to every smaller power of two as well. */
static void *mimalloc_allocate_default_aligned(size_t size, size_t alignment)
{
    (void)alignment;
    void *p =
        mi_malloc_fn((size + TALLY_DEFAULT_ALIGNMENT - 1) & ~(size_t)(TALLY_DEFAULT_ALIGNMENT - 1));
    if (__builtin_expect(is_aligned(p, TALLY_DEFAULT_ALIGNMENT), 1)) /* NULL too: a failure */
        return p;
    return allocate_default_misaligned(p);
}

/* mi_realloc_aligned takes no old size; adapt it. Above 128 it keeps the
 * block when it still fits (as mimalloc would: aligned, at most half of it
 * wasted), else moves it to a block from allocate_overaligned, so that the
 * alignment never depends on mimalloc's shortcuts and a failure leaves the
 * old block as it was. */
static void *(*mi_realloc_aligned_fn)(void *, size_t, size_t);

static void *mimalloc_reallocate(void *ptr, size_t old_size, size_t new_size, size_t alignment)
{
    if (alignment <= MI_NATURAL_ALIGNMENT_MAX)
        return mi_realloc_aligned_fn(ptr, new_size, alignment);
    size_t usable = mi_usable_size_fn(ptr);
    if (new_size <= usable && new_size >= usable / 2 && is_aligned(ptr, alignment))
        return ptr;
    void *p = allocate_overaligned(new_size, alignment);
    if (!p)
        return NULL;
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    mi_free_fn(ptr);
    return p;
}

/* The malloc-shaped entries are mimalloc's own, but for the aligned one. */
static backend_malloc_entries mimalloc_entries;
static int (*mi_reserve_fn)(size_t, bool, bool);
static bool (*mi_in_heap_fn)(const void *);

static bool loaded;

static void load_mimalloc(void)
{
    void *h = dlopen(TALLY_MIMALLOC_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    static const char *const names[] = {"mi_malloc_aligned",
                                        "mi_realloc_aligned",
                                        "mi_free",
                                        "mi_usable_size",
                                        "mi_collect",
                                        "mi_malloc",
                                        "mi_calloc",
                                        "mi_realloc",
                                        "mi_good_size",
                                        "mi_reserve_os_memory",
                                        "mi_is_in_heap_region",
                                        "mi_malloc_aligned_at"};
    enum { N = sizeof names / sizeof names[0] };
    void *syms[N];
    for (int i = 0; i < N; i++)
        if (!(syms[i] = dlsym(h, names[i])))
            return; /* keep the handle: unloading an allocator is never safe */
    *(void **)&mi_malloc_aligned_fn = syms[0];
    mimalloc_backend.allocate = mimalloc_allocate;
    mimalloc_backend.allocate_default_aligned = mimalloc_allocate_default_aligned;
    *(void **)&mi_realloc_aligned_fn = syms[1];
    mimalloc_backend.reallocate = mimalloc_reallocate;
    *(void **)&mi_free_fn = syms[2];
    mimalloc_backend.free = mimalloc_free;
    mimalloc_backend.free_unsized = mi_free_fn;
    *(void **)&mi_usable_size_fn = syms[3];
    mimalloc_backend.usable_size = mi_usable_size_fn;
    *(void **)&mi_collect_fn = syms[4];
    *(void **)&mimalloc_entries.malloc = syms[5];
    *(void **)&mi_malloc_fn = syms[5];
    *(void **)&mimalloc_entries.calloc = syms[6];
    *(void **)&mimalloc_entries.realloc = syms[7];
    mimalloc_entries.free = mi_free_fn;
    mimalloc_entries.aligned = mimalloc_allocate;
    *(void **)&mimalloc_entries.usable_size = syms[3];
    *(void **)&mimalloc_entries.good_size = syms[8];
    *(void **)&mi_reserve_fn = syms[9];
    *(void **)&mi_in_heap_fn = syms[10];
    *(void **)&mi_malloc_aligned_at_fn = syms[11];
    /* mimalloc maps with MAP_NORESERVE: huge requests are checked first. */
    mimalloc_entries.grants = backend_kernel_grants;
    loaded = true;
}

const backend_ops *backend_mimalloc(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_mimalloc);
    return loaded ? &mimalloc_backend : NULL;
}

const backend_malloc_entries *backend_mimalloc_entries(void)
{
    return backend_mimalloc() ? &mimalloc_entries : NULL;
}

bool tally_backend_mimalloc_reserve(size_t bytes)
{
    return backend_mimalloc() && mi_reserve_fn(bytes, true, false) == 0;
}

const void *backend_mimalloc_code(void)
{
    return loaded ? (const void *)mi_free_fn : NULL;
}

bool backend_mimalloc_owns(const void *p)
{
    return loaded && mi_in_heap_fn(p);
}
