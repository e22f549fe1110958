/* test_buffer: reference-counted buffers: making, slicing, wrapping,
 * resizing, comparing, and the books behind all of it. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pool_fixture.h"

static bool all_zero(const uint8_t *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

START_TEST(test_allocate_rounds_capacity_and_zeroes_padding)
{
    const int64_t sizes[] = {0, 1, 63, 64, 65, 1000, 4096};
    const int64_t capacities[] = {0, 64, 64, 64, 128, 1024, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        /* Dirty a block of the same size first, so reuse would show stale bytes. */
        uint8_t *dirty;
        ck_assert_int_eq(tally_pool_allocate(test_pool, capacities[i], &dirty), 0);
        memset(dirty, 0xab, (size_t)capacities[i]);
        tally_pool_free(test_pool, dirty, capacities[i]);

        tally_buffer *buf;
        ck_assert_int_eq(tally_buffer_allocate(test_pool, sizes[i], &buf), 0);
        ck_assert_int_eq(tally_buffer_size(buf), sizes[i]);
        ck_assert_int_eq(tally_buffer_capacity(buf), capacities[i]);
        ck_assert(tally_buffer_is_mutable(buf));
        ck_assert_ptr_eq(tally_buffer_mutable_data(buf), tally_buffer_data(buf));
        ck_assert_ptr_eq(tally_buffer_pool(buf), test_pool);
        ck_assert(((uintptr_t)tally_buffer_data(buf) & 63) == 0);
        ck_assert(all_zero(tally_buffer_data(buf) + sizes[i], capacities[i] - sizes[i]));
        /* The data and the control block are both in the pool's books. */
        ck_assert_int_gt(tally_pool_bytes_allocated(test_pool), capacities[i]);
        tally_buffer_release(buf);
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), 0);
    }
}
END_TEST

START_TEST(test_null_pool_is_the_default_pool)
{
    int64_t before = tally_pool_bytes_allocated(NULL);
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_allocate(NULL, 100, &buf), 0);
    ck_assert_ptr_eq(tally_buffer_pool(buf), tally_default_pool());
    ck_assert_int_ge(tally_pool_bytes_allocated(NULL), before + 128);
    tally_buffer_release(buf);
    ck_assert_int_eq(tally_pool_bytes_allocated(NULL), before);
}
END_TEST

START_TEST(test_copy_from_owns_an_immutable_copy)
{
    char text[] = "hello, buffers";
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, text, sizeof text, &buf), 0);
    ck_assert_ptr_ne(tally_buffer_data(buf), (const uint8_t *)text);
    text[0] = 'J'; /* the copy does not follow the source */
    ck_assert_str_eq((const char *)tally_buffer_data(buf), "hello, buffers");
    ck_assert(!tally_buffer_is_mutable(buf));
    ck_assert_ptr_null(tally_buffer_mutable_data(buf));
    ck_assert_int_eq(tally_buffer_capacity(buf), 64);
    ck_assert(all_zero(tally_buffer_data(buf) + sizeof text, 64 - (int64_t)sizeof text));
    ck_assert_int_eq(tally_buffer_resize(buf, 4, false), EINVAL);
    ck_assert_int_eq(tally_buffer_reserve(buf, 1000), EINVAL);
    ck_assert_int_eq(tally_buffer_size(buf), sizeof text);
    tally_buffer_release(buf);

    ck_assert_int_eq(tally_buffer_copy_from(test_pool, NULL, 0, &buf), 0);
    ck_assert_int_eq(tally_buffer_size(buf), 0);
    tally_buffer_release(buf);
}
END_TEST

static void count_release(void *ctx)
{
    atomic_fetch_add((_Atomic int *)ctx, 1);
}

START_TEST(test_wrap_releases_exactly_once_at_the_last_reference)
{
    static const uint8_t bytes[100] = {1, 2, 3};
    _Atomic int released = 0;
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_wrap(bytes, sizeof bytes, count_release, &released, &buf), 0);
    ck_assert_ptr_eq(tally_buffer_data(buf), bytes);
    ck_assert_int_eq(tally_buffer_size(buf), 100);
    ck_assert_int_eq(tally_buffer_capacity(buf), 100);
    ck_assert(!tally_buffer_is_mutable(buf));
    ck_assert_ptr_null(tally_buffer_mutable_data(buf));
    ck_assert_int_eq(tally_buffer_resize(buf, 10, false), EINVAL);
    ck_assert_int_eq(tally_buffer_reserve(buf, 1000), EINVAL);
    ck_assert_ptr_eq(tally_buffer_retain(buf), buf);
    tally_buffer_retain(buf);
    tally_buffer_release(buf);
    tally_buffer_release(buf);
    ck_assert_int_eq(released, 0);
    tally_buffer_release(buf);
    ck_assert_int_eq(released, 1);
}
END_TEST

START_TEST(test_wrap_without_release_is_a_view)
{
    uint8_t bytes[16] = {7};
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_wrap_with_pool(test_pool, bytes, 16, NULL, NULL, &buf), 0);
    ck_assert_ptr_eq(tally_buffer_pool(buf), test_pool);
    ck_assert_int_gt(tally_pool_bytes_allocated(test_pool), 0); /* the control block */
    bytes[1] = 9; /* a view sees changes to the memory */
    ck_assert_int_eq(tally_buffer_data(buf)[1], 9);
    tally_buffer_release(buf);
    ck_assert_int_eq(bytes[0], 7);
}
END_TEST

START_TEST(test_slice_shares_memory_and_keeps_parent_alive)
{
    _Atomic int released = 0;
    uint8_t *block;
    ck_assert_int_eq(tally_pool_allocate(test_pool, 256, &block), 0);
    for (int i = 0; i < 256; i++)
        block[i] = (uint8_t)i;
    tally_buffer *parent, *slice, *inner;
    ck_assert_int_eq(tally_buffer_wrap(block, 256, count_release, &released, &parent), 0);
    ck_assert_int_eq(tally_buffer_slice(parent, 10, 100, &slice), 0);
    ck_assert_ptr_eq(tally_buffer_data(slice), block + 10);
    ck_assert_int_eq(tally_buffer_size(slice), 100);
    ck_assert_ptr_eq(tally_buffer_parent(slice), parent);
    ck_assert_ptr_null(tally_buffer_parent(parent));
    ck_assert(!tally_buffer_is_mutable(slice));
    ck_assert_int_eq(tally_buffer_slice(slice, 5, 95, &inner), 0);
    ck_assert_ptr_eq(tally_buffer_data(inner), block + 15);
    ck_assert_ptr_eq(tally_buffer_parent(inner), slice);

    tally_buffer_release(parent);
    tally_buffer_release(slice);
    ck_assert_int_eq(released, 0); /* inner still holds the chain */
    ck_assert_int_eq(tally_buffer_data(inner)[0], 15);
    ck_assert_int_eq(tally_buffer_data(inner)[94], 109);
    tally_buffer_release(inner);
    ck_assert_int_eq(released, 1);
    tally_pool_free(test_pool, block, 256);
}
END_TEST

START_TEST(test_slice_bounds)
{
    tally_buffer *buf, *slice = (tally_buffer *)0x1;
    ck_assert_int_eq(tally_buffer_allocate(test_pool, 100, &buf), 0);
    ck_assert_int_eq(tally_buffer_slice(buf, -1, 10, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, 0, -1, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, 0, 101, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, 101, 0, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, 50, 51, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, INT64_MAX, INT64_MAX, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, 1, INT64_MAX, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(NULL, 0, 0, &slice), EINVAL);
    ck_assert_int_eq(tally_buffer_slice(buf, 0, 0, NULL), EINVAL);
    ck_assert_ptr_eq(slice, (tally_buffer *)0x1);
    ck_assert_int_eq(tally_buffer_slice(buf, 100, 0, &slice), 0); /* empty, at the end */
    ck_assert_int_eq(tally_buffer_size(slice), 0);
    tally_buffer_release(slice);
    ck_assert_int_eq(tally_buffer_slice(buf, 0, 100, &slice), 0);
    tally_buffer_release(slice);
    tally_buffer_release(buf);
}
END_TEST

START_TEST(test_resize_and_reserve_refused_while_shared)
{
    tally_buffer *buf, *slice;
    ck_assert_int_eq(tally_buffer_allocate(test_pool, 10, &buf), 0);
    memcpy(tally_buffer_mutable_data(buf), "0123456789", 10);
    const uint8_t *data = tally_buffer_data(buf);

    tally_buffer_retain(buf);
    ck_assert_int_eq(tally_buffer_resize(buf, 1000, false), EBUSY);
    ck_assert_int_eq(tally_buffer_reserve(buf, 1000), EBUSY);
    ck_assert_int_eq(tally_buffer_resize(buf, 5, true), EBUSY);
    tally_buffer_release(buf);

    ck_assert_int_eq(tally_buffer_slice(buf, 2, 3, &slice), 0);
    ck_assert_int_eq(tally_buffer_resize(buf, 1000, false), EBUSY);
    ck_assert_int_eq(tally_buffer_reserve(buf, 1000), EBUSY);
    ck_assert_int_eq(tally_buffer_resize(slice, 1, false), EINVAL); /* a slice owns nothing */
    ck_assert_ptr_eq(tally_buffer_data(buf), data);
    ck_assert_int_eq(tally_buffer_size(buf), 10);
    ck_assert_int_eq(memcmp(tally_buffer_data(slice), "234", 3), 0);
    tally_buffer_release(slice);

    ck_assert_int_eq(tally_buffer_resize(buf, 1000, false), 0);
    ck_assert_int_eq(memcmp(tally_buffer_data(buf), "0123456789", 10), 0);
    tally_buffer_release(buf);
}
END_TEST

START_TEST(test_resize_keeps_contents_and_zero_padding)
{
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_allocate(test_pool, 50, &buf), 0);
    memset(tally_buffer_mutable_data(buf), 0x5a, 50);

    ck_assert_int_eq(tally_buffer_resize(buf, 300, false), 0);
    ck_assert_int_eq(tally_buffer_size(buf), 300);
    ck_assert_int_eq(tally_buffer_capacity(buf), 320);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(tally_buffer_data(buf)[i], 0x5a);
    ck_assert(all_zero(tally_buffer_data(buf) + 50, 270)); /* grown bytes read as zero */

    memset(tally_buffer_mutable_data(buf), 0x77, 300);
    ck_assert_int_eq(tally_buffer_resize(buf, 20, false), 0); /* shrink, keep capacity */
    ck_assert_int_eq(tally_buffer_capacity(buf), 320);
    ck_assert(all_zero(tally_buffer_data(buf) + 20, 300));
    ck_assert_int_eq(tally_buffer_resize(buf, 200, false), 0); /* no stale bytes come back */
    ck_assert(all_zero(tally_buffer_data(buf) + 20, 180));

    int64_t before = tally_pool_bytes_allocated(test_pool);
    ck_assert_int_eq(tally_buffer_resize(buf, 20, true), 0);
    ck_assert_int_eq(tally_buffer_capacity(buf), 64);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), before - (320 - 64));
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(tally_buffer_data(buf)[i], 0x77);

    ck_assert_int_eq(tally_buffer_reserve(buf, 10), 0); /* already enough: a no-op */
    ck_assert_int_eq(tally_buffer_capacity(buf), 64);
    ck_assert_int_eq(tally_buffer_reserve(buf, 1000), 0);
    ck_assert_int_eq(tally_buffer_capacity(buf), 1024);
    ck_assert_int_eq(tally_buffer_size(buf), 20);
    ck_assert(all_zero(tally_buffer_data(buf) + 20, 1004));
    ck_assert_int_eq(tally_buffer_resize(buf, 0, true), 0);
    ck_assert_int_eq(tally_buffer_capacity(buf), 0);
    tally_buffer_release(buf);
}
END_TEST

START_TEST(test_failed_growth_keeps_old_contents)
{
    tally_pool *pool = capped(2048);
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_allocate(pool, 100, &buf), 0);
    memset(tally_buffer_mutable_data(buf), 0x42, 100);
    const uint8_t *data = tally_buffer_data(buf);
    int64_t bytes = tally_pool_bytes_allocated(pool);

    ck_assert_int_eq(tally_buffer_reserve(buf, 4096), ENOMEM);
    ck_assert_int_eq(tally_buffer_resize(buf, 4096, false), ENOMEM);
    ck_assert_int_eq(tally_buffer_reserve(buf, INT64_MAX), ENOMEM); /* rounding overflows */
    ck_assert_ptr_eq(tally_buffer_data(buf), data);
    ck_assert_int_eq(tally_buffer_size(buf), 100);
    ck_assert_int_eq(tally_buffer_capacity(buf), 128);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), bytes);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(data[i], 0x42);
    tally_buffer_release(buf);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
}
END_TEST

START_TEST(test_equals_compares_bytes)
{
    tally_buffer *a, *b, *c, *d;
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, "abcdef", 6, &a), 0);
    ck_assert_int_eq(tally_buffer_wrap_with_pool(test_pool, "abcdef", 6, NULL, NULL, &b), 0);
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, "abcdeF", 6, &c), 0);
    ck_assert_int_eq(tally_buffer_slice(a, 0, 5, &d), 0);
    ck_assert(tally_buffer_equals(a, b));
    ck_assert(tally_buffer_equals(a, a));
    ck_assert(!tally_buffer_equals(a, c));
    ck_assert(!tally_buffer_equals(a, d)); /* a prefix is not equal */
    ck_assert(!tally_buffer_equals(a, NULL));
    ck_assert(tally_buffer_equals(NULL, NULL));
    tally_buffer_release(a);
    tally_buffer_release(b);
    tally_buffer_release(c);
    tally_buffer_release(d);
}
END_TEST

START_TEST(test_copy_into_another_pool)
{
    tally_pool *other = tally_proxy_pool_new(test_pool, "other");
    tally_buffer *src, *dst;
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, "some bytes", 10, &src), 0);
    int64_t before = tally_pool_bytes_allocated(test_pool);
    ck_assert_int_eq(tally_buffer_copy(src, other, &dst), 0);
    ck_assert_ptr_eq(tally_buffer_pool(dst), other);
    ck_assert_int_gt(tally_pool_bytes_allocated(other), 64);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool),
                     before + tally_pool_bytes_allocated(other));
    ck_assert(tally_buffer_equals(src, dst));
    ck_assert_ptr_ne(tally_buffer_data(src), tally_buffer_data(dst));
    ck_assert(tally_buffer_is_mutable(dst));
    tally_buffer_mutable_data(dst)[0] = 'S';
    ck_assert(!tally_buffer_equals(src, dst));
    tally_buffer_release(dst);
    ck_assert_int_eq(tally_pool_bytes_allocated(other), 0);
    tally_buffer_release(src);
    tally_pool_destroy(other);
}
END_TEST

START_TEST(test_bad_arguments)
{
    tally_buffer *buf = (tally_buffer *)0x1;
    ck_assert_int_eq(tally_buffer_allocate(test_pool, -1, &buf), EINVAL);
    ck_assert_int_eq(tally_buffer_allocate(test_pool, 1, NULL), EINVAL);
    ck_assert_int_eq(tally_buffer_allocate(test_pool, INT64_MAX, &buf), ENOMEM);
    ck_assert_int_eq(tally_buffer_allocate(test_pool, INT64_MAX - 100, &buf), ENOMEM);
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, NULL, 5, &buf), EINVAL);
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, "x", -1, &buf), EINVAL);
    ck_assert_int_eq(tally_buffer_wrap(NULL, 5, NULL, NULL, &buf), EINVAL);
    ck_assert_int_eq(tally_buffer_wrap("x", -1, NULL, NULL, &buf), EINVAL);
    ck_assert_int_eq(tally_buffer_wrap("x", 1, NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(tally_buffer_copy(NULL, test_pool, &buf), EINVAL);
    ck_assert_ptr_eq(buf, (tally_buffer *)0x1);
    ck_assert_int_eq(tally_buffer_resize(NULL, 1, false), EINVAL);
    ck_assert_int_eq(tally_buffer_reserve(NULL, 1), EINVAL);
    ck_assert_ptr_null(tally_buffer_data(NULL));
    ck_assert_ptr_null(tally_buffer_mutable_data(NULL));
    ck_assert_int_eq(tally_buffer_size(NULL), 0);
    ck_assert_ptr_null(tally_buffer_retain(NULL));
    tally_buffer_release(NULL);

    ck_assert_int_eq(tally_buffer_allocate(test_pool, 10, &buf), 0);
    ck_assert_int_eq(tally_buffer_resize(buf, -1, false), EINVAL);
    ck_assert_int_eq(tally_buffer_reserve(buf, -1), EINVAL);
    ck_assert_int_eq(tally_buffer_resize(buf, INT64_MAX, false), ENOMEM);
    ck_assert_int_eq(tally_buffer_size(buf), 10);
    tally_buffer_release(buf);
}
END_TEST

#define THREADS 4
#define REFS_PER_THREAD 100000

static void *release_many(void *arg)
{
    for (int i = 0; i < REFS_PER_THREAD; i++)
        tally_buffer_release(arg);
    return NULL;
}

static void *retain_release_many(void *arg)
{
    for (int i = 0; i < REFS_PER_THREAD; i++)
        tally_buffer_release(tally_buffer_retain(arg));
    return NULL;
}

START_TEST(test_release_from_four_threads)
{
    static uint8_t bytes[64];
    _Atomic int released = 0;
    tally_buffer *buf;
    ck_assert_int_eq(
        tally_buffer_wrap_with_pool(test_pool, bytes, 64, count_release, &released, &buf), 0);
    /* One reference is ours; every thread drops REFS_PER_THREAD more, while
     * the other threads retain and release in between. */
    for (int i = 0; i < THREADS * REFS_PER_THREAD; i++)
        tally_buffer_retain(buf);
    pthread_t t[2 * THREADS];
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, release_many, buf), 0);
        ck_assert_int_eq(pthread_create(&t[THREADS + i], NULL, retain_release_many, buf), 0);
    }
    for (int i = 0; i < 2 * THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(released, 0);
    tally_buffer_release(buf);
    ck_assert_int_eq(released, 1);
}
END_TEST

static void *release_once(void *arg)
{
    tally_buffer_release(arg);
    return NULL;
}

START_TEST(test_last_release_from_many_threads_runs_once)
{
    /* Many buffers, each dropped by four threads at once: exactly one of them
     * must see the count reach zero. */
    static uint8_t bytes[1];
    for (int round = 0; round < 200; round++) {
        _Atomic int released = 0;
        tally_buffer *buf;
        ck_assert_int_eq(
            tally_buffer_wrap_with_pool(test_pool, bytes, 1, count_release, &released, &buf), 0);
        for (int i = 1; i < THREADS; i++)
            tally_buffer_retain(buf);
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, release_once, buf);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
        ck_assert_int_eq(released, 1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buffer");
    TCase *tc = accounted_tcase("core");
    tcase_add_test(tc, test_allocate_rounds_capacity_and_zeroes_padding);
    tcase_add_test(tc, test_null_pool_is_the_default_pool);
    tcase_add_test(tc, test_copy_from_owns_an_immutable_copy);
    tcase_add_test(tc, test_wrap_releases_exactly_once_at_the_last_reference);
    tcase_add_test(tc, test_wrap_without_release_is_a_view);
    tcase_add_test(tc, test_slice_shares_memory_and_keeps_parent_alive);
    tcase_add_test(tc, test_slice_bounds);
    tcase_add_test(tc, test_resize_and_reserve_refused_while_shared);
    tcase_add_test(tc, test_resize_keeps_contents_and_zero_padding);
    tcase_add_test(tc, test_failed_growth_keeps_old_contents);
    tcase_add_test(tc, test_equals_compares_bytes);
    tcase_add_test(tc, test_copy_into_another_pool);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_release_from_four_threads);
    tcase_add_test(tc, test_last_release_from_many_threads_runs_once);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
