/* reader.c: tally_ipc_reader over bytes in memory (a buffer or a mapping).
 *
 * A stream is read message by message from the front; a file is known by
 * its magic at both ends and read through its footer. Batches are slices
 * of the bytes: nothing is copied, unless a body does not lie on 8 bytes in
 * memory (a caller's buffer may not), which is then copied to the pool. */
#include "ipc/reader_internal.h"

#include <errno.h>
#include <string.h>

static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

int ipc_reader_new(tally_pool *pool, tally_ipc_reader **out, tally_error *error)
{
    pool = pool ? pool : tally_default_pool();
    tally_ipc_reader *r;
    int rc = tally_pool_allocate(pool, sizeof *r, (uint8_t **)&r);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused the reader");
    memset(r, 0, sizeof *r);
    r->pool = pool;
    r->fd = -1;
    *out = r;
    return 0;
}

/* The message framed at pos in the bytes: its metadata checked, its body a
 * slice. *end set at the end-of-stream marker (or the bytes' end). limit
 * bounds the message (a file's footer starts there). */
static int message_at(tally_ipc_reader *r, int64_t pos, int64_t limit, ipc_message *m,
                      tally_buffer **body, int64_t *next, bool *end, tally_error *error)
{
    const uint8_t *d = tally_buffer_data(r->data);
    *end = false;
    *body = NULL;
    if (pos == limit) { /* a stream may end without its marker */
        *end = true;
        return 0;
    }
    if (pos > limit || limit - pos < 4)
        return ipc_fail(error, EINVAL, "IPC read: truncated at byte %lld", (long long)pos);
    int64_t prefix = 4;
    uint32_t len = load_u32(d + pos);
    if (len == IPC_CONTINUATION) {
        if (limit - pos < 8)
            return ipc_fail(error, EINVAL, "IPC read: truncated at byte %lld", (long long)pos);
        len = load_u32(d + pos + 4);
        prefix = 8;
    }
    if (len == 0) {
        *end = true;
        return 0;
    }
    int64_t meta = pos + prefix;
    if (len > INT32_MAX || len > limit - meta)
        return ipc_fail(error, EINVAL,
                        "IPC read: metadata of %u bytes at byte %lld runs past the end", len,
                        (long long)pos);
    int rc = ipc_open_message(m, d + meta, len, error);
    if (rc != 0)
        return rc;
    int64_t body_start = meta + len;
    if (m->body_length > limit - body_start)
        return ipc_fail(error, EINVAL,
                        "IPC read: a body of %lld bytes at byte %lld runs past the end",
                        (long long)m->body_length, (long long)body_start);
    if ((uintptr_t)(d + body_start) % 8 == 0)
        rc = tally_buffer_slice(r->data, body_start, m->body_length, body);
    else /* buffers are read as their types: they must lie on 8 bytes */
        rc = tally_buffer_copy_from(r->pool, d + body_start, m->body_length, body);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused a body");
    *next = body_start + m->body_length;
    return 0;
}

/* Decodes a message known to be a record batch (or refuses what is not). */
static int decode_batch_message(tally_ipc_reader *r, const ipc_message *m, tally_buffer *body,
                                tally_record_batch **out, tally_error *error)
{
    switch (m->header_type) {
    case IPC_HEADER_RECORD_BATCH:
        return ipc_decode_batch(r->pool, r->schema, &m->header, body, out, error);
    case IPC_HEADER_DICTIONARY:
        return ipc_fail(error, ENOTSUP, "IPC read: dictionary batches are not supported");
    case IPC_HEADER_SCHEMA:
        return ipc_fail(error, EINVAL, "IPC read: a second schema in the stream");
    default:
        return ipc_fail(error, EINVAL, "IPC read: a message of kind %d", m->header_type);
    }
}

static int open_stream(tally_ipc_reader *r, tally_error *error)
{
    ipc_message m;
    tally_buffer *body;
    bool end;
    int64_t size = tally_buffer_size(r->data);
    int rc = message_at(r, 0, size, &m, &body, &r->pos, &end, error);
    if (rc != 0)
        return rc;
    tally_buffer_release(body);
    if (end || m.header_type != IPC_HEADER_SCHEMA)
        return ipc_fail(error, EINVAL, "IPC read: the stream does not start with a schema");
    r->limit = size;
    return ipc_decode_schema(r->pool, &m.header, &r->schema, error);
}

static int open_file(tally_ipc_reader *r, tally_error *error)
{
    const uint8_t *d = tally_buffer_data(r->data);
    int64_t size = tally_buffer_size(r->data);
    /* magic, 2 bytes of padding, footer length, magic: 18 bytes at least */
    if (size < 18 || memcmp(d + size - IPC_MAGIC_LEN, IPC_MAGIC, IPC_MAGIC_LEN) != 0)
        return ipc_fail(error, EINVAL, "IPC read: the file does not end with ARROW1");
    int32_t footer_len = (int32_t)load_u32(d + size - 10);
    int64_t footer = size - 10 - (int64_t)footer_len;
    if (footer_len <= 0 || footer < 8)
        return ipc_fail(error, EINVAL, "IPC read: a footer of %d bytes does not fit the file",
                        footer_len);
    ipc_fb_buf fb;
    ipc_fb_table t, schema;
    bool present;
    if (ipc_fb_root(&fb, d + footer, (size_t)footer_len, footer_len / 4 + 16, &t) != 0 ||
        ipc_fb_table_field(&t, FOOTER_SCHEMA, &schema, &present) != 0 ||
        ipc_fb_vector_field(&t, FOOTER_BATCHES, IPC_BLOCK_SIZE, &r->blocks) != 0)
        return ipc_fail(error, EINVAL, "IPC read: a corrupt footer");
    if (!present)
        return ipc_fail(error, EINVAL, "IPC read: a footer without a schema");
    /* The footer's views stay valid: the bytes live as long as the reader. */
    r->footer = fb;
    r->blocks.buf = &r->footer;
    r->limit = footer;
    r->format = TALLY_IPC_FILE;
    return ipc_decode_schema(r->pool, &schema, &r->schema, error);
}

int ipc_reader_open_bytes(tally_ipc_reader *r, tally_error *error)
{
    const uint8_t *d = tally_buffer_data(r->data);
    int64_t size = tally_buffer_size(r->data);
    if (size >= 8 && memcmp(d, IPC_MAGIC, IPC_MAGIC_LEN) == 0)
        return open_file(r, error);
    return open_stream(r, error);
}

int tally_ipc_reader_open_buffer(tally_pool *pool, tally_buffer *data, tally_error *error,
                                 tally_ipc_reader **out)
{
    if (!data || !out)
        return ipc_fail(error, EINVAL, "IPC read: a buffer and out are required");
    tally_ipc_reader *r;
    int rc = ipc_reader_new(pool, &r, error);
    if (rc != 0)
        return rc;
    r->data = tally_buffer_retain(data);
    if ((rc = ipc_reader_open_bytes(r, error)) != 0) {
        tally_ipc_reader_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

int tally_ipc_reader_batch(tally_ipc_reader *r, int64_t i, tally_record_batch **out,
                           tally_error *error)
{
    if (!r || !out || r->format != TALLY_IPC_FILE || i < 0 || i >= r->blocks.count)
        return ipc_fail(error, EINVAL, "IPC read: no batch %lld", (long long)i);
    const uint8_t *at = ipc_fb_vector_at(&r->blocks, (uint32_t)i, IPC_BLOCK_SIZE);
    int64_t offset = ipc_fb_load_i64(at), meta_len = ipc_fb_load_i32(at + 8),
            body_len = ipc_fb_load_i64(at + 16);
    if (offset < 8 || offset > r->limit || meta_len < 8 || body_len < 0 ||
        meta_len > r->limit - offset || body_len > r->limit - offset - meta_len)
        return ipc_fail(error, EINVAL, "IPC read: batch %lld's block lies outside the file",
                        (long long)i);
    ipc_message m;
    tally_buffer *body;
    int64_t next;
    bool end;
    int rc = message_at(r, offset, offset + meta_len + body_len, &m, &body, &next, &end, error);
    if (rc != 0)
        return rc;
    if (end)
        return ipc_fail(error, EINVAL, "IPC read: batch %lld's block is an end marker",
                        (long long)i);
    rc = decode_batch_message(r, &m, body, out, error);
    tally_buffer_release(body);
    return rc;
}

int tally_ipc_reader_next(tally_ipc_reader *r, tally_record_batch **out, tally_error *error)
{
    if (!r || !out)
        return ipc_fail(error, EINVAL, "IPC read: a reader and out are required");
    *out = NULL;
    if (r->format == TALLY_IPC_FILE) {
        if (r->next_batch >= r->blocks.count)
            return 0;
        int rc = tally_ipc_reader_batch(r, r->next_batch, out, error);
        if (rc == 0)
            r->next_batch++;
        return rc;
    }
    if (r->fd >= 0)
        return ipc_fd_next(r, out, error);
    if (r->done)
        return 0;
    ipc_message m;
    tally_buffer *body;
    bool end;
    int64_t next;
    int rc = message_at(r, r->pos, r->limit, &m, &body, &next, &end, error);
    if (rc != 0)
        return rc;
    if (end) {
        r->done = true;
        return 0;
    }
    rc = decode_batch_message(r, &m, body, out, error);
    tally_buffer_release(body);
    if (rc == 0)
        r->pos = next;
    return rc;
}

tally_schema *tally_ipc_reader_schema(const tally_ipc_reader *r)
{
    return r ? r->schema : NULL;
}

tally_ipc_format tally_ipc_reader_format(const tally_ipc_reader *r)
{
    return r ? r->format : TALLY_IPC_STREAM;
}

int64_t tally_ipc_reader_n_batches(const tally_ipc_reader *r)
{
    return r && r->format == TALLY_IPC_FILE ? (int64_t)r->blocks.count : -1;
}

void tally_ipc_reader_destroy(tally_ipc_reader *r)
{
    if (!r)
        return;
    tally_schema_release(r->schema);
    tally_buffer_release(r->data);
    ipc_fd_free(r);
    tally_pool_free(r->pool, (uint8_t *)r, sizeof *r);
}
