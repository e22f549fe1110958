/* c_table.c: schemas and record batches through the C Data Interface, as a
 * struct array of their columns (the way Arrow C++ and pyarrow pass them). */
#include "array/c_internal.h"
#include "array/bitmap.h"

#include <errno.h>
#include <string.h>

int tally_schema_export(const tally_schema *s, struct ArrowSchema *out)
{
    if (!s || !out)
        return EINVAL;
    return tally_c_export_schema(s->pool, "+s", "", 0, s->metadata, s->n_metadata, s->fields,
                                 s->n_fields, out);
}

/* After tally_c_check_schema on a "+s" node: its children as a schema. */
static int schema_from(tally_pool *pool, const struct ArrowSchema *schema, tally_schema **out)
{
    int n = (int)schema->n_children;
    tally_field **fields;
    int rc = tally_c_import_children(pool, schema, &fields);
    if (rc != 0)
        return rc;
    tally_kv *md = NULL;
    int n_md = 0;
    int64_t md_bytes = 0;
    rc = tally_c_import_metadata(pool, schema->metadata, &md, &n_md, &md_bytes);
    if (rc == 0) {
        rc = tally_schema_new(pool, fields, n, md, n_md, out);
        if (md)
            tally_pool_free(pool, (uint8_t *)md, md_bytes);
    }
    tally_c_release_children(pool, fields, n, n);
    return rc;
}

static int check_top(const struct ArrowSchema *schema, tally_error *error)
{
    int rc = tally_c_check_schema(schema, 0, error);
    if (rc != 0)
        return rc;
    if (strcmp(schema->format, "+s") != 0)
        return tally_fail(error, "a schema travels as a struct (\"+s\"), not \"%s\"",
                          schema->format);
    return 0;
}

int tally_schema_import(tally_pool *pool, const struct ArrowSchema *schema, tally_error *error,
                        tally_schema **out)
{
    if (!schema || !out)
        return tally_fail(error, "missing argument");
    int rc = check_top(schema, error);
    if (rc != 0)
        return rc;
    return schema_from(tally_buffer_resolve_pool(pool), schema, out);
}

/* The top node of an exported batch: holds the batch; its children are the
 * columns' own nodes. One block: this, the buffer pointer, the child
 * pointers and structs. */
struct batch_node {
    tally_pool *pool;
    int64_t bytes;
    tally_record_batch *rb;
    const void *buffers[1]; /* no validity: a batch has no null rows */
};

static void release_batch(struct ArrowArray *out)
{
    if (!out || !out->release)
        return;
    for (int64_t k = 0; k < out->n_children; k++)
        if (out->children[k]->release)
            out->children[k]->release(out->children[k]);
    struct batch_node *node = out->private_data;
    tally_record_batch *rb = node->rb;
    tally_pool_free(node->pool, (uint8_t *)node, node->bytes);
    tally_record_batch_release(rb);
    out->release = NULL;
}

static int export_batch_array(const tally_record_batch *rb, struct ArrowArray *out)
{
    tally_pool *pool = rb->pool;
    int nk = rb->n_columns;
    int64_t head = tally_align_ptr(sizeof(struct batch_node));
    int64_t bytes = head + (int64_t)(sizeof(struct ArrowArray *) + sizeof(struct ArrowArray)) * nk;
    uint8_t *block;
    int rc = tally_pool_allocate(pool, bytes, &block);
    if (rc != 0)
        return rc;
    struct batch_node *node = (struct batch_node *)block;
    node->pool = pool;
    node->bytes = bytes;
    node->buffers[0] = NULL;
    struct ArrowArray *structs = (struct ArrowArray *)(block + head);
    struct ArrowArray **ptrs = (struct ArrowArray **)(structs + nk);
    for (int k = 0; k < nk; k++) {
        ptrs[k] = &structs[k];
        rc = tally_c_export_array(pool, rb->columns[k], &structs[k]);
        if (rc != 0) {
            while (k-- > 0)
                structs[k].release(&structs[k]);
            tally_pool_free(pool, block, bytes);
            return rc;
        }
    }
    node->rb = tally_record_batch_retain((tally_record_batch *)rb);
    *out = (struct ArrowArray){
        .length = rb->n_rows,
        .null_count = 0,
        .offset = 0,
        .n_buffers = 1,
        .n_children = nk,
        .buffers = node->buffers,
        .children = nk > 0 ? ptrs : NULL,
        .dictionary = NULL,
        .release = release_batch,
        .private_data = node,
    };
    return 0;
}

int tally_record_batch_export(const tally_record_batch *rb, struct ArrowArray *out_array,
                              struct ArrowSchema *out_schema)
{
    if (!rb || !out_array || !out_schema)
        return EINVAL;
    const tally_schema *s = rb->schema;
    struct ArrowSchema schema;
    int rc = tally_c_export_schema(rb->pool, "+s", "", 0, s->metadata, s->n_metadata, s->fields,
                                   s->n_fields, &schema);
    if (rc != 0)
        return rc;
    rc = export_batch_array(rb, out_array);
    if (rc != 0) {
        schema.release(&schema);
        return rc;
    }
    *out_schema = schema;
    return 0;
}

/* The imported struct array's members as columns (sliced by its offset). */
static int batch_from(tally_pool *pool, tally_schema *schema, const tally_array *top,
                      tally_error *error, tally_record_batch **out)
{
    int n = top->n_children, made = 0, rc = 0;
    tally_array *cols_small[8], **cols = cols_small;
    int64_t bytes = (int64_t)sizeof *cols * n;
    if (n > 8) {
        uint8_t *block;
        rc = tally_pool_allocate(pool, bytes, &block);
        if (rc != 0)
            return rc;
        cols = (tally_array **)block;
    }
    for (; made < n; made++) {
        rc = tally_array_slice_in(top->children[made], top->offset, top->length, pool, &cols[made]);
        if (rc != 0)
            break;
    }
    if (rc == 0)
        rc = tally_record_batch_make(pool, schema, top->length, cols, n, error, out);
    for (int k = 0; k < made; k++)
        tally_array_release(cols[k]);
    if (cols != cols_small)
        tally_pool_free(pool, (uint8_t *)cols, bytes);
    return rc;
}

/* The nulls among length elements of a checked node from bit start. */
static int64_t nulls_in(const struct ArrowArray *a, int64_t start, int64_t length)
{
    const uint8_t *validity = a->buffers[0];
    return validity ? length - tally_bits_count(validity, start, length) : 0;
}

int tally_record_batch_import(tally_pool *pool, struct ArrowArray *array,
                              struct ArrowSchema *schema, tally_error *error,
                              tally_record_batch **out)
{
    if (!array || !schema || !out)
        return tally_fail(error, "missing argument");
    int rc = check_top(schema, error);
    if (rc != 0)
        return rc;
    pool = tally_buffer_resolve_pool(pool);
    tally_schema *s;
    rc = schema_from(pool, schema, &s);
    if (rc != 0)
        return rc;
    tally_datatype *t;
    rc = tally_datatype_struct(pool, s->fields, s->n_fields, &t);
    if (rc != 0) {
        tally_schema_release(s);
        return rc;
    }
    rc = tally_c_check_array(array, t, 0, error);
    int64_t start = array->offset, length = array->length;
    if (rc == 0 && nulls_in(array, start, length) > 0)
        rc = tally_fail(error, "a record batch has no null rows; this struct array has %lld",
                        (long long)nulls_in(array, start, length));
    /* Before the move: a batch tally_record_batch_make would refuse (a
     * non-nullable field with nulls) must leave the array with its owner. */
    for (int k = 0; rc == 0 && k < s->n_fields; k++) {
        const struct ArrowArray *c = array->children[k];
        if (!s->fields[k]->nullable && nulls_in(c, c->offset + start, length) > 0)
            rc = tally_fail(error, "column %d (%s) is not nullable but holds nulls", k,
                            s->fields[k]->name);
    }
    tally_array *top = NULL;
    if (rc == 0)
        rc = tally_c_import_array(pool, array, t, &top);
    tally_datatype_release(t);
    if (rc == 0) {
        rc = batch_from(pool, s, top, error, out);
        tally_array_release(top);
    }
    tally_schema_release(s);
    if (rc == 0) {
        schema->release(schema);
        schema->release = NULL;
    }
    return rc;
}
