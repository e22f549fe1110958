/* test_leak_list.c: a snapshot's list of live blocks (track/leak_list.h),
 * kept block by block or summed into (stack, pool) groups, with
 * leak_list.c built into the test: its functions are internal. */
#include <config.h>

#include "check_main.h"

#include "profile/format.h"
#include "track/leak_list.h"
#include "track/live_table.h"

#define SITES 3000 /* past several doublings of the index */

static uint32_t stack_of(unsigned site)
{
    return site % 1000; /* 0 included: a sampled run's unsampled blocks */
}

static int32_t pool_of(unsigned site)
{
    return (int32_t)(site / 1000);
}

/* Blocks of SITES sites, met in a scattered order so that few follow a
 * block of their own site: the index answers, not the last-entry shortcut.
 * Each group must hold exactly its site's blocks and bytes. */
START_TEST(groups_sum_each_site)
{
    static int64_t bytes[SITES], count[SITES];
    memset(bytes, 0, sizeof bytes);
    memset(count, 0, sizeof count);
    tt_leak_list l = {.grouped = true};
    unsigned x = 1;
    for (int i = 0; i < 50000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned site = (x >> 8) % SITES;
        int64_t size = 16 + (x >> 20) % 200;
        tt_leak_list_add(&l, 0x100000 + 16 * (uint64_t)i, size, stack_of(site), pool_of(site),
                         TT_FLAG_SAMPLED);
        bytes[site] += size;
        count[site]++;
    }
    tt_leak_list_sorted_so_far(&l); /* groups have no addresses to be in order */
    tt_snapshot s = {0};
    ck_assert_int_eq(tt_leak_list_finish(&l, &s), 0);
    ck_assert(s.grouped);
    ck_assert_uint_eq(s.nsorted, 0);
    size_t sites = 0;
    for (unsigned site = 0; site < SITES; site++)
        sites += count[site] > 0;
    ck_assert_uint_eq(s.nleaks, sites);
    for (size_t i = 0; i < s.nleaks; i++) {
        const tt_snap_leak *e = &s.leaks[i];
        unsigned site = (unsigned)e->pool * 1000 + e->stack;
        ck_assert_uint_lt(site, SITES);
        ck_assert_int_eq(e->size, bytes[site]);
        ck_assert_int_eq(e->count, count[site]);
        count[site] = -1; /* a second entry of the site fails above */
        ck_assert_uint_eq(e->address, 0);
        ck_assert_uint_eq(e->flags, 0);
        ck_assert_uint_eq(e->kind, PROF_LEAK_LIVE);
    }
    base_unmap(s.leaks, s.map_bytes[2]);
}
END_TEST

/* For the leak check: every block as it came, with its flags. */
START_TEST(blocks_stay_blocks)
{
    tt_leak_list l = {.grouped = false};
    for (unsigned i = 0; i < 5000; i++) {
        tt_leak_list_add(&l, 0x200000 + 32 * (uint64_t)i, i + 1, i % 7, 0,
                         i % 2 ? TT_FLAG_MAPPING : 0);
        if (i == 2999)
            tt_leak_list_sorted_so_far(&l); /* the first 3000 came in address order */
    }
    tt_snapshot s = {0};
    ck_assert_int_eq(tt_leak_list_finish(&l, &s), 0);
    ck_assert(!s.grouped);
    ck_assert_uint_eq(s.nleaks, 5000);
    ck_assert_uint_eq(s.nsorted, 3000);
    for (unsigned i = 0; i < 5000; i++) {
        ck_assert_uint_eq(s.leaks[i].address, 0x200000 + 32 * (uint64_t)i);
        ck_assert_int_eq(s.leaks[i].size, i + 1);
        ck_assert_uint_eq(s.leaks[i].stack, i % 7);
        ck_assert_uint_eq(s.leaks[i].count, 1);
        ck_assert_uint_eq(s.leaks[i].flags, i % 2 ? TT_FLAG_MAPPING : 0);
    }
    base_unmap(s.leaks, s.map_bytes[2]);
}
END_TEST

/* An entry's count is 32 bits: a site of more than UINT32_MAX blocks goes
 * into the snapshot as several entries whose counts and bytes add up to
 * the site's. (The count is set near the edge by hand: 4G real blocks
 * would take minutes.) */
START_TEST(a_group_past_32_bits_is_split)
{
    tt_leak_list l = {.grouped = true};
    tt_leak_list_add(&l, 0x1000, 10, 5, 0, 0);
    tt_leak_list_add(&l, 0x2000, 30, 6, 0, 0);
    prof_leak *g = (prof_leak *)l.groups.groups.data;
    ck_assert_uint_eq(g[0].stack_id, 5);
    g[0].count = 2 * (int64_t)UINT32_MAX + 5;
    g[0].bytes = 3 * ((int64_t)1 << 40) + 7;
    tt_snapshot s = {0};
    ck_assert_int_eq(tt_leak_list_finish(&l, &s), 0);
    ck_assert_uint_eq(s.nleaks, 4);
    int64_t count = 0, bytes = 0;
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(s.leaks[i].stack, 5);
        count += s.leaks[i].count;
        bytes += s.leaks[i].size;
    }
    ck_assert_uint_eq(s.leaks[0].count, UINT32_MAX);
    ck_assert_int_eq(count, 2 * (int64_t)UINT32_MAX + 5);
    ck_assert_int_eq(bytes, 3 * ((int64_t)1 << 40) + 7);
    ck_assert_uint_eq(s.leaks[3].stack, 6);
    ck_assert_uint_eq(s.leaks[3].count, 1);
    ck_assert_int_eq(s.leaks[3].size, 30);
    base_unmap(s.leaks, s.map_bytes[2]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("leak_list");
    TCase *tc = tcase_create("list");
    tcase_add_test(tc, groups_sum_each_site);
    tcase_add_test(tc, blocks_stay_blocks);
    tcase_add_test(tc, a_group_past_32_bits_is_split);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
