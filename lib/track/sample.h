/* sample.h: Poisson sampling by bytes (sample.c says why it is unbiased). */
#ifndef TALLY_TRACK_SAMPLE_H
#define TALLY_TRACK_SAMPLE_H

#include "track/config.h"

/* The next sampling distance: exponential with mean tt_cfg.sample_bytes. */
int64_t tt_sample_next(uint64_t *rng);
/* The sampling weight of a sampled block of size bytes, as bytes and as a
 * count in units of 1/count_scale. */
void tt_sample_weight(int64_t size, int64_t *bytes, int64_t *count);

#endif
