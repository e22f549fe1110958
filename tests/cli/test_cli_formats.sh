#!/bin/sh
# tally report's machine formats: json (against docs/report.schema.json
# when python3-jsonschema is there), folded (flamegraph.pl's input) and
# massif (ms_print must accept it, with the peak snapshot).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" basic "$WORK/p.prof" || fail "make_profile"

# ---- json
"$TALLY" report "$WORK/p.prof" --format json >"$WORK/r.json" || fail "json exited $?"
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to check the json"; exit 77; }
python3 - "$WORK/r.json" "$S/docs/report.schema.json" "$S/tests/progs/make_profile.c" <<'PY' || fail "json content"
import json, sys
r = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(r, json.load(open(sys.argv[2])))
    print("ok: json: valid against docs/report.schema.json")
except ImportError:
    print("note: python3-jsonschema missing: schema not checked")
src = open(sys.argv[3]).read().splitlines()
mark = {l.split("MARK:")[1].split()[0]: i + 1 for i, l in enumerate(src) if "MARK:" in l and "*/" in l}
def frames(e):
    return [f for a in r["stacks"].get(str(e["stack"]), []) for f in r["locations"][a]]
pools = {p["name"]: p for p in r["pools"]}
assert pools["malloc"]["current"] == 4460 and pools["arena"]["peak"] == 1000000, pools
assert r["peak"]["bytes"] == 1004960
top = r["peak"]["stacks"][0]
assert top["bytes"] == 1000000 and top["pool"] == "arena", top
f0 = frames(top)[0]
assert f0["function"] == "peak_leaf" and f0["file"].endswith("make_profile.c") and f0["line"] == mark["peak_leaf"], f0
L = r["leaks"]
assert L["classified"] is True
assert (L["bytes"], L["count"], L["stacks"]) == (264, 3, 2), L
K = L["kinds"]
assert [(K[k]["bytes"], K[k]["count"]) for k in ("definite", "indirect", "possible", "reachable", "live")] == \
    [(200, 2), (64, 1), (32, 1), (100, 1), (0, 0)], K
assert [(g["kind"], g["bytes"]) for g in L["groups"]] == \
    [("definite", 200), ("indirect", 64), ("possible", 32), ("reachable", 100)], L["groups"]
assert L["groups"][2]["sampled"] is False and L["groups"][2]["stack"] == 0
inl = frames(L["groups"][1])
assert inl[0]["inlined"] and inl[0]["function"] == "inlined_helper" and inl[1]["function"] == "with_inline", inl
S = L["suppressed"]
assert S["bytes"] == 4096 and S["groups"][0]["builtin"] is True and S["groups"][0]["kind"] == "reachable"
assert S["rules"] == [{"rule": "leak:^_IO_file_doallocate$", "builtin": True, "bytes": 4096, "count": 1}], S["rules"]
assert "blocks" not in L
assert r["top"][0]["total_bytes"] == 5000000 and r["top"][0]["temporary_count"] == 9000
assert r["series"]["pools"] == ["malloc", "arena"] and len(r["series"]["points"]) == 4
print("ok: json: pools, peak, leaks by kind, suppressed by rule, top, series")
PY
# each block's address, when the profile has them (TALLY_LEAK_ADDRESSES=1)
"$MP" addresses "$WORK/a.prof" || fail "make_profile addresses"
"$TALLY" report "$WORK/a.prof" --format json --leaks >"$WORK/a.json" || fail "json of addresses"
python3 - "$WORK/a.json" "$S/docs/report.schema.json" <<'PY' || fail "json blocks"
import json, sys
r = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(r, json.load(open(sys.argv[2])))
except ImportError:
    pass
b = r["leaks"]["blocks"]
assert len(b) == 6, b
assert {"address": "0x10200", "size": 100, "kind": "reachable", "pool": "malloc"}.items() <= b[2].items(), b[2]
assert b[5]["address"] == "0x60000" and b[5]["kind"] == "possible" and b[5]["stack"] == 0, b[5]
print("ok: json: each block's address, size and kind with TALLY_LEAK_ADDRESSES")
PY
"$TALLY" report "$WORK/p.prof" --format json --leaks | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert "leaks" in r and "pools" not in r and "top" not in r' || fail "json --leaks"
ok "json --leaks has the leaks only"

# ---- folded: "pool:NAME;outer;...;inner COST", per --cost
"$TALLY" report "$WORK/p.prof" --format folded >"$WORK/all.folded" || fail "folded"
expect_in "$WORK/all.folded" "pool:malloc;top;churn 5000000" "pool:arena;top;peak_leaf 1000000" \
    "pool:malloc;top;with_inline;inlined_helper 64" "pool:malloc;top;leaky_mid;leaky_leaf 300"
# leaked: the lost blocks only (definitely and indirectly, not suppressed)
"$TALLY" report "$WORK/p.prof" --format folded --cost leaked >"$WORK/leak.folded" || fail "folded leaked"
[ "$(cat "$WORK/leak.folded")" = "pool:malloc;top;leaky_mid;leaky_leaf 200
pool:malloc;top;with_inline;inlined_helper 64" ] || fail "leaked: $(cat "$WORK/leak.folded")"
# live: every block still live, whatever its kind
"$TALLY" report "$WORK/p.prof" --format folded --cost live >"$WORK/live.folded" || fail "folded live"
[ "$(awk '{s += $NF} END {print s}' "$WORK/live.folded")" = 4460 ] || fail "live costs do not sum to 4460"
grep -q churn "$WORK/live.folded" && fail "churn is not live"
# a profile without the leak check: nothing is known to be lost, and it says so
"$MP" live "$WORK/live.prof" || fail "make_profile live"
"$TALLY" report "$WORK/live.prof" --format folded --cost leaked >"$WORK/none.folded" 2>"$WORK/none.err" || fail "folded leaked, no check"
[ -s "$WORK/none.folded" ] && fail "leaked costs without a leak check: $(cat "$WORK/none.folded")"
expect_in "$WORK/none.err" "no leak check ran, so nothing is known to be lost (--cost live counts the live bytes)"
"$TALLY" report "$WORK/p.prof" --format folded --cost peak >"$WORK/peak.folded" || fail "folded peak"
[ "$(awk '{s += $NF} END {print s}' "$WORK/peak.folded")" = 1004960 ] || fail "peak costs do not sum"
"$TALLY" report "$WORK/p.prof" --format folded --cost temporary >"$WORK/tmp.folded" || fail "folded temporary"
[ "$(cat "$WORK/tmp.folded")" = "pool:malloc;top;churn 4500000" ] || fail "temporary: $(cat "$WORK/tmp.folded")"
"$TALLY" report "$WORK/p.prof" --format folded --cost temporary-calls >"$WORK/tmpc.folded" || fail "folded temporary-calls"
[ "$(cat "$WORK/tmpc.folded")" = "pool:malloc;top;churn 9000" ] || fail "temporary-calls: $(cat "$WORK/tmpc.folded")"
grep -Evq '^[^ ]+( [^ ]+)* [0-9]+$' "$WORK/all.folded" && fail "a folded line is malformed"
ok "folded: allocated, leaked (lost only), live, peak, temporary bytes and calls"

# ---- massif, through ms_print
"$TALLY" report "$WORK/p.prof" --format massif >"$WORK/massif.out" || fail "massif"
head -1 "$WORK/massif.out" | grep -q "^desc:" || fail "massif does not start with its header"
if command -v ms_print >/dev/null; then
    ms_print "$WORK/massif.out" >"$WORK/ms.txt" 2>"$WORK/ms.err" || { cat "$WORK/ms.err"; fail "ms_print rejected the massif output"; }
    [ -s "$WORK/ms.err" ] && { cat "$WORK/ms.err"; fail "ms_print complained"; }
    expect_in "$WORK/ms.txt" "Detailed snapshots: [3 (peak), 5]" "(1,004,960B) (heap allocation functions)" \
        "(1,000,000B) 0x" "peak_leaf ($S/tests/progs/make_profile.c:$(mark peak_leaf))"
    ok "massif: ms_print accepts it, with the peak tree"
else
    echo "note: ms_print (valgrind) missing: massif not checked by it"
fi
