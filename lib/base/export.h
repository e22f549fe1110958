/* export.h: entry points libtally.so exports for the preload shim only.
 *
 * The shim links libtally (one set of books per process), so what it calls
 * must be visible outside the library; it is not public API, and no public
 * header declares it. */
#ifndef TALLY_BASE_EXPORT_H
#define TALLY_BASE_EXPORT_H

#define TALLY_INTERNAL __attribute__((visibility("default")))

/* On the declaration of an entry point the shim calls on every allocation
 * or free: the call goes through the caller's GOT, bound when the library
 * is loaded, instead of a PLT stub's extra jump. (clang has no such
 * attribute and keeps the stub.) */
#if defined(__GNUC__) && !defined(__clang__)
#define TALLY_HOT_ENTRY __attribute__((noplt))
#else
#define TALLY_HOT_ENTRY
#endif

#endif
