#!/bin/sh
# ab.sh: two builds of tally, run alternately in the same minutes.
#
#   bench/ab.sh OLD_BUILDDIR NEW_BUILDDIR [ROUNDS]
#
# For a change that should cost nothing (a restructure), the question is
# not "how fast" but "what did it change", and machine noise drifts over
# minutes: so every measurement is taken once with each build in turn,
# ROUNDS times (default 5), and the medians are compared. Prints, per
# benchmark, the old and new medians and new/old:
#   - pool_bench and track_bench, 1 thread: each run's own ratio to raw
#     mimalloc (the peer runs in the same process, so the ratio cancels
#     most drift);
#   - the preload shim, full and sampled (512 KiB), on the workloads of
#     shim_bench.sh: median wall seconds.
set -u
OLD=$1
NEW=$2
ROUNDS=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/ab.XXXXXX")
trap 'rm -rf "$W"' EXIT

. "$HERE/bench_common.sh"
. "$HERE/workloads.sh"

# Each prints one figure; $B is the build directory.
pool_ratio() { "$B/bench/pool_bench" 5000000 1 | awk '/ratio pool\/raw/ {print $3; exit}'; }
track_ratio() { "$B/bench/track_bench" 1000000 3 | awk -v w="$1" '$1 == w {sub("x", "", $4); print $4; exit}'; }
# shim MODE CMD...: wall seconds of CMD under the shim, full or sampled.
shim() {
    mode=$1
    shift
    sample=0
    [ "$mode" = sampled ] && sample=524288
    /usr/bin/time -f %e -o "$W/time" env LD_PRELOAD="$B/.libs/libtally-preload.so" \
        TALLY_SAMPLE=$sample TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$@" >/dev/null 2>&1 &&
        tail -n 1 "$W/time"
    rm -f "$W"/prof.*
}

# bench LABEL COMMAND: COMMAND (a string, run with $B set) once per build
# per round, alternating; then the medians.
n=0
bench() {
    n=$((n + 1))
    for i in $(seq "$ROUNDS"); do
        B=$OLD
        eval "$2" >>"$W/$n.old"
        B=$NEW
        eval "$2" >>"$W/$n.new"
    done
    o=$(median <"$W/$n.old")
    nw=$(median <"$W/$n.new")
    printf '| %s | %s | %s | %s |\n' "$1" "$o" "$nw" \
        "$(awk -v o="$o" -v n="$nw" 'BEGIN {if (o > 0) printf "%.3f", n / o; else print "-"}')"
}

echo "| benchmark | old (median of $ROUNDS) | new | new/old |"
echo "|---|---|---|---|"
bench "pool_bench 1T: pool/raw" pool_ratio
for w in off full sampled; do
    bench "track_bench 1T $w: /raw" "track_ratio $w"
done
for mode in full sampled; do
    bench "shim $mode: churn 15M, 1T (s)" "shim $mode $W/churn 1 15000000"
    bench "shim $mode: larson 16T (s)" "shim $mode $W/larson 16 100"
    bench "shim $mode: bignum fib(60000) (s)" "shim $mode $W/bignum 60000"
    bench "shim $mode: python alloc (s)" "shim $mode $PY $HERE/shim_alloc.py"
    bench "shim $mode: sort 50 MB (s)" "shim $mode env LC_ALL=C sort -o $W/sorted $W/sort.txt"
done
