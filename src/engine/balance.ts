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
import { pct, type Planner } from './context.js';
import { REASON } from './rules.js';
import { confidence, GiB, headroom, risk, imbalanceFrom, overload, gainFromImprovement, IMBALANCE_TARGET, IMBALANCE_TRIGGER, MIN_IMPROVEMENT, MOVE_OVERHEAD_GIB } from './score.js';
import type { SimGuest, SimNode } from './state.js';

/** Load moves are taken from the most overloaded nodes first; at most this many are scanned per step. */
export const MAX_SOURCES = 8;

interface Candidate {
  sg: SimGuest;
  t: SimNode;
  improvement: number;
  /** The guest's memory % + CPU % on its source. */
  footprint: number;
  rank: number;
  rollback: boolean;
}

/** What a guest weighs on its node: its memory % + CPU % there (the scale of a load move's gain). */
export function guestFootprint(sg: SimGuest, s: SimNode): number {
  return (sg.memOut * 100) / s.maxmem + (sg.cpuOut * 100) / s.maxcpu;
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
  try {
    balanceSteps(p, sim, rejected, balanced);
  } finally {
    // Wanted but impossible (every node hot or capped): say so, or an empty plan explains nothing.
    if (p.moves.length === movesBefore && !done(p)) {
      const hot = balanced.filter((n) => sim.hotCpuMem(n)).map((n) => n.name);
      const roomy = balanced.filter((t) => !sim.hotCpuMem(t) && sim.hasRoom(t));
      p.notes.push(
        `load balancing wanted (${hot.length ? `hot: ${hot.join(', ')}` : `imbalance ${sim.imbalance().toFixed(1)}`}) but no move qualifies: ` +
          (roomy.length ? 'no guest improves the balance enough within the caps, tags and cooldowns' : 'no node has room below the hot thresholds and the caps'),
      );
    }
  }
}

function balanceSteps(p: Planner, sim: Planner['sim'], rejected: Set<number>, balanced: SimNode[]): void {
  outer: for (;;) {
    if (done(p)) return;
    const hot = balanced.filter((n) => sim.hotCpuMem(n));
    const mean = sim.meanLoad();
    const sources = (hot.length ? hot : balanced.filter((n) => sim.load(n) > mean))
      .map((n) => ({ n, over: overload(sim.cpuPct(n), sim.memPct(n), p.th), load: sim.load(n) }))
      .sort((a, b) => b.over - a.over || b.load - a.load || (a.n.name < b.n.name ? -1 : 1))
      .map((x) => x.n);
    // The most overloaded sources first, MAX_SOURCES at a time; a batch where nothing can move
    // (every candidate capped, rejected or under the margin) hands over to the next one.
    for (let i = 0; i < sources.length; i += MAX_SOURCES) {
      const cands = scan(p, sources.slice(i, i + MAX_SOURCES), balanced, rejected);
      const outcome = walk(p, cands, rejected);
      if (outcome === 'accepted') continue outer;
      if (outcome === 'stop') return;
    }
    return;
  }
}

/** Each movable guest on `sources` with its best target (ranked by improvement per GiB). */
function scan(p: Planner, sources: SimNode[], balanced: SimNode[], rejected: Set<number>): Candidate[] {
  const sim = p.sim;
  const current = sim.imbalance();
  const base = sim.sums();
  const cands: Candidate[] = [];
  const floor = p.minConfidence;
  // A target too close to the thresholds cannot give any move the confidence floor: leave it out.
  const roomy = balanced.filter((t) => sim.hasRoom(t) && confidence(1, headroom(sim.worstMemPct(t), sim.cpuPct(t), p.th), 0) >= floor);
  // Per-target figures for this step, so judging a pair is plain arithmetic.
  const k = roomy.length;
  const tCpu = new Float64Array(k);
  const tMem = new Float64Array(k);
  const tWorst = new Float64Array(k);
  const tWorstCpu = new Float64Array(k);
  const tL0 = new Float64Array(k);
  const tPen0 = new Float64Array(k);
  const cpuPerCore = new Float64Array(k);
  const memPerByte = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const t = roomy[j]!;
    tCpu[j] = sim.cpuPct(t);
    tMem[j] = sim.memPct(t);
    tWorst[j] = sim.worstMemPct(t);
    tWorstCpu[j] = sim.worstCpuPct(t);
    tL0[j] = (tCpu[j]! + tMem[j]!) / 2;
    tPen0[j] = overload(tCpu[j]!, tMem[j]!, p.th);
    cpuPerCore[j] = 100 / t.maxcpu;
    memPerByte[j] = 100 / t.maxmem;
  }
  const capMem = sim.caps.mem + 1e-9;
  const capCpu = sim.caps.cpu + 1e-9;
  const thCpu = p.th.cpu;
  const thMem = p.th.mem;
  for (const s of sources) {
    const sLoad = sim.load(s);
    const targets: number[] = [];
    for (let j = 0; j < k; j++) if (roomy[j] !== s && tL0[j]! < sLoad) targets.push(j);
    if (!targets.length) continue;
    for (const sg of sim.guestsOn[s.idx]!) {
      if (sg.moved || !sg.running || rejected.has(sg.vmid)) continue;
      const r = p.rules(sg);
      if (r) {
        p.skip(sg, r, { kind: 'load' });
        continue;
      }
      const na = sg.g.local?.not_allowed;
      const d = sim.sourceDelta(sg);
      const sum0 = base.sum + d.sum;
      const sq0 = base.sumSq + d.sq;
      const pen0 = base.penalty + d.pen;
      const cores = sg.cpuCores;
      const mem = sg.mem;
      const reserve = sg.reserve;
      const footprint = guestFootprint(sg, s);
      const rsk = risk({ memGiB: sg.mem / GiB, localDiskGiB: sg.localDisk / GiB, containerRestart: sg.g.type === 'lxc' && sg.running });
      let bestJ = -1;
      let bestImp = 0;
      let lowJ = -1;
      let lowConf = -1;
      for (const j of targets) {
        const c1 = tCpu[j]! + cores * cpuPerCore[j]!;
        if (tWorstCpu[j]! + cores * cpuPerCore[j]! > capCpu) continue;
        const worst1 = tWorst[j]! + reserve * memPerByte[j]!;
        if (worst1 > capMem) continue;
        const t = roomy[j]!;
        if (na && na[t.name] !== undefined) continue;
        if (sg.groups.length && sim.conflict(sg, t)) continue;
        const m1 = tMem[j]! + mem * memPerByte[j]!;
        const l1 = (c1 + m1) / 2;
        const sum = sum0 + l1 - tL0[j]!;
        const sq = sq0 + l1 * l1 - tL0[j]! * tL0[j]!;
        const pen = pen0 + (c1 > thCpu ? c1 - thCpu : 0) + (m1 > thMem ? m1 - thMem : 0) - tPen0[j]!;
        const improvement = current - imbalanceFrom(base.n, sum, sq, pen);
        if (improvement < MIN_IMPROVEMENT) continue;
        const conf = confidence(gainFromImprovement(improvement, footprint), headroom(worst1, c1, p.th), rsk);
        if (conf < floor) {
          if (conf > lowConf) {
            lowConf = conf;
            lowJ = j;
          }
          continue;
        }
        if (bestJ < 0 || improvement > bestImp + 1e-9 || (Math.abs(improvement - bestImp) <= 1e-9 && t.name < roomy[bestJ]!.name)) {
          bestJ = j;
          bestImp = improvement;
        }
      }
      if (bestJ >= 0) {
        const t = roomy[bestJ]!;
        cands.push({ sg, t, improvement: bestImp, footprint, rank: bestImp / (sg.gib + MOVE_OVERHEAD_GIB), rollback: p.rollback(sg, t) });
      } else if (lowJ >= 0) {
        // It could improve things, but no such move reaches the confidence floor.
        p.belowConfidence(sg, 'load', roomy[lowJ]!, lowConf);
        rejected.add(sg.vmid);
      }
    }
  }
  return cands;
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
    const sc = p.score(c.sg, c.t, gainFromImprovement(c.improvement, c.footprint));
    if (sc.confidence < p.minConfidence) {
      p.belowConfidence(c.sg, 'load', c.t, sc.confidence);
      rejected.add(c.sg.vmid);
      continue;
    }
    if (p.budget <= 0) {
      p.maxPerRun(c.sg, 'load', c.t, sc.confidence);
      return 'stop';
    }
    p.commit(c.sg, c.t, 'load', sc, loadReason(p, c.sg, c.t));
    return 'accepted';
  }
  return 'none';
}

/** "pve1 is at 91 % memory (threshold 70 %); pve3 has room: 48 % → 56 %" (call before applying). */
export function loadReason(p: Planner, sg: SimGuest, t: SimNode): string {
  const sim = p.sim;
  const s = sim.nodes[sg.node]!;
  const memS = sim.memPct(s);
  const cpuS = sim.cpuPct(s);
  const memOver = memS - p.th.mem;
  const cpuOver = cpuS - p.th.cpu;
  if (memOver > 0 && memOver >= cpuOver) {
    return `${s.name} is at ${pct(memS)} memory (threshold ${pct(p.th.mem)}); ${t.name} has room: ${pct(sim.worstMemPct(t))} → ${pct(sim.worstMemPct(t, sg.reserve))}`;
  }
  if (cpuOver > 0) {
    return `${s.name} is at ${pct(cpuS)} CPU (threshold ${pct(p.th.cpu)}); ${t.name} has room: ${pct(sim.cpuPct(t))} → ${pct(sim.cpuPct(t, sg.cpuCores))}`;
  }
  const before = sim.imbalance();
  const after = sim.imbalanceAfter(sg, t);
  return `${s.name} carries more than its share (load ${pct(sim.load(s))}, cluster mean ${pct(sim.meanLoad())}); ${t.name} has room: ${pct(sim.worstMemPct(t))} → ${pct(sim.worstMemPct(t, sg.reserve))} memory, imbalance ${before.toFixed(1)} → ${after.toFixed(1)}`;
}
