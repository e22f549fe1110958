#!/bin/sh
# C++ operator new/delete in every variant, and mismatched releases.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"
NEWPROG=$B/tests/progs/shim_prog_new

run new "$NEWPROG" || { rc=$?; cat "$WORK/new.err"; fail "shim_prog_new exited $rc"; }
expect_leaks new 164 3
grep -q Mismatched "$WORK/new.err" && fail "a mismatch reported where there is none"

run mismatch "$NEWPROG" mismatch || fail "mismatch run exited $?"
expect_leaks mismatch 164 3
n=$(grep -c "^tally: Mismatched free() / delete / delete \[\]" "$WORK/mismatch.err")
[ "$n" -eq 3 ] || { cat "$WORK/mismatch.err"; fail "expected 3 mismatch reports, got $n"; }
grep -q "alloc'd by operator new at" "$WORK/mismatch.err" || fail "no allocation stack"
grep -q "alloc'd by malloc() at" "$WORK/mismatch.err" || fail "no malloc allocation stack"
echo "ok: 3 mismatches reported"
