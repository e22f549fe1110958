/* array_internal.h: the array struct, shared by the builders, the getters,
 * concatenation and the C Data Interface. */
#ifndef TALLY_ARRAY_INTERNAL_H
#define TALLY_ARRAY_INTERNAL_H

#include <tally/array.h>

#include <stdatomic.h>

#include "array/type_internal.h"
#include "buffer/buffer_internal.h"

#define TALLY_MAX_BUFFERS 3

/* One block from pool: the struct and its children vector. */
struct tally_array {
    _Atomic int64_t refcount;
    tally_pool *pool; /* the struct's */
    tally_type type;  /* dtype's id, kept here for the getters */
    int n_buffers;
    int64_t length;
    int64_t offset;
    int64_t null_count;
    tally_datatype *dtype;                    /* retained */
    tally_buffer *buffers[TALLY_MAX_BUFFERS]; /* [0] may be NULL: no nulls */
    int n_children;
    tally_array *children[]; /* retained */
};

/* A primitive array over buffers already checked; retains them. */
int tally_array_new(tally_pool *pool, tally_type type, int64_t length, int64_t offset,
                    int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                    tally_array **out);
/* Any array over buffers and children already checked; retains all of them. */
int tally_array_new_typed(tally_pool *pool, tally_datatype *dtype, int64_t length, int64_t offset,
                          int64_t null_count, tally_buffer *const *buffers, int n_buffers,
                          tally_array *const *children, int n_children, tally_array **out);
/* tally_array_slice with the new struct charged to pool. */
int tally_array_slice_in(const tally_array *a, int64_t offset, int64_t length, tally_pool *pool,
                         tally_array **out);

#endif
