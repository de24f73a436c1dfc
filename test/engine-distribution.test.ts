/**
 * Distribution balancing (src/engine/distribution.ts), rule by rule: which guest moves (the
 * smallest eligible one, off the fullest node), where (the emptiest node, by name on a tie), when
 * it stops (the spread within guest_count_threshold), the size limits, and the words of the reason
 * and of a prevented rollback. Written for the mutation run, like engine-maintenance.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON, type Plan } from '../src/engine/index.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, config, guest, history, migrated, node, NO_HISTORY, NOW, skipOf } from './helpers/engine.js';

const cfg = (db: Record<string, unknown> = {}) =>
  config({ automated_migrations: { rules: { max_migrations_per_run: 10, max_concurrent_migrations: 10 } }, distribution_balancing: { enabled: true, ...db } } as never);
const dist = (p: Plan) => p.moves.filter((m) => m.kind === 'distribution').map((m) => `${m.vmid}→${m.target}`);
/** pve1 runs `n` small guests (1-2 GiB), pve2 and pve3 one each: memory is low everywhere, only the counts differ. */
function crowded(n: number, extra: SnapshotGuest[] = []) {
  const gs: SnapshotGuest[] = [];
  for (let i = 0; i < n; i++) gs.push(guest(100 + i, 'pve1', 1 + (i % 2), { maxmemGiB: 2 + (i % 2) }));
  gs.push(guest(200, 'pve2', 2), guest(300, 'pve3', 2), ...extra);
  return cluster([node('pve1'), node('pve2'), node('pve3')], gs);
}

test('distribution: the smallest guests leave the fullest node for the emptiest, until the spread is within the threshold', () => {
  // pve1 7, pve2 1, pve3 1: spread 6 > 2. Smallest configured memory first (the 2 GiB ones: 100, 102, 104, 106), by vmid;
  // the emptiest node first, by name on a tie: pve2, pve3, pve2, until 4 / 3 / 2 (a spread of 2).
  const p = plan(crowded(7), cfg(), NO_HISTORY, NOW);
  assert.deepEqual(dist(p), ['100→pve2', '102→pve3', '104→pve2']);
  assert.deepEqual(dist(plan(crowded(7), cfg({ enabled: false }), NO_HISTORY, NOW)), []);
  assert.deepEqual(dist(plan(crowded(7), cfg({ guest_count_threshold: 4 }), NO_HISTORY, NOW)), ['100→pve2', '102→pve3'], '7/1/1 → 6/2/1 → 5/2/2: a spread of 3');
  assert.deepEqual(dist(plan(crowded(3), cfg(), NO_HISTORY, NOW)), [], 'a spread of 2 is within the threshold');
});

test('distribution: guests above max_memory_gb or max_cpu_cores stay; 0 means no limit; stopped guests are not counted', () => {
  // The guests are configured with 2 or 3 GiB: none is eligible under max_memory_gb 1, all without a limit.
  assert.deepEqual(dist(plan(crowded(7), cfg({ max_memory_gb: 1 }), NO_HISTORY, NOW)), []);
  assert.deepEqual(dist(plan(crowded(7), cfg({ max_memory_gb: 0 }), NO_HISTORY, NOW)), ['100→pve2', '102→pve3', '104→pve2']);
  const big = crowded(0, [101, 102, 103, 104, 105, 106, 107].map((v) => guest(v, 'pve1', 1, { maxcpu: 4 })));
  assert.deepEqual(dist(plan(big, cfg(), NO_HISTORY, NOW)), [], '4 cores > max_cpu_cores 2');
  assert.deepEqual(dist(plan(big, cfg({ max_cpu_cores: 0 }), NO_HISTORY, NOW)), ['101→pve2', '102→pve3', '103→pve2']);
  const stopped = crowded(0, [101, 102, 103, 104, 105, 106, 107].map((v) => guest(v, 'pve1', 1, { status: v > 103 ? 'stopped' : 'running' })));
  assert.deepEqual(dist(plan(stopped, cfg(), NO_HISTORY, NOW)), [], 'three running against one: within the threshold');
});

test('distribution: the reason gives the counts, the threshold and the guest', () => {
  const p = plan(crowded(7), cfg(), NO_HISTORY, NOW);
  assert.equal(p.moves.find((m) => m.kind === 'distribution')?.reason, 'pve1 runs 7 guests and pve3 1 (difference 6, threshold 2); pve2 (1) takes small guest vm100');
});

test('distribution: the emptiest node is one the guest just left: a rollback, said and noted, and the next node takes the next guest', () => {
  // VM 100 came from pve2 two hours ago: pve2 would be its return.
  const p = plan(crowded(5), cfg(), history([migrated(100, 'pve2', 'pve1', 120)]), NOW);
  assert.ok(!dist(p).some((m) => m.startsWith('100→pve2')), dist(p).join(' '));
  assert.equal(dist(p)[0], '100→pve3');
  const only = plan(crowded(5), cfg(), history([migrated(100, 'pve2', 'pve1', 120), migrated(100, 'pve3', 'pve2', 200)]), NOW);
  const k = skipOf(only, 100);
  assert.deepEqual([k?.reason, k?.detail], [REASON.rollback, 'the emptiest node with room is pve2, which it left within 24 h']);
  assert.ok(only.notes.includes('rollback prevented: vm100 (100) would return to pve2'), only.notes.join(' | '));
});
