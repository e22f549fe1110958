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

# What the loader allocates inside dlopen is the loaded module's, never the
# shim's (whose dlopen is the first frame outside the runtime there).
LIB=$B/tests/progs/.libs/libshim_dl.so
run modules_dl env TALLY_POOLS=modules "$PROG" dl "$LIB" || fail "modules_dl exited $?"
facts pools "$(profile modules_dl)" >"$WORK/modules_dl.pools"
grep -q "^libtally-preload" "$WORK/modules_dl.pools" && { cat "$WORK/modules_dl.pools"; fail "a pool for the shim"; }
# the loader's blocks (link map, scope lists) and the library's own 123 bytes
awk '$1 == "libshim_dl.so" && $3 > 1 { ok = 1 } END { exit !ok }' "$WORK/modules_dl.pools" ||
    { cat "$WORK/modules_dl.pools"; fail "the loader's allocations are not libshim_dl.so's"; }
# The interpreter itself, not a wrapper script (pyenv's runs many processes).
PY=$(python3 -c 'import sys; print(sys.executable)')
run modules_py env TALLY_POOLS=modules "$PY" -c 'import json, decimal, sqlite3' || fail "python3 exited $?"
f=$(profile modules_py)
facts pools "$f" >"$WORK/modules_py.pools" || fail "python3: unreadable profile"
grep "^libtally-preload" "$WORK/modules_py.pools" && fail "python3: a pool for the shim"
grep -q "^_decimal" "$WORK/modules_py.pools" || fail "python3: no pool for _decimal"
echo "ok: TALLY_POOLS=modules: dlopen's allocations go to the module being loaded"
