# shim_common.sh: sourced by tests/test_shim_*.sh.
#
# Runs programs under LD_PRELOAD of the shim from the build tree, with each
# process's profile in its own file, and reads the figures back from the
# profiles with `tally report --format json`.
set -u

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: a malloc interposer cannot be preloaded under ASan"
    exit 77
fi
B=${abs_top_builddir:-$(pwd)}
S=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
SHIM=$B/.libs/libtally-preload.so
PROG=$B/tests/progs/shim_prog
TALLY=$B/tools/tally
[ -f "$SHIM" ] || { echo "FAIL: $SHIM not built"; exit 99; }
[ -x "$TALLY" ] || { echo "FAIL: $TALLY not built"; exit 99; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read tally's JSON"; exit 77; }

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

# facts leaks|pools FILE: figures of a profile, from its JSON report:
#   leaks -> "<bytes> <blocks>" live at exit, every leak check class (no suppressions)
#   pools -> "<name> <current> <total_count> <live_count>", a line per pool
facts() {
    "$TALLY" report --format json --no-default-suppressions "--$1" "$2" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if sys.argv[1] == "leaks":
    k = r["leaks"]["kinds"].values()
    print(sum(c["bytes"] for c in k), sum(c["count"] for c in k))
else:
    for p in r["pools"]:
        print(p["name"], p["current"], p["total_count"], p["live_count"])
' "$1"
}

# expect_leaks NAME BYTES COUNT [FILE]
expect_leaks() {
    f=${4:-$(profile "$1")}
    got=$(facts leaks "$f") || fail "$1: unreadable profile $f"
    [ "$got" = "$2 $3" ] || {
        cat "$WORK/$1.err"
        fail "$1: leaks: got '$got' (bytes count), expected '$2 $3'"
    }
    echo "ok: $1: $2 bytes leaked in $3 allocations"
}

# expect_summary NAME BYTES COUNT: the exit summary on stderr agrees: the
# blocks live at exit or, when the leak check ran, its classes (and what a
# sampled run could not check) add up to BYTES in COUNT.
expect_summary() {
    got=$(sed -n 's/^tally: \(.*\); peak .*/\1/p' "$WORK/$1.err" | head -n 1 | awk '
        / live at exit in / { print $1, $7; exit }
        {
            n = split($0, part, "; ")
            b = 0
            c = 0
            for (i = 1; i <= n; i++)
                if (match(part[i], /: [0-9]+ bytes in [0-9]+ block/)) {
                    split(substr(part[i], RSTART + 2), w, " ")
                    b += w[1]
                    c += w[4]
                }
            print b, c
        }')
    [ "$got" = "$2 $3" ] || {
        cat "$WORK/$1.err"
        fail "$1: the exit summary says '$got' (bytes blocks), expected '$2 $3'"
    }
}
