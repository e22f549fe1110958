/* array.c: immutable arrays over shared buffers: making, slicing, releasing. */
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

int tally_array_new(tally_pool *pool, tally_type type, int64_t length, int64_t offset,
                    int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                    tally_array **out)
{
    tally_array *a;
    int rc = tally_pool_allocate(pool, sizeof *a, (uint8_t **)&a);
    if (rc != 0)
        return rc;
    memset(a, 0, sizeof *a);
    atomic_init(&a->refcount, 1);
    a->pool = pool;
    a->type = type;
    a->n_buffers = n_buffers;
    a->length = length;
    a->offset = offset;
    a->null_count = null_count;
    for (int k = 0; k < n_buffers; k++)
        a->buffers[k] = tally_buffer_retain(buffers[k]);
    *out = a;
    return 0;
}

static tally_layout layout_of(tally_buffer *const *buffers, int n_buffers)
{
    tally_layout l = {0};
    l.validity = tally_buffer_data(buffers[0]);
    l.validity_size = tally_buffer_size(buffers[0]);
    l.values = tally_buffer_data(buffers[1]);
    l.values_size = tally_buffer_size(buffers[1]);
    if (n_buffers > 2) {
        l.data = tally_buffer_data(buffers[2]);
        l.data_size = tally_buffer_size(buffers[2]);
    }
    return l;
}

int tally_array_make(tally_type type, int64_t length, tally_buffer *const *buffers, int n_buffers,
                     int64_t null_count, int64_t offset, tally_array **out)
{
    if (!out || !buffers || !tally_type_is_valid(type) || n_buffers != tally_type_n_buffers(type))
        return EINVAL;
    for (int k = 1; k < n_buffers; k++)
        if (!buffers[k])
            return EINVAL;
    tally_layout l = layout_of(buffers, n_buffers);
    int rc = tally_layout_check(type, length, offset, &null_count, &l);
    if (rc != 0)
        return rc;
    return tally_array_new(buffers[1]->pool, type, length, offset, null_count, buffers, n_buffers,
                           out);
}

int tally_array_slice(const tally_array *a, int64_t offset, int64_t length, tally_array **out)
{
    int64_t end;
    if (!a || !out || offset < 0 || length < 0 || __builtin_add_overflow(offset, length, &end) ||
        end > a->length)
        return EINVAL;
    int64_t start = a->offset + offset, null_count = 0;
    if (a->null_count > 0 && a->buffers[0])
        null_count = length - tally_bits_count(tally_buffer_data(a->buffers[0]), start, length);
    return tally_array_new(a->pool, a->type, length, start, null_count, a->buffers, a->n_buffers,
                           out);
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
    tally_pool_free(a->pool, (uint8_t *)a, sizeof *a);
}

tally_type tally_array_type(const tally_array *a)
{
    return a ? a->type : (tally_type)-1;
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
