/* expo.h: the logarithm and exponential the sampler needs, without libm.
 *
 * They were libtally's only calls into libm, and loading libm cost every
 * preloaded program 312 KiB of resident pages (its many IFUNC relocations
 * touch most of its text). Both are within 4 ulps of libm over the ranges
 * the sampler uses (tests/base/test_expo.c holds them to libm's results),
 * which is far more than a sampling distance or weight needs. */
#ifndef TALLY_BASE_EXPO_H
#define TALLY_BASE_EXPO_H

#include <stdint.h>
#include <string.h>

#define BASE_LN2_HI 6.93147180369123816490e-01 /* ln 2 in two parts: hi * k is exact */
#define BASE_LN2_LO 1.90821492927058770002e-10
#define BASE_SQRT2 1.41421356237309504880

/* 1/k, so that the series multiply instead of divide. */
static const double base_inverse[24] = {
    0,        1.0,      1.0 / 2,  1.0 / 3,  1.0 / 4,  1.0 / 5,  1.0 / 6,  1.0 / 7,
    1.0 / 8,  1.0 / 9,  1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13, 1.0 / 14, 1.0 / 15,
    1.0 / 16, 1.0 / 17, 1.0 / 18, 1.0 / 19, 1.0 / 20, 1.0 / 21, 1.0 / 22, 1.0 / 23,
};

/* ln(u) for u in (0, 1], never 0 or subnormal. u = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)); ln(m) = 2 atanh(s) with s = (m - 1) / (m + 1), so
 * |s| <= 0.172 and the odd series 2 (s + s^3/3 + s^5/5 + ...) is below half
 * an ulp after 12 terms. */
static inline double base_log_unit(double u)
{
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & ((1ULL << 52) - 1)) | (uint64_t)1023 << 52;
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > BASE_SQRT2) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, sum = 0.0;
    for (int k = 23; k >= 1; k -= 2)
        sum = sum * s2 + base_inverse[k];
    return (double)e * BASE_LN2_HI + ((double)e * BASE_LN2_LO + 2.0 * s * sum);
}

/* e^x - 1 for x <= 0, without the cancellation of exp(x) - 1 near 0. */
static inline double base_expm1_neg(double x)
{
    if (x > -0.5) {
        /* x (1 + x/2 (1 + x/3 (1 + ...))): below half an ulp after 20 terms. */
        double t = 1.0;
        for (int k = 20; k >= 2; k--)
            t = 1.0 + t * x * base_inverse[k];
        return x * t;
    }
    if (x < -40.0)
        return -1.0; /* e^-40 is below half an ulp of 1 */
    /* e^x = 2^k e^r with |r| <= ln2 / 2; here e^x <= 0.61, so subtracting
     * 1 loses nothing. */
    int k = (int)(x / (BASE_LN2_HI + BASE_LN2_LO) - 0.5); /* nearest: x < 0 */
    double kf = (double)k;
    double r = (x - kf * BASE_LN2_HI) - kf * BASE_LN2_LO, t = 1.0;
    for (int j = 16; j >= 1; j--)
        t = 1.0 + t * r * base_inverse[j];
    uint64_t bits = (uint64_t)(1023 + k) << 52; /* 2^k: k >= -58 here */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return t * scale - 1.0;
}

#endif
