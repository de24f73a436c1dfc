/**
 * Carrying out the optimal end state one tick at a time: the moves that relieve the hottest node
 * come first (evacuations and exclude-group fixes before load), and a move is taken only when the
 * simulator says the cluster stays within the caps (and the exclude groups and HA rules hold) right
 * after it, given the moves before it; one that would breach waits for a later move or tick. Each
 * move goes through the planner's one commit path (`Planner.propose`: confidence floor, per-run
 * budget), so the plan's moves look exactly like the greedy planner's.
 */
import { loadReason } from '../balance.js';
import { pct, type Planner } from '../context.js';
import { REASON } from '../rules.js';
import { gainFromImprovement, overload } from '../score.js';
import type { SimNode } from '../state.js';
import type { MoveKind } from '../types.js';
import type { Unit } from './units.js';

export interface EndMove {
  u: Unit;
  t: SimNode;
}

/** Skip reason of a move of the optimal plan that would breach a cap if made now. */
export const WAITS = 'Waits for an earlier move of the optimal plan';

/** The exclude group `g` shares with another guest on its node, if any. */
function violated(p: Planner, g: Unit['guests'][number]): string | undefined {
  return g.groups.find((x) => (p.sim.groupCount.get(x)?.get(g.node) ?? 0) > 1);
}

function kindOf(p: Planner, m: EndMove): MoveKind {
  if (m.u.evacuate) return 'evacuation';
  return m.u.guests.some((g) => violated(p, g) !== undefined) ? 'anti-affinity' : 'load';
}

/** Order of preference: evacuations, exclude-group fixes, then by how far over its thresholds the source is, the biggest relief first. */
function priority(p: Planner, moves: EndMove[]): Array<EndMove & { kind: MoveKind; rank: number[] }> {
  const sim = p.sim;
  const kindRank: Record<MoveKind, number> = { evacuation: 0, 'anti-affinity': 1, load: 2, distribution: 3 };
  return moves
    .map((m) => {
      const s = sim.nodes[m.u.node]!;
      const kind = kindOf(p, m);
      const over = overload(sim.cpuPct(s), sim.memPct(s), p.th);
      const relief = (100 * m.u.a.mem) / (s.maxmem || 1) + (100 * m.u.a.cpuCores) / (s.maxcpu || 1);
      return { ...m, kind, rank: [kindRank[kind], -over, -sim.load(s), -relief, m.u.guests[0]!.vmid] };
    })
    .sort((a, b) => {
      for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return a.rank[i]! - b.rank[i]!;
      return 0;
    });
}

/** Whether moving `m` now keeps the target within its caps and every rule holds (the prefix check). */
function fitsNow(p: Planner, m: EndMove): boolean {
  const sim = p.sim;
  if (!sim.evaluate(m.u.a, m.t).capOk) return false;
  if (!m.u.guests.every((g) => p.mayGo(g, m.t))) return false;
  return m.u.evacuate || !m.u.guests.some((g) => sim.conflict(g, m.t));
}

/** Commits this tick's share of the end state; returns how many moves of it wait for later (all of them: none could be made now, nothing recorded). */
export function commitInOrder(p: Planner, end: EndMove[], total: number): number {
  let todo = priority(p, end);
  let committed = 0;
  for (;;) {
    const i = todo.findIndex((m) => fitsNow(p, m));
    if (i < 0) break;
    const m = todo[i]!;
    todo = todo.filter((_, j) => j !== i);
    const before = p.sim.imbalance();
    const ev = p.sim.evaluate(m.u.a, m.t);
    const footprint = m.u.guests.reduce((f, g) => f + (g.memOut * 100) / (p.sim.nodes[g.node]!.maxmem || 1) + (g.cpuOut * 100) / (p.sim.nodes[g.node]!.maxcpu || 1), 0);
    const gain = m.kind === 'load' ? gainFromImprovement(before - ev.imbalanceAfter, footprint) : 1;
    const outcome = p.propose({ a: m.u.a, t: m.t, kind: m.kind, gain, bypassFloor: m.u.evacuate, reason: () => `${reasonOf(p, m)}; optimal plan: ${total} move(s) in all` });
    if (outcome === 'committed') committed++;
    if (outcome === 'budget') {
      todo = [m, ...todo]; // it waits for a later tick like those after it (its skip says the limit)
      break;
    }
  }
  // Nothing could be taken: the caller hands over to the greedy planner (nothing to record here).
  if (committed === 0) return todo.length;
  const limit = p.config.automated_migrations.rules.max_migrations_per_run;
  for (const m of todo) {
    const skip = p.budget < m.u.guests.length ? { reason: REASON.maxPerRun, detail: `limit ${limit}` } : { reason: WAITS, detail: `moving it to ${m.t.name} now would breach a cap or a rule; it follows once the moves before it are done` };
    for (const g of m.u.guests) p.skip(g, skip, { kind: m.kind, target: m.t.name });
  }
  return todo.length;
}

function reasonOf(p: Planner, m: EndMove & { kind: MoveKind }): string {
  const sim = p.sim;
  const lead = m.u.guests[0]!;
  const s = sim.nodes[lead.node]!;
  if (m.kind === 'evacuation') return `${s.name} is in maintenance; ${m.t.name} has room: ${pct(sim.worstMemPct(m.t))} → ${pct(sim.worstMemPct(m.t, m.u.a.reserve))} memory`;
  if (m.kind === 'anti-affinity') {
    const grp = violated(p, lead) ?? '';
    return `${lead.g.name} shares ${grp} with another guest on ${s.name}; ${m.t.name} has no ${grp} guest and room: ${pct(sim.worstMemPct(m.t))} → ${pct(sim.worstMemPct(m.t, m.u.a.reserve))} memory`;
  }
  return loadReason(p, m.u.a, m.t);
}
