/* pool_fixture.h: the accounting rule, checked around every test.
 *
 * Each test allocates through test_pool (a proxy over the default pool) or
 * the default pool itself. The fixture records both before the test and
 * fails the test unless both are exactly back where they started after it:
 * every buffer, builder, array and control block must have been given back. */
#ifndef TALLY_POOL_FIXTURE_H
#define TALLY_POOL_FIXTURE_H

#include <tally/tally.h>

#include "check_main.h"

static tally_pool *test_pool;
static int64_t test_pool_baseline, default_pool_baseline;

static void pool_fixture_setup(void)
{
    test_pool = tally_proxy_pool_new(tally_default_pool(), "test");
    ck_assert_ptr_nonnull(test_pool);
    test_pool_baseline = tally_pool_bytes_allocated(test_pool);
    default_pool_baseline = tally_pool_bytes_allocated(NULL);
}

static void pool_fixture_teardown(void)
{
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), test_pool_baseline);
    ck_assert_int_eq(tally_pool_bytes_allocated(NULL), default_pool_baseline);
    tally_pool_destroy(test_pool);
    test_pool = NULL;
}

/* A test case with the fixture around each test. */
static inline TCase *accounted_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, pool_fixture_setup, pool_fixture_teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

/* A pool that refuses anything past limit bytes, for failure paths. */
static inline tally_pool *capped(int64_t limit)
{
    tally_pool *pool = tally_capped_pool_new(test_pool, limit);
    ck_assert_ptr_nonnull(pool);
    return pool;
}

#endif
