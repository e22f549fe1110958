/* release.c: the one way a block leaves the program (free, delete, realloc's
 * free half), with the checks that keep a bad call from touching the heap. */
#include "shim/shim.h"

static bool kind_matches(uint8_t kind, shim_dealloc_kind how)
{
    switch (how) {
    case SHIM_DEALLOC_DELETE:
        return kind == TALLY_KIND_NEW;
    case SHIM_DEALLOC_DELETE_ARRAY:
        return kind == TALLY_KIND_NEW_ARRAY;
    default:
        return kind == TALLY_KIND_MALLOC;
    }
}

bool shim_release(void *ptr, shim_dealloc_kind how, size_t sized)
{
    if (SHIM_UNLIKELY(shim_boot_owns(ptr)))
        return true; /* the arena never frees */
    if (!tally_track_is_on()) {
        tally_track_forget(ptr);
        shim_raw.free(ptr);
        return true;
    }
    if (SHIM_UNLIKELY(shim_busy)) {
        /* Nested (a signal handler, libunwind): the table may be locked by
         * this very thread. Our own nested blocks are orphans; others wait. */
        if (shim_orphan_take(ptr))
            shim_raw.free(ptr);
        else
            shim_defer_free(ptr);
        return true;
    }
    shim_busy = 1;
    tally_block_info info;
    if (SHIM_UNLIKELY(!tally_track_free(ptr, &info))) {
        /* Attached: a block from before the attach, glibc's to free. */
        bool orphan = shim_orphan_take(ptr) || shim_attached;
        if (orphan)
            shim_raw.free(ptr);
        else
            shim_report_invalid(ptr, how); /* never passed to a free */
        shim_busy = 0;
        return orphan;
    }
    if (SHIM_UNLIKELY(!kind_matches(info.kind, how))) {
        shim_report_mismatch(ptr, &info, how);
        if (info.kind == TALLY_KIND_POOL) {
            /* A pool's block may live in another allocator (jemalloc, a
             * debug pool's guard): keep it, booked as it was. */
            tally_track_alloc(ptr, info.size, info.pool_id, info.stack, info.kind);
            shim_busy = 0;
            return false;
        }
    } else if (SHIM_UNLIKELY(sized != 0 && (int64_t)sized != info.size)) {
        shim_report_bad_size(ptr, &info, sized);
    }
    shim_errors_note_freed(ptr, &info);
    shim_busy = 0;
    shim_raw.free(ptr);
    if (SHIM_UNLIKELY(shim_pending))
        shim_run_pending();
    return true;
}
