/* shim_churn: N threads x PAIRS malloc/free pairs of random small sizes,
 * from two call sites about ten frames deep (the tracking issue's loop). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long pairs;

__attribute__((noinline)) static void *site(int depth, size_t n, int which)
{
    if (depth > 0)
        return site(depth - 1, n, which);
    return which ? malloc(n) : calloc(1, n);
}

static void *worker(void *arg)
{
    unsigned s = (unsigned)(size_t)arg * 7919u + 1;
    void *keep[8] = {0};
    for (long i = 0; i < pairs; i++) {
        s = s * 1103515245u + 12345u;
        size_t n = 16 + (s >> 16) % 512;
        void *p = site(8, n, (int)(i & 1));
        ((char *)p)[0] = 1;
        free(keep[i & 7]);
        keep[i & 7] = p;
    }
    for (int i = 0; i < 8; i++)
        free(keep[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    pairs = argc > 2 ? atol(argv[2]) : 5000000;
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return 0;
}
