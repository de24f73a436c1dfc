/**
 * Maintenance evacuation (src/engine/maintenance.ts), rule by rule: the order nodes and guests are
 * evacuated in when room is short, the target each guest goes to, what HA maintenance leaves to
 * Proxmox, and the words of every reason and note. Written for the mutation run: the end-to-end and
 * property tests see whole plans, not which of two guests went first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON, type Plan } from '../src/engine/index.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, config, guest, node, NO_HISTORY, NOW, skipOf } from './helpers/engine.js';

const evac = (nodes: string[], over: Parameters<typeof config>[0] = {}) =>
  config({ ...over, automated_migrations: { maintenance_nodes: nodes, rules: { max_migrations_per_run: 10, max_concurrent_migrations: 10 }, ...(over.automated_migrations ?? {}) } } as never);
const moves = (p: Plan) => p.moves.map((m) => `${m.vmid}:${m.source}→${m.target}`);

test('evacuation: the largest guest first when the room is short, then the lower vmid among equals', () => {
  // pve2 (the only other node) has 35 GiB of room under the 90 % cap: the 30 GiB guest or the 10 GiB one, not both.
  const gs: SnapshotGuest[] = [guest(100, 'pve1', 10), guest(101, 'pve1', 30), guest(200, 'pve2', 53)];
  const p = plan(cluster([node('pve1'), node('pve2')], gs), evac(['pve1']), NO_HISTORY, NOW);
  assert.deepEqual(moves(p), ['101:pve1→pve2']);
  assert.equal(skipOf(p, 100)?.reason, REASON.noRoom);
  // Two of the same size, room for one: the lower vmid goes.
  const eq: SnapshotGuest[] = [guest(105, 'pve1', 30), guest(103, 'pve1', 30), guest(200, 'pve2', 53)];
  assert.deepEqual(moves(plan(cluster([node('pve1'), node('pve2')], eq), evac(['pve1']), NO_HISTORY, NOW)), ['103:pve1→pve2']);
  // The same memory in use, a larger configured size: the larger first.
  const mx: SnapshotGuest[] = [guest(106, 'pve1', 20, { maxmemGiB: 20 }), guest(107, 'pve1', 10, { maxmemGiB: 30 }), guest(200, 'pve2', 53)];
  assert.deepEqual(moves(plan(cluster([node('pve1'), node('pve2')], mx), evac(['pve1']), NO_HISTORY, NOW)), ['107:pve1→pve2']);
});

test('evacuation: maintenance nodes are emptied in name order, whatever the order Proxmox lists them in', () => {
  // Room for one 30 GiB guest on pve2: pve1's goes, pve3's waits.
  const gs: SnapshotGuest[] = [guest(300, 'pve3', 30), guest(100, 'pve1', 30), guest(200, 'pve2', 53)];
  const p = plan(cluster([node('pve3'), node('pve2'), node('pve1')], gs), evac(['pve3', 'pve1']), NO_HISTORY, NOW);
  assert.deepEqual(moves(p), ['100:pve1→pve2']);
  assert.equal(skipOf(p, 300)?.reason, REASON.noRoom);
});

test('evacuation: the target that leaves the cluster most even, by name on a tie, and away from an exclude-group member', () => {
  const three = (extra: SnapshotGuest[]) => cluster([node('pve1'), node('pve2'), node('pve3')], [guest(100, 'pve1', 10, { tags: ['exclude_db'] }), ...extra]);
  // pve3 is emptier: it evens the cluster out more.
  assert.deepEqual(moves(plan(three([guest(200, 'pve2', 40), guest(300, 'pve3', 20)]), evac(['pve1']), NO_HISTORY, NOW)), ['100:pve1→pve3']);
  // Equal nodes: the first by name.
  assert.deepEqual(moves(plan(three([guest(200, 'pve2', 20), guest(300, 'pve3', 20)]), evac(['pve1']), NO_HISTORY, NOW)), ['100:pve1→pve2']);
  // The emptier pve3 holds a member of the guest's exclude group: pve2 is preferred, the group kept apart.
  assert.deepEqual(moves(plan(three([guest(200, 'pve2', 40), guest(300, 'pve3', 20, { tags: ['exclude_db'] })]), evac(['pve1']), NO_HISTORY, NOW)), ['100:pve1→pve2']);
  // The only room is beside the member: the group rule is bypassed to empty the node.
  assert.deepEqual(moves(plan(three([guest(200, 'pve2', 85), guest(300, 'pve3', 20, { tags: ['exclude_db'] })]), evac(['pve1']), NO_HISTORY, NOW)), ['100:pve1→pve3']);
});

test('evacuation: its reason names the maintenance and the target\'s memory before and after', () => {
  const p = plan(cluster([node('pve1'), node('pve2')], [guest(100, 'pve1', 30), guest(200, 'pve2', 53)]), evac(['pve1']), NO_HISTORY, NOW);
  assert.equal(p.moves[0]?.kind, 'evacuation');
  assert.equal(p.moves[0]?.reason, 'pve1 is in maintenance (maintenance_nodes); pve2 has room: 55 % → 85 % memory');
});

test('evacuation: a node in HA maintenance: HA-managed guests are left to Proxmox HA, the others moved, saying which maintenance', () => {
  const s = cluster([node('pve1', { ha_state: 'maintenance' }), node('pve2')], [guest(100, 'pve1', 10, { hastate: 'started' }), guest(101, 'pve1', 10), guest(200, 'pve2', 20)]);
  const p = plan(s, config({ automated_migrations: { rules: { max_migrations_per_run: 10 } } }), NO_HISTORY, NOW);
  assert.deepEqual(moves(p), ['101:pve1→pve2']);
  assert.match(p.moves[0]!.reason, /^pve1 is in maintenance \(HA maintenance mode\); /);
  assert.deepEqual([skipOf(p, 100)?.reason, skipOf(p, 100)?.detail], [REASON.haMaintenance, 'pve1 is in HA maintenance; Proxmox HA moves HA-managed guests itself']);
});

test('evacuation: a maintenance node that is offline: a note when guests are stranded on it, none when it is empty', () => {
  const stranded = plan(cluster([node('pve1', { status: 'offline' }), node('pve2')], [guest(100, 'pve1', 10), guest(200, 'pve2', 20)]), evac(['pve1']), NO_HISTORY, NOW);
  assert.ok(stranded.notes.includes('pve1 is in maintenance but not online: its guests cannot be evacuated'), stranded.notes.join(' | '));
  assert.deepEqual(moves(stranded), []);
  const empty = plan(cluster([node('pve1', { status: 'offline' }), node('pve2')], [guest(200, 'pve2', 20)]), evac(['pve1']), NO_HISTORY, NOW);
  assert.ok(!empty.notes.some((n) => n.includes('pve1 is in maintenance')), empty.notes.join(' | '));
});

test('evacuation: no room anywhere is said with the caps; a node the target filter rules out is named', () => {
  const full = plan(cluster([node('pve1'), node('pve2')], [guest(100, 'pve1', 30), guest(200, 'pve2', 80)]), evac(['pve1']), NO_HISTORY, NOW);
  assert.deepEqual([skipOf(full, 100)?.reason, skipOf(full, 100)?.detail], [REASON.noRoom, 'no online node stays under the caps (memory 90 %, CPU 85 %) with this guest']);
  // pve3 has room but Proxmox does not allow the guest there (its storage is missing): named.
  const s = cluster([node('pve1'), node('pve2'), node('pve3')], [guest(100, 'pve1', 30, { local: { disks_bytes: 0, resources: [], not_allowed: { pve3: 'storage local-zfs not available' } } } as never), guest(200, 'pve2', 80)]);
  const d = skipOf(plan(s, evac(['pve1']), NO_HISTORY, NOW), 100);
  assert.equal(d?.reason, REASON.noRoom);
  assert.match(d?.detail ?? '', /^no target stays under the caps; pve3: .+/);
});
