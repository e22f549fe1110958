#!/bin/sh
# C++ names come out demangled in every format (text, json, html, folded,
# massif, pprof), as valgrind and LeakSanitizer print them; json and pprof
# keep the mangled one as system_name. The frames are C++ functions of
# tests/progs/cxx_frames.cc, named each way the symbolizer finds a name:
# DWARF's linkage name, DWARF's name qualified by its namespaces (an inlined
# function), the symbol table (internal linkage; libstdc++).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

"$MP" cxx "$WORK/c.prof" || fail "make_profile cxx"
CC=$S/tests/progs/cxx_frames.cc
FILL='tally_test::Box<int>::fill(tally_test::Trace*, int)'
MAKE='tally_test::Widget::make(tally_test::Trace*, int) const'
HELPER='(anonymous namespace)::helper(tally_test::Trace*)'
STEP='(anonymous namespace)::Step::in'
NEWH='std::set_new_handler(void (*)())'

"$TALLY" report "$WORK/c.prof" --leaks >"$WORK/c.txt" || fail "text"
expect_in "$WORK/c.txt" "#0  0x" "$NEWH" "$STEP $CC:$(mark cxx_step cxx_frames.cc) (inlined)" \
    "$FILL $CC:$(mark cxx_fill cxx_frames.cc)" "$MAKE $CC:$(mark cxx_make cxx_frames.cc)" \
    "$HELPER $CC:$(mark cxx_helper cxx_frames.cc)" "cxx_frames $CC:$(mark cxx_frames cxx_frames.cc)"
grep -q "_Z" "$WORK/c.txt" && fail "a mangled name in the text report"
ok "text: C++ frames demangled, with file:line"

"$TALLY" report "$WORK/c.prof" --format json >"$WORK/c.json" || fail "json"
python3 - "$WORK/c.json" "$S/docs/report.schema.json" <<'PY' || fail "json names"
import json, sys
r = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(r, json.load(open(sys.argv[2])))
except ImportError:
    pass
names = {f["function"]: f.get("system_name") for l in r["locations"].values() for f in l}
want = {
    "tally_test::Box<int>::fill(tally_test::Trace*, int)": "_ZN10tally_test3BoxIiE4fillEPNS_5TraceEi",
    "tally_test::Widget::make(tally_test::Trace*, int) const": "_ZNK10tally_test6Widget4makeEPNS_5TraceEi",
    "(anonymous namespace)::helper(tally_test::Trace*)": "_ZN12_GLOBAL__N_16helperEPN10tally_test5TraceE",
    "std::set_new_handler(void (*)())": "_ZSt15set_new_handlerPFvvE",
    "(anonymous namespace)::Step::in": None,  # inlined: DWARF has no linkage name for it
    "cxx_frames": None,                       # extern "C": nothing to demangle
}
for fn, sysname in want.items():
    assert fn in names and names[fn] == sysname, (fn, names)
assert not any(n.startswith("_Z") for n in names), names
print("ok: json: demangled functions, mangled system_name")
PY

"$TALLY" report "$WORK/c.prof" --format folded >"$WORK/c.folded" || fail "folded"
[ "$(cat "$WORK/c.folded")" = "pool:malloc;top;cxx_frames;$HELPER;$MAKE;$FILL;$STEP;$NEWH 4096" ] ||
    fail "folded: $(cat "$WORK/c.folded")"
"$TALLY" report "$WORK/c.prof" --format folded --cost leaked >"$WORK/cl.folded" || fail "folded leaked"
[ "$(cat "$WORK/cl.folded")" = "$(cat "$WORK/c.folded")" ] || fail "folded leaked: $(cat "$WORK/cl.folded")"
ok "folded: demangled frames"

"$TALLY" report "$WORK/c.prof" --format massif >"$WORK/c.massif" || fail "massif"
expect_in "$WORK/c.massif" ": $FILL ($CC:$(mark cxx_fill cxx_frames.cc))" ": $MAKE (" ": $NEWH (in "
if command -v ms_print >/dev/null; then
    ms_print "$WORK/c.massif" >"$WORK/c.ms" 2>&1 || { cat "$WORK/c.ms"; fail "ms_print rejected C++ names"; }
    expect_in "$WORK/c.ms" "$MAKE"
fi
ok "massif: demangled frames"

"$TALLY" report "$WORK/c.prof" --format html -o "$WORK/c.html" || fail "html"
# the page's data blob: JSON, with < and > escaped inside its <script>
expect_in "$WORK/c.html" 'tally_test::Box\u003cint\u003e::fill(tally_test::Trace*, int)' "$MAKE" "$HELPER" "$NEWH"
grep -q "_Z" "$WORK/c.html" && fail "a mangled name in the html"
ok "html: demangled frames"

# suppressions match the demangled name, as LSan's do (the mangled one too)
printf 'leak:tally_test::Widget::make\n' >"$WORK/s1"
"$TALLY" report "$WORK/c.prof" --leaks --suppressions "$WORK/s1" >"$WORK/s1.txt" || fail "suppressed by name"
expect_in "$WORK/s1.txt" "by leak:tally_test::Widget::make: 4096 bytes in 1 block"
printf 'leak:_ZNK10tally_test6Widget*\n' >"$WORK/s2"
"$TALLY" report "$WORK/c.prof" --leaks --suppressions "$WORK/s2" >"$WORK/s2.txt" || fail "suppressed by mangled name"
expect_in "$WORK/s2.txt" "by leak:_ZNK10tally_test6Widget*: 4096 bytes in 1 block"
ok "suppressions match C++ names demangled or mangled"

# pprof: name demangled, system_name mangled (npm's pprof-format decodes it)
command -v node >/dev/null || { echo "SKIP: node is needed to read pprof"; exit 0; }
NM=${TMPDIR:-/tmp}/tally-npm-pprof-format-$(id -u)
[ -f "$NM/node_modules/pprof-format/package.json" ] || { echo "SKIP: pprof-format is not installed (test_cli_pprof.sh installs it)"; exit 0; }
"$TALLY" report "$WORK/c.prof" --format pprof -o "$WORK/c.pb.gz" || fail "pprof"
cat >"$WORK/names.js" <<'JS'
const fs = require('fs'), zlib = require('zlib');
const { Profile } = require(process.argv[3] + '/node_modules/pprof-format');
const p = Profile.decode(zlib.gunzipSync(fs.readFileSync(process.argv[2])));
const S = p.stringTable.strings, n = Number;
const got = {};
for (const f of p.function) got[S[n(f.name)]] = S[n(f.systemName)];
const want = {
  'tally_test::Widget::make(tally_test::Trace*, int) const': '_ZNK10tally_test6Widget4makeEPNS_5TraceEi',
  'std::set_new_handler(void (*)())': '_ZSt15set_new_handlerPFvvE',
  'cxx_frames': 'cxx_frames',
};
for (const k in want) if (got[k] !== want[k]) { console.log('FAIL: ' + k + ' -> ' + got[k] + ' in ' + JSON.stringify(got)); process.exit(1); }
console.log('ok: pprof: demangled names, mangled system_name');
JS
node "$WORK/names.js" "$WORK/c.pb.gz" "$NM" || fail "pprof names"
