#!/bin/sh
# real_bench.sh: the preload shim on real programs, against heaptrack's
# whole pipeline, in one run (issue 12's first and third targets).
#
#   bench/real_bench.sh [BUILDDIR] [RUNS]
#
# Workloads: python3 with PYTHONMALLOC=malloc (200k dicts and a JSON round
# trip), gcc's cc1 -O2 on a generated 1500-function file, perl (hashes and
# sort), git log -p on this repository, sort of 2M lines. Ways: plain glibc,
# mimalloc alone (what sampled mode's allocator gives or costs before tally
# books anything: the sampled target's floor), tally full, tally sampled
# (512 KiB), heaptrack -o (its preload and its interpreter, compressed
# output: what a user runs; not the analysis).
# The ways take turns within each of RUNS rounds (default 3). Prints the
# median wall time of each way's runs and its ratio to
# plain (wall; CPU=1 in the environment: CPU seconds), then, per workload,
# whether the targets hold:
#   full:    tally's overhead over plain <= 1/3 of heaptrack's;
#   sampled: at most 1.0x plain.
set -u
B=${1:-$(pwd)}
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
SHIM=$B/.libs/libtally-preload.so
MI=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
W=$(mktemp -d "${TMPDIR:-/tmp}/real-bench.XXXXXX")
R=$W/runs
trap 'rm -rf "$W"' EXIT

. "$HERE/bench_common.sh"
. "$HERE/workloads.sh"
python3 "$HERE/real_cc1_gen.py" 1500 >"$W/gen.c"
CC1=$(gcc -print-prog-name=cc1)
REPO=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || echo "$HERE/..")

# way_row KEY LABEL: prints the way's row from its runs and sets T to its
# median (wall, or CPU seconds with CPU=1: on a machine other work shares,
# CPU time is the steadier figure, but it counts heaptrack's interpreter,
# which runs on the other core, in full), or to "fail".
way_row() {
    if [ -e "$R/$1.fail" ]; then
        T=fail
        printf '| %s | %s | fail | | |\n' "$WL" "$2"
        return
    fi
    WALL=$(median <"$R/$1.t")
    C=$(median <"$R/$1.c")
    T=$WALL
    [ "${CPU:-0}" = 1 ] && T=$C
    printf '| %s | %s | %.3f | %.2f | %s |\n' "$WL" "$2" "$WALL" "$C" \
        "$(awk -v a="$T" -v b="${PLAIN:-$T}" 'BEGIN {printf "%.2fx", a / b}')"
}

VERDICTS=
# workload NAME ENV CMD...: ENV is one VAR=value (or "-"), set for every
# way: heaptrack follows no exec, so it cannot come after an env command.
# The ways take turns, a run of each a round, so that a slow stretch of
# this shared machine lands on all of them rather than on one way's runs.
workload() {
    WL=$1
    e=$2
    [ "$e" = - ] && e=WORKLOAD=1
    shift 2
    rm -rf "$R"
    mkdir "$R"
    for i in $(seq "$RUNS"); do
        run_way plain env "$e" "$@"
        [ -f "$MI" ] && run_way mimalloc env "$e" LD_PRELOAD="$MI" "$@"
        run_way full env "$e" LD_PRELOAD="$SHIM" TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$@"
        run_way sampled env "$e" LD_PRELOAD="$SHIM" TALLY_SAMPLE=524288 \
            TALLY_OUTPUT="$W/prof.%p" TALLY_REPORT=none "$@"
        if command -v heaptrack >/dev/null; then
            run_way heaptrack env "$e" heaptrack -o "$W/ht" "$@"
        fi
    done
    PLAIN=
    way_row plain plain
    PLAIN=$T
    MIT=fail
    [ -f "$MI" ] && way_row mimalloc "mimalloc alone" && MIT=$T
    way_row full "tally full"
    FULL=$T
    way_row sampled "tally sampled 512K"
    SAMPLED=$T
    HT=fail
    if command -v heaptrack >/dev/null; then
        way_row heaptrack heaptrack
        HT=$T
    fi
    VERDICTS="$VERDICTS$(awk -v wl="$WL" -v p="$PLAIN" -v f="$FULL" -v s="$SAMPLED" -v h="$HT" -v m="$MIT" 'BEGIN {
        if (f == "fail" || h == "fail" || p == "fail") full = "no figure"
        else {
            r = (f - p) / (h - p)
            full = sprintf("overhead %.3f of heaptrack'"'"'s (target <= 1/3): %s", r, r <= 1 / 3 ? "met" : "MISSED")
        }
        if (s == "fail" || p == "fail") smp = "no figure"
        else smp = sprintf("%.2fx plain (target <= 1.0x): %s", s / p, s / p <= 1.0 ? "met" : "MISSED")
        if (smp != "no figure" && m != "fail") smp = smp sprintf(" (mimalloc alone %.2fx)", m / p)
        printf "%s: full %s; sampled %s\n", wl, full, smp
    }')
"
}

echo "| workload | run | wall s (median of $RUNS) | CPU s (median) | vs plain ($([ "${CPU:-0}" = 1 ] && echo CPU || echo wall)) |"
echo "|---|---|---|---|---|"
workload "python3 PYTHONMALLOC=malloc" PYTHONMALLOC=malloc "$PY" "$HERE/real_python.py"
workload "cc1 -O2, 1500 functions" - "$CC1" -quiet -O2 "$W/gen.c" -o "$W/gen.s"
workload "perl hashes + sort" - perl "$HERE/real_perl.pl"
workload "git log -p" - git -C "$REPO" log -p --no-color
workload "sort 50 MB" LC_ALL=C sort -o "$W/sorted" "$W/sort.txt"
echo
printf '%s' "$VERDICTS"
