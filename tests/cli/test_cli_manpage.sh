#!/bin/sh
# tally(1) stays true to the code: every TALLY_* variable the sources read
# (getenv) is in ENVIRONMENT, every long option of every subcommand is
# there too, the pool rules, the test gate and the exit statuses have their
# sections, the page as built (man/tally.1) has the installation's real
# paths, and groff renders the page without a warning.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

MAN=$S/docs/tally.1
vars=$(cd "$S" && grep -rhoE 'getenv\("TALLY_[A-Z_]+"\)' lib shim tools | sed 's/getenv("\(.*\)")/\1/' | sort -u)
[ -n "$vars" ] || fail "no getenv(\"TALLY_...\") in the sources"
env_section=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$MAN")
for v in $vars TALLY_DUMP_SIGNAL TALLY_CHECKPOINT; do
    printf '%s\n' "$env_section" | grep -qx ".B $v" || fail "tally(1) ENVIRONMENT lacks $v"
done
ok "man: ENVIRONMENT has every variable the sources read ($(echo $vars | wc -w))"

n=0
for f in "$S"/tools/*.c; do
    for opt in $(sed -n 's/^ *{"\([a-z-]*\)", \(no\|required\)_argument.*/\1/p' "$f"); do
        esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        grep -q -- "\\\\-\\\\-$esc" "$MAN" || fail "tally(1) lacks --$opt ($(basename "$f"))"
        n=$((n + 1))
    done
done
[ $n -gt 20 ] || fail "only $n options found in tools/*.c"
ok "man: every long option of run, report and diff ($n)"

for sec in "POOL RULES" "TEST GATE" "EXIT STATUS" "FILES" "SIGNALS"; do
    grep -qx ".SH $sec" "$MAN" || fail "tally(1) has no $sec section"
done
for v in TALLY_UNWIND TALLY_ERRORS TALLY_REPORT TALLY_POOLS TALLY_DUMP_SIGNAL; do
    k=$(grep -cx ".B $v" "$MAN")
    [ "$k" -eq 1 ] || fail "tally(1) documents $v $k times"
done
sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$MAN" | grep -qx '3' || fail "tally(1) EXIT STATUS lacks the gate's 3"
ok "man: POOL RULES, TEST GATE, EXIT STATUS (with 3), FILES; each variable once"

# The page as installed: every @dir@ substituted (the Makefile's sed rule).
BUILT=$B/man/tally.1
[ -f "$BUILT" ] || fail "$BUILT not built"
for d in $(grep -o '@[a-z]*@' "$MAN" | sort -u); do
    case $d in @bindir@ | @libdir@ | @includedir@ | @docdir@) ;; *) fail "tally(1) has $d, which the Makefile does not substitute" ;; esac
done
if grep -nE '@[a-z]+@|\$\(' "$BUILT"; then
    fail "$BUILT has a placeholder left"
fi
sed -n '/^\.SH FILES/,/^\.SH /p' "$BUILT" | grep -qE '^\.I /.*/libtally-preload\.so$' || fail "$BUILT: FILES has no absolute path to the shim"
ok "man: as built, FILES names real paths and no placeholder is left"

if command -v groff >/dev/null; then
    groff -man -ww -z "$MAN" 2>"$WORK/warn" || fail "groff failed"
    [ -s "$WORK/warn" ] && { cat "$WORK/warn"; fail "groff warns about tally(1)"; }
    ok "man: groff renders it without a warning"
fi
