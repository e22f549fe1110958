/* message_write.c: the flatbuffers of Schema and RecordBatch messages, and
 * the framing that puts a message on the wire. */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <string.h>

static void encode_kvs(ipc_fbw *w, uint32_t slot, int n, const tally_kv *(*get)(const void *, int),
                       const void *owner)
{
    uint32_t vec = ipc_fbw_vector(w, 4, 4, (uint32_t)n, NULL);
    ipc_fbw_patch(w, slot, vec);
    for (int i = 0; i < n && !w->err; i++) {
        const tally_kv *kv = get(owner, i);
        ipc_fbw_table t;
        ipc_fbw_table_start(&t);
        ipc_fbw_offset(&t, KV_KEY);
        ipc_fbw_offset(&t, KV_VALUE);
        ipc_fbw_patch(w, vec + 4 + 4 * (uint32_t)i, ipc_fbw_table_end(w, &t));
        ipc_fbw_patch(w, t.slot[KV_KEY], ipc_fbw_string(w, kv->key, (uint32_t)strlen(kv->key)));
        ipc_fbw_patch(w, t.slot[KV_VALUE],
                      ipc_fbw_string(w, kv->value, (uint32_t)strlen(kv->value)));
    }
}

static const tally_kv *field_kv(const void *f, int i)
{
    return tally_field_metadata(f, i);
}

static const tally_kv *schema_kv(const void *s, int i)
{
    return tally_schema_metadata(s, i);
}

/* The Type union's member for a data type, and its table. */
static uint8_t encode_type(ipc_fbw *w, uint32_t slot, tally_type id)
{
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    uint8_t member;
    switch (id) {
    case TALLY_TYPE_BOOL:
        member = IPC_TYPE_BOOL;
        break;
    case TALLY_TYPE_FLOAT:
    case TALLY_TYPE_DOUBLE:
        member = IPC_TYPE_FLOAT;
        ipc_fbw_i16(&t, FLOAT_PRECISION,
                    id == TALLY_TYPE_FLOAT ? IPC_PRECISION_SINGLE : IPC_PRECISION_DOUBLE);
        break;
    case TALLY_TYPE_STRING:
        member = IPC_TYPE_UTF8;
        break;
    case TALLY_TYPE_BINARY:
        member = IPC_TYPE_BINARY;
        break;
    case TALLY_TYPE_LIST:
        member = IPC_TYPE_LIST;
        break;
    case TALLY_TYPE_STRUCT:
        member = IPC_TYPE_STRUCT;
        break;
    default: { /* the integers */
        static const struct {
            tally_type id;
            int32_t bits;
            bool is_signed;
        } ints[] = {
            {TALLY_TYPE_INT8, 8, true},     {TALLY_TYPE_INT16, 16, true},
            {TALLY_TYPE_INT32, 32, true},   {TALLY_TYPE_INT64, 64, true},
            {TALLY_TYPE_UINT8, 8, false},   {TALLY_TYPE_UINT16, 16, false},
            {TALLY_TYPE_UINT32, 32, false}, {TALLY_TYPE_UINT64, 64, false},
        };
        member = IPC_TYPE_INT;
        for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
            if (ints[i].id == id) {
                ipc_fbw_i32(&t, INT_BIT_WIDTH, ints[i].bits);
                ipc_fbw_u8(&t, INT_IS_SIGNED, ints[i].is_signed);
            }
    }
    }
    ipc_fbw_patch(w, slot, ipc_fbw_table_end(w, &t));
    return member;
}

static void encode_field(ipc_fbw *w, uint32_t slot, const tally_field *f)
{
    const tally_datatype *type = tally_field_type(f);
    int n_children = tally_datatype_n_fields(type);
    int n_meta = tally_field_n_metadata(f);
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    ipc_fbw_offset(&t, FIELD_NAME);
    ipc_fbw_u8(&t, FIELD_NULLABLE, tally_field_nullable(f));
    ipc_fbw_u8(&t, FIELD_TYPE_TYPE, 0); /* set below, once the type is known */
    ipc_fbw_offset(&t, FIELD_TYPE);
    ipc_fbw_offset(&t, FIELD_CHILDREN);
    if (n_meta > 0)
        ipc_fbw_offset(&t, FIELD_METADATA);
    uint32_t table = ipc_fbw_table_end(w, &t);
    ipc_fbw_patch(w, slot, table);
    const char *name = tally_field_name(f);
    ipc_fbw_patch(w, t.slot[FIELD_NAME], ipc_fbw_string(w, name, (uint32_t)strlen(name)));
    uint8_t member = encode_type(w, t.slot[FIELD_TYPE], tally_datatype_id(type));
    if (!w->err)
        w->data[t.slot[FIELD_TYPE_TYPE]] = member;
    uint32_t vec = ipc_fbw_vector(w, 4, 4, (uint32_t)n_children, NULL);
    ipc_fbw_patch(w, t.slot[FIELD_CHILDREN], vec);
    for (int k = 0; k < n_children && !w->err; k++)
        encode_field(w, vec + 4 + 4 * (uint32_t)k, tally_datatype_field(type, k));
    if (n_meta > 0)
        encode_kvs(w, t.slot[FIELD_METADATA], n_meta, field_kv, f);
}

void ipc_encode_schema(ipc_fbw *w, uint32_t slot, const tally_schema *schema)
{
    int n = tally_schema_n_fields(schema), n_meta = tally_schema_n_metadata(schema);
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    ipc_fbw_offset(&t, SCHEMA_FIELDS);
    if (n_meta > 0)
        ipc_fbw_offset(&t, SCHEMA_METADATA);
    ipc_fbw_patch(w, slot, ipc_fbw_table_end(w, &t));
    uint32_t vec = ipc_fbw_vector(w, 4, 4, (uint32_t)n, NULL);
    ipc_fbw_patch(w, t.slot[SCHEMA_FIELDS], vec);
    for (int i = 0; i < n && !w->err; i++)
        encode_field(w, vec + 4 + 4 * (uint32_t)i, tally_schema_field(schema, i));
    if (n_meta > 0)
        encode_kvs(w, t.slot[SCHEMA_METADATA], n_meta, schema_kv, schema);
}

/* The Message table; returns the slot of its header. */
static uint32_t encode_message(ipc_fbw *w, uint8_t header_type, int64_t body_length)
{
    uint32_t root = ipc_fbw_root_slot(w);
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    ipc_fbw_i16(&t, MESSAGE_VERSION, IPC_V5);
    ipc_fbw_u8(&t, MESSAGE_HEADER_TYPE, header_type);
    ipc_fbw_offset(&t, MESSAGE_HEADER);
    ipc_fbw_i64(&t, MESSAGE_BODY_LENGTH, body_length);
    ipc_fbw_patch(w, root, ipc_fbw_table_end(w, &t));
    return t.slot[MESSAGE_HEADER];
}

static int encoded(const ipc_fbw *w, tally_error *error)
{
    if (w->err)
        return ipc_fail(error, w->err == ENOMEM ? ENOMEM : EINVAL,
                        "IPC write: cannot encode the metadata (%s)",
                        w->err == ENOMEM ? "the pool refused" : "too large");
    return 0;
}

int ipc_encode_schema_message(ipc_fbw *w, const tally_schema *schema, tally_error *error)
{
    ipc_encode_schema(w, encode_message(w, IPC_HEADER_SCHEMA, 0), schema);
    return encoded(w, error);
}

int ipc_encode_batch_message(ipc_fbw *w, int64_t n_rows, const ipc_body *body, tally_error *error)
{
    uint32_t slot = encode_message(w, IPC_HEADER_RECORD_BATCH, body->length);
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    ipc_fbw_i64(&t, BATCH_LENGTH, n_rows);
    ipc_fbw_offset(&t, BATCH_NODES);
    ipc_fbw_offset(&t, BATCH_BUFFERS);
    ipc_fbw_patch(w, slot, ipc_fbw_table_end(w, &t));
    ipc_fbw_patch(w, t.slot[BATCH_NODES],
                  ipc_fbw_vector(w, IPC_FIELD_NODE_SIZE, 8, (uint32_t)body->n_nodes, body->nodes));
    ipc_fbw_patch(w, t.slot[BATCH_BUFFERS],
                  ipc_fbw_vector(w, IPC_BUFFER_SIZE, 8, (uint32_t)body->n_buffers, body->buffers));
    return encoded(w, error);
}

int ipc_write_message(ipc_sink *s, const ipc_fbw *meta, const ipc_body *body, int32_t *meta_len,
                      tally_error *error)
{
    /* The metadata is padded so that the body starts on IPC_ALIGN in the
     * output: mapped, its buffers are then aligned in memory too. */
    int64_t pad = (IPC_ALIGN - (s->pos + 8 + meta->len) % IPC_ALIGN) % IPC_ALIGN;
    uint32_t prefix[2] = {IPC_CONTINUATION, (uint32_t)(meta->len + pad)};
    struct iovec head[3] = {
        {prefix, sizeof prefix},
        {meta->data, (size_t)meta->len},
        {(void *)ipc_zeros, (size_t)pad},
    };
    int rc = ipc_sink_writev(s, head, 3, error);
    if (rc == 0 && body && body->n_iov > 0)
        rc = ipc_sink_writev(s, body->iov, body->n_iov, error);
    if (meta_len)
        *meta_len = (int32_t)(8 + meta->len + pad);
    return rc;
}
