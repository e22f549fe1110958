/* leak_list.c: see leak_list.h. */
#include <config.h>

#include "track/leak_list.h"

#include "base/assert.h"
#include "profile/format.h"

#include <errno.h>
#include <string.h>

void tt_leak_list_add(tt_leak_list *l, uint64_t address, int64_t size, uint32_t stack, int32_t pool,
                      uint8_t flags)
{
    if (l->grouped) {
        prof_leak_group_add(&l->groups, stack, pool, PROF_LEAK_LIVE, size);
        return;
    }
    tt_snap_leak b = {address, size, stack, pool, 1, flags, PROF_LEAK_LIVE};
    base_buf_put(&l->blocks, &b, sizeof b);
}

void tt_leak_list_sorted_so_far(tt_leak_list *l)
{
    if (!l->grouped)
        l->sorted = l->blocks.len / sizeof(tt_snap_leak);
}

/* A group as snapshot entries. An entry counts at most UINT32_MAX blocks:
 * a bigger group is split, its bytes shared out so that the entries' sums
 * are the group's, which is all a reader of a group takes from it. */
static void put_group(base_buf *out, const prof_leak *g)
{
    int64_t count = g->count, bytes = g->bytes;
    while (count > 0) {
        uint32_t part = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
        int64_t part_bytes = part == count ? bytes : (int64_t)((double)bytes * part / count);
        tt_snap_leak e = {.size = part_bytes,
                          .stack = g->stack_id,
                          .pool = g->pool_id,
                          .count = part,
                          .kind = PROF_LEAK_LIVE};
        base_buf_put(out, &e, sizeof e);
        count -= part;
        bytes -= part_bytes;
    }
}

int tt_leak_list_finish(tt_leak_list *l, tt_snapshot *s)
{
    base_buf out = l->blocks;
    bool grouped = l->grouped, failed = l->blocks.failed;
    size_t sorted = l->sorted;
    if (grouped) {
        TALLY_ASSERT(out.len == 0);
        failed = l->groups.failed;
        const prof_leak *g = (const prof_leak *)l->groups.groups.data;
        for (size_t i = 0; !failed && i < l->groups.n; i++) {
            put_group(&out, &g[i]);
            failed = out.failed;
        }
        prof_leak_groups_free(&l->groups);
    }
    memset(l, 0, sizeof *l);
    if (failed) {
        base_buf_free(&out);
        return ENOMEM;
    }
    TALLY_ASSERT(out.len % sizeof(tt_snap_leak) == 0);
    s->leaks = (tt_snap_leak *)out.data;
    s->nleaks = out.len / sizeof(tt_snap_leak);
    s->map_bytes[2] = out.cap;
    s->grouped = grouped;
    s->nsorted = sorted;
    return 0;
}
