#!/bin/sh
# live_bench.sh: what the live view's publishing (TALLY_LIVE=1, about once
# a second, lib/track/publish.c) costs a tracked program, against the same
# build tracking the same workloads without it, in full mode.
#
#   bench/live_bench.sh [BUILDDIR] [ROUNDS]
#
# Every workload runs once without and once with TALLY_LIVE in turn (each
# first in every other round), ROUNDS times (default 5), so that the
# machine's drift over minutes falls on both alike; prints each side's median wall seconds and live/plain. The
# target (bench/README.md): at most 1.03. A run shorter than a second
# publishes at most once: the workloads here run for seconds.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:-$HERE/..}" && pwd)
ROUNDS=${2:-5}
SHIM=$B/.libs/libtally-preload.so
[ -f "$SHIM" ] || { echo "live_bench.sh: $SHIM is not built" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/live_bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

. "$HERE/workloads.sh"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# shim LIVE CMD...: wall seconds of CMD under the shim in full mode, with
# TALLY_LIVE=LIVE (0: no segment, nothing published).
shim() {
    live=$1
    shift
    /usr/bin/time -f %e -o "$W/time" env LD_PRELOAD="$SHIM" TALLY_LIVE="$live" \
        TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$@" >/dev/null 2>&1 &&
        tail -n 1 "$W/time"
    rm -f "$W"/prof.*
}

n=0
bench() {
    n=$((n + 1))
    for i in $(seq "$ROUNDS"); do
        # Each first in turn: a load that drifts within a round falls on both.
        if [ $((i % 2)) -eq 1 ]; then
            eval "shim 0 $2" >>"$W/$n.plain"
            eval "shim 1 $2" >>"$W/$n.live"
        else
            eval "shim 1 $2" >>"$W/$n.live"
            eval "shim 0 $2" >>"$W/$n.plain"
        fi
    done
    p=$(median <"$W/$n.plain")
    l=$(median <"$W/$n.live")
    printf '| %s | %s | %s | %s |\n' "$1" "$p" "$l" \
        "$(awk -v p="$p" -v l="$l" 'BEGIN {if (p > 0) printf "%.3f", l / p; else print "-"}')"
}

echo "| full mode (s) | plain (median of $ROUNDS) | TALLY_LIVE=1 | live/plain |"
echo "|---|---|---|---|"
bench "churn 15M, 1T" "$W/churn 1 15000000"
bench "larson 16T" "$W/larson 16 100"
bench "bignum fib(60000)" "$W/bignum 60000"
bench "python alloc" "$PY $HERE/shim_alloc.py"
bench "sort 50 MB" "env LC_ALL=C sort -o $W/sorted $W/sort.txt"
