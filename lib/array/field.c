/* field.c: fields: a name, a data type, nullability and metadata, in one
 * block from the pool. */
#include "array/type_internal.h"

#include <errno.h>
#include <string.h>

#include "buffer/buffer_internal.h"

int tally_field_new(tally_pool *pool, const char *name, tally_datatype *type, bool nullable,
                    const tally_kv *metadata, int n_metadata, tally_field **out)
{
    int64_t kv_bytes, head = tally_align_ptr(sizeof(struct tally_field)), bytes;
    if (!out || !name || !type || !tally_kv_bytes(metadata, n_metadata, &kv_bytes))
        return EINVAL;
    int64_t name_bytes = (int64_t)strlen(name) + 1;
    if (__builtin_add_overflow(head + kv_bytes, name_bytes, &bytes))
        return EINVAL;
    pool = tally_buffer_resolve_pool(pool);
    uint8_t *block;
    int rc = tally_pool_allocate(pool, bytes, &block);
    if (rc != 0)
        return rc;
    tally_field *f = (tally_field *)block;
    atomic_init(&f->refcount, 1);
    f->pool = pool;
    f->bytes = bytes;
    f->type = tally_datatype_retain(type);
    f->nullable = nullable;
    f->n_metadata = n_metadata;
    f->metadata = tally_kv_copy(metadata, n_metadata, block + head);
    char *name_copy = (char *)block + head + kv_bytes;
    memcpy(name_copy, name, (size_t)name_bytes);
    f->name = name_copy;
    *out = f;
    return 0;
}

tally_field *tally_field_retain(tally_field *f)
{
    if (f)
        atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
    return f;
}

void tally_field_release(tally_field *f)
{
    if (!f || atomic_fetch_sub_explicit(&f->refcount, 1, memory_order_acq_rel) != 1)
        return;
    tally_datatype_release(f->type);
    tally_pool_free(f->pool, (uint8_t *)f, f->bytes);
}

const char *tally_field_name(const tally_field *f)
{
    return f ? f->name : NULL;
}

tally_datatype *tally_field_type(const tally_field *f)
{
    return f ? f->type : NULL;
}

bool tally_field_nullable(const tally_field *f)
{
    return f && f->nullable;
}

int tally_field_n_metadata(const tally_field *f)
{
    return f ? f->n_metadata : 0;
}

const tally_kv *tally_field_metadata(const tally_field *f, int k)
{
    return f && k >= 0 && k < f->n_metadata ? &f->metadata[k] : NULL;
}

bool tally_field_equals(const tally_field *a, const tally_field *b, bool check_metadata)
{
    if (a == b)
        return true;
    if (!a || !b || a->nullable != b->nullable || strcmp(a->name, b->name) != 0 ||
        !tally_datatype_equals(a->type, b->type))
        return false;
    return !check_metadata ||
           tally_kv_equals(a->metadata, a->n_metadata, b->metadata, b->n_metadata);
}
