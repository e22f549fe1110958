/* symbolize.c: a profile's frames to names: the names the profile stores
 * (its NAMES section, written when the binary was still there) first, and
 * the shared symbolizer (lib/symbolize), bound to the libdw and libstdc++
 * tally links, for the addresses it does not name. libdw is started only
 * at the first such address, so a profile whose binary was rebuilt or
 * deleted reads without a word about it when every frame is stored. Every
 * report prints C++ names demangled, the mangled one kept as system_name. */
#include <config.h>

#include "symbolize.h"

#include "base/hash.h"

#include <stdio.h>
#include <stdlib.h>

struct cli_symbolizer {
    const prof_profile *p;
    sym_symbolizer *sym; /* started at the first address without stored names */
    int sym_failed;
    /* stored names: addrs[frame] by address (frame + 1; 0 empty), and each
     * source frame as the symbolizer would give it */
    uint32_t *slots;
    size_t cap;
    sym_frame *stored; /* p->nnames of them, in p->names' order */
    /* the modules by start, for cli_sym_module */
    const prof_module **mods;
    size_t nmods;
};

static void stale(const char *path, void *arg)
{
    (void)arg;
    fprintf(stderr, "tally: %s has changed since the profile (build-id): not symbolized\n", path);
}

static int cmp_mod(const void *a, const void *b)
{
    uint64_t x = (*(const prof_module *const *)a)->start;
    uint64_t y = (*(const prof_module *const *)b)->start;
    return (x > y) - (x < y);
}

const prof_module *cli_sym_module(const cli_symbolizer *s, uint64_t addr)
{
    size_t lo = 0, hi = s->nmods;
    while (lo < hi) { /* the last module starting at or below addr */
        size_t mid = lo + (hi - lo) / 2;
        if (s->mods[mid]->start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && addr < s->mods[lo - 1]->end ? s->mods[lo - 1] : NULL;
}

/* The stored names as sym_frames, and an index of them by address. */
static int load_stored(cli_symbolizer *s)
{
    const prof_profile *p = s->p;
    if (!p->name_at)
        return 0;
    s->stored = calloc(p->nnames ? p->nnames : 1, sizeof *s->stored);
    for (s->cap = 16; s->cap < 2 * p->naddrs + 2;)
        s->cap *= 2;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->stored || !s->slots)
        return -1;
    for (size_t f = 0; f < p->naddrs; f++) {
        uint32_t n;
        const prof_name *nm = prof_frame_names(p, (uint32_t)f, &n);
        if (!nm)
            continue;
        const prof_module *m = cli_sym_module(s, p->addrs[f] - 1);
        for (uint32_t k = 0; k < n; k++)
            s->stored[p->name_at[f] + k] = (sym_frame){
                .function = nm[k].function,
                .file = nm[k].file,
                .line = (int)nm[k].line,
                .inlined = !!(nm[k].flags & PROF_NAME_INLINED),
                .module = m ? m->path : NULL,
                .known = !!(nm[k].flags & PROF_NAME_KNOWN),
                .system_name = nm[k].system_name ? nm[k].system_name : nm[k].function,
            };
        size_t j = base_hash_u64(p->addrs[f]) & (s->cap - 1);
        while (s->slots[j] && p->addrs[s->slots[j] - 1] != p->addrs[f])
            j = (j + 1) & (s->cap - 1);
        s->slots[j] = (uint32_t)f + 1;
    }
    return 0;
}

cli_symbolizer *cli_sym_new(const prof_profile *p)
{
    cli_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->mods = calloc(p->nmodules ? p->nmodules : 1, sizeof *s->mods);
    if (!s->mods) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < p->nmodules; i++)
        if (p->modules[i].start < p->modules[i].end)
            s->mods[s->nmods++] = &p->modules[i];
    qsort(s->mods, s->nmods, sizeof *s->mods, cmp_mod);
    if (load_stored(s) != 0) {
        cli_sym_free(s);
        return NULL;
    }
    return s;
}

/* libdw over the profile's modules, at the first address it is needed for. */
static sym_symbolizer *start_libdw(cli_symbolizer *s)
{
    if (s->sym || s->sym_failed)
        return s->sym;
    const prof_profile *p = s->p;
    sym_module *mods = calloc(p->nmodules ? p->nmodules : 1, sizeof *mods);
    if (!mods) {
        s->sym_failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < p->nmodules; i++) {
        const prof_module *m = &p->modules[i];
        mods[i] = (sym_module){m->start, m->end, m->base, m->path, m->build_id, m->build_id_len};
    }
    /* A module whose every address is named already is not read: it may
     * have been rebuilt or deleted since, and nothing needs it. */
    for (size_t i = 0; s->slots && i < p->nmodules; i++) {
        int needed = 0;
        for (size_t f = 0; f < p->naddrs && !needed; f++)
            needed = p->name_at[f] == p->name_at[f + 1] && p->addrs[f] - 1 >= mods[i].start &&
                     p->addrs[f] - 1 < mods[i].end;
        if (!needed)
            mods[i].start = mods[i].end = 0; /* sym_new skips an empty range */
    }
    /* Offline by default: a debuginfod server would be asked over the
     * network for every object, which a report must not wait on. */
    if (!getenv("TALLY_DEBUGINFOD"))
        unsetenv("DEBUGINFOD_URLS");
    const sym_options opt = {.flags = SYM_DEMANGLE, .stale = stale};
    if (sym_new(sym_dw_direct(), mods, p->nmodules, &opt, &s->sym) != 0)
        s->sym_failed = 1;
    free(mods);
    return s->sym;
}

void cli_sym_free(cli_symbolizer *s)
{
    if (!s)
        return;
    sym_free(s->sym);
    free(s->slots);
    free(s->stored);
    free(s->mods);
    free(s);
}

const cli_sym_frame *cli_sym_stored(const cli_symbolizer *s, uint64_t ret, size_t *n)
{
    if (!s->slots)
        return NULL;
    const prof_profile *p = s->p;
    for (size_t j = base_hash_u64(ret) & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1)) {
        uint32_t f = s->slots[j] - 1;
        if (p->addrs[f] == ret) {
            *n = p->name_at[f + 1] - p->name_at[f];
            return &s->stored[p->name_at[f]];
        }
    }
    return NULL;
}

const cli_sym_frame *cli_sym_lookup(cli_symbolizer *s, uint64_t ret, size_t *n)
{
    static const sym_frame unknown = {"??", NULL, 0, 0, NULL, 0, "??"};
    const cli_sym_frame *f = cli_sym_stored(s, ret, n);
    if (f)
        return f;
    if (!start_libdw(s)) {
        *n = 1;
        return &unknown;
    }
    return sym_lookup(s->sym, ret, n);
}
