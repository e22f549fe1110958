/* shadow.h: the sampled mode's record of blocks kept out of the live table.
 *
 * With TALLY_SAMPLE, most blocks are not sampled: they carry no stack, and
 * putting each in the live table (a locked insert and remove, 16 bytes) was
 * most of a sampled run's cost. Instead, each such block of the preload
 * shim's gets an entry in a shadow map, one entry per 16 bytes of address
 * space, mapped lazily a GiB of address space at a time. A full run's map
 * (TT_SHADOW_STACKS, below) has 16-bit entries (128 MiB of reserved,
 * untouched-until-used shadow a GiB):
 *
 *   bits 0-1  kind + 1 (malloc, new, new[]); 0: no block starts here
 *   bit  2    the block starts 8 bytes into its 16-byte granule
 *   bits 3-15 the requested size
 *
 * A sampled run's, the bare map (TT_SHADOW_BARE), has 8-bit ones, the
 * same bits 0-1 and a size that goes on into the entries of the block's
 * next granules when it does not fit (tt_bare_store): a 32-byte block
 * costs 2 bytes of map, where 16-bit entries cost it 4, all the memory the
 * tracking issue allows a sampled run a block.
 *
 * So a free finds the requested size and the kind with one load (two or
 * three for a bare block past 47 bytes), and books the pool's counters exactly, with
 * no lock. A pointer whose entry is 0, or whose low bits do not match, is
 * not such a block: the free then takes the table's path, which finds
 * sampled blocks and reports invalid and double frees as before. No two
 * blocks start in one granule: the shim asks its allocator for at least
 * 16 bytes (shim_raw_size), and a block of 16 usable bytes leaves no room
 * for another start in its granule (tally_track_use_shadow's promise).
 * Blocks of fewer than TT_SHADOW_MAX_SIZE requested bytes, charged to
 * pool 0 ("malloc"), are shadowed; the others (a few large blocks, or any
 * under a scope) go to the table.
 *
 * A full run keeps the shim's small blocks (at most TT_SHADOW_STACK_MAX
 * requested bytes) there too, each with its stack (TT_SHADOW_STACKS). A
 * block's entries sit beside its neighbours', where the table's slot was a
 * random line of a table that outgrows the cache: python3's table was most
 * of a full run's cost. A block of TT_SHADOW_INNER_STACK bytes or more
 * keeps its stack in the entries of its second and third granules, which
 * no other block can start in while it lives: 14 bits each, bits 0-1 zero,
 * which no block's entry has, so every reader of the map passes over them.
 * A smaller block keeps it in a second map, 32 bits per granule, mapped
 * the same way. The maps cost at most 24 bytes a block under 48 bytes
 * (2 + 4 per 16 of its span), and an eighth of its span above: 32 bytes
 * for one of 256, 128 for one of 1024, where the table's slot costs 21 to
 * 32 (with the exit's copies, 39 to 47 measured). Up to 1024 bytes, the
 * speed is worth the memory: churn's blocks of 16 to 527 bytes, half of
 * them past 256, ran full 26% faster all in the map than half in the
 * table (callgrind: 15% fewer instructions), and python3, perl and cc1,
 * whose blocks are mostly smaller, kept their peak RSS. Bigger blocks stay
 * in the table, whose cost does not grow with the block. */
#ifndef TALLY_TRACK_SHADOW_H
#define TALLY_TRACK_SHADOW_H

#include "track/config.h"

#include <stdatomic.h>
#include <stddef.h>

#define TT_SHADOW_MAX_SIZE 8192
#define TT_SHADOW_STACK_MAX 1024
#define TT_SHADOW_INNER_STACK 48
#define TT_SHADOW_INNER_STACK_BITS 28 /* a stack id past these goes to the table */
#define TT_SHADOW_REGION_SHIFT 30
#define TT_SHADOW_REGIONS (1u << (47 - TT_SHADOW_REGION_SHIFT))

/* What the shadow map holds: nothing; a sampled run's unsampled blocks,
 * with no stack; a full run's small blocks, with their stacks. */
enum { TT_SHADOW_OFF = 0, TT_SHADOW_BARE = 1, TT_SHADOW_STACKS = 2 };
extern uint8_t tt_shadow_on;
extern _Atomic(uint16_t *) tt_shadow_dir[TT_SHADOW_REGIONS];
extern _Atomic(uint8_t *) tt_bare_dir[TT_SHADOW_REGIONS];
extern _Atomic(uint32_t *) tt_shadow_stack_dir[TT_SHADOW_REGIONS];
/* The raw allocator's usable size: a debug build checks with it that a
 * block under 16 requested bytes owns its granule. */
extern size_t (*tt_shadow_usable_size)(void *);

/* What an entry (its layout above) says of its block; the kind is read the
 * same way from the bare map's entries. */
static inline int64_t tt_shadow_size(uint16_t v)
{
    return (int64_t)(v >> 3);
}
static inline unsigned tt_shadow_kind(unsigned v)
{
    return (v & 3) - 1;
}

/* The index of a's granule in its region's part of a map. */
static inline size_t tt_shadow_granule(uintptr_t a)
{
    return (a & ((1ul << TT_SHADOW_REGION_SHIFT) - 1)) >> 4;
}

/* The entry of the granule that holds ptr, or NULL when none is mapped. */
static inline uint16_t *tt_shadow_find(const void *ptr)
{
    uintptr_t a = (uintptr_t)ptr;
    if (TT_UNLIKELY(a >> 47))
        return NULL;
    uint16_t *r =
        atomic_load_explicit(&tt_shadow_dir[a >> TT_SHADOW_REGION_SHIFT], memory_order_acquire);
    return r ? r + tt_shadow_granule(a) : NULL;
}

/* The stack entry of the granule that holds ptr (TT_SHADOW_STACKS), or NULL
 * when none is mapped. A block's stack entry is written before its entry
 * in the first map, and read only while that entry stands for it. */
static inline uint32_t *tt_shadow_stack_find(const void *ptr)
{
    uintptr_t a = (uintptr_t)ptr;
    if (TT_UNLIKELY(a >> 47))
        return NULL;
    uint32_t *r = atomic_load_explicit(&tt_shadow_stack_dir[a >> TT_SHADOW_REGION_SHIFT],
                                       memory_order_acquire);
    return r ? r + tt_shadow_granule(a) : NULL;
}
/* The same, mapping its part of the map first (NULL when it cannot). */
uint32_t *tt_shadow_stack_make(uintptr_t a);

/* Does entry v stand for a block that starts at ptr? Block starts are
 * 8-aligned, and bit 2 says which half of the granule the block starts in. */
static inline bool tt_shadow_starts(unsigned v, const void *ptr)
{
    return (v & 3) != 0 && ((uintptr_t)ptr & 15) == ((v & 4u) << 1);
}

/* The entry of a block that starts at ptr, else NULL. */
static inline uint16_t *tt_shadow_block(const void *ptr)
{
    uint16_t *e = tt_shadow_find(ptr);
    if (!e || !tt_shadow_starts(__atomic_load_n(e, __ATOMIC_RELAXED), ptr))
        return NULL;
    return e;
}

/* Maps the part of the map that holds a (NULL when it cannot). */
uint16_t *tt_shadow_make(uintptr_t a);

/* Writes the entry of a block of size bytes (16 to TT_SHADOW_MAX_SIZE - 1,
 * or fewer when it owns its granule) that starts at ptr. */
static inline void tt_shadow_store(uint16_t *e, const void *ptr, int64_t size, unsigned kind)
{
    TALLY_ASSERT(kind <= 2 && size >= 0 && size < TT_SHADOW_MAX_SIZE);
    uint16_t half = (uint16_t)(((uintptr_t)ptr >> 1) & 4); /* bit 2: starts 8 bytes in */
    __atomic_store_n(e, (uint16_t)((uint16_t)(size << 3) | half | (kind + 1u)), __ATOMIC_RELAXED);
}

/* The entry a block of size bytes at ptr gets, its part of the map mapped
 * first; NULL when the block may not be shadowed (too big, or its part of
 * the map cannot be mapped). */
static inline uint16_t *tt_shadow_entry_for(void *ptr, int64_t size)
{
    TALLY_ASSERT(size >= 16 || tt_shadow_usable_size(ptr) >= 16);
    if (size >= TT_SHADOW_MAX_SIZE)
        return NULL;
    uint16_t *e = tt_shadow_find(ptr);
    return TT_LIKELY(e != NULL) ? e : tt_shadow_make((uintptr_t)ptr);
}

/* Does a full run keep a block of pool 0 of this size in the map, with its
 * stack (else in the table)? */
static inline bool tt_shadow_keeps_stacks(int64_t size)
{
    return tt_shadow_on == TT_SHADOW_STACKS && size <= TT_SHADOW_STACK_MAX;
}

/* Keeps the stack of the block of size bytes at ptr, whose entry is e,
 * before e is written; false when it cannot (the block then goes to the
 * table). */
static inline bool tt_shadow_stack_put(uint16_t *e, void *ptr, int64_t size, uint32_t stack)
{
    uintptr_t a = (uintptr_t)ptr;
    if (size >= TT_SHADOW_INNER_STACK) {
        /* Its third granule's entry must be in the same part of the map. */
        if (stack >> TT_SHADOW_INNER_STACK_BITS ||
            a >> TT_SHADOW_REGION_SHIFT != (a + 47) >> TT_SHADOW_REGION_SHIFT)
            return false;
        __atomic_store_n(e + 1, (uint16_t)((stack & 0x3fff) << 2), __ATOMIC_RELAXED);
        __atomic_store_n(e + 2, (uint16_t)((stack >> 14) << 2), __ATOMIC_RELAXED);
        return true;
    }
    uint32_t *st = tt_shadow_stack_find(ptr);
    if (TT_UNLIKELY(!st) && !(st = tt_shadow_stack_make(a)))
        return false;
    __atomic_store_n(st, stack, __ATOMIC_RELAXED);
    return true;
}

/* The stack of the shadowed block of size bytes at ptr, whose entry is e:
 * 0 without TT_SHADOW_STACKS. Read while e stands for it, or just after a
 * free took e away. */
static inline uint32_t tt_shadow_stack_of(const uint16_t *e, const void *ptr, int64_t size)
{
    if (tt_shadow_on != TT_SHADOW_STACKS)
        return 0;
    if (size >= TT_SHADOW_INNER_STACK) {
        TALLY_ASSERT(e != NULL);
        uint32_t lo = __atomic_load_n(e + 1, __ATOMIC_RELAXED) >> 2;
        uint32_t hi = __atomic_load_n(e + 2, __ATOMIC_RELAXED) >> 2;
        return lo | hi << 14;
    }
    const uint32_t *st = tt_shadow_stack_find(ptr);
    return st ? __atomic_load_n(st, __ATOMIC_RELAXED) : 0;
}

/* ---- the bare map (TT_SHADOW_BARE) ------------------------------------------
 * A block's first entry holds its kind + 1 in bits 0-1, as a 16-bit
 * entry does, and a code in bits 2-7. Up to TT_BARE_SIZE_1 the code is the
 * size. Past it, bits 2-7 of the entry of the block's second granule hold
 * the low 6 bits of the size's excess over TT_BARE_SIZE_1 (or over
 * TT_BARE_SIZE_2 from TT_BARE_BIG), and the code the rest, above
 * TT_BARE_MID; from TT_BARE_BIG, the third granule's entry holds the next
 * 6 bits. So a block of up to TT_BARE_SIZE_2 bytes takes at most two
 * entries, as most blocks a program frees at random sizes do (a guess at
 * how many the processor misses costs more than the stores). Bits 0-1 of
 * the second and third entries are 0, as no start's are: every reader of
 * the map passes over them. The bare map keeps only blocks that start at
 * a granule's start (all the shim's: its allocator aligns them to 16); the
 * next block starts at least the size on, so a block of more than
 * TT_BARE_SIZE_1 bytes owns the entries of its second and third granules:
 * no other block can start there while it lives. A free leaves those
 * entries as they are: only a first entry says a block starts, and only
 * its own block reads on past it. */
#define TT_BARE_SIZE_1 47
#define TT_BARE_MID (TT_BARE_SIZE_1 + 1)
#define TT_BARE_BIG 62
#define TT_BARE_SIZE_2 (TT_BARE_SIZE_1 + ((TT_BARE_BIG - TT_BARE_MID) << 6))
_Static_assert(TT_BARE_BIG + ((TT_SHADOW_MAX_SIZE - 1 - (TT_BARE_SIZE_2 + 1)) >> 12) < 64,
               "every size a code in a first entry's 6 bits");
_Static_assert(TT_BARE_SIZE_1 + 1 > 32, "a block past TT_BARE_SIZE_1 spans three granules");

/* The entry of the granule that holds ptr, or NULL when none is mapped. */
static inline uint8_t *tt_bare_find(const void *ptr)
{
    uintptr_t a = (uintptr_t)ptr;
    if (TT_UNLIKELY(a >> 47))
        return NULL;
    uint8_t *r =
        atomic_load_explicit(&tt_bare_dir[a >> TT_SHADOW_REGION_SHIFT], memory_order_acquire);
    return r ? r + tt_shadow_granule(a) : NULL;
}

/* Maps the part of the map that holds a (NULL when it cannot). */
uint8_t *tt_bare_make(uintptr_t a);

/* Does entry v stand for a block that starts at ptr? */
static inline bool tt_bare_starts(uint8_t v, const void *ptr)
{
    return (v & 3) != 0 && ((uintptr_t)ptr & 15) == 0;
}

/* The size of the block whose first entry is e, of value v. */
static inline int64_t tt_bare_size(const uint8_t *e, uint8_t v)
{
    unsigned code = v >> 2;
    if (TT_LIKELY(code <= TT_BARE_SIZE_1))
        return code;
    unsigned low = __atomic_load_n(e + 1, __ATOMIC_RELAXED) >> 2;
    if (TT_LIKELY(code < TT_BARE_BIG))
        return TT_BARE_SIZE_1 + 1 + ((code - TT_BARE_MID) << 6 | low);
    unsigned high = __atomic_load_n(e + 2, __ATOMIC_RELAXED) >> 2;
    return TT_BARE_SIZE_2 + 1 + ((int64_t)(code - TT_BARE_BIG) << 12 | high << 6 | low);
}

/* Writes the entries of a block of size bytes (its shadow.h limits as
 * tt_shadow_store's) at ptr, 16-aligned, whose first entry is e, that one
 * last. A block that starts in a region's last granules writes its next
 * entries in the room past them (tt_bare_make), where its free reads them.
 * Branches on the size, as tt_bare_size does: choosing without them took
 * more instructions than the guesses the processor misses. */
static inline void tt_bare_store(uint8_t *e, const void *ptr, int64_t size, unsigned kind)
{
    TALLY_ASSERT(kind <= 2 && size >= 0 && size < TT_SHADOW_MAX_SIZE);
    TALLY_ASSERT(((uintptr_t)ptr & 15) == 0);
    (void)ptr; /* read by the assertion alone */
    unsigned code = (unsigned)size;
    if (size > TT_BARE_SIZE_2) {
        unsigned rest = (unsigned)size - (TT_BARE_SIZE_2 + 1);
        __atomic_store_n(e + 1, (uint8_t)((rest & 63) << 2), __ATOMIC_RELAXED);
        __atomic_store_n(e + 2, (uint8_t)(((rest >> 6) & 63) << 2), __ATOMIC_RELAXED);
        code = TT_BARE_BIG + (rest >> 12);
    } else if (size > TT_BARE_SIZE_1) {
        unsigned rest = (unsigned)size - (TT_BARE_SIZE_1 + 1);
        __atomic_store_n(e + 1, (uint8_t)((rest & 63) << 2), __ATOMIC_RELAXED);
        code = TT_BARE_MID + (rest >> 6);
    }
    __atomic_store_n(e, (uint8_t)(code << 2 | (kind + 1u)), __ATOMIC_RELAXED);
}

/* The first entry of a block that starts at ptr, else NULL. */
static inline uint8_t *tt_bare_block(const void *ptr)
{
    uint8_t *e = tt_bare_find(ptr);
    if (!e || !tt_bare_starts(__atomic_load_n(e, __ATOMIC_RELAXED), ptr))
        return NULL;
    return e;
}

/* Stores the entries of a block that may be shadowed, mapping its part of
 * the map first; false when it may not (too big, not 16-aligned, or its
 * part of the map cannot be mapped). */
static inline bool tt_bare_put(void *ptr, int64_t size, unsigned kind)
{
    TALLY_ASSERT(size >= 16 || tt_shadow_usable_size(ptr) >= 16);
    if (size >= TT_SHADOW_MAX_SIZE || ((uintptr_t)ptr & 15))
        return false;
    uint8_t *e = tt_bare_find(ptr);
    if (!e && !(e = tt_bare_make((uintptr_t)ptr)))
        return false;
    tt_bare_store(e, ptr, size, kind);
    return true;
}

/* ---- either map ------------------------------------------------------------ */
/* A block booked elsewhere or not at all: no stale entry may stand for it. */
static inline void tt_shadow_forget(const void *ptr)
{
    if (tt_shadow_on == TT_SHADOW_BARE) {
        uint8_t *e = tt_bare_block(ptr);
        if (e)
            __atomic_store_n(e, 0, __ATOMIC_RELAXED);
        return;
    }
    uint16_t *e = tt_shadow_block(ptr);
    if (e)
        __atomic_store_n(e, 0, __ATOMIC_RELAXED);
}

/* The block that starts in the granule at g (16-aligned), as the run's map
 * says: where, its size, kind and stack (0 in a sampled run). */
typedef struct {
    uintptr_t addr;
    int64_t size;
    unsigned kind;
    uint32_t stack;
} tt_shadowed;
static inline bool tt_shadow_start_in(uintptr_t g, tt_shadowed *out)
{
    if (tt_shadow_on == TT_SHADOW_BARE) {
        const uint8_t *e = tt_bare_find((const void *)g);
        uint8_t v = e ? __atomic_load_n(e, __ATOMIC_RELAXED) : 0;
        if (!(v & 3))
            return false; /* no block starts here (or a size's bits) */
        *out = (tt_shadowed){g, tt_bare_size(e, v), tt_shadow_kind(v), 0};
        return true;
    }
    const uint16_t *e = tt_shadow_find((const void *)g);
    uint16_t v = e ? __atomic_load_n(e, __ATOMIC_RELAXED) : 0;
    if (!(v & 3))
        return false; /* no block starts here (or a stack's bits) */
    uintptr_t s = g + ((v >> 2) & 1) * 8;
    int64_t size = tt_shadow_size(v);
    *out = (tt_shadowed){s, size, tt_shadow_kind(v), tt_shadow_stack_of(e, (const void *)s, size)};
    return true;
}

/* Calls emit for every live shadowed block (resident shadow pages only),
 * with its stack (0 in a sampled run). */
typedef void tt_shadow_emit(uintptr_t addr, int64_t size, uint32_t stack, void *arg);
void tt_shadow_foreach(tt_shadow_emit *emit, void *arg);

#endif
