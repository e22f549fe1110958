/* schema_read.c: a Schema table into a tally_schema.
 *
 * Every string is copied by the field and schema constructors, so nothing
 * made here points into the metadata once it returns. */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <string.h>

#define CORRUPT(what) ipc_fail(error, EINVAL, "IPC read: a corrupt %s in the schema", what)

/* Key/value pairs into pool memory (*out, n) that point into the metadata. */
static int read_kvs(tally_pool *pool, const ipc_fb_table *t, int field, tally_kv **out, int *n,
                    tally_error *error)
{
    ipc_fb_vector v;
    *out = NULL;
    *n = 0;
    if (ipc_fb_vector_field(t, field, 4, &v) != 0)
        return CORRUPT("metadata list");
    if (v.count == 0)
        return 0;
    if (v.count > INT32_MAX / sizeof(tally_kv))
        return CORRUPT("metadata list");
    int rc = tally_pool_allocate(pool, v.count * (int64_t)sizeof(tally_kv), (uint8_t **)out);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused the metadata");
    for (uint32_t i = 0; i < v.count; i++) {
        ipc_fb_table kv;
        uint32_t len;
        const char *key, *value;
        if (ipc_fb_vector_table(&v, i, &kv) != 0 ||
            ipc_fb_string_field(&kv, KV_KEY, &key, &len) != 0 ||
            ipc_fb_string_field(&kv, KV_VALUE, &value, &len) != 0) {
            tally_pool_free(pool, (uint8_t *)*out, v.count * (int64_t)sizeof(tally_kv));
            *out = NULL;
            return CORRUPT("key/value pair");
        }
        (*out)[i].key = key ? key : "";
        (*out)[i].value = value ? value : "";
    }
    *n = (int)v.count;
    return 0;
}

static void free_kvs(tally_pool *pool, tally_kv *kvs, int n)
{
    tally_pool_free(pool, (uint8_t *)kvs, n * (int64_t)sizeof *kvs);
}

static int read_field(tally_pool *pool, const ipc_fb_table *t, int depth, tally_field **out,
                      tally_error *error);

/* Children fields into a pool array (released and freed by free_fields). */
static void free_fields(tally_pool *pool, tally_field **fields, int n)
{
    for (int i = 0; i < n; i++)
        tally_field_release(fields[i]);
    tally_pool_free(pool, (uint8_t *)fields, n * (int64_t)sizeof *fields);
}

static int read_fields(tally_pool *pool, const ipc_fb_table *t, int field, int depth,
                       tally_field ***out, int *n, tally_error *error)
{
    ipc_fb_vector v;
    *out = NULL;
    *n = 0;
    if (ipc_fb_vector_field(t, field, 4, &v) != 0 || v.count > INT32_MAX / sizeof(void *))
        return CORRUPT("field list");
    if (v.count == 0)
        return 0;
    tally_field **fields;
    int rc = tally_pool_allocate(pool, v.count * (int64_t)sizeof *fields, (uint8_t **)&fields);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused the fields");
    int done = 0;
    for (; done < (int)v.count; done++) {
        ipc_fb_table f;
        if (ipc_fb_vector_table(&v, (uint32_t)done, &f) != 0)
            rc = CORRUPT("field");
        else
            rc = read_field(pool, &f, depth, &fields[done], error);
        if (rc != 0)
            break;
    }
    if (rc != 0) {
        for (int i = 0; i < done; i++)
            tally_field_release(fields[i]);
        tally_pool_free(pool, (uint8_t *)fields, v.count * (int64_t)sizeof *fields);
        return rc;
    }
    *out = fields;
    *n = (int)v.count;
    return 0;
}

/* The tally type id of an Int or FloatingPoint table. */
static int number_type(uint8_t member, const ipc_fb_table *t, int *id, tally_error *error)
{
    if (member == IPC_TYPE_FLOAT) {
        int16_t precision;
        if (ipc_fb_i16(t, FLOAT_PRECISION, 0, &precision) != 0)
            return CORRUPT("FloatingPoint");
        if (precision != IPC_PRECISION_SINGLE && precision != IPC_PRECISION_DOUBLE)
            return ipc_fail(error, ENOTSUP,
                            "IPC read: floating point precision %d is not supported", precision);
        *id = precision == IPC_PRECISION_SINGLE ? TALLY_TYPE_FLOAT : TALLY_TYPE_DOUBLE;
        return 0;
    }
    int32_t bits;
    uint8_t is_signed;
    if (ipc_fb_i32(t, INT_BIT_WIDTH, 0, &bits) != 0 || ipc_fb_u8(t, INT_IS_SIGNED, 0, &is_signed))
        return CORRUPT("Int");
    static const tally_type ids[2][4] = {
        {TALLY_TYPE_UINT8, TALLY_TYPE_UINT16, TALLY_TYPE_UINT32, TALLY_TYPE_UINT64},
        {TALLY_TYPE_INT8, TALLY_TYPE_INT16, TALLY_TYPE_INT32, TALLY_TYPE_INT64},
    };
    int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : bits == 64 ? 3 : -1;
    if (k < 0)
        return ipc_fail(error, EINVAL, "IPC read: an integer of %d bits", bits);
    *id = (int)ids[is_signed != 0][k];
    return 0;
}

/* The field's data type; *type holds one reference. */
static int read_type(tally_pool *pool, const ipc_fb_table *f, int depth, tally_datatype **type,
                     tally_error *error)
{
    uint8_t member;
    ipc_fb_table t;
    bool present;
    if (ipc_fb_u8(f, FIELD_TYPE_TYPE, 0, &member) != 0 ||
        ipc_fb_table_field(f, FIELD_TYPE, &t, &present) != 0)
        return CORRUPT("field type");
    if (!present)
        return ipc_fail(error, EINVAL, "IPC read: a field without a type");
    int id = 0, rc;
    switch (member) {
    case IPC_TYPE_INT:
    case IPC_TYPE_FLOAT:
        if ((rc = number_type(member, &t, &id, error)) != 0)
            return rc;
        break;
    case IPC_TYPE_BINARY:
        id = TALLY_TYPE_BINARY;
        break;
    case IPC_TYPE_UTF8:
        id = TALLY_TYPE_STRING;
        break;
    case IPC_TYPE_BOOL:
        id = TALLY_TYPE_BOOL;
        break;
    case IPC_TYPE_LIST:
    case IPC_TYPE_STRUCT: {
        tally_field **children;
        int n;
        rc = read_fields(pool, f, FIELD_CHILDREN, depth + 1, &children, &n, error);
        if (rc != 0)
            return rc;
        if (member == IPC_TYPE_LIST && n != 1)
            rc = ipc_fail(error, EINVAL, "IPC read: a list with %d children", n);
        else if (member == IPC_TYPE_LIST)
            rc = tally_datatype_list(pool, children[0], type);
        else
            rc = tally_datatype_struct(pool, children, n, type);
        free_fields(pool, children, n);
        if (rc == ENOMEM)
            ipc_fail(error, rc, "IPC read: the pool refused a data type");
        return rc;
    }
    default:
        return ipc_fail(error, ENOTSUP, "IPC read: Arrow type %d is not supported", member);
    }
    *type = tally_datatype_of((tally_type)id);
    return 0;
}

static int read_field(tally_pool *pool, const ipc_fb_table *t, int depth, tally_field **out,
                      tally_error *error)
{
    if (depth > IPC_MAX_DEPTH)
        return ipc_fail(error, EINVAL, "IPC read: types nest deeper than %d", IPC_MAX_DEPTH);
    const char *name;
    uint32_t name_len;
    uint8_t nullable;
    ipc_fb_table dict;
    bool has_dict;
    if (ipc_fb_string_field(t, FIELD_NAME, &name, &name_len) != 0 ||
        ipc_fb_u8(t, FIELD_NULLABLE, 0, &nullable) != 0 ||
        ipc_fb_table_field(t, FIELD_DICTIONARY, &dict, &has_dict) != 0)
        return CORRUPT("field");
    if (has_dict)
        return ipc_fail(error, ENOTSUP, "IPC read: dictionary-encoded fields are not supported");
    tally_datatype *type = NULL;
    int rc = read_type(pool, t, depth, &type, error);
    if (rc != 0)
        return rc;
    tally_kv *kvs;
    int n_kvs;
    if ((rc = read_kvs(pool, t, FIELD_METADATA, &kvs, &n_kvs, error)) == 0) {
        rc = tally_field_new(pool, name ? name : "", type, nullable != 0, kvs, n_kvs, out);
        if (rc != 0)
            ipc_fail(error, rc, "IPC read: cannot make field '%s'", name ? name : "");
        free_kvs(pool, kvs, n_kvs);
    }
    tally_datatype_release(type);
    return rc;
}

int ipc_decode_schema(tally_pool *pool, const ipc_fb_table *schema, tally_schema **out,
                      tally_error *error)
{
    int16_t endianness;
    if (ipc_fb_i16(schema, SCHEMA_ENDIANNESS, 0, &endianness) != 0)
        return CORRUPT("Schema table");
    if (endianness != 0)
        return ipc_fail(error, ENOTSUP, "IPC read: big-endian data is not supported");
    tally_field **fields;
    int n, rc = read_fields(pool, schema, SCHEMA_FIELDS, 0, &fields, &n, error);
    if (rc != 0)
        return rc;
    tally_kv *kvs;
    int n_kvs;
    if ((rc = read_kvs(pool, schema, SCHEMA_METADATA, &kvs, &n_kvs, error)) == 0) {
        rc = tally_schema_new(pool, fields, n, kvs, n_kvs, out);
        if (rc != 0)
            ipc_fail(error, rc, "IPC read: cannot make the schema");
        free_kvs(pool, kvs, n_kvs);
    }
    free_fields(pool, fields, n);
    return rc;
}
