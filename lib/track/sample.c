/* sample.c: Poisson sampling by bytes, as tcmalloc and jemalloc do.
 *
 * Each thread counts down an exponentially distributed number of bytes; the
 * allocation that crosses zero is sampled. A block of s bytes is then
 * sampled with probability p = 1 - exp(-s/N), so weighting it by 1/p (in
 * bytes: s/p) makes every per-stack sum an unbiased estimate. The weight is
 * a function of the size alone, so a free subtracts exactly what the
 * allocation added. */
#include "track/sample.h"

#include "base/expo.h"

static inline uint64_t next_u64(uint64_t *s)
{
    /* xorshift64*: fast, and good enough for sampling distances. */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

int64_t tt_sample_next(uint64_t *rng)
{
    if (*rng == 0)
        *rng = 0x853c49e6748fea9bULL;
    /* u in (0, 1]: 53 random bits, never zero. */
    double u = (double)((next_u64(rng) >> 11) + 1) * (1.0 / 9007199254740992.0);
    double d = -base_log_unit(u) * (double)tt_cfg.sample_bytes;
    if (d > 9.0e18)
        d = 9.0e18;
    return (int64_t)d + 1;
}

/* llround for the weights, which are never negative; one past INT64_MAX (a
 * tiny p) is held there. w - i is exact, where w + 0.5 could round up. */
static int64_t round_weight(double w)
{
    if (w >= 9.2e18)
        return INT64_MAX;
    int64_t i = (int64_t)w;
    return w - (double)i >= 0.5 ? i + 1 : i;
}

void tt_sample_weight(int64_t size, int64_t *bytes, int64_t *count)
{
    double p = -base_expm1_neg(-(double)size / (double)tt_cfg.sample_bytes);
    if (p <= 0)
        p = 1e-300;
    *bytes = round_weight((double)size / p);
    *count = round_weight((double)tt_cfg.count_scale / p);
}
