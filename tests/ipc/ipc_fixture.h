/* ipc_fixture.h: record batches of every type tally has, for the IPC tests.
 *
 * make_batch(pool, n, seed) gives n rows: one column per primitive type,
 * nulls where (i + seed) % 5 == 2, then list<int32> and struct<a: int64,
 * b: string> columns made from their buffers. The values depend on i and
 * seed only, so two batches made alike are equal. */
#ifndef TALLY_IPC_FIXTURE_H
#define TALLY_IPC_FIXTURE_H

#include <tally/tally.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In a Check test a failure is the test's; elsewhere (ipc_interop) it aborts. */
#ifdef IPC_FIXTURE_NO_CHECK
#define FIX_OK(expr)                                                                               \
    do {                                                                                           \
        if ((expr) != 0)                                                                           \
            abort();                                                                               \
    } while (0)
#define FIX_MSG(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#include <check.h>
#define FIX_OK(expr) ck_assert_int_eq((expr), 0)
#define FIX_MSG(cond, ...) ck_assert_msg(cond, __VA_ARGS__)
#endif

#define FIX_N_PRIMITIVE 13
static const tally_type fix_primitive[FIX_N_PRIMITIVE] = {
    TALLY_TYPE_BOOL,   TALLY_TYPE_INT8,   TALLY_TYPE_INT16,  TALLY_TYPE_INT32,  TALLY_TYPE_INT64,
    TALLY_TYPE_UINT8,  TALLY_TYPE_UINT16, TALLY_TYPE_UINT32, TALLY_TYPE_UINT64, TALLY_TYPE_FLOAT,
    TALLY_TYPE_DOUBLE, TALLY_TYPE_STRING, TALLY_TYPE_BINARY,
};
#define FIX_N_COLUMNS (FIX_N_PRIMITIVE + 2)

static int fix_is_null(int64_t i, int seed)
{
    return (i + seed) % 5 == 2;
}

static tally_array *fix_primitive_column(tally_pool *pool, tally_type t, int64_t n, int seed)
{
    tally_builder *b;
    FIX_OK(tally_builder_new(t, pool, &b));
    for (int64_t i = 0; i < n; i++) {
        int64_t v = (i * 37 + seed) % 101 - 50;
        if (fix_is_null(i, seed)) {
            FIX_OK(tally_builder_append_null(b));
            continue;
        }
        int rc;
        char text[32];
        switch (t) {
        case TALLY_TYPE_BOOL:
            rc = tally_builder_append_bool(b, v % 3 == 0);
            break;
        case TALLY_TYPE_UINT8:
        case TALLY_TYPE_UINT16:
        case TALLY_TYPE_UINT32:
            rc = tally_builder_append_uint(b, (uint64_t)(v + 50));
            break;
        case TALLY_TYPE_UINT64:
            rc = tally_builder_append_uint(b, UINT64_MAX - (uint64_t)(v + 50));
            break;
        case TALLY_TYPE_INT64:
            rc = tally_builder_append_int(b, v * 1000000000000LL);
            break;
        case TALLY_TYPE_FLOAT:
        case TALLY_TYPE_DOUBLE:
            rc = tally_builder_append_double(b, v * 0.25);
            break;
        case TALLY_TYPE_STRING:
        case TALLY_TYPE_BINARY:
            snprintf(text, sizeof text, "s%lld%s", (long long)v, v % 4 == 0 ? "" : "xyz");
            rc = tally_builder_append_bytes(
                b, text, t == TALLY_TYPE_BINARY && v % 7 == 0 ? 0 : (int64_t)strlen(text));
            break;
        default:
            rc = tally_builder_append_int(b, v);
        }
        FIX_OK(rc);
    }
    tally_array *a;
    FIX_OK(tally_builder_finish(b, &a));
    tally_builder_destroy(b);
    return a;
}

static tally_buffer *fix_copy(tally_pool *pool, const void *data, int64_t size)
{
    tally_buffer *buf;
    FIX_OK(tally_buffer_copy_from(pool, data, size, &buf));
    return buf;
}

/* A validity bitmap of n bits with nulls where fix_is_null(i, seed). */
static tally_buffer *fix_validity(tally_pool *pool, int64_t n, int seed, int64_t *nulls)
{
    uint8_t bits[n / 8 + 1];
    memset(bits, 0, sizeof bits);
    *nulls = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fix_is_null(i, seed))
            (*nulls)++;
        else
            bits[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return fix_copy(pool, bits, (int64_t)sizeof bits);
}

static tally_field *fix_field(tally_pool *pool, const char *name, tally_datatype *t)
{
    tally_field *f;
    FIX_OK(tally_field_new(pool, name, t, true, NULL, 0, &f));
    return f;
}

/* list<item: int32>: element i has i % 4 values (null elements none). */
static tally_array *fix_list_column(tally_pool *pool, tally_datatype *type, int64_t n, int seed)
{
    int32_t offsets[n + 1];
    offsets[0] = 0;
    for (int64_t i = 0; i < n; i++)
        offsets[i + 1] = offsets[i] + (fix_is_null(i, seed) ? 0 : (int32_t)(i % 4));
    tally_array *child = fix_primitive_column(pool, TALLY_TYPE_INT32, offsets[n], seed + 1);
    int64_t nulls;
    tally_buffer *bufs[2] = {fix_validity(pool, n, seed, &nulls),
                             fix_copy(pool, offsets, (int64_t)sizeof offsets)};
    tally_array *a;
    tally_error err = {{0}};
    int rc = tally_array_make_typed(pool, type, n, 0, nulls, bufs, 2, &child, 1, &err, &a);
    FIX_MSG(rc == 0, "list: %s", err.message);
    tally_array_release(child);
    tally_buffer_release(bufs[0]);
    tally_buffer_release(bufs[1]);
    return a;
}

/* struct<a: int64, b: string>. */
static tally_array *fix_struct_column(tally_pool *pool, tally_datatype *type, int64_t n, int seed)
{
    tally_array *children[2] = {fix_primitive_column(pool, TALLY_TYPE_INT64, n, seed + 2),
                                fix_primitive_column(pool, TALLY_TYPE_STRING, n, seed + 3)};
    int64_t nulls;
    tally_buffer *validity = fix_validity(pool, n, seed, &nulls);
    tally_array *a;
    tally_error err = {{0}};
    int rc = tally_array_make_typed(pool, type, n, 0, nulls, &validity, 1, children, 2, &err, &a);
    FIX_MSG(rc == 0, "struct: %s", err.message);
    tally_array_release(children[0]);
    tally_array_release(children[1]);
    tally_buffer_release(validity);
    return a;
}

static tally_schema *make_schema(tally_pool *pool)
{
    tally_field *fields[FIX_N_COLUMNS];
    for (int k = 0; k < FIX_N_PRIMITIVE; k++)
        fields[k] =
            fix_field(pool, tally_type_name(fix_primitive[k]), tally_datatype_of(fix_primitive[k]));
    tally_field *item = fix_field(pool, "item", tally_datatype_of(TALLY_TYPE_INT32));
    tally_datatype *list;
    FIX_OK(tally_datatype_list(pool, item, &list));
    fields[FIX_N_PRIMITIVE] = fix_field(pool, "list", list);
    tally_field *members[2] = {fix_field(pool, "a", tally_datatype_of(TALLY_TYPE_INT64)),
                               fix_field(pool, "b", tally_datatype_of(TALLY_TYPE_STRING))};
    tally_datatype *st;
    FIX_OK(tally_datatype_struct(pool, members, 2, &st));
    fields[FIX_N_PRIMITIVE + 1] = fix_field(pool, "struct", st);
    const tally_kv meta[2] = {{"origin", "tally"}, {"empty", ""}};
    tally_schema *s;
    FIX_OK(tally_schema_new(pool, fields, FIX_N_COLUMNS, meta, 2, &s));
    for (int k = 0; k < FIX_N_COLUMNS; k++)
        tally_field_release(fields[k]);
    tally_field_release(item);
    tally_field_release(members[0]);
    tally_field_release(members[1]);
    tally_datatype_release(list);
    tally_datatype_release(st);
    return s;
}

static tally_record_batch *make_batch(tally_pool *pool, tally_schema *s, int64_t n, int seed)
{
    tally_array *cols[FIX_N_COLUMNS];
    for (int k = 0; k < FIX_N_PRIMITIVE; k++)
        cols[k] = fix_primitive_column(pool, fix_primitive[k], n, seed);
    cols[FIX_N_PRIMITIVE] =
        fix_list_column(pool, tally_field_type(tally_schema_field(s, FIX_N_PRIMITIVE)), n, seed);
    cols[FIX_N_PRIMITIVE + 1] = fix_struct_column(
        pool, tally_field_type(tally_schema_field(s, FIX_N_PRIMITIVE + 1)), n, seed);
    tally_record_batch *rb;
    tally_error err = {{0}};
    int rc = tally_record_batch_make(pool, s, n, cols, FIX_N_COLUMNS, &err, &rb);
    FIX_MSG(rc == 0, "batch: %s", err.message);
    for (int k = 0; k < FIX_N_COLUMNS; k++)
        tally_array_release(cols[k]);
    return rb;
}

#endif
