/**
 * The HiGHS solver (npm package `highs`, HiGHS compiled to WebAssembly), loaded on demand: the one
 * file of the exact planner that does I/O (loading the WebAssembly) and reads the clock (the solve
 * time the plan reports). A greedy tick never imports it (see `solverFor`).
 */
import type { ProxbalanceConfig } from '../../generated/config.js';
import type { MipModel, MipResult, MipSolver } from './types.js';

type Loader = (typeof import('highs'))['default'];
type Highs = Awaited<ReturnType<Loader>>;

let loading: Promise<MipSolver> | null = null;

/** The HiGHS solver, loaded once per process. */
export function loadHighs(): Promise<MipSolver> {
  // The package's ESM build has a default export; TypeScript (module node16) types it as the CommonJS module.
  loading ??= import('highs').then(async (m) => wrap(await ((m as unknown as { default: Loader }).default)()));
  return loading;
}

/** The solver the configured planner needs: none for greedy (nothing is loaded). */
export async function solverFor(config: ProxbalanceConfig): Promise<MipSolver | undefined> {
  return config.automated_migrations.planner === 'greedy' ? undefined : loadHighs();
}

function wrap(highs: Highs): MipSolver {
  return {
    solve(mm: MipModel, timeLimitSeconds: number): MipResult {
      const t0 = performance.now();
      const seconds = () => (performance.now() - t0) / 1000;
      const model = highs.createModel({
        numCols: mm.numCols,
        numRows: mm.numRows,
        colCost: mm.colCost,
        colLower: mm.colLower,
        colUpper: mm.colUpper,
        rowLower: mm.rowLower.map((x) => (x === -Infinity ? -highs.infinity : x)),
        rowUpper: mm.rowUpper.map((x) => (x === Infinity ? highs.infinity : x)),
        matrix: { format: 'csr', numRows: mm.numRows, numCols: mm.numCols, starts: mm.starts, indices: mm.indices, values: mm.values },
        integrality: mm.integrality as never,
      });
      try {
        model.options.set({ output_flag: false, time_limit: timeLimitSeconds, mip_rel_gap: 0, mip_abs_gap: 0.5, random_seed: 0 });
        model.run();
        const st = model.getModelStatus();
        const hasSolution = Number(model.info.get('primal_solution_status')) === 2;
        if (!hasSolution) return { status: 'none', values: null, objective: NaN, bound: NaN, seconds: seconds(), message: `HiGHS model status ${st}` };
        const objective = model.getObjectiveValue();
        const bound = st === 7 ? objective : Number(model.info.get('mip_dual_bound'));
        return { status: st === 7 ? 'optimal' : 'feasible', values: model.getSolution().colValue, objective, bound, seconds: seconds() };
      } finally {
        model.dispose();
      }
    },
  };
}
