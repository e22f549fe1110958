/* layout.c: the per-type tables and the checks every array passes, whether
 * made from tally buffers or imported from another runtime. */
#include "array/layout.h"
#include "array/bitmap.h"

#include <errno.h>
#include <string.h>

struct type_info {
    const char *name;
    const char *format;
    int width;
};

static const struct type_info types[] = {
    [TALLY_TYPE_BOOL] = {"bool", "b", 0},      [TALLY_TYPE_INT8] = {"int8", "c", 1},
    [TALLY_TYPE_INT16] = {"int16", "s", 2},    [TALLY_TYPE_INT32] = {"int32", "i", 4},
    [TALLY_TYPE_INT64] = {"int64", "l", 8},    [TALLY_TYPE_UINT8] = {"uint8", "C", 1},
    [TALLY_TYPE_UINT16] = {"uint16", "S", 2},  [TALLY_TYPE_UINT32] = {"uint32", "I", 4},
    [TALLY_TYPE_UINT64] = {"uint64", "L", 8},  [TALLY_TYPE_FLOAT] = {"float", "f", 4},
    [TALLY_TYPE_DOUBLE] = {"double", "g", 8},  [TALLY_TYPE_STRING] = {"string", "u", 4},
    [TALLY_TYPE_BINARY] = {"binary", "z", 4},  [TALLY_TYPE_LIST] = {"list", "+l", 4},
    [TALLY_TYPE_STRUCT] = {"struct", "+s", 0},
};

#define N_TYPES ((int)(sizeof types / sizeof types[0]))

bool tally_type_is_valid(tally_type type)
{
    return (int)type >= 0 && (int)type < N_TYPES;
}

bool tally_type_has_offsets(tally_type type)
{
    return type == TALLY_TYPE_STRING || type == TALLY_TYPE_BINARY;
}

bool tally_type_has_int32_offsets(tally_type type)
{
    return tally_type_has_offsets(type) || type == TALLY_TYPE_LIST;
}

bool tally_type_is_nested(tally_type type)
{
    return type == TALLY_TYPE_LIST || type == TALLY_TYPE_STRUCT;
}

int tally_type_n_buffers(tally_type type)
{
    if (type == TALLY_TYPE_STRUCT)
        return 1;
    return tally_type_has_offsets(type) ? 3 : 2;
}

int tally_type_width(tally_type type)
{
    return tally_type_is_valid(type) ? types[type].width : 0;
}

const char *tally_type_name(tally_type type)
{
    return tally_type_is_valid(type) ? types[type].name : NULL;
}

const char *tally_type_format(tally_type type)
{
    return tally_type_is_valid(type) ? types[type].format : NULL;
}

int tally_type_from_format(const char *format, tally_type *out)
{
    if (!format)
        return EINVAL;
    for (int t = 0; t < N_TYPES; t++)
        if (strcmp(types[t].format, format) == 0) {
            *out = (tally_type)t;
            return 0;
        }
    return EINVAL;
}

bool tally_values_bytes(tally_type type, int64_t end, int64_t *bytes)
{
    if (type == TALLY_TYPE_BOOL) {
        *bytes = tally_bitmap_bytes(end);
        return true;
    }
    if (type == TALLY_TYPE_STRUCT) {
        *bytes = 0;
        return true;
    }
    if (tally_type_has_int32_offsets(type) && __builtin_add_overflow(end, 1, &end))
        return false;
    return !__builtin_mul_overflow(end, (int64_t)tally_type_width(type), bytes);
}

/* limit: the data bytes (string, binary) or child elements (list) the last
 * offset may reach. */
static int check_offsets(int64_t length, int64_t offset, int64_t limit, const tally_layout *l)
{
    int32_t prev = tally_offset_at(l->values, offset);
    if (prev < 0)
        return EINVAL;
    for (int64_t i = offset + 1; i <= offset + length; i++) {
        int32_t next = tally_offset_at(l->values, i);
        if (next < prev)
            return EINVAL;
        prev = next;
    }
    return prev <= limit ? 0 : EINVAL;
}

static int check_nulls(int64_t length, int64_t offset, int64_t *null_count, const tally_layout *l)
{
    if (*null_count < -1 || *null_count > length)
        return EINVAL;
    if (!l->validity) {
        if (*null_count > 0)
            return EINVAL;
        *null_count = 0;
        return 0;
    }
    if (tally_bitmap_bytes(offset + length) > l->validity_size)
        return EINVAL;
    int64_t nulls = length - tally_bits_count(l->validity, offset, length);
    if (*null_count != -1 && *null_count != nulls)
        return EINVAL;
    *null_count = nulls;
    return 0;
}

int tally_layout_check(tally_type type, int64_t length, int64_t offset, int64_t *null_count,
                       const tally_layout *l)
{
    int64_t end, needed;
    if (!tally_type_is_valid(type) || length < 0 || offset < 0 ||
        __builtin_add_overflow(offset, length, &end) || !tally_values_bytes(type, end, &needed))
        return EINVAL;
    int64_t values_size = l->values ? l->values_size : 0;
    if (needed > values_size)
        return EINVAL;
    if (tally_type_has_int32_offsets(type)) {
        int64_t limit = type == TALLY_TYPE_LIST ? l->data_size : l->data ? l->data_size : 0;
        int rc = check_offsets(length, offset, limit, l);
        if (rc != 0)
            return rc;
    }
    return check_nulls(length, offset, null_count, l);
}
