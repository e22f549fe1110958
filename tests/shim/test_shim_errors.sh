#!/bin/sh
# Double free, invalid free, realloc of a non-heap pointer: reported, survived.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

run errors "$PROG" errors || { cat "$WORK/errors.err"; fail "errors exited $?"; }
grep -q survived "$WORK/errors.out" || fail "the program did not go on"
E=$WORK/errors.err
[ "$(grep -c '^tally: Invalid free() / delete / delete\[\] / realloc(): double free' "$E")" -eq 1 ] ||
    { cat "$E"; fail "one double free expected"; }
[ "$(grep -c '^tally: Invalid free() / delete / delete\[\] / realloc()$' "$E")" -eq 3 ] ||
    { cat "$E"; fail "three invalid frees expected"; }
grep -q "is 0 bytes inside a block of size 24 free'd" "$E" || fail "double free lacks the block"
grep -q "at 0x.*(shim_prog+0x" "$E" || fail "no offending stack"
expect_leaks errors 5 1
echo "ok: errors reported, program went on, heap intact"

if run abort env TALLY_ERRORS=abort "$PROG" errors; then fail "TALLY_ERRORS=abort did not abort"; fi
grep -q "aborting" "$WORK/abort.err" || fail "no abort message"
echo "ok: TALLY_ERRORS=abort aborts"
