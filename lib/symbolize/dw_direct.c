/* dw_direct.c: the symbolizer's entry points bound to the libdw and the
 * libstdc++ that the program links (tools/tally). */
#include <config.h>

#include "symbolize/dw.h"

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

const sym_dw *sym_dw_direct(void)
{
    static const sym_dw table = {
#define SYM_DW_BIND(name) .name = name,
        SYM_DW_ENTRIES(SYM_DW_BIND)
#undef SYM_DW_BIND
            .cxa_demangle = __cxa_demangle,
    };
    return &table;
}
