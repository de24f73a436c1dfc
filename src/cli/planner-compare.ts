/**
 * How the CLI shows which planner decided (issue 16), and `plan --snapshot FILE --compare`: the
 * greedy and the exact planner on the same snapshot, side by side.
 */
import type { Config } from '../config/validate.js';
import { plan as makePlan, type HistoryView, type Plan } from '../engine/index.js';
import { loadHighs } from '../engine/optimal/solver.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { paint, plannerLine } from './style.js';

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
