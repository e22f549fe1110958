/* names.c: a profile's frames named into the profile itself (its NAMES
 * section, docs/FORMAT.md), so that it stays readable once its binary is
 * rebuilt in place or deleted, and `tally diff` can match its stacks by name
 * against a new build's.
 *
 * `tally run` does it for each profile of the run as soon as the program
 * has ended, before anything can change the binaries; `tally report
 * --store-names` for a profile written without it. The file is read whole,
 * its frames named (the names it stores already are kept: they were taken
 * when the binary was there), and rewritten with its sections byte for byte
 * but the old NAMES, the new NAMES after them: a temporary file in the same
 * directory, renamed over the old one. Addresses nothing names (no symbol,
 * no line) are left out: a later report names them as well as this one
 * could. */
#include <config.h>

#include "symbolize.h"

#include "base/hash.h"
#include "profile/write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The whole file: 0 and *data, *len, or -1 with the message. */
static int slurp(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return say(err, errlen, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return say(err, errlen, "not a regular file");
    }
    *len = (size_t)st.st_size;
    *data = malloc(*len ? *len : 1);
    size_t got = 0;
    while (*data && got < *len) {
        ssize_t n = read(fd, *data + got, *len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!*data || got < *len) {
        free(*data);
        return say(err, errlen, *data ? "cannot read: short read" : "out of memory");
    }
    return 0;
}

/* The strings of the section, each once: index k + 1 is strings[k]. */
typedef struct {
    const char **strings;
    uint32_t n, cap;
    uint32_t *slots; /* k + 1; 0 empty */
    size_t nslots;
} string_set;

static uint32_t string_ref(string_set *ss, const char *s)
{
    if (!s)
        return 0;
    if ((size_t)(ss->n + 1) * 2 > ss->nslots) {
        size_t cap = ss->nslots ? ss->nslots * 2 : 1024;
        uint32_t *t = calloc(cap, sizeof *t);
        if (!t)
            return UINT32_MAX;
        for (uint32_t k = 0; k < ss->n; k++) {
            size_t j = base_hash_str(ss->strings[k]) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = k + 1;
        }
        free(ss->slots);
        ss->slots = t;
        ss->nslots = cap;
    }
    size_t j = base_hash_str(s) & (ss->nslots - 1);
    while (ss->slots[j] && strcmp(ss->strings[ss->slots[j] - 1], s) != 0)
        j = (j + 1) & (ss->nslots - 1);
    if (ss->slots[j])
        return ss->slots[j];
    if (ss->n == ss->cap) {
        uint32_t cap = ss->cap ? ss->cap * 2 : 1024;
        const char **t = realloc(ss->strings, cap * sizeof *t);
        if (!t)
            return UINT32_MAX;
        ss->strings = t;
        ss->cap = cap;
    }
    ss->strings[ss->n++] = s;
    return ss->slots[j] = ss->n;
}

/* The names of (object, offset) pairs already worked out, for the life of
 * the command: a run leaves a profile per process, and most of them (a
 * shell script's) share their objects, so each address is named once, and
 * a profile whose addresses are all known here never starts libdw. An
 * object is known by its path and build-id (one without a build-id is not
 * cached: a rebuild would not show). The strings are copies, never freed. */
typedef struct {
    const prof_module *mod; /* while being filled: the key's object */
    const char *object;     /* path, NUL, build-id bytes: kept */
    size_t object_len;
    uint64_t offset;
    uint32_t n;
    cli_sym_frame *frames;
} known_addr;

static struct {
    known_addr *slots;
    size_t cap, used;
} known;

static uint64_t known_hash(const char *object, size_t len, uint64_t offset)
{
    return base_hash_bytes(object, len) ^ base_hash_u64(offset);
}

/* The object key of a module: path, NUL, build-id, in buf[cap]; its length,
 * or 0 when it is not cached. */
static size_t object_key(const prof_module *m, char *buf, size_t cap)
{
    size_t n = strlen(m->path);
    if (!m->build_id_len || n + 1 + m->build_id_len > cap)
        return 0;
    memcpy(buf, m->path, n + 1);
    memcpy(buf + n + 1, m->build_id, m->build_id_len);
    return n + 1 + m->build_id_len;
}

static known_addr *known_find(const char *object, size_t len, uint64_t offset)
{
    if (!known.slots)
        return NULL;
    size_t j = known_hash(object, len, offset) & (known.cap - 1);
    for (; known.slots[j].object; j = (j + 1) & (known.cap - 1)) {
        known_addr *k = &known.slots[j];
        if (k->offset == offset && k->object_len == len && !memcmp(k->object, object, len))
            return k;
    }
    return NULL;
}

static char *copy(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Remembers fr[n] for (object, offset); quietly nothing when out of memory. */
static void known_add(const char *object, size_t len, uint64_t offset, const cli_sym_frame *fr,
                      size_t n)
{
    if ((known.used + 1) * 2 > known.cap) {
        size_t cap = known.cap ? known.cap * 2 : 4096;
        known_addr *t = calloc(cap, sizeof *t);
        if (!t)
            return;
        for (size_t i = 0; i < known.cap; i++) {
            known_addr *k = &known.slots[i];
            if (!k->object)
                continue;
            size_t j = known_hash(k->object, k->object_len, k->offset) & (cap - 1);
            while (t[j].object)
                j = (j + 1) & (cap - 1);
            t[j] = *k;
        }
        free(known.slots);
        known.slots = t;
        known.cap = cap;
    }
    char *obj = malloc(len);
    cli_sym_frame *frames = calloc(n, sizeof *frames);
    if (!obj || !frames) {
        free(obj);
        free(frames);
        return;
    }
    memcpy(obj, object, len);
    for (size_t k = 0; k < n; k++) {
        frames[k] = fr[k];
        frames[k].function = copy(fr[k].function);
        frames[k].file = copy(fr[k].file);
        frames[k].system_name =
            fr[k].system_name == fr[k].function ? frames[k].function : copy(fr[k].system_name);
        frames[k].module = NULL;
        if (!frames[k].function)
            frames[k].function = "??";
    }
    size_t j = known_hash(obj, len, offset) & (known.cap - 1);
    while (known.slots[j].object)
        j = (j + 1) & (known.cap - 1);
    known.slots[j] = (known_addr){NULL, obj, len, offset, (uint32_t)n, frames};
    known.used++;
}

/* An address's frames: known from an earlier profile of the command, else
 * from the profile's own symbolizer (and then remembered). */
static const cli_sym_frame *name_of(cli_symbolizer *sym, uint64_t addr, size_t *n)
{
    const prof_module *m = cli_sym_module(sym, addr - 1);
    char object[4096 + 256];
    size_t len = m ? object_key(m, object, sizeof object) : 0;
    if (len) {
        known_addr *k = known_find(object, len, addr - m->base);
        if (k) {
            *n = k->n;
            return k->frames;
        }
    }
    const cli_sym_frame *fr = cli_sym_lookup(sym, addr, n);
    if (len)
        known_add(object, len, addr - m->base, fr, *n);
    return fr;
}

/* The file's sections but NAMES, as they are, into w after its header. */
static void copy_sections(prof_writer *w, const uint8_t *d, size_t len)
{
    base_buf_put(&w->buf, d, PROF_HEADER_BYTES);
    size_t off = PROF_HEADER_BYTES;
    while (off + PROF_END_BYTES < len) { /* the reader checked the frame of the file */
        uint32_t tag = 0;
        uint64_t length = 0;
        for (int i = 3; i >= 0; i--)
            tag = tag << 8 | d[off + i];
        for (int i = 7; i >= 0; i--)
            length = length << 8 | d[off + PROF_SECTION_LENGTH_AT + i];
        size_t whole = PROF_SECTION_HEADER_BYTES + (size_t)length;
        if (tag != PROF_SEC_NAMES)
            base_buf_put(&w->buf, d + off, whole);
        off += whole;
    }
}

/* Whether every address of the profile has stored names. */
static int all_named(const prof_profile *p)
{
    if (!p->name_at)
        return p->naddrs == 0;
    for (size_t f = 0; f < p->naddrs; f++)
        if (p->name_at[f] == p->name_at[f + 1])
            return 0;
    return 1;
}

/* The NAMES section of p, named by sym, into w. -1 when out of memory. */
static int write_names(prof_writer *w, const prof_profile *p, cli_symbolizer *sym)
{
    string_set ss = {0};
    /* addrs[f]'s source frames are refs[start[f] .. start[f] + count[f]) */
    size_t nrefs = 0, cap = 1024;
    prof_name_ref *refs = malloc(cap * sizeof *refs);
    uint32_t *count = calloc(p->naddrs + 1, sizeof *count);
    size_t *start = calloc(p->naddrs + 1, sizeof *start);
    int rc = refs && count && start ? 0 : -1;
    for (size_t f = 0; rc == 0 && f < p->naddrs; f++) {
        size_t n;
        const cli_sym_frame *fr = name_of(sym, p->addrs[f], &n);
        int useful = 0;
        for (size_t k = 0; k < n; k++)
            useful |= fr[k].known || fr[k].file;
        if (!useful)
            continue; /* a later report does as well */
        if (n > PROF_MAX_INLINED)
            n = PROF_MAX_INLINED;
        if (nrefs + n > cap) {
            prof_name_ref *t = realloc(refs, (cap *= 2) * sizeof *refs);
            if (!t) {
                rc = -1;
                break;
            }
            refs = t;
        }
        start[f] = nrefs;
        prof_name_ref *r = &refs[nrefs];
        nrefs += n;
        for (size_t k = 0; k < n; k++) {
            const char *sys = fr[k].system_name && strcmp(fr[k].system_name, fr[k].function) != 0
                                  ? fr[k].system_name
                                  : NULL;
            r[k] = (prof_name_ref){
                string_ref(&ss, fr[k].function), string_ref(&ss, sys), string_ref(&ss, fr[k].file),
                fr[k].line > 0 ? (uint32_t)fr[k].line : 0,
                (fr[k].inlined ? PROF_NAME_INLINED : 0) | (fr[k].known ? PROF_NAME_KNOWN : 0)};
            if (r[k].function == UINT32_MAX || r[k].system_name == UINT32_MAX ||
                r[k].file == UINT32_MAX)
                rc = -1;
        }
        count[f] = (uint32_t)n;
    }
    if (rc == 0) {
        prof_section_begin(w, PROF_SEC_NAMES);
        prof_write_name_strings(w, ss.strings, ss.n);
        for (size_t f = 0; f < p->naddrs; f++)
            if (count[f])
                prof_write_named_frame(w, (uint32_t)f, &refs[start[f]], count[f]);
        prof_section_end(w);
    }
    free(refs);
    free(count);
    free(start);
    free(ss.strings);
    free(ss.slots);
    return rc;
}

int cli_names_store(const char *path, char *err, size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (slurp(path, &data, &len, err, errlen) != 0)
        return 1;
    prof_profile *p;
    if (prof_parse(data, len, 0, &p, err, errlen) != 0) {
        free(data);
        return 1;
    }
    int rc = 0;
    if (p->version < PROF_VERSION_TREE) {
        rc = say(err, errlen, "a version %u profile cannot store names (version %d can)",
                 p->version, PROF_VERSION_TREE);
    } else if (!all_named(p)) {
        cli_symbolizer *sym = cli_sym_new(p);
        prof_writer w = {0};
        if (!sym)
            rc = say(err, errlen, "out of memory");
        else {
            copy_sections(&w, data, len);
            if (write_names(&w, p, sym) != 0 || prof_write_end(&w) != 0)
                rc = say(err, errlen, "out of memory");
            int e = rc == 0 ? prof_write_file(&w, path) : 0;
            if (e)
                rc = say(err, errlen, "cannot rewrite: %s", strerror(e));
        }
        prof_writer_free(&w);
        cli_sym_free(sym);
    }
    prof_free(p);
    free(data);
    return rc;
}
