/* c_internal.h: the C Data Interface pieces that arrays, schemas and record
 * batches share: schema trees both ways, array trees both ways. */
#ifndef TALLY_ARRAY_C_INTERNAL_H
#define TALLY_ARRAY_C_INTERNAL_H

#include <tally/c_data.h>

#include "array/array_internal.h"

/* Deeper than this is refused on import (a hostile producer could loop its
 * children back to a parent). */
#define TALLY_C_MAX_DEPTH 64

/* One ArrowSchema node and its children (fields), all from pool; the node's
 * release frees its own block and whatever children were not moved out. */
int tally_c_export_schema(tally_pool *pool, const char *format, const char *name, int64_t flags,
                          const tally_kv *metadata, int n_metadata, tally_field *const *children,
                          int n_children, struct ArrowSchema *out);
/* A field as an ArrowSchema: its type's format, name, nullability, metadata
 * and child fields, recursively. */
int tally_c_export_field(tally_pool *pool, const tally_field *f, struct ArrowSchema *out);

/* Checks a schema tree: released nodes, formats tally knows, children counts
 * and pointers, no dictionaries, readable metadata. */
int tally_c_check_schema(const struct ArrowSchema *s, int depth, tally_error *error);
/* After tally_c_check_schema: the node's data type, and the node as a field. */
int tally_c_import_type(tally_pool *pool, const struct ArrowSchema *s, tally_datatype **out);
int tally_c_import_field(tally_pool *pool, const struct ArrowSchema *s, tally_field **out);
/* s's children as fields, in an array from pool (NULL when s has none);
 * on failure nothing is kept. tally_c_release_children gives back the
 * first `made` fields and the array of n. */
int tally_c_import_children(tally_pool *pool, const struct ArrowSchema *s, tally_field ***out);
void tally_c_release_children(tally_pool *pool, tally_field **fields, int made, int n);
/* The metadata of a checked node, decoded into one block from pool (pairs then
 * strings); *bytes is what to free. */
int tally_c_import_metadata(tally_pool *pool, const char *blob, tally_kv **pairs, int *n,
                            int64_t *bytes);

/* One array and its children as ArrowArray nodes, the private data from
 * pool; each node holds a reference on its tally array. */
int tally_c_export_array(tally_pool *pool, const tally_array *a, struct ArrowArray *out);

/* Checks an array tree against a checked schema tree of data type t: counts,
 * buffers, lengths, offsets and null counts at every level. */
int tally_c_check_array(const struct ArrowArray *array, const tally_datatype *t, int depth,
                        tally_error *error);
/* After tally_c_check_array: moves array (its release is taken over) into
 * tally arrays of data type t, every byte from pool. On failure nothing is
 * taken. */
int tally_c_import_array(tally_pool *pool, struct ArrowArray *array, tally_datatype *t,
                         tally_array **out);

#endif
