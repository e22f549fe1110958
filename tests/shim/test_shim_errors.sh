#!/bin/sh
# Double free, invalid free, realloc of a non-heap pointer: reported, survived.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

run errors "$PROG" errors || { rc=$?; cat "$WORK/errors.err"; fail "errors exited $rc"; }
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

# An interior pointer: the block it points into, and where that was allocated.
grep -q "is 8 bytes inside a block of 48 bytes allocated at" "$E" ||
    { cat "$E"; fail "the free of an interior pointer does not name its block"; }
grep -q '^tally: ERROR SUMMARY: 4 errors from 4 contexts$' "$E" || { cat "$E"; fail "errors: no exact error summary"; }
HOST=$B/tests/progs/host_prog
run interior env -u TALLY_SAMPLE "$HOST" interior || fail "interior exited $?" # full: the block has a stack
grep -A1 "is 8 bytes inside a block of 32 bytes allocated at" "$WORK/interior.err" | grep -q "^tally:    at 0x.*(host_prog+0x" ||
    { cat "$WORK/interior.err"; fail "interior: no block or no allocation stack"; }
run interior_sampled env TALLY_SAMPLE=1M "$HOST" interior || fail "interior_sampled exited $?"
grep -A1 "is 8 bytes inside a block of 32 bytes allocated at" "$WORK/interior_sampled.err" |
    grep -q "(stack not recorded: unsampled)" ||
    { cat "$WORK/interior_sampled.err"; fail "interior, sampled: the unsampled block was not found"; }
echo "ok: an interior pointer's free names the block it points into, sampled or not"

# The same error from the same stack is reported once and counted: 100,000
# double frees do not flood the program's stderr.
run storm "$HOST" dfree 100000 || fail "storm exited $?"
S=$WORK/storm.err
[ "$(grep -c 'double free' "$S")" -eq 1 ] || fail "storm: $(grep -c 'double free' "$S") reports, expected 1"
[ "$(wc -l <"$S")" -lt 40 ] || fail "storm: $(wc -l <"$S") lines on stderr"
grep -q '^tally: ERROR SUMMARY: 100000 errors from 1 context$' "$S" || { cat "$S"; fail "storm: no exact count"; }
echo "ok: 100000 identical double frees: one report, $(wc -l <"$S") lines, an exact count"

run sites "$HOST" dsites 50 || fail "sites exited $?"
[ "$(grep -c 'double free' "$WORK/sites.err")" -eq 50 ] || fail "sites: $(grep -c 'double free' "$WORK/sites.err") reports, expected 50"
grep -q '^tally: ERROR SUMMARY: 50 errors from 50 contexts$' "$WORK/sites.err" || fail "sites: no exact count"
echo "ok: 50 double-free sites: 50 reports"

# valgrind's limit: no new report after 1000 different errors, said once.
run many "$HOST" dmany || fail "many exited $?"
M=$WORK/many.err
[ "$(grep -c 'double free' "$M")" -eq 1000 ] || fail "many: $(grep -c 'double free' "$M") reports, expected 1000"
[ "$(grep -c '^tally: more than 1000 different errors' "$M")" -eq 1 ] || fail "many: the limit is not said once"
grep -q '^tally: ERROR SUMMARY: 1250 errors from 1000 contexts, and 250 past the report limits$' "$M" ||
    { tail -3 "$M"; fail "many: no exact count"; }
echo "ok: 1250 different errors: 1000 reported, the limit said once, all counted"

# A forked child is a process of its own: its own report and count.
run dfork "$HOST" dfork || fail "dfork exited $?"
[ "$(grep -c 'double free' "$WORK/dfork.err")" -eq 2 ] || { cat "$WORK/dfork.err"; fail "dfork: one report per process expected"; }
[ "$(grep -c '^tally: ERROR SUMMARY: 1 error from 1 context$' "$WORK/dfork.err")" -eq 2 ] ||
    { cat "$WORK/dfork.err"; fail "dfork: each process counts its own error"; }
echo "ok: a forked child reports and counts its own errors"
