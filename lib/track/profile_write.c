/* profile_write.c: a snapshot to a file, through the encoder in lib/profile.
 *
 * This file gathers the figures (the snapshot, the stacks, the modules and
 * the time series, the process's own facts) and lib/profile/write.c lays
 * them out as docs/FORMAT.md says, in an mmap'd buffer, and output.c
 * publishes it under TALLY_OUTPUT's name (a temporary file, then a rename),
 * so no reader ever sees half a profile.
 * The snapshot's live blocks go out grouped by (stack, pool, kind)
 * (lib/profile/leak_groups.c), not one by one. A failed write (full disk, read-only directory)
 * returns its errno; tt_dump prints one warning, once per process: it never disturbs the program.
 */
#include "track/dump.h"

#include "base/mem.h"
#include "track/ledger.h"
#include "track/modules.h"
#include "track/output.h"
#include "track/series.h"
#include "track/stack_table.h"

#include "profile/leak_groups.h"
#include "profile/stack_tree.h"
#include "profile/write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* What the core keeps fits what the format takes. */
_Static_assert(TT_MAX_DEPTH <= PROF_MAX_FRAMES, "stacks deeper than a profile holds");
_Static_assert(TT_NBUCKETS <= PROF_MAX_BUCKETS, "more histogram buckets than a profile holds");

/* The command line into b, NUL-terminated: the arguments separated by single
 * spaces, at most the format's longest string. "" when unreadable. */
static const char *read_cmdline(base_buf *b)
{
    b->len = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096];
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0 && b->len < PROF_MAX_STRING) {
            if (b->len + (size_t)r > PROF_MAX_STRING)
                r = (ssize_t)(PROF_MAX_STRING - b->len);
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] == '\0')
                    buf[i] = ' ';
            base_buf_put(b, buf, (size_t)r);
        }
        close(fd);
    }
    if (b->len > 0 && !b->failed && b->data[b->len - 1] == ' ')
        b->len--; /* the terminating NUL of the last argument */
    base_buf_put(b, "", 1);
    return b->failed ? "" : (const char *)b->data;
}

static void write_meta(prof_writer *w, base_buf *scratch, const tt_snapshot *s, int reason)
{
    struct rusage ru;
    prof_meta m = {
        .pid = (uint32_t)getpid(),
        .reason = (uint32_t)reason,
        .start_ns = tt_cfg.start_realtime_ns,
        .duration_ns = s->now_ns,
        .sample_bytes = tt_cfg.sample_bytes,
        .depth = (uint32_t)tt_cfg.depth,
        .threads = s->threads,
        .exactness_bytes = s->threads > 1 ? (int64_t)s->threads * TT_BATCH_BYTES : 0,
        .peak_bytes = s->peak_bytes,
        .peak_ns = s->peak_ns,
        .max_rss_bytes = getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss * 1024 : 0,
        .exe = tt_exe_path(),
        .cmdline = read_cmdline(scratch),
    };
    prof_write_meta(w, &m);
}

/* The stack table holds each stack as its own frame array, innermost
 * first, for the hot path's one-lookup interning; the profile stores them as
 * a tree of shared callers (lib/profile/stack_tree.h), built here in mmap'd
 * memory, ids ascending. */
static void write_stacks(prof_writer *w)
{
    prof_stack_tree t = {0};
    uint32_t max = tt_stack_max_id();
    for (uint32_t id = 1; id < max; id++) {
        const tt_stack *st = tt_stack_get(id);
        if (st)
            prof_stack_tree_add(&t, id, st->frames, st->nframes);
    }
    prof_write_stack_tree(w, &t);
    prof_stack_tree_free(&t);
}

static void write_pools(prof_writer *w, const tt_snapshot *s)
{
    prof_section_begin(w, PROF_SEC_POOLS);
    for (size_t i = 0; i < s->npools; i++) {
        const tt_snap_pool *p = &s->pools[i];
        prof_pool_stats ps = {
            .id = p->id,
            .name = p->name,
            .current = p->current,
            .peak = p->peak,
            .total_bytes = p->total_bytes,
            .total_count = p->total_count,
            .temporary_count = p->temp,
            .live_count = p->live_count,
            .nbuckets = TT_NBUCKETS,
            .histogram = p->hist,
        };
        prof_write_pool(w, &ps);
    }
    prof_section_end(w);
}

static void write_records(prof_writer *w, const tt_snapshot *s, uint32_t max_stack)
{
    prof_section_begin(w, PROF_SEC_RECORDS);
    for (size_t i = 0; i < s->nrecs; i++) {
        const tt_snap_rec *r = &s->recs[i];
        if (r->stack >= max_stack || !tt_snapshot_pool(s, r->pool))
            continue;
        prof_record rec = {
            .stack_id = r->stack,
            .pool_id = r->pool,
            .live_bytes = r->live_bytes,
            .live_count = r->live_count,
            .total_bytes = r->total_bytes,
            .total_count = r->total_count,
            .temporary_count = r->temp,
            .temporary_bytes = r->temp_bytes,
            .peak_bytes = r->peak_bytes,
            .pool_peak_bytes = r->pool_peak_bytes,
        };
        prof_write_record(w, &rec);
    }
    prof_section_end(w);
}

/* A block booked while the snapshot was taken may name a pool or stack the
 * snapshot does not hold yet: the next profile has it. */
static bool leak_listed(const tt_snapshot *s, const tt_snap_leak *l, uint32_t max_stack)
{
    return l->stack < max_stack && tt_snapshot_pool(s, l->pool);
}

static uint32_t leak_kind(const tt_snapshot *s, const tt_snap_leak *l)
{
    if (!s->classified)
        return PROF_LEAK_LIVE; /* no check ran: live, whatever the field holds */
    TALLY_ASSERT(l->kind <= PROF_LEAK_REACHABLE);
    return l->kind;
}

/* The live blocks as (stack, pool, kind) groups, and with
 * TALLY_LEAK_ADDRESSES their addresses. 0, or ENOMEM. */
static int write_leaks(prof_writer *w, const tt_snapshot *s, uint32_t max_stack)
{
    prof_leak_groups g = {0};
    for (size_t i = 0; i < s->nleaks; i++) {
        const tt_snap_leak *l = &s->leaks[i];
        if (leak_listed(s, l, max_stack))
            prof_leak_group_add_n(&g, l->stack, l->pool, leak_kind(s, l), l->size, l->count);
    }
    prof_write_leak_groups(w, &g);
    /* A grouped snapshot (no memory for every block, dump.c) has none. */
    if (!g.failed && tt_cfg.leak_addresses && !s->grouped) {
        prof_section_begin(w, PROF_SEC_LEAK_BLOCKS);
        for (size_t i = 0; i < s->nleaks; i++) {
            const tt_snap_leak *l = &s->leaks[i];
            if (!leak_listed(s, l, max_stack))
                continue;
            prof_leak_block b = {l->address, l->size,
                                 prof_leak_group_find(&g, l->stack, l->pool, leak_kind(s, l))};
            prof_write_leak_block(w, &b);
        }
        prof_section_end(w);
    }
    int rc = g.failed ? ENOMEM : 0;
    prof_leak_groups_free(&g);
    return rc;
}

static bool pool_listed(int32_t pool, const void *snapshot)
{
    return tt_snapshot_pool(snapshot, pool) != NULL;
}

int tt_profile_write(const tt_snapshot *s, const char *pattern, int reason, char *path, size_t cap)
{
    prof_writer w = {0};
    prof_writer part = {0}; /* the command line, then the modules, then the series */
    prof_write_begin(&w, (tt_cfg.sample_bytes > 0 ? PROF_FLAG_SAMPLED : 0) |
                             (s->classified ? PROF_FLAG_CLASSIFIED : 0));
    write_meta(&w, &part.buf, s, reason);

    bool lost = part.buf.failed;
    part.buf.len = 0;
    tt_modules_payload(&part);
    prof_write_section(&w, PROF_SEC_MODULES, part.count, part.buf.data, part.buf.len);

    uint32_t max_stack = tt_stack_max_id();
    write_stacks(&w);
    write_pools(&w, s);
    write_records(&w, s, max_stack);

    lost |= part.buf.failed;
    part.buf.len = 0;
    part.count = 0;
    tt_series_payload(&part, pool_listed, s);
    prof_write_section(&w, PROF_SEC_SERIES, part.count, part.buf.data, part.buf.len);

    lost |= write_leaks(&w, s, max_stack) != 0;

    int rc = lost || part.buf.failed ? ENOMEM : prof_write_end(&w);
    if (rc == 0)
        rc = tt_output_publish(w.buf.data, w.buf.len, pattern, path, cap);
    prof_writer_free(&part);
    prof_writer_free(&w);
    return rc;
}
