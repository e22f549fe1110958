// html_check.js PAGE TEXT FUNC LEAKFUNC OUTER [real]: drives tally's HTML page (PAGE, from
// `tally report --format html`) in Debian's chromium through playwright-core
// and checks what it shows against `tally report --format text` of the same
// profile (TEXT): the peak, the leaked bytes of each kind, the chart's peak
// mark, the histogram's counts; clicks into FUNC's frame in the flame graph
// (zoom), searches for FUNC (its share must be the text report's peak
// stacks through FUNC), switches the cost mode, turns "hide irrelevant
// frames" off and on, and opens the bottom-up view. LEAKFUNC must show in
// the leaked flame graph, OUTER must head the top-down tree. "real": the
// profile is a real run's, whose size histogram counts every allocation
// (make_profile's synthetic ones do not).
// PLAYWRIGHT: the playwright-core directory (tools/html/node_modules/...).
'use strict';
const fs = require('fs');
const { chromium } = require(process.env.PLAYWRIGHT);
const [page_path, text_path, func, leakFunc, outer, real] = process.argv.slice(2);
const text = fs.readFileSync(text_path, 'utf8');

let failures = 0;
function check(cond, what, detail) {
  if (cond) console.log('ok: ' + what);
  else { failures++; console.log('FAIL: ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : '')); }
}

// ---- what the text report says
const peak = Number(/^PEAK: (\d+) bytes/m.exec(text)[1]);
const kinds = {};
const kl = /^LEAKS: (.*)$/m.exec(text);
if (kl) for (const m of kl[1].matchAll(/(definitely lost|indirectly lost|possibly lost|still reachable): (\d+) bytes in (\d+) block/g)) kinds[m[1]] = Number(m[2]);
const lost = /^LOST: (\d+) bytes/m.exec(text);
// the PEAK section's stacks: bytes and the text of their frames
function entries(section) {
  const start = text.indexOf('\n' + section);
  if (start < 0) return [];
  const body = text.slice(start + 1).split('\n\n')[0].split('\n').slice(1);
  const out = [];
  for (const line of body) {
    const m = /^  (\d+) bytes/.exec(line);
    if (m) out.push({ bytes: Number(m[1]), frames: '' });
    else if (out.length) out[out.length - 1].frames += line + '\n';
  }
  return out;
}
const peakStacks = entries('PEAK:');
const through = peakStacks.filter(e => e.frames.includes(func)).reduce((s, e) => s + e.bytes, 0);
const pools = {};
const pl = text.split('\n\n').find(s => s.startsWith('POOLS'));
for (const line of pl.split('\n').slice(2)) {
  const f = line.trim().split(/\s+/);
  pools[f[0]] = Number(f[4]); // count
}
const HIDDEN = /^(malloc|calloc|realloc|operator new|std::|__gnu_cxx::|tally_|shim_|_start|__libc_|_IO_)|libstdc\+\+|libc\.so/;

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const errors = [];
  const requests = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', e => errors.push(e.message));
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', r => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
    await page.goto('file://' + page_path);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
    check(errors.length === 0, 'the page runs without errors', errors);

    // ---- the numbers against the text report
    const headBytes = Number(await page.getAttribute('#peak-heading', 'data-bytes'));
    check(headBytes === peak, 'the peak heading is the text report\'s peak (' + peak + ')', headBytes);
    for (const [phrase, bytes] of Object.entries(kinds)) {
      const kind = phrase.split(' ')[0].replace('definitely', 'definite').replace('indirectly', 'indirect').replace('possibly', 'possible').replace('still', 'reachable');
      const got = Number(await page.getAttribute('#leak-kinds span[data-kind="' + kind + '"]', 'data-bytes'));
      check(got === bytes, phrase + ': ' + bytes + ' bytes, as in the text report', got);
    }
    if (await page.$('#peak-marker')) {
      const mark = Number(await page.getAttribute('#peak-marker', 'data-bytes'));
      check(mark === peak, 'the chart marks the exact peak', mark);
    }
    const hist = await page.$$eval('#histogram tr[data-bucket]', rows => rows.map(r => [...r.children].slice(1, -1).map(td => Number(td.textContent))));
    const heads = await page.$$eval('#histogram th', ths => ths.slice(1, -1).map(t => t.textContent));
    if (real) heads.forEach((name, j) => {
      const sum = hist.reduce((s, r) => s + r[j], 0);
      check(sum === pools[name], 'the histogram of pool ' + name + ' counts its ' + pools[name] + ' allocations', sum);
    });

    // ---- irrelevant frames are hidden: table rows named by the user's frame
    const labels = await page.$$eval('#peak summary, #leaks summary', s => s.map(e => e.textContent));
    check(labels.length > 0 && labels.every(l => !HIDDEN.test(l)), 'peak and leak rows are labelled by their first frame in the user\'s code', labels);
    check(labels.some(l => l.startsWith(func)), 'a row is labelled ' + func, labels);
    let names = await page.$$eval('#flame g.frame', gs => gs.map(g => g.getAttribute('name')));
    check(names.length > 1 && names.every(n => !HIDDEN.test(n)), 'the flame graph hides allocator, libc and libstdc++ frames', names);
    const merged = names.filter(n => n.startsWith('main '));
    check(merged.length <= 1, 'identical sibling frames are merged (one main box)', merged);
    await page.uncheck('#hide');
    names = await page.$$eval('#flame g.frame', gs => gs.map(g => g.getAttribute('name')));
    check(names.some(n => HIDDEN.test(n)), 'unchecking "hide irrelevant frames" shows them', names);
    await page.check('#hide');

    // ---- click into a frame: it fills the width
    const frame = page.locator('#flame g.frame[name^="' + func + '"]').first();
    const full = Number(await page.getAttribute('#flame svg', 'width'));
    const before = Number(await frame.locator('rect').getAttribute('width'));
    await frame.click();
    await page.waitForTimeout(800);
    const after = Number(await frame.locator('rect').getAttribute('width'));
    check(before < full - 1 || peak === through, 'before the click, ' + func + ' is narrower than the graph', [before, full]);
    check(Math.abs(after - full) < 2, 'a click zooms into ' + func + ': it fills the width', [after, full]);
    await page.click('#reset-zoom');

    // ---- search: the matched share is the text report's stacks through func
    await page.fill('#search', func.replace(/[()*]/g, '\\$&'));
    await page.waitForTimeout(300);
    const matched = Number(await page.getAttribute('#search-result', 'data-value'));
    check(matched === through, 'searching ' + func + ' matches the ' + through + ' bytes of the peak stacks through it', matched);
    const hl = await page.$$eval('#flame g.frame rect', rs => rs.filter(r => r.getAttribute('fill') === '#E600E6' || /230, 0, 230/.test(r.getAttribute('fill') || '')).length);
    check(hl > 0, 'the matching frames are highlighted', hl);
    await page.fill('#search', '');

    // ---- modes
    const modeTotal = async mode => {
      await page.selectOption('#mode', mode);
      await page.waitForTimeout(100);
      const t = await page.textContent('#mode-total');
      const m = /\((\d+) bytes\)/.exec(t);
      return m ? Number(m[1]) : (/: 0 /.test(t) ? 0 : NaN);
    };
    if (kinds['definitely lost'] !== undefined) {
      check(await modeTotal('definite') === kinds['definitely lost'], 'mode "definitely lost" totals the text report\'s');
      check(await modeTotal('indirect') === kinds['indirectly lost'], 'mode "indirectly lost" totals the text report\'s');
      check(await modeTotal('leaked') === Number(lost ? lost[1] : 0), 'mode "leaked" totals LOST');
      names = await page.$$eval('#flame g.frame', gs => gs.map(g => g.getAttribute('name')));
      check(names.some(n => n.startsWith(leakFunc)), 'the leaked flame graph shows ' + leakFunc, names);
    }
    check(await modeTotal('peak') === peak, 'mode "peak" totals the peak');

    // ---- bottom-up: the allocating function first, its callers under it
    await page.selectOption('#tree-view', 'bottom-up');
    const first = page.locator('#tree-bottom-up tbody tr').first();
    const firstText = await first.textContent();
    check(!HIDDEN.test(firstText.trim().replace(/^\W+/, '')), 'bottom-up starts at a user frame', firstText);
    const rowsBefore = await page.locator('#tree-bottom-up tbody tr').count();
    await first.click();
    const rowsAfter = await page.locator('#tree-bottom-up tbody tr').count();
    check(rowsAfter > rowsBefore, 'a click opens a bottom-up row onto its callers', [rowsBefore, rowsAfter]);
    await page.selectOption('#tree-view', 'top-down');
    const td = await page.locator('#tree-top-down tbody tr').first().textContent();
    check(td.includes(outer), 'top-down starts at ' + outer, td);

    // ---- callers and callees of func: its total is the stacks through it
    await page.selectOption('#mode', 'peak');
    const opt = await page.$$eval('#focus option', (os, f) => (os.find(o => o.textContent.startsWith(f)) || {}).value, func);
    check(opt !== undefined, func + ' is in the callers/callees list');
    if (opt !== undefined) {
      await page.selectOption('#focus', opt);
      const ft = Number(await page.getAttribute('#focus-total', 'data-value'));
      check(ft === through, 'callers/callees: ' + func + ' costs the ' + through + ' bytes through it', ft);
      const callers = await page.$$eval('#focus-callers tbody tr td:nth-child(2)', tds => tds.reduce((s, t) => s + Number(t.textContent), 0));
      const callees = await page.$$eval('#focus-callees tbody tr td:nth-child(2)', tds => tds.reduce((s, t) => s + Number(t.textContent), 0));
      check(callers === through && callees === through, 'its callers and its callees (itself included) add up to it', [callers, callees]);
    }

    check(requests.length === 0, 'the page fetches nothing', requests);
    check(errors.length === 0, 'no errors while clicking through', errors);
  } finally {
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
})().catch(e => { console.log('FAIL: ' + (e && e.stack || e)); process.exit(1); });
