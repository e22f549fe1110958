#!/bin/sh
# heaptrack_print's views in tally report, on a real profile: CPython under
# tally run. Each view is checked against the numbers of the JSON report of
# the same profile:
#   --histogram        the buckets are the pools' and add up to total_count
#   --sort COST        the top list is in that cost's order, its first the largest
#   --merge site       the sites' totals are the stacks' totals, and no site
#                      is an allocator frame (CPython's own allocators included)
#   --filter-function  keeps exactly the stacks with a matching function
#   folded --cost temporary[-calls]  adds up to the temporary bytes (calls)
#   PEAK RSS           META's max_rss_bytes
#   pprof peak_space   adds up to the records' bytes at the peak
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"
need_shim
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$PY" ] ||
    { echo "SKIP: python3 is needed"; exit 77; }

# lists that grow (realloc), strings built and dropped (temporaries), a dict kept
"$TALLY" run -o "$WORK/py.prof" -- "$PY" -c '
import json
keep = {}
for i in range(3000):
    s = json.dumps({"k": i, "v": "x" * (i % 300)})
    keep[i % 500] = s.encode() * 3
' >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; fail "tally run python3"; }
R() { "$TALLY" report "$WORK/py.prof" "$@"; }
R --format json -o "$WORK/all.json" || fail "json"

# ---- --histogram
R --histogram >"$WORK/hist.txt" || fail "--histogram"
grep -q "^POOLS\|^PEAK" "$WORK/hist.txt" && fail "--histogram alone shows other sections"
python3 - "$WORK/all.json" "$WORK/hist.txt" <<'PY' || fail "histogram"
import json, re, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().split("\n")
pools = {p["name"]: p for p in r["pools"]}
seen, pool = 0, None
for line in text:
    m = re.match(r"  pool (\S+): (\d+) allocations?$", line)
    if m:
        pool = pools[m.group(1)]
        assert int(m.group(2)) == pool["total_count"] == sum(pool["histogram"]), (line, pool)
        seen += 1
        continue
    m = re.match(r"    (\d+) - (\d+) B +(\d+) ", line)
    if m:
        lo, hi, n = map(int, m.groups())
        k = 0 if lo == 0 else lo.bit_length() - 1
        assert lo == (0 if k == 0 else 1 << k) and hi == (1 if k == 0 else (2 << k) - 1), line
        assert pool["histogram"][k] == n, (line, pool["histogram"])
assert seen == sum(1 for p in r["pools"] if p["total_count"] > 0) and seen > 0, seen
PY
ok "--histogram: each pool's buckets are its histogram and add up to its allocations"

# ---- --sort
for cost in bytes calls temporary peak leaked; do
    R --format json --sort "$cost" -o "$WORK/s-$cost.json" || fail "--sort $cost"
done
python3 - "$WORK" <<'PY' || fail "--sort"
import json, sys
w = sys.argv[1]
allr = json.load(open(w + "/all.json"))["top"]
key = {"bytes": "total_bytes", "calls": "total_count", "temporary": "temporary_bytes",
       "peak": "peak_bytes", "leaked": "leaked_bytes"}
for cost, k in key.items():
    r = json.load(open("%s/s-%s.json" % (w, cost)))
    assert r["top_order"] == cost, r["top_order"]
    v = [t[k] for t in r["top"]]
    assert len(v) == len(allr), (cost, len(v), len(allr))
    assert v == sorted(v, reverse=True), cost
    assert v[0] == max(t[k] for t in allr), cost
    assert sorted(map(json.dumps, r["top"])) == sorted(map(json.dumps, allr)), cost
tmp = json.load(open(w + "/s-temporary.json"))["top"]
assert tmp[0]["temporary_bytes"] > 0 and tmp[0]["temporary_count"] > 0, tmp[0]
PY
R --sort calls --top 1 --frames 1 >"$WORK/calls.txt" || fail "--sort calls text"
most=$(python3 -c 'import json,sys; print(max(t["total_count"] for t in json.load(open(sys.argv[1]))["top"]))' "$WORK/all.json")
expect_in "$WORK/calls.txt" "TOP ALLOCATING STACKS (by allocations)" " bytes in $most allocations ("
ok "--sort bytes|calls|temporary|peak|leaked: the same rows in each cost's order; the calls top has $most allocations"

# --sort leaked on a program that leaks (tests/progs/cli_prog.c: 3 blocks at leak_thousand)
"$TALLY" run -o "$WORK/leaks.prof" -- "$B/tests/progs/cli_prog" leaks >/dev/null 2>&1
"$TALLY" report "$WORK/leaks.prof" --format json --sort leaked -o "$WORK/l.json" || fail "--sort leaked"
"$TALLY" report "$WORK/leaks.prof" --sort leaked --top 1 --frames 1 >"$WORK/l.txt" || fail "--sort leaked text"
python3 - "$WORK/l.json" <<'PY' || fail "--sort leaked"
import json, sys
r = json.load(open(sys.argv[1]))
lost = r["leaks"]["kinds"]["definite"]["bytes"] + r["leaks"]["kinds"]["indirect"]["bytes"]
assert lost > 0 and r["top"][0]["leaked_bytes"] == lost, (lost, r["top"][0])
assert sum(t["leaked_bytes"] for t in r["top"]) == lost
PY
expect_in "$WORK/l.txt" "TOP ALLOCATING STACKS (by bytes lost)" ", 3000 bytes lost in pool" "leak_thousand"
ok "--sort leaked: the top stack holds the lost bytes"

# ---- --merge site
R --format json --merge site -o "$WORK/m.json" || fail "--merge site json"
R --merge site --top 0 >"$WORK/m0.txt" || fail "--merge site text"
R --merge site --top 1000000 --frames 1 >"$WORK/m.txt" || fail "--merge site text"
python3 - "$WORK/all.json" "$WORK/m.json" "$WORK/m.txt" <<'PY' || fail "--merge site"
import json, re, sys, fnmatch
a, m = (json.load(open(f))["top"] for f in sys.argv[1:3])
assert json.load(open(sys.argv[2]))["top_merged"] is True
for k in ("total_bytes", "total_count", "temporary_count", "temporary_bytes", "peak_bytes",
          "live_bytes", "leaked_bytes"):
    assert sum(t[k] for t in a) == sum(t[k] for t in m), k
assert sum(t["stacks"] for t in m) == len(a), (sum(t["stacks"] for t in m), len(a))
assert len(m) < len(a) and max(t["stacks"] for t in m) > 1, (len(m), len(a))
# each site's address has a frame (its own, or one it inlined) outside the allocators
internal = ["malloc", "calloc", "realloc", "free", "PyMem_*", "_PyMem_*", "PyObject_Malloc",
            "_PyObject_Malloc", "PyObject_Realloc", "_PyObject_Realloc", "PyObject_Calloc",
            "_PyObject_Calloc", "pymalloc_*"]
lines = open(sys.argv[3]).read().split("\n")
sites = 0
for i, l in enumerate(lines):
    if l.endswith("allocated at the site:"):
        fn = re.match(r"    #0 +0x[0-9a-f]+ (\S+)", lines[i + 1])
        assert fn, lines[i + 1]
        names = [fn.group(1)]
        for c in lines[i + 2:]:
            cm = re.match(r" {27}(\S+)", c)
            if not cm:
                break
            names.append(cm.group(1))
        assert not all(any(fnmatch.fnmatchcase(n, g) for g in internal) for n in names), names
        sites += 1
assert sites == len(m), (sites, len(m))
PY
expect_in "$WORK/m0.txt" "TOP ALLOCATING SITES (by bytes allocated)"
ok "--merge site: the sites' costs add up to the stacks', and no site is an allocator frame"

# ---- --filter-function
# The pattern: a glob on the innermost function of a stack that some stacks
# have and others do not (a python3 without debug information names fewer).
PAT=$(python3 - "$WORK/all.json" <<'PY'
import json, sys, fnmatch
r = json.load(open(sys.argv[1]))
def fns(stack):
    return [fr["function"] for addr in r["stacks"][str(stack)] for fr in r["locations"][addr]]
for t in r["top"]:
    f = fns(t["stack"])[0]
    if len(f) < 4 or f.startswith("0x") or "+0x" in f or any(c in f for c in "*?[]"):
        continue
    pat = f[:-1] + "*"
    n = sum(1 for u in r["top"] if any(fnmatch.fnmatchcase(x, pat) for x in fns(u["stack"])))
    if 0 < n < len(r["top"]):
        print(pat)
        break
PY
)
[ -n "$PAT" ] || fail "no function to filter on"
R --format json --filter-function "$PAT" -o "$WORK/f.json" || fail "--filter-function"
R --format folded --filter-function "$PAT" >"$WORK/f.folded" || fail "folded --filter-function"
R --format folded >"$WORK/all.folded" || fail "folded"
python3 - "$WORK/all.json" "$WORK/f.json" "$PAT" "$WORK/f.folded" "$WORK/all.folded" <<'PY' || fail "--filter-function $PAT"
import json, sys, fnmatch
a, f = (json.load(open(x)) for x in sys.argv[1:3])
pat = sys.argv[3]
def fns(r, stack):
    return [fr["function"] for addr in r["stacks"][str(stack)] for fr in r["locations"][addr]]
def match(r, t):
    return any(fnmatch.fnmatchcase(n, pat) for n in fns(r, t["stack"]))
want = sorted((t["stack"], t["pool"]) for t in a["top"] if t["stack"] and match(a, t))
got = sorted((t["stack"], t["pool"]) for t in f["top"])
assert want and got == want and len(got) < len(a["top"]), (len(want), len(got))
assert all(match(f, t) for t in f["top"])
# folded: the lines of the matching stacks, and only those
fl = open(sys.argv[4]).read().split("\n")[:-1]
assert fl and all(any(fnmatch.fnmatchcase(x, pat) for x in l.rsplit(" ", 1)[0].split(";")[1:]) for l in fl)
every = [l for l in open(sys.argv[5]).read().split("\n")[:-1]
         if any(fnmatch.fnmatchcase(x, pat) for x in l.rsplit(" ", 1)[0].split(";")[1:])]
assert sorted(fl) == sorted(every), (len(fl), len(every))
PY
R --format folded --filter-function 'no_such_function_*' >"$WORK/none.folded" || fail "folded, nothing matches"
[ -s "$WORK/none.folded" ] && fail "a filter that matches nothing kept stacks"
ok "--filter-function '$PAT' keeps exactly the stacks with a matching frame (json and folded)"

# ---- folded temporary bytes and calls
R --format folded --cost temporary >"$WORK/t.folded" || fail "folded temporary"
R --format folded --cost temporary-calls >"$WORK/tc.folded" || fail "folded temporary-calls"
tb=$(awk '{s += $NF} END {print s + 0}' "$WORK/t.folded")
tc=$(awk '{s += $NF} END {print s + 0}' "$WORK/tc.folded")
python3 - "$WORK/all.json" "$tb" "$tc" <<'PY' || fail "folded temporary sums"
import json, sys
r = json.load(open(sys.argv[1]))
tb, tc = int(sys.argv[2]), int(sys.argv[3])
assert tb == sum(t["temporary_bytes"] for t in r["top"]) and tb > 0, tb
assert tc == sum(t["temporary_count"] for t in r["top"]) == sum(p["temporary_count"] for p in r["pools"]), tc
assert tb > tc, (tb, tc)  # bytes, not calls
PY
ok "folded --cost temporary: $tb bytes in $tc temporary allocations, as the records say"

# ---- the peak RSS line
R --peak --top 0 >"$WORK/peak.txt" || fail "--peak"
rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["meta"]["max_rss_bytes"])' "$WORK/all.json")
[ "$rss" -gt 0 ] || fail "no max_rss_bytes in META"
expect_in "$WORK/peak.txt" "PEAK RSS: $rss bytes"
ok "PEAK RSS: $rss bytes, META's"

# ---- pprof's peak_space, with npm's pprof-format when test_cli_pprof.sh installed it
NM=${TMPDIR:-/tmp}/tally-npm-pprof-format-$(id -u)
if command -v node >/dev/null && [ -f "$NM/node_modules/pprof-format/package.json" ]; then
    R --format pprof -o "$WORK/p.pb.gz" || fail "pprof"
    peak=$(python3 -c 'import json,sys; print(sum(t["peak_bytes"] for t in json.load(open(sys.argv[1]))["top"]))' "$WORK/all.json")
    node -e '
const fs = require("fs"), zlib = require("zlib");
const { Profile } = require(process.argv[2] + "/node_modules/pprof-format");
const p = Profile.decode(zlib.gunzipSync(fs.readFileSync(process.argv[1])));
const S = p.stringTable.strings, n = Number;
const i = p.sampleType.findIndex(t => S[n(t.type)] === "peak_space" && S[n(t.unit)] === "bytes");
if (i < 0) { console.log("FAIL: no peak_space"); process.exit(1); }
const tot = p.sample.reduce((s, x) => s + n(x.value[i]), 0);
if (tot !== n(process.argv[3])) { console.log("FAIL: peak_space " + tot); process.exit(1); }
' "$WORK/p.pb.gz" "$NM" "$peak" || fail "pprof peak_space"
    ok "pprof: peak_space adds up to $peak bytes at the peak"
else
    echo "note: pprof-format is not installed (test_cli_pprof.sh installs it): peak_space not decoded here"
fi

# ---- a view's bad word is a usage error, named
for bad in "--sort size" "--merge stack" "--cost temporaries"; do
    # shellcheck disable=SC2086
    R $bad >"$WORK/bad.out" 2>"$WORK/bad.err"
    rc=$?
    [ $rc = 2 ] || fail "$bad exited $rc, not 2"
    expect_in "$WORK/bad.err" "'${bad#* }'"
done
ok "--sort, --merge and --cost name the word they do not take (exit 2)"
