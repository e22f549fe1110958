/* c_export.c: handing an array to another Arrow runtime without a copy.
 *
 * The exported ArrowArray holds its own reference on the tally array, so the
 * buffers live until the consumer releases it, whoever else lets go first. */
#include <tally/c_data.h>

#include "array/array_internal.h"
#include "array/layout.h"

#include <errno.h>

struct export_private {
    tally_array *array;
    const void *buffers[TALLY_MAX_BUFFERS];
};

static void release_array(struct ArrowArray *out)
{
    if (!out || !out->release)
        return;
    struct export_private *p = out->private_data;
    tally_array *a = p->array;
    tally_pool *pool = a->pool; /* outlives the array: pools are the caller's */
    tally_pool_free(pool, (uint8_t *)p, sizeof *p);
    tally_array_release(a);
    out->release = NULL;
}

/* Format and name are string literals: there is nothing to free. */
static void release_schema(struct ArrowSchema *schema)
{
    if (schema)
        schema->release = NULL;
}

int tally_array_export(const tally_array *a, struct ArrowArray *out_array,
                       struct ArrowSchema *out_schema)
{
    if (!a || !out_array || !out_schema)
        return EINVAL;
    struct export_private *p;
    int rc = tally_pool_allocate(a->pool, sizeof *p, (uint8_t **)&p);
    if (rc != 0)
        return rc;
    p->array = tally_array_retain((tally_array *)a);
    for (int k = 0; k < a->n_buffers; k++)
        p->buffers[k] = a->buffers[k] ? tally_buffer_data(a->buffers[k]) : NULL;

    *out_array = (struct ArrowArray){
        .length = a->length,
        .null_count = a->null_count,
        .offset = a->offset,
        .n_buffers = a->n_buffers,
        .n_children = 0,
        .buffers = p->buffers,
        .children = NULL,
        .dictionary = NULL,
        .release = release_array,
        .private_data = p,
    };
    *out_schema = (struct ArrowSchema){
        .format = tally_type_format(a->type),
        .name = "",
        .metadata = NULL,
        .flags = ARROW_FLAG_NULLABLE,
        .n_children = 0,
        .children = NULL,
        .dictionary = NULL,
        .release = release_schema,
        .private_data = NULL,
    };
    return 0;
}
