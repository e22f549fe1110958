/* test_shadow.c: the shadow map's bare entries (shadow.h), with shadow.c
 * built into the test: its functions are internal. */
#include <config.h>

#include "check_main.h"

#include "track/shadow.h"

#include <stdlib.h>

/* The bare map's 8-bit entries (shadow.h): a size that does not fit a
 * block's first entry goes on into the entries of its next granules,
 * which the block owns because the next block starts at least its size
 * further on. Blocks packed as tightly as 16-byte starts allow, with sizes
 * at each encoding's edges, must read back whole through every reader:
 * the block lookup, the granule walk (tally_track_find_containing's) and
 * the exit's walk of the map; and forgetting one must leave its
 * neighbours' entries as they were. */
static uintptr_t packed_at[16];

typedef struct {
    uintptr_t lo, hi;
    int seen;
    int64_t size[16];
} packed_seen;

static void note_packed(uintptr_t addr, int64_t size, uint32_t stack, void *arg)
{
    packed_seen *s = arg;
    ck_assert_int_eq(stack, 0);
    if (addr < s->lo || addr >= s->hi)
        return;
    for (int i = 0; i < 16; i++)
        if (packed_at[i] == addr) {
            s->size[i] = size;
            s->seen++;
        }
}

START_TEST(bare_map_keeps_sizes_past_the_first_entry)
{
    static const int64_t sizes[] = {16, 24, 47, 48, 49, 111, 112, 943, 944, 945, 5039, 5040, 8191};
    enum { N = sizeof sizes / sizeof *sizes };
    ck_assert_int_le(N, 16);
    uint8_t *buf = aligned_alloc(4096, 1 << 16);
    ck_assert_ptr_nonnull(buf);
    tt_shadow_on = TT_SHADOW_BARE;
    uintptr_t at = (uintptr_t)buf;
    for (int i = 0; i < N; i++) {
        packed_at[i] = at;
        at += (uintptr_t)((sizes[i] + 15) & ~15);
    }
    for (int i = 0; i < N; i++)
        ck_assert(tt_bare_put((void *)packed_at[i], sizes[i], (unsigned)i % 3));
    for (int i = 0; i < N; i++) {
        const uint8_t *e = tt_bare_block((void *)packed_at[i]);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(tt_bare_size(e, *e), sizes[i]);
        ck_assert_uint_eq(tt_shadow_kind(*e), (unsigned)i % 3);
        tt_shadowed b;
        ck_assert(tt_shadow_start_in(packed_at[i], &b));
        ck_assert_uint_eq(b.addr, packed_at[i]);
        ck_assert_int_eq(b.size, sizes[i]);
        /* Inside a block, no entry says a block starts. */
        for (uintptr_t g = packed_at[i] + 16; g < packed_at[i] + (uintptr_t)sizes[i]; g += 16)
            ck_assert(!tt_shadow_start_in(g, &b));
    }
    packed_seen seen = {(uintptr_t)buf, (uintptr_t)buf + (1 << 16), 0, {0}};
    tt_shadow_foreach(note_packed, &seen);
    ck_assert_int_eq(seen.seen, N);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(seen.size[i], sizes[i]);
    for (int i = 0; i < N; i += 2)
        tt_shadow_forget((void *)packed_at[i]);
    for (int i = 0; i < N; i++) {
        const uint8_t *e = tt_bare_block((void *)packed_at[i]);
        if (i % 2 == 0) {
            ck_assert_ptr_null(e);
        } else {
            ck_assert_ptr_nonnull(e);
            ck_assert_int_eq(tt_bare_size(e, *e), sizes[i]);
        }
    }
    /* A block that does not start at a granule's start goes to the table. */
    ck_assert(!tt_bare_put(buf + 8, 32, 0));
    ck_assert_ptr_null(tt_bare_block(buf + 8));
    /* A block in a region's last granule keeps its next entries past the
     * region's part of the map, and reads them back from there. */
    uintptr_t last = ((uintptr_t)1 << 40) - 16;
    for (int i = 0; i < N; i++) {
        ck_assert(tt_bare_put((void *)last, sizes[i], 1));
        const uint8_t *e = tt_bare_block((void *)last);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(tt_bare_size(e, *e), sizes[i]);
    }
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shadow");
    TCase *tc = tcase_create("bare");
    tcase_add_test(tc, bare_map_keeps_sizes_past_the_first_entry);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
