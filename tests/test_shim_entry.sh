#!/bin/sh
# Each C entry point leaks a known number of bytes; glibc's semantics hold.
. "${abs_top_srcdir:-$(dirname "$0")/..}/tests/shim_common.sh"

run leak100 "$PROG" leak100 || fail "leak100 exited $?"
expect_leaks leak100 100 1
expect_summary leak100 100 1

run entry "$PROG" entry || { cat "$WORK/entry.err"; fail "entry exited with an error"; }
# 11+21+31+41+51+61+128+71+81+4096+13+15+17+19
expect_leaks entry 4656 14

run align "$PROG" align || { cat "$WORK/align.err"; fail "align"; }
expect_leaks align 0 0

for b in mimalloc system; do
    run "entry_$b" env TALLY_BACKEND=$b "$PROG" entry || fail "entry under $b"
    expect_leaks "entry_$b" 4656 14
done
