/* symbolize.h: return addresses to functions, file:line and inlined frames.
 *
 * The one symbolizer of tally: tools/tally runs it offline over the modules
 * a profile lists (tools/symbolize.c), libtally in the process at exit over
 * the modules loaded then (lib/track/names.c). Each module is reported to a
 * libdw Dwfl at its load bias, so addresses are looked up as they were in
 * the process; without debug info the symbol table names the function
 * (static functions too). Results are cached per address: stacks share
 * most of their frames.
 *
 * A floor of its own, under lib/track: it calls nothing of tally's, and
 * libdw only through the table its user binds (dw.h). It allocates with
 * malloc: its users run it off the hot path (a report, the exit summary). */
#ifndef TALLY_SYMBOLIZE_SYMBOLIZE_H
#define TALLY_SYMBOLIZE_SYMBOLIZE_H

#include "symbolize/dw.h"

#include <stddef.h>
#include <stdint.h>

/* A loaded object: its mapped range, its load bias and its file. */
typedef struct {
    uint64_t start, end;
    uint64_t base;
    const char *path; /* absolute, or the module is not read */
    const uint8_t *build_id;
    size_t build_id_len; /* 0: not checked */
} sym_module;

typedef struct {
    const char *function;    /* never NULL: a name, or "module+0xoffset", or "0xaddress" */
    const char *file;        /* NULL when unknown */
    int line;                /* 0 when unknown */
    int inlined;             /* 1: inlined into the next frame of the same address */
    const char *module;      /* the object's path, or NULL */
    int known;               /* 1 when a symbol was found */
    const char *system_name; /* the name as the object spells it (C++: mangled); function's
                              * text when not demangled */
} sym_frame;

enum {
    /* C++ names as people read them (sym_frame.function), the mangled one
     * in system_name: a C++ function's linkage name, demangled
     * (ns::Class::method(int) const where DW_AT_name says "method"); without
     * one (internal linkage), its name qualified by its namespaces and
     * classes, or the symbol table's mangled name for the outermost frame.
     * A C function keeps DW_AT_name (dwarf_name.h says why). */
    SYM_DEMANGLE = 1,
    /* Separate debug files only from /usr/lib/debug/.build-id: libdw's
     * standard search ends with a debuginfod query, which loads
     * libdebuginfod and libcurl even with no server configured. */
    SYM_LOCAL_DEBUGINFO = 2,
    /* DWARF only from the object itself (a -g build); an object whose
     * debug info is detached (a distribution's library, its -dbg or dbgsym
     * package) is named from that file's symbol table, without file:line:
     * detached DWARF is usually compressed, and inflating libc's alone
     * takes ~70 ms and ~19 MB. */
    SYM_OWN_DWARF_ONLY = 4,
};

typedef struct {
    unsigned flags; /* SYM_* */
    /* Called for a module whose file on disk has another build-id than the
     * loaded object: it is not read (its answers would be confident and
     * wrong). May be NULL. */
    void (*stale)(const char *path, void *arg);
    void *arg;
} sym_options;

typedef struct sym_symbolizer sym_symbolizer;

/* A symbolizer over mods[0..nmods) (copied; the caller's array may go).
 * dw may be NULL: every frame is then "module+0xoffset". Returns 0 or
 * ENOMEM. */
int sym_new(const sym_dw *dw, const sym_module *mods, size_t nmods, const sym_options *opt,
            sym_symbolizer **out);
void sym_free(sym_symbolizer *s);
/* The frames of one return address, innermost (most inlined) first; *n >= 1.
 * The result lives as long as the symbolizer. */
const sym_frame *sym_lookup(sym_symbolizer *s, uint64_t return_address, size_t *n);
/* The index in the caller's mods[] of the module holding addr, or -1. */
long sym_module_index(const sym_symbolizer *s, uint64_t addr);
/* name demangled when it is a C++ (Itanium ABI) name and a demangler is
 * bound, else name itself. The text lives as long as the symbolizer. */
const char *sym_demangled(sym_symbolizer *s, const char *name);

/* name demangled, in memory from malloc that the caller frees, or NULL when
 * name is not a C++ name or dw binds no demangler. */
char *sym_demangle(const sym_dw *dw, const char *name);

#endif
