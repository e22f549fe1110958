/* test_expo.c: lib/base/expo.h's logarithm and exponential, which replace
 * libm's in the sampler, held to libm's own results. */
#include <config.h>

#include "check_main.h"

#include "base/expo.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

/* The gap between x and the next double, at x's magnitude. */
static double ulp(double x)
{
    x = fabs(x);
    return x == 0 ? DBL_TRUE_MIN : nextafter(x, INFINITY) - x;
}

/* Within n ulps of libm's result (itself within one of the truth). The
 * logarithm may lose a few more where e ln2 and ln(m) nearly cancel. */
#define ck_assert_close(got, want, n, x)                                                           \
    ck_assert_msg(fabs((got) - (want)) <= (n)*ulp(want), "at %a: %a, libm %a (%.1f ulps)",         \
                  (double)(x), (double)(got), (double)(want), fabs((got) - (want)) / ulp(want))

/* The worst error over a sweep, asserted once at its end: an assertion per
 * point costs Check a write to its pipe, and two million of them under the
 * sanitizers ran past Check's 4 s timeout on a loaded machine. */
typedef struct {
    double x, got, want, ulps;
} worst_error;

static void note_error(worst_error *w, double x, double got, double want)
{
    double ulps = fabs(got - want) / ulp(want);
    if (ulps > w->ulps)
        *w = (worst_error){x, got, want, ulps};
}

#define ck_assert_worst(w, n)                                                                      \
    ck_assert_msg((w).ulps <= (n), "at %a: %a, libm %a (%.1f ulps)", (w).x, (w).got, (w).want,     \
                  (w).ulps)

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(log_unit_matches_libm)
{
    /* The sampler's u: 53 random bits plus one, times 2^-53. */
    const double edges[] = {1.0,
                            0x1p-53,
                            0.5,
                            0.25,
                            0x1.6a09e667f3bccp-1,
                            0x1.6a09e667f3bcdp-1,
                            0x1.fffffffffffffp-1,
                            0x1.0000000000001p-1,
                            0.9,
                            0.1,
                            1e-10};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        ck_assert_close(base_log_unit(edges[i]), log(edges[i]), 4, edges[i]);
    uint64_t s = 88172645463325252ULL;
    worst_error w = {0};
    for (int i = 0; i < 1000000; i++) {
        double u = (double)((next(&s) >> 11) + 1) * 0x1p-53;
        note_error(&w, u, base_log_unit(u), log(u));
    }
    ck_assert_worst(w, 4);
}
END_TEST

START_TEST(expm1_neg_matches_libm)
{
    const double edges[] = {0.0,       -0x1p-1074, -1e-300, -1e-17, -1e-9,
                            -0.499999, -0.5,       -0.51,   -1.0,   -0.6931471805599453,
                            -10.0,     -37.9,      -38.5,   -40.0,  -40.5,
                            -700.0,    -1e10};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        ck_assert_close(base_expm1_neg(edges[i]), expm1(edges[i]), 2, edges[i]);
    uint64_t s = 2463534242ULL;
    worst_error w = {0};
    for (int i = 0; i < 1000000; i++) {
        /* The sampler's -size/N: sizes of 1 byte to far past N, on a log scale. */
        double x = -ldexp((double)(next(&s) >> 11) * 0x1p-53, (int)(next(&s) % 80) - 60);
        note_error(&w, x, base_expm1_neg(x), expm1(x));
    }
    ck_assert_worst(w, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("expo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, log_unit_matches_libm);
    tcase_add_test(tc, expm1_neg_matches_libm);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
