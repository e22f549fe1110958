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
# falls on both. Printed: each one's median wall time and peak RSS, the
# ratio on/off of the medians, the median of the pairs' differences, and
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

# measure ENV...: "seconds maxrss_kb" of python3 under that environment
# (of $CMD when it is set), or "fail".
CMD=()
measure() {
    if [ ${#CMD[@]} -gt 0 ]; then
        /usr/bin/time -f "%x %e %M" -o "$W/time" env "$@" "${CMD[@]}" >/dev/null 2>"$W/err"
    else
        /usr/bin/time -f "%x %e %M" -o "$W/time" env "$@" "$PY" -c "$CODE" >/dev/null 2>"$W/err"
    fi
    local r
    read -r -a r < <(tail -n 1 "$W/time")
    [ "${r[0]:-x}" = 0 ] && echo "${r[1]} ${r[2]}" || echo fail
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

OFF=(LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/off.prof")
ON=(LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/on.prof" TALLY_MMAP=1)
: >"$W/t_plain" && : >"$W/t_off" && : >"$W/t_on" && : >"$W/m_off" && : >"$W/m_on" && : >"$W/d"
for ((i = 0; i < RUNS; i++)); do
    p=$(measure TALLY_UNUSED=1)
    a=$(measure "${OFF[@]}")
    b=$(measure "${ON[@]}")
    if [ "$a" = fail ] || [ "$b" = fail ] || [ "$p" = fail ]; then
        echo "mmap_bench: a run failed:" >&2
        cat "$W/err" >&2
        exit 1
    fi
    echo "${p% *}" >>"$W/t_plain"
    echo "${a% *}" >>"$W/t_off"
    echo "${b% *}" >>"$W/t_on"
    echo "${a#* }" >>"$W/m_off"
    echo "${b#* }" >>"$W/m_on"
    awk -v x="${a% *}" -v y="${b% *}" 'BEGIN {print y - x}' >>"$W/d"
done
t_plain=$(median <"$W/t_plain")
t_off=$(median <"$W/t_off")
t_on=$(median <"$W/t_on")
m_off=$(median <"$W/m_off")
m_on=$(median <"$W/m_on")
d=$(median <"$W/d")
booked=$("$TALLY" report --format json --pools "$W/on.prof" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["pools"]:
    if p["name"] == "mmap":
        print(p["total_count"], p["peak"])
        break
else:
    print("0 0")
')
printf 'python3 (pymalloc), %d rounds of 200000 strings, medians of %d runs\n' "$ROUNDS" "$RUNS"
printf '%-28s %8s %12s\n' run "wall s" "peak RSS MiB"
printf '%-28s %8s %12s\n' "plain" "$t_plain" -
printf '%-28s %8s %12.1f\n' "tally, TALLY_MMAP off" "$t_off" "$(awk -v k="$m_off" 'BEGIN {print k / 1024}')"
printf '%-28s %8s %12.1f\n' "tally, TALLY_MMAP=1" "$t_on" "$(awk -v k="$m_on" 'BEGIN {print k / 1024}')"
set -- $booked
if [ "$1" -gt 0 ]; then
    awk -v a="$t_off" -v b="$t_on" -v d="$d" -v n="$1" -v pk="$2" 'BEGIN {
        printf "ratio on/off %.3f; median of the pairs'"'"' differences %.3f s; %d mappings booked, pool mmap peak %.1f MiB\n",
            b / a, d, n, pk / 1048576 }'
else
    echo "the on run booked no mapping: no ratio"
fi

# The worst case: nothing but mappings.
HERE=$(cd "$(dirname "$0")" && pwd)
CHURN=200000
cc -O2 -o "$W/churn" "$HERE/mmap_churn.c" || exit 1
CMD=("$W/churn" "$CHURN")
: >"$W/c_off" && : >"$W/c_on" && : >"$W/c_plain"
for ((i = 0; i < RUNS; i++)); do
    p=$(measure TALLY_UNUSED=1)
    a=$(measure "${OFF[@]}")
    b=$(measure "${ON[@]}")
    [ "$a" = fail ] || [ "$b" = fail ] || [ "$p" = fail ] && {
        echo "mmap_bench: a churn run failed" >&2
        exit 1
    }
    echo "${p% *}" >>"$W/c_plain"
    echo "${a% *}" >>"$W/c_off"
    echo "${b% *}" >>"$W/c_on"
done
c_plain=$(median <"$W/c_plain")
c_off=$(median <"$W/c_off")
c_on=$(median <"$W/c_on")
n_on=$("$TALLY" report --format json --pools "$W/on.prof" | python3 -c '
import json, sys
print(next((p["total_count"] for p in json.load(sys.stdin)["pools"] if p["name"] == "mmap"), 0))')
printf '\nmmap_churn: %d rounds of mmap 64 KiB + 2 munmap, medians of %d runs\n' "$CHURN" "$RUNS"
printf '%-28s %8s\n' run "wall s"
printf '%-28s %8s\n' plain "$c_plain" "tally, TALLY_MMAP off" "$c_off" "tally, TALLY_MMAP=1" "$c_on"
awk -v a="$c_off" -v b="$c_on" -v n="$CHURN" -v k="$n_on" 'BEGIN {
    printf "ratio on/off %.2f; %.2f us more per round; %d mappings booked\n", b / a, (b - a) * 1e6 / n, k }'
