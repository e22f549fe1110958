/* profile_write.c: a snapshot to a file, exactly as docs/FORMAT.md says.
 *
 * The file is built in an mmap'd buffer, written to <path>.tmp.<pid> and
 * renamed, so no reader ever sees half a profile. A failed write (full disk,
 * read-only directory) prints one warning, once per process, and returns its
 * errno: it never disturbs the program. */
#include "track/dump.h"

#include "track/ledger.h"
#include "track/modules.h"
#include "track/series.h"
#include "track/stack_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A string as the format has it: a u32 length, then the bytes (at most
 * 65536 of them). */
static void put_str(base_buf *b, const char *s, size_t n)
{
    if (n > 65536)
        n = 65536;
    base_buf_u32(b, (uint32_t)n);
    base_buf_put(b, s, n);
}

enum { SEC_META = 1, SEC_MODULES, SEC_STACKS, SEC_POOLS, SEC_RECORDS, SEC_SERIES, SEC_LEAKS };

static size_t section_begin(base_buf *b, uint32_t tag)
{
    size_t at = b->len;
    base_buf_u32(b, tag);
    base_buf_u32(b, 0);
    base_buf_u64(b, 0);
    return at;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void section_end(base_buf *b, size_t at, uint32_t count)
{
    if (b->failed)
        return;
    put_le(b->data + at + 4, count, 4);
    put_le(b->data + at + 8, b->len - at - 16, 8);
}

static void append_file(base_buf *b, const char *path, bool nul_to_space)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        base_buf_u32(b, 0);
        return;
    }
    char buf[4096];
    size_t at = b->len, n = 0;
    base_buf_u32(b, 0);
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0 && n < 65536) {
        if (n + (size_t)r > 65536)
            r = (ssize_t)(65536 - n);
        if (nul_to_space)
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] == '\0')
                    buf[i] = ' ';
        base_buf_put(b, buf, (size_t)r);
        n += (size_t)r;
    }
    close(fd);
    if (nul_to_space && n > 0 && !b->failed && b->data[b->len - 1] == ' ') {
        b->len--; /* the terminating NUL of the last argument */
        n--;
    }
    if (!b->failed)
        put_le(b->data + at, n, 4);
}

static void write_meta(base_buf *b, const tt_snapshot *s, int reason)
{
    size_t at = section_begin(b, SEC_META);
    struct rusage ru;
    int64_t max_rss = getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss * 1024 : 0;
    base_buf_u32(b, (uint32_t)getpid());
    base_buf_u32(b, (uint32_t)reason);
    base_buf_u64(b, (uint64_t)tt_cfg.start_realtime_ns);
    base_buf_u64(b, (uint64_t)s->now_ns);
    base_buf_u64(b, (uint64_t)tt_cfg.sample_bytes);
    base_buf_u32(b, (uint32_t)tt_cfg.depth);
    base_buf_u32(b, s->threads);
    base_buf_u64(b, s->threads > 1 ? (uint64_t)s->threads * TT_BATCH_BYTES : 0);
    base_buf_u64(b, (uint64_t)s->peak_bytes);
    base_buf_u64(b, (uint64_t)s->peak_ns);
    base_buf_u64(b, (uint64_t)max_rss);
    const char *exe = tt_exe_path();
    put_str(b, exe, strlen(exe));
    append_file(b, "/proc/self/cmdline", true);
    section_end(b, at, 1);
}

static void write_stacks(base_buf *b)
{
    size_t at = section_begin(b, SEC_STACKS);
    uint32_t max = tt_stack_max_id(), n = 0;
    for (uint32_t id = 1; id < max; id++) {
        const tt_stack *st = tt_stack_get(id);
        if (!st)
            continue;
        base_buf_u32(b, id);
        base_buf_u32(b, st->nframes);
        for (uint32_t i = 0; i < st->nframes; i++)
            base_buf_u64(b, st->frames[i]);
        n++;
    }
    section_end(b, at, n);
}

static void write_pools(base_buf *b, const tt_snapshot *s)
{
    size_t at = section_begin(b, SEC_POOLS);
    for (size_t i = 0; i < s->npools; i++) {
        const tt_snap_pool *p = &s->pools[i];
        base_buf_u32(b, (uint32_t)p->id);
        put_str(b, p->name, strlen(p->name));
        base_buf_u64(b, (uint64_t)p->current);
        base_buf_u64(b, (uint64_t)p->peak);
        base_buf_u64(b, (uint64_t)p->total_bytes);
        base_buf_u64(b, (uint64_t)p->total_count);
        base_buf_u64(b, (uint64_t)p->temp);
        base_buf_u64(b, (uint64_t)p->live_count);
        base_buf_u32(b, TT_NBUCKETS);
        for (int k = 0; k < TT_NBUCKETS; k++)
            base_buf_u64(b, (uint64_t)p->hist[k]);
    }
    section_end(b, at, (uint32_t)s->npools);
}

static void write_records(base_buf *b, const tt_snapshot *s, uint32_t max_stack)
{
    size_t at = section_begin(b, SEC_RECORDS);
    uint32_t n = 0;
    for (size_t i = 0; i < s->nrecs; i++) {
        const tt_snap_rec *r = &s->recs[i];
        if (r->stack >= max_stack || !tt_snapshot_pool(s, r->pool))
            continue;
        base_buf_u32(b, r->stack);
        base_buf_u32(b, (uint32_t)r->pool);
        base_buf_u64(b, (uint64_t)r->live_bytes);
        base_buf_u64(b, (uint64_t)r->live_count);
        base_buf_u64(b, (uint64_t)r->total_bytes);
        base_buf_u64(b, (uint64_t)r->total_count);
        base_buf_u64(b, (uint64_t)r->temp);
        base_buf_u64(b, (uint64_t)r->peak_bytes);
        base_buf_u64(b, (uint64_t)r->pool_peak_bytes);
        n++;
    }
    section_end(b, at, n);
}

static void write_leaks(base_buf *b, const tt_snapshot *s, uint32_t max_stack)
{
    size_t at = section_begin(b, SEC_LEAKS);
    uint32_t n = 0;
    for (size_t i = 0; i < s->nleaks; i++) {
        const tt_snap_leak *l = &s->leaks[i];
        /* A block booked while the snapshot was taken may name a pool or
         * stack the snapshot does not hold yet: the next profile has it. */
        if (l->stack >= max_stack || !tt_snapshot_pool(s, l->pool))
            continue;
        base_buf_u64(b, l->address);
        base_buf_u64(b, (uint64_t)l->size);
        base_buf_u32(b, l->stack);
        base_buf_u32(b, (uint32_t)l->pool);
        n++;
    }
    section_end(b, at, n);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = w < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            return rc;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int rc = errno;
        unlink(tmp);
        return rc;
    }
    return 0;
}

int tt_profile_write(const tt_snapshot *s, const char *path, int reason)
{
    base_buf b = {0};
    base_buf_put(&b, "TALLYPRF", 8);
    base_buf_u32(&b, 1);
    base_buf_u32(&b, tt_cfg.sample_bytes > 0 ? 1 : 0);
    write_meta(&b, s, reason);

    uint32_t count;
    size_t at = section_begin(&b, SEC_MODULES);
    tt_modules_payload(&b, &count);
    section_end(&b, at, count);

    uint32_t max_stack = tt_stack_max_id();
    write_stacks(&b);
    write_pools(&b, s);
    write_records(&b, s, max_stack);

    at = section_begin(&b, SEC_SERIES);
    tt_series_payload(&b, &count);
    section_end(&b, at, count);

    write_leaks(&b, s, max_stack);

    uint64_t sum = b.failed ? 0 : fnv1a(b.data, b.len);
    base_buf_u32(&b, 0xFFFFFFFFu);
    base_buf_u32(&b, 0);
    base_buf_u64(&b, 8);
    base_buf_u64(&b, sum);
    int rc = b.failed ? ENOMEM : write_file(path, b.data, b.len);
    base_buf_free(&b);
    return rc;
}

/* %p: the pid, %e: the executable's name, %%: a percent sign. */
void tt_expand_output(const char *pattern, char *out, size_t cap)
{
    size_t n = 0;
    const char *exe = tt_exe_path();
    const char *slash = strrchr(exe, '/');
    const char *name = slash ? slash + 1 : exe;
    if (!*name)
        name = "prog";
    for (const char *p = pattern; *p && n + 1 < cap; p++) {
        char piece[32];
        const char *add = NULL;
        if (p[0] == '%' && p[1] == 'p') {
            snprintf(piece, sizeof piece, "%d", (int)getpid());
            add = piece;
            p++;
        } else if (p[0] == '%' && p[1] == 'e') {
            add = name;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            add = "%";
            p++;
        }
        if (add) {
            size_t k = strlen(add);
            if (k > cap - 1 - n)
                k = cap - 1 - n;
            memcpy(out + n, add, k);
            n += k;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}
