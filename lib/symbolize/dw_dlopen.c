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

/* The program's demangler, if it has one loaded: a program with C++ frames
 * has libstdc++. Loading it into a C program for nothing would cost its
 * start-up (locales, iostreams) at exit. */
static sym_cxa_demangle_fn *find_demangler(void)
{
    void *fn = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (!fn) {
        void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        if (h) {
            fn = dlsym(h, "__cxa_demangle");
            dlclose(h); /* RTLD_NOLOAD took a reference; the library stays */
        }
    }
    sym_cxa_demangle_fn *out;
    *(void **)&out = fn;
    return out;
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
    table.cxa_demangle = find_demangler();
    bound = &table;
}

const sym_dw *sym_dw_dlopen(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, bind_once);
    return bound;
}
