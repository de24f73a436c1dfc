/**
 * The exact planner (issue 16) on small clusters whose optimum is known by hand, and the rules it
 * must honour like the greedy planner. Runs the real HiGHS solver (WebAssembly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, type Plan } from '../src/engine/index.js';
import { loadHighs } from '../src/solver/highs.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, config, guest, node, NO_HISTORY, NOW } from './helpers/engine.js';

const solver = await loadHighs();
const optimal = (over: Parameters<typeof config>[0] = {}) => config({ ...over, automated_migrations: { planner: 'optimal', ...(over.automated_migrations ?? {}) } } as never);
const movedIds = (p: Plan) => p.moves.map((m) => m.vmid).sort((a, b) => a - b);

/**
 * pve1 at 82 % memory (threshold 70 %) must shed 12 GiB: four of its six 3 GiB guests would do,
 * or its two 7 GiB guests: two moves. A 48 GiB guest with the ignore tag may not move.
 */
function mediumOrSmall(): ReturnType<typeof cluster> {
  const gs: SnapshotGuest[] = [guest(100, 'pve1', 48, { tags: ['ignore'] })];
  for (let i = 0; i < 6; i++) gs.push(guest(110 + i, 'pve1', 3));
  gs.push(guest(120, 'pve1', 7), guest(121, 'pve1', 7));
  gs.push(guest(200, 'pve2', 20), guest(300, 'pve3', 20));
  return cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), gs);
}

test('optimal: two medium guests instead of four small ones, proven', () => {
  const p = plan(mediumOrSmall(), optimal(), NO_HISTORY, NOW, solver);
  assert.equal(p.planner.used, 'optimal');
  assert.equal(p.planner.status, 'optimal');
  assert.equal(p.planner.gap_moves, 0);
  assert.equal(p.planner.end_state_moves, 2);
  assert.deepEqual(movedIds(p), [120, 121]);
  assert.deepEqual(p.summary.hot_nodes_after, []);
  assert.ok(p.planner.solve_seconds !== null && p.planner.solve_seconds >= 0);
  assert.ok(p.moves.every((m) => /optimal plan: 2 move\(s\) in all/.test(m.reason)), p.moves.map((m) => m.reason).join('\n'));
});

test('optimal: the greedy planner is used (and says so) when asked for or without a solver', () => {
  const g = plan(mediumOrSmall(), config(), NO_HISTORY, NOW, solver);
  assert.equal(g.planner.used, 'greedy');
  assert.equal(g.planner.status, 'not-run');
  const noSolver = plan(mediumOrSmall(), optimal(), NO_HISTORY, NOW);
  assert.equal(noSolver.planner.used, 'greedy');
  assert.match(noSolver.planner.note ?? '', /not loaded/);
  assert.deepEqual(noSolver.moves, g.moves);
});

test('optimal: a solver that throws (WebAssembly out of memory, an abort) hands the tick to greedy, saying why', () => {
  const broken = { solve: () => { throw new Error('RuntimeError: unreachable'); } };
  const p = plan(mediumOrSmall(), optimal(), NO_HISTORY, NOW, broken);
  assert.equal(p.planner.used, 'greedy');
  assert.equal(p.planner.status, 'none');
  assert.match(p.planner.note ?? '', /the solver failed: RuntimeError: unreachable.*greedy planner decided/);
  assert.deepEqual(p.moves, plan(mediumOrSmall(), config(), NO_HISTORY, NOW).moves);
});

test('optimal: among equally few moves, the fewest GiB', () => {
  // Shedding 12 GiB: one 13 GiB guest or one 20 GiB guest — one move either way; 13 GiB travels less.
  const gs = [guest(100, 'pve1', 48, { tags: ['ignore'] }), guest(110, 'pve1', 20), guest(111, 'pve1', 13), guest(200, 'pve2', 10), guest(300, 'pve3', 10)];
  const p = plan(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), gs), optimal(), NO_HISTORY, NOW, solver);
  assert.deepEqual(movedIds(p), [111]);
});

test('optimal: nothing hot, nothing to do: no move, proven', () => {
  const gs = [guest(110, 'pve1', 30), guest(200, 'pve2', 10), guest(300, 'pve3', 10)];
  const p = plan(cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), gs), optimal(), NO_HISTORY, NOW, solver);
  assert.equal(p.planner.used, 'optimal');
  assert.equal(p.planner.end_state_moves, 0);
  assert.deepEqual(p.moves, []);
});

test('optimal: an end state that is a swap (neither move fits first) hands the tick to greedy, saying why', () => {
  // pve1 at 77 % memory must shed; the only fix is a swap of VM 101 (25 GiB) and VM 201 (15 GiB):
  // 101 does not fit on pve2 (cap 80 %) before 201 leaves, and 201 not on pve1 before 101 leaves.
  const gs = [guest(100, 'pve1', 50, { tags: ['ignore'] }), guest(101, 'pve1', 25), guest(200, 'pve2', 40, { tags: ['ignore'] }), guest(201, 'pve2', 15)];
  const snap = cluster(['pve1', 'pve2'].map((n) => node(n)), gs);
  const p = plan(snap, optimal({ automated_migrations: { safety_checks: { max_node_memory_percent: 80 } } } as never), NO_HISTORY, NOW, solver);
  assert.equal(p.planner.status, 'optimal');
  assert.equal(p.planner.end_state_moves, 2);
  assert.equal(p.planner.used, 'greedy');
  assert.match(p.planner.note ?? '', /swap/);
  assert.ok(!p.skipped.some((s) => /Waits/.test(s.reason)), 'no "waits" skip is left behind for greedy');
});
