/**
 * The exact planner's model (src/engine/optimal/model.ts): its rows checked against the simulator
 * on generated clusters and random end states (caps where guests arrive, the excess over the hot
 * thresholds, exclude groups), its costs, and, with the real HiGHS solver, that a node over a cap
 * that can receive nothing is only asked to shed what it can. Written for the mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makePlanner, plan } from '../src/engine/index.js';
import { buildModel, W_EVACUATE, W_EVEN, W_GIB, W_MOVE } from '../src/engine/optimal/model.js';
import type { MipModel } from '../src/engine/optimal/types.js';
import { movableUnits } from '../src/engine/optimal/units.js';
import { loadHighs } from '../src/solver/highs.js';
import { cluster, config, guest, node, nodeAt, NO_HISTORY, NOW } from './helpers/engine.js';
import { generateSnapshot, recomputeNodes, rng, scaleCpu } from './helpers/generate.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);

const highs = await loadHighs();
const optimal = () => config({ automated_migrations: { planner: 'optimal', planner_time_limit_seconds: 10 } } as never);

test('model: a node over its cap that can receive nothing need not get under the cap; it sheds what it can', () => {
  // pve1 at 95 % memory (cap 90 %, threshold 70 %): only VM 101 (3 GiB) may move; the rest is ignored.
  // Moving it leaves pve1 at 92 %, still over the cap and the threshold, and still the best there is.
  const snap = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [
    guest(100, 'pve1', 80, { tags: ['ignore'] }),
    guest(102, 'pve1', 12, { tags: ['ignore'] }),
    guest(101, 'pve1', 3),
    guest(200, 'pve2', 20),
    guest(300, 'pve3', 20),
  ]);
  const p = plan(snap, optimal(), NO_HISTORY, NOW, highs);
  assert.deepEqual([p.planner.used, p.planner.status, p.planner.end_state_moves], ['optimal', 'optimal', 1], JSON.stringify(p.planner));
  assert.deepEqual(p.moves.map((m) => [m.vmid, m.source]), [[101, 'pve1']]);
});

/** Row r's activity at x (the model's matrix is by rows). */
function activity(m: MipModel, r: number, x: number[]): number {
  let s = 0;
  for (let k = m.starts[r]!; k < m.starts[r + 1]!; k++) s += m.values[k]! * x[m.indices[k]!]!;
  return s;
}

/**
 * Sets each penalty column of `x` to the least value its row allows (every penalty column is in
 * one row, with a negative coefficient); returns whether every row then holds within the bounds.
 */
function settle(m: MipModel, penalty: ReadonlySet<number>, x: number[]): boolean {
  let ok = true;
  for (let r = 0; r < m.numRows; r++) {
    let pen = -1;
    for (let k = m.starts[r]!; k < m.starts[r + 1]!; k++) if (penalty.has(m.indices[k]!)) pen = k;
    const act = activity(m, r, x);
    if (pen >= 0 && act > m.rowUpper[r]!) x[m.indices[pen]!] = (act - m.rowUpper[r]!) / -m.values[pen]! + x[m.indices[pen]!]!;
    if (activity(m, r, x) > m.rowUpper[r]! + 1e-6) ok = false;
  }
  return ok && [...penalty].every((c) => x[c]! <= m.colUpper[c]! + 1e-6);
}

test('model: its rows say what the simulator says of any end state (caps where guests arrive, excess over the thresholds, groups)', () => {
  const cfg = config({ automated_migrations: { planner: 'optimal' } } as never);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 3, max: 5 }), fc.integer({ min: 8, max: 24 }), fc.double({ min: 0.2, max: 0.7, noNaN: true }), fc.double({ min: 0.5, max: 8, noNaN: true }), fc.boolean(), (seed, nodes, guests, hotShare, cpuBoost, incomplete) => {
      const snap = generateSnapshot({ nodes, guests, seed, hotShare, tagShare: 0.4 });
      // Guest CPU from idle to busy (a node's figure stops at 100 %: its guests may ask for more).
      for (const g of snap.guests) g.cpu = Math.min(1, g.cpu * cpuBoost);
      recomputeNodes(snap);
      // A node not read in full takes no part (no thresholds, no moves), however loaded it is.
      if (incomplete) snap.nodes[0]!.complete = false;
      const { planner: p, sim } = makePlanner(snap, cfg, NO_HISTORY, NOW);
      const { units } = movableUnits(p);
      const built = buildModel(p, units);
      const m = built.mip;
      const penalty = new Set(built.penaltyCols);
      // Staying put is always an answer: no row may forbid it.
      assert.ok(settle(m, penalty, new Array(m.numCols).fill(0)), 'the model admits the cluster as it is');
      const pick = rng(seed);
      for (let round = 0; round < 4; round++) {
        // Each unit stays or goes to one of its targets the model allows (columns not fixed at 0).
        const x = new Array<number>(m.numCols).fill(0);
        const end = makePlanner(snap, cfg, NO_HISTORY, NOW).sim;
        const receiving = new Set<number>();
        for (const u of units) {
          const open = u.targets.map((t, k) => ({ t, c: built.yCols[u.i]![k]! })).filter((o) => m.colUpper[o.c]! > 0);
          if (!open.length || pick() < 0.6) continue;
          const o = open[Math.floor(pick() * open.length)]!;
          x[o.c] = 1;
          receiving.add(o.t);
          for (const g of u.guests) end.apply(end.guest(g.vmid)!, end.nodes[o.t]!);
        }
        const feasible = settle(m, penalty, x);
        // The simulator's verdict: every node that receives within both caps, worst case; no exclude group grows past one member on a node.
        const margins = [...receiving].flatMap((t) => [sim.caps.mem - end.worstMemPct(end.nodes[t]!), sim.caps.cpu - end.worstCpuPct(end.nodes[t]!)]);
        if (margins.some((d) => Math.abs(d) < 1e-6)) continue; // on a cap to the last bit: rounding decides
        const groupsOk = [...sim.groupCount].every(([grp, before]) => end.nodes.every((n) => !n.balanced || (end.groupCount.get(grp)?.get(n.idx) ?? 0) <= Math.max(1, before.get(n.idx) ?? 0)));
        assert.equal(feasible, margins.every((d) => d > 0) && groupsOk, `round ${round}: model ${feasible}, caps ${margins.map((d) => d.toFixed(2))}, groups ${groupsOk}`);
        // The excess over the hot thresholds, in points, as the model counts it and as the simulator does.
        const excessCols = built.penaltyCols.filter((c) => m.colUpper[c] === Infinity);
        const modelExcess = excessCols.reduce((s, c) => s + x[c]!, 0);
        const simExcess = end.nodes.filter((n) => n.balanced).reduce((s, n) => s + Math.max(0, end.memPct(n) - p.th.mem) + Math.max(0, end.cpuPct(n) - p.th.cpu), 0);
        assert.ok(Math.abs(modelExcess - simExcess) < 1e-6, `round ${round}: excess ${modelExcess} in the model, ${simExcess} in the simulator`);
      }
    }),
    { numRuns: RUNS, seed: 20261201 },
  );
});

test('model: a move costs W_MOVE a guest and W_GIB a GiB, and the less loaded of two targets costs less', () => {
  const cfg = config({ automated_migrations: { planner: 'optimal' } } as never);
  const snap = generateSnapshot({ nodes: 4, guests: 20, seed: 3, hotShare: 0.5 });
  scaleCpu(snap, 0.4);
  const { planner: p, sim } = makePlanner(snap, cfg, NO_HISTORY, NOW);
  const { units } = movableUnits(p);
  const built = buildModel(p, units);
  let compared = 0;
  for (const u of units) {
    const costs = u.targets.map((t, k) => ({ load: sim.load(sim.nodes[t]!), cost: built.mip.colCost[built.yCols[u.i]![k]!]! }));
    for (const c of costs) assert.ok(Math.abs(c.cost - (W_MOVE * u.guests.length + W_GIB * u.gib + W_EVEN * c.load)) <= 0.005 + 1e-9, `unit of VM ${u.guests[0]!.vmid}: cost ${c.cost}`);
    for (const a of costs) for (const b of costs) if (b.load - a.load > 15) {
      assert.ok(a.cost < b.cost, 'the less loaded target is cheaper');
      compared++;
    }
  }
  assert.ok(compared > 0, 'some unit had targets of different load');
});

test('model: an HA pair moves as one unit that costs two moves; a guest on a maintenance node earns W_EVACUATE for leaving', () => {
  const snap = cluster([nodeAt('pve1', 30, 60), nodeAt('pve2', 10, 10), nodeAt('pve3', 10, 10)], [guest(101, 'pve1', 4), guest(102, 'pve1', 4), guest(301, 'pve3', 2)], {}, true);
  for (const g of snap.guests.slice(0, 2)) g.hastate = 'started';
  snap.ha = {
    source: 'rules', complete: true, status_known: true, services: [],
    resources: [101, 102].map((vmid) => ({ sid: `vm:${vmid}`, vmid, state: 'started', failback: true, group: null })),
    rules: [{ rule: 'pair', type: 'resource-affinity', resources: ['vm:101', 'vm:102'], affinity: 'positive', disabled: false }],
  };
  const { planner: p, sim } = makePlanner(snap, config({ automated_migrations: { planner: 'optimal', maintenance_nodes: ['pve3'] } } as never), NO_HISTORY, NOW);
  const { units } = movableUnits(p);
  const built = buildModel(p, units);
  const cost = (vmid: number, target: string) => {
    const u = units.find((x) => x.guests[0]!.vmid === vmid)!;
    return built.mip.colCost[built.yCols[u.i]![u.targets.indexOf(sim.byName.get(target)!.idx)]!]!;
  };
  const pair = units.find((u) => u.guests.length === 2)!;
  assert.deepEqual(pair.guests.map((g) => g.vmid), [101, 102]);
  assert.ok(Math.abs(cost(101, 'pve2') - (2 * W_MOVE + 8 * W_GIB + W_EVEN * sim.load(sim.byName.get('pve2')!))) <= 0.005 + 1e-9, String(cost(101, 'pve2')));
  assert.ok(Math.abs(cost(301, 'pve2') - (W_MOVE + 2 * W_GIB + W_EVEN * sim.load(sim.byName.get('pve2')!) - W_EVACUATE)) <= 0.005 + 1e-9, String(cost(301, 'pve2')));
});
