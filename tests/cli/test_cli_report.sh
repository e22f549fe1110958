#!/bin/sh
# tally report, text format: the four sections, symbolized with libdw
# (function, file:line, inlined frames), on profiles whose figures
# tests/progs/make_profile.c knows.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" basic "$WORK/basic.prof" || fail "make_profile"
"$TALLY" report "$WORK/basic.prof" >"$WORK/out.txt" 2>"$WORK/err.txt" || {
    cat "$WORK/err.txt"
    fail "tally report exited $?"
}
R=$WORK/out.txt
SRC=make_profile.c

# pools table: name current peak total count temporary
grep -Eq '^ +malloc +4460 +504960 +5004460 +10006 +9000$' "$R" || { cat "$R"; fail "malloc pool row"; }
grep -Eq '^ +arena +32 +1000000 +1000032 +2 +0$' "$R" || { cat "$R"; fail "arena pool row"; }
ok "pools table"

# the peak: total, then the stack that held most of it, symbolized
expect_in "$R" "PEAK: 1004960 bytes" "1000000 bytes (99.5%) in pool arena" \
    "peak_leaf $S/tests/progs/$SRC:$(mark peak_leaf)" "top $S/tests/progs/$SRC:$(mark main)"
ok "peak and its stack"

# leaks grouped by stack, largest first; the libc one-time buffer is suppressed
expect_in "$R" "LEAKS: 396 bytes (396 B) in 5 blocks from 3 stacks; 4096 bytes in 1 block suppressed" \
    "300 bytes in 3 blocks in pool malloc" "leaky_leaf $S/tests/progs/$SRC:$(mark leaky_leaf)" \
    "leaky_mid $S/tests/progs/$SRC:$(mark leaky_mid)" "32 bytes in 1 block in pool arena" \
    "(not sampled" "SUPPRESSED LEAKS: 4096 bytes in 1 block" "_IO_file_doallocate"
l300=$(grep -n "300 bytes in 3 blocks" "$R" | head -1 | cut -d: -f1)
l64=$(grep -n "64 bytes in 1 block in pool malloc" "$R" | head -1 | cut -d: -f1)
[ "$l300" -lt "$l64" ] || fail "leaks are not largest first"
ok "leaks grouped, largest first, libc suppressed apart"

# an inlined frame and the function it was inlined into
expect_in "$R" "inlined_helper $S/tests/progs/$SRC:$(mark inlined_helper) (inlined)" \
    "with_inline $S/tests/progs/$SRC:$(mark with_inline)"
ok "inlined frames"

expect_in "$R" "TOP ALLOCATING STACKS" "5000000 bytes in 10000 allocations (9000 temporary)" \
    "churn $S/tests/progs/$SRC:$(mark churn)"
ok "top allocating stacks"

# section selection and --top
"$TALLY" report "$WORK/basic.prof" --leaks --top 1 >"$WORK/leaks.txt" || fail "--leaks"
grep -q "^POOLS" "$WORK/leaks.txt" && fail "--leaks printed the pools"
expect_in "$WORK/leaks.txt" "LEAKS:" "... 2 more"
ok "--leaks --top 1"

# --frames: only the innermost frames, then how many were left out
"$TALLY" report "$WORK/basic.prof" --leaks --frames 1 >"$WORK/frames.txt" || fail "--frames 1"
expect_in "$WORK/frames.txt" "leaky_leaf $S/tests/progs/$SRC:$(mark leaky_leaf)" "more frames"
grep -q "leaky_mid" "$WORK/frames.txt" && fail "--frames 1 showed the second frame"
"$TALLY" report "$WORK/basic.prof" --frames lots >/dev/null 2>&1
[ $? -eq 2 ] || fail "--frames with a bad count did not exit 2"
ok "--frames"

# built-in suppressions off: the libc buffer is a leak again
"$TALLY" report "$WORK/basic.prof" --leaks --no-default-suppressions >"$WORK/nod.txt" || fail "--no-default-suppressions"
expect_in "$WORK/nod.txt" "LEAKS: 4492 bytes"
grep -q "SUPPRESSED" "$WORK/nod.txt" && fail "suppressed leaks with the built-ins off"
# a user file in LSan's format, with another tool's line and a comment
printf '# mine\nrace:whatever\nleak:leaky_*\n' >"$WORK/supp.txt"
"$TALLY" report "$WORK/basic.prof" --leaks --suppressions "$WORK/supp.txt" >"$WORK/sup.txt" || fail "--suppressions"
expect_in "$WORK/sup.txt" "LEAKS: 96 bytes" "suppressed by leak:leaky_*," "SUPPRESSED LEAKS: 4396 bytes in 4 blocks"
ok "suppressions: built in, off, and from a file"
