#!/bin/sh
# tally attach and tally detach (issue 14) on programs started plain: a C
# program, a C++ one and python3 allocate before the attach (the C and C++
# ones free those blocks after it: no error may be reported), leak known
# sizes after it, and the detach profile holds exactly those bytes, at
# their functions; the program goes on after the detach and exits with its
# own status, and what it allocates after the detach is not booked. Then
# --duration, the exit profile of a process that exits while attached,
# the messages for a process that does not exist, one that is traced
# already and one of another user (ptrace's EPERM: exit 2), and a second
# attach.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"
need_shim
[ -f "$B/.libs/libtally-attach.so" ] || { echo "SKIP: libtally-attach.so is not built"; exit 77; }
AP=$B/tests/progs/attach_prog
APX=$B/tests/progs/attach_prog_cxx

# start NAME PROGRAM [ARGS]: runs it with its stdin on a fifo (fd 3 here)
# and its stdout in $WORK/NAME.out; PID is its pid.
start() {
    name=$1
    shift
    rm -f "$WORK/$name.in"
    mkfifo "$WORK/$name.in"
    "$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PID=$!
    exec 3>"$WORK/$name.in"
    wait_lines "$name" ready 1
}

# wait_lines NAME TEXT N: until NAME's output has N lines TEXT (10 s at most).
wait_lines() {
    i=0
    while [ "$(grep -cx "$2" "$WORK/$1.out")" -lt "$3" ]; do
        i=$((i + 1))
        [ $i -lt 200 ] || {
            cat "$WORK/$1.out" "$WORK/$1.err"
            fail "$1: no '$2' ($3) in 10 s"
        }
        sleep 0.05
    done
}

# finish NAME STATUS: says exit, checks its exit status and that it said
# nothing on stderr (no allocator error, no message of tally's).
finish() {
    echo exit >&3
    exec 3>&-
    wait "$PID"
    st=$?
    [ "$st" = "$2" ] || fail "$1 exited with $st after the detach, not $2"
    [ -s "$WORK/$1.err" ] && {
        cat "$WORK/$1.err"
        fail "$1 said something on stderr"
    }
    return 0
}

# groups PROFILE: its leak groups as "KIND BYTES COUNT FUNCTION,FUNCTION,...",
# each live block of the detach whatever its class, and the meta's reason.
groups() {
    "$TALLY" report "$1" --format json >"$1.json" || fail "report --format json $1"
    python3 - "$1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("reason", r["meta"]["reason"])
for g in r["leaks"]["groups"]:
    names = []
    for a in r["stacks"][str(g["stack"])]:
        names += [f["function"] or "?" for f in r["locations"].get(a, [])]
    print(g["kind"], g["bytes"], g["count"], ",".join(names))
PY
}

# sum FILE PATTERN: the bytes and blocks of the groups whose line matches.
sum() {
    grep -E -- "$2" "$1" | awk '{b += $2; n += $3} END {print b + 0, n + 0}'
}

# ---- a C program: malloc, calloc, realloc; blocks of before freed after
start c "$AP"
"$TALLY" attach -o "$WORK/c.prof" "$PID" >"$WORK/attach.txt" || fail "tally attach to the C program"
expect_in "$WORK/attach.txt" "tally: attached to process $PID" "$WORK/c.prof"
echo go >&3
wait_lines c done 1
"$TALLY" detach "$PID" >"$WORK/detach.txt" || fail "tally detach of the C program"
expect_in "$WORK/detach.txt" "tally: detached from process $PID; profile written to $WORK/c.prof"
echo again >&3 # the same leaks again, after the detach: not in the profile
wait_lines c done 2
finish c 3
groups "$WORK/c.prof" >"$WORK/c.groups"
expect_in "$WORK/c.groups" "reason 6"
# every block of the leak functions, whichever class the leak check gave it
[ "$(sum "$WORK/c.groups" ' leak_malloc,')" = "3000 3" ] || { cat "$WORK/c.groups"; fail "C: leak_malloc's 3 x 1000 bytes"; }
[ "$(sum "$WORK/c.groups" ' leak_calloc,')" = "770 1" ] || { cat "$WORK/c.groups"; fail "C: leak_calloc's 770 bytes"; }
[ "$(sum "$WORK/c.groups" ' leak_realloc,')" = "5000 1" ] || { cat "$WORK/c.groups"; fail "C: leak_realloc's 5000 bytes"; }
[ "$(sum "$WORK/c.groups" '^[a-z]+ [0-9]+ [0-9]+ ')" = "13770 10" ] || { cat "$WORK/c.groups"; fail "C: 13770 bytes in 10 blocks live at the detach, nothing else"; }
# a chain hung on a block of before the attach: reachable through it,
# though the books do not know that block (its heap page is scanned)
[ "$(sum "$WORK/c.groups" '^reachable .* grow_chain,')" = "5000 5" ] || { cat "$WORK/c.groups"; fail "C: grow_chain's 5 x 1000 bytes not still reachable"; }
grep -q "^definite .* leak_calloc," "$WORK/c.groups" || { cat "$WORK/c.groups"; fail "C: leak_calloc's block not definitely lost"; }
"$TALLY" report "$WORK/c.prof" >"$WORK/c.txt" || fail "report of the detach profile"
expect_in "$WORK/c.txt" "written at detach after" "leak_realloc"
ok "a C program attached, its post-attach blocks exact to the byte (13770 in 10), a chain hung on a block of before still reachable, the blocks of before freed silently, exit status kept after the detach"

# ---- a C++ program: new, new[], delete of libstdc++'s blocks of before
start cxx "$APX"
"$TALLY" attach -o "$WORK/cxx.prof" "$PID" >/dev/null || fail "tally attach to the C++ program"
echo go >&3
wait_lines cxx done 1
"$TALLY" detach "$PID" >/dev/null || fail "tally detach of the C++ program"
finish cxx 4
groups "$WORK/cxx.prof" >"$WORK/cxx.groups"
[ "$(sum "$WORK/cxx.groups" ' leak_array\(\),')" = "1500 1" ] || { cat "$WORK/cxx.groups"; fail "C++: new char[1500]"; }
[ "$(sum "$WORK/cxx.groups" ' leak_nodes\(\),')" = "120 3" ] || { cat "$WORK/cxx.groups"; fail "C++: 3 x new Node (40)"; }
# the string object (32) and its buffer (101), made inside libstdc++
[ "$(sum "$WORK/cxx.groups" 'leak_string\(\)')" = "133 2" ] || { cat "$WORK/cxx.groups"; fail "C++: new std::string(100)"; }
[ "$(sum "$WORK/cxx.groups" '^[a-z]+ [0-9]+ [0-9]+ ')" = "1753 6" ] || { cat "$WORK/cxx.groups"; fail "C++: 1753 bytes in 6 blocks, nothing else"; }
"$TALLY" report "$WORK/cxx.prof" >"$WORK/cxx.txt" || fail "report of the C++ profile"
ok "a C++ program attached: new, new[] and a string's buffer exact (1753 bytes in 6 blocks), deletes of blocks of before silent"

# ---- python3, started plain (pymalloc on): 3 bytearrays of 1234567 bytes
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
if [ -n "$PY" ] && [ -x "$PY" ]; then
    cat >"$WORK/prog.py" <<'EOF'
import sys
keep = []
print("ready", flush=True)
for line in sys.stdin:
    if line.startswith("go"):
        for i in range(3):
            keep.append(bytearray(1234567))
    elif line.startswith("exit"):
        sys.exit(5)
    print("done", flush=True)
EOF
    start py "$PY" "$WORK/prog.py"
    "$TALLY" attach -o "$WORK/py.prof" "$PID" >/dev/null || fail "tally attach to python3"
    echo go >&3
    wait_lines py done 1
    "$TALLY" detach "$PID" >/dev/null || fail "tally detach of python3"
    echo go >&3
    wait_lines py done 2
    finish py 5
    groups "$WORK/py.prof" >"$WORK/py.groups"
    # bytearray(n) holds n + 1 bytes: 3 x 1234568, made by PyByteArray_Resize
    # (an exported name: there in a stripped python3 too)
    [ "$(sum "$WORK/py.groups" 'PyByteArray_Resize')" = "3703704 3" ] || { cat "$WORK/py.groups"; fail "python3: 3 bytearrays of 1234568 bytes"; }
    ok "python3 attached: its 3 bytearrays live at the detach, 3703704 bytes exactly, from PyByteArray_Resize"
else
    echo "SKIP: no python3 for its part"
fi

# ---- --duration: attach, wait, detach; and an exit while attached
start dur "$AP"
"$TALLY" attach --duration 0.5 -o "$WORK/dur.prof" "$PID" >"$WORK/dur.txt" &
APID=$!
sleep 0.2
echo go >&3
wait "$APID" || fail "tally attach --duration"
expect_in "$WORK/dur.txt" "tally: detached from process $PID"
finish dur 3
groups "$WORK/dur.prof" >"$WORK/dur.groups"
[ "$(sum "$WORK/dur.groups" '^[a-z]+ [0-9]+ [0-9]+ ')" = "13770 10" ] || { cat "$WORK/dur.groups"; fail "--duration: the leaks made while attached"; }
start ex "$AP"
"$TALLY" attach -o "$WORK/ex.prof" "$PID" >/dev/null || fail "tally attach (exit)"
echo go >&3
wait_lines ex done 1
finish ex 3
groups "$WORK/ex.prof" >"$WORK/ex.groups"
expect_in "$WORK/ex.groups" "reason 0"
[ "$(sum "$WORK/ex.groups" ' leak_calloc,')" = "770 1" ] || { cat "$WORK/ex.groups"; fail "the exit profile of an attached process"; }
ok "--duration detaches by itself; a process that exits while attached writes the profile at exit"

# ---- errors: no such process, already attached, detach when not attached
"$TALLY" attach 2147483 >"$WORK/o" 2>"$WORK/e" && fail "attach to a process that does not exist"
[ $? = 2 ] || fail "attach to no process: exit 2"
expect_in "$WORK/e" "tally attach: no process 2147483"
"$TALLY" attach nonsense 2>"$WORK/e" && fail "attach to 'nonsense'"
expect_in "$WORK/e" "'nonsense' is not a process id"
start twice "$AP"
"$TALLY" detach "$PID" 2>"$WORK/e" && fail "detach of a process never attached"
expect_in "$WORK/e" "process $PID is not attached"
"$TALLY" attach -o "$WORK/twice.prof" "$PID" >/dev/null || fail "attach (twice)"
"$TALLY" attach -o "$WORK/twice2.prof" "$PID" 2>"$WORK/e" && fail "a second attach"
expect_in "$WORK/e" "attached to already"
"$TALLY" detach "$PID" >/dev/null || fail "detach (twice)"
"$TALLY" detach "$PID" 2>"$WORK/e" && fail "a second detach"
expect_in "$WORK/e" "not attached"
finish twice 3
ok "no process: exit 2; a second attach and a second detach are refused, the program unharmed"

# ---- a process with tally's shim preloaded already: refused, untouched
start pre env LD_PRELOAD="$B/.libs/libtally-preload.so" TALLY_OUTPUT="$WORK/pre.prof" TALLY_REPORT=none "$AP"
"$TALLY" attach "$PID" >"$WORK/o" 2>"$WORK/e" && fail "attach to a process under the preload shim"
expect_in "$WORK/e" "process $PID has tally's libraries loaded already"
echo go >&3
wait_lines pre done 1
finish pre 3
[ -s "$WORK/pre.prof" ] || fail "the preloaded process's own profile"
ok "a process under the preload shim: attach refused, its own tracking untouched"

# ---- ptrace not permitted: a process traced already, and another user's
start traced "$AP" traced
TPID=$PID
i=0
until grep -qxE '[0-9]+' "$WORK/traced.out" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
CHILD=$(grep -xE '[0-9]+' "$WORK/traced.out")
"$TALLY" attach "$CHILD" >"$WORK/o" 2>"$WORK/e"
st=$?
kill -9 "$CHILD"
exec 3>&-
wait "$TPID"
[ "$st" = 2 ] || { cat "$WORK/e"; fail "attach to a traced process: exit $st, not 2"; }
[ "$(wc -l <"$WORK/e")" = 1 ] || { cat "$WORK/e"; fail "one line of message"; }
expect_in "$WORK/e" "tally attach: not permitted to trace process $CHILD" "it is traced already, by process $TPID"
ok "a process traced already: one line that says by whom, exit 2"
# The other user must reach tally's build tree (a clone in a mode-0700
# directory, as mktemp -d makes, is out of its reach: tally attach then
# fails earlier, at finding libtally-attach.so, and the case is skipped).
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && as_nobody "$TALLY" --version >/dev/null 2>&1 &&
    as_nobody test -r "$B/.libs/libtally-attach.so"; then
    start other "$AP"
    as_nobody "$TALLY" attach "$PID" >"$WORK/o" 2>"$WORK/e"
    st=$?
    [ "$st" = 2 ] || { cat "$WORK/e"; fail "attach to another user's process: exit $st, not 2"; }
    expect_in "$WORK/e" "not permitted to trace process $PID" "it belongs to user 0 and you are user 65534"
    echo go >&3
    wait_lines other done 1
    finish other 3
    ok "another user's process: one line that says whose it is, exit 2, the program untouched"
else
    echo "SKIP: another user's process (not root, no setpriv, or tally not reachable as nobody)"
fi
