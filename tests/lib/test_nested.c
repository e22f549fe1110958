/* test_nested: list and struct arrays: builders, getters, slices, equality,
 * and arrays made from buffers and children with every check. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>

#include "table_fixture.h"

static const int32_t row0[] = {1, 2}, row3[] = {3}, row4[] = {4, 5, 6};
static const int32_t *const rows[] = {row0, NULL, NULL, row3, row4};
static const int lens[] = {2, -1, 0, 1, 3};

static void assert_int32s(const tally_array *a, const int32_t *want, int n)
{
    ck_assert_int_eq(tally_array_type(a), TALLY_TYPE_INT32);
    ck_assert_int_eq(tally_array_length(a), n);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(tally_array_get_int(a, i), want[i]);
}

START_TEST(test_list_builder_and_getters)
{
    tally_array *a = int32_lists(rows, lens, 5); /* [[1,2], null, [], [3], [4,5,6]] */
    ck_assert_int_eq(tally_array_type(a), TALLY_TYPE_LIST);
    ck_assert_int_eq(tally_array_length(a), 5);
    ck_assert_int_eq(tally_array_null_count(a), 1);
    ck_assert_int_eq(tally_array_n_buffers(a), 2);
    ck_assert_int_eq(tally_array_n_children(a), 1);
    ck_assert_int_eq(tally_array_length(tally_array_child(a, 0)), 6);
    ck_assert_ptr_null(tally_array_child(a, 1));
    const int64_t offsets[] = {0, 2, 2, 2, 3, 6};
    for (int i = 0; i <= 5; i++)
        ck_assert_int_eq(tally_array_list_offset(a, i), offsets[i]);
    ck_assert_int_eq(tally_array_list_offset(a, 6), 0); /* out of range */
    ck_assert(tally_array_is_valid(a, 0));
    ck_assert(!tally_array_is_valid(a, 1));
    ck_assert(tally_array_is_valid(a, 2));
    for (int i = 0; i < 5; i++) {
        tally_array *v;
        ck_assert_int_eq(tally_array_list_value(a, i, &v), 0);
        assert_int32s(v, rows[i], lens[i] < 0 ? 0 : lens[i]);
        tally_array_release(v);
    }
    tally_array *v = NULL;
    ck_assert_int_eq(tally_array_list_value(a, 5, &v), EINVAL);
    ck_assert_int_eq(tally_array_struct_field(a, 0, &v), EINVAL);
    ck_assert_ptr_null(v);
    /* Getters that do not fit the type give 0. */
    ck_assert_int_eq(tally_array_get_int(a, 0), 0);
    int64_t len = 7;
    ck_assert_ptr_null(tally_array_get_bytes(a, 0, &len));
    ck_assert_int_eq(len, 0);
    char text[64];
    ck_assert_int_eq(tally_datatype_describe(tally_array_datatype(a), text, sizeof text),
                     (int64_t)strlen("list<item: int32>"));
    ck_assert_str_eq(text, "list<item: int32>");
    tally_array_release(a);
}
END_TEST

START_TEST(test_list_slices)
{
    tally_array *a = int32_lists(rows, lens, 5), *s, *s2;
    ck_assert_int_eq(tally_array_slice(a, 1, 4, &s), 0); /* [null, [], [3], [4,5,6]] */
    ck_assert_int_eq(tally_array_null_count(s), 1);
    ck_assert_int_eq(tally_array_offset(s), 1);
    ck_assert_ptr_eq(tally_array_child(s, 0), tally_array_child(a, 0)); /* shared */
    ck_assert_int_eq(tally_array_list_offset(s, 0), 2);
    tally_array *v;
    ck_assert_int_eq(tally_array_list_value(s, 3, &v), 0);
    assert_int32s(v, row4, 3);
    tally_array_release(v);
    /* The same values built from scratch equal the slice. */
    tally_array *b = int32_lists(rows + 1, lens + 1, 4);
    ck_assert(tally_array_equals(s, b));
    ck_assert(tally_array_equals(b, s));
    ck_assert(!tally_array_equals(a, b));
    ck_assert_int_eq(tally_array_slice(s, 2, 2, &s2), 0); /* [[3], [4,5,6]] */
    tally_array *c = int32_lists(rows + 3, lens + 3, 2);
    ck_assert(tally_array_equals(s2, c));
    ck_assert(!tally_array_equals(s2, s));
    tally_array_release(c);
    tally_array_release(s2);
    tally_array_release(b);
    tally_array_release(s);
    tally_array_release(a);
}
END_TEST

START_TEST(test_list_equality_looks_at_values)
{
    static const int32_t other4[] = {4, 5, 7};
    const int32_t *const other[] = {row0, NULL, NULL, row3, other4};
    const int other_lens[] = {2, 0, 0, 1, 3}; /* [] where rows has null */
    tally_array *a = int32_lists(rows, lens, 5), *b = int32_lists(other, lens, 5),
                *c = int32_lists(rows, other_lens, 5);
    ck_assert(!tally_array_equals(a, b)); /* 6 vs 7 */
    ck_assert(!tally_array_equals(a, c)); /* null vs [] */
    tally_array *s1, *s2;
    ck_assert_int_eq(tally_array_slice(a, 0, 4, &s1), 0);
    ck_assert_int_eq(tally_array_slice(b, 0, 4, &s2), 0);
    ck_assert(tally_array_equals(s1, s2)); /* the difference is sliced away */
    tally_array_release(s1);
    tally_array_release(s2);
    tally_array_release(a);
    tally_array_release(b);
    tally_array_release(c);
}
END_TEST

START_TEST(test_struct_builder_and_getters)
{
    tally_array *a = sample_structs(7);
    ck_assert_int_eq(tally_array_type(a), TALLY_TYPE_STRUCT);
    ck_assert_int_eq(tally_array_length(a), 7);
    ck_assert_int_eq(tally_array_null_count(a), 2); /* 1 and 4 */
    ck_assert_int_eq(tally_array_n_buffers(a), 1);
    ck_assert_int_eq(tally_array_n_children(a), 2);
    /* A null struct element put a null in each child too. */
    tally_array *ca = tally_array_child(a, 0), *cb = tally_array_child(a, 1);
    ck_assert_int_eq(tally_array_length(ca), 7);
    ck_assert_int_eq(tally_array_length(cb), 7);
    ck_assert_int_eq(tally_array_null_count(ca), 4); /* 1, 4 (struct nulls), 2, 6 */
    ck_assert_int_eq(tally_array_null_count(cb), 2);
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(tally_array_is_valid(a, i), i % 3 != 1);
        if (i % 3 == 1)
            continue;
        ck_assert_int_eq(tally_array_is_valid(ca, i), i % 4 != 2);
        if (i % 4 != 2)
            ck_assert_int_eq(tally_array_get_int(ca, i), i * 10);
        int64_t len;
        tally_array_get_bytes(cb, i, &len);
        ck_assert_int_eq(len, i);
    }
    char text[64];
    tally_datatype_describe(tally_array_datatype(a), text, sizeof text);
    ck_assert_str_eq(text, "struct<a: int64, b: string>");
    tally_array_release(a);
}
END_TEST

START_TEST(test_struct_slices_apply_to_members)
{
    tally_array *a = sample_structs(12), *s, *m;
    ck_assert_int_eq(tally_array_slice(a, 5, 6, &s), 0);
    ck_assert_int_eq(tally_array_null_count(s), 2); /* 7 and 10 */
    /* The children are shared, unsliced; the member view is sliced. */
    ck_assert_ptr_eq(tally_array_child(s, 0), tally_array_child(a, 0));
    ck_assert_int_eq(tally_array_struct_field(s, 0, &m), 0);
    ck_assert_int_eq(tally_array_length(m), 6);
    ck_assert_int_eq(tally_array_offset(m), 5);
    ck_assert_int_eq(tally_array_get_int(m, 0), 50);
    ck_assert(!tally_array_is_valid(m, 1)); /* element 6: a is null */
    tally_array_release(m);
    ck_assert_int_eq(tally_array_struct_field(s, 2, &m), EINVAL);
    ck_assert_int_eq(tally_array_struct_field(s, -1, &m), EINVAL);
    /* Equal to the same rows built on their own... */
    tally_array *all = sample_structs(12), *s2;
    ck_assert_int_eq(tally_array_slice(all, 5, 6, &s2), 0);
    ck_assert(tally_array_equals(s, s2));
    tally_array_release(s2);
    /* ...and not to a shifted window. */
    ck_assert_int_eq(tally_array_slice(all, 4, 6, &s2), 0);
    ck_assert(!tally_array_equals(s, s2));
    tally_array_release(s2);
    tally_array_release(all);
    tally_array_release(s);
    tally_array_release(a);
}
END_TEST

/* list<struct<a: int64, b: string>> and struct<x: list<int32>, y: double>. */
START_TEST(test_deep_nesting)
{
    tally_datatype *inner = struct_of("a", prim(TALLY_TYPE_INT64), "b", prim(TALLY_TYPE_STRING));
    tally_datatype *t = list_of(inner);
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    ck_assert(tally_datatype_equals(tally_builder_datatype(b), t));
    tally_builder *st = tally_builder_child(b, 0);
    ck_assert_int_eq(tally_builder_n_children(st), 2);
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < i; j++) {
            ck_assert_int_eq(tally_builder_append_int(tally_builder_child(st, 0), i * 100 + j), 0);
            ck_assert_int_eq(tally_builder_append_bytes(tally_builder_child(st, 1), "q", 1), 0);
            ck_assert_int_eq(tally_builder_append_element(st), 0);
        }
        if (i == 2)
            ck_assert_int_eq(tally_builder_append_null(st), 0); /* a null struct in a list */
        ck_assert_int_eq(tally_builder_append_element(b), 0);
    }
    tally_array *a = finish_and_destroy(b);
    ck_assert_int_eq(tally_array_length(a), 4);
    ck_assert_int_eq(tally_array_list_offset(a, 4), 7);
    tally_array *v, *m;
    ck_assert_int_eq(tally_array_list_value(a, 2, &v), 0); /* [{200, q}, {201, q}, null] */
    ck_assert_int_eq(tally_array_length(v), 3);
    ck_assert(!tally_array_is_valid(v, 2));
    ck_assert_int_eq(tally_array_struct_field(v, 0, &m), 0);
    ck_assert_int_eq(tally_array_get_int(m, 1), 201);
    tally_array_release(m);
    tally_array_release(v);
    ck_assert_int_eq(tally_array_list_value(a, 3, &v), 0);
    ck_assert_int_eq(tally_array_struct_field(v, 0, &m), 0);
    ck_assert_int_eq(tally_array_get_int(m, 0), 300);
    tally_array_release(m);
    tally_array_release(v);
    tally_array_release(a);

    tally_datatype *outer =
        struct_of("x", list_of(prim(TALLY_TYPE_INT32)), "y", prim(TALLY_TYPE_DOUBLE));
    char text[96];
    tally_datatype_describe(outer, text, sizeof text);
    ck_assert_str_eq(text, "struct<x: list<item: int32>, y: double>");
    ck_assert_int_eq(tally_builder_new_typed(outer, test_pool, &b), 0);
    tally_builder *x = tally_builder_child(b, 0), *y = tally_builder_child(b, 1);
    ck_assert_int_eq(tally_builder_append_int(tally_builder_child(x, 0), 9), 0);
    ck_assert_int_eq(tally_builder_append_element(x), 0);
    ck_assert_int_eq(tally_builder_append_double(y, 0.5), 0);
    ck_assert_int_eq(tally_builder_append_element(b), 0);
    ck_assert_int_eq(tally_builder_append_nulls(b, 2), 0); /* a null list in x, a null in y */
    a = finish_and_destroy(b);
    ck_assert_int_eq(tally_array_null_count(a), 2);
    ck_assert_int_eq(tally_array_null_count(tally_array_child(a, 0)), 2);
    ck_assert_int_eq(tally_array_list_offset(tally_array_child(a, 0), 3), 1);
    tally_array_release(a);
    tally_datatype_release(outer);
    tally_datatype_release(t);
}
END_TEST

START_TEST(test_builder_misuse)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_LIST, test_pool, &b), EINVAL);
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_STRUCT, test_pool, &b), EINVAL);
    ck_assert_int_eq(tally_builder_new_typed(NULL, test_pool, &b), EINVAL);
    /* Primitive types through new_typed work as tally_builder_new. */
    ck_assert_int_eq(tally_builder_new_typed(prim(TALLY_TYPE_INT16), test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_type(b), TALLY_TYPE_INT16);
    ck_assert_int_eq(tally_builder_n_children(b), 0);
    ck_assert_ptr_null(tally_builder_child(b, 0));
    ck_assert_int_eq(tally_builder_append_element(b), EINVAL);
    tally_builder_destroy(b);

    tally_datatype *t = struct_of("a", prim(TALLY_TYPE_INT64), "b", prim(TALLY_TYPE_STRING));
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    tally_datatype_release(t);
    /* One child short: refused, nothing appended. */
    ck_assert_int_eq(tally_builder_append_int(tally_builder_child(b, 0), 1), 0);
    ck_assert_int_eq(tally_builder_append_element(b), EINVAL);
    ck_assert_int_eq(tally_builder_length(b), 0);
    ck_assert_int_eq(tally_builder_append_bytes(tally_builder_child(b, 1), "x", 1), 0);
    ck_assert_int_eq(tally_builder_append_element(b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_values(b, (int64_t[]){1}, NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_bytes(b, "x", 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_double(b, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_bool(b, true), EINVAL);
    /* reset empties the children too. */
    tally_builder_reset(b);
    ck_assert_int_eq(tally_builder_length(b), 0);
    ck_assert_int_eq(tally_builder_length(tally_builder_child(b, 1)), 0);
    tally_array *a = finish_and_destroy(b);
    ck_assert_int_eq(tally_array_length(a), 0);
    ck_assert_int_eq(tally_array_length(tally_array_child(a, 1)), 0);
    tally_array_release(a);

    /* A list whose child was reset under it. */
    t = list_of(prim(TALLY_TYPE_INT32));
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    tally_datatype_release(t);
    ck_assert_int_eq(tally_builder_append_int(tally_builder_child(b, 0), 1), 0);
    ck_assert_int_eq(tally_builder_append_element(b), 0);
    tally_builder_reset(tally_builder_child(b, 0));
    ck_assert_int_eq(tally_builder_append_element(b), EINVAL);
    ck_assert_int_eq(tally_builder_length(b), 1);
    tally_builder_destroy(b);
}
END_TEST

/* A builder that is used again after finish starts from nothing. */
START_TEST(test_nested_builder_reuse)
{
    tally_datatype *t = list_of(prim(TALLY_TYPE_INT32));
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    tally_datatype_release(t);
    tally_array *arrays[2];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++) {
            for (int j = 0; j < i % 5; j++)
                ck_assert_int_eq(tally_builder_append_int(tally_builder_child(b, 0), j + round), 0);
            ck_assert_int_eq(tally_builder_append_element(b), 0);
        }
        ck_assert_int_eq(tally_builder_finish(b, &arrays[round]), 0);
        ck_assert_int_eq(tally_builder_length(b), 0);
        ck_assert_int_eq(tally_builder_length(tally_builder_child(b, 0)), 0);
    }
    tally_builder_destroy(b);
    ck_assert_int_eq(tally_array_list_offset(arrays[1], 100), 200);
    tally_array *v;
    ck_assert_int_eq(tally_array_list_value(arrays[1], 4, &v), 0);
    ck_assert_int_eq(tally_array_get_int(v, 3), 4);
    tally_array_release(v);
    ck_assert(!tally_array_equals(arrays[0], arrays[1]));
    tally_array_release(arrays[0]);
    tally_array_release(arrays[1]);
}
END_TEST

/* Every allocation of a nested builder fails in turn: each failure is ENOMEM
 * and leaves nothing behind. */
START_TEST(test_nested_builder_out_of_memory)
{
    tally_datatype *t =
        list_of(struct_of("a", prim(TALLY_TYPE_INT64), "b", list_of(prim(TALLY_TYPE_STRING))));
    int successes = 0, failures = 0;
    for (int64_t limit = 0; limit < 20000; limit += 64) {
        tally_pool *pool = capped(limit);
        tally_builder *b = NULL;
        tally_array *a = NULL;
        int rc = tally_builder_new_typed(t, pool, &b);
        for (int i = 0; rc == 0 && i < 40; i++) {
            tally_builder *st = tally_builder_child(b, 0);
            tally_builder *l = tally_builder_child(st, 1);
            rc = tally_builder_append_int(tally_builder_child(st, 0), i);
            if (rc == 0)
                rc = tally_builder_append_bytes(tally_builder_child(l, 0), "abc", i % 4);
            if (rc == 0)
                rc = tally_builder_append_element(l);
            if (rc == 0)
                rc = tally_builder_append_element(st);
            if (rc == 0)
                rc = i % 7 == 0 ? tally_builder_append_null(st) : 0;
            if (rc == 0)
                rc = tally_builder_append_element(b);
        }
        if (rc == 0)
            rc = tally_builder_finish(b, &a);
        ck_assert(rc == 0 || rc == ENOMEM);
        if (rc == 0) {
            successes++;
            ck_assert_int_eq(tally_array_length(a), 40);
            ck_assert_int_eq(tally_array_list_offset(a, 40), 40 + 6);
        } else {
            failures++;
        }
        tally_array_release(a);
        tally_builder_destroy(b);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
    }
    ck_assert_int_gt(successes, 0);
    ck_assert_int_gt(failures, 20);
    tally_datatype_release(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nested");
    TCase *tc = accounted_tcase("nested");
    tcase_add_test(tc, test_list_builder_and_getters);
    tcase_add_test(tc, test_list_slices);
    tcase_add_test(tc, test_list_equality_looks_at_values);
    tcase_add_test(tc, test_struct_builder_and_getters);
    tcase_add_test(tc, test_struct_slices_apply_to_members);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_builder_misuse);
    tcase_add_test(tc, test_nested_builder_reuse);
    tcase_add_test(tc, test_nested_builder_out_of_memory);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
