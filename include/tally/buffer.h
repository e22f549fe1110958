/* tally/buffer.h: reference-counted buffers and a growable output stream.
 *
 * A buffer is a run of bytes with a reference count. Its control block and,
 * when it owns them, its bytes come from a pool, so the pool's books always
 * show what buffers hold. Views (slices, wrapped memory) share bytes instead
 * of copying them.
 *
 * Fallible calls return 0 or an errno value: EINVAL for bad arguments,
 * ENOMEM when the pool refuses, EBUSY when a change would pull memory out
 * from under another reference. */
#ifndef TALLY_BUFFER_H
#define TALLY_BUFFER_H

#include <tally/pool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tally_buffer tally_buffer;

/* ---- Making buffers ---------------------------------------------------------- */
/* Mutable and resizable. The capacity is size rounded up to 64; the bytes past
 * size are zero. The contents are not initialised. */
TALLY_API int tally_buffer_allocate(tally_pool *pool, int64_t size, tally_buffer **out);
/* An immutable buffer that owns a copy of data. */
TALLY_API int tally_buffer_copy_from(tally_pool *pool, const void *data, int64_t size,
                                     tally_buffer **out);
/* Zero-copy view of memory the caller owns. release(ctx) runs exactly once,
 * when the last reference goes; with release NULL the buffer owns nothing.
 * The control block is charged to the default pool. */
TALLY_API int tally_buffer_wrap(const void *data, int64_t size, void (*release)(void *ctx),
                                void *ctx, tally_buffer **out);
/* tally_buffer_wrap with the control block charged to pool. */
TALLY_API int tally_buffer_wrap_with_pool(tally_pool *pool, const void *data, int64_t size,
                                          void (*release)(void *ctx), void *ctx,
                                          tally_buffer **out);
/* Zero-copy and immutable; keeps parent alive. The range must lie inside the
 * parent (EINVAL otherwise). The control block is charged to the parent's pool. */
TALLY_API int tally_buffer_slice(tally_buffer *parent, int64_t offset, int64_t length,
                                 tally_buffer **out);
/* A new mutable buffer in pool with the same bytes. */
TALLY_API int tally_buffer_copy(const tally_buffer *src, tally_pool *pool, tally_buffer **out);

/* ---- References (atomic: any thread may retain or release) --------------------- */
TALLY_API tally_buffer *tally_buffer_retain(tally_buffer *buf); /* returns buf */
TALLY_API void tally_buffer_release(tally_buffer *buf);         /* NULL is ignored */

/* ---- Reading ------------------------------------------------------------------- */
TALLY_API const uint8_t *tally_buffer_data(const tally_buffer *buf);
TALLY_API uint8_t *tally_buffer_mutable_data(tally_buffer *buf); /* NULL when immutable */
TALLY_API int64_t tally_buffer_size(const tally_buffer *buf);
TALLY_API int64_t tally_buffer_capacity(const tally_buffer *buf);
TALLY_API bool tally_buffer_is_mutable(const tally_buffer *buf);
TALLY_API const tally_buffer *tally_buffer_parent(const tally_buffer *buf); /* slices only */
TALLY_API tally_pool *tally_buffer_pool(const tally_buffer *buf);
/* Same size and same bytes. */
TALLY_API bool tally_buffer_equals(const tally_buffer *a, const tally_buffer *b);

/* ---- Growing (allocated buffers only) -------------------------------------------- */
/* EINVAL on wrapped, sliced or immutable buffers; EBUSY while another reference
 * exists (a retain or a slice), so no view ever dangles. On failure the buffer
 * and its contents are unchanged. Bytes past size always read as zero. */
TALLY_API int tally_buffer_resize(tally_buffer *buf, int64_t new_size, bool shrink_to_fit);
TALLY_API int tally_buffer_reserve(tally_buffer *buf, int64_t capacity);

/* ---- BufferOutputStream ---------------------------------------------------------- */
typedef struct tally_stream tally_stream;
TALLY_API int tally_stream_new(tally_pool *pool, tally_stream **out);
/* Appends n bytes; on failure nothing is written. */
TALLY_API int tally_stream_write(tally_stream *s, const void *data, int64_t n);
TALLY_API int64_t tally_stream_tell(const tally_stream *s);
/* Hands over what was written as an immutable buffer, shrunk to fit. The
 * stream is empty and reusable after. */
TALLY_API int tally_stream_finish(tally_stream *s, tally_buffer **out);
TALLY_API void tally_stream_destroy(tally_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_BUFFER_H */
