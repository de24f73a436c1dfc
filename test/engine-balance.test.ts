import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON } from '../src/engine/index.js';
import { applyPlan, cluster, config, GiB, guest, history, hotCluster, migrated, NO_HISTORY, node, NOW, skipOf } from './helpers/engine.js';

// ---- maintenance -------------------------------------------------------------------------

test('maintenance: every guest is evacuated first, bypassing ignore, whitelist, exclude and cooldown', () => {
  const snap = cluster(
    [node('pve1'), node('pve2'), node('pve3')],
    [
      guest(101, 'pve1', 4, { tags: ['ignore'] }),
      guest(102, 'pve1', 4, { tags: ['exclude_db'] }),
      guest(103, 'pve1', 4, { status: 'stopped', cpu: 0, mem: 0, maxmem: 4 * GiB }),
      guest(104, 'pve1', 4),
      guest(201, 'pve2', 10, { tags: ['exclude_db'] }),
      guest(301, 'pve3', 10),
    ],
  );
  const cfg = config({
    automated_migrations: { maintenance_nodes: ['pve1'], rules: { max_migrations_per_run: 10, require_auto_migrate_ok_tag: true, min_confidence_score: 100 } },
  });
  const p = plan(snap, cfg, history([migrated(104, 'pve2', 'pve1', 5)]), NOW);
  assert.deepEqual(p.moves.map((m) => m.vmid).sort(), [101, 102, 103, 104]);
  assert.ok(p.moves.every((m) => m.kind === 'evacuation' && m.source === 'pve1' && m.target !== 'pve1'));
  assert.equal(p.moves.find((m) => m.vmid === 103)!.online, false, 'stopped guest moves offline');
  assert.equal(p.moves.find((m) => m.vmid === 101)!.online, true);
  assert.equal(p.moves.find((m) => m.vmid === 102)!.target, 'pve3', 'exclude bypassed, but a node without the group is preferred');
  assert.match(p.moves[0]!.reason, /^pve1 is in maintenance \(maintenance_nodes\); pve[23] has room: \d+ % → \d+ % memory$/);
});

test('maintenance: evacuations come first; maintenance nodes are never targets', () => {
  const snap = hotCluster([guest(400, 'pve4', 4)], {});
  snap.nodes.push(node('pve4'));
  snap.nodes.find((n) => n.name === 'pve3')!.ha_state = 'maintenance';
  const snapFixed = cluster(snap.nodes, snap.guests);
  const p = plan(snapFixed, config({ automated_migrations: { maintenance_nodes: ['pve4'], rules: { max_migrations_per_run: 10 } } }), NO_HISTORY, NOW);
  const kinds = p.moves.map((m) => m.kind);
  const firstLoad = kinds.indexOf('load');
  assert.ok(kinds.lastIndexOf('evacuation') < (firstLoad < 0 ? Infinity : firstLoad));
  assert.ok(p.moves.every((m) => m.target !== 'pve3' && m.target !== 'pve4'));
  assert.ok(p.moves.some((m) => m.vmid === 400 && m.kind === 'evacuation'));
  assert.ok(p.moves.some((m) => m.vmid === 300 && m.kind === 'evacuation' && /HA maintenance mode/.test(m.reason)));
});

test('maintenance: HA-managed guests on an HA-maintenance node are left to Proxmox HA', () => {
  const snap = cluster([node('pve1', { ha_state: 'maintenance' }), node('pve2')], [guest(101, 'pve1', 4, { hastate: 'started' }), guest(102, 'pve1', 4)]);
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.deepEqual(p.moves.map((m) => m.vmid), [102]);
  assert.equal(skipOf(p, 101)?.reason, REASON.haMaintenance);
});

test('maintenance: gates, caps and the per-run limit still hold', () => {
  const guests = [guest(101, 'pve1', 30), guest(102, 'pve1', 30), guest(103, 'pve1', 30), guest(201, 'pve2', 40)];
  const snap = cluster([node('pve1'), node('pve2')], guests);
  const cfg = config({ automated_migrations: { maintenance_nodes: ['pve1'], rules: { max_migrations_per_run: 5 } } });
  const p = plan(snap, cfg, NO_HISTORY, NOW);
  // pve2 at 42 %: one 30 GiB guest fits under 90 %, a second does not.
  assert.equal(p.moves.length, 1);
  assert.equal(p.skipped.filter((s) => s.reason === REASON.noRoom).length, 2);
  const limited = plan(cluster([node('pve1'), node('pve2'), node('pve3'), node('pve4')], guests.slice(0, 3)), config({ automated_migrations: { maintenance_nodes: ['pve1'], rules: { max_migrations_per_run: 2 } } }), NO_HISTORY, NOW);
  assert.equal(limited.moves.length, 2);
  assert.equal(limited.skipped.filter((s) => s.reason === REASON.maxPerRun).length, 1);
  const blocked = plan(snap, config({ automated_migrations: { maintenance_nodes: ['pve1'], schedule: { blackout_windows: [{ name: 'b', enabled: true, days: ['wednesday'], start_time: '00:00', end_time: '23:59' }] } } }), NO_HISTORY, NOW);
  assert.equal(blocked.moves.length, 0);
  assert.equal(blocked.skipped[0]!.reason, REASON.blackout);
  assert.equal(blocked.skipped[0]!.kind, 'evacuation');
});

test('maintenance: locked guests and active migrations are not bypassed', () => {
  const snap = cluster([node('pve1'), node('pve2')], [guest(101, 'pve1', 4, { lock: 'backup' }), guest(102, 'pve1', 4, { lock: 'migrate' })]);
  const p = plan(snap, config({ automated_migrations: { maintenance_nodes: ['pve1'] } }), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  assert.equal(skipOf(p, 101)?.reason, 'Guest is locked (backup)');
  assert.equal(skipOf(p, 102)?.reason, REASON.active);
});

test('maintenance: a maintenance node the snapshot could not read fully is still evacuated', () => {
  const snap = cluster([node('pve1'), node('pve2')], [guest(101, 'pve1', 4)]);
  snap.nodes[0]!.complete = false;
  snap.nodes[0]!.avg = null;
  const p = plan(snap, config({ automated_migrations: { maintenance_nodes: ['pve1'] } }), NO_HISTORY, NOW);
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.target]), [[101, 'pve2']]);
});

// ---- caps --------------------------------------------------------------------------------

test('caps: a target must hold the guest\'s full configured memory under max_node_memory_percent', () => {
  // vm100 uses 8 GiB but may grow to 60: no node can take that under 90 %.
  const snap = hotCluster();
  for (const g of snap.guests) if (g.node === 'pve1') g.maxmem = 60 * GiB;
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  // With a generous cap pve2 (22 %) could take one (22 + 60 = 82 %).
  const q = plan(snap, config({ automated_migrations: { safety_checks: { max_node_memory_percent: 85 }, rules: { min_confidence_score: 50 } } }), NO_HISTORY, NOW);
  assert.equal(q.moves.length, 1);
  assert.ok(q.moves[0]!.score.target_mem_percent_after <= 85);
});

test('caps: max_node_cpu_percent', () => {
  const snap = hotCluster();
  for (const g of snap.guests) if (g.node === 'pve1') Object.assign(g, { maxcpu: 4, cpu: 0.5 }); // 2 cores each
  snap.nodes[1]!.maxcpu = 10;
  const busy = cluster(snap.nodes, snap.guests);
  busy.nodes[1]!.avg!.cpu = busy.nodes[1]!.cpu = 0.8;
  busy.nodes[2]!.avg!.cpu = busy.nodes[2]!.cpu = 0.8;
  const p = plan(busy, config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0, 'both targets would exceed 85 % CPU');
});

test('caps: several moves never overfill one cool node (re-simulation)', () => {
  const guests = [];
  for (let i = 0; i < 10; i++) guests.push(guest(100 + i, 'pve1', 8));
  guests.push(guest(200, 'pve2', 60));
  const snap = cluster([node('pve1'), node('pve2'), node('pve3', { maxmem: 30 * GiB })], guests);
  const p = plan(snap, config({ automated_migrations: { rules: { max_migrations_per_run: 10 } } }), NO_HISTORY, NOW);
  const intoPve3 = p.moves.filter((m) => m.target === 'pve3').length;
  // pve3: 2 GiB + n × 8 GiB ≤ 27 GiB → at most 3.
  assert.ok(intoPve3 <= 3, `${intoPve3}`);
  for (const n of p.summary.nodes_after) assert.ok(n.mem_percent <= 90, `${n.name} ${n.mem_percent}`);
});

// ---- anti-affinity -----------------------------------------------------------------------

test('anti-affinity: an existing violation is fixed by an anti-affinity move', () => {
  const snap = cluster(
    [node('pve1'), node('pve2'), node('pve3')],
    [guest(101, 'pve1', 8, { tags: ['exclude_db'] }), guest(102, 'pve1', 4, { tags: ['exclude_db'] }), guest(201, 'pve2', 8, { tags: ['exclude_db'] }), guest(301, 'pve3', 8)],
  );
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 1);
  const m = p.moves[0]!;
  assert.equal(m.kind, 'anti-affinity');
  assert.equal(m.vmid, 102, 'the cheaper member moves');
  assert.equal(m.target, 'pve3', 'never onto a node holding the group');
  assert.match(m.reason, /vm102 shares exclude_db with vm101 on pve1; pve3 has no exclude_db guest/);
});

test('anti-affinity: load moves never create a violation', () => {
  const snap = hotCluster();
  for (const g of snap.guests) if (g.node === 'pve1') g.tags = ['exclude_web'];
  snap.guests.find((g) => g.vmid === 200)!.tags = ['exclude_web'];
  snap.guests.find((g) => g.vmid === 300)!.tags = ['exclude_web'];
  const p = plan(snap, config({ automated_migrations: { rules: { respect_exclude_tags: true } } }), NO_HISTORY, NOW);
  assert.ok(p.moves.every((m) => m.kind !== 'load'), JSON.stringify(p.moves));
});

test('anti-affinity: ignored when respect_exclude_tags is false', () => {
  const snap = cluster([node('pve1'), node('pve2')], [guest(101, 'pve1', 8, { tags: ['exclude_db'] }), guest(102, 'pve1', 8, { tags: ['exclude_db'] })]);
  assert.equal(plan(snap, config({ automated_migrations: { rules: { respect_exclude_tags: false } } }), NO_HISTORY, NOW).moves.length, 0);
  assert.equal(plan(snap, config(), NO_HISTORY, NOW).moves.length, 1);
});

test('anti-affinity: a fix is subject to the ordinary rules', () => {
  const snap = cluster([node('pve1'), node('pve2')], [guest(101, 'pve1', 8, { tags: ['exclude_db', 'ignore'] }), guest(102, 'pve1', 8, { tags: ['exclude_db'], lock: 'backup' })]);
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  assert.equal(skipOf(p, 101)?.reason, REASON.ignore);
  assert.equal(skipOf(p, 102)?.reason, 'Guest is locked (backup)');
});

// ---- hysteresis and stability ------------------------------------------------------------

test('hysteresis: a calm cluster gets no moves', () => {
  const snap = cluster([node('pve1'), node('pve2'), node('pve3')], [guest(101, 'pve1', 30), guest(201, 'pve2', 26), guest(301, 'pve3', 22)]);
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(p.summary.load_balancing_triggered, false);
  assert.equal(p.moves.length, 0);
});

test('hysteresis: spread below the trigger and no hot node → nothing; above → balancing', () => {
  const mk = (a: number, b: number) => cluster([node('pve1'), node('pve2')], [...Array.from({ length: a }, (_, i) => guest(100 + i, 'pve1', 4)), ...Array.from({ length: b }, (_, i) => guest(200 + i, 'pve2', 4))]);
  // loads ≈ (1+m)/2 with m = 2 + 4k: 46 % vs 22 % → σ ≈ 6 (< 10): nothing.
  assert.equal(plan(mk(11, 5), config(), NO_HISTORY, NOW).moves.length, 0);
  // 66 % vs 10 % memory → σ ≈ 14: balance, and stop at or under the target.
  const p = plan(mk(16, 2), config({ automated_migrations: { rules: { max_migrations_per_run: 20 } } }), NO_HISTORY, NOW);
  assert.ok(p.summary.load_balancing_triggered);
  assert.ok(p.moves.length > 0 && p.moves.length < 10, `${p.moves.length}`);
  assert.ok(p.summary.imbalance_after <= 5, `${p.summary.imbalance_after}`);
});

test('stability: applying a plan and planning again proposes no move back', () => {
  const snap = hotCluster();
  const cfg = config({ automated_migrations: { rules: { max_migrations_per_run: 10, cooldown_minutes: 0 } } });
  const p = plan(snap, cfg, NO_HISTORY, NOW);
  assert.ok(p.moves.length > 0);
  const next = applyPlan(snap, p);
  const hist = history(p.moves.map((m) => migrated(m.vmid, m.source, m.target, 1)));
  const q = plan(next, cfg, hist, NOW + 5 * 60_000);
  for (const m of q.moves) assert.ok(!p.moves.some((x) => x.vmid === m.vmid && x.source === m.target), JSON.stringify(m));
  // Even without history, the balanced result is not undone (hysteresis).
  const r = plan(next, cfg, NO_HISTORY, NOW + 5 * 60_000);
  assert.equal(r.moves.length, 0, JSON.stringify(r.moves));
});

test('determinism: ties are broken by vmid; same input → same plan', () => {
  const a = plan(hotCluster(), config(), NO_HISTORY, NOW);
  const b = plan(hotCluster(), config(), NO_HISTORY, NOW);
  assert.deepEqual(a, b);
  // The hotCluster guests are identical: the lowest vmids go first.
  assert.deepEqual(a.moves.map((m) => m.vmid), [100, 101, 102]);
});

test('load: the plan does not modify the snapshot', () => {
  const snap = hotCluster();
  const copy = structuredClone(snap);
  plan(snap, config(), NO_HISTORY, NOW);
  assert.deepEqual(snap, copy);
});

test('load: score breakdown and confidence formula', () => {
  const p = plan(hotCluster(), config(), NO_HISTORY, NOW);
  const s = p.moves[0]!.score;
  assert.ok(s.improvement > 0);
  assert.equal(s.improvement, Math.round((s.imbalance_before - s.imbalance_after) * 100) / 100);
  const expect = Math.round(100 * (0.4 * s.gain + 0.3 * s.headroom + 0.3 * (1 - s.risk)));
  assert.ok(Math.abs(expect - p.moves[0]!.confidence) <= 1);
  assert.equal(s.gib_moved, 8);
});

test('load: hot by CPU is explained in CPU terms', () => {
  const guests = [];
  for (let i = 0; i < 8; i++) guests.push(guest(100 + i, 'pve1', 2, { maxcpu: 2, cpu: 0.5 }));
  guests.push(guest(200, 'pve2', 2));
  const p = plan(cluster([node('pve1'), node('pve2')], guests), config(), NO_HISTORY, NOW);
  assert.ok(p.moves.length > 0);
  assert.match(p.moves[0]!.reason, /^pve1 is at \d+ % CPU \(threshold 60 %\); pve2 has room: \d+ % → \d+ %$/);
});

// ---- distribution ------------------------------------------------------------------------

function crowded() {
  const guests = [];
  for (let i = 0; i < 12; i++) guests.push(guest(100 + i, 'pve1', 1, { maxmem: 2 * GiB, cpu: 0.05 }));
  for (let i = 0; i < 4; i++) guests.push(guest(200 + i, 'pve2', 1, { maxmem: 2 * GiB, cpu: 0.05 }));
  guests.push(guest(150, 'pve1', 1, { maxmem: 16 * GiB, cpu: 0.05 }));
  return cluster([node('pve1'), node('pve2'), node('pve3')], guests);
}

test('distribution: off by default', () => {
  assert.equal(plan(crowded(), config(), NO_HISTORY, NOW).moves.length, 0);
});

test('distribution: evens guest counts with small guests until within the threshold, confidence above the default floor', () => {
  const cfg = config({ distribution_balancing: { enabled: true }, automated_migrations: { rules: { max_migrations_per_run: 20 } } });
  const p = plan(crowded(), cfg, NO_HISTORY, NOW);
  assert.ok(p.moves.length > 0);
  assert.ok(p.moves.every((m) => m.kind === 'distribution' && m.confidence >= 75));
  assert.ok(!p.moves.some((m) => m.vmid === 150), 'a 16 GiB guest is not small');
  const counts = p.summary.nodes_after.map((n) => n.running_guests);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 2, `${counts}`);
  assert.match(p.moves[0]!.reason, /^pve1 runs 13 guests and pve3 0 \(difference 13, threshold 2\); pve3 \(0\) takes small guest vm\d+$/);
});

test('distribution: honours tags, cooldown and the size limits (0 = no limit)', () => {
  const snap = crowded();
  for (const g of snap.guests) if (g.node === 'pve1' && g.vmid !== 150) g.tags = ['ignore'];
  const cfg = config({ distribution_balancing: { enabled: true, max_memory_gb: 0 } });
  const p = plan(snap, cfg, history([migrated(150, 'pve2', 'pve1', 5)]), NOW);
  assert.equal(p.moves.length, 0);
  assert.equal(skipOf(p, 150)?.reason, REASON.cooldown);
  assert.equal(skipOf(p, 100)?.reason, REASON.ignore);
  const q = plan(snap, cfg, NO_HISTORY, NOW);
  assert.deepEqual(q.moves.map((m) => m.vmid), [150]);
});

// ---- cost and risk -----------------------------------------------------------------------

test('risk: local disks travel and count; a running container costs a restart', () => {
  const snap = cluster(
    [node('pve1'), node('pve2'), node('pve3')],
    [
      guest(101, 'pve1', 8, { local: { disks_bytes: 50 * GiB, resources: [], not_allowed: {} } }),
      guest(102, 'pve1', 8, { type: 'lxc', name: 'ct102' }),
      guest(103, 'pve1', 8),
      guest(104, 'pve1', 8, { template: true, status: 'stopped', cpu: 0, mem: 0 }),
    ],
  );
  const p = plan(snap, config({ automated_migrations: { maintenance_nodes: ['pve1'], rules: { max_migrations_per_run: 5 } } }), NO_HISTORY, NOW);
  const by = (id: number) => p.moves.find((m) => m.vmid === id)!;
  assert.equal(by(101).score.gib_moved, 58);
  assert.ok(by(101).score.risk > by(103).score.risk);
  assert.ok(by(102).score.risk > by(103).score.risk);
  assert.ok(by(101).confidence < by(103).confidence && by(102).confidence < by(103).confidence);
  assert.equal(skipOf(p, 104)?.reason, REASON.template);
});
