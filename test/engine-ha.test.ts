/**
 * The engine's HA rules, pure: allowed and preferred nodes, failback, strict rules, negative and
 * positive resource affinity, HA maintenance, recovery, in every phase.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../src/engine/index.js';
import { HaPlacement } from '../src/engine/ha.js';
import { buildHa } from '../src/pve/ha-read.js';
import type { ClusterSnapshot, SnapshotHa, SnapshotHaRule } from '../src/generated/snapshot.js';
import { cluster, config, guest, hotCluster, node, NO_HISTORY, NOW, skipOf } from './helpers/engine.js';

function withHa(snap: ClusterSnapshot, haVmids: number[], rules: SnapshotHaRule[], over: Partial<SnapshotHa> = {}, failbackOff: number[] = []): ClusterSnapshot {
  for (const g of snap.guests) if (haVmids.includes(g.vmid)) g.hastate = g.hastate ?? 'started';
  snap.ha = {
    source: 'rules', complete: true, status_known: true, services: [],
    resources: haVmids.map((v) => ({ sid: `vm:${v}`, vmid: v, state: 'started', failback: !failbackOff.includes(v), group: null })),
    rules, ...over,
  };
  return snap;
}
const nodeRule = (rule: string, vmids: number[], nodes: Record<string, number>, strict = false): SnapshotHaRule => ({ rule, type: 'node-affinity', resources: vmids.map((v) => `vm:${v}`), nodes, strict, disabled: false });
const resRule = (rule: string, vmids: number[], affinity: 'positive' | 'negative'): SnapshotHaRule => ({ rule, type: 'resource-affinity', resources: vmids.map((v) => `vm:${v}`), affinity, disabled: false });

test('allowed and preferred nodes as the HA manager computes them', () => {
  const snap = withHa(cluster(['pve1', 'pve2', 'pve3', 'pve4'].map((n) => node(n, n === 'pve4' ? { status: 'offline' } : {})), [guest(1, 'pve1', 1), guest(2, 'pve1', 1), guest(3, 'pve1', 1)]), [1, 2, 3], [
    nodeRule('strict', [1], { pve1: 1, pve2: 1, pve4: 5 }, true),
    nodeRule('loose', [2], { pve2: 2, pve3: 1 }),
  ]);
  const ha = new HaPlacement(snap);
  assert.deepEqual([...ha.guests.get(1)!.allowed!].sort(), ['pve1', 'pve2'], 'strict: the online listed nodes');
  assert.deepEqual([...ha.guests.get(1)!.preferred!].sort(), ['pve1', 'pve2'], 'the offline pve4 has the top priority but does not count');
  assert.deepEqual([...ha.guests.get(2)!.allowed!].sort(), ['pve1', 'pve2', 'pve3'], 'non-strict: every online node');
  assert.deepEqual([...ha.guests.get(2)!.preferred!], ['pve2']);
  assert.equal(ha.guests.get(3)!.allowed, null, 'no rule: anywhere');
  const where = (v: number) => snap.guests.find((g) => g.vmid === v)?.node;
  assert.equal(ha.block(1, 'pve3', where)?.reason, "HA rule 'strict' allows only pve1, pve2, pve4 (strict)");
  assert.equal(ha.block(2, 'pve3', where)?.reason, "HA rule 'loose' prefers pve2 (failback on)");
  assert.equal(ha.block(2, 'pve2', where), null);
  assert.equal(ha.block(3, 'pve3', where), null);
});

test('a disabled rule and an ignored resource do not count; failback off allows every allowed node', () => {
  const snap = withHa(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(1, 'pve1', 1), guest(2, 'pve1', 1)]), [1, 2], [
    { ...nodeRule('off', [1], { pve1: 1 }, true), disabled: true },
    nodeRule('loose', [2], { pve1: 2, pve2: 1 }),
  ], {}, [2]);
  const ha = new HaPlacement(snap);
  const where = (v: number) => snap.guests.find((g) => g.vmid === v)?.node;
  assert.equal(ha.block(1, 'pve3', where), null);
  assert.equal(ha.block(2, 'pve3', where), null, 'failback off: HA leaves it on any allowed node');
});

test('load phase: an HA guest with failback on stays on its preferred node, with the rule named; another guest moves', () => {
  const snap = withHa(hotCluster(), [100], [nodeRule('db-pin', [100], { pve1: 2 })]);
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.ok(p.moves.length > 0);
  assert.ok(!p.moves.some((m) => m.vmid === 100));
  assert.equal(skipOf(p, 100)?.reason, "HA rule 'db-pin' prefers pve1 (failback on)");
});

test('load phase: never next to a negative partner; the skip names it when that was the only node with room', () => {
  // pve2 is full (a guest of 85 GiB), pve3 hosts VM 301, VM 100's negative partner.
  const guests = [...Array.from({ length: 11 }, (_, i) => guest(100 + i, 'pve1', 8)), guest(200, 'pve2', 85), guest(301, 'pve3', 1)];
  const snap = withHa(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), guests), [100, 301], [resRule('apart', [100, 301], 'negative')]);
  const p = plan(snap, config({ automated_migrations: { rules: { max_migrations_per_run: 20 } } }), NO_HISTORY, NOW);
  assert.ok(p.moves.some((m) => m.target === 'pve3'), 'others go to pve3');
  assert.ok(!p.moves.some((m) => m.vmid === 100), JSON.stringify(p.moves));
  assert.equal(skipOf(p, 100)?.reason, 'HA negative affinity with VM 301 on pve3');
  assert.equal(skipOf(p, 100)?.detail, "HA rule 'apart'");
});

test('positive group: moves as one, caps count every member, the budget counts them, the plan lists them', () => {
  const snap = withHa(hotCluster(), [100, 101], [resRule('pair', [100, 101], 'positive')]);
  const p = plan(snap, config({ automated_migrations: { rules: { max_migrations_per_run: 3 } } }), NO_HISTORY, NOW);
  const m = p.moves.find((x) => x.vmid === 100 || x.vmid === 101);
  assert.ok(m, JSON.stringify(p.moves.map((x) => x.vmid)));
  assert.deepEqual(m.companions?.map((c) => c.vmid), [m.vmid === 100 ? 101 : 100]);
  assert.ok(!p.moves.some((x) => x !== m && (x.vmid === 100 || x.vmid === 101)), 'the partner is not planned a second time');
  const counted = p.moves.reduce((s, x) => s + 1 + (x.companions?.length ?? 0), 0);
  assert.ok(counted <= 3, `budget: ${counted} migrations`);
  // A budget of one migration cannot take a pair.
  const one = plan(snap, config({ automated_migrations: { rules: { max_migrations_per_run: 1 } } }), NO_HISTORY, NOW);
  assert.ok(!one.moves.some((x) => x.companions?.length), JSON.stringify(one.moves));
});

test('positive group: a partner that may not move keeps the group home, naming the rule', () => {
  const snap = withHa(hotCluster(), [100, 101], [resRule('pair', [100, 101], 'positive')]);
  snap.guests.find((g) => g.vmid === 101)!.lock = 'backup';
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.ok(!p.moves.some((x) => x.vmid === 100 || x.vmid === 101));
  assert.match(skipOf(p, 100)?.reason ?? '', /^HA rule 'pair' would bring VM 101 along, which may not move: Guest is locked \(backup\)/);
});

test('maintenance: on a node in HA maintenance only non-HA guests are evacuated; on maintenance_nodes HA guests go where HA lets them', () => {
  const nodes = ['pve1', 'pve2', 'pve3'].map((n) => node(n, n === 'pve1' ? { ha_state: 'maintenance' } : {}));
  const snap = withHa(cluster(nodes, [guest(1, 'pve1', 4), guest(2, 'pve1', 4)]), [1], []);
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.deepEqual(p.moves.map((m) => m.vmid), [2]);
  assert.equal(skipOf(p, 1)?.reason, 'Managed by HA maintenance mode');

  // Our own maintenance_nodes is not HA maintenance: HA still prefers pve1 for guest 2 and would
  // bring it back, so it stays; guest 1 (strict to pve1/pve3, failback off) may go to pve3 only.
  const ours = withHa(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(1, 'pve1', 4), guest(2, 'pve1', 4), guest(3, 'pve1', 4)]), [1, 2], [nodeRule('pin', [1], { pve1: 2, pve3: 1 }, true), nodeRule('stay', [2], { pve1: 1 })], {}, [1]);
  const q = plan(ours, config({ automated_migrations: { maintenance_nodes: ['pve1'] } }), NO_HISTORY, NOW);
  assert.equal(q.moves.find((m) => m.vmid === 1)?.target, 'pve3', 'the only other node its strict rule allows');
  assert.equal(skipOf(q, 2)?.reason, "HA rule 'stay' prefers pve1 (failback on)");
  assert.ok(q.moves.some((m) => m.vmid === 3));
});

test('distribution and anti-affinity phases honour HA too', () => {
  const guests = [guest(1, 'pve1', 1, { tags: ['exclude_db'] }), guest(2, 'pve1', 1, { tags: ['exclude_db'] })];
  const snap = withHa(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), guests), [1, 2], [nodeRule('db', [1, 2], { pve1: 1 }, true)]);
  const p = plan(snap, config({ automated_migrations: { rules: { respect_exclude_tags: true } } }), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  assert.equal(skipOf(p, 1)?.reason, "HA rule 'db' allows only pve1 (strict)");

  const many = Array.from({ length: 8 }, (_, i) => guest(10 + i, 'pve1', 1));
  const d = withHa(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), many), many.map((g) => g.vmid), [nodeRule('here', many.map((g) => g.vmid), { pve1: 1, pve2: 1 })]);
  const dp = plan(d, config({ distribution_balancing: { enabled: true, guest_count_threshold: 2 } }), NO_HISTORY, NOW);
  assert.ok(dp.moves.length > 0);
  assert.ok(dp.moves.every((m) => m.target === 'pve2'), JSON.stringify(dp.moves.map((m) => m.target)));
});

test('HA recovering or its state unknown: the cluster-health gate fails, naming the guest', () => {
  const snap = withHa(hotCluster(), [100], [], { services: [{ sid: 'vm:104', node: 'pve2', state: 'fence' }] });
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.equal(p.allowed, false);
  assert.equal(p.moves.length, 0);
  assert.equal(p.gates.find((g) => g.name === 'cluster_health')!.message, 'HA is recovering VM 104 (fence)');
  const unknown = plan(withHa(hotCluster(), [100], [], { status_known: false }), config(), NO_HISTORY, NOW);
  assert.match(unknown.gates.find((g) => g.name === 'cluster_health')!.message, /HA state unknown/);
});

test('HA placement incomplete: HA guests stay ("HA placement unknown"), others move', () => {
  const snap = withHa(hotCluster(), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110], [], { complete: false });
  snap.guests.find((g) => g.vmid === 110)!.hastate = null;
  snap.ha!.resources = snap.ha!.resources.filter((r) => r.vmid !== 110);
  const p = plan(snap, config(), NO_HISTORY, NOW);
  assert.deepEqual(p.moves.map((m) => m.vmid), [110]);
  assert.equal(skipOf(p, 100)?.reason, 'HA placement unknown');
});

test('PVE 8 groups become node-affinity rules; nofailback turns failback off', () => {
  const ha = buildHa({
    resources: [{ sid: 'vm:100', group: 'db', state: 'started' }, { sid: 'ct:101', group: 'web' }, { sid: 'vm:102', failback: 0 }],
    groups: [{ group: 'db', nodes: 'pve1:2,pve2', restricted: 1, nofailback: 0 }, { group: 'web', nodes: 'pve3', nofailback: 1 }],
    rules: null, error: null,
  }, [{ id: 'service:vm:100', type: 'service', node: 'pve1', status: 'started', sid: 'vm:100', state: 'started' }]);
  assert.equal(ha.source, 'groups');
  assert.deepEqual(ha.resources.map((r) => [r.vmid, r.failback, r.group]), [[100, true, 'db'], [101, false, 'web'], [102, false, null]]);
  assert.deepEqual(ha.rules[0], { rule: 'group:db', type: 'node-affinity', resources: ['vm:100'], disabled: false, nodes: { pve1: 2, pve2: 0 }, strict: true });
  assert.deepEqual(ha.services, [{ sid: 'vm:100', node: 'pve1', state: 'started' }]);
  assert.equal(ha.status_known, true);
});

test('an HA service in error (or frozen, or already moving) is not asked to move', () => {
  const snap = withHa(hotCluster(), [100, 101], [], { services: [{ sid: 'vm:100', node: 'pve1', state: 'error' }, { sid: 'vm:101', node: 'pve1', state: 'started' }] });
  const p = plan(snap, config({ automated_migrations: { rules: { max_migrations_per_run: 20 } } }), NO_HISTORY, NOW);
  assert.ok(!p.moves.some((m) => m.vmid === 100));
  assert.equal(skipOf(p, 100)?.reason, "HA service state 'error'");
  assert.ok(p.moves.some((m) => m.vmid === 101), 'a started HA service moves');
});
