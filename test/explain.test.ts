import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupE2E, type E2E } from './helpers/e2e.js';
import type { Explanation } from '../src/cli/explain.js';
import type { Plan } from '../src/engine/types.js';

/**
 * `proxbalance explain VMID`: for every guest of the demo cluster, moved, skipped or never
 * considered, the rules, the footprint and every node as a target with a reason; the verdict is
 * the plan's own (same snapshot, config and history).
 */
let e: E2E;
let snap = '';
let vmids: number[] = [];

before(async () => {
  e = await setupE2E({ scenario: 'demo' });
  snap = join(e.dir, 'snap.json');
  const r = await e.run(['snapshot', '--output', snap]);
  assert.equal(r.code, 0, r.stderr);
  vmids = (JSON.parse(readFileSync(snap, 'utf8')) as { guests: { vmid: number }[] }).guests.map((g) => g.vmid);
});
after(async () => e?.cleanup());

test('explain answers for every guest of the demo cluster, and agrees with the plan', async () => {
  assert.equal(vmids.length, 14);
  const r = await e.run(['explain', ...vmids.map(String), '--snapshot', snap, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const all = JSON.parse(r.stdout) as Explanation[];
  assert.deepEqual(all.map((x) => x.vmid), vmids);
  const planned = await e.run(['plan', '--snapshot', snap, '--json']);
  const plan = JSON.parse(planned.stdout) as Plan;
  const outcomes = new Set<string>();
  for (const x of all) {
    outcomes.add(x.verdict.outcome);
    assert.ok(x.verdict.reason.length > 3, `${x.vmid}: no reason`);
    assert.equal(x.targets.length, 3, `${x.vmid}: every node is listed`);
    assert.equal(x.targets.filter((t) => t.role === 'current node').length, 1);
    for (const t of x.targets) {
      for (const k of ['cpu_percent_after', 'mem_percent_after', 'worst_mem_percent_after', 'imbalance_after', 'imbalance_change'] as const) assert.ok(Number.isFinite(t[k]), `${x.vmid} → ${t.node}: ${k}`);
      assert.ok(t.why.length > 3, `${x.vmid} → ${t.node}: no why`);
      if (t.role !== 'current node') assert.ok(typeof t.confidence === 'number');
    }
    for (const rule of ['template', "'ignore' tag", 'cooldown', 'rollback', 'local resources', 'HA', "whitelist ('auto-migrate-ok' tag)"]) {
      assert.ok(x.rules.some((l) => l.rule === rule), `${x.vmid}: rule ${rule} missing`);
    }
    const move = plan.moves.find((m) => m.vmid === x.vmid);
    const skip = plan.skipped.find((s) => s.vmid === x.vmid);
    if (move) {
      assert.equal(x.verdict.outcome, 'move');
      assert.equal(x.verdict.target, move.target);
      assert.equal(x.targets.find((t) => t.chosen)?.node, move.target);
    } else if (skip) {
      assert.equal(x.verdict.outcome, 'skip');
      assert.ok(x.verdict.reason.startsWith(skip.reason), `${x.vmid}: ${x.verdict.reason} vs ${skip.reason}`);
    } else assert.equal(x.verdict.outcome, 'not considered');
  }
  assert.deepEqual([...outcomes].sort(), ['move', 'not considered', 'skip']);
  const ignored = all.find((x) => x.vmid === 106)!;
  assert.equal(ignored.rules.find((l) => l.rule === "'ignore' tag")!.applies, true);
  // A guest on a node that is not hot: the plan never looked at it, explain says why.
  const cool = all.find((x) => x.node !== 'pve1' && x.status === 'running')!;
  assert.match(cool.verdict.reason, new RegExp(`${cool.node} is not hot; moves are taken from the hot node\\(s\\) pve1`));
  assert.match(all.find((x) => x.vmid === 113)!.verdict.reason, /^Template/);
});

test('explain live asks Proxmox about local disks; text output names verdict, rules and each node', async () => {
  const r = await e.run(['explain', '104']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /VM 104 build on pve1 \(running\)/);
  assert.match(r.stdout, /Verdict: /);
  assert.match(r.stdout, /local resources: no PCI\/USB device; local disks 20 GiB/);
  for (const n of ['pve1', 'pve2', 'pve3']) assert.match(r.stdout, new RegExp(`^\\s+(→ )?${n}\\s+[\\d.]+ %`, 'm'));
  const json = JSON.parse((await e.run(['explain', '104', '--json'])).stdout) as Explanation;
  assert.equal(json.footprint.local_disk_gib, 20);
  const missing = await e.run(['explain', '999']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /guest 999 is not in the cluster/);
});

test('explain shows a cooldown with its end and the rollback target from the history', async () => {
  const at = new Date(Date.now() - 10 * 60_000).toISOString();
  appendFileSync(e.historyPath, `${JSON.stringify({
    v: 1, type: 'migration', at, run_id: 'r1', migration_id: 'r1-100', vmid: 100, name: 'web-1', guest_type: 'qemu', source: 'pve3', target: 'pve1',
    kind: 'load', confidence: 90, reason: 'test', status: 'completed', upid: null, started_at: at, finished_at: at,
  })}\n`);
  const x = JSON.parse((await e.run(['explain', '100', '--json'])).stdout) as Explanation;
  const cooldown = x.rules.find((l) => l.rule === 'cooldown')!;
  assert.equal(cooldown.applies, true);
  assert.match(cooldown.detail, /1 move\(s\) within 7 days \(×1\); until \d{4}-\d\d-\d\dT/);
  assert.equal(x.verdict.outcome, 'skip');
  assert.match(x.verdict.reason, /^Cooldown active \(until /);
  assert.match(x.rules.find((l) => l.rule === 'rollback')!.detail, /never back to pve3 within 24 h/);
});

test('activity --vmid for a guest no tick decided about points to explain', async () => {
  const r = await e.run(['activity', '--vmid', '111']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /proxbalance explain 111/);
});
