/* fd_reader.c: IPC read from a descriptor with read(2).
 *
 * A stream is read a message at a time: its metadata into scratch from the
 * pool, freed once decoded; its body into one buffer of the pool, which the
 * batch's arrays then share. A file (its first bytes are the magic) is read
 * whole into one buffer and then read as bytes in memory. */
#include "ipc/reader_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Metadata is small (a schema of many fields is a few MiB); a body is read
 * in steps that double from BODY_STEP, so a hostile length costs memory only
 * as fast as bytes arrive, and a short stream is EINVAL, not ENOMEM. */
#define MAX_METADATA (64 << 20)
#define BODY_STEP ((int64_t)64 << 20)

/* Reads exactly n bytes (the ones peeked at first); *got says how many
 * came before end of file. */
static int read_full(tally_ipc_reader *r, void *buf, int64_t n, int64_t *got)
{
    int fd = r->fd;
    *got = 0;
    while (*got < n && r->peek_pos < r->peek_len)
        ((uint8_t *)buf)[(*got)++] = r->peek[r->peek_pos++];
    while (*got < n) {
        ssize_t k = read(fd, (uint8_t *)buf + *got, (size_t)(n - *got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0)
            return 0;
        *got += k;
    }
    return 0;
}

/* The next message's metadata into *meta (pool scratch of *len bytes); *len
 * 0 at the end of the stream. */
static int read_metadata(tally_ipc_reader *r, uint8_t **meta, int64_t *len, tally_error *error)
{
    uint32_t word;
    int64_t got;
    *len = 0;
    int rc = read_full(r, &word, 4, &got);
    if (rc == 0 && got == 0) /* the end, without its marker */
        return 0;
    if (rc == 0 && got == 4 && word == IPC_CONTINUATION)
        rc = read_full(r, &word, 4, &got);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC read: read from fd %d failed: %s", r->fd, strerror(rc));
    if (got != 4)
        return ipc_fail(error, EINVAL, "IPC read: the stream is truncated in a message prefix");
    if (word == 0)
        return 0;
    if (word > MAX_METADATA)
        return ipc_fail(error, EINVAL, "IPC read: metadata of %u bytes", word);
    if ((rc = tally_pool_allocate(r->pool, word, meta)) != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused %u bytes of metadata", word);
    rc = read_full(r, *meta, word, &got);
    if (rc != 0 || got != word) {
        tally_pool_free(r->pool, *meta, word);
        if (rc != 0)
            return ipc_fail(error, rc, "IPC read: read from fd %d failed: %s", r->fd, strerror(rc));
        return ipc_fail(error, EINVAL, "IPC read: the stream is truncated in a message's metadata");
    }
    *len = word;
    return 0;
}

/* The message after the metadata: its body read into a pool buffer. */
static int read_message(tally_ipc_reader *r, ipc_message *m, uint8_t **meta, int64_t *meta_len,
                        tally_buffer **body, tally_error *error)
{
    *body = NULL;
    int rc = read_metadata(r, meta, meta_len, error);
    if (rc != 0 || *meta_len == 0)
        return rc;
    rc = ipc_open_message(m, *meta, *meta_len, error);
    int64_t size = m->body_length < BODY_STEP ? m->body_length : BODY_STEP, done = 0;
    if (rc == 0 && (rc = tally_buffer_allocate(r->pool, size, body)) != 0)
        ipc_fail(error, rc, "IPC read: the pool refused a body of %lld bytes", (long long)size);
    while (rc == 0) {
        int64_t got;
        rc = read_full(r, tally_buffer_mutable_data(*body) + done, size - done, &got);
        done += got;
        if (rc != 0)
            ipc_fail(error, rc, "IPC read: read from fd %d failed: %s", r->fd, strerror(rc));
        else if (done < size)
            rc = ipc_fail(error, EINVAL, "IPC read: the stream is truncated in a body");
        else if (done == m->body_length)
            break;
        else {
            size = m->body_length - size < size ? m->body_length : 2 * size;
            if ((rc = tally_buffer_resize(*body, size, false)) != 0)
                ipc_fail(error, rc, "IPC read: the pool refused a body of %lld bytes",
                         (long long)size);
        }
    }

    if (rc != 0) {
        tally_buffer_release(*body);
        *body = NULL;
        tally_pool_free(r->pool, *meta, *meta_len);
    }
    return rc;
}

int ipc_fd_next(tally_ipc_reader *r, tally_record_batch **out, tally_error *error)
{
    if (r->done)
        return 0;
    ipc_message m;
    uint8_t *meta;
    int64_t meta_len;
    tally_buffer *body;
    int rc = read_message(r, &m, &meta, &meta_len, &body, error);
    if (rc != 0)
        return rc;
    if (meta_len == 0) {
        r->done = true;
        return 0;
    }
    if (m.header_type == IPC_HEADER_RECORD_BATCH)
        rc = ipc_decode_batch(r->pool, r->schema, &m.header, body, out, error);
    else if (m.header_type == IPC_HEADER_DICTIONARY)
        rc = ipc_fail(error, ENOTSUP, "IPC read: dictionary batches are not supported");
    else
        rc = ipc_fail(error, EINVAL, "IPC read: a message of kind %d after the schema",
                      m.header_type);
    tally_buffer_release(body);
    tally_pool_free(r->pool, meta, meta_len);
    return rc;
}

/* A file (its magic peeked at) read whole into one pool buffer, then read
 * as bytes in memory: a file's footer is at its end. The buffer grows as
 * bytes arrive, so a descriptor that lies about nothing costs no more than
 * its bytes. */
static int read_whole_file(tally_ipc_reader *r, tally_error *error)
{
    int64_t size = BODY_STEP / 64, done = 0;
    tally_buffer *buf;
    int rc = tally_buffer_allocate(r->pool, size, &buf);
    while (rc == 0) {
        int64_t got;
        if ((rc = read_full(r, tally_buffer_mutable_data(buf) + done, size - done, &got)) != 0) {
            tally_buffer_release(buf);
            return ipc_fail(error, rc, "IPC read: read from fd %d failed: %s", r->fd, strerror(rc));
        }
        done += got;
        if (done < size) { /* the end of the file */
            rc = tally_buffer_resize(buf, done, true);
            break;
        }
        size *= 2;
        rc = tally_buffer_resize(buf, size, false);
    }
    if (rc != 0) {
        tally_buffer_release(buf);
        return ipc_fail(error, rc, "IPC read: the pool refused a file of %lld bytes or more",
                        (long long)size);
    }
    r->data = buf;
    r->fd = -1; /* from here on, bytes in memory */
    return 0;
}

int tally_ipc_reader_open_fd(tally_pool *pool, int fd, tally_error *error, tally_ipc_reader **out)
{
    if (fd < 0 || !out)
        return ipc_fail(error, EINVAL, "IPC read: a descriptor and out are required");
    tally_ipc_reader *r;
    int rc = ipc_reader_new(pool, &r, error);
    if (rc != 0)
        return rc;
    r->fd = fd;
    int64_t got;
    if ((rc = read_full(r, r->peek, sizeof r->peek, &got)) != 0) {
        tally_ipc_reader_destroy(r);
        return ipc_fail(error, rc, "IPC read: read from fd %d failed: %s", fd, strerror(rc));
    }
    r->peek_len = (int)got;
    r->peek_pos = 0;
    if (got == (int64_t)sizeof r->peek && memcmp(r->peek, IPC_MAGIC, IPC_MAGIC_LEN) == 0) {
        if ((rc = read_whole_file(r, error)) != 0 || (rc = ipc_reader_open_bytes(r, error)) != 0) {
            tally_ipc_reader_destroy(r);
            return rc;
        }
        *out = r;
        return 0;
    }
    ipc_message m;
    uint8_t *meta;
    int64_t meta_len;
    tally_buffer *body;
    rc = read_message(r, &m, &meta, &meta_len, &body, error);
    if (rc == 0) {
        if (meta_len == 0 || m.header_type != IPC_HEADER_SCHEMA)
            rc = ipc_fail(error, EINVAL, "IPC read: the stream does not start with a schema");
        else
            rc = ipc_decode_schema(r->pool, &m.header, &r->schema, error);
        tally_buffer_release(body);
        if (meta_len > 0)
            tally_pool_free(r->pool, meta, meta_len);
    }
    if (rc != 0) {
        tally_ipc_reader_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

void ipc_fd_free(tally_ipc_reader *r)
{
    (void)r; /* nothing is held between messages: the descriptor is the caller's */
}
