/* test_concat: tally_array_concat over every layout, slices and nulls, nested
 * types, its errors, and the pool it charges. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "table_fixture.h"

/* int32 [start, start + n), null where value % nulls_every == 0 (0: none). */
static tally_array *ints(int start, int n, int nulls_every)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT32, test_pool, &b), 0);
    for (int v = start; v < start + n; v++)
        ck_assert_int_eq(nulls_every && v % nulls_every == 0 ? tally_builder_append_null(b)
                                                             : tally_builder_append_int(b, v),
                         0);
    return finish_and_destroy(b);
}

static tally_array *sliced(tally_array *a, int64_t offset, int64_t length)
{
    tally_array *s;
    ck_assert_int_eq(tally_array_slice(a, offset, length, &s), 0);
    tally_array_release(a);
    return s;
}

static tally_array *concat(tally_array *const *arrays, int n)
{
    tally_array *out;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_array_concat(arrays, n, test_pool, &err, &out), 0);
    return out;
}

static void release_all(tally_array **arrays, int n)
{
    for (int i = 0; i < n; i++)
        tally_array_release(arrays[i]);
}

START_TEST(test_concat_fixed_width_slices_and_nulls)
{
    /* 3..9 (nulls at 5 and 8... every 5: 5), 10..19 no nulls, 20..29 (nulls every 4) */
    tally_array *parts[3] = {sliced(ints(0, 10, 5), 3, 7), ints(10, 10, 0),
                             sliced(ints(17, 20, 4), 3, 10)};
    tally_array *c = concat(parts, 3), *want = ints(3, 27, 0);
    ck_assert_int_eq(tally_array_length(c), 27);
    ck_assert_int_eq(tally_array_offset(c), 0);
    ck_assert_int_eq(tally_array_null_count(c), 1 + 3); /* 5; 20, 24, 28 */
    for (int i = 0; i < 27; i++) {
        int v = i + 3;
        bool null = (v < 10 && v % 5 == 0) || (v >= 20 && v % 4 == 0);
        ck_assert_int_eq(tally_array_is_valid(c, i), !null);
        if (!null)
            ck_assert_int_eq(tally_array_get_int(c, i), v);
    }
    ck_assert(!tally_array_equals(c, want)); /* the nulls differ */
    tally_array_release(want);
    /* One array alone is a copy of its logical values. */
    tally_array *one = concat(parts, 1);
    ck_assert(tally_array_equals(one, parts[0]));
    ck_assert_ptr_ne(tally_buffer_data(tally_array_buffer(one, 1)),
                     tally_buffer_data(tally_array_buffer(parts[0], 1)));
    tally_array_release(one);
    tally_array_release(c);
    release_all(parts, 3);
}
END_TEST

START_TEST(test_concat_bools_at_odd_offsets)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_BOOL, test_pool, &b), 0);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(i % 11 == 0 ? tally_builder_append_null(b)
                                     : tally_builder_append_bool(b, i % 3 == 0),
                         0);
    tally_array *all = finish_and_destroy(b);
    int cuts[] = {0, 3, 4, 13, 29, 50};
    tally_array *parts[5];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tally_array_slice(all, cuts[i], cuts[i + 1] - cuts[i], &parts[i]), 0);
    tally_array *c = concat(parts, 5);
    ck_assert(tally_array_equals(c, all));
    tally_array_release(c);
    release_all(parts, 5);
    tally_array_release(all);
}
END_TEST

START_TEST(test_concat_strings)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_STRING, test_pool, &b), 0);
    char text[32];
    for (int i = 0; i < 40; i++) {
        int len = snprintf(text, sizeof text, "s%d", i * 37);
        ck_assert_int_eq(i % 6 == 5 ? tally_builder_append_null(b)
                                    : tally_builder_append_bytes(b, text, len),
                         0);
    }
    tally_array *all = finish_and_destroy(b);
    int cuts[] = {0, 7, 7, 20, 33, 40};
    tally_array *parts[5];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tally_array_slice(all, cuts[i], cuts[i + 1] - cuts[i], &parts[i]), 0);
    /* Out of order: 33..40, 7..20, 0..7, 20..33 */
    tally_array *order[4] = {parts[4], parts[2], parts[0], parts[3]};
    tally_array *c = concat(order, 4);
    ck_assert_int_eq(tally_array_length(c), 40);
    int src = 33;
    for (int i = 0; i < 40; i++, src++) {
        if (i == 7)
            src = 7;
        else if (i == 20)
            src = 0;
        else if (i == 27)
            src = 20;
        ck_assert_int_eq(tally_array_is_valid(c, i), tally_array_is_valid(all, src));
        int64_t n, m;
        const uint8_t *x = tally_array_get_bytes(c, i, &n),
                      *y = tally_array_get_bytes(all, src, &m);
        ck_assert_int_eq(n, m);
        ck_assert(n == 0 || memcmp(x, y, (size_t)n) == 0);
    }
    /* The data buffer holds exactly the bytes of the valid strings. */
    int64_t bytes = 0;
    for (int i = 0; i < 40; i++) {
        int64_t n;
        tally_array_get_bytes(all, i, &n);
        bytes += n;
    }
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(c, 2)), bytes);
    tally_array_release(c);
    release_all(parts, 5);
    tally_array_release(all);
}
END_TEST

START_TEST(test_concat_lists)
{
    static const int32_t r0[] = {1, 2}, r2[] = {3}, r3[] = {4, 5, 6}, r5[] = {7, 8};
    const int32_t *const rows[] = {r0, NULL, r2, r3, NULL, r5};
    const int lens[] = {2, -1, 1, 3, 0, 2};
    tally_array *all = int32_lists(rows, lens, 6), *parts[3];
    ck_assert_int_eq(tally_array_slice(all, 2, 3, &parts[0]), 0); /* [3], [4,5,6], [] */
    ck_assert_int_eq(tally_array_slice(all, 0, 2, &parts[1]), 0); /* [1,2], null */
    ck_assert_int_eq(tally_array_slice(all, 5, 1, &parts[2]), 0); /* [7,8] */
    tally_array *c = concat(parts, 3);
    const int32_t *const want_rows[] = {r2, r3, NULL, r0, NULL, r5};
    const int want_lens[] = {1, 3, 0, 2, -1, 2};
    tally_array *want = int32_lists(want_rows, want_lens, 6);
    ck_assert(tally_array_equals(c, want));
    /* The child holds only the values the elements cover. */
    ck_assert_int_eq(tally_array_length(tally_array_child(c, 0)), 8);
    ck_assert_int_eq(tally_array_list_offset(c, 0), 0);
    tally_array_release(want);
    tally_array_release(c);
    release_all(parts, 3);
    tally_array_release(all);
}
END_TEST

START_TEST(test_concat_structs_and_deeper)
{
    tally_array *all = sample_structs(30), *parts[3];
    ck_assert_int_eq(tally_array_slice(all, 0, 11, &parts[0]), 0);
    ck_assert_int_eq(tally_array_slice(all, 11, 0, &parts[1]), 0);
    ck_assert_int_eq(tally_array_slice(all, 11, 19, &parts[2]), 0);
    tally_array *c = concat(parts, 3);
    ck_assert(tally_array_equals(c, all));
    ck_assert_int_eq(tally_array_length(tally_array_child(c, 0)), 30);
    tally_array_release(c);
    release_all(parts, 3);

    /* list<struct<a, b>> over slices of a list of slices of structs. */
    tally_datatype *t = list_of(tally_datatype_retain(tally_array_datatype(all)));
    tally_array *kids[2];
    ck_assert_int_eq(tally_array_slice(all, 3, 20, &kids[0]), 0);
    tally_array *child = concat(kids, 1);
    tally_array_release(kids[0]);
    const int32_t offsets[] = {0, 5, 5, 12, 20};
    tally_buffer *bufs[2] = {NULL, NULL};
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, offsets, sizeof offsets, &bufs[1]), 0);
    tally_array *lists;
    ck_assert_int_eq(
        tally_array_make_typed(test_pool, t, 4, 0, 0, bufs, 2, &child, 1, NULL, &lists), 0);
    tally_buffer_release(bufs[1]);
    tally_array_release(child);
    ck_assert_int_eq(tally_array_slice(lists, 2, 2, &parts[0]), 0);
    ck_assert_int_eq(tally_array_slice(lists, 0, 2, &parts[1]), 0);
    c = concat(parts, 2);
    tally_array *v, *w;
    ck_assert_int_eq(tally_array_list_value(c, 0, &v), 0); /* all[8..15) */
    ck_assert_int_eq(tally_array_slice(all, 8, 7, &w), 0);
    ck_assert(tally_array_equals(v, w));
    tally_array_release(v);
    tally_array_release(w);
    ck_assert_int_eq(tally_array_list_value(c, 2, &v), 0); /* all[3..8) */
    ck_assert_int_eq(tally_array_slice(all, 3, 5, &w), 0);
    ck_assert(tally_array_equals(v, w));
    tally_array_release(v);
    tally_array_release(w);
    tally_array_release(c);
    release_all(parts, 2);
    tally_array_release(lists);
    tally_datatype_release(t);
    tally_array_release(all);
}
END_TEST

START_TEST(test_concat_errors)
{
    tally_array *parts[2] = {ints(0, 3, 0), NULL}, *out = NULL;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_array_concat(parts, 0, test_pool, &err, &out), EINVAL);
    ck_assert_int_eq(tally_array_concat(parts, 2, test_pool, &err, &out), EINVAL);
    ck_assert_str_eq(err.message, "array 1 is NULL");
    parts[1] = sample_structs(2);
    ck_assert_int_eq(tally_array_concat(parts, 2, test_pool, &err, &out), EINVAL);
    ck_assert_str_eq(err.message, "array 1's type differs from array 0's");
    ck_assert_int_eq(tally_array_concat(parts, 2, test_pool, NULL, &out), EINVAL);
    ck_assert_int_eq(tally_array_concat(NULL, 2, test_pool, NULL, &out), EINVAL);
    ck_assert_ptr_null(out);
    /* Same id, different child names: different types. */
    tally_datatype *t = struct_of("a", prim(TALLY_TYPE_INT64), "c", prim(TALLY_TYPE_STRING));
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new_typed(t, test_pool, &b), 0);
    tally_datatype_release(t);
    tally_array_release(parts[0]);
    parts[0] = finish_and_destroy(b);
    ck_assert_int_eq(tally_array_concat(parts, 2, test_pool, &err, &out), EINVAL);
    release_all(parts, 2);
}
END_TEST

/* The result lives in the pool passed in; the inputs' pool ends where it
 * started; releasing the result gives back every byte. */
START_TEST(test_concat_charges_the_given_pool)
{
    tally_array *parts[2] = {sample_structs(100), sample_structs(50)};
    tally_pool *other = tally_proxy_pool_new(test_pool, "concat");
    int64_t before = tally_pool_bytes_allocated(test_pool);
    tally_array *c;
    ck_assert_int_eq(tally_array_concat(parts, 2, other, NULL, &c), 0);
    int64_t charged = tally_pool_bytes_allocated(other);
    ck_assert_int_gt(charged, 0);
    /* The proxy's parent sees the same bytes, nothing more. */
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), before + charged);
    ck_assert_ptr_eq(tally_buffer_pool(tally_array_buffer(c, 0)), other);
    ck_assert_ptr_eq(tally_buffer_pool(tally_array_buffer(tally_array_child(c, 1), 2)), other);
    release_all(parts, 2);
    tally_array *again;
    ck_assert_int_eq(tally_array_slice(c, 100, 50, &again), 0);
    tally_array *want = sample_structs(50);
    ck_assert(tally_array_equals(again, want));
    tally_array_release(want);
    tally_array_release(again);
    tally_array_release(c);
    ck_assert_int_eq(tally_pool_bytes_allocated(other), 0);
    tally_pool_destroy(other);
}
END_TEST

START_TEST(test_concat_out_of_memory)
{
    tally_array *parts[3] = {sample_structs(40), sample_structs(7), NULL};
    ck_assert_int_eq(tally_array_slice(parts[0], 3, 30, &parts[2]), 0);
    int failures = 0;
    for (int64_t limit = 0;; limit += 32) {
        tally_pool *pool = capped(limit);
        tally_array *c = NULL;
        int rc = tally_array_concat(parts, 3, pool, NULL, &c);
        ck_assert(rc == 0 || rc == ENOMEM);
        tally_array_release(c);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
        if (rc == 0)
            break;
        failures++;
    }
    ck_assert_int_gt(failures, 10);
    release_all(parts, 3);
}
END_TEST

/* Random lists of random slices against the same rows built directly. */
START_TEST(test_concat_random_lists)
{
    srand(15);
    for (int round = 0; round < 50; round++) {
        enum { ROWS = 40 };
        int32_t values[ROWS][4];
        const int32_t *rows[ROWS];
        int lens[ROWS];
        for (int i = 0; i < ROWS; i++) {
            lens[i] = rand() % 6 - 1;
            for (int j = 0; j < 4; j++)
                values[i][j] = rand() % 1000;
            rows[i] = values[i];
            if (lens[i] > 4)
                lens[i] = 4;
        }
        tally_array *all = int32_lists(rows, lens, ROWS), *parts[8];
        int n = 1 + rand() % 8, at = 0, starts[8], counts[8];
        for (int k = 0; k < n; k++) {
            starts[k] = rand() % ROWS;
            counts[k] = rand() % (ROWS - starts[k] + 1);
            ck_assert_int_eq(tally_array_slice(all, starts[k], counts[k], &parts[k]), 0);
        }
        const int32_t *want_rows[8 * ROWS];
        int want_lens[8 * ROWS];
        for (int k = 0; k < n; k++)
            for (int i = 0; i < counts[k]; i++, at++) {
                want_rows[at] = rows[starts[k] + i];
                want_lens[at] = lens[starts[k] + i];
            }
        tally_array *c = concat(parts, n), *want = int32_lists(want_rows, want_lens, at);
        ck_assert(tally_array_equals(c, want));
        tally_array_release(c);
        tally_array_release(want);
        release_all(parts, n);
        tally_array_release(all);
    }
}
END_TEST

/* Random bool slices (values and validity both bit-packed, at every bit
 * offset) against the same bits appended one by one. */
START_TEST(test_concat_random_bits)
{
    srand(8);
    enum { N = 300 };
    uint8_t values[N], valid[N];
    for (int i = 0; i < N; i++) {
        values[i] = (uint8_t)(rand() % 2);
        valid[i] = (uint8_t)(rand() % 5 != 0);
    }
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_BOOL, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values, valid, N), 0);
    tally_array *all = finish_and_destroy(b);
    for (int round = 0; round < 200; round++) {
        int n = 1 + rand() % 6, starts[6], counts[6];
        tally_array *parts[6];
        ck_assert_int_eq(tally_builder_new(TALLY_TYPE_BOOL, test_pool, &b), 0);
        for (int k = 0; k < n; k++) {
            starts[k] = rand() % N;
            counts[k] = rand() % (N - starts[k] + 1);
            ck_assert_int_eq(tally_array_slice(all, starts[k], counts[k], &parts[k]), 0);
            ck_assert_int_eq(
                tally_builder_append_values(b, values + starts[k], valid + starts[k], counts[k]),
                0);
        }
        tally_array *want = finish_and_destroy(b), *c = concat(parts, n);
        ck_assert(tally_array_equals(c, want));
        tally_array_release(c);
        tally_array_release(want);
        release_all(parts, n);
    }
    tally_array_release(all);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("concat");
    TCase *tc = accounted_tcase("concat");
    tcase_add_test(tc, test_concat_fixed_width_slices_and_nulls);
    tcase_add_test(tc, test_concat_bools_at_odd_offsets);
    tcase_add_test(tc, test_concat_strings);
    tcase_add_test(tc, test_concat_lists);
    tcase_add_test(tc, test_concat_structs_and_deeper);
    tcase_add_test(tc, test_concat_errors);
    tcase_add_test(tc, test_concat_charges_the_given_pool);
    tcase_add_test(tc, test_concat_out_of_memory);
    tcase_add_test(tc, test_concat_random_lists);
    tcase_add_test(tc, test_concat_random_bits);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
