/* stream.c: BufferOutputStream: appends into a buffer that doubles as it
 * grows, and hands it over on finish. */
#include "buffer/buffer_internal.h"

#include <errno.h>
#include <string.h>

#define STREAM_MIN_CAPACITY 256

struct tally_stream {
    tally_pool *pool;
    tally_buffer *buf; /* NULL until the first write after new or finish */
};

int tally_stream_new(tally_pool *pool, tally_stream **out)
{
    if (!out)
        return EINVAL;
    pool = tally_buffer_resolve_pool(pool);
    tally_stream *s;
    int rc = tally_pool_allocate(pool, sizeof *s, (uint8_t **)&s);
    if (rc != 0)
        return rc;
    s->pool = pool;
    s->buf = NULL;
    *out = s;
    return 0;
}

/* Doubling keeps a long run of small writes linear overall. */
static int make_room(tally_stream *s, int64_t needed)
{
    if (!s->buf) {
        int64_t first = needed > STREAM_MIN_CAPACITY ? needed : STREAM_MIN_CAPACITY;
        /* Empty then reserved, so that the padding past what is written is zero. */
        tally_buffer *buf;
        int rc = tally_buffer_allocate(s->pool, 0, &buf);
        if (rc == 0 && (rc = tally_buffer_reserve(buf, first)) != 0)
            tally_buffer_release(buf);
        if (rc == 0)
            s->buf = buf;
        return rc;
    }
    int64_t capacity = tally_buffer_capacity(s->buf);
    if (needed <= capacity)
        return 0;
    int64_t doubled = capacity > INT64_MAX / 2 ? INT64_MAX : capacity * 2;
    return tally_buffer_reserve(s->buf, needed > doubled ? needed : doubled);
}

int tally_stream_write(tally_stream *s, const void *data, int64_t n)
{
    if (!s || n < 0 || (!data && n > 0))
        return EINVAL;
    int64_t pos = tally_stream_tell(s), end;
    if (__builtin_add_overflow(pos, n, &end))
        return ENOMEM;
    int rc = make_room(s, end);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(s->buf->data + pos, data, (size_t)n);
    s->buf->size = end;
    return 0;
}

int64_t tally_stream_tell(const tally_stream *s)
{
    return s && s->buf ? s->buf->size : 0;
}

int tally_stream_finish(tally_stream *s, tally_buffer **out)
{
    if (!s || !out)
        return EINVAL;
    if (!s->buf) {
        int rc = tally_buffer_allocate(s->pool, 0, &s->buf);
        if (rc != 0)
            return rc;
    }
    (void)tally_buffer_resize(s->buf, s->buf->size, true);
    tally_buffer_freeze(s->buf);
    *out = s->buf;
    s->buf = NULL;
    return 0;
}

void tally_stream_destroy(tally_stream *s)
{
    if (!s)
        return;
    tally_buffer_release(s->buf);
    tally_pool_free(s->pool, (uint8_t *)s, sizeof *s);
}
