/**
 * The fresh look before a migrate request: does a planned move still hold on a snapshot read just
 * now? Pure, like the planner, and on the planner's own evaluation (Sim.evaluate), so the caps mean
 * here exactly what they meant when planning.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { pct } from './context.js';
import { Sim } from './state.js';

export interface RecheckMove {
  vmid: number;
  source: string;
  target: string;
}

/**
 * Why `move` must not start now, or null when it may. `fresh` is the cluster read just now,
 * `planned` the snapshot the plan was made on. `startedThisRun` are the moves this run already
 * sent (running, ended, or with a lost answer): each counts on its target at its full configured
 * memory. The caps must hold on the worst of two views: the fresh figures (a guest that already
 * landed counted at its configured memory instead of its current use) and the planning figures
 * with every started move added (what the node reports can lag behind a guest that just landed).
 */
export function recheckMove(fresh: ClusterSnapshot, planned: ClusterSnapshot, config: ProxbalanceConfig, move: RecheckMove, startedThisRun: readonly RecheckMove[]): string | null {
  if (fresh.cluster.quorate !== true) return `Cluster not quorate now${fresh.cluster.quorate === null ? ' (quorum unknown)' : ''}`;
  const started = startedThisRun.filter((m) => m.vmid !== move.vmid);
  const sim = simWithStarted(fresh, config, started);
  const source = sim.byName.get(move.source);
  const target = sim.byName.get(move.target);
  if (!source?.online) return `Source ${move.source} is not online now`;
  if (!target?.online) return `Target ${move.target} is not online now`;
  if (target.maintenance) return `Target ${move.target} is in maintenance now`;
  if (!target.complete) return `Target ${move.target}: its load is not known now`;
  const sg = sim.guests.find((g) => g.vmid === move.vmid);
  if (!sg) return 'No longer in the cluster';
  if (sg.node !== source.idx) return `No longer on ${move.source}`;
  const now = capProblem(sim, move);
  if (now) return now;
  return capProblem(simWithStarted(planned, config, started), move);
}

/** Why the target's caps would not hold, on this simulation (the planner's own evaluation), or null. */
function capProblem(sim: Sim, move: RecheckMove): string | null {
  const sg = sim.guests.find((g) => g.vmid === move.vmid);
  const t = sim.byName.get(move.target);
  if (!sg || !t) return null;
  const ev = sim.evaluate(sim.arrival([sg]), t);
  if (ev.capOk) return null;
  return `Target ${move.target} would exceed the caps now: memory ${pct(sim.worstMemPct(t))} → ${pct(ev.worstMemPct)} (cap ${pct(sim.caps.mem)}), CPU ${pct(sim.worstCpuPct(t))} → ${pct(ev.worstCpuPct)} (cap ${pct(sim.caps.cpu)})`;
}

/**
 * The cluster of `snap` with every started move applied: a guest still on its source moves with
 * its full configured memory; one the snapshot shows on its target already is taken back out of
 * the target's figures first, so that it counts once, at its configured memory.
 */
function simWithStarted(snap: ClusterSnapshot, config: ProxbalanceConfig, started: readonly RecheckMove[]): Sim {
  const am = config.automated_migrations;
  const rt = config.recommendation_thresholds;
  const sc = am.safety_checks;
  const byVmid = new Map(started.map((m) => [m.vmid, m] as const));
  const landed = new Map<string, number>();
  const guests = snap.guests.map((g) => {
    const m = byVmid.get(g.vmid);
    if (!m || g.node !== m.target) return g;
    const running = g.status === 'running' || g.status === 'paused';
    landed.set(m.target, (landed.get(m.target) ?? 0) + (running ? g.mem : 0));
    return { ...g, node: m.source };
  });
  const nodes = snap.nodes.map((n) => {
    const less = landed.get(n.name);
    if (!less) return n;
    return { ...n, mem: Math.max(0, n.mem - less), ...(n.avg ? { avg: { ...n.avg, mem: Math.max(0, n.avg.mem - less) } } : {}) };
  });
  // Only the caps are judged here, on the worst of the current figures and the hour averages: which
  // nodes a move touched within the hour (the Sim's last argument) changes nothing, so none is given.
  const sim = new Sim({ ...snap, nodes, guests }, { cpu: rt.cpu_threshold, mem: rt.mem_threshold, iowait: rt.iowait_threshold }, { mem: sc.max_node_memory_percent, cpu: sc.max_node_cpu_percent }, new Set(am.maintenance_nodes), false);
  for (const m of started) {
    const sg = sim.guests.find((g) => g.vmid === m.vmid);
    const t = sim.byName.get(m.target);
    if (sg && t && sg.node !== t.idx) sim.apply(sg, t);
  }
  return sim;
}
