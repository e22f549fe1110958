/* builder_finish.c: turning a builder's blocks into an array's buffers.
 *
 * Every step that can fail comes before the builder lets go of anything, so
 * a failed finish leaves the builder as it was. */
#include "array/builder_internal.h"
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

/* Gives back what padding to 64 does not need, then zeroes the padding. In
 * that order: zeroing first would fault in pages that are about to be freed.
 * A refused shrink only wastes space. */
static void trim_block(tally_pool *pool, uint8_t **block, int64_t *bytes, int64_t used)
{
    int64_t fitted;
    if (tally_round_up_64(used, &fitted) && fitted < *bytes) {
        uint8_t *p = *block;
        if (tally_pool_reallocate(pool, *bytes, fitted, &p) == 0) {
            *block = p;
            *bytes = fitted;
        }
    }
    if (*bytes > used)
        memset(*block + used, 0, (size_t)(*bytes - used));
}

static void trim(tally_builder *b)
{
    int64_t length = b->head.length, used;
    tally_values_bytes(b->type, length, &used); /* cannot overflow: capacity did not */
    trim_block(b->pool, &b->head.values, &b->values_bytes, used);
    if (b->type == TALLY_TYPE_BOOL) /* the last byte's high bits */
        tally_bits_clear_tail(b->head.values, length, b->values_bytes);
    if (b->validity)
        trim_block(b->pool, &b->validity, &b->validity_bytes, tally_bitmap_bytes(length));
    if (b->data)
        trim_block(b->pool, &b->data, &b->data_bytes, b->data_length);
}

/* The blocks as buffers, [validity, values(, data)]; all or nothing. */
static int adopt_all(tally_builder *b, tally_buffer **bufs, int n)
{
    int64_t length = b->head.length, values_used;
    tally_values_bytes(b->type, length, &values_used);
    uint8_t *blocks[] = {b->validity, b->head.values, b->data};
    int64_t sizes[] = {tally_bitmap_bytes(length), values_used, b->data_length};
    int64_t capacities[] = {b->validity_bytes, b->values_bytes, b->data_bytes};
    for (int k = 0; k < n; k++) {
        bufs[k] = NULL;
        if (k == 0 && !blocks[0])
            continue;
        if (!blocks[k]) /* never grown: an empty block */
            tally_pool_allocate(b->pool, 0, &blocks[k]);
        int rc = tally_buffer_adopt(b->pool, blocks[k], sizes[k], capacities[k], false, &bufs[k]);
        if (rc != 0) {
            while (k-- > 0)
                if (bufs[k])
                    tally_buffer_disown(bufs[k]);
            return rc;
        }
    }
    return 0;
}

/* Finishes each child into kids; on failure releases what was finished. */
static int finish_children(tally_builder *b, tally_array **kids)
{
    for (int k = 0; k < b->n_children; k++) {
        int rc = tally_builder_finish(b->children[k], &kids[k]);
        if (rc != 0) {
            while (k-- > 0)
                tally_array_release(kids[k]);
            return rc;
        }
    }
    return 0;
}

/* The builder's own blocks as an array with the given children. */
static int finish_self(tally_builder *b, tally_array *const *kids, tally_array **out)
{
    /* An empty string or list array still needs its single offset, 0. */
    int rc = tally_type_has_int32_offsets(b->type) ? tally_builder_grow(b, 1) : 0;
    if (rc != 0)
        return rc;
    trim(b);
    int n = tally_type_n_buffers(b->type);
    tally_buffer *bufs[TALLY_MAX_BUFFERS];
    rc = adopt_all(b, bufs, n);
    if (rc != 0)
        return rc;
    rc = tally_array_new_typed(b->pool, b->dtype, b->head.length, 0, b->null_count, bufs, n, kids,
                               b->n_children, out);
    for (int k = 0; k < n; k++) {
        if (!bufs[k])
            continue;
        if (rc != 0)
            tally_buffer_disown(bufs[k]);
        else
            tally_buffer_release(bufs[k]); /* the array holds the only reference now */
    }
    return rc;
}

int tally_builder_finish(tally_builder *b, tally_array **out)
{
    if (!b || !out)
        return EINVAL;
    tally_array *kids_small[8], **kids = kids_small;
    int64_t kids_bytes = (int64_t)sizeof(tally_array *) * b->n_children;
    if (b->n_children > 8) {
        int rc = tally_pool_allocate(b->pool, kids_bytes, (uint8_t **)&kids);
        if (rc != 0)
            return rc;
    }
    int rc = finish_children(b, kids);
    tally_array *a = NULL;
    if (rc == 0) {
        rc = finish_self(b, kids, &a);
        for (int k = 0; k < b->n_children; k++)
            tally_array_release(kids[k]); /* on success the array holds them */
    }
    if (rc != 0 && b->n_children > 0)
        tally_builder_reset(b); /* some children may be gone: what it held is lost */
    if (kids != kids_small)
        tally_pool_free(b->pool, (uint8_t *)kids, kids_bytes);
    if (rc != 0)
        return rc;
    /* The blocks belong to the array now: start over from nothing. */
    tally_builder saved = *b;
    memset(b, 0, sizeof *b);
    b->type = saved.type;
    b->width = saved.width;
    b->pool = saved.pool;
    b->dtype = saved.dtype;
    b->n_children = saved.n_children;
    b->children = saved.children;
    *out = a;
    return 0;
}
