/**
 * The tests StrykerJS runs against each mutant of src/engine (npm run mutate, stryker.config.json):
 * the pure tests of the greedy engine in one process, quickest killers first, so a mutant costs one
 * Node start and dies at the first failing test (forceBail). Not a *.test file: `npm test` runs each
 * file itself. The property tests run PROPERTY_RUNS cases each (the mutate script sets a small number).
 * The exact planner's tests are a second file (mutation-optimal.ts): Stryker runs, for each mutant,
 * only the files whose tests reach it, so a mutant of src/engine/optimal does not wait for this one.
 */
import './helpers/mutation-watchdog.js';

await import('./engine-score.test.js');
await import('./engine-mutants.test.js');
await import('./engine-windows.test.js');
await import('./engine-rules.test.js');
await import('./engine-safety.test.js');
await import('./engine-recheck.test.js');
await import('./engine-maintenance.test.js');
await import('./engine-affinity.test.js');
await import('./engine-distribution.test.js');
await import('./engine-ha-placement.test.js');
await import('./engine-ha.test.js');
await import('./engine-balance.test.js');
await import('./engine-load.test.js');
await import('./engine-context.test.js');
await import('./engine-plan.test.js');
await import('./engine-lag.test.js');
await import('./windows-clock.test.js');
await import('./engine-property.test.js');
