/* shadow.c: the shadow map's slow paths (shadow.h): mapping a region, and
 * listing the live blocks for a profile's leaks. */
#include "track/shadow.h"

#include "track/resident.h"

#include "base/mem.h"

#include <emmintrin.h> /* SSE2, which every x86-64 has */
#include <sys/mman.h>

#define REGION_ENTRIES (1u << (TT_SHADOW_REGION_SHIFT - 4))

uint8_t tt_shadow_on;
_Atomic(uint16_t *) tt_shadow_dir[TT_SHADOW_REGIONS];
_Atomic(uint8_t *) tt_bare_dir[TT_SHADOW_REGIONS];
_Atomic(uint32_t *) tt_shadow_stack_dir[TT_SHADOW_REGIONS];
size_t (*tt_shadow_usable_size)(void *);

/* The regions mapped so far, as 1 + their index, so that a walk visits only
 * those: the directory has 131072 slots, and reading them all was a third
 * of what a small sampled program's exit cost (its pages are faulted in
 * just to be read). Past MAX_LISTED regions (1 TiB of address space that
 * holds blocks) the walk reads the whole directory again. */
#define MAX_LISTED 1024
static _Atomic uint32_t listed[MAX_LISTED];
static _Atomic uint32_t nlisted;

static void list_region(uintptr_t r)
{
    uint32_t i = atomic_fetch_add_explicit(&nlisted, 1, memory_order_relaxed);
    if (i < MAX_LISTED)
        atomic_store_explicit(&listed[i], (uint32_t)r + 1, memory_order_release);
}

/* A region's part of a map, mapped by the first thread that needs it (a
 * racing thread's mapping goes back); *made: this call mapped it. */
static void *region_part(_Atomic(void *) *slot, size_t bytes, bool *made)
{
    *made = false;
    void *r = atomic_load_explicit(slot, memory_order_acquire);
    if (r)
        return r;
    void *m = base_map(bytes);
    if (!m)
        return NULL;
    void *expected = NULL;
    if (atomic_compare_exchange_strong(slot, &expected, m)) {
        *made = true;
        return m;
    }
    base_unmap(m, bytes);
    return expected;
}

/* The entry for address a in a map of entry-byte entries (its directory
 * dir), its region mapped first, with pad bytes past its last entry; the
 * regions of the map that says where blocks start are listed for the
 * walk. */
static void *map_entry(uintptr_t a, _Atomic(void *) *dir, size_t entry, size_t pad, bool listed_map)
{
    if (a >> 47)
        return NULL;
    bool made;
    char *r =
        region_part(&dir[a >> TT_SHADOW_REGION_SHIFT], (size_t)REGION_ENTRIES * entry + pad, &made);
    if (made && listed_map)
        list_region(a >> TT_SHADOW_REGION_SHIFT);
    return r ? r + tt_shadow_granule(a) * entry : NULL;
}

uint16_t *tt_shadow_make(uintptr_t a)
{
    return map_entry(a, (_Atomic(void *) *)tt_shadow_dir, sizeof(uint16_t), 0, true);
}

/* With a page past the region's last entry, where a block that starts in
 * the region's last granules keeps its next entries (tt_bare_store). */
uint8_t *tt_bare_make(uintptr_t a)
{
    return map_entry(a, (_Atomic(void *) *)tt_bare_dir, sizeof(uint8_t), BASE_PAGE, true);
}

uint32_t *tt_shadow_stack_make(uintptr_t a)
{
    return map_entry(a, (_Atomic(void *) *)tt_shadow_stack_dir, sizeof(uint32_t), 0, false);
}

/* The entries of a 16-byte line of the map that start a block, a bit for
 * each byte (8 entries of the 16-bit map, two bits each, or 16 of the bare
 * map's): bits 0-1 of a start's entry are its kind + 1, never 0
 * (shadow.h). Most entries are 0 (a block's inner granules, free memory)
 * or hold a full run's stack bits or a bare map's size bits, so a whole
 * line is passed over with one SSE2 compare. */
static inline unsigned line_starts(const void *line, bool bare)
{
    __m128i v = _mm_load_si128((const __m128i *)line);
    if (bare)
        return ~(unsigned)_mm_movemask_epi8(
                   _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8(3)), _mm_setzero_si128())) &
               0xffffu;
    __m128i none = _mm_cmpeq_epi16(_mm_and_si128(v, _mm_set1_epi16(3)), _mm_setzero_si128());
    return ~(unsigned)_mm_movemask_epi8(none) & 0xffffu;
}

/* The bytes of an entry of the map a walk reads: the bare map's or the
 * 16-bit one. */
static inline size_t entry_bytes(bool bare)
{
    return bare ? sizeof(uint8_t) : sizeof(uint16_t);
}

typedef struct {
    uintptr_t r;
    const void *base;
    bool bare;
    tt_shadow_emit *emit;
    void *arg;
} region_walk;

/* Emits the block whose first entry, of value v, is at e, in the granule
 * at addr; nothing when the entry starts no block. */
static void emit_entry(const region_walk *w, const void *e, unsigned v, uintptr_t addr)
{
    if (!(v & 3))
        return; /* freed since the line was read */
    if (w->bare) {
        w->emit(addr, tt_bare_size(e, (uint8_t)v), 0, w->arg);
        return;
    }
    addr |= (uintptr_t)((v >> 2) & 1) << 3;
    int64_t size = tt_shadow_size((uint16_t)v);
    w->emit(addr, size, tt_shadow_stack_of(e, (const void *)addr, size), w->arg);
}

/* One resident page of a region's map: emit each block that starts there. */
static void walk_page(const region_walk *w, uintptr_t page_at)
{
    size_t entry = entry_bytes(w->bare), first = (page_at - (uintptr_t)w->base) / entry;
    for (size_t k = 0; k < BASE_PAGE; k += 16) {
        for (unsigned m = line_starts((const void *)(page_at + k), w->bare); m; m &= m - 1) {
            unsigned byte = (unsigned)__builtin_ctz(m);
            const void *e = (const void *)(page_at + k + byte);
            unsigned v = w->bare ? __atomic_load_n((const uint8_t *)e, __ATOMIC_RELAXED)
                                 : __atomic_load_n((const uint16_t *)e, __ATOMIC_RELAXED);
            if (!w->bare)
                m &= m - 1; /* the entry's second bit */
            size_t idx = first + (k + byte) / entry;
            emit_entry(w, e, v, w->r << TT_SHADOW_REGION_SHIFT | idx << 4);
        }
    }
}

/* A run of resident pages of a region's map. */
static void walk_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t at = lo; at < hi; at += BASE_PAGE)
        walk_page(ctx, at);
}

/* One region's live blocks, from its shadow pages in memory (mincore): a
 * page the heap never touched was never mapped in, and is not read. */
static void walk_region(uintptr_t r, tt_shadow_emit *emit, void *arg)
{
    bool bare = tt_shadow_on == TT_SHADOW_BARE;
    void *base = bare ? (void *)atomic_load_explicit(&tt_bare_dir[r], memory_order_acquire)
                      : (void *)atomic_load_explicit(&tt_shadow_dir[r], memory_order_acquire);
    if (!base)
        return;
    region_walk w = {r, base, bare, emit, arg};
    uintptr_t lo = (uintptr_t)base;
    tt_resident_each_by_mincore(lo, lo + (size_t)REGION_ENTRIES * entry_bytes(bare), walk_run, &w);
}

/* The least listed region above `after` (1 + its index, as listed), or 0
 * when none is. A walk takes the regions this way, in address order, with
 * no array of its own: a program lists a few, so the rounds cost little. */
static uint32_t next_listed(uint32_t n, uint32_t after)
{
    uint32_t best = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r1 = atomic_load_explicit(&listed[i], memory_order_acquire);
        if (r1 > after && (best == 0 || r1 < best))
            best = r1;
    }
    return best;
}

/* Resident shadow pages only (mincore), so the walk costs what the heap has
 * touched. Blocks come and go meanwhile, as in the table's walk: a region
 * listed while the walk runs may be missed. Blocks come in address order
 * (regions, then pages, then entries, each ascending): the leak check then
 * merges the few blocks of the live table into them rather than sorting
 * them all (mark_index.c). */
void tt_shadow_foreach(tt_shadow_emit *emit, void *arg)
{
    uint32_t n = atomic_load_explicit(&nlisted, memory_order_acquire);
    if (n <= MAX_LISTED) {
        for (uint32_t r1 = next_listed(n, 0); r1; r1 = next_listed(n, r1))
            walk_region(r1 - 1, emit, arg);
        return;
    }
    for (uintptr_t r = 0; r < TT_SHADOW_REGIONS; r++)
        walk_region(r, emit, arg);
}
