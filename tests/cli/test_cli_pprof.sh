#!/bin/sh
# tally report --format pprof: a real reader, npm's pprof-format, decodes
# it with the seven sample types (peak_space: bytes at the peak), the right totals, the pool and leak kind
# labels and the symbolized, inlined lines. npm installs the package once, into a cache
# directory under TMPDIR; without npm (or a registry) the test skips.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/cli/cli_common.sh"

command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node and npm are needed"; exit 77; }
NM=${TMPDIR:-/tmp}/tally-npm-pprof-format-$(id -u)
if [ ! -f "$NM/node_modules/pprof-format/package.json" ]; then
    mkdir -p "$NM"
    (cd "$NM" && timeout 300 npm install --silent --no-audit --no-fund pprof-format >/dev/null 2>&1) ||
        { echo "SKIP: npm install pprof-format failed (no registry?)"; exit 77; }
fi

"$MP" basic "$WORK/p.prof" || fail "make_profile"
"$TALLY" report "$WORK/p.prof" --format pprof -o "$WORK/p.pb.gz" || fail "pprof exited $?"
[ "$(head -c2 "$WORK/p.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "not gzip"

cat >"$WORK/check.js" <<'JS'
const fs = require('fs'), zlib = require('zlib');
const { Profile } = require(process.argv[3] + '/node_modules/pprof-format');
const p = Profile.decode(zlib.gunzipSync(fs.readFileSync(process.argv[2])));
const S = p.stringTable.strings, n = Number;
const fail = (m) => { console.log('FAIL: ' + m); process.exit(1); };
const types = p.sampleType.map(t => S[n(t.type)] + '/' + S[n(t.unit)]).join(' ');
if (types !== 'alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes leak_objects/count leak_space/bytes peak_space/bytes') fail(types);
const tot = [0, 0, 0, 0, 0, 0, 0], pools = {}, kinds = {};
const lab = (s, k) => { const l = s.label.find(l => S[n(l.key)] === k); return l ? S[n(l.str)] : undefined; };
for (const s of p.sample) {
  s.value.forEach((v, i) => tot[i] += n(v));
  const pool = lab(s, 'pool');
  if (!pool) fail('a sample without a pool label');
  pools[pool] = (pools[pool] || 0) + n(s.value[1]);
  const kind = lab(s, 'kind');
  if (kind) kinds[kind + (lab(s, 'suppressed_by') ? '/suppressed' : '')] = n(s.value[5]);
  else if (n(s.value[4]) || n(s.value[5])) fail('leak values without a kind label');
}
if (tot.join(' ') !== '10006 6004460 5 4460 6 4492 1004960') fail('totals ' + tot.join(' '));
if (pools.malloc !== 5004460 || pools.arena !== 1000000) fail('pools ' + JSON.stringify(pools));
if (JSON.stringify(kinds) !== '{"definite":200,"indirect":64,"possible":32,"reachable":100,"reachable/suppressed":4096}')
  fail('kinds ' + JSON.stringify(kinds));
const fn = id => S[n(p.function.find(f => n(f.id) === n(id)).name)];
const frames = p.sample.map(s => s.locationId.map(id => p.location.find(l => n(l.id) === n(id)))
  .map(l => l.line.map(ln => fn(ln.functionId) + ':' + n(ln.line)).join('<')).join(' | '));
const want = ['peak_leaf:' + process.argv[4], 'inlined_helper:' + process.argv[5] + '<with_inline:' + process.argv[6]];
for (const w of want) if (!frames.some(f => f.startsWith(w))) fail('no stack starting ' + w + ' in ' + frames.join('; '));
if (S[n(p.defaultSampleType)] !== 'inuse_space') fail('default sample type');
console.log('ok: pprof-format decodes it: 7 sample types, totals ' + tot.join(' ') + ', pools, kinds, inlined lines');
JS
node "$WORK/check.js" "$WORK/p.pb.gz" "$NM" "$(mark peak_leaf)" "$(mark inlined_helper)" "$(mark with_inline)" || fail "pprof check"

# binary output refuses a terminal, so it must go to a file or a pipe
"$TALLY" report "$WORK/p.prof" --format pprof | gzip -t || fail "pprof through a pipe"
ok "pprof through a pipe"
