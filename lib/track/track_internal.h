/* track_internal.h: what the files of the tracking core share.
 *
 * Memory for the core's own tables comes from mmap (arena.c), never from
 * malloc: under the preload shim, malloc is the tracked path itself. */
#ifndef TALLY_TRACK_PRIVATE_H
#define TALLY_TRACK_PRIVATE_H

#include <config.h> /* _GNU_SOURCE: mremap, dladdr, pthread_getattr_np */

#include "track/track.h"

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stddef.h>

#define TT_TLS __attribute__((tls_model("initial-exec")))
#define TT_LIKELY(x) __builtin_expect(!!(x), 1)
#define TT_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TT_MAX_DEPTH 256
#define TT_DEFAULT_DEPTH 64
#define TT_NBUCKETS 64 /* histogram buckets */
/* A thread folds its books into the global ones when it holds back this many
 * current bytes (the exactness bound per thread), or after this many calls. */
#define TT_BATCH_BYTES (64 * 1024)
#define TT_BATCH_OPS 4096
/* Pool ids the core can book: ids from tally_pool_next_id() and the shim's 0. */
#define TT_MAX_POOLS (1 << 18)

/* ---- configuration (track.c) ---------------------------------------------- */
enum { TT_REPORT_SUMMARY, TT_REPORT_FULL, TT_REPORT_NONE };
typedef struct {
    int depth;
    int64_t sample_bytes;
    int interval_ms;
    int report;
    bool unwind_fp;
    bool started; /* ever started: the exit profile is due */
    int64_t start_realtime_ns;
    int64_t start_ns; /* CLOCK_MONOTONIC */
    /* Per-stack counts are kept in units of 1/count_scale, so that sampled
     * weights, which are fractional, stay unbiased. 1 when not sampling. */
    int64_t count_scale;
    char output[1024];
} tt_config;
extern tt_config tt_cfg;

int64_t tt_now_ns(void); /* CLOCK_MONOTONIC */

/* ---- arena.c: mmap'd memory ----------------------------------------------- */
void *tt_map(size_t bytes); /* zeroed, NULL on failure */
void tt_unmap(void *p, size_t bytes);
void *tt_arena_alloc(size_t bytes); /* zeroed, 16-aligned, never freed */

/* A growable mmap'd byte buffer, for profiles and module lists. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} tt_buf;
void tt_buf_put(tt_buf *b, const void *p, size_t n);
void tt_buf_u32(tt_buf *b, uint32_t v);
void tt_buf_u64(tt_buf *b, uint64_t v);
void tt_buf_str(tt_buf *b, const char *s, size_t n);
void tt_buf_free(tt_buf *b);

/* A small spin lock: held for a few instructions, never while unwinding. */
typedef struct {
    _Atomic int v;
} tt_spin;
static inline void tt_spin_lock(tt_spin *l)
{
    while (atomic_exchange_explicit(&l->v, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&l->v, memory_order_relaxed))
            sched_yield();
    }
}
static inline void tt_spin_unlock(tt_spin *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* ---- unwind.c --------------------------------------------------------------- */
void tt_unwind_init(void);
/* Return addresses of the caller, innermost first, with tally's own leading
 * frames dropped and then `skip` more. */
int tt_unwind(uintptr_t *frames, int depth, int skip);
void tt_unwind_add_own(uintptr_t lo, uintptr_t hi);
/* Unwinds (tally's frames and `skip` more dropped) and interns the stack. */
uint32_t tt_capture(int skip);
/* The same for the caller of the function whose return address is at
 * *ret_slot, through this thread's cache of recent stacks (see unwind.c). */
uint32_t tt_capture_from(const uintptr_t *ret_slot, int skip);
typedef struct tt_stack_cache tt_stack_cache;
tt_stack_cache *tt_stack_cache_new(void);
void tt_stack_cache_clear(tt_stack_cache *c);
/* This thread's cache; NULL before its first booking or after its teardown. */
tt_stack_cache *tt_thread_stack_cache(void);

/* ---- stack_table.c ------------------------------------------------------------ */
typedef struct tt_stack {
    struct tt_stack *next;
    uint64_t hash;
    uint32_t id;
    uint32_t nframes;
    _Atomic int32_t pool_slot;
    uintptr_t frames[];
} tt_stack;
tally_stack_id tt_stack_intern(const uintptr_t *frames, int n);
const tt_stack *tt_stack_get(tally_stack_id id);
uint32_t tt_stack_max_id(void);
void tt_stack_lock(void);
void tt_stack_unlock(void);

/* ---- live_table.c ------------------------------------------------------------- */
enum {
    TT_FLAG_WRAPPER = 1,  /* booked to a wrapper pool: the memory is its parent's too */
    TT_FLAG_SHADOWED = 2, /* a wrapper pool booked the same block on top of this one */
    TT_FLAG_SAMPLED = 4,  /* per-stack books carry a sampling weight */
};
typedef struct {
    uintptr_t addr; /* 0: empty slot */
    uint64_t meta;  /* size in bits 0-47, kind 48-55, flags 56-63 */
    uint32_t stack;
    int32_t pool;
} tt_entry; /* 24 bytes per live block */
#define TT_ANY_POOL INT32_MIN
static inline int64_t tt_entry_size(const tt_entry *e)
{
    return (int64_t)(e->meta & ((1ULL << 48) - 1));
}
static inline unsigned tt_entry_kind(const tt_entry *e)
{
    return (unsigned)(e->meta >> 48) & 0xff;
}
static inline unsigned tt_entry_flags(const tt_entry *e)
{
    return (unsigned)(e->meta >> 56);
}
void tt_live_insert(uintptr_t addr, int64_t size, uint32_t stack, int32_t pool, unsigned kind,
                    unsigned flags);
bool tt_live_remove(uintptr_t addr, int32_t pool, tt_entry *out);
bool tt_live_find(uintptr_t addr, int32_t pool, tt_entry *out);
/* Each shard counts its blocks in TT_LIVE_FILTER address buckets: a zero
 * count proves an address is not in the table, without the shard's lock. */
#define TT_LIVE_SHARDS 64
#define TT_LIVE_FILTER 64
extern _Atomic uint32_t tt_live_filter[TT_LIVE_SHARDS][TT_LIVE_FILTER];
static inline uint64_t tt_live_mix(uintptr_t a)
{
    uint64_t x = (uint64_t)a;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}
static inline uint32_t tt_live_filter_slot(uint64_t h)
{
    return (uint32_t)(h >> 40) & (TT_LIVE_FILTER - 1);
}
/* False only when addr is surely not in the table: one relaxed load. */
static inline bool tt_live_maybe(uintptr_t addr)
{
    uint64_t h = tt_live_mix(addr);
    return atomic_load_explicit(&tt_live_filter[h & (TT_LIVE_SHARDS - 1)][tt_live_filter_slot(h)],
                                memory_order_relaxed) != 0;
}
/* Calls fn for every entry, one shard locked at a time. */
void tt_live_foreach(void (*fn)(const tt_entry *e, void *arg), void *arg);
int64_t tt_live_count(void);
void tt_live_lock_all(void);
void tt_live_unlock_all(void);

/* ---- books.c ---------------------------------------------------------------------- */
typedef struct tt_pool {
    tt_spin lock;
    _Atomic int active; /* booked something */
    bool wrapper;
    int series_col; /* 1-based column in the time series; 0: none */
    char name[64];
    _Atomic int64_t current;
    _Atomic int64_t peak;
    int64_t peak_ns;
    _Atomic uint64_t epoch; /* bumped at each new peak of this pool */
    int64_t live, total, count, temp;
    int64_t hist[TT_NBUCKETS];
} tt_pool;

typedef struct tt_rec {
    struct tt_rec *next, *next_all;
    tt_pool *pool_rec;
    uint32_t stack;
    int32_t pool;
    tt_spin lock;
    /* counts are in units of 1/tt_cfg.count_scale */
    int64_t live_bytes, live_count, total_bytes, total_count, temp;
    int64_t saved_peak, saved_pool_peak; /* live_bytes before the first change after a bump */
    uint64_t saved_epoch, saved_pool_epoch;
} tt_rec;

typedef struct {
    alignas(64) _Atomic int64_t current; /* live bytes in non-wrapper pools, folded */
    _Atomic int64_t peak;
    int64_t peak_ns;
    _Atomic uint64_t epoch;
    pthread_mutex_t peak_lock;
    /* Folds take it shared; a snapshot takes it exclusively, so it sees the
     * per-stack and per-pool books at the same instant. */
    alignas(64) pthread_rwlock_t fold_lock;
    _Atomic int threads; /* threads that allocated */
} tt_global;
extern tt_global tt_g;

tt_pool *tt_pool_get(int32_t id, bool create);
int32_t tt_pool_max_id(void); /* one past the highest id seen */
tt_rec *tt_rec_first(void);   /* every (stack, pool) record, through next_all */
void tt_books_lock_all(void);
void tt_books_unlock_all(void);
void tt_books_fork_child(void);

/* Hot-path booking: the caller has the block's facts. */
typedef struct tt_thread tt_thread;
tt_thread *tt_thread_enter(void);
void tt_thread_leave(tt_thread *t);
void tt_book_alloc(tt_thread *t, uintptr_t ptr, int64_t size, int32_t pool, uint32_t stack,
                   unsigned flags);
void tt_book_free(tt_thread *t, uintptr_t ptr, int64_t size, int32_t pool, uint32_t stack,
                  unsigned flags);
void tt_fold_self(void); /* folds the calling thread's pending books */
/* The sampled run's common case, a block that is not sampled, booked in a few
 * thread-local additions: true when done, false to take the general path. */
bool tt_book_unsampled_alloc(int32_t pool, uintptr_t ptr, int64_t size, bool wrapper);
bool tt_book_unsampled_free(int32_t pool, uintptr_t ptr, int64_t size, bool wrapper);
/* Per-thread state the capture path shares with books. */
bool tt_thread_sample(tt_thread *t, int64_t size);
void tt_thread_set_last(tt_thread *t, uint32_t stack, bool sampled);
void tt_thread_get_last(tt_thread *t, uint32_t *stack, bool *sampled);

/* ---- sample.c ------------------------------------------------------------------------ */
/* The next sampling distance: exponential with mean tt_cfg.sample_bytes. */
int64_t tt_sample_next(uint64_t *rng);
/* The sampling weight of a sampled block of size bytes, as bytes and as a
 * count in units of 1/count_scale. */
void tt_sample_weight(int64_t size, int64_t *bytes, int64_t *count);

/* ---- modules.c ------------------------------------------------------------------------ */
/* The MODULES section payload, rebuilt when modules changed. */
void tt_modules_payload(tt_buf *out, uint32_t *count);
void tt_modules_refresh(void);
const char *tt_exe_path(void);
struct dl_phdr_info;
void tt_load_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);

/* ---- series.c ---------------------------------------------------------------------- */
void tt_series_start(void);
void tt_series_payload(tt_buf *out, uint32_t *count);
void tt_series_fork_child(void);
void tt_series_lock(void);
void tt_series_unlock(void);
extern _Atomic int tt_dump_requested;

/* ---- snapshot.c: a consistent copy of the books, for the writer and the summary ---- */
typedef struct {
    int32_t id;
    bool wrapper;
    char name[64];
    int64_t current, peak, total_bytes, total_count, temp, live_count;
    int64_t hist[TT_NBUCKETS];
} tt_snap_pool;
typedef struct {
    uint32_t stack;
    int32_t pool;
    int64_t live_bytes, live_count, total_bytes, total_count, temp, peak_bytes, pool_peak_bytes;
} tt_snap_rec;
typedef struct {
    uint64_t address;
    int64_t size;
    uint32_t stack;
    int32_t pool;
    unsigned flags;
} tt_snap_leak;
typedef struct {
    int64_t peak_bytes, peak_ns, now_ns;
    uint32_t threads;
    tt_snap_pool *pools;
    size_t npools;
    tt_snap_rec *recs;
    size_t nrecs;
    tt_snap_leak *leaks;
    size_t nleaks;
    size_t map_bytes[3];
} tt_snapshot;
int tt_snapshot_take(tt_snapshot *s);
void tt_snapshot_free(tt_snapshot *s);
const tt_snap_pool *tt_snapshot_pool(const tt_snapshot *s, int32_t id);

/* ---- profile_write.c, summary.c --------------------------------------------- */
enum { TT_REASON_EXIT = 0, TT_REASON_DUMP = 1, TT_REASON_SIGNAL = 2 };
int tt_profile_write(const tt_snapshot *s, const char *path, int reason);
void tt_expand_output(const char *pattern, char *out, size_t cap);
void tt_summary_print(const tt_snapshot *s, const char *path, bool wrote);
/* Writes "#i function+off (module)" for addr to fd. */
void tt_print_frame(int fd, int i, uintptr_t addr);
void tt_print_stack(int fd, uint32_t stack);
/* Writes a formatted line to fd without stdio's locks or buffers. */
void tt_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a snapshot now: the one path every dump takes. */
int tt_dump(const char *path, int reason);

#endif
