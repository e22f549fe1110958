/* builder_nested.c: list and struct builders. A list builder's child gets
 * the values and the list records where each element ends; a struct
 * builder's children get one value each per element. */
#include "array/builder_internal.h"
#include "array/array_internal.h"
#include "array/bitmap.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

static int new_nested(tally_datatype *type, tally_pool *pool, tally_builder **out)
{
    tally_builder *b;
    int rc = tally_pool_allocate(pool, sizeof *b, (uint8_t **)&b);
    if (rc != 0)
        return rc;
    memset(b, 0, sizeof *b);
    b->type = type->id;
    b->width = tally_type_width(type->id);
    b->pool = pool;
    b->dtype = tally_datatype_retain(type);
    int n = type->n_fields;
    if (n > 0) {
        int64_t bytes = (int64_t)sizeof(tally_builder *) * n;
        rc = tally_pool_allocate(pool, bytes, (uint8_t **)&b->children);
        if (rc != 0) {
            tally_builder_destroy(b);
            return rc;
        }
        memset(b->children, 0, (size_t)bytes); /* destroy skips the NULL ones */
        b->n_children = n;
    }
    for (int k = 0; k < n; k++) {
        rc = tally_builder_new_typed(tally_field_type(type->fields[k]), pool, &b->children[k]);
        if (rc != 0) {
            tally_builder_destroy(b);
            return rc;
        }
    }
    *out = b;
    return 0;
}

int tally_builder_new_typed(tally_datatype *type, tally_pool *pool, tally_builder **out)
{
    if (!type || !out)
        return EINVAL;
    if (!tally_type_is_nested(type->id))
        return tally_builder_new(type->id, pool, out);
    return new_nested(type, tally_buffer_resolve_pool(pool), out);
}

int tally_builder_n_children(const tally_builder *b)
{
    return b ? b->n_children : 0;
}

tally_builder *tally_builder_child(tally_builder *b, int k)
{
    return b && k >= 0 && k < b->n_children ? b->children[k] : NULL;
}

tally_datatype *tally_builder_datatype(const tally_builder *b)
{
    return b ? b->dtype : NULL;
}

/* One more valid element, its slot (if any) already written. */
static int commit_element(tally_builder *b)
{
    if (b->validity)
        tally_bit_put(b->validity, b->head.length, true);
    b->head.length++;
    return 0;
}

static int append_list_element(tally_builder *b)
{
    int64_t end = tally_builder_length(b->children[0]);
    int rc = tally_builder_make_room(b, 1); /* first: it writes offsets[0] */
    if (rc != 0)
        return rc;
    if (end < tally_builder_offset(b, b->head.length))
        return EINVAL; /* the child was reset under the list */
    if (end > INT32_MAX)
        return ERANGE;
    tally_builder_set_offset(b, b->head.length + 1, end);
    return commit_element(b);
}

static int append_struct_element(tally_builder *b)
{
    for (int k = 0; k < b->n_children; k++)
        if (tally_builder_length(b->children[k]) != b->head.length + 1)
            return EINVAL;
    int rc = tally_builder_make_room(b, 1);
    return rc != 0 ? rc : commit_element(b);
}

int tally_builder_append_element(tally_builder *b)
{
    if (!b)
        return EINVAL;
    if (b->type == TALLY_TYPE_LIST)
        return append_list_element(b);
    if (b->type == TALLY_TYPE_STRUCT)
        return append_struct_element(b);
    return EINVAL;
}

void tally_builder_truncate(tally_builder *b, int64_t length)
{
    int64_t cut = b->head.length - length;
    if (cut <= 0)
        return;
    if (b->validity) {
        b->null_count -= cut - tally_bits_count(b->validity, length, cut);
        tally_bits_fill(b->validity, length, cut, false); /* bits past length stay clear */
    }
    if (tally_type_has_offsets(b->type))
        b->data_length = tally_builder_offset(b, length);
    for (int k = 0; b->type == TALLY_TYPE_STRUCT && k < b->n_children; k++)
        tally_builder_truncate(b->children[k], tally_builder_length(b->children[k]) - cut);
    b->head.length = length;
    tally_builder_update_room(b);
}
