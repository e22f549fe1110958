/* pools.c: TALLY_POOLS, the pools of an unmodified binary.
 *
 *   TALLY_POOLS='python=*libpython*;ssl=*libssl*,*libcrypto*;parser=fn:parse_*'
 *   TALLY_POOLS=modules
 *
 * A rule maps the first frame outside libc, libstdc++ and the loader to a
 * pool, by the path of its module or (fn:) by its function name, as dladdr
 * sees it (exported names only). Rules are tried in order; no match means
 * "malloc". With "modules", each caller module gets a pool of its own name.
 * A stack is evaluated once: the result is cached in the stack's pool slot,
 * so dladdr runs once per unique stack, never per call. Stacks the sampler
 * skipped (TALLY_SAMPLE) have no frames and are charged to "malloc". */
#include "shim/shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tally/pool.h>

#define MAX_RULES 32
#define MAX_PATTERNS 128
#define MAX_MODULES 128

typedef struct {
    const char *glob;
    bool by_function;
    int rule;
} pattern;

/* Set while this thread is inside the shim's dlopen (process.c). The
 * loader's own allocations there have the shim's dlopen as their first
 * frame outside the runtime; the module's constructors have the module's. */
static __thread const char *loading __attribute__((tls_model("initial-exec")));
static const void *shim_base; /* the shim's own load address */

static char text[4096]; /* a copy of TALLY_POOLS, cut into strings in place */
static pattern patterns[MAX_PATTERNS];
static int npatterns;
static const char *rule_names[MAX_RULES];
static int32_t rule_pools[MAX_RULES];
static int nrules;
static bool per_module;
bool shim_pools_active;

/* '*' and '?' only: fnmatch may allocate, and this runs inside malloc. */
static bool glob_match(const char *g, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*g == '*') {
            star = g++;
            resume = s;
        } else if (*g == '?' || *g == *s) {
            g++;
            s++;
        } else if (star) {
            g = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*g == '*')
        g++;
    return *g == 0;
}

static void warn(const char *msg)
{
    tally_track_say_text(msg, strlen(msg)); /* tally's descriptor, not fd 2 */
}

int32_t shim_pools_new(const char *name)
{
    /* A proxy pool is the way to a fresh, named pool id; nothing is ever
     * allocated through it. */
    tally_pool *p = tally_proxy_pool_new(NULL, name);
    return p ? tally_pool_id(p) : 0;
}

void shim_pools_init(void)
{
    const char *env = getenv("TALLY_POOLS");
    if (!env || !*env)
        return;
    if (strcmp(env, "modules") == 0) {
        Dl_info self;
        if (dladdr((void *)shim_pools_loading, &self))
            shim_base = self.dli_fbase;
        per_module = shim_pools_active = true;
        return;
    }
    if (strlen(env) >= sizeof text) {
        warn("tally: TALLY_POOLS is too long; ignored\n");
        return;
    }
    strcpy(text, env);
    char *save_rule = NULL;
    for (char *rule = strtok_r(text, ";", &save_rule); rule && nrules < MAX_RULES;
         rule = strtok_r(NULL, ";", &save_rule)) {
        char *eq = strchr(rule, '=');
        if (!eq || eq == rule) {
            warn("tally: TALLY_POOLS: a rule is not name=pattern[,pattern...]; ignored\n");
            continue;
        }
        *eq = 0;
        char *save_pat = NULL;
        for (char *pat = strtok_r(eq + 1, ",", &save_pat); pat && npatterns < MAX_PATTERNS;
             pat = strtok_r(NULL, ",", &save_pat)) {
            bool fn = strncmp(pat, "fn:", 3) == 0;
            patterns[npatterns++] = (pattern){fn ? pat + 3 : pat, fn, nrules};
        }
        rule_names[nrules] = rule;
        rule_pools[nrules] = shim_pools_new(rule);
        nrules++;
    }
    shim_pools_active = nrules > 0;
}

void shim_pools_name(void)
{
    for (int i = 0; i < nrules; i++)
        tally_track_name_pool(rule_pools[i], rule_names[i]);
}

/* libc, libstdc++ and the loader are never "the caller". */
static bool is_runtime(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libstdc++.so", 12) == 0 ||
           strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "libc-", 5) == 0;
}

/* ---- modules mode: one pool per caller module ------------------------------ */
/* Keyed by the module's file name (a copy: a dlclose'd module's name goes). */
#define MODULE_NAME_MAX 64
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static char module_names[MAX_MODULES][MODULE_NAME_MAX];
static int32_t module_pools[MAX_MODULES];
static int nmodules;

static int32_t module_pool(const char *path)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : path;
    if (!base || !*base)
        base = "main";
    int32_t pool = 0;
    pthread_mutex_lock(&modules_lock);
    for (int i = 0; i < nmodules; i++)
        if (strncmp(module_names[i], base, MODULE_NAME_MAX - 1) == 0) {
            pool = module_pools[i];
            goto out;
        }
    if (nmodules < MAX_MODULES) {
        snprintf(module_names[nmodules], MODULE_NAME_MAX, "%s", base);
        pool = shim_pools_new(module_names[nmodules]);
        tally_track_name_pool(pool, module_names[nmodules]);
        module_pools[nmodules++] = pool;
    }
out:
    pthread_mutex_unlock(&modules_lock);
    return pool;
}

/* ---- dlopen: what the loader allocates belongs to the module it loads -------- */
const char *shim_pools_loading(const char *file)
{
    const char *outer = loading;
    loading = file;
    return outer;
}

int32_t shim_pools_evaluate(tally_stack_id stack, bool *cacheable)
{
    const uintptr_t *frames;
    int n = tally_track_stack_frames(stack, &frames);
    for (int i = 0; i < n; i++) {
        Dl_info di;
        if (!dladdr((void *)(frames[i] - 1), &di) || !di.dli_fname || is_runtime(di.dli_fname))
            continue;
        if (per_module && loading && di.dli_fbase == shim_base) {
            /* One call site may dlopen many files: not the stack's pool. */
            *cacheable = false;
            return module_pool(loading);
        }
        if (per_module)
            return module_pool(di.dli_fname);
        for (int k = 0; k < npatterns; k++) {
            const pattern *p = &patterns[k];
            const char *subject = p->by_function ? di.dli_sname : di.dli_fname;
            if (subject && glob_match(p->glob, subject))
                return rule_pools[p->rule];
        }
        return 0;
    }
    return 0;
}
