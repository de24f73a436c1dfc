/**
 * The tests of the greedy engine that StrykerJS runs against each mutant of src/engine (npm run
 * mutate, stryker.config.json), in order, quickest killers first. The mutation runner
 * (test/mutation/inproc-runner.mjs) imports this file and mutation-optimal.ts once per process and
 * runs, for each mutant, only the tests that reach it. Not a *.test file: `npm test` runs each test
 * file itself (`node dist/test/mutation-suite.js` runs them all). The property tests run
 * PROPERTY_RUNS cases each (the mutate script sets a small number).
 */
await import('./engine-score.test.js');
await import('./engine-names.test.js');
await import('./engine-sim.test.js');
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
