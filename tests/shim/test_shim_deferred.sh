#!/bin/sh
# A block freed by a signal handler while its thread was inside the shim
# waits in the thread's deferred slots (shim/reentry.c), which are in TLS,
# a root of the leak check. Once it is freed it must leave no trace there:
# a block made later at its address and dropped is definitely lost, not
# reachable through a stale slot. shim_prog deferred holds its thread
# inside the shim with the write of an error report to a full pipe, which
# this script reads only once the program's signal handler has run (it
# creates a file then; a minute at most).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

# definite PROFILE: "<bytes> <blocks>" definitely lost.
definite() {
    "$TALLY" report "$1" --leaks --format json --no-default-suppressions | python3 -c '
import json, sys
d = json.load(sys.stdin)["leaks"]["kinds"]["definite"]
print(d["bytes"], d["count"])'
}

for backend in mimalloc system; do
    name=deferred_$backend
    mkdir -p "$WORK/$name"
    {
        env LD_PRELOAD="$SHIM" TALLY_BACKEND=$backend TALLY_OUTPUT="$WORK/$name/%p.prof" \
            "$PROG" deferred "$WORK/$name.handled" 2>&1 >/dev/null
        echo $? >"$WORK/$name.rc"
    } | {
        i=0
        while [ ! -e "$WORK/$name.handled" ] && [ $i -lt 600 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        cat >/dev/null
    }
    rc=$(cat "$WORK/$name.rc")
    [ "$rc" = 0 ] || fail "$name: shim_prog deferred exited $rc" \
        "(4: the handler did not free inside the report's write, or no block came back at the freed address)"
    got=$(definite "$(profile "$name")") || fail "$name: unreadable profile"
    [ "$got" = "40 1" ] ||
        fail "$name: definitely lost: $got (bytes blocks), expected 40 1: a stale deferred slot?"
    echo "ok: $name: the block made at the deferred free's address is definitely lost"
done
