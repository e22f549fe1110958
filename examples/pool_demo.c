/* pool_demo: pools at work. Allocates through the default pool and a proxy
 * pool over it, grows and frees, and prints the books at each step. */
#include <tally/tally.h>

#include <stdio.h>
#include <string.h>

static void show(const char *step, const tally_pool *pool)
{
    printf("%-28s %-10s backend=%-8s bytes_allocated=%-9lld peak=%-9lld total=%-9lld "
           "allocations=%lld\n",
           step, tally_pool_name(pool), tally_pool_backend_name(pool),
           (long long)tally_pool_bytes_allocated(pool), (long long)tally_pool_max_memory(pool),
           (long long)tally_pool_total_bytes_allocated(pool),
           (long long)tally_pool_num_allocations(pool));
}

int main(void)
{
    tally_pool *pool = tally_default_pool();
    tally_pool *parser = tally_proxy_pool_new(pool, "parser");
    if (!parser) {
        fprintf(stderr, "pool_demo: cannot create the proxy pool\n");
        return 1;
    }
    printf("supported backends:");
    for (const char *const *b = tally_supported_backends(); *b; b++)
        printf(" %s", *b);
    printf("\n");

    uint8_t *block, *scratch;
    if (tally_pool_allocate(pool, 1 << 20, &block) != 0 ||
        tally_pool_allocate(parser, 4096, &scratch) != 0) {
        fprintf(stderr, "pool_demo: out of memory\n");
        return 1;
    }
    memset(block, 1, 1 << 20);
    show("after 1 MiB + 4 KiB", pool);
    show("", parser);

    if (tally_pool_reallocate(parser, 4096, 65536, &scratch) != 0) {
        fprintf(stderr, "pool_demo: out of memory\n");
        return 1;
    }
    show("after growing to 64 KiB", parser);

    tally_pool_free(parser, scratch, 65536);
    tally_pool_free(pool, block, 1 << 20);
    show("after freeing everything", pool);
    show("", parser);
    tally_pool_destroy(parser);
    return 0;
}
