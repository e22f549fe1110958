/* symbolize.c: the profile's modules handed to the shared symbolizer
 * (lib/symbolize), bound to the libdw and libstdc++ tally links. Every
 * report prints C++ names demangled, the mangled one kept as system_name. */
#include <config.h>

#include "symbolize.h"

#include <stdio.h>
#include <stdlib.h>

struct cli_symbolizer {
    const prof_profile *p;
    sym_symbolizer *sym;
};

static void stale(const char *path, void *arg)
{
    (void)arg;
    fprintf(stderr, "tally: %s has changed since the profile (build-id): not symbolized\n", path);
}

cli_symbolizer *cli_sym_new(const prof_profile *p)
{
    cli_symbolizer *s = calloc(1, sizeof *s);
    sym_module *mods = calloc(p->nmodules ? p->nmodules : 1, sizeof *mods);
    if (!s || !mods) {
        free(s);
        free(mods);
        return NULL;
    }
    s->p = p;
    for (size_t i = 0; i < p->nmodules; i++) {
        const prof_module *m = &p->modules[i];
        mods[i] = (sym_module){m->start, m->end, m->base, m->path, m->build_id, m->build_id_len};
    }
    /* Offline by default: a debuginfod server would be asked over the
     * network for every object, which a report must not wait on. */
    if (!getenv("TALLY_DEBUGINFOD"))
        unsetenv("DEBUGINFOD_URLS");
    const sym_options opt = {.flags = SYM_DEMANGLE, .stale = stale};
    int rc = sym_new(sym_dw_direct(), mods, p->nmodules, &opt, &s->sym);
    free(mods);
    if (rc != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void cli_sym_free(cli_symbolizer *s)
{
    if (!s)
        return;
    sym_free(s->sym);
    free(s);
}

const cli_sym_frame *cli_sym_lookup(cli_symbolizer *s, uint64_t ret, size_t *n)
{
    return sym_lookup(s->sym, ret, n);
}

const prof_module *cli_sym_module(const cli_symbolizer *s, uint64_t addr)
{
    long i = sym_module_index(s->sym, addr);
    return i >= 0 ? &s->p->modules[i] : NULL;
}
