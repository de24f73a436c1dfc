/**
 * For the mutation suites (test/mutation-*.ts): a mutant can turn a loop endless. Synchronous
 * JavaScript never sees SIGTERM then, so the process would outlive Stryker's timeout and burn a
 * core. A watchdog thread reports the mutant as detected (a failing TAP line, and the result file
 * Stryker's hook would write) and ends the process. Not during Stryker's initial run, which is
 * slower (it counts coverage) and must see every test.
 */
import { Worker } from 'node:worker_threads';

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
