/* test_ipc_map: IPC read through mmap, in place. The arrays' buffers lie
 * inside the mapping and nothing of the column data is copied (the pool
 * grows by the mapping and a few control blocks); the mapping is booked to
 * the reader's pool under "ipc mmap" and lives until the last buffer using
 * it goes; a stream written into a memfd by one process is read in place
 * by another. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/pool_fixture.h"

#define ROWS (1 << 20) /* 8 MiB of int64: any copy would show in the books */
/* What a read may add to the pool besides the mapping: the reader, the
 * schema, the batch and its arrays' control blocks. */
#define OVERHEAD (16 << 10)

static tally_schema *make_schema(tally_pool *pool)
{
    tally_field *f[2];
    ck_assert_int_eq(
        tally_field_new(pool, "id", tally_datatype_of(TALLY_TYPE_INT64), true, NULL, 0, &f[0]), 0);
    ck_assert_int_eq(
        tally_field_new(pool, "name", tally_datatype_of(TALLY_TYPE_STRING), false, NULL, 0, &f[1]),
        0);
    tally_schema *s;
    ck_assert_int_eq(tally_schema_new(pool, f, 2, NULL, 0, &s), 0);
    tally_field_release(f[0]);
    tally_field_release(f[1]);
    return s;
}

/* id = i * seed, null where i % 7 == 3; name = "n" and i. */
static tally_record_batch *make_rows(tally_pool *pool, tally_schema *s, int64_t n, int64_t seed)
{
    tally_builder *b[2];
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT64, pool, &b[0]), 0);
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_STRING, pool, &b[1]), 0);
    for (int64_t i = 0; i < n; i++) {
        char name[24];
        int len = snprintf(name, sizeof name, "n%lld", (long long)i);
        ck_assert_int_eq(i % 7 == 3 ? tally_builder_append_null(b[0])
                                    : tally_builder_append_int(b[0], i * seed),
                         0);
        ck_assert_int_eq(tally_builder_append_bytes(b[1], name, len), 0);
    }
    tally_array *cols[2];
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(tally_builder_finish(b[k], &cols[k]), 0);
        tally_builder_destroy(b[k]);
    }
    tally_record_batch *rb;
    ck_assert_int_eq(tally_record_batch_make(pool, s, n, cols, 2, NULL, &rb), 0);
    tally_array_release(cols[0]);
    tally_array_release(cols[1]);
    return rb;
}

static void write_to(int fd, tally_pool *pool, tally_ipc_format format, int64_t seed)
{
    tally_schema *s = make_schema(pool);
    tally_record_batch *rb = make_rows(pool, s, ROWS, seed);
    tally_ipc_writer *w;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_ipc_writer_open_fd(pool, fd, s, format, &err, &w), 0);
    ck_assert_int_eq(tally_ipc_writer_write(w, rb, &err), 0);
    ck_assert_int_eq(tally_ipc_writer_finish(w, NULL, &err), 0);
    tally_ipc_writer_destroy(w);
    tally_record_batch_release(rb);
    tally_schema_release(s);
}

static bool mapped(const void *p)
{
    /* msync fails with ENOMEM on an address nothing maps. */
    return msync((void *)((uintptr_t)p & ~(uintptr_t)4095), 1, MS_ASYNC) == 0;
}

/* Reads the one batch of fd in place and checks where its bytes lie. */
static tally_record_batch *read_in_place(int fd, int64_t seed, int64_t *map_size,
                                         const uint8_t **map, tally_pool **map_pool)
{
    int64_t before = tally_pool_bytes_allocated(test_pool);
    tally_ipc_reader *r;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_map_fd(test_pool, fd, &err, &r);
    ck_assert_msg(rc == 0, "%s", err.message);
    *map = tally_ipc_reader_mapping(r, map_size);
    ck_assert_int_eq(*map_size, lseek(fd, 0, SEEK_END));
    /* The mapping is on the books, under its name, and on the reader's pool. */
    *map_pool = tally_ipc_reader_mapping_pool(r);
    ck_assert_str_eq(tally_pool_name(*map_pool), "ipc mmap");
    ck_assert_int_eq(tally_pool_bytes_allocated(*map_pool), *map_size);
    ck_assert_int_ge(tally_pool_bytes_allocated(test_pool) - before, *map_size);
    tally_record_batch *rb;
    ck_assert_int_eq(tally_ipc_reader_next(r, &rb, &err), 0);
    ck_assert_ptr_nonnull(rb);
    /* Nothing copied: the pool grew by the mapping and control blocks only. */
    ck_assert_int_lt(tally_pool_bytes_allocated(test_pool) - before, *map_size + OVERHEAD);
    for (int k = 0; k < 2; k++) {
        const tally_array *a = tally_record_batch_column(rb, k);
        for (int j = 0; j < tally_array_n_buffers(a); j++) {
            tally_buffer *buf = tally_array_buffer(a, j);
            if (!buf)
                continue;
            const uint8_t *p = tally_buffer_data(buf);
            ck_assert(p >= *map && p + tally_buffer_size(buf) <= *map + *map_size);
            ck_assert_int_eq((uintptr_t)p % 64, 0);
        }
    }
    const tally_array *id = tally_record_batch_column(rb, 0);
    ck_assert_int_eq(tally_array_length(id), ROWS);
    ck_assert(!tally_array_is_valid(id, ROWS - 1)); /* (2^20 - 1) % 7 == 3 */
    ck_assert_int_eq(tally_array_get_int(id, ROWS - 2), (int64_t)(ROWS - 2) * seed);
    ck_assert(!tally_array_is_valid(id, 3));
    int64_t len;
    const uint8_t *name = tally_array_get_bytes(tally_record_batch_column(rb, 1), 12345, &len);
    ck_assert_int_eq(len, 6);
    ck_assert_mem_eq(name, "n12345", 6);
    tally_ipc_reader_destroy(r);
    return rb;
}

static int temp_fd(void)
{
    char path[] = "/tmp/tally-ipc-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

START_TEST(test_file_read_in_place)
{
    int fd = temp_fd();
    write_to(fd, test_pool, TALLY_IPC_FILE, 3);
    int64_t size;
    const uint8_t *map;
    tally_pool *map_pool;
    tally_record_batch *rb = read_in_place(fd, 3, &size, &map, &map_pool);
    close(fd);
    /* The reader is gone; the batch still holds the mapping, still booked. */
    ck_assert(mapped(map));
    ck_assert_int_eq(tally_pool_bytes_allocated(map_pool), size);
    ck_assert_int_eq(tally_array_get_int(tally_record_batch_column(rb, 0), 11), 33);
    tally_record_batch_release(rb); /* the last user: unmapped and off the books */
    ck_assert(!mapped(map));
}
END_TEST

/* One process writes a stream into a memfd; another maps and reads it. */
START_TEST(test_memfd_between_processes)
{
    int fd = memfd_create("tally-ipc-test", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        write_to(fd, tally_default_pool(), TALLY_IPC_STREAM, 5);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int64_t size;
    const uint8_t *map;
    tally_pool *map_pool;
    tally_record_batch *rb = read_in_place(fd, 5, &size, &map, &map_pool);
    close(fd);
    tally_schema *s = make_schema(test_pool);
    tally_record_batch *want = make_rows(test_pool, s, ROWS, 5);
    ck_assert(tally_record_batch_equals(rb, want));
    tally_record_batch_release(want);
    tally_schema_release(s);
    tally_record_batch_release(rb);
    ck_assert(!mapped(map));
}
END_TEST

/* A capped pool refuses a mapping past its limit, as it would a block. */
START_TEST(test_mapping_counts_against_a_cap)
{
    int fd = temp_fd();
    write_to(fd, test_pool, TALLY_IPC_FILE, 1);
    int64_t size = lseek(fd, 0, SEEK_END);
    tally_pool *pool = capped(size);
    tally_ipc_reader *r;
    tally_error err = {{0}};
    ck_assert_int_eq(tally_ipc_reader_map_fd(pool, fd, &err, &r), ENOMEM);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
    pool = capped(size + OVERHEAD);
    ck_assert_int_eq(tally_ipc_reader_map_fd(pool, fd, &err, &r), 0);
    ck_assert_int_ge(tally_pool_bytes_allocated(pool), size);
    tally_ipc_reader_destroy(r);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
    close(fd);
}
END_TEST

START_TEST(test_map_refuses_what_cannot_be_mapped)
{
    tally_ipc_reader *r;
    tally_error err = {{0}};
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(tally_ipc_reader_map_fd(test_pool, p[0], &err, &r), EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "not a regular file"));
    close(p[0]);
    close(p[1]);
    int fd = temp_fd();
    ck_assert_int_eq(tally_ipc_reader_map_fd(test_pool, fd, &err, &r), EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "empty"));
    close(fd);
    ck_assert_int_eq(tally_ipc_reader_map_file(test_pool, "/nonexistent/x.arrow", &err, &r),
                     ENOENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ipc_map");
    TCase *tc = accounted_tcase("mmap");
    tcase_add_test(tc, test_file_read_in_place);
    tcase_add_test(tc, test_memfd_between_processes);
    tcase_add_test(tc, test_mapping_counts_against_a_cap);
    tcase_add_test(tc, test_map_refuses_what_cannot_be_mapped);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
