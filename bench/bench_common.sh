# bench_common.sh: what the benchmark scripts share. Source it with W (a
# scratch directory) set.

# median: the middle of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure CMD...: prints "wall_seconds maxrss_kb cpu_seconds" for one run
# (cpu: user + system, children included), or "fail". The wall time is the
# clock's, to the microsecond: /usr/bin/time's %e counts in steps of 10 ms,
# 7% of git log -p's whole run here, so two ways a step apart read as a
# verdict. Both sides include starting /usr/bin/time, the same for every way.
measure() {
    start=$(date +%s%N)
    if /usr/bin/time -f "%M %U %S" -o "$W/time" "$@" >/dev/null 2>"$W/err"; then
        end=$(date +%s%N)
        tail -n 1 "$W/time" |
            awk -v ns=$((end - start)) '{printf "%.6f %s %.2f\n", ns / 1e9, $1, $2 + $3}'
    else
        echo fail
    fi
}

# run_way KEY CMD...: one run of one way of a benchmark whose ways take turns
# in rounds. Its wall seconds, peak RSS (KiB) and CPU seconds are added to
# that way's files in $R (KEY.t, KEY.m, KEY.c); a failure marks the way
# failed (KEY.fail) and its later runs are skipped. The tools' output files
# in $W are removed after each run.
run_way() {
    key=$1
    shift
    [ -e "$R/$key.fail" ] && return
    r=$(measure "$@")
    if [ "$r" = fail ]; then
        : >"$R/$key.fail"
    else
        echo "$r" | cut -d' ' -f1 >>"$R/$key.t"
        echo "$r" | cut -d' ' -f2 >>"$R/$key.m"
        echo "$r" | cut -d' ' -f3 >>"$R/$key.c"
    fi
    rm -rf "$W"/ht* "$W"/prof* "$W"/massif*
}
