#!/usr/bin/env bash
# startup_bench.sh: what preloading tally costs a program that does nothing
# (issue 12's start-up target: a preloaded /bin/true at most 1 ms and 2 MB
# more than plain).
#
#   bench/startup_bench.sh [BUILDDIR] [ROUNDS] [RUNS]
#
# Each row runs /bin/true RUNS times (default 200) under `perf stat -r`, in
# ROUNDS rounds (default 5) that alternate the rows, so that the load of a
# shared machine falls on all of them; printed is the median over the
# rounds of the mean task-clock (CPU time of the process, from exec to
# exit: the loader, tally's start, its exit profile), and the median peak
# RSS of 11 runs, and the system calls and page faults of one run (mean of
# RUNS), which the machine's load does not move. Rows: plain; mimalloc
# alone preloaded (the floor for any allocator that is not glibc's);
# libtally.so.0 preloaded beside it but not started (what loading tally's
# objects costs, apart from tally's start and its exit profile); tally full
# and sampled (512 KiB), each
# writing its profile, as a user's run does, into a directory on the
# build's file system and, separately, on tmpfs (/dev/shm), which takes the
# file system's cost of creating a file out of the figure.
set -u
B=${1:-$(pwd)}
ROUNDS=${2:-5}
RUNS=${3:-200}
SHIM=$B/.libs/libtally-preload.so
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "$B/startup-bench.XXXXXX")
SHM=$(mktemp -d /dev/shm/startup-bench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$W" "$SHM"' EXIT
. "$HERE/bench_common.sh"

command -v perf >/dev/null || { echo "startup_bench: needs perf (linux-perf)" >&2; exit 1; }
[ -f "$SHIM" ] || { echo "startup_bench: no $SHIM (build first)" >&2; exit 1; }
MI=$(ldconfig -p | awk '/libmimalloc\.so\.2 /{print $NF; exit}')

# name|environment (TALLY_OUTPUT is set per row: disk or tmpfs)
rows=("plain|"
    "mimalloc alone|LD_PRELOAD=$MI"
    "libtally loaded, not started|LD_PRELOAD=$B/.libs/libtally.so.0:$MI"
    "tally full, profile on disk|LD_PRELOAD=$SHIM TALLY_OUTPUT=$W/full/%p.prof"
    "tally full, profile on tmpfs|LD_PRELOAD=$SHIM TALLY_OUTPUT=$SHM/full/%p.prof"
    "tally sampled, profile on disk|LD_PRELOAD=$SHIM TALLY_SAMPLE=512K TALLY_OUTPUT=$W/sampled/%p.prof"
    "tally sampled, profile on tmpfs|LD_PRELOAD=$SHIM TALLY_SAMPLE=512K TALLY_OUTPUT=$SHM/sampled/%p.prof")
mkdir -p "$W/full" "$W/sampled" "$SHM/full" "$SHM/sampled"

# task-clock ms, mean of RUNS runs of /bin/true under env
clock_ms() {
    # shellcheck disable=SC2086
    env $1 TALLY_REPORT=none perf stat -r "$RUNS" -x, -e task-clock /bin/true 2>&1 >/dev/null |
        awk -F, '$3 == "task-clock" {print $1; exit}'
}

for r in $(seq "$ROUNDS"); do
    for k in "${!rows[@]}"; do
        clock_ms "${rows[$k]#*|}" >>"$W/t.$k"
    done
done
# system calls and page faults a run, mean of RUNS runs (no ROUNDS: counts)
counts() {
    # shellcheck disable=SC2086
    env $1 TALLY_REPORT=none perf stat -r "$RUNS" -x, -e raw_syscalls:sys_enter,page-faults \
        /bin/true 2>&1 >/dev/null |
        awk -F, 'function n(v) { return v ~ /^[0-9.]+$/ ? sprintf("%.0f", v) : "-" }
            $3 ~ /sys_enter/ {s = $1} $3 == "page-faults" {f = $1} END {print n(s), n(f)}'
}
for k in "${!rows[@]}"; do
    counts "${rows[$k]#*|}" >"$W/n.$k"
    for i in $(seq 11); do
        # shellcheck disable=SC2086
        env ${rows[$k]#*|} TALLY_REPORT=none /usr/bin/time -f "%M" -o "$W/m" /bin/true && cat "$W/m"
    done | median >"$W/rss.$k"
done

printf "%-34s %12s %10s %12s %16s %9s\n" "/bin/true ($ROUNDS x $RUNS runs)" "task-clock" "+ms" \
    "maxrss KiB" "system calls" "faults"
base_t=$(median <"$W/t.0")
base_m=$(cat "$W/rss.0")
for k in "${!rows[@]}"; do
    t=$(median <"$W/t.$k")
    read -r nsys nfault <"$W/n.$k"
    printf "%-34s %9.3f ms %+9.3f %12s (%+d) %9s %9s\n" "${rows[$k]%%|*}" "$t" \
        "$(awk -v a="$t" -v b="$base_t" 'BEGIN {print a - b}')" "$(cat "$W/rss.$k")" \
        "$(($(cat "$W/rss.$k") - base_m))" "$nsys" "$nfault"
done
verdict() { # name extra_ms extra_kib
    awk -v n="$1" -v t="$2" -v m="$3" 'BEGIN {
        printf "- %s: +%.2f ms (target <= 1): %s; +%.2f MiB (target <= 2): %s\n", n, t,
            t <= 1 ? "met" : "MISSED", m / 1024, m <= 2048 ? "met" : "MISSED" }'
}
for k in 3 4 5 6; do
    t=$(median <"$W/t.$k")
    verdict "${rows[$k]%%|*}" "$(awk -v a="$t" -v b="$base_t" 'BEGIN {print a - b}')" \
        "$(($(cat "$W/rss.$k") - base_m))"
done
