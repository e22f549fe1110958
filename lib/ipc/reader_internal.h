/* reader_internal.h: the reader's state, shared by its sources (bytes in
 * memory or mapped: reader.c, mapping.c; a descriptor: fd_reader.c). */
#ifndef TALLY_IPC_READER_INTERNAL_H
#define TALLY_IPC_READER_INTERNAL_H

#include "ipc/ipc_internal.h"

struct tally_ipc_reader {
    tally_pool *pool;
    tally_schema *schema;
    tally_ipc_format format;
    /* In memory: the bytes (retained), where the next message is, where
     * messages must end (a file's footer), whether the end was met. */
    tally_buffer *data;
    int64_t pos, limit;
    bool done;
    /* A file: its footer, whose Block vector points into data. */
    ipc_fb_buf footer;
    ipc_fb_vector blocks;
    int64_t next_batch;
    /* A mapping (NULL when none): its bytes are data's. */
    const uint8_t *map;
    int64_t map_size;
    tally_pool *map_pool;
    /* A descriptor read with read(2); -1 when none. Its first bytes were
     * read to tell a file from a stream: peek_pos of peek_len are used. */
    int fd;
    uint8_t peek[8];
    int peek_len, peek_pos;
};

int ipc_reader_new(tally_pool *pool, tally_ipc_reader **out, tally_error *error);
/* Opens r->data as a file or a stream. */
int ipc_reader_open_bytes(tally_ipc_reader *r, tally_error *error);
int ipc_fd_next(tally_ipc_reader *r, tally_record_batch **out, tally_error *error);
void ipc_fd_free(tally_ipc_reader *r);

#endif
