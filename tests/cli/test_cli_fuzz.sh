#!/bin/sh
# A short libFuzzer run of the profile reader (tests/cli/fuzz_profile_read.c)
# from a seed corpus of profiles: make_profile's, good and broken, and real
# ones from `tally run` when the shim can run here. TALLY_FUZZ_SECONDS
# sets the length (default 20). Skips without clang's fuzzer runtime.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

# The reader is compiled here from its source rather than linked from
# lib/profile/libtallyprofile.la: libFuzzer steers by the coverage
# instrumentation, and ASan checks by its own, of the code it runs.
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$B" -I"$S/lib" "$S/tests/cli/fuzz_profile_read.c" "$S/lib/profile/read.c" "$S/lib/profile/read_stacks.c" \
    "$S/lib/profile/read_names.c" \
    -o "$WORK/fuzz" 2>"$WORK/cc.err" || {
    tail -3 "$WORK/cc.err"
    echo "SKIP: clang cannot build a libFuzzer target here (libclang-rt-*-dev missing?)"
    exit 77
}

mkdir -p "$WORK/corpus"
# version 3 (the stack tree: FRAMES, NODES, STACKS) good and broken, and
# versions 1 and 2 (stacks as frame arrays), which the reader makes into it
for kind in basic live addresses v1 v2 cxx snap1 snap2 badversion badref dupsec badcount unknownpool \
    trailing badkind kindunclassified badblocks blockref deepstack zerostack badnode badframe \
    badstacknode badnames badnamesframe; do
    "$MP" "$kind" "$WORK/corpus/$kind.prof" || fail "make_profile $kind"
done
# NAMES (the frames' names, stored in a profile): good, on top of basic
cp "$WORK/corpus/basic.prof" "$WORK/corpus/named.prof"
"$TALLY" report --store-names "$WORK/corpus/named.prof" || fail "tally report --store-names"
"$MP" big 50 "$WORK/corpus/big.prof" || fail "make_profile big"
"$MP" big-v2 50 "$WORK/corpus/big-v2.prof" || fail "make_profile big-v2"
if [ -z "${TALLY_TEST_SANITIZERS:-}" ] && [ -x "$B/tests/progs/cli_prog" ] && [ -f "$B/.libs/libtally-preload.so" ]; then
    "$TALLY" run -o "$WORK/corpus/real-leaks.prof" -- "$B/tests/progs/cli_prog" leaks 2>/dev/null
    "$TALLY" run -o "$WORK/corpus/real-sort.prof" -- sort /dev/null 2>/dev/null
fi
ls "$WORK/corpus" | sed 's/^/seed: /'

# Every seed must go through the target without a finding first.
"$WORK/fuzz" -runs=0 -artifact_prefix="$WORK/" "$WORK/corpus" >"$WORK/seed.log" 2>&1 || { tail -30 "$WORK/seed.log"; fail "a seed crashed the reader"; }
"$WORK/fuzz" -max_total_time="${TALLY_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$WORK/" \
    -max_len=65536 -print_final_stats=1 "$WORK/corpus" >"$WORK/fuzz.log" 2>&1 || {
    tail -40 "$WORK/fuzz.log"
    ls "$WORK"/crash-* 2>/dev/null && od -An -tx1 "$WORK"/crash-* | head -40
    fail "libFuzzer found a crash in the reader"
}
grep -E "stat::number_of_executed_units|cov:" "$WORK/fuzz.log" | tail -2
ok "fuzz: ${TALLY_FUZZ_SECONDS:-20} s without a finding"
