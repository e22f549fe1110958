/* tally/type.h: data types and fields, in Arrow C++'s model (DataType, Field).
 *
 * A data type is a type id (tally_type) plus, for the nested ids, child
 * fields: list<item> has one, struct<a, b, ...> has one per member. A field
 * is a name, a data type, a nullability flag and optional key/value metadata.
 * Types nest to any depth: list<struct<a: int32, b: list<item: utf8>>>.
 *
 * Lifecycle: both are immutable and reference counted. A constructor
 * retains what it is given (it never steals a reference) and copies the
 * strings; its result holds one reference, given back with *_release. Every
 * byte comes from the pool passed in (NULL: the default pool at that moment).
 * The data types of the primitive ids (tally_datatype_of) are static: they
 * cost no memory, and retain/release on them do nothing.
 *
 * Fallible calls return 0 or an errno value: EINVAL for bad arguments (with
 * a message in *error when error is not NULL), ENOMEM when the pool refuses. */
#ifndef TALLY_TYPE_H
#define TALLY_TYPE_H

#include <tally/buffer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The type ids. Values are stable: new ids are only ever appended. */
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
    TALLY_TYPE_BINARY,
    TALLY_TYPE_LIST,  /* int32 offsets; buffers [validity, offsets]; one child */
    TALLY_TYPE_STRUCT /* buffers [validity]; one child per member */
} tally_type;

/* What went wrong, for the calls that take one: a NUL-terminated sentence.
 * Untouched on success. Caller-owned: filling it allocates nothing. */
typedef struct {
    char message[256];
} tally_error;

/* One key/value pair of metadata: NUL-terminated UTF-8 strings. */
typedef struct {
    const char *key;
    const char *value;
} tally_kv;

typedef struct tally_datatype tally_datatype;
typedef struct tally_field tally_field;

/* "int64", "string", "list", "struct"...; NULL for a value outside the enum. */
TALLY_API const char *tally_type_name(tally_type type);
/* The type's Arrow C Data Interface format string ("l" for int64, "u" for
 * string, "+l" for list, "+s" for struct); NULL outside the enum. */
TALLY_API const char *tally_type_format(tally_type type);
/* True for TALLY_TYPE_LIST and TALLY_TYPE_STRUCT. */
TALLY_API bool tally_type_is_nested(tally_type type);

/* ---- Data types ------------------------------------------------------------------ */
/* The static data type of a primitive id; NULL for list, struct and values
 * outside the enum. */
TALLY_API tally_datatype *tally_datatype_of(tally_type type);
/* list<value_field>. */
TALLY_API int tally_datatype_list(tally_pool *pool, tally_field *value_field, tally_datatype **out);
/* struct<fields...>; n_fields may be 0. Member names need not be unique
 * (Arrow allows it); tally_datatype_field_index finds the first. */
TALLY_API int tally_datatype_struct(tally_pool *pool, tally_field *const *fields, int n_fields,
                                    tally_datatype **out);
TALLY_API tally_datatype *tally_datatype_retain(tally_datatype *t); /* returns t */
TALLY_API void tally_datatype_release(tally_datatype *t);           /* NULL is ignored */
TALLY_API tally_type tally_datatype_id(const tally_datatype *t);
/* Child fields: 1 for a list (its value field), the members for a struct, 0
 * otherwise. tally_datatype_field returns a borrowed field, NULL out of range. */
TALLY_API int tally_datatype_n_fields(const tally_datatype *t);
TALLY_API tally_field *tally_datatype_field(const tally_datatype *t, int k);
/* The index of the first child field called name; -1 when there is none. */
TALLY_API int tally_datatype_field_index(const tally_datatype *t, const char *name);
/* Same ids and, recursively, same child names, nullability and types.
 * Metadata is not compared (as Arrow C++'s default). */
TALLY_API bool tally_datatype_equals(const tally_datatype *a, const tally_datatype *b);
/* Writes a readable form ("int64", "list<item: string>",
 * "struct<a: int32, b: list<item: double>>") like snprintf: returns the
 * length of the whole form, writes at most size bytes, NUL included. */
TALLY_API int64_t tally_datatype_describe(const tally_datatype *t, char *buf, int64_t size);

/* ---- Fields ---------------------------------------------------------------------- */
/* name may be "" (not NULL); metadata may be NULL when n_metadata is 0. */
TALLY_API int tally_field_new(tally_pool *pool, const char *name, tally_datatype *type,
                              bool nullable, const tally_kv *metadata, int n_metadata,
                              tally_field **out);
TALLY_API tally_field *tally_field_retain(tally_field *f); /* returns f */
TALLY_API void tally_field_release(tally_field *f);        /* NULL is ignored */
TALLY_API const char *tally_field_name(const tally_field *f);
TALLY_API tally_datatype *tally_field_type(const tally_field *f); /* borrowed */
TALLY_API bool tally_field_nullable(const tally_field *f);
TALLY_API int tally_field_n_metadata(const tally_field *f);
TALLY_API const tally_kv *tally_field_metadata(const tally_field *f, int k); /* NULL out of range */
/* Same name, nullability and type (tally_datatype_equals); the field's own
 * metadata too when check_metadata (same pairs in the same order; the child
 * fields of its type are compared without theirs). */
TALLY_API bool tally_field_equals(const tally_field *a, const tally_field *b, bool check_metadata);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_TYPE_H */
