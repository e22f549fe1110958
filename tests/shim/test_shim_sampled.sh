#!/bin/sh
# Sampled mode (TALLY_SAMPLE) keeps unsampled blocks in the shim's shadow map
# instead of the live table: the same exact leaks (listed from the shadow
# map), double and invalid frees, mismatches and fork handling as full mode.
# With a 1 MB mean almost no block of these programs is sampled.
T=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim
for t in entry new errors threads big process; do
    TALLY_SAMPLE=1000000 sh "$T/test_shim_$t.sh"
    rc=$?
    [ $rc = 0 ] || exit $rc # 77: skipped, as the full-mode test was
done
