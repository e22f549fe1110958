/* api.h: the tracking core's API for lib/pool and the preload shim.
 *
 * The core books every allocation to a pool id and a deduplicated stack.
 * It knows pools only as an id and a name, and nothing of buffers.
 * Entry points marked TALLY_INTERNAL are exported from libtally.so because
 * the preload shim links it (one set of books per process); they are not
 * part of the public API.
 *
 * Hot-path rules: no stdio, no lock held while unwinding, and no allocation
 * through the tracked path (the core's own memory comes from mmap or the raw
 * backend, never malloc). */
#ifndef TALLY_TRACK_API_H
#define TALLY_TRACK_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/export.h"

#include <tally/track.h>

/* 0 means "no stack" (an unsampled allocation). */
typedef uint32_t tally_stack_id;

/* How a block was allocated, so a mismatched free can be reported. */
typedef enum {
    TALLY_KIND_MALLOC = 0, /* malloc, calloc, realloc, posix_memalign, aligned_alloc, ... */
    TALLY_KIND_NEW,        /* operator new */
    TALLY_KIND_NEW_ARRAY,  /* operator new[] */
    TALLY_KIND_POOL,       /* tally_pool_allocate */
} tally_alloc_kind;

typedef struct {
    int64_t size; /* requested bytes */
    tally_stack_id stack;
    int32_t pool_id;
    uint8_t kind; /* tally_alloc_kind */
} tally_block_info;

/* Nonzero while tracking is on: the one load every hot path pays when it is off. */
extern TALLY_INTERNAL _Atomic int tally_track_on;

static inline bool tally_track_is_on(void)
{
    return __builtin_expect(atomic_load_explicit(&tally_track_on, memory_order_relaxed), 0);
}

/* A new block's first 16 bytes (or fewer) cleared. Allocators keep their
 * free-list links there (mimalloc's next, glibc's fd and bk) and leave them
 * in the block they hand out: to the leak check (mark.c) those would read
 * as pointers from this block to others, hiding leaks. The contents of a
 * new block are indeterminate, so the program cannot tell. */
static inline void tally_track_scrub(void *ptr, int64_t size)
{
    if (__builtin_expect(size >= 16, 1))
        __builtin_memset(ptr, 0, 16); /* a constant size: two stores, no call */
    else if (size > 0)
        __builtin_memset(ptr, 0, (size_t)size);
}

/* Names a pool id in profiles and reports. Called by lib/pool for every pool
 * it creates, and by the shim for "malloc" (id 0) and its rule pools. */
TALLY_INTERNAL void tally_track_name_pool(int32_t pool_id, const char *name);

/* Starts tracking with the TALLY_* environment (TALLY_TRACK, TALLY_OUTPUT,
 * TALLY_DEPTH, TALLY_SAMPLE, TALLY_REPORT, ...), as tally_track_start(NULL). */
TALLY_INTERNAL int tally_track_start_from_env(void);

/* Captures the caller's stack, skipping `skip` frames of the caller's own
 * (tally's frames are always dropped), and interns it. Honours sampling:
 * returns 0 for an allocation of `size` bytes that is not sampled. Takes no
 * lock while unwinding. */
TALLY_INTERNAL tally_stack_id tally_track_capture(int64_t size, int skip);

/* Books a new block: with its stack in the live table, or, in a sampled run,
 * an unsampled one (stack 0) of the shim's pool 0 in the shadow map. */
TALLY_INTERNAL TALLY_HOT_ENTRY void tally_track_alloc(void *ptr, int64_t size, int32_t pool_id,
                                                      tally_stack_id stack, tally_alloc_kind kind);

/* Unbooks a block (from the shadow map or the table). False when ptr is not
 * a live tracked block: an invalid or double free, which the caller reports. */
TALLY_INTERNAL TALLY_HOT_ENTRY bool tally_track_free(void *ptr, tally_block_info *info);

/* Looks a block up without changing anything. */
TALLY_INTERNAL bool tally_track_find(const void *ptr, tally_block_info *info);
/* The live block whose bytes hold ptr, at its start or inside it, and where
 * it starts: for an error report on an interior pointer. Slow (it walks the
 * live table): never on the hot path. */
TALLY_INTERNAL bool tally_track_find_containing(const void *ptr, uintptr_t *start,
                                                tally_block_info *info);

/* The bytes of every live booked block (all pools but wrappers and the
 * program's own mappings, TALLY_MMAP), with the
 * calling thread's unfolded share folded in first: exact for the caller's
 * own blocks, other threads' to within their batch (ledger.h). 0 when
 * tracking never started. For the shim's mallinfo2. */
TALLY_INTERNAL int64_t tally_track_live_bytes(void);

/* The frames of an interned stack (innermost first); 0 for an unknown id. */
TALLY_INTERNAL int tally_track_stack_frames(tally_stack_id id, const uintptr_t **frames);

/* A per-stack slot the shim uses to cache which pool a stack's calls are
 * charged to (TALLY_POOLS rules are evaluated once per unique stack).
 * -1 until set. NULL for an unknown id. */
TALLY_INTERNAL _Atomic int32_t *tally_track_stack_pool_slot(tally_stack_id id);

/* The module cache changed (dlopen/dlclose): refresh it before the next profile. */
TALLY_INTERNAL void tally_track_modules_changed(void);

/* Process events, from the preload shim (shim/process.c, shim/signals.c). */
/* pthread_atfork handlers: take the core's locks before fork, release them
 * after it in the parent; in the child, release them, re-arm the clock and
 * go on into the child's own profile (%p). */
TALLY_INTERNAL void tally_track_fork_prepare(void);
TALLY_INTERNAL void tally_track_fork_parent(void);
TALLY_INTERNAL void tally_track_fork_child(void);

/* ---- work done on the program's own threads (lib/track/service.c) ---------------- */
/* tally runs no thread of its own. Timed work (a time-series point, a
 * checkpoint) and a dump the dump signal asked for are raised as bits of
 * tally_track_due, and done by the next thread that leaves an entry point
 * holding no lock of the core's: tally_track_service. An entry point pays
 * one relaxed load of a line that is written only when work falls due. */
enum {
    TT_DUE_CLOCK = 1, /* the series or a checkpoint may be due: look at the clock */
    TT_DUE_DUMP = 2,  /* the dump signal came */
};
extern TALLY_INTERNAL _Atomic int tally_track_due;

static inline bool tally_track_service_due(void)
{
    return __builtin_expect(atomic_load_explicit(&tally_track_due, memory_order_relaxed), 0);
}
/* Does the core's work that is due. The caller holds no lock of the core's. */
TALLY_INTERNAL void tally_track_service(void);
/* Async-signal-safe: raises the bits (one atomic or). */
TALLY_INTERNAL void tally_track_raise(int due_bits);

/* Writes the exit profile and summary now, once (as the exit handler would):
 * for _exit and _Exit, which skip the atexit handlers. */
TALLY_INTERNAL void tally_track_at_exit(void);
/* The process image is about to be replaced (exec): its profile now,
 * reason "exec", without the summary or the leak check. Tracking goes on:
 * the exec may fail. */
TALLY_INTERNAL void tally_track_before_exec(void);
/* From a handler of fatal signal sig, in the thread it hit, which was not
 * inside tally: the profile (reason "fatal", the signal), no summary, no
 * leak check, one line on tally's descriptor. Once per process: a second
 * caller waits for the first, whose re-raise ends the process. `caller` is
 * the handler's ucontext. */
TALLY_INTERNAL void tally_track_fatal(int sig, const void *caller);

/* No other thread of the process is left (world.c, from /proc/self/task,
 * without malloc). False when that cannot be read. */
TALLY_INTERNAL bool tally_track_alone(void);

/* ---- tally attach (shim/attach.c) ------------------------------------------------ */
/* Starts tracking as tally_track_start does, in a process the shim was
 * loaded into by tally attach: no exit summary (report none). */
TALLY_INTERNAL int tally_track_start_attached(const tally_track_options *opts);
/* Writes the profile now, reason detach, leaks classified as at exit, and
 * ends tracking: no exit profile follows. EALREADY when one was written. */
TALLY_INTERNAL int tally_track_detach(void);
/* Ends tracking without a profile (the forked child of an attached process). */
TALLY_INTERNAL void tally_track_end_quietly(void);

/* ---- tally's own messages (say.c) ------------------------------------------------ */
/* tally writes its messages to a duplicate of stderr taken at start, above
 * the low numbers and close-on-exec, never to whatever file the program later
 * puts on fd 2. This takes it, once per process image (the shim calls it
 * before anything else, tally_track_start again). When fd 2 is closed then,
 * tally says nothing at all. */
TALLY_INTERNAL void tally_track_say_init(void);
/* The descriptor for a message now, or -1 for none: tally's duplicate while
 * it still is the file stderr was at start (the program may have closed it,
 * or dup2'ed another file over its number), else fd 2 while that still is
 * the file, else none. One fstat per call: messages are never on the hot path. */
TALLY_INTERNAL int tally_track_say_fd(void);
/* From now on, tally's messages go to a duplicate of fd (not open: nowhere).
 * For a program, or a test, that wants them somewhere else. */
TALLY_INTERNAL void tally_track_say_to(int fd);
/* fd moved (close-on-exec) to where tally keeps its own descriptor, far
 * above the numbers the program opens; the new number, or fd itself when
 * none is free there. errno is kept. */
TALLY_INTERNAL int tally_track_fd_out_of_sight(int fd);
/* Writes n bytes, whole, to tally_track_say_fd(); errno is kept. */
TALLY_INTERNAL void tally_track_say_text(const char *s, size_t n);

/* ---- the program's allocator errors, counted (shim/errors.c) -------------------- */
/* The shim reports each kind of error from each stack once and counts the
 * rest; the exit summary prints the counts (valgrind's "ERROR SUMMARY"). */
typedef struct {
    _Atomic uint64_t errors;     /* every error */
    _Atomic uint64_t contexts;   /* distinct (kind, stack) pairs reported */
    _Atomic uint64_t unassigned; /* errors past the report limits: in no context */
} tally_error_counts;
extern TALLY_INTERNAL tally_error_counts tally_track_errors;

/* ---- lib/pool ------------------------------------------------------------------ */

/* lib/pool's hooks: one call per booked operation. `wrapper` is true for a
 * pool with a parent: its parent booked the same block a moment before on
 * this thread, and the wrapper reuses that stack instead of unwinding again.
 * A wrapper's bytes count in its own books but not twice in the global ones.
 * Unsampled pool blocks are not kept in the live table (the pool passes the
 * size on free), which is what makes sampling cheap. Free is called before
 * the memory goes back to the backend. */
TALLY_INTERNAL void tally_track_pool_alloc(int32_t pool_id, void *ptr, int64_t size, bool wrapper);
TALLY_INTERNAL void tally_track_pool_free(int32_t pool_id, void *ptr, int64_t size, bool wrapper);
TALLY_INTERNAL void tally_track_pool_realloc(int32_t pool_id, void *old_ptr, int64_t old_size,
                                             void *new_ptr, int64_t new_size, bool wrapper);
/* Lists a destroyed pool's live blocks with their stacks on stderr. */
TALLY_INTERNAL void tally_track_pool_destroyed(int32_t pool_id);

/* Leading frames in the object that holds addr are tally's own and dropped
 * from every stack (libtally registers itself). With it, skip can be 0. */
TALLY_INTERNAL void tally_track_own_module(const void *addr);
/* pc lies in libunwind (the shim's pipe2 moves libunwind's pipe only). */
TALLY_INTERNAL bool tally_track_in_libunwind(const void *pc);
/* libunwind's walk of the caller (loaded and started now if need be:
 * libunwind_load.c), without libtally's own leading frames; 0 frames when
 * it cannot be loaded. For the shim's error reports. */
TALLY_INTERNAL int tally_track_backtrace(void **frames, int max);

/* tally_track_capture for the caller of the function whose return address
 * is at *ret_slot (an entry point's own slot: __builtin_frame_address(0)
 * + 1). A per-thread cache of recent stacks remembers where each frame's
 * return address was saved; when every saved slot still holds the same
 * address, the stack is the cached one and nothing is unwound. */
TALLY_INTERNAL TALLY_HOT_ENTRY tally_stack_id tally_track_capture_from(int64_t size,
                                                                       const uintptr_t *ret_slot,
                                                                       const void *ptr);

/* A sampled run (TALLY_SAMPLE), and this thread's bytes until its next
 * sampled block, in initial-exec TLS: what tally_track_capture_at needs to
 * decide the common case without a call. */
extern TALLY_INTERNAL bool tally_track_sampled_run;
extern TALLY_INTERNAL __thread int64_t tally_track_sample_left
    __attribute__((tls_model("initial-exec")));

/* tally_track_capture_from with the sampling decision's common case inline:
 * in a sampled run, a block that does not reach the next sample point is
 * counted down and gets no stack (0), for a load, a compare and a store.
 * Every other case (the crossing included) is decided by the core, the
 * same way, from the same countdown. */
static inline tally_stack_id tally_track_capture_at(const void *ptr, int64_t size,
                                                    const uintptr_t *ret_slot)
{
    if (tally_track_sampled_run) {
        if (size <= 0)
            return 0;
        int64_t left = tally_track_sample_left - size;
        if (__builtin_expect(left > 0, 1)) {
            tally_track_sample_left = left;
            return 0;
        }
    }
    return tally_track_capture_from(size, ret_slot, ptr);
}

/* The preload shim's blocks of pool 0 are kept in a shadow map instead of
 * the live table: in a sampled run the unsampled ones, in a full run the
 * small ones with their stacks (shadow.h). The caller promises that every
 * block it books in pool 0 has at least 16 usable bytes, so that no two
 * start in one 16-byte granule (the shim's shim_raw_size; glibc's malloc
 * gives 24); usable_size is its allocator's, with which a debug build
 * checks that. Call after tracking started. */
TALLY_INTERNAL void tally_track_use_shadow(size_t (*usable_size)(void *));
/* A block that leaves the program unbooked (tracking off, or a nested
 * allocation): no stale shadow entry may stand for its address. */
TALLY_INTERNAL void tally_track_forget(const void *ptr);

/* ---- the program's own mappings (TALLY_MMAP, lib/track/mappings.c) ---------------- */
/* The preload shim reports the program's anonymous private mmap, munmap and
 * mremap calls (shim/entry_mmap.c); each mapping is booked in whole pages
 * in the pool the shim names "mmap", with its stack, and is a live block of
 * the profile until its pages are released. */
/* TALLY_MMAP asked for it (read at start). */
TALLY_INTERNAL bool tally_track_mmap_wanted(void);
/* The stack of a mapping: tally_track_capture_from's, never sampled. */
TALLY_INTERNAL tally_stack_id tally_track_capture_mapping(const uintptr_t *ret_slot);
/* The tracked mappings' lock: the three calls below are made holding it
 * (the shim holds it around munmap's and mremap's system call as well).
 * Never held while unwinding. */
TALLY_INTERNAL void tally_track_mappings_hold(void);
TALLY_INTERNAL void tally_track_mappings_release(void);
/* A new mapping of len bytes at addr; whatever was tracked in its pages is
 * released first (MAP_FIXED replaced it). */
TALLY_INTERNAL void tally_track_map(void *addr, size_t len, int32_t pool, tally_stack_id stack);
/* The pages [addr, addr + len) were unmapped or replaced by a mapping that
 * is not tracked: the tracked ones among them are released, exactly. */
TALLY_INTERNAL void tally_track_unmap(void *addr, size_t len);
/* A successful mremap from (old, old_len) to (addr, len), booked as realloc
 * is: the old pages released (unless keep_old: MREMAP_DONTUNMAP), whatever
 * was tracked at the target released, and, when the old pages were
 * tracked, the new range allocated with this stack. */
TALLY_INTERNAL void tally_track_remap(void *old, size_t old_len, void *addr, size_t len,
                                      bool keep_old, int32_t pool, tally_stack_id stack);

/* The fork handlers above are also registered by libtally itself with
 * pthread_atfork; a second call from the shim's handlers is harmless (only
 * the outermost prepare/parent/child pair acts). */

#endif
