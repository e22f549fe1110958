#!/usr/bin/env bash
# scan_bench.sh: the leak check at exit, tally's mark against LeakSanitizer's
# and valgrind memcheck's, on the same heap in one run.
#
#   bench/scan_bench.sh [BUILDDIR] [RUNS] [BLOCKS]    (VG_RUNS=n: valgrind's runs, default 3)
#
# bench/scan_bench.c leaves BLOCKS live blocks (default 1M) of 16-80 bytes at
# exit, all reachable ("reachable"), half of them lost ("lost"), or all
# reachable from an array in random order ("shuffled"). Ways of
# running it, each with its exit check off and on:
#   plain        cc -O2, no tool
#   LSan         clang -O2 -fsanitize=leak, LSAN_OPTIONS=detect_leaks=0 / 1
#   memcheck     valgrind --leak-check=no / full
#   tally        LD_PRELOAD of the shim (full mode, its exit summary on
#                stderr), TALLY_LEAK_CHECK=off / the default (the mark on)
# The off and on runs alternate, RUNS pairs of them (default 5; valgrind
# VG_RUNS), so that the machine's load falls on both alike. Printed: each
# one's median wall time and peak RSS, and the check's cost, the median of
# the pairs' differences (on - off). Then the ratio of tally's mark cost to
# LSan's exit-check cost, per heap, and what tally's mark found (the classes
# in one more run's profile). Tools that are missing show as "-"; a run that
# fails (a crash, or an exit status other than 0 or LSan's 23 for leaks)
# shows "fail".
set -u
B=${1:-$(pwd)}
RUNS=${2:-5}
N=${3:-1000000}
VG_RUNS=${VG_RUNS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
SHIM=$B/.libs/libtally-preload.so
W=$(mktemp -d "${TMPDIR:-/tmp}/scan-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

cc -O2 -o "$W/scan" "$HERE/scan_bench.c" || exit 1
HAVE_LSAN=0
command -v clang >/dev/null && clang -O2 -fsanitize=leak -o "$W/scan.lsan" "$HERE/scan_bench.c" && HAVE_LSAN=1
HAVE_VG=0
command -v valgrind >/dev/null && HAVE_VG=1
HAVE_TALLY=0
[ -f "$SHIM" ] && env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none true 2>/dev/null && HAVE_TALLY=1

# measure CMD...: "seconds maxrss_kb", or "fail".
measure() {
    /usr/bin/time -f "%x %e %M" -o "$W/time" "$@" >/dev/null 2>"$W/err"
    local r
    read -r -a r < <(tail -n 1 "$W/time")
    rm -f "$W"/prof.*
    if grep -q "terminated by signal" "$W/time"; then
        echo fail
        return
    fi
    case ${r[0]:-x} in
    0 | 23) echo "${r[1]} ${r[2]}" ;;
    *) echo fail ;;
    esac
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# pair RUNS OFF_CMD... --on-- ON_CMD...: alternates the two RUNS times; sets
# OFF and ON ("median_s median_rss_kb", or "fail") and COST (the median of
# on - off, in seconds, or "-").
pair() {
    local n=$1 off=() on=() i r1 r2
    shift
    while [ "$1" != --on-- ]; do
        off+=("$1")
        shift
    done
    shift
    on=("$@")
    : >"$W/t0" && : >"$W/m0" && : >"$W/t1" && : >"$W/m1" && : >"$W/d"
    OFF=fail ON=fail COST=-
    for ((i = 0; i < n; i++)); do
        r1=$(measure "${off[@]}")
        r2=$(measure "${on[@]}")
        [ "$r1" = fail ] || [ "$r2" = fail ] && {
            [ "$r1" = fail ] || OFF=$r1
            [ "$r2" = fail ] || ON=$r2
            return
        }
        echo "${r1% *}" >>"$W/t0" && echo "${r1#* }" >>"$W/m0"
        echo "${r2% *}" >>"$W/t1" && echo "${r2#* }" >>"$W/m1"
        awk -v a="${r2% *}" -v b="${r1% *}" 'BEGIN {print a - b}' >>"$W/d"
    done
    OFF="$(median <"$W/t0") $(median <"$W/m0")"
    ON="$(median <"$W/t1") $(median <"$W/m1")"
    COST=$(median <"$W/d")
}

# row HEAP LABEL RESULT [COST]
row() {
    case $3 in
    fail | -) printf '| %s | %s | %s | - | - |\n' "$1" "$2" "$3" ;;
    *) printf '| %s | %s | %.2f | %s | %.1f |\n' "$1" "$2" "${3% *}" "${4:--}" \
        "$(awk -v m="${3#* }" 'BEGIN {print m / 1024}')" ;;
    esac
}

echo "| heap ($N blocks) | run | wall s (median of $RUNS; valgrind $VG_RUNS) | check cost s | peak RSS MiB |"
echo "|---|---|---|---|---|"
SUMMARY=
for heap in reachable lost shuffled; do
    H=$heap
    [ "$heap" = lost ] && H="lost (half)"
    pair "$RUNS" "$W/scan" "$heap" "$N" --on-- "$W/scan" "$heap" "$N"
    row "$H" plain "$OFF"

    lsan_cost=-
    if [ $HAVE_LSAN = 1 ]; then
        pair "$RUNS" env LSAN_OPTIONS=detect_leaks=0 "$W/scan.lsan" "$heap" "$N" \
            --on-- env LSAN_OPTIONS=detect_leaks=1 "$W/scan.lsan" "$heap" "$N"
        lsan_cost=$COST
        row "$H" "LSan, exit check off" "$OFF"
        row "$H" "LSan, exit check on" "$ON" "$(printf '%.3f' "$COST")"
    else
        row "$H" "LSan (no clang)" -
    fi

    if [ $HAVE_VG = 1 ]; then
        pair "$VG_RUNS" valgrind -q --leak-check=no "$W/scan" "$heap" "$N" \
            --on-- valgrind -q --leak-check=full "$W/scan" "$heap" "$N"
        row "$H" "memcheck --leak-check=no" "$OFF"
        row "$H" "memcheck --leak-check=full" "$ON" "$(printf '%.3f' "$COST")"
    else
        row "$H" "memcheck (no valgrind)" -
    fi

    tally_cost=- found="no tally run"
    if [ $HAVE_TALLY = 1 ]; then
        pair "$RUNS" env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/prof.%p" TALLY_LEAK_CHECK=off "$W/scan" "$heap" "$N" \
            --on-- env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/prof.%p" "$W/scan" "$heap" "$N"
        tally_cost=$COST
        row "$H" "tally, TALLY_LEAK_CHECK=off" "$OFF"
        row "$H" "tally, mark on (default)" "$ON" "$(printf '%.3f' "$COST")"
        # What the mark found: it must have classified the heap for its
        # cost to mean anything.
        env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/check.prof" TALLY_REPORT=none "$W/scan" "$heap" "$N" >/dev/null 2>&1
        found=$("$B/tools/tally" report "$W/check.prof" --leaks --format json 2>/dev/null | python3 -c '
import json, sys
k = json.load(sys.stdin).get("leaks", {}).get("kinds")
if k is None:
    print("no leak classes in this build (no mark: the tally rows differ by noise only)")
else:
    print(", ".join("%s %d blocks" % (c, k[c]["count"]) for c in ("definite", "indirect", "possible", "reachable")))
' 2>/dev/null) || found="no profile"
        rm -f "$W/check.prof"
    else
        row "$H" "tally (shim not built)" -
    fi

    ratio=-
    case $found in
    no*) ;;
    *) ratio=$(awk -v t="$tally_cost" -v l="$lsan_cost" \
        'BEGIN {if (t != "-" && l != "-" && l > 0) printf "%.2f", t / l; else print "-"}') ;;
    esac
    SUMMARY+="$H: tally's mark $tally_cost s, LSan's exit check $lsan_cost s, ratio $ratio; tally found: $found"$'\n'
done
echo
printf '%s' "$SUMMARY"
