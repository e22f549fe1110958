/* buffer_internal.h: the buffer control block, shared with the builders,
 * streams and arrays that hand memory to buffers. */
#ifndef TALLY_BUFFER_BUFFER_INTERNAL_H
#define TALLY_BUFFER_BUFFER_INTERNAL_H

#include <tally/buffer.h>

#include <stdatomic.h>

typedef enum {
    BUFFER_OWNED,   /* data allocated from pool; freed with capacity */
    BUFFER_WRAPPED, /* someone else's memory; release(ctx) at the end */
    BUFFER_SLICE,   /* a window on parent, which it keeps alive */
} buffer_kind;

struct tally_buffer {
    _Atomic int64_t refcount;
    tally_pool *pool; /* the control block's, and the data's when owned; never NULL */
    uint8_t *data;
    int64_t size;
    int64_t capacity; /* allocated bytes when owned, else size */
    buffer_kind kind;
    bool is_mutable;
    tally_buffer *parent;
    void (*release)(void *ctx);
    void *ctx;
};

/* Rounds up to a multiple of 64; false on overflow. */
static inline bool tally_round_up_64(int64_t n, int64_t *out)
{
    if (n < 0 || __builtin_add_overflow(n, 63, out))
        return false;
    *out &= ~(int64_t)63;
    return true;
}

/* A buffer that takes over data, allocated from pool with capacity bytes (the
 * padding past size already zeroed). On failure nothing is taken. */
int tally_buffer_adopt(tally_pool *pool, uint8_t *data, int64_t size, int64_t capacity,
                       bool is_mutable, tally_buffer **out);
/* Undoes a successful adopt while buf has no other reference: frees the control
 * block only; the data stays with whoever adopted it out. */
void tally_buffer_disown(tally_buffer *buf);
/* From here on the buffer refuses to change. */
void tally_buffer_freeze(tally_buffer *buf);
/* A pool argument made concrete: NULL is the default pool at that moment, and
 * stays the same pool whatever the default later becomes. */
tally_pool *tally_buffer_resolve_pool(tally_pool *pool);

#endif
