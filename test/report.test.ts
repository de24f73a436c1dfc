import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setupE2E } from './helpers/e2e.js';
import { fixtureRecords, NOW, runRec, sharedFixture } from './helpers/history-fixture.js';
import { buildReportData, imbalanceSeries, MAX_IMBALANCE_POINTS } from '../src/report/data.js';
import { esc, json } from '../src/report/page.js';
import { computeStats } from '../src/history/stats.js';
import { withDefaults } from '../src/config/validate.js';
import type { Config } from '../src/config/load.js';
import type { RunRecord } from '../src/history/store.js';

test('a report_file that cannot be written is a warning: the tick still succeeds and records its node loads', async () => {
  const e = await setupE2E({ scenario: 'demo' }, {}, {});
  try {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const missing = join(e.dir, 'no-such-folder', 'report.html');
    writeFileSync(e.configPath, JSON.stringify({ ...JSON.parse(readFileSync(e.configPath, 'utf8')), report_file: missing }), { mode: 0o600 });
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /report_file .*no-such-folder.*could not write/);
    assert.ok(!existsSync(missing));
    const run = e.records().filter((x): x is RunRecord => x.type === 'run').at(-1)!;
    assert.equal(run.outcome, 'success');
    // pve1 is the overloaded node of the demo: the plan takes load off it and onto the others.
    const load = new Map(run.node_load!.map((n) => [n.node, n] as const));
    assert.deepEqual([...load.keys()].sort(), ['pve1', 'pve2', 'pve3']);
    assert.ok(load.get('pve1')!.mem_before > load.get('pve1')!.mem_after);
    assert.ok(load.get('pve2')!.mem_before < load.get('pve2')!.mem_after);

    const page = await e.run(['report']);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /^<!doctype html>/);
    assert.match(page.stdout, /Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
    const bad = await e.run(['report', '--since', 'lately']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since lately/);
  } finally {
    await e.cleanup();
  }
});

const f = sharedFixture();

test('the page shows the same statistics as `proxbalance stats --json`', async () => {
  const [page, stats] = await Promise.all([f.cli('report'), f.cli('stats', '--json')]);
  assert.equal(page.code, 0, page.stderr);
  const s = JSON.parse(stats.stdout);
  const table = /<table id="table-stats">([\s\S]*?)<\/table>/.exec(page.stdout)![1]!;
  const row = (label: string) => [...new RegExp(`<th scope="row">${label}</th><td>([^<]*)</td><td>([^<]*)</td>`).exec(table)!].slice(1);
  assert.deepEqual(row('live migrations attempted'), [String(s.last_24h.attempted), String(s.last_7d.attempted)]);
  assert.deepEqual(row('failed'), [String(s.last_24h.failed), String(s.last_7d.failed)]);
  assert.deepEqual(row('timed out'), [String(s.last_24h.timeout), String(s.last_7d.timeout)]);
  assert.ok(s.last_7d.attempted > 0, 'the fixture has migrations');
});

test('report data: the figures computeStats gives, and at most 240 imbalance points whatever the history', () => {
  const records = fixtureRecords();
  const config = withDefaults({ proxmox_host: 'pve1', proxmox_api_token_id: 'root@pam!bal' }) as Config;
  const now = new Date(NOW);
  const d = buildReportData({ records, config, now, sinceMs: now.getTime() - 7 * 86_400_000, zone: 'UTC', paths: { config: 'c', history: 'h' } });
  const s = computeStats(records, now);
  assert.deepEqual(d.stats, { last_24h: s.last_24h, last_7d: s.last_7d });
  assert.deepEqual(d.days, s.days);

  const runs: RunRecord[] = [];
  for (let i = 0; i < 1000; i++) runs.push(runRec({ run_id: `r${i}`, started_at: new Date(Date.parse(NOW) - i * 60_000).toISOString(), summary: { imbalance_before: i % 2 ? 10 : 20, imbalance_after: 5 } }));
  const { imbalance, imbalance_ticks } = imbalanceSeries(runs);
  assert.equal(imbalance_ticks, 1000);
  assert.ok(imbalance.length <= MAX_IMBALANCE_POINTS && imbalance.length > MAX_IMBALANCE_POINTS / 2);
  assert.equal(imbalance.reduce((a, p) => a + p.ticks, 0), 1000, 'every tick in exactly one point');
  assert.ok(imbalance.every((p) => p.after === 5 && p.before >= 10 && p.before <= 20));
  assert.ok(imbalance.every((p, i) => i === 0 || p.at > imbalance[i - 1]!.at), 'oldest first');
  const few = imbalanceSeries(runs.slice(0, 3));
  assert.deepEqual(few.imbalance.map((p) => p.before), [20, 10, 20]);
});

test('escaping: text and attributes, and JSON that cannot close its script element', () => {
  assert.equal(esc(`<script>"x" & 'y'</script>`), '&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;');
  const j = json({ name: '</script><script>alert(1)</script>\u2028' });
  assert.ok(!j.includes('<') && !j.includes('\u2028'));
  assert.deepEqual(JSON.parse(j), { name: '</script><script>alert(1)</script>\u2028' });
});
