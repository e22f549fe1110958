/* entry_malloc.c: the C allocator family, with glibc 2.36's semantics.
 *
 * Every name a program can reach is defined here, including those that
 * Debian's libmimalloc exports (reallocf, malloc_size, ...) and glibc's
 * __libc_* aliases: whichever a program calls, it lands in the shim and
 * never in an allocator that would receive another one's pointer. */
#include "shim/shim.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>

/* Before the raw allocator is bound, or while this thread binds it. */
static void *boot_malloc(size_t size, size_t alignment)
{
    void *p = shim_boot_alloc(size, alignment);
    if (!p)
        errno = ENOMEM;
    return p;
}

/* A request glibc would fail (lib/backend/backend.h, backend_refuses):
 * fail it the same way, ENOMEM, before the raw allocator overcommits. */
#define REFUSED(size, alignment) SHIM_UNLIKELY(backend_refuses(&shim_raw, (size), (alignment)))

SHIM_EXPORT void *malloc(size_t size)
{
    if (SHIM_UNLIKELY(shim_need_boot()))
        return boot_malloc(size, SHIM_MALLOC_ALIGNMENT);
    if (REFUSED(size, 0)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = shim_raw.malloc(shim_raw_size(size));
    if (SHIM_UNLIKELY(!p)) {
        errno = ENOMEM;
        return NULL;
    }
    SHIM_BOOK(p, size, TALLY_KIND_MALLOC);
    return p;
}

SHIM_EXPORT void free(void *ptr)
{
    shim_dealloc(ptr, SHIM_DEALLOC_FREE, 0);
}

SHIM_EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (SHIM_UNLIKELY(__builtin_mul_overflow(n, size, &total))) {
        errno = ENOMEM;
        return NULL;
    }
    if (SHIM_UNLIKELY(shim_need_boot()))
        return boot_malloc(total, SHIM_MALLOC_ALIGNMENT);
    if (REFUSED(total, 0)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = shim_raw.calloc(1, shim_raw_size(total));
    if (SHIM_UNLIKELY(!p)) {
        errno = ENOMEM;
        return NULL;
    }
    SHIM_BOOK_AS(p, total, TALLY_KIND_MALLOC, SHIM_ZEROED);
    return p;
}

/* Moves a bootstrap block to the real heap: the arena never frees. */
static void *realloc_from_boot(void *ptr, size_t size)
{
    void *p = malloc(size);
    if (p) {
        size_t old = shim_boot_size(ptr);
        memcpy(p, ptr, old < size ? old : size);
    }
    return p;
}

/* realloc's work once ptr != NULL and size != 0. The block is unbooked
 * before the raw realloc: once that returns, the old address may already
 * belong to another thread's new block. */
static void *realloc_tracked(void *ptr, size_t size, tally_stack_id stack)
{
    tally_block_info info;
    shim_thread.busy = 1;
    bool known = tally_track_free(ptr, &info);
    if (!known && !shim_orphan_take(ptr) && !shim_attached) {
        shim_report_invalid(ptr, SHIM_DEALLOC_REALLOC);
        shim_thread.busy = 0;
        errno = ENOMEM;
        return NULL;
    }
    if (known && info.kind != TALLY_KIND_MALLOC) {
        shim_report_mismatch(ptr, &info, SHIM_DEALLOC_REALLOC);
        if (info.kind == TALLY_KIND_POOL) {
            /* A pool's block may live in another allocator: leave it be. */
            tally_track_alloc(ptr, info.size, info.pool_id, info.stack, info.kind);
            shim_thread.busy = 0;
            errno = ENOMEM;
            return NULL;
        }
    }
    void *p = shim_raw.realloc(ptr, shim_raw_size(size));
    if (!p) {
        if (known) /* the old block lives on, booked as it was */
            tally_track_alloc(ptr, info.size, info.pool_id, info.stack, info.kind);
        else
            shim_orphan_add(ptr);
        shim_thread.busy = 0;
        errno = ENOMEM;
        return NULL;
    }
    tally_track_alloc(p, (int64_t)size, shim_pool_for(stack), stack, TALLY_KIND_MALLOC);
    shim_thread.busy = 0;
    SHIM_AFTER_BOOKING();
    return p;
}

SHIM_EXPORT void *realloc(void *ptr, size_t size)
{
    if (!ptr)
        return malloc(size);
    if (size == 0) { /* glibc: frees, returns NULL */
        free(ptr);
        return NULL;
    }
    if (SHIM_UNLIKELY(shim_boot_owns(ptr)))
        return realloc_from_boot(ptr, size);
    if (SHIM_UNLIKELY(shim_need_boot())) {
        errno = ENOMEM; /* a real block before the allocator is bound: impossible */
        return NULL;
    }
    if (REFUSED(size, 0)) { /* the old block stays as it was, booked */
        errno = ENOMEM;
        return NULL;
    }
    if (!tally_track_is_on() || shim_thread.busy) {
        bool orphan = shim_thread.busy && tally_track_is_on() && shim_orphan_take(ptr);
        tally_track_forget(ptr); /* unbooked from here on: no entry may outlive it */
        void *p = shim_raw.realloc(ptr, shim_raw_size(size));
        if (orphan)
            shim_orphan_add(p ? p : ptr);
        if (!p)
            errno = ENOMEM;
        return p;
    }
    shim_thread.busy = 1;
    tally_stack_id stack = tally_track_capture_at(NULL, (int64_t)size, shim_ret_slot());
    shim_thread.busy = 0;
    return realloc_tracked(ptr, size, stack);
}

SHIM_EXPORT void *reallocarray(void *ptr, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, total);
}

/* BSD: frees the block when it cannot be resized. */
SHIM_EXPORT void *reallocf(void *ptr, size_t size)
{
    void *p = realloc(ptr, size);
    if (!p && ptr && size != 0)
        free(ptr);
    return p;
}

/* NetBSD: *ptrp is resized in place of the pointer, 0 or an errno value. */
SHIM_EXPORT int reallocarr(void *ptrp, size_t n, size_t size)
{
    void *old;
    memcpy(&old, ptrp, sizeof old);
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return EOVERFLOW;
    if (total == 0) {
        free(old);
        old = NULL;
        memcpy(ptrp, &old, sizeof old);
        return 0;
    }
    int saved = errno;
    void *p = realloc(old, total);
    if (!p) {
        int err = errno;
        errno = saved;
        return err;
    }
    memcpy(ptrp, &p, sizeof p);
    return 0;
}

/* The aligned family's shared core: alignment already validated and at
 * least SHIM_MALLOC_ALIGNMENT, a power of two. */
static void *aligned_raw(size_t alignment, size_t size)
{
    if (SHIM_UNLIKELY(shim_need_boot()))
        return boot_malloc(size, alignment);
    /* glibc allocates size + alignment and aligns inside: fail when that
     * is larger than any heap (without asking), or than the kernel gives. */
    if (size > PTRDIFF_MAX || alignment > PTRDIFF_MAX - size || REFUSED(size, alignment)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = shim_raw.aligned(shim_raw_size(size), alignment);
    if (!p)
        errno = ENOMEM;
    return p;
}

/* glibc 2.36's memalign (aligned_alloc is the same function there): tiny
 * alignments are malloc's, others round up to a power of two, and those
 * beyond SIZE_MAX/2+1 are EINVAL. */
static bool memalign_alignment(size_t *alignment)
{
    if (*alignment > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return false;
    }
    if (*alignment < SHIM_MALLOC_ALIGNMENT)
        *alignment = SHIM_MALLOC_ALIGNMENT;
    if (*alignment & (*alignment - 1))
        *alignment = (size_t)1 << (64 - __builtin_clzll(*alignment));
    return true;
}

SHIM_EXPORT void *memalign(size_t alignment, size_t size)
{
    if (!memalign_alignment(&alignment))
        return NULL;
    void *p = aligned_raw(alignment, size);
    if (p && shim_ready())
        SHIM_BOOK(p, size, TALLY_KIND_MALLOC);
    return p;
}

/* The same function in glibc 2.36; a tail call, so no frame of its own. */
SHIM_EXPORT void *aligned_alloc(size_t alignment, size_t size)
{
    return memalign(alignment, size);
}

SHIM_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size)
{
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) || alignment == 0)
        return EINVAL;
    if (alignment < SHIM_MALLOC_ALIGNMENT)
        alignment = SHIM_MALLOC_ALIGNMENT;
    void *p = aligned_raw(alignment, size);
    if (!p)
        return ENOMEM;
    if (shim_ready())
        SHIM_BOOK(p, size, TALLY_KIND_MALLOC);
    *memptr = p;
    return 0;
}

SHIM_EXPORT void *valloc(size_t size)
{
    void *p = aligned_raw((size_t)sysconf(_SC_PAGESIZE), size);
    if (p && shim_ready())
        SHIM_BOOK(p, size, TALLY_KIND_MALLOC);
    return p;
}

/* The size is rounded up to whole pages, and booked so: that is what
 * pvalloc promises the caller. */
SHIM_EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
    if (__builtin_add_overflow(size, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(page - 1);
    void *p = aligned_raw(page, rounded);
    if (p && shim_ready())
        SHIM_BOOK(p, rounded, TALLY_KIND_MALLOC);
    return p;
}

SHIM_EXPORT size_t malloc_usable_size(void *ptr)
{
    if (!ptr)
        return 0;
    if (shim_boot_owns(ptr))
        return shim_boot_size(ptr);
    if (!shim_ready())
        return 0;
    if (tally_track_is_on() && !shim_thread.busy) {
        shim_thread.busy = 1;
        tally_block_info info;
        bool known = tally_track_find(ptr, &info) || shim_orphan_has(ptr) || shim_attached;
        if (!known)
            shim_report_invalid(ptr, SHIM_DEALLOC_USABLE_SIZE);
        shim_thread.busy = 0;
        if (!known)
            return 0;
    }
    return shim_raw.usable_size(ptr);
}

/* ---- statistics -------------------------------------------------------------- */
/* mallinfo2 answers for the allocator that serves the program. glibc's,
 * under TALLY_BACKEND=system: its own figures, which are true. mimalloc
 * keeps none that mean the same (Debian's build counts only the memory it
 * maps, the shim's 1 GiB reserve included, not the bytes in use), while
 * glibc's own mallinfo2 would describe glibc's arena, which then holds
 * nothing. So the shim answers from its books, as other
 * preloaded allocators answer from theirs: uordblks, the bytes the program
 * holds in live blocks (requested sizes, every thread's, exact for the
 * caller's own and to within 64 KiB per other thread); arena, the same
 * (the heap is reported as what is in use: no free space, no separately
 * mapped blocks, so every other field is 0). The bootstrap arena's few
 * blocks are not counted. After the exit profile is written the books
 * stop. */
SHIM_EXPORT struct mallinfo2 mallinfo2(void)
{
    struct mallinfo2 m = {0};
    if (!shim_ready())
        return m;
    if (shim_raw.mallinfo2)
        return shim_raw.mallinfo2();
    int busy = shim_thread.busy;
    shim_thread.busy = 1; /* an allocation in a signal handler meanwhile is not booked */
    int64_t live = tally_track_live_bytes();
    shim_thread.busy = busy;
    m.arena = m.uordblks = live > 0 ? (size_t)live : 0;
    return m;
}

/* glibc's mallinfo is mallinfo2 converted to int, field by field (wrapping
 * past 2 GiB as glibc's does). */
static struct mallinfo mallinfo_from_2(void)
{
    struct mallinfo2 m2 = mallinfo2();
    return (struct mallinfo){
        .arena = (int)m2.arena,
        .ordblks = (int)m2.ordblks,
        .smblks = (int)m2.smblks,
        .hblks = (int)m2.hblks,
        .hblkhd = (int)m2.hblkhd,
        .usmblks = (int)m2.usmblks,
        .fsmblks = (int)m2.fsmblks,
        .uordblks = (int)m2.uordblks,
        .fordblks = (int)m2.fordblks,
        .keepcost = (int)m2.keepcost,
    };
}

SHIM_EXPORT struct mallinfo mallinfo(void)
{
    return mallinfo_from_2();
}

/* ---- aliases: the same functions under every other name ------------------ */
SHIM_EXPORT void cfree(void *ptr)
{
    free(ptr);
}

SHIM_EXPORT void vfree(void *ptr)
{
    free(ptr);
}

SHIM_EXPORT size_t malloc_size(const void *ptr)
{
    return malloc_usable_size((void *)ptr);
}

SHIM_EXPORT size_t malloc_good_size(size_t size)
{
    if (shim_ready() && shim_raw.good_size)
        return shim_raw.good_size(size);
    return size;
}

SHIM_EXPORT void *_aligned_malloc(size_t size, size_t alignment)
{
    return aligned_alloc(alignment, size);
}

SHIM_EXPORT void *__libc_malloc(size_t size)
{
    return malloc(size);
}

SHIM_EXPORT void __libc_free(void *ptr)
{
    free(ptr);
}

SHIM_EXPORT void __libc_cfree(void *ptr)
{
    free(ptr);
}

SHIM_EXPORT void *__libc_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}

SHIM_EXPORT void *__libc_realloc(void *ptr, size_t size)
{
    return realloc(ptr, size);
}

SHIM_EXPORT void *__libc_memalign(size_t alignment, size_t size)
{
    return memalign(alignment, size);
}

SHIM_EXPORT void *__libc_valloc(size_t size)
{
    return valloc(size);
}

SHIM_EXPORT void *__libc_pvalloc(size_t size)
{
    return pvalloc(size);
}

SHIM_EXPORT int __posix_memalign(void **memptr, size_t alignment, size_t size)
{
    return posix_memalign(memptr, alignment, size);
}

SHIM_EXPORT struct mallinfo __libc_mallinfo(void)
{
    return mallinfo_from_2();
}
