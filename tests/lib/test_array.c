/* test_array: arrays made from buffers: sharing, checks, slices, getters and
 * equality. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>

#include "pool_fixture.h"

static tally_buffer *copy_of(const void *data, int64_t size)
{
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, data, size, &buf), 0);
    return buf;
}

/* int32 [0, null, 2, 3, null, 5, 6, 7, 8, 9] with 99 under the nulls. */
static tally_array *make_int32_with_garbage_under_nulls(void)
{
    int32_t values[10];
    for (int i = 0; i < 10; i++)
        values[i] = i;
    values[1] = values[4] = 99;
    const uint8_t validity[2] = {0xED, 0x03}; /* 0b11101101, 0b11 */
    tally_buffer *bufs[2] = {copy_of(validity, 2), copy_of(values, sizeof values)};
    tally_array *a;
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT32, 10, bufs, 2, 2, 0, &a), 0);
    tally_buffer_release(bufs[0]);
    tally_buffer_release(bufs[1]);
    return a;
}

static tally_array *build_int32(const int32_t *values, const uint8_t *valid, int64_t n)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT32, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values, valid, n), 0);
    tally_array *a;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    tally_builder_destroy(b);
    return a;
}

START_TEST(test_make_shares_buffers)
{
    const int64_t values[] = {10, 20, 30};
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_allocate(test_pool, sizeof values, &buf), 0);
    memcpy(tally_buffer_mutable_data(buf), values, sizeof values);
    tally_buffer *bufs[2] = {NULL, buf};
    tally_array *a;
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 3, bufs, 2, 0, 0, &a), 0);
    ck_assert_ptr_eq(tally_array_buffer(a, 1), buf); /* the same buffer, not a copy */
    ck_assert_ptr_null(tally_array_buffer(a, 0));
    ck_assert_ptr_null(tally_array_buffer(a, 2));
    ck_assert_ptr_null(tally_array_buffer(a, -1));
    /* The array holds a reference: the buffer cannot be moved under it. */
    ck_assert_int_eq(tally_buffer_resize(buf, 1000, false), EBUSY);
    tally_buffer_mutable_data(buf)[0] = 11; /* shared memory: the array sees it */
    ck_assert_int_eq(tally_array_get_int(a, 0), 11);
    tally_buffer_release(buf);
    ck_assert_int_eq(tally_array_get_int(a, 2), 30); /* still alive through the array */
    ck_assert_int_eq(tally_array_type(a), TALLY_TYPE_INT64);
    ck_assert_int_eq(tally_array_length(a), 3);
    ck_assert_int_eq(tally_array_offset(a), 0);
    ck_assert_ptr_eq(tally_array_retain(a), a);
    tally_array_release(a);
    ck_assert_int_eq(tally_array_get_int(a, 1), 20);
    tally_array_release(a);
}
END_TEST

START_TEST(test_make_checks_buffers)
{
    const int64_t values[4] = {1, 2, 3, 4};
    const uint8_t validity[1] = {0x0B}; /* 1,1,0,1: one null */
    tally_buffer *v = copy_of(values, sizeof values), *bits = copy_of(validity, 1);
    tally_buffer *ok[2] = {bits, v}, *no_bits[2] = {NULL, v}, *no_values[2] = {bits, NULL};
    tally_array *a = (tally_array *)0x1;
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 3, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 1, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, no_values, 2, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 5, ok, 2, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, 1, 1, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, -1, ok, 2, 0, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 1, ok, 2, 0, -1, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 1, ok, 2, 0, INT64_MAX, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, INT64_MAX / 4, ok, 2, 0, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, 2, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, 0, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, 5, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, -2, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, no_bits, 2, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make((tally_type)42, 4, ok, 2, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, NULL, 2, 1, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, 1, 0, NULL), EINVAL);
    ck_assert_ptr_eq(a, (tally_array *)0x1);

    /* null_count -1: counted from the bitmap. */
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, ok, 2, -1, 0, &a), 0);
    ck_assert_int_eq(tally_array_null_count(a), 1);
    tally_array_release(a);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 2, ok, 2, -1, 2, &a), 0);
    ck_assert_int_eq(tally_array_null_count(a), 1);
    ck_assert_int_eq(tally_array_get_int(a, 1), 4);
    tally_array_release(a);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT64, 4, no_bits, 2, -1, 0, &a), 0);
    ck_assert_int_eq(tally_array_null_count(a), 0);
    tally_array_release(a);
    tally_buffer_release(v);
    tally_buffer_release(bits);
}
END_TEST

START_TEST(test_make_checks_string_offsets)
{
    tally_buffer *data = copy_of("abcdef", 6);
    struct {
        int32_t offsets[4];
        int expected;
    } cases[] = {
        {{0, 2, 4, 6}, 0},       {{0, 2, 2, 6}, 0}, /* an empty string */
        {{1, 2, 4, 6}, 0},                          /* need not start at 0 */
        {{0, 4, 2, 6}, EINVAL},                     /* not monotonic */
        {{0, 2, 4, 7}, EINVAL},                     /* past the data */
        {{-1, 2, 4, 6}, EINVAL}, {{0, 2, 4, INT32_MIN}, EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tally_buffer *offsets = copy_of(cases[i].offsets, sizeof cases[i].offsets);
        tally_buffer *bufs[3] = {NULL, offsets, data};
        tally_array *a = NULL;
        ck_assert_int_eq(tally_array_make(TALLY_TYPE_STRING, 3, bufs, 3, 0, 0, &a),
                         cases[i].expected);
        if (a) {
            int64_t len, start = cases[i].offsets[2];
            const uint8_t *p = tally_array_get_bytes(a, 2, &len);
            ck_assert_int_eq(len, cases[i].offsets[3] - start);
            ck_assert_int_eq(memcmp(p, "abcdef" + start, (size_t)len), 0);
            tally_array_release(a);
        }
        tally_buffer_release(offsets);
    }
    /* Too few offsets for the length, and a missing data buffer. */
    const int32_t three[3] = {0, 1, 2};
    tally_buffer *short_offsets = copy_of(three, sizeof three);
    tally_buffer *bufs[3] = {NULL, short_offsets, data};
    tally_array *a;
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_STRING, 3, bufs, 3, 0, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_STRING, 2, bufs, 3, 0, 0, &a), 0);
    tally_array_release(a);
    bufs[2] = NULL;
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_STRING, 2, bufs, 3, 0, 0, &a), EINVAL);
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_STRING, 2, bufs, 2, 0, 0, &a), EINVAL);
    tally_buffer_release(short_offsets);
    tally_buffer_release(data);
}
END_TEST

START_TEST(test_slice_is_offset_and_length)
{
    tally_array *a = make_int32_with_garbage_under_nulls();
    tally_array *s, *ss;
    ck_assert_int_eq(tally_array_slice(a, 3, 5, &s), 0);
    ck_assert_int_eq(tally_array_length(s), 5);
    ck_assert_int_eq(tally_array_offset(s), 3);
    ck_assert_int_eq(tally_array_null_count(s), 1);
    for (int k = 0; k < 2; k++) /* the very same buffers */
        ck_assert_ptr_eq(tally_array_buffer(s, k), tally_array_buffer(a, k));
    const int64_t expected[] = {3, 0, 5, 6, 7};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(tally_array_is_valid(s, i), i != 1);
        if (i != 1)
            ck_assert_int_eq(tally_array_get_int(s, i), expected[i]);
    }
    ck_assert(!tally_array_is_valid(s, 5)); /* past the slice */
    ck_assert_int_eq(tally_array_get_int(s, 5), 0);
    ck_assert_int_eq(tally_array_get_int(s, -1), 0);

    ck_assert_int_eq(tally_array_slice(s, 2, 3, &ss), 0); /* offsets add up */
    ck_assert_int_eq(tally_array_offset(ss), 5);
    ck_assert_int_eq(tally_array_null_count(ss), 0);
    ck_assert_int_eq(tally_array_get_int(ss, 0), 5);
    tally_array_release(a); /* slices keep the buffers */
    tally_array_release(s);
    ck_assert_int_eq(tally_array_get_int(ss, 2), 7);
    tally_array_release(ss);

    a = make_int32_with_garbage_under_nulls();
    tally_array *out = (tally_array *)0x1;
    ck_assert_int_eq(tally_array_slice(a, -1, 2, &out), EINVAL);
    ck_assert_int_eq(tally_array_slice(a, 0, 11, &out), EINVAL);
    ck_assert_int_eq(tally_array_slice(a, 5, 6, &out), EINVAL);
    ck_assert_int_eq(tally_array_slice(a, 11, 0, &out), EINVAL);
    ck_assert_int_eq(tally_array_slice(a, 2, -1, &out), EINVAL);
    ck_assert_int_eq(tally_array_slice(a, INT64_MAX, INT64_MAX, &out), EINVAL);
    ck_assert_int_eq(tally_array_slice(NULL, 0, 0, &out), EINVAL);
    ck_assert_ptr_eq(out, (tally_array *)0x1);
    ck_assert_int_eq(tally_array_slice(a, 10, 0, &out), 0);
    ck_assert_int_eq(tally_array_length(out), 0);
    tally_array_release(out);
    tally_array_release(a);
}
END_TEST

START_TEST(test_getters_every_type)
{
    tally_builder *b;
    tally_array *a;
    const struct {
        tally_type type;
        int64_t value;
    } ints[] = {{TALLY_TYPE_INT8, -100},         {TALLY_TYPE_INT16, -30000},
                {TALLY_TYPE_INT32, -2000000000}, {TALLY_TYPE_INT64, INT64_MIN},
                {TALLY_TYPE_UINT8, 250},         {TALLY_TYPE_UINT16, 65000},
                {TALLY_TYPE_UINT32, 4000000000}, {TALLY_TYPE_UINT64, INT64_MAX}};
    for (int k = 0; k < 8; k++) {
        ck_assert_int_eq(tally_builder_new(ints[k].type, test_pool, &b), 0);
        ck_assert_int_eq(tally_builder_append_null(b), 0);
        ck_assert_int_eq(tally_builder_append_int(b, ints[k].value), 0);
        ck_assert_int_eq(tally_builder_finish(b, &a), 0);
        ck_assert_int_eq(tally_array_get_int(a, 1), ints[k].value);
        ck_assert_uint_eq(tally_array_get_uint(a, 1), (uint64_t)ints[k].value);
        ck_assert(tally_array_get_double(a, 1) == (double)ints[k].value);
        ck_assert_int_eq(tally_array_get_int(a, 0), 0);
        ck_assert(!tally_array_get_bool(a, 1));
        ck_assert_ptr_null(tally_array_get_bytes(a, 1, NULL));
        tally_array_release(a);
        tally_builder_destroy(b);
    }
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_UINT64, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_uint(b, UINT64_MAX), 0);
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    ck_assert_uint_eq(tally_array_get_uint(a, 0), UINT64_MAX);
    ck_assert(tally_array_get_double(a, 0) == (double)UINT64_MAX);
    tally_array_release(a);
    tally_builder_destroy(b);

    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_FLOAT, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_double(b, 0.25), 0);
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    ck_assert(tally_array_get_double(a, 0) == 0.25);
    ck_assert_int_eq(tally_array_get_int(a, 0), 0);
    tally_array_release(a);
    tally_builder_destroy(b);

    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_BINARY, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_bytes(b, "\0\1\2", 3), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    int64_t len = -1;
    const uint8_t *p = tally_array_get_bytes(a, 0, &len);
    ck_assert_int_eq(len, 3);
    ck_assert_int_eq(memcmp(p, "\0\1\2", 3), 0);
    tally_array_get_bytes(a, 1, &len);
    ck_assert_int_eq(len, 0);
    ck_assert_ptr_null(tally_array_get_bytes(a, 2, &len));
    ck_assert_int_eq(len, 0);
    ck_assert_int_eq(tally_array_get_int(a, 0), 0);
    ck_assert(tally_array_get_double(a, 0) == 0);
    tally_array_release(a);
    tally_builder_destroy(b);

    ck_assert(!tally_array_is_valid(NULL, 0));
    ck_assert_int_eq(tally_array_get_int(NULL, 0), 0);
    ck_assert_int_eq(tally_array_length(NULL), 0);
    ck_assert_ptr_null(tally_array_buffer(NULL, 0));
    tally_array_release(NULL);
}
END_TEST

START_TEST(test_equals_compares_logical_values)
{
    const int32_t values[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const uint8_t valid[] = {1, 0, 1, 1, 0, 1, 1, 1, 1, 1};
    tally_array *built = build_int32(values, valid, 10);
    tally_array *made = make_int32_with_garbage_under_nulls();
    ck_assert(tally_array_equals(built, made)); /* what is under a null does not count */
    ck_assert(tally_array_equals(built, built));

    const uint8_t other_nulls[] = {1, 1, 0, 1, 0, 1, 1, 1, 1, 1};
    tally_array *moved_null = build_int32(values, other_nulls, 10);
    ck_assert(!tally_array_equals(built, moved_null));
    int32_t changed[10];
    memcpy(changed, values, sizeof changed);
    changed[9] = -9;
    tally_array *changed_value = build_int32(changed, valid, 10);
    ck_assert(!tally_array_equals(built, changed_value));
    tally_array *shorter = build_int32(values, valid, 9);
    ck_assert(!tally_array_equals(built, shorter));

    /* A slice equals an array of the same elements built afresh. */
    tally_array *slice, *fresh = build_int32(values + 5, valid + 5, 5);
    ck_assert_int_eq(tally_array_slice(made, 5, 5, &slice), 0);
    ck_assert(tally_array_equals(slice, fresh));
    ck_assert(tally_array_equals(fresh, slice));

    /* Same bytes, different type. */
    tally_builder *b;
    tally_array *as_uint;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_UINT32, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values + 5, valid + 5, 5), 0);
    ck_assert_int_eq(tally_builder_finish(b, &as_uint), 0);
    tally_builder_destroy(b);
    ck_assert(!tally_array_equals(fresh, as_uint));
    ck_assert(!tally_array_equals(fresh, NULL));

    tally_array *arrays[] = {built,   made,  moved_null, changed_value,
                             shorter, slice, fresh,      as_uint};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        tally_array_release(arrays[i]);
}
END_TEST

START_TEST(test_equals_strings_and_bools)
{
    tally_builder *b;
    tally_array *x, *y, *z;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_STRING, test_pool, &b), 0);
    const char *words[] = {"a", "bb", NULL, "ccc"};
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) {
            if (!words[i])
                ck_assert_int_eq(tally_builder_append_null(b), 0);
            else if (round == 2 && i == 3)
                ck_assert_int_eq(tally_builder_append_bytes(b, "ccd", 3), 0);
            else
                ck_assert_int_eq(tally_builder_append_bytes(b, words[i], strlen(words[i])), 0);
        }
        ck_assert_int_eq(tally_builder_finish(b, round == 0 ? &x : round == 1 ? &y : &z), 0);
    }
    ck_assert(tally_array_equals(x, y));
    ck_assert(!tally_array_equals(x, z));
    tally_array_release(x);
    tally_array_release(y);
    tally_array_release(z);
    tally_builder_destroy(b);

    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_BOOL, test_pool, &b), 0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 20; i++)
            ck_assert_int_eq(tally_builder_append_bool(b, i % 3 == 0 || (round && i == 19)), 0);
        ck_assert_int_eq(tally_builder_finish(b, round == 0 ? &x : &y), 0);
    }
    ck_assert(!tally_array_equals(x, y));
    ck_assert_int_eq(tally_array_slice(x, 0, 19, &z), 0);
    tally_array *w;
    ck_assert_int_eq(tally_array_slice(y, 0, 19, &w), 0);
    ck_assert(tally_array_equals(z, w));
    tally_array_release(x);
    tally_array_release(y);
    tally_array_release(z);
    tally_array_release(w);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_array_struct_charged_to_values_pool)
{
    tally_pool *other = tally_proxy_pool_new(test_pool, "values");
    tally_buffer *v;
    ck_assert_int_eq(tally_buffer_copy_from(other, "12345678", 8, &v), 0);
    tally_buffer *bufs[2] = {NULL, v};
    int64_t before = tally_pool_bytes_allocated(other);
    tally_array *a;
    ck_assert_int_eq(tally_array_make(TALLY_TYPE_INT8, 8, bufs, 2, 0, 0, &a), 0);
    ck_assert_int_gt(tally_pool_bytes_allocated(other), before);
    tally_buffer_release(v);
    tally_array_release(a);
    ck_assert_int_eq(tally_pool_bytes_allocated(other), 0);
    tally_pool_destroy(other);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("array");
    TCase *tc = accounted_tcase("core");
    tcase_add_test(tc, test_make_shares_buffers);
    tcase_add_test(tc, test_make_checks_buffers);
    tcase_add_test(tc, test_make_checks_string_offsets);
    tcase_add_test(tc, test_slice_is_offset_and_length);
    tcase_add_test(tc, test_getters_every_type);
    tcase_add_test(tc, test_equals_compares_logical_values);
    tcase_add_test(tc, test_equals_strings_and_bools);
    tcase_add_test(tc, test_array_struct_charged_to_values_pool);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
