/**
 * Properties of the exact planner (issue 16) on random small clusters with exclude tags and HA
 * rules: replaying its moves in order on the engine's simulator, no prefix takes a target over a
 * cap, lands an exclude-group member beside another, or breaks an HA rule; and the rules that hold
 * a guest (ignore tag, locks) hold it. Runs the real HiGHS solver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makePlanner, plan } from '../src/engine/index.js';
import { loadHighs } from '../src/solver/highs.js';
import type { SnapshotHaRule } from '../src/generated/snapshot.js';
import { config, NO_HISTORY, NOW } from './helpers/engine.js';
import { generateSnapshot, recomputeNodes } from './helpers/generate.js';

const solver = await loadHighs();
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 25), seed: 20261130 };

const caseArb = fc
  .record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    nodes: fc.integer({ min: 3, max: 5 }),
    guests: fc.integer({ min: 8, max: 30 }),
    hotShare: fc.double({ min: 0.2, max: 0.8, noNaN: true }),
    perRun: fc.integer({ min: 1, max: 8 }),
    capMem: fc.integer({ min: 75, max: 95 }),
    ha: fc.integer({ min: 0, max: 3 }),
    lock: fc.integer({ min: 0, max: 29 }),
  })
  .map((o) => {
    const snap = generateSnapshot({ nodes: o.nodes, guests: o.guests, seed: o.seed, hotShare: o.hotShare, tagShare: 0.4 });
    for (const g of snap.guests) g.cpu = Math.min(1, g.cpu * 0.5);
    const locked = snap.guests[o.lock % snap.guests.length]!;
    locked.lock = 'backup';
    recomputeNodes(snap);
    // HA: the first running guests on the hot node, two of them never together, one pinned strictly.
    const ha = snap.guests.filter((g) => g.status === 'running' && g.node === 'pve1' && g !== locked).slice(0, o.ha + 1);
    const rules: SnapshotHaRule[] = [];
    if (ha.length >= 2) rules.push({ rule: 'apart', type: 'resource-affinity', resources: [`vm:${ha[0]!.vmid}`, `vm:${ha[1]!.vmid}`], affinity: 'negative', disabled: false });
    if (ha.length >= 3) rules.push({ rule: 'pin', type: 'node-affinity', resources: [`vm:${ha[2]!.vmid}`], nodes: { pve1: 1, pve2: 1 }, strict: true, disabled: false });
    for (const g of ha) g.hastate = 'started';
    snap.ha = { source: 'rules', complete: true, status_known: true, services: [], resources: ha.map((g) => ({ sid: `vm:${g.vmid}`, vmid: g.vmid, state: 'started', failback: false, group: null })), rules };
    const cfg = config({
      automated_migrations: {
        planner: 'optimal',
        planner_time_limit_seconds: 5,
        rules: { max_migrations_per_run: o.perRun, respect_exclude_tags: true, respect_ignore_tags: true, min_confidence_score: 0 },
        safety_checks: { max_node_memory_percent: o.capMem },
      },
    } as never);
    return { snap, cfg, locked: locked.vmid };
  });

test('property: every prefix of an optimal plan stays within the caps, exclude groups and HA rules; held guests stay', () => {
  fc.assert(
    fc.property(caseArb, ({ snap, cfg, locked }) => {
      const p = plan(snap, cfg, NO_HISTORY, NOW, solver);
      assert.equal(p.planner.requested, 'optimal');
      const { sim, planner } = makePlanner(snap, cfg, NO_HISTORY, NOW);
      const byVmid = new Map(sim.guests.map((g) => [g.vmid, g]));
      for (const [k, m] of p.moves.entries()) {
        const g = byVmid.get(m.vmid)!;
        assert.notEqual(m.vmid, locked, 'a locked guest never moves');
        assert.ok(!g.g.tags.includes('ignore'), `VM ${m.vmid} has the ignore tag`);
        const along = (m.companions ?? []).map((c) => byVmid.get(c.vmid)!);
        const t = sim.byName.get(m.target)!;
        const ev = sim.evaluate(sim.arrival([g, ...along]), t);
        assert.ok(ev.capOk, `move ${k + 1} (VM ${m.vmid} → ${m.target}) takes it to ${ev.worstMemPct.toFixed(1)} % memory, ${ev.worstCpuPct.toFixed(1)} % CPU`);
        if (m.kind !== 'evacuation') assert.equal(sim.conflict(g, t), null, `move ${k + 1}: VM ${m.vmid} joins another member of its exclude group on ${m.target}`);
        assert.equal(planner.rc.ha.block(m.vmid, m.target, planner.where), null, `move ${k + 1}: HA refuses VM ${m.vmid} on ${m.target}`);
        for (const x of [g, ...along]) sim.apply(x, t);
      }
      assert.ok(p.moves.length <= cfg.automated_migrations.rules.max_migrations_per_run);
    }),
    RUNS,
  );
});

