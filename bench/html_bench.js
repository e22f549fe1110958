// html_bench.js PAGE RUNS: loads PAGE in Debian's chromium (headless, through
// playwright-core: PLAYWRIGHT names its directory) RUNS times after one
// warm-up load, and prints the median time from navigation to a drawn page
// (the page stamps it on <body data-ready-ms> after its first frame).
'use strict';
const { chromium } = require(process.env.PLAYWRIGHT);
(async () => {
  const [page_path, runs] = [process.argv[2], Number(process.argv[3] || 5)];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const times = [];
  for (let i = 0; i <= runs; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto('file://' + page_path);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
    const ms = Number(await page.getAttribute('body', 'data-ready-ms'));
    if (i > 0) times.push(ms); // the first load warms the disk cache
    await page.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log((times[Math.floor(times.length / 2)] / 1000).toFixed(2));
})().catch(e => { console.error(e); process.exit(1); });
