/* shim_dl: a library that allocates, loaded and unloaded by shim_prog dl. */
#include <stdlib.h>
#include <string.h>

__attribute__((visibility("default"))) void *shim_dl_work(void)
{
    char *scratch = malloc(500);
    memset(scratch, 0, 500);
    free(scratch);
    return malloc(123);
}
