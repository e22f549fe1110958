#!/bin/sh
# The host program behaves as without tally: no thread of tally's keeps it
# alive or shows in /proc/self/task (so unshare(CLONE_NEWUSER) works), and
# every signal it did not ask about keeps its default action as it sees it.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"
HOST=$B/tests/progs/lifetime_prog

# main leaves with pthread_exit: plain, the process ends at once; a thread
# of tally's would keep it alive (and block TERM and INT) forever.
mkdir -p "$WORK/pexit"
timeout -s KILL 20 env LD_PRELOAD="${TALLY_TEST_PRELOAD:-$SHIM}" TALLY_OUTPUT="$WORK/pexit/%p.prof" \
    "$HOST" pthread_exit 2>"$WORK/pexit.err"
rc=$?
[ "$rc" -eq 0 ] || fail "pthread_exit from main: exit $rc (137: still running after 20 s)"
echo "ok: a main that calls pthread_exit ends the process"

run tasks "$HOST" tasks || fail "tasks exited $?"
[ "$(cat "$WORK/tasks.out")" = 1 ] || fail "tasks: $(cat "$WORK/tasks.out") threads, plain has 1"
echo "ok: one thread in /proc/self/task"

if command -v unshare >/dev/null && unshare -U -r true 2>/dev/null; then
    run unshare unshare -U -r id -u || {
        cat "$WORK/unshare.err"
        fail "unshare -U -r failed under tally"
    }
    [ "$(cat "$WORK/unshare.out")" = 0 ] || fail "unshare: id -u printed $(cat "$WORK/unshare.out")"
    echo "ok: unshare -U works (CLONE_NEWUSER needs a single-threaded caller)"
else
    echo "note: unshare -U is not allowed here even plain: not tested"
fi

# SIGUSR2 (the old dump signal) and every other signal: the default action.
sh -c 'kill -USR2 $$'
plain=$?
run usr2 sh -c 'kill -USR2 $$'
got=$?
[ "$got" -eq "$plain" ] || fail "kill -USR2: exit $got under tally, $plain plain"
echo "ok: SIGUSR2 keeps its default action (exit $got)"

# The program's descriptor numbers are its own: tally's (its duplicate of
# stderr, libunwind's pipe) sit at 1000 and above, so a program's next
# open() lands where it would without tally.
below_1000() { awk '$1 < 1000' | sort -n | tr '\n' ' '; }
plain_fds=$(ls /proc/self/fd | below_1000)
run fds ls /proc/self/fd || fail "ls /proc/self/fd exited $?"
got_fds=$(below_1000 <"$WORK/fds.out")
[ "$got_fds" = "$plain_fds" ] || fail "descriptors below 1000: '$got_fds' under tally, '$plain_fds' plain"
echo "ok: the program's descriptors below 1000 are as without tally ($got_fds)"

# libunwind is dlopen'ed at start but started on first use
# (lib/track/libunwind_load.c): tally's unwinder walks every stack of ls,
# its libraries' constructors' included, so libunwind never starts there
# and makes no pipe. When it does walk (TALLY_UNWIND=libunwind), it starts
# inside the first capture, and its pipe still goes above 1000.
pipes_at_1000() { awk '$(NF-2) >= 1000 && $NF ~ /^pipe:/' "$1" | wc -l; }
run fds_lazy ls -l /proc/self/fd || fail "ls -l /proc/self/fd exited $?"
grep -q ' 1000 -> ' "$WORK/fds_lazy.out" || { cat "$WORK/fds_lazy.out"; fail "no listing of tally's descriptor"; }
[ "$(pipes_at_1000 "$WORK/fds_lazy.out")" -eq 0 ] || {
    cat "$WORK/fds_lazy.out"
    fail "libunwind started (its pipe is open) in a run that never needed it"
}
run fds_unw env TALLY_UNWIND=libunwind ls -l /proc/self/fd || fail "ls with libunwind exited $?"
[ "$(pipes_at_1000 "$WORK/fds_unw.out")" -eq 2 ] || {
    cat "$WORK/fds_unw.out"
    fail "libunwind's pipe is not at 1000 and above once a walk started it"
}
echo "ok: libunwind starts on first use: no pipe in ls's run, its pipe above 1000 once it walks"

# What the program sees of the fatal signals' dispositions and of the
# alternate stack is what it sees plain, inherited SIG_IGN included.
"$HOST" dispositions >"$WORK/disp.plain"
run disp "$HOST" dispositions || fail "dispositions exited $?"
diff "$WORK/disp.plain" "$WORK/disp.out" || fail "dispositions differ from plain"
sh -c "trap '' TERM HUP; exec '$HOST' dispositions" >"$WORK/disp_ign.plain"
run disp_ign sh -c "trap '' TERM HUP; exec '$HOST' dispositions" || fail "disp_ign exited $?"
diff "$WORK/disp_ign.plain" "$WORK/disp_ign.out" || fail "inherited SIG_IGN: dispositions differ"
grep -q "^term ign" "$WORK/disp_ign.out" || fail "inherited SIG_IGN not seen"
echo "ok: sigaction, signal and sigaltstack show the program's own dispositions"
