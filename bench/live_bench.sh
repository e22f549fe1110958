#!/bin/sh
# live_bench.sh: what the live view's publishing (TALLY_LIVE=1, about once
# a second, lib/track/publish.c) costs a tracked program, against the same
# build tracking the same workloads without it, in full mode.
#
#   bench/live_bench.sh [BUILDDIR] [ROUNDS]
#   bench/live_bench.sh BUILDDIR callgrind [CHURN_PAIRS]
#
# Every workload runs once without and once with TALLY_LIVE in turn (each
# first in every other round), ROUNDS times (default 5), so that the
# machine's drift over minutes falls on both alike; prints each side's median wall seconds and live/plain. The
# target (bench/README.md): at most 1.03. A run shorter than a second
# publishes at most once: the workloads here run for seconds.
#
# On a loaded machine the wall clock cannot see a cost this small; the
# callgrind form counts instructions instead, without and with TALLY_LIVE,
# on churn (CHURN_PAIRS, default 5M) and on python3 building a dict after
# importing a few modules (thousands of sites), and gives tt_publish_now's
# inclusive share. Under callgrind a program runs some 50 times slower and
# so publishes some 50 times more per instruction: an upper bound.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:-$HERE/..}" && pwd)
ROUNDS=${2:-5}
MODE=time
if [ "$ROUNDS" = callgrind ]; then
    MODE=callgrind
    PAIRS=${3:-5000000}
fi
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

# ---- callgrind: instructions, without and with publishing ---------------------------
# counted LIVE NAME CMD...: the instructions of CMD under the shim (callgrind,
# following the exec of env), its output file in $W/cg.NAME.LIVE.
counted() {
    live=$1
    name=$2
    shift 2
    env TALLY_LIVE="$live" TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none valgrind --tool=callgrind \
        --trace-children=yes --callgrind-out-file="$W/cg.$name.$live.%p" \
        env LD_PRELOAD="$SHIM" "$@" >"$W/log" 2>&1
    rm -f "$W"/prof.*
    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$W/log" | tail -n 1
}
# publish_share FILE: tt_publish_now's inclusive instructions in FILE
publish_share() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk '/publish\.c:tt_publish_now / {gsub(",", "", $1); print $1; exit}'
}
if [ "$MODE" = callgrind ]; then
    command -v valgrind >/dev/null || { echo "live_bench.sh: valgrind is needed" >&2; exit 1; }
    echo "| callgrind | plain (instructions) | TALLY_LIVE=1 | live/plain | tt_publish_now |"
    echo "|---|---|---|---|---|"
    cg() {
        name=$1
        shift
        p=$(counted 0 "$name" "$@")
        l=$(counted 1 "$name" "$@")
        pub=$(publish_share "$(ls -S "$W"/cg."$name".1.* | head -n 1)")
        printf '| %s | %s | %s | %s | %s |\n' "$name" "$p" "$l" \
            "$(awk -v p="$p" -v l="$l" 'BEGIN {printf "%.5f", l / p}')" \
            "$(awk -v x="${pub:-0}" -v l="$l" 'BEGIN {printf "%d (%.3f%%)", x, 100 * x / l}')"
    }
    cg "churn $PAIRS, 1T" "$W/churn" 1 "$PAIRS"
    # A fixed hash seed: python's own instruction count varies with it.
    cg "python3 dict 300k" env PYTHONHASHSEED=0 "$PY" -c 'import email.parser, json, http.client, xml.dom.minidom, decimal, argparse
d = {}
for i in range(300000): d[str(i)] = [i, str(i) * 3]'
    exit 0
fi

# ---- wall clock ------------------------------------------------------------------------
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
