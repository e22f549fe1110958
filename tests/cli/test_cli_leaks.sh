#!/bin/sh
# Leak classes end to end on make_profile's profiles: a version 1 profile
# and a version 2 one without the leak check say "live", never "lost" or
# "leaked"; `tally diff` reads both versions; and `tally run`'s summary,
# --show-reachable, --error-exitcode with --errors-for-leak-kinds, and their
# bad values. The run tests hand tally a profile of known classes: the
# program it runs writes one with make_profile under its own pid, then is
# killed before the shim can write its own there.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

# json FILE: validate against the schema when python3-jsonschema is there
json_valid() {
    python3 - "$1" "$S/docs/report.schema.json" <<'PY' || fail "$1 is not valid against the schema"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))
PY
}

# ---- a version 1 profile: read, its blocks live, not leaked
"$MP" v1 "$WORK/v1.prof" || fail "make_profile v1"
"$TALLY" report "$WORK/v1.prof" --leaks >"$WORK/v1.txt" || fail "report of a version 1 profile"
expect_in "$WORK/v1.txt" "LEAKS: no leak check ran, so no block is known to be lost; live: 396 bytes in 5 blocks; suppressed: 4096 bytes in 1 block" \
    "LIVE: 396 bytes (396 B) in 5 blocks from 3 stacks when the profile was written, not checked for leaks" \
    "300 bytes in 3 blocks live in pool malloc" "leaky_leaf $S/tests/progs/make_profile.c:$(mark leaky_leaf)"
grep -Eqi "lost:|leaked|reachable" "$WORK/v1.txt" && { cat "$WORK/v1.txt"; fail "a version 1 profile's live blocks called lost"; }
"$TALLY" report "$WORK/v1.prof" --format json --leaks >"$WORK/v1.json" || fail "json of a version 1 profile"
json_valid "$WORK/v1.json"
python3 - "$WORK/v1.json" <<'PY' || fail "json of a version 1 profile"
import json, sys
r = json.load(open(sys.argv[1]))
L = r["leaks"]
assert r["meta"]["version"] == 1 and L["classified"] is False, r["meta"]
assert (L["bytes"], L["count"]) == (0, 0) and L["kinds"]["live"] == {"bytes": 396, "count": 5}, L
assert [(g["kind"], g["bytes"], g["count"]) for g in L["groups"]] == [("live", 300, 3), ("live", 64, 1), ("live", 32, 1)]
assert len(L["blocks"]) == 6 and L["blocks"][0]["address"] == "0x10000", L["blocks"]
print("ok: json of a version 1 profile: live groups (a group per block merged), its blocks' addresses")
PY
ok "reads version 1: its blocks are live, not leaked"

# ---- version 2 without the leak check (a dump, --leak-check=off)
"$MP" live "$WORK/live.prof" || fail "make_profile live"
"$TALLY" report "$WORK/live.prof" --leaks >"$WORK/live.txt" || fail "report live"
expect_in "$WORK/live.txt" "no leak check ran, so no block is known to be lost; live: 396 bytes in 5 blocks" \
    "32 bytes in 1 block live in pool arena"
grep -Eqi "lost:|leaked" "$WORK/live.txt" && fail "unclassified blocks called lost"
"$TALLY" report "$WORK/live.prof" --format json >"$WORK/live.json" || fail "json live"
json_valid "$WORK/live.json"
"$TALLY" report "$WORK/live.prof" --format html -o "$WORK/live.html" || fail "html live"
# the page's data: not classified, its groups in the live list (3)
expect_in "$WORK/live.html" '"classified":0' '"leaks":[[3,'
ok "an unclassified version 2 profile: live, in text, json and html"

# ---- diff reads both versions
"$MP" basic "$WORK/basic.prof" || fail "make_profile basic"
"$TALLY" diff "$WORK/v1.prof" "$WORK/basic.prof" >"$WORK/d.txt" || fail "diff v1 v2"
expect_in "$WORK/d.txt" "live bytes: 4492 -> 4492 (+0)" "0 grew, 0 shrank"
ok "diff: a version 1 profile against a version 2 one"

# ---- tally run: option errors, before anything runs
"$TALLY" run --errors-for-leak-kinds=bogus -- true 2>"$WORK/e1"
[ $? -eq 2 ] || fail "--errors-for-leak-kinds=bogus: not 2"
expect_in "$WORK/e1" "tally run: --errors-for-leak-kinds wants a comma-separated list of definite, indirect, possible, reachable, all or none, not 'bogus'"
for bad in "definite,bogus" "" "definite," "all,definite" "live"; do
    "$TALLY" run --errors-for-leak-kinds="$bad" -- true 2>/dev/null
    [ $? -eq 2 ] || fail "--errors-for-leak-kinds='$bad': not 2"
done
"$TALLY" run --leak-check=sometimes -- true 2>"$WORK/e2"
[ $? -eq 2 ] || fail "--leak-check=sometimes: not 2"
expect_in "$WORK/e2" "tally run: --leak-check is exit, all or off, not 'sometimes'"
ok "run: bad --errors-for-leak-kinds and --leak-check exit 2 and list the valid values"

if [ -n "${TALLY_TEST_SANITIZERS:-}" ]; then
    echo "SKIP: a malloc interposer cannot be preloaded under ASan"
    exit 0
fi
[ -f "$B/.libs/libtally-preload.so" ] || { echo "SKIP: the shim is not built"; exit 0; }

# run_with KIND OUT [OPTIONS...]: `tally run OPTIONS` of a program that
# leaves make_profile's KIND profile as its own and is killed (status 137).
run_with() {
    kind=$1 out=$2
    shift 2
    "$TALLY" run -o "$WORK/run.%p.prof" "$@" -- sh -c '"$0" "$1" "$2.$$.prof"; kill -KILL $$' \
        "$MP" "$kind" "$WORK/run" >/dev/null 2>"$out"
}

run_with basic "$WORK/sum"
[ $? -eq 137 ] || { cat "$WORK/sum"; fail "the killed program's status"; }
expect_in "$WORK/sum" "tally: definitely lost: 200 bytes in 2 blocks; indirectly lost: 64 bytes in 1 block; possibly lost: 32 bytes in 1 block; still reachable: 100 bytes in 1 block; suppressed: 4096 bytes in 1 block" \
    "  200 bytes in 2 blocks definitely lost in pool malloc, allocated at:" \
    "  64 bytes in 1 block indirectly lost in pool malloc, allocated at:" \
    "tally: possibly lost, only interior pointers reach them:" "  32 bytes in 1 block possibly lost in pool arena" \
    "tally: still reachable blocks (a pointer to their start was found) are not listed: --show-reachable lists them" \
    "tally: suppressed by leak:^_IO_file_doallocate\$ (built in): 4096 bytes in 1 block" "tally: peak "
grep -q "100 bytes in 1 block still reachable" "$WORK/sum" && fail "reachable listed without --show-reachable"
l200=$(grep -n "200 bytes in 2 blocks definitely" "$WORK/sum" | cut -d: -f1)
l32=$(grep -n "32 bytes in 1 block possibly" "$WORK/sum" | cut -d: -f1)
[ "$l200" -lt "$l32" ] || fail "possibly lost is not listed after the lost blocks"
run_with basic "$WORK/sumr" --show-reachable
expect_in "$WORK/sumr" "tally: still reachable:" "  100 bytes in 1 block still reachable in pool malloc, allocated at:"
ok "run: the summary names each class; lost first, possibly lost apart, reachable on request"

# expect_status KIND STATUS OPTIONS...
expect_status() {
    kind=$1 want=$2
    shift 2
    run_with "$kind" "$WORK/st" --error-exitcode 23 "$@"
    got=$?
    [ "$got" -eq "$want" ] || { cat "$WORK/st"; fail "$kind $*: status $got, not $want"; }
}
expect_status basic 23                                  # definite and indirect by default
expect_status basic 23 --errors-for-leak-kinds=definite
expect_status basic 23 --errors-for-leak-kinds=possible
expect_status basic 23 --errors-for-leak-kinds=reachable
expect_status basic 23 --errors-for-leak-kinds=all
expect_status basic 137 --errors-for-leak-kinds=none
printf 'leak:leaky_*\nleak:inlined_helper\n' >"$WORK/supp"
expect_status basic 137 --suppressions "$WORK/supp"    # the lost ones suppressed
expect_status basic 23 --suppressions "$WORK/supp" --errors-for-leak-kinds=indirect,possible
expect_status basic 137 --suppressions "$WORK/supp" --errors-for-leak-kinds=definite,indirect,reachable
expect_status basic 23 --suppressions "$WORK/supp" --errors-for-leak-kinds=reachable --no-default-suppressions
expect_status live 137 --errors-for-leak-kinds=all     # live blocks are no error
expect_status v1 137 --errors-for-leak-kinds=all
ok "run: --error-exitcode fires on --errors-for-leak-kinds (definite,indirect by default), never on live"
