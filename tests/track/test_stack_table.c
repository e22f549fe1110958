/* test_stack_table.c: lib/track/stack_table.c gives each distinct stack one
 * id, for good, while its index doubles under lookups from other threads.
 * Linked with libtally statically: the table is internal. */
#include "check_main.h"

#include "track/stack_table.h"

#include <pthread.h>
#include <stdint.h>

/* Enough stacks for seven doublings of the index (4096 slots at first, at
 * most 3/4 full). */
enum { MANY = 200000, SHARED = 60000, THREADS = 3 };

/* Stack k: three frames that no other k shares, the innermost varying
 * fastest, as a program's leaf calls do. */
static void stack_frames(uint32_t k, uintptr_t f[3])
{
    f[0] = 0x400000 + (uintptr_t)k * 16;
    f[1] = 0x500000 + (uintptr_t)(k / 7) * 16;
    f[2] = 0x600000;
}

START_TEST(each_stack_keeps_one_id)
{
    static uint32_t ids[MANY];
    uintptr_t f[3];
    uint32_t first = tt_stack_max_id();
    int not_next = 0, changed = 0, wrong_frames = 0;
    for (uint32_t k = 0; k < MANY; k++) {
        stack_frames(k, f);
        ids[k] = tt_stack_intern(f, 3);
        not_next += ids[k] != first + k;
    }
    for (uint32_t k = 0; k < MANY; k++) {
        stack_frames(k, f);
        changed += tt_stack_intern(f, 3) != ids[k];
        const tt_stack *s = tt_stack_get(ids[k]);
        wrong_frames += !s || s->id != ids[k] || s->nframes != 3 || memcmp(s->frames, f, sizeof f);
    }
    ck_assert_int_eq(not_next, 0);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(wrong_frames, 0);
    ck_assert_uint_eq(tt_stack_max_id(), first + MANY);
}
END_TEST

START_TEST(depth_is_part_of_the_stack)
{
    uintptr_t f[3];
    stack_frames(MANY + 1, f);
    uint32_t two = tt_stack_intern(f, 2), three = tt_stack_intern(f, 3);
    ck_assert_uint_ne(two, 0);
    ck_assert_uint_ne(three, 0);
    ck_assert_uint_ne(two, three);
    ck_assert_uint_eq(tt_stack_intern(f, 2), two);
    ck_assert_uint_eq(tt_stack_intern(NULL, 0), 0); /* no frames: no stack */
}
END_TEST

/* The threads intern the same stacks, each in its own order, so lookups
 * probe the index while another thread doubles it. */
typedef struct {
    int order;
    uint32_t ids[SHARED];
} intern_run;

static void *intern_all(void *arg)
{
    intern_run *r = arg;
    uintptr_t f[3];
    for (uint32_t i = 0; i < SHARED; i++) {
        uint32_t k = r->order == 0 ? i : r->order == 1 ? SHARED - 1 - i : (i * 7919u) % SHARED;
        stack_frames(MANY * 2 + k, f);
        r->ids[k] = tt_stack_intern(f, 3);
    }
    return NULL;
}

START_TEST(threads_agree_on_ids)
{
    static intern_run runs[THREADS];
    pthread_t t[THREADS];
    uint32_t first = tt_stack_max_id();
    for (int i = 0; i < THREADS; i++) {
        runs[i].order = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, intern_all, &runs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int disagree = 0, zero = 0;
    for (uint32_t k = 0; k < SHARED; k++) {
        zero += runs[0].ids[k] == 0;
        for (int i = 1; i < THREADS; i++)
            disagree += runs[i].ids[k] != runs[0].ids[k];
    }
    ck_assert_int_eq(zero, 0);
    ck_assert_int_eq(disagree, 0);
    /* One id a stack: none was inserted twice. */
    ck_assert_uint_eq(tt_stack_max_id(), first + SHARED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stack_table");
    TCase *tc = tcase_create("stack_table");
    tcase_set_timeout(tc, 30); /* a sanitizer build on a loaded machine */
    tcase_add_test(tc, each_stack_keeps_one_id);
    tcase_add_test(tc, depth_is_part_of_the_stack);
    tcase_add_test(tc, threads_agree_on_ids);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
