/**
 * Planner benchmark (issue 16): prints figures, asserts nothing. Run with `npm run bench:planner`.
 * Results go into docs/benchmarks.md, section "Greedy and exact planner".
 *
 * Generated skewed clusters; for each planner, ticks 5 minutes apart at the default 3 moves per
 * run (moves applied and fed back as history, so cooldowns hold) until a tick plans no move. Shows
 * moves, GiB, imbalance and nodes over thresholds at the end, the exact planner's first answer
 * (moves of its optimal end state, proven or not) and its solve times, and whether any tick left a
 * node above a cap.
 */
import { plan, type HistoryMigration, type MipSolver, type Plan } from '../../src/engine/index.js';
import { loadHighs } from '../../src/solver/highs.js';
import { withDefaults, type Config } from '../../src/config/validate.js';
import type { ClusterSnapshot } from '../../src/generated/snapshot.js';
import { recomputeNodes, skewedCluster } from '../helpers/generate.js';

function cfg(planner: 'greedy' | 'optimal' | 'auto'): Config {
  const c = withDefaults({ proxmox_host: 'bench', proxmox_api_token_id: 'root@pam!bench' }) as unknown as Config;
  c.automated_migrations.planner = planner;
  return c;
}

interface Run {
  ticks: number;
  moves: number;
  gib: number;
  imbalance: number;
  hot: number;
  capBreaches: number;
  first: Plan;
  solve: number[];
  planMs: number[];
}

function ticks(base: ClusterSnapshot, planner: 'greedy' | 'optimal' | 'auto', solver: MipSolver | undefined): Run {
  const snap = structuredClone(base);
  const c = cfg(planner);
  const caps = c.automated_migrations.safety_checks;
  const hist: HistoryMigration[] = [];
  const now = Date.parse(base.taken_at);
  const r: Run = { ticks: 0, moves: 0, gib: 0, imbalance: 0, hot: 0, capBreaches: 0, first: null as unknown as Plan, solve: [], planMs: [] };
  for (let t = 0; t < 60; t++) {
    const at = now + t * 5 * 60_000;
    const t0 = performance.now();
    const p = plan(snap, c, { halted: null, migrations: hist }, at, solver);
    r.planMs.push(performance.now() - t0);
    r.first ??= p;
    if (p.planner.solve_seconds !== null) r.solve.push(p.planner.solve_seconds);
    r.imbalance = p.summary.imbalance_before;
    r.hot = p.summary.hot_nodes_before.length;
    if (!p.moves.length) break;
    r.ticks++;
    r.moves += p.moves.length;
    r.gib += p.summary.gib_moved;
    const byId = new Map(snap.guests.map((g) => [g.vmid, g]));
    for (const m of p.moves) {
      byId.get(m.vmid)!.node = m.target;
      hist.push({ vmid: m.vmid, source: m.source, target: m.target, status: 'completed', started_at: new Date(at).toISOString(), finished_at: new Date(at + 60_000).toISOString() });
    }
    recomputeNodes(snap);
    // A node that received a guest this tick and is now above a cap (current figures).
    const targets = new Set(p.moves.map((m) => m.target));
    for (const n of snap.nodes) if (targets.has(n.name) && ((100 * n.mem) / n.maxmem > caps.max_node_memory_percent + 1e-9 || 100 * n.cpu > caps.max_node_cpu_percent + 1e-9)) r.capBreaches++;
  }
  return r;
}

const fmt = (x: number, d = 1) => x.toFixed(d);
const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);

const solver = await loadHighs();
console.log('## Greedy and exact planner');
console.log();
console.log('Ticks 5 min apart at the default 3 moves per run until no move is planned; time limit 2 s. "optimum": the exact planner\'s first answer: moves of its end state and whether it is proven (restricted = only some guests could move in the model).');
console.log();
console.log('| nodes / guests | hot share | planner | ticks | moves | GiB | imbalance after | nodes over thresholds before → after | optimum (first tick) | solve s median / max | plan() ms median | cap breaches |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const sizes = (process.env.SIZES ?? '3/30,5/60,10/300,20/2000,64/10000').split(',').map((s) => s.split('/').map(Number) as [number, number]);
for (const [nodes, guests] of sizes) {
  const { base, hotShare } = skewedCluster(nodes, guests, nodes <= 3 ? 85 : nodes <= 5 ? 91 : 92);
  for (const planner of ['greedy', 'optimal', 'auto'] as const) {
    const r = ticks(base, planner, planner === 'greedy' ? undefined : solver);
    const i = r.first.planner;
    const optimum = planner === 'greedy' ? '-' : `${i.used === 'greedy' ? `greedy decided (${i.status})` : `${i.end_state_moves} moves, ${i.status === 'optimal' ? 'proven' : `gap ${i.gap_moves}`}`}${i.model?.restricted ? ', restricted' : ''}`;
    const hotBefore = r.first.summary.hot_nodes_before.length;
    console.log(
      `| ${nodes} / ${guests} | ${hotShare} | ${planner} | ${r.ticks} | ${r.moves} | ${fmt(r.gib, 0)} | ${fmt(r.imbalance)} | ${hotBefore} → ${r.hot} | ${optimum} | ${r.solve.length ? `${fmt(med(r.solve), 2)} / ${fmt(Math.max(...r.solve), 2)}` : '-'} | ${fmt(med(r.planMs), 0)} | ${r.capBreaches} |`,
    );
  }
}
