#!/bin/sh
# fork (exit and _exit), fork+exec, dlopen/dlclose, signal handlers.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

run fork "$PROG" fork || { rc=$?; cat "$WORK/fork.err"; fail "fork exited $rc"; }
n=$(ls "$WORK/fork"/*.prof | wc -l)
[ "$n" -eq 4 ] || fail "fork: expected 4 profiles (parent, 2 children, exec'd), found $n"
# Children inherit the parent's 100-byte block.
got=$(for f in "$WORK/fork"/*.prof; do facts leaks "$f"; done | sort -n | tr '\n' ' ')
[ "$got" = "100 1 100 1 150 2 300 2 " ] || fail "fork: leaks per process: '$got'"
echo "ok: fork: parent 100, exit child 300, _exit child 150, exec'd 100"

# The child that execs writes its own profile first (reason 4, exec); the
# program it execs is not tracked.
run noexec env TALLY_FOLLOW_EXEC=0 "$PROG" fork || fail "noexec exited $?"
n=$(ls "$WORK/noexec"/*.prof | wc -l)
[ "$n" -eq 4 ] || fail "TALLY_FOLLOW_EXEC=0: expected 4 profiles, found $n"
reasons=$(for f in "$WORK/noexec"/*.prof; do
    "$TALLY" report --format json "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["reason"])'
done | sort | tr '\n' ' ')
[ "$reasons" = "0 0 0 4 " ] || fail "TALLY_FOLLOW_EXEC=0: reasons '$reasons', expected three exits and one exec"
echo "ok: TALLY_FOLLOW_EXEC=0 leaves the exec'd program alone; the image that execs writes its own"

# Children forked while another thread books from thousands of stacks:
# the child recycles that thread's books, which fork may have stopped in
# the middle of a booking. A debug build checks what it keeps of them: a
# recycling that kept a half-made booking's site slots failed this test in
# one run of three (a child's check failed, and its dump then waited for
# good on a lock the fork's prepare handler had taken).
rc=0
run forkbook env TALLY_OUTPUT="$WORK/forkbook/one.prof" TALLY_REPORT=none "$PROG" forkbook 2500 || rc=$?
[ $rc -eq 0 ] || { tail -3 "$WORK/forkbook.err"; fail "forkbook exited $rc"; }
echo "ok: 2500 children forked while a thread books exit cleanly"

LIB=$B/tests/progs/.libs/libshim_dl.so
run dl "$PROG" dl "$LIB" || { rc=$?; cat "$WORK/dl.err"; fail "dl exited $rc"; }
expect_leaks dl 123 1
run dldeep "$PROG" dldeep "$LIB" || fail "dldeep exited $?"
expect_leaks dldeep 123 1
grep -q "RTLD_DEEPBIND removed" "$WORK/dldeep.err" || fail "no RTLD_DEEPBIND warning"
[ "$(grep -c DEEPBIND "$WORK/dldeep.err")" -eq 1 ] || fail "DEEPBIND warning not one line"

run signal "$PROG" signal || { rc=$?; cat "$WORK/signal.err"; fail "signal exited $rc"; }
# Again: libunwind loaded inside a signal handler (the first walk to need it
# is often a handler's) broke the interrupted allocator in one run of seven.
for i in 1 2 3 4 5 6 7 8 9 10; do
    run signal_again "$PROG" signal || { rc=$?; cat "$WORK/signal_again.err"; fail "signal, run $i: exited $rc"; }
done
expect_leaks signal 29 1
