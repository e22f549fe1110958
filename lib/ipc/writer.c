/* writer.c: tally_ipc_writer, the stream and file formats going out. */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <string.h>

struct tally_ipc_writer {
    tally_pool *pool;
    tally_schema *schema;
    tally_ipc_format format;
    ipc_sink sink;
    /* A file's footer lists each batch's Block: offset, metadata length
     * (the prefix included), body length. */
    int64_t (*blocks)[3];
    int n_blocks, cap_blocks;
    bool failed;   /* a write failed: what went out is incomplete */
    bool finished; /* the end marker (and footer) went out */
};

static int writer_new(tally_pool *pool, tally_schema *schema, tally_ipc_format format,
                      tally_error *error, tally_ipc_writer **out)
{
    if (!out || !schema || (format != TALLY_IPC_STREAM && format != TALLY_IPC_FILE))
        return ipc_fail(error, EINVAL, "IPC writer: a schema, a format and out are required");
    pool = pool ? pool : tally_default_pool();
    tally_ipc_writer *w;
    int rc = tally_pool_allocate(pool, sizeof *w, (uint8_t **)&w);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC writer: the pool refused the writer");
    memset(w, 0, sizeof *w);
    w->pool = pool;
    w->schema = tally_schema_retain(schema);
    w->format = format;
    w->sink.fd = -1;
    *out = w;
    return 0;
}

/* The file's magic and the schema message: what every output starts with. */
static int write_start(tally_ipc_writer *w, tally_error *error)
{
    int rc = 0;
    if (w->format == TALLY_IPC_FILE) {
        static const char magic[8] = IPC_MAGIC; /* two zero bytes of padding */
        struct iovec iov = {(void *)magic, sizeof magic};
        rc = ipc_sink_writev(&w->sink, &iov, 1, error);
    }
    ipc_fbw fb;
    ipc_fbw_init(&fb, w->pool);
    if (rc == 0)
        rc = ipc_encode_schema_message(&fb, w->schema, error);
    if (rc == 0)
        rc = ipc_write_message(&w->sink, &fb, NULL, NULL, error);
    ipc_fbw_free(&fb);
    return rc;
}

int tally_ipc_writer_open_fd(tally_pool *pool, int fd, tally_schema *schema,
                             tally_ipc_format format, tally_error *error, tally_ipc_writer **out)
{
    if (fd < 0)
        return ipc_fail(error, EBADF, "IPC writer: fd %d is not a descriptor", fd);
    tally_ipc_writer *w;
    int rc = writer_new(pool, schema, format, error, &w);
    if (rc != 0)
        return rc;
    w->sink.fd = fd;
    if ((rc = write_start(w, error)) != 0) {
        tally_ipc_writer_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

int tally_ipc_writer_open_memory(tally_pool *pool, tally_schema *schema, tally_ipc_format format,
                                 tally_error *error, tally_ipc_writer **out)
{
    tally_ipc_writer *w;
    int rc = writer_new(pool, schema, format, error, &w);
    if (rc != 0)
        return rc;
    if ((rc = tally_stream_new(w->pool, &w->sink.stream)) != 0) {
        tally_ipc_writer_destroy(w);
        return ipc_fail(error, rc, "IPC writer: the pool refused the output stream");
    }
    if ((rc = write_start(w, error)) != 0) {
        tally_ipc_writer_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int usable(tally_ipc_writer *w, tally_error *error)
{
    if (!w)
        return ipc_fail(error, EINVAL, "IPC writer: NULL writer");
    if (w->failed)
        return ipc_fail(error, EINVAL, "IPC writer: an earlier write failed");
    if (w->finished)
        return ipc_fail(error, EINVAL, "IPC writer: already finished");
    return 0;
}

int tally_ipc_writer_write(tally_ipc_writer *w, const tally_record_batch *rb, tally_error *error)
{
    int rc = usable(w, error);
    if (rc != 0)
        return rc;
    if (!rb || !tally_schema_equals(tally_record_batch_schema(rb), w->schema, false))
        return ipc_fail(error, EINVAL, "IPC writer: the batch's schema is not the writer's");
    if (w->format == TALLY_IPC_FILE && w->n_blocks == w->cap_blocks) {
        int cap = w->cap_blocks ? 2 * w->cap_blocks : 8;
        uint8_t *p = (uint8_t *)w->blocks;
        rc = tally_pool_reallocate(w->pool, w->cap_blocks * (int64_t)sizeof *w->blocks,
                                   cap * (int64_t)sizeof *w->blocks, &p);
        if (rc != 0)
            return ipc_fail(error, rc, "IPC writer: the pool refused the footer's list");
        w->blocks = (int64_t(*)[3])p;
        w->cap_blocks = cap;
    }
    ipc_body body;
    ipc_body_init(&body, w->pool);
    ipc_fbw fb;
    ipc_fbw_init(&fb, w->pool);
    rc = ipc_body_add_batch(&body, rb, error);
    if (rc == 0)
        rc = ipc_encode_batch_message(&fb, tally_record_batch_n_rows(rb), &body, error);
    int64_t offset = w->sink.pos;
    int32_t meta_len = 0;
    if (rc == 0) {
        rc = ipc_write_message(&w->sink, &fb, &body, &meta_len, error);
        w->failed = rc != 0;
    }
    if (rc == 0 && w->format == TALLY_IPC_FILE) {
        w->blocks[w->n_blocks][0] = offset;
        w->blocks[w->n_blocks][1] = meta_len;
        w->blocks[w->n_blocks][2] = body.length;
        w->n_blocks++;
    }
    ipc_fbw_free(&fb);
    ipc_body_free(&body);
    return rc;
}

/* The Footer flatbuffer: the schema again and where each batch lies. */
static int write_footer(tally_ipc_writer *w, tally_error *error)
{
    ipc_fbw fb;
    ipc_fbw_init(&fb, w->pool);
    uint32_t root = ipc_fbw_root_slot(&fb);
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    ipc_fbw_i16(&t, FOOTER_VERSION, IPC_V5);
    ipc_fbw_offset(&t, FOOTER_SCHEMA);
    ipc_fbw_offset(&t, FOOTER_DICTIONARIES);
    ipc_fbw_offset(&t, FOOTER_BATCHES);
    ipc_fbw_patch(&fb, root, ipc_fbw_table_end(&fb, &t));
    ipc_encode_schema(&fb, t.slot[FOOTER_SCHEMA], w->schema);
    ipc_fbw_patch(&fb, t.slot[FOOTER_DICTIONARIES],
                  ipc_fbw_vector(&fb, IPC_BLOCK_SIZE, 8, 0, NULL));
    uint32_t vec = ipc_fbw_vector(&fb, IPC_BLOCK_SIZE, 8, (uint32_t)w->n_blocks, NULL);
    ipc_fbw_patch(&fb, t.slot[FOOTER_BATCHES], vec);
    for (int i = 0; i < w->n_blocks && !fb.err; i++) {
        uint8_t *at = fb.data + vec + 4 + (uint32_t)i * IPC_BLOCK_SIZE;
        int32_t meta_len = (int32_t)w->blocks[i][1];
        memcpy(at, &w->blocks[i][0], 8);
        memcpy(at + 8, &meta_len, 4);
        memcpy(at + 16, &w->blocks[i][2], 8);
    }
    int rc = 0;
    if (fb.err)
        rc = ipc_fail(error, fb.err == ENOMEM ? ENOMEM : EINVAL,
                      "IPC writer: cannot encode the footer");
    else {
        int32_t len = (int32_t)fb.len;
        struct iovec iov[3] = {{fb.data, (size_t)fb.len}, {&len, 4}, {(void *)IPC_MAGIC, 6}};
        rc = ipc_sink_writev(&w->sink, iov, 3, error);
    }
    ipc_fbw_free(&fb);
    return rc;
}

int tally_ipc_writer_finish(tally_ipc_writer *w, tally_buffer **out, tally_error *error)
{
    int rc = usable(w, error);
    if (rc != 0)
        return rc;
    if (!out != !w->sink.stream)
        return ipc_fail(error, EINVAL, "IPC writer: out is for a memory writer (and only for one)");
    uint32_t eos[2] = {IPC_CONTINUATION, 0};
    struct iovec iov = {eos, sizeof eos};
    rc = ipc_sink_writev(&w->sink, &iov, 1, error);
    if (rc == 0 && w->format == TALLY_IPC_FILE)
        rc = write_footer(w, error);
    if (rc == 0 && out && (rc = tally_stream_finish(w->sink.stream, out)) != 0)
        ipc_fail(error, rc, "IPC writer: the pool refused the output");
    w->failed = rc != 0;
    w->finished = rc == 0;
    return rc;
}

void tally_ipc_writer_destroy(tally_ipc_writer *w)
{
    if (!w)
        return;
    if (w->sink.stream)
        tally_stream_destroy(w->sink.stream);
    tally_schema_release(w->schema);
    tally_pool_free(w->pool, (uint8_t *)w->blocks, w->cap_blocks * (int64_t)sizeof *w->blocks);
    tally_pool_free(w->pool, (uint8_t *)w, sizeof *w);
}
