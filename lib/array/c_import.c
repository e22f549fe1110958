/* c_import.c: taking an array from another Arrow runtime without a copy.
 *
 * Everything is checked before anything is taken. Each foreign buffer becomes
 * a wrapped tally buffer; they share one holder of the moved ArrowArray, whose
 * release runs when the last of them goes. */
#include <tally/c_data.h>

#include "array/array_internal.h"
#include "array/layout.h"

#include <errno.h>

struct import_holder {
    struct ArrowArray array; /* moved in on success */
    tally_pool *pool;
    _Atomic int64_t refs; /* one per wrapped buffer */
    bool armed;           /* set once the move has happened */
};

static void holder_unref(void *ctx)
{
    struct import_holder *h = ctx;
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1 || !h->armed)
        return; /* unarmed: a failed import, which frees the holder itself */
    if (h->array.release)
        h->array.release(&h->array);
    tally_pool_free(h->pool, (uint8_t *)h, sizeof *h);
}

static int check(const struct ArrowArray *array, const struct ArrowSchema *schema, tally_type *type,
                 int64_t *null_count)
{
    if (!array->release || !schema->release) /* already released */
        return EINVAL;
    int rc = tally_type_from_format(schema->format, type);
    if (rc != 0)
        return rc;
    if (schema->n_children != 0 || schema->dictionary || array->n_children != 0 ||
        array->dictionary || !array->buffers || array->n_buffers != tally_type_n_buffers(*type))
        return EINVAL;
    const uint8_t *const *bufs = (const uint8_t *const *)array->buffers;
    tally_layout l = {bufs[0], INT64_MAX, bufs[1], INT64_MAX, NULL, 0};
    if (array->n_buffers > 2) {
        l.data = bufs[2];
        l.data_size = INT64_MAX;
    }
    *null_count = array->null_count;
    return tally_layout_check(*type, array->length, array->offset, null_count, &l);
}

/* The byte size of buffer k, inferred from the layout (already checked). */
static int64_t buffer_size(const struct ArrowArray *array, tally_type type, int k)
{
    int64_t end = array->offset + array->length, bytes;
    if (k == 0)
        return end / 8 + (end % 8 != 0);
    if (k == 1) {
        tally_values_bytes(type, end, &bytes);
        return bytes;
    }
    return array->buffers[1] ? tally_offset_at(array->buffers[1], end) : 0;
}

static int wrap_buffers(struct import_holder *h, const struct ArrowArray *array, tally_type type,
                        tally_buffer **bufs, int n)
{
    for (int k = 0; k < n; k++) {
        bufs[k] = NULL;
        const uint8_t *data = array->buffers[k];
        if (k == 0 && !data)
            continue; /* no nulls */
        if (!data)    /* allowed for empty buffers: keep every data pointer non-NULL */
            tally_pool_allocate(h->pool, 0, (uint8_t **)&data);
        atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
        int rc = tally_buffer_wrap_with_pool(h->pool, data, buffer_size(array, type, k),
                                             holder_unref, h, &bufs[k]);
        if (rc != 0) {
            atomic_fetch_sub_explicit(&h->refs, 1, memory_order_relaxed);
            return rc;
        }
    }
    return 0;
}

int tally_array_import_with_pool(tally_pool *pool, struct ArrowArray *array,
                                 struct ArrowSchema *schema, tally_array **out)
{
    if (!array || !schema || !out)
        return EINVAL;
    tally_type type;
    int64_t null_count;
    int rc = check(array, schema, &type, &null_count);
    if (rc != 0)
        return rc;

    pool = tally_buffer_resolve_pool(pool);
    struct import_holder *h;
    rc = tally_pool_allocate(pool, sizeof *h, (uint8_t **)&h);
    if (rc != 0)
        return rc;
    *h = (struct import_holder){.pool = pool, .armed = false};
    atomic_init(&h->refs, 0);

    int n = tally_type_n_buffers(type);
    tally_buffer *bufs[TALLY_MAX_BUFFERS] = {NULL};
    tally_array *a = NULL;
    rc = wrap_buffers(h, array, type, bufs, n);
    if (rc == 0)
        rc = tally_array_new(pool, type, array->length, array->offset, null_count, bufs, n, &a);
    if (rc == 0) {
        /* The move: from here the holder owns the array and calls its release. */
        h->array = *array;
        h->armed = true;
        array->release = NULL;
        schema->release(schema);
        schema->release = NULL;
    }
    for (int k = 0; k < n; k++)
        tally_buffer_release(bufs[k]); /* on success the array holds them */
    if (rc != 0) {
        tally_pool_free(pool, (uint8_t *)h, sizeof *h);
        return rc;
    }
    *out = a;
    return 0;
}

int tally_array_import(struct ArrowArray *array, struct ArrowSchema *schema, tally_array **out)
{
    return tally_array_import_with_pool(NULL, array, schema, out);
}

int tally_array_import_ex(tally_pool *pool, struct ArrowArray *array, struct ArrowSchema *schema,
                          tally_error *error, tally_array **out)
{
    int rc = tally_array_import_with_pool(pool, array, schema, out);
    if (rc == EINVAL)
        tally_fail(error, "invalid ArrowArray or ArrowSchema");
    return rc;
}
