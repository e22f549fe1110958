/* tally/table.h: schemas and record batches (Arrow C++'s Schema, RecordBatch).
 *
 * A schema is a list of fields plus key/value metadata. A record batch is a
 * schema and one column (a tally_array) per field, all of the same length,
 * each of its field's data type.
 *
 * Lifecycle as in tally/type.h: immutable, reference counted, constructors
 * retain what they are given and copy strings, every byte from the pool
 * passed in (NULL: the default pool). Fallible calls return 0 or an errno
 * value; EINVAL comes with a sentence in *error when error is not NULL. */
#ifndef TALLY_TABLE_H
#define TALLY_TABLE_H

#include <tally/array.h>
#include <tally/type.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tally_schema tally_schema;
typedef struct tally_record_batch tally_record_batch;

/* ---- Schemas ---------------------------------------------------------------------- */
/* fields may be NULL when n_fields is 0; metadata NULL when n_metadata is 0. */
TALLY_API int tally_schema_new(tally_pool *pool, tally_field *const *fields, int n_fields,
                               const tally_kv *metadata, int n_metadata, tally_schema **out);
TALLY_API tally_schema *tally_schema_retain(tally_schema *s); /* returns s */
TALLY_API void tally_schema_release(tally_schema *s);         /* NULL is ignored */
TALLY_API int tally_schema_n_fields(const tally_schema *s);
TALLY_API tally_field *tally_schema_field(const tally_schema *s,
                                          int k); /* borrowed; NULL out of range */
/* The index of the first field called name; -1 when there is none. */
TALLY_API int tally_schema_field_index(const tally_schema *s, const char *name);
TALLY_API int tally_schema_n_metadata(const tally_schema *s);
TALLY_API const tally_kv *tally_schema_metadata(const tally_schema *s,
                                                int k); /* NULL out of range */
/* The same fields (tally_field_equals) in the same order; the schema's and
 * the fields' metadata too when check_metadata. */
TALLY_API bool tally_schema_equals(const tally_schema *a, const tally_schema *b,
                                   bool check_metadata);

/* ---- Record batches ----------------------------------------------------------------- */
/* Retains the schema and the columns. EINVAL (with a message) when n_columns
 * differs from the schema's field count, a column's length is not n_rows, its
 * data type is not its field's (tally_datatype_equals), or a non-nullable
 * field's column holds nulls. The batch struct is charged to pool. */
TALLY_API int tally_record_batch_make(tally_pool *pool, tally_schema *schema, int64_t n_rows,
                                      tally_array *const *columns, int n_columns,
                                      tally_error *error, tally_record_batch **out);
TALLY_API tally_record_batch *tally_record_batch_retain(tally_record_batch *rb); /* returns rb */
TALLY_API void tally_record_batch_release(tally_record_batch *rb); /* NULL is ignored */
TALLY_API tally_schema *tally_record_batch_schema(const tally_record_batch *rb); /* borrowed */
TALLY_API int64_t tally_record_batch_n_rows(const tally_record_batch *rb);
TALLY_API int tally_record_batch_n_columns(const tally_record_batch *rb);
/* Borrowed; NULL out of range. */
TALLY_API tally_array *tally_record_batch_column(const tally_record_batch *rb, int k);
/* Zero-copy: every column sliced (tally_array_slice), the same schema. The
 * new batch and its column structs are charged to the batch's pool. */
TALLY_API int tally_record_batch_slice(const tally_record_batch *rb, int64_t offset, int64_t length,
                                       tally_record_batch **out);
/* Same schema (metadata not compared) and equal columns (tally_array_equals). */
TALLY_API bool tally_record_batch_equals(const tally_record_batch *a, const tally_record_batch *b);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_TABLE_H */
