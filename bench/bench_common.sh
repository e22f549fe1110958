# bench_common.sh: what the benchmark scripts share. Source it with W (a
# scratch directory) set.

# median: the middle of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure CMD...: prints "wall_seconds maxrss_kb cpu_seconds" for one run
# (cpu: user + system, children included), or "fail".
measure() {
    if /usr/bin/time -f "%e %M %U %S" -o "$W/time" "$@" >/dev/null 2>"$W/err"; then
        tail -n 1 "$W/time" | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}'
    else
        echo fail
    fi
}
