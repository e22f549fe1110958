/* test_stream: BufferOutputStream: writes, growth, finish and reuse. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>

#include "pool_fixture.h"

START_TEST(test_write_tell_finish)
{
    tally_stream *s;
    ck_assert_int_eq(tally_stream_new(test_pool, &s), 0);
    ck_assert_int_eq(tally_stream_tell(s), 0);
    ck_assert_int_eq(tally_stream_write(s, "hello", 5), 0);
    ck_assert_int_eq(tally_stream_write(s, NULL, 0), 0);
    ck_assert_int_eq(tally_stream_write(s, ", world", 7), 0);
    ck_assert_int_eq(tally_stream_tell(s), 12);

    tally_buffer *buf;
    ck_assert_int_eq(tally_stream_finish(s, &buf), 0);
    ck_assert_int_eq(tally_buffer_size(buf), 12);
    ck_assert_int_eq(memcmp(tally_buffer_data(buf), "hello, world", 12), 0);
    ck_assert(!tally_buffer_is_mutable(buf));
    ck_assert_int_eq(tally_buffer_resize(buf, 100, false), EINVAL);
    ck_assert_int_eq(tally_buffer_capacity(buf), 64); /* shrunk to fit */
    for (int i = 12; i < 64; i++)
        ck_assert_int_eq(tally_buffer_data(buf)[i], 0);

    /* Empty and reusable; the first buffer is not touched by later writes. */
    ck_assert_int_eq(tally_stream_tell(s), 0);
    ck_assert_int_eq(tally_stream_write(s, "again", 5), 0);
    tally_buffer *second;
    ck_assert_int_eq(tally_stream_finish(s, &second), 0);
    ck_assert_int_eq(tally_buffer_size(second), 5);
    ck_assert_int_eq(memcmp(tally_buffer_data(second), "again", 5), 0);
    ck_assert_int_eq(memcmp(tally_buffer_data(buf), "hello, world", 12), 0);

    /* Buffers outlive the stream. */
    tally_stream_destroy(s);
    ck_assert_int_eq(memcmp(tally_buffer_data(buf), "hello, world", 12), 0);
    tally_buffer_release(buf);
    tally_buffer_release(second);
}
END_TEST

START_TEST(test_finish_with_nothing_written)
{
    tally_stream *s;
    ck_assert_int_eq(tally_stream_new(test_pool, &s), 0);
    tally_buffer *buf;
    ck_assert_int_eq(tally_stream_finish(s, &buf), 0);
    ck_assert_int_eq(tally_buffer_size(buf), 0);
    tally_buffer_release(buf);
    tally_stream_destroy(s);
}
END_TEST

START_TEST(test_many_small_writes_grow)
{
    tally_stream *s;
    ck_assert_int_eq(tally_stream_new(test_pool, &s), 0);
    for (uint32_t i = 0; i < 100000; i++)
        ck_assert_int_eq(tally_stream_write(s, &i, sizeof i), 0);
    ck_assert_int_eq(tally_stream_tell(s), 400000);
    /* Doubling: the peak stays within a small factor of the data. */
    ck_assert_int_lt(tally_pool_max_memory(test_pool), 3 * 400000);
    tally_buffer *buf;
    ck_assert_int_eq(tally_stream_finish(s, &buf), 0);
    ck_assert_int_eq(tally_buffer_capacity(buf), 400000);
    const uint8_t *data = tally_buffer_data(buf);
    for (uint32_t i = 0; i < 100000; i++) {
        uint32_t v;
        memcpy(&v, data + 4 * i, 4);
        ck_assert_uint_eq(v, i);
    }
    tally_buffer_release(buf);
    tally_stream_destroy(s); /* after finish the stream holds nothing */
}
END_TEST

START_TEST(test_failed_write_changes_nothing)
{
    tally_pool *pool = capped(1024);
    tally_stream *s;
    ck_assert_int_eq(tally_stream_new(pool, &s), 0);
    char chunk[100];
    memset(chunk, 'x', sizeof chunk);
    ck_assert_int_eq(tally_stream_write(s, chunk, 100), 0);
    static char big[4096];
    ck_assert_int_eq(tally_stream_write(s, big, sizeof big), ENOMEM);
    ck_assert_int_eq(tally_stream_tell(s), 100);
    ck_assert_int_eq(tally_stream_write(s, "!", 1), 0);
    tally_buffer *buf;
    ck_assert_int_eq(tally_stream_finish(s, &buf), 0);
    ck_assert_int_eq(tally_buffer_size(buf), 101);
    ck_assert_int_eq(memcmp(tally_buffer_data(buf), chunk, 100), 0);
    ck_assert_int_eq(tally_buffer_data(buf)[100], '!');
    tally_buffer_release(buf);
    tally_stream_destroy(s);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
}
END_TEST

START_TEST(test_destroy_with_unfinished_data)
{
    tally_stream *s;
    ck_assert_int_eq(tally_stream_new(test_pool, &s), 0);
    ck_assert_int_eq(tally_stream_write(s, "dropped", 7), 0);
    tally_stream_destroy(s); /* the fixture checks that nothing leaked */
}
END_TEST

START_TEST(test_bad_arguments)
{
    tally_stream *s;
    ck_assert_int_eq(tally_stream_new(test_pool, NULL), EINVAL);
    ck_assert_int_eq(tally_stream_new(test_pool, &s), 0);
    ck_assert_int_eq(tally_stream_write(s, NULL, 1), EINVAL);
    ck_assert_int_eq(tally_stream_write(s, "x", -1), EINVAL);
    ck_assert_int_eq(tally_stream_write(NULL, "x", 1), EINVAL);
    ck_assert_int_eq(tally_stream_write(s, "x", INT64_MAX), ENOMEM);
    ck_assert_int_eq(tally_stream_tell(s), 0);
    ck_assert_int_eq(tally_stream_finish(s, NULL), EINVAL);
    ck_assert_int_eq(tally_stream_finish(NULL, NULL), EINVAL);
    ck_assert_int_eq(tally_stream_tell(NULL), 0);
    tally_stream_destroy(NULL);
    tally_stream_destroy(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = accounted_tcase("core");
    tcase_add_test(tc, test_write_tell_finish);
    tcase_add_test(tc, test_finish_with_nothing_written);
    tcase_add_test(tc, test_many_small_writes_grow);
    tcase_add_test(tc, test_failed_write_changes_nothing);
    tcase_add_test(tc, test_destroy_with_unfinished_data);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
