/* builder_internal.h: the builder struct, shared by its lifecycle
 * (builder.c) and its appends (builder_append.c). */
#ifndef TALLY_ARRAY_BUILDER_INTERNAL_H
#define TALLY_ARRAY_BUILDER_INTERNAL_H

#include <tally/array.h>

#define TALLY_BUILDER_MIN_CAPACITY 32

/* Each block is a raw pool allocation of *_bytes bytes (NULL while 0), so the
 * hot path touches no control block; they become buffers only at finish.
 * A list builder's values block holds its int32 offsets (as a string's); a
 * struct builder has no values block, only validity and its children. */
struct tally_builder {
    struct tally_builder_head head; /* values, length, int64_room: must come first */
    tally_type type;
    int width; /* bytes per value slot; 0 for bool (bits), 4 (an offset) for string/binary */
    tally_pool *pool;
    int64_t capacity; /* value slots */
    int64_t null_count;
    int64_t values_bytes;
    uint8_t *validity; /* NULL until the first null: no bitmap work while there is none */
    int64_t validity_bytes;
    uint8_t *data; /* string and binary bytes */
    int64_t data_bytes;
    int64_t data_length;
    tally_datatype *dtype; /* retained (static for the primitive ids) */
    int n_children;
    tally_builder **children; /* list: 1, struct: one per member; owned */
};

/* Room for min_capacity value slots, doubling from 32. On failure nothing that
 * was appended is lost. */
int tally_builder_grow(tally_builder *b, int64_t min_capacity);
/* Room for n more slots, with the overflow check. */
int tally_builder_make_room(tally_builder *b, int64_t n);
/* Allocates the validity bitmap on the first null, every earlier value valid. */
int tally_builder_track_nulls(tally_builder *b);
/* Room for min_bytes of string or binary data. */
int tally_builder_grow_data(tally_builder *b, int64_t min_bytes);
/* Keeps the inline fast path's view of the builder up to date. */
void tally_builder_update_room(tally_builder *b);
/* Drops the elements from length on (children's too, for a struct), keeping
 * every invariant: bits past length clear, null count exact. For undoing a
 * half-done nested append. */
void tally_builder_truncate(tally_builder *b, int64_t length);
/* The i-th offset of a list, string or binary builder. */
int32_t tally_builder_offset(const tally_builder *b, int64_t i);
void tally_builder_set_offset(tally_builder *b, int64_t i, int64_t value);

#endif
