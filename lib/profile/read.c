/* read.c: the profile reader, to docs/FORMAT.md byte for byte.
 *
 * Two passes: the first walks the section headers (truncation, duplicates,
 * the end section and its checksum) without looking inside; the second
 * decodes each known section through a bounds-checked cursor. Counts are
 * checked against the payload's length before anything is allocated, so a
 * corrupt count cannot ask for gigabytes. The stack sections are
 * read_stacks.c's. */
#include <config.h>

#include "profile/read_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const prof_section_name[PROF_SEC_KNOWN_LAST + 1] = {
    [PROF_SEC_META] = "META",       [PROF_SEC_MODULES] = "MODULES",
    [PROF_SEC_STACKS] = "STACKS",   [PROF_SEC_POOLS] = "POOLS",
    [PROF_SEC_RECORDS] = "RECORDS", [PROF_SEC_SERIES] = "SERIES",
    [PROF_SEC_LEAKS] = "LEAKS",     [PROF_SEC_LEAK_BLOCKS] = "LEAK_BLOCKS",
    [PROF_SEC_FRAMES] = "FRAMES",   [PROF_SEC_NODES] = "NODES",
    [PROF_SEC_NAMES] = "NAMES",
};
void prof_say(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint64_t le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static const uint8_t *take(prof_cursor *c, size_t n)
{
    if (c->overrun || c->left < n) {
        c->overrun = 1;
        c->left = 0;
        return NULL;
    }
    const uint8_t *at = c->p;
    c->p += n;
    c->left -= n;
    return at;
}

static uint32_t u32(prof_cursor *c)
{
    const uint8_t *b = take(c, 4);
    return b ? (uint32_t)le(b, 4) : 0;
}

static uint64_t u64(prof_cursor *c)
{
    const uint8_t *b = take(c, 8);
    return b ? le(b, 8) : 0;
}

static int64_t i64(prof_cursor *c)
{
    return (int64_t)u64(c);
}

static int32_t i32(prof_cursor *c)
{
    return (int32_t)u32(c);
}

/* A str; *too_long is set for a length over the format's limit. The result
 * is NUL-terminated (and NULL after an overrun). */
static char *str(prof_cursor *c, uint32_t *len_out, int *too_long)
{
    uint32_t n = u32(c);
    if (n > PROF_MAX_STRING) {
        *too_long = 1;
        c->overrun = 1;
        return NULL;
    }
    const uint8_t *b = take(c, n);
    if (!b)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) {
        c->overrun = 1;
        return NULL;
    }
    memcpy(s, b, n);
    s[n] = '\0';
    if (len_out)
        *len_out = n;
    return s;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

const prof_stack *prof_find_stack(const prof_profile *p, uint32_t id)
{
    /* A tracked program's ids run 1, 2, 3, ...: stack id sits at id - 1. */
    if (id != 0 && id <= p->nstacks && p->stacks[id - 1].id == id)
        return &p->stacks[id - 1];
    size_t lo = 0, hi = p->nstacks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->stacks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nstacks && p->stacks[lo].id == id ? &p->stacks[lo] : NULL;
}

const prof_pool *prof_find_pool(const prof_profile *p, int32_t id)
{
    for (size_t i = 0; i < p->npools; i++)
        if (p->pools[i].id == id)
            return &p->pools[i];
    return NULL;
}

const char *prof_pool_name(const prof_profile *p, int32_t id)
{
    const prof_pool *pool = prof_find_pool(p, id);
    return pool ? pool->name : "?";
}

static int pool_known(const prof_reader *r, int32_t id)
{
    if (r->p->npools == 0) /* no POOLS section: bsearch must not see a NULL base */
        return 0;
    return bsearch(&id, r->pool_ids_sorted, r->p->npools, sizeof(int32_t), cmp_i32) != NULL;
}

/* The end-of-section verdict shared by every parser. */
int prof_finish(prof_reader *r, const prof_cursor *c, int sec, int too_long)
{
    if (too_long) {
        prof_say(r->err, r->errlen, "corrupt profile: a string in %s is longer than %u bytes",
                 prof_section_name[sec], PROF_MAX_STRING);
        return -1;
    }
    if (c->bad_varint) {
        prof_say(r->err, r->errlen, "corrupt profile: a varint in %s is longer than %d bytes",
                 prof_section_name[sec], PROF_VARINT_MAX_BYTES);
        return -1;
    }
    if (c->overrun) {
        prof_say(r->err, r->errlen, "corrupt profile: %s records run past their section",
                 prof_section_name[sec]);
        return -1;
    }
    if (c->left != 0) {
        prof_say(r->err, r->errlen, "corrupt profile: %s records do not fill their section",
                 prof_section_name[sec]);
        return -1;
    }
    return 0;
}

/* Refuses a count that cannot fit in the payload at min_size bytes each. */
int prof_count_fits(prof_reader *r, const prof_section *s, int sec, size_t min_size)
{
    if (s->count > s->length / min_size) {
        prof_say(r->err, r->errlen, "corrupt profile: %s count %u does not fit its section",
                 prof_section_name[sec], s->count);
        return -1;
    }
    return 0;
}

void *prof_section_array(prof_reader *r, const prof_section *s, int sec, size_t min_size,
                         size_t elem_size)
{
    if (prof_count_fits(r, s, sec, min_size))
        return NULL;
    void *a = calloc(s->count ? s->count : 1, elem_size);
    if (!a)
        prof_say(r->err, r->errlen, "out of memory reading %s", prof_section_name[sec]);
    return a;
}

static int parse_meta(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (s->count != 1) {
        prof_say(r->err, r->errlen, "corrupt profile: META count is %u, not 1", s->count);
        return -1;
    }
    prof_cursor c = prof_cursor_of(s);
    int too_long = 0;
    p->has_meta = 1;
    p->pid = u32(&c);
    p->reason = u32(&c);
    p->start_ns = i64(&c);
    p->duration_ns = i64(&c);
    p->sample_bytes = i64(&c);
    p->depth = u32(&c);
    p->threads = u32(&c);
    p->exactness_bytes = i64(&c);
    p->peak_bytes = i64(&c);
    p->peak_ns = i64(&c);
    p->max_rss_bytes = i64(&c);
    p->exe = str(&c, NULL, &too_long);
    if (!too_long)
        p->cmdline = str(&c, NULL, &too_long);
    return prof_finish(r, &c, PROF_SEC_META, too_long);
}

static int parse_modules(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    p->modules =
        prof_section_array(r, s, PROF_SEC_MODULES, PROF_MODULE_MIN_BYTES, sizeof *p->modules);
    if (!p->modules)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    int too_long = 0;
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_module *m = &p->modules[i];
        m->start = u64(&c);
        m->end = u64(&c);
        m->base = u64(&c);
        p->nmodules = i + 1;
        m->path = str(&c, NULL, &too_long);
        if (too_long)
            break;
        m->build_id = (uint8_t *)str(&c, &m->build_id_len, &too_long);
    }
    return prof_finish(r, &c, PROF_SEC_MODULES, too_long);
}

static int parse_pools(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (prof_count_fits(r, s, PROF_SEC_POOLS, PROF_POOL_MIN_BYTES))
        return -1;
    p->pools = calloc(s->count ? s->count : 1, sizeof *p->pools);
    r->pool_ids_sorted = calloc(s->count ? s->count : 1, sizeof(int32_t));
    if (!p->pools || !r->pool_ids_sorted) {
        prof_say(r->err, r->errlen, "out of memory reading POOLS");
        return -1;
    }
    prof_cursor c = prof_cursor_of(s);
    int too_long = 0;
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_pool *pl = &p->pools[i];
        pl->id = i32(&c);
        p->npools = i + 1;
        pl->name = str(&c, NULL, &too_long);
        if (too_long)
            break;
        pl->current = i64(&c);
        pl->peak = i64(&c);
        pl->total_bytes = i64(&c);
        pl->total_count = i64(&c);
        pl->temporary_count = i64(&c);
        pl->live_count = i64(&c);
        pl->nbuckets = u32(&c);
        if (pl->nbuckets > PROF_MAX_BUCKETS) {
            prof_say(r->err, r->errlen,
                     "corrupt profile: pool %d has %u histogram buckets (at most %d)", pl->id,
                     pl->nbuckets, PROF_MAX_BUCKETS);
            return -1;
        }
        for (uint32_t b = 0; b < pl->nbuckets; b++)
            pl->histogram[b] = i64(&c);
        r->pool_ids_sorted[i] = pl->id;
    }
    if (prof_finish(r, &c, PROF_SEC_POOLS, too_long))
        return -1;
    qsort(r->pool_ids_sorted, p->npools, sizeof(int32_t), cmp_i32);
    for (size_t i = 1; i < p->npools; i++)
        if (r->pool_ids_sorted[i] == r->pool_ids_sorted[i - 1]) {
            prof_say(r->err, r->errlen, "corrupt profile: pool id %d appears twice",
                     r->pool_ids_sorted[i]);
            return -1;
        }
    return 0;
}

/* id: 64 bits, since version 3 stores it as a step that can land anywhere. */
static int check_stack_ref(prof_reader *r, uint64_t id, int sec)
{
    if (id != 0 && id <= UINT32_MAX && prof_find_stack(r->p, (uint32_t)id))
        return 0;
    prof_say(r->err, r->errlen,
             "corrupt profile: %s refers to stack %llu, which is not in the file",
             prof_section_name[sec], (unsigned long long)id);
    return -1;
}

/* A pool id stored as a varint, which must fit an i32. */
static int check_pool_range(prof_reader *r, int64_t id, int sec)
{
    if (id >= INT32_MIN && id <= INT32_MAX)
        return 0;
    prof_say(r->err, r->errlen, "corrupt profile: %s refers to pool %lld, which is not in the file",
             prof_section_name[sec], (long long)id);
    return -1;
}

static int check_pool_ref(prof_reader *r, int32_t id, int sec)
{
    if (pool_known(r, id))
        return 0;
    prof_say(r->err, r->errlen, "corrupt profile: %s refers to pool %d, which is not in the file",
             prof_section_name[sec], id);
    return -1;
}

/* Versions 1 and 2: 64 bytes a record. */
static int parse_records_v2(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    p->records =
        prof_section_array(r, s, PROF_SEC_RECORDS, PROF_RECORD_V2_BYTES, sizeof *p->records);
    if (!p->records)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_record *rec = &p->records[i];
        rec->stack_id = u32(&c);
        rec->pool_id = i32(&c);
        rec->live_bytes = i64(&c);
        rec->live_count = i64(&c);
        rec->total_bytes = i64(&c);
        rec->total_count = i64(&c);
        rec->temporary_count = i64(&c);
        rec->peak_bytes = i64(&c);
        rec->pool_peak_bytes = i64(&c);
        if (c.overrun)
            break;
        p->nrecords = i + 1;
        if (check_stack_ref(r, rec->stack_id, PROF_SEC_RECORDS) ||
            check_pool_ref(r, rec->pool_id, PROF_SEC_RECORDS))
            return -1;
    }
    return prof_finish(r, &c, PROF_SEC_RECORDS, 0);
}

/* Version 3 on: varints, the stack id as the step from the record before;
 * version 4 adds the temporary bytes last. */
static int parse_records(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (p->version < PROF_VERSION_TREE)
        return parse_records_v2(r, s);
    int temp_bytes = p->version >= PROF_VERSION_TEMP_BYTES;
    p->records = prof_section_array(r, s, PROF_SEC_RECORDS,
                                    temp_bytes ? PROF_RECORD_MIN_BYTES : PROF_RECORD_V3_MIN_BYTES,
                                    sizeof *p->records);
    if (!p->records)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    uint64_t stack = 0;
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_record *rec = &p->records[i];
        stack += (uint64_t)prof_svarint(&c);
        int64_t pool = prof_svarint(&c);
        rec->live_bytes = prof_svarint(&c);
        rec->live_count = prof_svarint(&c);
        rec->total_bytes = prof_svarint(&c);
        rec->total_count = prof_svarint(&c);
        rec->temporary_count = prof_svarint(&c);
        rec->peak_bytes = prof_svarint(&c);
        rec->pool_peak_bytes = prof_svarint(&c);
        rec->temporary_bytes = temp_bytes ? prof_svarint(&c) : 0;
        if (c.overrun)
            break;
        if (check_stack_ref(r, stack, PROF_SEC_RECORDS) ||
            check_pool_range(r, pool, PROF_SEC_RECORDS) ||
            check_pool_ref(r, (int32_t)pool, PROF_SEC_RECORDS))
            return -1;
        rec->stack_id = (uint32_t)stack;
        rec->pool_id = (int32_t)pool;
        p->nrecords = i + 1;
    }
    return prof_finish(r, &c, PROF_SEC_RECORDS, 0);
}

static int parse_series(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    prof_cursor c = prof_cursor_of(s);
    uint32_t np = u32(&c);
    if (c.overrun || np > c.left / 4) {
        prof_say(r->err, r->errlen,
                 "corrupt profile: SERIES pool count %u does not fit its section", np);
        return -1;
    }
    p->series_npools = np;
    p->series_pools = calloc(np ? np : 1, sizeof(int32_t));
    if (!p->series_pools)
        goto oom;
    for (uint32_t j = 0; j < np; j++) {
        p->series_pools[j] = i32(&c);
        if (check_pool_ref(r, p->series_pools[j], PROF_SEC_SERIES))
            return -1;
    }
    size_t point_size = PROF_SERIES_POINT_BYTES(np);
    if (s->count > c.left / point_size) {
        prof_say(r->err, r->errlen, "corrupt profile: SERIES count %u does not fit its section",
                 s->count);
        return -1;
    }
    size_t n = s->count;
    p->series_t_ns = calloc(n ? n : 1, sizeof(int64_t));
    p->series_rss = calloc(n ? n : 1, sizeof(int64_t));
    p->series_bytes = calloc(n * np > 0 ? n * np : 1, sizeof(int64_t));
    if (!p->series_t_ns || !p->series_rss || !p->series_bytes)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        p->series_t_ns[i] = i64(&c);
        p->series_rss[i] = i64(&c);
        for (uint32_t j = 0; j < np; j++)
            p->series_bytes[i * np + j] = i64(&c);
        if (i > 0 && p->series_t_ns[i] < p->series_t_ns[i - 1]) {
            prof_say(r->err, r->errlen, "corrupt profile: SERIES time goes backwards at point %zu",
                     i);
            return -1;
        }
    }
    p->npoints = n;
    return prof_finish(r, &c, PROF_SEC_SERIES, 0);
oom:
    prof_say(r->err, r->errlen, "out of memory reading SERIES");
    return -1;
}

/* Version 1: one record per block, no kind. Each becomes a group of one,
 * LIVE, with its address kept as a block. */
static int parse_leaks_v1(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (prof_count_fits(r, s, PROF_SEC_LEAKS, PROF_LEAK_V1_BYTES))
        return -1;
    p->leaks = calloc(s->count ? s->count : 1, sizeof *p->leaks);
    p->blocks = calloc(s->count ? s->count : 1, sizeof *p->blocks);
    if (!p->leaks || !p->blocks) {
        prof_say(r->err, r->errlen, "out of memory reading LEAKS");
        return -1;
    }
    prof_cursor c = prof_cursor_of(s);
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_leak_block *b = &p->blocks[i];
        prof_leak *l = &p->leaks[i];
        b->address = u64(&c);
        b->size = i64(&c);
        b->group = i;
        l->stack_id = u32(&c);
        l->pool_id = i32(&c);
        l->kind = PROF_LEAK_LIVE;
        l->bytes = b->size;
        l->count = 1;
        if (c.overrun)
            break;
        p->nleaks = p->nblocks = i + 1;
        if ((l->stack_id != 0 && check_stack_ref(r, l->stack_id, PROF_SEC_LEAKS)) ||
            check_pool_ref(r, l->pool_id, PROF_SEC_LEAKS))
            return -1;
    }
    return prof_finish(r, &c, PROF_SEC_LEAKS, 0);
}

/* What every group must be: known stack and pool, a known kind, none
 * without the check, bytes and at least one block. */
static int check_leak(prof_reader *r, uint32_t i, const prof_leak *l)
{
    const prof_profile *p = r->p;
    if ((l->stack_id != 0 && check_stack_ref(r, l->stack_id, PROF_SEC_LEAKS)) ||
        check_pool_ref(r, l->pool_id, PROF_SEC_LEAKS))
        return -1;
    if (l->kind > PROF_LEAK_REACHABLE) {
        prof_say(r->err, r->errlen, "corrupt profile: LEAKS group %u has an unknown kind %u", i,
                 l->kind);
        return -1;
    }
    /* Without the check there are no classes: a kind would claim one. */
    if (!p->classified && l->kind != PROF_LEAK_LIVE) {
        prof_say(r->err, r->errlen,
                 "corrupt profile: LEAKS group %u has kind %u, but the profile is not classified",
                 i, l->kind);
        return -1;
    }
    if (l->count < 1 || l->bytes < 0) {
        prof_say(r->err, r->errlen, "corrupt profile: LEAKS group %u has %lld bytes in %lld blocks",
                 i, (long long)l->bytes, (long long)l->count);
        return -1;
    }
    return 0;
}

/* Version 2: 28 bytes a group. */
static int parse_leaks_v2(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    p->leaks = prof_section_array(r, s, PROF_SEC_LEAKS, PROF_LEAK_V2_BYTES, sizeof *p->leaks);
    if (!p->leaks)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_leak *l = &p->leaks[i];
        l->stack_id = u32(&c);
        l->pool_id = i32(&c);
        l->kind = u32(&c);
        l->bytes = i64(&c);
        l->count = i64(&c);
        if (c.overrun)
            break;
        p->nleaks = i + 1;
        if (check_leak(r, i, l))
            return -1;
    }
    return prof_finish(r, &c, PROF_SEC_LEAKS, 0);
}

/* Version 3: varints, the stack id as the step from the group before. */
static int parse_leaks(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (p->version == 1)
        return parse_leaks_v1(r, s);
    if (p->version < PROF_VERSION_TREE)
        return parse_leaks_v2(r, s);
    p->leaks = prof_section_array(r, s, PROF_SEC_LEAKS, PROF_LEAK_MIN_BYTES, sizeof *p->leaks);
    if (!p->leaks)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    uint64_t stack = 0;
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_leak *l = &p->leaks[i];
        stack += (uint64_t)prof_svarint(&c);
        int64_t pool = prof_svarint(&c);
        uint64_t kind = prof_uvarint(&c);
        l->bytes = (int64_t)prof_uvarint(&c);
        l->count = (int64_t)prof_uvarint(&c);
        if (c.overrun)
            break;
        if ((stack > UINT32_MAX && check_stack_ref(r, stack, PROF_SEC_LEAKS)) ||
            check_pool_range(r, pool, PROF_SEC_LEAKS))
            return -1;
        if (kind > PROF_LEAK_REACHABLE) {
            prof_say(r->err, r->errlen, "corrupt profile: LEAKS group %u has an unknown kind %llu",
                     i, (unsigned long long)kind);
            return -1;
        }
        l->stack_id = (uint32_t)stack;
        l->pool_id = (int32_t)pool;
        l->kind = (uint32_t)kind;
        p->nleaks = i + 1;
        if (check_leak(r, i, l))
            return -1;
    }
    return prof_finish(r, &c, PROF_SEC_LEAKS, 0);
}

/* The blocks of the groups: each names one, and together they make up each
 * group's bytes and count exactly. */
static int parse_leak_blocks(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (prof_count_fits(r, s, PROF_SEC_LEAK_BLOCKS, PROF_LEAK_BLOCK_BYTES))
        return -1;
    p->blocks = calloc(s->count ? s->count : 1, sizeof *p->blocks);
    /* per group: bytes, then blocks, unsigned so that no sum overflows */
    uint64_t *sums = calloc(p->nleaks ? 2 * p->nleaks : 1, sizeof *sums);
    if (!p->blocks || !sums) {
        free(sums);
        prof_say(r->err, r->errlen, "out of memory reading LEAK_BLOCKS");
        return -1;
    }
    prof_cursor c = prof_cursor_of(s);
    int rc = 0;
    for (uint32_t i = 0; i < s->count && !c.overrun; i++) {
        prof_leak_block *b = &p->blocks[i];
        b->address = u64(&c);
        b->size = i64(&c);
        b->group = u32(&c);
        if (c.overrun)
            break;
        p->nblocks = i + 1;
        if (b->group >= p->nleaks) {
            prof_say(r->err, r->errlen,
                     "corrupt profile: LEAK_BLOCKS refers to group %u, which is not in the file",
                     b->group);
            rc = -1;
            break;
        }
        sums[2 * b->group] += (uint64_t)b->size;
        sums[2 * b->group + 1]++;
    }
    if (rc == 0)
        rc = prof_finish(r, &c, PROF_SEC_LEAK_BLOCKS, 0);
    for (size_t g = 0; rc == 0 && g < p->nleaks; g++)
        if (sums[2 * g] != (uint64_t)p->leaks[g].bytes ||
            sums[2 * g + 1] != (uint64_t)p->leaks[g].count) {
            prof_say(r->err, r->errlen,
                     "corrupt profile: LEAK_BLOCKS do not add up to LEAKS group %zu", g);
            rc = -1;
        }
    free(sums);
    return rc;
}

/* Pass one: finds the sections and checks the frame of the file. */
static int walk(const uint8_t *d, size_t len, unsigned flags, uint32_t last_known,
                prof_section *secs, char *err, size_t errlen)
{
    enum { HDR = PROF_SECTION_HEADER_BYTES };
    /* A whole file ends with its end section. Check the checksum before the
     * structure, so that a flipped byte anywhere (a length field included)
     * is called corruption rather than whatever the damaged field implies. */
    if (!(flags & PROF_PARSE_NO_CHECKSUM) && len >= PROF_HEADER_BYTES + PROF_END_BYTES) {
        const uint8_t *end = d + len - PROF_END_BYTES;
        if ((uint32_t)le(end, 4) == PROF_SEC_END && le(end + PROF_SECTION_COUNT_AT, 4) == 0 &&
            le(end + PROF_SECTION_LENGTH_AT, 8) == PROF_END_LENGTH &&
            prof_checksum(d, len - PROF_END_BYTES) != le(end + HDR, 8)) {
            prof_say(err, errlen, "corrupt profile: checksum mismatch");
            return -1;
        }
    }
    size_t off = PROF_HEADER_BYTES;
    for (;;) {
        if (len - off < HDR) {
            prof_say(err, errlen, "truncated profile");
            return -1;
        }
        uint32_t tag = (uint32_t)le(d + off, 4);
        uint32_t count = (uint32_t)le(d + off + PROF_SECTION_COUNT_AT, 4);
        uint64_t length = le(d + off + PROF_SECTION_LENGTH_AT, 8);
        if (tag == PROF_SEC_END) {
            if (length > len - off - HDR) {
                prof_say(err, errlen, "truncated profile");
                return -1;
            }
            if (count != 0 || length != PROF_END_LENGTH) {
                prof_say(err, errlen, "corrupt profile: malformed end section");
                return -1;
            }
            uint64_t want = le(d + off + HDR, 8);
            if (!(flags & PROF_PARSE_NO_CHECKSUM) && prof_checksum(d, off) != want) {
                prof_say(err, errlen, "corrupt profile: checksum mismatch");
                return -1;
            }
            if (off + PROF_END_BYTES != len) {
                prof_say(err, errlen, "corrupt profile: %zu bytes after the end section",
                         len - off - PROF_END_BYTES);
                return -1;
            }
            return 0;
        }
        if (length > len - off - HDR) {
            prof_say(err, errlen, "truncated profile");
            return -1;
        }
        if (tag >= PROF_SEC_META && tag <= last_known) {
            if (secs[tag].present) {
                prof_say(err, errlen, "corrupt profile: duplicate %s section",
                         prof_section_name[tag]);
                return -1;
            }
            secs[tag] = (prof_section){1, count, d + off + HDR, (size_t)length};
        }
        off += HDR + (size_t)length;
    }
}

int prof_parse(const void *data, size_t len, unsigned flags, prof_profile **out, char *err,
               size_t errlen)
{
    const uint8_t *d = data;
    *out = NULL;
    if (len < PROF_HEADER_BYTES || memcmp(d, PROF_MAGIC, PROF_MAGIC_BYTES) != 0) {
        prof_say(err, errlen, "not a tally profile");
        return -1;
    }
    uint32_t version = (uint32_t)le(d + PROF_HEADER_VERSION_AT, 4);
    if (version < PROF_VERSION_OLDEST || version > PROF_VERSION) {
        prof_say(err, errlen, "unsupported profile version %u (this tally reads versions %d to %d)",
                 version, PROF_VERSION_OLDEST, PROF_VERSION);
        return -1;
    }
    prof_section secs[PROF_SEC_KNOWN_LAST + 1] = {{0}};
    /* Sections a version does not define are unknown to it, and skipped. */
    uint32_t last_known = version == 1                  ? PROF_SEC_LEAKS
                          : version < PROF_VERSION_TREE ? PROF_SEC_LEAK_BLOCKS
                                                        : PROF_SEC_KNOWN_LAST;
    if (walk(d, len, flags, last_known, secs, err, errlen))
        return -1;

    prof_reader r = {calloc(1, sizeof(prof_profile)), err, errlen, NULL};
    if (!r.p) {
        prof_say(err, errlen, "out of memory");
        return -1;
    }
    r.p->version = version;
    r.p->flags = (uint32_t)le(d + PROF_HEADER_FLAGS_AT, 4);
    r.p->classified = version >= 2 && (r.p->flags & PROF_FLAG_CLASSIFIED);
    /* Pools and stacks first: the other sections refer to them; the frames
     * before the nodes that name them, the nodes before the stacks; the
     * leaks' groups before their blocks. */
    static const int order[] = {PROF_SEC_POOLS,       PROF_SEC_FRAMES, PROF_SEC_NODES,
                                PROF_SEC_STACKS,      PROF_SEC_META,   PROF_SEC_MODULES,
                                PROF_SEC_RECORDS,     PROF_SEC_SERIES, PROF_SEC_LEAKS,
                                PROF_SEC_LEAK_BLOCKS, PROF_SEC_NAMES};
    static int (*const parse[])(prof_reader *, const prof_section *) = {
        [PROF_SEC_META] = parse_meta,          [PROF_SEC_MODULES] = parse_modules,
        [PROF_SEC_STACKS] = prof_parse_stacks, [PROF_SEC_POOLS] = parse_pools,
        [PROF_SEC_RECORDS] = parse_records,    [PROF_SEC_SERIES] = parse_series,
        [PROF_SEC_LEAKS] = parse_leaks,        [PROF_SEC_LEAK_BLOCKS] = parse_leak_blocks,
        [PROF_SEC_FRAMES] = prof_parse_frames, [PROF_SEC_NODES] = prof_parse_nodes,
        [PROF_SEC_NAMES] = prof_parse_names,
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && rc == 0; i++) {
        const prof_section *s = &secs[order[i]];
        if (!s->present)
            continue;
        if (order[i] == PROF_SEC_STACKS && version < PROF_VERSION_TREE)
            rc = prof_parse_stacks_v2(&r, s);
        else
            rc = parse[order[i]](&r, s);
    }
    if (rc == 0)
        rc = prof_stacks_ensure_root(&r);
    free(r.pool_ids_sorted);
    if (rc) {
        prof_free(r.p);
        return -1;
    }
    *out = r.p;
    return 0;
}

int prof_read(const char *path, prof_profile **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        prof_say(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        prof_say(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        prof_say(err, errlen, "out of memory (file of %zu bytes)", len);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    int saved = errno;
    close(fd);
    if (got < len) {
        prof_say(err, errlen, "cannot read: %s",
                 got == 0 && saved ? strerror(saved) : "short read");
        free(buf);
        return -1;
    }
    int rc = prof_parse(buf, len, 0, out, err, errlen);
    free(buf);
    return rc;
}

void prof_free(prof_profile *p)
{
    if (!p)
        return;
    free(p->exe);
    free(p->cmdline);
    for (size_t i = 0; i < p->nmodules; i++) {
        free(p->modules[i].path);
        free(p->modules[i].build_id);
    }
    free(p->modules);
    free(p->addrs);
    free(p->nodes);
    free(p->stacks);
    for (size_t i = 0; i < p->npools; i++)
        free(p->pools[i].name);
    free(p->pools);
    free(p->records);
    free(p->leaks);
    free(p->blocks);
    free(p->names);
    free(p->name_at);
    free(p->name_text);
    free(p->series_pools);
    free(p->series_t_ns);
    free(p->series_rss);
    free(p->series_bytes);
    free(p);
}
