#!/bin/sh
# TALLY_MMAP: the program's anonymous private mappings in the pool "mmap",
# page-exact through partial unmaps, mremap and MAP_FIXED; at the peak and
# in the leak check with their stacks; off by default; glibc's answers kept.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

MPROG=$B/tests/progs/mmap_prog
[ -x "$MPROG" ] || fail "$MPROG not built"

# mmap_pool NAME: "current total_count live_count" of the pool mmap, or
# "none" when the profile has no such pool.
mmap_pool() {
    facts pools "$(profile "$1")" | awk '$1 == "mmap" { print $2, $3, $4; found = 1 } END { if (!found) print "none" }'
}

# scenario NAME "CURRENT TOTAL LIVE" [ENV...]: mmap_prog NAME under
# TALLY_MMAP=1 leaves the pool mmap with these figures.
scenario() {
    name=$1 want=$2
    shift 2
    run "$name" env TALLY_MMAP=1 "$@" "$MPROG" "$name" || { rc=$?; cat "$WORK/$name.err"; fail "$name exited $rc"; }
    got=$(mmap_pool "$name")
    [ "$got" = "$want" ] || fail "$name: pool mmap (current total live): got '$got', expected '$want'"
    echo "ok: $name: pool mmap $want"
}

P=4096
# 10 pages, 3 unmapped at the head, at the tail, in the middle (two left).
scenario head "$((7 * P)) 1 1"
scenario tail "$((7 * P)) 1 1"
scenario hole "$((7 * P)) 1 2"
# mremap is booked as realloc: the old pages freed, the new ones allocated.
scenario grow "$((8 * P)) 2 1"
scenario move "$((8 * P)) 2 1"
# MREMAP_FIXED onto a tracked 6-page mapping: its first 4 pages released.
scenario fixed "$((6 * P)) 3 2"
# MREMAP_DONTUNMAP: the old range stays mapped beside the new one.
if "$MPROG" dontunmap; then
    scenario dontunmap "$((8 * P)) 2 2"
else
    echo "skip: this kernel has no MREMAP_DONTUNMAP"
fi
# MAP_FIXED over a tracked 8-page mapping: 3 pages by a private mapping
# (tracked), 1 by a shared one (not): 7 pages in 4 mappings.
scenario overmap "$((7 * P)) 2 4"
# One munmap over three mappings and the untracked space between them.
scenario span "$((4 * P)) 3 2"
# Four threads at once: each 1000 mappings cut in pieces and moved (the
# 1000 mappings and 1000 mremaps of each are booked), its last one kept.
scenario threads "$((4 * 3 * P)) 8000 4"
# fork: the child goes on from the parent's mappings, in its own profile.
run fork env TALLY_MMAP=1 "$MPROG" fork || { rc=$?; cat "$WORK/fork.err"; fail "fork exited $rc"; }
n=$(ls "$WORK/fork"/*.prof | wc -l)
[ "$n" -eq 2 ] || fail "fork: $n profiles, expected 2"
got=$(for f in "$WORK/fork"/*.prof; do facts pools "$f" | awk '$1 == "mmap" { print $2, $3, $4 }'; done | sort | tr '\n' ';')
[ "$got" = "$((4 * P)) 1 1;$((5 * P)) 2 2;" ] || fail "fork: pool mmap of parent and child: '$got'"
echo "ok: fork: the child's mappings go on from the parent's"
# A sampled run books every mapping all the same.
run sampled env TALLY_MMAP=1 TALLY_SAMPLE=64k "$MPROG" hole || fail "sampled hole exited $?"
[ "$(mmap_pool sampled)" = "$((7 * P)) 1 2" ] || fail "sampled: pool mmap '$(mmap_pool sampled)'"
echo "ok: a sampled run books mappings page-exact"

# Off by default: no pool mmap at all.
run off "$MPROG" hole || fail "hole without TALLY_MMAP exited $?"
[ "$(mmap_pool off)" = none ] || fail "without TALLY_MMAP: a pool mmap: $(mmap_pool off)"
echo "ok: without TALLY_MMAP there is no pool mmap"

# The allocator's own mappings are not the program's: mimalloc maps
# through the PLT (the shim tells its calls by their return address),
# glibc's malloc with internal calls.
for backend in mimalloc system; do
    run "alloc_$backend" env TALLY_MMAP=1 TALLY_BACKEND=$backend "$MPROG" allocator ||
        fail "allocator ($backend) exited $?"
    [ "$(mmap_pool "alloc_$backend")" = none ] ||
        fail "allocator ($backend): the allocator's mappings booked: $(mmap_pool "alloc_$backend")"
done
echo "ok: the allocator's own mappings are left out"

# 100 MiB mapped and touched in map_big, then unmapped: at the peak, with
# its stack, and not live at exit.
scenario big "0 1 0"
"$TALLY" report --format folded --cost peak "$(profile big)" >"$WORK/big.folded" || fail "big: no folded report"
grep "^pool:mmap;.*;map_big[; ]" "$WORK/big.folded" | grep -q " 104857600$" ||
    { cat "$WORK/big.folded"; fail "big: the peak does not hold map_big's 100 MiB in pool mmap"; }
echo "ok: 100 MiB mapped by map_big are at the peak with their stack"

# The leak check: a lost mapping is definitely lost, and the block only it
# points to indirectly (the mapping is read as a block); kept in a global,
# both are still reachable.
scenario leak "20480 1 1"
grep -q "pool mmap: definitely lost 20480 bytes in 1 block" "$WORK/leak.err" ||
    { cat "$WORK/leak.err"; fail "leak: the mapping is not definitely lost"; }
grep -q "pool malloc: indirectly lost 100 bytes in 1 block" "$WORK/leak.err" ||
    { cat "$WORK/leak.err"; fail "leak: the block in the mapping is not indirectly lost"; }
grep -q "leak_map" "$WORK/leak.err" || { cat "$WORK/leak.err"; fail "leak: no leak_map in the stack"; }
scenario keep "20480 1 1"
grep -q "pool mmap: still reachable 20480 bytes in 1 block" "$WORK/keep.err" ||
    { cat "$WORK/keep.err"; fail "keep: the mapping is not still reachable"; }
grep -q "pool malloc: still reachable 100 bytes in 1 block" "$WORK/keep.err" ||
    { cat "$WORK/keep.err"; fail "keep: the block in the mapping is not still reachable"; }
echo "ok: mappings in the leak check, read as blocks"

# The leak check reads only a mapping's resident pages (the program checks
# with mincore that its 64 MiB mapping still has one page in memory).
mkdir -p "$WORK/untouched"
env LD_PRELOAD="$SHIM" TALLY_MMAP=1 TALLY_DUMP_SIGNAL=USR1 TALLY_LEAK_CHECK=all TALLY_REPORT=none \
    TALLY_OUTPUT="$WORK/untouched/%n.prof" "$MPROG" untouched 2>"$WORK/untouched.err" ||
    { rc=$?; cat "$WORK/untouched.err"; fail "untouched exited $rc"; }
echo "ok: the leak check does not fault in a mapping's untouched pages"

# mallinfo2 answers for the heap alone (the shim's books under mimalloc).
scenario mallinfo "0 1 0"

# glibc's results: EINVAL, EBADF, EFAULT, MAP_FAILED, errno kept on success
# (the program checks them), with and without tracking.
"$MPROG" errors || fail "errors: glibc itself does not answer as expected"
scenario errors "0 2 0"
run errors_off "$MPROG" errors || fail "errors without TALLY_MMAP exited $?"
echo "ok: glibc's results and errno, tracked or not"

# python3 with pymalloc (the default): its arenas in the pool mmap, from
# _PyObject_Malloc.
PY=$(python3 -c 'import sys; print(sys.executable)')
run py env TALLY_MMAP=1 "$PY" -c 'x = [str(i) for i in range(200000)]' || fail "python3 exited $?"
set -- $(mmap_pool py)
[ "$1" != none ] && [ "$2" -ge 1 ] || fail "python3: no arena in the pool mmap ($*)"
"$TALLY" report --format folded --cost allocated "$(profile py)" >"$WORK/py.folded" || fail "python3: no folded report"
if grep '^pool:mmap;' "$WORK/py.folded" | grep -q '_PyObject_Malloc'; then
    echo "ok: python3's pymalloc arenas are in the pool mmap, from _PyObject_Malloc"
elif grep '^pool:malloc;' "$WORK/py.folded" | grep -q '_PyObject_Malloc'; then
    grep '^pool:mmap;' "$WORK/py.folded"
    fail "python3: no stack of the pool mmap goes through _PyObject_Malloc"
else
    echo "ok: python3's pymalloc arenas are in the pool mmap (its functions have no names here)"
fi
