/* record_batch.c: record batches: a schema and equal-length columns. */
#include "array/type_internal.h"
#include "array/array_internal.h"

#include <errno.h>
#include <string.h>

static int64_t block_bytes(int n_columns)
{
    return (int64_t)sizeof(struct tally_record_batch) + (int64_t)sizeof(tally_array *) * n_columns;
}

/* Every column fits its field and has n_rows rows. */
static int check_columns(const tally_schema *schema, int64_t n_rows, tally_array *const *columns,
                         int n_columns, tally_error *error)
{
    if (n_rows < 0)
        return tally_fail(error, "negative row count %lld", (long long)n_rows);
    if (n_columns != schema->n_fields)
        return tally_fail(error, "%d columns for a schema of %d fields", n_columns,
                          schema->n_fields);
    for (int k = 0; k < n_columns; k++) {
        const tally_field *f = schema->fields[k];
        const tally_array *c = columns[k];
        if (!c)
            return tally_fail(error, "column %d (%s) is NULL", k, f->name);
        if (c->length != n_rows)
            return tally_fail(error, "column %d (%s) has %lld rows, the batch %lld", k, f->name,
                              (long long)c->length, (long long)n_rows);
        if (!tally_datatype_equals(c->dtype, f->type))
            return tally_fail(error, "column %d (%s) is not of its field's type", k, f->name);
        if (!f->nullable && c->null_count > 0)
            return tally_fail(error, "column %d (%s) is not nullable but holds %lld nulls", k,
                              f->name, (long long)c->null_count);
    }
    return 0;
}

int tally_record_batch_make(tally_pool *pool, tally_schema *schema, int64_t n_rows,
                            tally_array *const *columns, int n_columns, tally_error *error,
                            tally_record_batch **out)
{
    if (!out || !schema || n_columns < 0 || (n_columns > 0 && !columns))
        return tally_fail(error, "missing argument");
    int rc = check_columns(schema, n_rows, columns, n_columns, error);
    if (rc != 0)
        return rc;
    pool = tally_buffer_resolve_pool(pool);
    tally_record_batch *rb;
    rc = tally_pool_allocate(pool, block_bytes(n_columns), (uint8_t **)&rb);
    if (rc != 0)
        return rc;
    atomic_init(&rb->refcount, 1);
    rb->pool = pool;
    rb->schema = tally_schema_retain(schema);
    rb->n_rows = n_rows;
    rb->n_columns = n_columns;
    for (int k = 0; k < n_columns; k++)
        rb->columns[k] = tally_array_retain(columns[k]);
    *out = rb;
    return 0;
}

tally_record_batch *tally_record_batch_retain(tally_record_batch *rb)
{
    if (rb)
        atomic_fetch_add_explicit(&rb->refcount, 1, memory_order_relaxed);
    return rb;
}

void tally_record_batch_release(tally_record_batch *rb)
{
    if (!rb || atomic_fetch_sub_explicit(&rb->refcount, 1, memory_order_acq_rel) != 1)
        return;
    for (int k = 0; k < rb->n_columns; k++)
        tally_array_release(rb->columns[k]);
    tally_schema_release(rb->schema);
    tally_pool_free(rb->pool, (uint8_t *)rb, block_bytes(rb->n_columns));
}

tally_schema *tally_record_batch_schema(const tally_record_batch *rb)
{
    return rb ? rb->schema : NULL;
}

int64_t tally_record_batch_n_rows(const tally_record_batch *rb)
{
    return rb ? rb->n_rows : 0;
}

int tally_record_batch_n_columns(const tally_record_batch *rb)
{
    return rb ? rb->n_columns : 0;
}

tally_array *tally_record_batch_column(const tally_record_batch *rb, int k)
{
    return rb && k >= 0 && k < rb->n_columns ? rb->columns[k] : NULL;
}

int tally_record_batch_slice(const tally_record_batch *rb, int64_t offset, int64_t length,
                             tally_record_batch **out)
{
    int64_t end;
    if (!rb || !out || offset < 0 || length < 0 || __builtin_add_overflow(offset, length, &end) ||
        end > rb->n_rows)
        return EINVAL;
    tally_record_batch *s;
    int rc = tally_pool_allocate(rb->pool, block_bytes(rb->n_columns), (uint8_t **)&s);
    if (rc != 0)
        return rc;
    for (int k = 0; k < rb->n_columns; k++) {
        rc = tally_array_slice_in(rb->columns[k], offset, length, rb->pool, &s->columns[k]);
        if (rc != 0) {
            while (k-- > 0)
                tally_array_release(s->columns[k]);
            tally_pool_free(rb->pool, (uint8_t *)s, block_bytes(rb->n_columns));
            return rc;
        }
    }
    atomic_init(&s->refcount, 1);
    s->pool = rb->pool;
    s->schema = tally_schema_retain(rb->schema);
    s->n_rows = length;
    s->n_columns = rb->n_columns;
    *out = s;
    return 0;
}

bool tally_record_batch_equals(const tally_record_batch *a, const tally_record_batch *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->n_rows != b->n_rows || !tally_schema_equals(a->schema, b->schema, false))
        return false;
    for (int k = 0; k < a->n_columns; k++)
        if (!tally_array_equals(a->columns[k], b->columns[k]))
            return false;
    return true;
}
