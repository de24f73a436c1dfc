/**
 * How the CLI shows `plan --snapshot FILE --compare` and `run --dry-run --compare`: the greedy and
 * the exact planner on the same snapshot, side by side (issue 16).
 */
import type { Plan } from '../engine/index.js';
import { paint, plannerLine } from './style.js';

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
