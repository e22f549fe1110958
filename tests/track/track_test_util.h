/* track_test_util.h: what the tracking tests share: start tracking into a
 * per-test file, dump and read the profile back with lib/profile's reader,
 * and name a stack's innermost frame. Test programs are built with
 * -rdynamic so that dladdr finds their functions. */
#ifndef TALLY_TRACK_TEST_UTIL_H
#define TALLY_TRACK_TEST_UTIL_H

#include <tally/tally.h>

#include "profile/read.h"

#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A test function that keeps its own frame and is found by name: the
 * build hides symbols by default (-fvisibility=hidden). */
#define TEST_FN __attribute__((noinline, visibility("default")))
/* A function of that name that allocates size bytes from pool and returns
 * them: a test finds a block's records by the name of its allocator. */
#define TEST_ALLOCATOR(name, pool, size)                                                           \
    TEST_FN uint8_t *name(void)                                                                    \
    {                                                                                              \
        uint8_t *p;                                                                                \
        ck_assert_int_eq(tally_pool_allocate((pool), (size), &p), 0);                              \
        return p;                                                                                  \
    }

static char test_profile[256];

/* Check runs each test in its own process: tracking starts fresh in each. */
static inline void start_tracking(int64_t sample_bytes, int interval_ms)
{
    snprintf(test_profile, sizeof test_profile, "/tmp/tally-test.%d.prof", (int)getpid());
    tally_track_options o = {.depth = 64,
                             .sample_bytes = sample_bytes,
                             .output = test_profile,
                             .interval_ms = interval_ms};
    ck_assert_int_eq(tally_track_start(&o), 0);
    ck_assert(tally_track_active());
}

static inline prof_profile *dump_and_read(void)
{
    ck_assert_int_eq(tally_track_dump(NULL), 0);
    prof_profile *p = NULL;
    char err[256];
    int rc = prof_read(test_profile, &p, err, sizeof err);
    ck_assert_msg(rc == 0, "reading %s: %s", test_profile, err);
    return p;
}

/* The function a stack's innermost frame is in, or "". */
static inline const char *frame0_name(const prof_profile *p, uint32_t stack_id)
{
    const prof_stack *s = prof_find_stack(p, stack_id);
    Dl_info info;
    if (!s || s->nframes == 0 ||
        !dladdr((void *)(uintptr_t)(prof_node_addr(p, s->node) - 1), &info) || !info.dli_sname)
        return "";
    return info.dli_sname;
}

/* The record of pool_id whose innermost frame is in fn, or NULL. */
static inline const prof_record *record_in(const prof_profile *p, int32_t pool_id, const char *fn)
{
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].pool_id == pool_id &&
            strcmp(frame0_name(p, p->records[i].stack_id), fn) == 0)
            return &p->records[i];
    return NULL;
}

static inline int64_t pool_record_live_sum(const prof_profile *p, int32_t pool_id)
{
    int64_t sum = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].pool_id == pool_id)
            sum += p->records[i].live_bytes;
    return sum;
}

#endif
