/* error.c: the sentence that goes with an IPC call's errno value. */
#include "ipc/ipc_internal.h"

#include <stdarg.h>
#include <stdio.h>

int ipc_fail(tally_error *error, int rc, const char *fmt, ...)
{
    if (error) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(error->message, sizeof error->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}
