#!/bin/sh
# tally top and tally run --live on a terminal: tmux runs them in a pane,
# the test sends keys and reads the pane back. live_prog
# (tests/progs/live_prog.c) holds 100 blocks of 10000 bytes in hold_blocks
# and 10 of 100 in keep_small, and 100 more of 10000 in hold_more when told:
# the view shows those exact figures, the growth of hold_more, the peak view
# (p), a snapshot profile whose report has the same bytes (s), and q ends
# it. tally run --live draws the view while the program runs and puts the
# program's terminal output in a file. Without a terminal: clear errors.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"
need_shim
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed (tools/install-deps)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed"; exit 77; }
LIVE=$B/tests/progs/live_prog
[ -x "$LIVE" ] || fail "$LIVE not built"
SHIM=$B/.libs/libtally-preload.so

# A tmux server of the test's own, its socket in $WORK.
T="tmux -S $WORK/tmux.sock"
trap '$T kill-server 2>/dev/null; [ -n "${P:-}" ] && kill "$P" 2>/dev/null; rm -rf "$WORK"' EXIT
pane() { $T capture-pane -p -t live; }
# until_pane PATTERN [SECONDS]: the pane shows the extended regex within
# SECONDS (default 6); the pane is in $WORK/pane.txt.
until_pane() {
    n=$(((${2:-6}) * 10))
    while [ $n -gt 0 ]; do
        pane >"$WORK/pane.txt" 2>/dev/null
        grep -qE -- "$1" "$WORK/pane.txt" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    cat "$WORK/pane.txt"
    fail "the pane never showed /$1/"
}
until_file() {
    n=60
    while [ ! -e "$1" ] && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    [ -e "$1" ] || fail "no $1"
}

# ---- tally top PID -------------------------------------------------------------------
mkdir -p "$WORK/ctl" "$WORK/prof"
env LD_PRELOAD="$SHIM" TALLY_LIVE=1 TALLY_REPORT=none TALLY_OUTPUT="$WORK/prof/%p.prof" \
    "$LIVE" 100 10000 "$WORK/ctl" >/dev/null 2>&1 &
P=$!
$T new-session -d -s live -x 200 -y 40 -c "$WORK" "'$TALLY' top $P; echo \$? >'$WORK/top.exit'; sleep 30"
until_pane "hold_blocks"
# The pool's current bytes are the sum of the stacks' (a full run lists
# every stack here); the known stacks are exact.
check_frame() {
    python3 - "$WORK/pane.txt" "$@" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
pool = re.search(r"^malloc +(\d+) +(\d+) +(\d+)", text, re.M)
assert pool, "no malloc pool line"
stacks = re.findall(r"^ +(\d+) +(\S+) +(\S+) +malloc +(\w+)", text, re.M)
assert sum(int(s[0]) for s in stacks) == int(pool.group(1)), (stacks, pool.group(1))
by = {s[3]: s for s in stacks}
for want in sys.argv[2:]:
    fn, b, n, g = want.split(":")
    s = by.get(fn)
    assert s, "no stack " + fn
    assert s[0] == b and (n == "*" or s[1] == n) and (g == "*" or s[2] == g), (want, s)
print(pool.group(1))
EOF
}
current=$(check_frame "hold_blocks:1000000:100:*" "keep_small:1000:10:*") || fail "the live view's figures"
grep -qE "^ +1000000 +100 .*hold_blocks \(live_prog\.c:$(mark hold_blocks live_prog.c)\) < main" "$WORK/pane.txt" ||
    fail "hold_blocks is not the top stack with its file:line and caller"
grep -q "RSS .* MiB" "$WORK/pane.txt" || fail "no RSS"
ok "tally top: each pool's bytes, the top stacks by live bytes with file:line, exact; RSS"

touch "$WORK/ctl/more"
until_pane "1000000 +100 +\+1000000 +malloc +hold_more"
check_frame "hold_more:1000000:100:+1000000" "hold_blocks:1000000:100:+0" >/dev/null || fail "the growth"
ok "tally top: a stack that grew shows its growth since the last refresh (+1000000)"

$T send-keys -t live p
until_pane "TOP STACKS AT THE PEAK"
check_frame "hold_blocks:1000000:-:*" "hold_more:1000000:-:*" >/dev/null || fail "the peak view"
$T send-keys -t live p
until_pane "TOP STACKS BY LIVE BYTES"
ok "tally top: p switches to the peak view and back"

current=$(check_frame) || fail "the frame before the snapshot"
$T send-keys -t live s
until_pane "snapshot written: "
snap=$(sed -n 's/.*snapshot written: \(.*\.prof\).*/\1/p' "$WORK/pane.txt")
[ -f "$snap" ] || fail "no snapshot file '$snap'"
case $snap in "$WORK"/tally.$P.snapshot.1.prof) ;; *) fail "snapshot at $snap, not in the current directory" ;; esac
"$TALLY" report --format json "$snap" | python3 -c '
import json, sys
r = json.load(sys.stdin)
pools = {p["name"]: p["current"] for p in r["pools"]}
assert pools["malloc"] == int(sys.argv[1]), (pools, sys.argv[1])
' "$current" || fail "the snapshot's malloc pool is not the view's $current bytes"
"$TALLY" report "$snap" >"$WORK/snap.txt" || fail "tally report on the snapshot"
expect_in "$WORK/snap.txt" "1000000 bytes" "hold_blocks" "hold_more"
ok "tally top: s writes a snapshot profile in the current directory with the view's bytes ($current)"

$T send-keys -t live q
until_file "$WORK/top.exit"
[ "$(cat "$WORK/top.exit")" = 0 ] || fail "tally top exited $(cat "$WORK/top.exit") after q"
touch "$WORK/ctl/stop"
wait "$P"
P=
$T kill-server
ok "tally top: q quits (exit 0)"

# ---- tally run --live ------------------------------------------------------------------
# A server of its own: the first may still be exiting, and a new-session
# that reaches it fails ("server exited unexpectedly", once in a make check).
T="tmux -S $WORK/tmux-run.sock"
rm -rf "$WORK/ctl" "$WORK/top.exit"
mkdir -p "$WORK/ctl" "$WORK/run"
$T new-session -d -s live -x 200 -y 40 -c "$WORK/run" \
    "'$TALLY' run --live -- sh -c 'echo out-line; echo err-line >&2; exec \"$LIVE\" 10 1000 \"$WORK/ctl\"'; echo \$? >'$WORK/top.exit'; sleep 30"
until_pane "^ +10000 +10 .*hold_blocks"
check_frame "hold_blocks:10000:10:*" "keep_small:1000:10:*" >/dev/null || fail "tally run --live's view"
pane | grep -qE "out-line|err-line" && fail "the program's output is on the view's terminal"
touch "$WORK/ctl/stop"
until_file "$WORK/top.exit"
[ "$(cat "$WORK/top.exit")" = 0 ] || fail "tally run --live exited $(cat "$WORK/top.exit")"
out=$(ls "$WORK"/run/tally.sh.*.out)
[ "$(cat "$out")" = "out-line
err-line" ] || fail "the program's output file $out: $(cat "$out")"
until_pane "output is in tally\.sh\.[0-9]+\.out"
grep -q "tally: peak" "$WORK/pane.txt" || fail "no summary after the view"
$T kill-session -t live
ok "tally run --live: the view while it runs, its output in tally.sh.PID.out, then the summary"

# ---- no terminal ---------------------------------------------------------------------------
setsid -w "$TALLY" run --live -- true </dev/null >"$WORK/nt.out" 2>"$WORK/nt.err" && fail "run --live without a terminal: exit 0"
[ $? -eq 2 ] || fail "run --live without a terminal: not exit 2"
expect_in "$WORK/nt.err" "--live needs a terminal"
"$TALLY" top 1 </dev/null >"$WORK/nt.out" 2>"$WORK/nt.err" && fail "tally top without a terminal: exit 0"
expect_in "$WORK/nt.err" "needs a terminal; --once"
ok "without a terminal: run --live and top say so (exit 2)"

"$TALLY" top --once abc >"$WORK/bad.out" 2>"$WORK/bad.err" && fail "tally top abc: exit 0"
[ $? -eq 2 ] || fail "tally top abc: not exit 2"
expect_in "$WORK/bad.err" "PID is a process id" "usage: tally top"
"$TALLY" top --once >"$WORK/bad.out" 2>"$WORK/bad.err" && fail "tally top without a PID: exit 0"
expect_in "$WORK/bad.err" "no PID"
ok "tally top: a PID that is not a number, or none, is a usage error (exit 2)"
