/**
 * Proxmox HA, end to end: the real CLI over HTTPS against the fake Proxmox, whose HA manager moves
 * guests back (failback), refuses moves next to a negative partner, drags positive partners along
 * and answers PVE 8 (groups, 501 for rules) or PVE 9 (rules). proxbalance must never fight it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupE2E, type E2E } from './helpers/e2e.js';
import type { Scenario } from './fake-pve/scenarios.js';
import type { HistoryRecord, MigrationRecord, RunRecord } from '../src/history/store.js';

const runs = (rs: HistoryRecord[]) => rs.filter((r): r is RunRecord => r.type === 'run');
const migrations = (rs: HistoryRecord[]) => rs.filter((r): r is MigrationRecord => r.type === 'migration');
const skipOf = (run: RunRecord, vmid: number) => run.decisions.find((d) => d.vmid === vmid && d.action === 'skip');

/**
 * pve1 is hot (81 % memory). On it: db (failback to pve1), app (strict to pve1/pve2, failback off),
 * cache-a (kept apart from cache-b, which is on pve3, the emptiest node), web + web-db (kept
 * together), and a plain VM. pve3 is what a balancer that ignores HA picks for everything.
 */
export function haScenario(over: Partial<Scenario> = {}): Scenario {
  return {
    cluster: 'ha', version: '9.1.1', crs: { ha: 'static', 'ha-auto-rebalance': 0 },
    nodes: [
      { name: 'pve1', maxcpu: 16, maxmem_gib: 64 },
      { name: 'pve2', maxcpu: 16, maxmem_gib: 64 },
      { name: 'pve3', maxcpu: 16, maxmem_gib: 64 },
    ],
    guests: [
      { vmid: 201, name: 'db', node: 'pve1', cpu: 0.6, maxcpu: 4, mem_gib: 14, maxmem_gib: 16, ha: true },
      { vmid: 202, name: 'app', node: 'pve1', cpu: 0.5, maxcpu: 4, mem_gib: 10, maxmem_gib: 12, ha: true, failback: false },
      { vmid: 203, name: 'cache-a', node: 'pve1', cpu: 0.4, maxcpu: 2, mem_gib: 7, maxmem_gib: 8, ha: true },
      { vmid: 205, name: 'web', node: 'pve1', cpu: 0.4, maxcpu: 2, mem_gib: 7, maxmem_gib: 8, ha: true },
      { vmid: 206, name: 'web-db', node: 'pve1', cpu: 0.4, maxcpu: 2, mem_gib: 7, maxmem_gib: 8, ha: true },
      { vmid: 207, name: 'plain', node: 'pve1', cpu: 0.3, maxcpu: 2, mem_gib: 5, maxmem_gib: 6 },
      { vmid: 210, name: 'big', node: 'pve2', cpu: 0.3, maxcpu: 4, mem_gib: 18, maxmem_gib: 20 },
      { vmid: 204, name: 'cache-b', node: 'pve3', cpu: 0.1, maxcpu: 1, mem_gib: 2, maxmem_gib: 2, ha: true },
      { vmid: 211, name: 'tools', node: 'pve3', cpu: 0.1, maxcpu: 1, mem_gib: 3, maxmem_gib: 4 },
    ],
    ha_rules: [
      { rule: 'db-pin', type: 'node-affinity', resources: ['vm:201'], nodes: { pve1: 2, pve2: 1 } },
      { rule: 'app-strict', type: 'node-affinity', resources: ['vm:202'], nodes: { pve1: 0, pve2: 0 }, strict: true },
      { rule: 'cache-apart', type: 'resource-affinity', resources: ['vm:203', 'vm:204'], affinity: 'negative' },
      { rule: 'web-together', type: 'resource-affinity', resources: ['vm:205', 'vm:206'], affinity: 'positive' },
    ],
    ...over,
  };
}

/** Requests of the tick before its first migrate-precondition check or POST: the snapshot's. */
function requestsBeforeMigrating(e: E2E, from: number): number {
  const log = e.fake.requests.log.slice(from);
  const i = log.findIndex((r) => /\/(qemu|lxc)\/\d+\/migrate$/.test(r.path));
  return i < 0 ? log.length : i;
}

/** Memory use of each node in percent (the fake's own figures). */
function memPercent(e: E2E): Record<string, number> {
  return Object.fromEntries(e.fake.state.nodes.map((n) => [n.name, (100 * n.mem) / n.maxmem]));
}

test('live ticks with HA running: nothing is moved back by HA, nothing refused, partners arrive within the caps, 7 + N requests', async () => {
  const e = await setupE2E({ scenario: haScenario() }, { rules: { cooldown_minutes: 0, max_migrations_per_run: 4 } });
  try {
    for (let tick = 0; tick < 3; tick++) {
      const from = e.fake.requests.log.length;
      const r = await e.run(['run']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(requestsBeforeMigrating(e, from) <= 7 + 3, `tick ${tick}: ${requestsBeforeMigrating(e, from)} requests before migrating`);
      // Let the HA manager finish everything it wants to do (its move-backs included).
      e.fake.state.finishAll();
      for (const [node, pct] of Object.entries(memPercent(e))) assert.ok(pct <= 90, `tick ${tick}: ${node} at ${pct.toFixed(0)} % memory, over the 90 % cap`);
    }
    const s = e.fake.state;
    assert.deepEqual(s.haMoveBacks, [], 'HA moved none of our moves back');
    assert.deepEqual(s.haRefusals, [], 'HA refused no request');
    assert.equal(s.guest(201)!.node, 'pve1', 'db stays on its preferred node');
    assert.notEqual(s.guest(202)!.node, 'pve3', 'app never leaves its strict nodes');
    assert.notEqual(s.guest(203)!.node, s.guest(204)!.node, 'cache-a and cache-b stay apart');
    assert.equal(s.guest(205)!.node, s.guest(206)!.node, 'web and web-db together');

    const first = runs(e.records())[0]!;
    assert.match(skipOf(first, 201)?.reason ?? '', /^HA rule 'db-pin' prefers pve1 \(failback on\)/, JSON.stringify(first.decisions));
    const ms = migrations(e.records());
    assert.ok(ms.every((m) => !(m.vmid === 203 && m.target === 'pve3')), 'cache-a never sent next to cache-b');
    assert.ok(ms.every((m) => !(m.vmid === 202 && m.target === 'pve3')), 'app never sent outside its strict rule');
  } finally {
    await e.cleanup();
  }
});

test('a positive group moves as one: the plan lists the partner, the budget counts it, the executor follows and records it', async () => {
  // Only web and web-db may move (the rest is tagged ignore): pve3 has room for both.
  const sc = haScenario();
  for (const g of sc.guests!) if (g.vmid !== 205 && g.vmid !== 206) g.tags = ['ignore'];
  const e = await setupE2E({ scenario: sc }, { rules: { max_migrations_per_run: 2 } });
  try {
    const dry = await e.run(['run', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout).plan;
    assert.equal(plan.moves.length, 1, JSON.stringify(plan.moves));
    const m = plan.moves[0];
    assert.deepEqual(m.companions.map((c: { vmid: number }) => c.vmid), [m.vmid === 205 ? 206 : 205]);
    assert.match(m.reason, /HA moves VM 20[56] along \(rule 'web-together', positive affinity\)/);
    assert.ok(m.score.target_mem_percent_after <= 90);

    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    const s = e.fake.state;
    assert.equal(s.haFollowers.length, 1, 'HA moved the partner along');
    const target = m.target as string;
    assert.equal(s.guest(205)!.node, target);
    assert.equal(s.guest(206)!.node, target);
    const live = migrations(e.records()).filter((x) => x.status !== 'dry-run');
    for (const vmid of [205, 206]) {
      const statuses = live.filter((x) => x.vmid === vmid).map((x) => x.status);
      assert.equal(statuses.at(-1), 'completed', `VM ${vmid}: ${statuses.join(', ')}`);
      assert.ok(live.filter((x) => x.vmid === vmid).some((x) => x.upid?.includes(':qmigrate:')), `VM ${vmid}: its real qmigrate task was followed`);
    }
    // The partner's migration opens with its start (no intent: we sent no request for it), marked by planned_at,
    // so that a read of the history's end knows it has the migration's first record.
    const partner = m.vmid === 205 ? 206 : 205;
    const first = live.find((x) => x.vmid === partner)!;
    assert.deepEqual([first.status, typeof first.planned_at], ['started', 'string']);
    assert.equal(live.find((x) => x.vmid === m.vmid)!.status, 'intent');
  } finally {
    await e.cleanup();
  }
});

test('a positive group never lands where only one of them fits (caps count every member)', async () => {
  // Memory cap 45 %: pve3 (11 %) takes one 8 GiB guest (→ 27 %)… and the pair too (→ 39 %); pve2
  // (31 %) takes one (→ 44 %) but not both (→ 56 %). pve3 is made fuller so only one fits anywhere.
  const sc = haScenario();
  for (const g of sc.guests!) if (g.vmid !== 205 && g.vmid !== 206) g.tags = ['ignore'];
  sc.guests!.find((g) => g.vmid === 211)!.mem_gib = 17;
  sc.guests!.find((g) => g.vmid === 211)!.maxmem_gib = 18;
  const e = await setupE2E({ scenario: sc }, { rules: { cooldown_minutes: 0 }, safety_checks: { max_node_memory_percent: 45 } });
  try {
    for (let tick = 0; tick < 2; tick++) {
      const r = await e.run(['run']);
      assert.equal(r.code, 0, r.stderr);
      e.fake.state.finishAll();
      for (const [node, pct] of Object.entries(memPercent(e))) if (node !== 'pve1') assert.ok(pct <= 45, `${node} at ${pct.toFixed(0)} % memory: a positive partner came along over the 45 % cap`);
    }
    assert.equal(e.fake.state.guest(205)!.node, 'pve1');
    const run = runs(e.records())[0]!;
    assert.ok(skipOf(run, 205) || skipOf(run, 206) || run.notes?.some((n) => /no move qualifies/.test(n)), JSON.stringify(run));
  } finally {
    await e.cleanup();
  }
});

test('a recovering cluster is not balanced: the health gate names the guest HA is fencing, the tick records it, no migration', async () => {
  const sc = haScenario();
  sc.guests!.find((g) => g.vmid === 204)!.hastate = 'fence';
  const e = await setupE2E({ scenario: sc });
  try {
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    const run = runs(e.records()).at(-1)!;
    assert.equal(run.outcome, 'skipped');
    assert.equal(run.reason, 'Cluster health check failed: HA is recovering VM 204 (fence)');
    assert.equal(e.fake.requests.log.filter((x) => x.method === 'POST').length, 0, 'no migration');
  } finally {
    await e.cleanup();
  }
});

test('PVE 8: HA groups place the guests (restricted, nofailback); /cluster/ha/rules is never asked for when a resource names a group', async () => {
  const sc = haScenario({ version: '8.4.1', ha_rules: [], ha_groups: [{ group: 'db', nodes: { pve1: 2, pve2: 1 } }, { group: 'app', nodes: { pve1: 0, pve2: 0 }, restricted: true, nofailback: true }] });
  sc.guests!.find((g) => g.vmid === 201)!.ha_group = 'db';
  sc.guests!.find((g) => g.vmid === 202)!.ha_group = 'app';
  const e = await setupE2E({ scenario: sc }, { rules: { cooldown_minutes: 0 } });
  try {
    for (let tick = 0; tick < 2; tick++) {
      const r = await e.run(['run']);
      assert.equal(r.code, 0, r.stderr);
      e.fake.state.finishAll();
    }
    assert.equal(e.fake.requests.count('GET /cluster/ha/rules'), 0, 'no wasted request for rules on PVE 8');
    // Once per snapshot: the tick's, and the fresh look before each migrate request.
    assert.ok(e.fake.requests.count('GET /cluster/ha/groups') >= 2);
    assert.deepEqual(e.fake.state.haMoveBacks, []);
    assert.equal(e.fake.state.guest(201)!.node, 'pve1');
    assert.notEqual(e.fake.state.guest(202)!.node, 'pve3');
    assert.match(skipOf(runs(e.records())[0]!, 201)?.reason ?? '', /^HA group 'db' prefers pve1 \(failback on\)/);
  } finally {
    await e.cleanup();
  }
});

test('PVE 8 without groups: the one rules request answers 501 and nothing places the HA guests', async () => {
  const sc = haScenario({ version: '8.4.1', ha_rules: [] });
  const e = await setupE2E({ scenario: sc }, { dry_run: true });
  try {
    const r = await e.run(['run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(e.fake.requests.count('GET /cluster/ha/rules'), 1);
    assert.equal(e.fake.requests.log.find((x) => x.endpoint === 'GET /cluster/ha/rules')!.status, 501);
    assert.doesNotMatch(r.stderr, /could not learn: HA/);
    assert.ok(out.plan.moves.length > 0);
  } finally {
    await e.cleanup();
  }
});

test('a failed HA read fails closed: no HA guest is moved, the log says which read failed; a saved snapshot replays the same', async () => {
  const e = await setupE2E({ scenario: haScenario() });
  try {
    e.fake.inject({ kind: 'status', path: '/cluster/ha/rules', status: 500, message: 'ha config locked' });
    const r = await e.run(['run', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /could not learn: HA placement \(GET \/cluster\/ha\/rules\).*ha config locked.*HA-managed guests are not moved/);
    const out = JSON.parse(r.stdout);
    assert.ok(out.plan.moves.every((m: { vmid: number }) => ![201, 202, 203, 204, 205, 206].includes(m.vmid)), JSON.stringify(out.plan.moves));
    assert.equal(out.plan.skipped.find((x: { vmid: number }) => x.vmid === 201)?.reason, 'HA placement unknown');
    // `proxbalance snapshot` still writes what it could read; a replay of it moves no HA guest.
    const file = join(e.dir, 'partial.json');
    const s = await e.run(['snapshot', '--output', file]);
    assert.equal(s.code, 0, s.stderr);
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(snap.ha.complete, false);
    assert.ok(snap.unknowns.some((u: string) => /HA placement \(GET \/cluster\/ha\/rules\).*ha config locked.*HA-managed guests are not moved/.test(u)), snap.unknowns.join('\n'));
    const plan = JSON.parse((await e.run(['plan', '--snapshot', file, '--json'])).stdout);
    const haVmids = new Set([201, 202, 203, 204, 205, 206]);
    assert.ok(plan.moves.every((m: { vmid: number }) => !haVmids.has(m.vmid)), JSON.stringify(plan.moves));
    assert.equal(plan.skipped.find((x: { vmid: number }) => x.vmid === 201)?.reason, 'HA placement unknown');
  } finally {
    await e.cleanup();
  }
});

test('plan --snapshot replays the HA rules offline', async () => {
  const e = await setupE2E({ scenario: haScenario() });
  try {
    const file = join(e.dir, 'snap.json');
    const s = await e.run(['snapshot', '--output', file]);
    assert.equal(s.code, 0, s.stderr);
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(snap.ha.source, 'rules');
    assert.equal(snap.ha.rules.length, 4);
    const before = e.fake.requests.total();
    const p = await e.run(['plan', '--snapshot', file, '--json']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(e.fake.requests.total(), before, 'offline');
    const plan = JSON.parse(p.stdout);
    assert.match(plan.skipped.find((x: { vmid: number }) => x.vmid === 201).reason, /^HA rule 'db-pin' prefers pve1 \(failback on\)/);
    assert.ok(plan.moves.every((m: { vmid: number; target: string }) => !(m.vmid === 203 && m.target === 'pve3')));
    // The same snapshot with the rules removed plans db away: the rules are what keeps it.
    delete snap.ha;
    writeFileSync(file, JSON.stringify(snap));
    const p2 = JSON.parse((await e.run(['plan', '--snapshot', file, '--json'])).stdout);
    assert.ok(!p2.skipped.some((x: { reason: string }) => x.reason.startsWith('HA rule')));
  } finally {
    await e.cleanup();
  }
});

test('doctor says per HA rule what proxbalance may do with its guests', async () => {
  const e = await setupE2E({ scenario: haScenario() });
  try {
    const r = await e.run(['doctor', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const checks = JSON.parse(r.stdout).checks as Array<{ name: string; status: string; message: string }>;
    const msg = (name: string) => checks.find((c) => c.name === name)?.message;
    assert.equal(msg('ha'), '6 HA guest(s), 4 HA rules; proxbalance only moves them where HA leaves them');
    assert.equal(msg('ha db-pin'), "rule 'db-pin': prefers pve1 (then pve2) (failback on) — its guest is never moved");
    assert.equal(msg('ha app-strict'), "rule 'app-strict': strict to pve1, pve2 (failback off) — 1 of 1 guest(s) may move, only between pve1, pve2");
    assert.equal(msg('ha cache-apart'), "rule 'cache-apart': negative affinity — its 2 guests never share a node, and none goes where another runs");
    assert.equal(msg('ha web-together'), "rule 'web-together': positive affinity — its 2 guests move together, each target must hold all of them");
    e.fake.state.guest(204)!.hastate = 'recovery';
    const rec = JSON.parse((await e.run(['doctor', '--json'])).stdout).checks as Array<{ name: string; status: string; message: string }>;
    assert.ok(rec.some((c) => c.name === 'ha' && c.status === 'warn' && c.message === 'HA is recovering VM 204 (recovery): no tick migrates until HA is done'), JSON.stringify(rec));
  } finally {
    await e.cleanup();
  }
});

test('the fake HA manager behaves like Proxmox: failback move-back, negative refusal, positive followers, strict rules', async () => {
  const { loadScenario } = await import('./fake-pve/scenarios.js');
  const s = loadScenario(haScenario(), { msPerSecond: 1 });
  // Failback: db moved off pve1 comes straight back once the migration ends.
  const upid = s.startMigration('qemu', 'pve1', 201, { target: 'pve3', online: '1' }, 'root@pam');
  assert.match(upid, /:hamigrate:201:/);
  s.finishAll();
  assert.equal(s.guest(201)!.node, 'pve1');
  assert.deepEqual(s.haMoveBacks.map((m) => [m.vmid, m.from, m.to, m.why]), [[201, 'pve3', 'pve1', 'failback']]);
  // Strict rule, failback off: outside the allowed nodes HA moves it back in; inside it stays.
  s.startMigration('qemu', 'pve1', 202, { target: 'pve3', online: '1' }, 'root@pam');
  s.finishAll();
  assert.notEqual(s.guest(202)!.node, 'pve3');
  s.haMoveBacks.length = 0;
  s.startMigration('qemu', s.guest(202)!.node, 202, { target: s.guest(202)!.node === 'pve1' ? 'pve2' : 'pve1', online: '1' }, 'root@pam');
  s.finishAll();
  assert.deepEqual(s.haMoveBacks, []);
  // Negative: the request is refused, the hamigrate task fails with the real message, nothing moves.
  const refused = s.startMigration('qemu', 'pve1', 203, { target: 'pve3', online: '1' }, 'root@pam');
  s.finishAll();
  const t = s.tasks.find((x) => x.upid === refused)!;
  assert.equal(t.exitstatus, "command 'ha-manager migrate vm:203 pve3' failed: exit code 255");
  assert.ok(s.taskLines(t).some((l) => l.includes("in negative affinity with service 'vm:204'")));
  assert.equal(s.guest(203)!.node, 'pve1');
  // Positive: asking for web moves web-db along.
  s.startMigration('qemu', 'pve1', 205, { target: 'pve2', online: '1' }, 'root@pam');
  s.finishAll();
  assert.equal(s.guest(205)!.node, 'pve2');
  assert.equal(s.guest(206)!.node, 'pve2');
  assert.ok(s.tasks.some((x) => x.type === 'qmigrate' && x.id === '206' && x.user === 'root@pam' && x.node === 'pve1'));
});
