/* demangle.c: C++ names through libstdc++'s demangler (see demangle.h). */
#include <config.h>

#include "demangle.h"

#include <stddef.h>

/* <cxxabi.h> is a C++ header; this is its C ABI entry point. */
char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

char *cli_demangle(const char *name)
{
    /* Only a function's mangled name: __cxa_demangle also takes type
     * encodings, and would turn a C function named "f" into "float". */
    if (!name || name[0] != '_' || name[1] != 'Z')
        return NULL;
    int status = 0;
    char *out = __cxa_demangle(name, NULL, NULL, &status);
    return status == 0 ? out : NULL;
}
