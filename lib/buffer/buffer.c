/* buffer.c: reference-counted buffers: making, sharing and releasing them. */
#include "buffer/buffer_internal.h"

#include <errno.h>
#include <string.h>

tally_pool *tally_buffer_resolve_pool(tally_pool *pool)
{
    return pool ? pool : tally_default_pool();
}

static int new_control_block(tally_pool *pool, tally_buffer **out)
{
    tally_buffer *buf;
    int rc = tally_pool_allocate(pool, sizeof *buf, (uint8_t **)&buf);
    if (rc != 0)
        return rc;
    memset(buf, 0, sizeof *buf);
    atomic_init(&buf->refcount, 1);
    buf->pool = pool;
    *out = buf;
    return 0;
}

int tally_buffer_adopt(tally_pool *pool, uint8_t *data, int64_t size, int64_t capacity,
                       bool is_mutable, tally_buffer **out)
{
    tally_buffer *buf;
    int rc = new_control_block(pool, &buf);
    if (rc != 0)
        return rc;
    buf->kind = BUFFER_OWNED;
    buf->data = data;
    buf->size = size;
    buf->capacity = capacity;
    buf->is_mutable = is_mutable;
    *out = buf;
    return 0;
}

void tally_buffer_disown(tally_buffer *buf)
{
    tally_pool_free(buf->pool, (uint8_t *)buf, sizeof *buf);
}

void tally_buffer_freeze(tally_buffer *buf)
{
    buf->is_mutable = false;
}

/* An owned block of size bytes, padding zeroed, not yet in a buffer. */
static int allocate_padded(tally_pool *pool, int64_t size, uint8_t **data, int64_t *capacity)
{
    if (!tally_round_up_64(size, capacity))
        return ENOMEM;
    int rc = tally_pool_allocate(pool, *capacity, data);
    if (rc != 0)
        return rc;
    memset(*data + size, 0, (size_t)(*capacity - size));
    return 0;
}

static int allocate_owned(tally_pool *pool, int64_t size, bool is_mutable, tally_buffer **out)
{
    uint8_t *data;
    int64_t capacity;
    int rc = allocate_padded(pool, size, &data, &capacity);
    if (rc != 0)
        return rc;
    rc = tally_buffer_adopt(pool, data, size, capacity, is_mutable, out);
    if (rc != 0)
        tally_pool_free(pool, data, capacity);
    return rc;
}

int tally_buffer_allocate(tally_pool *pool, int64_t size, tally_buffer **out)
{
    if (!out || size < 0)
        return EINVAL;
    return allocate_owned(tally_buffer_resolve_pool(pool), size, true, out);
}

int tally_buffer_copy_from(tally_pool *pool, const void *data, int64_t size, tally_buffer **out)
{
    if (!out || size < 0 || (!data && size > 0))
        return EINVAL;
    tally_buffer *buf;
    int rc = allocate_owned(tally_buffer_resolve_pool(pool), size, false, &buf);
    if (rc != 0)
        return rc;
    if (size > 0)
        memcpy(buf->data, data, (size_t)size);
    *out = buf;
    return 0;
}

int tally_buffer_copy(const tally_buffer *src, tally_pool *pool, tally_buffer **out)
{
    if (!src || !out)
        return EINVAL;
    tally_buffer *buf;
    int rc = allocate_owned(tally_buffer_resolve_pool(pool), src->size, true, &buf);
    if (rc != 0)
        return rc;
    if (src->size > 0)
        memcpy(buf->data, src->data, (size_t)src->size);
    *out = buf;
    return 0;
}

int tally_buffer_wrap_with_pool(tally_pool *pool, const void *data, int64_t size,
                                void (*release)(void *ctx), void *ctx, tally_buffer **out)
{
    if (!out || size < 0 || (!data && size > 0))
        return EINVAL;
    tally_buffer *buf;
    int rc = new_control_block(tally_buffer_resolve_pool(pool), &buf);
    if (rc != 0)
        return rc;
    buf->kind = BUFFER_WRAPPED;
    buf->data = (uint8_t *)data;
    buf->size = buf->capacity = size;
    buf->release = release;
    buf->ctx = ctx;
    *out = buf;
    return 0;
}

int tally_buffer_wrap(const void *data, int64_t size, void (*release)(void *ctx), void *ctx,
                      tally_buffer **out)
{
    return tally_buffer_wrap_with_pool(NULL, data, size, release, ctx, out);
}

int tally_buffer_slice(tally_buffer *parent, int64_t offset, int64_t length, tally_buffer **out)
{
    int64_t end;
    if (!parent || !out || offset < 0 || length < 0 ||
        __builtin_add_overflow(offset, length, &end) || end > parent->size)
        return EINVAL;
    tally_buffer *buf;
    int rc = new_control_block(parent->pool, &buf);
    if (rc != 0)
        return rc;
    buf->kind = BUFFER_SLICE;
    buf->data = parent->data + offset;
    buf->size = buf->capacity = length;
    buf->parent = tally_buffer_retain(parent);
    *out = buf;
    return 0;
}

tally_buffer *tally_buffer_retain(tally_buffer *buf)
{
    if (buf)
        atomic_fetch_add_explicit(&buf->refcount, 1, memory_order_relaxed);
    return buf;
}

void tally_buffer_release(tally_buffer *buf)
{
    /* A slice chain is walked, not recursed, so that no depth of slices can
     * exhaust the stack. */
    while (buf) {
        /* acq_rel: the last owner must see every write the others made. */
        if (atomic_fetch_sub_explicit(&buf->refcount, 1, memory_order_acq_rel) != 1)
            return;
        tally_buffer *parent = buf->parent;
        if (buf->kind == BUFFER_OWNED)
            tally_pool_free(buf->pool, buf->data, buf->capacity);
        else if (buf->kind == BUFFER_WRAPPED && buf->release)
            buf->release(buf->ctx);
        tally_pool_free(buf->pool, (uint8_t *)buf, sizeof *buf);
        buf = parent;
    }
}

const uint8_t *tally_buffer_data(const tally_buffer *buf)
{
    return buf ? buf->data : NULL;
}

uint8_t *tally_buffer_mutable_data(tally_buffer *buf)
{
    return buf && buf->is_mutable ? buf->data : NULL;
}

int64_t tally_buffer_size(const tally_buffer *buf)
{
    return buf ? buf->size : 0;
}

int64_t tally_buffer_capacity(const tally_buffer *buf)
{
    return buf ? buf->capacity : 0;
}

bool tally_buffer_is_mutable(const tally_buffer *buf)
{
    return buf && buf->is_mutable;
}

const tally_buffer *tally_buffer_parent(const tally_buffer *buf)
{
    return buf ? buf->parent : NULL;
}

tally_pool *tally_buffer_pool(const tally_buffer *buf)
{
    return buf ? buf->pool : NULL;
}

bool tally_buffer_equals(const tally_buffer *a, const tally_buffer *b)
{
    if (!a || !b)
        return a == b;
    if (a->size != b->size)
        return false;
    return a->data == b->data || a->size == 0 || memcmp(a->data, b->data, (size_t)a->size) == 0;
}
