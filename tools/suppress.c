/* suppress.c: LSan-format leak suppressions, and the built-in ones. */
#include <config.h>

#include "suppress.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *rule;    /* as written, "leak:..." */
    char *pattern; /* an fnmatch pattern, anchors turned into '*' or not */
    int builtin;
} rule;

struct cli_suppressions {
    rule *rules;
    size_t n, cap;
};

/* libc allocates these once and keeps them for the life of the process:
 * stdio buffers, the TLS dtv of each thread, NSS and iconv state. They are
 * not the program's leaks. --no-default-suppressions turns them off. */
static const char *const builtin_rules[] = {
    "^_IO_file_doallocate$",
    "^_dl_allocate_tls",
    "^__nss_",
    "^__gconv_",
    "^__libc_setlocale$",
    "^_nl_",
};

static int add(cli_suppressions *s, const char *glob, int builtin)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        rule *r = realloc(s->rules, cap * sizeof *r);
        if (!r)
            return -1;
        s->rules = r;
        s->cap = cap;
    }
    size_t len = strlen(glob);
    int head = len > 0 && glob[0] == '^', tail = len > (size_t)head && glob[len - 1] == '$';
    char *pat = malloc(len + 3), *text = malloc(len + 6);
    if (!pat || !text) {
        free(pat);
        free(text);
        return -1;
    }
    snprintf(pat, len + 3, "%s%.*s%s", head ? "" : "*", (int)(len - head - tail), glob + head,
             tail ? "" : "*");
    snprintf(text, len + 6, "leak:%s", glob);
    s->rules[s->n++] = (rule){text, pat, builtin};
    return 0;
}

cli_suppressions *cli_supp_new(int builtin)
{
    cli_suppressions *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; builtin && i < sizeof builtin_rules / sizeof builtin_rules[0]; i++)
        if (add(s, builtin_rules[i], 1) != 0) {
            cli_supp_free(s);
            return NULL;
        }
    return s;
}

void cli_supp_free(cli_suppressions *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rules[i].rule);
        free(s->rules[i].pattern);
    }
    free(s->rules);
    free(s);
}

int cli_supp_load(cli_suppressions *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open suppressions %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int rc = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        char *colon = strchr(p, ':');
        if (!colon) {
            snprintf(err, errlen, "%s:%d: not a suppression (expected leak:<pattern>)", path,
                     lineno);
            rc = -1;
            break;
        }
        if (colon - p != 4 || strncmp(p, "leak", 4) != 0 || colon[1] == '\0')
            continue; /* another sanitizer's kind */
        if (add(s, colon + 1, 0) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int matches(const char *pattern, const char *text)
{
    return text && fnmatch(pattern, text, 0) == 0;
}

size_t cli_supp_count(const cli_suppressions *s)
{
    return s ? s->n : 0;
}

long cli_supp_match_address(const cli_suppressions *s, cli_symbolizer *sym, uint64_t addr)
{
    if (!s || s->n == 0)
        return -1;
    size_t n;
    const cli_sym_frame *fr = cli_sym_lookup(sym, addr, &n);
    for (size_t k = 0; k < n; k++)
        for (size_t r = 0; r < s->n; r++) {
            const char *pat = s->rules[r].pattern;
            /* C++: the demangled name, as LSan matches it, or the mangled one */
            if ((fr[k].known &&
                 (matches(pat, fr[k].function) || matches(pat, fr[k].system_name))) ||
                matches(pat, fr[k].file) || matches(pat, fr[k].module))
                return (long)r;
        }
    return -1;
}

const char *cli_supp_rule(const cli_suppressions *s, long i, int *builtin)
{
    if (builtin)
        *builtin = s->rules[i].builtin;
    return s->rules[i].rule;
}
