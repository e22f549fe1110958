/* test_table: data types, fields, schemas and record batches: construction,
 * equality, the checks a record batch makes, and the bytes each costs. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>

#include "table_fixture.h"

START_TEST(test_primitive_types_are_static)
{
    int64_t before = tally_pool_bytes_allocated(NULL);
    for (int id = TALLY_TYPE_BOOL; id <= TALLY_TYPE_BINARY; id++) {
        tally_datatype *t = tally_datatype_of((tally_type)id);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(tally_datatype_id(t), id);
        ck_assert_int_eq(tally_datatype_n_fields(t), 0);
        ck_assert_ptr_eq(tally_datatype_retain(t), t);
        tally_datatype_release(t);
        tally_datatype_release(t); /* static: a no-op however often */
        ck_assert(!tally_type_is_nested((tally_type)id));
    }
    ck_assert_int_eq(tally_pool_bytes_allocated(NULL), before);
    ck_assert_ptr_null(tally_datatype_of(TALLY_TYPE_LIST));
    ck_assert_ptr_null(tally_datatype_of(TALLY_TYPE_STRUCT));
    ck_assert_ptr_null(tally_datatype_of((tally_type)-1));
    ck_assert(tally_type_is_nested(TALLY_TYPE_LIST));
    ck_assert_str_eq(tally_type_name(TALLY_TYPE_LIST), "list");
    ck_assert_str_eq(tally_type_format(TALLY_TYPE_STRUCT), "+s");
}
END_TEST

START_TEST(test_nested_types_and_equality)
{
    tally_datatype *a =
        struct_of("x", prim(TALLY_TYPE_INT32), "y", list_of(prim(TALLY_TYPE_STRING)));
    tally_datatype *b =
        struct_of("x", prim(TALLY_TYPE_INT32), "y", list_of(prim(TALLY_TYPE_STRING)));
    tally_datatype *c =
        struct_of("x", prim(TALLY_TYPE_INT32), "z", list_of(prim(TALLY_TYPE_STRING)));
    tally_datatype *d =
        struct_of("x", prim(TALLY_TYPE_INT32), "y", list_of(prim(TALLY_TYPE_BINARY)));
    ck_assert(tally_datatype_equals(a, b));
    ck_assert(!tally_datatype_equals(a, c)); /* a member's name */
    ck_assert(!tally_datatype_equals(a, d)); /* deep inside */
    ck_assert(!tally_datatype_equals(a, prim(TALLY_TYPE_INT32)));
    ck_assert_int_eq(tally_datatype_id(a), TALLY_TYPE_STRUCT);
    ck_assert_int_eq(tally_datatype_n_fields(a), 2);
    ck_assert_int_eq(tally_datatype_field_index(a, "y"), 1);
    ck_assert_int_eq(tally_datatype_field_index(a, "q"), -1);
    ck_assert_ptr_null(tally_datatype_field(a, 2));
    /* Nullability counts too. */
    tally_field *f = field_of("item", prim(TALLY_TYPE_STRING), false);
    tally_datatype *strict;
    ck_assert_int_eq(tally_datatype_list(test_pool, f, &strict), 0);
    tally_field_release(f);
    tally_datatype *loose = list_of(prim(TALLY_TYPE_STRING));
    ck_assert(!tally_datatype_equals(strict, loose));
    /* describe is snprintf-like. */
    char small[8];
    int64_t n = tally_datatype_describe(a, small, sizeof small);
    ck_assert_int_eq(n, (int64_t)strlen("struct<x: int32, y: list<item: string>>"));
    ck_assert_str_eq(small, "struct<");
    ck_assert_int_eq(tally_datatype_describe(a, NULL, 0), n);
    ck_assert_int_eq(tally_datatype_list(test_pool, NULL, &strict), EINVAL);
    ck_assert_int_eq(tally_datatype_struct(test_pool, NULL, 1, &strict), EINVAL);
    tally_datatype *empty;
    ck_assert_int_eq(tally_datatype_struct(test_pool, NULL, 0, &empty), 0);
    tally_datatype_describe(empty, small, sizeof small);
    ck_assert_str_eq(small, "struct<");
    tally_datatype_release(empty);
    tally_datatype_release(strict);
    tally_datatype_release(loose);
    tally_datatype_release(a);
    tally_datatype_release(b);
    tally_datatype_release(c);
    tally_datatype_release(d);
}
END_TEST

START_TEST(test_fields_copy_and_retain)
{
    char name[] = "price";
    char key[] = "unit", value[] = "EUR";
    tally_kv md[] = {{key, value}, {"scale", "2"}};
    tally_datatype *t = list_of(prim(TALLY_TYPE_DOUBLE));
    tally_field *f;
    ck_assert_int_eq(tally_field_new(test_pool, name, t, false, md, 2, &f), 0);
    tally_datatype_release(t); /* the field holds it */
    name[0] = 'X';             /* copies, not the caller's strings */
    key[0] = 'X';
    ck_assert_str_eq(tally_field_name(f), "price");
    ck_assert(!tally_field_nullable(f));
    ck_assert_int_eq(tally_field_n_metadata(f), 2);
    ck_assert_str_eq(tally_field_metadata(f, 0)->key, "unit");
    ck_assert_str_eq(tally_field_metadata(f, 1)->value, "2");
    ck_assert_ptr_null(tally_field_metadata(f, 2));
    ck_assert_int_eq(tally_datatype_id(tally_field_type(f)), TALLY_TYPE_LIST);
    tally_field *g;
    ck_assert_int_eq(tally_field_new(test_pool, "price", tally_field_type(f), false, md, 1, &g), 0);
    ck_assert(tally_field_equals(f, g, false));
    ck_assert(!tally_field_equals(f, g, true));
    tally_field_release(g);
    ck_assert_int_eq(tally_field_new(test_pool, NULL, t, true, NULL, 0, &g), EINVAL);
    ck_assert_int_eq(tally_field_new(test_pool, "x", NULL, true, NULL, 0, &g), EINVAL);
    tally_kv bad[] = {{"k", NULL}};
    ck_assert_int_eq(tally_field_new(test_pool, "x", prim(TALLY_TYPE_INT8), true, bad, 1, &g),
                     EINVAL);
    ck_assert_int_eq(tally_field_new(test_pool, "x", prim(TALLY_TYPE_INT8), true, NULL, 1, &g),
                     EINVAL);
    tally_field_release(f);
}
END_TEST

/* Each object is one block from the pool it was given, and gives it all back. */
START_TEST(test_every_byte_from_the_given_pool)
{
    tally_pool *p = tally_proxy_pool_new(test_pool, "tables");
    int64_t parent_before = tally_pool_bytes_allocated(test_pool);
    tally_field *f[2];
    ck_assert_int_eq(tally_field_new(p, "a", prim(TALLY_TYPE_INT64), true, NULL, 0, &f[0]), 0);
    int64_t one_field = tally_pool_bytes_allocated(p);
    ck_assert_int_eq(tally_pool_num_allocations(p), 1);
    ck_assert_int_gt(one_field, 0);
    ck_assert_int_eq(tally_field_new(p, "b", prim(TALLY_TYPE_STRING), true, NULL, 0, &f[1]), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(p), 2 * one_field); /* same-length names */
    tally_datatype *st;
    ck_assert_int_eq(tally_datatype_struct(p, f, 2, &st), 0);
    tally_kv md[] = {{"origin", "test"}};
    tally_schema *s;
    ck_assert_int_eq(tally_schema_new(p, f, 2, md, 1, &s), 0);
    ck_assert_int_eq(tally_pool_num_allocations(p), 4);
    /* Arrays from builders in p; the batch in p. */
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(st, p, &b), 0);
    ck_assert_int_eq(tally_builder_append_int(tally_builder_child(b, 0), 1), 0);
    ck_assert_int_eq(tally_builder_append_bytes(tally_builder_child(b, 1), "x", 1), 0);
    ck_assert_int_eq(tally_builder_append_element(b), 0);
    tally_array *sa;
    ck_assert_int_eq(tally_builder_finish(b, &sa), 0);
    tally_builder_destroy(b);
    int64_t before_batch = tally_pool_bytes_allocated(p);
    tally_record_batch *rb;
    tally_array *cols[2] = {tally_array_child(sa, 0), tally_array_child(sa, 1)};
    ck_assert_int_eq(tally_record_batch_make(p, s, 1, cols, 2, NULL, &rb), 0);
    int64_t batch_bytes = tally_pool_bytes_allocated(p) - before_batch;
    ck_assert_int_eq(batch_bytes, 8 * 4 + 8 + 2 * 8); /* the struct and 2 column pointers */
    /* Nothing went around p: its parent grew by exactly p's bytes. */
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool) - parent_before,
                     tally_pool_bytes_allocated(p));
    tally_field_release(f[0]);
    tally_field_release(f[1]);
    tally_datatype_release(st);
    tally_array_release(sa);
    tally_schema_release(s);
    ck_assert_int_gt(tally_pool_bytes_allocated(p), 0); /* the batch holds them all */
    tally_record_batch_release(rb);
    ck_assert_int_eq(tally_pool_bytes_allocated(p), 0);
    tally_pool_destroy(p);
}
END_TEST

START_TEST(test_schema_lookup_and_equality)
{
    tally_field *f[3] = {field_of("id", prim(TALLY_TYPE_INT64), false),
                         field_of("name", prim(TALLY_TYPE_STRING), true),
                         field_of("id", prim(TALLY_TYPE_DOUBLE), true)};
    tally_kv md[] = {{"k", "v"}};
    tally_schema *s, *t, *u;
    ck_assert_int_eq(tally_schema_new(test_pool, f, 3, md, 1, &s), 0);
    ck_assert_int_eq(tally_schema_new(test_pool, f, 3, NULL, 0, &t), 0);
    ck_assert_int_eq(tally_schema_new(test_pool, f, 2, NULL, 0, &u), 0);
    for (int k = 0; k < 3; k++)
        tally_field_release(f[k]);
    ck_assert_int_eq(tally_schema_n_fields(s), 3);
    ck_assert_int_eq(tally_schema_field_index(s, "id"), 0); /* the first of two */
    ck_assert_int_eq(tally_schema_field_index(s, "name"), 1);
    ck_assert_int_eq(tally_schema_field_index(s, "nope"), -1);
    ck_assert_str_eq(tally_field_name(tally_schema_field(s, 2)), "id");
    ck_assert_ptr_null(tally_schema_field(s, 3));
    ck_assert_int_eq(tally_schema_n_metadata(s), 1);
    ck_assert_str_eq(tally_schema_metadata(s, 0)->value, "v");
    ck_assert_ptr_null(tally_schema_metadata(t, 0));
    ck_assert(tally_schema_equals(s, t, false));
    ck_assert(!tally_schema_equals(s, t, true));
    ck_assert(!tally_schema_equals(s, u, false));
    tally_field *null_field = NULL;
    tally_schema *bad;
    ck_assert_int_eq(tally_schema_new(test_pool, &null_field, 1, NULL, 0, &bad), EINVAL);
    ck_assert_int_eq(tally_schema_new(test_pool, NULL, 1, NULL, 0, &bad), EINVAL);
    tally_schema_release(s);
    tally_schema_release(t);
    tally_schema_release(u);
}
END_TEST

/* id: int64 not null, tags: list<string>, pt: struct<a: int64, b: string>. */
static tally_schema *three_columns(void)
{
    tally_field *f[3] = {field_of("id", prim(TALLY_TYPE_INT64), false),
                         field_of("tags", list_of(prim(TALLY_TYPE_STRING)), true), NULL};
    tally_datatype_release(tally_field_type(f[1])); /* list_of's reference */
    tally_array *st = sample_structs(1);
    f[2] = field_of("pt", tally_array_datatype(st), true);
    tally_array_release(st);
    tally_schema *s;
    ck_assert_int_eq(tally_schema_new(test_pool, f, 3, NULL, 0, &s), 0);
    for (int k = 0; k < 3; k++)
        tally_field_release(f[k]);
    return s;
}

static tally_array *int64s(int n, bool with_null)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT64, test_pool, &b), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(
            with_null && i == 1 ? tally_builder_append_null(b) : tally_builder_append_int(b, i), 0);
    return finish_and_destroy(b);
}

static tally_array *string_lists(tally_datatype *t, int n)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i % 3; j++)
            ck_assert_int_eq(tally_builder_append_bytes(tally_builder_child(b, 0), "tag", 3), 0);
        ck_assert_int_eq(tally_builder_append_element(b), 0);
    }
    return finish_and_destroy(b);
}

START_TEST(test_record_batch_checks)
{
    tally_schema *s = three_columns();
    tally_array *cols[3] = {int64s(5, false),
                            string_lists(tally_field_type(tally_schema_field(s, 1)), 5),
                            sample_structs(5)};
    tally_record_batch *rb = NULL;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, cols, 3, &err, &rb), 0);
    ck_assert_int_eq(tally_record_batch_n_rows(rb), 5);
    ck_assert_int_eq(tally_record_batch_n_columns(rb), 3);
    ck_assert_ptr_eq(tally_record_batch_column(rb, 1), cols[1]);
    ck_assert_ptr_null(tally_record_batch_column(rb, 3));
    ck_assert_ptr_eq(tally_record_batch_schema(rb), s);
    ck_assert_str_eq(err.message, ""); /* untouched on success */

    tally_record_batch *bad = NULL;
    /* Unequal lengths. */
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 4, cols, 3, &err, &bad), EINVAL);
    ck_assert_str_eq(err.message, "column 0 (id) has 5 rows, the batch 4");
    tally_array *short_col = int64s(4, false), *swapped[3] = {short_col, cols[1], cols[2]};
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, swapped, 3, &err, &bad), EINVAL);
    ck_assert_str_eq(err.message, "column 0 (id) has 4 rows, the batch 5");
    tally_array_release(short_col);
    /* Column count. */
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, cols, 2, &err, &bad), EINVAL);
    ck_assert_str_eq(err.message, "2 columns for a schema of 3 fields");
    /* Type mismatch, flat and nested. */
    swapped[0] = cols[1];
    swapped[1] = cols[0];
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, swapped, 3, &err, &bad), EINVAL);
    ck_assert_str_eq(err.message, "column 0 (id) is not of its field's type");
    tally_datatype *other = list_of(prim(TALLY_TYPE_BINARY));
    tally_array *binary_lists = string_lists(other, 5);
    tally_datatype_release(other);
    swapped[0] = cols[0];
    swapped[1] = binary_lists;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, swapped, 3, NULL, &bad), EINVAL);
    tally_array_release(binary_lists);
    /* Nulls in a non-nullable field. */
    tally_array *with_null = int64s(5, true);
    swapped[0] = with_null;
    swapped[1] = cols[1];
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, swapped, 3, &err, &bad), EINVAL);
    ck_assert_str_eq(err.message, "column 0 (id) is not nullable but holds 1 nulls");
    tally_array_release(with_null);
    /* NULL columns and rows below 0. */
    swapped[0] = NULL;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 5, swapped, 3, &err, &bad), EINVAL);
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, -1, cols, 3, &err, &bad), EINVAL);
    ck_assert_int_eq(tally_record_batch_make(test_pool, NULL, 5, cols, 3, &err, &bad), EINVAL);
    ck_assert_ptr_null(bad);

    /* The batch holds its own references. */
    for (int k = 0; k < 3; k++)
        tally_array_release(cols[k]);
    tally_schema_release(s);
    ck_assert_int_eq(tally_array_length(tally_record_batch_column(rb, 2)), 5);
    tally_record_batch_release(rb);
}
END_TEST

START_TEST(test_record_batch_slice_and_equals)
{
    tally_schema *s = three_columns();
    tally_array *cols[3] = {int64s(9, false),
                            string_lists(tally_field_type(tally_schema_field(s, 1)), 9),
                            sample_structs(9)};
    tally_record_batch *rb, *sl, *again;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 9, cols, 3, NULL, &rb), 0);
    ck_assert_int_eq(tally_record_batch_slice(rb, 3, 4, &sl), 0);
    ck_assert_int_eq(tally_record_batch_n_rows(sl), 4);
    tally_array *c0 = tally_record_batch_column(sl, 0);
    ck_assert_int_eq(tally_array_offset(c0), 3);
    ck_assert_int_eq(tally_array_get_int(c0, 0), 3);
    ck_assert_int_eq(tally_record_batch_slice(rb, 3, 7, &again), EINVAL);
    ck_assert_int_eq(tally_record_batch_slice(rb, -1, 2, &again), EINVAL);
    /* The same rows assembled from sliced columns are equal. */
    tally_array *parts[3];
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(tally_array_slice(cols[k], 3, 4, &parts[k]), 0);
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 4, parts, 3, NULL, &again), 0);
    ck_assert(tally_record_batch_equals(sl, again));
    ck_assert(!tally_record_batch_equals(rb, again));
    tally_record_batch_release(again);
    ck_assert_int_eq(tally_array_slice(cols[0], 4, 4, &c0), 0); /* shifted by one */
    tally_array_release(parts[0]);
    parts[0] = c0;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 4, parts, 3, NULL, &again), 0);
    ck_assert(!tally_record_batch_equals(sl, again));
    tally_record_batch_release(again);
    for (int k = 0; k < 3; k++) {
        tally_array_release(parts[k]);
        tally_array_release(cols[k]);
    }
    tally_schema_release(s);
    tally_record_batch_release(rb);
    tally_record_batch_release(sl);
}
END_TEST

START_TEST(test_make_typed_checks)
{
    tally_datatype *t = list_of(prim(TALLY_TYPE_INT32));
    tally_array *child = int64s(6, false), *child32;
    {
        tally_builder *b;
        ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT32, test_pool, &b), 0);
        for (int i = 0; i < 6; i++)
            ck_assert_int_eq(tally_builder_append_int(b, i), 0);
        child32 = finish_and_destroy(b);
    }
    const int32_t good[] = {0, 2, 2, 6}, down[] = {0, 3, 2, 6}, past[] = {0, 2, 2, 7},
                  negative[] = {-1, 2, 2, 6};
    tally_buffer *offsets[4];
    const int32_t *sources[4] = {good, down, past, negative};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(tally_buffer_copy_from(test_pool, sources[i], 16, &offsets[i]), 0);
    tally_buffer *bufs[2] = {NULL, offsets[0]};
    tally_array *a = NULL;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 3, 0, -1, bufs, 2, &child32, 1, &err, &a),
                     0);
    ck_assert_ptr_eq(tally_array_buffer(a, 1), offsets[0]); /* zero-copy */
    ck_assert_ptr_eq(tally_array_child(a, 0), child32);
    ck_assert_int_eq(tally_array_null_count(a), 0);
    tally_array_release(a);
    a = NULL;
    for (int i = 1; i < 4; i++) {
        bufs[1] = offsets[i];
        err.message[0] = '\0';
        ck_assert_int_eq(
            tally_array_make_typed(test_pool, t, 3, 0, -1, bufs, 2, &child32, 1, &err, &a), EINVAL);
        ck_assert_int_gt(strlen(err.message), 0);
    }
    bufs[1] = offsets[0];
    /* Offsets for 4 elements in a buffer of 4 offsets. */
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 4, 0, -1, bufs, 2, &child32, 1, &err, &a),
                     EINVAL);
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 2, 1, -1, bufs, 2, &child32, 1, &err, &a),
                     0);
    ck_assert_int_eq(tally_array_list_offset(a, 0), 2);
    tally_array_release(a);
    /* Child of the wrong type; wrong child count; wrong buffer count. */
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 3, 0, -1, bufs, 2, &child, 1, &err, &a),
                     EINVAL);
    ck_assert_str_eq(err.message, "child 0 (item) is not of its field's type");
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 3, 0, -1, bufs, 2, NULL, 0, &err, &a),
                     EINVAL);
    ck_assert_str_eq(err.message, "list array with 0 children, expected 1");
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 3, 0, -1, bufs, 1, &child32, 1, &err, &a),
                     EINVAL);
    ck_assert_str_eq(err.message, "list array with 1 buffers, expected 2");
    /* Primitive types through make_typed: as tally_array_make. */
    tally_buffer *values = tally_array_buffer(child, 1);
    tally_buffer *pbufs[2] = {NULL, values};
    ck_assert_int_eq(tally_array_make_typed(test_pool, prim(TALLY_TYPE_INT64), 6, 0, 0, pbufs, 2,
                                            NULL, 0, &err, &a),
                     0);
    ck_assert(tally_array_equals(a, child));
    tally_array_release(a);
    ck_assert_int_eq(tally_array_make_typed(test_pool, prim(TALLY_TYPE_INT64), 7, 0, 0, pbufs, 2,
                                            NULL, 0, &err, &a),
                     EINVAL);
    ck_assert_int_eq(tally_array_make_typed(test_pool, prim(TALLY_TYPE_INT64), 6, 0, 0, pbufs, 2,
                                            &child, 1, &err, &a),
                     EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_LIST, 3, bufs, 2, 0, 0, &a), EINVAL);

    /* A struct's children must reach offset + length. */
    tally_datatype *st = struct_of("a", prim(TALLY_TYPE_INT64), "b", prim(TALLY_TYPE_INT32));
    tally_buffer *sbufs[1] = {NULL};
    tally_array *kids[2] = {child, child32};
    ck_assert_int_eq(tally_array_make_typed(test_pool, st, 4, 2, 0, sbufs, 1, kids, 2, &err, &a),
                     0);
    tally_array *m;
    ck_assert_int_eq(tally_array_struct_field(a, 1, &m), 0);
    ck_assert_int_eq(tally_array_get_int(m, 0), 2);
    tally_array_release(m);
    tally_array_release(a);
    ck_assert_int_eq(tally_array_make_typed(test_pool, st, 4, 3, 0, sbufs, 1, kids, 2, &err, &a),
                     EINVAL);
    ck_assert_str_eq(err.message, "struct child 0 (a) has 6 elements, fewer than 7");
    kids[1] = child;
    ck_assert_int_eq(tally_array_make_typed(test_pool, st, 4, 0, 0, sbufs, 1, kids, 2, &err, &a),
                     EINVAL);
    kids[1] = child32;
    /* offset + length past int64: refused before any sum is formed. */
    ck_assert_int_eq(
        tally_array_make_typed(test_pool, st, INT64_MAX, 2, 0, sbufs, 1, kids, 2, &err, &a),
        EINVAL);
    ck_assert_str_eq(err.message, "length 9223372036854775807 at offset 2");
    ck_assert_int_eq(tally_array_make_typed(test_pool, st, -1, 0, 0, sbufs, 1, kids, 2, &err, &a),
                     EINVAL);
    tally_datatype_release(st);
    for (int i = 0; i < 4; i++)
        tally_buffer_release(offsets[i]);
    tally_array_release(child);
    tally_array_release(child32);
    tally_datatype_release(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("table");
    TCase *tc = accounted_tcase("table");
    tcase_add_test(tc, test_primitive_types_are_static);
    tcase_add_test(tc, test_nested_types_and_equality);
    tcase_add_test(tc, test_fields_copy_and_retain);
    tcase_add_test(tc, test_every_byte_from_the_given_pool);
    tcase_add_test(tc, test_schema_lookup_and_equality);
    tcase_add_test(tc, test_record_batch_checks);
    tcase_add_test(tc, test_record_batch_slice_and_equals);
    tcase_add_test(tc, test_make_typed_checks);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
