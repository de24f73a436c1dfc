/**
 * The exact planner's decisions about the solver's answer (src/engine/optimal/index.ts) and the
 * restricted model of a large cluster (src/engine/optimal/units.ts), without waiting on a hard
 * solve: the real HiGHS solver, wrapped to report what a solver that ran out of time reports
 * (a plan not proven optimal, with its bound, or no plan). Written for the mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePlanners, makePlanner, plan } from '../src/engine/index.js';
import { movableUnits, MAX_TARGETS, MAX_VARIABLES } from '../src/engine/optimal/units.js';
import { W_MOVE } from '../src/engine/optimal/model.js';
import type { MipSolver } from '../src/engine/optimal/types.js';
import { loadHighs } from '../src/solver/highs.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, config, guest, node, NO_HISTORY, NOW } from './helpers/engine.js';
import { generateSnapshot } from './helpers/generate.js';

const highs = await loadHighs();
const as = (planner: 'optimal' | 'auto', limit = 2) => config({ automated_migrations: { planner, planner_time_limit_seconds: limit } } as never);
/** The real solve, reported as unproven with a bound `movesShort` moves below the plan found. */
const unproven = (movesShort: number): MipSolver => ({
  solve: (m, t) => {
    const r = highs.solve(m, t);
    return { ...r, status: 'feasible', bound: r.objective - movesShort * W_MOVE - 1 };
  },
});

/** pve1 at 82 % memory sheds 12 GiB: its two 7 GiB guests (two moves) rather than four of its 3 GiB ones. */
function mediumOrSmall() {
  const gs: SnapshotGuest[] = [guest(100, 'pve1', 48, { tags: ['ignore'] })];
  for (let i = 0; i < 6; i++) gs.push(guest(110 + i, 'pve1', 3));
  gs.push(guest(120, 'pve1', 7), guest(121, 'pve1', 7), guest(200, 'pve2', 20), guest(300, 'pve3', 20));
  return cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), gs);
}

test('optimal: a plan found but not proven is used when `optimal` was asked for, with its gap in moves; `auto` hands it to greedy', () => {
  const p = plan(mediumOrSmall(), as('optimal'), NO_HISTORY, NOW, unproven(1));
  assert.deepEqual([p.planner.used, p.planner.status, p.planner.end_state_moves, p.planner.gap_moves], ['optimal', 'feasible', 2, 1]);
  assert.deepEqual(p.moves.map((m) => m.vmid).sort(), [120, 121]);
  assert.equal(plan(mediumOrSmall(), as('optimal'), NO_HISTORY, NOW, unproven(0)).planner.gap_moves, 0, 'less than a move short: no move to gain');
  const auto = plan(mediumOrSmall(), as('auto', 3), NO_HISTORY, NOW, unproven(1));
  assert.deepEqual([auto.planner.requested, auto.planner.used, auto.planner.status], ['auto', 'greedy', 'feasible']);
  assert.equal(auto.planner.note, 'the solver did not prove its plan optimal within 3 s, so the greedy planner decided');
  assert.deepEqual(auto.moves, plan(mediumOrSmall(), config(), NO_HISTORY, NOW).moves);
});

test('optimal: an unproven plan that leaves a node over its thresholds is not used, saying why; no plan at all neither', () => {
  // pve1 at 95 % memory and nowhere enough room: the best plan leaves it hot.
  const gs = [guest(100, 'pve1', 60, { tags: ['ignore'] }), guest(101, 'pve1', 33), guest(200, 'pve2', 60, { tags: ['ignore'] }), guest(300, 'pve3', 60, { tags: ['ignore'] })];
  const snap = () => cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), gs);
  const p = plan(snap(), as('optimal', 5), NO_HISTORY, NOW, unproven(0));
  assert.equal(p.planner.used, 'greedy');
  assert.equal(p.planner.note, 'the best plan the solver found within 5 s leaves a node over its thresholds (or a group or maintenance node unfixed), so the greedy planner decided');
  const none: MipSolver = { solve: () => ({ status: 'none', values: null, objective: NaN, bound: NaN, seconds: 2, message: 'HiGHS model status 13' }) };
  const q = plan(mediumOrSmall(), as('optimal'), NO_HISTORY, NOW, none);
  assert.deepEqual([q.planner.used, q.planner.status, q.planner.solve_seconds], ['greedy', 'none', 2]);
  assert.equal(q.planner.note, 'the solver found no plan within 2 s (HiGHS model status 13), so the greedy planner decided');
  const quiet: MipSolver = { solve: () => ({ status: 'none', values: null, objective: NaN, bound: NaN, seconds: 0 }) };
  assert.equal(plan(mediumOrSmall(), as('optimal'), NO_HISTORY, NOW, quiet).planner.note, 'the solver found no plan within 2 s, so the greedy planner decided');
});

test('optimal: the model counts its guests, movable guests and variables; an evacuation must leave', () => {
  const p = plan(mediumOrSmall(), as('optimal'), NO_HISTORY, NOW, highs);
  // 11 guests; the ignored one stays; pve1's 8 others may go to pve2 or pve3, pve2's and pve3's to the two others.
  assert.deepEqual(p.planner.model, { guests: 11, movable: 10, variables: 20, restricted: false });
  const evac = plan(mediumOrSmall(), config({ automated_migrations: { planner: 'optimal', maintenance_nodes: ['pve3'] } } as never), NO_HISTORY, NOW, highs);
  assert.ok(evac.moves.some((m) => m.vmid === 300 && m.kind === 'evacuation'), JSON.stringify(evac.moves.map((m) => [m.vmid, m.kind])));
  assert.equal(evac.planner.used, 'optimal');
});

test('optimal: a large cluster restricts the model to the largest guests of the nodes above the mean, towards the least loaded nodes', () => {
  const snap = generateSnapshot({ nodes: 24, guests: 1200, seed: 7 });
  const { planner: p, sim } = makePlanner(snap, as('optimal'), NO_HISTORY, NOW);
  const { units, restricted } = movableUnits(p);
  assert.equal(restricted, true);
  const mean = sim.meanLoad();
  const above = (idx: number) => sim.hotCpuMem(sim.nodes[idx]!) || sim.load(sim.nodes[idx]!) > mean;
  const cool = sim.nodes.filter((n) => n.balanced && !above(n.idx)).sort((a, b) => sim.load(a) - sim.load(b) || a.idx - b.idx).slice(0, MAX_TARGETS).map((n) => n.idx);
  // Guests of an exclude group that shares a node are kept wherever they are (the model must part them).
  const violator = (u: (typeof units)[number]) => u.guests.some((g) => g.groups.some((grp) => (sim.groupCount.get(grp)?.get(g.node) ?? 0) > 1));
  const plain = units.filter((u) => !violator(u));
  assert.ok(plain.length > 0 && plain.length < units.length, `${plain.length} of ${units.length}`);
  const sources = new Set(plain.map((u) => u.node));
  const perSource = Math.max(5, Math.floor(MAX_VARIABLES / (sources.size * cool.length)));
  units.forEach((u, i) => {
    assert.equal(u.i, i, 'numbered in order');
    assert.ok(violator(u) || above(u.node), `unit ${u.guests[0]!.vmid} comes from a node above the mean`);
    assert.ok(u.targets.length > 0 && u.targets.every((t) => cool.includes(t)), `targets ${u.targets} among the ${MAX_TARGETS} least loaded`);
  });
  let full = 0;
  for (const s of sources) {
    const here = plain.filter((u) => u.node === s);
    assert.ok(here.length <= perSource, `${here.length} units from node ${s}, at most ${perSource}`);
    // The heaviest first: every unit kept weighs at least as much as any movable one left out on that node.
    const weight = (mem: number, cores: number) => mem / sim.nodes[s]!.maxmem + cores / sim.nodes[s]!.maxcpu;
    const lightest = Math.min(...here.map((u) => weight(u.a.mem, u.a.cpuCores)));
    const keptIds = new Set(here.flatMap((u) => u.guests.map((g) => g.vmid)));
    if (here.length === perSource) {
      full++;
      for (const g of sim.guestsOn[s]!) {
        if (keptIds.has(g.vmid) || !g.running || g.g.tags.length || g.g.hastate !== null || g.g.template || g.g.lock) continue;
        assert.ok(weight(g.mem, g.cpuCores) <= lightest + 1e-12, `vm ${g.vmid} left out though heavier than a kept one`);
      }
    }
  }
  assert.ok(full > 0, 'some node gave as many guests as it may');
});

test('compare: both planners on the same snapshot, whatever the configuration asks for', () => {
  for (const asked of [config(), as('auto')]) {
    const { greedy, optimal } = comparePlanners(mediumOrSmall(), asked, NO_HISTORY, NOW, highs);
    assert.deepEqual([greedy.planner.requested, greedy.planner.used, optimal.planner.requested, optimal.planner.used], ['greedy', 'greedy', 'optimal', 'optimal']);
    assert.deepEqual(optimal.moves.map((m) => m.vmid).sort(), [120, 121]);
    assert.deepEqual(greedy.moves, plan(mediumOrSmall(), config(), NO_HISTORY, NOW).moves);
  }
});
