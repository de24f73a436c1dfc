/**
 * Load balancing: greedy over (guest, target) pairs with re-simulation after each chosen move.
 *
 * - Starts only when a node is hot or the imbalance is above IMBALANCE_TRIGGER; stops once no node
 *   is hot (CPU/memory) and the imbalance is at or below IMBALANCE_TARGET (hysteresis).
 * - Sources: the hot nodes; when none is hot, the nodes loaded above the mean.
 * - Each guest's best target is the one that lowers the imbalance most; a pair must lower it by at
 *   least MIN_IMPROVEMENT, respect the caps, anti-affinity and Proxmox's not-allowed nodes.
 * - Guests are ranked by improvement per GiB moved (plus a fixed overhead per migration, so a stream
 *   of tiny moves does not beat one decent one); ties by vmid.
 * - The best-ranked guest whose move would be a rollback or is below the confidence floor is
 *   skipped with that reason and not picked again this run (the next one is tried).
 */
import { arrivalRisk, pct, type Planner } from './context.js';
import { REASON } from './rules.js';
import { confidence, headroom, overload, gainFromImprovement, IMBALANCE_TARGET, IMBALANCE_TRIGGER, MIN_IMPROVEMENT, MOVE_OVERHEAD_GIB } from './score.js';
import { newEvaluation, type Arrival, type SimGuest, type SimNode } from './state.js';

/** Load moves are taken from the most overloaded nodes first; at most this many are scanned per step. */
export const MAX_SOURCES = 8;

interface Candidate {
  sg: SimGuest;
  a: Arrival;
  t: SimNode;
  improvement: number;
  /** The guest's memory % + CPU % on its source. */
  footprint: number;
  rank: number;
  rollback: boolean;
}

/** What the guests of an arrival weigh on their source: memory % + CPU % there (the scale of a load move's gain). */
export function arrivalFootprint(a: Arrival, s: SimNode): number {
  let f = 0;
  for (const g of a.guests) f += (g.memOut * 100) / s.maxmem + (g.cpuOut * 100) / s.maxcpu;
  return f;
}

export function shouldBalance(p: Planner): boolean {
  const sim = p.sim;
  return sim.nodes.some((n) => n.balanced && sim.hot(n)) || sim.imbalance() > IMBALANCE_TRIGGER;
}

function done(p: Planner): boolean {
  const sim = p.sim;
  return !sim.nodes.some((n) => n.balanced && sim.hotCpuMem(n)) && sim.imbalance() <= IMBALANCE_TARGET;
}

export function balanceLoad(p: Planner): void {
  const sim = p.sim;
  const rejected = new Set<number>();
  const balanced = sim.nodes.filter((n) => n.balanced);
  const movesBefore = p.moves.length;
  let stopped = false;
  try {
    stopped = balanceSteps(p, sim, rejected, balanced);
  } finally {
    // Wanted but impossible (every node hot or capped): say so, or an empty plan explains nothing.
    // Not when the per-run limit stopped it: the skipped guests say that themselves.
    if (p.moves.length === movesBefore && !stopped && !done(p)) {
      const hot = balanced.filter((n) => sim.hotCpuMem(n)).map((n) => n.name);
      const roomy = balanced.filter((t) => !sim.hotCpuMem(t) && sim.hasRoom(t));
      p.notes.push(
        `load balancing wanted (${hot.length ? `hot: ${hot.join(', ')}` : `imbalance ${sim.imbalance().toFixed(1)}`}) but no move qualifies: ` +
          (roomy.length ? 'no guest improves the balance enough within the caps, tags and cooldowns' : 'no node has room below the hot thresholds and the caps'),
      );
    }
  }
}

/** Steps until done or nothing is left; true when the per-run limit ended it. */
function balanceSteps(p: Planner, sim: Planner['sim'], rejected: Set<number>, balanced: SimNode[]): boolean {
  while (!done(p)) {
    const outcome = step(p, sim, rejected, balanced);
    if (outcome !== 'accepted') return outcome === 'stop';
    // one move committed: judge the cluster afresh
  }
  return false;
}

/** One greedy step: commits the best acceptable move ('accepted'), or says that none is left ('none') or the per-run limit stopped it ('stop'). */
function step(p: Planner, sim: Planner['sim'], rejected: Set<number>, balanced: SimNode[]): 'accepted' | 'none' | 'stop' {
  const hot = balanced.filter((n) => sim.hotCpuMem(n));
  const mean = sim.meanLoad();
  const sources = (hot.length ? hot : balanced.filter((n) => sim.load(n) > mean))
    .map((n) => ({ n, over: overload(sim.cpuPct(n), sim.memPct(n), p.th), load: sim.load(n) }))
    .sort((a, b) => b.over - a.over || b.load - a.load || (a.n.name < b.n.name ? -1 : 1))
    .map((x) => x.n);
  // The most overloaded sources first, MAX_SOURCES at a time; a batch where nothing can move
  // (every candidate capped, rejected or under the margin) hands over to the next one.
  for (let i = 0; i < sources.length; i += MAX_SOURCES) {
    const outcome = walk(p, scan(p, sources.slice(i, i + MAX_SOURCES), balanced, rejected), rejected);
    if (outcome !== 'none') return outcome;
  }
  return 'none';
}

/** Each movable guest on `sources` with its best target (ranked by improvement per GiB). */
function scan(p: Planner, sources: SimNode[], balanced: SimNode[], rejected: Set<number>): Candidate[] {
  const sim = p.sim;
  const floor = p.minConfidence;
  // A target too close to the thresholds cannot give any move the confidence floor: leave it out.
  const roomy = balanced.filter((t) => sim.hasRoom(t) && confidence(1, headroom(sim.worstMemPct(t), sim.cpuPct(t), p.th), 0) >= floor);
  const loads = roomy.map((t) => sim.load(t));
  const cands: Candidate[] = [];
  for (const s of sources) {
    const sLoad = sim.load(s);
    const targets = roomy.filter((t, j) => t !== s && loads[j]! < sLoad);
    if (!targets.length) continue;
    for (const sg of sim.guestsOn[s.idx]!) {
      if (sg.moved || !sg.running || rejected.has(sg.vmid)) continue;
      const r = p.rules(sg);
      if (r) {
        p.skip(sg, r, { kind: 'load' });
        continue;
      }
      const c = bestTarget(p, sg, s, targets);
      if (c && 'sg' in c) cands.push(c);
      else if (c) {
        // It could improve things, but no such move reaches the confidence floor.
        p.belowConfidence(sg, 'load', c.t, c.conf);
        rejected.add(sg.vmid);
      } else if (p.haReason(sg)) p.skip(sg, p.haReason(sg)!, { kind: 'load' }); // HA's rules kept it off a node
    }
  }
  return cands;
}

const scratch = newEvaluation();

/** The target that lowers the imbalance most for `sg` within the caps and the confidence floor (or the best one below it). */
function bestTarget(p: Planner, sg: SimGuest, s: SimNode, targets: SimNode[]): Candidate | { t: SimNode; conf: number } | null {
  const sim = p.sim;
  const current = sim.imbalance();
  const a = p.arrivalOf(sg);
  // The guests' share of their source (an HA group counts every member).
  const footprint = arrivalFootprint(a, s);
  const rsk = arrivalRisk(a);
  let best: SimNode | null = null;
  let bestImp = 0;
  let low: { t: SimNode; conf: number } | undefined;
  // `targets` are balanced and not the source: only a target filter can refuse one.
  const filtered = p.mayBeRefused(a.guests);
  for (const t of targets) {
    if (filtered && !p.mayGoAll(a.guests, t)) continue;
    if (!sim.fits(a, t)) continue;
    if (sg.groups.length && sim.conflict(sg, t)) continue;
    const ev = sim.evaluate(a, t, scratch);
    const improvement = current - ev.imbalanceAfter;
    if (improvement < MIN_IMPROVEMENT) continue;
    const conf = confidence(gainFromImprovement(improvement, footprint), headroom(ev.worstMemPct, ev.cpuPct, p.th), rsk);
    if (conf < p.minConfidence) {
      if (!low || conf > low.conf) low = { t, conf };
      continue;
    }
    if (!best || improvement > bestImp + 1e-9 || (Math.abs(improvement - bestImp) <= 1e-9 && t.name < best.name)) {
      best = t;
      bestImp = improvement;
    }
  }
  if (!best) return low ?? null;
  const gib = a.guests.reduce((x, g) => x + g.gib, 0);
  return { sg, a, t: best, improvement: bestImp, footprint, rank: bestImp / (gib + MOVE_OVERHEAD_GIB), rollback: p.rollback(sg, best) };
}

/** Walks the ranked candidates: the first acceptable one is committed. */
function walk(p: Planner, cands: Candidate[], rejected: Set<number>): 'accepted' | 'none' | 'stop' {
  cands.sort((a, b) => b.rank - a.rank || a.sg.vmid - b.sg.vmid);
  for (const c of cands) {
    if (c.rollback) {
      p.skip(c.sg, { reason: REASON.rollback, detail: `its best move is back to ${c.t.name}, which it left within 24 h` }, { kind: 'load', target: c.t.name });
      p.notes.push(`rollback prevented: ${c.sg.g.name} (${c.sg.vmid}) would return to ${c.t.name}`);
      rejected.add(c.sg.vmid);
      continue;
    }
    const outcome = p.propose({ a: c.a, t: c.t, kind: 'load', gain: gainFromImprovement(c.improvement, c.footprint), reason: () => loadReason(p, c.a, c.t) });
    if (outcome === 'committed') return 'accepted';
    if (outcome === 'budget') return 'stop';
    rejected.add(c.sg.vmid);
  }
  return 'none';
}

/**
 * "pve1 is at 91 % memory (threshold 70 %); pve3 has room: 48 % → 56 %" (call before applying). The
 * figures after are those of the whole arrival (an HA positive group brings its partners along).
 */
export function loadReason(p: Planner, a: Arrival, t: SimNode): string {
  const sim = p.sim;
  const s = sim.nodes[a.guests[0]!.node]!;
  const memS = sim.memPct(s);
  const cpuS = sim.cpuPct(s);
  const memOver = memS - p.th.mem;
  const cpuOver = cpuS - p.th.cpu;
  const memRoom = `${t.name} has room: ${pct(sim.worstMemPct(t))} → ${pct(sim.worstMemPct(t, a.reserve))}`;
  if (memOver > 0 && memOver >= cpuOver) return `${s.name} is at ${pct(memS)} memory (threshold ${pct(p.th.mem)}); ${memRoom}`;
  if (cpuOver > 0) {
    return `${s.name} is at ${pct(cpuS)} CPU (threshold ${pct(p.th.cpu)}); ${t.name} has room: ${pct(sim.cpuPct(t))} → ${pct(sim.cpuPct(t, a.cpuCores))}`;
  }
  const before = sim.imbalance();
  const after = sim.evaluate(a, t, scratch).imbalanceAfter;
  return `${s.name} carries more than its share (load ${pct(sim.load(s))}, cluster mean ${pct(sim.meanLoad())}); ${memRoom} memory, imbalance ${before.toFixed(1)} → ${after.toFixed(1)}`;
}
