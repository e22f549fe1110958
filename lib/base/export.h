/* export.h: entry points libtally.so exports for the preload shim only.
 *
 * The shim links libtally (one set of books per process), so what it calls
 * must be visible outside the library; it is not public API, and no public
 * header declares it. */
#ifndef TALLY_BASE_EXPORT_H
#define TALLY_BASE_EXPORT_H

#define TALLY_INTERNAL __attribute__((visibility("default")))

#endif
