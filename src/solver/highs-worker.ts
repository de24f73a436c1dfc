/**
 * The HiGHS solver in a worker thread (see `loadHighsWorker` in ./highs.ts): loads the
 * WebAssembly, says it is ready, then answers each model with its result, waking the main thread,
 * which waits for the answer with a hard deadline and ends this thread when it does not come.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { loadHighs } from './highs.js';
import type { MipModel } from '../engine/optimal/types.js';

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
const wake = () => {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
};
const solver = await loadHighs();
// A testing aid like PROXBALANCE_NOW: a solver that hangs this long before each solve (docs/running.md).
const hangMs = Number(process.env.PROXBALANCE_SOLVER_HANG_MS) || 0;
port.on('message', ({ model, limit }: { model: MipModel; limit: number }) => {
  let answer;
  if (hangMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, hangMs);
  try {
    const r = solver.solve(model, limit);
    answer = { ...r, values: r.values ? Array.from(r.values) : null };
  } catch (e) {
    answer = { status: 'none', values: null, objective: NaN, bound: NaN, seconds: 0, message: `the solver failed: ${(e as Error).message}` };
  }
  port.postMessage(answer);
  wake();
});
wake(); // ready
