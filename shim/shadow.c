/* shadow.c: the sampled mode's record of blocks kept out of the live table.
 *
 * With TALLY_SAMPLE, most blocks are not sampled: they carry no stack, and
 * putting each in the live table (a locked insert and remove, 24 bytes) was
 * most of a sampled run's cost. Instead, each such block gets a 16-bit entry
 * in a shadow map, one entry per 16 bytes of address space, mapped lazily a
 * GiB of address space (128 MiB of reserved, untouched-until-used shadow) at
 * a time:
 *
 *   bits 0-1  kind + 1 (malloc, new, new[]); 0: no block starts here
 *   bit  2    the block starts 8 bytes into its 16-byte granule
 *   bits 3-15 the requested size
 *
 * So free finds the requested size and the kind with one load, and books
 * the pool's counters exactly, with no lock. A
 * pointer whose entry is 0, or whose low bits do not match, is not such a
 * block: free then takes the table's path, which finds sampled blocks and
 * reports invalid and double frees as before. Only blocks of at least 16
 * usable bytes are shadowed (no two start in one granule), of fewer than
 * 8192 requested bytes, charged to pool 0 ("malloc"); the others (a few
 * large blocks, or any under a tally_scope_push) go to the table. */
#include "shim/shim.h"

#include <stdlib.h>
#include <sys/mman.h>

#define REGION_SHIFT 30
#define NREGIONS (1u << (47 - REGION_SHIFT))
#define REGION_ENTRIES (1u << (REGION_SHIFT - 4))

bool shim_shadow_on;
_Atomic(uint16_t *) shim_shadow_dir[NREGIONS];

/* The live shadowed blocks, for the profile's leaks: resident shadow pages
 * only (mincore), so the walk costs what the heap has touched. Blocks come
 * and go meanwhile, as in the table's walk. */
static void shadow_list(tally_track_emit_fn emit, void *arg)
{
    const size_t page = 4096, chunk = 4096 * page;
    for (uintptr_t r = 0; r < NREGIONS; r++) {
        uint16_t *base = atomic_load_explicit(&shim_shadow_dir[r], memory_order_acquire);
        if (!base)
            continue;
        size_t bytes = (size_t)REGION_ENTRIES * sizeof(uint16_t);
        for (size_t off = 0; off < bytes; off += chunk) {
            unsigned char vec[4096];
            if (mincore((char *)base + off, chunk, vec) != 0)
                continue;
            for (size_t pg = 0; pg < chunk / page; pg++) {
                if (!(vec[pg] & 1))
                    continue;
                const uint16_t *e = (const uint16_t *)((char *)base + off + pg * page);
                for (size_t k = 0; k < page / sizeof(uint16_t); k++) {
                    uint16_t v = __atomic_load_n(&e[k], __ATOMIC_RELAXED);
                    if (!v)
                        continue;
                    size_t idx = (size_t)(e + k - base);
                    uintptr_t addr = r << REGION_SHIFT | idx << 4 | (uintptr_t)((v >> 2) & 1) << 3;
                    emit(addr, (int64_t)(v >> 3), 0, arg);
                }
            }
        }
    }
}

void shim_shadow_init(void)
{
    const char *e = getenv("TALLY_SAMPLE");
    const char *off = getenv("TALLY_SHADOW");
    shim_shadow_on = e && strtoll(e, NULL, 10) > 0 && !(off && off[0] == '0');
    if (shim_shadow_on)
        tally_track_set_untabled_lister(shadow_list);
}

uint16_t *shim_shadow_make(uintptr_t a)
{
    if (a >> 47)
        return NULL;
    _Atomic(uint16_t *) *slot = &shim_shadow_dir[a >> REGION_SHIFT];
    uint16_t *r = atomic_load_explicit(slot, memory_order_acquire);
    if (!r) {
        size_t bytes = (size_t)REGION_ENTRIES * sizeof(uint16_t);
        void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        uint16_t *expected = NULL;
        if (atomic_compare_exchange_strong(slot, &expected, (uint16_t *)m)) {
            r = m;
        } else {
            munmap(m, bytes);
            r = expected;
        }
    }
    return r + ((a & ((1ul << REGION_SHIFT) - 1)) >> 4);
}
