import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { setupE2E } from './helpers/e2e.js';
import { ROOT } from './helpers/cli.js';
import { selectMigrations } from '../src/history/views.js';

/**
 * The report in a real browser: Debian's chromium, headless, driven by playwright-core. The page is
 * made by the real CLI from the history of ticks against the fake Proxmox (the demo cluster), with
 * a guest whose name is HTML. .ci/run installs chromium; without it (a developer machine) the test
 * is skipped, as the promtool checks are.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const HOSTILE = `<script>alert(1)</script><img src=x onerror="alert(2)">'"&amp;`;

async function launch(): Promise<Browser> {
  // Chromium's sandbox refuses to start as root (CI runs as root).
  return chromium.launch({ executablePath: CHROMIUM!, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

interface Watched {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(browser: Browser, url: string, ctx: Parameters<Browser['newContext']>[0] = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...ctx });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  return { page, problems, requests };
}

const rows = (page: Page, table: string) => page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));

/** Pixels of a chart's canvas drawn in the given CSS colour (bars, lines), and all non-transparent ones. In the page (no DOM types here). */
function painted(page: Page, chart: string, cssVar: string): Promise<{ colour: number; any: number }> {
  return page.evaluate(`(() => {
    const c = document.querySelector(${JSON.stringify(`${chart} canvas`)});
    const probe = document.createElement('canvas').getContext('2d');
    probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(${JSON.stringify(cssVar)}).trim();
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let colour = 0, any = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 0) any++;
      if (Math.abs(px[i] - r) < 8 && Math.abs(px[i + 1] - g) < 8 && Math.abs(px[i + 2] - b) < 8 && px[i + 3] > 200) colour++;
    }
    return { colour, any };
  })()`);
}

test('the report of the demo cluster in headless Chromium: tables right, charts drawn, no error, no request, hostile names inert', { skip: !CHROMIUM && 'chromium not installed (.ci/run installs it)', timeout: 180_000 }, async () => {
  const e = await setupE2E({ scenario: 'demo' });
  const tickReport = join(e.dir, 'www', 'report.html');
  const out = join(e.dir, 'report.html');
  let browser: Browser | null = null;
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(e.dir, 'www'));
    writeFileSync(e.configPath, JSON.stringify({ ...JSON.parse(readFileSync(e.configPath, 'utf8')), report_file: tickReport }), { mode: 0o600 });
    e.fake.state.guests.find((g) => g.vmid === 100)!.name = HOSTILE;
    assert.equal((await e.run(['run', '--dry-run'])).code, 0);
    assert.equal((await e.run(['run'])).code, 0);
    for (const vmid of [104, 105, 107, 103, 102]) e.fake.inject({ kind: 'fail-migration', vmid, reason: 'migration aborted <b>by "test"</b>' });
    await e.run(['run']);

    // The tick wrote report_file: atomically (nothing else left in the folder), readable by a web server.
    assert.ok(existsSync(tickReport), 'the tick wrote report_file');
    assert.deepEqual(readdirSync(join(e.dir, 'www')), ['report.html'], 'no temporary file left behind');
    assert.equal(statSync(tickReport).mode & 0o777, 0o644);

    const made = await e.run(['report', '--output', out]);
    assert.equal(made.code, 0, made.stderr);
    const html = readFileSync(out, 'utf8');
    assert.ok(!html.includes(HOSTILE), 'the raw name is never in the page');
    assert.ok(!/<img src=x/i.test(html), 'no markup from the cluster survives');

    browser = await launch();
    const { page, problems, requests } = await open(browser, pathToFileURL(out).href, { timezoneId: 'America/New_York' });
    await page.waitForSelector('#chart-days canvas');
    await page.waitForTimeout(300);
    assert.deepEqual(problems, [], 'no console error, no script error, no alert');
    assert.deepEqual(requests, [pathToFileURL(out).href], 'the page itself is the only request');

    // Recent migrations: the CLI's own selection, newest first, with the hostile name as plain text.
    const expected = selectMigrations(e.records()).slice(0, 10);
    const migrations = await rows(page, '#table-migrations');
    assert.equal(migrations.length, expected.length);
    assert.ok(expected.length >= 5, `a real history (${expected.length} migrations)`);
    assert.deepEqual(migrations.map((r) => [r[3], r[2]]), expected.map((m) => [m.status, `${m.source} → ${m.target}`]));
    assert.ok(migrations.some((r) => r[1] === `VM 100 ${HOSTILE}`), 'the name shown as text, quotes and all');
    assert.ok(migrations.some((r) => r[3] === 'failed' && r[7]!.includes('migration aborted <b>by "test"</b>')), 'the error shown as text');
    assert.equal(await page.$$eval('img', (i) => i.length), 0, 'no element made from a name');

    const nodes = await rows(page, '#table-nodes');
    assert.deepEqual(nodes.map((r) => r[0]), ['pve1', 'pve2', 'pve3']);
    const days = await rows(page, '#table-days');
    assert.equal(days.length, 7);
    const today = days[6]!;
    const folded = selectMigrations(e.records());
    assert.equal(Number(today[1]), folded.filter((m) => m.status === 'completed').length, 'completed today');
    assert.equal(Number(today[2]), folded.filter((m) => m.status === 'failed').length, 'failed today');
    assert.equal(Number(today[5]), folded.filter((m) => m.status === 'dry-run').length, 'dry runs today');
    const status = await rows(page, '#table-status');
    assert.ok(status.find((r) => r[0] === 'Halted')![1]!.includes('proxbalance resume'), 'the halt and how to lift it');
    assert.equal(await page.$$eval('#activity article', (a) => a.length), e.records().filter((r) => r.type === 'run').length);

    // The charts drew their bars and lines (in the series' colours), not just an empty frame.
    const bars = await painted(page, '#chart-days', '--ok');
    assert.ok(bars.colour > 200, `completed bars drawn (${bars.colour} px)`);
    assert.ok((await painted(page, '#chart-days', '--fail')).colour > 50, 'failed bars drawn');
    assert.ok((await painted(page, '#chart-cpu', '--before')).colour > 200, 'CPU before bars drawn');
    assert.ok((await painted(page, '#chart-mem', '--after')).colour > 200, 'memory after bars drawn');
    assert.ok((await painted(page, '#chart-imbalance', '--before')).colour > 20, 'imbalance line drawn');

    // Times in the browser's zone (New York here), UTC on hover.
    const t = await page.$eval('header time', (el) => ({ text: el.textContent, title: el.getAttribute('title'), iso: el.getAttribute('datetime') }));
    assert.match(t.title!, / UTC$/);
    assert.match(t.text!, /E[SD]T/, `local time shown: ${t.text}`);

    // The top of the page (status to imbalance) for docs/monitoring.md: a few hundred KB at most.
    const shot = await page.screenshot({ fullPage: true, type: 'png', clip: { x: 0, y: 0, width: 1100, height: 2500 } });
    assert.ok(shot.length > 20_000 && shot.length < 450_000, `screenshot ${shot.length} bytes`);
    if (process.env.UPDATE_SCREENSHOT) writeFileSync(join(ROOT, 'docs', 'report.png'), shot);

    // Dark mode, and the page the tick wrote, load as cleanly.
    const dark = await open(browser, pathToFileURL(tickReport).href, { colorScheme: 'dark' });
    await dark.page.waitForSelector('#chart-days canvas');
    const bg = await dark.page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(bg, 'rgb(20, 23, 27)', 'dark background');
    assert.deepEqual(dark.problems, []);
    assert.equal(dark.requests.length, 1);

    // Without JavaScript every table is still there, times in the config's zone, named.
    const plain = await open(browser, pathToFileURL(out).href, { javaScriptEnabled: false });
    assert.equal((await rows(plain.page, '#table-migrations')).length, expected.length);
    assert.match(await plain.page.$eval('header time', (el) => el.textContent ?? ''), /UTC$/);
    assert.equal(await plain.page.$$eval('canvas', (c) => c.length), 0);
  } finally {
    await browser?.close();
    await e.cleanup();
  }
});
