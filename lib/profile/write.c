/* write.c: the profile encoder (see write.h), to docs/FORMAT.md byte for byte.
 *
 * No malloc and no stdio streams or formatting: memory comes from mmap, the
 * file is written with open/write/rename, and the temporary name is spelled
 * by hand. */
#include <config.h> /* _GNU_SOURCE: mremap */

#include "profile/write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <unistd.h>

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A str: at most the format's limit, cut there if longer. */
static void put_str(base_buf *b, const void *s, size_t n)
{
    if (n > PROF_MAX_STRING)
        n = PROF_MAX_STRING;
    base_buf_u32(b, (uint32_t)n);
    base_buf_put(b, s, n);
}

void prof_put_uvarint(base_buf *b, uint64_t v)
{
    uint8_t tmp[PROF_VARINT_MAX_BYTES];
    size_t n = 0;
    while (v > 0x7f) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    base_buf_put(b, tmp, n);
}

void prof_put_svarint(base_buf *b, int64_t v)
{
    prof_put_uvarint(b, prof_zigzag(v));
}

/* A stack id as the step from the section's last one. */
static void put_stack_step(prof_writer *w, uint32_t id)
{
    prof_put_svarint(&w->buf, (int64_t)id - (int64_t)w->last_stack);
    w->last_stack = id;
}

/* ---- header and sections ----------------------------------------------------- */
void prof_write_begin(prof_writer *w, uint32_t flags)
{
    base_buf_put(&w->buf, PROF_MAGIC, PROF_MAGIC_BYTES);
    base_buf_u32(&w->buf, PROF_VERSION);
    base_buf_u32(&w->buf, flags);
}

void prof_section_begin(prof_writer *w, uint32_t tag)
{
    w->section = w->buf.len;
    w->count = 0;
    w->open = true;
    w->last_stack = 0;
    base_buf_u32(&w->buf, tag);
    base_buf_u32(&w->buf, 0);
    base_buf_u64(&w->buf, 0);
}

void prof_section_end(prof_writer *w)
{
    if (!w->open)
        return;
    w->open = false;
    if (w->buf.failed)
        return;
    uint8_t *h = w->buf.data + w->section;
    put_le(h + PROF_SECTION_COUNT_AT, w->count, 4);
    put_le(h + PROF_SECTION_LENGTH_AT, w->buf.len - w->section - PROF_SECTION_HEADER_BYTES, 8);
}

void prof_write_section(prof_writer *w, uint32_t tag, uint32_t count, const void *payload,
                        size_t len)
{
    prof_section_begin(w, tag);
    prof_write_raw(w, payload, len, count);
    prof_section_end(w);
}

void prof_write_raw(prof_writer *w, const void *p, size_t n, uint32_t records)
{
    base_buf_put(&w->buf, p, n);
    w->count += records;
}

/* ---- records --------------------------------------------------------------------- */
void prof_write_meta(prof_writer *w, const prof_meta *m)
{
    base_buf *b = &w->buf;
    prof_section_begin(w, PROF_SEC_META);
    base_buf_u32(b, m->pid);
    base_buf_u32(b, m->reason);
    base_buf_u64(b, (uint64_t)m->start_ns);
    base_buf_u64(b, (uint64_t)m->duration_ns);
    base_buf_u64(b, (uint64_t)m->sample_bytes);
    base_buf_u32(b, m->depth);
    base_buf_u32(b, m->threads);
    base_buf_u64(b, (uint64_t)m->exactness_bytes);
    base_buf_u64(b, (uint64_t)m->peak_bytes);
    base_buf_u64(b, (uint64_t)m->peak_ns);
    base_buf_u64(b, (uint64_t)m->max_rss_bytes);
    put_str(b, m->exe, strlen(m->exe));
    put_str(b, m->cmdline, strlen(m->cmdline));
    w->count = 1;
    prof_section_end(w);
}

void prof_write_module(prof_writer *w, uint64_t start, uint64_t end, uint64_t base,
                       const char *path, const void *build_id, uint32_t build_id_len)
{
    base_buf *b = &w->buf;
    base_buf_u64(b, start);
    base_buf_u64(b, end);
    base_buf_u64(b, base);
    put_str(b, path, strlen(path));
    put_str(b, build_id, build_id_len);
    w->count++;
}

void prof_write_pool(prof_writer *w, const prof_pool_stats *p)
{
    base_buf *b = &w->buf;
    uint32_t nbuckets = p->nbuckets > PROF_MAX_BUCKETS ? PROF_MAX_BUCKETS : p->nbuckets;
    base_buf_u32(b, (uint32_t)p->id);
    put_str(b, p->name, strlen(p->name));
    base_buf_u64(b, (uint64_t)p->current);
    base_buf_u64(b, (uint64_t)p->peak);
    base_buf_u64(b, (uint64_t)p->total_bytes);
    base_buf_u64(b, (uint64_t)p->total_count);
    base_buf_u64(b, (uint64_t)p->temporary_count);
    base_buf_u64(b, (uint64_t)p->live_count);
    base_buf_u32(b, nbuckets);
    for (uint32_t k = 0; k < nbuckets; k++)
        base_buf_u64(b, (uint64_t)p->histogram[k]);
    w->count++;
}

void prof_write_record(prof_writer *w, const prof_record *r)
{
    base_buf *b = &w->buf;
    put_stack_step(w, r->stack_id);
    prof_put_svarint(b, r->pool_id);
    prof_put_svarint(b, r->live_bytes);
    prof_put_svarint(b, r->live_count);
    prof_put_svarint(b, r->total_bytes);
    prof_put_svarint(b, r->total_count);
    prof_put_svarint(b, r->temporary_count);
    prof_put_svarint(b, r->peak_bytes);
    prof_put_svarint(b, r->pool_peak_bytes);
    w->count++;
}

void prof_write_series_pools(prof_writer *w, const int32_t *ids, uint32_t n)
{
    base_buf_u32(&w->buf, n);
    for (uint32_t j = 0; j < n; j++)
        base_buf_u32(&w->buf, (uint32_t)ids[j]);
}

void prof_write_series_point(prof_writer *w, int64_t t_ns, int64_t rss_bytes, const int64_t *bytes,
                             uint32_t n)
{
    base_buf_u64(&w->buf, (uint64_t)t_ns);
    base_buf_u64(&w->buf, (uint64_t)rss_bytes);
    for (uint32_t j = 0; j < n; j++)
        base_buf_u64(&w->buf, (uint64_t)bytes[j]);
    w->count++;
}

void prof_write_leak(prof_writer *w, const prof_leak *l)
{
    base_buf *b = &w->buf;
    put_stack_step(w, l->stack_id);
    prof_put_svarint(b, l->pool_id);
    prof_put_uvarint(b, l->kind);
    prof_put_uvarint(b, (uint64_t)l->bytes);
    prof_put_uvarint(b, (uint64_t)l->count);
    w->count++;
}

void prof_write_leak_block(prof_writer *w, const prof_leak_block *l)
{
    base_buf *b = &w->buf;
    base_buf_u64(b, l->address);
    base_buf_u64(b, (uint64_t)l->size);
    base_buf_u32(b, l->group);
    w->count++;
}

void prof_write_name_strings(prof_writer *w, const char *const *strings, uint32_t n)
{
    base_buf *b = &w->buf;
    prof_put_uvarint(b, n);
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]);
        if (len > PROF_MAX_STRING)
            len = PROF_MAX_STRING;
        prof_put_uvarint(b, len);
        base_buf_put(b, strings[i], len);
    }
}

void prof_write_named_frame(prof_writer *w, uint32_t frame, const prof_name_ref *src, uint32_t n)
{
    base_buf *b = &w->buf;
    if (n > PROF_MAX_INLINED)
        n = PROF_MAX_INLINED; /* the outermost beyond the limit are dropped */
    prof_put_uvarint(b, frame);
    prof_put_uvarint(b, n);
    for (uint32_t k = 0; k < n; k++) {
        prof_put_uvarint(b, src[k].function);
        prof_put_uvarint(b, src[k].system_name);
        prof_put_uvarint(b, src[k].file);
        prof_put_uvarint(b, src[k].line);
        prof_put_uvarint(b, src[k].flags);
    }
    w->count++;
}

/* ---- the end and the file ------------------------------------------------------------ */
int prof_write_end(prof_writer *w)
{
    prof_section_end(w);
    uint64_t sum = w->buf.failed ? 0 : prof_checksum(w->buf.data, w->buf.len);
    base_buf_u32(&w->buf, PROF_SEC_END);
    base_buf_u32(&w->buf, 0);
    base_buf_u64(&w->buf, PROF_END_LENGTH);
    base_buf_u64(&w->buf, sum);
    return w->buf.failed ? ENOMEM : 0;
}

/* path.tmp.<pid> into out[cap]: 0, or ENAMETOOLONG. */
static int temp_name(const char *path, char *out, size_t cap)
{
    static const char tail[] = ".tmp.";
    char digits[16];
    int nd = 0;
    unsigned long pid = (unsigned long)getpid();
    do {
        digits[nd++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid && nd < (int)sizeof digits);
    size_t n = strlen(path);
    if (n + sizeof tail - 1 + (size_t)nd + 1 > cap)
        return ENAMETOOLONG;
    memcpy(out, path, n);
    memcpy(out + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    while (nd > 0)
        out[n++] = digits[--nd];
    out[n] = '\0';
    return 0;
}

int prof_write_file(const prof_writer *w, const char *path)
{
    if (w->buf.failed)
        return ENOMEM;
    char tmp[PATH_MAX];
    int rc = temp_name(path, tmp, sizeof tmp);
    if (rc)
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    const uint8_t *data = w->buf.data;
    size_t len = w->buf.len, done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            return rc;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        rc = errno;
        unlink(tmp);
        return rc;
    }
    return 0;
}

void prof_writer_free(prof_writer *w)
{
    base_buf_free(&w->buf);
    memset(w, 0, sizeof *w);
}
