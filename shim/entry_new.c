/* entry_new.c: every C++ operator new and delete, by their mangled names.
 *
 * Written in C so that C programs do not pull in libstdc++: what C++ needs
 * on failure (the new_handler, std::bad_alloc) is looked up in the program's
 * own libstdc++, which is loaded whenever these operators are reached. The
 * shim is built with -fexceptions so that bad_alloc unwinds through it. */
#include "shim/shim.h"

#include <dlfcn.h>
#include <errno.h>

typedef void (*new_handler_fn)(void);

/* The raw allocation behind every operator new, failing where libstdc++'s
 * would: it calls malloc, or aligned_alloc for the aligned forms, and glibc
 * fails those beyond what the kernel gives (lib/backend/backend.h,
 * backend_refuses). An alignment up to SHIM_MALLOC_ALIGNMENT is every
 * block's already (shim_raw_size). */
SHIM_INLINE void *new_raw(size_t size, size_t alignment)
{
    if (alignment > SHIM_MALLOC_ALIGNMENT) {
        if (SHIM_UNLIKELY(size > PTRDIFF_MAX || alignment > PTRDIFF_MAX - size ||
                          backend_refuses(&shim_raw, size, alignment)))
            return NULL;
        return shim_raw.aligned(shim_raw_size(size), alignment);
    }
    if (SHIM_UNLIKELY(backend_refuses(&shim_raw, size, 0)))
        return NULL;
    return shim_raw.malloc(shim_raw_size(size));
}

/* new_handler loop of [new.delete.single]: call the handler and retry, or
 * throw (or return NULL for the nothrow forms) when there is none. */
__attribute__((noinline)) static void *new_failed(size_t size, size_t alignment, bool nothrow)
{
    new_handler_fn (*get_handler)(void);
    *(void **)&get_handler = dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
    for (;;) {
        new_handler_fn handler = get_handler ? get_handler() : NULL;
        if (!handler)
            break;
        handler();
        void *p = new_raw(size, alignment);
        if (p)
            return p;
    }
    if (nothrow)
        return NULL;
    void (*throw_bad_alloc)(void);
    *(void **)&throw_bad_alloc = dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
    if (throw_bad_alloc)
        throw_bad_alloc();
    __builtin_trap(); /* operator new cannot return NULL */
}

/* Inlined into each operator so that the frame the core skips is the
 * operator's own. */
#define NEW_BODY(size, alignment, kind, nothrow)                                                   \
    do {                                                                                           \
        if (SHIM_UNLIKELY(shim_need_boot()))                                                       \
            return shim_boot_alloc((size), (alignment) > SHIM_MALLOC_ALIGNMENT                     \
                                               ? (alignment)                                       \
                                               : SHIM_MALLOC_ALIGNMENT);                           \
        void *p_ = new_raw((size), (alignment));                                                   \
        if (SHIM_UNLIKELY(!p_))                                                                    \
            p_ = new_failed((size), (alignment), (nothrow));                                       \
        SHIM_BOOK(p_, (size), (kind));                                                             \
        return p_;                                                                                 \
    } while (0)

/* operator new(size_t) */
SHIM_EXPORT void *_Znwm(size_t size)
{
    NEW_BODY(size, 0, TALLY_KIND_NEW, false);
}

/* operator new[](size_t) */
SHIM_EXPORT void *_Znam(size_t size)
{
    NEW_BODY(size, 0, TALLY_KIND_NEW_ARRAY, false);
}

/* operator new(size_t, const std::nothrow_t &) */
SHIM_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *nt)
{
    (void)nt;
    NEW_BODY(size, 0, TALLY_KIND_NEW, true);
}

/* operator new[](size_t, const std::nothrow_t &) */
SHIM_EXPORT void *_ZnamRKSt9nothrow_t(size_t size, const void *nt)
{
    (void)nt;
    NEW_BODY(size, 0, TALLY_KIND_NEW_ARRAY, true);
}

/* operator new(size_t, std::align_val_t) */
SHIM_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t alignment)
{
    NEW_BODY(size, alignment, TALLY_KIND_NEW, false);
}

/* operator new[](size_t, std::align_val_t) */
SHIM_EXPORT void *_ZnamSt11align_val_t(size_t size, size_t alignment)
{
    NEW_BODY(size, alignment, TALLY_KIND_NEW_ARRAY, false);
}

/* operator new(size_t, std::align_val_t, const std::nothrow_t &) */
SHIM_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *nt)
{
    (void)nt;
    NEW_BODY(size, alignment, TALLY_KIND_NEW, true);
}

/* operator new[](size_t, std::align_val_t, const std::nothrow_t &) */
SHIM_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *nt)
{
    (void)nt;
    NEW_BODY(size, alignment, TALLY_KIND_NEW_ARRAY, true);
}

/* ---- delete ----------------------------------------------------------------- */
/* operator delete(void *) */
SHIM_EXPORT void _ZdlPv(void *ptr)
{
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE, 0);
}

/* operator delete[](void *) */
SHIM_EXPORT void _ZdaPv(void *ptr)
{
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE_ARRAY, 0);
}

/* operator delete(void *, size_t) */
SHIM_EXPORT void _ZdlPvm(void *ptr, size_t size)
{
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE, size);
}

/* operator delete[](void *, size_t) */
SHIM_EXPORT void _ZdaPvm(void *ptr, size_t size)
{
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE_ARRAY, size);
}

/* operator delete(void *, const std::nothrow_t &) */
SHIM_EXPORT void _ZdlPvRKSt9nothrow_t(void *ptr, const void *nt)
{
    (void)nt;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE, 0);
}

/* operator delete[](void *, const std::nothrow_t &) */
SHIM_EXPORT void _ZdaPvRKSt9nothrow_t(void *ptr, const void *nt)
{
    (void)nt;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE_ARRAY, 0);
}

/* operator delete(void *, std::align_val_t) */
SHIM_EXPORT void _ZdlPvSt11align_val_t(void *ptr, size_t alignment)
{
    (void)alignment;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE, 0);
}

/* operator delete[](void *, std::align_val_t) */
SHIM_EXPORT void _ZdaPvSt11align_val_t(void *ptr, size_t alignment)
{
    (void)alignment;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE_ARRAY, 0);
}

/* operator delete(void *, size_t, std::align_val_t) */
SHIM_EXPORT void _ZdlPvmSt11align_val_t(void *ptr, size_t size, size_t alignment)
{
    (void)alignment;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE, size);
}

/* operator delete[](void *, size_t, std::align_val_t) */
SHIM_EXPORT void _ZdaPvmSt11align_val_t(void *ptr, size_t size, size_t alignment)
{
    (void)alignment;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE_ARRAY, size);
}

/* operator delete(void *, std::align_val_t, const std::nothrow_t &) */
SHIM_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment, const void *nt)
{
    (void)alignment;
    (void)nt;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE, 0);
}

/* operator delete[](void *, std::align_val_t, const std::nothrow_t &) */
SHIM_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment, const void *nt)
{
    (void)alignment;
    (void)nt;
    shim_dealloc(ptr, SHIM_DEALLOC_DELETE_ARRAY, 0);
}
