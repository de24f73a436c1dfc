/**
 * The exact planner's tests (src/engine/optimal) for StrykerJS: the second file of the mutation run
 * beside mutation-suite.ts (see there). Its own file, so that the mutants of the greedy engine that
 * the first file kills never load HiGHS, and the planner's mutants skip the greedy suite.
 */
import './helpers/mutation-watchdog.js';

await import('./planner-optimal.test.js');
await import('./planner-refusals.test.js');
await import('./planner-property.test.js');
