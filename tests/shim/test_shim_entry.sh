#!/bin/sh
# Each C entry point leaks a known number of bytes; glibc's semantics hold.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

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

# Every binding of an allocator name lands in the shim (LD_DEBUG=bindings),
# and backtrace() stays glibc's although the shim links libunwind.
run bindings env LD_DEBUG=bindings "$PROG" leak100 || fail "bindings run"
bad=$(grep -E "normal symbol \`(malloc|free|calloc|realloc|memalign|posix_memalign|aligned_alloc|_Znwm|_ZdlPv)'" \
    "$WORK/bindings.err" | grep -v "to [^ ]*libtally-preload.so" | head -3)
[ -z "$bad" ] || fail "allocator names bound outside the shim: $bad"
grep "normal symbol \`backtrace'" "$WORK/bindings.err" | grep -qv "libc.so" &&
    fail "backtrace() no longer binds to glibc"
echo "ok: LD_DEBUG=bindings: the allocator names bind to the shim"
exit 0
