/**
 * What may move in the exact model, derived from the same rules and the same target filter as the
 * greedy planner (src/engine/context.ts: `rules`, `hard`, `candidateTargets`/`mayGo`, `rollback`),
 * so the rules live in one place. A unit is a guest, or an HA positive-affinity group that HA moves
 * as one (all its members on one node, every one of them movable).
 */
import type { Planner } from '../context.js';
import type { Arrival, SimGuest, SimNode } from '../state.js';

export interface Unit {
  /** Index in the unit list (the model's columns refer to it). */
  i: number;
  guests: SimGuest[];
  a: Arrival;
  /** Node the unit is on. */
  node: number;
  /** Nodes it may go to (never its own). */
  targets: number[];
  /** On a maintenance node: it must leave (tag rules, cooldown and the confidence floor bypassed). */
  evacuate: boolean;
  gib: number;
  /** exclude_* groups of its guests, with how many members each brings (empty for evacuees: they bypass them). */
  groups: Map<string, number>;
}

export interface Units {
  units: Unit[];
  /** Movable guests left out to keep a large model solvable. */
  restricted: boolean;
}

/** Largest number of (guest, target) variables before the model is restricted to the guests that can relieve a hot node. */
export const MAX_VARIABLES = 3000;
/** In a restricted model, targets are the this many least loaded nodes below the mean. */
export const MAX_TARGETS = 10;

/** Every unit that may move this tick, with its allowed targets; guests that may not are skipped with the rule's reason. */
export function movableUnits(p: Planner): Units {
  const sim = p.sim;
  const seen = new Set<number>();
  const all: Unit[] = [];
  for (const sg of sim.guests) {
    if (seen.has(sg.vmid)) continue;
    const u = unitOf(p, sg, seen);
    if (u) all.push(u);
  }
  const vars = all.reduce((s, u) => s + u.targets.length, 0);
  if (vars <= MAX_VARIABLES) return { units: number(all), restricted: false };
  return { units: number(restrict(p, all)), restricted: true };
}

function number(us: Unit[]): Unit[] {
  us.forEach((u, i) => (u.i = i));
  return us;
}

/** The unit `sg` leads (its HA positive partners along), or null when it stays: a rule holds it, or it has nowhere to go. */
function unitOf(p: Planner, sg: SimGuest, seen: Set<number>): Unit | null {
  const sim = p.sim;
  const src = sim.nodes[sg.node]!;
  const a = p.arrivalOf(sg);
  for (const g of a.guests) seen.add(g.vmid);
  const evacuate = src.maintenance && src.online;
  if (!evacuate && !src.balanced) return null;
  if (a.guests.some((g) => g.node !== sg.node)) return null; // HA partners apart: HA reunites them first
  if (evacuate && src.haMaintenance && sg.g.hastate !== null) {
    p.skip(sg, { reason: 'Managed by HA maintenance mode', detail: `${src.name} is in HA maintenance; Proxmox HA moves HA-managed guests itself` });
    return null;
  }
  const rule = evacuate ? p.hard(sg) : p.rules(sg);
  if (rule) {
    if (evacuate || sim.hotCpuMem(src)) p.skip(sg, rule, evacuate ? {} : { kind: 'load' });
    return null;
  }
  // Load moves are of running guests; a stopped one moves only to evacuate or to part an exclude group.
  if (!evacuate && !sg.running && !inViolatedGroup(p, sg)) return null;
  const targets = p
    .candidateTargets(a.guests)
    .filter((t) => evacuate || !a.guests.some((g) => p.rollback(g, t)))
    .map((t) => t.idx);
  if (!targets.length) return null;
  const groups = new Map<string, number>();
  if (!evacuate) for (const g of a.guests) for (const grp of g.groups) groups.set(grp, (groups.get(grp) ?? 0) + 1);
  return { i: 0, guests: [...a.guests], a, node: sg.node, targets, evacuate, gib: a.guests.reduce((s, g) => s + g.gib, 0), groups };
}

function inViolatedGroup(p: Planner, sg: SimGuest): boolean {
  return sg.groups.some((grp) => (p.sim.groupCount.get(grp)?.get(sg.node) ?? 0) > 1);
}

/**
 * A large cluster: keep evacuees, exclude-group violators, and per node above the mean load (or
 * hot) its largest guests, as many as MAX_VARIABLES allows; their targets are the MAX_TARGETS
 * least loaded nodes below the mean.
 */
function restrict(p: Planner, all: Unit[]): Unit[] {
  const sim = p.sim;
  const mean = sim.meanLoad();
  const above = (n: SimNode) => sim.hotCpuMem(n) || sim.load(n) > mean;
  const cool = sim.nodes.filter((n) => n.balanced && !above(n)).sort((a, b) => sim.load(a) - sim.load(b) || a.idx - b.idx);
  const below = new Set(cool.slice(0, MAX_TARGETS).map((n) => n.idx));
  const bySource = new Map<number, Unit[]>();
  const kept: Unit[] = [];
  for (const u of all) {
    if (u.evacuate || u.guests.some((g) => inViolatedGroup(p, g))) kept.push(u);
    else if (above(sim.nodes[u.node]!)) bySource.set(u.node, [...(bySource.get(u.node) ?? []), u]);
  }
  const perSource = Math.max(5, Math.floor(MAX_VARIABLES / Math.max(1, bySource.size * below.size)));
  const weight = (u: Unit) => {
    const s = sim.nodes[u.node]!;
    return u.a.mem / s.maxmem + u.a.cpuCores / s.maxcpu;
  };
  for (const us of bySource.values()) kept.push(...us.sort((x, y) => weight(y) - weight(x) || x.guests[0]!.vmid - y.guests[0]!.vmid).slice(0, perSource));
  for (const u of kept) if (!u.evacuate) u.targets = u.targets.filter((t) => below.has(t));
  return kept.filter((u) => u.targets.length > 0);
}
