import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON } from '../src/engine/index.js';
import type { SnapshotTask } from '../src/generated/snapshot.js';
import { cluster, config, guest, history, hotCluster, migrated, NO_HISTORY, node, NOW, skipOf } from './helpers/engine.js';

const task = (id: string, over: Partial<SnapshotTask> = {}): SnapshotTask => ({
  upid: `UPID:pve1:0001:0001:0001:qmigrate:${id}:root@pam:`,
  node: 'pve1',
  type: 'qmigrate',
  id,
  user: 'root@pam',
  starttime: NOW / 1000 - 60,
  status: null,
  endtime: null,
  ...over,
});

test('baseline: a hot node sheds load to cool nodes, all gates pass', () => {
  const p = plan(hotCluster(), config(), NO_HISTORY, NOW);
  assert.equal(p.allowed, true);
  assert.deepEqual(p.gates.map((g) => g.name), ['halted', 'blackout', 'migration_window', 'cluster_health', 'concurrency']);
  assert.ok(p.gates.every((g) => g.passed));
  assert.equal(p.moves.length, 3);
  for (const m of p.moves) {
    assert.equal(m.source, 'pve1');
    assert.equal(m.kind, 'load');
    assert.equal(m.online, true);
    assert.ok(m.confidence >= 75, `${m.confidence}`);
    assert.match(m.reason, /^pve1 is at \d+ % memory \(threshold 70 %\); pve[23] has room: \d+ % → \d+ %$/);
  }
  assert.ok(p.summary.imbalance_after < p.summary.imbalance_before);
  assert.deepEqual(p.summary.hot_nodes_before, ['pve1']);
});

// ---- gates -------------------------------------------------------------------------------

const wednesday = { name: 'w', enabled: true, days: ['wednesday'] as ['wednesday'], start_time: '11:00', end_time: '13:00' };
const thursday = { ...wednesday, days: ['thursday'] as ['thursday'] };

const gateCases: Array<[string, Parameters<typeof config>[0], Partial<Parameters<typeof cluster>[2]> | null, ReturnType<typeof history> | null, string, string]> = [
  ['halted after a failure', {}, null, history([], { vmid: 101, at: '2026-11-25T11:00:00Z', error: 'migration aborted' }), 'halted', REASON.halted],
  ['blackout active', { automated_migrations: { schedule: { blackout_windows: [wednesday] } } }, null, null, 'blackout', REASON.blackout],
  ['blackout beats an open migration window', { automated_migrations: { schedule: { blackout_windows: [wednesday], migration_windows: [wednesday] } } }, null, null, 'blackout', REASON.blackout],
  ['outside every migration window', { automated_migrations: { schedule: { migration_windows: [thursday] } } }, null, null, 'migration_window', REASON.outsideWindow],
  ['not quorate', {}, { cluster: { name: 't', quorate: false, standalone: false } }, null, 'cluster_health', REASON.health],
  ['quorum unknown', {}, { cluster: { name: 't', quorate: null, standalone: false } }, null, 'cluster_health', REASON.health],
  ['max concurrent reached by a running migration', {}, { tasks: [task('999')] }, null, 'concurrency', REASON.concurrency],
];

for (const [name, cfg, snapOver, hist, gateName, reason] of gateCases) {
  test(`gate: ${name} → no moves, would-be moves skipped with '${reason}'`, () => {
    const base = hotCluster();
    const snap = snapOver ? { ...base, ...snapOver } : base;
    const p = plan(snap, config(cfg), hist ?? NO_HISTORY, NOW);
    assert.equal(p.allowed, false);
    assert.equal(p.moves.length, 0);
    const g = p.gates.find((x) => x.name === gateName)!;
    assert.equal(g.passed, false, g.message);
    const blocked = p.skipped.filter((s) => s.reason === reason);
    assert.equal(blocked.length, 3, JSON.stringify(p.skipped));
    assert.ok(blocked.every((s) => s.detail === g.message && s.target));
    assert.equal(p.summary.imbalance_after, p.summary.imbalance_before);
  });
}

test('gate: health failure names the detail', () => {
  const snap = hotCluster();
  snap.cluster.quorate = false;
  snap.nodes.push(node('pve4', { status: 'unknown', complete: false }));
  const p = plan(snap, config(), NO_HISTORY, NOW);
  const g = p.gates.find((x) => x.name === 'cluster_health')!;
  assert.equal(g.passed, false);
  assert.match(g.message, /not quorate/);
  assert.match(g.message, /state of pve4 unknown/);
});

test('gate: health checks can be switched off', () => {
  const snap = hotCluster();
  snap.cluster.quorate = false;
  const p = plan(snap, config({ automated_migrations: { safety_checks: { check_cluster_health: false, require_quorum: false } } }), NO_HISTORY, NOW);
  assert.equal(p.allowed, true);
  assert.equal(p.moves.length, 3);
});

test('gate: an open migration window and disabled windows let moves through', () => {
  const cfg = config({ automated_migrations: { schedule: { migration_windows: [wednesday, { ...thursday, enabled: true }], blackout_windows: [{ ...wednesday, enabled: false }] } } });
  const p = plan(hotCluster(), cfg, NO_HISTORY, NOW);
  assert.equal(p.allowed, true);
  assert.equal(p.moves.length, 3);
});

test('gate: only disabled migration windows = no window defined', () => {
  const p = plan(hotCluster(), config({ automated_migrations: { schedule: { migration_windows: [{ ...thursday, enabled: false }] } } }), NO_HISTORY, NOW);
  assert.equal(p.allowed, true);
});

test('gate: concurrency counts running migrations only; a free slot lets the plan through', () => {
  const finished = task('998', { status: 'OK', endtime: NOW / 1000 - 10 });
  const ha = task('997', { type: 'hamigrate' });
  const other = task('996', { type: 'vzdump' });
  const p = plan(hotCluster([], {}), config({ automated_migrations: { rules: { max_concurrent_migrations: 2 } } }), NO_HISTORY, NOW);
  assert.equal(p.allowed, true);
  const snap = { ...hotCluster(), tasks: [finished, ha, other] };
  const p2 = plan(snap, config({ automated_migrations: { rules: { max_concurrent_migrations: 2 } } }), NO_HISTORY, NOW);
  assert.equal(p2.allowed, true);
  assert.equal(p2.summary.running_migrations, 1);
  assert.equal(p2.summary.free_migration_slots, 1);
  const p3 = plan({ ...snap, tasks: [ha, task('997')] }, config(), NO_HISTORY, NOW);
  assert.equal(p3.summary.running_migrations, 1, 'a hamigrate and its qmigrate are one migration');
  assert.equal(p3.allowed, false);
});

test('gate: a window with start = end (a config error) never opens, and says why', () => {
  const bad = { ...wednesday, start_time: '12:00', end_time: '12:00' };
  const p = plan(hotCluster(), config({ automated_migrations: { schedule: { migration_windows: [bad] } } }), NO_HISTORY, NOW);
  const g = p.gates.find((x) => x.name === 'migration_window')!;
  assert.equal(g.passed, false);
  assert.match(g.message, /start_time equals end_time/);
  const q = plan(hotCluster(), config({ automated_migrations: { schedule: { blackout_windows: [{ ...bad, timezone: 'Nowhere/Land' }] } } }), NO_HISTORY, NOW);
  assert.equal(q.gates.find((x) => x.name === 'blackout')!.passed, false, 'a blackout that cannot be evaluated blocks (safe side)');
});

test('gate: an invalid now is refused', () => {
  assert.throws(() => plan(hotCluster(), config(), NO_HISTORY, new Date('nope')), TypeError);
  assert.throws(() => plan(hotCluster(), config(), NO_HISTORY, NaN), TypeError);
});

test('gate: now may be a Date or epoch milliseconds', () => {
  const a = plan(hotCluster(), config(), NO_HISTORY, NOW);
  const b = plan(hotCluster(), config(), NO_HISTORY, new Date(NOW));
  assert.deepEqual(a, b);
  assert.equal(a.at, '2026-11-25T12:00:00.000Z');
});

// ---- per-guest rules ---------------------------------------------------------------------

// The best candidate of hotCluster() is vm100 (all equal, ties by vmid): give it the property.
const ruleCases: Array<[string, Parameters<typeof guest>[3], Parameters<typeof config>[0], ReturnType<typeof history>, Partial<Parameters<typeof cluster>[2]>, string]> = [
  ["'ignore' tag", { tags: ['ignore'] }, {}, NO_HISTORY, {}, "Has 'ignore' tag"],
  ['whitelist mode without the tag', {}, { automated_migrations: { rules: { require_auto_migrate_ok_tag: true } } }, NO_HISTORY, {}, "Missing 'auto-migrate-ok' tag"],
  ['lock: migrate', { lock: 'migrate' }, {}, NO_HISTORY, {}, 'Already has active migration'],
  ['lock: backup', { lock: 'backup' }, {}, NO_HISTORY, {}, 'Guest is locked (backup)'],
  ['lock: snapshot', { lock: 'snapshot' }, {}, NO_HISTORY, {}, 'Guest is locked (snapshot)'],
  ['cooldown after a completed live migration', {}, {}, history([migrated(100, 'pve3', 'pve1', 10)]), {}, 'Cooldown active'],
  ['cooldown after a failed live migration', {}, {}, history([migrated(100, 'pve1', 'pve2', 10, 'failed')]), {}, 'Cooldown active'],
  ['cooldown after a timed-out live migration', {}, {}, history([migrated(100, 'pve1', 'pve2', 10, 'timeout')]), {}, 'Cooldown active'],
  ['ping-pong in the history (A→B→A within 24 h)', {}, {}, history([migrated(100, 'pve1', 'pve2', 600), migrated(100, 'pve2', 'pve1', 300)]), {}, 'Rollback detected'],
  ['HA-managed while CRS auto-rebalance is on', { hastate: 'started' }, {}, NO_HISTORY, { crs: { ha_auto_rebalance: true } }, 'Managed by HA auto-rebalance'],
  ['local PCI device', { local: { disks_bytes: 0, resources: ['hostpci0'], not_allowed: {} } }, {}, NO_HISTORY, {}, 'Local resource prevents live migration: hostpci0'],
];

for (const [name, gOver, cfg, hist, snapOver, reason] of ruleCases) {
  test(`rule: ${name} → '${reason}'`, () => {
    const snap = hotCluster();
    Object.assign(snap.guests.find((g) => g.vmid === 100)!, gOver);
    Object.assign(snap, snapOver);
    const p = plan(snap, config(cfg), hist, NOW);
    assert.equal(p.moves.find((m) => m.vmid === 100), undefined);
    assert.equal(skipOf(p, 100)?.reason, reason, JSON.stringify(skipOf(p, 100)));
  });
}

test("rule: whitelist mode moves guests tagged 'auto-migrate-ok'", () => {
  const snap = hotCluster();
  for (const g of snap.guests) if (g.vmid === 105 || g.vmid === 106) g.tags = ['auto-migrate-ok'];
  const p = plan(snap, config({ automated_migrations: { rules: { require_auto_migrate_ok_tag: true } } }), NO_HISTORY, NOW);
  assert.deepEqual(p.moves.map((m) => m.vmid).sort(), [105, 106]);
});

test('rule: ignore tags are honoured only with respect_ignore_tags', () => {
  const snap = hotCluster();
  for (const g of snap.guests) g.tags = ['ignore'];
  assert.equal(plan(snap, config(), NO_HISTORY, NOW).moves.length, 0);
  assert.equal(plan(snap, config({ automated_migrations: { rules: { respect_ignore_tags: false } } }), NO_HISTORY, NOW).moves.length, 3);
});

test('rule: a running migration task for the guest → Already has active migration', () => {
  const snap = { ...hotCluster(), tasks: [task('100')] };
  const p = plan(snap, config({ automated_migrations: { rules: { max_concurrent_migrations: 2 } } }), NO_HISTORY, NOW);
  assert.equal(skipOf(p, 100)?.reason, REASON.active);
  assert.equal(p.moves.length, 3);
});

test('rule: cooldown ends after cooldown_minutes; dry runs are not in the view and do not count', () => {
  const p = plan(hotCluster(), config(), history([migrated(100, 'pve3', 'pve1', 31)]), NOW);
  assert.ok(p.moves.some((m) => m.vmid === 100));
});

test('rule: cooldown escalates ×2, ×4, ×8 for repeated moves within 7 days', () => {
  const cases: Array<[number, number, boolean]> = [
    // [moves within 7 days, minutes since the last, still cooling down]
    [2, 59, true],
    [2, 61, false],
    [3, 119, true],
    [3, 121, false],
    [4, 239, true],
    [5, 239, true],
    [5, 241, false],
  ];
  for (const [n, since, cooling] of cases) {
    const migs = [];
    const nodes = ['pve3', 'pve2'];
    for (let i = 0; i < n; i++) migs.push(migrated(100, nodes[i % 2]!, i === n - 1 ? 'pve1' : nodes[(i + 1) % 2]!, since + (n - 1 - i) * 2000));
    const p = plan(hotCluster(), config(), history(migs), NOW);
    const s = skipOf(p, 100);
    assert.equal(s?.reason === REASON.cooldown, cooling, `${n} moves, ${since} min: ${JSON.stringify(s)}`);
    if (cooling && n > 1) assert.match(s!.detail!, new RegExp(`×${2 ** Math.min(3, n - 1)}`));
  }
});

test('rule: a move back to a node the guest left within 24 h is not planned → Rollback detected', () => {
  // vm100 came from pve2 an hour ago; pve2 is its best target again.
  const snap = hotCluster();
  const p = plan(snap, config(), history([migrated(100, 'pve2', 'pve1', 60)]), NOW);
  assert.equal(p.moves.find((m) => m.vmid === 100 && m.target === 'pve2'), undefined);
  const s = skipOf(p, 100);
  assert.equal(s?.reason, REASON.rollback);
  assert.ok(p.notes.some((n) => n.includes('rollback prevented')));
  // After 24 h the node is fair game again.
  const q = plan(snap, config(), history([migrated(100, 'pve2', 'pve1', 25 * 60)]), NOW);
  assert.ok(q.moves.some((m) => m.vmid === 100));
});

test('rule: below the confidence floor → Below confidence threshold with the value', () => {
  const p = plan(hotCluster(), config({ automated_migrations: { rules: { min_confidence_score: 99 } } }), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  const s = skipOf(p, 100)!;
  assert.equal(s.reason, REASON.confidence);
  assert.equal(typeof s.confidence, 'number');
  assert.match(s.detail!, new RegExp(`^${s.confidence} < 99`));
});

test('rule: beyond max_migrations_per_run → Max migrations per run reached', () => {
  const p = plan(hotCluster(), config({ automated_migrations: { rules: { max_migrations_per_run: 1 } } }), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 1);
  assert.equal(p.skipped.filter((s) => s.reason === REASON.maxPerRun).length, 1);
});

test('rule: Proxmox says a node is not allowed → it is not a target; none allowed → No allowed target', () => {
  const snap = hotCluster();
  const g = snap.guests.find((x) => x.vmid === 100)!;
  g.local = { disks_bytes: 0, resources: [], not_allowed: { pve2: "storage 'local-zfs' not available" } };
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.ok(!p.moves.some((x) => x.vmid === 100 && x.target === 'pve2'));
  g.local.not_allowed.pve3 = 'hostpci0 not mapped';
  const q = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(q.moves.find((x) => x.vmid === 100), undefined);
  assert.equal(skipOf(q, 100)?.reason, "No allowed target: pve2: storage 'local-zfs' not available; pve3: hostpci0 not mapped");
});

test('rule: templates and guests on offline nodes are never candidates', () => {
  const snap = hotCluster([guest(900, 'pve4', 4)]);
  snap.nodes.push(node('pve4', { status: 'offline', complete: false, avg: null }));
  for (const g of snap.guests) if (g.node === 'pve1') g.template = true;
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  assert.ok(!p.skipped.some((s) => s.vmid === 900));
});

test('rule: a node the snapshot could not read fully is neither source nor target', () => {
  const snap = hotCluster();
  snap.nodes[0]!.complete = false; // hot pve1 unread: no load moves off it
  assert.equal(plan(snap, config(), NO_HISTORY, NOW).moves.length, 0);
  const snap2 = hotCluster();
  snap2.nodes[1]!.complete = false;
  snap2.nodes[2]!.complete = false;
  assert.equal(plan(snap2, config(), NO_HISTORY, NOW).moves.length, 0);
});

test('rule: each skip carries a canonical reason', () => {
  const canonical = new Set<string>((Object.values(REASON) as unknown[]).filter((v): v is string => typeof v === 'string'));
  const snap = hotCluster();
  snap.guests[0]!.tags = ['ignore'];
  snap.guests[1]!.lock = 'backup';
  const p = plan(snap, config(), NO_HISTORY, NOW);
  for (const s of p.skipped) assert.ok(canonical.has(s.reason) || /^(Guest is locked|Local resource|No allowed target)/.test(s.reason), s.reason);
});
