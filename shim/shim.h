/* shim.h: what the files of libtally-preload.so share.
 *
 * The shim is thin: each entry point checks for re-entry, forwards to the raw
 * allocator chosen at start-up (shim_raw) and books the block through
 * lib/track. Everything here is private to the shim (hidden visibility);
 * only the interposed names are exported. */
#ifndef TALLY_SHIM_H
#define TALLY_SHIM_H

#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "pool/scope.h"
#include "track/api.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_INLINE static inline __attribute__((always_inline))
#define SHIM_LIKELY(x) __builtin_expect(!!(x), 1)
#define SHIM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- raw allocator (init.c) ------------------------------------------------ */
/* The allocator under the shim (init.c binds it through lib/backend). A
 * copy, not a pointer: one load less on every call. */
extern backend_malloc_entries shim_raw;

/* glibc's alignment of every block on x86-64, however small: memalign
 * below it is malloc. */
#define SHIM_MALLOC_ALIGNMENT 16

/* The size to ask the raw allocator for, size bytes asked of the shim.
 * mimalloc's and jemalloc's blocks of 8 bytes or less (0 included) are
 * only 8-aligned: half of them sit 8 bytes into a 16-byte granule, where
 * glibc's never do, and a program that keeps a tag in a pointer's low four
 * bits (or loads a small block with an aligned vector move) breaks. So no
 * request goes below SHIM_MALLOC_ALIGNMENT. Such a block also owns its
 * 16-byte granule, as the shadow map asks (track/shadow.h), where an
 * 8-byte block shared it and went to the live table. The books keep the
 * size asked. */
SHIM_INLINE size_t shim_raw_size(size_t size)
{
    return size < SHIM_MALLOC_ALIGNMENT ? SHIM_MALLOC_ALIGNMENT : size;
}

/* 0 before initialisation, 1 while it runs, 2 once shim_raw is bound. */
extern _Atomic int shim_state;
#define SHIM_READY 2

/* Binds the raw allocator and starts tracking; idempotent, safe to call
 * from any entry point. */
void shim_init(void);

/* ---- this thread's state (reentry.c) ---------------------------------------- */
/* The blocks this thread freed last: tells a double free apart from an
 * invalid one, and says where the block came from (errors.c). Each address
 * is kept bit-inverted (shim_freed_key). The ring is in the thread's static
 * TLS, which the leak check scans as a root (track/mark.c), and a freed
 * block's address kept plain would make whatever block the allocator
 * hands out there next look reachable, however the program dropped it. An
 * inverted user-space address points nowhere. */
#define SHIM_FREED_RING 64
SHIM_INLINE uintptr_t shim_freed_key(const void *ptr)
{
    return ~(uintptr_t)ptr;
}
typedef struct {
    uintptr_t key; /* shim_freed_key(ptr) */
    int64_t size;
    tally_stack_id stack;
    uint8_t kind;
} shim_freed_block;

/* The shim's per-thread state that every malloc and free reads, in one
 * initial-exec TLS block: no allocation and no lock to reach it, even from
 * inside malloc (the deferred frees, read only when pending says so, keep
 * their own, in reentry.c). In a shared object each TLS variable's offset is a load
 * from the GOT; a free read five of them, and in one block they cost one
 * (6 instructions a malloc and free fewer, about 1% of churn's time). */
typedef struct {
    /* Set while this thread is inside the shim's own bookkeeping (capture,
     * the live table, error reports) or its initialisation. A nested malloc
     * (from libunwind, a signal handler, dlsym) then skips tracking. */
    int busy;
    int in_init;
    /* This thread has seen the raw allocator bound, outside its own
     * initialisation: shim_ready's common case, one load. It never goes
     * back: shim_state only moves forward, and in_init is only ever set
     * before the thread sees shim_state at SHIM_READY. */
    int ready;
    /* Nonzero inside the fork handlers (process.c), from the prepare
     * handler's start to the end of the parent's or the child's (a count:
     * they nest): the core's locks are held, by this thread, all the way
     * through. A dump here would wait for them for good. */
    int in_fork;
    /* Nonzero when this thread has work for when it leaves the shim:
     * deferred frees, or a termination signal that came while it was
     * inside (signals.c). One load on every way out. */
    int pending;
    unsigned freed_next; /* freed[freed_next % SHIM_FREED_RING] is the next to go */
    /* This thread's errno, its address kept at first use: every free keeps
     * errno as glibc's does, and __errno_location is a call through the
     * PLT each time. */
    int *errno_at;
    shim_freed_block freed[SHIM_FREED_RING];
} shim_thread_state;
extern __thread shim_thread_state shim_thread __attribute__((tls_model("initial-exec")));

SHIM_INLINE int *shim_errno(void)
{
    int *at = shim_thread.errno_at;
    if (SHIM_UNLIKELY(!at))
        at = shim_thread.errno_at = &errno;
    return at;
}

/* Frees that arrive while this thread is busy (a signal handler freeing a
 * tracked block while the interrupted code holds a table lock) are deferred
 * until the outer call leaves the shim. */
void shim_defer_free(void *ptr);
void shim_run_pending(void);

/* ---- bootstrap arena (bootstrap.c) ---------------------------------------- */
/* Serves allocations made before the raw allocator is bound (dlsym's calloc)
 * and during initialisation. Its blocks are never passed to a real free. */
void *shim_boot_alloc(size_t size, size_t alignment);
size_t shim_boot_size(const void *ptr);
#define SHIM_BOOT_ARENA_SIZE (1024 * 1024)
extern unsigned char shim_boot_arena[SHIM_BOOT_ARENA_SIZE];
/* Inline: every free asks, and a call cost more than the test. */
SHIM_INLINE bool shim_boot_owns(const void *ptr)
{
    return (uintptr_t)ptr - (uintptr_t)shim_boot_arena < SHIM_BOOT_ARENA_SIZE;
}

/* ---- untracked blocks (orphans.c) ------------------------------------------ */
/* Blocks the raw allocator gave out while tracking could not book them
 * (re-entry). Remembered so that their free is recognised, not reported. */
void shim_orphan_add(void *ptr);
bool shim_orphan_take(void *ptr);
bool shim_orphan_has(const void *ptr);

/* ---- pools (pools.c) ------------------------------------------------------ */
void shim_pools_init(void);    /* parses TALLY_POOLS; before tracking starts */
void shim_pools_name(void);    /* names the pools in the books; after it starts */
extern bool shim_pools_active; /* TALLY_POOLS gave rules */
/* A fresh pool id (through lib/pool), named in the books by the caller. */
int32_t shim_pools_new(const char *name);
/* The pool for a stack; *cacheable is set false when the answer holds for
 * this call only (the loader's allocations inside dlopen). */
int32_t shim_pools_evaluate(tally_stack_id stack, bool *cacheable);
/* The file dlopen is loading on this thread (NULL: none); returns the one
 * before, to put back: dlopen nests (making a module's pool may load a
 * backend). */
const char *shim_pools_loading(const char *file);

/* ---- errors (errors.c) ---------------------------------------------------- */
typedef enum {
    SHIM_DEALLOC_FREE = 0, /* free, realloc and friends */
    SHIM_DEALLOC_DELETE,
    SHIM_DEALLOC_DELETE_ARRAY,
    SHIM_DEALLOC_REALLOC,
    SHIM_DEALLOC_USABLE_SIZE,
} shim_dealloc_kind;

/* An unknown pointer: an invalid free, a double free, a realloc of memory
 * the heap does not own. */
void shim_report_invalid(const void *ptr, shim_dealloc_kind how);
/* A block released by the wrong family (new then free, malloc then delete). */
void shim_report_mismatch(const void *ptr, const tally_block_info *info, shim_dealloc_kind how);
/* operator delete(void *, size_t) with a size that is not the block's. */
void shim_report_bad_size(const void *ptr, const tally_block_info *info, size_t size);
/* Remembers a freed block for a later double-free report: inline, on every
 * free. */
SHIM_INLINE void shim_errors_note_freed(const void *ptr, const tally_block_info *info)
{
    shim_freed_block *f = &shim_thread.freed[shim_thread.freed_next++ % SHIM_FREED_RING];
    f->key = shim_freed_key(ptr);
    f->size = info->size;
    f->stack = info->stack;
    f->kind = info->kind;
}
void shim_errors_init(void);

/* ---- processes (process.c) ------------------------------------------------- */
void shim_process_init(void);
extern int shim_pid;

/* ---- signals (signals.c) ---------------------------------------------------- */
/* Holds the fatal signals the program left at their default, and the dump
 * signal if TALLY_DUMP_SIGNAL names one. After tracking started. */
void shim_signals_init(void);
/* The core's work tally_track_due holds, done on this thread. */
void shim_service(void);
/* A termination signal that came while this thread was inside the shim:
 * the profile, then the signal's default action (shim_run_pending). */
void shim_signals_act(void);

/* After an allocation's booking, outside shim_thread.busy: this thread's pending
 * work, then the core's. Frees look at shim_thread.pending only: the core's work
 * waits for the next allocation. */
#define SHIM_AFTER_BOOKING()                                                                       \
    do {                                                                                           \
        if (SHIM_UNLIKELY(shim_thread.pending))                                                    \
            shim_run_pending();                                                                    \
        if (SHIM_UNLIKELY(tally_track_service_due()))                                              \
            shim_service();                                                                        \
    } while (0)

/* ---- mappings (entry_mmap.c) ------------------------------------------------ */
/* Binds the real mmap family and, with TALLY_MMAP, starts booking the
 * program's anonymous mappings. After tracking started. */
void shim_mmap_init(void);

/* ---- tally attach (attach.c, attach_got.c) --------------------------------- */
/* The shim was loaded into a running process by tally attach, not
 * preloaded: a pointer the books do not know was allocated before the
 * attach, by glibc, and goes back to glibc without a report. */
extern bool shim_attached;
/* Looks up the shim's and the global definitions of the hooked names. */
int shim_got_init(void *dlopen_hook);
/* The global definition of a hooked name, as found at shim_got_init. */
void *shim_got_original(const char *name);
/* Routes every loaded module's GOT entries of the hooked names to the
 * shim (restore: back to the global definitions); *changed counts the
 * entries written. 0 or the first errno value. */
int shim_got_route(bool restore, int *changed);

/* ---- exit (freeres.c) ------------------------------------------------------ */
void shim_freeres_init(void);
/* libstdc++'s part only: safe at _exit, which must not flush stdio. Both
 * free only when no other thread is left. */
void shim_freeres_cxx(void);

/* ---- booking helpers -------------------------------------------------------- */
/* The pool a new block with this stack is charged to. */
SHIM_INLINE int32_t shim_pool_for(tally_stack_id stack)
{
    int32_t scope = tally_scope_pool_id();
    if (scope >= 0)
        return scope;
    if (SHIM_LIKELY(!shim_pools_active) || stack == 0)
        return 0;
    _Atomic int32_t *slot = tally_track_stack_pool_slot(stack);
    if (!slot)
        return 0;
    int32_t pool = *slot;
    if (pool < 0) {
        bool cacheable = true;
        pool = shim_pools_evaluate(stack, &cacheable);
        if (cacheable)
            *slot = pool;
    }
    return pool;
}

/* The slot that holds the entry point's return address: its frame address
 * (which makes the compiler keep a frame pointer there) plus one word.
 * NULL when that does not hold it; the core then unwinds as before. */
#define shim_ret_slot()                                                                            \
    (*((const uintptr_t *)__builtin_frame_address(0) + 1) ==                                       \
             (uintptr_t)__builtin_return_address(0)                                                \
         ? (const uintptr_t *)__builtin_frame_address(0) + 1                                       \
         : NULL)

/* tally_track_scrub for the shim's blocks, which all have at least
 * SHIM_MALLOC_ALIGNMENT bytes (shim_raw_size): their first 16 are cleared
 * whatever the size asked, with two stores. The core's scrub calls memset
 * for a block under 16 bytes, through the PLT, and 36% of cc1's blocks
 * are 16 bytes or fewer. A calloc'd block is zero already and keeps its
 * line untouched. */
enum { SHIM_SCRUB = 1, SHIM_ZEROED = 0 };
SHIM_INLINE void shim_scrub(void *ptr)
{
    _Static_assert(SHIM_MALLOC_ALIGNMENT >= 16, "every block has 16 bytes to clear");
    __builtin_memset(ptr, 0, 16);
}

/* Books ptr: clear its first bytes (unless zeroed), capture its stack (0
 * when a sampled run does not sample it), choose its pool, book it. Always
 * inlined into the entry point, so that the one frame the core is asked to
 * skip is the entry point itself. */
SHIM_INLINE void shim_book(void *ptr, size_t size, tally_alloc_kind kind, int scrub)
{
    if (scrub == SHIM_SCRUB)
        shim_scrub(ptr);
    tally_stack_id stack = tally_track_capture_at(ptr, (int64_t)size, shim_ret_slot());
    tally_track_alloc(ptr, (int64_t)size, shim_pool_for(stack), stack, kind);
}

#define SHIM_BOOK(ptr, size, kind) SHIM_BOOK_AS(ptr, size, kind, SHIM_SCRUB)
#define SHIM_BOOK_AS(ptr, size, kind, scrub)                                                       \
    do {                                                                                           \
        if (SHIM_LIKELY((ptr) != NULL) && tally_track_is_on()) {                                   \
            if (SHIM_UNLIKELY(shim_thread.busy)) {                                                 \
                tally_track_forget(ptr);                                                           \
                shim_orphan_add(ptr);                                                              \
            } else {                                                                               \
                shim_thread.busy = 1;                                                              \
                shim_book((ptr), (size), (kind), (scrub));                                         \
                shim_thread.busy = 0;                                                              \
                SHIM_AFTER_BOOKING();                                                              \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* ---- release (release.c) ------------------------------------------------------ */
/* Does a block of this kind go back through this call (free for malloc's,
 * delete for new's, delete[] for new[]'s)? */
SHIM_INLINE bool shim_kind_matches(uint8_t kind, shim_dealloc_kind how)
{
    switch (how) {
    case SHIM_DEALLOC_DELETE:
        return kind == TALLY_KIND_NEW;
    case SHIM_DEALLOC_DELETE_ARRAY:
        return kind == TALLY_KIND_NEW_ARRAY;
    default:
        return kind == TALLY_KIND_MALLOC;
    }
}

/* shim_release's uncommon cases, each its whole answer: tracking is off; the
 * thread is inside the shim; ptr is no block of the books (shim_thread.busy is
 * set, and cleared); the block was released by the wrong family or with the
 * wrong size (shim_thread.busy set; false, and cleared, when it is kept). */
bool shim_release_untracked(void *ptr);
bool shim_release_nested(void *ptr);
bool shim_release_unknown(void *ptr, shim_dealloc_kind how);
bool shim_release_odd(void *ptr, shim_dealloc_kind how, size_t sized, const tally_block_info *info);

/* Releases a block that is not NULL: unbooks it and hands it to the raw free,
 * or reports it and keeps it away from any free when it is not ours.
 * Returns true when the block was released. Inline: every free and delete
 * takes it, and a sampled run's whole free is a few dozen instructions. */
SHIM_INLINE bool shim_release(void *ptr, shim_dealloc_kind how, size_t sized)
{
    if (SHIM_UNLIKELY(shim_boot_owns(ptr)))
        return true; /* the arena never frees */
    if (!tally_track_is_on())
        return shim_release_untracked(ptr);
    if (SHIM_UNLIKELY(shim_thread.busy))
        return shim_release_nested(ptr);
    shim_thread.busy = 1;
    tally_block_info info;
    if (SHIM_UNLIKELY(!tally_track_free(ptr, &info)))
        return shim_release_unknown(ptr, how);
    if (SHIM_UNLIKELY(!shim_kind_matches(info.kind, how) ||
                      (sized != 0 && (int64_t)sized != info.size)) &&
        !shim_release_odd(ptr, how, sized, &info))
        return false;
    shim_errors_note_freed(ptr, &info);
    shim_thread.busy = 0;
    shim_raw.free(ptr);
    if (SHIM_UNLIKELY(shim_thread.pending))
        shim_run_pending();
    return true;
}

/* shim_ready before this thread's ready is set: shim_state and in_init,
 * read as they are (init.c). */
bool shim_ready_slow(void);

/* The raw allocator is bound: the common case of every entry point. A
 * thread's flag, set once: reading shim_state (a load through the GOT) and
 * in_init on every call was 5 instructions a call more. */
SHIM_INLINE bool shim_ready(void)
{
    return SHIM_LIKELY(shim_thread.ready) || shim_ready_slow();
}

/* True when the raw allocator is not usable by this thread yet: the call
 * is then served from the bootstrap arena. */
SHIM_INLINE bool shim_need_boot(void)
{
    if (shim_ready())
        return false;
    shim_init();
    return !shim_ready();
}

/* free and delete: a block that is not NULL goes through shim_release with
 * errno kept (glibc's free keeps it). Before the raw allocator is bound,
 * only the bootstrap arena's blocks can come back, and they stay. */
SHIM_INLINE void shim_dealloc(void *ptr, shim_dealloc_kind how, size_t sized)
{
    if (SHIM_UNLIKELY(!ptr))
        return;
    if (SHIM_UNLIKELY(!shim_ready()) && (shim_boot_owns(ptr) || shim_state != SHIM_READY))
        return;
    int *err = shim_errno(), saved = *err;
    shim_release(ptr, how, sized);
    *err = saved;
}

#endif
