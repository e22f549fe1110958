#!/bin/sh
# TALLY_POOLS: rules by module and by function, and one pool per module.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/shim/shim_common.sh"

run pools env TALLY_POOLS='mine=*shim_prog*' "$PROG" pools || fail "pools exited $?"
f=$(profile pools)
facts pools "$f" | grep -q "^mine 30 " ||
    { facts pools "$f"; fail "pool 'mine' does not hold 30 bytes"; }
echo "ok: a module rule charges the program's calls to its pool"

run modules env TALLY_POOLS=modules "$PROG" pools || fail "modules exited $?"
f=$(profile modules)
facts pools "$f" | grep -q "^shim_prog 30 " ||
    { facts pools "$f"; fail "no pool shim_prog with 30 bytes"; }
echo "ok: TALLY_POOLS=modules"
