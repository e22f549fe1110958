/* assert.h: invariants checked in debug builds.
 *
 * TALLY_ASSERT states what must hold for the code around it to be right.
 * `./configure --enable-debug` turns the checks on (CI's sanitizer pass
 * does); release builds compile them away, so they may sit on hot paths.
 * A failed check writes one line with write(2), never stdio (it may fire
 * inside malloc), and aborts. */
#ifndef TALLY_BASE_ASSERT_H
#define TALLY_BASE_ASSERT_H

#ifdef TALLY_DEBUG
__attribute__((noreturn, cold)) void base_assert_fail(const char *cond, const char *file, int line);
#define TALLY_ASSERT(cond)                                                                         \
    (__builtin_expect(!!(cond), 1) ? (void)0 : base_assert_fail(#cond, __FILE__, __LINE__))
#else
#define TALLY_ASSERT(cond) ((void)0)
#endif

#endif
