# cli_common.sh: sourced by tests/test_cli_*.sh.
#
# TALLY is the built tally command, MP the profile generator
# (tests/progs/make_profile.c); mark NAME [FILE] gives the line of "MARK:NAME" in
# tests/FILE (default make_profile.c), so tests can expect file:line pairs without hard-coding them.
set -u
B=${abs_top_builddir:-$(pwd)}
S=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
TALLY=$B/tools/tally
MP=$B/tests/progs/make_profile
[ -x "$TALLY" ] || { echo "FAIL: $TALLY not built"; exit 99; }
[ -x "$MP" ] || { echo "FAIL: $MP not built"; exit 99; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tally-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
    echo "FAIL: $*"
    exit 1
}

ok() {
    echo "ok: $*"
}

mark() {
    grep -n "MARK:$1 " "$S/tests/progs/${2:-make_profile.c}" | cut -d: -f1
}

# expect_in FILE TEXT...: each TEXT (a fixed string) appears in FILE.
expect_in() {
    f=$1
    shift
    for t in "$@"; do
        grep -qF -- "$t" "$f" || {
            cat "$f"
            fail "'$t' not in $f"
        }
    done
}

# need_shim: what follows preloads the shim: skip it under the sanitizers
# (ASan owns malloc) or when the shim is not built.
need_shim() {
    if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
        echo "SKIP: a malloc interposer cannot be preloaded under ASan"
        exit 77
    fi
    [ -f "$B/.libs/libtally-preload.so" ] || { echo "SKIP: the shim is not built"; exit 77; }
}
