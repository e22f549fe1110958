/* test_summary.c: the exit summary's text, from snapshots made by hand
 * with every leak class (the leak check that classifies a real snapshot
 * is lib/track/mark.c's; here the classes are given). Linked with libtally
 * statically: tt_summary_print and the snapshot are internal. */
#include "check_main.h"
#include "tally_capture.h"

#include "profile/format.h"
#include "track/config.h"
#include "track/dump.h"
#include "track/stack_table.h"

/* Frames at addresses no object maps: each is printed as its address, with
 * libdw or without, so the expected text is exact. */
static uint32_t fake_stack(uintptr_t frame)
{
    uint32_t id = tt_stack_intern(&frame, 1);
    ck_assert_uint_ne(id, 0);
    return id;
}

static tt_snap_pool pools[2] = {{.id = 0, .name = "malloc"}, {.id = 3, .name = "p1"}};
static tt_snap_leak leaks[64];
static size_t nleaks;

static void add(size_t n, int64_t size, uint32_t stack, int32_t pool, uint8_t kind)
{
    for (size_t i = 0; i < n; i++)
        leaks[nleaks++] = (tt_snap_leak){.address = 0x10000 + 64 * nleaks,
                                         .size = size,
                                         .stack = stack,
                                         .pool = pool,
                                         .count = 1,
                                         .kind = kind};
}

/* Every class: 616 bytes definitely lost (two stacks), 80 indirectly, 64
 * possibly, 1200 still reachable (two stacks, two pools). */
static tt_snapshot every_class(void)
{
    uint32_t a = fake_stack(0x1000), b = fake_stack(0x2000), c = fake_stack(0x3000),
             d = fake_stack(0x4000);
    nleaks = 0;
    add(3, 200, a, 0, PROF_LEAK_DEFINITE);
    add(10, 100, a, 0, PROF_LEAK_REACHABLE);
    add(2, 40, b, 0, PROF_LEAK_INDIRECT);
    add(1, 16, b, 0, PROF_LEAK_DEFINITE);
    add(1, 64, c, 3, PROF_LEAK_POSSIBLE);
    add(2, 100, d, 3, PROF_LEAK_REACHABLE);
    return (tt_snapshot){.peak_bytes = 2048,
                         .classified = true,
                         .pools = pools,
                         .npools = 2,
                         .leaks = leaks,
                         .nleaks = nleaks};
}

static const char *summary_of(const tt_snapshot *s, int report, int64_t sample_bytes)
{
    tt_cfg.report = report;
    tt_cfg.sample_bytes = sample_bytes;
    stderr_capture c;
    capture_tally(&c);
    tt_summary_print(s, "t.prof", true);
    return captured_tally(&c);
}

#define CLASSES_LINE                                                                               \
    "tally: definitely lost: 616 bytes in 4 blocks; indirectly lost: 80 bytes in 2 blocks; "       \
    "possibly lost: 64 bytes in 1 block; still reachable: 1200 bytes in 12 blocks; peak 2.0 "      \
    "KiB; profile t.prof\n"
#define POOL_LINES                                                                                 \
    "  pool malloc: definitely lost 616 bytes in 4 blocks; indirectly lost 80 bytes in 2 blocks; " \
    "still reachable 1000 bytes in 10 blocks\n"                                                    \
    "  pool p1: possibly lost 64 bytes in 1 block; still reachable 200 bytes in 2 blocks\n"
#define LOST_AND_POSSIBLE                                                                          \
    "600 bytes in 3 blocks definitely lost in pool malloc, allocated at:\n"                        \
    "    #0 0x1000\n"                                                                              \
    "80 bytes in 2 blocks indirectly lost in pool malloc, allocated at:\n"                         \
    "    #0 0x2000\n"                                                                              \
    "16 bytes in 1 block definitely lost in pool malloc, allocated at:\n"                          \
    "    #0 0x2000\n"                                                                              \
    "tally: possibly lost (reached only through interior pointers):\n"                             \
    "64 bytes in 1 block possibly lost in pool p1, allocated at:\n"                                \
    "    #0 0x3000\n"

START_TEST(classified_summary)
{
    tt_snapshot s = every_class();
    const char *out = summary_of(&s, TT_REPORT_SUMMARY, 0);
    ck_assert_str_eq(out, CLASSES_LINE POOL_LINES LOST_AND_POSSIBLE
                     "tally: still reachable blocks are not listed (TALLY_REPORT=full lists "
                     "them)\n");
}
END_TEST

START_TEST(classified_full_lists_reachable)
{
    tt_snapshot s = every_class();
    const char *out = summary_of(&s, TT_REPORT_FULL, 0);
    ck_assert_str_eq(out, CLASSES_LINE POOL_LINES LOST_AND_POSSIBLE
                     "tally: still reachable:\n"
                     "1000 bytes in 10 blocks still reachable in pool malloc, allocated at:\n"
                     "    #0 0x1000\n"
                     "200 bytes in 2 blocks still reachable in pool p1, allocated at:\n"
                     "    #0 0x4000\n");
}
END_TEST

/* The check did not run: the same blocks, nothing called lost. */
START_TEST(unclassified_summary_says_live)
{
    tt_snapshot s = every_class();
    s.classified = false;
    for (size_t i = 0; i < s.nleaks; i++)
        s.leaks[i].kind = PROF_LEAK_LIVE;
    const char *out = summary_of(&s, TT_REPORT_SUMMARY, 0);
    ck_assert_str_eq(out, "tally: 1960 bytes live at exit in 19 allocations; peak 2.0 KiB; "
                          "profile t.prof\n"
                          "  pool malloc: 1696 bytes in 16 allocations\n"
                          "  pool p1: 264 bytes in 3 allocations\n"
                          "1600 bytes in 13 allocations in pool malloc, allocated at:\n"
                          "    #0 0x1000\n"
                          "200 bytes in 2 allocations in pool p1, allocated at:\n"
                          "    #0 0x4000\n"
                          "96 bytes in 3 allocations in pool malloc, allocated at:\n"
                          "    #0 0x2000\n"
                          "64 bytes in 1 allocation in pool p1, allocated at:\n"
                          "    #0 0x3000\n");
}
END_TEST

START_TEST(nothing_lost)
{
    tt_snapshot s = {.peak_bytes = 100, .classified = true, .pools = pools, .npools = 2};
    ck_assert_str_eq(summary_of(&s, TT_REPORT_SUMMARY, 0),
                     "tally: definitely lost: 0 bytes in 0 blocks; indirectly lost: 0 bytes in 0 "
                     "blocks; possibly lost: 0 bytes in 0 blocks; still reachable: 0 bytes in 0 "
                     "blocks; peak 100 bytes; profile t.prof\n");
    s.classified = false;
    ck_assert_str_eq(summary_of(&s, TT_REPORT_SUMMARY, 0),
                     "tally: no leaks; peak 100 bytes; profile t.prof\n");
    ck_assert_str_eq(summary_of(&s, TT_REPORT_NONE, 0), "");
}
END_TEST

/* Seven lost stacks: the five largest, then how many more. */
START_TEST(largest_five_lost_stacks)
{
    nleaks = 0;
    for (uintptr_t i = 1; i <= 7; i++)
        add(1, (int64_t)(10 * i), fake_stack(0x5000 + i), 0, PROF_LEAK_DEFINITE);
    tt_snapshot s = {
        .classified = true, .pools = pools, .npools = 2, .leaks = leaks, .nleaks = nleaks};
    const char *out = summary_of(&s, TT_REPORT_SUMMARY, 0);
    ck_assert_msg(strstr(out, "70 bytes in 1 block definitely lost in pool malloc, allocated at:\n"
                              "    #0 0x5007\n"
                              "60 bytes") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "    #0 0x5003\n"
                              "tally: 2 more leak stacks in the profile (TALLY_REPORT=full lists "
                              "them)\n") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "0x5002") == NULL, "%s", out);
}
END_TEST

/* Sampled: the check sees the shim's blocks (sampled or shadowed), not a
 * pool's unsampled ones; per stack, the record's estimate is shared out
 * between the classes of its sampled blocks. */
START_TEST(sampled_classified_estimates)
{
    uint32_t a = fake_stack(0x6000);
    nleaks = 0;
    add(1, 4000, a, 0, PROF_LEAK_DEFINITE);
    add(1, 1000, a, 0, PROF_LEAK_REACHABLE);
    add(5, 16, 0, 0, PROF_LEAK_DEFINITE); /* shadowed: no stack */
    tt_snap_pool sp[2] = {{.id = 0, .name = "malloc", .current = 5080, .live_count = 7},
                          {.id = 3, .name = "p1", .current = 300, .live_count = 3}};
    tt_snap_rec rec = {.stack = a, .pool = 0, .live_bytes = 10000, .live_count = 4};
    tt_snapshot s = {.classified = true,
                     .pools = sp,
                     .npools = 2,
                     .recs = &rec,
                     .nrecs = 1,
                     .leaks = leaks,
                     .nleaks = nleaks};
    const char *out = summary_of(&s, TT_REPORT_SUMMARY, 4096);
    ck_assert_str_eq(out,
                     "tally: definitely lost: 4080 bytes in 6 blocks; indirectly lost: 0 bytes "
                     "in 0 blocks; possibly lost: 0 bytes in 0 blocks; still reachable: 1000 "
                     "bytes in 1 block; not checked (sampled): 300 bytes in 3 blocks; peak 0 "
                     "bytes; profile t.prof\n"
                     "  pool malloc: 5080 bytes in 7 blocks live\n"
                     "  pool p1: 300 bytes in 3 blocks live\n"
                     "tally: per-stack figures are estimates (sampled, mean 4096 bytes)\n"
                     "~8000 bytes in 2 blocks definitely lost in pool malloc, allocated at:\n"
                     "    #0 0x6000\n"
                     "tally: still reachable blocks are not listed (TALLY_REPORT=full lists "
                     "them)\n");
}
END_TEST

/* The same, with the blocks of two stacks interleaved in the snapshot (a
 * heap's blocks come in address order, not by stack): each stack's
 * estimate is shared out among its own classes, whatever the order. */
START_TEST(sampled_estimates_with_interleaved_stacks)
{
    uint32_t a = fake_stack(0x6000), b = fake_stack(0x7000);
    nleaks = 0;
    add(1, 4000, a, 0, PROF_LEAK_DEFINITE);
    add(1, 100, b, 0, PROF_LEAK_DEFINITE);
    add(1, 1000, a, 0, PROF_LEAK_REACHABLE);
    tt_snap_pool sp[1] = {{.id = 0, .name = "malloc", .current = 5100, .live_count = 3}};
    tt_snap_rec recs[2] = {{.stack = b, .pool = 0, .live_bytes = 200, .live_count = 2},
                           {.stack = a, .pool = 0, .live_bytes = 10000, .live_count = 4}};
    tt_snapshot s = {.classified = true,
                     .pools = sp,
                     .npools = 1,
                     .recs = recs,
                     .nrecs = 2,
                     .leaks = leaks,
                     .nleaks = nleaks};
    const char *out = summary_of(&s, TT_REPORT_FULL, 4096);
    ck_assert_msg(strstr(out, "~8000 bytes in 2 blocks definitely lost in pool malloc, allocated "
                              "at:\n    #0 0x6000\n") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "~200 bytes in 2 blocks definitely lost in pool malloc, allocated "
                              "at:\n    #0 0x7000\n") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "~2000 bytes in 2 blocks still reachable in pool malloc, allocated "
                              "at:\n    #0 0x6000\n") != NULL,
                  "%s", out);
}
END_TEST

/* Each pool's classes, counted in one pass over leaks met in scattered
 * order. Pool ids are not the pools' places in the snapshot (ids 1, 3, 5,
 * ...), and one leak names a pool the snapshot does not hold (booked while
 * it was taken): it counts in the totals, and no pool line names it. */
START_TEST(many_pools_each_its_classes)
{
    enum { NPOOLS = 40, EACH = 30 };
    static tt_snap_pool many[NPOOLS];
    static tt_snap_leak blocks[NPOOLS * EACH + 1];
    for (int k = 0; k < NPOOLS; k++) {
        many[k] = (tt_snap_pool){.id = 2 * k + 1};
        snprintf(many[k].name, sizeof many[k].name, "q%d", k);
    }
    uint32_t a = fake_stack(0x1000);
    size_t n = 0;
    for (int i = 0; i < EACH; i++)
        for (int k = 0; k < NPOOLS; k++) {
            int pool = (k * 7 + i) % NPOOLS; /* scattered: no two neighbours share a pool */
            blocks[n++] = (tt_snap_leak){.address = 0x10000 + 64 * n,
                                         .size = 10 + pool,
                                         .stack = a,
                                         .pool = 2 * pool + 1,
                                         .count = 1,
                                         .kind = i % 3 ? PROF_LEAK_DEFINITE : PROF_LEAK_REACHABLE};
        }
    blocks[n++] = (tt_snap_leak){
        .size = 1000, .stack = a, .pool = 200, .count = 1, .kind = PROF_LEAK_DEFINITE};
    tt_snapshot s = {
        .classified = true, .pools = many, .npools = NPOOLS, .leaks = blocks, .nleaks = n};
    const char *out = summary_of(&s, TT_REPORT_SUMMARY, 0);
    /* Definite: 20 of each pool's 30 blocks, sizes 10 to 49: 20 * 1180 +
     * 1000 = 24600 bytes in 801 blocks; reachable: 10 * 1180 = 11800. */
    ck_assert_msg(strstr(out, "tally: definitely lost: 24600 bytes in 801 blocks; ") != NULL,
                  "%.600s", out);
    ck_assert_msg(strstr(out, "still reachable: 11800 bytes in 400 blocks; ") != NULL, "%.600s",
                  out);
    ck_assert_msg(strstr(out, "  pool q0: definitely lost 200 bytes in 20 blocks; still reachable "
                              "100 bytes in 10 blocks\n") != NULL,
                  "%.600s", out);
    ck_assert_msg(strstr(out, "  pool q39: definitely lost 980 bytes in 20 blocks; still "
                              "reachable 490 bytes in 10 blocks\n") != NULL,
                  "%.600s", out);
    ck_assert_msg(strstr(out, "  pool ?:") == NULL, "%.600s", out); /* no line of its own */
    tt_cfg.sample_bytes = 0;
    s.classified = false;
    for (size_t i = 0; i < n; i++)
        blocks[i].kind = PROF_LEAK_LIVE;
    out = summary_of(&s, TT_REPORT_SUMMARY, 0);
    ck_assert_msg(strstr(out, "tally: 36400 bytes live at exit in 1201 allocations; ") != NULL,
                  "%.600s", out);
    ck_assert_msg(strstr(out, "  pool q7: 510 bytes in 30 allocations\n") != NULL, "%.600s", out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("summary");
    TCase *tc = tcase_create("summary");
    tcase_add_test(tc, classified_summary);
    tcase_add_test(tc, classified_full_lists_reachable);
    tcase_add_test(tc, unclassified_summary_says_live);
    tcase_add_test(tc, nothing_lost);
    tcase_add_test(tc, largest_five_lost_stacks);
    tcase_add_test(tc, sampled_classified_estimates);
    tcase_add_test(tc, sampled_estimates_with_interleaved_stacks);
    tcase_add_test(tc, many_pools_each_its_classes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
