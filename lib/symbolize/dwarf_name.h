/* dwarf_name.h: a function's name from its DWARF entry, before demangling
 * (the symbolizer's, with SYM_DEMANGLE).
 *
 * C++: the linkage name when the entry has one (_ZN...: demangled, it is
 * namespace::Class::method(params)). GCC gives none to a function with
 * internal linkage (in an anonymous namespace, or taking a type from one),
 * and DW_AT_name says only "method": then the name is qualified by the
 * namespaces and classes its declaration sits in. C: DW_AT_name, since a C
 * function's linkage name, when it has one, is an assembler alias (glibc's
 * __GI__IO_file_doallocate). */
#ifndef TALLY_SYMBOLIZE_DWARF_NAME_H
#define TALLY_SYMBOLIZE_DWARF_NAME_H

#include "symbolize/dw.h"

#include <stddef.h>

/* The name of a DW_TAG_subprogram or DW_TAG_inlined_subroutine in cu: a
 * string of libdw's, or buf (cap bytes) when qualified; NULL when it has
 * none. */
const char *sym_dwarf_name(const sym_dw *dw, Dwarf_Die *die, Dwarf_Die *cu, char *buf, size_t cap);

#endif
