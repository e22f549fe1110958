#!/bin/sh
# tally report, text format: the four sections, symbolized with libdw
# (function, file:line, inlined frames), on profiles whose figures
# tests/progs/make_profile.c knows.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" basic "$WORK/basic.prof" || fail "make_profile"
"$TALLY" report "$WORK/basic.prof" >"$WORK/out.txt" 2>"$WORK/err.txt" || {
    rc=$?
    cat "$WORK/err.txt"
    fail "tally report exited $rc"
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

# the leaks by memcheck's classes: the lost ones (definite and indirect)
# listed largest first with their kind, possibly lost apart, still reachable
# as a total; the libc one-time buffer suppressed, and the rule's count said
expect_in "$R" "LEAKS: definitely lost: 200 bytes in 2 blocks; indirectly lost: 64 bytes in 1 block; possibly lost: 32 bytes in 1 block; still reachable: 100 bytes in 1 block; suppressed: 4096 bytes in 1 block" \
    "LOST: 264 bytes (264 B) in 3 blocks from 2 stacks, definitely and indirectly" \
    "200 bytes in 2 blocks definitely lost in pool malloc" "leaky_leaf $S/tests/progs/$SRC:$(mark leaky_leaf)" \
    "leaky_mid $S/tests/progs/$SRC:$(mark leaky_mid)" "64 bytes in 1 block indirectly lost in pool malloc" \
    "POSSIBLY LOST: 32 bytes (32 B) in 1 block from 1 stack, only interior pointers reach them" \
    "32 bytes in 1 block possibly lost in pool arena" "(not sampled" \
    "STILL REACHABLE: 100 bytes (100 B) in 1 block from 1 stack (--show-reachable lists them)" \
    "SUPPRESSED: 4096 bytes (4.0 KiB) in 1 block from 1 stack" \
    "  by leak:^_IO_file_doallocate\$ (built in): 4096 bytes in 1 block" \
    "4096 bytes in 1 block still reachable in pool malloc, suppressed by leak:^_IO_file_doallocate\$ (built in)" \
    "_IO_file_doallocate"
l200=$(grep -n "200 bytes in 2 blocks" "$R" | head -1 | cut -d: -f1)
l64=$(grep -n "64 bytes in 1 block indirectly" "$R" | head -1 | cut -d: -f1)
[ "$l200" -lt "$l64" ] || fail "lost blocks are not largest first"
grep -q "100 bytes in 1 block still reachable" "$R" && fail "still reachable blocks listed without --show-reachable"
grep -qi "leaked" "$R" && fail "the report says 'leaked'"
ok "leaks by class: lost largest first, possibly lost apart, reachable a total, libc suppressed by its rule"

"$TALLY" report "$WORK/basic.prof" --leaks --show-reachable >"$WORK/reach.txt" || fail "--show-reachable"
expect_in "$WORK/reach.txt" "STILL REACHABLE: 100 bytes (100 B) in 1 block from 1 stack" \
    "  100 bytes in 1 block still reachable in pool malloc, allocated at:"
grep -q "(--show-reachable lists them)" "$WORK/reach.txt" && fail "--show-reachable still says it is not listed"
ok "--show-reachable lists the still reachable groups"

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
expect_in "$WORK/leaks.txt" "LEAKS:" "... 1 more"
ok "--leaks --top 1"

# --frames: only the innermost frames, then how many were left out
"$TALLY" report "$WORK/basic.prof" --leaks --frames 1 >"$WORK/frames.txt" || fail "--frames 1"
expect_in "$WORK/frames.txt" "leaky_leaf $S/tests/progs/$SRC:$(mark leaky_leaf)" "... 2 more frames"
grep -q "leaky_mid" "$WORK/frames.txt" && fail "--frames 1 showed the second frame"
"$TALLY" report "$WORK/basic.prof" --frames lots >/dev/null 2>&1
[ $? -eq 2 ] || fail "--frames with a bad count did not exit 2"
ok "--frames"

# built-in suppressions off: the libc buffer is still reachable again
"$TALLY" report "$WORK/basic.prof" --leaks --no-default-suppressions >"$WORK/nod.txt" || fail "--no-default-suppressions"
expect_in "$WORK/nod.txt" "possibly lost: 32 bytes in 1 block; still reachable: 4196 bytes in 2 blocks"
grep -q "SUPPRESSED" "$WORK/nod.txt" && fail "suppressed leaks with the built-ins off"
# a user file in LSan's format, with another tool's line and a comment: it
# hides every kind of its stack (definite and reachable at leaky_leaf)
printf '# mine\nrace:whatever\nleak:leaky_*\n' >"$WORK/supp.txt"
"$TALLY" report "$WORK/basic.prof" --leaks --suppressions "$WORK/supp.txt" >"$WORK/sup.txt" || fail "--suppressions"
expect_in "$WORK/sup.txt" "definitely lost: 0 bytes in 0 blocks; indirectly lost: 64 bytes in 1 block" \
    "still reachable: 0 bytes in 0 blocks; suppressed: 4396 bytes in 4 blocks" \
    "  by leak:^_IO_file_doallocate\$ (built in): 4096 bytes in 1 block" \
    "  by leak:leaky_*: 300 bytes in 3 blocks" \
    "200 bytes in 2 blocks definitely lost in pool malloc, suppressed by leak:leaky_*," \
    "SUPPRESSED: 4396 bytes (4.3 KiB) in 4 blocks from 2 stacks"
ok "suppressions: built in, off, and from a file, each rule's blocks and bytes"
