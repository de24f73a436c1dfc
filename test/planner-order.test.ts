/**
 * How the exact planner carries out its end state within one tick (src/engine/optimal/order.ts),
 * given the end state directly (no solve): the hottest source first and the biggest relief first,
 * a move that would breach a cap now waiting for the move that makes room, the per-run limit, the
 * skip of a move that must wait for a later tick, and the words of the reasons. Written for the
 * mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePlanner, REASON } from '../src/engine/index.js';
import { movableUnits } from '../src/engine/optimal/units.js';
import { commitInOrder, WAITS, type EndMove } from '../src/engine/optimal/order.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, config, guest, nodeAt, NO_HISTORY, NOW } from './helpers/engine.js';

/** pve1 at 80 % memory (10 points over), pve2 at 75 % (5 over), pve3 at 20 %, pve4 at 75 %; caps 90 %. */
function setup(limit: number, guests: SnapshotGuest[], minConfidence = 75) {
  const snap = cluster([nodeAt('pve1', 10, 80), nodeAt('pve2', 10, 75), nodeAt('pve3', 10, 20), nodeAt('pve4', 10, 75)], guests, {}, true);
  const rules = { max_migrations_per_run: limit, max_concurrent_migrations: 10, min_confidence_score: minConfidence };
  const { planner: p, sim } = makePlanner(snap, config({ automated_migrations: { rules } } as never), NO_HISTORY, NOW);
  const { units } = movableUnits(p);
  const to = (vmid: number, target: string): EndMove => ({ u: units.find((x) => x.guests[0]!.vmid === vmid)!, t: sim.byName.get(target)! });
  return { p, to };
}
const GUESTS = [guest(101, 'pve1', 4), guest(102, 'pve1', 8), guest(103, 'pve1', 8), guest(201, 'pve2', 6)];

test('order: the hottest source first, within it the biggest relief first (then by vmid), whatever the order of the end state', () => {
  const { p, to } = setup(10, GUESTS);
  assert.equal(commitInOrder(p, [to(201, 'pve3'), to(101, 'pve3'), to(103, 'pve3'), to(102, 'pve3')], 4), 0, 'nothing waits');
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.target, m.kind]), [[102, 'pve3', 'load'], [103, 'pve3', 'load'], [101, 'pve3', 'load'], [201, 'pve3', 'load']]);
  assert.equal(p.moves[0]!.reason, 'pve1 is at 80 % memory (threshold 70 %); pve3 has room: 20 % → 28 %; optimal plan: 4 move(s) in all');
  assert.equal(p.moves[3]!.reason, 'pve2 is at 75 % memory (threshold 70 %); pve3 has room: 40 % → 46 %; optimal plan: 4 move(s) in all');
  assert.deepEqual(p.skipped, new Map());
});

test('order: the per-run limit takes the first moves; the others wait, skipped with the limit, naming their target', () => {
  const { p, to } = setup(1, GUESTS);
  assert.equal(commitInOrder(p, [to(201, 'pve3'), to(101, 'pve3'), to(102, 'pve3')], 3), 2, 'both wait for a later tick');
  assert.deepEqual(p.moves.map((m) => m.vmid), [102]);
  for (const vmid of [101, 201]) {
    const k = p.skipped.get(vmid)!;
    assert.deepEqual([k.reason, k.detail, k.kind, k.target], [REASON.maxPerRun, 'limit 1', 'load', 'pve3']);
  }
});

test('order: a move that would breach a cap now waits for the move that makes room; one that cannot fit this tick waits for a later one', () => {
  // VM 102 and VM 103 (8 GiB in use, 20 configured) go to pve4 (75 %): 95 % with one of them, over the cap,
  // until VM 401 (10 GiB) leaves pve4 for pve3 (65 %, then 85 % with one). The second one never fits this tick.
  // (85 % leaves little headroom: the confidence floor is lowered to 50 so that it is the caps that decide.)
  const guests = [guest(102, 'pve1', 8, { maxmemGiB: 20 }), guest(103, 'pve1', 8, { maxmemGiB: 20 }), guest(401, 'pve4', 10)];
  const { p, to } = setup(10, guests, 50);
  assert.equal(commitInOrder(p, [to(102, 'pve4'), to(103, 'pve4'), to(401, 'pve3')], 3), 1);
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.target]), [[401, 'pve3'], [102, 'pve4']]);
  const k = p.skipped.get(103)!;
  assert.deepEqual([k.reason, k.detail, k.kind, k.target], [WAITS, 'moving it to pve4 now would breach a cap or a rule; it follows once the moves before it are done', 'load', 'pve4']);
  // Nothing fits first at all (VM 401 is not part of it): nothing is committed or recorded, and all of it waits.
  const none = setup(10, guests, 50);
  assert.equal(commitInOrder(none.p, [none.to(102, 'pve4'), none.to(103, 'pve4')], 2), 2);
  assert.deepEqual([none.p.moves, none.p.skipped.size], [[], 0]);
});

test('order: a move the target filter refuses now (Proxmox lacks its storage there) is never made, whatever the end state says; it waits', () => {
  const guests = [guest(101, 'pve1', 8, { local: { disks_bytes: 0, resources: [], not_allowed: { pve3: "storage 'fast' is not available" } } }), guest(102, 'pve1', 4)];
  const { p, to } = setup(10, guests);
  assert.equal(commitInOrder(p, [to(101, 'pve3'), to(102, 'pve3')], 2), 1);
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.target]), [[102, 'pve3']]);
  assert.equal(p.skipped.get(101)!.reason, WAITS);
});

test('order: an exclude-group fix comes before any load move, as an anti-affinity move that names the group', () => {
  // VM 201 and VM 202 share exclude_db on pve2; pve1 is the hotter node, yet the group is fixed first.
  const guests = [guest(102, 'pve1', 8), guest(201, 'pve2', 2, { tags: ['exclude_db'] }), guest(202, 'pve2', 2, { tags: ['exclude_db'] })];
  const { p, to } = setup(10, guests);
  assert.equal(commitInOrder(p, [to(102, 'pve3'), to(202, 'pve3')], 2), 0);
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.kind]), [[202, 'anti-affinity'], [102, 'load']]);
  assert.equal(p.moves[0]!.reason, 'vm202 shares exclude_db with another guest on pve2; pve3 has no exclude_db guest and room: 20 % → 22 % memory; optimal plan: 2 move(s) in all');
});

test('order: a move onto a node that holds another member of its exclude group is never made; a member alone on its node moves as a load move', () => {
  // VM 101 (exclude_db, alone on pve1) may not join VM 301 (exclude_db) on pve3.
  const guests = [guest(101, 'pve1', 8, { tags: ['exclude_db'] }), guest(102, 'pve1', 4), guest(301, 'pve3', 2, { tags: ['exclude_db'] })];
  const { p, to } = setup(10, guests);
  assert.equal(commitInOrder(p, [to(101, 'pve3'), to(102, 'pve3')], 2), 1);
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.target, m.kind]), [[102, 'pve3', 'load']]);
  assert.equal(p.skipped.get(101)!.reason, WAITS);
  // Without VM 301 there, VM 101 goes, and as a load move: its group is not violated where it is.
  const alone = setup(10, guests.slice(0, 2));
  assert.equal(commitInOrder(alone.p, [alone.to(101, 'pve3')], 1), 0);
  assert.deepEqual(alone.p.moves.map((m) => [m.vmid, m.kind]), [[101, 'load']]);
});
