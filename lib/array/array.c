/* array.c: immutable arrays over shared buffers: making, slicing, releasing. */
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"
#include "base/assert.h"

#include <errno.h>
#include <string.h>

static int64_t block_bytes(int n_children)
{
    return (int64_t)sizeof(struct tally_array) + (int64_t)sizeof(tally_array *) * n_children;
}

int tally_array_new_typed(tally_pool *pool, tally_datatype *dtype, int64_t length, int64_t offset,
                          int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                          tally_array *const *children, int n_children, tally_array **out)
{
    TALLY_ASSERT(n_buffers <= TALLY_MAX_BUFFERS && n_children >= 0);
    tally_array *a;
    int rc = tally_pool_allocate(pool, block_bytes(n_children), (uint8_t **)&a);
    if (rc != 0)
        return rc;
    memset(a, 0, sizeof *a);
    atomic_init(&a->refcount, 1);
    a->pool = pool;
    a->dtype = tally_datatype_retain(dtype);
    a->type = dtype->id;
    a->n_buffers = n_buffers;
    a->length = length;
    a->offset = offset;
    a->null_count = null_count;
    for (int k = 0; k < n_buffers; k++)
        a->buffers[k] = tally_buffer_retain(buffers[k]);
    a->n_children = n_children;
    for (int k = 0; k < n_children; k++)
        a->children[k] = tally_array_retain(children[k]);
    *out = a;
    return 0;
}

int tally_array_new(tally_pool *pool, tally_type type, int64_t length, int64_t offset,
                    int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                    tally_array **out)
{
    return tally_array_new_typed(pool, tally_datatype_of(type), length, offset, null_count, buffers,
                                 n_buffers, NULL, 0, out);
}

/* The buffers as the checks see them; a list's "data" is its child. */
static tally_layout layout_of(tally_type type, tally_buffer *const *buffers, int n_buffers,
                              int64_t child_length)
{
    tally_layout l = {0};
    l.validity = tally_buffer_data(buffers[0]);
    l.validity_size = tally_buffer_size(buffers[0]);
    if (n_buffers > 1) {
        l.values = tally_buffer_data(buffers[1]);
        l.values_size = tally_buffer_size(buffers[1]);
    }
    if (n_buffers > 2) {
        l.data = tally_buffer_data(buffers[2]);
        l.data_size = tally_buffer_size(buffers[2]);
    }
    if (type == TALLY_TYPE_LIST)
        l.data_size = child_length;
    return l;
}

int tally_array_make(tally_type type, int64_t length, tally_buffer *const *buffers, int n_buffers,
                     int64_t null_count, int64_t offset, tally_array **out)
{
    if (!out || !buffers || !tally_type_is_valid(type) || tally_type_is_nested(type) ||
        n_buffers != tally_type_n_buffers(type))
        return EINVAL;
    for (int k = 1; k < n_buffers; k++)
        if (!buffers[k])
            return EINVAL;
    tally_layout l = layout_of(type, buffers, n_buffers, 0);
    int rc = tally_layout_check(type, length, offset, &null_count, &l);
    if (rc != 0)
        return rc;
    return tally_array_new(buffers[1]->pool, type, length, offset, null_count, buffers, n_buffers,
                           out);
}

/* The children's count and types, and for a struct that each is at least
 * offset + length long (which does not overflow: checked by the caller). A
 * list's offsets against its child are tally_layout_check's. */
static int check_children(const tally_datatype *dtype, int64_t length, int64_t offset,
                          tally_array *const *children, int n_children, tally_error *error)
{
    tally_type id = dtype->id;
    int want = tally_type_is_nested(id) ? dtype->n_fields : 0;
    if (n_children != want)
        return tally_fail(error, "%s array with %d children, expected %d", tally_type_name(id),
                          n_children, want);
    for (int k = 0; k < n_children; k++) {
        const tally_array *c = children[k];
        if (!c)
            return tally_fail(error, "child %d is NULL", k);
        if (!tally_datatype_equals(c->dtype, tally_field_type(dtype->fields[k])))
            return tally_fail(error, "child %d (%s) is not of its field's type", k,
                              tally_field_name(dtype->fields[k]));
        /* A struct's offset applies to its children. */
        if (id == TALLY_TYPE_STRUCT && c->length < offset + length)
            return tally_fail(error, "struct child %d (%s) has %lld elements, fewer than %lld", k,
                              tally_field_name(dtype->fields[k]), (long long)c->length,
                              (long long)(offset + length));
    }
    return 0;
}

int tally_array_make_typed(tally_pool *pool, tally_datatype *type, int64_t length, int64_t offset,
                           int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                           tally_array *const *children, int n_children, tally_error *error,
                           tally_array **out)
{
    if (!out || !type || !buffers || n_children < 0 || (n_children > 0 && !children))
        return tally_fail(error, "missing argument");
    tally_type id = type->id;
    if (n_buffers != tally_type_n_buffers(id))
        return tally_fail(error, "%s array with %d buffers, expected %d", tally_type_name(id),
                          n_buffers, tally_type_n_buffers(id));
    for (int k = 1; k < n_buffers; k++)
        if (!buffers[k])
            return tally_fail(error, "buffer %d is NULL", k);
    int64_t end;
    if (length < 0 || offset < 0 || __builtin_add_overflow(offset, length, &end))
        return tally_fail(error, "length %lld at offset %lld", (long long)length,
                          (long long)offset);
    int rc = check_children(type, length, offset, children, n_children, error);
    if (rc != 0)
        return rc;
    tally_layout l = layout_of(id, buffers, n_buffers, n_children > 0 ? children[0]->length : 0);
    if (tally_layout_check(id, length, offset, &null_count, &l) != 0)
        return tally_fail(error,
                          "%s array of length %lld at offset %lld: buffers too small, offsets "
                          "out of order or out of bounds, or a wrong null count",
                          tally_type_name(id), (long long)length, (long long)offset);
    return tally_array_new_typed(tally_buffer_resolve_pool(pool), type, length, offset, null_count,
                                 buffers, n_buffers, children, n_children, out);
}

int tally_array_slice_in(const tally_array *a, int64_t offset, int64_t length, tally_pool *pool,
                         tally_array **out)
{
    int64_t end;
    if (!a || !out || offset < 0 || length < 0 || __builtin_add_overflow(offset, length, &end) ||
        end > a->length)
        return EINVAL;
    int64_t start = a->offset + offset, null_count = 0;
    if (a->null_count > 0 && a->buffers[0])
        null_count = length - tally_bits_count(tally_buffer_data(a->buffers[0]), start, length);
    return tally_array_new_typed(pool, a->dtype, length, start, null_count, a->buffers,
                                 a->n_buffers, a->children, a->n_children, out);
}

int tally_array_slice(const tally_array *a, int64_t offset, int64_t length, tally_array **out)
{
    return tally_array_slice_in(a, offset, length, a ? a->pool : NULL, out);
}

tally_array *tally_array_retain(tally_array *a)
{
    if (a)
        atomic_fetch_add_explicit(&a->refcount, 1, memory_order_relaxed);
    return a;
}

void tally_array_release(tally_array *a)
{
    if (!a || atomic_fetch_sub_explicit(&a->refcount, 1, memory_order_acq_rel) != 1)
        return;
    for (int k = 0; k < a->n_buffers; k++)
        tally_buffer_release(a->buffers[k]);
    for (int k = 0; k < a->n_children; k++)
        tally_array_release(a->children[k]);
    tally_datatype_release(a->dtype);
    tally_pool_free(a->pool, (uint8_t *)a, block_bytes(a->n_children));
}

tally_type tally_array_type(const tally_array *a)
{
    return a ? a->type : (tally_type)-1;
}

tally_datatype *tally_array_datatype(const tally_array *a)
{
    return a ? a->dtype : NULL;
}

int64_t tally_array_length(const tally_array *a)
{
    return a ? a->length : 0;
}

int64_t tally_array_offset(const tally_array *a)
{
    return a ? a->offset : 0;
}

int64_t tally_array_null_count(const tally_array *a)
{
    return a ? a->null_count : 0;
}

int tally_array_n_buffers(const tally_array *a)
{
    return a ? a->n_buffers : 0;
}

tally_buffer *tally_array_buffer(const tally_array *a, int k)
{
    if (!a || k < 0 || k >= a->n_buffers)
        return NULL;
    return a->buffers[k];
}

int tally_array_n_children(const tally_array *a)
{
    return a ? a->n_children : 0;
}

tally_array *tally_array_child(const tally_array *a, int k)
{
    return a && k >= 0 && k < a->n_children ? a->children[k] : NULL;
}
