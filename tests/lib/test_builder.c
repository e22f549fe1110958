/* test_builder: builders: growth, nulls, ranges, layouts, finish and reset. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "pool_fixture.h"

static tally_builder *new_builder(tally_type type)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(type, test_pool, &b), 0);
    return b;
}

static tally_array *finish(tally_builder *b)
{
    tally_array *a;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    return a;
}

static const uint8_t *buffer_data(const tally_array *a, int k)
{
    return tally_buffer_data(tally_array_buffer(a, k));
}

START_TEST(test_capacity_starts_at_32_and_doubles)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT64);
    ck_assert_int_eq(tally_builder_capacity(b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, 0), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 32);
    for (int i = 1; i < 32; i++)
        ck_assert_int_eq(tally_builder_append_int(b, i), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 32);
    ck_assert_int_eq(tally_builder_append_int(b, 32), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 64);
    for (int i = 33; i < 65; i++)
        ck_assert_int_eq(tally_builder_append_int(b, i), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 128);
    /* Past capacity the values are kept. */
    ck_assert_int_eq(tally_builder_length(b), 65);
    tally_array *a = finish(b);
    for (int i = 0; i < 65; i++)
        ck_assert_int_eq(tally_array_get_int(a, i), i);
    tally_array_release(a);

    ck_assert_int_eq(tally_builder_reserve(b, 100), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 128); /* 32, 64, 128: doubling */
    ck_assert_int_eq(tally_builder_reserve(b, 5), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 128);
    ck_assert_int_eq(tally_builder_length(b), 0);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_growth_keeps_values_every_type)
{
    const tally_type types[] = {TALLY_TYPE_INT8,   TALLY_TYPE_INT16,  TALLY_TYPE_INT32,
                                TALLY_TYPE_INT64,  TALLY_TYPE_UINT8,  TALLY_TYPE_UINT16,
                                TALLY_TYPE_UINT32, TALLY_TYPE_UINT64, TALLY_TYPE_FLOAT,
                                TALLY_TYPE_DOUBLE, TALLY_TYPE_BOOL,   TALLY_TYPE_STRING};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        tally_builder *b = new_builder(types[t]);
        for (int i = 0; i < 1000; i++) {
            int rc;
            if (i % 7 == 3)
                rc = tally_builder_append_null(b);
            else if (types[t] == TALLY_TYPE_BOOL)
                rc = tally_builder_append_bool(b, i % 3 == 0);
            else if (types[t] == TALLY_TYPE_STRING)
                rc = tally_builder_append_bytes(b, "abcdefgh", i % 9);
            else if (types[t] == TALLY_TYPE_FLOAT || types[t] == TALLY_TYPE_DOUBLE)
                rc = tally_builder_append_double(b, i * 0.5);
            else
                rc = tally_builder_append_int(b, i % 100);
            ck_assert_int_eq(rc, 0);
        }
        ck_assert_int_eq(tally_builder_capacity(b), 1024);
        tally_array *a = finish(b);
        ck_assert_int_eq(tally_array_length(a), 1000);
        ck_assert_int_eq(tally_array_null_count(a), 143);
        for (int i = 0; i < 1000; i++) {
            bool valid = i % 7 != 3;
            ck_assert_int_eq(tally_array_is_valid(a, i), valid);
            if (!valid)
                continue;
            if (types[t] == TALLY_TYPE_BOOL) {
                ck_assert_int_eq(tally_array_get_bool(a, i), i % 3 == 0);
            } else if (types[t] == TALLY_TYPE_STRING) {
                int64_t len;
                const uint8_t *p = tally_array_get_bytes(a, i, &len);
                ck_assert_int_eq(len, i % 9);
                ck_assert_int_eq(memcmp(p, "abcdefgh", (size_t)len), 0);
            } else if (types[t] == TALLY_TYPE_FLOAT || types[t] == TALLY_TYPE_DOUBLE) {
                ck_assert(tally_array_get_double(a, i) == i * 0.5);
            } else {
                ck_assert_int_eq(tally_array_get_int(a, i), i % 100);
            }
        }
        tally_array_release(a);
        tally_builder_destroy(b);
    }
}
END_TEST

START_TEST(test_nulls_zeroed_bitmap_lsb_first)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT32);
    /* valid, null, valid, valid, null, null, valid, valid | null, valid */
    ck_assert_int_eq(tally_builder_append_int(b, -1), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, -1), 0);
    ck_assert_int_eq(tally_builder_append_int(b, -1), 0);
    ck_assert_int_eq(tally_builder_append_nulls(b, 2), 0);
    ck_assert_int_eq(tally_builder_append_int(b, -1), 0);
    ck_assert_int_eq(tally_builder_append_int(b, -1), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, -1), 0);
    ck_assert_int_eq(tally_builder_null_count(b), 4);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_array_null_count(a), 4);
    const uint8_t *validity = buffer_data(a, 0);
    ck_assert_uint_eq(validity[0], 0xCD); /* 0b11001101 */
    ck_assert_uint_eq(validity[1], 0x02); /* 0b00000010: bits past length clear */
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 0)), 2);
    const uint8_t *values = buffer_data(a, 1);
    for (int i = 0; i < 10; i++) {
        int32_t v;
        memcpy(&v, values + 4 * i, 4);
        ck_assert_int_eq(v, tally_array_is_valid(a, i) ? -1 : 0);
    }
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_no_nulls_no_validity_buffer)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT32);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(tally_builder_append_int(b, i), 0);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_array_n_buffers(a), 2);
    ck_assert_ptr_null(tally_array_buffer(a, 0));
    ck_assert_int_eq(tally_array_null_count(a), 0);
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 1)), 160);
    ck_assert_int_eq(tally_buffer_capacity(tally_array_buffer(a, 1)), 192); /* shrunk to fit */
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_ranges)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT8);
    ck_assert_int_eq(tally_builder_append_int(b, 300), ERANGE);
    ck_assert_int_eq(tally_builder_length(b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, 127), 0);
    ck_assert_int_eq(tally_builder_append_int(b, -128), 0);
    ck_assert_int_eq(tally_builder_append_int(b, 128), ERANGE);
    ck_assert_int_eq(tally_builder_append_int(b, -129), ERANGE);
    ck_assert_int_eq(tally_builder_append_uint(b, 200), ERANGE);
    ck_assert_int_eq(tally_builder_length(b), 2);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_array_get_int(a, 0), 127);
    ck_assert_int_eq(tally_array_get_int(a, 1), -128);
    tally_array_release(a);
    tally_builder_destroy(b);

    struct {
        tally_type type;
        int64_t min, max;
    } signed_cases[] = {{TALLY_TYPE_INT16, INT16_MIN, INT16_MAX},
                        {TALLY_TYPE_INT32, INT32_MIN, INT32_MAX},
                        {TALLY_TYPE_INT64, INT64_MIN, INT64_MAX}};
    for (int k = 0; k < 3; k++) {
        b = new_builder(signed_cases[k].type);
        ck_assert_int_eq(tally_builder_append_int(b, signed_cases[k].min), 0);
        ck_assert_int_eq(tally_builder_append_int(b, signed_cases[k].max), 0);
        if (signed_cases[k].max < INT64_MAX) {
            ck_assert_int_eq(tally_builder_append_int(b, signed_cases[k].max + 1), ERANGE);
            ck_assert_int_eq(tally_builder_append_int(b, signed_cases[k].min - 1), ERANGE);
        }
        ck_assert_int_eq(tally_builder_append_uint(b, UINT64_MAX), ERANGE);
        a = finish(b);
        ck_assert_int_eq(tally_array_length(a), 2);
        ck_assert_int_eq(tally_array_get_int(a, 0), signed_cases[k].min);
        ck_assert_int_eq(tally_array_get_int(a, 1), signed_cases[k].max);
        tally_array_release(a);
        tally_builder_destroy(b);
    }

    struct {
        tally_type type;
        uint64_t max;
    } unsigned_cases[] = {{TALLY_TYPE_UINT8, UINT8_MAX},
                          {TALLY_TYPE_UINT16, UINT16_MAX},
                          {TALLY_TYPE_UINT32, UINT32_MAX},
                          {TALLY_TYPE_UINT64, UINT64_MAX}};
    for (int k = 0; k < 4; k++) {
        b = new_builder(unsigned_cases[k].type);
        ck_assert_int_eq(tally_builder_append_int(b, -1), ERANGE);
        ck_assert_int_eq(tally_builder_append_uint(b, unsigned_cases[k].max), 0);
        if (unsigned_cases[k].max < UINT64_MAX) {
            ck_assert_int_eq(tally_builder_append_uint(b, unsigned_cases[k].max + 1), ERANGE);
            ck_assert_int_eq(tally_builder_append_int(b, (int64_t)unsigned_cases[k].max + 1),
                             ERANGE);
        }
        ck_assert_int_eq(tally_builder_append_int(b, 0), 0);
        a = finish(b);
        ck_assert_int_eq(tally_array_length(a), 2);
        ck_assert_uint_eq(tally_array_get_uint(a, 0), unsigned_cases[k].max);
        tally_array_release(a);
        tally_builder_destroy(b);
    }

    b = new_builder(TALLY_TYPE_FLOAT);
    ck_assert_int_eq(tally_builder_append_double(b, 1e300), ERANGE);
    ck_assert_int_eq(tally_builder_append_double(b, -1e300), ERANGE);
    ck_assert_int_eq(tally_builder_append_double(b, INFINITY), 0);
    ck_assert_int_eq(tally_builder_append_double(b, 1.5), 0);
    a = finish(b);
    ck_assert_int_eq(tally_array_length(a), 2);
    ck_assert(isinf(tally_array_get_double(a, 0)));
    ck_assert(tally_array_get_double(a, 1) == 1.5);
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_type_mismatch)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT64);
    ck_assert_int_eq(tally_builder_append_double(b, 1.0), EINVAL);
    ck_assert_int_eq(tally_builder_append_bool(b, true), EINVAL);
    ck_assert_int_eq(tally_builder_append_bytes(b, "x", 1), EINVAL);
    ck_assert_int_eq(tally_builder_length(b), 0);
    tally_builder_destroy(b);
    b = new_builder(TALLY_TYPE_STRING);
    ck_assert_int_eq(tally_builder_append_int(b, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_uint(b, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_values(b, "x", NULL, 1), EINVAL);
    tally_builder_destroy(b);
    b = new_builder(TALLY_TYPE_DOUBLE);
    ck_assert_int_eq(tally_builder_append_int(b, 1), EINVAL);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_bool_values_bit_packed)
{
    tally_builder *b = new_builder(TALLY_TYPE_BOOL);
    const bool pattern[] = {true, false, true, true, false, false, false, true, true, false};
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(tally_builder_append_bool(b, pattern[i]), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 1)), 2);
    ck_assert_uint_eq(buffer_data(a, 1)[0], 0x8D); /* 0b10001101 */
    ck_assert_uint_eq(buffer_data(a, 1)[1], 0x01); /* the null's bit is zero */
    ck_assert_uint_eq(buffer_data(a, 0)[1], 0x03);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(tally_array_get_bool(a, i), pattern[i]);
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_string_layout)
{
    tally_builder *b = new_builder(TALLY_TYPE_STRING);
    ck_assert_int_eq(tally_builder_append_bytes(b, "abc", 3), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    ck_assert_int_eq(tally_builder_append_bytes(b, "", 0), 0);
    ck_assert_int_eq(tally_builder_append_bytes(b, "hello", 5), 0);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_array_n_buffers(a), 3);
    const int32_t expected[] = {0, 3, 3, 3, 8};
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 1)), sizeof expected);
    ck_assert_int_eq(memcmp(buffer_data(a, 1), expected, sizeof expected), 0);
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 2)), 8);
    ck_assert_int_eq(memcmp(buffer_data(a, 2), "abchello", 8), 0);
    ck_assert_uint_eq(buffer_data(a, 0)[0], 0x0D);
    tally_array_release(a);

    /* An empty string array still has its one offset. */
    a = finish(b);
    ck_assert_int_eq(tally_array_length(a), 0);
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 1)), 4);
    ck_assert_int_eq(buffer_data(a, 1)[0], 0);
    ck_assert_int_eq(tally_buffer_size(tally_array_buffer(a, 2)), 0);
    tally_array_release(a);

    static const char bytes[1];
    ck_assert_int_eq(tally_builder_append_bytes(b, bytes, (int64_t)INT32_MAX + 1), ERANGE);
    ck_assert_int_eq(tally_builder_append_bytes(b, NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_bytes(b, "x", -1), EINVAL);
    ck_assert_int_eq(tally_builder_length(b), 0);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_append_values_bulk)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT16);
    const int16_t values[] = {1, 2, 3, 4, 5, 6};
    const uint8_t valid[] = {1, 0, 1, 1, 0, 1};
    ck_assert_int_eq(tally_builder_append_int(b, 9), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values, NULL, 6), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values, valid, 6), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values, NULL, 0), 0);
    ck_assert_int_eq(tally_builder_append_values(b, values, valid, -1), EINVAL);
    ck_assert_int_eq(tally_builder_append_values(b, NULL, NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_length(b), 13);
    ck_assert_int_eq(tally_builder_null_count(b), 2);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_array_get_int(a, 0), 9);
    for (int i = 0; i < 6; i++) {
        ck_assert(tally_array_is_valid(a, 1 + i));
        ck_assert_int_eq(tally_array_get_int(a, 1 + i), values[i]);
        ck_assert_int_eq(tally_array_is_valid(a, 7 + i), valid[i]);
        /* under a null the slot is zero, not the value passed in */
        ck_assert_int_eq(tally_array_get_int(a, 7 + i), valid[i] ? values[i] : 0);
    }
    tally_array_release(a);
    tally_builder_destroy(b);

    b = new_builder(TALLY_TYPE_BOOL);
    const uint8_t bools[] = {1, 0, 7, 1, 1, 0};
    ck_assert_int_eq(tally_builder_append_values(b, bools, valid, 6), 0);
    a = finish(b);
    ck_assert_uint_eq(buffer_data(a, 1)[0], 0x0D); /* 1,0,1,1, null (zeroed), 0 */
    ck_assert_uint_eq(buffer_data(a, 0)[0], 0x2D);
    tally_array_release(a);
    tally_builder_destroy(b);

    /* All valid bytes given: no bitmap. */
    b = new_builder(TALLY_TYPE_DOUBLE);
    const double doubles[] = {0.5, 1.5};
    const uint8_t all_valid[] = {1, 1};
    ck_assert_int_eq(tally_builder_append_values(b, doubles, all_valid, 2), 0);
    a = finish(b);
    ck_assert_ptr_null(tally_array_buffer(a, 0));
    ck_assert(tally_array_get_double(a, 1) == 1.5);
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_finish_leaves_builder_reusable)
{
    tally_builder *b = new_builder(TALLY_TYPE_INT64);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(tally_builder_append_int(b, i), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    tally_array *first = finish(b);
    ck_assert_int_eq(tally_builder_length(b), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 0);
    ck_assert_int_eq(tally_builder_null_count(b), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tally_builder_append_int(b, 1000 + i), 0);
    tally_array *second = finish(b);
    ck_assert_int_eq(tally_array_length(first), 101);
    ck_assert_int_eq(tally_array_null_count(first), 1);
    ck_assert_int_eq(tally_array_length(second), 5);
    ck_assert_int_eq(tally_array_null_count(second), 0);
    ck_assert_int_eq(tally_array_get_int(first, 99), 99);
    ck_assert_int_eq(tally_array_get_int(second, 4), 1004);
    /* The arrays outlive the builder. */
    tally_builder_destroy(b);
    ck_assert_int_eq(tally_array_get_int(first, 50), 50);
    tally_array_release(first);
    tally_array_release(second);
}
END_TEST

START_TEST(test_reset_keeps_capacity)
{
    tally_builder *b = new_builder(TALLY_TYPE_STRING);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(tally_builder_append_bytes(b, "xyz", 3), 0);
    ck_assert_int_eq(tally_builder_append_null(b), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 64);
    tally_builder_reset(b);
    ck_assert_int_eq(tally_builder_length(b), 0);
    ck_assert_int_eq(tally_builder_null_count(b), 0);
    ck_assert_int_eq(tally_builder_capacity(b), 64);
    ck_assert_int_eq(tally_builder_append_bytes(b, "q", 1), 0);
    tally_array *a = finish(b);
    ck_assert_int_eq(tally_array_length(a), 1);
    ck_assert_int_eq(tally_array_null_count(a), 0);
    int64_t len;
    ck_assert_int_eq(tally_array_get_bytes(a, 0, &len)[0], 'q');
    ck_assert_int_eq(len, 1);
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_finished_buffers_padded_with_zeros)
{
    tally_builder *b = new_builder(TALLY_TYPE_UINT8);
    for (int i = 0; i < 70; i++)
        ck_assert_int_eq(tally_builder_append_uint(b, 0xff), 0);
    tally_builder_reset(b); /* leaves 0xff behind in the block */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tally_builder_append_uint(b, 0xff), 0);
    tally_array *a = finish(b);
    tally_buffer *values = tally_array_buffer(a, 1);
    ck_assert_int_eq(tally_buffer_size(values), 3);
    ck_assert_int_eq(tally_buffer_capacity(values), 64);
    for (int i = 3; i < 64; i++)
        ck_assert_int_eq(tally_buffer_data(values)[i], 0);
    tally_array_release(a);
    tally_builder_destroy(b);
}
END_TEST

START_TEST(test_failed_growth_keeps_values)
{
    tally_pool *pool = capped(2000);
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT64, pool, &b), 0);
    int64_t n = 0;
    int rc;
    while ((rc = tally_builder_append_int(b, n * 3)) == 0)
        n++;
    ck_assert_int_eq(rc, ENOMEM);
    ck_assert_int_eq(tally_builder_length(b), n);
    ck_assert_int_eq(n, 128); /* 256 values would pass the cap */
    ck_assert_int_eq(tally_builder_append_nulls(b, 1000), ENOMEM);
    ck_assert_int_eq(tally_builder_length(b), n);
    ck_assert_int_eq(tally_builder_null_count(b), 0);
    tally_array *a = NULL;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    ck_assert_int_eq(tally_array_length(a), n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(tally_array_get_int(a, i), i * 3);
    tally_array_release(a);
    tally_builder_destroy(b);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
}
END_TEST

START_TEST(test_failed_finish_changes_nothing)
{
    /* Find the smallest limit at which finish works; below it each failure
     * must leave the builder whole and nothing behind. */
    for (int64_t limit = 0;; limit += 8) {
        tally_pool *pool = capped(1 << 20);
        tally_builder *b;
        ck_assert_int_eq(tally_builder_new(TALLY_TYPE_STRING, pool, &b), 0);
        ck_assert_int_eq(tally_builder_append_bytes(b, "abc", 3), 0);
        ck_assert_int_eq(tally_builder_append_null(b), 0);
        /* Leave exactly limit bytes of room in the pool. */
        int64_t used = tally_pool_bytes_allocated(pool);
        uint8_t *filler;
        int64_t fill = (1 << 20) - used - limit;
        ck_assert_int_eq(tally_pool_allocate(pool, fill, &filler), 0);
        tally_array *a = (tally_array *)0x1;
        int rc = tally_builder_finish(b, &a);
        tally_pool_free(pool, filler, fill);
        if (rc == 0) {
            ck_assert_int_eq(tally_array_length(a), 2);
            tally_array_release(a);
            tally_builder_destroy(b);
            tally_pool_destroy(pool);
            break;
        }
        ck_assert_int_eq(rc, ENOMEM);
        ck_assert_ptr_eq(a, (tally_array *)0x1);
        ck_assert_int_eq(tally_builder_length(b), 2);
        ck_assert_int_eq(tally_builder_null_count(b), 1);
        ck_assert_int_eq(tally_builder_append_bytes(b, "d", 1), 0);
        a = finish(b);
        int64_t len;
        ck_assert_int_eq(memcmp(tally_array_get_bytes(a, 0, &len), "abc", 3), 0);
        ck_assert_int_eq(*tally_array_get_bytes(a, 2, &len), 'd');
        tally_array_release(a);
        tally_builder_destroy(b);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
    }
}
END_TEST

START_TEST(test_bad_arguments)
{
    tally_builder *b = (tally_builder *)0x1;
    ck_assert_int_eq(tally_builder_new((tally_type)99, test_pool, &b), EINVAL);
    ck_assert_int_eq(tally_builder_new((tally_type)-1, test_pool, &b), EINVAL);
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT8, test_pool, NULL), EINVAL);
    ck_assert_ptr_eq(b, (tally_builder *)0x1);
    ck_assert_int_eq(tally_builder_append_int(NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_uint(NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_double(NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_bool(NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_append_bytes(NULL, "", 0), EINVAL);
    ck_assert_int_eq(tally_builder_append_null(NULL), EINVAL);
    ck_assert_int_eq(tally_builder_append_values(NULL, "", NULL, 0), EINVAL);
    ck_assert_int_eq(tally_builder_reserve(NULL, 1), EINVAL);
    ck_assert_int_eq(tally_builder_finish(NULL, NULL), EINVAL);
    ck_assert_int_eq(tally_builder_length(NULL), 0);
    tally_builder_reset(NULL);
    tally_builder_destroy(NULL);

    b = new_builder(TALLY_TYPE_INT64);
    ck_assert_int_eq(tally_builder_append_nulls(b, -1), EINVAL);
    ck_assert_int_eq(tally_builder_reserve(b, -1), EINVAL);
    ck_assert_int_eq(tally_builder_reserve(b, INT64_MAX), ENOMEM);
    ck_assert_int_eq(tally_builder_append_nulls(b, INT64_MAX), ENOMEM);
    ck_assert_int_eq(tally_builder_append_values(b, "", NULL, INT64_MAX / 2), ENOMEM);
    ck_assert_int_eq(tally_builder_finish(b, NULL), EINVAL);
    ck_assert_int_eq(tally_builder_length(b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, 1), 0);
    ck_assert_int_eq(tally_builder_reserve(b, INT64_MAX), ENOMEM); /* length + n overflows */
    ck_assert_int_eq(tally_builder_length(b), 1);
    tally_builder_destroy(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("builder");
    TCase *tc = accounted_tcase("core");
    tcase_add_test(tc, test_capacity_starts_at_32_and_doubles);
    tcase_add_test(tc, test_growth_keeps_values_every_type);
    tcase_add_test(tc, test_nulls_zeroed_bitmap_lsb_first);
    tcase_add_test(tc, test_no_nulls_no_validity_buffer);
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_type_mismatch);
    tcase_add_test(tc, test_bool_values_bit_packed);
    tcase_add_test(tc, test_string_layout);
    tcase_add_test(tc, test_append_values_bulk);
    tcase_add_test(tc, test_finish_leaves_builder_reusable);
    tcase_add_test(tc, test_reset_keeps_capacity);
    tcase_add_test(tc, test_finished_buffers_padded_with_zeros);
    tcase_add_test(tc, test_failed_growth_keeps_values);
    tcase_add_test(tc, test_failed_finish_changes_nothing);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
