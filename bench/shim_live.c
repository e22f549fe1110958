/* shim_live: holds N small blocks live at once (the peak), then frees them:
 * the peak RSS under a tracker, minus the plain run's, over N, is the
 * tracker's memory per live block. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 32;
    void **keep = malloc((size_t)n * sizeof *keep);
    if (!keep)
        return 1;
    for (long i = 0; i < n; i++) {
        keep[i] = malloc(size);
        if (!keep[i])
            return 1;
        ((char *)keep[i])[0] = (char)i;
    }
    for (long i = 0; i < n; i++)
        free(keep[i]);
    free(keep);
    printf("%ld blocks of %zu bytes\n", n, size);
    return 0;
}
