/* fuzz_ipc_read.c: libFuzzer target for the Arrow IPC reader.
 *
 * Each input is read as bytes in memory (a file or a stream: the reader
 * tells them apart by the magic), every batch through next and, for a
 * file, through random access too, then again through read(2) from a
 * memfd; every value of every accepted batch is touched. The reader must answer 0, EINVAL or
 * ENOTSUP, with a message, and give the pool back every byte: anything else aborts, which libFuzzer
 * reports. The input is wrapped, not copied, so ASan sees any read past its end. Built by
 * tests/ipc/test_ipc_fuzz.sh with clang -fsanitize=fuzzer,address,undefined; the pool is the system
 * pool (malloc), which ASan watches. */
#define _GNU_SOURCE /* memfd_create */
#include <tally/tally.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check_rc(int rc, const tally_error *err)
{
    if (rc != 0 && rc != EINVAL && rc != ENOTSUP && rc != ENOMEM)
        abort();
    if (rc != 0 && strncmp(err->message, "IPC read: ", 10) != 0)
        abort();
}

static void touch(tally_record_batch *rb)
{
    for (int k = 0; k < tally_record_batch_n_columns(rb); k++) {
        const tally_array *a = tally_record_batch_column(rb, k);
        if (!tally_array_equals(a, a))
            abort();
    }
}

/* The same bytes through read(2), from a memfd: the stream reader's own
 * paths (metadata and bodies read in steps) and a file read whole. */
static void read_through_fd(tally_pool *pool, const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_ipc", MFD_CLOEXEC)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size ||
        lseek(fd, 0, SEEK_SET) != 0)
        abort();
    tally_ipc_reader *r = NULL;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_open_fd(pool, fd, &err, &r);
    check_rc(rc, &err);
    while (rc == 0) {
        tally_record_batch *rb;
        rc = tally_ipc_reader_next(r, &rb, &err);
        check_rc(rc, &err);
        if (rc != 0 || !rb)
            break;
        touch(rb);
        tally_record_batch_release(rb);
    }
    tally_ipc_reader_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tally_pool *pool;
    if (!pool)
        pool = tally_proxy_pool_new(tally_system_pool(), "fuzz");
    int64_t before = tally_pool_bytes_allocated(pool);
    tally_buffer *buf;
    if (tally_buffer_wrap_with_pool(pool, data, (int64_t)size, NULL, NULL, &buf) != 0)
        abort();
    tally_ipc_reader *r = NULL;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_open_buffer(pool, buf, &err, &r);
    check_rc(rc, &err);
    while (rc == 0) {
        tally_record_batch *rb;
        rc = tally_ipc_reader_next(r, &rb, &err);
        check_rc(rc, &err);
        if (rc != 0 || !rb)
            break;
        touch(rb);
        tally_record_batch_release(rb);
    }
    for (int64_t i = tally_ipc_reader_n_batches(r) - 1; i >= 0; i--) {
        tally_record_batch *rb;
        rc = tally_ipc_reader_batch(r, i, &rb, &err);
        check_rc(rc, &err);
        if (rc == 0) {
            touch(rb);
            tally_record_batch_release(rb);
        }
    }
    tally_ipc_reader_destroy(r);
    tally_buffer_release(buf);
    read_through_fd(pool, data, size);
    if (tally_pool_bytes_allocated(pool) != before) /* a leak */
        abort();
    return 0;
}
