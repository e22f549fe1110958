#!/bin/sh
# A dump near a memory limit: the exit profile still goes out, with the
# books whole. host_prog lowmem keeps 200000 blocks (and their array) and
# caps its address space a little above what it maps, then exits.
#   - With 1 MiB to spare there is no room for a copy of every block (32
#     bytes each): the leak check is skipped, said once, and the blocks are
#     summed per stack.
#   - With 11 MiB, the copy fits but the leak check's index does not: the
#     blocks are listed unclassified, said once.
# Either way the program exits 0, and the profile counts every live block
# and byte. Before, the first case wrote no profile at all.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

HOST=$B/tests/progs/host_prog
LIVE="11200000 200001" # 200000 x 48 bytes, and the 1.6 MB array

# classified FILE: "true" or "false", the profile's leak check.
classified() {
    "$TALLY" report --format json --leaks "$1" |
        python3 -c 'import json, sys; print(str(json.load(sys.stdin)["leaks"]["classified"]).lower())'
}

check() { # check NAME KB MESSAGE
    run "$1" "$HOST" lowmem "$2" || { rc=$?; cat "$WORK/$1.out" "$WORK/$1.err"; fail "$1: exited $rc"; }
    [ "$(grep -c "^tally: $3" "$WORK/$1.err")" -eq 1 ] ||
        { cat "$WORK/$1.err"; fail "$1: expected one line 'tally: $3'"; }
    grep -q "cannot write the profile" "$WORK/$1.err" && { cat "$WORK/$1.err"; fail "$1: no profile"; }
    p=$(profile "$1")
    [ "$(facts leaks "$p")" = "$LIVE" ] || fail "$1: live at exit $(facts leaks "$p"), expected $LIVE"
    [ "$(classified "$p")" = false ] || fail "$1: the profile says its leaks are classified"
}

check no_list 1024 "no memory for a list of every live block"
echo "ok: no room for a list of the blocks: a profile with them summed per stack"
check no_index 11264 "no memory for the leak check"
echo "ok: no room for the leak check: a profile with the blocks unclassified"

# With room, the same program is checked as usual: the limits above are
# what made the difference.
run roomy "$HOST" lowmem 262144 || fail "roomy: exited $?"
p=$(profile roomy)
[ "$(facts leaks "$p")" = "$LIVE" ] && [ "$(classified "$p")" = true ] ||
    fail "roomy: $(facts leaks "$p"), classified $(classified "$p")"
grep -q "no memory" "$WORK/roomy.err" && { cat "$WORK/roomy.err"; fail "roomy: short of memory"; }
echo "ok: with 256 MiB to spare, the leak check runs"
