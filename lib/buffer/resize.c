/* resize.c: growing and shrinking an allocated buffer in place.
 *
 * Reallocation may move the bytes, so it is refused while anyone else could
 * be looking at them. The zeroed padding past size is kept up through every
 * change, so a buffer handed to Arrow never exposes stale bytes. */
#include "buffer/buffer_internal.h"

#include <errno.h>
#include <string.h>

static int check_resizable(const tally_buffer *buf)
{
    if (!buf || buf->kind != BUFFER_OWNED || !buf->is_mutable)
        return EINVAL;
    /* A slice holds a reference on its parent, so this covers slices too. */
    if (atomic_load_explicit(&buf->refcount, memory_order_acquire) > 1)
        return EBUSY;
    return 0;
}

/* Moves the block to new_capacity bytes; zeroes what it gains. On failure the
 * old block, and so the contents, are untouched (tally_pool_reallocate's rule). */
static int move_to_capacity(tally_buffer *buf, int64_t new_capacity)
{
    uint8_t *data = buf->data;
    int rc = tally_pool_reallocate(buf->pool, buf->capacity, new_capacity, &data);
    if (rc != 0)
        return rc;
    if (new_capacity > buf->capacity)
        memset(data + buf->capacity, 0, (size_t)(new_capacity - buf->capacity));
    buf->data = data;
    buf->capacity = new_capacity;
    return 0;
}

int tally_buffer_reserve(tally_buffer *buf, int64_t capacity)
{
    if (capacity < 0)
        return EINVAL;
    int rc = check_resizable(buf);
    if (rc != 0 || capacity <= buf->capacity)
        return rc;
    int64_t rounded;
    if (!tally_round_up_64(capacity, &rounded))
        return ENOMEM;
    return move_to_capacity(buf, rounded);
}

int tally_buffer_resize(tally_buffer *buf, int64_t new_size, bool shrink_to_fit)
{
    if (new_size < 0)
        return EINVAL;
    int rc = check_resizable(buf);
    if (rc != 0)
        return rc;
    if (new_size > buf->capacity) {
        rc = tally_buffer_reserve(buf, new_size);
        if (rc != 0)
            return rc;
    } else if (new_size < buf->size) {
        memset(buf->data + new_size, 0, (size_t)(buf->size - new_size));
    }
    buf->size = new_size;
    int64_t fitted;
    if (shrink_to_fit && tally_round_up_64(new_size, &fitted) && fitted < buf->capacity)
        (void)move_to_capacity(buf, fitted); /* a refused shrink only wastes space */
    return 0;
}
