/* tally/array.h: types, builders and immutable arrays.
 *
 * Buffers follow the Arrow columnar layout. Fixed width and bool:
 * [validity, values]; string and binary: [validity, int32 offsets, data].
 * The validity bitmap is LSB first and may be absent when there are no nulls;
 * bool values are bit-packed. */
#ifndef TALLY_ARRAY_H
#define TALLY_ARRAY_H

#include <string.h>
#include <tally/buffer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TALLY_TYPE_BOOL,
    TALLY_TYPE_INT8,
    TALLY_TYPE_INT16,
    TALLY_TYPE_INT32,
    TALLY_TYPE_INT64,
    TALLY_TYPE_UINT8,
    TALLY_TYPE_UINT16,
    TALLY_TYPE_UINT32,
    TALLY_TYPE_UINT64,
    TALLY_TYPE_FLOAT,
    TALLY_TYPE_DOUBLE,
    TALLY_TYPE_STRING,
    TALLY_TYPE_BINARY
} tally_type;

typedef struct tally_builder tally_builder;
typedef struct tally_array tally_array; /* immutable, reference counted */

/* "int64", "string", ...; NULL for a value outside the enum. */
TALLY_API const char *tally_type_name(tally_type type);
/* The type's Arrow C Data Interface format string ("l" for int64, "u" for
 * string, ...); NULL for a value outside the enum. */
TALLY_API const char *tally_type_format(tally_type type);

/* ---- Builders ---------------------------------------------------------------------- */
/* Everything a builder allocates, itself included, comes from pool. */
TALLY_API int tally_builder_new(tally_type type, tally_pool *pool, tally_builder **out);
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
/* The value slots under nulls are zeroed. */
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
/* Empty again; keeps the capacity. */
TALLY_API void tally_builder_reset(tally_builder *b);
/* Hands the values over as an array, buffers shrunk to fit. The builder is
 * empty (capacity 0) and reusable after. On failure the builder is unchanged. */
TALLY_API int tally_builder_finish(tally_builder *b, tally_array **out);
TALLY_API void tally_builder_destroy(tally_builder *b);

/* ---- Arrays ------------------------------------------------------------------------ */
/* Shares (retains) the buffers, after checking they are big enough for
 * offset + length (and, for strings, that the offsets are monotonic and in
 * bounds). buffers[0] may be NULL when there are no nulls. null_count -1
 * means "count it". The array struct is charged to the values buffer's pool. */
TALLY_API int tally_array_make(tally_type type, int64_t length, tally_buffer *const *buffers,
                               int n_buffers, int64_t null_count, int64_t offset,
                               tally_array **out);
TALLY_API tally_array *tally_array_retain(tally_array *a);
TALLY_API void tally_array_release(tally_array *a); /* NULL is ignored */
TALLY_API tally_type tally_array_type(const tally_array *a);
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
/* Zero-copy: the same buffers with a new offset and length. */
TALLY_API int tally_array_slice(const tally_array *a, int64_t offset, int64_t length,
                                tally_array **out);
/* Same type and length, and the same logical values, nulls included
 * (floating point values compare bit for bit). */
TALLY_API bool tally_array_equals(const tally_array *a, const tally_array *b);

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
