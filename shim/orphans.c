/* orphans.c: blocks handed out while tracking could not book them.
 *
 * A malloc nested inside the shim's own bookkeeping (libunwind's first
 * allocation, a signal handler) must not re-enter the live table. Its block
 * is remembered here instead, so that its free is recognised as legitimate
 * rather than reported as invalid. The set is tiny and searched only when
 * the live table does not know a pointer. */
#include "shim/shim.h"

#define ORPHANS_MAX 1024

static void *_Atomic orphans[ORPHANS_MAX];
static _Atomic int orphan_count; /* an upper bound of the used slots: skip the scan at 0 */

void shim_orphan_add(void *ptr)
{
    for (int i = 0; i < ORPHANS_MAX; i++) {
        void *expected = NULL;
        if (__atomic_compare_exchange_n((void **)&orphans[i], &expected, ptr, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_fetch_add((int *)&orphan_count, 1, __ATOMIC_RELEASE);
            return;
        }
    }
    /* Full: the block stays unbooked; its free will be reported and the
     * block leaked, which is safe. */
}

static int find(const void *ptr)
{
    if (__atomic_load_n((int *)&orphan_count, __ATOMIC_ACQUIRE) == 0)
        return -1;
    for (int i = 0; i < ORPHANS_MAX; i++)
        if (__atomic_load_n((void **)&orphans[i], __ATOMIC_ACQUIRE) == ptr)
            return i;
    return -1;
}

bool shim_orphan_take(void *ptr)
{
    int i = find(ptr);
    if (i < 0)
        return false;
    void *expected = ptr;
    if (!__atomic_compare_exchange_n((void **)&orphans[i], &expected, NULL, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return false;
    __atomic_fetch_sub((int *)&orphan_count, 1, __ATOMIC_RELEASE);
    return true;
}

bool shim_orphan_has(const void *ptr)
{
    return find(ptr) >= 0;
}
