/**
 * The exact planner (issue 16): solves the placement as a mixed-integer model with HiGHS and carries
 * out this tick's share of the optimal end state. Called by `plan()` in place of the greedy phases
 * (evacuation, anti-affinity, load balancing) when `automated_migrations.planner` is `optimal` or
 * `auto` and a solver was handed in; returns null when the greedy planner is to decide instead
 * (with the reason in the PlannerInfo the caller reports).
 */
import type { Planner } from '../context.js';
import { buildModel, W_MOVE, type BuiltModel } from './model.js';
import { commitInOrder, type EndMove } from './order.js';
import type { MipResult, MipSolver, PlannerInfo } from './types.js';
import { movableUnits, type Unit } from './units.js';

export type { MipModel, MipResult, MipSolver, PlannerInfo } from './types.js';
export { WAITS } from './order.js';

/** The info of a plan the greedy planner made because it was asked for. */
export function greedyInfo(requested: PlannerInfo['requested'], note?: string): PlannerInfo {
  return { requested, used: 'greedy', status: 'not-run', end_state_moves: null, gap_moves: null, solve_seconds: null, model: null, ...(note ? { note } : {}) };
}

/**
 * Solves and, when the outcome is usable (proven optimal; or any plan found when `optimal` was
 * asked for), commits this tick's moves into `p`. `info.used` says who is to decide: when it is
 * 'greedy', nothing was committed and the caller runs the greedy phases.
 */
export function planOptimal(p: Planner, solver: MipSolver | undefined): PlannerInfo {
  const am = p.config.automated_migrations;
  const requested = am.planner;
  if (requested === 'greedy') return greedyInfo(requested);
  if (!solver) return greedyInfo(requested, 'the solver was not loaded for this plan, so the greedy planner decided');
  const { units, restricted } = movableUnits(p);
  const built = buildModel(p, units);
  const variables = built.yCols.reduce((s, c) => s + c.length, 0);
  const model = { guests: p.sim.guests.length, movable: units.reduce((s, u) => s + u.guests.length, 0), variables, restricted };
  let r: MipResult;
  try {
    r = variables ? solver.solve(built.mip, am.planner_time_limit_seconds) : { status: 'optimal', values: [], objective: 0, bound: 0, seconds: 0 };
  } catch (e) {
    // A solver that fails (the WebAssembly out of memory, an abort) is a solver without a plan.
    r = { status: 'none', values: null, objective: NaN, bound: NaN, seconds: 0, message: `the solver failed: ${(e as Error).message}` };
  }
  const info: PlannerInfo = { requested, used: 'optimal', status: r.status, end_state_moves: null, gap_moves: null, solve_seconds: Math.round(r.seconds * 1000) / 1000, model };
  const why = refusal(r, requested, () => fixesAll(built, units, r.values!), am.planner_time_limit_seconds);
  if (why) return { ...info, used: 'greedy', note: `${why}, so the greedy planner decided` };
  const end: EndMove[] = [];
  for (const u of units) u.targets.forEach((t, k) => {
    if ((r.values![built.yCols[u.i]![k]!] ?? 0) > 0.5) end.push({ u, t: p.sim.nodes[t]! });
  });
  info.end_state_moves = end.reduce((s, m) => s + m.u.guests.length, 0);
  info.gap_moves = r.status === 'optimal' ? 0 : Math.max(0, Math.floor((r.objective - r.bound) / W_MOVE));
  if (restricted) info.note = `a large cluster: only ${model.movable} of ${model.guests} guests could move in the model (the largest on the nodes above the mean load, evacuees, exclude-group fixes)`;
  const movesBefore = p.moves.length;
  const waiting = commitInOrder(p, end, info.end_state_moves);
  // No move of it can be made first (a swap: each needs the other's room): greedy decides this tick.
  if (waiting && p.moves.length === movesBefore) return { ...info, used: 'greedy', note: `no move of the optimal plan (${info.end_state_moves} move(s)) can be made first within the caps and rules (it needs a swap), so the greedy planner decided` };
  return info;
}

/**
 * Why the solver's answer is not used (null: it is). `auto` uses only a proven optimum; `optimal`
 * also the best plan found in time, but only one that fixes everything (every node under its
 * thresholds, exclude groups parted, maintenance nodes emptied): a half-finished search would
 * otherwise be worse than the greedy plan.
 */
function refusal(r: MipResult, requested: PlannerInfo['requested'], fixes: () => boolean, limit: number): string | null {
  if (r.status === 'none') return `the solver found no plan within ${limit} s${r.message ? ` (${r.message})` : ''}`;
  if (r.status === 'optimal') return null;
  if (requested === 'auto') return `the solver did not prove its plan optimal within ${limit} s`;
  return fixes() ? null : `the best plan the solver found within ${limit} s leaves a node over its thresholds (or a group or maintenance node unfixed)`;
}

function fixesAll(built: BuiltModel, units: Unit[], values: ArrayLike<number>): boolean {
  if (built.penaltyCols.some((c) => (values[c] ?? 0) > 1e-6)) return false;
  return units.every((u) => !u.evacuate || built.yCols[u.i]!.some((c) => (values[c] ?? 0) > 0.5));
}
