/**
 * The exact model (docs/decisions.md, "The exact planner"): one yes/no variable per unit and target
 * ("unit u moves to node t"), every rule of the greedy planner as a linear constraint on the end
 * state, and one objective whose weights make it lexicographic:
 *   1. no node over its hot thresholds (W_EXCESS per point over), exclude groups parted (W_GROUP per
 *      extra member) and maintenance nodes emptied (W_EVACUATE per guest left behind);
 *   2. fewest moved guests (W_MOVE each);
 *   3. fewest GiB moved (W_GIB per GiB);
 *   4. most even load, as a tie-breaker: each guest to the least loaded of the equally good nodes
 *      (W_EVEN per point of the target's load now). A true spread term (most minus least loaded
 *      node) made the 10-node / 300-guest model ten times slower to prove, for a difference in the
 *      last GiB; so evenness is a tie-breaker, not a proven tier.
 * Memory is counted in GiB and CPU in cores, so the coefficients stay well scaled.
 */
import type { Planner } from '../context.js';
import { GiB } from '../score.js';
import type { SimNode } from '../state.js';
import type { MipModel } from './types.js';
import type { Unit } from './units.js';

export const W_EXCESS = 100_000;
export const W_GROUP = 100_000;
export const W_EVACUATE = 100_000;
export const W_MOVE = 1_000;
export const W_GIB = 1;
export const W_EVEN = 0.001;

/** Column of variable y[u, t]: `cols.get(u.i)[k]` for `u.targets[k]`. */
export interface BuiltModel {
  mip: MipModel;
  yCols: number[][];
  /** Columns of threshold excess and exclude-group excess: all zero in a plan that fixes everything. */
  penaltyCols: number[];
}

class Builder {
  readonly penalty: number[] = [];
  readonly m: MipModel = { numCols: 0, numRows: 0, colCost: [], colLower: [], colUpper: [], integrality: [], rowLower: [], rowUpper: [], starts: [0], indices: [], values: [] };
  col(cost: number, lo: number, hi: number, integer: boolean): number {
    const m = this.m;
    m.colCost.push(cost);
    m.colLower.push(lo);
    m.colUpper.push(hi);
    m.integrality.push(integer ? 1 : 0);
    return m.numCols++;
  }
  /** Adds a row from (column, coefficient) pairs; duplicate columns are summed. */
  row(terms: Map<number, number>, lo: number, hi: number): void {
    const m = this.m;
    for (const [c, v] of [...terms].sort((a, b) => a[0] - b[0])) {
      if (v === 0) continue;
      m.indices.push(c);
      m.values.push(v);
    }
    m.starts.push(m.indices.length);
    m.rowLower.push(lo);
    m.rowUpper.push(hi);
    m.numRows++;
  }
}

const add = (t: Map<number, number>, c: number, v: number) => t.set(c, (t.get(c) ?? 0) + v);

/** Builds the model of `units` on the planner's simulated cluster. */
export function buildModel(p: Planner, units: Unit[]): BuiltModel {
  const sim = p.sim;
  const b = new Builder();
  const yCols = units.map((u) => u.targets.map((t) => {
    const capped = !sim.hasRoom(sim.nodes[t]!);
    const cost = W_MOVE * u.guests.length + W_GIB * u.gib + W_EVEN * sim.load(sim.nodes[t]!) - (u.evacuate ? W_EVACUATE * u.guests.length : 0);
    // Rounded to 0.01: finer cost differences made the solver branch a thousand times longer to prove the same plan.
    return b.col(Math.round(cost * 100) / 100, 0, capped ? 0 : 1, true);
  }));
  // Each unit goes to at most one node.
  for (const u of units) b.row(new Map(yCols[u.i]!.map((c) => [c, 1])), -Infinity, 1);
  const inTo = sim.nodes.map(() => [] as Array<{ u: Unit; c: number }>);
  const outOf = sim.nodes.map(() => [] as Array<{ u: Unit; c: number }>);
  for (const u of units) u.targets.forEach((t, k) => {
    inTo[t]!.push({ u, c: yCols[u.i]![k]! });
    outOf[u.node]!.push({ u, c: yCols[u.i]![k]! });
  });
  for (const n of sim.nodes) nodeRows(p, b, n, inTo[n.idx]!, outOf[n.idx]!);
  groupRows(p, b, units, yCols, inTo);
  haNegativeRows(p, b, units, yCols);
  return { mip: b.m, yCols, penaltyCols: b.penalty };
}

/**
 * Caps (worst case, on nodes that receive), hot thresholds with their excess. A node without room
 * now receives nothing (its columns are fixed at 0, see buildModel) and has no cap row: like the
 * greedy planner, the model does not ask a node already over a cap to get under it, only to shed
 * what it can (a cap row there made the model infeasible when its movable guests were too few).
 */
function nodeRows(p: Planner, b: Builder, n: SimNode, inTo: Array<{ u: Unit; c: number }>, outOf: Array<{ u: Unit; c: number }>): void {
  const sim = p.sim;
  const memG = n.maxmem / GiB;
  if (inTo.length && sim.hasRoom(n)) {
    const capMem = new Map<number, number>();
    const capCpu = new Map<number, number>();
    for (const { u, c } of inTo) {
      add(capMem, c, u.a.reserve / GiB);
      add(capCpu, c, u.a.cpuCores);
    }
    for (const { u, c } of outOf) {
      const o = leaving(u);
      add(capMem, c, -o.mem / GiB);
      add(capCpu, c, -o.cpu);
    }
    b.row(capMem, -Infinity, (sim.caps.mem / 100) * memG - n.worstMem / GiB);
    b.row(capCpu, -Infinity, (sim.caps.cpu / 100) * n.maxcpu - n.worstCpu);
  }
  if (!n.balanced) return;
  const mem = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const { u, c } of inTo) {
    add(mem, c, u.a.mem / GiB);
    add(cpu, c, u.a.cpuCores);
  }
  for (const { u, c } of outOf) {
    const o = leaving(u);
    add(mem, c, -o.mem / GiB);
    add(cpu, c, -o.cpu);
  }
  const eMem = b.col(W_EXCESS, 0, Infinity, false);
  const eCpu = b.col(W_EXCESS, 0, Infinity, false);
  b.penalty.push(eMem, eCpu);
  b.row(new Map([...mem, [eMem, -memG / 100]]), -Infinity, (p.th.mem / 100) * memG - n.mem / GiB);
  b.row(new Map([...cpu, [eCpu, -n.maxcpu / 100]]), -Infinity, (p.th.cpu / 100) * n.maxcpu - n.cpuCores);
}

/** What unit `u` takes off its source when it leaves, as the simulator counts it (a unit's guests share one node). */
function leaving(u: Unit): { mem: number; cpu: number } {
  const o = { mem: 0, cpu: 0 };
  for (const g of u.guests) {
    o.mem += g.memOut;
    o.cpu += g.cpuOut;
  }
  return o;
}

/** exclude_* groups: at most one member per node at the end; an existing excess may stay (at W_GROUP each) but never grows. */
function groupRows(p: Planner, b: Builder, units: Unit[], yCols: number[][], inTo: Array<Array<{ u: Unit; c: number }>>): void {
  const sim = p.sim;
  for (const [grp, counts] of [...sim.groupCount].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    for (const n of sim.nodes) {
      if (!n.balanced) continue;
      const t = new Map<number, number>();
      for (const { u, c } of inTo[n.idx]!) if (u.groups.has(grp)) add(t, c, u.groups.get(grp)!);
      for (const u of units) if (u.node === n.idx && u.groups.has(grp)) for (const c of yCols[u.i]!) add(t, c, -u.groups.get(grp)!);
      const count = counts.get(n.idx) ?? 0;
      if (!t.size) continue;
      const v = b.col(W_GROUP, 0, Math.max(0, count - 1), false);
      b.penalty.push(v);
      t.set(v, -1);
      b.row(t, -Infinity, 1 - count);
    }
  }
}

/** HA negative affinity between two units that may move: never onto the same node. */
function haNegativeRows(p: Planner, b: Builder, units: Unit[], yCols: number[][]): void {
  const unitOf = new Map<number, Unit>();
  for (const u of units) for (const g of u.guests) unitOf.set(g.vmid, u);
  for (const u of units) {
    for (const g of u.guests) {
      for (const neg of p.rc.ha.guests.get(g.vmid)?.negative ?? []) {
        const w = unitOf.get(neg.vmid);
        if (!w || w.i <= u.i) continue;
        u.targets.forEach((t, k) => {
          const j = w.targets.indexOf(t);
          if (j >= 0) b.row(new Map([[yCols[u.i]![k]!, 1], [yCols[w.i]![j]!, 1]]), -Infinity, 1);
        });
      }
    }
  }
}
