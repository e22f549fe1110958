/* tally/array.h: types, builders and immutable arrays.
 *
 * Buffers follow the Arrow columnar layout. Fixed width and bool:
 * [validity, values]; string and binary: [validity, int32 offsets, data].
 * list: [validity, int32 offsets] and one child array (the values); struct:
 * [validity] and one child array per member. The validity bitmap is LSB first
 * and may be absent when there are no nulls; bool values are bit-packed.
 *
 * A child is shared, not sliced: a struct's offset applies to its children
 * (member k of element i is child k's element offset + i), and a list's
 * offsets index its child directly, as in Arrow C++ and the C Data Interface. */
#ifndef TALLY_ARRAY_H
#define TALLY_ARRAY_H

#include <string.h>
#include <tally/buffer.h>
#include <tally/type.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tally_builder tally_builder;
typedef struct tally_array tally_array; /* immutable, reference counted */

/* ---- Builders ---------------------------------------------------------------------- */
/* Everything a builder allocates, itself included, comes from pool. A primitive
 * type only (EINVAL for list and struct: use tally_builder_new_typed). */
TALLY_API int tally_builder_new(tally_type type, tally_pool *pool, tally_builder **out);
/* A builder for any data type, nested included: a list builder gets one child
 * builder (for its values), a struct builder one per member, recursively.
 * Retains type. */
TALLY_API int tally_builder_new_typed(tally_datatype *type, tally_pool *pool, tally_builder **out);
/* List and struct builders: their children, borrowed (owned by b); NULL out
 * of range. Append values to them, then close the element with
 * tally_builder_append_element. */
TALLY_API int tally_builder_n_children(const tally_builder *b);
TALLY_API tally_builder *tally_builder_child(tally_builder *b, int k);
/* Appends one valid element made of what the children got since the last
 * element: for a list, the child values appended since (any number, 0 too);
 * for a struct, exactly one value in each child (EINVAL, nothing appended,
 * when a child's length is not the struct's length + 1). ERANGE when a list's
 * child passes the int32 offsets. EINVAL for other types. */
TALLY_API int tally_builder_append_element(tally_builder *b);
/* Room for additional more values without reallocating. Capacity starts at 32
 * and doubles. */
TALLY_API int tally_builder_reserve(tally_builder *b, int64_t additional);
/* int tally_builder_append_int(tally_builder *b, int64_t v): integer types only;
 * ERANGE (and nothing appended) when v does not fit. Defined inline below; a
 * plain declaration here would make every includer define it. */
TALLY_API int tally_builder_append_uint(tally_builder *b, uint64_t v);
/* float and double; ERANGE when a finite v overflows a float. */
TALLY_API int tally_builder_append_double(tally_builder *b, double v);
TALLY_API int tally_builder_append_bool(tally_builder *b, bool v);
/* string and binary; ERANGE when the data would pass the int32 offsets. */
TALLY_API int tally_builder_append_bytes(tally_builder *b, const void *data, int64_t len);
/* The value slots under nulls are zeroed. A null list element is empty; a
 * null struct element appends a null to each child too. */
TALLY_API int tally_builder_append_null(tally_builder *b);
TALLY_API int tally_builder_append_nulls(tally_builder *b, int64_t n);
/* n values of the type's C type (uint8_t per value for bool, nonzero is true);
 * valid_bytes NULL means all valid, else one byte per value, zero for null.
 * Not for string and binary (EINVAL). */
TALLY_API int tally_builder_append_values(tally_builder *b, const void *values,
                                          const uint8_t *valid_bytes, int64_t n);
TALLY_API int64_t tally_builder_length(const tally_builder *b);
TALLY_API int64_t tally_builder_capacity(const tally_builder *b);
TALLY_API int64_t tally_builder_null_count(const tally_builder *b);
TALLY_API tally_type tally_builder_type(const tally_builder *b);
TALLY_API tally_datatype *tally_builder_datatype(const tally_builder *b); /* borrowed */
/* Empty again (children included); keeps the capacity. */
TALLY_API void tally_builder_reset(tally_builder *b);
/* Hands the values over as an array, buffers shrunk to fit, children finished
 * too. The builder is empty (capacity 0) and reusable after. On failure
 * (ENOMEM) a primitive builder is unchanged; a list or struct builder may be
 * left empty (what it held is lost), and usable again. */
TALLY_API int tally_builder_finish(tally_builder *b, tally_array **out);
TALLY_API void tally_builder_destroy(tally_builder *b);

/* ---- Arrays ------------------------------------------------------------------------ */
/* Shares (retains) the buffers, after checking they are big enough for
 * offset + length (and, for strings, that the offsets are monotonic and in
 * bounds). buffers[0] may be NULL when there are no nulls. null_count -1
 * means "count it". The array struct is charged to the values buffer's pool.
 * Primitive types only (EINVAL for list and struct). */
TALLY_API int tally_array_make(tally_type type, int64_t length, tally_buffer *const *buffers,
                               int n_buffers, int64_t null_count, int64_t offset,
                               tally_array **out);
/* Any data type, nested included, zero-copy: retains type, the buffers and the
 * children, after checking what tally_array_make checks plus, for a list, its
 * offsets (monotonic, from >= 0, ending inside the child) and, for a struct,
 * that each child is at least offset + length long. Each child's data type
 * must equal its field's type. buffers[k] may point into foreign memory
 * (tally_buffer_wrap_with_pool). n_buffers: 2 fixed width and bool and list,
 * 3 string and binary, 1 struct. n_children: 1 list, the members for struct,
 * else 0. The array struct (and its children vector) is charged to pool.
 * EINVAL comes with a sentence in *error when error is not NULL. */
TALLY_API int tally_array_make_typed(tally_pool *pool, tally_datatype *type, int64_t length,
                                     int64_t offset, int64_t null_count,
                                     tally_buffer *const *buffers, int n_buffers,
                                     tally_array *const *children, int n_children,
                                     tally_error *error, tally_array **out);
TALLY_API tally_array *tally_array_retain(tally_array *a);
TALLY_API void tally_array_release(tally_array *a); /* NULL is ignored */
TALLY_API tally_type tally_array_type(const tally_array *a);
TALLY_API tally_datatype *tally_array_datatype(const tally_array *a); /* borrowed */
TALLY_API int64_t tally_array_length(const tally_array *a);
TALLY_API int64_t tally_array_offset(const tally_array *a);
TALLY_API int64_t tally_array_null_count(const tally_array *a);
TALLY_API int tally_array_n_buffers(const tally_array *a);
/* Getters take logical indexes (0 is the first element of a slice). An index
 * out of range, or a getter that does not fit the type, gives 0 / false / NULL. */
TALLY_API bool tally_array_is_valid(const tally_array *a, int64_t i);
TALLY_API int64_t tally_array_get_int(const tally_array *a, int64_t i);   /* integer types */
TALLY_API uint64_t tally_array_get_uint(const tally_array *a, int64_t i); /* integer types */
TALLY_API double tally_array_get_double(const tally_array *a, int64_t i); /* numeric types */
TALLY_API bool tally_array_get_bool(const tally_array *a, int64_t i);     /* bool */
TALLY_API const uint8_t *tally_array_get_bytes(const tally_array *a, int64_t i,
                                               int64_t *len);            /* string, binary */
TALLY_API tally_buffer *tally_array_buffer(const tally_array *a, int k); /* borrowed */
/* The children as stored (not sliced by a's offset), borrowed; NULL out of
 * range. */
TALLY_API int tally_array_n_children(const tally_array *a);
TALLY_API tally_array *tally_array_child(const tally_array *a, int k);
/* A list's offset i (0 <= i <= length; logical, so element i spans the
 * child's [offset(i), offset(i + 1))); 0 out of range or not a list. */
TALLY_API int64_t tally_array_list_offset(const tally_array *a, int64_t i);
/* Element i of a list as a new reference: a zero-copy slice of the child over
 * its offsets (empty for a null a builder made; a producer may leave values
 * under a null). The slice's struct is charged to a's pool. EINVAL out of
 * range or not a list. */
TALLY_API int tally_array_list_value(const tally_array *a, int64_t i, tally_array **out);
/* Member k of a struct as a new reference: the child sliced to a's offset
 * and length (Arrow C++'s StructArray::field), charged to a's pool. EINVAL
 * out of range or not a struct. */
TALLY_API int tally_array_struct_field(const tally_array *a, int k, tally_array **out);
/* Zero-copy: the same buffers with a new offset and length. */
TALLY_API int tally_array_slice(const tally_array *a, int64_t offset, int64_t length,
                                tally_array **out);
/* Same data type (tally_datatype_equals) and length, and the same logical
 * values, nulls included (floating point values compare bit for bit; nested
 * values compare recursively, whatever their offsets). */
TALLY_API bool tally_array_equals(const tally_array *a, const tally_array *b);
/* One array holding the elements of arrays[0..n) in order (n >= 1; slices,
 * nulls and nested types included), every buffer freshly allocated from pool
 * and nothing shared with the inputs. EINVAL (with a message) when n < 1 or
 * the data types differ; ERANGE when strings or list offsets would pass
 * int32. Builders are cheaper than concatenating many small arrays. */
TALLY_API int tally_array_concat(tally_array *const *arrays, int n, tally_pool *pool,
                                 tally_error *error, tally_array **out);

/* ---- The append hot path -------------------------------------------------------------
 * tally_builder_append_int is an inline function (C99 inline: libtally also
 * exports it), so that appending to an int64 builder with room and no nulls is
 * a compare and a store. Everything else goes through the slow path. The head
 * below is the start of the private struct; do not use it directly. */
struct tally_builder_head {
    uint8_t *values;
    int64_t length;
    int64_t int64_room; /* capacity while int64 appends may skip all checks, else 0 */
};

TALLY_API int tally_builder_append_int_slow(tally_builder *b, int64_t v);

TALLY_API inline int tally_builder_append_int(tally_builder *b, int64_t v)
{
    struct tally_builder_head *h = (struct tally_builder_head *)b;
    if (__builtin_expect(b != NULL && h->length < h->int64_room, 1)) {
        memcpy(h->values + h->length * (int64_t)sizeof v, &v, sizeof v);
        h->length++;
        return 0;
    }
    return tally_builder_append_int_slow(b, v);
}

#ifdef __cplusplus
}
#endif

#endif /* TALLY_ARRAY_H */
