#!/bin/sh
# The live view's segment (lib/track/publish.c) as the host sees it: none
# without TALLY_LIVE; with it, /dev/shm/tally-UID-PID of mode 0600, owned by
# the user, the process still one thread, the figures `tally top --once`
# reads exact (tests/progs/live_prog.c holds 100 blocks of 10000 bytes in
# hold_blocks, 10 of 100 in keep_small), and the segment removed at exit. A
# forked child publishes a segment of its own. A segment left by a killed
# process is removed by the reader; no such
# process, one without a segment, another user's process or segment, a
# segment that is not mode 0600 or is a symlink: each a clear error, exit 2.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

LIVE=$B/tests/progs/live_prog
[ -x "$LIVE" ] || fail "$LIVE not built"
[ -d /dev/shm ] || { echo "SKIP: no /dev/shm"; exit 77; }
U=$(id -u)
seg() { echo "/dev/shm/tally-$U-$1"; }

# start NAME [VAR=VALUE...]: live_prog under the shim, in the background;
# its control directory is $WORK/NAME.
start() {
    name=$1
    shift
    mkdir -p "$WORK/$name"
    env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$WORK/$name/%p.prof" TALLY_REPORT=none "$@" \
        "$LIVE" 100 10000 "$WORK/$name" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    P=$!
}
# wait_for PATH: up to 5 s for PATH to exist and hold something (a segment
# is empty between its open and its ftruncate)
wait_for() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -s "$1" ]
}
stop_prog() {
    touch "$WORK/$1/stop"
    wait "$P"
}
# top_err EXPECTED ARGS...: tally top fails with exit 2 and says EXPECTED
top_err() {
    want=$1
    shift
    "$TALLY" top --once "$@" >"$WORK/top.out" 2>"$WORK/top.err" && fail "tally top $*: exit 0"
    rc=$?
    [ $rc -eq 2 ] || fail "tally top $*: exit $rc, not 2"
    [ ! -s "$WORK/top.out" ] || fail "tally top $*: wrote to stdout on an error"
    grep -qF -- "$want" "$WORK/top.err" || {
        cat "$WORK/top.err"
        fail "tally top $*: does not say '$want'"
    }
}

# ---- without TALLY_LIVE: no segment, and the reader says why ----------------------
start plain
sleep 0.5
[ -e "$(seg $P)" ] && fail "a segment without TALLY_LIVE"
top_err "does not publish a live view" "$P"
stop_prog plain
echo "ok: without TALLY_LIVE no segment is made, and tally top says the process does not publish"

# ---- with it ---------------------------------------------------------------------------
start live TALLY_LIVE=1
wait_for "$(seg $P)" || fail "no segment $(seg $P) with TALLY_LIVE=1"
[ "$(stat -c '%a %u %F' "$(seg $P)")" = "600 $U regular file" ] ||
    fail "segment: $(stat -c '%a %u %F' "$(seg $P)"), not mode 600, ours, a regular file"
"$TALLY" top --once "$P" >"$WORK/once.txt" 2>"$WORK/once.err" || {
    cat "$WORK/once.err"
    fail "tally top --once failed"
}
tasks=$(ls /proc/$P/task | wc -l)
[ "$tasks" -eq 1 ] || fail "the process has $tasks threads with TALLY_LIVE=1, not 1"
# The figures: the stacks' bytes add up to the pool's current bytes (every
# stack is listed: a full run, fewer than 100 stacks), the known ones exact.
python3 - "$WORK/once.txt" <<'EOF' || fail "the --once frame's figures"
import re, sys
text = open(sys.argv[1]).read()
pool = re.search(r"^malloc +(\d+) +(\d+) +(\d+)", text, re.M)
assert pool, "no malloc pool line"
stacks = re.findall(r"^ +(\d+) +(\d+) +\S+ +malloc +(\S+)", text, re.M)
byfn = {fn: (int(b), int(n)) for b, n, fn in stacks}
assert byfn.get("hold_blocks") == (1000000, 100), byfn
assert byfn.get("keep_small") == (1000, 10), byfn
total = sum(int(b) for b, n, fn in stacks)
assert total == int(pool.group(1)), (total, pool.group(1))
first = stacks[0][2]
assert first == "hold_blocks", first
EOF
stop_prog live
[ -e "$(seg $P)" ] && fail "the segment outlived the process's exit"
echo "ok: TALLY_LIVE=1: mode 0600, the user's, one thread, exact figures, removed at exit"

# ---- fork: the child publishes its own, the parent's stays the parent's --------------------
mkdir -p "$WORK/fork"
env LD_PRELOAD="$SHIM" TALLY_OUTPUT="$WORK/fork/%p.prof" TALLY_REPORT=none TALLY_LIVE=1 \
    "$LIVE" 100 10000 "$WORK/fork" fork >/dev/null 2>&1 &
P=$!
wait_for "$WORK/fork/child" || fail "the forked child did not start"
C=$(cat "$WORK/fork/child")
wait_for "$(seg $C)" || fail "the forked child made no segment of its own"
sleep 1.2
"$TALLY" top --once "$P" >"$WORK/parent.txt" 2>&1 || fail "tally top --once on the parent: $(cat "$WORK/parent.txt")"
"$TALLY" top --once "$C" >"$WORK/child.txt" 2>&1 || fail "tally top --once on the child: $(cat "$WORK/child.txt")"
grep -q "hold_more" "$WORK/parent.txt" && fail "the parent's view shows the child's hold_more"
grep -qE "^ +1000000 +100 .*hold_more" "$WORK/child.txt" || fail "the child's view lacks its hold_more"
grep -qE "^ +1000000 +100 .*hold_blocks" "$WORK/child.txt" || fail "the child's view lacks the inherited hold_blocks"
[ "$(ls /proc/$C/task | wc -l)" -eq 1 ] || fail "the child has more than one thread"
touch "$WORK/fork/stop"
wait "$P"
n=0
while [ -e "$(seg $C)" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
[ -e "$(seg $P)" ] && fail "the parent's segment outlived it"
[ -e "$(seg $C)" ] && fail "the child's segment outlived it"
echo "ok: a forked child publishes its own segment; the parent's shows only the parent's books"

# ---- a killed process's segment, and bad segments ---------------------------------------
start killed TALLY_LIVE=1
wait_for "$(seg $P)" || fail "no segment"
kill -9 "$P"
wait "$P" 2>/dev/null
[ -e "$(seg $P)" ] || fail "SIGKILL left no segment (nothing to clean: the test proves nothing)"
top_err "no process $P" "$P"
[ -e "$(seg $P)" ] && fail "the reader left the stale segment of a dead process"
top_err "no process 2147483647" 2147483647
# Killed between the segment's creation and its sizing: empty, no header.
sh -c 'exit 0' &
D=$!
wait "$D"
: >"$(seg $D)"
chmod 600 "$(seg $D)"
top_err "no process $D" "$D"
[ -e "$(seg $D)" ] && fail "the reader left the empty stale segment of a dead process"
echo "ok: a killed process's stale segment, sized or not, is removed by the reader; no such process is said"

start bad
sleep 0.3
printf x >"$(seg $P)"
chmod 644 "$(seg $P)"
top_err "is not mode 0600" "$P"
rm -f "$(seg $P)"
ln -s /etc/passwd "$(seg $P)"
top_err "is a symbolic link" "$P"
rm -f "$(seg $P)"
if [ "$U" -eq 0 ]; then
    printf x >"$(seg $P)"
    chmod 600 "$(seg $P)"
    chown 65534 "$(seg $P)"
    top_err "is another user's" "$P"
    rm -f "$(seg $P)"
fi
stop_prog bad
echo "ok: a segment not mode 0600, a symlink in its place$([ "$U" -eq 0 ] && echo ", another user's") are refused"

if [ "$U" -eq 0 ] && command -v setpriv >/dev/null; then
    setpriv --reuid=65534 --regid=65534 --clear-groups sleep 5 &
    O=$!
    sleep 0.2
    top_err "is another user's" "$O"
    kill "$O"
    wait "$O" 2>/dev/null
    echo "ok: another user's process: said so"
fi
exit 0
