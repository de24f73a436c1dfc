import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plan, type Plan } from '../src/engine/index.js';
import type { Config } from '../src/config/validate.js';
import type { ClusterSnapshot } from '../src/generated/snapshot.js';
import { generateSnapshot, recomputeNodes } from './helpers/generate.js';
import { applyPlan, config, history, migrated, NO_HISTORY, NOW } from './helpers/engine.js';

interface Case {
  snap: ClusterSnapshot;
  cfg: Config;
}

const caseArb = fc
  .record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    nodes: fc.integer({ min: 2, max: 8 }),
    guests: fc.integer({ min: 3, max: 150 }),
    hotShare: fc.double({ min: 0, max: 0.8, noNaN: true }),
    tagShare: fc.double({ min: 0, max: 0.5, noNaN: true }),
    maintenance: fc.option(fc.integer({ min: 0, max: 7 })),
    haMaintenance: fc.option(fc.integer({ min: 0, max: 7 })),
    offline: fc.option(fc.integer({ min: 0, max: 7 })),
    incomplete: fc.option(fc.integer({ min: 0, max: 7 })),
    perRun: fc.integer({ min: 0, max: 12 }),
    capMem: fc.integer({ min: 60, max: 98 }),
    capCpu: fc.integer({ min: 60, max: 98 }),
    minConf: fc.integer({ min: 0, max: 95 }),
    respectIgnore: fc.boolean(),
    respectExclude: fc.boolean(),
    whitelist: fc.boolean(),
    distribution: fc.boolean(),
    // The hour's averages lag behind what nodes use now, in both directions (every other node).
    lag: fc.option(fc.array(fc.double({ min: 0.25, max: 4, noNaN: true }), { minLength: 8, maxLength: 8 }), { freq: 4 }),
    /** Busier guests, so that CPU (not only memory) meets the caps. */
    cpuScale: fc.double({ min: 1, max: 4, noNaN: true }),
  })
  .map((o): Case => {
    const snap = generateSnapshot({ nodes: o.nodes, guests: o.guests, seed: o.seed, hotShare: o.hotShare, tagShare: o.tagShare });
    for (const g of snap.guests) g.cpu = Math.min(1, g.cpu * o.cpuScale);
    recomputeNodes(snap);
    if (o.lag !== null) {
      snap.nodes.forEach((n, i) => {
        const f = o.lag![i]!;
        if (n.avg) n.avg = { ...n.avg, cpu: Math.min(1, n.cpu * f), mem: Math.min(n.maxmem, n.mem * f) };
      });
    }
    const pick = (i: number | null) => (i === null ? null : snap.nodes[i % snap.nodes.length]!);
    const off = pick(o.offline);
    if (off) Object.assign(off, { status: 'offline', complete: false, avg: null, cpu: 0, mem: 0 });
    const inc = pick(o.incomplete);
    if (inc) Object.assign(inc, { complete: false, avg: null });
    const ham = pick(o.haMaintenance);
    if (ham) ham.ha_state = 'maintenance';
    const maint = pick(o.maintenance);
    const cfg = config({
      automated_migrations: {
        maintenance_nodes: maint ? [maint.name] : [],
        rules: {
          max_migrations_per_run: o.perRun,
          min_confidence_score: o.minConf,
          respect_ignore_tags: o.respectIgnore,
          respect_exclude_tags: o.respectExclude,
          require_auto_migrate_ok_tag: o.whitelist,
        },
        safety_checks: { max_node_memory_percent: o.capMem, max_node_cpu_percent: o.capCpu },
      },
      distribution_balancing: { enabled: o.distribution },
    });
    return { snap, cfg };
  });

const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 150), seed: 20261125 };

function isMaintenance(c: Case, name: string): boolean {
  const n = c.snap.nodes.find((x) => x.name === name)!;
  return n.ha_state === 'maintenance' || c.cfg.automated_migrations.maintenance_nodes.includes(name);
}

test('property: moves only go to online, fully read, non-maintenance nodes, never to their source', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const p = plan(c.snap, c.cfg, NO_HISTORY, NOW);
      for (const m of p.moves) {
        const t = c.snap.nodes.find((n) => n.name === m.target)!;
        assert.equal(t.status, 'online');
        assert.equal(t.complete, true);
        assert.ok(!isMaintenance(c, t.name), `target ${t.name} in maintenance`);
        assert.notEqual(m.source, m.target);
        const src = c.snap.nodes.find((n) => n.name === m.source)!;
        assert.equal(src.status, 'online', 'no guest leaves an offline node');
      }
    }),
    RUNS,
  );
});

test('property: after all moves no target is over a cap (worst of now and the hour average; memory counted with full configured memory)', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const p = plan(c.snap, c.cfg, NO_HISTORY, NOW);
      const worst = new Map<string, number>();
      const cores = new Map<string, number>();
      // The worst case of what a node uses now and its hour's average.
      for (const n of c.snap.nodes) {
        worst.set(n.name, Math.max(n.mem, n.avg ? n.avg.mem : 0));
        cores.set(n.name, Math.max(n.cpu, n.avg ? n.avg.cpu : 0) * n.maxcpu);
      }
      for (const m of p.moves) {
        const g = c.snap.guests.find((x) => x.vmid === m.vmid)!;
        const running = g.status === 'running' || g.status === 'paused';
        worst.set(m.source, worst.get(m.source)! - (running ? g.mem : 0));
        worst.set(m.target, worst.get(m.target)! + (running ? Math.max(g.maxmem, g.mem) : 0));
        cores.set(m.source, cores.get(m.source)! - (running ? g.cpu * g.maxcpu : 0));
        cores.set(m.target, cores.get(m.target)! + (running ? g.cpu * g.maxcpu : 0));
      }
      const sc = c.cfg.automated_migrations.safety_checks;
      for (const t of new Set(p.moves.map((m) => m.target))) {
        const n = c.snap.nodes.find((x) => x.name === t)!;
        assert.ok((worst.get(t)! / n.maxmem) * 100 <= sc.max_node_memory_percent + 1e-6, `${t} memory over cap`);
        assert.ok((cores.get(t)! / n.maxcpu) * 100 <= sc.max_node_cpu_percent + 1e-6, `${t} CPU over cap`);
      }
    }),
    RUNS,
  );
});

test('property: never more moves than max_migrations_per_run; each guest moves at most once and is never also skipped', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const p = plan(c.snap, c.cfg, NO_HISTORY, NOW);
      assert.ok(p.moves.length <= c.cfg.automated_migrations.rules.max_migrations_per_run);
      const ids = p.moves.map((m) => m.vmid);
      assert.equal(new Set(ids).size, ids.length);
      for (const s of p.skipped) assert.ok(!ids.includes(s.vmid));
      assert.equal(new Set(p.skipped.map((s) => s.vmid)).size, p.skipped.length);
      // The simulation never drives a node below zero (saturated sources, averages vs current figures).
      for (const n of p.summary.nodes_after) assert.ok(n.cpu_percent >= 0 && n.mem_percent >= 0, `${n.name} ${n.cpu_percent} ${n.mem_percent}`);
    }),
    RUNS,
  );
});

test('property: ignore, whitelist and exclude tags are respected outside maintenance', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const p = plan(c.snap, c.cfg, NO_HISTORY, NOW);
      const rules = c.cfg.automated_migrations.rules;
      const after = applyPlan(c.snap, p);
      for (const m of p.moves) {
        if (m.kind === 'evacuation') {
          assert.ok(isMaintenance(c, m.source));
          continue;
        }
        const g = c.snap.guests.find((x) => x.vmid === m.vmid)!;
        if (rules.respect_ignore_tags) assert.ok(!g.tags.includes('ignore'), `ignored guest ${g.vmid} moved`);
        if (rules.require_auto_migrate_ok_tag) assert.ok(g.tags.includes('auto-migrate-ok'));
        if (rules.respect_exclude_tags) {
          for (const grp of g.tags.filter((t) => t.startsWith('exclude_'))) {
            const clash = after.guests.find((o) => o.vmid !== g.vmid && o.node === m.target && o.tags.includes(grp));
            assert.equal(clash, undefined, `${g.vmid} joins ${clash?.vmid} (${grp}) on ${m.target}`);
          }
        }
      }
    }),
    RUNS,
  );
});

test('property: same input → same plan, whatever the order of guests in the snapshot', () => {
  fc.assert(
    fc.property(caseArb, fc.integer(), (c, salt) => {
      const a = plan(c.snap, c.cfg, NO_HISTORY, NOW);
      const shuffled = structuredClone(c.snap);
      shuffled.guests.sort((x, y) => ((x.vmid * 2654435761) ^ salt) % 1000 - (((y.vmid * 2654435761) ^ salt) % 1000) || x.vmid - y.vmid);
      const b = plan(shuffled, c.cfg, NO_HISTORY, NOW);
      assert.deepEqual(b, a);
      assert.deepEqual(plan(c.snap, c.cfg, NO_HISTORY, NOW), a);
    }),
    { ...RUNS, numRuns: 60 },
  );
});

test('property: applying the plan and planning again proposes no move back', () => {
  fc.assert(
    fc.property(caseArb, fc.boolean(), (c, coolOff) => {
      const cfg: Config = structuredClone(c.cfg);
      if (coolOff) cfg.automated_migrations.rules.cooldown_minutes = 0;
      const p: Plan = plan(c.snap, cfg, NO_HISTORY, NOW);
      const next = applyPlan(c.snap, p);
      const hist = history(p.moves.map((m) => migrated(m.vmid, m.source, m.target, 0)));
      const q = plan(next, cfg, hist, NOW + 5 * 60_000);
      for (const m of q.moves) {
        const back = p.moves.find((x) => x.vmid === m.vmid && x.source === m.target);
        assert.equal(back, undefined, `vm ${m.vmid} sent back to ${m.target}`);
      }
    }),
    RUNS,
  );
});

test('property: over many ticks with drifting load, no guest is ever sent back to a node it left within 24 h', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 3, max: 6 }), fc.integer({ min: 0, max: 60 }), (seed, nodes, cooldown) => {
      const snap = generateSnapshot({ nodes, guests: nodes * 25, seed, hotShare: 0.3 });
      for (const g of snap.guests) g.cpu *= 0.3;
      recomputeNodes(snap);
      const cfg = config({ automated_migrations: { rules: { cooldown_minutes: cooldown, max_migrations_per_run: 5 } }, distribution_balancing: { enabled: seed % 2 === 0 } });
      let state = snap;
      const hist: ReturnType<typeof migrated>[] = [];
      let x = seed;
      const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
      for (let tick = 0; tick < 40; tick++) {
        const now = NOW + tick * 15 * 60_000;
        for (const g of state.guests) if (g.status === 'running') g.cpu = Math.min(1, Math.max(0.001, g.cpu * (0.7 + rnd() * 0.6)));
        const p = plan(state, cfg, history(hist.map((h) => ({ ...h }))), now);
        for (const m of p.moves) {
          const left = hist.filter((h) => h.vmid === m.vmid && h.source === m.target && now - Date.parse(h.finished_at!) < 24 * 3600_000);
          assert.equal(left.length, 0, `tick ${tick}: vm ${m.vmid} back to ${m.target}`);
          hist.push({ vmid: m.vmid, source: m.source, target: m.target, status: 'completed', started_at: new Date(now).toISOString(), finished_at: new Date(now + 60_000).toISOString() });
        }
        state = applyPlan(state, p);
      }
    }),
    { numRuns: Math.max(2, Math.round(RUNS.numRuns / 6)), seed: 42 },
  );
});

test('property: the simulator\'s running sums agree with a fresh computation after any sequence of moves', async () => {
  const { Sim } = await import('../src/engine/state.js');
  const { nodeLoad, overload, imbalanceFrom } = await import('../src/engine/score.js');
  fc.assert(
    fc.property(caseArb, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 30 }), (c, picks) => {
      const th = { cpu: 60, mem: 70, iowait: 30 };
      const sim = new Sim(c.snap, th, { mem: 90, cpu: 85 }, new Set(c.cfg.automated_migrations.maintenance_nodes), true);
      const targets = sim.nodes.filter((n) => n.balanced);
      if (!targets.length || !sim.guests.length) return;
      for (const [gi, ti] of picks) {
        const sg = sim.guests[gi % sim.guests.length]!;
        const t = targets[ti % targets.length]!;
        if (sg.moved || sg.node === t.idx) continue;
        const predicted = sim.evaluate(sim.arrival([sg]), t).imbalanceAfter;
        sim.apply(sg, t);
        assert.ok(Math.abs(predicted - sim.imbalance()) < 1e-6, `${predicted} vs ${sim.imbalance()}`);
      }
      const loads = targets.map((n) => nodeLoad(sim.cpuPct(n), sim.memPct(n)));
      const sum = loads.reduce((a, b) => a + b, 0);
      const sq = loads.reduce((a, b) => a + b * b, 0);
      const pen = targets.reduce((a, n) => a + overload(sim.cpuPct(n), sim.memPct(n), th), 0);
      assert.ok(Math.abs(imbalanceFrom(targets.length, sum, sq, pen) - sim.imbalance()) < 1e-6);
      for (const n of sim.nodes) assert.ok(n.cpuCores > -1e-6 && n.mem > -1e-3, `${n.name} below zero`);
    }),
    RUNS,
  );
});
