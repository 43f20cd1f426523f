// Drives Debian's chromium through the DevTools protocol (playwright-core) for tests/browser.rs
// and scripts/watch-latency.sh. Prints one JSON object on stdout; exits non-zero on a failure,
// with the reason on stderr. Every wait has a deadline.
//
//   node run.js preview BASE ROOT POST_FILE PAGE_PATH   the writing loop in an open page
//   node run.js latency BASE ROOT POST_FILE PAGE_PATH N N saves, each timed until visible
//   node run.js axe BASE PATH...                        axe-core, light and dark
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.FORKBLOG_CHROMIUM || '/usr/bin/chromium';
const DEADLINE_MS = 20000;

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

async function launch() {
  // --no-sandbox: the tests may run as root, where chromium's sandbox refuses to start.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 60000,
  });
}

// The page's visible text, or '' while it is between documents.
async function text(page) {
  try {
    return await page.evaluate(() => (document.body ? document.body.innerText : ''));
  } catch (e) {
    return '';
  }
}

// Polls the open page (no action on it) until `test(text)` holds; returns the milliseconds
// since `since`, or fails with what the page showed last.
async function waitForText(page, since, what, test) {
  const deadline = since + DEADLINE_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await text(page);
    if (test(last)) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 5));
  }
  fail(`${what}: not visible within ${DEADLINE_MS} ms; the page showed:\n${last.slice(0, 2000)}`);
}

async function openPage(browser, url) {
  const page = await browser.newPage();
  const response = await page.goto(url, { waitUntil: 'load', timeout: DEADLINE_MS });
  if (!response || response.status() !== 200) fail(`${url}: status ${response && response.status()}`);
  return page;
}

// Appends a paragraph holding `marker` to the post; returns when the write is done.
function appendParagraph(file, marker) {
  fs.appendFileSync(file, `\n\nA paragraph written while the page was open: ${marker}.\n`);
}

async function preview([base, root, postFile, pagePath]) {
  const browser = await launch();
  try {
    const page = await openPage(browser, base + pagePath);
    // Let the live script take its first look, as a reader's page would have long since.
    await page.waitForTimeout(500);

    const marker = `marker-${Date.now()}`;
    let start = Date.now();
    appendParagraph(postFile, marker);
    const visibleMs = await waitForText(page, start, 'the appended paragraph', (t) => t.includes(marker));

    // A broken template: the page shows its file and line, then the fix brings the post back.
    const template = path.join(root, 'templates', 'post.html');
    const good = fs.readFileSync(template, 'utf8');
    const lines = good.split('\n');
    const at = lines.findIndex((l) => l.includes('{{ post.title }}</h1>'));
    if (at < 0) fail('templates/post.html has no {{ post.title }}</h1> to break');
    lines[at] = lines[at].replace('{{ post.title }}</h1>', '{{ post.title </h1>');
    start = Date.now();
    fs.writeFileSync(template, lines.join('\n'));
    const where = `post.html:${at + 1}`;
    const brokenMs = await waitForText(page, start, `the broken template's ${where}`, (t) => t.includes(where));
    const shown = await text(page);

    start = Date.now();
    fs.writeFileSync(template, good);
    const recoveredMs = await waitForText(page, start, 'the post after the fix', (t) => t.includes(marker) && !t.includes(where));
    console.log(JSON.stringify({ visible_ms: visibleMs, broken_ms: brokenMs, broken_text: shown, recovered_ms: recoveredMs }));
  } finally {
    await browser.close();
  }
}

async function latency([base, root, postFile, pagePath, n]) {
  const browser = await launch();
  const times = [];
  try {
    const page = await openPage(browser, base + pagePath);
    await page.waitForTimeout(500);
    for (let i = 0; i < Number(n); i++) {
      const marker = `latency-${i}-${Date.now()}`;
      const start = Date.now();
      appendParagraph(postFile, marker);
      times.push(await waitForText(page, start, `save ${i + 1}`, (t) => t.includes(marker)));
      // The next save comes after the page settled, as a writer's would.
      await page.waitForTimeout(300);
    }
  } finally {
    await browser.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  console.log(JSON.stringify({ times_ms: times, median_ms: median, max_ms: sorted[sorted.length - 1] }));
}

async function axe([base, ...paths]) {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const browser = await launch();
  const results = [];
  try {
    for (const colorScheme of ['light', 'dark']) {
      // The site's Content-Security-Policy allows scripts from the site only: axe is injected.
      const context = await browser.newContext({ bypassCSP: true, colorScheme });
      for (const p of paths) {
        const page = await context.newPage();
        const response = await page.goto(base + p, { waitUntil: 'load', timeout: DEADLINE_MS });
        if (!response || response.status() !== 200) fail(`${p}: status ${response && response.status()}`);
        await page.addScriptTag({ content: source });
        const found = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        results.push({
          path: p,
          colorScheme,
          violations: found.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
          })),
        });
        await page.close();
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ pages: results }));
}

const [mode, ...args] = process.argv.slice(2);
const modes = { preview, latency, axe };
if (!modes[mode]) fail('usage: node run.js preview|latency|axe ...');
modes[mode](args).catch((e) => fail(String(e && e.stack ? e.stack : e)));
