/**
 * The anti-affinity phase (src/engine/affinity.ts), rule by rule: which members of an exclude group
 * move off a shared node (the cheapest, k − 1 of k), where they go, what a rollback or a lack of
 * room says, and the words of the reason. Written for the mutation run, like
 * engine-maintenance.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON, type Plan } from '../src/engine/index.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, config, guest, history, migrated, node, NO_HISTORY, NOW, skipOf } from './helpers/engine.js';

const cfg = (over: Record<string, unknown> = {}) => config({ automated_migrations: { rules: { max_migrations_per_run: 10, max_concurrent_migrations: 10, ...over } } } as never);
const aff = (p: Plan) => p.moves.filter((m) => m.kind === 'anti-affinity').map((m) => `${m.vmid}:${m.source}→${m.target}`);
const db = { tags: ['exclude_db'] };
/** Three quiet nodes (nothing to balance), pve1 holding the given guests besides its own load. */
const three = (gs: SnapshotGuest[], nodes = [node('pve1'), node('pve2'), node('pve3')]) =>
  cluster(nodes, [guest(900, 'pve1', 10), guest(901, 'pve2', 20), guest(902, 'pve3', 20), ...gs]);

test('anti-affinity: of the members sharing a node, the cheapest moves, k − 1 of k, each to a node without the group', () => {
  const p = plan(three([guest(100, 'pve1', 8, db), guest(101, 'pve1', 2, db), guest(102, 'pve1', 4, db)]), cfg(), NO_HISTORY, NOW);
  const moved = aff(p).map((m) => Number(m.split(':')[0])).sort();
  assert.deepEqual(moved, [101, 102], 'the two smallest move, the largest stays');
  assert.notEqual(p.moves.find((m) => m.vmid === 101)!.target, p.moves.find((m) => m.vmid === 102)!.target, 'never two members together');
  // Equal sizes: the lower vmid moves.
  assert.deepEqual(aff(plan(three([guest(111, 'pve1', 4, db), guest(110, 'pve1', 4, db)]), cfg(), NO_HISTORY, NOW)).map((m) => m.split(':')[0]), ['110']);
});

test('anti-affinity: the target that leaves the cluster most even, by name on a tie; off with respect_exclude_tags false', () => {
  const uneven = cluster([node('pve1'), node('pve2'), node('pve3')], [guest(100, 'pve1', 4, db), guest(101, 'pve1', 2, db), guest(201, 'pve2', 30), guest(301, 'pve3', 20)]);
  assert.deepEqual(aff(plan(uneven, cfg(), NO_HISTORY, NOW)), ['101:pve1→pve3']);
  const even = cluster([node('pve1'), node('pve2'), node('pve3')], [guest(100, 'pve1', 4, db), guest(101, 'pve1', 2, db), guest(201, 'pve2', 20), guest(301, 'pve3', 20)]);
  assert.deepEqual(aff(plan(even, cfg(), NO_HISTORY, NOW)), ['101:pve1→pve2']);
  assert.deepEqual(aff(plan(even, cfg({ respect_exclude_tags: false }), NO_HISTORY, NOW)), []);
});

test('anti-affinity: its reason names the group, the members left behind and the target\'s memory', () => {
  const p = plan(cluster([node('pve1'), node('pve2')], [guest(100, 'pve1', 4, db), guest(101, 'pve1', 2, db), guest(201, 'pve2', 20)]), cfg(), NO_HISTORY, NOW);
  assert.equal(p.moves.find((m) => m.kind === 'anti-affinity')?.reason, 'vm101 shares exclude_db with vm100 on pve1; pve2 has no exclude_db guest and room: 22 % → 24 % memory');
});

test('anti-affinity: the only node free of the group is one the guest just left: a rollback, said and noted', () => {
  const s = cluster([node('pve1'), node('pve2'), node('pve3')], [guest(100, 'pve1', 4, db), guest(101, 'pve1', 2, db), guest(201, 'pve2', 20), guest(301, 'pve3', 20, db)]);
  // VM 101 came from pve2 two hours ago (past its cooldown, inside the 24 h rollback horizon); VM 100 came from pve2 too.
  const p = plan(s, cfg(), history([migrated(101, 'pve2', 'pve1', 120), migrated(100, 'pve2', 'pve1', 120)]), NOW);
  assert.deepEqual(aff(p), []);
  const k = skipOf(p, 101);
  assert.deepEqual([k?.reason, k?.detail], [REASON.rollback, 'the only node free of exclude_db with room is pve2, which it left within 24 h']);
  assert.ok(p.notes.includes('rollback prevented: vm101 (101) would return to pve2'), p.notes.join(' | '));
});

test('anti-affinity: no node free of the group has room: said; a shared node that is offline is left alone', () => {
  const s = cluster([node('pve1'), node('pve2'), node('pve3')], [guest(100, 'pve1', 4, db), guest(101, 'pve1', 2, db), guest(201, 'pve2', 87), guest(301, 'pve3', 20, db)]);
  const k = skipOf(plan(s, cfg(), NO_HISTORY, NOW), 101);
  assert.deepEqual([k?.reason, k?.detail], [REASON.noRoom, 'no node without another exclude_db guest has room for it']);
  const off = three([guest(100, 'pve3', 4, db), guest(101, 'pve3', 2, db)], [node('pve1'), node('pve2'), node('pve3', { status: 'offline' })]);
  assert.deepEqual(aff(plan(off, cfg(), NO_HISTORY, NOW)), []);
});

test('anti-affinity: groups are fixed in name order when the run has room for one move', () => {
  const s = three([guest(100, 'pve1', 4, { tags: ['exclude_web'] }), guest(101, 'pve1', 2, { tags: ['exclude_web'] }), guest(102, 'pve1', 4, { tags: ['exclude_app'] }), guest(103, 'pve1', 3, { tags: ['exclude_app'] })]);
  assert.deepEqual(aff(plan(s, cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW)).map((m) => m.split(':')[0]), ['103']);
});
