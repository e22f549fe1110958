/* names_prog.c: leaks from frames the exit summary must name, each line
 * marked with @name so tests/track/test_names.sh knows its number:
 *
 *   grab                                   the allocating function
 *   add_header (inlined into static_leaker) a static inline function
 *   static_leaker                          a static function
 *   (anonymous namespace)::hidden_helper(unsigned long),
 *   tally_names::Leaker::make(unsigned long)  C++ (names_prog_cxx.cc)
 *   leak_both, main
 *
 * `names_prog malloc` leaks with malloc (for the preloaded shim),
 * `names_prog pool` from a tally pool (for TALLY_TRACK=1). Built with -g,
 * frame pointers and no sibling calls, so every frame is kept. */
#include <tally/tally.h>

#include <stdlib.h>
#include <string.h>

void *names_cxx_leak(size_t n);

static tally_pool *pool;
void *volatile kept[2];

__attribute__((noipa)) void *grab(size_t n)
{
    uint8_t *p = NULL;
    if (pool)
        tally_pool_allocate(pool, (int64_t)n, &p); /* @grab_pool */
    else
        p = malloc(n); /* @grab_malloc */
    return p;
}

static inline __attribute__((always_inline)) void *add_header(size_t n)
{
    return grab(n + 16); /* @add_header */
}

static __attribute__((noipa)) void *static_leaker(size_t n)
{
    void *p = add_header(n); /* @static_leaker */
    return p;
}

/* Both blocks lost: no pointer to them is left once this returns. */
static __attribute__((noipa)) void leak_both(void)
{
    kept[0] = static_leaker(84);   /* @leak_static: 100 bytes */
    kept[1] = names_cxx_leak(200); /* @leak_cxx: 200 bytes */
    kept[0] = kept[1] = NULL;
}

/* Overwrites the stack leak_both used: a stale copy of a pointer there
 * would make its block reachable to the conservative leak check. */
static __attribute__((noipa)) void scrub_stack(void)
{
    volatile char junk[8192];
    memset((char *)junk, 0, sizeof junk);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "pool") == 0 && !(pool = tally_proxy_pool_new(NULL, "names")))
        return 1;
    leak_both(); /* @main */
    scrub_stack();
    return 0;
}
