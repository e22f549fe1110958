#!/bin/sh
# A dump without the leak check sums its live blocks by (stack, pool)
# (lib/track/leak_list.c) instead of copying each one; TALLY_LEAK_ADDRESSES
# still copies them. The two must write the same leak groups. python3
# keeps 30000 dicts and leaves by os._exit, so some 150k blocks are live
# at the exit's dump; the run is deterministic (PYTHONHASHSEED, and the
# same environment but one digit), so the two runs' live blocks are the
# same, full and sampled.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

# The interpreter itself: a python3 on PATH may be a launcher script.
PY=$(python3 -c 'import sys; print(sys.executable)')
cat >"$WORK/keep.py" <<'PY'
import os
keep = [{"k": i, "s": str(i) * 3} for i in range(30000)]
os._exit(0)
PY

# groups PROFILE: the live blocks' total, then each group's bytes and count
# in order (the groups of a sampled run are random: their number only).
groups() {
    "$TALLY" report "$1" --leaks --format json --no-default-suppressions | python3 -c '
import json, sys
d = json.load(sys.stdin)["leaks"]
live = d["kinds"]["live"]
print("live", live["bytes"], live["count"], "blocks", len(d.get("blocks", [])))
if sys.argv[1] == "full":
    for g in sorted((g["bytes"], g["count"]) for g in d["groups"]):
        print(*g)' "$2"
}

for way in full sampled; do
    sample=0
    [ $way = sampled ] && sample=65536
    for addresses in 0 1; do
        run ${way}_$addresses env PYTHONHASHSEED=0 PYTHONMALLOC=malloc TALLY_SAMPLE=$sample \
            TALLY_LEAK_CHECK=off TALLY_LEAK_ADDRESSES=$addresses "$PY" "$WORK/keep.py" ||
            fail "$way: python3 exited $? ($(cat "$WORK/${way}_$addresses.err"))"
        groups "$(profile ${way}_$addresses)" $way >"$WORK/$way.$addresses" ||
            fail "$way: unreadable profile"
    done
    read -r _ bytes count _ blocks <"$WORK/$way.1"
    [ "$count" -gt 100000 ] || fail "$way: only $count blocks live at exit"
    [ "$blocks" = "$count" ] || fail "$way: $blocks addresses for $count blocks"
    # The grouped run lists no addresses; all else is the same.
    sed 's/ blocks [0-9]*$/ blocks/' "$WORK/$way.1" >"$WORK/$way.1.cut"
    sed 's/ blocks [0-9]*$/ blocks/' "$WORK/$way.0" >"$WORK/$way.0.cut"
    grep -q ' blocks 0$' "$WORK/$way.0" || fail "$way: addresses listed without TALLY_LEAK_ADDRESSES"
    cmp -s "$WORK/$way.0.cut" "$WORK/$way.1.cut" ||
        fail "$way: grouped and per-block dumps differ: $(diff "$WORK/$way.0.cut" "$WORK/$way.1.cut" | head -5)"
done
echo "ok: a dump's groups, summed or from each block"
