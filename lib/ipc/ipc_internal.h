/* ipc_internal.h: what the IPC reader and writer files share. */
#ifndef TALLY_IPC_INTERNAL_H
#define TALLY_IPC_INTERNAL_H

#include <sys/uio.h>
#include <tally/ipc.h>

#include "ipc/flatbuf_read.h"
#include "ipc/flatbuf_write.h"
#include "ipc/format.h"

/* Fills error (when not NULL) with a sentence and returns rc. Formatting
 * with vsnprintf into the caller's struct allocates nothing. */
int ipc_fail(tally_error *error, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Output: a file descriptor or a memory stream ------------------------------- */
typedef struct ipc_sink {
    int fd;               /* -1 when writing to stream */
    tally_stream *stream; /* NULL when writing to fd */
    int64_t pos;          /* bytes written so far */
} ipc_sink;

/* Writes every byte of the pieces, or fails with an errno value (a short
 * write is retried; EINTR too). */
int ipc_sink_writev(ipc_sink *s, struct iovec *iov, int n, tally_error *error);

/* Zero bytes for padding: at most IPC_ALIGN are ever needed at once. */
extern const uint8_t ipc_zeros[IPC_ALIGN];

/* ---- Messages -------------------------------------------------------------------- */
/* A message's encoded parts: its flatbuffer and its body's pieces. */
typedef struct ipc_body {
    tally_pool *pool;
    struct iovec *iov; /* body pieces, padding included */
    int n_iov, cap_iov;
    int64_t length; /* the body's length, padding included */
    /* The metadata's Buffer and FieldNode structs (int64 pairs). */
    int64_t *buffers;
    int n_buffers, cap_buffers;
    int64_t *nodes;
    int n_nodes, cap_nodes;
    /* Scratch made for re-aligned bitmaps and rebased offsets, freed after. */
    struct ipc_scratch {
        uint8_t *data;
        int64_t size;
    } * scratch;
    int n_scratch, cap_scratch;
} ipc_body;

void ipc_body_init(ipc_body *b, tally_pool *pool);
void ipc_body_free(ipc_body *b);
/* Adds a batch's columns: nodes, buffers and pieces, pre-order. */
int ipc_body_add_batch(ipc_body *b, const tally_record_batch *rb, tally_error *error);

/* Flatbuffers of whole messages (and the footer's schema). */
int ipc_encode_schema_message(ipc_fbw *w, const tally_schema *schema, tally_error *error);
int ipc_encode_batch_message(ipc_fbw *w, int64_t n_rows, const ipc_body *body, tally_error *error);
/* The Schema table, its root slot already written by the caller at slot. */
void ipc_encode_schema(ipc_fbw *w, uint32_t slot, const tally_schema *schema);

/* Frames and writes one message: prefix, metadata padded so that the body
 * starts on IPC_ALIGN in the output, the body. *meta_len is the prefix and
 * padded metadata, as a file's Block counts it. */
int ipc_write_message(ipc_sink *s, const ipc_fbw *meta, const ipc_body *body, int32_t *meta_len,
                      tally_error *error);

/* ---- Input ----------------------------------------------------------------------- */
/* The decoded schema of a Schema table. */
int ipc_decode_schema(tally_pool *pool, const ipc_fb_table *schema, tally_schema **out,
                      tally_error *error);
/* A record batch from a RecordBatch table and its body (sliced, not copied). */
int ipc_decode_batch(tally_pool *pool, tally_schema *schema, const ipc_fb_table *batch,
                     tally_buffer *body, tally_record_batch **out, tally_error *error);

/* The Message table of a metadata flatbuffer, checked. */
typedef struct ipc_message {
    ipc_fb_buf fb;
    ipc_fb_table msg, header;
    uint8_t header_type;
    int64_t body_length;
} ipc_message;
int ipc_open_message(ipc_message *m, const uint8_t *data, int64_t len, tally_error *error);

#endif
