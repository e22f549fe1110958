/* leak_common.h: helpers shared by the leak corpus (tests/progs/leak_*).
 *
 * Each corpus program has an exact answer from valgrind memcheck
 * (tests/shim/test_leak_kinds.sh holds it). For the answer to hold in every
 * run, under every allocator and at -O0 as at -O2:
 *
 * - the programs use no stdio and nothing else that makes libc allocate
 *   (write(2) only), so that the blocks live at exit are the program's own;
 * - every allocation escapes through lk_escape() (a volatile store), so the
 *   compiler can neither drop it nor keep the pointer somewhere unexpected;
 * - the work is done in noinline functions, and main scrubs its dead stack
 *   (lk_scrub) before it returns: no stale copy of a pointer the program
 *   dropped is left in a dead frame for a conservative scan to find;
 * - blocks that form a cycle have equal sizes. Which block of an
 *   unreachable cycle memcheck calls "definitely lost" depends on the
 *   addresses (the lowest one leads its clique), so only equal sizes give
 *   the same bytes per class under valgrind's allocator and tally's. */
#ifndef LEAK_COMMON_H
#define LEAK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LK_NOINLINE __attribute__((noinline))

#ifdef __cplusplus
#define LK_EXTERN_C extern "C"
#else
#define LK_EXTERN_C
#endif

/* A store the compiler must perform: the block escapes. */
static void *volatile lk_sink;

static inline void *lk_escape(void *p)
{
    lk_sink = p;
    lk_sink = NULL;
    return p;
}

/* Overwrite the dead stack below the caller: the frames the program's
 * noinline work functions used. */
LK_NOINLINE __attribute__((unused)) static void lk_scrub(void)
{
    char buf[64 * 1024];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* The program's mode (argv[1]) is NAME. */
static inline int lk_mode(int argc, char **argv, const char *name)
{
    return argc > 1 && strcmp(argv[1], name) == 0;
}

/* A message on stderr without stdio. */
static inline void lk_say(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static inline int lk_usage(const char *prog)
{
    lk_say("usage: ");
    lk_say(prog);
    lk_say(" MODE (see the source)\n");
    return 2;
}

#endif
