/**
 * The planning context (src/engine/context.ts), the part every phase shares: how a move of an HA
 * positive group is committed (one move naming its companions, the budget counting each), why a
 * group stays home (a partner that may not move), the target filter's refusal of every node, and
 * the score breakdown. Hand-set node figures as in engine-load.test.ts. Written for the mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON } from '../src/engine/index.js';
import type { ClusterSnapshot, SnapshotGuest, SnapshotHaRule } from '../src/generated/snapshot.js';
import { cluster, config, GiB, guest, history, migrated, node, nodeAt, NO_HISTORY, NOW, skipOf } from './helpers/engine.js';

const cfg = (rules: Record<string, unknown> = {}) => config({ automated_migrations: { rules: { max_migrations_per_run: 10, max_concurrent_migrations: 10, ...rules } } } as never);
const sidOf = (g: SnapshotGuest) => `${g.type === 'lxc' ? 'ct' : 'vm'}:${g.vmid}`;
const pair = (rule: string, sids: string[]): SnapshotHaRule => ({ rule, type: 'resource-affinity', resources: sids, affinity: 'positive', disabled: false });

/** pve1 (30 % CPU, 60 % memory) and pve2 (10 %, 10 %): an imbalance of 17.5; every guest HA-managed by `rules`. */
function haPair(guests: SnapshotGuest[], rules: SnapshotHaRule[]): ClusterSnapshot {
  const snap = cluster([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], guests, {}, true);
  for (const g of snap.guests) g.hastate = 'started';
  snap.ha = {
    source: 'rules', complete: true, status_known: true, services: [],
    resources: snap.guests.map((g) => ({ sid: sidOf(g), vmid: g.vmid, state: 'started', failback: true, group: null })),
    rules,
  };
  return snap;
}

test('context: an HA positive pair is one move that names its companion; its reason says HA moves it along', () => {
  const snap = haPair([guest(101, 'pve1', 4, { cpu: 0 }), guest(102, 'pve1', 4, { cpu: 0 })], [pair('pair', ['vm:101', 'vm:102'])]);
  const p = plan(snap, cfg(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 1);
  const m = p.moves[0]!;
  assert.deepEqual([m.vmid, m.source, m.target, m.kind], [101, 'pve1', 'pve2', 'load']);
  assert.deepEqual(m.companions, [{ vmid: 102, name: 'vm102', type: 'qemu', source: 'pve1' }]);
  // Both guests' 8 GiB arrive: 10 → 18 % memory, and the reason says so (it once gave the figures of the lead guest alone).
  assert.equal(m.reason, "pve1 carries more than its share (load 45 %, cluster mean 28 %); pve2 has room: 10 % → 18 % memory, imbalance 17.5 → 13.5; HA moves VM 102 along (rule 'pair', positive affinity)");
  assert.deepEqual([m.score.gib_moved, m.score.target_mem_percent_after, m.score.source_mem_percent_after, m.score.imbalance_after], [8, 18, 52, 13.5]);
  assert.deepEqual(p.skipped, []);
});

test('context: the budget counts every member of a group: a limit of one refuses a pair, both skipped with the limit, and no note blames the balance', () => {
  const snap = haPair([guest(101, 'pve1', 4, { cpu: 0 }), guest(102, 'pve1', 4, { cpu: 0 })], [pair('pair', ['vm:101', 'vm:102'])]);
  const p = plan(snap, cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW);
  assert.deepEqual(p.moves, []);
  for (const vmid of [101, 102]) {
    assert.deepEqual(skipOf(p, vmid), { vmid, name: `vm${vmid}`, node: 'pve1', reason: REASON.maxPerRun, detail: 'limit 1', kind: 'load', target: 'pve2', confidence: 98 });
  }
  assert.deepEqual(p.notes, [], 'the per-run limit stopped it, and the skips say so');
});

test('context: a partner that may not move keeps its group home, naming every rule and the partner, with the partner\'s detail', () => {
  const snap = haPair([guest(101, 'pve1', 4, { cpu: 0 }), guest(102, 'pve1', 4, { cpu: 0, type: 'lxc' })], [pair('b', ['vm:101', 'ct:102']), pair('a', ['ct:102', 'vm:101'])]);
  // CT 102 arrived on pve1 10 minutes ago: in cooldown (30 minutes) until 12:20.
  const p = plan(snap, cfg(), history([migrated(102, 'pve2', 'pve1', 10)]), NOW);
  assert.deepEqual(p.moves, []);
  assert.deepEqual(skipOf(p, 101), { vmid: 101, name: 'vm101', node: 'pve1', reason: `HA rule 'a', 'b' would bring CT 102 along, which may not move: ${REASON.cooldown}`, detail: 'until 2026-11-25T12:20:00Z', kind: 'load' });
  assert.deepEqual(skipOf(p, 102), { vmid: 102, name: 'vm102', node: 'pve1', reason: REASON.cooldown, detail: 'until 2026-11-25T12:20:00Z', kind: 'load' });
});

test('context: a guest Proxmox refuses on every other node is skipped with each node\'s reason; one allowed node is enough', () => {
  const local = (notAllowed: Record<string, string>) => ({ disks_bytes: 0, resources: [], not_allowed: notAllowed });
  const nodes = () => [nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10), nodeAt('pve3', 10, 10)];
  const none = plan(cluster(nodes(), [guest(101, 'pve1', 4, { cpu: 0, local: local({ pve2: 'storage local-lvm not available', pve3: '' }) })], {}, true), cfg(), NO_HISTORY, NOW);
  assert.deepEqual(none.moves, []);
  assert.deepEqual(skipOf(none, 101), { vmid: 101, name: 'vm101', node: 'pve1', reason: 'No allowed target: pve2: storage local-lvm not available; pve3: not allowed', kind: 'load' });
  const one = plan(cluster(nodes(), [guest(101, 'pve1', 4, { cpu: 0, local: local({ pve2: 'storage local-lvm not available' }) })], {}, true), cfg(), NO_HISTORY, NOW);
  assert.deepEqual([one.moves.map((m) => m.target), one.skipped], [['pve3'], []], 'pve2 and pve3 are alike; pve2 would win by name were it allowed');
});

test('context: a partner\'s ordinary rules keep a group home, but an evacuation asks only the hard rules of the partners', () => {
  const snap = () => haPair([guest(101, 'pve1', 4, { cpu: 0 }), guest(102, 'pve1', 4, { cpu: 0, tags: ['ignore'] })], [pair('pair', ['vm:101', 'vm:102'])]);
  const p = plan(snap(), cfg(), NO_HISTORY, NOW);
  assert.deepEqual([p.moves, skipOf(p, 101)?.reason], [[], `HA rule 'pair' would bring VM 102 along, which may not move: ${REASON.ignore}`]);
  const evac = plan(snap(), config({ automated_migrations: { maintenance_nodes: ['pve1'], rules: { max_migrations_per_run: 10 } } } as never), NO_HISTORY, NOW);
  assert.deepEqual(evac.moves.map((m) => [m.vmid, m.target, m.kind, m.companions?.map((c) => c.vmid)]), [[101, 'pve2', 'evacuation', [102]]]);
  assert.deepEqual(evac.skipped, []);
});

test('context: the risk of a move counts memory, local disk and a container restart', () => {
  // 8 GiB (0.4 × 8/32) + 50 GiB of local disk (0.3 × 50/100) + a running container (0.3): 0.55.
  const snap = cluster([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], [guest(101, 'pve1', 8, { cpu: 0, type: 'lxc', local: { disks_bytes: 50 * GiB, resources: [], not_allowed: {} } })], {}, true);
  const p = plan(snap, cfg({ min_confidence_score: 50 }), NO_HISTORY, NOW);
  assert.deepEqual(p.moves.map((m) => [m.score.risk, m.score.gib_moved, m.confidence]), [[0.55, 58, 84]]);
});

test('context: the confidence floor holds for every phase that proposes: a move at the floor goes, one point below it is skipped with its figures', () => {
  // Distribution: pve1 runs seven small containers, pve2 and pve3 one guest each; a container's restart (risk 0.3) costs 9 points.
  const guests = [...[0, 1, 2, 3, 4, 5, 6].map((i) => guest(100 + i, 'pve1', 1, { maxmemGiB: 2, type: 'lxc' })), guest(200, 'pve2', 2), guest(300, 'pve3', 2)];
  const dist = (floor: number) => plan(cluster([node('pve1'), node('pve2'), node('pve3')], guests), config({ automated_migrations: { rules: { max_migrations_per_run: 10, max_concurrent_migrations: 10, min_confidence_score: floor } }, distribution_balancing: { enabled: true } } as never), NO_HISTORY, NOW);
  assert.deepEqual(dist(91).moves.map((m) => [m.vmid, m.target, m.confidence]), [[100, 'pve2', 91], [101, 'pve3', 91], [102, 'pve2', 91]]);
  const p = dist(92);
  assert.deepEqual(p.moves, []);
  assert.deepEqual(skipOf(p, 100), { vmid: 100, name: 'vm100', node: 'pve1', reason: REASON.confidence, detail: '91 < 92 (distribution move to pve2)', kind: 'distribution', target: 'pve2', confidence: 91 });
});
