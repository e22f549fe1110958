/* demangle.c: C++ names for people, by libstdc++'s own demangler (the
 * Itanium C++ ABI's, the one g++ and clang++ mangle for on GNU/Linux),
 * bound through the table (dw.h): linked by the tools, found in the
 * process by libtally. */
#include <config.h>

#include "symbolize/symbolize.h"

#include <string.h>

char *sym_demangle(const sym_dw *dw, const char *name)
{
    /* Only _Z names: the demangler would also read a plain C name such as
     * "i" or "f" as a type and answer "int" or "float". */
    if (!dw || !dw->cxa_demangle || !name || strncmp(name, "_Z", 2) != 0)
        return NULL;
    int status = -1;
    char *out = dw->cxa_demangle(name, NULL, NULL, &status);
    return status == 0 ? out : NULL;
}
