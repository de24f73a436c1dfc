// Stands in for `node:test` while the in-process mutation runner (./inproc-runner.mjs) imports the
// engine's test files: `test(name, fn)` only registers the test, which the runner then runs once per
// mutant that the test reaches. The engine's tests use nothing of node:test but `test`.
const registry = globalThis.__proxbalanceMutationTests;
if (!registry) throw new Error('node-test-shim.mjs is loaded only by test/mutation/inproc-runner.mjs');

export function test(name, optionsOrFn, fn) {
  registry.tests.push({ name: String(name), fn: typeof optionsOrFn === 'function' ? optionsOrFn : fn, file: registry.file });
}
export default test;
