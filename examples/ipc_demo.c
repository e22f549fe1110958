/* ipc_demo: a table through an Arrow IPC file and back, in place.
 *
 *   ipc_demo write FILE N   writes an IPC file: one table of N rows in
 *                           batches of at most 65,536 rows, columns
 *                           id int64 (= i, null where i % 7 == 3),
 *                           name utf8 ("n" and i), x float64 (i * 0.5)
 *   ipc_demo read FILE      reads any IPC file through mmap: per column
 *                           its name, type, null count and, for numeric
 *                           columns, the sum of the valid values; then
 *                           the pool's bytes after the read and after the
 *                           release
 *   ipc_demo                both, on a file of 200,000 rows, the read in a
 *                           second process
 *
 * The pool's books are printed at each step: writing holds one batch at a
 * time; reading maps the file (booked under "ipc mmap") and copies none of
 * the column data, so the books grow by the file's size and a few control
 * blocks, and go back to zero when the last batch is released. */
#include <tally/tally.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH_ROWS 65536

static void books(const char *step, const tally_pool *pool)
{
    printf("  books %-34s bytes=%-11lld peak=%-11lld allocations=%lld\n", step,
           (long long)tally_pool_bytes_allocated(pool), (long long)tally_pool_max_memory(pool),
           (long long)tally_pool_num_allocations(pool));
}

static int fail(const char *what, int rc, const tally_error *err)
{
    fprintf(stderr, "ipc_demo: %s: %s\n", what,
            err && err->message[0] ? err->message : strerror(rc));
    return 1;
}

static int make_schema(tally_pool *pool, tally_schema **out)
{
    static const struct {
        const char *name;
        tally_type type;
        bool nullable;
    } cols[3] = {{"id", TALLY_TYPE_INT64, true},
                 {"name", TALLY_TYPE_STRING, false},
                 {"x", TALLY_TYPE_DOUBLE, false}};
    tally_field *fields[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++)
        rc = tally_field_new(pool, cols[k].name, tally_datatype_of(cols[k].type), cols[k].nullable,
                             NULL, 0, &fields[k]);
    if (rc == 0)
        rc = tally_schema_new(pool, fields, 3, NULL, 0, out);
    for (int k = 0; k < 3; k++)
        tally_field_release(fields[k]);
    return rc;
}

/* Rows [from, from + n) as a batch. */
static int make_batch(tally_pool *pool, tally_schema *s, int64_t from, int64_t n,
                      tally_record_batch **out)
{
    tally_builder *b[3] = {NULL, NULL, NULL};
    static const tally_type types[3] = {TALLY_TYPE_INT64, TALLY_TYPE_STRING, TALLY_TYPE_DOUBLE};
    tally_array *cols[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++)
        if ((rc = tally_builder_new(types[k], pool, &b[k])) == 0)
            rc = tally_builder_reserve(b[k], n);
    for (int64_t i = from; i < from + n && rc == 0; i++) {
        char name[24];
        int len = snprintf(name, sizeof name, "n%" PRId64, i);
        rc = i % 7 == 3 ? tally_builder_append_null(b[0]) : tally_builder_append_int(b[0], i);
        if (rc == 0)
            rc = tally_builder_append_bytes(b[1], name, len);
        if (rc == 0)
            rc = tally_builder_append_double(b[2], (double)i * 0.5);
    }
    for (int k = 0; k < 3 && rc == 0; k++)
        rc = tally_builder_finish(b[k], &cols[k]);
    if (rc == 0)
        rc = tally_record_batch_make(pool, s, n, cols, 3, NULL, out);
    for (int k = 0; k < 3; k++) {
        tally_array_release(cols[k]);
        tally_builder_destroy(b[k]);
    }
    return rc;
}

static int write_file(const char *path, int64_t rows)
{
    tally_pool *pool = tally_proxy_pool_new(tally_default_pool(), "ipc_demo write");
    tally_error err = {{0}};
    printf("write %s: %" PRId64 " rows in batches of at most %d\n", path, rows, BATCH_ROWS);
    books("start", pool);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(path, errno, NULL);
    tally_schema *s;
    int rc = make_schema(pool, &s);
    if (rc != 0)
        return fail("schema", rc, NULL);
    tally_ipc_writer *w;
    if ((rc = tally_ipc_writer_open_fd(pool, fd, s, TALLY_IPC_FILE, &err, &w)) != 0)
        return fail("open", rc, &err);
    books("schema written", pool);
    int64_t n_batches = 0;
    for (int64_t from = 0; from < rows; from += BATCH_ROWS, n_batches++) {
        int64_t n = rows - from < BATCH_ROWS ? rows - from : BATCH_ROWS;
        tally_record_batch *rb;
        if ((rc = make_batch(pool, s, from, n, &rb)) != 0)
            return fail("batch", rc, NULL);
        if (from == 0)
            books("first batch built", pool);
        if ((rc = tally_ipc_writer_write(w, rb, &err)) != 0)
            return fail("write", rc, &err);
        tally_record_batch_release(rb);
    }
    if ((rc = tally_ipc_writer_finish(w, NULL, &err)) != 0)
        return fail("finish", rc, &err);
    tally_ipc_writer_destroy(w);
    tally_schema_release(s);
    if (close(fd) != 0)
        return fail(path, errno, NULL);
    char step[64];
    snprintf(step, sizeof step, "%" PRId64 " batches written", n_batches);
    books(step, pool);
    tally_pool_destroy(pool);
    return 0;
}

/* A double in full digits, no exponent: the fewest decimals that read back
 * as the same value. */
static void print_fixed(double v)
{
    char buf[400];
    for (int decimals = 0; decimals <= 40; decimals++) {
        snprintf(buf, sizeof buf, "%.*f", decimals, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, stdout);
}

static void print_int128(__int128 v)
{
    char digits[48];
    int n = 0;
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        putchar('-');
    while (n)
        putchar(digits[--n]);
}

typedef struct {
    int64_t nulls;
    __int128 int_sum;
    double float_sum;
} column_total;

static bool is_integer(tally_type t)
{
    return t >= TALLY_TYPE_INT8 && t <= TALLY_TYPE_UINT64;
}

static bool is_unsigned(tally_type t)
{
    return t >= TALLY_TYPE_UINT8 && t <= TALLY_TYPE_UINT64;
}

static bool is_float(tally_type t)
{
    return t == TALLY_TYPE_FLOAT || t == TALLY_TYPE_DOUBLE;
}

static int read_file(const char *path)
{
    tally_pool *pool = tally_proxy_pool_new(tally_default_pool(), "ipc_demo read");
    tally_error err = {{0}};
    printf("read %s through mmap (pid %d)\n", path, (int)getpid());
    books("start", pool);
    tally_ipc_reader *r;
    int rc = tally_ipc_reader_map_file(pool, path, &err, &r);
    if (rc != 0)
        return fail(path, rc, &err);
    int64_t map_size;
    tally_ipc_reader_mapping(r, &map_size);
    tally_pool *map_pool = tally_ipc_reader_mapping_pool(r);
    books("mapped", pool);
    const tally_schema *s = tally_ipc_reader_schema(r);
    int n_cols = tally_schema_n_fields(s);
    column_total *totals;
    tally_record_batch **batches = NULL;
    int64_t n_batches = 0, cap = 0;
    if ((rc = tally_pool_allocate(pool, n_cols * (int64_t)sizeof *totals, (uint8_t **)&totals)) !=
        0)
        return fail("totals", rc, NULL);
    memset(totals, 0, n_cols * sizeof *totals);
    for (;;) {
        tally_record_batch *rb;
        if ((rc = tally_ipc_reader_next(r, &rb, &err)) != 0)
            return fail("read", rc, &err);
        if (!rb)
            break;
        for (int k = 0; k < n_cols; k++) {
            const tally_array *a = tally_record_batch_column(rb, k);
            tally_type t = tally_array_type(a);
            totals[k].nulls += tally_array_null_count(a);
            for (int64_t i = 0; (is_integer(t) || is_float(t)) && i < tally_array_length(a); i++) {
                if (!tally_array_is_valid(a, i))
                    continue;
                if (is_unsigned(t))
                    totals[k].int_sum += tally_array_get_uint(a, i);
                else if (is_integer(t))
                    totals[k].int_sum += tally_array_get_int(a, i);
                else
                    totals[k].float_sum += tally_array_get_double(a, i);
            }
        }
        if (n_batches == cap) { /* keep every batch: the books then show them all */
            int64_t grown = cap ? 2 * cap : 16;
            uint8_t *p = (uint8_t *)batches;
            if ((rc = tally_pool_reallocate(pool, cap * (int64_t)sizeof *batches,
                                            grown * (int64_t)sizeof *batches, &p)) != 0)
                return fail("batches", rc, NULL);
            batches = (tally_record_batch **)p;
            cap = grown;
        }
        batches[n_batches++] = rb;
    }
    for (int k = 0; k < n_cols; k++) {
        const tally_field *f = tally_schema_field(s, k);
        char type[256];
        tally_datatype_describe(tally_field_type(f), type, sizeof type);
        tally_type t = tally_datatype_id(tally_field_type(f));
        printf("%s %s nulls=%" PRId64, tally_field_name(f), type, totals[k].nulls);
        if (is_integer(t)) {
            printf(" sum=");
            print_int128(totals[k].int_sum);
        } else if (is_float(t)) {
            printf(" sum=");
            print_fixed(totals[k].float_sum);
        }
        printf("\n");
    }
    tally_ipc_reader_destroy(r);
    books("read (batches held)", pool);
    printf("  of which the mapping: %lld bytes under \"%s\"\n",
           (long long)tally_pool_bytes_allocated(map_pool), tally_pool_name(map_pool));
    printf("pool bytes after the read: %lld (file %lld bytes)\n",
           (long long)tally_pool_bytes_allocated(pool), (long long)map_size);
    for (int64_t i = 0; i < n_batches; i++)
        tally_record_batch_release(batches[i]);
    tally_pool_free(pool, (uint8_t *)batches, cap * (int64_t)sizeof *batches);
    tally_pool_free(pool, (uint8_t *)totals, n_cols * (int64_t)sizeof *totals);
    printf("pool bytes after the release: %lld\n", (long long)tally_pool_bytes_allocated(pool));
    tally_pool_destroy(pool);
    return 0;
}

/* The whole story: write, then read back in a second process. */
static int demo(void)
{
    char path[] = "/tmp/ipc_demo-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return fail("mkstemp", errno, NULL);
    close(fd);
    int rc = write_file(path, 200000);
    fflush(stdout);
    pid_t pid = rc == 0 ? fork() : -1;
    if (pid == 0) {
        int child_rc = read_file(path);
        fflush(stdout); /* _exit flushes nothing */
        _exit(child_rc);
    }
    int status = 1;
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    else
        rc = 1;
    unlink(path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return demo();
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return read_file(argv[2]);
    if (argc == 4 && strcmp(argv[1], "write") == 0) {
        char *end;
        errno = 0;
        long long n = strtoll(argv[3], &end, 10);
        if (errno == 0 && *end == '\0' && end != argv[3] && n >= 0)
            return write_file(argv[2], n);
    }
    fprintf(stderr, "usage: ipc_demo write FILE N | ipc_demo read FILE | ipc_demo\n");
    return 2;
}
