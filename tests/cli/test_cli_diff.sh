#!/bin/sh
# tally diff A B: per-pool and per-stack growth, largest first, with stacks
# matched across processes by module offsets (the two profiles come from two
# runs of make_profile, at different addresses).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" snap1 "$WORK/a.prof" && "$MP" snap2 "$WORK/b.prof" || fail "make_profile"
"$TALLY" diff "$WORK/a.prof" "$WORK/b.prof" >"$WORK/d.txt" || fail "tally diff exited $?"
D=$WORK/d.txt
expect_in "$D" "live bytes: 4492 -> 17837 (+13345)" "2 grew, 0 shrank"
grep -Eq '^ +malloc +\+12345 +\+12345 +\+12345 +\+0$' "$D" || { cat "$D"; fail "malloc pool row"; }
grep -Eq '^ +arena +\+1000 +\+1000 +\+1000 +\+0$' "$D" || { cat "$D"; fail "arena pool row"; }
first=$(grep -m1 -n "bytes (+1 blocks)" "$D")
case $first in
*"+12345 bytes (+1 blocks) in pool malloc: 300 -> 12645 live"*) ;;
*) cat "$D"; fail "the largest growth is not first: $first" ;;
esac
expect_in "$D" "+1000 bytes (+1 blocks) in pool arena: 0 -> 1000 live" \
    "leaky_leaf $S/tests/progs/make_profile.c:$(mark leaky_leaf)"
ok "diff: +12345 at leaky_leaf, then +1000 at peak_leaf"

"$TALLY" diff "$WORK/b.prof" "$WORK/a.prof" >"$WORK/r.txt" || fail "reverse diff"
expect_in "$WORK/r.txt" "live bytes: 17837 -> 4492 (-13345)" "SHRANK" "-12345 bytes (-1 blocks)"
"$TALLY" diff "$WORK/a.prof" "$WORK/a.prof" >"$WORK/z.txt" || fail "self diff"
expect_in "$WORK/z.txt" "(+0)" "0 grew, 0 shrank"
ok "diff: reverse and self"

"$TALLY" diff "$WORK/a.prof" "$WORK/b.prof" --cost peak >"$WORK/p.txt" || fail "diff --cost peak"
expect_in "$WORK/p.txt" "(bytes at the peak, B - A), largest first: 1 grew" \
    "+1000 bytes in pool arena: 1000000 -> 1001000 at the peak"
"$TALLY" diff "$WORK/a.prof" "$WORK/b.prof" --cost allocated >"$WORK/t.txt" || fail "diff --cost allocated"
expect_in "$WORK/t.txt" "+12345 bytes in pool malloc: 300 -> 12645 allocated"
"$TALLY" diff "$WORK/a.prof" "$WORK/b.prof" --cost nope >/dev/null 2>&1
[ $? -eq 2 ] || fail "diff --cost nope: not 2"
ok "diff --cost peak and allocated"

# a program that allocated nothing: no record on either side (under the
# sanitizers, CI's pass, this once sorted a NULL array)
"$MP" empty "$WORK/e.prof" || fail "make_profile empty"
"$TALLY" diff "$WORK/e.prof" "$WORK/e.prof" >"$WORK/e.txt" 2>"$WORK/e.err" || { rc=$?; cat "$WORK/e.err"; fail "diff of empty profiles exited $rc"; }
[ -s "$WORK/e.err" ] && { cat "$WORK/e.err"; fail "diff of empty profiles wrote to stderr"; }
expect_in "$WORK/e.txt" "live bytes: 0 -> 0 (+0)" "0 grew, 0 shrank"
for fmt in text json folded massif html pprof; do
    "$TALLY" report "$WORK/e.prof" --format "$fmt" -o "$WORK/e.$fmt" 2>"$WORK/e.err" || { rc=$?; cat "$WORK/e.err"; fail "report --format $fmt of an empty profile exited $rc"; }
    [ -s "$WORK/e.err" ] && { cat "$WORK/e.err"; fail "report --format $fmt of an empty profile wrote to stderr"; }
done
ok "diff and every report of a profile without records"
