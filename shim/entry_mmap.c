/* entry_mmap.c: mmap, mmap64, munmap and mremap, for TALLY_MMAP.
 *
 * Much memory never passes through malloc: pymalloc's arenas, JIT heaps,
 * allocators of the program's own. With TALLY_MMAP=1 the program's
 * anonymous private mappings are booked in the pool "mmap" with their
 * stacks (lib/track/mappings.c keeps them). Left out, so that nothing is
 * counted twice:
 *   - file mappings and shared ones (not memory the program allocated);
 *   - PROT_NONE mappings (address space reserved, no memory: the usual
 *     MAP_FIXED over a reservation is booked when it comes);
 *   - the raw allocator's own mappings (mimalloc and jemalloc call mmap
 *     through the PLT, so they reach this wrapper: a call whose return
 *     address lies in their library is theirs; glibc's malloc maps with
 *     internal calls that never get here), and tally's own (libtally and
 *     this shim, by the same test; libunwind, which libtally starts on
 *     first use, maps only inside the shim's work);
 *   - calls made while this thread is inside the shim (shim_thread.busy) or
 *     binding it.
 * Every call still reaches the real function and returns its result and
 * its errno unchanged: glibc's own, bound with dlsym(RTLD_NEXT) when the
 * shim starts, and before that the system call itself (glibc's mmap family
 * is the bare system call on x86-64). */
#include "shim/shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);
typedef void *(*mremap_fn)(void *, size_t, size_t, int, ...);

static mmap_fn real_mmap;
static munmap_fn real_munmap;
static mremap_fn real_mremap;

static bool mmap_on; /* TALLY_MMAP, once the pool exists */
static int32_t pool; /* "mmap" */
#define MAX_OWN 8
static struct {
    uintptr_t lo, hi;
} own[MAX_OWN]; /* the modules whose calls are never the program's */
static int nown;

/* ---- the real functions ----------------------------------------------------- */
static void *call_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    mmap_fn f = __atomic_load_n(&real_mmap, __ATOMIC_ACQUIRE);
    if (SHIM_LIKELY(f != NULL))
        return f(addr, len, prot, flags, fd, off);
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int call_munmap(void *addr, size_t len)
{
    munmap_fn f = __atomic_load_n(&real_munmap, __ATOMIC_ACQUIRE);
    if (SHIM_LIKELY(f != NULL))
        return f(addr, len);
    return (int)syscall(SYS_munmap, addr, len);
}

static void *call_mremap(void *old, size_t old_len, size_t len, int flags, void *addr)
{
    mremap_fn f = __atomic_load_n(&real_mremap, __ATOMIC_ACQUIRE);
    if (SHIM_LIKELY(f != NULL))
        return f(old, old_len, len, flags, addr);
    return (void *)syscall(SYS_mremap, old, old_len, len, flags, addr);
}

/* ---- whose call it is ---------------------------------------------------------- */
typedef struct {
    uintptr_t addr, lo, hi;
} module_find;

/* The extent of the loaded object whose segments hold f->addr. */
static int module_of(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    module_find *f = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    bool holds = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
        holds |= f->addr >= s && f->addr < e;
    }
    if (!holds)
        return 0;
    f->lo = lo;
    f->hi = hi;
    return 1;
}

static void add_own(const void *code)
{
    module_find f = {(uintptr_t)code, 0, 0};
    if (!code || nown == MAX_OWN || !dl_iterate_phdr(module_of, &f))
        return;
    for (int i = 0; i < nown; i++)
        if (own[i].lo == f.lo)
            return;
    own[nown].lo = f.lo;
    own[nown].hi = f.hi;
    nown++;
}

static bool own_call(uintptr_t ret)
{
    for (int i = 0; i < nown; i++)
        if (ret - own[i].lo < own[i].hi - own[i].lo)
            return true;
    return false;
}

/* A call to book: TALLY_MMAP, tracking on, from the program itself. */
SHIM_INLINE bool watched(uintptr_t ret)
{
    return SHIM_UNLIKELY(__atomic_load_n(&mmap_on, __ATOMIC_ACQUIRE)) && tally_track_is_on() &&
           !shim_thread.busy && !shim_thread.in_init && !own_call(ret);
}

/* Memory the program allocated: anonymous, private, accessible. */
static bool booked_kind(int prot, int flags)
{
    return (flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) == MAP_PRIVATE && prot != PROT_NONE;
}

void shim_mmap_init(void)
{
    /* dlsym allocates: this runs while the shim initialises, from the arena. */
    *(void **)&real_munmap = dlsym(RTLD_NEXT, "munmap");
    *(void **)&real_mremap = dlsym(RTLD_NEXT, "mremap");
    void *m = dlsym(RTLD_NEXT, "mmap");
    __atomic_store_n((void **)&real_mmap, m, __ATOMIC_RELEASE);
    if (!tally_track_is_on() || !tally_track_mmap_wanted())
        return;
    add_own((const void *)shim_mmap_init);
    add_own((const void *)tally_track_map);
    const void *code[4];
    size_t n = tally_backend_code(code, 4);
    for (size_t i = 0; i < n; i++)
        add_own(code[i]);
    pool = shim_pools_new("mmap");
    tally_track_name_pool(pool, "mmap");
    __atomic_store_n(&mmap_on, true, __ATOMIC_RELEASE);
}

/* ---- the entry points ------------------------------------------------------------ */
/* Inlined into each entry point, so that the stack's first frame is the
 * program's caller (shim_ret_slot). */
SHIM_INLINE void *map_entry(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = call_mmap(addr, len, prot, flags, fd, off);
    if (p == MAP_FAILED || SHIM_LIKELY(!watched((uintptr_t)__builtin_return_address(0))))
        return p;
    bool booked = booked_kind(prot, flags);
    if (!booked && !(flags & MAP_FIXED))
        return p;
    int saved = errno;
    shim_thread.busy = 1;
    tally_stack_id stack = booked ? tally_track_capture_mapping(shim_ret_slot()) : 0;
    tally_track_mappings_hold();
    if (booked)
        tally_track_map(p, len, pool, stack);
    else /* a file or shared mapping put over tracked pages */
        tally_track_unmap(p, len);
    tally_track_mappings_release();
    shim_thread.busy = 0;
    SHIM_AFTER_BOOKING();
    errno = saved;
    return p;
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return map_entry(addr, len, prot, flags, fd, off);
}

SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return map_entry(addr, len, prot, flags, fd, off);
}

/* The lock is held across the system call: once the pages are back, another
 * thread's mmap may get them, and its booking must follow this one. */
SHIM_EXPORT int munmap(void *addr, size_t len)
{
    if (SHIM_LIKELY(!watched((uintptr_t)__builtin_return_address(0))))
        return call_munmap(addr, len);
    shim_thread.busy = 1;
    tally_track_mappings_hold();
    int r = call_munmap(addr, len);
    int saved = errno;
    if (r == 0)
        tally_track_unmap(addr, len);
    tally_track_mappings_release();
    shim_thread.busy = 0;
    errno = saved;
    return r;
}

SHIM_EXPORT void *mremap(void *old, size_t old_len, size_t len, int flags, ...)
{
    void *addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        addr = va_arg(ap, void *);
        va_end(ap);
    }
    if (SHIM_LIKELY(!watched((uintptr_t)__builtin_return_address(0))))
        return call_mremap(old, old_len, len, flags, addr);
    shim_thread.busy = 1;
    tally_stack_id stack = tally_track_capture_mapping(shim_ret_slot());
    tally_track_mappings_hold();
    void *p = call_mremap(old, old_len, len, flags, addr);
    int saved = errno;
    if (p != MAP_FAILED)
        tally_track_remap(old, old_len, p, len, flags & MREMAP_DONTUNMAP, pool, stack);
    tally_track_mappings_release();
    shim_thread.busy = 0;
    SHIM_AFTER_BOOKING();
    errno = saved;
    return p;
}
