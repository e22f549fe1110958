/* dw_dlopen.c: the symbolizer's entry points bound by dlopen, for
 * libtally's exit summary. libdw is loaded the first time a summary needs
 * names, not when the program starts, and never unloaded (a second summary,
 * a destroyed pool's listing, reuse it). RTLD_LOCAL: its symbols do not
 * join the program's. */
#include <config.h>

#include "symbolize/dw.h"

#include <dlfcn.h>
#include <pthread.h>

static sym_dw table;
static const sym_dw *bound;

/* The program's demangler, if it has one loaded. A program with C++ frames
 * usually has libstdc++, but not always: C++ code that uses none of its
 * library links without it. Then the first mangled name loads it
 * (load_demangler): never earlier, since loading it into a C program for
 * nothing would cost its start-up (locales, iostreams) at exit. */
static sym_cxa_demangle_fn *find_demangler(int flags)
{
    void *fn = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (!fn) {
        void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL | flags);
        if (h) {
            fn = dlsym(h, "__cxa_demangle");
            if (flags & RTLD_NOLOAD)
                dlclose(h); /* RTLD_NOLOAD took a reference; the library stays */
        }
    }
    sym_cxa_demangle_fn *out;
    *(void **)&out = fn;
    return out;
}

static sym_cxa_demangle_fn *loaded_demangler;

static void load_demangler(void)
{
    loaded_demangler = find_demangler(0);
}

/* Stands for __cxa_demangle until a mangled name needs it. */
static char *demangle_on_demand(const char *mangled, char *buf, size_t *len, int *status)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_demangler);
    if (!loaded_demangler) {
        *status = -1;
        return NULL;
    }
    return loaded_demangler(mangled, buf, len, status);
}

static void bind_once(void)
{
    void *h = dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h)
        return;
        /* dlsym on the handle searches libdw and its dependencies: libelf's
         * entries come from the libelf that libdw itself uses. */
#define SYM_DW_BIND(name)                                                                          \
    if (!(*(void **)&table.name = dlsym(h, #name))) {                                              \
        dlclose(h);                                                                                \
        return;                                                                                    \
    }
    SYM_DW_ENTRIES(SYM_DW_BIND)
#undef SYM_DW_BIND
    table.cxa_demangle = find_demangler(RTLD_NOLOAD);
    if (!table.cxa_demangle)
        table.cxa_demangle = demangle_on_demand;
    bound = &table;
}

const sym_dw *sym_dw_dlopen(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, bind_once);
    return bound;
}
