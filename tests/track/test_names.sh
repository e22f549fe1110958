#!/bin/sh
# The exit summary names every frame as valgrind and LeakSanitizer do:
# function and file:line, inlined frames included, static functions, C++
# demangled; with the shim preloaded and with TALLY_TRACK=1. Without debug
# info the symbol table names the functions; without libdw, dladdr does.
# names_prog marks each line a frame must name with @mark.
B=${abs_top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
S=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
PROG=$B/tests/progs/names_prog
SHIM=$B/.libs/libtally-preload.so
NODW=$B/tests/progs/.libs/libnodw.so
W=$(mktemp -d "${TMPDIR:-/tmp}/tally-names.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() {
    echo "FAIL: $*"
    cat "$W/err" 2>/dev/null
    exit 1
}
[ -x "$PROG" ] || fail "$PROG not built"

# line FILE MARK: the number of the line marked @MARK in tests/progs/FILE
line() {
    n=$(grep -n "@$2\([^a-z_]\|$\)" "$S/tests/progs/$1" | cut -d: -f1)
    [ -n "$n" ] || fail "no @$2 in $1"
    echo "$n"
}
C=names_prog.c
CC=names_prog_cxx.cc

# frames FILE HEADER PATTERN...: after a line matching HEADER, the next
# lines match the PATTERNs, in order (extended regular expressions).
frames() {
    file=$1
    shift
    awk -v n=$# 'BEGIN { for (i = 1; i < ARGC; i++) p[i - 1] = ARGV[i]; ARGC = 1; k = -1 }
        k < 0 && $0 ~ p[0] { k = 1; next }
        k > 0 && k < n { if ($0 !~ p[k]) { print "line " NR ": " $0 "\nexpected: " p[k]; exit 1 } k++ }
        END { if (k < n) { print "missing: " p[k < 0 ? 0 : k]; exit 1 } }' "$@" <"$file"
}
A='0x[0-9a-f]+'
KIND='(allocation|block (definitely lost|indirectly lost|possibly lost|still reachable))'
# at N FUNCTION FILE MARK [inlined]: frame N, named with file:line
at() {
    printf '^    #%s %s in %s [^ ]*/tests/progs/%s:%s%s$' "$1" "$A" "$2" "$3" "$(line "$3" "$4")" \
        "${5:+ \\(inlined\\)}"
}

# check NAME POOL GRAB_MARK: both stacks of names_prog in $W/err
check() {
    # Whatever the leak check's class (this test is about names; the leak
    # corpus checks the classes): TALLY_REPORT=full lists every class.
    head100="^100 bytes in 1 $KIND in pool $2, allocated at:$"
    head200="^200 bytes in 1 $KIND in pool $2, allocated at:$"
    frames "$W/err" "$head100" \
        "$(at 0 grab $C "$3")" \
        "$(at 1 add_header $C add_header inlined)" \
        "$(at 2 static_leaker $C static_leaker)" \
        "$(at 3 leak_both $C leak_static)" \
        "$(at 4 main $C main)" || fail "$1: the static and inlined frames"
    frames "$W/err" "$head200" \
        "$(at 0 grab $C "$3")" \
        "$(at 1 '\(anonymous namespace\)::hidden_helper\(unsigned long\)' $CC cxx_hidden)" \
        "$(at 2 'tally_names::Leaker::make\(unsigned long\)' $CC cxx_make)" \
        "$(at 3 names_cxx_leak $CC cxx_entry)" \
        "$(at 4 leak_both $C leak_cxx)" \
        "$(at 5 main $C main)" || fail "$1: the C++ frames"
    echo "ok: $1"
}

# TALLY_TRACK=1: a pool's blocks, in a program that links libtally.
TALLY_TRACK=1 TALLY_REPORT=full TALLY_OUTPUT="$W/t.prof" "$PROG" pool 2>"$W/err" ||
    fail "TALLY_TRACK=1 run exited $?"
check "TALLY_TRACK=1" names grab_pool

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: the preloaded runs (a malloc interposer cannot be preloaded under ASan)"
    exit 0
fi
[ -f "$SHIM" ] || fail "$SHIM not built"

# A bare LD_PRELOAD: malloc's blocks.
LD_PRELOAD=$SHIM TALLY_REPORT=full TALLY_OUTPUT="$W/p.prof" "$PROG" malloc 2>"$W/err" ||
    fail "preloaded run exited $?"
check "LD_PRELOAD" malloc grab_malloc

# No debug info: the symbol table names them, static functions and C++ too
# (no inlined frames: those are DWARF's).
if command -v objcopy >/dev/null; then
    objcopy --strip-debug "$PROG" "$W/names_nodebug" || fail "objcopy"
    LD_PRELOAD=$SHIM TALLY_REPORT=full TALLY_OUTPUT="$W/s.prof" "$W/names_nodebug" malloc \
        2>"$W/err" || fail "stripped run exited $?"
    mod="\\([^ ]*/names_nodebug\\+$A\\)"
    frames "$W/err" "^100 bytes in 1 $KIND in pool malloc" \
        "^    #0 $A in grab $mod$" "^    #1 $A in static_leaker $mod$" \
        "^    #2 $A in leak_both $mod$" || fail "symbol table: static function"
    frames "$W/err" "^200 bytes in 1 $KIND in pool malloc" \
        "^    #0 $A in grab $mod$" \
        "^    #1 $A in \\(anonymous namespace\\)::hidden_helper\\(unsigned long\\) $mod$" \
        "^    #2 $A in tally_names::Leaker::make\\(unsigned long\\) $mod$" \
        "^    #3 $A in names_cxx_leak $mod$" || fail "symbol table: C++ demangled"
    echo "ok: symbol table only"
fi

# No libdw (its dlopen fails): dladdr's names, as before, and no crash.
LD_PRELOAD="$NODW $SHIM" TALLY_REPORT=full TALLY_OUTPUT="$W/n.prof" "$PROG" malloc \
    2>"$W/err" || fail "run without libdw exited $?"
frames "$W/err" "^100 bytes in 1 $KIND in pool malloc" \
    "^    #0 $A \\(names_prog\\+$A\\)$" || fail "without libdw: dladdr's output"
grep -q "names_prog\\.c:" "$W/err" && fail "without libdw: file:line from nowhere"
echo "ok: without libdw"
exit 0
