# shim_common.sh: sourced by tests/test_shim_*.sh.
#
# Runs programs under LD_PRELOAD of the shim from the build tree, with each
# process's profile in its own file, and reads the figures back from the
# profiles (tests/shim_profile.py follows docs/FORMAT.md).
set -u

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: a malloc interposer cannot be preloaded under ASan"
    exit 77
fi
B=${abs_top_builddir:-$(pwd)}
S=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
SHIM=$B/.libs/libtally-preload.so
PROG=$B/tests/shim_prog
[ -f "$SHIM" ] || { echo "FAIL: $SHIM not built"; exit 99; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read profiles"; exit 77; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-shim.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*"
    exit 1
}

# run NAME CMD...: runs CMD under the shim, profiles in $WORK/NAME/, stderr
# in $WORK/NAME.err, stdout in $WORK/NAME.out. Returns CMD's status.
run() {
    name=$1
    shift
    mkdir -p "$WORK/$name"
    env LD_PRELOAD="${TALLY_TEST_PRELOAD:-$SHIM}" TALLY_OUTPUT="$WORK/$name/%p.prof" TALLY_REPORT=summary "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
}

# The only profile written by run NAME.
profile() {
    n=$(ls "$WORK/$1"/*.prof 2>/dev/null | wc -l)
    [ "$n" -eq 1 ] || fail "$1: expected 1 profile, found $n"
    ls "$WORK/$1"/*.prof
}

# expect_leaks NAME BYTES COUNT [FILE]
expect_leaks() {
    f=${4:-$(profile "$1")}
    got=$(python3 "$S/tests/shim_profile.py" leaks "$f") || fail "$1: unreadable profile $f"
    [ "$got" = "$2 $3" ] || {
        cat "$WORK/$1.err"
        fail "$1: leaks: got '$got' (bytes count), expected '$2 $3'"
    }
    echo "ok: $1: $2 bytes leaked in $3 allocations"
}

# expect_summary NAME BYTES COUNT: the exit summary on stderr agrees.
expect_summary() {
    grep -q "tally: $2 bytes leaked in $3 allocation" "$WORK/$1.err" || {
        cat "$WORK/$1.err"
        fail "$1: the exit summary does not say $2 bytes in $3"
    }
}
