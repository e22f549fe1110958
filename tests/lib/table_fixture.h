/* table_fixture.h: data types and arrays that the nested-type tests share.
 * Everything is made in test_pool (pool_fixture.h), whose books must be back
 * at their baseline after each test. */
#ifndef TALLY_TABLE_FIXTURE_H
#define TALLY_TABLE_FIXTURE_H

#include "pool_fixture.h"

static inline tally_field *field_of(const char *name, tally_datatype *type, bool nullable)
{
    tally_field *f;
    ck_assert_int_eq(tally_field_new(test_pool, name, type, nullable, NULL, 0, &f), 0);
    return f;
}

/* list<item: item> (nullable items); takes over the caller's reference on item. */
static inline tally_datatype *list_of(tally_datatype *item)
{
    tally_field *f = field_of("item", item, true);
    tally_datatype_release(item);
    tally_datatype *t;
    ck_assert_int_eq(tally_datatype_list(test_pool, f, &t), 0);
    tally_field_release(f);
    return t;
}

/* struct<name0: t0, name1: t1> (nullable); takes over the references on t0, t1. */
static inline tally_datatype *struct_of(const char *name0, tally_datatype *t0, const char *name1,
                                        tally_datatype *t1)
{
    tally_field *f[2] = {field_of(name0, t0, true), field_of(name1, t1, true)};
    tally_datatype_release(t0);
    tally_datatype_release(t1);
    tally_datatype *t;
    ck_assert_int_eq(tally_datatype_struct(test_pool, f, 2, &t), 0);
    tally_field_release(f[0]);
    tally_field_release(f[1]);
    return t;
}

static inline tally_datatype *prim(tally_type id)
{
    return tally_datatype_of(id);
}

static inline tally_array *finish_and_destroy(tally_builder *b)
{
    tally_array *a;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    tally_builder_destroy(b);
    return a;
}

/* list<int32> from a description: rows[i] lists the values of element i,
 * lens[i] its length, -1 for a null element. */
static inline tally_array *int32_lists(const int32_t *const *rows, const int *lens, int n)
{
    tally_datatype *t = list_of(prim(TALLY_TYPE_INT32));
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    tally_datatype_release(t);
    tally_builder *items = tally_builder_child(b, 0);
    for (int i = 0; i < n; i++) {
        if (lens[i] < 0) {
            ck_assert_int_eq(tally_builder_append_null(b), 0);
            continue;
        }
        for (int j = 0; j < lens[i]; j++)
            ck_assert_int_eq(tally_builder_append_int(items, rows[i][j]), 0);
        ck_assert_int_eq(tally_builder_append_element(b), 0);
    }
    return finish_and_destroy(b);
}

/* struct<a: int64, b: string>: element i is {i * 10, "s" repeated i times},
 * null where i % 3 == 1; member a is null (inside a valid element) where
 * i % 4 == 2. */
static inline tally_array *sample_structs(int n)
{
    tally_datatype *t = struct_of("a", prim(TALLY_TYPE_INT64), "b", prim(TALLY_TYPE_STRING));
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    tally_datatype_release(t);
    for (int i = 0; i < n; i++) {
        if (i % 3 == 1) {
            ck_assert_int_eq(tally_builder_append_null(b), 0);
            continue;
        }
        tally_builder *a = tally_builder_child(b, 0), *s = tally_builder_child(b, 1);
        ck_assert_int_eq(
            i % 4 == 2 ? tally_builder_append_null(a) : tally_builder_append_int(a, i * 10), 0);
        ck_assert_int_eq(tally_builder_append_bytes(s, "ssssssssssssssssssss", i % 20), 0);
        ck_assert_int_eq(tally_builder_append_element(b), 0);
    }
    return finish_and_destroy(b);
}

#endif
