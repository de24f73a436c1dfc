/**
 * The tests StrykerJS runs against each mutant of src/engine (npm run mutate, stryker.config.json):
 * the pure engine tests in one process, quickest killers first, so a mutant costs one Node start and
 * dies at the first failing test (forceBail). Not a *.test file: `npm test` runs each file itself.
 * The property tests run PROPERTY_RUNS cases each (the mutate script sets a small number).
 */
import { Worker } from 'node:worker_threads';

// A mutant can turn a loop endless. Synchronous JavaScript never sees SIGTERM then, so the process
// would outlive Stryker's timeout and burn a core. A watchdog thread reports the mutant as detected
// (a failing TAP line, and the result file Stryker's hook would write) and ends the process.
// Not during Stryker's initial run, which is slower (it counts coverage) and must see every test.
const deadline = Number(process.env.MUTATION_DEADLINE_MS ?? 120_000);
const watchdog = process.env.STRYKER_DRY_RUN === 'true' ? null : new Worker(
  `const { workerData: d } = require('node:worker_threads');
   const fs = require('node:fs');
   setTimeout(() => {
     try { fs.writeSync(1, '\\nnot ok 9999 - watchdog: the suite ran over ' + d.deadline + ' ms (an endless loop?)\\n'); } catch {}
     try { fs.writeFileSync('stryker-output-' + d.pid + '.json', '{}'); } catch {}
     process.kill(d.pid, 'SIGKILL');
   }, d.deadline);`,
  { eval: true, workerData: { deadline, pid: process.pid } },
);
watchdog?.unref();

await import('./engine-score.test.js');
await import('./engine-mutants.test.js');
await import('./engine-windows.test.js');
await import('./engine-rules.test.js');
await import('./engine-safety.test.js');
await import('./engine-recheck.test.js');
await import('./engine-maintenance.test.js');
await import('./engine-affinity.test.js');
await import('./engine-distribution.test.js');
await import('./engine-ha.test.js');
await import('./engine-balance.test.js');
await import('./engine-lag.test.js');
await import('./windows-clock.test.js');
await import('./engine-property.test.js');
// The exact planner (src/engine/optimal): its model, its prefix order and the swap fallback.
await import('./planner-optimal.test.js');
await import('./planner-property.test.js');
