/**
 * The exact planner over repeated live ticks of the real CLI against the fake Proxmox VE (issue 16,
 * "Done when"): from the skewed starts of the table, ticks run until one plans no move.
 * The cluster must end with every node under its thresholds, with at most 1.1 × the proven
 * minimum number of moves (the first tick's proven optimal end state), and no node that received a
 * guest may be above a cap after any tick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setupE2E } from './helpers/e2e.js';
import { skewedCluster } from './helpers/generate.js';
import { FakeState } from './fake-pve/state.js';

const CAP_MEM = 90;
const CAP_CPU = 85;

for (const [nodes, guests, memPct] of [[3, 30, 85], [5, 60, 91], [10, 300, 92]] as const) {
  test(`exact planner, live ticks from a skewed ${nodes}/${guests} start (pve1 at ${memPct} % memory): all under thresholds, ≤ 1.1 × the proven minimum, no cap crossed`, async (t) => {
    const { base } = skewedCluster(nodes, guests, memPct);
    // A generous solver limit: this test is about the moves, not the machine's speed (the time
    // limit's fallback to greedy is tested in planner-optimal.test.ts).
    const e = await setupE2E({ state: FakeState.fromSnapshot(base, { msPerSecond: 2 }) }, { planner: 'optimal', planner_time_limit_seconds: 30, rules: { max_migrations_per_run: 3, max_concurrent_migrations: 3 } });
    try {
      let optimum: number | null = null;
      let moved = 0;
      let last: { moves: unknown[]; summary: { hot_nodes_before: string[]; hot_nodes_after: string[] } } | null = null;
      for (let tick = 0; tick < 14; tick++) {
        const r = await e.run(['run', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        last = out.plan;
        if (tick === 0) {
          assert.equal(out.plan.planner.used, 'optimal', `the exact planner decided the first tick: ${JSON.stringify(out.plan.planner)}`);
          assert.equal(out.plan.planner.status, 'optimal', 'its end state is proven optimal');
          assert.ok(out.plan.summary.hot_nodes_before.length > 0, 'the start is skewed: a node over its thresholds');
          optimum = out.plan.planner.end_state_moves;
        }
        const done = out.results.filter((x: { status: string }) => x.status === 'completed');
        assert.equal(done.length, out.plan.moves.length, `tick ${tick}: every planned move completed: ${JSON.stringify(out.results)}`);
        moved += done.length;
        // The fake's own figures after the tick: every node that received a guest is within the caps.
        const targets = new Set(out.plan.moves.map((m: { target: string }) => m.target));
        for (const n of e.fake.state.nodes.filter((x) => targets.has(x.name))) {
          assert.ok((100 * n.mem) / n.maxmem <= CAP_MEM, `tick ${tick}: ${n.name} at ${((100 * n.mem) / n.maxmem).toFixed(1)} % memory, over the ${CAP_MEM} % cap`);
          assert.ok(100 * n.cpu <= CAP_CPU, `tick ${tick}: ${n.name} at ${(100 * n.cpu).toFixed(1)} % CPU, over the ${CAP_CPU} % cap`);
        }
        if (!out.plan.moves.length) break;
      }
      assert.ok(last && last.moves.length === 0, 'the ticks came to rest');
      assert.deepEqual(last!.summary.hot_nodes_before, [], 'every node under its thresholds at the end');
      t.diagnostic(`${nodes}/${guests}: ${moved} moves, proven minimum ${optimum}`);
      assert.ok(optimum !== null && optimum > 0);
      assert.ok(moved <= Math.floor(1.1 * optimum!), `${moved} moves against a proven minimum of ${optimum}`);
      assert.equal(e.fake.requests.count(/\/migrate$/, 'POST'), moved, 'one POST per move');
    } finally {
      await e.cleanup();
    }
  });
}
