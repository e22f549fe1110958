/* say.c: tally's messages, written with write(2). */
#include "track/say.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void tt_say(int fd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    for (int done = 0; done < n;) {
        ssize_t w = write(fd, line + done, (size_t)(n - done));
        if (w <= 0)
            return;
        done += (int)w;
    }
}
