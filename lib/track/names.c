/* names.c: stacks named in the process, as valgrind and LeakSanitizer name
 * them: function and file:line, inlined frames included, static functions
 * from the symbol table, C++ demangled. The symbolizer is the tools' own
 * (lib/symbolize), bound to libdw by dlopen the first time names are
 * needed: a tracked program does not load libdw at start-up, and one that
 * never prints a stack never loads it. Without libdw, dladdr names what
 * the dynamic symbol table holds.
 *
 * DWARF is read from the objects themselves only (the program and its
 * libraries built with -g); an object whose debug info is detached (libc
 * with libc6-dbg installed, any dbgsym package) is named from that file's
 * symbol table, static functions included, but without file:line: detached
 * DWARF is compressed, and inflating it cost seconds and tens of MiB at
 * exit (python3: 2.5 s and 35 MiB instead of 0.2 s and 17 MiB). `tally
 * report` reads it all, offline. Detached files come from /usr/lib/debug's
 * build-id tree only: libdw's standard search would end in a debuginfod
 * query, which loads libdebuginfod and libcurl into the exiting program. */
#include "track/names.h"

#include "track/modules.h"
#include "track/say.h"
#include "track/stack_table.h"

#include "symbolize/symbolize.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tt_names {
    sym_symbolizer *sym;
    tt_module *mods; /* the symbolizer's module indexes point here */
    size_t nmods;
};

typedef struct {
    tt_module *mods;
    size_t n, cap;
} module_list;

/* Runs under the loader's lock: counts, or copies into room made before. */
static void collect(const tt_module *m, void *arg)
{
    module_list *l = arg;
    if (l->mods && l->n < l->cap)
        l->mods[l->n] = *m;
    l->n++;
}

static void stale(const char *path, void *arg)
{
    (void)arg;
    tt_say(tally_track_say_fd(),
           "tally: %s has changed on disk since it was loaded (build-id): not symbolized\n", path);
}

tt_names *tt_names_open(void)
{
    const sym_dw *dw = sym_dw_dlopen();
    if (!dw)
        return NULL;
    /* Counted first: no allocation under the loader's lock. */
    module_list l = {0};
    tt_modules_each(collect, &l);
    l.cap = l.n + 8; /* room for what a concurrent dlopen adds */
    l.n = 0;
    tt_names *n = calloc(1, sizeof *n);
    l.mods = calloc(l.cap, sizeof *l.mods);
    sym_module *sm = calloc(l.cap, sizeof *sm);
    if (!n || !l.mods || !sm)
        goto fail;
    tt_modules_each(collect, &l);
    n->mods = l.mods;
    n->nmods = l.n < l.cap ? l.n : l.cap;
    for (size_t i = 0; i < n->nmods; i++) {
        const tt_module *m = &n->mods[i];
        sm[i] = (sym_module){m->start, m->end, m->base, m->path, m->build_id, m->build_id_len};
    }
    const sym_options opt = {.flags = SYM_DEMANGLE | SYM_LOCAL_DEBUGINFO | SYM_OWN_DWARF_ONLY,
                             .stale = stale};
    if (sym_new(dw, sm, n->nmods, &opt, &n->sym) != 0)
        goto fail;
    free(sm);
    return n;
fail:
    free(sm);
    free(l.mods);
    free(n);
    return NULL;
}

void tt_names_close(tt_names *n)
{
    if (!n)
        return;
    sym_free(n->sym);
    free(n->mods);
    free(n);
}

/* Today's names, when libdw cannot be had: the dynamic symbol table's. */
static void print_dladdr(int fd, int i, uintptr_t addr)
{
    Dl_info info;
    /* A return address points after the call: look up the call itself. */
    if (dladdr((void *)(addr - 1), &info) && info.dli_fname) {
        const char *mod = strrchr(info.dli_fname, '/');
        mod = mod ? mod + 1 : info.dli_fname;
        if (info.dli_sname)
            tt_say(fd, "    #%d 0x%lx in %s+0x%lx (%s)\n", i, (unsigned long)addr, info.dli_sname,
                   (unsigned long)(addr - (uintptr_t)info.dli_saddr), mod);
        else
            tt_say(fd, "    #%d 0x%lx (%s+0x%lx)\n", i, (unsigned long)addr, mod,
                   (unsigned long)(addr - (uintptr_t)info.dli_fbase));
    } else {
        tt_say(fd, "    #%d 0x%lx\n", i, (unsigned long)addr);
    }
}

/* One line per frame of addr, numbered on from *i: LeakSanitizer's shape,
 * "in function file:line", or "in function (module+0xoffset)" from the
 * symbol table, or "(module+0xoffset)" when nothing names it. */
static void print_named(int fd, tt_names *n, int *i, uintptr_t addr)
{
    size_t nf;
    const sym_frame *f = sym_lookup(n->sym, addr, &nf);
    long mi = sym_module_index(n->sym, addr - 1);
    const tt_module *m = mi >= 0 ? &n->mods[mi] : NULL;
    for (size_t k = 0; k < nf; k++, (*i)++) {
        const char *inl = f[k].inlined ? " (inlined)" : "";
        if (f[k].known && f[k].file)
            tt_say(fd, "    #%d 0x%lx in %s %s:%d%s\n", *i, (unsigned long)addr, f[k].function,
                   f[k].file, f[k].line, inl);
        else if (f[k].known && m)
            tt_say(fd, "    #%d 0x%lx in %s (%s+0x%lx)%s\n", *i, (unsigned long)addr, f[k].function,
                   m->path, (unsigned long)(addr - m->base), inl);
        else if (f[k].known)
            tt_say(fd, "    #%d 0x%lx in %s%s\n", *i, (unsigned long)addr, f[k].function, inl);
        else if (m)
            tt_say(fd, "    #%d 0x%lx (%s+0x%lx)%s%s%s\n", *i, (unsigned long)addr, m->path,
                   (unsigned long)(addr - m->base), f[k].file ? " " : "",
                   f[k].file ? f[k].file : "", inl);
        else
            tt_say(fd, "    #%d 0x%lx\n", *i, (unsigned long)addr);
    }
}

void tt_names_print_stack(int fd, tt_names *n, uint32_t stack)
{
    const tt_stack *s = tt_stack_get(stack);
    if (!s) {
        tt_say(fd, "    (no stack: not sampled)\n");
        return;
    }
    int line = 0;
    for (uint32_t i = 0; i < s->nframes; i++) {
        if (n)
            print_named(fd, n, &line, s->frames[i]);
        else
            print_dladdr(fd, line++, s->frames[i]);
    }
}
