#!/usr/bin/env bash
# mmap_bench.sh: the cost of TALLY_MMAP (tally run --mmap) on a program
# that maps a lot: python3 with pymalloc (the default), whose small objects
# live in 1 MiB arenas it maps and unmaps itself.
#
#   bench/mmap_bench.sh [BUILDDIR] [RUNS] [ROUNDS]
#
# The workload builds ROUNDS times (default 40) a list of 200000 small
# strings and drops it: pymalloc maps arenas for it and unmaps them when
# they empty. It runs under the shim in full mode (its exit summary and the
# leak check on, as tally run would), with TALLY_MMAP off and on, the two
# alternating RUNS times (default 7), so that the load of a shared machine
# falls on both. Printed: each one's median wall time, CPU time (user +
# system) and peak RSS, the ratios on/off of the medians, the medians of
# the pairs' differences, and
# what the on run booked (the pool mmap's mappings and its peak), so that a
# ratio is only printed when the mappings were really tracked. Plain
# python3 (no tool) is timed too, for scale.
#
# Then the worst case, bench/mmap_churn.c: nothing but mappings (200000
# rounds of a 64 KiB mmap, one page touched, two munmaps), off and on the
# same way, and the cost per round.
set -u
B=${1:-$(pwd)}
RUNS=${2:-7}
ROUNDS=${3:-40}
SHIM=$B/.libs/libtally-preload.so
TALLY=$B/tools/tally
W=$(mktemp -d "${TMPDIR:-/tmp}/mmap-bench.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
[ -f "$SHIM" ] && [ -x "$TALLY" ] || {
    echo "mmap_bench: build first ($SHIM, $TALLY)" >&2
    exit 1
}
# The interpreter itself, not a wrapper script (pyenv's starts several).
PY=$(python3 -c 'import sys; print(sys.executable)') || exit 1
CODE="
for r in range($ROUNDS):
    x = [str(i) for i in range(200000)]
    del x
"

# measure ENV...: "seconds maxrss_kb cpu_seconds" of python3 under that
# environment (of $CMD when it is set), or "fail". CPU time (user + system)
# is printed beside wall time: on a loaded shared machine it is the steadier.
CMD=()
measure() {
    if [ ${#CMD[@]} -gt 0 ]; then
        /usr/bin/time -f "%x %e %M %U %S" -o "$W/time" env "$@" "${CMD[@]}" >/dev/null 2>"$W/err"
    else
        /usr/bin/time -f "%x %e %M %U %S" -o "$W/time" env "$@" "$PY" -c "$CODE" >/dev/null 2>"$W/err"
    fi
    local r
    read -r -a r < <(tail -n 1 "$W/time")
    [ "${r[0]:-x}" = 0 ] && echo "${r[1]} ${r[2]} $(awk -v u="${r[3]}" -v s="${r[4]}" 'BEGIN {print u + s}')" || echo fail
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

OFF=(LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/off.prof")
ON=(LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/on.prof" TALLY_MMAP=1)

# rounds: RUNS times plain, off and on in turn; then each one's medians
# ("wall rss cpu") in PLAIN, OFF_M and ON_M, and the median of the pairs'
# differences (on - off) of wall and cpu time in DIFF.
rounds() {
    local i p a b k
    for k in plain off on; do : >"$W/$k.w" && : >"$W/$k.m" && : >"$W/$k.c"; done
    : >"$W/d.w" && : >"$W/d.c"
    for ((i = 0; i < RUNS; i++)); do
        p=$(measure TALLY_UNUSED=1)
        a=$(measure "${OFF[@]}")
        b=$(measure "${ON[@]}")
        if [ "$a" = fail ] || [ "$b" = fail ] || [ "$p" = fail ]; then
            echo "mmap_bench: a run failed:" >&2
            cat "$W/err" >&2
            exit 1
        fi
        set -- $p && echo "$1" >>"$W/plain.w" && echo "$2" >>"$W/plain.m" && echo "$3" >>"$W/plain.c"
        set -- $a && echo "$1" >>"$W/off.w" && echo "$2" >>"$W/off.m" && echo "$3" >>"$W/off.c"
        local aw=$1 ac=$3
        set -- $b && echo "$1" >>"$W/on.w" && echo "$2" >>"$W/on.m" && echo "$3" >>"$W/on.c"
        awk -v x="$aw" -v y="$1" 'BEGIN {print y - x}' >>"$W/d.w"
        awk -v x="$ac" -v y="$3" 'BEGIN {print y - x}' >>"$W/d.c"
    done
    for k in plain off on; do
        eval "${k}_w=\$(median <\"\$W/\$k.w\") ${k}_m=\$(median <\"\$W/\$k.m\") ${k}_c=\$(median <\"\$W/\$k.c\")"
    done
    d_w=$(median <"$W/d.w")
    d_c=$(median <"$W/d.c")
}

# table: the three runs' medians and the ratios on/off.
table() {
    printf '%-24s %8s %8s %12s\n' run "wall s" "cpu s" "peak RSS MiB"
    printf '%-24s %8s %8s %12.1f\n' plain "$plain_w" "$plain_c" "$(awk -v k="$plain_m" 'BEGIN {print k / 1024}')"
    printf '%-24s %8s %8s %12.1f\n' "tally, TALLY_MMAP off" "$off_w" "$off_c" "$(awk -v k="$off_m" 'BEGIN {print k / 1024}')"
    printf '%-24s %8s %8s %12.1f\n' "tally, TALLY_MMAP=1" "$on_w" "$on_c" "$(awk -v k="$on_m" 'BEGIN {print k / 1024}')"
}

# The pool mmap of the last on run: "mappings peak_bytes".
booked() {
    "$TALLY" report --format json --pools "$W/on.prof" | python3 -c '
import json, sys
p = next((p for p in json.load(sys.stdin)["pools"] if p["name"] == "mmap"), None)
print(p["total_count"], p["peak"]) if p else print(0, 0)'
}

rounds
printf 'python3 (pymalloc), %d rounds of 200000 strings, medians of %d runs\n' "$ROUNDS" "$RUNS"
table
set -- $(booked)
if [ "$1" -gt 0 ]; then
    awk -v a="$off_w" -v b="$on_w" -v ac="$off_c" -v bc="$on_c" -v d="$d_w" -v dc="$d_c" -v n="$1" -v pk="$2" 'BEGIN {
        printf "ratio on/off: wall %.3f, cpu %.3f; median of the pairs'"'"' differences: wall %.3f s, cpu %.3f s\n", b / a, bc / ac, d, dc
        printf "%d mappings booked, pool mmap peak %.1f MiB\n", n, pk / 1048576 }'
else
    echo "the on run booked no mapping: no ratio"
fi

# The worst case: nothing but mappings.
HERE=$(cd "$(dirname "$0")" && pwd)
CHURN=200000
cc -O2 -o "$W/churn" "$HERE/mmap_churn.c" || exit 1
CMD=("$W/churn" "$CHURN")
rounds
printf '\nmmap_churn: %d rounds of mmap 64 KiB + 2 munmap, medians of %d runs\n' "$CHURN" "$RUNS"
table
set -- $(booked)
awk -v a="$off_w" -v b="$on_w" -v ac="$off_c" -v bc="$on_c" -v d="$d_w" -v dc="$d_c" -v n="$CHURN" -v k="$1" 'BEGIN {
    printf "ratio on/off: wall %.2f, cpu %.2f; per round (pairs'"'"' median differences): wall %.2f us, cpu %.2f us; %d mappings booked\n",
        b / a, bc / ac, d * 1e6 / n, dc * 1e6 / n, k }'
