#!/bin/sh
# 8 threads allocate; each frees its neighbour's blocks.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

run threads "$PROG" threads || { rc=$?; cat "$WORK/threads.err"; fail "threads exited $rc"; }
expect_leaks threads 8028 8
grep -q "Invalid free" "$WORK/threads.err" && fail "a cross-thread free was reported"
exit 0
