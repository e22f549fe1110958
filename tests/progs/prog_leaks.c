/* prog_leaks.c: leaks 100 bytes from leak_a() and 28 from leak_b() in pool
 * "p1", and frees everything else. Run with TALLY_TRACK=1: the exit summary
 * and the profile must name both functions with their exact bytes and pool.
 * Built with -g (the summary names them with file:line), -rdynamic (dladdr
 * still names them without libdw) and without sibling calls (each function
 * keeps its frame). */
#include <tally/tally.h>

#include <stdio.h>
#include <stdlib.h>

/* Kept as frames (noinline) and found by dladdr (visible: the build hides
 * symbols by default). */
#define TEST_FN __attribute__((noinline, visibility("default")))

static tally_pool *p1;
uint8_t *volatile kept[2];

TEST_FN void leak_a(void)
{
    uint8_t *p;
    if (tally_pool_allocate(p1, 100, &p) == 0)
        kept[0] = p;
}

TEST_FN void leak_b(void)
{
    uint8_t *p;
    if (tally_pool_allocate(p1, 28, &p) == 0)
        kept[1] = p;
}

TEST_FN void churn(void)
{
    uint8_t *p[64];
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 64; i++)
            if (tally_pool_allocate(p1, 16 + i * 8, &p[i]) != 0)
                abort();
        for (int i = 0; i < 64; i++)
            tally_pool_free(p1, p[i], 16 + i * 8);
    }
}

int main(void)
{
    p1 = tally_proxy_pool_new(NULL, "p1");
    if (!p1)
        return 1;
    leak_a();
    leak_b();
    churn();
    printf("done\n");
    return 0;
}
