#!/bin/sh
# report_bench.sh [BUILDDIR] [RUNS]: the tally command's figures.
#
# 1. `tally report` on a profile of 100k unique stacks (16 frames each,
#    written by tests/progs/make_profile big): wall time and peak RSS per
#    format (/usr/bin/time -v). Targets: < 2 s and < 200 MB.
# 2. Scale (issue 11): 1,048,576 unique stacks. The profile's size in the
#    version 2 layout (stacks as frame arrays: what tally wrote before) and
#    in version 3 (the stack tree); each format's wall time and peak RSS and
#    `tally diff` of two such profiles, the median of RUNS runs (default 3).
#    Targets: the profile at most 1/3 of the 319 MB the issue measured (and
#    of the version 2 size here); every report at most 5 s and 400 MB. The
#    diff has no target (the issue measured 6.2 s and 1.3 GB).
# 3. The profile of the 5M-pair churn microbenchmark (bench/shim_churn.c,
#    1 thread) under `tally run`, against heaptrack's .zst of the same run.
#    Target: at most 1/20 of heaptrack's size.
set -eu
B=$(cd "${1:-.}" && pwd)
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
TALLY=$B/tools/tally
MP=$B/tests/progs/make_profile
[ -x "$TALLY" ] && [ -x "$MP" ] || {
    echo "build first: make && make tests/progs/make_profile (in $B)" >&2
    exit 2
}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

# timed NAME CMD...: runs CMD under /usr/bin/time -v; prints "WALL_S RSS_MB"
timed() {
    name=$1
    shift
    /usr/bin/time -v "$@" 2>"$W/time.$name" >/dev/null || {
        tail -5 "$W/time.$name" >&2
        echo "FAILED: $*" >&2
        exit 1
    }
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.$name" | awk -F: '{print $(NF-1) * 60 + $NF}')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.$name")
    awk -v w="$wall" -v k="$rss" 'BEGIN {printf "%.2f %.0f\n", w, k / 1024}'
}

# median NAME CMD...: the median wall time and the median peak RSS of RUNS runs
median() {
    name=$1
    shift
    : >"$W/runs.$name"
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        timed "$name" "$@" >>"$W/runs.$name"
        i=$((i + 1))
    done
    w=$(cut -d' ' -f1 "$W/runs.$name" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    m=$(cut -d' ' -f2 "$W/runs.$name" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    echo "$w $m $(cut -d' ' -f1 "$W/runs.$name" | tr '\n' ' ')"
}

# ---- 1. 100k stacks -----------------------------------------------------------
"$MP" big 100000 "$W/big.prof"
echo "profile: 100000 unique stacks x 16 frames, $(wc -c <"$W/big.prof") bytes"
echo
echo "| format | wall s | peak RSS MB | target met |"
echo "|---|---:|---:|---|"
for fmt in text json folded massif pprof html; do
    set -- $(timed "$fmt" "$TALLY" report "$W/big.prof" --format "$fmt" -o "$W/out.$fmt")
    met=$(awk -v w="$1" -v m="$2" 'BEGIN {print (w < 2 && m < 200) ? "yes" : "NO"}')
    echo "| $fmt | $1 | $2 | $met |"
done
rm -f "$W"/out.*

# ---- 2. 1M stacks -------------------------------------------------------------
N=1048576
echo
"$MP" big-v2 "$N" "$W/m2.prof"
"$MP" big "$N" "$W/m3.prof"
"$MP" big "$N" "$W/m3b.prof"
s2=$(wc -c <"$W/m2.prof")
s3=$(wc -c <"$W/m3.prof")
rm -f "$W/m2.prof"
size_met=$(awk -v a="$s3" -v b="$s2" 'BEGIN {print (a * 3 <= 319000000 && a * 3 <= b) ? "met" : "MISSED"}')
echo "scale: $N unique stacks x 16 frames (the inner 5 vary), median of $RUNS runs"
echo
echo "| profile | bytes |"
echo "|---|---:|"
echo "| version 2 layout (frame arrays, fixed-size records) | $s2 |"
echo "| version 3 (stack tree, varints) | $s3 |"
awk -v a="$s3" -v b="$s2" -v m="$size_met" 'BEGIN {printf "version 3 = 1/%.1f of version 2, 1/%.1f of the issue'"'"'s 319 MB (target: at most 1/3): %s\n", b / a, 319000000 / a, m}'
echo
echo "| command | wall s (median) | peak RSS MB (median) | runs, s | target met |"
echo "|---|---:|---:|---|---|"
missed=0
for fmt in text json folded massif pprof html; do
    set -- $(median "m.$fmt" "$TALLY" report "$W/m3.prof" --format "$fmt" -o "$W/out.$fmt")
    met=$(awk -v w="$1" -v m="$2" 'BEGIN {print (w <= 5 && m <= 400) ? "yes" : "NO"}')
    [ "$met" = yes ] || missed=$((missed + 1))
    w=$1
    m=$2
    shift 2
    echo "| report --format $fmt | $w | $m | $* | $met |"
    rm -f "$W/out.$fmt"
done
set -- $(median m.diff "$TALLY" diff "$W/m3.prof" "$W/m3b.prof")
w=$1
m=$2
shift 2
echo "| diff (no target; issue: 6.2 s, 1.3 GB) | $w | $m | $* | - |"
echo
if [ "$missed" -eq 0 ] && [ "$size_met" = met ]; then
    echo "scale targets: met (size at most 1/3, every report at most 5 s and 400 MB)"
else
    echo "scale targets: MISSED ($missed report(s) over 5 s or 400 MB; size: $size_met)"
fi
rm -f "$W"/m3*.prof

# ---- 3. churn against heaptrack ---------------------------------------------
echo
SHIM=$B/.libs/libtally-preload.so
if [ ! -f "$SHIM" ] || ! command -v heaptrack >/dev/null; then
    echo "(profile size: needs the shim and heaptrack)"
    exit 0
fi
cc -O2 -g -o "$W/churn" "$HERE/shim_churn.c" -lpthread
"$TALLY" run -o "$W/churn.prof" -- "$W/churn" 1 5000000 2>/dev/null
(cd "$W" && heaptrack -o "$W/churn.heaptrack" "$W/churn" 1 5000000 >/dev/null 2>&1)
ht=$(ls "$W"/churn.heaptrack*.zst "$W"/churn.heaptrack*.gz 2>/dev/null | head -1)
t=$(wc -c <"$W/churn.prof")
h=$(wc -c <"$ht")
echo "| churn 5M pairs, 1 thread | bytes |"
echo "|---|---:|"
echo "| tally profile | $t |"
echo "| heaptrack $(basename "$ht" | sed 's/.*\.//') | $h |"
awk -v t="$t" -v h="$h" 'BEGIN {printf "tally / heaptrack = 1/%.0f (target: at most 1/20): %s\n", h / t, (t * 20 <= h) ? "met" : "NOT met"}'
/usr/bin/time -v "$TALLY" report "$W/churn.prof" -o "$W/churn.txt" 2>"$W/time.churn"
echo "tally report of it: $(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.churn") wall"
