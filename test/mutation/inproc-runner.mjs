/**
 * A StrykerJS test runner (plugin) that runs the engine's node:test files inside its own process:
 * each file is imported once (its `test` calls only register, see ./node-test-shim.mjs), and each
 * mutant runs just the tests that reach it (per-test coverage), stopping at the first failure.
 * The engine is pure and Stryker switches mutants at run time (`__stryker__.activeMutant`), so no
 * process is started per mutant: that start and the imports cost more than most mutants' tests.
 * Static mutants (module-level code, evaluated once at import) need a fresh process: this runner
 * says it cannot reload its environment, and Stryker starts a new one for them, in which the test
 * files are imported with the mutant already switched on (see `load`). An endless loop in
 * a mutant is cut by Stryker's hit limit (the instrumented code throws) and reported as a timeout.
 * Used by `npm run mutate` (stryker.config.json); see docs/testing.md.
 */
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commonTokens, declareClassPlugin, PluginKind, tokens } from '@stryker-mutator/api/plugin';
import { determineHitLimitReached, DryRunStatus, MutantRunStatus, TestStatus } from '@stryker-mutator/api/test-runner';

/** The test files, in order (quickest killers first); paths relative to the sandbox Stryker runs in. */
export const SUITES = ['dist/test/mutation-suite.js', 'dist/test/mutation-optimal.js'];
const NS = '__stryker__';

class InProcessNodeTestRunner {
  static inject = tokens(commonTokens.logger);

  constructor(log) {
    this.log = log;
    this.tests = [];
  }

  capabilities() {
    return { reloadEnvironment: false };
  }

  async init() {
    (globalThis[NS] ??= {}).activeMutant = undefined;
    register(new URL('./node-test-hooks.mjs', import.meta.url));
  }

  /**
   * Imports the test files (their modules, the engine's among them) on a process's first run, after
   * the run's mutant is switched on: a static mutant (module-level code, run once at import) is
   * seen only then. Stryker gives such a mutant a fresh process, and the mutant after it another.
   */
  async load() {
    if (this.tests.length) return;
    const registry = (globalThis.__proxbalanceMutationTests = { tests: [], file: '' });
    for (const file of SUITES) {
      registry.file = file;
      await import(pathToFileURL(resolve(file)).href);
    }
    const seen = new Map();
    this.tests = registry.tests.map((t) => {
      const n = (seen.get(t.name) ?? 0) + 1;
      seen.set(t.name, n);
      return { ...t, id: n > 1 ? `${t.name} (${n})` : t.name };
    });
    this.log.debug(`${this.tests.length} tests registered`);
  }

  async dryRun(options) {
    const ns = globalThis[NS];
    const perTest = options.coverageAnalysis === 'perTest';
    ns.mutantCoverage ??= { static: {}, perTest: {} };
    await this.load();
    const results = [];
    for (const t of this.tests) {
      if (perTest) ns.currentTestId = t.id;
      results.push(await runOne(t));
    }
    ns.currentTestId = undefined;
    const coverage = options.coverageAnalysis === 'off' ? undefined : ns.mutantCoverage;
    return { status: DryRunStatus.Complete, tests: results, mutantCoverage: coverage };
  }

  async mutantRun(options) {
    const ns = globalThis[NS];
    const only = options.testFilter ? new Set(options.testFilter) : null;
    ns.activeMutant = options.activeMutant.id;
    ns.hitLimit = options.hitLimit;
    ns.hitCount = options.hitLimit === undefined ? undefined : 0;
    const killedBy = [];
    let failureMessage;
    let nrOfTests = 0;
    try {
      try {
        await this.load();
      } catch (e) {
        // A static mutant that breaks a module's import is detected as surely as by a failing test.
        return { status: MutantRunStatus.Killed, killedBy: [], failureMessage: `the tests could not be imported: ${String(e?.stack ?? e).slice(0, 2000)}`, nrOfTests: 0 };
      }
      for (const t of this.tests) {
        if (only && !only.has(t.id)) continue;
        nrOfTests++;
        const r = await runOne(t);
        const limit = determineHitLimitReached(ns.hitCount, ns.hitLimit);
        if (limit) return { status: MutantRunStatus.Timeout, reason: limit.reason };
        if (r.status === TestStatus.Failed) {
          killedBy.push(t.id);
          failureMessage ??= r.failureMessage;
          if (!options.disableBail) break;
        }
      }
    } finally {
      ns.activeMutant = undefined;
      ns.hitLimit = undefined;
      ns.hitCount = undefined;
    }
    return killedBy.length ? { status: MutantRunStatus.Killed, killedBy, failureMessage, nrOfTests } : { status: MutantRunStatus.Survived, nrOfTests };
  }
}

async function runOne(t) {
  const t0 = performance.now();
  try {
    await t.fn({ name: t.name });
    return { id: t.id, name: t.name, status: TestStatus.Success, timeSpentMs: performance.now() - t0 };
  } catch (e) {
    return { id: t.id, name: t.name, status: TestStatus.Failed, failureMessage: String(e?.stack ?? e).slice(0, 2000), timeSpentMs: performance.now() - t0 };
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'node-test-in-process', InProcessNodeTestRunner)];
