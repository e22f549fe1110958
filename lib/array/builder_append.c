/* builder_append.c: appending values and nulls. Each append checks its
 * argument before it changes anything, so a refused append appends nothing. */
#include "array/builder_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <float.h>
#include <string.h>

/* Emits the external definition of the inline in tally/array.h. */
extern inline int tally_builder_append_int(tally_builder *b, int64_t v);

/* Writes the low `width` bytes of v (two's complement) into slot i. */
static void store(tally_builder *b, int64_t i, uint64_t v)
{
    uint8_t *p = b->head.values + i * b->width;
    switch (b->width) {
    case 1:
        *p = (uint8_t)v;
        break;
    case 2:
        memcpy(p, &(uint16_t){(uint16_t)v}, 2);
        break;
    case 4:
        memcpy(p, &(uint32_t){(uint32_t)v}, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

/* One more valid slot, already written. */
static void commit_valid(tally_builder *b)
{
    if (b->validity)
        tally_bit_put(b->validity, b->head.length, true);
    b->head.length++;
}

static int append_bits(tally_builder *b, uint64_t bits)
{
    int rc = tally_builder_make_room(b, 1);
    if (rc != 0)
        return rc;
    store(b, b->head.length, bits);
    commit_valid(b);
    return 0;
}

static bool is_signed_int(tally_type t)
{
    return t >= TALLY_TYPE_INT8 && t <= TALLY_TYPE_INT64;
}

static bool is_unsigned_int(tally_type t)
{
    return t >= TALLY_TYPE_UINT8 && t <= TALLY_TYPE_UINT64;
}

/* The largest value of an integer type of `width` bytes. */
static uint64_t max_of(int width, bool is_signed)
{
    uint64_t all = width == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
    return is_signed ? all >> 1 : all;
}

int tally_builder_append_int_slow(tally_builder *b, int64_t v)
{
    if (!b)
        return EINVAL;
    if (is_signed_int(b->type)) {
        int64_t max = (int64_t)max_of(b->width, true);
        if (v > max || v < -max - 1)
            return ERANGE;
    } else if (is_unsigned_int(b->type)) {
        if (v < 0 || (uint64_t)v > max_of(b->width, false))
            return ERANGE;
    } else {
        return EINVAL;
    }
    return append_bits(b, (uint64_t)v);
}

int tally_builder_append_uint(tally_builder *b, uint64_t v)
{
    if (!b)
        return EINVAL;
    if (!is_signed_int(b->type) && !is_unsigned_int(b->type))
        return EINVAL;
    if (v > max_of(b->width, is_signed_int(b->type)))
        return ERANGE;
    return append_bits(b, v);
}

int tally_builder_append_double(tally_builder *b, double v)
{
    if (!b)
        return EINVAL;
    uint64_t bits;
    if (b->type == TALLY_TYPE_DOUBLE) {
        memcpy(&bits, &v, sizeof v);
    } else if (b->type == TALLY_TYPE_FLOAT) {
        if (v > FLT_MAX || v < -FLT_MAX) {
            if (!__builtin_isinf(v))
                return ERANGE;
        }
        uint32_t f;
        memcpy(&f, &(float){(float)v}, sizeof f);
        bits = f;
    } else {
        return EINVAL;
    }
    return append_bits(b, bits);
}

int tally_builder_append_bool(tally_builder *b, bool v)
{
    if (!b || b->type != TALLY_TYPE_BOOL)
        return EINVAL;
    int rc = tally_builder_make_room(b, 1);
    if (rc != 0)
        return rc;
    tally_bit_put(b->head.values, b->head.length, v);
    commit_valid(b);
    return 0;
}

void tally_builder_set_offset(tally_builder *b, int64_t i, int64_t value)
{
    memcpy(b->head.values + i * (int64_t)sizeof(int32_t), &(int32_t){(int32_t)value},
           sizeof(int32_t));
}

int32_t tally_builder_offset(const tally_builder *b, int64_t i)
{
    return tally_offset_at(b->head.values, i);
}

int tally_builder_append_bytes(tally_builder *b, const void *data, int64_t len)
{
    if (!b || !tally_type_has_offsets(b->type) || len < 0 || (!data && len > 0))
        return EINVAL;
    if (len > INT32_MAX - b->data_length)
        return ERANGE; /* the int32 offsets could not point past it */
    int64_t end = b->data_length + len;
    int rc = tally_builder_make_room(b, 1);
    if (rc == 0)
        rc = tally_builder_grow_data(b, end);
    if (rc != 0)
        return rc;
    if (len > 0)
        memcpy(b->data + b->data_length, data, (size_t)len);
    b->data_length = end;
    tally_builder_set_offset(b, b->head.length + 1, end);
    commit_valid(b);
    return 0;
}

/* Zeroes n value slots from start: what lies under a null must not leak. */
static void zero_slots(tally_builder *b, int64_t start, int64_t n)
{
    if (b->type == TALLY_TYPE_BOOL)
        tally_bits_fill(b->head.values, start, n, false);
    else if (tally_type_has_offsets(b->type))
        for (int64_t i = start; i < start + n; i++)
            tally_builder_set_offset(b, i + 1, b->data_length); /* an empty slot */
    else if (b->type == TALLY_TYPE_LIST) /* empty: child values still pending stay so */
        for (int64_t i = start; i < start + n; i++)
            tally_builder_set_offset(b, i + 1, tally_builder_offset(b, start));
    else if (b->type == TALLY_TYPE_STRUCT)
        return; /* no slots: the children got their nulls */
    else
        memset(b->head.values + start * b->width, 0, (size_t)(n * b->width));
}

/* A struct's null is a null in each child too; all or nothing. */
static int children_nulls(tally_builder *b, int64_t n)
{
    for (int k = 0; k < b->n_children; k++) {
        int64_t before = tally_builder_length(b->children[k]);
        int rc = tally_builder_append_nulls(b->children[k], n);
        if (rc != 0) {
            tally_builder_truncate(b->children[k], before);
            while (k-- > 0)
                tally_builder_truncate(b->children[k], tally_builder_length(b->children[k]) - n);
            return rc;
        }
    }
    return 0;
}

int tally_builder_append_nulls(tally_builder *b, int64_t n)
{
    if (!b || n < 0)
        return EINVAL;
    if (n == 0)
        return 0;
    int rc = tally_builder_make_room(b, n);
    if (rc == 0)
        rc = tally_builder_track_nulls(b);
    if (rc == 0 && b->type == TALLY_TYPE_STRUCT)
        rc = children_nulls(b, n);
    if (rc != 0)
        return rc;
    int64_t length = b->head.length;
    zero_slots(b, length, n);
    tally_bits_fill(b->validity, length, n, false);
    b->null_count += n;
    b->head.length = length + n;
    return 0;
}

int tally_builder_append_null(tally_builder *b)
{
    return tally_builder_append_nulls(b, 1);
}

static int64_t count_nulls(const uint8_t *valid_bytes, int64_t n)
{
    int64_t nulls = 0;
    if (valid_bytes)
        for (int64_t i = 0; i < n; i++)
            nulls += valid_bytes[i] == 0;
    return nulls;
}

int tally_builder_append_values(tally_builder *b, const void *values, const uint8_t *valid_bytes,
                                int64_t n)
{
    if (!b || n < 0 || (!values && n > 0) || tally_type_has_offsets(b->type) ||
        tally_type_is_nested(b->type))
        return EINVAL;
    if (n == 0)
        return 0;
    int64_t nulls = count_nulls(valid_bytes, n), length = b->head.length;
    int rc = tally_builder_make_room(b, n);
    if (rc == 0 && nulls > 0)
        rc = tally_builder_track_nulls(b);
    if (rc != 0)
        return rc;
    const uint8_t *src = values;
    if (b->type == TALLY_TYPE_BOOL) {
        for (int64_t i = 0; i < n; i++)
            tally_bit_put(b->head.values, length + i, src[i] != 0);
    } else {
        memcpy(b->head.values + length * b->width, src, (size_t)(n * b->width));
    }
    if (b->validity) {
        if (nulls == 0) {
            tally_bits_fill(b->validity, length, n, true);
        } else {
            for (int64_t i = 0; i < n; i++) {
                bool valid = valid_bytes[i] != 0;
                tally_bit_put(b->validity, length + i, valid);
                if (!valid)
                    zero_slots(b, length + i, 1);
            }
        }
    }
    b->null_count += nulls;
    b->head.length = length + n;
    return 0;
}
