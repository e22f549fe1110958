/* array_get.c: reading elements by logical index, and comparing arrays.
 *
 * Reads go through memcpy: an imported buffer need not be aligned. */
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

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

static bool same_value(const tally_array *a, int64_t i, const tally_array *b, int64_t j)
{
    if (a->type == TALLY_TYPE_BOOL)
        return tally_array_get_bool(a, i) == tally_array_get_bool(b, j);
    if (tally_type_has_offsets(a->type)) {
        int64_t n, m;
        const uint8_t *x = tally_array_get_bytes(a, i, &n), *y = tally_array_get_bytes(b, j, &m);
        return n == m && (n == 0 || memcmp(x, y, (size_t)n) == 0);
    }
    return memcmp(slot(a, i), slot(b, j), (size_t)tally_type_width(a->type)) == 0;
}

bool tally_array_equals(const tally_array *a, const tally_array *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type || a->length != b->length || a->null_count != b->null_count)
        return false;
    for (int64_t i = 0; i < a->length; i++) {
        bool valid = tally_array_is_valid(a, i);
        if (valid != tally_array_is_valid(b, i))
            return false;
        if (valid && !same_value(a, i, b, i))
            return false;
    }
    return true;
}
