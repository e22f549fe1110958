/* shim_larson: larson-like server churn. Each thread owns a set of slots and
 * replaces random blocks; every round, a thread hands its set to the next
 * thread, so blocks are freed by other threads than their allocator. */
#include <pthread.h>
#include <stdlib.h>

#define SLOTS 2000
static int nthreads, rounds;
static void **sets[64];
static pthread_barrier_t bar;

static void *worker(void *arg)
{
    int id = (int)(size_t)arg;
    unsigned s = (unsigned)id * 2654435761u + 1;
    sets[id] = calloc(SLOTS, sizeof(void *));
    pthread_barrier_wait(&bar);
    for (int r = 0; r < rounds; r++) {
        void **mine = sets[(id + r) % nthreads];
        for (int k = 0; k < 20000; k++) {
            s = s * 1103515245u + 12345u;
            int i = (int)((s >> 8) % SLOTS);
            free(mine[i]);
            mine[i] = malloc(8 + (s >> 20) % 200);
        }
        pthread_barrier_wait(&bar);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    nthreads = argc > 1 ? atoi(argv[1]) : 8;
    rounds = argc > 2 ? atoi(argv[2]) : 50;
    pthread_t t[64];
    pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
    for (int i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < nthreads; i++) {
        for (int k = 0; k < SLOTS; k++)
            free(sets[i][k]);
        free(sets[i]);
    }
    return 0;
}
