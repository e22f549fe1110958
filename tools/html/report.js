/* report.js: draws tally's HTML page from the JSON blob that
 * tools/report_html.c writes into <script id=tally-data>. Inlined into the
 * page at build time (tools/html/embed.sh), beside d3-flame-graph.
 *
 * Everything comes from one "merged tree": the profile's stack tree with
 * each address expanded into its symbolized frames (inlined ones too) and
 * sibling frames of the same (function, file) merged, with or without the
 * irrelevant frames (allocator, libc, libstdc++, tally's own). A cost mode is
 * then one pass that adds each record's or leak group's figure to its merged
 * node and one pass that sums subtrees: linear in the nodes, so a profile of
 * 100k stacks switches modes at once. */
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('tally-data').textContent);
  const PHRASE = ['live', 'definitely lost', 'indirectly lost', 'possibly lost', 'still reachable'];
  const KIND = ['live', 'definite', 'indirect', 'possible', 'reachable'];
  const LOST = 0, POSSIBLE = 1, REACHABLE = 2, LIVE = 3, SUPPRESSED = 4;
  const ROWS = 200; /* rows a tree level shows */
  const LIMIT = D.top < 0 ? Infinity : D.top; /* rows a table shows: --top */

  /* ---- helpers ------------------------------------------------------------ */
  function human(b) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = Math.abs(b), i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (b < 0 ? '-' : '') + (i ? v.toFixed(1) : String(v)) + ' ' + u[i];
  }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const c of kids) if (c != null) e.append(c);
    return e;
  }
  function svgEl(tag, attrs) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  const poolName = new Map(D.pools.map(p => [p.id, p.name]));
  function pool(id) { return poolName.has(id) ? poolName.get(id) : '?'; }
  function baseName(f) { return f ? f.slice(f.lastIndexOf('/') + 1) : ''; }
  function funcLabel(f) {
    const fn = D.funcs[f];
    return fn[1] ? fn[0] + ' ' + baseName(fn[1]) : fn[0];
  }
  /* A frame with its own line (merged frames have several). */
  function frameLong(f, line) {
    const fn = D.funcs[f];
    return fn[1] ? fn[0] + ' ' + fn[1] + ':' + line : fn[0];
  }
  function funcLong(f) {
    const fn = D.funcs[f];
    return fn[1] ? fn[0] + ' ' + fn[1] : fn[0];
  }
  function blocks(n) { return n + (n === 1 ? ' block' : ' blocks'); }
  function pct(v, t) { return t > 0 ? (100 * v / t).toFixed(1) + '%' : '-'; }
  function secs(ns) { return (ns / 1e9).toFixed(3) + ' s'; }

  /* ---- the merged tree ---------------------------------------------------- */
  function buildMerged(hide) {
    const n = D.parent.length;
    const map = new Int32Array(n);
    const mparent = [-1], mfunc = [-1], kids = [new Map()];
    for (let k = 1; k < n; k++) {
      let m = map[D.parent[k]];
      const fr = D.addrs[D.frame[k]];
      for (let i = 0; i < fr.length; i += 2) {
        const f = fr[i];
        if (hide && D.funcs[f][2]) continue;
        let c = kids[m].get(f);
        if (c === undefined) {
          c = mparent.length;
          mparent.push(m);
          mfunc.push(f);
          kids.push(new Map());
          kids[m].set(f, c);
        }
        m = c;
      }
      map[k] = m;
    }
    return { map, mparent, mfunc, kids };
  }

  /* A mode: the figure of each record or leak group it counts, and its unit. */
  const R = D.records;
  const MODES = {
    peak: { label: 'bytes at the peak', bytes: true, items: () => recs(R.peak_bytes) },
    leaked: { label: 'leaked: definitely and indirectly lost', bytes: true, items: () => leaks(g => g[0] === LOST) },
    definite: { label: 'leaked: definitely lost', bytes: true, items: () => leaks(g => g[0] !== SUPPRESSED && g[3] === 1) },
    indirect: { label: 'leaked: indirectly lost', bytes: true, items: () => leaks(g => g[0] !== SUPPRESSED && g[3] === 2) },
    possible: { label: 'leaked: possibly lost', bytes: true, items: () => leaks(g => g[0] !== SUPPRESSED && g[3] === 3) },
    reachable: { label: 'leaked: still reachable', bytes: true, items: () => leaks(g => g[0] !== SUPPRESSED && g[3] === 4) },
    allocated: { label: 'allocated bytes', bytes: true, items: () => recs(R.total_bytes) },
    temporary: { label: 'temporary allocations (count)', bytes: false, items: () => recs(R.temporary_count) },
    live: { label: 'live at exit', bytes: true, items: () => recs(R.live_bytes) },
  };
  function recs(col) {
    const out = [];
    for (let i = 0; i < col.length; i++) if (col[i] > 0) out.push([R.node[i], col[i]]);
    return out;
  }
  function leaks(pred) {
    return D.leaks.filter(pred).map(g => [g[1], g[4]]);
  }
  function fmt(mode, v) { return MODES[mode].bytes ? human(v) + ' (' + v + ' bytes)' : v + ' allocations'; }

  /* Self and total per merged node. */
  function costs(T, mode) {
    const n = T.mparent.length;
    const self = new Float64Array(n), tot = new Float64Array(n);
    for (const [node, v] of MODES[mode].items()) self[T.map[node]] += v;
    tot.set(self);
    for (let m = n - 1; m > 0; m--) tot[T.mparent[m]] += tot[m];
    return { self, tot };
  }

  /* A stack's label: its innermost frame, which with hidden frames folded
   * away is its first frame in the user's own code. */
  function nodeLabel(T, node, notSampled) {
    if (notSampled) return '(not sampled)';
    if (node === 0) return '(no frames)';
    for (let k = node; k !== 0; k = D.parent[k]) {
      const fr = D.addrs[D.frame[k]];
      for (let i = fr.length - 2; i >= 0; i -= 2)
        if (!state.hide || !D.funcs[fr[i]][2]) return frameLong(fr[i], fr[i + 1]);
    }
    return '(only hidden frames)';
  }
  /* The whole stack, innermost first, hidden frames marked. */
  function stackList(node) {
    const ol = el('ol');
    for (let k = node; k !== 0; k = D.parent[k]) {
      const fr = D.addrs[D.frame[k]];
      for (let i = fr.length - 2; i >= 0; i -= 2) {
        const f = fr[i];
        ol.append(el('li', { class: D.funcs[f][2] ? 'hidden-frame' : '', text: frameLong(f, fr[i + 1]) + (i < fr.length - 2 ? ' (inlined)' : '') }));
      }
    }
    return ol;
  }
  function stackCell(T, node, notSampled) {
    const d = el('details', {}, el('summary', { text: nodeLabel(T, node, notSampled) }));
    d.addEventListener('toggle', () => { if (d.open && d.children.length < 2) d.append(stackList(node)); }, { once: true });
    return el('td', { class: 'stack' }, d);
  }

  /* ---- page state --------------------------------------------------------- */
  const state = { mode: D.peak_total > 0 ? 'peak' : 'allocated', hide: true, search: '' };
  let T = buildMerged(true), C = null;
  const app = el('div', { id: 'app' });
  document.body.append(app);

  /* ---- header ------------------------------------------------------------- */
  app.append(el('h1', { text: 'tally report' }));
  app.append(el('p', { id: 'meta', text: D.path + (D.has_meta ? ': ' + (D.cmdline || D.exe) + ', pid ' + D.pid + ', ' + secs(D.duration_ns) : '') + (D.sampled ? ' (sampled: per-stack figures are estimates)' : '') }));
  const peakH = el('h2', { id: 'peak-heading', 'data-bytes': D.peak_total, text: 'Peak: ' + human(D.peak_total) + ' (' + D.peak_total + ' bytes) at ' + secs(D.peak_ns) + (D.max_rss > 0 ? '; peak RSS ' + human(D.max_rss) : '') });
  app.append(peakH);
  if (D.classified) {
    const p = el('p', { id: 'leak-kinds' });
    [1, 2, 3, 4].forEach((k, i) => {
      if (i) p.append('; ');
      p.append(el('span', { 'data-kind': KIND[k], 'data-bytes': D.kind_bytes[k], 'data-count': D.kind_count[k], text: PHRASE[k] + ': ' + D.kind_bytes[k] + ' bytes in ' + blocks(D.kind_count[k]) }));
    });
    app.append(p);
  }
  const nav = el('nav', {});
  for (const [id, t] of [['flame-section', 'Flame graph'], ['trees', 'Top-down / bottom-up'], ['callers', 'Callers / callees'], ['chart-section', 'Memory over time'], ['hist-section', 'Size histogram'], ['peak-section', 'Peak'], ['leak-section', 'Leaks'], ['pools-section', 'Pools']])
    if (!(/chart|hist|pools/.test(id) && !D.sections.pools) && !(id === 'peak-section' && !D.sections.peak) && !(id === 'leak-section' && !D.sections.leaks))
      nav.append(el('a', { href: '#' + id, text: t }), ' ');
  app.append(nav);

  /* ---- controls ----------------------------------------------------------- */
  const modeSel = el('select', { id: 'mode' });
  for (const m in MODES) modeSel.append(el('option', { value: m, text: MODES[m].label }));
  modeSel.value = state.mode;
  const hideBox = el('input', { type: 'checkbox', id: 'hide' });
  hideBox.checked = true;
  const searchBox = el('input', { type: 'search', id: 'search', placeholder: 'search functions (regexp)' });
  const searchOut = el('span', { id: 'search-result' });
  const totalOut = el('span', { id: 'mode-total' });
  const resetBtn = el('button', { id: 'reset-zoom', text: 'reset zoom' });
  app.append(el('section', { id: 'flame-section' }, el('h2', { text: 'Flame graph' }),
    el('div', { class: 'controls' }, el('label', {}, 'cost: ', modeSel), ' ',
      el('label', {}, hideBox, ' hide irrelevant frames (allocator, libc, libstdc++, tally)'), ' ',
      searchBox, ' ', resetBtn),
    el('p', {}, totalOut, ' ', searchOut),
    el('div', { id: 'flame' }),
    el('p', { id: 'flame-details', class: 'details' })));

  /* ---- flame graph (d3-flame-graph) --------------------------------------
   * Why a library: d3-flame-graph gives zoom with animated transitions,
   * search highlighting, tooltips, label clipping and a partition layout
   * that hides frames narrower than a pixel, all maintained upstream; our
   * own SVG code had none of these. It gets a tree already merged and
   * pruned below 1/20000 of the total, so its layout stays small. */
  const flameDiv = document.getElementById('flame');
  let flame = null;
  function flameData() {
    const total = C.tot[0], min = total / 20000;
    function make(m) {
      const node = { name: m === 0 ? 'all' : funcLabel(T.mfunc[m]), value: C.tot[m], m: m, children: [] };
      for (const c of T.kids[m].values()) if (C.tot[c] > 0 && C.tot[c] >= min) node.children.push(make(c));
      return node;
    }
    return make(0);
  }
  function drawFlame() {
    flameDiv.textContent = '';
    totalOut.textContent = MODES[state.mode].label + ': ' + fmt(state.mode, C.tot[0]);
    if (!(C.tot[0] > 0)) {
      flameDiv.append(el('p', { id: 'flame-none', text: 'Nothing to show in this mode.' }));
      flame = null;
      return;
    }
    const width = Math.max(600, Math.min(1400, document.documentElement.clientWidth - 40));
    flame = flamegraph().width(width).cellHeight(18).transitionDuration(250).minFrameSize(1)
      .sort(true).selfValue(false)
      .setDetailsElement(document.getElementById('flame-details'))
      .label(d => d.data.name + ': ' + fmt(state.mode, d.value) + ', ' + pct(d.value, C.tot[0]));
    d3.select(flameDiv).datum(flameData()).call(flame);
    if (state.search) runSearch();
  }
  /* The matched share, exact over the whole merged tree (not only what is
   * drawn): a matching frame's total, unless a caller already matched. */
  function runSearch() {
    state.search = searchBox.value.trim();
    if (!state.search) {
      searchOut.textContent = '';
      if (flame) flame.clear();
      return;
    }
    let re;
    try { re = new RegExp(state.search); } catch (e) { searchOut.textContent = 'bad pattern: ' + e.message; return; }
    const n = T.mparent.length, covered = new Uint8Array(n);
    const match = new Uint8Array(D.funcs.length);
    D.funcs.forEach((f, i) => { match[i] = re.test(f[0]) || re.test(funcLabel(i)) ? 1 : 0; });
    let sum = 0, frames = 0;
    for (let m = 1; m < n; m++) {
      covered[m] = covered[T.mparent[m]];
      if (match[T.mfunc[m]] && C.tot[m] > 0) {
        frames++;
        if (!covered[m]) { sum += C.tot[m]; covered[m] = 1; }
      }
    }
    searchOut.textContent = 'matched: ' + fmt(state.mode, sum) + ', ' + pct(sum, C.tot[0]) + ' of the total, in ' + frames + ' frames';
    searchOut.dataset.value = sum;
    if (flame) {
      flame.setSearchMatch((d, term) => re.test(d.data.name));
      flame.search(state.search);
    }
  }
  searchBox.addEventListener('input', runSearch);
  resetBtn.addEventListener('click', () => { if (flame) flame.resetZoom(); });

  /* ---- top-down and bottom-up -------------------------------------------- */
  const treesDiv = el('div', { id: 'tree-table' });
  const viewSel = el('select', { id: 'tree-view' },
    el('option', { value: 'top-down', text: 'top-down (callees under their callers)' }),
    el('option', { value: 'bottom-up', text: 'bottom-up (callers under the allocating function)' }));
  app.append(el('section', { id: 'trees' }, el('h2', { text: 'Top-down and bottom-up' }),
    el('p', {}, el('label', {}, 'view: ', viewSel), ' (the cost is the flame graph\'s; click a row to open it)'), treesDiv));

  /* Bottom-up: each stack's self cost walked from its innermost frame out,
   * identical frames merged at each level. Built a level at a time, when a
   * row is opened: a row holds the merged nodes it stands for and their
   * costs, and its callers are their parents, grouped by frame. */
  function groupBy(pairs) {
    const by = new Map();
    for (const [m, v] of pairs) {
      if (m <= 0) continue;
      let g = by.get(T.mfunc[m]);
      if (!g) { g = { f: T.mfunc[m], v: 0, pairs: [] }; by.set(T.mfunc[m], g); }
      g.v += v;
      g.pairs.push([m, v]);
    }
    return [...by.values()];
  }
  function bottomUp() {
    const pairs = [];
    let v = 0;
    for (let m = 1; m < T.mparent.length; m++) if (C.self[m] > 0) { pairs.push([m, C.self[m]]); v += C.self[m]; }
    return { v: v + C.self[0], top: pairs };
  }
  function topDown() {
    function make(m) { return { f: T.mfunc[m], v: C.tot[m], self: C.self[m], m: m }; }
    return { v: C.tot[0], lazyKids: m => [...T.kids[m].values()].filter(c => C.tot[c] > 0).map(make), m: 0 };
  }
  function kidsOf(node) {
    if (node.top) return groupBy(node.top);
    if (node.pairs) return node.kids || (node.kids = groupBy(node.pairs.map(([m, v]) => [T.mparent[m], v])));
    return node.m !== undefined ? topDown().lazyKids(node.m) : [];
  }
  function drawTrees() {
    treesDiv.textContent = '';
    const root = viewSel.value === 'bottom-up' ? bottomUp() : topDown();
    const total = root.v;
    const table = el('table', { class: 'tree', id: 'tree-' + viewSel.value });
    table.append(el('thead', {}, el('tr', {}, el('th', { text: 'function' }), el('th', { text: MODES[state.mode].bytes ? 'bytes' : 'count' }), el('th', { text: 'share' }))));
    const body = el('tbody');
    table.append(body);
    function rows(node, depth, after) {
      const ks = kidsOf(node).sort((a, b) => b.v - a.v).slice(0, ROWS);
      let prev = after;
      for (const k of ks) {
        const tr = el('tr', { 'data-depth': depth },
          el('td', { style: 'padding-left:' + (depth * 14 + 4) + 'px', title: funcLong(k.f) },
            el('span', { class: 'twisty', text: kidsOf(k).length ? '\u25b8 ' : '  ' }), funcLabel(k.f)),
          el('td', { text: MODES[state.mode].bytes ? String(k.v) : String(k.v) }),
          el('td', { text: pct(k.v, total) }));
        let open = null;
        tr.addEventListener('click', () => {
          if (open) { open.forEach(r => r.remove()); open = null; tr.querySelector('.twisty').textContent = '\u25b8 '; return; }
          const before = new Set(body.children);
          rows(k, depth + 1, tr);
          open = [...body.children].filter(r => !before.has(r));
          if (open.length) tr.querySelector('.twisty').textContent = '\u25be ';
        });
        if (prev) prev.after(tr); else body.append(tr);
        prev = tr;
      }
    }
    rows(root, 0, null);
    if (!body.children.length) treesDiv.append(el('p', { text: 'Nothing to show in this mode.' }));
    else treesDiv.append(table);
  }
  viewSel.addEventListener('change', drawTrees);

  /* ---- callers and callees of one function -------------------------------
   * Over every merged node of the function that no node of the same
   * function encloses (recursion counts once): its callers are the nodes'
   * parents, its callees their children, each merged by frame. */
  const focusSel = el('select', { id: 'focus' });
  const focusDiv = el('div', { id: 'focus-table' });
  app.append(el('section', { id: 'callers' }, el('h2', { text: 'Callers and callees' }),
    el('p', {}, el('label', {}, 'function: ', focusSel), ' (the cost is the flame graph\'s)'), focusDiv));
  function funcTotals() {
    const n = T.mparent.length, inside = new Uint8Array(n), tot = new Map();
    for (let m = 1; m < n; m++) {
      const f = T.mfunc[m];
      let enclosed = false;
      for (let k = T.mparent[m]; k > 0; k = T.mparent[k]) if (T.mfunc[k] === f) { enclosed = true; break; }
      if (enclosed || !(C.tot[m] > 0)) continue;
      inside[m] = 1;
      tot.set(f, (tot.get(f) || 0) + C.tot[m]);
    }
    return { inside, tot };
  }
  function drawFocus(keep) {
    const F = funcTotals();
    const prev = keep ? focusSel.value : '';
    focusSel.textContent = '';
    const fs = [...F.tot.entries()].sort((a, b) => b[1] - a[1]).slice(0, 1000);
    for (const [f, v] of fs) focusSel.append(el('option', { value: f, text: funcLabel(f) + ' (' + v + ')' }));
    if (prev && F.tot.has(Number(prev))) focusSel.value = prev;
    focusDiv.textContent = '';
    if (!fs.length) return;
    const f = Number(focusSel.value);
    const callers = new Map(), callees = new Map();
    let self = 0;
    for (let m = 1; m < T.mparent.length; m++) {
      if (!F.inside[m] || T.mfunc[m] !== f) continue;
      const p = T.mparent[m];
      const key = p > 0 ? T.mfunc[p] : -1;
      callers.set(key, (callers.get(key) || 0) + C.tot[m]);
      self += C.self[m];
      for (const c of T.kids[m].values()) if (C.tot[c] > 0) callees.set(T.mfunc[c], (callees.get(T.mfunc[c]) || 0) + C.tot[c]);
    }
    const total = F.tot.get(f);
    const list = (id, title, map, extra) => {
      const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, ROWS);
      const t = el('table', { id: id, class: 'tree' }, el('thead', {}, el('tr', {}, el('th', { text: title }), el('th', { text: 'cost' }), el('th', { text: 'share' }))));
      const body = el('tbody');
      for (const [k, v] of rows) body.append(el('tr', {}, el('td', { text: k < 0 ? '(outermost)' : funcLabel(k) }), el('td', { text: String(v) }), el('td', { text: pct(v, total) })));
      if (extra) body.append(extra);
      t.append(body);
      return t;
    };
    focusDiv.append(el('p', { id: 'focus-total', 'data-value': total, text: funcLong(f) + ': ' + fmt(state.mode, total) + ', ' + pct(total, C.tot[0]) + ' of the total' }),
      list('focus-callers', 'called from', callers),
      list('focus-callees', 'calls', callees, self > 0 ? el('tr', {}, el('td', { text: '(itself)' }), el('td', { text: String(self) }), el('td', { text: pct(self, total) })) : null));
  }
  focusSel.addEventListener('change', () => drawFocus(true));

  /* ---- memory over time --------------------------------------------------- */
  const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  function chart() {
    const sec = el('section', { id: 'chart-section' }, el('h2', { text: 'Memory over time' }));
    app.append(sec);
    const S = D.series;
    if (!S || S.points.length < 2 || !S.pools.length) { sec.append(el('p', { id: 'chart-none', text: 'The profile has no time series.' })); return; }
    const W = 900, H = 280, L = 80, TOP = 20, np = S.pools.length, P = S.points;
    const step = Math.max(1, Math.floor(P.length / 2000));
    const idx = [];
    for (let i = 0; i < P.length; i++) if (i % step === 0 || i === S.peak_index || i === P.length - 1) idx.push(i);
    let max = 1;
    for (const p of P) {
      let s = 0;
      for (let j = 0; j < np; j++) s += Math.max(0, p[2 + j]);
      max = Math.max(max, s, p[1]);
    }
    const t0 = P[0][0], t1 = P[P.length - 1][0], span = t1 > t0 ? t1 - t0 : 1;
    const X = t => L + W * (t - t0) / span, Y = v => TOP + H - H * v / max;
    const svg = svgEl('svg', { id: 'chart', width: W + L + 20, height: H + TOP + 60, role: 'img', 'aria-label': 'live bytes per pool and RSS over time' });
    for (let j = 0; j < np; j++) {
      let d = '';
      for (const i of idx) {
        let s = 0;
        for (let k = 0; k <= j; k++) s += Math.max(0, P[i][2 + k]);
        d += (d ? 'L' : 'M') + X(P[i][0]).toFixed(1) + ' ' + Y(s).toFixed(1) + ' ';
      }
      for (let q = idx.length - 1; q >= 0; q--) {
        const i = idx[q];
        let s = 0;
        for (let k = 0; k < j; k++) s += Math.max(0, P[i][2 + k]);
        d += 'L' + X(P[i][0]).toFixed(1) + ' ' + Y(s).toFixed(1) + ' ';
      }
      const path = svgEl('path', { class: 'area', 'data-pool': pool(S.pools[j]), fill: PALETTE[j % PALETTE.length], 'fill-opacity': 0.85, d: d + 'Z' });
      path.append(Object.assign(svgEl('title', {}), { textContent: 'pool ' + pool(S.pools[j]) }));
      svg.append(path);
    }
    let rss = '';
    for (const i of idx) if (P[i][1] > 0) rss += (rss ? 'L' : 'M') + X(P[i][0]).toFixed(1) + ' ' + Y(P[i][1]).toFixed(1) + ' ';
    if (rss) svg.append(svgEl('path', { id: 'rss', d: rss, fill: 'none', stroke: '#222', 'stroke-dasharray': '4 3' }));
    if (S.peak_index >= 0) {
      const p = P[S.peak_index];
      let s = 0;
      for (let j = 0; j < np; j++) s += Math.max(0, p[2 + j]);
      const g = svgEl('g', { id: 'peak-marker', 'data-bytes': s, 'data-t': p[0] });
      g.append(svgEl('line', { x1: X(p[0]), x2: X(p[0]), y1: TOP, y2: TOP + H, stroke: '#c00', 'stroke-dasharray': '2 2' }));
      g.append(svgEl('circle', { cx: X(p[0]), cy: Y(s), r: 4, fill: '#c00' }));
      const t = svgEl('text', { x: Math.min(X(p[0]) + 6, L + W - 150), y: Math.max(Y(s) - 6, TOP + 10), 'font-size': 12, fill: '#c00' });
      t.textContent = 'peak ' + human(s) + ' at ' + secs(p[0]);
      g.append(t);
      svg.append(g);
    }
    const axis = (x1, y1, x2, y2) => svg.append(svgEl('line', { x1, y1, x2, y2, stroke: '#333' }));
    axis(L, TOP + H, L + W, TOP + H);
    axis(L, TOP, L, TOP + H);
    const text = (x, y, s, anchor) => { const t = svgEl('text', { x, y, 'font-size': 11, 'text-anchor': anchor || 'start' }); t.textContent = s; svg.append(t); };
    text(L - 4, TOP + 10, human(max), 'end');
    text(L - 4, TOP + H, '0', 'end');
    text(L, TOP + H + 14, secs(t0));
    text(L + W, TOP + H + 14, secs(t1), 'end');
    const legend = S.pools.map((id, j) => [pool(id), PALETTE[j % PALETTE.length]]).concat(rss ? [['RSS', null]] : []);
    legend.forEach(([name, color], j) => {
      if (color) svg.append(svgEl('rect', { x: L + 120 * j, y: TOP + H + 26, width: 10, height: 10, fill: color }));
      else svg.append(svgEl('line', { x1: L + 120 * j, x2: L + 120 * j + 10, y1: TOP + H + 31, y2: TOP + H + 31, stroke: '#222', 'stroke-dasharray': '4 3' }));
      text(L + 120 * j + 14, TOP + H + 35, name);
    });
    sec.append(svg);
  }

  /* ---- size histogram ----------------------------------------------------- */
  function histogram() {
    const sec = el('section', { id: 'hist-section' }, el('h2', { text: 'Allocation sizes' }));
    app.append(sec);
    const pools = D.pools.filter(p => p.histogram.some(v => v > 0));
    if (!pools.length) { sec.append(el('p', { text: 'The profile has no size histogram.' })); return; }
    const nb = Math.max(...pools.map(p => p.histogram.length));
    let max = 1;
    const sum = [];
    for (let k = 0; k < nb; k++) { sum[k] = pools.reduce((s, p) => s + (p.histogram[k] || 0), 0); max = Math.max(max, sum[k]); }
    const t = el('table', { id: 'histogram' }, el('thead', {}, el('tr', {}, el('th', { text: 'size' }), ...pools.map(p => el('th', { text: p.name })), el('th', { text: 'allocations' }))));
    const body = el('tbody');
    t.append(body);
    const size = b => b < 1024 ? b + ' B' : human(b);
    for (let k = 0; k < nb; k++) {
      if (!sum[k]) continue;
      body.append(el('tr', { 'data-bucket': k },
        el('td', { text: (k === 0 ? '0' : size(2 ** k)) + ' \u2013 ' + size(2 ** (k + 1) - 1) }),
        ...pools.map(p => el('td', { text: String(p.histogram[k] || 0) })),
        el('td', { class: 'bar' }, el('div', { style: 'width:' + (300 * sum[k] / max).toFixed(1) + 'px' }))));
    }
    sec.append(t);
  }

  /* ---- tables ------------------------------------------------------------- */
  function table(id, heads, rows) {
    const t = el('table', { id: id }, el('thead', {}, el('tr', {}, ...heads.map(h => el('th', { text: h })))));
    const body = el('tbody');
    rows.slice(0, LIMIT).forEach(r => body.append(r()));
    t.append(body);
    const box = el('div', {}, t);
    if (rows.length > LIMIT) box.append(el('p', { class: 'more', text: (rows.length - LIMIT) + ' more rows not shown (--top).' }));
    return box;
  }
  const peakSec = el('section', { id: 'peak-section' });
  const leakSec = el('section', { id: 'leak-section' });
  function drawPeak() {
    peakSec.textContent = '';
    peakSec.append(el('h2', { text: 'Held at the peak: ' + human(D.peak_total) }));
    const order = [];
    for (let i = 0; i < R.node.length; i++) if (R.peak_bytes[i] > 0) order.push(i);
    order.sort((a, b) => R.peak_bytes[b] - R.peak_bytes[a]);
    peakSec.append(table('peak', ['bytes', 'share', 'pool', 'allocated at'], order.map(i => () =>
      el('tr', {}, el('td', { text: String(R.peak_bytes[i]) }), el('td', { text: pct(R.peak_bytes[i], D.peak_total) }),
        el('td', { text: pool(R.pool[i]) }), stackCell(T, R.node[i], false)))));
  }
  function amount(l) { return human(l[0]) + ' (' + l[0] + ' bytes) in ' + blocks(l[1]) + ' from ' + l[2] + (l[2] === 1 ? ' stack' : ' stacks'); }
  function leakTable(id, list) {
    const gs = D.leaks.filter(g => g[0] === list);
    const heads = ['bytes', 'blocks', 'kind', 'pool', 'allocated at'].concat(list === SUPPRESSED ? ['rule'] : []);
    return table(id, heads, gs.map(g => () => el('tr', { 'data-kind': KIND[g[3]] },
      el('td', { text: String(g[4]) }), el('td', { text: String(g[5]) }), el('td', { text: PHRASE[g[3]] }),
      el('td', { text: pool(g[2]) }), stackCell(T, g[1], g[7] === 1),
      list === SUPPRESSED ? el('td', { text: g[6] || '' }) : null)));
  }
  function drawLeaks() {
    leakSec.textContent = '';
    const L = D.lists;
    if (D.classified) {
      leakSec.append(el('h2', { text: 'Leaks, definitely and indirectly lost: ' + amount(L[LOST]) }), leakTable('leaks', LOST));
      if (L[POSSIBLE][1]) leakSec.append(el('h3', { text: 'Possibly lost (only interior pointers reach them): ' + amount(L[POSSIBLE]) }), leakTable('possible', POSSIBLE));
      if (L[REACHABLE][1]) {
        leakSec.append(el('h3', { text: 'Still reachable: ' + amount(L[REACHABLE]) }));
        leakSec.append(D.show_reachable ? leakTable('reachable', REACHABLE) : el('p', { id: 'reachable-note', text: 'Not listed: --show-reachable lists them.' }));
      }
    }
    if (L[LIVE][1] || !D.classified)
      leakSec.append(el('h2', { text: 'Live blocks, not checked for leaks: ' + amount(L[LIVE]) }), leakTable('live', LIVE));
    if (L[SUPPRESSED][1]) {
      const ul = el('ul', { id: 'rules' });
      for (const r of D.rules) ul.append(el('li', { text: r[0] + (r[1] ? ' (built in)' : '') + ': ' + r[2] + ' bytes in ' + blocks(r[3]) }));
      leakSec.append(el('h3', { text: 'Suppressed: ' + amount(L[SUPPRESSED]) }), ul, leakTable('suppressed', SUPPRESSED));
    }
  }
  function pools() {
    const sec = el('section', { id: 'pools-section' }, el('h2', { text: 'Pools' }));
    sec.append(table('pools', ['pool', 'current', 'peak', 'total', 'count', 'temporary'], D.pools.map(p => () =>
      el('tr', {}, ...[p.name, p.current, p.peak, p.total_bytes, p.total_count, p.temporary_count].map(v => el('td', { text: String(v) }))))));
    app.append(sec);
  }

  /* ---- wiring ------------------------------------------------------------- */
  function recompute() {
    C = costs(T, state.mode);
    drawFlame();
    drawTrees();
    drawFocus(true);
  }
  modeSel.addEventListener('change', () => { state.mode = modeSel.value; recompute(); });
  hideBox.addEventListener('change', () => {
    state.hide = hideBox.checked;
    T = buildMerged(state.hide);
    recompute();
    drawPeak();
    drawLeaks();
  });
  /* --pools, --peak, --leaks: the sections asked for (all by default) */
  if (D.sections.pools) chart();
  if (D.sections.pools) histogram();
  if (D.sections.peak) app.append(peakSec);
  if (D.sections.leaks) app.append(leakSec);
  if (D.sections.pools) pools();
  recompute();
  drawPeak();
  drawLeaks();
  /* the time from navigation to a drawn page, for bench/html_bench.sh */
  requestAnimationFrame(() => setTimeout(() => {
    document.body.dataset.readyMs = Math.round(performance.now());
    document.body.dataset.ready = '1';
  }, 0));
})();
