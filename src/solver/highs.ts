/**
 * The HiGHS solver (npm package `highs`, HiGHS compiled to WebAssembly), loaded on demand: the one
 * file of the exact planner that does I/O (loading the WebAssembly) and reads the clock (the solve
 * time the plan reports). A greedy tick never imports it (see `solverFor`).
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import { setFlagsFromString } from 'node:v8';
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

/**
 * A process that will not solve keeps its WebAssembly on V8's baseline compiler (Liftoff). The
 * only other WebAssembly is undici's HTTP parser (llhttp): once it is hot, V8 recompiles its one
 * large parsing function with the optimising compiler, about 180 ms of CPU in every tick whatever
 * the cluster's size, and the process waits for that compile before it exits; the baseline code
 * parses a tick's few MB for less. HiGHS needs the optimising tier, so a tick that may solve keeps
 * it. V8's flags are process-wide and read when code is compiled: call this before the first
 * HTTPS connection.
 */
export function settleWasmTiering(config: ProxbalanceConfig, compare: boolean): void {
  if (config.automated_migrations.planner === 'greedy' && !compare) setFlagsFromString('--liftoff-only');
}

/** The solver the configured planner needs: none for greedy (nothing is loaded). */
export async function solverFor(config: ProxbalanceConfig): Promise<MipSolver | undefined> {
  const am = config.automated_migrations;
  return am.planner === 'greedy' ? undefined : loadHighsWorker(am.planner_time_limit_seconds);
}

/** What HiGHS's own time limit leaves before the hard stop: it checks its limit only between steps. */
export const HARD_STOP_GRACE_SECONDS = 0.25;

/**
 * HiGHS in a worker thread, for one tick. `budgetSeconds` counts from this call (the tick calls it
 * before it reads the cluster) and covers everything the exact planner adds: loading the
 * WebAssembly, and every solve of the tick (the precondition checks can make the plan again). The
 * main thread never waits past the budget's end: a thread not ready by then, or a solve without an
 * answer by then, is ended, and the greedy planner decides. HiGHS is asked to stop
 * HARD_STOP_GRACE_SECONDS before that (it checks its limit only between steps, and a process's
 * first solve can run several times over it). A tick with the exact planner thus ends at most the
 * budget after its cluster read began, or with the greedy tick's own time when that is longer.
 */
export async function loadHighsWorker(budgetSeconds: number): Promise<MipSolver> {
  const deadline = performance.now() + budgetSeconds * 1000;
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // No Node options of the main thread: some make no sense in a worker and stop it at start (`--input-type`, `--eval`).
  const worker = new Worker(new URL('./highs-worker.js', import.meta.url), { workerData: { port: port2, flag }, transferList: [port2], execArgv: [] });
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    // A thread that ends before it is ready would otherwise leave nothing to wait for: the tick would end unrecorded.
    worker.once('exit', (code) => reject(new Error(`the solver thread ended (exit code ${code}) before it had loaded HiGHS`)));
    timer = setTimeout(() => reject(new Error(`HiGHS was not loaded within this tick's solver time (${budgetSeconds} s)`)), budgetSeconds * 1000);
  });
  // Ready when the thread has loaded HiGHS (Atomics.waitAsync: Node ≥ 16; not yet in TypeScript's ES2023 lib).
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { value: Promise<string> | string } }).waitAsync;
  // The waiting promise alone does not keep Node's event loop alive: the thread does, until it is ready.
  try {
    await Promise.race([waitAsync(flag, 0, 0).value, failed]);
  } catch (e) {
    void worker.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  worker.unref(); // the process may end with the thread idle
  let stopped: string | null = null;
  const none = (message: string, seconds = 0): MipResult => ({ status: 'none', values: null, objective: NaN, bound: NaN, seconds, message });
  return {
    solve(model: MipModel, timeLimitSeconds: number): MipResult {
      if (stopped) return none(stopped);
      const t0 = performance.now();
      const waitMs = Math.min(timeLimitSeconds * 1000, deadline - t0);
      if (waitMs <= 0) return none(`this tick's solver time (${budgetSeconds} s) is spent`);
      Atomics.store(flag, 0, 0);
      port1.postMessage({ model, limit: Math.max(0.01, waitMs / 1000 - HARD_STOP_GRACE_SECONDS) });
      const waited = Atomics.wait(flag, 0, 0, waitMs);
      const seconds = (performance.now() - t0) / 1000;
      const answer = waited === 'timed-out' ? undefined : receiveMessageOnPort(port1)?.message as MipResult | undefined;
      if (answer) return answer;
      stopped = `no answer within ${round3(waitMs / 1000)} s: the solver was stopped`;
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
