/* report_pprof.c: a gzipped profile.proto (github.com/google/pprof,
 * proto/profile.proto), for `go tool pprof`, speedscope and friends.
 *
 * Encoded by hand: a profile is a handful of message types made of varints
 * and length-delimited fields, which a small writer covers without a
 * protobuf library. Each (stack, pool) record is one sample with the values
 * alloc_objects, alloc_space, inuse_objects, inuse_space, peak_space (its
 * bytes at the global peak) and the pool as the "pool" label; each leak group (stack, pool, kind)
 * is one more, with the values leak_objects and leak_space and the labels "pool", "kind" (definite,
 * indirect, possible, reachable, or live when no leak check ran) and, when suppressed,
 * "suppressed_by". So `pprof -sample_index=leak_space -tagfocus=kind=definite,indirect` shows the
 * leaks. Each return address is one location whose lines are its inlined frames, innermost first,
 * as pprof expects; a function's name is demangled, its system_name the mangled one. */
#include <config.h>

#include "base/hash.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- a protobuf writer ----------------------------------------------------- */

typedef struct {
    uint8_t *b;
    size_t n, cap;
    int oom;
} pbuf;

static void pb_raw(pbuf *p, const void *data, size_t len)
{
    if (p->oom)
        return;
    if (p->n + len > p->cap) {
        size_t cap = (p->n + len) * 2 + 64;
        uint8_t *b = realloc(p->b, cap);
        if (!b) {
            p->oom = 1;
            return;
        }
        p->b = b;
        p->cap = cap;
    }
    memcpy(p->b + p->n, data, len);
    p->n += len;
}

static void pb_varint(pbuf *p, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(p, tmp, n);
}

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static void pb_int(pbuf *p, int field, int64_t v)
{
    if (v == 0)
        return; /* proto3: zero is the default, not written */
    pb_varint(p, (uint64_t)field << 3 | WIRE_VARINT);
    pb_varint(p, (uint64_t)v);
}

static void pb_bytes(pbuf *p, int field, const void *data, size_t len)
{
    pb_varint(p, (uint64_t)field << 3 | WIRE_LEN);
    pb_varint(p, len);
    pb_raw(p, data, len);
}

/* A nested message: its bytes, then reset for the next one. */
static void pb_msg(pbuf *p, int field, pbuf *sub)
{
    pb_bytes(p, field, sub->b, sub->n);
    p->oom |= sub->oom;
    sub->n = 0;
}

/* ---- interning: strings, functions, locations ------------------------------ */

typedef struct {
    uint64_t key; /* a hash (strings) or an address/pair (functions, locations) */
    int64_t id;
    const char *s; /* strings only */
} islot;

typedef struct {
    islot *s;
    size_t cap, n;
} itab;

/* Finds key (and string s when interning strings); inserts with id = n + base when absent. */
static int64_t intern(itab *t, uint64_t key, const char *s, int64_t base, int *added)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        islot *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->s[i].id)
                continue;
            size_t j = base_hash_u64(t->s[i].key) & (cap - 1);
            while (ns[j].id)
                j = (j + 1) & (cap - 1);
            ns[j] = t->s[i];
        }
        free(t->s);
        t->s = ns;
        t->cap = cap;
    }
    size_t j = base_hash_u64(key) & (t->cap - 1);
    while (t->s[j].id) {
        if (t->s[j].key == key && (!s || !strcmp(t->s[j].s, s))) {
            *added = 0;
            return t->s[j].id - 1;
        }
        j = (j + 1) & (t->cap - 1);
    }
    t->s[j] = (islot){key, (int64_t)t->n + base + 1, s};
    t->n++;
    *added = 1;
    return t->s[j].id - 1;
}

typedef struct {
    report_ctx *c;
    pbuf out, sub, sub2;
    itab strings, functions, locations;
    uint64_t *frame_location; /* per frame index: its location id, 0 while not made */
} pprof;

/* String table index; new strings go straight into the output (field 6). */
static int64_t str(pprof *w, const char *s)
{
    if (!s)
        s = "";
    int added;
    int64_t id = intern(&w->strings, base_hash_str(s), s, 0, &added);
    if (id < 0)
        w->out.oom = 1;
    else if (added)
        pb_bytes(&w->out, 6, s, strlen(s));
    return id < 0 ? 0 : id;
}

static uint64_t function_id(pprof *w, const cli_sym_frame *f)
{
    int64_t name = str(w, f->function), file = str(w, f->file);
    int64_t system = str(w, f->system_name ? f->system_name : f->function);
    int added;
    int64_t id = intern(&w->functions, (uint64_t)system << 32 | (uint64_t)file, NULL, 1, &added);
    if (id < 0) {
        w->out.oom = 1;
        return 0;
    }
    if (added) {
        pb_int(&w->sub2, 1, id);
        pb_int(&w->sub2, 2, name);
        pb_int(&w->sub2, 3, system);
        pb_int(&w->sub2, 4, file);
        pb_msg(&w->out, 5, &w->sub2);
    }
    return (uint64_t)id;
}

static uint64_t location_id(pprof *w, uint64_t addr)
{
    int added;
    int64_t id = intern(&w->locations, addr, NULL, 1, &added);
    if (id < 0) {
        w->out.oom = 1;
        return 0;
    }
    if (added) {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(w->c->sym, addr, &n);
        uint64_t fids[32];
        for (size_t k = 0; k < n && k < 32; k++)
            fids[k] = function_id(w, &fr[k]); /* writes Function messages first */
        const prof_module *m = cli_sym_module(w->c->sym, addr - 1);
        pbuf loc = {0}, line = {0};
        pb_int(&loc, 1, id);
        if (m)
            pb_int(&loc, 2, (int64_t)(m - w->c->p->modules) + 1);
        pb_int(&loc, 3, (int64_t)addr);
        for (size_t k = 0; k < n && k < 32; k++) {
            pb_int(&line, 1, (int64_t)fids[k]);
            pb_int(&line, 2, fr[k].line);
            pb_msg(&loc, 4, &line);
        }
        pb_msg(&w->out, 4, &loc);
        w->out.oom |= loc.oom;
        free(loc.b);
        free(line.b);
    }
    return (uint64_t)id;
}

static void value_type(pprof *w, int field, const char *type, const char *unit)
{
    pb_int(&w->sub, 1, str(w, type));
    pb_int(&w->sub, 2, str(w, unit));
    pb_msg(&w->out, field, &w->sub);
}

static void mappings(pprof *w)
{
    const prof_profile *p = w->c->p;
    for (size_t i = 0; i < p->nmodules; i++) {
        const prof_module *m = &p->modules[i];
        char hex[2 * 64 + 1] = "";
        for (uint32_t b = 0; b < m->build_id_len && b < 64; b++)
            snprintf(hex + 2 * b, 3, "%02x", m->build_id[b]);
        int64_t file = str(w, m->path), bid = str(w, hex);
        pb_int(&w->sub, 1, (int64_t)i + 1);
        pb_int(&w->sub, 2, (int64_t)m->start);
        pb_int(&w->sub, 3, (int64_t)m->end);
        pb_int(&w->sub, 5, file);
        pb_int(&w->sub, 6, bid);
        pb_int(&w->sub, 7, 1);  /* has_functions */
        pb_int(&w->sub, 8, 1);  /* has_filenames */
        pb_int(&w->sub, 9, 1);  /* has_line_numbers */
        pb_int(&w->sub, 10, 1); /* has_inline_frames */
        pb_msg(&w->out, 3, &w->sub);
    }
}

enum { NVALUES = 7 }; /* the sample types, in report_pprof's order */

typedef struct {
    pbuf ids, vals, label;
} sample_bufs;

static void label(pprof *w, sample_bufs *b, const char *key, const char *value)
{
    pb_int(&b->label, 1, str(w, key));
    pb_int(&b->label, 2, str(w, value));
    pb_msg(&w->sub, 3, &b->label);
}

/* One Sample: the stack's locations, the values, then its labels. */
static void sample(pprof *w, sample_bufs *b, uint32_t stack_id, const int64_t v[NVALUES])
{
    const prof_profile *p = w->c->p;
    const prof_stack *st = prof_find_stack(p, stack_id);
    for (uint32_t k = st ? st->node : 0; k != 0; k = p->nodes[k].parent) { /* the leaf first */
        uint32_t f = p->nodes[k].frame;
        if (!w->frame_location[f])
            w->frame_location[f] = location_id(w, p->addrs[f]);
        pb_varint(&b->ids, w->frame_location[f]);
    }
    for (int k = 0; k < NVALUES; k++)
        pb_varint(&b->vals, (uint64_t)v[k]);
    pb_msg(&w->sub, 1, &b->ids); /* packed */
    pb_msg(&w->sub, 2, &b->vals);
}

static void samples(pprof *w)
{
    const prof_profile *p = w->c->p;
    sample_bufs b = {{0}, {0}, {0}};
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        int64_t v[NVALUES] = {r->total_count, r->total_bytes, r->live_count, r->live_bytes, 0, 0,
                              r->peak_bytes};
        sample(w, &b, r->stack_id, v);
        label(w, &b, "pool", prof_pool_name(p, r->pool_id));
        pb_msg(&w->out, 2, &w->sub);
    }
    for (int l = 0; l < REPORT_LISTS; l++) {
        const leak_list *L = &w->c->lists[l];
        for (size_t i = 0; i < L->n; i++) {
            const leak_group *g = &L->g[i];
            int64_t v[NVALUES] = {0, 0, 0, 0, g->count, g->bytes, 0};
            sample(w, &b, g->stack_id, v);
            label(w, &b, "pool", prof_pool_name(p, g->pool_id));
            label(w, &b, "kind", report_kind_name(g->kind));
            if (g->rule)
                label(w, &b, "suppressed_by", g->rule);
            pb_msg(&w->out, 2, &w->sub);
        }
    }
    w->out.oom |= b.ids.oom | b.vals.oom | b.label.oom;
    free(b.ids.b);
    free(b.vals.b);
    free(b.label.b);
}

static int gzip_out(FILE *out, const uint8_t *data, size_t len)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uint8_t buf[1 << 16];
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len; /* profiles are far below 4 GiB */
    int rc;
    do {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        rc = deflate(&z, Z_FINISH);
        size_t have = sizeof buf - z.avail_out;
        if (have && fwrite(buf, 1, have, out) != have) {
            deflateEnd(&z);
            return -1;
        }
    } while (rc == Z_OK);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

int report_pprof(report_ctx *c)
{
    if (c->out == stdout && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "tally report: pprof is binary: write it with -o FILE or a redirection\n");
        return CLI_EXIT_BAD_INPUT;
    }
    const prof_profile *p = c->p;
    pprof w = {.c = c, .frame_location = calloc(p->naddrs ? p->naddrs : 1, sizeof(uint64_t))};
    if (!w.frame_location) {
        fprintf(stderr, "tally: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    str(&w, ""); /* string 0 is always "" */
    value_type(&w, 1, "alloc_objects", "count");
    value_type(&w, 1, "alloc_space", "bytes");
    value_type(&w, 1, "inuse_objects", "count");
    value_type(&w, 1, "inuse_space", "bytes");
    value_type(&w, 1, "leak_objects", "count");
    value_type(&w, 1, "leak_space", "bytes");
    value_type(&w, 1, "peak_space", "bytes");
    mappings(&w);
    samples(&w);
    pb_int(&w.out, 9, p->start_ns);
    pb_int(&w.out, 10, p->duration_ns);
    value_type(&w, 11, "space", "bytes");
    pb_int(&w.out, 12, p->sample_bytes > 0 ? p->sample_bytes : 1);
    pb_int(&w.out, 14, str(&w, "inuse_space"));
    int rc = CLI_EXIT_OK;
    if (w.out.oom || w.sub.oom || w.sub2.oom) {
        fprintf(stderr, "tally: out of memory\n");
        rc = CLI_EXIT_FAILURE;
    } else if (gzip_out(c->out, w.out.b, w.out.n) != 0) {
        fprintf(stderr, "tally: cannot write the pprof output\n");
        rc = CLI_EXIT_FAILURE;
    }
    free(w.out.b);
    free(w.sub.b);
    free(w.sub2.b);
    free(w.strings.s);
    free(w.functions.s);
    free(w.locations.s);
    free(w.frame_location);
    return rc;
}
