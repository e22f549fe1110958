/* batch_read.c: a RecordBatch table and its body into a record batch.
 *
 * The schema says which nodes and buffers each column takes (pre-order, as
 * the writer lays them out); the metadata says where they lie in the body.
 * Each buffer is checked to lie inside the body and on 8 bytes, then made a
 * slice of it: the arrays share the body's memory. tally_array_make_typed
 * then checks what the layout needs (sizes, offsets in range and rising). */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <string.h>

/* A length past this cannot be backed by any body, and keeps every size
 * computed from it (length * 8, length + 1) far from overflowing. */
#define MAX_LENGTH ((int64_t)1 << 56)

typedef struct {
    tally_pool *pool;
    tally_buffer *body;
    ipc_fb_vector nodes, buffers;
    uint32_t next_node, next_buffer;
    tally_error *error;
} batch_cursor;

static int next_node(batch_cursor *c, int64_t *length, int64_t *null_count)
{
    if (c->next_node >= c->nodes.count)
        return ipc_fail(c->error, EINVAL, "IPC read: the batch has fewer nodes than the schema");
    const uint8_t *at = ipc_fb_vector_at(&c->nodes, c->next_node++, IPC_FIELD_NODE_SIZE);
    *length = ipc_fb_load_i64(at);
    *null_count = ipc_fb_load_i64(at + 8);
    if (*length < 0 || *length > MAX_LENGTH || *null_count < 0 || *null_count > *length)
        return ipc_fail(c->error, EINVAL, "IPC read: a node of length %lld with %lld nulls",
                        (long long)*length, (long long)*null_count);
    return 0;
}

/* The next buffer as a slice of the body (*out NULL when it is empty and
 * may_skip: an absent validity bitmap). */
static int next_buffer(batch_cursor *c, bool may_skip, tally_buffer **out)
{
    *out = NULL;
    if (c->next_buffer >= c->buffers.count)
        return ipc_fail(c->error, EINVAL, "IPC read: the batch has fewer buffers than the schema");
    const uint8_t *at = ipc_fb_vector_at(&c->buffers, c->next_buffer++, IPC_BUFFER_SIZE);
    int64_t offset = ipc_fb_load_i64(at), length = ipc_fb_load_i64(at + 8);
    int64_t body = tally_buffer_size(c->body);
    if (offset < 0 || length < 0 || offset > body || length > body - offset)
        return ipc_fail(c->error, EINVAL,
                        "IPC read: a buffer at %lld of %lld bytes outside the body (%lld bytes)",
                        (long long)offset, (long long)length, (long long)body);
    if (offset % 8 != 0)
        return ipc_fail(c->error, EINVAL, "IPC read: a buffer at %lld, not on 8 bytes",
                        (long long)offset);
    if (length == 0 && may_skip)
        return 0;
    int rc = tally_buffer_slice(c->body, offset, length, out);
    if (rc != 0)
        return ipc_fail(c->error, rc, "IPC read: %s",
                        rc == ENOMEM ? "the pool refused a buffer" : "a buffer outside the body");
    return 0;
}

/* int32 offsets of an empty array may be left out by writers: one zero. */
static int empty_offsets(batch_cursor *c, tally_buffer **buf)
{
    static const int32_t zero[2];
    if (*buf && tally_buffer_size(*buf) >= 4)
        return 0;
    tally_buffer_release(*buf);
    *buf = NULL;
    int rc = tally_buffer_wrap_with_pool(c->pool, zero, sizeof zero[0], NULL, NULL, buf);
    return rc ? ipc_fail(c->error, rc, "IPC read: the pool refused a buffer") : 0;
}

/* A message from the table layer, said as the reader's. */
static void prefix_message(tally_error *error, int rc)
{
    if (!error)
        return;
    char why[sizeof error->message];
    memcpy(why, error->message, sizeof why);
    ipc_fail(error, rc, "IPC read: %s", rc == EINVAL ? why : "the pool refused the batch");
}

static int read_array(batch_cursor *c, tally_datatype *type, int depth, tally_array **out)
{
    if (depth > IPC_MAX_DEPTH)
        return ipc_fail(c->error, EINVAL, "IPC read: types nest deeper than %d", IPC_MAX_DEPTH);
    int64_t length = 0, null_count = 0;
    int rc = next_node(c, &length, &null_count);
    if (rc != 0)
        return rc;
    tally_type id = tally_datatype_id(type);
    int n_buffers = id == TALLY_TYPE_STRUCT                              ? 1
                    : id == TALLY_TYPE_STRING || id == TALLY_TYPE_BINARY ? 3
                                                                         : 2;
    int n_children = tally_datatype_n_fields(type);
    tally_buffer *buffers[3] = {NULL, NULL, NULL};
    tally_array *stack_children[4], **children = stack_children;
    int made = 0;
    if (n_children > 4) {
        rc = tally_pool_allocate(c->pool, n_children * (int64_t)sizeof *children,
                                 (uint8_t **)&children);
        if (rc != 0)
            return ipc_fail(c->error, rc, "IPC read: the pool refused a column");
    }
    for (int k = 0; k < n_buffers && rc == 0; k++)
        rc = next_buffer(c, k == 0, &buffers[k]);
    if (rc == 0 && null_count > 0 && !buffers[0])
        rc = ipc_fail(c->error, EINVAL, "IPC read: %lld nulls and no validity bitmap",
                      (long long)null_count);
    if (rc == 0 && null_count == 0 && buffers[0]) { /* the bitmap says nothing: drop it */
        tally_buffer_release(buffers[0]);
        buffers[0] = NULL;
    }
    if (rc == 0 && (id == TALLY_TYPE_STRING || id == TALLY_TYPE_BINARY || id == TALLY_TYPE_LIST) &&
        length == 0)
        rc = empty_offsets(c, &buffers[1]);
    while (rc == 0 && made < n_children) {
        rc = read_array(c, tally_field_type(tally_datatype_field(type, made)), depth + 1,
                        &children[made]);
        if (rc == 0)
            made++;
    }
    if (rc == 0) {
        rc = tally_array_make_typed(c->pool, type, length, 0, null_count, buffers, n_buffers,
                                    children, n_children, c->error, out);
        if (rc != 0 && c->error) {
            char why[sizeof c->error->message];
            memcpy(why, c->error->message, sizeof why);
            ipc_fail(c->error, rc, "IPC read: a %s column: %s", tally_type_name(id),
                     rc == EINVAL ? why : "the pool refused it");
        }
    }
    for (int k = 0; k < made; k++)
        tally_array_release(children[k]);
    for (int k = 0; k < n_buffers; k++)
        tally_buffer_release(buffers[k]);
    if (children != stack_children)
        tally_pool_free(c->pool, (uint8_t *)children, n_children * (int64_t)sizeof *children);
    return rc;
}

int ipc_decode_batch(tally_pool *pool, tally_schema *schema, const ipc_fb_table *batch,
                     tally_buffer *body, tally_record_batch **out, tally_error *error)
{
    batch_cursor c = {.pool = pool, .body = body, .error = error};
    int64_t length;
    ipc_fb_table compression;
    bool compressed;
    if (ipc_fb_i64(batch, BATCH_LENGTH, 0, &length) != 0 ||
        ipc_fb_vector_field(batch, BATCH_NODES, IPC_FIELD_NODE_SIZE, &c.nodes) != 0 ||
        ipc_fb_vector_field(batch, BATCH_BUFFERS, IPC_BUFFER_SIZE, &c.buffers) != 0 ||
        ipc_fb_table_field(batch, BATCH_COMPRESSION, &compression, &compressed) != 0)
        return ipc_fail(error, EINVAL, "IPC read: a corrupt RecordBatch table");
    if (compressed)
        return ipc_fail(error, ENOTSUP, "IPC read: compressed bodies are not supported");
    if (length < 0 || length > MAX_LENGTH)
        return ipc_fail(error, EINVAL, "IPC read: a batch of %lld rows", (long long)length);
    int n = tally_schema_n_fields(schema), rc = 0, made = 0;
    tally_array **columns = NULL;
    if (n > 0 &&
        (rc = tally_pool_allocate(pool, n * (int64_t)sizeof *columns, (uint8_t **)&columns)) != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused the batch");
    while (rc == 0 && made < n) {
        rc = read_array(&c, tally_field_type(tally_schema_field(schema, made)), 0, &columns[made]);
        if (rc == 0)
            made++;
    }
    if (rc == 0 && (c.next_node != c.nodes.count || c.next_buffer != c.buffers.count))
        rc = ipc_fail(error, EINVAL,
                      "IPC read: the batch has more nodes or buffers than the schema");
    if (rc == 0 &&
        (rc = tally_record_batch_make(pool, schema, length, columns, n, error, out)) != 0)
        prefix_message(error, rc);
    for (int k = 0; k < made; k++)
        tally_array_release(columns[k]);
    tally_pool_free(pool, (uint8_t *)columns, n * (int64_t)sizeof *columns);
    return rc;
}
