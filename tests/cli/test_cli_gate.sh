#!/bin/sh
# tally run --max-peak / --max-leaked, a test suite's gate: a program under
# its limits exits as it did; one over a limit exits 3 (or
# --error-exitcode's value) with a line naming the limit and the stack that
# did it most, symbolized to the function and file:line; a program that
# failed on its own keeps its status. tests/progs/gate_prog.c holds and
# leaks what it is told.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

need_shim
PROG=$B/tests/progs/gate_prog
[ -x "$PROG" ] || fail "$PROG not built"
SRC=$S/tests/progs/gate_prog.c

# run NAME ARGS...: tally run ARGS, its status in $rc, stderr in $WORK/NAME.err
run() {
    name=$1
    shift
    "$TALLY" run -o "$WORK/$name.prof" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
}
expect_rc() {
    [ "$rc" -eq "$1" ] || {
        cat "$WORK/$name.err"
        fail "$name: exit status $rc, not $1"
    }
}
refute_in() {
    if grep -qF -- "$2" "$1"; then
        cat "$1"
        fail "'$2' in $1"
    fi
}

# ---- under both limits: the program's own status, no word from the gate
run under --max-peak 4M --max-leaked 2k -- "$PROG" 1048576 1000 0
expect_rc 0
refute_in "$WORK/under.err" "exceeded"
run under7 --max-peak 4M --max-leaked 2k -- "$PROG" 1048576 1000 7
expect_rc 7
ok "gate: under both limits, tally run exits as the program did (0, 7)"

# ---- over --max-peak: status 3, the limit, and the stack that held the most
run peak --max-peak 1M --max-leaked 2k -- "$PROG" 4194304 0 0
expect_rc 3
expect_in "$WORK/peak.err" "tally run: --max-peak 1.0 MiB exceeded: the peak was 4." \
    "limit 1048576)" "tally run: the stack with the most bytes at the peak, 4.0 MiB in pool malloc:" \
    "hold_peak $SRC:$(mark hold_peak gate_prog.c)"
refute_in "$WORK/peak.err" "--max-leaked"
ok "gate: over --max-peak: exit 3, the limit and hold_peak's stack named"

# ---- over --max-leaked. Leaked: the error kinds, definite and indirect by
# default, as the summary counts leaks.
classified=$("$TALLY" report --format json --leaks "$WORK/under.prof" | python3 -c 'import json, sys; print(json.load(sys.stdin)["leaks"]["classified"])')
run leak --max-peak 4M --max-leaked 2k -- "$PROG" 65536 3000 0
expect_rc 3
if [ "$classified" = True ]; then
    expect_in "$WORK/leak.err" "tally run: --max-leaked 2.0 KiB exceeded: leaked 2.9 KiB (3000 bytes, limit 2048)" \
        "tally run: the largest leak, 2.9 KiB in 1 block definitely lost in pool malloc:" \
        "leak_some $SRC:$(mark leak_some gate_prog.c)"
    refute_in "$WORK/leak.err" "--max-peak"
    # the limit is inclusive: exactly at it passes
    run at --max-leaked 3000 -- "$PROG" 65536 3000 0
    expect_rc 0
    run above --max-leaked 2999 -- "$PROG" 65536 3000 0
    expect_rc 3
    # --errors-for-leak-kinds decides what counts: possible only, none here
    run kinds --max-leaked 0 --errors-for-leak-kinds possible -- "$PROG" 65536 3000 0
    expect_rc 0
    run zero --max-leaked 0 -- "$PROG" 65536 0 0
    expect_rc 0
    ok "gate: over --max-leaked: exit 3, the limit and leak_some's stack named; 3000 passes at 3000, not at 2999; the kinds follow --errors-for-leak-kinds"
else
    # No leak check could run here: a gate that cannot look fails.
    expect_in "$WORK/leak.err" "--max-leaked cannot be checked: no leak check ran"
    ok "gate: no leak check ran here: --max-leaked fails rather than passes"
fi

# ---- --error-exitcode replaces 3; the program's own failure wins over both
run code --max-peak 1M --error-exitcode 42 -- "$PROG" 4194304 0 0
expect_rc 42
run own --max-peak 1M --error-exitcode 42 -- "$PROG" 4194304 0 5
expect_rc 5
expect_in "$WORK/own.err" "tally run: --max-peak 1.0 MiB exceeded"
ok "gate: --error-exitcode 42 replaces 3; a program that exited 5 keeps 5 (and the limit is still said)"

# ---- bad values are usage errors before anything runs
for bad in 1X -1 k 2P 1025T; do
    run bad --max-peak "$bad" -- "$PROG" 0 0 0
    expect_rc 2
    expect_in "$WORK/bad.err" "tally run: --max-peak wants a number of bytes"
    [ ! -e "$WORK/bad.prof" ] || fail "--max-peak $bad: the program ran"
done
run off --leak-check off --max-leaked 1k -- "$PROG" 0 0 0
expect_rc 2
expect_in "$WORK/off.err" "--max-leaked needs the leak check"
ok "gate: bad sizes and --max-leaked without the leak check are exit 2 before the program runs"
