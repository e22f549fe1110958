/* shadow.c: the shadow map's slow paths (shadow.h): mapping a region, and
 * listing the live blocks for a profile's leaks. */
#include "track/shadow.h"

#include "base/mem.h"

#include <sys/mman.h>

#define REGION_ENTRIES (1u << (TT_SHADOW_REGION_SHIFT - 4))

bool tt_shadow_on;
_Atomic(uint16_t *) tt_shadow_dir[TT_SHADOW_REGIONS];
size_t (*tt_shadow_usable_size)(void *);

uint16_t *tt_shadow_make(uintptr_t a)
{
    if (a >> 47)
        return NULL;
    _Atomic(uint16_t *) *slot = &tt_shadow_dir[a >> TT_SHADOW_REGION_SHIFT];
    uint16_t *r = atomic_load_explicit(slot, memory_order_acquire);
    if (!r) {
        size_t bytes = (size_t)REGION_ENTRIES * sizeof(uint16_t);
        void *m = base_map(bytes);
        if (!m)
            return NULL;
        uint16_t *expected = NULL;
        if (atomic_compare_exchange_strong(slot, &expected, (uint16_t *)m)) {
            r = m;
        } else {
            base_unmap(m, bytes);
            r = expected;
        }
    }
    return r + ((a & ((1ul << TT_SHADOW_REGION_SHIFT) - 1)) >> 4);
}

/* Resident shadow pages only (mincore), so the walk costs what the heap has
 * touched. Blocks come and go meanwhile, as in the table's walk. */
void tt_shadow_foreach(void (*emit)(uintptr_t addr, int64_t size, void *arg), void *arg)
{
    const size_t page = 4096, chunk = 4096 * page;
    for (uintptr_t r = 0; r < TT_SHADOW_REGIONS; r++) {
        uint16_t *base = atomic_load_explicit(&tt_shadow_dir[r], memory_order_acquire);
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
                    uintptr_t addr =
                        r << TT_SHADOW_REGION_SHIFT | idx << 4 | (uintptr_t)((v >> 2) & 1) << 3;
                    emit(addr, tt_shadow_size(v), arg);
                }
            }
        }
    }
}
