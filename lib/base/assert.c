/* assert.c: the one place a failed TALLY_ASSERT goes. */
#include <config.h>

#include "base/assert.h"

#ifdef TALLY_DEBUG
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

void base_assert_fail(const char *cond, const char *file, int line)
{
    char num[16];
    int n = sizeof num - 1;
    num[n] = '\0';
    unsigned v = line > 0 ? (unsigned)line : 0;
    do
        num[--n] = (char)('0' + v % 10);
    while ((v /= 10) && n > 0);
    put("tally: assertion failed: ");
    put(cond);
    put(" (");
    put(file);
    put(":");
    put(num + n);
    put(")\n");
    abort();
}
#endif
