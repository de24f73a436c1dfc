/**
 * What `plan()` (src/engine/index.ts) reports around the phases: the figures of each node before
 * and after (role, load, hot), the summary, a gated plan, the moment it is given, and the rule that
 * a node a migration touched within the hour is judged by its current CPU (its hour average does
 * not show the move yet). Written for the mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, toMillis } from '../src/engine/index.js';
import { cluster, config, GiB, guest, history, hotCluster, migrated, node, nodeAt, NO_HISTORY, NOW } from './helpers/engine.js';

/** pve2 runs at 80 % CPU now, 10 % on the hour average; pve3 is in maintenance, pve4 offline, pve5 reports no capacity. */
const snap = () =>
  cluster([
    nodeAt('pve1', 30, 40),
    nodeAt('pve2', 80, 30, { avg: { cpu: 0.1, mem: 30 * GiB, iowait: 0.05, samples: 60 } }),
    nodeAt('pve3', 20, 20),
    nodeAt('pve4', 90, 90, { status: 'offline' }),
    node('pve5', { maxcpu: 0, maxmem: 0 }),
  ], [guest(101, 'pve1', 4, { cpu: 0 })], {}, true);
const cfg = config({ automated_migrations: { maintenance_nodes: ['pve3'] } } as never);
const row = (p: ReturnType<typeof plan>, name: string) => p.summary.nodes_before.find((n) => n.name === name)!;

test('plan: each node\'s figures, role and heat before the moves; offline and empty nodes are never hot', () => {
  const p = plan(snap(), cfg, NO_HISTORY, NOW);
  assert.deepEqual(p.summary.nodes_before, [
    { name: 'pve1', role: 'balanced', cpu_percent: 30, mem_percent: 40, iowait_percent: 0, load: 35, hot: false, running_guests: 1 },
    { name: 'pve2', role: 'balanced', cpu_percent: 10, mem_percent: 30, iowait_percent: 5, load: 20, hot: false, running_guests: 0 },
    { name: 'pve3', role: 'maintenance', cpu_percent: 20, mem_percent: 20, iowait_percent: 0, load: 20, hot: false, running_guests: 0 },
    { name: 'pve4', role: 'excluded', cpu_percent: 90, mem_percent: 90, iowait_percent: 0, load: 90, hot: false, running_guests: 0 },
    { name: 'pve5', role: 'excluded', cpu_percent: 0, mem_percent: 0, iowait_percent: 0, load: 0, hot: false, running_guests: 0 },
  ]);
  assert.deepEqual([p.summary.hot_nodes_before, p.summary.hot_nodes_after, p.summary.gib_moved], [[], [], 0]);
});

test('plan: a node a migration touched within the hour is judged by its CPU now, not its hour average', () => {
  // 30 minutes ago pve1 → pve2: pve2's 80 % now counts (hot), not the 10 % average.
  const recent = plan(snap(), cfg, history([migrated(150, 'pve1', 'pve2', 30)]), NOW);
  assert.deepEqual([row(recent, 'pve2').cpu_percent, row(recent, 'pve2').load, row(recent, 'pve2').hot], [80, 55, true]);
  assert.deepEqual([recent.summary.hot_nodes_before, recent.summary.hot_nodes_after], [['pve2'], ['pve2']]);
  // As the source too (59 minutes ago pve2 → pve3).
  assert.equal(row(plan(snap(), cfg, history([migrated(150, 'pve2', 'pve3', 59)]), NOW), 'pve2').cpu_percent, 80);
  // A migration without an end yet counts from its start.
  const running = { vmid: 150, source: 'pve1', target: 'pve2', status: 'started' as const, started_at: new Date(NOW - 10 * 60_000).toISOString() };
  assert.equal(row(plan(snap(), cfg, history([running]), NOW), 'pve2').cpu_percent, 80);
  // Ended an hour ago or more: the average has caught up.
  assert.equal(row(plan(snap(), cfg, history([migrated(150, 'pve1', 'pve2', 60)]), NOW), 'pve2').cpu_percent, 10);
  assert.equal(row(plan(snap(), cfg, history([migrated(150, 'pve1', 'pve3', 30)]), NOW), 'pve2').cpu_percent, 10, 'another node');
});

test('plan: the summary adds the moves\' GiB and names the nodes hot after them; a gated plan moves nothing and changes no figure', () => {
  const p = plan(hotCluster(), config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 3);
  assert.equal(p.summary.gib_moved, 24, 'three guests of 8 GiB');
  assert.deepEqual([p.summary.hot_nodes_before, p.summary.hot_nodes_after], [['pve1'], []]);
  assert.ok(p.summary.nodes_after.find((n) => n.name === 'pve1')!.mem_percent < p.summary.nodes_before.find((n) => n.name === 'pve1')!.mem_percent);
  const gated = plan(hotCluster(), config(), history([], { vmid: 104, at: new Date(NOW - 3600_000).toISOString(), error: 'migration aborted' }), NOW);
  assert.equal(gated.allowed, false);
  assert.deepEqual([gated.moves, gated.summary.gib_moved, gated.summary.hot_nodes_after], [[], 0, ['pve1']]);
  assert.deepEqual(gated.summary.nodes_after, gated.summary.nodes_before);
  assert.equal(gated.summary.imbalance_after, gated.summary.imbalance_before);
  assert.deepEqual(gated.skipped.slice(0, 3).map((s) => [s.vmid, s.target, s.confidence]), p.moves.map((m) => [m.vmid, m.target, m.confidence]));
});

test('plan: the moment is a Date or epoch milliseconds; anything else is refused, naming it', () => {
  assert.equal(toMillis(NOW), NOW);
  assert.equal(toMillis(new Date(NOW)), NOW);
  assert.throws(() => toMillis(new Date('nonsense')), { name: 'TypeError', message: 'plan: now must be a valid Date or epoch milliseconds, got Invalid Date' });
  assert.throws(() => toMillis(Number.NaN), { message: 'plan: now must be a valid Date or epoch milliseconds, got NaN' });
  assert.throws(() => plan(hotCluster(), config(), NO_HISTORY, Infinity), /got Infinity/);
});
