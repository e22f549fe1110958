/* test_ipc_badinput: truncated and corrupt IPC input never crashes, never
 * reads past its bytes and leaks nothing: each read ends in success (a
 * stream cut between messages is a shorter stream), EINVAL or ENOTSUP (a
 * flipped type id naming a type tally does not have), with a message, and
 * the pool is back at its baseline after every attempt.
 *
 * The bytes are placed flush against a PROT_NONE page, so any read past
 * their end faults here as well as under ASan; flush means unaligned, so
 * the reader's copy of a body that does not lie on 8 bytes runs too. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc/ipc_fixture.h"
#include "lib/pool_fixture.h"

typedef struct {
    uint8_t *area; /* data pages, then a guard page */
    size_t area_size;
} guarded;

/* n bytes ending at a guard page: [result, result + n) is all that is readable there. */
static uint8_t *guarded_copy(guarded *g, const uint8_t *data, int64_t n, bool aligned)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = ((size_t)n + 8 + page - 1) / page;
    g->area_size = (pages + 1) * page;
    g->area = mmap(NULL, g->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(g->area, MAP_FAILED);
    ck_assert_int_eq(mprotect(g->area + pages * page, page, PROT_NONE), 0);
    uint8_t *end = g->area + pages * page, *p = end - n;
    if (aligned)
        p = (uint8_t *)((uintptr_t)p & ~(uintptr_t)7);
    memcpy(p, data, (size_t)n);
    return p;
}

static void guarded_free(guarded *g)
{
    munmap(g->area, g->area_size);
}

static tally_buffer *valid_bytes(tally_ipc_format format)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *rb[3] = {make_batch(test_pool, s, 20, 0), make_batch(test_pool, s, 0, 1),
                                 NULL};
    tally_record_batch *big = make_batch(test_pool, s, 30, 2);
    ck_assert_int_eq(tally_record_batch_slice(big, 3, 17, &rb[2]), 0);
    tally_ipc_writer *w;
    ck_assert_int_eq(tally_ipc_writer_open_memory(test_pool, s, format, NULL, &w), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tally_ipc_writer_write(w, rb[i], NULL), 0);
    tally_buffer *out;
    ck_assert_int_eq(tally_ipc_writer_finish(w, &out, NULL), 0);
    tally_ipc_writer_destroy(w);
    for (int i = 0; i < 3; i++)
        tally_record_batch_release(rb[i]);
    tally_record_batch_release(big);
    tally_schema_release(s);
    return out;
}

static int outcomes[3]; /* ok, EINVAL, ENOTSUP */

static void expect_clean(int rc, const tally_error *err)
{
    ck_assert_msg(rc == 0 || rc == EINVAL || rc == ENOTSUP, "rc %d", rc);
    if (rc != 0)
        ck_assert_msg(strncmp(err->message, "IPC read: ", 10) == 0, "message '%s'", err->message);
    outcomes[rc == 0 ? 0 : rc == EINVAL ? 1 : 2]++;
}

/* Reads everything in bytes [p, p + n), values included. */
static void read_in_place(const uint8_t *p, int64_t n)
{
    int64_t baseline = tally_pool_bytes_allocated(test_pool);
    tally_buffer *buf;
    ck_assert_int_eq(tally_buffer_wrap_with_pool(test_pool, p, n, NULL, NULL, &buf), 0);
    tally_ipc_reader *r = NULL;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_open_buffer(test_pool, buf, &err, &r);
    while (rc == 0) {
        tally_record_batch *rb;
        rc = tally_ipc_reader_next(r, &rb, &err);
        if (rc != 0 || !rb)
            break;
        /* Touch every value: what the reader accepted must be readable. */
        for (int k = 0; k < tally_record_batch_n_columns(rb); k++) {
            const tally_array *a = tally_record_batch_column(rb, k);
            ck_assert(tally_array_equals(a, a));
        }
        tally_record_batch_release(rb);
    }
    expect_clean(rc, &err);
    tally_ipc_reader_destroy(r);
    tally_buffer_release(buf);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), baseline);
}

/* The same, from a copy of data against a guard page. */
static void read_everything(const uint8_t *data, int64_t n, bool aligned)
{
    guarded g;
    read_in_place(guarded_copy(&g, data, n, aligned), n);
    guarded_free(&g);
}

/* The same bytes through read(2). */
static void read_everything_fd(const uint8_t *data, int64_t n)
{
    int64_t baseline = tally_pool_bytes_allocated(test_pool);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    int fd = fileno(f);
    ck_assert_int_eq(write(fd, data, (size_t)n), n);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    tally_ipc_reader *r = NULL;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_open_fd(test_pool, fd, &err, &r);
    while (rc == 0) {
        tally_record_batch *rb;
        rc = tally_ipc_reader_next(r, &rb, &err);
        if (rc != 0 || !rb)
            break;
        tally_record_batch_release(rb);
    }
    expect_clean(rc, &err);
    tally_ipc_reader_destroy(r);
    fclose(f);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), baseline);
}

static void truncations(tally_ipc_format format)
{
    tally_buffer *bytes = valid_bytes(format);
    const uint8_t *d = tally_buffer_data(bytes);
    int64_t size = tally_buffer_size(bytes);
    memset(outcomes, 0, sizeof outcomes);
    for (int64_t n = 0; n < size; n++) {
        read_everything(d, n, n % 2 == 0);
        if (n % 16 == 0)
            read_everything_fd(d, n);
    }
    if (format == TALLY_IPC_FILE) /* a file cut anywhere has lost its footer */
        ck_assert_int_eq(outcomes[0], 0);
    ck_assert_int_gt(outcomes[1], 0);
    ck_assert_int_eq(outcomes[2], 0);
    tally_buffer_release(bytes);
}

START_TEST(test_truncated_stream)
{
    truncations(TALLY_IPC_STREAM);
}
END_TEST

START_TEST(test_truncated_file)
{
    truncations(TALLY_IPC_FILE);
}
END_TEST

static void corruptions(tally_ipc_format format)
{
    tally_buffer *bytes = valid_bytes(format);
    int64_t size = tally_buffer_size(bytes);
    guarded g;
    uint8_t *d = guarded_copy(&g, tally_buffer_data(bytes), size, true);
    memset(outcomes, 0, sizeof outcomes);
    static const uint8_t patterns[] = {0xff, 0x80};
    for (int64_t i = 0; i < size; i++)
        for (size_t k = 0; k < sizeof patterns; k++) {
            d[i] ^= patterns[k];
            read_in_place(d, size);
            if (k == 0 && i % 16 == 0)
                read_everything_fd(d, size);
            d[i] ^= patterns[k];
        }
    ck_assert_int_gt(outcomes[0], 0); /* flips in padding and values read fine */
    ck_assert_int_gt(outcomes[1], 0);
    guarded_free(&g);
    tally_buffer_release(bytes);
}

START_TEST(test_corrupt_stream)
{
    corruptions(TALLY_IPC_STREAM);
}
END_TEST

START_TEST(test_corrupt_file)
{
    corruptions(TALLY_IPC_FILE);
}
END_TEST

/* Hostile lengths: a message claiming 2 GiB of metadata, a footer longer
 * than the file, and nothing at all. */
START_TEST(test_hostile_lengths)
{
    static const uint8_t huge_meta[] = {0xff, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0x7f, 1, 2, 3, 4};
    read_everything(huge_meta, sizeof huge_meta, true);
    read_everything_fd(huge_meta, sizeof huge_meta);
    static const uint8_t long_footer[] = "ARROW1\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\x7f"
                                         "ARROW1";
    read_everything(long_footer, sizeof long_footer - 1, true);
    read_everything((const uint8_t *)"", 0, true);
    read_everything_fd((const uint8_t *)"", 0);
    ck_assert_int_eq(outcomes[0], 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ipc_badinput");
    TCase *tc = accounted_tcase("bad input");
    tcase_add_test(tc, test_truncated_stream);
    tcase_add_test(tc, test_truncated_file);
    tcase_add_test(tc, test_corrupt_stream);
    tcase_add_test(tc, test_corrupt_file);
    tcase_add_test(tc, test_hostile_lengths);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
