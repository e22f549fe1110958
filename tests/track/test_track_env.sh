#!/bin/sh
# TALLY_TRACK=1: a program that links libtally tracks from its first
# allocation and, at exit, writes its profile and prints the summary.
B=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
PROG="$B/tests/progs/prog_leaks"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
fail() {
    echo "FAIL: $*"
    cat "$W/err" 2>/dev/null
    exit 1
}

# The leak check runs at exit: kept[] is a global, so both blocks are still
# reachable; TALLY_REPORT=full lists them, named.
TALLY_TRACK=1 TALLY_REPORT=full "$PROG" >out 2>err || fail "prog_leaks exited $?"
grep -Eq '^tally: definitely lost: 0 bytes in 0 blocks; indirectly lost: 0 bytes in 0 blocks; possibly lost: 0 bytes in 0 blocks; still reachable: 128 bytes in 2 blocks; peak [0-9.]+ (bytes|KiB); profile /[^ ]*/tally\.[^ /]*prog_leaks\.[0-9]+\.prof$' err ||
    fail "summary line"
# The default name is relative: resolved against the start directory, so
# the summary names the profile with its absolute path.
grep -q "; profile $W/tally\." err || grep -q "; profile $(cd "$W" && pwd -P)/tally\." err ||
    fail "the summary does not name the profile in the start directory"
grep -q '^  pool p1: still reachable 128 bytes in 2 blocks$' err || fail "classes per pool"
grep -q '^100 bytes in 1 block still reachable in pool p1, allocated at:$' err || fail "leak_a's group"
grep -q '^28 bytes in 1 block still reachable in pool p1, allocated at:$' err || fail "leak_b's group"
grep -Eq '^    #0 0x[0-9a-f]+ in leak_a /.*/tests/progs/prog_leaks\.c:[0-9]+$' err || fail "leak_a by name and line"
grep -Eq '^    #0 0x[0-9a-f]+ in leak_b /.*/tests/progs/prog_leaks\.c:[0-9]+$' err || fail "leak_b by name and line"
grep -Eq '^    #1 0x[0-9a-f]+ in main /.*/tests/progs/prog_leaks\.c:[0-9]+$' err || fail "main by name and line"
ls tally.*prog_leaks.*.prof >/dev/null 2>&1 || fail "no profile under the default name"
rm -f tally.*.prof

# The default report: still reachable blocks are a total only.
TALLY_TRACK=1 "$PROG" >out 2>err || fail "prog_leaks exited $?"
grep -q '^tally: still reachable blocks are not listed (TALLY_REPORT=full lists them)$' err ||
    fail "reachable not listed by default"
grep -q 'allocated at:$' err && fail "a reachable block listed by default"
rm -f tally.*.prof

# Without the leak check nothing is called lost: live at exit, listed.
TALLY_TRACK=1 TALLY_LEAK_CHECK=off "$PROG" >out 2>err || fail "prog_leaks exited $?"
grep -Eq '^tally: 128 bytes live at exit in 2 allocations; peak [0-9.]+ (bytes|KiB); profile /[^ ]*/tally\.[^ /]*prog_leaks\.[0-9]+\.prof$' err ||
    fail "unclassified summary line"
grep -q '^  pool p1: 128 bytes in 2 allocations$' err || fail "live blocks per pool"
grep -q '^100 bytes in 1 allocation in pool p1, allocated at:$' err || fail "leak_a's live group"
grep -Eq '^    #0 0x[0-9a-f]+ in leak_a /.*/tests/progs/prog_leaks\.c:[0-9]+$' err || fail "leak_a named, unclassified"
ls tally.*prog_leaks.*.prof >/dev/null 2>&1 || fail "no profile under the default name"
ls ./*.tmp.* >/dev/null 2>&1 && fail "a temporary file was left behind"

TALLY_TRACK=1 TALLY_REPORT=none TALLY_OUTPUT="$W/x.%p.%e.prof" "$PROG" >out 2>err ||
    fail "TALLY_REPORT=none run"
[ -s err ] && fail "TALLY_REPORT=none printed something"
ls "$W"/x.[0-9]*.*prog_leaks.prof >/dev/null 2>&1 || fail "TALLY_OUTPUT with %p and %e"

# An unwritable profile: one warning, and the program's own exit status.
TALLY_TRACK=1 TALLY_OUTPUT=/nonexistent-dir/x.prof "$PROG" >out 2>err || fail "exit status changed"
[ "$(grep -c 'cannot write the profile' err)" = 1 ] || fail "not exactly one warning"
grep -q '^done$' out || fail "the program's output"

# Not tracked without TALLY_TRACK: no profile, no summary.
rm -f tally.*.prof
"$PROG" >out 2>err || fail "untracked run"
[ -s err ] && fail "untracked run printed on stderr"
ls tally.*.prof >/dev/null 2>&1 && fail "untracked run wrote a profile"
echo "ok: TALLY_TRACK=1"
exit 0
