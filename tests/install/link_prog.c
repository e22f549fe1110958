/* link_prog: a user's program, built by tests/install/test_install.sh
 * against an installed tally with nothing but pkg-config, linked with
 * libtally.so and with libtally.a. It allocates from the default pool and
 * checks the books, so the library is not only linked but works. */
#include <stdio.h>

#include <tally/tally.h>

int main(void)
{
    uint8_t *p;
    int64_t before = tally_pool_bytes_allocated(NULL);
    int rc = tally_pool_allocate(NULL, 1 << 20, &p);
    if (rc != 0) {
        fprintf(stderr, "link_prog: tally_pool_allocate: %d\n", rc);
        return 1;
    }
    p[0] = p[(1 << 20) - 1] = 1;
    int64_t during = tally_pool_bytes_allocated(NULL);
    tally_pool_free(NULL, p, 1 << 20);
    int64_t after = tally_pool_bytes_allocated(NULL);
    if (during - before != 1 << 20 || after != before) {
        fprintf(stderr, "link_prog: the books say %lld, %lld, %lld\n", (long long)before,
                (long long)during, (long long)after);
        return 1;
    }
    printf("link_prog: %s pool: 1 MiB allocated and freed\n", tally_pool_backend_name(NULL));
    return 0;
}
