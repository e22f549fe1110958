#!/bin/sh
# A 2 GB calloc, calloc(SIZE_MAX/2, 4) and 1-32 MiB blocks.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

run big "$PROG" big || { rc=$?; cat "$WORK/big.err"; fail "big exited $rc"; }
expect_leaks big 64 1
