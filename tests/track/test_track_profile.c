/* test_track_profile.c: what the writer writes is what docs/FORMAT.md says,
 * and a corrupt or short profile is rejected with the format's messages. */
#include <config.h> /* _GNU_SOURCE: dladdr */

#include "check_main.h"
#include "track_test_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

static uint8_t *file;
static size_t file_len;

static void write_profile(void)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 5);
    tally_pool *pool = tally_proxy_pool_new(NULL, "fmt");
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(pool, 4096, &p), 0);
    usleep(30000); /* a few time-series points */
    prof_profile *prof = dump_and_read();
    prof_free(prof);
    FILE *f = fopen(test_profile, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    file_len = (size_t)ftell(f);
    rewind(f);
    file = malloc(file_len);
    ck_assert_uint_eq(fread(file, 1, file_len, f), file_len);
    fclose(f);
    unlink(test_profile);
}

static const char *parse_error(const uint8_t *data, size_t len)
{
    static char err[256];
    prof_profile *p = NULL;
    err[0] = '\0';
    int rc = prof_parse(data, len, 0, &p, err, sizeof err);
    if (rc == 0) {
        prof_free(p);
        return NULL;
    }
    ck_assert_ptr_null(p);
    return err;
}

static void put_u64(uint8_t *at, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *at, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | at[i];
    return v;
}

/* Recomputes the checksum after a deliberate change, so that the reader gets
 * past it to the check under test. */
static void fix_checksum(uint8_t *data, size_t len)
{
    put_u64(data + len - 8, prof_checksum(data, len - PROF_END_BYTES));
}

START_TEST(layout_matches_the_format)
{
    write_profile();
    ck_assert_mem_eq(file, PROF_MAGIC, PROF_MAGIC_BYTES);
    ck_assert_uint_eq(get_le(file + PROF_HEADER_VERSION_AT, 4), PROF_VERSION); /* little-endian */
    ck_assert_uint_eq(get_le(file + PROF_HEADER_FLAGS_AT, 4), 0);              /* not sampled */
    /* end := tag, count 0, length 8, FNV-1a of all before it */
    const uint8_t *end = file + file_len - PROF_END_BYTES;
    ck_assert_uint_eq(get_le(end, 4), PROF_SEC_END);
    ck_assert_uint_eq(get_le(end + PROF_SECTION_COUNT_AT, 4), 0);
    ck_assert_uint_eq(get_le(end + PROF_SECTION_LENGTH_AT, 8), PROF_END_LENGTH);
    ck_assert(get_le(end + PROF_SECTION_HEADER_BYTES, 8) ==
              prof_checksum(file, file_len - PROF_END_BYTES));
    /* every section, each once: walk them */
    int seen[PROF_SEC_KNOWN_LAST + 1] = {0};
    size_t at = PROF_HEADER_BYTES;
    while (at < file_len - PROF_END_BYTES) {
        uint32_t tag = (uint32_t)get_le(file + at, 4);
        uint64_t len = get_le(file + at + PROF_SECTION_LENGTH_AT, 8);
        ck_assert_uint_ge(tag, PROF_SEC_META);
        ck_assert_uint_le(tag, PROF_SEC_KNOWN_LAST);
        seen[tag]++;
        at += PROF_SECTION_HEADER_BYTES + len;
    }
    ck_assert_uint_eq(at, file_len - PROF_END_BYTES);
    /* LEAK_BLOCKS only when asked for (TALLY_LEAK_ADDRESSES); NAMES only
     * when stored after the process (tally run, tally report --store-names) */
    for (int tag = PROF_SEC_META; tag <= PROF_SEC_KNOWN_LAST; tag++)
        ck_assert_msg(seen[tag] == (tag != PROF_SEC_LEAK_BLOCKS && tag != PROF_SEC_NAMES),
                      "section %d seen %d times", tag, seen[tag]);
    ck_assert_ptr_null(parse_error(file, file_len));

    prof_profile *p = NULL;
    char err[256];
    ck_assert_int_eq(prof_parse(file, file_len, 0, &p, err, sizeof err), 0);
    ck_assert_uint_gt(p->npoints, 0);
    for (size_t i = 1; i < p->npoints; i++)
        ck_assert_int_ge(p->series_t_ns[i], p->series_t_ns[i - 1]);
    ck_assert_int_gt(p->series_rss[0], 0);
    bool found_self = false;
    for (size_t i = 0; i < p->nmodules; i++) {
        ck_assert_uint_lt(p->modules[i].start, p->modules[i].end);
        if (strstr(p->modules[i].path, "libtally"))
            found_self = p->modules[i].build_id_len > 0;
    }
    ck_assert_msg(found_self, "libtally with its build-id among the modules");
    ck_assert_ptr_nonnull(strstr(p->exe, "test_track_profile"));
    ck_assert_ptr_nonnull(strstr(p->cmdline, "test_track_profile"));
    prof_free(p);
    free(file);
}
END_TEST

START_TEST(bad_magic_rejected)
{
    write_profile();
    file[0] = 'X';
    ck_assert_str_eq(parse_error(file, file_len), "not a tally profile");
    ck_assert_str_eq(parse_error(file, 5), "not a tally profile");
    ck_assert_str_eq(parse_error(file, 0), "not a tally profile");
    free(file);
}
END_TEST

START_TEST(wrong_version_rejected)
{
    write_profile();
    file[PROF_HEADER_VERSION_AT] = PROF_VERSION + 1;
    fix_checksum(file, file_len);
    ck_assert_str_eq(parse_error(file, file_len),
                     "unsupported profile version 4 (this tally reads versions 1 to 3)");
    file[PROF_HEADER_VERSION_AT] = 0;
    fix_checksum(file, file_len);
    ck_assert_str_eq(parse_error(file, file_len),
                     "unsupported profile version 0 (this tally reads versions 1 to 3)");
    free(file);
}
END_TEST

START_TEST(truncation_rejected)
{
    write_profile();
    ck_assert_str_eq(parse_error(file, file_len - 1), "truncated profile");
    ck_assert_str_eq(parse_error(file, file_len / 2), "truncated profile");
    ck_assert_str_eq(parse_error(file, PROF_HEADER_BYTES), "truncated profile");
    free(file);
}
END_TEST

START_TEST(checksum_mismatch_rejected)
{
    write_profile();
    file[file_len / 2] ^= 0x40;
    ck_assert_str_eq(parse_error(file, file_len), "corrupt profile: checksum mismatch");
    free(file);
}
END_TEST

TEST_FN void many_blocks(tally_pool *pool, uint8_t **out, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(tally_pool_allocate(pool, 10, &out[i]), 0);
}

TEST_FN void one_block(tally_pool *pool, uint8_t **out)
{
    ck_assert_int_eq(tally_pool_allocate(pool, 1000, out), 0);
}

/* Blocks from one call site: one LEAKS group with their bytes and count,
 * not a record each. (Their addresses, with TALLY_LEAK_ADDRESSES, which
 * libtally reads as it loads: tests/cli/test_cli_run.sh.) */
START_TEST(leaks_are_grouped_by_stack_pool_and_kind)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 1000);
    tally_pool *pool = tally_proxy_pool_new(NULL, "grouped");
    int32_t id = tally_pool_id(pool);
    uint8_t *b[200], *big;
    many_blocks(pool, b, 200);
    one_block(pool, &big);
    prof_profile *p = dump_and_read();
    const prof_leak *many = NULL, *one = NULL;
    for (size_t i = 0; i < p->nleaks; i++) {
        const prof_leak *l = &p->leaks[i];
        if (l->pool_id != id)
            continue;
        ck_assert_uint_eq(l->kind, PROF_LEAK_LIVE); /* a dump: no leak check */
        if (!strcmp(frame0_name(p, l->stack_id), "many_blocks"))
            many = l;
        else if (!strcmp(frame0_name(p, l->stack_id), "one_block"))
            one = l;
    }
    ck_assert_ptr_nonnull(many);
    ck_assert_ptr_nonnull(one);
    ck_assert_int_eq(many->count, 200);
    ck_assert_int_eq(many->bytes, 2000);
    ck_assert_int_eq(one->count, 1);
    ck_assert_int_eq(one->bytes, 1000);
    ck_assert(!p->classified);
    ck_assert_uint_eq(p->nblocks, 0); /* no addresses unless asked for */
    prof_free(p);
    unlink(test_profile);
}
END_TEST

/* depth calls of itself, then one block: each depth a stack of its own,
 * all with the same callers. */
TEST_FN void nest(tally_pool *pool, int depth, uint8_t **out)
{
    if (depth > 0) {
        nest(pool, depth - 1, out);
        __asm__ volatile("" ::: "memory"); /* keeps the call a call */
        return;
    }
    ck_assert_int_eq(tally_pool_allocate(pool, 64, out), 0);
}

static const char *name_of(uint64_t ret)
{
    Dl_info info;
    return dladdr((void *)(uintptr_t)(ret - 1), &info) && info.dli_sname ? info.dli_sname : "";
}

/* The core's stacks go out as a tree (docs/FORMAT.md, NODES): the 21
 * stacks of nest() at depths 0 to 20 each read back whole, and share their
 * callers: the deepest stack's nodes, and one more for each shallower
 * stack's innermost frame. */
START_TEST(stacks_share_their_callers)
{
    enum { DEEPEST = 20 };
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 1000);
    tally_pool *pool = tally_proxy_pool_new(NULL, "nested");
    int32_t id = tally_pool_id(pool);
    uint8_t *b[DEEPEST + 1];
    for (int d = 0; d <= DEEPEST; d++)
        nest(pool, d, &b[d]);
    prof_profile *p = dump_and_read();
    uint8_t *on_path = calloc(p->nnodes, 1);
    uint64_t frames[PROF_MAX_FRAMES];
    size_t nrecords = 0, distinct = 0;
    uint32_t deepest = 0, seen_depth = 0;
    for (size_t i = 0; i < p->nrecords; i++) {
        if (p->records[i].pool_id != id)
            continue;
        nrecords++;
        const prof_stack *st = prof_find_stack(p, p->records[i].stack_id);
        ck_assert_ptr_nonnull(st);
        uint32_t n = prof_stack_frames(p, st, frames, PROF_MAX_FRAMES);
        ck_assert_uint_eq(n, st->nframes);
        uint32_t nests = 0;
        while (nests < n && !strcmp(name_of(frames[nests]), "nest"))
            nests++;
        ck_assert_uint_ge(nests, 1);
        ck_assert_uint_le(nests, DEEPEST + 1);
        seen_depth |= 1u << (nests - 1);
        if (n > deepest)
            deepest = n;
        for (uint32_t k = st->node; k != 0 && !on_path[k]; k = p->nodes[k].parent) {
            on_path[k] = 1;
            distinct++;
        }
    }
    ck_assert_uint_eq(nrecords, DEEPEST + 1);
    ck_assert_uint_eq(seen_depth, (1u << (DEEPEST + 1)) - 1); /* every depth, once */
    ck_assert_uint_eq(distinct, deepest + DEEPEST);
    free(on_path);
    prof_free(p);
    unlink(test_profile);
}
END_TEST

START_TEST(missing_file_is_an_error_not_a_crash)
{
    prof_profile *p = NULL;
    char err[256];
    ck_assert_int_ne(prof_read("/nonexistent/x.prof", &p, err, sizeof err), 0);
    ck_assert_ptr_null(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("track_profile");
    TCase *tc = tcase_create("format");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, layout_matches_the_format);
    tcase_add_test(tc, bad_magic_rejected);
    tcase_add_test(tc, wrong_version_rejected);
    tcase_add_test(tc, truncation_rejected);
    tcase_add_test(tc, checksum_mismatch_rejected);
    tcase_add_test(tc, missing_file_is_an_error_not_a_crash);
    tcase_add_test(tc, leaks_are_grouped_by_stack_pool_and_kind);
    tcase_add_test(tc, stacks_share_their_callers);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
