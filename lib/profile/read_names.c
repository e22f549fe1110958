/* read_names.c: the NAMES section (docs/FORMAT.md): the source frames of
 * each named return address, with their strings stored once.
 *
 *     payload := uvar nstrings  string[nstrings]  entry[count]
 *     string  := uvar length  bytes[length]
 *     entry   := uvar frame  uvar nframes  source[nframes]
 *     source  := uvar function  uvar system_name  uvar file  uvar line  uvar flags
 *
 * A string reference is 0 for none, k for the k-th string. Everything is
 * checked against the bytes there before it is used: the strings' bytes fit
 * in one allocation of the section's length, and the source frames in one
 * of length / PROF_NAME_MIN_BYTES. */
#include <config.h>

#include "profile/read_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    prof_reader *r;
    prof_cursor c;
    char **strings; /* into p->name_text */
    uint64_t nstrings;
} names_parse;

static int bad(prof_reader *r, const char *what, unsigned long long n)
{
    prof_say(r->err, r->errlen, "corrupt profile: NAMES %s %llu", what, n);
    return -1;
}

/* A string reference: 0 and *out NULL for none. -1 when out of range. */
static int string_ref(names_parse *np, const char **out)
{
    uint64_t k = prof_uvarint(&np->c);
    if (np->c.overrun)
        return 0; /* prof_finish says it */
    if (k > np->nstrings)
        return bad(np->r, "refers to a string that is not there:", (unsigned long long)k);
    *out = k ? np->strings[k - 1] : NULL;
    return 0;
}

static int read_strings(names_parse *np, size_t length)
{
    prof_profile *p = np->r->p;
    np->nstrings = prof_uvarint(&np->c);
    if (np->c.overrun)
        return 0;
    if (np->nstrings > np->c.left) /* each takes a byte at least */
        return bad(np->r,
                   "string count does not fit its section:", (unsigned long long)np->nstrings);
    /* Every string's bytes and its NUL fit in length: its length took a byte. */
    p->name_text = malloc(length + 1);
    np->strings = malloc((np->nstrings ? np->nstrings : 1) * sizeof *np->strings);
    if (!p->name_text || !np->strings) {
        prof_say(np->r->err, np->r->errlen, "out of memory reading NAMES");
        return -1;
    }
    size_t used = 0;
    for (uint64_t i = 0; i < np->nstrings; i++) {
        uint64_t n = prof_uvarint(&np->c);
        if (np->c.overrun)
            return 0;
        if (n > PROF_MAX_STRING) {
            prof_say(np->r->err, np->r->errlen,
                     "corrupt profile: a string in NAMES is longer than %u bytes", PROF_MAX_STRING);
            return -1;
        }
        if (n > np->c.left) {
            np->c.overrun = 1;
            np->c.left = 0;
            return 0;
        }
        if (memchr(np->c.p, '\0', (size_t)n))
            return bad(np->r, "string holds a NUL byte: string", (unsigned long long)i + 1);
        np->strings[i] = p->name_text + used;
        memcpy(p->name_text + used, np->c.p, (size_t)n);
        used += (size_t)n;
        p->name_text[used++] = '\0';
        np->c.p += n;
        np->c.left -= (size_t)n;
    }
    return 0;
}

static int read_entries(names_parse *np, uint32_t count, size_t length)
{
    prof_reader *r = np->r;
    prof_profile *p = r->p;
    p->name_at = calloc(p->naddrs + 1, sizeof *p->name_at);
    p->names = malloc((length / PROF_NAME_MIN_BYTES + 1) * sizeof *p->names);
    if (!p->name_at || !p->names) {
        prof_say(r->err, r->errlen, "out of memory reading NAMES");
        return -1;
    }
    size_t next = 0; /* the first address not given yet */
    for (uint32_t i = 0; i < count && !np->c.overrun; i++) {
        uint64_t frame = prof_uvarint(&np->c);
        uint64_t n = prof_uvarint(&np->c);
        if (np->c.overrun)
            break;
        if (frame >= p->naddrs || frame < next)
            return bad(r, "names a frame that is not there or not in order: frame",
                       (unsigned long long)frame);
        if (n < 1 || n > PROF_MAX_INLINED)
            return bad(r, "gives a frame a wrong number of source frames:", (unsigned long long)n);
        if (n > np->c.left / PROF_NAME_MIN_BYTES) {
            np->c.overrun = 1;
            break;
        }
        /* The addresses before this one have no names. */
        for (; next <= frame; next++)
            p->name_at[next] = (uint32_t)p->nnames;
        for (uint64_t k = 0; k < n; k++) {
            prof_name *nm = &p->names[p->nnames];
            *nm = (prof_name){0};
            if (string_ref(np, &nm->function) || string_ref(np, &nm->system_name) ||
                string_ref(np, &nm->file))
                return -1;
            uint64_t line = prof_uvarint(&np->c), flags = prof_uvarint(&np->c);
            if (np->c.overrun)
                break;
            if (!nm->function)
                return bad(r, "source frame without a function: frame", (unsigned long long)frame);
            if (line > UINT32_MAX || (flags & ~(uint64_t)PROF_NAME_FLAGS))
                return bad(r, "source frame with a wrong line or flags: frame",
                           (unsigned long long)frame);
            nm->line = (uint32_t)line;
            nm->flags = (uint32_t)flags;
            p->nnames++;
        }
    }
    for (; next <= p->naddrs; next++)
        p->name_at[next] = (uint32_t)p->nnames;
    return 0;
}

int prof_parse_names(prof_reader *r, const prof_section *s)
{
    if (prof_count_fits(r, s, PROF_SEC_NAMES, PROF_NAMED_MIN_BYTES))
        return -1;
    names_parse np = {r, prof_cursor_of(s), NULL, 0};
    int rc = read_strings(&np, s->length);
    if (rc == 0 && !np.c.overrun)
        rc = read_entries(&np, s->count, s->length);
    free(np.strings);
    if (rc == 0)
        rc = prof_finish(r, &np.c, PROF_SEC_NAMES, 0);
    return rc;
}
