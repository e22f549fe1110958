/* stack_table.c: unique call stacks, interned to small ids.
 *
 * Stacks are found by their hash in an index of 8-byte slots, open
 * addressing with linear probes: each slot holds the hash's low 32 bits and
 * the stack's id, and the stack itself is reached through the directory of
 * ids. The index is kept at most 3/4 full and doubled past that, so a
 * program's few thousand stacks take a few dozen KiB of slots that stay in
 * cache; a bucket array sized for millions of stacks cost a cache miss on
 * every lookup (cc1 full: 5% of the run).
 *
 * Lookups take no lock. Inserts take a mutex, after the unwind. A slot is
 * filled once, with a release store, after the stack it names. A doubling
 * publishes a new index and empties the old one's pages: a lookup still
 * probing there finds nothing and takes the mutex, like any miss, and finds
 * the stack in the new one. */
#include "track/stack_table.h"

#include "base/mem.h"
#include "base/spin.h"

#include <string.h>
#include <sys/mman.h>

#define INDEX_FIRST (1u << 12) /* slots: 32 KiB */
#define DIR_SIZE 1024
#define CHUNK_IDS 4096 /* stack ids per directory chunk: 4M stacks in all */

typedef struct {
    uint32_t mask;           /* slots - 1; slots are a power of two */
    _Atomic uint64_t slot[]; /* hash's low 32 bits << 32 | id; 0: empty */
} stack_index;

static _Atomic(stack_index *) index_now;
static uint32_t index_used; /* under insert_lock */
static _Atomic(tt_stack **) by_id[DIR_SIZE];
static _Atomic uint32_t next_id = 1;
static pthread_mutex_t insert_lock = PTHREAD_MUTEX_INITIALIZER;

/* Four independent lanes, so that a 64-frame stack costs 16 dependent
 * multiplies rather than 64; the end mixes every bit into the low ones,
 * which place the stack in the index. */
static uint64_t hash_frames(const uintptr_t *f, int n)
{
    const uint64_t k = 0xff51afd7ed558ccdULL;
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n, b = 0xc2b2ae3d27d4eb4fULL,
             c = 0x165667b19e3779f9ULL, d = 0x27d4eb2f165667c5ULL;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        a = (a ^ f[i]) * k;
        b = (b ^ f[i + 1]) * k;
        c = (c ^ f[i + 2]) * k;
        d = (d ^ f[i + 3]) * k;
    }
    for (; i < n; i++)
        a = (a ^ f[i]) * k;
    uint64_t h = a ^ (b << 17 | b >> 47) ^ (c << 31 | c >> 33) ^ (d << 47 | d >> 17);
    h ^= h >> 32;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h;
}

static inline uint64_t index_entry(uint64_t h, uint32_t id)
{
    return (uint64_t)(uint32_t)h << 32 | id;
}

/* The stack of an id the index or next_id published. */
static inline tt_stack *stack_of(uint32_t id)
{
    tt_stack **chunk = atomic_load_explicit(&by_id[id / CHUNK_IDS], memory_order_acquire);
    return chunk[id % CHUNK_IDS];
}

static tt_stack *lookup(const stack_index *x, uint64_t h, const uintptr_t *f, int n)
{
    uint32_t mask = x->mask;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint64_t e = atomic_load_explicit(&x->slot[i], memory_order_acquire);
        if (e == 0)
            return NULL;
        if (e >> 32 != (uint32_t)h)
            continue;
        tt_stack *s = stack_of((uint32_t)e);
        if (s->hash == h && s->nframes == (uint32_t)n &&
            memcmp(s->frames, f, (size_t)n * sizeof *f) == 0)
            return s;
    }
}

static stack_index *index_map(uint32_t slots)
{
    stack_index *x = base_map(sizeof *x + (size_t)slots * sizeof x->slot[0]);
    if (x)
        x->mask = slots - 1;
    return x;
}

static void index_put(stack_index *x, uint64_t e)
{
    uint32_t i = (uint32_t)(e >> 32) & x->mask;
    while (atomic_load_explicit(&x->slot[i], memory_order_relaxed) != 0)
        i = (i + 1) & x->mask;
    atomic_store_explicit(&x->slot[i], e, memory_order_release);
}

/* The index, with room for one more stack: under insert_lock. */
static stack_index *index_with_room(void)
{
    stack_index *x = atomic_load_explicit(&index_now, memory_order_relaxed);
    if (!x) {
        x = index_map(INDEX_FIRST);
        atomic_store_explicit(&index_now, x, memory_order_release);
        return x;
    }
    uint32_t slots = x->mask + 1;
    if ((uint64_t)(index_used + 1) * 4 <= (uint64_t)slots * 3)
        return x;
    /* The slot's hash bits are the position's, so a doubling reads no stack. */
    stack_index *bigger = slots <= UINT32_MAX / 2 ? index_map(slots * 2) : NULL;
    if (!bigger)
        return NULL;
    for (uint32_t i = 0; i < slots; i++) {
        uint64_t e = atomic_load_explicit(&x->slot[i], memory_order_relaxed);
        if (e)
            index_put(bigger, e);
    }
    atomic_store_explicit(&index_now, bigger, memory_order_release);
    /* Kept mapped, for lookups still probing it, but emptied: zero pages
     * read as a miss, and the memory goes back. */
    size_t bytes = sizeof *x + (size_t)slots * sizeof x->slot[0];
    TALLY_ASSERT((uintptr_t)x % BASE_PAGE == 0);
    madvise((void *)x, bytes / BASE_PAGE * BASE_PAGE, MADV_DONTNEED);
    return bigger;
}

static tally_stack_id intern_hashed(uint64_t h, const uintptr_t *frames, int n,
                                    const tt_stack **found);

tally_stack_id tt_stack_intern(const uintptr_t *frames, int n)
{
    return tt_stack_intern_cached(NULL, frames, n);
}

tally_stack_id tt_stack_intern_cached(tt_intern_cache *c, const uintptr_t *frames, int n)
{
    TALLY_ASSERT(n <= TT_MAX_DEPTH);
    if (n <= 0)
        return 0;
    uint64_t h = hash_frames(frames, n);
    if (c) {
        /* The index's probes start from the hash's low bits; the cache takes
         * higher ones. */
        unsigned slot = (unsigned)(h >> 40) & (TT_INTERN_SLOTS - 1);
        const tt_stack *s = c->e[slot].stack;
        if (s && c->e[slot].hash == h && s->nframes == (uint32_t)n &&
            memcmp(s->frames, frames, (size_t)n * sizeof *frames) == 0)
            return s->id;
        tally_stack_id id = intern_hashed(h, frames, n, &s);
        if (id) {
            c->e[slot].hash = h;
            c->e[slot].stack = s;
        }
        return id;
    }
    const tt_stack *unused;
    return intern_hashed(h, frames, n, &unused);
}

static tally_stack_id intern_hashed(uint64_t h, const uintptr_t *frames, int n,
                                    const tt_stack **found)
{
    stack_index *x = atomic_load_explicit(&index_now, memory_order_acquire);
    tt_stack *s = x ? lookup(x, h, frames, n) : NULL;
    if (TT_LIKELY(s != NULL)) {
        *found = s;
        return s->id;
    }

    pthread_mutex_lock(&insert_lock);
    x = atomic_load_explicit(&index_now, memory_order_relaxed);
    s = x ? lookup(x, h, frames, n) : NULL;
    if (!s && (x = index_with_room()) != NULL) {
        uint32_t id = atomic_load_explicit(&next_id, memory_order_relaxed);
        tt_stack **chunk = NULL;
        if (id / CHUNK_IDS < DIR_SIZE) {
            chunk = atomic_load_explicit(&by_id[id / CHUNK_IDS], memory_order_relaxed);
            if (!chunk) {
                chunk = base_arena_alloc(CHUNK_IDS * sizeof *chunk);
                atomic_store_explicit(&by_id[id / CHUNK_IDS], chunk, memory_order_release);
            }
        }
        s = chunk ? base_arena_alloc(sizeof *s + (size_t)n * sizeof(uintptr_t)) : NULL;
        if (s) {
            s->hash = h;
            s->id = id;
            s->nframes = (uint32_t)n;
            atomic_init(&s->pool_slot, -1);
            memcpy(s->frames, frames, (size_t)n * sizeof *frames);
            chunk[id % CHUNK_IDS] = s;
            index_put(x, index_entry(h, id)); /* after the stack: the release */
            index_used++;
            /* An empty slot ends every probe. */
            TALLY_ASSERT((uint64_t)index_used * 4 <= (uint64_t)(x->mask + 1) * 3);
            atomic_store_explicit(&next_id, id + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&insert_lock);
    *found = s;
    return s ? s->id : 0;
}

const tt_stack *tt_stack_get(tally_stack_id id)
{
    /* An id below next_id has its chunk and its stack: both are stored
     * before next_id moves past it. */
    if (id == 0 || id >= atomic_load_explicit(&next_id, memory_order_acquire))
        return NULL;
    return stack_of(id);
}

uint32_t tt_stack_max_id(void)
{
    return atomic_load_explicit(&next_id, memory_order_acquire);
}

void tt_stack_lock(void)
{
    pthread_mutex_lock(&insert_lock);
}

void tt_stack_unlock(void)
{
    pthread_mutex_unlock(&insert_lock);
}

TALLY_INTERNAL int tally_track_stack_frames(tally_stack_id id, const uintptr_t **frames)
{
    const tt_stack *s = tt_stack_get(id);
    if (!s)
        return 0;
    *frames = s->frames;
    return (int)s->nframes;
}

TALLY_INTERNAL _Atomic int32_t *tally_track_stack_pool_slot(tally_stack_id id)
{
    tt_stack *s = (tt_stack *)tt_stack_get(id);
    return s ? &s->pool_slot : NULL;
}
