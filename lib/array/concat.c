/* concat.c: one array from many, every buffer new in the caller's pool.
 *
 * Each input is read through its own offset, so slices concatenate as they
 * look. Nested arrays concatenate their children: a list the child ranges
 * its elements cover, a struct each member's window; the temporary slices
 * for that are charged to the same pool and gone before the call returns. */
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

/* A fresh buffer of size bytes from pool, zeroed, still mutable. */
static int zeroed(tally_pool *pool, int64_t size, tally_buffer **out)
{
    int rc = tally_buffer_allocate(pool, size, out);
    if (rc == 0 && size > 0)
        memset(tally_buffer_mutable_data(*out), 0, (size_t)size);
    return rc;
}

/* n bits from src at bit from to dst at bit at: bit by bit up to a dst byte
 * boundary, then a byte at a time (two source bytes shifted together). */
static void copy_bits(uint8_t *dst, int64_t at, const uint8_t *src, int64_t from, int64_t n)
{
    int64_t i = 0;
    for (; i < n && ((at + i) & 7); i++)
        tally_bit_put(dst, at + i, tally_bit_get(src, from + i));
    int shift = (int)((from + i) & 7);
    for (; i + 8 <= n; i += 8) {
        int64_t s = (from + i) >> 3;
        /* bits from + i .. from + i + 7 lie in bytes s and s + 1, both inside n */
        dst[(at + i) >> 3] =
            shift ? (uint8_t)((src[s] >> shift) | (src[s + 1] << (8 - shift))) : src[s];
    }
    for (; i < n; i++)
        tally_bit_put(dst, at + i, tally_bit_get(src, from + i));
}

static int concat_validity(tally_array *const *arrays, int n, int64_t total, int64_t nulls,
                           tally_pool *pool, tally_buffer **out)
{
    *out = NULL;
    if (nulls == 0)
        return 0;
    int rc = zeroed(pool, tally_bitmap_bytes(total), out);
    if (rc != 0)
        return rc;
    uint8_t *bits = tally_buffer_mutable_data(*out);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        const tally_array *a = arrays[i];
        if (a->buffers[0])
            copy_bits(bits, at, tally_buffer_data(a->buffers[0]), a->offset, a->length);
        else
            tally_bits_fill(bits, at, a->length, true);
        at += a->length;
    }
    return 0;
}

/* Fixed width and bool values. */
static int concat_values(tally_array *const *arrays, int n, int64_t total, tally_pool *pool,
                         tally_buffer **out)
{
    tally_type type = arrays[0]->type;
    int64_t bytes;
    if (!tally_values_bytes(type, total, &bytes))
        return ENOMEM;
    int rc = zeroed(pool, bytes, out);
    if (rc != 0)
        return rc;
    uint8_t *dst = tally_buffer_mutable_data(*out);
    int64_t width = tally_type_width(type), at = 0;
    for (int i = 0; i < n; i++) {
        const tally_array *a = arrays[i];
        const uint8_t *src = tally_buffer_data(a->buffers[1]);
        if (type == TALLY_TYPE_BOOL)
            copy_bits(dst, at, src, a->offset, a->length);
        else if (a->length > 0)
            memcpy(dst + at * width, src + a->offset * width, (size_t)(a->length * width));
        at += a->length;
    }
    return 0;
}

/* int32 offsets (string, binary, list), rebased; *span is the data bytes or
 * child elements they cover. ERANGE past int32. */
static int concat_offsets(tally_array *const *arrays, int n, int64_t total, tally_pool *pool,
                          tally_error *error, tally_buffer **out, int64_t *span)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *o = tally_buffer_data(arrays[i]->buffers[1]);
        sum += tally_offset_at(o, arrays[i]->offset + arrays[i]->length) -
               tally_offset_at(o, arrays[i]->offset);
        if (sum > INT32_MAX) {
            tally_fail(error, "the concatenation passes the int32 offsets");
            return ERANGE;
        }
    }
    int rc = zeroed(pool, (total + 1) * 4, out);
    if (rc != 0)
        return rc;
    uint8_t *dst = tally_buffer_mutable_data(*out);
    int64_t at = 0, base = 0;
    for (int i = 0; i < n; i++) {
        const tally_array *a = arrays[i];
        const uint8_t *o = tally_buffer_data(a->buffers[1]);
        int32_t first = tally_offset_at(o, a->offset);
        for (int64_t j = 0; j <= a->length; j++) {
            int32_t v = (int32_t)(base + tally_offset_at(o, a->offset + j) - first);
            memcpy(dst + (at + j) * 4, &v, 4);
        }
        base += tally_offset_at(o, a->offset + a->length) - first;
        at += a->length;
    }
    *span = sum;
    return 0;
}

static int concat_data(tally_array *const *arrays, int n, int64_t bytes, tally_pool *pool,
                       tally_buffer **out)
{
    int rc = zeroed(pool, bytes, out);
    if (rc != 0)
        return rc;
    uint8_t *dst = tally_buffer_mutable_data(*out);
    for (int i = 0; i < n; i++) {
        const tally_array *a = arrays[i];
        const uint8_t *o = tally_buffer_data(a->buffers[1]);
        int32_t start = tally_offset_at(o, a->offset),
                end = tally_offset_at(o, a->offset + a->length);
        if (end > start)
            memcpy(dst, tally_buffer_data(a->buffers[2]) + start, (size_t)(end - start));
        dst += end - start;
    }
    return 0;
}

static int concat_arrays(tally_array *const *arrays, int n, tally_pool *pool, tally_error *error,
                         tally_array **out);

/* Child k of each input, sliced to the window that input uses of it, then
 * concatenated. */
static int concat_child(tally_array *const *arrays, int n, int k, tally_pool *pool,
                        tally_error *error, tally_array **out)
{
    tally_array **parts;
    int64_t bytes = (int64_t)sizeof *parts * n;
    int rc = tally_pool_allocate(pool, bytes, (uint8_t **)&parts);
    if (rc != 0)
        return rc;
    int made = 0;
    for (; rc == 0 && made < n; made++) {
        const tally_array *a = arrays[made];
        int64_t start = a->offset, length = a->length;
        if (a->type == TALLY_TYPE_LIST) {
            start = tally_array_list_offset(a, 0);
            length = tally_array_list_offset(a, a->length) - start;
        }
        rc = tally_array_slice_in(a->children[k], start, length, pool, &parts[made]);
        if (rc != 0)
            break;
    }
    if (rc == 0)
        rc = concat_arrays(parts, n, pool, error, out);
    for (int i = 0; i < made; i++)
        tally_array_release(parts[i]);
    tally_pool_free(pool, (uint8_t *)parts, bytes);
    return rc;
}

static int concat_arrays(tally_array *const *arrays, int n, tally_pool *pool, tally_error *error,
                         tally_array **out)
{
    const tally_array *first = arrays[0];
    int64_t total = 0, nulls = 0;
    for (int i = 0; i < n; i++) {
        if (__builtin_add_overflow(total, arrays[i]->length, &total))
            return tally_fail(error, "the concatenation is too long");
        nulls += arrays[i]->null_count;
    }
    tally_type type = first->type;
    int nb = tally_type_n_buffers(type), nk = first->n_children;
    tally_buffer *bufs[TALLY_MAX_BUFFERS] = {NULL};
    tally_array *kids_small[8], **kids = kids_small;
    int64_t kids_bytes = (int64_t)sizeof *kids * nk;
    int rc = 0, made = 0;
    if (nk > 8) {
        uint8_t *block;
        rc = tally_pool_allocate(pool, kids_bytes, &block);
        if (rc != 0)
            return rc;
        kids = (tally_array **)block;
    }
    if (rc == 0)
        rc = concat_validity(arrays, n, total, nulls, pool, &bufs[0]);
    int64_t span = 0;
    if (rc == 0 && tally_type_has_int32_offsets(type))
        rc = concat_offsets(arrays, n, total, pool, error, &bufs[1], &span);
    else if (rc == 0 && type != TALLY_TYPE_STRUCT)
        rc = concat_values(arrays, n, total, pool, &bufs[1]);
    if (rc == 0 && tally_type_has_offsets(type))
        rc = concat_data(arrays, n, span, pool, &bufs[2]);
    for (; rc == 0 && made < nk; made++) {
        rc = concat_child(arrays, n, made, pool, error, &kids[made]);
        if (rc != 0)
            break;
    }
    for (int k = 0; k < nb; k++)
        if (bufs[k])
            tally_buffer_freeze(bufs[k]);
    if (rc == 0)
        rc = tally_array_new_typed(pool, first->dtype, total, 0, nulls, bufs, nb, kids, nk, out);
    for (int k = 0; k < nb; k++)
        tally_buffer_release(bufs[k]); /* on success the array holds them */
    for (int k = 0; k < made; k++)
        tally_array_release(kids[k]);
    if (kids != kids_small)
        tally_pool_free(pool, (uint8_t *)kids, kids_bytes);
    return rc;
}

int tally_array_concat(tally_array *const *arrays, int n, tally_pool *pool, tally_error *error,
                       tally_array **out)
{
    if (!arrays || !out || n < 1)
        return tally_fail(error, "nothing to concatenate");
    for (int i = 0; i < n; i++) {
        if (!arrays[i])
            return tally_fail(error, "array %d is NULL", i);
        if (!tally_datatype_equals(arrays[i]->dtype, arrays[0]->dtype))
            return tally_fail(error, "array %d's type differs from array 0's", i);
    }
    return concat_arrays(arrays, n, tally_buffer_resolve_pool(pool), error, out);
}
