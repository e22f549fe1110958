/* ipc_interop: the C side of tests/ipc/test_ipc_interop.sh.
 *
 *   ipc_interop write stream|file PATH   the fixture's batches (every type,
 *                                        nulls, slices, an empty batch)
 *   ipc_interop dump PATH                a file or stream, mapped, as text
 *
 * The text is the one tests/ipc/js/interop.js prints for the same bytes:
 * the schema (names, types as tally_datatype_describe writes them,
 * nullability, metadata), then each batch's columns, one value per row:
 * integers in decimal, floating point as the hex of its double's bits,
 * strings and binaries as the hex of their bytes, lists in [], structs in
 * {}, nulls as null. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IPC_FIXTURE_NO_CHECK
#include "ipc/ipc_fixture.h"

static void put_hex(const uint8_t *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void put_value(const tally_array *a, int64_t i)
{
    if (!tally_array_is_valid(a, i)) {
        printf("null");
        return;
    }
    tally_type t = tally_array_type(a);
    int64_t len;
    const uint8_t *bytes;
    switch (t) {
    case TALLY_TYPE_BOOL:
        printf(tally_array_get_bool(a, i) ? "true" : "false");
        break;
    case TALLY_TYPE_UINT8:
    case TALLY_TYPE_UINT16:
    case TALLY_TYPE_UINT32:
    case TALLY_TYPE_UINT64:
        printf("%" PRIu64, tally_array_get_uint(a, i));
        break;
    case TALLY_TYPE_FLOAT:
    case TALLY_TYPE_DOUBLE: {
        double d = tally_array_get_double(a, i);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        printf("f%016" PRIx64, bits);
        break;
    }
    case TALLY_TYPE_STRING:
    case TALLY_TYPE_BINARY:
        bytes = tally_array_get_bytes(a, i, &len);
        printf(t == TALLY_TYPE_STRING ? "s'" : "b'");
        put_hex(bytes, len);
        printf("'");
        break;
    case TALLY_TYPE_LIST: {
        tally_array *v;
        if (tally_array_list_value(a, i, &v) != 0)
            abort();
        printf("[");
        for (int64_t j = 0; j < tally_array_length(v); j++) {
            printf(j ? "," : "");
            put_value(v, j);
        }
        printf("]");
        tally_array_release(v);
        break;
    }
    case TALLY_TYPE_STRUCT:
        printf("{");
        for (int k = 0; k < tally_array_n_children(a); k++) {
            tally_array *m;
            if (tally_array_struct_field(a, k, &m) != 0)
                abort();
            printf(k ? "," : "");
            put_value(m, i);
            tally_array_release(m);
        }
        printf("}");
        break;
    default:
        printf("%" PRId64, tally_array_get_int(a, i));
    }
}

static int dump(const char *path)
{
    tally_ipc_reader *r;
    tally_error err = {{0}};
    int rc = tally_ipc_reader_map_file(NULL, path, &err, &r);
    if (rc != 0) {
        fprintf(stderr, "ipc_interop: %s: %s\n", path, err.message);
        return 1;
    }
    const tally_schema *s = tally_ipc_reader_schema(r);
    for (int k = 0; k < tally_schema_n_fields(s); k++) {
        const tally_field *f = tally_schema_field(s, k);
        char type[512];
        tally_datatype_describe(tally_field_type(f), type, sizeof type);
        printf("field %s: %s%s\n", tally_field_name(f), type,
               tally_field_nullable(f) ? "" : " not null");
    }
    for (int k = 0; k < tally_schema_n_metadata(s); k++)
        printf("meta %s=%s\n", tally_schema_metadata(s, k)->key,
               tally_schema_metadata(s, k)->value);
    for (int b = 0;; b++) {
        tally_record_batch *rb;
        if ((rc = tally_ipc_reader_next(r, &rb, &err)) != 0) {
            fprintf(stderr, "ipc_interop: %s: batch %d: %s\n", path, b, err.message);
            return 1;
        }
        if (!rb)
            break;
        printf("batch %d: %" PRId64 " rows\n", b, tally_record_batch_n_rows(rb));
        for (int k = 0; k < tally_record_batch_n_columns(rb); k++) {
            const tally_array *a = tally_record_batch_column(rb, k);
            printf("  %d:", k);
            for (int64_t i = 0; i < tally_array_length(a); i++) {
                printf(" ");
                put_value(a, i);
            }
            printf("\n");
        }
        tally_record_batch_release(rb);
    }
    tally_ipc_reader_destroy(r);
    return 0;
}

static int write_batches(const char *format, const char *path)
{
    tally_pool *pool = tally_default_pool();
    tally_schema *s = make_schema(pool);
    tally_record_batch *big = make_batch(pool, s, 200, 2), *batches[5];
    batches[0] = make_batch(pool, s, 100, 0);
    batches[1] = make_batch(pool, s, 0, 0);
    if (tally_record_batch_slice(big, 13, 101, &batches[2]) != 0 ||
        tally_record_batch_slice(big, 64, 20, &batches[3]) != 0)
        abort();
    batches[4] = make_batch(pool, s, 37, 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    tally_ipc_writer *w;
    tally_error err = {{0}};
    int rc = tally_ipc_writer_open_fd(
        pool, fd, s, strcmp(format, "file") == 0 ? TALLY_IPC_FILE : TALLY_IPC_STREAM, &err, &w);
    for (int i = 0; rc == 0 && i < 5; i++)
        rc = tally_ipc_writer_write(w, batches[i], &err);
    if (rc == 0)
        rc = tally_ipc_writer_finish(w, NULL, &err);
    if (rc != 0) {
        fprintf(stderr, "ipc_interop: %s\n", err.message);
        return 1;
    }
    tally_ipc_writer_destroy(w);
    close(fd);
    for (int i = 0; i < 5; i++)
        tally_record_batch_release(batches[i]);
    tally_record_batch_release(big);
    tally_schema_release(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2]);
    if (argc == 4 && strcmp(argv[1], "write") == 0)
        return write_batches(argv[2], argv[3]);
    fprintf(stderr, "usage: ipc_interop write stream|file PATH | dump PATH\n");
    return 2;
}
