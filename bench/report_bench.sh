#!/bin/sh
# report_bench.sh [BUILDDIR]: the tally command's figures.
#
# 1. `tally report` on a profile of 100k unique stacks (16 frames each,
#    written by tests/make_profile big): wall time and peak RSS per format
#    (/usr/bin/time -v). Targets: < 2 s and < 200 MB.
# 2. The profile of the 5M-pair churn microbenchmark (bench/shim_churn.c,
#    1 thread) under `tally run`, against heaptrack's .zst of the same run.
#    Target: at most 1/20 of heaptrack's size.
set -eu
B=$(cd "${1:-.}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
TALLY=$B/tools/tally
[ -x "$TALLY" ] && [ -x "$B/tests/make_profile" ] || {
    echo "build first: make && make tests/make_profile (in $B)" >&2
    exit 2
}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$B/tests/make_profile" big 100000 "$W/big.prof"
echo "profile: 100000 unique stacks x 16 frames, $(wc -c <"$W/big.prof") bytes"
echo
echo "| format | wall s | peak RSS MB | target met |"
echo "|---|---:|---:|---|"
for fmt in text json folded massif pprof html; do
    /usr/bin/time -v "$TALLY" report "$W/big.prof" --format "$fmt" -o "$W/out.$fmt" 2>"$W/time.$fmt" >/dev/null
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.$fmt" | awk -F: '{print $(NF-1) * 60 + $NF}')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.$fmt")
    mb=$(awk -v k="$rss" 'BEGIN {printf "%.0f", k / 1024}')
    met=$(awk -v w="$wall" -v m="$mb" 'BEGIN {print (w < 2 && m < 200) ? "yes" : "NO"}')
    echo "| $fmt | $wall | $mb | $met |"
done

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
