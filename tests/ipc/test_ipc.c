/* test_ipc: Arrow IPC written and read back, stream and file, in memory and
 * through descriptors: every type, nulls, slices, empty and several
 * batches; every byte from the caller's pool (the fixture holds each test
 * to its pools' exact bytes, and only_test_pool() checks that the default
 * pool gained nothing but what the test pool passed it). */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/ipc_fixture.h"
#include "lib/pool_fixture.h"

/* Everything the default pool holds beyond its baseline came through test_pool. */
static bool under_debug_pool; /* its guards make the default pool's figure larger */

static void only_test_pool(void)
{
    if (under_debug_pool)
        return;
    ck_assert_int_eq(tally_pool_bytes_allocated(NULL) - default_pool_baseline,
                     tally_pool_bytes_allocated(test_pool) - test_pool_baseline);
}

#define N_BATCHES 6

/* The batches every round trip writes: full, empty, another, slices that
 * start mid-byte of the bitmaps and mid-way into string and list offsets. */
static void make_batches(tally_schema *s, tally_record_batch **out)
{
    out[0] = make_batch(test_pool, s, 100, 0);
    out[1] = make_batch(test_pool, s, 0, 0);
    out[2] = make_batch(test_pool, s, 37, 1);
    tally_record_batch *big = make_batch(test_pool, s, 200, 2);
    ck_assert_int_eq(tally_record_batch_slice(big, 13, 101, &out[3]), 0);
    ck_assert_int_eq(tally_record_batch_slice(big, 64, 20, &out[4]), 0);
    ck_assert_int_eq(tally_record_batch_slice(big, 199, 1, &out[5]), 0);
    tally_record_batch_release(big);
}

static void release_batches(tally_record_batch **b, int n)
{
    for (int i = 0; i < n; i++)
        tally_record_batch_release(b[i]);
}

static tally_buffer *write_memory(tally_schema *s, tally_record_batch **batches, int n,
                                  tally_ipc_format format)
{
    tally_ipc_writer *w;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_ipc_writer_open_memory(test_pool, s, format, &err, &w), 0);
    only_test_pool();
    for (int i = 0; i < n; i++) {
        int rc = tally_ipc_writer_write(w, batches[i], &err);
        ck_assert_msg(rc == 0, "write %d: %s", i, err.message);
        only_test_pool();
    }
    tally_buffer *out;
    ck_assert_int_eq(tally_ipc_writer_finish(w, &out, &err), 0);
    tally_ipc_writer_destroy(w);
    only_test_pool();
    return out;
}

/* Reads every batch through next and checks each against want. */
static void read_all(tally_ipc_reader *r, tally_schema *s, tally_record_batch **want, int n)
{
    ck_assert(tally_schema_equals(tally_ipc_reader_schema(r), s, true));
    tally_error err = {{0}};
    for (int i = 0; i <= n; i++) {
        tally_record_batch *got;
        int rc = tally_ipc_reader_next(r, &got, &err);
        ck_assert_msg(rc == 0, "batch %d: %s", i, err.message);
        only_test_pool();
        if (i == n) {
            ck_assert_ptr_null(got);
            break;
        }
        ck_assert_ptr_nonnull(got);
        ck_assert_int_eq(tally_record_batch_n_rows(got), tally_record_batch_n_rows(want[i]));
        ck_assert_msg(tally_record_batch_equals(got, want[i]), "batch %d differs", i);
        tally_record_batch_release(got);
    }
    tally_record_batch *none;
    ck_assert_int_eq(tally_ipc_reader_next(r, &none, &err), 0); /* the end stays the end */
    ck_assert_ptr_null(none);
}

static void round_trip_memory(tally_ipc_format format)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *batches[N_BATCHES];
    make_batches(s, batches);
    tally_buffer *bytes = write_memory(s, batches, N_BATCHES, format);
    const uint8_t *d = tally_buffer_data(bytes);
    int64_t size = tally_buffer_size(bytes);
    if (format == TALLY_IPC_FILE) {
        ck_assert_mem_eq(d, "ARROW1\0\0", 8);
        ck_assert_mem_eq(d + size - 6, "ARROW1", 6);
    } else {
        ck_assert_mem_eq(d + size - 8, "\xff\xff\xff\xff\0\0\0\0", 8);
    }
    tally_ipc_reader *r;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_open_buffer(test_pool, bytes, &err, &r);
    ck_assert_msg(rc == 0, "%s", err.message);
    ck_assert_int_eq(tally_ipc_reader_format(r), format);
    ck_assert_int_eq(tally_ipc_reader_n_batches(r), format == TALLY_IPC_FILE ? N_BATCHES : -1);
    read_all(r, s, batches, N_BATCHES);
    if (format == TALLY_IPC_FILE) /* random access, backwards */
        for (int i = N_BATCHES - 1; i >= 0; i--) {
            tally_record_batch *got;
            ck_assert_int_eq(tally_ipc_reader_batch(r, i, &got, &err), 0);
            ck_assert(tally_record_batch_equals(got, batches[i]));
            tally_record_batch_release(got);
        }
    tally_record_batch *none;
    ck_assert_int_eq(tally_ipc_reader_batch(r, N_BATCHES, &none, &err), EINVAL);
    tally_ipc_reader_destroy(r);
    tally_buffer_release(bytes);
    release_batches(batches, N_BATCHES);
    tally_schema_release(s);
}

START_TEST(test_stream_in_memory)
{
    round_trip_memory(TALLY_IPC_STREAM);
}
END_TEST

START_TEST(test_file_in_memory)
{
    round_trip_memory(TALLY_IPC_FILE);
}
END_TEST

/* Batches read from memory share it: their buffers lie inside the bytes. */
START_TEST(test_memory_read_shares)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *rb = make_batch(test_pool, s, 1000, 0);
    tally_buffer *bytes = write_memory(s, &rb, 1, TALLY_IPC_STREAM);
    tally_ipc_reader *r;
    ck_assert_int_eq(tally_ipc_reader_open_buffer(test_pool, bytes, NULL, &r), 0);
    tally_record_batch *got;
    ck_assert_int_eq(tally_ipc_reader_next(r, &got, NULL), 0);
    const uint8_t *lo = tally_buffer_data(bytes), *hi = lo + tally_buffer_size(bytes);
    for (int k = 0; k < FIX_N_PRIMITIVE; k++) {
        const uint8_t *p =
            tally_buffer_data(tally_array_buffer(tally_record_batch_column(got, k), 1));
        ck_assert(p >= lo && p < hi);
        ck_assert_int_eq((uintptr_t)p % 64, 0);
    }
    tally_ipc_reader_destroy(r);
    tally_buffer_release(bytes); /* the batch keeps the bytes alive */
    ck_assert(tally_record_batch_equals(got, rb));
    tally_record_batch_release(got);
    tally_record_batch_release(rb);
    tally_schema_release(s);
}
END_TEST

static int temp_fd(void)
{
    char path[] = "/tmp/tally-ipc-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

static void round_trip_fd(tally_ipc_format format, bool mapped)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *batches[N_BATCHES];
    make_batches(s, batches);
    int fd = temp_fd();
    tally_ipc_writer *w;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_ipc_writer_open_fd(test_pool, fd, s, format, &err, &w), 0);
    for (int i = 0; i < N_BATCHES; i++)
        ck_assert_int_eq(tally_ipc_writer_write(w, batches[i], &err), 0);
    tally_buffer *out;
    ck_assert_int_eq(tally_ipc_writer_finish(w, &out, &err), EINVAL); /* not a memory writer */
    ck_assert_int_eq(tally_ipc_writer_finish(w, NULL, &err), 0);
    ck_assert_int_eq(tally_ipc_writer_finish(w, NULL, &err), EINVAL);
    ck_assert_str_eq(err.message, "IPC writer: already finished");
    tally_ipc_writer_destroy(w);
    only_test_pool();
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    tally_ipc_reader *r;
    int rc = mapped ? tally_ipc_reader_map_fd(test_pool, fd, &err, &r)
                    : tally_ipc_reader_open_fd(test_pool, fd, &err, &r);
    ck_assert_msg(rc == 0, "%s", err.message);
    only_test_pool();
    read_all(r, s, batches, N_BATCHES);
    tally_ipc_reader_destroy(r);
    close(fd);
    release_batches(batches, N_BATCHES);
    tally_schema_release(s);
}

START_TEST(test_stream_through_fd)
{
    round_trip_fd(TALLY_IPC_STREAM, false);
}
END_TEST

START_TEST(test_stream_mapped)
{
    round_trip_fd(TALLY_IPC_STREAM, true);
}
END_TEST

START_TEST(test_file_mapped)
{
    round_trip_fd(TALLY_IPC_FILE, true);
}
END_TEST

/* Between processes through a pipe: one writes a stream, the other reads it
 * with read(2) as it comes. */
START_TEST(test_stream_through_pipe)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *batches[N_BATCHES];
    make_batches(s, batches);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        tally_ipc_writer *w;
        int rc = tally_ipc_writer_open_fd(NULL, p[1], s, TALLY_IPC_STREAM, NULL, &w);
        for (int i = 0; rc == 0 && i < N_BATCHES; i++)
            rc = tally_ipc_writer_write(w, batches[i], NULL);
        if (rc == 0)
            rc = tally_ipc_writer_finish(w, NULL, NULL);
        _exit(rc);
    }
    close(p[1]);
    tally_ipc_reader *r;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_open_fd(test_pool, p[0], &err, &r);
    ck_assert_msg(rc == 0, "%s", err.message);
    read_all(r, s, batches, N_BATCHES);
    tally_ipc_reader_destroy(r);
    close(p[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    release_batches(batches, N_BATCHES);
    tally_schema_release(s);
}
END_TEST

/* A file through read(2): read whole, then as bytes in memory. */
START_TEST(test_file_through_fd)
{
    round_trip_fd(TALLY_IPC_FILE, false);
}
END_TEST

START_TEST(test_writer_refuses_other_schema)
{
    tally_schema *s = make_schema(test_pool);
    tally_field *f = fix_field(test_pool, "x", tally_datatype_of(TALLY_TYPE_INT8));
    tally_schema *other;
    ck_assert_int_eq(tally_schema_new(test_pool, &f, 1, NULL, 0, &other), 0);
    tally_array *col = fix_primitive_column(test_pool, TALLY_TYPE_INT8, 3, 0);
    tally_record_batch *rb;
    ck_assert_int_eq(tally_record_batch_make(test_pool, other, 3, &col, 1, NULL, &rb), 0);
    tally_ipc_writer *w;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_ipc_writer_open_memory(test_pool, s, TALLY_IPC_FILE, &err, &w), 0);
    ck_assert_int_eq(tally_ipc_writer_write(w, rb, &err), EINVAL);
    ck_assert_str_eq(err.message, "IPC writer: the batch's schema is not the writer's");
    tally_ipc_writer_destroy(w); /* unfinished: frees everything all the same */
    ck_assert_int_eq(tally_ipc_writer_open_memory(test_pool, NULL, TALLY_IPC_FILE, &err, &w),
                     EINVAL);
    ck_assert_int_eq(tally_ipc_writer_open_fd(test_pool, -1, s, TALLY_IPC_FILE, &err, &w), EBADF);
    tally_record_batch_release(rb);
    tally_array_release(col);
    tally_field_release(f);
    tally_schema_release(other);
    tally_schema_release(s);
}
END_TEST

/* Every failure of the pool on the way leaves nothing behind. */
START_TEST(test_refusals_leak_nothing)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *batches[N_BATCHES];
    make_batches(s, batches);
    tally_buffer *bytes = write_memory(s, batches, N_BATCHES, TALLY_IPC_FILE);
    int64_t size = tally_buffer_size(bytes);
    int writes_ok = 0, reads_ok = 0;
    for (int64_t limit = 0; limit < 4 * size; limit += 97) {
        tally_pool *pool = capped(limit);
        tally_ipc_writer *w = NULL;
        int rc = tally_ipc_writer_open_memory(pool, s, TALLY_IPC_FILE, NULL, &w);
        for (int i = 0; rc == 0 && i < N_BATCHES; i++)
            rc = tally_ipc_writer_write(w, batches[i], NULL);
        tally_buffer *out = NULL;
        if (rc == 0)
            rc = tally_ipc_writer_finish(w, &out, NULL);
        ck_assert(rc == 0 || rc == ENOMEM);
        writes_ok += rc == 0;
        if (rc == 0)
            ck_assert(tally_buffer_equals(out, bytes));
        tally_buffer_release(out);
        tally_ipc_writer_destroy(w);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_ipc_reader *r = NULL;
        rc = tally_ipc_reader_open_buffer(pool, bytes, NULL, &r);
        while (rc == 0) {
            tally_record_batch *got;
            rc = tally_ipc_reader_next(r, &got, NULL);
            if (rc == 0 && !got) {
                reads_ok++;
                break;
            }
            tally_record_batch_release(got);
        }
        ck_assert(rc == 0 || rc == ENOMEM);
        tally_ipc_reader_destroy(r);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
    }
    ck_assert_int_gt(writes_ok, 0);
    ck_assert_int_gt(reads_ok, 0);
    tally_buffer_release(bytes);
    release_batches(batches, N_BATCHES);
    tally_schema_release(s);
}
END_TEST

/* Each public call, one by one: what it takes, its counterpart gives back
 * to the byte. */
START_TEST(test_each_call_gives_back_exactly)
{
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *rb = make_batch(test_pool, s, 50, 0);
    int64_t base = tally_pool_bytes_allocated(test_pool);
    for (int f = 0; f < 2; f++) {
        tally_ipc_format format = f ? TALLY_IPC_FILE : TALLY_IPC_STREAM;
        tally_ipc_writer *w;
        ck_assert_int_eq(tally_ipc_writer_open_memory(test_pool, s, format, NULL, &w), 0);
        tally_ipc_writer_destroy(w);
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), base);
        ck_assert_int_eq(tally_ipc_writer_open_memory(test_pool, s, format, NULL, &w), 0);
        ck_assert_int_eq(tally_ipc_writer_write(w, rb, NULL), 0);
        tally_ipc_writer_destroy(w); /* written but never finished */
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), base);
        tally_buffer *bytes = write_memory(s, &rb, 1, format);
        int64_t with_bytes = tally_pool_bytes_allocated(test_pool);
        ck_assert_int_ge(with_bytes - base, tally_buffer_size(bytes));
        tally_ipc_reader *r;
        ck_assert_int_eq(tally_ipc_reader_open_buffer(test_pool, bytes, NULL, &r), 0);
        tally_ipc_reader_destroy(r);
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), with_bytes);
        ck_assert_int_eq(tally_ipc_reader_open_buffer(test_pool, bytes, NULL, &r), 0);
        tally_record_batch *got;
        ck_assert_int_eq(tally_ipc_reader_next(r, &got, NULL), 0);
        int64_t with_batch = tally_pool_bytes_allocated(test_pool);
        tally_record_batch_release(got);
        ck_assert_int_lt(tally_pool_bytes_allocated(test_pool), with_batch);
        tally_ipc_reader_destroy(r);
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), with_bytes);
        tally_buffer_release(bytes);
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), base);
    }
    tally_record_batch_release(rb);
    tally_schema_release(s);
}
END_TEST

/* Under a debug pool (guards around each block, sizes checked at free)
 * nothing is overrun or freed with a wrong size, and all of it is returned. */
START_TEST(test_debug_pool_round_trip)
{
    tally_pool *debug = tally_debug_pool_new(test_pool, TALLY_DEBUG_ABORT);
    ck_assert_ptr_nonnull(debug);
    tally_schema *s = make_schema(debug);
    tally_record_batch *batches[N_BATCHES];
    tally_pool *saved = test_pool;
    test_pool = debug; /* make_batches and write_memory allocate from test_pool */
    under_debug_pool = true;
    make_batches(s, batches);
    for (int f = 0; f < 2; f++) {
        tally_buffer *bytes =
            write_memory(s, batches, N_BATCHES, f ? TALLY_IPC_FILE : TALLY_IPC_STREAM);
        tally_ipc_reader *r;
        ck_assert_int_eq(tally_ipc_reader_open_buffer(debug, bytes, NULL, &r), 0);
        read_all(r, s, batches, N_BATCHES);
        tally_ipc_reader_destroy(r);
        tally_buffer_release(bytes);
    }
    test_pool = saved;
    under_debug_pool = false;
    release_batches(batches, N_BATCHES);
    tally_schema_release(s);
    ck_assert_int_eq(tally_pool_bytes_allocated(debug), 0);
    tally_pool_destroy(debug);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ipc");
    TCase *tc = accounted_tcase("round trips");
    tcase_add_test(tc, test_stream_in_memory);
    tcase_add_test(tc, test_file_in_memory);
    tcase_add_test(tc, test_memory_read_shares);
    tcase_add_test(tc, test_stream_through_fd);
    tcase_add_test(tc, test_stream_mapped);
    tcase_add_test(tc, test_stream_through_pipe);
    tcase_add_test(tc, test_file_mapped);
    tcase_add_test(tc, test_file_through_fd);
    tcase_add_test(tc, test_writer_refuses_other_schema);
    tcase_add_test(tc, test_refusals_leak_nothing);
    tcase_add_test(tc, test_debug_pool_round_trip);
    tcase_add_test(tc, test_each_call_gives_back_exactly);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
