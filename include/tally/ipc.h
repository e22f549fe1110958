/* tally/ipc.h: Arrow IPC, the stream and file formats, written and read.
 *
 * The writer sends a schema and record batches to a file descriptor or to
 * memory; the reader takes them back from a file descriptor (read(2), for
 * streams and pipes), from memory, or from a file mapped with mmap. From
 * memory and from a mapping nothing is copied: the arrays' buffers point
 * into the bytes given, which live until the last buffer using them is
 * released. Buffers are written on 64 bytes; metadata is Arrow's flatbuffer
 * Message (version 5), so pyarrow, arrow-js and DuckDB read what tally
 * writes, and tally reads theirs (no dictionaries, no compression).
 *
 * Every byte these calls use comes from the pool passed in: metadata,
 * scratch space, control blocks. A mapping is booked to that pool too, while
 * it lives, on a child pool named "ipc mmap" (tally_ipc_reader_mapping_pool)
 * so the books say which bytes are a file's. (The pool statistics only:
 * tracking records no block for a mapping, whose bytes it may not touch.)
 *
 * Fallible calls return 0 or an errno value; bad input (truncated, corrupt,
 * hostile) is EINVAL, what tally does not support (dictionaries, compressed
 * bodies, Arrow types tally has not) ENOTSUP, a refusing pool ENOMEM, each
 * with a sentence in *error when error is not NULL. Nothing is left
 * allocated after a failure. */
#ifndef TALLY_IPC_H
#define TALLY_IPC_H

#include <tally/table.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TALLY_IPC_STREAM, /* messages then an end marker: for pipes and sockets */
    TALLY_IPC_FILE    /* "ARROW1", the stream, a footer: random access, mmap */
} tally_ipc_format;

/* ---- Writing ------------------------------------------------------------------------- */
typedef struct tally_ipc_writer tally_ipc_writer;

/* Writes to fd from its current position (the descriptor stays the caller's).
 * The schema goes out at once. */
TALLY_API int tally_ipc_writer_open_fd(tally_pool *pool, int fd, tally_schema *schema,
                                       tally_ipc_format format, tally_error *error,
                                       tally_ipc_writer **out);
/* Writes to memory; tally_ipc_writer_finish hands the bytes over. */
TALLY_API int tally_ipc_writer_open_memory(tally_pool *pool, tally_schema *schema,
                                           tally_ipc_format format, tally_error *error,
                                           tally_ipc_writer **out);
/* The batch's schema must equal the writer's. A sliced batch is written as
 * its rows alone (bitmaps re-aligned, offsets rebased). */
TALLY_API int tally_ipc_writer_write(tally_ipc_writer *w, const tally_record_batch *rb,
                                     tally_error *error);
/* Ends the stream (and writes a file's footer). For a memory writer, *out
 * gets the bytes (in the writer's pool); pass NULL for a descriptor. */
TALLY_API int tally_ipc_writer_finish(tally_ipc_writer *w, tally_buffer **out, tally_error *error);
/* Frees the writer, finished or not. NULL is ignored. */
TALLY_API void tally_ipc_writer_destroy(tally_ipc_writer *w);

/* ---- Reading ------------------------------------------------------------------------- */
typedef struct tally_ipc_reader tally_ipc_reader;

/* A stream or a file in memory (which it retains): batches are slices of it. */
TALLY_API int tally_ipc_reader_open_buffer(tally_pool *pool, tally_buffer *data, tally_error *error,
                                           tally_ipc_reader **out);
/* From fd with read(2): a stream as batches are asked for, each body read
 * into one buffer of the pool (pipes and sockets too); a file (known by its
 * magic) read whole into one buffer first, since its footer is at its end. */
TALLY_API int tally_ipc_reader_open_fd(tally_pool *pool, int fd, tally_error *error,
                                       tally_ipc_reader **out);
/* The whole of fd (a file or a memfd holding a stream or a file) mapped
 * read-only and read in place. fd may be closed after. */
TALLY_API int tally_ipc_reader_map_fd(tally_pool *pool, int fd, tally_error *error,
                                      tally_ipc_reader **out);
TALLY_API int tally_ipc_reader_map_file(tally_pool *pool, const char *path, tally_error *error,
                                        tally_ipc_reader **out);

TALLY_API tally_schema *tally_ipc_reader_schema(const tally_ipc_reader *r); /* borrowed */
TALLY_API tally_ipc_format tally_ipc_reader_format(const tally_ipc_reader *r);
/* The next batch, or *out NULL at the end. */
TALLY_API int tally_ipc_reader_next(tally_ipc_reader *r, tally_record_batch **out,
                                    tally_error *error);
/* Files only: the number of batches, -1 for a stream. */
TALLY_API int64_t tally_ipc_reader_n_batches(const tally_ipc_reader *r);
/* Files only: batch i (EINVAL out of range or for a stream). */
TALLY_API int tally_ipc_reader_batch(tally_ipc_reader *r, int64_t i, tally_record_batch **out,
                                     tally_error *error);
/* The mapping's bytes and where they lie, for a mapped reader (else NULL, 0). */
TALLY_API const uint8_t *tally_ipc_reader_mapping(const tally_ipc_reader *r, int64_t *size);
/* The pool the mapping is booked to, a child of the reader's ("ipc mmap"),
 * NULL when not mapped. It lives as long as the mapping. */
TALLY_API tally_pool *tally_ipc_reader_mapping_pool(const tally_ipc_reader *r);
/* Batches already read stay valid (the bytes they use live on). NULL is ignored. */
TALLY_API void tally_ipc_reader_destroy(tally_ipc_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_IPC_H */
