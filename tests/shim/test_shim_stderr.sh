#!/bin/sh
# tally's messages go to a duplicate of stderr it took at start: a program
# that closes fd 2 and opens a data file (fd 2 again) finds only its own
# data there, and tally's reports still reach the stderr the run started
# with. Nor does tally write into a file the program put on the number of
# tally's own duplicate after closing everything from fd 3 up.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

HOST=$B/tests/progs/host_prog

run fd2 "$HOST" fd2 "$WORK/data" || { rc=$?; cat "$WORK/fd2.out"; fail "fd2: exited $rc"; }
printf 'data\nmore\n' | cmp -s - "$WORK/data" || {
    cat "$WORK/data"
    fail "fd2: the program's data file holds more than the program wrote"
}
grep -q '^tally: Invalid free() / delete / delete\[\] / realloc(): double free' "$WORK/fd2.err" ||
    { cat "$WORK/fd2.err"; fail "fd2: the double free was not reported on the original stderr"; }
expect_summary fd2 40 1
grep -q '^tally: ERROR SUMMARY: 1 error from 1 context$' "$WORK/fd2.err" ||
    { cat "$WORK/fd2.err"; fail "fd2: no error summary on the original stderr"; }
expect_leaks fd2 40 1
echo "ok: fd 2 reused for a data file: the data is the program's, the reports reach stderr"

run closefrom "$HOST" closefrom "$WORK/data2" || { rc=$?; cat "$WORK/closefrom.out"; fail "closefrom: exited $rc"; }
printf 'data\n' | cmp -s - "$WORK/data2" || {
    cat "$WORK/data2"
    fail "closefrom: tally wrote into the file now on its descriptor's number"
}
grep -q 'double free' "$WORK/closefrom.err" || { cat "$WORK/closefrom.err"; fail "closefrom: no report on fd 2"; }
expect_summary closefrom 40 1
echo "ok: tally's descriptor closed and its number reused: nothing written there, fd 2 still serves"

# Started with fd 2 closed: tally says nothing (and fd 2, the first file
# the program opens, gets none of tally's lines).
mkdir -p "$WORK/closed"
env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$WORK/closed/%p.prof" "$HOST" fd2 "$WORK/data3" 2>&- >"$WORK/closed.out" ||
    fail "closed: exited $?"
printf 'data\nmore\n' | cmp -s - "$WORK/data3" || { cat "$WORK/data3"; fail "closed: tally wrote into fd 2"; }
[ "$(ls "$WORK/closed" | wc -l)" -eq 1 ] || fail "closed: no profile"
echo "ok: stderr closed at start: tally says nothing"
