/* stack_table.c: unique call stacks, interned to small ids.
 *
 * Lookups take no lock: buckets are singly linked lists that only ever grow
 * at the head, published with a release store. Inserts, rare once a program
 * warmed up, take a mutex, after the unwind. */
#include "track/stack_table.h"

#include "base/mem.h"
#include "base/spin.h"

#include <string.h>

#define NBUCKETS (1u << 16)
#define DIR_SIZE 1024
#define CHUNK_IDS 4096 /* stack ids per directory chunk: 4M stacks in all */

static _Atomic(tt_stack *) *buckets;
static _Atomic(tt_stack **) by_id[DIR_SIZE];
static _Atomic uint32_t next_id = 1;
static pthread_mutex_t insert_lock = PTHREAD_MUTEX_INITIALIZER;

/* Four independent lanes, so that a 64-frame stack costs 16 dependent
 * multiplies rather than 64; the end mixes every bit into the low ones,
 * which pick the bucket. */
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

static tt_stack *lookup(_Atomic(tt_stack *) *b, tt_stack *stop, uint64_t h, const uintptr_t *f,
                        int n)
{
    for (tt_stack *s = atomic_load_explicit(b, memory_order_acquire); s && s != stop; s = s->next)
        if (s->hash == h && s->nframes == (uint32_t)n &&
            memcmp(s->frames, f, (size_t)n * sizeof *f) == 0)
            return s;
    return NULL;
}

static bool ensure_buckets(void)
{
    if (TT_LIKELY(atomic_load_explicit((_Atomic(void *) *)&buckets, memory_order_acquire) != NULL))
        return true;
    pthread_mutex_lock(&insert_lock);
    if (!buckets) {
        void *p = base_map(NBUCKETS * sizeof *buckets);
        atomic_store_explicit((_Atomic(void *) *)&buckets, p, memory_order_release);
    }
    pthread_mutex_unlock(&insert_lock);
    return buckets != NULL;
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
        /* The bucket's low bits are the table's; the cache takes higher ones. */
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
    if (!ensure_buckets())
        return 0;
    _Atomic(tt_stack *) *b = &buckets[h & (NBUCKETS - 1)];
    tt_stack *s = lookup(b, NULL, h, frames, n);
    if (TT_LIKELY(s != NULL)) {
        *found = s;
        return s->id;
    }

    pthread_mutex_lock(&insert_lock);
    s = lookup(b, NULL, h, frames, n);
    if (!s) {
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
            s->next = atomic_load_explicit(b, memory_order_relaxed);
            chunk[id % CHUNK_IDS] = s;
            atomic_store_explicit(b, s, memory_order_release);
            atomic_store_explicit(&next_id, id + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&insert_lock);
    *found = s;
    return s ? s->id : 0;
}

const tt_stack *tt_stack_get(tally_stack_id id)
{
    if (id == 0 || id >= atomic_load_explicit(&next_id, memory_order_acquire))
        return NULL;
    tt_stack **chunk = atomic_load_explicit(&by_id[id / CHUNK_IDS], memory_order_acquire);
    return chunk ? chunk[id % CHUNK_IDS] : NULL;
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
