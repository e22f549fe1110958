/* default_pool.c: the pool behind every NULL pool argument.
 *
 * Chosen once, from TALLY_DEFAULT_POOL (a backend name) and TALLY_DEBUG_POOL
 * (abort|trap|warn|none), then replaceable with tally_set_default_pool. */
#include "pool/pool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tally_pool *env_default;
static _Atomic(tally_pool *) current_default;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void warn_unsupported_backend(const char *name)
{
    char list[128] = "";
    for (const char *const *b = tally_supported_backends(); *b; b++) {
        if (list[0])
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, *b, sizeof list - strlen(list) - 1);
    }
    fprintf(stderr, "tally: unsupported backend '%s' in TALLY_DEFAULT_POOL (supported: %s)\n", name,
            list);
}

static tally_pool *backend_from_env(void)
{
    const char *name = getenv("TALLY_DEFAULT_POOL");
    if (name && *name) {
        tally_pool *pool = tally_backend_pool(name);
        if (pool)
            return pool;
        warn_unsupported_backend(name);
    }
    return tally_backend_pool(backend_preferred()->name);
}

static tally_pool *debug_wrapper_from_env(tally_pool *base)
{
    static const struct {
        const char *name;
        tally_debug_action action;
    } actions[] = {
        {"abort", TALLY_DEBUG_ABORT},
        {"trap", TALLY_DEBUG_TRAP},
        {"warn", TALLY_DEBUG_WARN},
    };
    const char *value = getenv("TALLY_DEBUG_POOL");
    if (!value || !*value || strcmp(value, "none") == 0)
        return base;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(value, actions[i].name) == 0) {
            tally_pool *debug = tally_debug_pool_new(base, actions[i].action);
            return debug ? debug : base;
        }
    fprintf(stderr, "tally: invalid TALLY_DEBUG_POOL '%s' (valid: abort, trap, warn, none)\n",
            value);
    return base;
}

static void choose_default(void)
{
    env_default = debug_wrapper_from_env(backend_from_env());
    atomic_store(&current_default, env_default);
}

tally_pool *tally_default_pool(void)
{
    tally_pool *pool = atomic_load_explicit(&current_default, memory_order_acquire);
    if (__builtin_expect(pool != NULL, 1))
        return pool;
    pthread_once(&default_once, choose_default);
    return atomic_load_explicit(&current_default, memory_order_acquire);
}

int tally_set_default_pool(tally_pool *pool)
{
    pthread_once(&default_once, choose_default);
    atomic_store_explicit(&current_default, pool ? pool : env_default, memory_order_release);
    return 0;
}
