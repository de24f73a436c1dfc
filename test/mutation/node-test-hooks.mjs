// Module resolution hook (node:module register) of the in-process mutation runner: `node:test`
// resolves to ./node-test-shim.mjs, everything else as usual.
const shim = new URL('./node-test-shim.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'node:test') return { url: shim, shortCircuit: true };
  return next(specifier, context);
}
