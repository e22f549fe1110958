/* builder.c: a builder's lifecycle: new, growth, reset, finish, destroy. */
#include "array/builder_internal.h"
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

void tally_builder_update_room(tally_builder *b)
{
    b->head.int64_room = b->type == TALLY_TYPE_INT64 && !b->validity ? b->capacity : 0;
}

int tally_builder_new(tally_type type, tally_pool *pool, tally_builder **out)
{
    if (!out || !tally_type_is_valid(type) || tally_type_is_nested(type))
        return EINVAL;
    pool = tally_buffer_resolve_pool(pool);
    tally_builder *b;
    int rc = tally_pool_allocate(pool, sizeof *b, (uint8_t **)&b);
    if (rc != 0)
        return rc;
    memset(b, 0, sizeof *b);
    b->dtype = tally_datatype_of(type);
    b->type = type;
    b->width = tally_type_width(type);
    b->pool = pool;
    *out = b;
    return 0;
}

/* Moves *block from *bytes to new_bytes; zeroes what it gains when asked. */
static int resize_block(tally_pool *pool, uint8_t **block, int64_t *bytes, int64_t new_bytes,
                        bool zero_new)
{
    uint8_t *p = *block;
    int rc = tally_pool_reallocate(pool, *bytes, new_bytes, &p);
    if (rc != 0)
        return rc;
    if (zero_new && new_bytes > *bytes)
        memset(p + *bytes, 0, (size_t)(new_bytes - *bytes));
    *block = p;
    *bytes = new_bytes;
    return 0;
}

static bool padded_values_bytes(tally_type type, int64_t slots, int64_t *bytes)
{
    return tally_values_bytes(type, slots, bytes) && tally_round_up_64(*bytes, bytes);
}

int tally_builder_grow(tally_builder *b, int64_t min_capacity)
{
    if (min_capacity <= b->capacity)
        return 0;
    int64_t capacity =
        b->capacity < TALLY_BUILDER_MIN_CAPACITY ? TALLY_BUILDER_MIN_CAPACITY : b->capacity;
    while (capacity < min_capacity) {
        if (__builtin_mul_overflow(capacity, 2, &capacity))
            return ENOMEM;
    }
    int64_t values_bytes, validity_bytes;
    if (!padded_values_bytes(b->type, capacity, &values_bytes) ||
        !tally_round_up_64(tally_bitmap_bytes(capacity), &validity_bytes))
        return ENOMEM;
    bool first = b->values_bytes == 0;
    int rc = values_bytes == b->values_bytes
                 ? 0 /* a struct's: none */
                 : resize_block(b->pool, &b->head.values, &b->values_bytes, values_bytes, false);
    if (rc != 0)
        return rc;
    if (first && tally_type_has_int32_offsets(b->type))
        memset(b->head.values, 0, sizeof(int32_t)); /* offsets[0] */
    /* The bitmap keeps every bit past length clear, so finish need not. */
    if (b->validity) {
        rc = resize_block(b->pool, &b->validity, &b->validity_bytes, validity_bytes, true);
        if (rc != 0)
            return rc; /* the values block grew: harmless, capacity says what is usable */
    }
    b->capacity = capacity;
    tally_builder_update_room(b);
    return 0;
}

int tally_builder_make_room(tally_builder *b, int64_t n)
{
    int64_t needed;
    if (__builtin_add_overflow(b->head.length, n, &needed))
        return ENOMEM;
    return needed <= b->capacity ? 0 : tally_builder_grow(b, needed);
}

int tally_builder_track_nulls(tally_builder *b)
{
    if (b->validity)
        return 0;
    int64_t bytes;
    if (!tally_round_up_64(tally_bitmap_bytes(b->capacity), &bytes))
        return ENOMEM;
    uint8_t *bits = NULL;
    int64_t have = 0;
    int rc = resize_block(b->pool, &bits, &have, bytes, true);
    if (rc != 0)
        return rc;
    tally_bits_fill(bits, 0, b->head.length, true);
    b->validity = bits;
    b->validity_bytes = bytes;
    tally_builder_update_room(b);
    return 0;
}

int tally_builder_grow_data(tally_builder *b, int64_t min_bytes)
{
    if (min_bytes <= b->data_bytes)
        return 0;
    int64_t bytes = b->data_bytes < 64 ? 64 : b->data_bytes;
    while (bytes < min_bytes)
        if (__builtin_mul_overflow(bytes, 2, &bytes))
            return ENOMEM;
    return resize_block(b->pool, &b->data, &b->data_bytes, bytes, false);
}

int tally_builder_reserve(tally_builder *b, int64_t additional)
{
    if (!b || additional < 0)
        return EINVAL;
    return tally_builder_make_room(b, additional);
}

int64_t tally_builder_length(const tally_builder *b)
{
    return b ? b->head.length : 0;
}

int64_t tally_builder_capacity(const tally_builder *b)
{
    return b ? b->capacity : 0;
}

int64_t tally_builder_null_count(const tally_builder *b)
{
    return b ? b->null_count : 0;
}

tally_type tally_builder_type(const tally_builder *b)
{
    return b ? b->type : (tally_type)-1;
}

static void free_block(tally_pool *pool, uint8_t **block, int64_t *bytes)
{
    tally_pool_free(pool, *block, *bytes);
    *block = NULL;
    *bytes = 0;
}

void tally_builder_reset(tally_builder *b)
{
    if (!b)
        return;
    for (int k = 0; k < b->n_children; k++)
        tally_builder_reset(b->children[k]);
    b->head.length = 0;
    b->null_count = 0;
    b->data_length = 0;
    free_block(b->pool, &b->validity, &b->validity_bytes);
    tally_builder_update_room(b);
}

void tally_builder_destroy(tally_builder *b)
{
    if (!b)
        return;
    free_block(b->pool, &b->head.values, &b->values_bytes);
    free_block(b->pool, &b->validity, &b->validity_bytes);
    free_block(b->pool, &b->data, &b->data_bytes);
    for (int k = 0; k < b->n_children; k++)
        tally_builder_destroy(b->children[k]);
    if (b->children)
        tally_pool_free(b->pool, (uint8_t *)b->children,
                        (int64_t)sizeof(tally_builder *) * b->n_children);
    tally_datatype_release(b->dtype);
    tally_pool_free(b->pool, (uint8_t *)b, sizeof *b);
}
