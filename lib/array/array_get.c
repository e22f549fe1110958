/* array_get.c: reading elements by logical index, and comparing arrays.
 *
 * Reads go through memcpy: an imported buffer need not be aligned. */
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

static bool in_range(const tally_array *a, int64_t i)
{
    return a && i >= 0 && i < a->length;
}

/* The address of element i's slot (physical index offset + i). */
static const uint8_t *slot(const tally_array *a, int64_t i)
{
    return tally_buffer_data(a->buffers[1]) + (a->offset + i) * tally_type_width(a->type);
}

bool tally_array_is_valid(const tally_array *a, int64_t i)
{
    if (!in_range(a, i))
        return false;
    if (!a->buffers[0])
        return true;
    return tally_bit_get(tally_buffer_data(a->buffers[0]), a->offset + i);
}

#define LOAD(type, p)                                                                              \
    ({                                                                                             \
        type v_;                                                                                   \
        memcpy(&v_, (p), sizeof v_);                                                               \
        v_;                                                                                        \
    })

int64_t tally_array_get_int(const tally_array *a, int64_t i)
{
    if (!in_range(a, i))
        return 0;
    const uint8_t *p = slot(a, i);
    switch (a->type) {
    case TALLY_TYPE_INT8:
        return LOAD(int8_t, p);
    case TALLY_TYPE_INT16:
        return LOAD(int16_t, p);
    case TALLY_TYPE_INT32:
        return LOAD(int32_t, p);
    case TALLY_TYPE_INT64:
        return LOAD(int64_t, p);
    case TALLY_TYPE_UINT8:
        return LOAD(uint8_t, p);
    case TALLY_TYPE_UINT16:
        return LOAD(uint16_t, p);
    case TALLY_TYPE_UINT32:
        return LOAD(uint32_t, p);
    case TALLY_TYPE_UINT64:
        return (int64_t)LOAD(uint64_t, p);
    default:
        return 0;
    }
}

uint64_t tally_array_get_uint(const tally_array *a, int64_t i)
{
    if (!in_range(a, i))
        return 0;
    if (a->type == TALLY_TYPE_UINT64)
        return LOAD(uint64_t, slot(a, i));
    return (uint64_t)tally_array_get_int(a, i);
}

double tally_array_get_double(const tally_array *a, int64_t i)
{
    if (!in_range(a, i))
        return 0;
    switch (a->type) {
    case TALLY_TYPE_FLOAT:
        return LOAD(float, slot(a, i));
    case TALLY_TYPE_DOUBLE:
        return LOAD(double, slot(a, i));
    case TALLY_TYPE_UINT64:
        return (double)tally_array_get_uint(a, i);
    case TALLY_TYPE_BOOL:
    case TALLY_TYPE_STRING:
    case TALLY_TYPE_BINARY:
        return 0;
    default:
        return (double)tally_array_get_int(a, i);
    }
}

bool tally_array_get_bool(const tally_array *a, int64_t i)
{
    if (!in_range(a, i) || a->type != TALLY_TYPE_BOOL)
        return false;
    return tally_bit_get(tally_buffer_data(a->buffers[1]), a->offset + i);
}

const uint8_t *tally_array_get_bytes(const tally_array *a, int64_t i, int64_t *len)
{
    if (len)
        *len = 0;
    if (!in_range(a, i) || !tally_type_has_offsets(a->type))
        return NULL;
    const uint8_t *offsets = tally_buffer_data(a->buffers[1]);
    int32_t start = tally_offset_at(offsets, a->offset + i);
    int32_t end = tally_offset_at(offsets, a->offset + i + 1);
    if (len)
        *len = end - start;
    const uint8_t *data = tally_buffer_data(a->buffers[2]);
    return data ? data + start : (const uint8_t *)"";
}

static bool elements_equal(const tally_array *a, int64_t i, const tally_array *b, int64_t j,
                           int64_t n);

/* Element i of a and element j of b, both valid, of the same data type. */
static bool same_value(const tally_array *a, int64_t i, const tally_array *b, int64_t j)
{
    switch (a->type) {
    case TALLY_TYPE_BOOL:
        return tally_array_get_bool(a, i) == tally_array_get_bool(b, j);
    case TALLY_TYPE_STRING:
    case TALLY_TYPE_BINARY: {
        int64_t n, m;
        const uint8_t *x = tally_array_get_bytes(a, i, &n), *y = tally_array_get_bytes(b, j, &m);
        return n == m && (n == 0 || memcmp(x, y, (size_t)n) == 0);
    }
    case TALLY_TYPE_LIST: {
        int64_t sa = tally_array_list_offset(a, i), sb = tally_array_list_offset(b, j);
        int64_t n = tally_array_list_offset(a, i + 1) - sa;
        return n == tally_array_list_offset(b, j + 1) - sb &&
               elements_equal(a->children[0], sa, b->children[0], sb, n);
    }
    case TALLY_TYPE_STRUCT:
        for (int k = 0; k < a->n_children; k++)
            if (!elements_equal(a->children[k], a->offset + i, b->children[k], b->offset + j, 1))
                return false;
        return true;
    default:
        return memcmp(slot(a, i), slot(b, j), (size_t)tally_type_width(a->type)) == 0;
    }
}

static bool elements_equal(const tally_array *a, int64_t i, const tally_array *b, int64_t j,
                           int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        bool valid = tally_array_is_valid(a, i + k);
        if (valid != tally_array_is_valid(b, j + k))
            return false;
        if (valid && !same_value(a, i + k, b, j + k))
            return false;
    }
    return true;
}

bool tally_array_equals(const tally_array *a, const tally_array *b)
{
    if (!a || !b)
        return a == b;
    if (!tally_datatype_equals(a->dtype, b->dtype) || a->length != b->length ||
        a->null_count != b->null_count)
        return false;
    return elements_equal(a, 0, b, 0, a->length);
}

int64_t tally_array_list_offset(const tally_array *a, int64_t i)
{
    if (!a || a->type != TALLY_TYPE_LIST || i < 0 || i > a->length)
        return 0;
    return tally_offset_at(tally_buffer_data(a->buffers[1]), a->offset + i);
}

int tally_array_list_value(const tally_array *a, int64_t i, tally_array **out)
{
    if (!in_range(a, i) || a->type != TALLY_TYPE_LIST || !out)
        return EINVAL;
    int64_t start = tally_array_list_offset(a, i);
    return tally_array_slice_in(a->children[0], start, tally_array_list_offset(a, i + 1) - start,
                                a->pool, out);
}

int tally_array_struct_field(const tally_array *a, int k, tally_array **out)
{
    if (!a || a->type != TALLY_TYPE_STRUCT || k < 0 || k >= a->n_children || !out)
        return EINVAL;
    return tally_array_slice_in(a->children[k], a->offset, a->length, a->pool, out);
}
