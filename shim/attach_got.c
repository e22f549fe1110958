/* attach_got.c: a running program's allocator calls routed to the shim
 * (tally attach), and routed back (tally detach).
 *
 * Preloaded, the shim is the first definition of malloc the loader finds.
 * Loaded late by dlopen, it is found last: every module has bound malloc
 * and its kin to glibc's (operator new to libstdc++'s) in its GOT. Those
 * entries are rewritten instead: for each JUMP_SLOT and GLOB_DAT relocation
 * of a hooked name whose slot holds the global definition (or, bound lazily
 * and not called yet, the module's own PLT stub), the shim's function. At
 * detach every slot that holds the shim's function gets the global
 * definition back. Neither pass keeps a list of slots: a module unloaded in
 * between leaves nothing stale behind.
 *
 * Left alone: the loader, glibc itself and libstdc++'s malloc family (their
 * internal frees do not all go through the GOT: a block allocated through a
 * rewritten entry could be freed past it, and stay booked), tally's own
 * libraries and libunwind (which tally calls from inside the shim). */
#include "shim/shim.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    const char *name;
    void *ours;   /* the shim's function */
    void *theirs; /* the global definition, what an unrouted slot holds */
    bool cxx;     /* an operator new or delete */
} hook;

static hook hooks[] = {
    {"malloc", 0, 0, false},
    {"free", 0, 0, false},
    {"calloc", 0, 0, false},
    {"realloc", 0, 0, false},
    {"reallocarray", 0, 0, false},
    {"posix_memalign", 0, 0, false},
    {"aligned_alloc", 0, 0, false},
    {"memalign", 0, 0, false},
    {"valloc", 0, 0, false},
    {"pvalloc", 0, 0, false},
    {"malloc_usable_size", 0, 0, false},
    {"dlopen", 0, 0, false},
    {"_Znwm", 0, 0, true},
    {"_Znam", 0, 0, true},
    {"_ZnwmRKSt9nothrow_t", 0, 0, true},
    {"_ZnamRKSt9nothrow_t", 0, 0, true},
    {"_ZnwmSt11align_val_t", 0, 0, true},
    {"_ZnamSt11align_val_t", 0, 0, true},
    {"_ZnwmSt11align_val_tRKSt9nothrow_t", 0, 0, true},
    {"_ZnamSt11align_val_tRKSt9nothrow_t", 0, 0, true},
    {"_ZdlPv", 0, 0, true},
    {"_ZdaPv", 0, 0, true},
    {"_ZdlPvm", 0, 0, true},
    {"_ZdaPvm", 0, 0, true},
    {"_ZdlPvRKSt9nothrow_t", 0, 0, true},
    {"_ZdaPvRKSt9nothrow_t", 0, 0, true},
    {"_ZdlPvSt11align_val_t", 0, 0, true},
    {"_ZdaPvSt11align_val_t", 0, 0, true},
    {"_ZdlPvmSt11align_val_t", 0, 0, true},
    {"_ZdaPvmSt11align_val_t", 0, 0, true},
    {"_ZdlPvSt11align_val_tRKSt9nothrow_t", 0, 0, true},
    {"_ZdaPvSt11align_val_tRKSt9nothrow_t", 0, 0, true},
};
#define NHOOKS (sizeof hooks / sizeof hooks[0])

int shim_got_init(void *dlopen_hook)
{
    /* The shim's own definitions: a lookup in its own handle finds the
     * shim first, where the global lookup now finds glibc. */
    Dl_info self;
    if (!dladdr((void *)shim_got_init, &self) || !self.dli_fname)
        return ENOENT;
    void *h = dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return ENOENT;
    for (size_t i = 0; i < NHOOKS; i++) {
        hooks[i].theirs = dlsym(RTLD_DEFAULT, hooks[i].name);
        hooks[i].ours =
            strcmp(hooks[i].name, "dlopen") == 0 ? dlopen_hook : dlsym(h, hooks[i].name);
        if (hooks[i].ours == hooks[i].theirs)
            hooks[i].theirs = NULL; /* the shim is the global one: preloaded after all */
    }
    dlclose(h);
    return 0;
}

void *shim_got_original(const char *name)
{
    for (size_t i = 0; i < NHOOKS; i++)
        if (strcmp(hooks[i].name, name) == 0)
            return hooks[i].theirs;
    return NULL;
}

static const hook *find_hook(const char *name)
{
    if (name[0] != '_' && !strchr("mfcrpavd", name[0]))
        return NULL;
    for (size_t i = 0; i < NHOOKS; i++)
        if (hooks[i].ours && hooks[i].theirs && strcmp(hooks[i].name, name) == 0)
            return &hooks[i];
    return NULL;
}

/* What one module's relocations tell: read from its PT_DYNAMIC. */
typedef struct {
    uintptr_t base, lo, hi;       /* load bias; the mapped range */
    uintptr_t relro_lo, relro_hi; /* read-only after relocation */
    const Elf64_Sym *symtab;
    const char *strtab;
    const Elf64_Rela *rela[2];
    size_t nrela[2];
    bool cxx_only; /* libstdc++: its operators only */
} module;

typedef struct {
    bool restore;
    int err;
    int changed;
} pass;

static bool excluded(const char *name)
{
    static const char *const skip[] = {"libtally",   "libunwind", "/ld-linux",
                                       "linux-vdso", "/libc.so",  "libmimalloc"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strstr(name, skip[i]))
            return true;
    return false;
}

/* The dynamic section's addresses: glibc adjusts most of them in place
 * to absolute ones when it relocates a module, not all of them. */
static uintptr_t dyn_addr(uintptr_t base, uintptr_t v)
{
    return v < base ? base + v : v;
}

static bool read_module(const struct dl_phdr_info *info, module *m)
{
    memset(m, 0, sizeof *m);
    m->base = info->dlpi_addr;
    m->lo = UINTPTR_MAX;
    const Elf64_Dyn *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const Elf64_Phdr *ph = &info->dlpi_phdr[i];
        uintptr_t start = m->base + ph->p_vaddr, end = start + ph->p_memsz;
        if (ph->p_type == PT_LOAD) {
            if (start < m->lo)
                m->lo = start;
            if (end > m->hi)
                m->hi = end;
        } else if (ph->p_type == PT_DYNAMIC) {
            dyn = (const Elf64_Dyn *)start;
        } else if (ph->p_type == PT_GNU_RELRO) {
            uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
            m->relro_lo = start & ~(page - 1);
            m->relro_hi = end & ~(page - 1);
        }
    }
    if (!dyn)
        return false;
    size_t relasz = 0, pltsz = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t v = dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            m->symtab = (const Elf64_Sym *)dyn_addr(m->base, v);
            break;
        case DT_STRTAB:
            m->strtab = (const char *)dyn_addr(m->base, v);
            break;
        case DT_RELA:
            m->rela[0] = (const Elf64_Rela *)dyn_addr(m->base, v);
            break;
        case DT_RELASZ:
            relasz = dyn->d_un.d_val;
            break;
        case DT_JMPREL:
            m->rela[1] = (const Elf64_Rela *)dyn_addr(m->base, v);
            break;
        case DT_PLTRELSZ:
            pltsz = dyn->d_un.d_val;
            break;
        default:
            break;
        }
    }
    m->nrela[0] = m->rela[0] ? relasz / sizeof(Elf64_Rela) : 0;
    m->nrela[1] = m->rela[1] ? pltsz / sizeof(Elf64_Rela) : 0;
    m->cxx_only = strstr(info->dlpi_name, "libstdc++") != NULL;
    return m->symtab && m->strtab;
}

static int write_slot(const module *m, void **slot, void *value)
{
    uintptr_t a = (uintptr_t)slot;
    if (a < m->relro_lo || a >= m->relro_hi) {
        __atomic_store_n(slot, value, __ATOMIC_RELEASE);
        return 0;
    }
    /* RELRO: writable for the one store, read-only again after. */
    uintptr_t psize = (uintptr_t)sysconf(_SC_PAGESIZE);
    void *page = (void *)(a & ~(psize - 1));
    if (mprotect(page, psize, PROT_READ | PROT_WRITE) != 0)
        return errno;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    mprotect(page, psize, PROT_READ);
    return 0;
}

static void visit_slot(const module *m, const Elf64_Rela *r, pass *p)
{
    uint32_t type = ELF64_R_TYPE(r->r_info);
    if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
        return;
    const hook *h = find_hook(m->strtab + m->symtab[ELF64_R_SYM(r->r_info)].st_name);
    if (!h || (m->cxx_only && !h->cxx))
        return;
    void **slot = (void **)(m->base + r->r_offset);
    void *cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    void *to = NULL;
    if (p->restore && cur == h->ours)
        to = h->theirs;
    else if (!p->restore &&
             (cur == h->theirs ||
              (type == R_X86_64_JUMP_SLOT && (uintptr_t)cur >= m->lo && (uintptr_t)cur < m->hi)))
        to = h->ours; /* bound, or still the lazy PLT stub */
    if (!to)
        return;
    int rc = write_slot(m, slot, to);
    if (rc != 0 && p->err == 0)
        p->err = rc;
    if (rc == 0)
        p->changed++;
}

static int visit_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    pass *p = arg;
    module m;
    if (excluded(info->dlpi_name) || !read_module(info, &m))
        return 0;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < m.nrela[t]; i++)
            visit_slot(&m, &m.rela[t][i], p);
    return 0;
}

int shim_got_route(bool restore, int *changed)
{
    pass p = {.restore = restore};
    dl_iterate_phdr(visit_module, &p);
    if (changed)
        *changed = p.changed;
    return p.err;
}
