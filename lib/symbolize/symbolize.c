/* symbolize.c: libdw symbolization with a per-address cache.
 *
 * For each address we walk the DWARF scopes from the innermost inlined
 * subroutine out to its subprogram: the innermost frame takes its
 * file:line from the line table, each outer one from the call site
 * (DW_AT_call_file/DW_AT_call_line) of the inlined scope it contains. */
#include <config.h>

#include "base/hash.h"
#include "symbolize/symbolize.h"

#include "symbolize/dwarf_name.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint64_t addr; /* 0: empty slot (address 0 is never a return address we cache) */
    uint32_t n;
    sym_frame *frames;
} slot;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

typedef struct {
    sym_module m;  /* path copied into the symbolizer's strings */
    long index;    /* in the caller's array */
    int own_dwarf; /* SYM_OWN_DWARF_ONLY: -1 not looked yet, 0 no, 1 the object has DWARF */
} module;

struct sym_symbolizer {
    const sym_dw *dw;
    unsigned flags;
    Dwfl_Callbacks callbacks; /* the Dwfl keeps a pointer to them */
    char *debuginfo_path;
    Dwfl *dwfl;
    module *mods; /* sorted by start */
    size_t nmods;
    slot *slots;
    size_t cap, used;
    chunk *strings;
};

static char *keep(sym_symbolizer *s, const char *text)
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
    uint64_t x = ((const module *)a)->m.start;
    uint64_t y = ((const module *)b)->m.start;
    return (x > y) - (x < y);
}

static const module *find_module(const sym_symbolizer *s, uint64_t addr)
{
    size_t lo = 0, hi = s->nmods;
    while (lo < hi) { /* the last module starting at or below addr */
        size_t mid = lo + (hi - lo) / 2;
        if (s->mods[mid].m.start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const module *m = &s->mods[lo - 1];
    return addr < m->m.end ? m : NULL;
}

long sym_module_index(const sym_symbolizer *s, uint64_t addr)
{
    const module *m = find_module(s, addr);
    return m ? m->index : -1;
}

/* The object on disk must be the one that was loaded: a different build-id
 * would give confident, wrong answers, so such a module is not reported. */
static int build_id_matches(const sym_dw *dw, const char *path, const sym_module *m)
{
    if (m->build_id_len == 0)
        return 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    dw->elf_version(EV_CURRENT);
    Elf *e = dw->elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *bits = NULL;
    ssize_t n = e ? dw->dwelf_elf_gnu_build_id(e, &bits) : -1;
    int ok = n <= 0 || ((size_t)n == m->build_id_len && memcmp(bits, m->build_id, (size_t)n) == 0);
    if (e)
        dw->elf_end(e);
    close(fd);
    return ok;
}

static void report_modules(sym_symbolizer *s, const sym_options *opt)
{
    const sym_dw *dw = s->dw;
    s->callbacks = (Dwfl_Callbacks){
        .find_elf = dw->dwfl_build_id_find_elf,
        .find_debuginfo = (s->flags & SYM_LOCAL_DEBUGINFO) ? dw->dwfl_build_id_find_debuginfo
                                                           : dw->dwfl_standard_find_debuginfo,
        .section_address = dw->dwfl_offline_section_address,
        .debuginfo_path = &s->debuginfo_path,
    };
    s->dwfl = dw->dwfl_begin(&s->callbacks);
    if (!s->dwfl)
        return;
    dw->dwfl_report_begin(s->dwfl);
    for (size_t i = 0; i < s->nmods; i++) {
        const sym_module *m = &s->mods[i].m;
        if (!m->path || m->path[0] != '/' || access(m->path, R_OK) != 0)
            continue;
        if (!build_id_matches(dw, m->path, m)) {
            if (opt && opt->stale)
                opt->stale(m->path, opt->arg);
            continue;
        }
        dw->dwfl_report_elf(s->dwfl, strrchr(m->path, '/') + 1, m->path, -1, m->base, true);
    }
    dw->dwfl_report_end(s->dwfl, NULL, NULL);
}

int sym_new(const sym_dw *dw, const sym_module *mods, size_t nmods, const sym_options *opt,
            sym_symbolizer **out)
{
    *out = NULL;
    sym_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return ENOMEM;
    s->dw = dw;
    s->flags = opt ? opt->flags : 0;
    s->mods = calloc(nmods ? nmods : 1, sizeof *s->mods);
    s->cap = 1024;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->mods || !s->slots) {
        sym_free(s);
        return ENOMEM;
    }
    for (size_t i = 0; i < nmods; i++) {
        if (mods[i].start >= mods[i].end)
            continue;
        module *m = &s->mods[s->nmods++];
        m->m = mods[i];
        m->index = (long)i;
        m->own_dwarf = -1;
        if (m->m.path && !(m->m.path = keep(s, m->m.path))) {
            sym_free(s);
            return ENOMEM;
        }
    }
    qsort(s->mods, s->nmods, sizeof *s->mods, cmp_mod);
    if (dw)
        report_modules(s, opt);
    /* The build-ids were the caller's bytes, read only while reporting. */
    for (size_t i = 0; i < s->nmods; i++)
        s->mods[i].m.build_id = NULL;
    *out = s;
    return 0;
}

void sym_free(sym_symbolizer *s)
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
        s->dw->dwfl_end(s->dwfl);
    free(s);
}

const char *sym_demangled(sym_symbolizer *s, const char *name)
{
    char *d = sym_demangle(s->dw, name);
    if (!d)
        return name;
    const char *kept = keep(s, d);
    free(d);
    return kept ? kept : name;
}

static int is_mangled(const char *name)
{
    return name && name[0] == '_' && name[1] == 'Z';
}

/* A scope's name: DWARF's own (DW_AT_name, else the linkage name), or,
 * demangling, the name dwarf_name.c picks: the linkage name of a C++
 * function, qualified by its namespaces and classes without one. */
static const char *die_name(sym_symbolizer *s, Dwarf_Die *die, Dwarf_Die *cu)
{
    const sym_dw *dw = s->dw;
    if (s->flags & SYM_DEMANGLE) {
        char qualified[1024];
        const char *name = sym_dwarf_name(dw, die, cu, qualified, sizeof qualified);
        return name == qualified ? keep(s, qualified) : name;
    }
    Dwarf_Attribute a;
    const char *n = dw->dwarf_formstring(dw->dwarf_attr_integrate(die, DW_AT_name, &a));
    if (!n)
        n = dw->dwarf_formstring(dw->dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    return n;
}

/* Demangling: function for people, system_name as the object spells it. */
static void set_names(sym_symbolizer *s, sym_frame *f)
{
    f->system_name = f->function;
    if (s->flags & SYM_DEMANGLE)
        f->function = sym_demangled(s, f->function);
}

/* A line table may name files relative to the compilation directory (an
 * in-tree build does); a report names them in full, so they can be opened
 * from wherever the report is read. */
static const char *full_path(sym_symbolizer *s, Dwarf_Die *cu, const char *file)
{
    if (!file || file[0] == '/')
        return file;
    Dwarf_Attribute a;
    const char *dir = s->dw->dwarf_formstring(s->dw->dwarf_attr(cu, DW_AT_comp_dir, &a));
    if (!dir || !*dir)
        return file;
    char joined[4200];
    snprintf(joined, sizeof joined, "%s/%s", dir, file);
    const char *kept = keep(s, joined);
    return kept ? kept : file;
}

/* Inlined frames from DWARF scopes; returns how many were written to out. */
static size_t from_dwarf(sym_symbolizer *s, Dwfl_Module *dm, Dwarf_Addr pc, sym_frame *out,
                         size_t max)
{
    const sym_dw *dw = s->dw;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dw->dwfl_module_addrdie(dm, pc, &bias);
    if (!cu)
        return 0;
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *l = dw->dwfl_module_getsrc(dm, pc);
    if (l)
        file = full_path(s, cu, dw->dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL));
    /* dwarf_getscopes continues from an inlined scope into its abstract
     * definition; the chain of the concrete DIE (getscopes_die) continues
     * into the function it was inlined into, which is what we want. */
    Dwarf_Die *scopes = NULL, innermost;
    int n = dw->dwarf_getscopes(cu, pc - bias, &scopes);
    if (n > 0) {
        innermost = scopes[0];
        free(scopes);
        scopes = NULL;
        n = dw->dwarf_getscopes_die(&innermost, &scopes);
    }
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    if (dw->dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
        files = NULL;
    size_t k = 0;
    for (int i = 0; i < n && k < max; i++) {
        int tag = dw->dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        const char *name = die_name(s, &scopes[i], cu);
        out[k] = (sym_frame){name ? name : "??", file, line, 0, NULL, 1, NULL};
        k++;
        if (tag == DW_TAG_subprogram)
            break;
        out[k - 1].inlined = 1;
        /* The caller's position is this inlined scope's call site. */
        Dwarf_Attribute a;
        Dwarf_Word cf = 0, cl = 0;
        file = NULL;
        line = 0;
        if (files && dw->dwarf_formudata(dw->dwarf_attr(&scopes[i], DW_AT_call_file, &a), &cf) == 0)
            file = full_path(s, cu, dw->dwarf_filesrc(files, cf, NULL, NULL));
        if (dw->dwarf_formudata(dw->dwarf_attr(&scopes[i], DW_AT_call_line, &a), &cl) == 0)
            line = (int)cl;
    }
    free(scopes);
    if (k == 0 && file) { /* a line but no scope: keep the position at least */
        out[0] = (sym_frame){NULL, file, line, 0, NULL, 0, NULL};
        k = 1;
    }
    return k;
}

/* Whether the object itself carries DWARF (a .debug_info section), as a
 * program built with -g does; a distribution's library has it in a detached
 * file instead. */
static int has_own_dwarf(sym_symbolizer *s, Dwfl_Module *dm)
{
    const sym_dw *dw = s->dw;
    GElf_Addr bias;
    Elf *e = dw->dwfl_module_getelf(dm, &bias);
    size_t strndx;
    if (!e || dw->elf_getshdrstrndx(e, &strndx) != 0)
        return 0;
    for (Elf_Scn *scn = dw->elf_nextscn(e, NULL); scn; scn = dw->elf_nextscn(e, scn)) {
        GElf_Shdr sh;
        const char *name;
        if (dw->gelf_getshdr(scn, &sh) && (name = dw->elf_strptr(e, strndx, sh.sh_name)) &&
            (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
            return 1;
    }
    return 0;
}

/* SYM_OWN_DWARF_ONLY: DWARF is read from the object itself only. */
static int dwarf_wanted(sym_symbolizer *s, module *mod, Dwfl_Module *dm)
{
    if (!(s->flags & SYM_OWN_DWARF_ONLY))
        return 1;
    if (!mod)
        return 0;
    if (mod->own_dwarf < 0)
        mod->own_dwarf = has_own_dwarf(s, dm);
    return mod->own_dwarf;
}

static sym_frame *resolve(sym_symbolizer *s, uint64_t ret, uint32_t *nout)
{
    sym_frame tmp[32];
    size_t n = 0;
    /* A return address points after the call: look up the call itself. */
    uint64_t pc = ret > 0 ? ret - 1 : 0;
    module *mod = (module *)find_module(s, pc);
    const sym_module *m = mod ? &mod->m : NULL;
    Dwfl_Module *dm = s->dwfl ? s->dw->dwfl_addrmodule(s->dwfl, pc) : NULL;
    if (dm && dwarf_wanted(s, mod, dm))
        n = from_dwarf(s, dm, pc, tmp, sizeof tmp / sizeof tmp[0]);
    if ((s->flags & SYM_DEMANGLE) && n > 0 && tmp[n - 1].function &&
        !is_mangled(tmp[n - 1].function)) {
        /* DWARF without a linkage name (a C++ function with internal
         * linkage): the symbol table still has the mangled one, which says
         * the parameters too. A C function's symbol is not mangled. */
        GElf_Off off;
        GElf_Sym es;
        const char *sym = s->dw->dwfl_module_addrinfo(dm, pc, &off, &es, NULL, NULL, NULL);
        if (is_mangled(sym))
            tmp[n - 1].function = sym;
    }
    if (n == 0 || tmp[0].function == NULL || strcmp(tmp[n - 1].function, "??") == 0) {
        /* No debug info: the symbol table names the function. */
        const char *sym = NULL;
        if (dm) {
            GElf_Off off;
            GElf_Sym es;
            sym = s->dw->dwfl_module_addrinfo(dm, pc, &off, &es, NULL, NULL, NULL);
        }
        if (n == 0)
            tmp[n++] = (sym_frame){NULL, NULL, 0, 0, NULL, 0, NULL};
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
    sym_frame *out = malloc(n * sizeof *out);
    if (!out)
        return NULL;
    memcpy(out, tmp, n * sizeof *out);
    *nout = (uint32_t)n;
    return out;
}

static int grow(sym_symbolizer *s)
{
    size_t cap = s->cap * 2;
    slot *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].frames)
            continue;
        size_t j = base_hash_u64(s->slots[i].addr) & (cap - 1);
        while (t[j].frames)
            j = (j + 1) & (cap - 1);
        t[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = t;
    s->cap = cap;
    return 0;
}

const sym_frame *sym_lookup(sym_symbolizer *s, uint64_t ret, size_t *n)
{
    static const sym_frame unknown = {"??", NULL, 0, 0, NULL, 0, "??"};
    size_t j = base_hash_u64(ret) & (s->cap - 1);
    while (s->slots[j].frames) {
        if (s->slots[j].addr == ret) {
            *n = s->slots[j].n;
            return s->slots[j].frames;
        }
        j = (j + 1) & (s->cap - 1);
    }
    uint32_t count = 0;
    sym_frame *f = resolve(s, ret, &count);
    if (!f) {
        *n = 1;
        return &unknown;
    }
    if ((s->used + 1) * 2 > s->cap) {
        if (grow(s) != 0) {
            *n = count;
            return f; /* leaks f, but only when memory is exhausted */
        }
        j = base_hash_u64(ret) & (s->cap - 1);
        while (s->slots[j].frames)
            j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = (slot){ret, count, f};
    s->used++;
    *n = count;
    return f;
}
