/* array_internal.h: the array struct, shared by the builders, the getters and
 * the C Data Interface. */
#ifndef TALLY_ARRAY_INTERNAL_H
#define TALLY_ARRAY_INTERNAL_H

#include <tally/array.h>

#include <stdatomic.h>

#include "buffer/buffer_internal.h"

#define TALLY_MAX_BUFFERS 3

struct tally_array {
    _Atomic int64_t refcount;
    tally_pool *pool; /* the struct's */
    tally_type type;
    int n_buffers;
    int64_t length;
    int64_t offset;
    int64_t null_count;
    tally_buffer *buffers[TALLY_MAX_BUFFERS]; /* [0] may be NULL: no nulls */
};

/* An array over buffers already checked; retains them. */
int tally_array_new(tally_pool *pool, tally_type type, int64_t length, int64_t offset,
                    int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                    tally_array **out);

#endif
