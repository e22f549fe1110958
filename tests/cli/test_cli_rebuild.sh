#!/bin/sh
# Profiles that outlive their binaries: tally run stores each frame's names
# in the profile (NAMES) as the program ends, so a profile still reads after
# its binary is rebuilt in place or deleted, and tally diff matches the
# stacks of a rebuilt binary by function and source file. A small C program
# is built, run (A, then A2 from the same build), changed (a function added
# above the others, so every offset moves, and one allocation's size) and
# rebuilt in place, and run again (B).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"
need_shim
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler"; exit 77; }

SRC=$WORK/src
mkdir -p "$SRC"
# gen V: prog.c, version V (1 or 2), built into $SRC/prog
gen() {
    {
        echo '#include <stdlib.h>'
        echo '#include <string.h>'
        [ "$1" = 2 ] && echo 'int padding(int x) { char b[64]; memset(b, x, sizeof b); return b[3] + b[x & 63]; }'
        echo 'static void *volatile keep[3];'
        echo '__attribute__((noinline)) void *steady(void) { return malloc(1000); }'
        echo '__attribute__((noinline)) void *other(void) { return malloc(3000); }'
        if [ "$1" = 2 ]; then size=5000; else size=2000; fi
        echo "__attribute__((noinline)) void *grow(void) { return malloc($size); }"
        echo 'int main(void) { keep[0] = steady(); keep[1] = grow(); keep[2] = other(); return 0; }'
    } >"$SRC/prog.c"
    "$CC" -g -O1 -fno-omit-frame-pointer -o "$SRC/prog" "$SRC/prog.c" || fail "cc"
}
line() { grep -n "$1" "$SRC/prog.c" | cut -d: -f1; }

gen 1
GROW_A=$(line 'void \*grow'); STEADY_A=$(line 'void \*steady'); MAIN_A=$(line 'int main')
"$TALLY" run -o "$WORK/A.prof" -- "$SRC/prog" 2>"$WORK/runA.err" || { cat "$WORK/runA.err"; fail "run A"; }
"$TALLY" run -o "$WORK/A2.prof" -- "$SRC/prog" 2>/dev/null || fail "run A2"
# A0: the same build, written without tally run, so without names
TALLY_OUTPUT=$WORK/A0.prof LD_PRELOAD=$B/.libs/libtally-preload.so "$SRC/prog" 2>/dev/null || fail "preloaded run A0"
gen 2
GROW_B=$(line 'void \*grow')
[ "$GROW_A" != "$GROW_B" ] || fail "the rebuild did not move grow()"
"$TALLY" run -o "$WORK/B.prof" -- "$SRC/prog" 2>/dev/null || fail "run B"

# (1) A's old binary is gone (rebuilt in place): its frames still have names
"$TALLY" report "$WORK/A.prof" >"$WORK/rA.txt" 2>"$WORK/rA.err" || fail "report A exited $?"
expect_in "$WORK/rA.txt" "grow $SRC/prog.c:$GROW_A" "steady $SRC/prog.c:$STEADY_A" \
    "main $SRC/prog.c:$MAIN_A"
if grep -q "not symbolized" "$WORK/rA.err"; then cat "$WORK/rA.err"; fail "report A: not symbolized"; fi
ok "rebuild: the old profile names its frames from what it stores"

# (2) only the stack whose bytes changed, with its before and after
"$TALLY" diff "$WORK/A.prof" "$WORK/B.prof" >"$WORK/d.txt" 2>"$WORK/d.err" || fail "diff exited $?"
expect_in "$WORK/d.txt" "1 grew, 0 shrank" \
    "+3000 bytes (+0 blocks) in pool malloc: 2000 -> 5000 live" \
    "grow $SRC/prog.c:$GROW_B" \
    "note: $SRC/prog was rebuilt (another build-id): 3 stacks matched by function and source file"
if grep -q "SHRANK" "$WORK/d.txt"; then cat "$WORK/d.txt"; fail "diff: identical stacks listed as shrunk"; fi
"$TALLY" diff "$WORK/A.prof" "$WORK/B.prof" --cost allocated >"$WORK/da.txt" || fail "diff --cost allocated"
expect_in "$WORK/da.txt" "1 grew, 0 shrank" "+3000 bytes in pool malloc: 2000 -> 5000 allocated"
ok "rebuild: diff A B lists grow() alone, 2000 -> 5000, matched by name"
"$TALLY" diff "$WORK/A0.prof" "$WORK/B.prof" >"$WORK/d0.txt" 2>/dev/null || fail "diff A0 B"
expect_in "$WORK/d0.txt" "note: A stores no names" "3 grew, 3 shrank"
ok "rebuild: a profile without names says why nothing matched"

# (3) two runs of one build: matched exactly, nothing changed, no note
"$TALLY" diff "$WORK/A.prof" "$WORK/A2.prof" >"$WORK/same.txt" || fail "diff A A2"
expect_in "$WORK/same.txt" "0 grew, 0 shrank" "live bytes: 6000 -> 6000 (+0)"
if grep -q "^note:" "$WORK/same.txt"; then cat "$WORK/same.txt"; fail "diff A A2: a note"; fi
ok "rebuild: two runs of one build diff to nothing"

# (4) the binary deleted: A and B still read
rm -f "$SRC/prog" "$SRC/prog.c"
"$TALLY" report "$WORK/A.prof" >"$WORK/rA2.txt" 2>"$WORK/rA2.err" || fail "report A without the binary"
expect_in "$WORK/rA2.txt" "grow $SRC/prog.c:$GROW_A" "steady $SRC/prog.c:$STEADY_A"
"$TALLY" report "$WORK/B.prof" --format json >"$WORK/rB.json" 2>"$WORK/rB.err" || fail "report B json"
expect_in "$WORK/rB.json" "\"grow\"" "$SRC/prog.c"
"$TALLY" diff "$WORK/A.prof" "$WORK/B.prof" >"$WORK/d2.txt" || fail "diff without the binary"
expect_in "$WORK/d2.txt" "1 grew, 0 shrank" "grow $SRC/prog.c:$GROW_B"
ok "deleted binary: reports and the diff still name every frame"

# tally report --store-names: for a profile written without tally run.
# The report reads the same after it, and a second one changes nothing.
"$MP" basic "$WORK/basic.prof" || fail "make_profile basic"
"$TALLY" report "$WORK/basic.prof" >"$WORK/before.txt" 2>&1 || fail "report basic"
cp "$WORK/basic.prof" "$WORK/named.prof"
"$TALLY" report --store-names "$WORK/named.prof" || fail "--store-names exited $?"
cmp -s "$WORK/basic.prof" "$WORK/named.prof" && fail "--store-names left the file as it was"
"$TALLY" report "$WORK/named.prof" >"$WORK/after.txt" 2>&1 || fail "report named"
sed "s|named.prof|basic.prof|" "$WORK/after.txt" | diff "$WORK/before.txt" - || fail "--store-names changed the report"
cp "$WORK/named.prof" "$WORK/again.prof"
"$TALLY" report --store-names "$WORK/again.prof" || fail "--store-names again"
cmp "$WORK/named.prof" "$WORK/again.prof" || fail "--store-names twice rewrote the file"
ls "$WORK" | grep -q "\.tmp\." && fail "a temporary file was left"
"$MP" v2 "$WORK/v2.prof" || fail "make_profile v2"
"$TALLY" report --store-names "$WORK/v2.prof" 2>"$WORK/v2.err"
[ $? -eq 2 ] || fail "--store-names on a version 2 profile: not 2"
expect_in "$WORK/v2.err" "a version 2 profile cannot store names"
ok "--store-names: same report, once, refused for version 2"
