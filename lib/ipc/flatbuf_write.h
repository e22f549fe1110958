/* flatbuf_write.h: a small flatbuffers encoder, for Arrow's metadata.
 *
 * Objects are written front to back: a parent first, with a zeroed slot
 * for each offset, then its children, then the slot is patched. Offsets
 * therefore always point forward, as the format's unsigned offsets must;
 * each table's vtable sits just before it. Memory comes from the pool; the
 * first failure sticks in err and later calls do nothing, so a caller
 * checks once, at the end. */
#ifndef TALLY_IPC_FLATBUF_WRITE_H
#define TALLY_IPC_FLATBUF_WRITE_H

#include <stdint.h>
#include <tally/pool.h>

#define IPC_FBW_MAX_FIELDS 8

typedef struct ipc_fbw {
    tally_pool *pool;
    uint8_t *data;
    int64_t len, cap;
    int err;
} ipc_fbw;

/* One table being filled: its fields, then ipc_fbw_table_end writes it. */
typedef struct ipc_fbw_table {
    uint8_t size[IPC_FBW_MAX_FIELDS]; /* 0: absent */
    uint64_t value[IPC_FBW_MAX_FIELDS];
    uint32_t slot[IPC_FBW_MAX_FIELDS]; /* offsets: where each was written */
} ipc_fbw_table;

void ipc_fbw_init(ipc_fbw *w, tally_pool *pool);
void ipc_fbw_free(ipc_fbw *w);
/* The root offset's slot at position 0: the first call on a new builder. */
uint32_t ipc_fbw_root_slot(ipc_fbw *w);

void ipc_fbw_table_start(ipc_fbw_table *t);
void ipc_fbw_u8(ipc_fbw_table *t, int field, uint8_t v);
void ipc_fbw_i16(ipc_fbw_table *t, int field, int16_t v);
void ipc_fbw_i32(ipc_fbw_table *t, int field, int32_t v);
void ipc_fbw_i64(ipc_fbw_table *t, int field, int64_t v);
/* An offset field; its slot is t->slot[field] after ipc_fbw_table_end. */
void ipc_fbw_offset(ipc_fbw_table *t, int field);
/* Writes the table; returns its position. */
uint32_t ipc_fbw_table_end(ipc_fbw *w, ipc_fbw_table *t);

/* Points the offset in slot at target (which must lie after it). */
void ipc_fbw_patch(ipc_fbw *w, uint32_t slot, uint32_t target);
uint32_t ipc_fbw_string(ipc_fbw *w, const char *s, uint32_t len);
/* count elements of elem_size bytes, the first aligned to align; data NULL
 * writes zeros (a vector of offsets: slot i is at pos + 4 + 4 * i). */
uint32_t ipc_fbw_vector(ipc_fbw *w, uint32_t elem_size, uint32_t align, uint32_t count,
                        const void *data);

#endif
