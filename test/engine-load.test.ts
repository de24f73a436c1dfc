/**
 * Load balancing (src/engine/balance.ts), rule by rule, on nodes whose figures are set by hand
 * (100 GiB and 10 cores: a GiB is a memory point, a tenth of a core a CPU point): when it starts and
 * when it stops (trigger and target of the imbalance, hot nodes), the gain of a small guest (its
 * footprint), the target of each guest (most improvement, name on a tie), the ranking of guests
 * (improvement per GiB moved), the words of every reason, skip and note. Written for the mutation
 * run, like engine-distribution.test.ts: the older tests see whole plans, these pin each rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON, type Plan } from '../src/engine/index.js';
import type { SnapshotGuest, SnapshotNode } from '../src/generated/snapshot.js';
import { cluster, config, GiB, guest, history, migrated, nodeAt, NO_HISTORY, NOW, skipOf } from './helpers/engine.js';

/** A running guest using `mem` GiB and `cores` of its one core (a CPU point is 0.1 core). */
const g = (vmid: number, on: string, mem: number, cores = 0, over: Partial<SnapshotGuest> = {}) => guest(vmid, on, mem, { cpu: cores, ...over });
const snap = (nodes: SnapshotNode[], guests: SnapshotGuest[]) => cluster(nodes, guests, {}, true);
const cfg = (rules: Record<string, unknown> = {}) => config({ automated_migrations: { rules: { max_migrations_per_run: 10, max_concurrent_migrations: 10, ...rules } } } as never);
const loads = (p: Plan) => p.moves.filter((m) => m.kind === 'load').map((m) => `${m.vmid}→${m.target}`);

test('load: an imbalance of exactly the trigger (10) starts nothing; just above it, balancing runs until the imbalance is at most the target (5)', () => {
  // Loads (CPU+memory)/2: 35 and 15, a standard deviation of exactly 10.
  const guests = [1, 2, 3, 4, 5, 6].map((v) => g(100 + v, 'pve1', 4));
  assert.deepEqual(loads(plan(snap([nodeAt('pve1', 30, 40), nodeAt('pve2', 10, 20)], guests), cfg(), NO_HISTORY, NOW)), []);
  // 36 and 15 (imbalance 10.5): each 4 GiB guest moves 2 load points (source −2, target +2), 2 off the imbalance:
  // 10.5 → 8.5 → 6.5 → 4.5, where it stops (at most 5), though the next move would still improve it (→ 2.5).
  const p = plan(snap([nodeAt('pve1', 30, 42), nodeAt('pve2', 10, 20)], guests), cfg(), NO_HISTORY, NOW);
  assert.deepEqual(loads(p), ['101→pve2', '102→pve2', '103→pve2']);
  assert.deepEqual(p.moves.map((m) => m.score.imbalance_after), [8.5, 6.5, 4.5]);
  assert.deepEqual(p.notes, [], 'nothing wanted and left undone');
});

test('load: a hot node alone starts balancing, and balancing goes on while any node is hot, even within the target imbalance', () => {
  // pve1 at 66 % CPU (threshold 60) and pve2 at 50 %, both at 10 % memory: imbalance 4 + 6 points over = 10, not above the trigger.
  const guests = [1, 2, 3, 4].map((v) => g(100 + v, 'pve1', 1, 0.2));
  const p = plan(snap([nodeAt('pve1', 66, 10), nodeAt('pve2', 50, 10)], guests), cfg(), NO_HISTORY, NOW);
  // Each guest takes 2 CPU points: 66 → 64 → 62 → 60 (no longer hot). After the second move the imbalance (3) is
  // within the target already, but pve1 is still hot at 62 %: the third move goes too (→ 0.5), and no fourth.
  assert.deepEqual(loads(p), ['101→pve2', '102→pve2', '103→pve2']);
  assert.deepEqual(p.moves.map((m) => m.score.imbalance_after), [6.5, 3, 0.5]);
  assert.equal(p.moves[0]!.reason, 'pve1 is at 66 % CPU (threshold 60 %); pve2 has room: 50 % → 52 %');
  // Hot by iowait only: balancing starts, but moving guests cannot cool iowait, and the loads are even: nothing to do, nothing to say.
  const io = plan(snap([nodeAt('pve1', 20, 20, { avg: { cpu: 0.2, mem: 20 * GiB, iowait: 0.5, samples: 60 } }), nodeAt('pve2', 20, 20)], guests), cfg(), NO_HISTORY, NOW);
  assert.deepEqual([loads(io), io.notes], [[], []]);
});

test('load: a small guest is judged by what a guest of its size can do (its footprint), not by a whole point', () => {
  // Loads 45 and 10: a guest of 0.4 GiB and 0.02 cores (0.4 + 0.2 = 0.6 points on pve1) moves 0.3 load points,
  // lowering the imbalance by 0.3: a gain of 0.3 / 0.6 = 0.5 (by a whole point it would be 0.3; at the 0.25 floor, 1).
  const p = plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], [g(101, 'pve1', 0.4, 0.02, { maxmem: 2 * GiB })]), cfg(), NO_HISTORY, NOW);
  assert.deepEqual(loads(p), ['101→pve2']);
  // The whole breakdown: memory on the target counted with all 2 configured GiB (10 → 12 %), on the source with the 0.4 used.
  assert.deepEqual(p.moves[0]!.score, {
    imbalance_before: 17.5, imbalance_after: 17.2, improvement: 0.3, gain: 0.5, headroom: 1, risk: 0.01, gib_moved: 0.4,
    target_mem_percent_after: 12, target_cpu_percent_after: 10.2, source_mem_percent_after: 59.6, source_cpu_percent_after: 29.8,
  });
  assert.equal(p.moves[0]!.confidence, 80, '100 × (0.4 × 0.5 + 0.3 × 1 + 0.3 × (1 − 0.005))');
});

test('load: each guest goes where it lowers the imbalance most; equal targets are chosen by name', () => {
  const guests = [g(101, 'pve1', 4)];
  // pve3 is emptier than pve2: more improvement there.
  assert.deepEqual(loads(plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 20), nodeAt('pve3', 10, 10)], guests), cfg(), NO_HISTORY, NOW)), ['101→pve3']);
  // pve2 and pve3 alike: the first by name, whatever the order of the snapshot.
  assert.deepEqual(loads(plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve3', 10, 10), nodeAt('pve2', 10, 10)], guests), cfg(), NO_HISTORY, NOW)), ['101→pve2']);
});

test('load: guests are ranked by improvement per GiB moved (plus 4 GiB per migration), then by vmid', () => {
  // Loads 42 and 18 (difference 24). VM 101 (18 GiB, 0.2 cores: 20 points) would leave a difference of 4: improvement 10,
  // per 22 GiB. VM 102 (2 GiB, a whole core: 12 points) leaves 12: improvement 6, per 6 GiB. The smaller one goes first.
  const p = plan(snap([nodeAt('pve1', 24, 60), nodeAt('pve2', 6, 30)], [g(101, 'pve1', 18, 0.2), g(102, 'pve1', 2, 1)]), cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW);
  assert.deepEqual(loads(p), ['102→pve2']);
  assert.deepEqual(skipOf(p, 101), { vmid: 101, name: 'vm101', node: 'pve1', reason: REASON.maxPerRun, detail: 'limit 1', kind: 'load', target: 'pve2', confidence: skipOf(p, 101)?.confidence });
  // Equal guests: by vmid, whatever the order of the snapshot.
  const twins = plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], [g(105, 'pve1', 4), g(103, 'pve1', 4), g(104, 'pve1', 4)]), cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW);
  assert.deepEqual(loads(twins), ['103→pve2']);
});

test('load: the reason speaks of memory, of CPU or of the share, whichever is over its threshold by more', () => {
  const reason = (nodes: SnapshotNode[]) => plan(snap(nodes, [g(101, 'pve1', 2, 0.1)]), cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW).moves[0]?.reason;
  assert.equal(reason([nodeAt('pve1', 20, 80), nodeAt('pve2', 10, 10)]), 'pve1 is at 80 % memory (threshold 70 %); pve2 has room: 10 % → 12 %');
  assert.equal(reason([nodeAt('pve1', 70, 30), nodeAt('pve2', 10, 10)]), 'pve1 is at 70 % CPU (threshold 60 %); pve2 has room: 10 % → 11 %');
  // Both over by 5 points: memory is named.
  assert.equal(reason([nodeAt('pve1', 65, 75), nodeAt('pve2', 10, 10)]), 'pve1 is at 75 % memory (threshold 70 %); pve2 has room: 10 % → 12 %');
  // Over by CPU more than by memory: CPU is named.
  assert.equal(reason([nodeAt('pve1', 70, 72), nodeAt('pve2', 10, 10)]), 'pve1 is at 70 % CPU (threshold 60 %); pve2 has room: 10 % → 11 %');
  // Memory exactly at its threshold is not over it: the share is named.
  assert.equal(reason([nodeAt('pve1', 30, 70), nodeAt('pve2', 10, 10)]), 'pve1 carries more than its share (load 50 %, cluster mean 30 %); pve2 has room: 10 % → 12 % memory, imbalance 20.0 → 18.5');
});

test('load: wanted but impossible says why in a note; a guest that could only move below the floor is skipped naming its best target', () => {
  // Both nodes hot: no node has room.
  const full = plan(snap([nodeAt('pve1', 30, 85), nodeAt('pve2', 30, 75)], [g(101, 'pve1', 4)]), cfg(), NO_HISTORY, NOW);
  assert.deepEqual([loads(full), full.notes], [[], ['load balancing wanted (hot: pve1, pve2) but no move qualifies: no node has room below the hot thresholds and the caps']]);
  assert.equal(skipOf(full, 101), undefined, 'no target to judge it against: not skipped');
  // Room, but the only guest is ignored: the imbalance is named.
  const tagged = plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], [g(101, 'pve1', 4, 0, { tags: ['ignore'] })]), cfg(), NO_HISTORY, NOW);
  assert.deepEqual(tagged.notes, ['load balancing wanted (imbalance 17.5) but no move qualifies: no guest improves the balance enough within the caps, tags and cooldowns']);
  assert.deepEqual(skipOf(tagged, 101), { vmid: 101, name: 'vm101', node: 'pve1', reason: REASON.ignore, kind: 'load' });
  // A guest too small to matter (improvement under 0.25) is neither moved nor skipped.
  const tiny = plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], [g(101, 'pve1', 0.2)]), cfg(), NO_HISTORY, NOW);
  assert.deepEqual([loads(tiny), skipOf(tiny, 101)], [[], undefined]);
  // pve2 (68 % memory after: headroom 0.1) and pve3 (70 %: none): a 400 GiB local disk (risk 0.4) keeps both below 75
  // (61 and 58); pve2 is the better one.
  const heavy = plan(snap([nodeAt('pve1', 30, 75), nodeAt('pve2', 10, 60), nodeAt('pve3', 10, 62)], [g(101, 'pve1', 8, 0, { local: { disks_bytes: 400 * GiB, resources: [], not_allowed: {} } })]), cfg(), NO_HISTORY, NOW);
  const k = skipOf(heavy, 101);
  assert.deepEqual([k?.reason, k?.kind, k?.target], [REASON.confidence, 'load', 'pve2']);
  assert.equal(k?.detail, '61 < 75 (load move to pve2)');
});

test('load: a best move back to where a guest came from within 24 h is refused, said and noted; the next guest goes instead', () => {
  const p = plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10)], [g(101, 'pve1', 4), g(102, 'pve1', 4)]), cfg({ max_migrations_per_run: 1 }), history([migrated(101, 'pve2', 'pve1', 120)]), NOW);
  assert.deepEqual(loads(p), ['102→pve2']);
  assert.deepEqual(skipOf(p, 101), { vmid: 101, name: 'vm101', node: 'pve1', reason: REASON.rollback, detail: 'its best move is back to pve2, which it left within 24 h', kind: 'load', target: 'pve2' });
  assert.ok(p.notes.includes('rollback prevented: vm101 (101) would return to pve2'), p.notes.join(' | '));
});

test('load: an anti-affinity group only keeps a guest off nodes that hold another member', () => {
  const guests = [g(101, 'pve1', 4, 0, { tags: ['exclude_db'] }), g(201, 'pve2', 1, 0, { tags: ['exclude_db'] })];
  // pve2 holds the other member: pve3, though fuller, takes it.
  assert.deepEqual(loads(plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10), nodeAt('pve3', 10, 20)], guests), cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW)), ['101→pve3']);
  // Alone in its group on the cluster: it goes to the emptiest node.
  assert.deepEqual(loads(plan(snap([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10), nodeAt('pve3', 10, 20)], [guests[0]!]), cfg({ max_migrations_per_run: 1 }), NO_HISTORY, NOW)), ['101→pve2']);
});
