/* body.c: a record batch's columns as a message body, without copying them.
 *
 * Columns are walked in pre-order, as the format lists them: each array
 * gives a FieldNode (length, null count) and its buffers (validity, then
 * offsets and data, as its layout has them), then its children. A buffer
 * becomes a piece pointing into the array's own memory; only what a slice
 * changes is made anew in scratch space from the pool: a bitmap whose first
 * bit does not start a byte is shifted, and offsets that do not start at 0
 * are rebased. Each buffer is padded to IPC_ALIGN. */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"

void ipc_body_init(ipc_body *b, tally_pool *pool)
{
    memset(b, 0, sizeof *b);
    b->pool = pool;
}

void ipc_body_free(ipc_body *b)
{
    for (int i = 0; i < b->n_scratch; i++)
        tally_pool_free(b->pool, b->scratch[i].data, b->scratch[i].size);
    tally_pool_free(b->pool, (uint8_t *)b->scratch, b->cap_scratch * (int64_t)sizeof *b->scratch);
    tally_pool_free(b->pool, (uint8_t *)b->iov, b->cap_iov * (int64_t)sizeof *b->iov);
    tally_pool_free(b->pool, (uint8_t *)b->buffers, b->cap_buffers * 2 * (int64_t)sizeof(int64_t));
    tally_pool_free(b->pool, (uint8_t *)b->nodes, b->cap_nodes * 2 * (int64_t)sizeof(int64_t));
    ipc_body_init(b, b->pool);
}

/* Room for one more element in an array of elem bytes with capacity *cap. */
static int room(tally_pool *pool, void *arr, int n, int *cap, int64_t elem)
{
    if (n < *cap)
        return 0;
    int grown = *cap ? *cap * 2 : 16;
    uint8_t *p = *(uint8_t **)arr;
    int rc = tally_pool_reallocate(pool, *cap * elem, grown * elem, &p);
    if (rc != 0)
        return rc;
    *(uint8_t **)arr = p;
    *cap = grown;
    return 0;
}

static int add_piece(ipc_body *b, const void *data, int64_t len)
{
    int rc = room(b->pool, &b->iov, b->n_iov, &b->cap_iov, sizeof *b->iov);
    if (rc != 0)
        return rc;
    b->iov[b->n_iov].iov_base = (void *)data;
    b->iov[b->n_iov].iov_len = (size_t)len;
    b->n_iov++;
    return 0;
}

static int add_node(ipc_body *b, int64_t length, int64_t null_count)
{
    int rc = room(b->pool, &b->nodes, b->n_nodes, &b->cap_nodes, 2 * sizeof(int64_t));
    if (rc != 0)
        return rc;
    b->nodes[2 * b->n_nodes] = length;
    b->nodes[2 * b->n_nodes + 1] = null_count;
    b->n_nodes++;
    return 0;
}

/* One buffer of the body: its Buffer struct, its bytes and its padding. */
static int add_buffer(ipc_body *b, const void *data, int64_t len)
{
    int rc = room(b->pool, &b->buffers, b->n_buffers, &b->cap_buffers, 2 * sizeof(int64_t));
    if (rc != 0)
        return rc;
    b->buffers[2 * b->n_buffers] = b->length;
    b->buffers[2 * b->n_buffers + 1] = len;
    b->n_buffers++;
    int64_t pad = (IPC_ALIGN - len % IPC_ALIGN) % IPC_ALIGN;
    if (len > 0 && (rc = add_piece(b, data, len)) != 0)
        return rc;
    if (pad > 0 && (rc = add_piece(b, ipc_zeros, pad)) != 0)
        return rc;
    b->length += len + pad;
    return 0;
}

/* Zeroed scratch of len bytes, freed with the body. */
static int scratch(ipc_body *b, int64_t len, uint8_t **out)
{
    int rc = room(b->pool, &b->scratch, b->n_scratch, &b->cap_scratch, sizeof *b->scratch);
    if (rc == 0)
        rc = tally_pool_allocate(b->pool, len, out);
    if (rc != 0)
        return rc;
    memset(*out, 0, (size_t)len);
    b->scratch[b->n_scratch].data = *out;
    b->scratch[b->n_scratch].size = len;
    b->n_scratch++;
    return 0;
}

static bool bit(const uint8_t *bits, int64_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

/* n bits from bit `from` of bits, starting a byte: in place when they do. */
static int add_bits(ipc_body *b, const uint8_t *bits, int64_t from, int64_t n)
{
    int64_t len = (n + 7) / 8;
    if (from % 8 == 0)
        return add_buffer(b, bits + from / 8, len);
    uint8_t *out;
    int rc = scratch(b, len, &out);
    if (rc != 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        if (bit(bits, from + i))
            out[i >> 3] |= (uint8_t)(1u << (i & 7));
    return add_buffer(b, out, len);
}

/* n + 1 int32 offsets from index `from`, starting at 0: in place when they do. */
static int add_offsets(ipc_body *b, const int32_t *offsets, int64_t from, int64_t n)
{
    int64_t len = (n + 1) * (int64_t)sizeof(int32_t);
    if (offsets[from] == 0)
        return add_buffer(b, offsets + from, len);
    int32_t *out;
    int rc = scratch(b, len, (uint8_t **)&out);
    if (rc != 0)
        return rc;
    for (int64_t i = 0; i <= n; i++)
        out[i] = offsets[from + i] - offsets[from];
    return add_buffer(b, out, len);
}

static int64_t fixed_width(tally_type t)
{
    switch (t) {
    case TALLY_TYPE_INT8:
    case TALLY_TYPE_UINT8:
        return 1;
    case TALLY_TYPE_INT16:
    case TALLY_TYPE_UINT16:
        return 2;
    case TALLY_TYPE_INT32:
    case TALLY_TYPE_UINT32:
    case TALLY_TYPE_FLOAT:
        return 4;
    case TALLY_TYPE_INT64:
    case TALLY_TYPE_UINT64:
    case TALLY_TYPE_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

static const uint8_t *buffer_data(const tally_array *a, int k)
{
    tally_buffer *buf = tally_array_buffer(a, k);
    return buf ? tally_buffer_data(buf) : NULL;
}

/* Elements [lo, lo + n) of a (lo logical: a's own offset is added here). */
static int add_array(ipc_body *b, const tally_array *a, int64_t lo, int64_t n, int depth,
                     tally_error *error)
{
    if (depth > IPC_MAX_DEPTH)
        return ipc_fail(error, EINVAL, "IPC write: types nest deeper than %d", IPC_MAX_DEPTH);
    int64_t p = tally_array_offset(a) + lo; /* physical index of the first element */
    const uint8_t *validity = buffer_data(a, 0);
    int64_t nulls = 0;
    if (validity) {
        if (lo == 0 && n == tally_array_length(a))
            nulls = tally_array_null_count(a);
        else
            for (int64_t i = 0; i < n; i++)
                nulls += !bit(validity, p + i);
    }
    int rc = add_node(b, n, nulls);
    if (rc == 0)
        rc = nulls ? add_bits(b, validity, p, n) : add_buffer(b, NULL, 0);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC write: the pool refused the batch's bookkeeping");
    tally_type t = tally_array_type(a);
    int64_t w = fixed_width(t);
    if (w > 0)
        rc = add_buffer(b, buffer_data(a, 1) + p * w, n * w);
    else if (t == TALLY_TYPE_BOOL)
        rc = add_bits(b, buffer_data(a, 1), p, n);
    else if (t == TALLY_TYPE_STRING || t == TALLY_TYPE_BINARY) {
        const int32_t *offsets = (const int32_t *)buffer_data(a, 1);
        rc = add_offsets(b, offsets, p, n);
        if (rc == 0)
            rc = add_buffer(b, buffer_data(a, 2) + offsets[p], offsets[p + n] - offsets[p]);
    } else if (t == TALLY_TYPE_LIST) {
        const int32_t *offsets = (const int32_t *)buffer_data(a, 1);
        rc = add_offsets(b, offsets, p, n);
        if (rc == 0)
            return add_array(b, tally_array_child(a, 0), offsets[p], offsets[p + n] - offsets[p],
                             depth + 1, error);
    } else if (t == TALLY_TYPE_STRUCT) {
        for (int k = 0; k < tally_array_n_children(a); k++)
            if ((rc = add_array(b, tally_array_child(a, k), p, n, depth + 1, error)) != 0)
                return rc;
        return 0;
    } else
        return ipc_fail(error, EINVAL, "IPC write: type %d has no IPC layout", (int)t);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC write: the pool refused the batch's bookkeeping");
    return 0;
}

int ipc_body_add_batch(ipc_body *b, const tally_record_batch *rb, tally_error *error)
{
    int64_t n = tally_record_batch_n_rows(rb);
    for (int k = 0; k < tally_record_batch_n_columns(rb); k++) {
        int rc = add_array(b, tally_record_batch_column(rb, k), 0, n, 0, error);
        if (rc != 0)
            return rc;
    }
    return 0;
}
