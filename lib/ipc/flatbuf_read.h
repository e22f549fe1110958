/* flatbuf_read.h: a verifier-first reader of flatbuffers, for Arrow's metadata.
 *
 * Written from the flatbuffers binary format: a buffer starts with a 32-bit
 * offset to its root table; a table starts with a signed 32-bit distance
 * back to its vtable; a vtable is two 16-bit sizes (its own, the table's
 * inline part) and one 16-bit offset per field (0: absent, the default
 * applies); offsets to tables, vectors and strings are unsigned 32-bit,
 * relative to where they are stored; a vector or string is a 32-bit count
 * followed by its elements (a string adds a NUL).
 *
 * Nothing here trusts the bytes: every position is checked against the
 * buffer before it is read, and every failure is EINVAL. Reads go through
 * memcpy, so alignment never matters. Each table visit is charged to a
 * budget the caller sets from the buffer's size, so a hostile buffer whose
 * tables share children cannot make the work grow faster than its size. */
#ifndef TALLY_IPC_FLATBUF_READ_H
#define TALLY_IPC_FLATBUF_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ipc_fb_buf {
    const uint8_t *data;
    uint32_t len;
    int64_t budget; /* table visits left */
} ipc_fb_buf;

typedef struct ipc_fb_table {
    ipc_fb_buf *buf;
    uint32_t pos;    /* of the table */
    uint32_t vtable; /* position of its vtable */
    uint16_t n_fields;
    uint16_t size; /* the table's inline size */
} ipc_fb_table;

typedef struct ipc_fb_vector {
    ipc_fb_buf *buf;
    uint32_t pos; /* of the first element */
    uint32_t count;
} ipc_fb_vector;

/* The buffer's root table. len must be below 2 GiB. */
int ipc_fb_root(ipc_fb_buf *buf, const uint8_t *data, size_t len, int64_t budget,
                ipc_fb_table *out);

/* Scalars: the field's value, or def when it is absent. */
int ipc_fb_u8(const ipc_fb_table *t, int field, uint8_t def, uint8_t *out);
int ipc_fb_i16(const ipc_fb_table *t, int field, int16_t def, int16_t *out);
int ipc_fb_i32(const ipc_fb_table *t, int field, int32_t def, int32_t *out);
int ipc_fb_i64(const ipc_fb_table *t, int field, int64_t def, int64_t *out);

/* Offsets: *present false (and 0) when the field is absent. */
int ipc_fb_table_field(const ipc_fb_table *t, int field, ipc_fb_table *out, bool *present);
/* A vector of elem_size-byte inline elements (scalars or structs), or of
 * offsets (elem_size 4, read with ipc_fb_vector_table / _string). An absent
 * vector is an empty one. */
int ipc_fb_vector_field(const ipc_fb_table *t, int field, uint32_t elem_size, ipc_fb_vector *out);
/* NULL and 0 when absent. The bytes are not NUL-checked beyond the stored
 * terminator: use the length. */
int ipc_fb_string_field(const ipc_fb_table *t, int field, const char **s, uint32_t *len);

/* Elements of vectors. */
int ipc_fb_vector_table(const ipc_fb_vector *v, uint32_t i, ipc_fb_table *out);
int ipc_fb_vector_string(const ipc_fb_vector *v, uint32_t i, const char **s, uint32_t *len);
/* The address of inline element i (elem_size bytes, checked by _field). */
const uint8_t *ipc_fb_vector_at(const ipc_fb_vector *v, uint32_t i, uint32_t elem_size);

/* Little-endian loads from memory already checked. */
static inline int64_t ipc_fb_load_i64(const uint8_t *p)
{
    int64_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}
static inline int32_t ipc_fb_load_i32(const uint8_t *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

#endif
