#!/bin/sh
# shim_bench.sh: the preload shim against its peers, in one run.
#
#   bench/shim_bench.sh [BUILDDIR] [RUNS]
#
# For each workload and each way of running it, prints the median wall time
# over RUNS runs (default 3), the ratio to plain glibc and the median peak
# RSS (/usr/bin/time -f %M). Tools that are not installed, or that do not
# fit a workload (LSan needs a rebuild; massif only runs the small ones),
# show as "-". Rows whose program fails show "fail".
set -u
B=${1:-$(pwd)}
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
SHIM=$B/.libs/libtally-preload.so
MI=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
HT_RAW=/usr/lib/heaptrack/libheaptrack_preload.so
[ -f "$HT_RAW" ] || HT_RAW=/usr/lib/x86_64-linux-gnu/heaptrack/libheaptrack_preload.so
W=$(mktemp -d "${TMPDIR:-/tmp}/shim-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

. "$HERE/bench_common.sh"
. "$HERE/workloads.sh"
HAVE_LSAN=0
if command -v clang >/dev/null; then
    for p in churn larson bignum liveheavy; do
        clang -O2 -fsanitize=leak -o "$W/$p.lsan" "$HERE/shim_$p.c" -lpthread || break
    done && HAVE_LSAN=1
fi
shim_ok=0
env LD_PRELOAD="$SHIM" true 2>/dev/null && [ -f "$SHIM" ] && shim_ok=1

GLIBC_T=
VERDICTS=
TIME_VERDICT=1 # 0 for a workload that is there for its memory, not its time
# row LABEL RUNS CMD...: median of RUNS measurements.
row() {
    label=$1
    n=$2
    shift 2
    : >"$W/t"
    : >"$W/m"
    for i in $(seq "$n"); do
        r=$(measure "$@")
        [ "$r" = fail ] && { printf '| %s | %s | fail | fail | fail |\n' "$WL" "$label"; return; }
        echo "$r" | cut -d' ' -f1 >>"$W/t"
        echo "$r" | cut -d' ' -f2 >>"$W/m"
        rm -rf "$W"/ht* "$W"/prof* "$W"/massif*
    done
    t=$(median <"$W/t")
    m=$(median <"$W/m")
    [ "$label" = glibc ] && GLIBC_T=$t
    LAST_T=$t
    printf '%s|%s|%s|%s\n' "$WL" "$label" "$t" "$m" >>"$W/results"
    ratio=$(awk -v a="$t" -v b="$GLIBC_T" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}')
    printf '| %s | %s | %.2f | %s | %.1f |\n' "$WL" "$label" "$t" "$ratio" "$(awk -v m="$m" 'BEGIN {print m / 1024}')"
}

skip() { printf '| %s | %s | - | - | - |\n' "$WL" "$1"; }

# workload NAME LSAN_BINARY_OR_- MASSIF(0/1) CMD...
workload() {
    WL=$1
    lsan=$2
    massif=$3
    shift 3
    row glibc "$RUNS" "$@"
    if [ -f "$MI" ]; then row mimalloc "$RUNS" env LD_PRELOAD="$MI" "$@"; else skip mimalloc; fi
    FULL_T=
    SAMPLED_T=
    if [ $shim_ok = 1 ]; then
        LAST_T=
        row "tally full" "$RUNS" env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$@"
        FULL_T=$LAST_T
        LAST_T=
        row "tally sampled 512K" "$RUNS" env LD_PRELOAD="$SHIM" TALLY_SAMPLE=524288 \
            TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$@"
        SAMPLED_T=$LAST_T
    else
        skip "tally full (shim cannot load)"
        skip "tally sampled 512K (shim cannot load)"
    fi
    if command -v heaptrack >/dev/null; then
        row "heaptrack" "$RUNS" heaptrack -o "$W/ht" "$@"
    else
        skip heaptrack
    fi
    if [ -f "$HT_RAW" ]; then
        row "heaptrack preload (raw)" "$RUNS" env LD_PRELOAD="$HT_RAW" DUMP_HEAPTRACK_OUTPUT="$W/ht.raw" "$@"
    else
        skip "heaptrack preload (raw)"
    fi
    if [ "$lsan" != - ] && [ $HAVE_LSAN = 1 ]; then
        LAST_T=
        row "LSan" "$RUNS" env LSAN_OPTIONS=detect_leaks=0 $lsan
        [ -n "$FULL_T" ] && [ -n "$LAST_T" ] && VERDICTS="$VERDICTS$(awk -v w="$WL" -v f="$FULL_T" -v l="$LAST_T" \
            'BEGIN {printf "%s: tally full %.2fx LSan'"'"'s time (target <= 1.0): %s\n", w, f / l, f <= l ? "met" : "MISSED"}')
"
    fi
    [ "$TIME_VERDICT" = 1 ] && [ -n "$SAMPLED_T" ] && [ -n "$GLIBC_T" ] && VERDICTS="$VERDICTS$(awk -v w="$WL" -v s="$SAMPLED_T" -v g="$GLIBC_T" \
        'BEGIN {printf "%s: tally sampled %.2fx plain glibc (target <= 1.0): %s\n", w, s / g, s <= g ? "met" : "MISSED"}')
"
    if [ "$massif" = 1 ] && command -v valgrind >/dev/null; then
        row "massif" 1 valgrind -q --tool=massif --massif-out-file="$W/massif.out" "$@"
    fi
}

echo "| workload | run | wall s (median of $RUNS) | vs glibc | peak RSS MiB |"
echo "|---|---|---|---|---|"
# Sized so that each takes at least ~0.5 s with plain glibc on a 2-core VM.
workload "churn 15M pairs, 1 thread" "$W/churn.lsan 1 15000000" 0 "$W/churn" 1 15000000
workload "churn 2x15M pairs, 2 threads" "$W/churn.lsan 2 15000000" 0 "$W/churn" 2 15000000
workload "larson 16 threads" "$W/larson.lsan 16 100" 0 "$W/larson" 16 100
workload "bignum fib(60000)" "$W/bignum.lsan 60000" 1 "$W/bignum" 60000
workload "live-heavy: 2M allocations, 1M left live" "$W/liveheavy.lsan 2000000" 0 "$W/liveheavy" 2000000
# Like for like, beside the target's rows (tally's exit leak check against
# LSan without one): both with their leak check at exit, then neither.
if [ $shim_ok = 1 ] && [ $HAVE_LSAN = 1 ]; then
    row "tally full, no leak check" "$RUNS" env LD_PRELOAD="$SHIM" TALLY_LEAK_CHECK=off \
        TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$W/liveheavy" 2000000
    row "LSan with its leak check" "$RUNS" env LSAN_OPTIONS=detect_leaks=1:exitcode=0 \
        "$W/liveheavy.lsan" 2000000
fi
workload "python alloc" - 0 "$PY" "$HERE/shim_alloc.py"
workload "sort 50 MB" - 0 env LC_ALL=C sort -o "$W/sorted" "$W/sort.txt"
# For memory, not time: 1M blocks of 32 bytes live at once.
TIME_VERDICT=0
workload "live 1M x 32 B (RSS)" - 0 "$W/live" 1000000 32
# The same with 10000 blocks: what a run costs whatever it holds (libraries,
# fixed tables, the live table its pointer array goes to), taken out of the
# per-block figure below. (With 1000 blocks the array is small enough for
# the shadow map, and the table's first pages would count as per-block.)
workload "live 10k x 32 B (RSS)" - 0 "$W/live" 10000 32
echo
printf '%s' "$VERDICTS"
# The targets read across rows (results: workload|run|seconds|maxrss KiB).
# Threads: 2 threads do twice the pairs; a way's throughput ratio is
# 2 x its 1-thread time / its 2-thread time. glibc's and mimalloc's own
# ratios say whether the second core was free. Memory: what a live block
# costs over mimalloc alone, in bytes: the growth of peak RSS from 10000 to
# 1M blocks over mimalloc's own growth (the target), and all of the 1M run's
# RSS over mimalloc's (tally's fixed cost included).
# Like for like: live-heavy with both exit leak checks, and with neither.
awk -F'|' '
    { t[$1 "|" $2] = $3; m[$1 "|" $2] = $4 }
    function verdict(ok) { return ok ? "met" : "MISSED" }
    END {
        one = "churn 15M pairs, 1 thread"; two = "churn 2x15M pairs, 2 threads"
        n = split("glibc|mimalloc|tally full|tally sampled 512K", way, "|")
        line = ""
        for (i = 1; i <= n; i++) {
            a = t[one "|" way[i]]; b = t[two "|" way[i]]
            if (a == "" || b == "" || b <= 0) continue
            s[way[i]] = 2 * a / b
            line = line sprintf("%s %s %.2fx", line == "" ? "" : ",", way[i], s[way[i]])
        }
        if (line != "") {
            printf "2 threads against 1 (churn):%s\n", line
            for (i = 3; i <= 4; i++)
                if (way[i] in s)
                    printf "- %s: %.2fx (target >= 1.8, the second core free): %s\n", way[i],
                        s[way[i]], verdict(s[way[i]] >= 1.8)
            if (("glibc" in s && s["glibc"] < 1.8) || ("mimalloc" in s && s["mimalloc"] < 1.8))
                print "  (glibc or mimalloc below 1.8x itself: the second core was not free)"
        }
        big = "live 1M x 32 B (RSS)"; small = "live 10k x 32 B (RSS)"
        split("tally full|tally sampled 512K", mode, "|"); cap[1] = 24; cap[2] = 4
        for (i = 1; i <= 2; i++) {
            mb = m[big "|mimalloc"]; ms = m[small "|mimalloc"]
            tb = m[big "|" mode[i]]; ts = m[small "|" mode[i]]
            if (mb == "" || ms == "" || tb == "" || ts == "") continue
            each = ((tb - ts) - (mb - ms)) * 1024 / 990000
            printf "memory, %s: %.1f bytes a live block over mimalloc (target <= %d): %s; all of the 1M run over mimalloc: %.1f a block\n",
                mode[i], each, cap[i], verdict(each <= cap[i]), (tb - mb) * 1024 / 1e6
        }
        lh = "live-heavy: 2M allocations, 1M left live"
        a = t[lh "|tally full"]; b = t[lh "|LSan with its leak check"]
        c = t[lh "|tally full, no leak check"]; d = t[lh "|LSan"]
        if (a != "" && b != "" && c != "" && d != "")
            printf "live-heavy like for like: both leak checks, tally full %.2fx LSan; neither, %.2fx\n",
                a / b, c / d
    }' "$W/results"
