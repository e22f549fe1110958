/* c_import.c: taking an array from another Arrow runtime without a copy.
 *
 * Everything is checked before anything is taken. Each foreign buffer, at
 * every level of a nested array, becomes a wrapped tally buffer; they share
 * one holder of the moved top ArrowArray, whose release runs when the last
 * of them goes. Every byte of bookkeeping comes from the pool passed in. */
#include "array/c_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>

/* ---- checks ------------------------------------------------------------------------- */

int tally_c_check_array(const struct ArrowArray *array, const tally_datatype *t, int depth,
                        tally_error *error)
{
    if (depth > TALLY_C_MAX_DEPTH)
        return tally_fail(error, "array nested deeper than %d levels", TALLY_C_MAX_DEPTH);
    if (!array || !array->release)
        return tally_fail(error, "array missing or already released");
    tally_type id = t->id;
    if (array->dictionary)
        return tally_fail(error, "dictionaries are not supported");
    if (array->n_children != t->n_fields)
        return tally_fail(error, "%s array with %lld children, its schema has %d",
                          tally_type_name(id), (long long)array->n_children, t->n_fields);
    if (array->n_children > 0 && !array->children)
        return tally_fail(error, "children missing");
    if (array->n_buffers != tally_type_n_buffers(id) || !array->buffers)
        return tally_fail(error, "%s array with %lld buffers, expected %d", tally_type_name(id),
                          (long long)array->n_buffers, tally_type_n_buffers(id));
    int64_t end;
    if (array->length < 0 || array->offset < 0 ||
        __builtin_add_overflow(array->offset, array->length, &end))
        return tally_fail(error, "%s array with length %lld and offset %lld", tally_type_name(id),
                          (long long)array->length, (long long)array->offset);
    for (int64_t k = 0; k < array->n_children; k++) {
        int rc = tally_c_check_array(array->children[k], tally_field_type(t->fields[k]), depth + 1,
                                     error);
        if (rc != 0)
            return rc;
        /* A struct's offset applies to its children. */
        if (id == TALLY_TYPE_STRUCT && array->children[k]->length < end)
            return tally_fail(error, "struct child %lld has %lld elements, fewer than %lld",
                              (long long)k, (long long)array->children[k]->length, (long long)end);
    }
    const uint8_t *const *bufs = (const uint8_t *const *)array->buffers;
    tally_layout l = {bufs[0], INT64_MAX, NULL, 0, NULL, 0};
    if (array->n_buffers > 1) {
        l.values = bufs[1];
        l.values_size = bufs[1] ? INT64_MAX : 0;
    }
    if (array->n_buffers > 2) {
        l.data = bufs[2];
        l.data_size = INT64_MAX;
    }
    if (id == TALLY_TYPE_LIST)
        l.data_size = array->children[0]->length; /* the offsets index the child */
    int64_t null_count = array->null_count;
    if (tally_layout_check(id, array->length, array->offset, &null_count, &l) != 0)
        return tally_fail(error,
                          "%s array of length %lld at offset %lld: missing buffer, offsets out "
                          "of order or out of bounds, or a wrong null count",
                          tally_type_name(id), (long long)array->length, (long long)array->offset);
    return 0;
}

/* ---- the move ----------------------------------------------------------------------- */

struct import_holder {
    struct ArrowArray array; /* moved in on success */
    tally_pool *pool;
    _Atomic int64_t refs; /* one per wrapped buffer */
    bool armed;           /* set once the move has happened */
};

static void holder_free(struct import_holder *h)
{
    if (h->array.release)
        h->array.release(&h->array);
    tally_pool_free(h->pool, (uint8_t *)h, sizeof *h);
}

static void holder_unref(void *ctx)
{
    struct import_holder *h = ctx;
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1 || !h->armed)
        return; /* unarmed: a failed import, which frees the holder itself */
    holder_free(h);
}

/* The byte size of buffer k, inferred from the layout (already checked). */
static int64_t buffer_size(const struct ArrowArray *array, tally_type type, int k)
{
    int64_t end = array->offset + array->length, bytes;
    if (k == 0)
        return tally_bitmap_bytes(end);
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

static int build(struct import_holder *h, const struct ArrowArray *array, tally_datatype *t,
                 tally_array **out);

/* The children of a checked node, built; on failure none is left. */
static int build_children(struct import_holder *h, const struct ArrowArray *array,
                          const tally_datatype *t, tally_array **kids)
{
    for (int k = 0; k < t->n_fields; k++) {
        int rc = build(h, array->children[k], tally_field_type(t->fields[k]), &kids[k]);
        if (rc != 0) {
            while (k-- > 0)
                tally_array_release(kids[k]);
            return rc;
        }
    }
    return 0;
}

static int build(struct import_holder *h, const struct ArrowArray *array, tally_datatype *t,
                 tally_array **out)
{
    tally_pool *pool = h->pool;
    int nk = t->n_fields, nb = tally_type_n_buffers(t->id);
    tally_array *kids_small[8], **kids = kids_small;
    int64_t kids_bytes = (int64_t)sizeof *kids * nk;
    if (nk > 8) {
        uint8_t *block;
        int rc = tally_pool_allocate(pool, kids_bytes, &block);
        if (rc != 0)
            return rc;
        kids = (tally_array **)block;
    }
    int rc = build_children(h, array, t, kids);
    tally_buffer *bufs[TALLY_MAX_BUFFERS] = {NULL};
    if (rc == 0) {
        rc = wrap_buffers(h, array, t->id, bufs, nb);
        const uint8_t *validity = array->buffers[0];
        int64_t nulls =
            validity ? array->length - tally_bits_count(validity, array->offset, array->length) : 0;
        if (rc == 0)
            rc = tally_array_new_typed(pool, t, array->length, array->offset, nulls, bufs, nb, kids,
                                       nk, out);
        for (int k = 0; k < nb; k++)
            tally_buffer_release(bufs[k]); /* on success the array holds them */
        for (int k = 0; k < nk; k++)
            tally_array_release(kids[k]);
    }
    if (kids != kids_small)
        tally_pool_free(pool, (uint8_t *)kids, kids_bytes);
    return rc;
}

int tally_c_import_array(tally_pool *pool, struct ArrowArray *array, tally_datatype *t,
                         tally_array **out)
{
    struct import_holder *h;
    int rc = tally_pool_allocate(pool, sizeof *h, (uint8_t **)&h);
    if (rc != 0)
        return rc;
    *h = (struct import_holder){.pool = pool, .armed = false};
    atomic_init(&h->refs, 0);
    tally_array *a;
    rc = build(h, array, t, &a);
    if (rc != 0) { /* every wrapped buffer is gone again: the holder is ours to free */
        tally_pool_free(pool, (uint8_t *)h, sizeof *h);
        return rc;
    }
    /* The move: from here the holder owns the array and calls its release. */
    h->array = *array;
    h->armed = true;
    array->release = NULL;
    if (atomic_load_explicit(&h->refs, memory_order_acquire) == 0)
        holder_free(h); /* nothing points into it (a struct without buffers) */
    *out = a;
    return 0;
}

int tally_array_import_ex(tally_pool *pool, struct ArrowArray *array, struct ArrowSchema *schema,
                          tally_error *error, tally_array **out)
{
    if (!array || !schema || !out)
        return tally_fail(error, "missing argument");
    int rc = tally_c_check_schema(schema, 0, error);
    if (rc != 0)
        return rc;
    pool = tally_buffer_resolve_pool(pool);
    tally_datatype *t;
    rc = tally_c_import_type(pool, schema, &t);
    if (rc != 0)
        return rc;
    rc = tally_c_check_array(array, t, 0, error);
    if (rc == 0)
        rc = tally_c_import_array(pool, array, t, out);
    tally_datatype_release(t); /* the array holds it */
    if (rc != 0)
        return rc;
    schema->release(schema);
    schema->release = NULL;
    return 0;
}

int tally_array_import_with_pool(tally_pool *pool, struct ArrowArray *array,
                                 struct ArrowSchema *schema, tally_array **out)
{
    return tally_array_import_ex(pool, array, schema, NULL, out);
}

int tally_array_import(struct ArrowArray *array, struct ArrowSchema *schema, tally_array **out)
{
    return tally_array_import_with_pool(NULL, array, schema, out);
}
