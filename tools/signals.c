/* signals.c: signal names. glibc's own table (sigabbrev_np) gives the
 * standard ones; the real-time signals are numbered from SIGRTMIN and
 * SIGRTMAX, which glibc decides at run time. */
#include <config.h>

#include "signals.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Other spellings kill(1) accepts for the same numbers. */
static const struct {
    const char *name;
    int sig;
} aliases[] = {{"IOT", SIGABRT}, {"CLD", SIGCHLD}, {"POLL", SIGIO}};

/* A whole decimal number in [lo, hi], or -1. */
static int number(const char *s, int lo, int hi)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || v < lo || v > hi ? -1 : (int)v;
}

int cli_signal_parse(const char *text)
{
    if (!text || !*text)
        return -1;
    if (isdigit((unsigned char)*text)) {
        int n = number(text, 1, SIGRTMAX);
        return n > 0 && (n < 32 || n >= SIGRTMIN) ? n : -1;
    }
    const char *s = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
    if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
        int from_max = toupper((unsigned char)s[3]) == 'A';
        int off = 0;
        if (s[5] &&
            (s[5] != (from_max ? '-' : '+') || (off = number(s + 6, 0, SIGRTMAX - SIGRTMIN)) < 0))
            return -1;
        return from_max ? SIGRTMAX - off : SIGRTMIN + off;
    }
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        const char *name = sigabbrev_np(sig);
        if (name && strcasecmp(s, name) == 0)
            return sig;
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(s, aliases[i].name) == 0)
            return aliases[i].sig;
    return -1;
}

const char *cli_signal_name(int sig, char *buf, size_t cap)
{
    const char *name = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
    if (name)
        snprintf(buf, cap, "SIG%s", name);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, cap, "signal %d", sig);
    return buf;
}

void cli_signal_list(char *buf, size_t cap, int catchable_only)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int sig = 1; sig < SIGRTMIN && n < cap; sig++) {
        const char *name = sigabbrev_np(sig);
        if (!name || (catchable_only && (sig == SIGKILL || sig == SIGSTOP)))
            continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", name);
    }
    if (n < cap)
        snprintf(buf + n, cap - n, "%sRTMIN+N, RTMAX-N", n ? ", " : "");
}
