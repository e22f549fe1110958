/* schema.c: schemas: fields and metadata, in one block from the pool. */
#include "array/type_internal.h"

#include <errno.h>
#include <string.h>

#include "buffer/buffer_internal.h"

int tally_schema_new(tally_pool *pool, tally_field *const *fields, int n_fields,
                     const tally_kv *metadata, int n_metadata, tally_schema **out)
{
    int64_t kv_bytes, head = tally_align_ptr(sizeof(struct tally_schema)), bytes;
    if (!out || n_fields < 0 || (n_fields > 0 && !fields) ||
        !tally_kv_bytes(metadata, n_metadata, &kv_bytes))
        return EINVAL;
    for (int k = 0; k < n_fields; k++)
        if (!fields[k])
            return EINVAL;
    int64_t vector = tally_align_ptr((int64_t)sizeof(tally_field *) * n_fields);
    if (__builtin_add_overflow(head + vector, kv_bytes, &bytes))
        return EINVAL;
    pool = tally_buffer_resolve_pool(pool);
    uint8_t *block;
    int rc = tally_pool_allocate(pool, bytes, &block);
    if (rc != 0)
        return rc;
    tally_schema *s = (tally_schema *)block;
    atomic_init(&s->refcount, 1);
    s->pool = pool;
    s->bytes = bytes;
    s->n_fields = n_fields;
    s->fields = (tally_field **)(block + head);
    for (int k = 0; k < n_fields; k++)
        s->fields[k] = tally_field_retain(fields[k]);
    s->n_metadata = n_metadata;
    s->metadata = tally_kv_copy(metadata, n_metadata, block + head + vector);
    *out = s;
    return 0;
}

tally_schema *tally_schema_retain(tally_schema *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed);
    return s;
}

void tally_schema_release(tally_schema *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1)
        return;
    for (int k = 0; k < s->n_fields; k++)
        tally_field_release(s->fields[k]);
    tally_pool_free(s->pool, (uint8_t *)s, s->bytes);
}

int tally_schema_n_fields(const tally_schema *s)
{
    return s ? s->n_fields : 0;
}

tally_field *tally_schema_field(const tally_schema *s, int k)
{
    return s && k >= 0 && k < s->n_fields ? s->fields[k] : NULL;
}

int tally_schema_field_index(const tally_schema *s, const char *name)
{
    if (!s || !name)
        return -1;
    for (int k = 0; k < s->n_fields; k++)
        if (strcmp(s->fields[k]->name, name) == 0)
            return k;
    return -1;
}

int tally_schema_n_metadata(const tally_schema *s)
{
    return s ? s->n_metadata : 0;
}

const tally_kv *tally_schema_metadata(const tally_schema *s, int k)
{
    return s && k >= 0 && k < s->n_metadata ? &s->metadata[k] : NULL;
}

bool tally_schema_equals(const tally_schema *a, const tally_schema *b, bool check_metadata)
{
    if (a == b)
        return true;
    if (!a || !b || a->n_fields != b->n_fields)
        return false;
    for (int k = 0; k < a->n_fields; k++)
        if (!tally_field_equals(a->fields[k], b->fields[k], check_metadata))
            return false;
    return !check_metadata ||
           tally_kv_equals(a->metadata, a->n_metadata, b->metadata, b->n_metadata);
}
