/* tally/c_data.h: zero-copy exchange with other Arrow runtimes through the
 * Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html).
 *
 * The two structs are exactly the spec's, under the spec's guard, so this
 * header coexists with arrow/c/abi.h, nanoarrow.h and friends. */
#ifndef TALLY_C_DATA_H
#define TALLY_C_DATA_H

#include <stdint.h>
#include <tally/array.h>
#include <tally/table.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    // Array type description
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;

    // Release callback
    void (*release)(struct ArrowSchema *);
    // Opaque producer-specific data
    void *private_data;
};

struct ArrowArray {
    // Array data description
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;

    // Release callback
    void (*release)(struct ArrowArray *);
    // Opaque producer-specific data
    void *private_data;
};

#endif // ARROW_C_DATA_INTERFACE

/* Zero-copy: the consumer gets the array's own buffers, kept alive until it
 * calls out_array->release, whatever happens to a meanwhile. The private data
 * is charged to the array's pool. On failure the out structs are untouched.
 * List ("+l") and struct ("+s") arrays export their children, recursively,
 * with the child fields' names, nullability and metadata; each child struct
 * may be moved out and released on its own, as the spec allows. */
TALLY_API int tally_array_export(const tally_array *a, struct ArrowArray *out_array,
                                 struct ArrowSchema *out_schema);
/* Validates array and schema, then takes ownership of both (a move: their
 * release is set to NULL; the schema is released at once, the array when the
 * last tally buffer made from it goes). On failure (EINVAL, ENOMEM) nothing is
 * taken and nothing is kept. Bookkeeping is charged to the default pool.
 * Nested arrays ("+l", "+s") are validated at every level: formats, children
 * counts (schema's and array's alike), buffer counts, lengths, offsets and
 * null counts; dictionaries are refused. */
TALLY_API int tally_array_import(struct ArrowArray *array, struct ArrowSchema *schema,
                                 tally_array **out);
TALLY_API int tally_array_import_with_pool(tally_pool *pool, struct ArrowArray *array,
                                           struct ArrowSchema *schema, tally_array **out);
/* The same, with a sentence in *error on EINVAL (error may be NULL). */
TALLY_API int tally_array_import_ex(tally_pool *pool, struct ArrowArray *array,
                                    struct ArrowSchema *schema, tally_error *error,
                                    tally_array **out);

/* ---- Schemas and record batches ----------------------------------------------------
 * A record batch travels as a struct array ("+s") of its columns: the top
 * schema carries the schema's metadata, its children the fields. */
/* out->release frees what the export allocated (from the schema's pool). */
TALLY_API int tally_schema_export(const tally_schema *s, struct ArrowSchema *out);
/* Copies: the ArrowSchema is left as it was (the caller still releases it).
 * The top level must be a struct ("+s"). */
TALLY_API int tally_schema_import(tally_pool *pool, const struct ArrowSchema *schema,
                                  tally_error *error, tally_schema **out);
/* Zero-copy, as tally_array_export; private data charged to the batch's pool. */
TALLY_API int tally_record_batch_export(const tally_record_batch *rb, struct ArrowArray *out_array,
                                        struct ArrowSchema *out_schema);
/* Validated and moved as tally_array_import; the top level must be a struct
 * array without null rows (its offset, if any, is applied to the columns),
 * and a non-nullable field's column must hold no nulls. Every byte of
 * bookkeeping (batch, schema, fields, arrays, wrapped buffers) comes from
 * pool. On EINVAL nothing is taken; on ENOMEM after the move the array has
 * been released (as Arrow C++'s import does on any failure), the schema not. */
TALLY_API int tally_record_batch_import(tally_pool *pool, struct ArrowArray *array,
                                        struct ArrowSchema *schema, tally_error *error,
                                        tally_record_batch **out);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_C_DATA_H */
