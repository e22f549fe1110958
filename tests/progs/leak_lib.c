/* leak_lib: the shared library of leak_roots. It keeps the pointers it is
 * given in its own .bss and in its own __thread variable (static TLS: the
 * library is a DT_NEEDED dependency, loaded at start-up). The variables
 * are static, so the executable cannot take them over by a copy
 * relocation: they stay in this library's segments. */
#include "leak_common.h"

#define LK_EXPORT __attribute__((visibility("default")))

static void *lib_bss;
static __thread void *lib_tls;

LK_EXPORT void leak_lib_keep_bss(void *p)
{
    lib_bss = p;
}

LK_EXPORT void leak_lib_keep_tls(void *p)
{
    lib_tls = p;
}

/* Read them back, so the compiler keeps the stores. */
LK_EXPORT int leak_lib_holds(void)
{
    return (lib_bss != NULL) + (lib_tls != NULL);
}
