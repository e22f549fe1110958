#!/bin/sh
# Every aligned entry point (posix_memalign, aligned_alloc, memalign, valloc,
# pvalloc, each aligned operator new) gives aligned blocks of the size asked,
# for every power-of-two alignment up to 1 MiB and sizes around it, under
# both of the shim's backends: tests/progs/align_prog.cc's grid. Debian's
# mimalloc 2.0.9 got 256..1024 wrong (lib/backend/mimalloc.c).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"
ALIGN=$B/tests/progs/align_prog

# The grid's own checks, plain: glibc passes them.
"$ALIGN" grid >"$WORK/plain.out" 2>&1 || { cat "$WORK/plain.out"; fail "the grid fails without tally"; }

for b in mimalloc system; do
    run "grid_$b" env TALLY_BACKEND=$b "$ALIGN" grid || {
        head -40 "$WORK/grid_$b.out"
        fail "the alignment grid fails under the shim with TALLY_BACKEND=$b"
    }
    tail -n 1 "$WORK/grid_$b.out"
    # Each block went back through its own release, and was known there.
    expect_leaks "grid_$b" 0 0
    grep -E "^tally: (Invalid|Mismatched)" "$WORK/grid_$b.err" | head -5 | grep . &&
        fail "tally reported errors in the grid under $b"
    echo "ok: the alignment grid under $b"
done
exit 0
