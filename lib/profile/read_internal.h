/* read_internal.h: what read.c (the frame of the file and most sections)
 * and read_stacks.c (the stack tree) share: a bounds-checked cursor over a
 * section's payload, the decoders of its fields, and the verdicts every
 * section parser gives. Private to the reader. */
#ifndef TALLY_PROFILE_READ_INTERNAL_H
#define TALLY_PROFILE_READ_INTERNAL_H

#include "profile/read.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t left;
    int overrun;    /* a field ran past the payload */
    int bad_varint; /* a varint longer than PROF_VARINT_MAX_BYTES, or over 64 bits */
} prof_cursor;

typedef struct {
    int present;
    uint32_t count;
    const uint8_t *payload;
    size_t length;
} prof_section;

typedef struct {
    prof_profile *p;
    char *err;
    size_t errlen;
    int32_t *pool_ids_sorted; /* for reference checks */
} prof_reader;

extern const char *const prof_section_name[PROF_SEC_KNOWN_LAST + 1];

void prof_say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline prof_cursor prof_cursor_of(const prof_section *s)
{
    return (prof_cursor){s->payload, s->length, 0, 0};
}

/* An unsigned LEB128 varint; 0 and c->overrun or c->bad_varint when it is
 * not all there or too long. */
static inline uint64_t prof_uvarint(prof_cursor *c)
{
    if (c->left > 0 && c->p[0] < 0x80) { /* the common case: one byte */
        c->left--;
        return *c->p++;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 7 * PROF_VARINT_MAX_BYTES; shift += 7) {
        if (c->overrun || c->left == 0) {
            c->overrun = 1;
            c->left = 0;
            return 0;
        }
        uint8_t b = *c->p++;
        c->left--;
        if (shift == 63 && b > 1)
            break; /* bits past the 64th */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad_varint = 1;
    c->overrun = 1;
    c->left = 0;
    return 0;
}

static inline int64_t prof_svarint(prof_cursor *c)
{
    return prof_unzigzag(prof_uvarint(c));
}

/* The end-of-section verdict shared by every parser: 0, or -1 with the
 * message said. */
int prof_finish(prof_reader *r, const prof_cursor *c, int sec, int too_long);
/* Refuses a count that cannot fit in the payload at min_size bytes each. */
int prof_count_fits(prof_reader *r, const prof_section *s, int sec, size_t min_size);
/* prof_count_fits, then an array of the section's count elements of
 * elem_size bytes (at least one), zeroed: NULL, with the message said,
 * when the count does not fit or memory runs out. */
void *prof_section_array(prof_reader *r, const prof_section *s, int sec, size_t min_size,
                         size_t elem_size);

/* The stack sections (read_stacks.c). Version 3: FRAMES, then NODES, then
 * STACKS, each absent section standing for an empty one. Versions 1 and 2:
 * STACKS as frame arrays, made into the tree. 0, or -1 with the message. */
int prof_parse_frames(prof_reader *r, const prof_section *s);
int prof_parse_nodes(prof_reader *r, const prof_section *s);
int prof_parse_stacks(prof_reader *r, const prof_section *s);
int prof_parse_stacks_v2(prof_reader *r, const prof_section *s);
/* NAMES (read_names.c), after FRAMES. 0, or -1 with the message. */
int prof_parse_names(prof_reader *r, const prof_section *s);
/* A profile without a stack section still has the tree's root. */
int prof_stacks_ensure_root(prof_reader *r);

#endif
