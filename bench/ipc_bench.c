/* ipc_bench: Arrow IPC against the raw system calls, in one process.
 *
 *   ipc_bench [ROWS]   (default 100,000,000)
 *
 * A table of ROWS int64 values and a string column ("n" and i % 10^7) is
 * written into a memfd (page cache only: no disk in the figures):
 *   - raw: write() of the columns' own buffers, the bytes an IPC body holds;
 *   - IPC stream and file, one batch, and in batches of 1M rows (slices, so
 *     the string offsets of each are rebased into scratch);
 * each best of 3, with its ratio to raw. Then reading back:
 *   - through mmap (tally_ipc_reader_map_fd, next, release) of files of one
 *     batch at ROWS / 100, ROWS / 10 and ROWS rows: the int64 column alone
 *     (nothing but metadata is read: O(1) in the column size) and with the
 *     string column (whose offsets are checked: O(rows));
 *   - through read() (tally_ipc_reader_open_fd) of the stream, against a raw
 *     read() of the same number of bytes. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define REPEAT 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc, const tally_error *err)
{
    fprintf(stderr, "ipc_bench: %s: %s\n", what,
            err && err->message[0] ? err->message : strerror(rc));
    exit(1);
}

static tally_schema *schema_of(tally_pool *pool, bool with_strings)
{
    tally_field *f[2];
    int rc = tally_field_new(pool, "v", tally_datatype_of(TALLY_TYPE_INT64), false, NULL, 0, &f[0]);
    if (rc == 0 && with_strings)
        rc =
            tally_field_new(pool, "s", tally_datatype_of(TALLY_TYPE_STRING), false, NULL, 0, &f[1]);
    tally_schema *s;
    if (rc != 0 || (rc = tally_schema_new(pool, f, with_strings ? 2 : 1, NULL, 0, &s)) != 0)
        die("schema", rc, NULL);
    tally_field_release(f[0]);
    if (with_strings)
        tally_field_release(f[1]);
    return s;
}

static tally_record_batch *make_table(tally_pool *pool, tally_schema *s, int64_t rows)
{
    bool with_strings = tally_schema_n_fields(s) == 2;
    tally_builder *b[2] = {NULL, NULL};
    int rc = tally_builder_new(TALLY_TYPE_INT64, pool, &b[0]);
    if (rc == 0)
        rc = tally_builder_reserve(b[0], rows);
    if (rc == 0 && with_strings && (rc = tally_builder_new(TALLY_TYPE_STRING, pool, &b[1])) == 0)
        rc = tally_builder_reserve(b[1], rows);
    for (int64_t i = 0; i < rows && rc == 0; i++) {
        rc = tally_builder_append_int(b[0], i * 3);
        if (rc == 0 && with_strings) {
            char text[16];
            int len = snprintf(text, sizeof text, "n%" PRId64, i % 10000000);
            rc = tally_builder_append_bytes(b[1], text, len);
        }
    }
    tally_array *cols[2] = {NULL, NULL};
    for (int k = 0; k < (with_strings ? 2 : 1) && rc == 0; k++)
        rc = tally_builder_finish(b[k], &cols[k]);
    tally_record_batch *rb;
    if (rc != 0 ||
        (rc = tally_record_batch_make(pool, s, rows, cols, with_strings ? 2 : 1, NULL, &rb)) != 0)
        die("table", rc, NULL);
    for (int k = 0; k < 2; k++) {
        tally_array_release(cols[k]);
        tally_builder_destroy(b[k]);
    }
    return rb;
}

static void reset(int fd)
{
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        die("ftruncate", errno, NULL);
}

static void write_all(int fd, const void *p, int64_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, (size_t)n);
        if (k < 0)
            die("write", errno, NULL);
        p = (const uint8_t *)p + k;
        n -= k;
    }
}

/* write() of each buffer of each column: what a body holds, without framing. */
static double raw_write(int fd, const tally_record_batch *rb, int64_t *bytes)
{
    reset(fd);
    *bytes = 0;
    double t = now();
    for (int k = 0; k < tally_record_batch_n_columns(rb); k++) {
        const tally_array *a = tally_record_batch_column(rb, k);
        for (int j = 0; j < tally_array_n_buffers(a); j++) {
            tally_buffer *buf = tally_array_buffer(a, j);
            if (buf) {
                write_all(fd, tally_buffer_data(buf), tally_buffer_size(buf));
                *bytes += tally_buffer_size(buf);
            }
        }
    }
    return now() - t;
}

/* The table through the IPC writer, in batches of chunk rows (0: one). */
static double ipc_write(int fd, tally_pool *pool, tally_schema *s, const tally_record_batch *rb,
                        tally_ipc_format format, int64_t chunk)
{
    reset(fd);
    int64_t rows = tally_record_batch_n_rows(rb);
    tally_error err = {{0}};
    double t = now();
    tally_ipc_writer *w;
    int rc = tally_ipc_writer_open_fd(pool, fd, s, format, &err, &w);
    if (rc != 0)
        die("writer", rc, &err);
    if (chunk == 0)
        rc = tally_ipc_writer_write(w, rb, &err);
    for (int64_t from = 0; chunk > 0 && from < rows && rc == 0; from += chunk) {
        tally_record_batch *part;
        if ((rc = tally_record_batch_slice(rb, from, rows - from < chunk ? rows - from : chunk,
                                           &part)) != 0)
            die("slice", rc, NULL);
        rc = tally_ipc_writer_write(w, part, &err);
        tally_record_batch_release(part);
    }
    if (rc != 0 || (rc = tally_ipc_writer_finish(w, NULL, &err)) != 0)
        die("write", rc, &err);
    tally_ipc_writer_destroy(w);
    return now() - t;
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

/* map, read every batch, release: the whole cost of getting at the data. */
static double mapped_read(int fd, tally_pool *pool)
{
    tally_error err = {{0}};
    double t = now();
    tally_ipc_reader *r;
    int rc = tally_ipc_reader_map_fd(pool, fd, &err, &r);
    if (rc != 0)
        die("map", rc, &err);
    tally_record_batch *rb;
    int64_t sum = 0;
    while ((rc = tally_ipc_reader_next(r, &rb, &err)) == 0 && rb) {
        sum += tally_array_get_int(tally_record_batch_column(rb, 0), 1); /* one value touched */
        tally_record_batch_release(rb);
    }
    if (rc != 0)
        die("mapped read", rc, &err);
    tally_ipc_reader_destroy(r);
    if (sum != 3)
        die("mapped read: wrong value", EINVAL, NULL);
    return now() - t;
}

static double fd_read(int fd, tally_pool *pool)
{
    tally_error err = {{0}};
    if (lseek(fd, 0, SEEK_SET) != 0)
        die("lseek", errno, NULL);
    double t = now();
    tally_ipc_reader *r;
    int rc = tally_ipc_reader_open_fd(pool, fd, &err, &r);
    if (rc != 0)
        die("open_fd", rc, &err);
    tally_record_batch *rb;
    while ((rc = tally_ipc_reader_next(r, &rb, &err)) == 0 && rb)
        tally_record_batch_release(rb);
    if (rc != 0)
        die("fd read", rc, &err);
    tally_ipc_reader_destroy(r);
    return now() - t;
}

/* read() of bytes into fresh memory, as the IPC reader reads each body
 * into a fresh buffer: both pay for their page faults. */
static double raw_read(int fd, int64_t bytes)
{
    if (lseek(fd, 0, SEEK_SET) != 0)
        die("lseek", errno, NULL);
    double t = now();
    uint8_t *into =
        mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (into == MAP_FAILED)
        die("mmap", errno, NULL);
    for (int64_t done = 0; done < bytes;) {
        ssize_t k = read(fd, into + done, (size_t)(bytes - done));
        if (k <= 0)
            die("read", errno, NULL);
        done += k;
    }
    munmap(into, (size_t)bytes);
    return now() - t;
}

static void mapped_scaling(tally_pool *pool, int64_t rows, bool with_strings)
{
    tally_schema *s = schema_of(pool, with_strings);
    printf("mapped read, %s, one batch:\n", with_strings ? "int64 + string" : "int64 alone");
    for (int64_t n = rows / 100; n <= rows; n *= 10) {
        tally_record_batch *rb = make_table(pool, s, n);
        int fd = memfd_create("ipc_bench_map", MFD_CLOEXEC);
        ipc_write(fd, pool, s, rb, TALLY_IPC_FILE, 0);
        tally_record_batch_release(rb);
        double t = 1e9;
        for (int i = 0; i < 5; i++)
            t = best(t, mapped_read(fd, pool));
        printf("  %11" PRId64 " rows (%8.1f MB file): %9.1f us\n", n,
               (double)lseek(fd, 0, SEEK_END) / 1e6, t * 1e6);
        close(fd);
        if (n == rows)
            break;
    }
    tally_schema_release(s);
}

int main(int argc, char **argv)
{
    int64_t rows = argc > 1 ? strtoll(argv[1], NULL, 10) : 100000000;
    if (rows < 100)
        rows = 100;
    tally_pool *pool = tally_proxy_pool_new(tally_default_pool(), "ipc_bench");
    tally_schema *s = schema_of(pool, true);
    printf("ipc_bench: %" PRId64 " rows of int64 + string, into a memfd; best of %d\n", rows,
           REPEAT);
    tally_record_batch *rb = make_table(pool, s, rows);
    int fd = memfd_create("ipc_bench", MFD_CLOEXEC);
    if (fd < 0)
        die("memfd_create", errno, NULL);
    int64_t bytes;
    double raw = 1e9, stream = 1e9, file = 1e9, chunked = 1e9;
    for (int i = 0; i < REPEAT; i++) {
        raw = best(raw, raw_write(fd, rb, &bytes));
        stream = best(stream, ipc_write(fd, pool, s, rb, TALLY_IPC_STREAM, 0));
        file = best(file, ipc_write(fd, pool, s, rb, TALLY_IPC_FILE, 0));
        chunked = best(chunked, ipc_write(fd, pool, s, rb, TALLY_IPC_STREAM, 1000000));
    }
    printf("write: raw write() of the buffers  %8.3f s  %7.1f MB/s  (%.1f MB)\n", raw,
           bytes / raw / 1e6, bytes / 1e6);
    printf("write: IPC stream, one batch       %8.3f s  %.2fx raw\n", stream, stream / raw);
    printf("write: IPC file, one batch         %8.3f s  %.2fx raw\n", file, file / raw);
    printf("write: IPC stream, 1M-row batches  %8.3f s  %.2fx raw\n", chunked, chunked / raw);

    /* read() back: the stream just written (1M-row batches) against raw read() */
    int64_t size = lseek(fd, 0, SEEK_END);
    double rread = 1e9, iread = 1e9;
    for (int i = 0; i < REPEAT; i++) {
        rread = best(rread, raw_read(fd, size));
        iread = best(iread, fd_read(fd, pool));
    }
    printf("read:  raw read() of the stream    %8.3f s  %7.1f MB/s\n", rread, size / rread / 1e6);
    printf("read:  IPC through read()          %8.3f s  %.2fx raw\n", iread, iread / rread);
    close(fd);
    tally_record_batch_release(rb);
    tally_schema_release(s);

    mapped_scaling(pool, rows, false);
    mapped_scaling(pool, rows, true);
    printf("pool bytes at the end: %lld\n", (long long)tally_pool_bytes_allocated(pool));
    tally_pool_destroy(pool);
    return 0;
}
