/**
 * The decision engine: `plan(snapshot, config, history, now) → Plan`.
 *
 * Pure (no I/O, no clock, no randomness) and deterministic (ties broken by vmid, then node name).
 * Phases share one simulated cluster and one per-run budget, in priority order:
 *   1. maintenance evacuation, 2. anti-affinity fixes, 3. load balancing, 4. distribution balancing.
 * The gates are evaluated alongside; when one fails the plan has no moves and every would-be move
 * is listed in `skipped` with that gate's reason (so a dry run outside the window still shows what
 * would happen).
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { fixAntiAffinity } from './affinity.js';
import { balanceLoad, shouldBalance } from './balance.js';
import { Planner } from './context.js';
import { balanceDistribution } from './distribution.js';
import { evaluateGates } from './gates.js';
import { HaPlacement } from './ha.js';
import { evacuate } from './maintenance.js';
import { activeMigrationVmids, indexHistory } from './rules.js';
import { planOptimal, type MipSolver } from './optimal/index.js';
import { IMBALANCE_TARGET, IMBALANCE_TRIGGER, r2, type Thresholds } from './score.js';
import { Sim } from './state.js';
import type { HistoryView, NodeLoad, Now, Plan, SkippedGuest } from './types.js';

export type * from './types.js';
export { REASON } from './rules.js';
export { windowOpen, checkSchedule } from './windows.js';
export { IMBALANCE_TARGET, IMBALANCE_TRIGGER, MIN_IMPROVEMENT } from './score.js';
export { recheckMove, type RecheckMove } from './recheck.js';
export type { MipSolver, PlannerInfo } from './optimal/index.js';

/** `now` as epoch milliseconds; throws a TypeError for an invalid Date or a non-finite number. */
export function toMillis(now: Now): number {
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new TypeError(`plan: now must be a valid Date or epoch milliseconds, got ${String(now)}`);
  return ms;
}

function nodeLoads(sim: Sim): NodeLoad[] {
  return sim.nodes.map((n) => {
    const cpu = n.maxcpu > 0 ? sim.cpuPct(n) : 0;
    const mem = n.maxmem > 0 ? sim.memPct(n) : 0;
    return {
      name: n.name,
      role: n.maintenance ? 'maintenance' : n.balanced ? 'balanced' : 'excluded',
      cpu_percent: r2(cpu),
      mem_percent: r2(mem),
      iowait_percent: r2(n.iowaitPct),
      load: r2((cpu + mem) / 2),
      hot: n.online && n.maxcpu > 0 && n.maxmem > 0 && sim.hot(n),
      running_guests: n.running,
    };
  });
}

/**
 * The simulated cluster and the planning context `plan` starts from, before any phase has run:
 * what `proxbalance explain` judges a guest and its possible targets with (the same rules,
 * figures and scores as the plan, not a copy of them).
 */
export function makePlanner(snapshot: ClusterSnapshot, config: ProxbalanceConfig, history: HistoryView, nowMs: number): { sim: Sim; planner: Planner } {
  const am = config.automated_migrations;
  const rt = config.recommendation_thresholds;
  const th: Thresholds = { cpu: rt.cpu_threshold, mem: rt.mem_threshold, iowait: rt.iowait_threshold };
  const sc = am.safety_checks;
  // Nodes a live migration touched within the hour: their CPU average does not show it yet.
  const recentlyChanged = new Set<string>();
  for (const m of history.migrations) {
    if (nowMs - Date.parse(m.finished_at ?? m.started_at) < 3_600_000) {
      recentlyChanged.add(m.source);
      recentlyChanged.add(m.target);
    }
  }
  const sim = new Sim(snapshot, th, { mem: sc.max_node_memory_percent, cpu: sc.max_node_cpu_percent }, new Set(am.maintenance_nodes), am.rules.respect_exclude_tags, recentlyChanged);
  const planner = new Planner(
    sim,
    config,
    {
      config,
      nowMs,
      history: indexHistory(history, nowMs, am.rules.cooldown_minutes),
      activeTasks: activeMigrationVmids(snapshot),
      crsRebalance: snapshot.crs.ha_auto_rebalance === true,
      ha: new HaPlacement(snapshot),
    },
    th,
  );
  return { sim, planner };
}

/**
 * Decides which guests move where this tick, and why every other considered guest stays.
 *
 * @param snapshot the cluster as read this tick (consumed as is; never modified)
 * @param config   effective configuration (defaults filled)
 * @param history  recent live migrations and the halted state
 * @param now      the moment to plan for: a Date or epoch milliseconds
 * @param solver   the MIP solver for `automated_migrations.planner` optimal/auto (src/solver/highs.ts
 *                 `solverFor`); without one the greedy planner decides
 */
export function plan(snapshot: ClusterSnapshot, config: ProxbalanceConfig, history: HistoryView, now: Now, solver?: MipSolver): Plan {
  const nowMs = toMillis(now);
  const { sim, planner: p } = makePlanner(snapshot, config, history, nowMs);
  const gate = evaluateGates(snapshot, config, history, nowMs);
  const nodesBefore = nodeLoads(sim);
  const imbalanceBefore = sim.imbalance();

  // The one dispatch point between the planners: the exact one replaces the first three phases.
  let triggered = shouldBalance(p);
  const planner = planOptimal(p, solver);
  if (planner.used === 'greedy') {
    evacuate(p);
    fixAntiAffinity(p);
    triggered = shouldBalance(p);
    if (triggered) balanceLoad(p);
  }
  balanceDistribution(p);

  let moves = p.moves;
  let skipped: SkippedGuest[] = [...p.skipped.values()];
  let nodesAfter = nodeLoads(sim);
  let imbalanceAfter = sim.imbalance();
  if (gate.block) {
    const blocked: SkippedGuest[] = moves.map((m) => ({
      vmid: m.vmid,
      name: m.name,
      node: m.source,
      reason: gate.block!.reason,
      detail: gate.block!.detail,
      kind: m.kind,
      target: m.target,
      confidence: m.confidence,
    }));
    skipped = [...blocked, ...skipped];
    moves = [];
    nodesAfter = nodesBefore;
    imbalanceAfter = imbalanceBefore;
  }

  return {
    at: new Date(nowMs).toISOString(),
    gates: gate.gates,
    allowed: gate.block === null,
    moves,
    skipped,
    planner,
    summary: {
      imbalance_before: r2(imbalanceBefore),
      imbalance_after: r2(imbalanceAfter),
      imbalance_trigger: IMBALANCE_TRIGGER,
      imbalance_target: IMBALANCE_TARGET,
      load_balancing_triggered: triggered,
      hot_nodes_before: nodesBefore.filter((n) => n.hot).map((n) => n.name),
      hot_nodes_after: nodesAfter.filter((n) => n.hot).map((n) => n.name),
      running_migrations: gate.running,
      free_migration_slots: gate.free,
      gib_moved: r2(moves.reduce((s, m) => s + m.score.gib_moved, 0)),
      nodes_before: nodesBefore,
      nodes_after: nodesAfter,
    },
    notes: p.notes,
  };
}

/**
 * `--compare`: the greedy and the exact planner on the same snapshot, history and moment, whatever
 * `automated_migrations.planner` says (the solver must be loaded: src/solver/highs.ts).
 */
export function comparePlanners(snapshot: ClusterSnapshot, config: ProxbalanceConfig, history: HistoryView, now: Now, solver: MipSolver): { greedy: Plan; optimal: Plan } {
  const as = (planner: 'greedy' | 'optimal'): ProxbalanceConfig => ({ ...config, automated_migrations: { ...config.automated_migrations, planner } });
  return { greedy: plan(snapshot, as('greedy'), history, now), optimal: plan(snapshot, as('optimal'), history, now, solver) };
}
