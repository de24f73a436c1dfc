/**
 * The HiGHS solver (npm package `highs`, HiGHS compiled to WebAssembly), loaded on demand: the one
 * file of the exact planner that does I/O (loading the WebAssembly) and reads the clock (the solve
 * time the plan reports). A greedy tick never imports it (see `solverFor`).
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MipModel, MipResult, MipSolver } from '../engine/optimal/types.js';

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
  const am = config.automated_migrations;
  return am.planner === 'greedy' ? undefined : loadHighsWorker(am.planner_time_limit_seconds);
}

/** Beyond the time limit, what a solve may take before its thread is ended: HiGHS's own limit stops most solves sooner. */
export const HARD_STOP_GRACE_SECONDS = 0.25;

/**
 * HiGHS in a worker thread, for one tick: every solve of the tick (the precondition checks can make
 * the plan again) shares `budgetSeconds`, and the main thread waits for an answer at most the budget
 * left plus HARD_STOP_GRACE_SECONDS. HiGHS checks its own time limit only between steps (its first
 * solve in a process can run several times over it), so the thread is ended when no answer has
 * come by then, and the solve counts as one that found no plan: the greedy planner decides. A tick
 * with the exact planner thus takes at most the budget plus the grace longer than a greedy one.
 */
export async function loadHighsWorker(budgetSeconds: number): Promise<MipSolver> {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./highs-worker.js', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2] });
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    // A thread that ends before it is ready would otherwise leave nothing to wait for: the tick would end unrecorded.
    worker.once('exit', (code) => reject(new Error(`the solver thread ended (exit code ${code}) before it had loaded HiGHS`)));
  });
  // Ready when the thread has loaded HiGHS (Atomics.waitAsync: Node ≥ 16; not yet in TypeScript's ES2023 lib).
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string } }).waitAsync;
  // The waiting promise alone does not keep Node's event loop alive: the thread does, until it is ready.
  await Promise.race([waitAsync(flag, 0, 0).value, failed]);
  worker.unref(); // the process may end with the thread idle
  let left = budgetSeconds;
  let stopped: string | null = null;
  const none = (message: string, seconds = 0): MipResult => ({ status: 'none', values: null, objective: NaN, bound: NaN, seconds, message });
  return {
    solve(model: MipModel, timeLimitSeconds: number): MipResult {
      if (stopped) return none(stopped);
      const limit = Math.min(timeLimitSeconds, left);
      if (limit <= 0) return none(`this tick's solver time (${budgetSeconds} s) is spent`);
      const t0 = performance.now();
      Atomics.store(flag, 0, 0);
      port1.postMessage({ model, limit });
      const waited = Atomics.wait(flag, 0, 0, (limit + HARD_STOP_GRACE_SECONDS) * 1000);
      const seconds = (performance.now() - t0) / 1000;
      left -= seconds;
      const answer = waited === 'timed-out' ? undefined : receiveMessageOnPort(port1)?.message as MipResult | undefined;
      if (answer) return answer;
      stopped = `no answer within ${round3(limit + HARD_STOP_GRACE_SECONDS)} s: the solver was stopped`;
      void worker.terminate();
      return none(stopped, seconds);
    },
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

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
