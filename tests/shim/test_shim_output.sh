#!/bin/sh
# TALLY_OUTPUT: nothing that is not a regular file is ever replaced (a
# symlink, a fifo, a device), a planted temporary symlink is not followed, a
# relative path is the start directory's for every process of the run, and
# %n numbers the profiles of an exec chain without replacing anything.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

HOST=$B/tests/progs/host_prog
D=$WORK/out
mkdir -p "$D"

# has_block FILE BYTES: the profile holds a live group of one BYTES-byte block.
has_block() {
    "$TALLY" report --format json --no-default-suppressions --leaks "$1" | python3 -c '
import json, sys
g = json.load(sys.stdin)["leaks"]["groups"]
sys.exit(0 if any(x["bytes"] == int(sys.argv[1]) and x["count"] == 1 for x in g) else 1)
' "$2"
}

# refused NAME PATH: the run went on, with one warning naming PATH.
refused() {
    n=$(grep -c "exists and is not a regular file" "$WORK/$1.err")
    [ "$n" -eq 1 ] || { cat "$WORK/$1.err"; fail "$1: $n warnings about $2, expected 1"; }
    grep -q "^tally: $2 exists and is not a regular file: no profile written there" "$WORK/$1.err" ||
        { cat "$WORK/$1.err"; fail "$1: the warning does not name $2"; }
}

# A symlink to a file: neither is touched.
echo precious >"$D/target"
ln -s target "$D/link.prof"
run symlink env TALLY_OUTPUT="$D/link.prof" "$HOST" interior || fail "symlink: exited $?"
[ -L "$D/link.prof" ] && [ "$(readlink "$D/link.prof")" = target ] || fail "the symlink was replaced"
[ "$(cat "$D/target")" = precious ] || fail "the symlink's target was written"
refused symlink "$D/link.prof"
echo "ok: a symlink as TALLY_OUTPUT is left as it was, and so is its target"

# A symlink to a device (/dev/null itself could be replaced when the test
# runs as root; the symlink is what a broken tally would replace).
ln -s /dev/null "$D/null.prof"
run devlink env TALLY_OUTPUT="$D/null.prof" "$HOST" interior || fail "devlink: exited $?"
[ -L "$D/null.prof" ] && [ -c /dev/null ] || fail "the symlink to /dev/null was replaced"
refused devlink "$D/null.prof"
echo "ok: a symlink to /dev/null is left as it was"

# A device node: made here when the test may (root).
if mknod "$D/null" c 1 3 2>/dev/null; then
    run device env TALLY_OUTPUT="$D/null" "$HOST" interior || fail "device: exited $?"
    [ -c "$D/null" ] || fail "the device node was replaced: $(ls -l "$D/null")"
    refused device "$D/null"
    echo "ok: a device node is left as it was"
else
    echo "skip: mknod not permitted: the device node case is not run"
fi

# A fifo: not replaced, and never opened (which would block).
mkfifo "$D/fifo"
run fifo timeout 60 env TALLY_OUTPUT="$D/fifo" "$HOST" interior || fail "fifo: exited $? (blocked?)"
[ -p "$D/fifo" ] || fail "the fifo was replaced"
refused fifo "$D/fifo"
echo "ok: a fifo is left as it was, and nothing blocked on it"

# A symlink planted under the temporary name (<path>.tmp.<pid>: the shell's
# pid is the program's after exec) is not followed.
echo victim >"$D/victim"
run planted sh -c 'ln -s "$1/victim" "$1/t.prof.tmp.$$" && exec env TALLY_OUTPUT="$1/t.prof" "$2" interior' \
    sh "$D" "$HOST" || fail "planted: exited $?"
[ "$(cat "$D/victim")" = victim ] || fail "the profile was written through a planted symlink"
[ -f "$D/t.prof" ] && [ ! -L "$D/t.prof" ] || fail "no profile at $D/t.prof: $(ls -l "$D")"
expect_leaks planted 32 1 "$D/t.prof"
[ -z "$(ls "$D" | grep '^t\.prof\.tmp')" ] || fail "a temporary file was left: $(ls "$D")"

# A relative TALLY_OUTPUT is the start directory's: a forked child that
# chdir()s writes there too.
mkdir -p "$WORK/rel" "$WORK/elsewhere"
(cd "$WORK/rel" && run rel env TALLY_OUTPUT=p.%p.prof "$HOST" chdir "$WORK/elsewhere") ||
    { rc=$?; cat "$WORK/rel.err"; fail "rel: exited $rc"; }
[ -z "$(ls "$WORK/elsewhere")" ] || fail "a profile went where the child chdir()ed: $(ls "$WORK/elsewhere")"
n=$(ls "$WORK/rel" | grep -c '^p\..*\.prof$')
[ "$n" -eq 2 ] || fail "rel: expected 2 profiles in the start directory, found $n: $(ls "$WORK/rel")"
got=$(for f in "$WORK/rel"/p.*.prof; do facts leaks "$f"; done | sort -n | tr '\n' ' ')
[ "$got" = "32 1 96 2 " ] || fail "rel: leaks per process: '$got'"
echo "ok: a relative TALLY_OUTPUT stays the start directory's after a chdir"

# %n: an exec chain of one program (one pid, one name) leaves one profile
# per image, numbered from 0; a dump and a later profile of the same image
# share its number.
mkdir -p "$D/n"
run chain env TALLY_OUTPUT="$D/n/%e.%p.%n.prof" "$HOST" exec 2 || { rc=$?; cat "$WORK/chain.err"; fail "chain: exited $rc"; }
pid=$(ls "$D/n" | sed -n 's/^host_prog\.\([0-9]*\)\.0\.prof$/\1/p')
[ -n "$pid" ] || fail "chain: no profile numbered 0: $(ls "$D/n")"
[ "$(ls "$D/n" | wc -l)" -eq 3 ] || fail "chain: expected 3 profiles, found: $(ls "$D/n")"
for i in 0 1 2; do
    [ -f "$D/n/host_prog.$pid.$i.prof" ] || fail "chain: no profile $i: $(ls "$D/n")"
done
# Images 0 and 1 wrote at their dump (the runtime's blocks are live then):
# each holds its own 10-byte block; image 2's exit profile its 20 bytes.
for i in 0 1; do
    has_block "$D/n/host_prog.$pid.$i.prof" 10 || fail "chain: profile $i lacks its 10-byte block"
done
[ "$(facts leaks "$D/n/host_prog.$pid.2.prof")" = "20 1" ] || fail "chain: profile 2 is not the last image's"
echo "ok: %n gives each image of an exec chain its own profile"

# %n never replaces what holds a number already: a file, a symlink.
mkdir -p "$D/m"
echo keep >"$D/m/x.0.prof"
ln -s ../target "$D/m/x.1.prof"
run taken env TALLY_OUTPUT="$D/m/x.%n.prof" "$HOST" exec 1 || { rc=$?; cat "$WORK/taken.err"; fail "taken: exited $rc"; }
[ "$(cat "$D/m/x.0.prof")" = keep ] || fail "%n replaced x.0.prof"
[ -L "$D/m/x.1.prof" ] && [ "$(cat "$D/target")" = precious ] || fail "%n replaced the symlink x.1.prof"
has_block "$D/m/x.2.prof" 10 || fail "taken: x.2.prof is not the first image's: $(ls "$D/m")"
[ "$(facts leaks "$D/m/x.3.prof")" = "20 1" ] || fail "taken: x.3.prof is not the second image's"
[ "$(ls "$D/m" | wc -l)" -eq 4 ] || fail "taken: stray files: $(ls "$D/m")"
echo "ok: %n skips the numbers in use and replaces nothing"

# A write that fails midway (the file size limit, as a full disk would):
# one warning, no temporary file left, the program's exit status kept. The
# limit applies to every regular file the process writes, so its stderr
# goes through a pipe.
mkdir -p "$D/full"
(
    sh -c 'trap "" XFSZ; ulimit -f 1 && exec env LD_PRELOAD="$1" TALLY_OUTPUT="$2/p.prof" "$3" interior' \
        sh "$SHIM" "$D/full" "$HOST" 2>&1 >/dev/null
    echo "exit status $?"
) | cat >"$WORK/full.err"
grep -q '^exit status 0$' "$WORK/full.err" || { cat "$WORK/full.err"; fail "full: the exit status changed"; }
[ "$(grep -c '^tally: cannot write the profile .*: File too large$' "$WORK/full.err")" -eq 1 ] ||
    { cat "$WORK/full.err"; fail "full: one warning expected"; }
[ -z "$(ls "$D/full")" ] || fail "full: left behind: $(ls "$D/full")"
echo "ok: a failed write: one warning, nothing left behind"
