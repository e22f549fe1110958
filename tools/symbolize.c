/* symbolize.c: libdw symbolization with a per-address cache.
 *
 * Every module of the profile is reported to one offline Dwfl at its
 * recorded load bias, so addresses are looked up as they were in the
 * process. For each address we walk the DWARF scopes from the innermost
 * inlined subroutine out to its subprogram: the innermost frame takes its
 * file:line from the line table, each outer one from the call site
 * (DW_AT_call_file/DW_AT_call_line) of the inlined scope it contains. */
#include <config.h>

#include "symbolize.h"

#include "demangle.h"
#include "dwarf_name.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <libelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint64_t addr; /* 0: empty slot (address 0 is never a return address we cache) */
    uint32_t n;
    cli_sym_frame *frames;
} slot;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

struct cli_symbolizer {
    const prof_profile *p;
    Dwfl *dwfl;
    const prof_module **mods; /* sorted by start */
    size_t nmods;
    slot *slots;
    size_t cap, used;
    chunk *strings;
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static char *keep(cli_symbolizer *s, const char *text)
{
    size_t n = strlen(text) + 1;
    if (!s->strings || s->strings->cap - s->strings->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = s->strings;
        c->used = 0;
        c->cap = cap;
        s->strings = c;
    }
    char *out = s->strings->data + s->strings->used;
    memcpy(out, text, n);
    s->strings->used += n;
    return out;
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
    if (lo == 0)
        return NULL;
    const prof_module *m = s->mods[lo - 1];
    return addr < m->end ? m : NULL;
}

/* The object on disk must be the one that was loaded: a different build-id
 * would give confident, wrong answers, so such a module is not reported. */
static int build_id_matches(const char *path, const prof_module *m)
{
    if (m->build_id_len == 0)
        return 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *bits = NULL;
    ssize_t n = e ? dwelf_elf_gnu_build_id(e, &bits) : -1;
    int ok =
        n <= 0 || ((uint32_t)n == m->build_id_len && memcmp(bits, m->build_id, (size_t)n) == 0);
    if (e)
        elf_end(e);
    close(fd);
    return ok;
}

cli_symbolizer *cli_sym_new(const prof_profile *p)
{
    cli_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = p;
    s->mods = calloc(p->nmodules ? p->nmodules : 1, sizeof *s->mods);
    s->cap = 1024;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->mods || !s->slots) {
        cli_sym_free(s);
        return NULL;
    }
    for (size_t i = 0; i < p->nmodules; i++)
        if (p->modules[i].start < p->modules[i].end)
            s->mods[s->nmods++] = &p->modules[i];
    qsort(s->mods, s->nmods, sizeof *s->mods, cmp_mod);

    /* Offline by default: a debuginfod server would be asked over the
     * network for every object, which a report must not wait on. */
    if (!getenv("TALLY_DEBUGINFOD"))
        unsetenv("DEBUGINFOD_URLS");
    s->dwfl = dwfl_begin(&callbacks);
    if (s->dwfl) {
        dwfl_report_begin(s->dwfl);
        for (size_t i = 0; i < s->nmods; i++) {
            const prof_module *m = s->mods[i];
            if (!m->path || m->path[0] != '/' || access(m->path, R_OK) != 0)
                continue;
            if (!build_id_matches(m->path, m)) {
                fprintf(stderr,
                        "tally: %s has changed since the profile (build-id): not symbolized\n",
                        m->path);
                continue;
            }
            dwfl_report_elf(s->dwfl, strrchr(m->path, '/') + 1, m->path, -1, m->base, true);
        }
        dwfl_report_end(s->dwfl, NULL, NULL);
    }
    return s;
}

void cli_sym_free(cli_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots ? s->slots[i].frames : NULL);
    free(s->slots);
    free(s->mods);
    while (s->strings) {
        chunk *next = s->strings->next;
        free(s->strings);
        s->strings = next;
    }
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s);
}

static int is_mangled(const char *name)
{
    return name[0] == '_' && name[1] == 'Z';
}

/* function demangled, system_name as the object spells it. */
static void set_names(cli_symbolizer *s, cli_sym_frame *f)
{
    f->system_name = f->function;
    char *d = cli_demangle(f->function);
    if (d) {
        const char *kept = keep(s, d);
        if (kept)
            f->function = kept;
        free(d);
    }
}

/* A line table may name files relative to the compilation directory (an
 * in-tree build does); a report names them in full, so they can be opened
 * from wherever the report is read. */
static const char *full_path(cli_symbolizer *s, Dwarf_Die *cu, const char *file)
{
    if (!file || file[0] == '/')
        return file;
    Dwarf_Attribute a;
    const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
    if (!dir || !*dir)
        return file;
    char joined[4200];
    snprintf(joined, sizeof joined, "%s/%s", dir, file);
    const char *kept = keep(s, joined);
    return kept ? kept : file;
}

/* Inlined frames from DWARF scopes; returns how many were written to out. */
static size_t from_dwarf(cli_symbolizer *s, Dwfl_Module *dm, Dwarf_Addr pc, cli_sym_frame *out,
                         size_t max)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(dm, pc, &bias);
    if (!cu)
        return 0;
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *l = dwfl_module_getsrc(dm, pc);
    if (l)
        file = full_path(s, cu, dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL));
    /* dwarf_getscopes continues from an inlined scope into its abstract
     * definition; the chain of the concrete DIE (getscopes_die) continues
     * into the function it was inlined into, which is what we want. */
    Dwarf_Die *scopes = NULL, innermost;
    int n = dwarf_getscopes(cu, pc - bias, &scopes);
    if (n > 0) {
        innermost = scopes[0];
        free(scopes);
        scopes = NULL;
        n = dwarf_getscopes_die(&innermost, &scopes);
    }
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
        files = NULL;
    size_t k = 0;
    for (int i = 0; i < n && k < max; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        char qualified[1024];
        const char *name = cli_dwarf_name(&scopes[i], cu, qualified, sizeof qualified);
        if (name == qualified)
            name = keep(s, qualified);
        out[k] = (cli_sym_frame){name ? name : "??", file, line, 0, NULL, 1, NULL};
        k++;
        if (tag == DW_TAG_subprogram)
            break;
        out[k - 1].inlined = 1;
        /* The caller's position is this inlined scope's call site. */
        Dwarf_Attribute a;
        Dwarf_Word cf = 0, cl = 0;
        file = NULL;
        line = 0;
        if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &cf) == 0)
            file = full_path(s, cu, dwarf_filesrc(files, cf, NULL, NULL));
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &cl) == 0)
            line = (int)cl;
    }
    free(scopes);
    if (k == 0 && file) { /* a line but no scope: keep the position at least */
        out[0] = (cli_sym_frame){NULL, file, line, 0, NULL, 0, NULL};
        k = 1;
    }
    return k;
}

static cli_sym_frame *resolve(cli_symbolizer *s, uint64_t ret, uint32_t *nout)
{
    cli_sym_frame tmp[32];
    size_t n = 0;
    /* A return address points after the call: look up the call itself. */
    uint64_t pc = ret > 0 ? ret - 1 : 0;
    const prof_module *m = cli_sym_module(s, pc);
    Dwfl_Module *dm = s->dwfl ? dwfl_addrmodule(s->dwfl, pc) : NULL;
    if (dm)
        n = from_dwarf(s, dm, pc, tmp, sizeof tmp / sizeof tmp[0]);
    if (n > 0 && tmp[n - 1].function && !is_mangled(tmp[n - 1].function)) {
        /* DWARF without a linkage name (a C++ function with internal
         * linkage): the symbol table still has the mangled one, which says
         * the parameters too. A C function's symbol is not mangled. */
        GElf_Off off;
        GElf_Sym es;
        const char *sym = dwfl_module_addrinfo(dm, pc, &off, &es, NULL, NULL, NULL);
        if (sym && is_mangled(sym))
            tmp[n - 1].function = sym;
    }
    if (n == 0 || tmp[0].function == NULL || strcmp(tmp[n - 1].function, "??") == 0) {
        /* No debug info: the symbol table names the function. */
        const char *sym = NULL;
        if (dm) {
            GElf_Off off;
            GElf_Sym es;
            sym = dwfl_module_addrinfo(dm, pc, &off, &es, NULL, NULL, NULL);
        }
        if (n == 0)
            tmp[n++] = (cli_sym_frame){NULL, NULL, 0, 0, NULL, 0, NULL};
        if (sym) {
            tmp[n - 1].function = sym;
            tmp[n - 1].known = 1;
        } else if (tmp[n - 1].function == NULL || !strcmp(tmp[n - 1].function, "??")) {
            char text[4200];
            if (m)
                snprintf(text, sizeof text, "%s+0x%" PRIx64,
                         strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path,
                         ret - m->base);
            else
                snprintf(text, sizeof text, "0x%" PRIx64, ret);
            tmp[n - 1].function = keep(s, text);
            if (!tmp[n - 1].function)
                tmp[n - 1].function = "??";
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!tmp[i].function)
            tmp[i].function = "??";
        tmp[i].module = m ? m->path : NULL;
        set_names(s, &tmp[i]);
    }
    cli_sym_frame *out = malloc(n * sizeof *out);
    if (!out)
        return NULL;
    memcpy(out, tmp, n * sizeof *out);
    *nout = (uint32_t)n;
    return out;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int grow(cli_symbolizer *s)
{
    size_t cap = s->cap * 2;
    slot *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].frames)
            continue;
        size_t j = mix(s->slots[i].addr) & (cap - 1);
        while (t[j].frames)
            j = (j + 1) & (cap - 1);
        t[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = t;
    s->cap = cap;
    return 0;
}

const cli_sym_frame *cli_sym_lookup(cli_symbolizer *s, uint64_t ret, size_t *n)
{
    static const cli_sym_frame unknown = {"??", NULL, 0, 0, NULL, 0, "??"};
    size_t j = mix(ret) & (s->cap - 1);
    while (s->slots[j].frames) {
        if (s->slots[j].addr == ret) {
            *n = s->slots[j].n;
            return s->slots[j].frames;
        }
        j = (j + 1) & (s->cap - 1);
    }
    uint32_t count = 0;
    cli_sym_frame *f = resolve(s, ret, &count);
    if (!f) {
        *n = 1;
        return &unknown;
    }
    if ((s->used + 1) * 2 > s->cap) {
        if (grow(s) != 0) {
            *n = count;
            return f; /* leaks f, but only when memory is exhausted */
        }
        j = mix(ret) & (s->cap - 1);
        while (s->slots[j].frames)
            j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = (slot){ret, count, f};
    s->used++;
    *n = count;
    return f;
}
