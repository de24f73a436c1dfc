import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON } from '../src/engine/index.js';
import type { ClusterSnapshot } from '../src/generated/snapshot.js';
import { cluster, config, guest, history, hotCluster, migrated, NO_HISTORY, node, NOW, skipOf } from './helpers/engine.js';

const HOUR = 60; // minutes

// ---- the CPU cap holds against the worst of now and the hour's average, in every phase -----------

/**
 * pve1 is hot by memory (90 %); vm100 is its only movable guest and uses its one core fully
 * (+10 points on a 10-core node). pve2 averages `avgCpu` over the hour but runs `nowCpu` now.
 */
function lagging(nowCpu: number, avgCpu: number): ClusterSnapshot {
  const guests = [guest(100, 'pve1', 8, { cpu: 1 })];
  for (let i = 1; i < 11; i++) guests.push(guest(100 + i, 'pve1', 8, { tags: ['ignore'] }));
  guests.push(guest(200, 'pve2', 20, { tags: ['ignore'] }));
  const s = cluster([node('pve1'), node('pve2')], guests);
  const pve2 = s.nodes.find((n) => n.name === 'pve2')!;
  pve2.cpu = nowCpu;
  pve2.avg = { ...pve2.avg!, cpu: avgCpu };
  return s;
}

const capped = config({ automated_migrations: { safety_checks: { max_node_cpu_percent: 85 } } });

test('CPU cap: a target averaging 30 % but running 80 % now takes no +10-point guest under an 85 % cap (load balancing)', () => {
  const p = plan(lagging(0.8, 0.3), capped, NO_HISTORY, NOW);
  const m = p.moves.find((x) => x.vmid === 100);
  assert.equal(m, undefined, `moved to ${m?.target} with confidence ${m?.confidence}: worst case 90 % CPU`);
  assert.equal(p.moves.length, 0);
  assert.ok(p.notes.some((n) => /load balancing wanted/.test(n)), p.notes.join('\n'));
});

test('CPU cap: the same lag the other way round (average 80 %, now 30 %) is refused too', () => {
  const p = plan(lagging(0.3, 0.8), capped, NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0, JSON.stringify(p.moves));
});

test('CPU cap: without the lag (30 % now and on average) the same move is planned, within the cap', () => {
  const p = plan(lagging(0.3, 0.3), capped, NO_HISTORY, NOW);
  const m = p.moves.find((x) => x.vmid === 100);
  assert.ok(m, JSON.stringify(p.skipped.slice(0, 3)));
  assert.equal(m.target, 'pve2');
  assert.equal(m.kind, 'load');
  assert.ok(m.score.target_cpu_percent_after <= 85, `${m.score.target_cpu_percent_after}`);
});

test('CPU cap: evacuating the same guest to the same node is refused as well (every phase agrees)', () => {
  const s = lagging(0.8, 0.3);
  const cfg = config({ automated_migrations: { maintenance_nodes: ['pve1'], safety_checks: { max_node_cpu_percent: 85 } } });
  const p = plan(s, cfg, NO_HISTORY, NOW);
  assert.equal(p.moves.find((x) => x.vmid === 100), undefined);
  assert.equal(skipOf(p, 100)?.reason, REASON.noRoom);
});

test('CPU cap: anti-affinity and distribution moves check the worst case too', () => {
  // vm100 and vm101 share exclude_db on pve1; pve2 is the only other node and is busy now.
  const s = lagging(0.8, 0.3);
  s.guests.find((g) => g.vmid === 100)!.tags = ['exclude_db'];
  s.guests.find((g) => g.vmid === 101)!.tags = ['exclude_db', 'ignore'];
  const p = plan(s, capped, NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0, JSON.stringify(p.moves));
  assert.equal(skipOf(p, 100)?.reason, REASON.noRoom);
  const calm = lagging(0.3, 0.3);
  calm.guests.find((g) => g.vmid === 100)!.tags = ['exclude_db'];
  calm.guests.find((g) => g.vmid === 101)!.tags = ['exclude_db', 'ignore'];
  const q = plan(calm, capped, NO_HISTORY, NOW);
  assert.equal(q.moves.find((x) => x.vmid === 100)?.kind, 'anti-affinity');

  // Distribution: pve1 runs 11 guests, pve2 one; only small vm100 may move.
  const d = config({ distribution_balancing: { enabled: true, guest_count_threshold: 2 }, automated_migrations: { safety_checks: { max_node_cpu_percent: 85 } } });
  const cool = lagging(0.8, 0.3);
  for (const g of cool.guests) if (g.node === 'pve1') g.mem = g.maxmem = 4 * 1024 ** 3;
  cool.nodes[0]!.mem = 46 * 1024 ** 3;
  cool.nodes[0]!.avg = { ...cool.nodes[0]!.avg!, mem: cool.nodes[0]!.mem };
  const r = plan(cool, d, NO_HISTORY, NOW);
  assert.equal(r.moves.length, 0, JSON.stringify(r.moves));
  const cool2 = lagging(0.3, 0.3);
  for (const g of cool2.guests) if (g.node === 'pve1') g.mem = g.maxmem = 4 * 1024 ** 3;
  cool2.nodes[0]!.mem = 46 * 1024 ** 3;
  cool2.nodes[0]!.avg = { ...cool2.nodes[0]!.avg!, mem: cool2.nodes[0]!.mem };
  assert.equal(plan(cool2, d, NO_HISTORY, NOW).moves.find((x) => x.vmid === 100)?.kind, 'distribution');
});

// ---- the rollback cooldown runs 24 h from the return ---------------------------------------------

test('rollback: first move 24.08 h ago, return 2 h ago → the guest stays put (24 h from the return)', () => {
  const hist = history([migrated(100, 'pve1', 'pve3', 24.08 * HOUR), migrated(100, 'pve3', 'pve1', 2 * HOUR)]);
  const p = plan(hotCluster(), config(), hist, NOW);
  assert.equal(p.moves.find((m) => m.vmid === 100), undefined);
  const s = skipOf(p, 100)!;
  assert.equal(s.reason, REASON.rollback);
  // 24 h from the end of the return (which finished 2 h before NOW).
  assert.match(s.detail!, new RegExp(new Date(NOW + 22 * 3600_000).toISOString().replace(/\.000Z$/, 'Z')));
});

test('rollback: the cooldown ends 24 h after the return, not a minute later', () => {
  const still = history([migrated(100, 'pve1', 'pve3', 30 * HOUR), migrated(100, 'pve3', 'pve1', 23.9 * HOUR)]);
  assert.equal(skipOf(plan(hotCluster(), config(), still, NOW), 100)?.reason, REASON.rollback);
  const over = history([migrated(100, 'pve1', 'pve3', 30 * HOUR), migrated(100, 'pve3', 'pve1', 24 * HOUR)]);
  const p = plan(hotCluster(), config(), over, NOW);
  assert.ok(p.moves.some((m) => m.vmid === 100), JSON.stringify(skipOf(p, 100)));
});

test('rollback: a return more than 24 h after leaving is an ordinary move, not a rollback', () => {
  // Left pve1 48 h ago, came back 20 h ago: 28 h apart.
  const hist = history([migrated(100, 'pve1', 'pve3', 48 * HOUR), migrated(100, 'pve3', 'pve1', 20 * HOUR)]);
  const p = plan(hotCluster(), config(), hist, NOW);
  assert.notEqual(skipOf(p, 100)?.reason, REASON.rollback);
  assert.ok(p.moves.some((m) => m.vmid === 100 && m.target !== 'pve3'), JSON.stringify(skipOf(p, 100)));
});

test('rollback: a return whose outcome is unknown (timeout, or started without an end) counts; a failed one does not', () => {
  for (const status of ['timeout', 'started'] as const) {
    const back = migrated(100, 'pve3', 'pve1', 3 * HOUR, status);
    if (status === 'started') delete back.finished_at;
    const hist = history([migrated(100, 'pve1', 'pve3', 10 * HOUR), back]);
    assert.equal(skipOf(plan(hotCluster(), config(), hist, NOW), 100)?.reason, REASON.rollback, status);
  }
  const failed = history([migrated(100, 'pve1', 'pve3', 10 * HOUR, 'failed'), migrated(100, 'pve3', 'pve1', 3 * HOUR)]);
  assert.notEqual(skipOf(plan(hotCluster(), config(), failed, NOW), 100)?.reason, REASON.rollback);
});

test('rollback: a guest whose move ended 23.5 h ago but started 24.5 h ago may not go back there', () => {
  // The 24 h since leaving count from the end of the move (when the guest actually left).
  const long = { vmid: 100, source: 'pve2', target: 'pve1', status: 'completed' as const, started_at: new Date(NOW - 24.5 * 3600_000).toISOString(), finished_at: new Date(NOW - 23.5 * 3600_000).toISOString() };
  const p = plan(hotCluster(), config(), history([long]), NOW);
  assert.equal(p.moves.find((m) => m.vmid === 100 && m.target === 'pve2'), undefined);
  assert.equal(skipOf(p, 100)?.reason, REASON.rollback);
});

test('rollback: a move whose outcome is unknown (timeout, started) means the guest may have left its source', () => {
  for (const status of ['timeout', 'started'] as const) {
    // Moved pve2 → pve1 10 h ago (outcome unknown); pve2 is the best target now.
    const m = migrated(100, 'pve2', 'pve1', 10 * HOUR, status);
    if (status === 'started') delete m.finished_at;
    const p = plan(hotCluster(), config(), history([m]), NOW);
    assert.equal(p.moves.find((x) => x.vmid === 100 && x.target === 'pve2'), undefined, status);
    assert.equal(skipOf(p, 100)?.reason, REASON.rollback, status);
  }
  // A failed move left the guest where it was: pve2 is fair game.
  const p = plan(hotCluster(), config(), history([migrated(100, 'pve2', 'pve1', 10 * HOUR, 'failed')]), NOW);
  assert.notEqual(skipOf(p, 100)?.reason, REASON.rollback);
});

test('cooldown: ends exactly cooldown_minutes after the end of the move (the end instant is free)', () => {
  const cfg = config({ automated_migrations: { rules: { cooldown_minutes: 30 } } });
  const at = history([migrated(100, 'pve3', 'pve1', 30)]);
  assert.ok(plan(hotCluster(), cfg, at, NOW).moves.some((m) => m.vmid === 100));
  const before = history([{ ...migrated(100, 'pve3', 'pve1', 30), finished_at: new Date(NOW - 30 * 60_000 + 1).toISOString() }]);
  assert.equal(skipOf(plan(hotCluster(), cfg, before, NOW), 100)?.reason, REASON.cooldown);
});
