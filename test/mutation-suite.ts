/**
 * The tests StrykerJS runs against each mutant of src/engine (npm run mutate, stryker.config.json):
 * the pure engine tests in one process, quickest killers first, so a mutant costs one Node start and
 * dies at the first failing test (forceBail). Not a *.test file: `npm test` runs each file itself.
 * The property tests run PROPERTY_RUNS cases each (the mutate script sets 25).
 */
import './engine-mutants.test.js';
import './engine-windows.test.js';
import './engine-rules.test.js';
import './engine-safety.test.js';
import './engine-balance.test.js';
import './engine-lag.test.js';
import './windows-clock.test.js';
import './engine-property.test.js';
