/* dw.h: the entry points the symbolizer calls, as a table its user binds.
 *
 * tools/tally links elfutils' libdw and binds the table directly
 * (dw_direct.c). libtally must not: every tracked program would load libdw,
 * libelf and their compressors at start-up for a summary it prints at exit,
 * if ever. It binds the table with dlopen and dlsym on first use
 * (dw_dlopen.c). The types come from libdw's own headers, so a binding
 * cannot disagree with the library it binds. */
#ifndef TALLY_SYMBOLIZE_DW_H
#define TALLY_SYMBOLIZE_DW_H

#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>

/* X(name) for every libdw and libelf function the symbolizer calls. */
#define SYM_DW_ENTRIES(X)                                                                          \
    X(dwfl_begin)                                                                                  \
    X(dwfl_end)                                                                                    \
    X(dwfl_report_begin)                                                                           \
    X(dwfl_report_elf)                                                                             \
    X(dwfl_report_end)                                                                             \
    X(dwfl_addrmodule)                                                                             \
    X(dwfl_module_addrdie)                                                                         \
    X(dwfl_module_getsrc)                                                                          \
    X(dwfl_lineinfo)                                                                               \
    X(dwfl_module_addrinfo)                                                                        \
    X(dwfl_build_id_find_elf)                                                                      \
    X(dwfl_build_id_find_debuginfo)                                                                \
    X(dwfl_standard_find_debuginfo)                                                                \
    X(dwfl_offline_section_address)                                                                \
    X(dwarf_getscopes)                                                                             \
    X(dwarf_getscopes_die)                                                                         \
    X(dwarf_getsrcfiles)                                                                           \
    X(dwarf_filesrc)                                                                               \
    X(dwarf_tag)                                                                                   \
    X(dwarf_attr)                                                                                  \
    X(dwarf_attr_integrate)                                                                        \
    X(dwarf_formstring)                                                                            \
    X(dwarf_formudata)                                                                             \
    X(dwarf_formref_die)                                                                           \
    X(dwarf_srclang)                                                                               \
    X(dwarf_diename)                                                                               \
    X(dwelf_elf_gnu_build_id)                                                                      \
    X(elf_version)                                                                                 \
    X(elf_begin)                                                                                   \
    X(elf_end)                                                                                     \
    X(dwfl_module_getelf)                                                                          \
    X(elf_getshdrstrndx)                                                                           \
    X(elf_nextscn)                                                                                 \
    X(elf_strptr)                                                                                  \
    X(gelf_getshdr)

/* libstdc++'s Itanium ABI demangler (cxxabi.h), declared here for C. */
typedef char *sym_cxa_demangle_fn(const char *mangled, char *buf, size_t *len, int *status);

typedef struct {
#define SYM_DW_FIELD(name) __typeof__(name) *name;
    SYM_DW_ENTRIES(SYM_DW_FIELD)
#undef SYM_DW_FIELD
    sym_cxa_demangle_fn *cxa_demangle; /* NULL: names stay as the objects spell them */
} sym_dw;

/* The table bound to the libdw that tools/tally links (dw_direct.c). */
const sym_dw *sym_dw_direct(void);
/* The table bound by dlopen("libdw.so.1") on first call (dw_dlopen.c):
 * NULL when libdw or one of its entry points is missing. The demangler is
 * libstdc++'s when the process has loaded it (a C++ program has); none is
 * loaded for it. */
const sym_dw *sym_dw_dlopen(void);

#endif
