/**
 * The exact planner's tests (src/engine/optimal) for StrykerJS, after mutation-suite.ts (see there).
 */
await import('./planner-optimal.test.js');
await import('./planner-refusals.test.js');
await import('./planner-order.test.js');
await import('./planner-model.test.js');
await import('./planner-units.test.js');
await import('./planner-property.test.js');
