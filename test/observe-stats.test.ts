import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOW, fixtureRecords, mig, sharedFixture } from './helpers/history-fixture.js';
import { computeStats, median } from '../src/history/stats.js';
import { barCells } from '../src/cli/stats-cmd.js';

const fx = sharedFixture();
const cli = fx.cli;

test('computeStats: 24 h and 7 d figures, dry runs apart, future records ignored', () => {
  const s = computeStats(fixtureRecords(), new Date(NOW));
  assert.deepEqual(s.last_24h, {
    from: '2026-11-24T12:00:00.000Z', to: NOW,
    attempted: 4, completed: 1, failed: 1, timeout: 1, pending: 1, success_rate: 1 / 3, dry_run: 1, median_duration_s: 60,
  });
  assert.deepEqual(s.last_7d, {
    from: '2026-11-18T12:00:00.000Z', to: NOW,
    attempted: 5, completed: 2, failed: 1, timeout: 1, pending: 1, success_rate: 0.5, dry_run: 2, median_duration_s: 90,
  });
  assert.deepEqual(s.days.map((d) => d.date), ['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25']);
  assert.deepEqual(s.days.map((d) => [d.completed, d.failed, d.timeout, d.pending, d.dry_run]), [
    [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [1, 1, 0, 1, 1],
  ]);
});

test('computeStats: days follow the zone given; an empty history has no rate and no median', () => {
  // 2026-11-24T20:00Z (m3) is already the 25th in Tokyo.
  const tokyo = computeStats(fixtureRecords(), new Date(NOW), { zone: 'Asia/Tokyo' });
  assert.equal(tokyo.days.at(-1)!.date, '2026-11-25');
  assert.equal(tokyo.days.at(-1)!.timeout, 1);
  const empty = computeStats([], new Date(NOW));
  assert.equal(empty.last_7d.attempted, 0);
  assert.equal(empty.last_7d.success_rate, null);
  assert.equal(empty.last_7d.median_duration_s, null);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  // A migration counts once, in its latest state.
  const one = computeStats([mig({ migration_id: 'x', at: '2026-11-25T11:00:00.000Z', started_at: '2026-11-25T11:00:00.000Z' }),
    mig({ migration_id: 'x', at: '2026-11-25T11:05:00.000Z', status: 'completed', duration_s: 300 })], new Date(NOW));
  assert.equal(one.last_24h.attempted, 1);
  assert.equal(one.last_24h.completed, 1);
  assert.equal(one.last_24h.pending, 0);
});

test('barCells: one cell per migration up to the width, else scaled with every non-zero part visible', () => {
  assert.deepEqual(barCells([3, 1, 2], 10), [3, 1, 2]);
  assert.deepEqual(barCells([100, 0, 0], 100, 40), [40, 0, 0]);
  assert.deepEqual(barCells([99, 1, 0], 100, 40), [39, 1, 0]);
  const half = barCells([30, 10, 10], 100, 40);
  assert.equal(half.reduce((a, b) => a + b, 0), 20);
  assert.ok(half.every((n) => n > 0));
});

test('stats through the CLI: the table, the 7-day chart with its legend, no colour when piped', async () => {
  const r = await cli('stats');
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^\s+LAST 24 H\s+LAST 7 D$/m);
  assert.match(out, /^live migrations attempted\s+4\s+5$/m);
  assert.match(out, /^completed\s+1\s+2$/m);
  assert.match(out, /^failed\s+1\s+1$/m);
  assert.match(out, /^timed out\s+1\s+1$/m);
  assert.match(out, /^success rate\s+33\.3%\s+50\.0%$/m);
  assert.match(out, /^dry-run moves \(apart\)\s+1\s+2$/m);
  assert.match(out, /^median duration\s+1m 00s\s+1m 30s$/m);
  const chart = out.slice(out.indexOf('Last 7 days')).split('\n').slice(1, 9);
  assert.equal(chart.length, 8);
  assert.match(chart[0]!, /^Thu 11-19 │\s+nothing$/);
  assert.match(chart[1]!, /^Fri 11-20 │░\s+0 completed, 0 failed, 1 dry run$/);
  assert.match(chart[4]!, /^Mon 11-23 │█\s+1 completed/);
  assert.match(chart[5]!, /^Tue 11-24 │▒\s+0 completed, 1 failed/);
  assert.match(chart[6]!, /^Wed 11-25 │█▒░ 1 completed, 1 failed, 1 dry run, 1 pending$/);
  assert.match(chart[7]!, /^█ completed {2}▒ failed or timed out {2}░ dry run/);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(out, /\x1b\[/);
  assert.match(r.stderr, /line 3: skipped, not valid JSON/);
});

test('stats --json carries the same figures', async () => {
  const r = await cli('stats', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s, JSON.parse(JSON.stringify(computeStats(fixtureRecords(), new Date(NOW)))));
});
