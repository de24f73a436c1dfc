/**
 * `plan --snapshot FILE --compare` with the real CLI (dist/), issue 16: both planners on one saved
 * snapshot, side by side; nothing is sent or written. Also `planner: optimal` in the config makes
 * a plain `plan` (and the plan a tick makes) come from the exact planner, saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setupE2E } from './helpers/e2e.js';
import { ROOT, runCli } from './helpers/cli.js';
import type { SnapshotGuest } from '../src/generated/snapshot.js';
import { cluster, guest, node } from './helpers/engine.js';

/** pve1 at 82 % memory: the greedy planner moves three guests, two 7 GiB guests are enough. */
function skewed() {
  const gs: SnapshotGuest[] = [guest(100, 'pve1', 48, { tags: ['ignore'] })];
  for (let i = 0; i < 6; i++) gs.push(guest(110 + i, 'pve1', 3));
  gs.push(guest(120, 'pve1', 7), guest(121, 'pve1', 7), guest(200, 'pve2', 20), guest(300, 'pve3', 20));
  return cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), gs);
}

test('plan --snapshot FILE --compare: greedy and optimal side by side, the optimum proven; nothing sent or written', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const file = join(e.dir, 'skewed.json');
    writeFileSync(file, JSON.stringify(skewed()));
    const requests = e.fake.requests.total();
    const historyBefore = existsSync(e.historyPath) ? readFileSync(e.historyPath, 'utf8') : null;

    const r = await e.run(['plan', '--snapshot', file, '--compare', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const both = JSON.parse(r.stdout);
    assert.equal(both.greedy.planner.used, 'greedy');
    assert.equal(both.greedy.moves.length, 3);
    assert.equal(both.optimal.planner.used, 'optimal');
    assert.equal(both.optimal.planner.status, 'optimal');
    assert.deepEqual(both.optimal.moves.map((m: { vmid: number }) => m.vmid).sort(), [120, 121]);
    assert.deepEqual(both.optimal.summary.hot_nodes_after, []);

    const text = await e.run(['plan', '--snapshot', file, '--compare']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /greedy\s+optimal/);
    assert.match(text.stdout, /moves this run\s+3\s+2\n/);
    assert.match(text.stdout, /proof\s+-\s+proven optimal/);
    assert.match(text.stdout, /nodes over thresholds after\s+none\s+none/);
    assert.equal(e.fake.requests.total(), requests, 'no API request');
    assert.equal(existsSync(e.historyPath) ? readFileSync(e.historyPath, 'utf8') : null, historyBefore, 'nothing recorded');

    // The config's planner decides a plain replay, and the plan says which one decided.
    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    cfg.automated_migrations.planner = 'optimal';
    writeFileSync(e.configPath, JSON.stringify(cfg), { mode: 0o600 });
    const plain = await e.run(['plan', '--snapshot', file]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /Plan: 2 move\(s\)/);
    assert.match(plain.stdout, /Planner: optimal: proven optimal; 2 move\(s\) in the end state; solved in [\d.]+ s/);

    // A tick (dry run against the fake) plans with the configured exact planner too.
    const tick = await e.run(['run', '--dry-run', '--json']);
    assert.equal(tick.code, 0, tick.stderr);
    const tp = JSON.parse(tick.stdout).plan;
    assert.equal(tp.planner.requested, 'optimal');
    assert.ok(tp.planner.solve_seconds !== null, 'the solver ran in the tick');

    // A snapshot of the fake cluster (the real read path) compares too.
    const live = join(e.dir, 'live.json');
    assert.equal((await e.run(['snapshot', '--output', live])).code, 0);
    const demo = await e.run(['plan', '--snapshot', live, '--compare', '--json']);
    assert.equal(demo.code, 0, demo.stderr);
    assert.ok(['optimal', 'feasible'].includes(JSON.parse(demo.stdout).optimal.planner.status));

    cfg.automated_migrations.planner = 'fastest';
    writeFileSync(e.configPath, JSON.stringify(cfg), { mode: 0o600 });
    const bad = await e.run(['plan', '--snapshot', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /automated_migrations\.planner/);
  } finally {
    await e.cleanup();
  }
});

test('run --dry-run --compare: the tick plans as configured and shows both planners on its own snapshot; --compare without --dry-run is refused before any request', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const refused = await e.run(['run', '--compare']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--compare needs --dry-run/);
    assert.equal(e.fake.requests.total(), 0, 'no API request for a refused command line');
    assert.equal(e.records().length, 0, 'nothing recorded');

    const r = await e.run(['run', '--dry-run', '--compare', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.comparison, 'the comparison is in the JSON');
    const { greedy, optimal } = out.comparison;
    assert.equal(greedy.planner.used, 'greedy');
    assert.equal(optimal.planner.requested, 'optimal');
    // The configured planner (greedy, the default) decided the tick: its plan is the comparison's greedy one.
    assert.equal(out.plan.planner.requested, 'greedy');
    assert.deepEqual(out.plan.moves.map((m: { vmid: number; target: string }) => [m.vmid, m.target]), greedy.moves.map((m: { vmid: number; target: string }) => [m.vmid, m.target]));
    // Both on the snapshot the tick read: the same cluster before.
    assert.equal(optimal.summary.imbalance_before, out.plan.summary.imbalance_before);
    assert.deepEqual(optimal.summary.hot_nodes_before, out.plan.summary.hot_nodes_before);
    assert.equal(e.fake.requests.count(/\/migrate$/, 'POST'), 0, 'a dry run migrates nothing');

    const text = await e.run(['run', '--dry-run', '--compare']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /both planners \(--compare\)/);
    assert.match(text.stdout, /greedy\s+optimal/);
    assert.match(text.stdout, /moves this run\s+\d+\s+\d+\n/);
  } finally {
    await e.cleanup();
  }
});

test('a solver that does not answer by the end of the tick\'s solver time is stopped: the greedy planner decides the tick, and the plan says why', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { planner: 'auto', planner_time_limit_seconds: 2 });
  try {
    // The testing hook makes the solver thread hang 60 s before each solve; the tick does not wait for it.
    const r = await e.run(['run', '--dry-run', '--json'], { PROXBALANCE_SOLVER_HANG_MS: '60000' });
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout).plan;
    assert.equal(p.planner.requested, 'auto');
    assert.equal(p.planner.used, 'greedy');
    // The 2 s count from the start of the cluster read: loading HiGHS and building the model took some of them.
    const waited = Number(/no answer within ([\d.]+) s: the solver was stopped/.exec(p.planner.note)?.[1]);
    assert.ok(waited > 0 && waited <= 2, p.planner.note);
    assert.ok(p.planner.solve_seconds < 60, 'the solve was not waited for');
  } finally {
    await e.cleanup();
  }
});

test('a solver that cannot load within the tick\'s solver time does not stop the tick: greedy decides, and the log says why', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { planner: 'auto', planner_time_limit_seconds: 0.001 });
  try {
    const r = await e.run(['run', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout).plan;
    assert.deepEqual([p.planner.used, p.planner.note], ['greedy', 'the solver was not loaded for this plan, so the greedy planner decided']);
    assert.ok(p.moves.length > 0, 'the demo cluster still gets its moves');
    assert.match(r.stderr, /the exact planner's solver could not be loaded \(HiGHS was not loaded within this tick's solver time \(0\.001 s\)\); the greedy planner decides this tick/);
  } finally {
    await e.cleanup();
  }
});

test('the solver thread does not take the main thread\'s Node options (a CLI started with --input-type and --eval)', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { planner: 'auto', planner_time_limit_seconds: 5 });
  try {
    const main = pathToFileURL(join(ROOT, 'dist', 'src', 'cli', 'main.js')).href;
    const entry = ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv);`, 'proxbalance'];
    const r = await runCli(['run', '--dry-run', '--json', '--config', e.configPath], { entry, env: { PROXBALANCE_POLL_MS: '25' } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /could not be loaded|--input-type/);
    assert.equal(JSON.parse(r.stdout).plan.planner.requested, 'auto');
    assert.notEqual(JSON.parse(r.stdout).plan.planner.note, 'the solver was not loaded for this plan, so the greedy planner decided');
  } finally {
    await e.cleanup();
  }
});
