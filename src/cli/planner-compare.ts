/**
 * How the CLI shows which planner decided (issue 16), and `plan --snapshot FILE --compare`: the
 * greedy and the exact planner on the same snapshot, side by side.
 */
import type { Config } from '../config/validate.js';
import { plan as makePlan, type HistoryView, type Plan } from '../engine/index.js';
import { loadHighs } from '../engine/optimal/solver.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { cell, paint } from './style.js';

/** "Planner: optimal (proven optimal, 2 move(s) in the end state, solved in 0.05 s)". */
export function plannerLine(p: Plan): string {
  const i = p.planner;
  if (i.used === 'greedy' && i.status === 'not-run' && !i.note) return 'Planner: greedy';
  const facts: string[] = [];
  if (i.status === 'optimal') facts.push('proven optimal');
  else if (i.status === 'feasible') facts.push(`not proven optimal: up to ${i.gap_moves ?? '?'} move(s) fewer may exist`);
  else if (i.status === 'none') facts.push('the solver found no plan');
  if (i.end_state_moves !== null) facts.push(`${i.end_state_moves} move(s) in the end state`);
  if (i.solve_seconds !== null) facts.push(`solved in ${i.solve_seconds} s`);
  if (i.model?.restricted) facts.push(`model restricted to ${i.model.movable} of ${i.model.guests} guests`);
  if (i.note) facts.push(i.note);
  return `Planner: ${i.used}${i.requested !== i.used ? ` (${i.requested} asked for)` : ''}${facts.length ? `: ${cell(facts.join('; '))}` : ''}`;
}

/** Both planners on one snapshot: the greedy one as configured, the exact one with the solver loaded. */
export async function comparePlans(snapshot: ClusterSnapshot, config: Config, history: HistoryView, nowMs: number): Promise<{ greedy: Plan; optimal: Plan }> {
  const as = (planner: 'greedy' | 'optimal'): Config => ({ ...config, automated_migrations: { ...config.automated_migrations, planner } });
  const greedy = makePlan(snapshot, as('greedy'), history, nowMs);
  const optimal = makePlan(snapshot, as('optimal'), history, nowMs, await loadHighs());
  return { greedy, optimal };
}

/** The side-by-side table of `plan --compare`. */
export function formatComparison(r: { greedy: Plan; optimal: Plan }): string[] {
  const c = paint();
  const row = (label: string, f: (p: Plan) => string) => `  ${label.padEnd(28)} ${f(r.greedy).padEnd(16)} ${f(r.optimal)}`;
  const o = r.optimal.planner;
  return [
    '',
    c.bold(`  ${''.padEnd(28)} ${'greedy'.padEnd(16)} optimal`),
    row('moves this run', (p) => String(p.moves.length)),
    row('moves in the end state', (p) => (p.planner.end_state_moves === null ? '-' : String(p.planner.end_state_moves))),
    row('GiB to move this run', (p) => String(p.summary.gib_moved)),
    row('imbalance after', (p) => `${p.summary.imbalance_before} → ${p.summary.imbalance_after}`),
    row('nodes over thresholds after', (p) => (p.summary.hot_nodes_after.length ? p.summary.hot_nodes_after.join(', ') : 'none')),
    row('proof', (p) => (p.planner.used === 'greedy' ? '-' : p.planner.status === 'optimal' ? 'proven optimal' : `gap ${p.planner.gap_moves ?? '?'} move(s)`)),
    row('solve time', (p) => (p.planner.solve_seconds === null ? '-' : `${p.planner.solve_seconds} s`)),
    ...(o.used === 'greedy' || o.note ? ['', `  ${plannerLine(r.optimal)}`] : []),
  ];
}
