/* c_export.c: handing an array to another Arrow runtime without a copy.
 *
 * Each exported ArrowArray node holds its own reference on its tally array,
 * so the buffers live until the consumer releases it, whoever else lets go
 * first. A nested array's children are nodes of their own (the spec lets a
 * consumer move a child out and release it apart from its parent). */
#include "array/c_internal.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

/* One block: this struct, the buffer pointers, the child pointers, the
 * child structs. */
struct array_node {
    tally_pool *pool;
    int64_t bytes;
    tally_array *array;
};

static void release_array_node(struct ArrowArray *out)
{
    if (!out || !out->release)
        return;
    for (int64_t k = 0; k < out->n_children; k++)
        if (out->children[k]->release)
            out->children[k]->release(out->children[k]);
    struct array_node *node = out->private_data;
    tally_array *a = node->array;
    tally_pool_free(node->pool, (uint8_t *)node, node->bytes); /* pools are the caller's */
    tally_array_release(a);
    out->release = NULL;
}

int tally_c_export_array(tally_pool *pool, const tally_array *a, struct ArrowArray *out)
{
    int nb = a->n_buffers, nk = a->n_children;
    int64_t head = tally_align_ptr(sizeof(struct array_node));
    int64_t bufs = tally_align_ptr((int64_t)sizeof(const void *) * nb);
    int64_t kids = (int64_t)(sizeof(struct ArrowArray *) + sizeof(struct ArrowArray)) * nk;
    int64_t bytes = head + bufs + kids;
    uint8_t *block;
    int rc = tally_pool_allocate(pool, bytes, &block);
    if (rc != 0)
        return rc;
    struct array_node *node = (struct array_node *)block;
    node->pool = pool;
    node->bytes = bytes;
    const void **buffers = (const void **)(block + head);
    for (int k = 0; k < nb; k++)
        buffers[k] = a->buffers[k] ? tally_buffer_data(a->buffers[k]) : NULL;
    struct ArrowArray *structs = (struct ArrowArray *)(block + head + bufs);
    struct ArrowArray **ptrs = (struct ArrowArray **)(structs + nk);
    for (int k = 0; k < nk; k++) {
        ptrs[k] = &structs[k];
        rc = tally_c_export_array(pool, a->children[k], &structs[k]);
        if (rc != 0) {
            while (k-- > 0)
                structs[k].release(&structs[k]);
            tally_pool_free(pool, block, bytes);
            return rc;
        }
    }
    node->array = tally_array_retain((tally_array *)a);
    *out = (struct ArrowArray){
        .length = a->length,
        .null_count = a->null_count,
        .offset = a->offset,
        .n_buffers = nb,
        .n_children = nk,
        .buffers = buffers,
        .children = nk > 0 ? ptrs : NULL,
        .dictionary = NULL,
        .release = release_array_node,
        .private_data = node,
    };
    return 0;
}

int tally_array_export(const tally_array *a, struct ArrowArray *out_array,
                       struct ArrowSchema *out_schema)
{
    if (!a || !out_array || !out_schema)
        return EINVAL;
    struct ArrowSchema schema;
    const tally_datatype *t = a->dtype;
    int rc = tally_c_export_schema(a->pool, tally_type_format(t->id), "", ARROW_FLAG_NULLABLE, NULL,
                                   0, t->fields, t->n_fields, &schema);
    if (rc != 0)
        return rc;
    rc = tally_c_export_array(a->pool, a, out_array);
    if (rc != 0) {
        schema.release(&schema);
        return rc;
    }
    *out_schema = schema;
    return 0;
}
