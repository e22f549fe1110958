/* release.c: the uncommon ways out of shim_release (shim.h), the one way a
 * block leaves the program (free, delete, realloc's free half), with the
 * checks that keep a bad call from touching the heap. Out of line, so that
 * the common case inlined into free and delete stays short. */
#include "shim/shim.h"

#include "base/assert.h"

bool shim_release_untracked(void *ptr)
{
    tally_track_forget(ptr);
    shim_raw.free(ptr);
    return true;
}

bool shim_release_nested(void *ptr)
{
    /* Nested (a signal handler, libunwind): the table may be locked by
     * this very thread. Our own nested blocks are orphans; others wait. */
    if (shim_orphan_take(ptr))
        shim_raw.free(ptr);
    else
        shim_defer_free(ptr);
    return true;
}

bool shim_release_unknown(void *ptr, shim_dealloc_kind how)
{
    TALLY_ASSERT(shim_thread.busy);
    /* Attached: a block from before the attach, glibc's to free. */
    bool orphan = shim_orphan_take(ptr) || shim_attached;
    if (orphan)
        shim_raw.free(ptr);
    else
        shim_report_invalid(ptr, how); /* never passed to a free */
    shim_thread.busy = 0;
    return orphan;
}

bool shim_release_odd(void *ptr, shim_dealloc_kind how, size_t sized, const tally_block_info *info)
{
    TALLY_ASSERT(shim_thread.busy);
    if (!shim_kind_matches(info->kind, how)) {
        shim_report_mismatch(ptr, info, how);
        if (info->kind == TALLY_KIND_POOL) {
            /* A pool's block may live in another allocator (jemalloc, a
             * debug pool's guard): keep it, booked as it was. */
            tally_track_alloc(ptr, info->size, info->pool_id, info->stack, info->kind);
            shim_thread.busy = 0;
            return false;
        }
    } else {
        TALLY_ASSERT(sized != 0 && (int64_t)sized != info->size);
        shim_report_bad_size(ptr, info, sized);
    }
    return true;
}
