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
assert (L["bytes"], L["count"], L["stacks"]) == (396, 5, 3), L
assert [g["bytes"] for g in L["groups"]] == [300, 64, 32]
assert L["groups"][2]["sampled"] is False and L["groups"][2]["stack"] == 0
inl = frames(L["groups"][1])
assert inl[0]["inlined"] and inl[0]["function"] == "inlined_helper" and inl[1]["function"] == "with_inline", inl
assert L["suppressed"]["bytes"] == 4096 and L["suppressed"]["groups"][0]["builtin"] is True
assert r["top"][0]["total_bytes"] == 5000000 and r["top"][0]["temporary_count"] == 9000
assert r["series"]["pools"] == ["malloc", "arena"] and len(r["series"]["points"]) == 4
print("ok: json: pools, peak, leaks, suppressed, top, series")
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
"$TALLY" report "$WORK/p.prof" --format folded --cost leaked >"$WORK/leak.folded" || fail "folded leaked"
[ "$(awk '{s += $NF} END {print s}' "$WORK/leak.folded")" = 4460 ] || fail "leaked costs do not sum to 4460"
grep -q churn "$WORK/leak.folded" && fail "churn leaked nothing"
"$TALLY" report "$WORK/p.prof" --format folded --cost peak >"$WORK/peak.folded" || fail "folded peak"
[ "$(awk '{s += $NF} END {print s}' "$WORK/peak.folded")" = 1004960 ] || fail "peak costs do not sum"
"$TALLY" report "$WORK/p.prof" --format folded --cost temporary >"$WORK/tmp.folded" || fail "folded temporary"
[ "$(cat "$WORK/tmp.folded")" = "pool:malloc;top;churn 9000" ] || fail "temporary: $(cat "$WORK/tmp.folded")"
grep -Evq '^[^ ]+( [^ ]+)* [0-9]+$' "$WORK/all.folded" && fail "a folded line is malformed"
ok "folded: allocated, leaked, peak, temporary"

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
