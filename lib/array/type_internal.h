/* type_internal.h: the data type, field, schema and record batch structs,
 * and the metadata blocks they share. */
#ifndef TALLY_ARRAY_TYPE_INTERNAL_H
#define TALLY_ARRAY_TYPE_INTERNAL_H

#include <tally/table.h>
#include <tally/type.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

/* Static data types (the primitive ids) have no pool and are never counted. */
struct tally_datatype {
    _Atomic int64_t refcount;
    tally_pool *pool; /* NULL: static */
    tally_type id;
    int n_fields;
    tally_field **fields; /* retained; in the same block */
};

/* One block from pool: the struct, the metadata pairs, then the strings. */
struct tally_field {
    _Atomic int64_t refcount;
    tally_pool *pool;
    int64_t bytes; /* the block's size, for the free */
    const char *name;
    tally_datatype *type; /* retained */
    bool nullable;
    int n_metadata;
    tally_kv *metadata;
};

/* One block: the struct, the fields vector, the pairs, the strings. */
struct tally_schema {
    _Atomic int64_t refcount;
    tally_pool *pool;
    int64_t bytes;
    int n_fields;
    tally_field **fields; /* retained */
    int n_metadata;
    tally_kv *metadata;
};

struct tally_record_batch {
    _Atomic int64_t refcount;
    tally_pool *pool;
    tally_schema *schema; /* retained */
    int64_t n_rows;
    int n_columns;
    tally_array *columns[]; /* retained */
};

/* ---- Metadata blocks: pairs followed by their strings ------------------------ */
/* The bytes n pairs (and their strings) take; false on bad pairs (NULL
 * strings, n < 0, pairs NULL with n > 0) or overflow. */
bool tally_kv_bytes(const tally_kv *pairs, int n, int64_t *bytes);
/* Copies n pairs into dst (tally_kv_bytes bytes, suitably aligned); returns
 * the copy's pairs. */
tally_kv *tally_kv_copy(const tally_kv *pairs, int n, uint8_t *dst);
bool tally_kv_equals(const tally_kv *a, int na, const tally_kv *b, int nb);

/* ---- Errors --------------------------------------------------------------------- */
/* Writes the message (printf-style) into error when it is not NULL; returns
 * EINVAL, so a check reads `return tally_fail(error, "...")`. */
int tally_fail(tally_error *error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rounds n up to the alignment of a pointer, for carving one block. */
static inline int64_t tally_align_ptr(int64_t n)
{
    const int64_t a = (int64_t) _Alignof(max_align_t);
    return (n + a - 1) / a * a;
}

#endif
