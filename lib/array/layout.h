/* layout.h: what each type looks like in memory, and the checks that make a
 * set of buffers safe to read as an array of that type. */
#ifndef TALLY_ARRAY_LAYOUT_H
#define TALLY_ARRAY_LAYOUT_H

#include <tally/array.h>

bool tally_type_is_valid(tally_type type);
/* string and binary: [validity, int32 offsets, data]. */
bool tally_type_has_offsets(tally_type type);
/* string, binary and list: a values buffer of length + 1 int32 offsets. */
bool tally_type_has_int32_offsets(tally_type type);
/* 2 for fixed width, bool and list, 3 for string and binary, 1 for struct. */
int tally_type_n_buffers(tally_type type);
/* Bytes per value slot: 1 to 8, 4 (one offset) for string, binary and list,
 * 0 for bool and struct. */
int tally_type_width(tally_type type);
/* EINVAL for anything but one of the formats tally knows ("+l", "+s" and the
 * single letters). */
int tally_type_from_format(const char *format, tally_type *out);

/* The bytes the values buffer (offsets for string, binary and list; none for
 * struct) must hold for `end` elements; false on overflow. */
bool tally_values_bytes(tally_type type, int64_t end, int64_t *bytes);

/* One array's buffers, as seen by the checks. A size of INT64_MAX means
 * "unknown, trust the pointer" (the C Data Interface carries no sizes). */
typedef struct {
    const uint8_t *validity; /* NULL: no nulls */
    int64_t validity_size;
    const uint8_t *values; /* offsets for string and binary */
    int64_t values_size;
    const uint8_t *data; /* string and binary only */
    int64_t data_size;   /* for a list: the child's length */
} tally_layout;

/* Checks that length and offset are sane, the buffers big enough, the offsets
 * monotonic and inside data, and *null_count either -1 (then it is counted) or
 * exactly the nulls in the validity bitmap. EINVAL when anything is off. */
int tally_layout_check(tally_type type, int64_t length, int64_t offset, int64_t *null_count,
                       const tally_layout *layout);

/* The i-th int32 offset, read without assuming alignment. */
static inline int32_t tally_offset_at(const uint8_t *offsets, int64_t i)
{
    int32_t v;
    memcpy(&v, offsets + i * (int64_t)sizeof v, sizeof v);
    return v;
}

#endif
