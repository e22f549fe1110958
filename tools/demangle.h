/* demangle.h: C++ names as people read them.
 *
 * Symbol tables and DWARF's linkage names hold the Itanium ABI's mangled
 * form (_ZNK10tally_test6Widget4makeEi); every report prints the demangled
 * one (tally_test::Widget::make(int) const), as valgrind and LeakSanitizer
 * do. The demangler is libstdc++'s __cxa_demangle: GCC's own, on every
 * Debian system (apt depends on libstdc++6), with no new package. */
#ifndef TALLY_DEMANGLE_H
#define TALLY_DEMANGLE_H

/* The demangled form of a mangled C++ name, malloc'd (the caller frees it);
 * NULL for a name that is not one (a C function's), or out of memory. */
char *cli_demangle(const char *name);

#endif
