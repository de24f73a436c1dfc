import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { BIN } from './helpers/cli.js';
import { setupE2E } from './helpers/e2e.js';
import type { MigrationRecord, RunRecord, HistoryRecord } from '../src/history/store.js';

const migrations = (rs: HistoryRecord[]) => rs.filter((r): r is MigrationRecord => r.type === 'migration');
const runs = (rs: HistoryRecord[]) => rs.filter((r): r is RunRecord => r.type === 'run');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const postsFor = (e: { fake: { requests: { log: Array<{ method: string; path: string }> } } }, vmid?: number) =>
  e.fake.requests.log.filter((r) => r.method === 'POST' && /\/migrate$/.test(r.path) && (vmid === undefined || r.path.includes(`/${vmid}/`))).length;

test('a live tick migrates the planned guests; the fake shows them moved; history has started, completed and run records', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /live → success/);
    const recs = e.records();
    const ms = migrations(recs);
    const byId = new Map<string, MigrationRecord[]>();
    for (const m of ms) byId.set(m.migration_id, [...(byId.get(m.migration_id) ?? []), m]);
    assert.equal(byId.size, 3, 'max_migrations_per_run (3) moves');
    for (const list of byId.values()) {
      assert.deepEqual(list.map((m) => m.status), ['intent', 'started', 'completed'], 'the intent is written before the request, then its task, then its outcome');
      const done = list.at(-1)!;
      assert.ok(done.upid?.startsWith('UPID:'), 'UPID recorded');
      assert.equal(e.fake.state.guest(done.vmid)!.node, done.target, `VM ${done.vmid} is on its target`);
      assert.ok(done.transferred_bytes! > 0 && done.avg_speed_bytes_s! > 0, 'transfer figures from the task log');
      assert.match(r.stderr, new RegExp(`VM ${done.vmid} \\(${done.name}\\): migration ${done.source} → ${done.target} completed`));
    }
    const run = recs.at(-1)!;
    assert.equal(run.type, 'run');
    assert.equal((run as RunRecord).outcome, 'success');
    assert.equal((run as RunRecord).mode, 'live');
    assert.ok((run as RunRecord).decisions.some((d) => d.action === 'skip' && d.reason === "Has 'ignore' tag" && d.vmid === 106));
    assert.ok(!r.stdout.includes(e.fake.tokenSecret) && !r.stderr.includes(e.fake.tokenSecret) && !readFileSync(e.historyPath, 'utf8').includes(e.fake.tokenSecret), 'secret never shown or recorded');
    // A guest pinned by a PCI device is found out while planning, not by a failed migration.
    assert.equal(postsFor(e, 108), 0);
    assert.ok((run as RunRecord).decisions.some((d) => d.vmid === 108 && /hostpci0/.test(d.reason)));
  } finally {
    await e.cleanup();
  }
});

test('dry run: nothing is executed, moves are recorded as dry-run and start no cooldown', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true });
  try {
    const r1 = await e.run(['run', '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    const out = JSON.parse(r1.stdout);
    assert.equal(out.run.mode, 'dry-run');
    assert.ok(out.plan.moves.length > 0);
    assert.ok(out.run.decisions.filter((d: { action: string }) => d.action === 'move').every((d: { outcome: string }) => d.outcome === 'Dry run'));
    const r2 = await e.run(['run', '--json']);
    const out2 = JSON.parse(r2.stdout);
    assert.deepEqual(out2.plan.moves.map((m: { vmid: number }) => m.vmid), out.plan.moves.map((m: { vmid: number }) => m.vmid), 'a dry run starts no cooldown');
    assert.equal(postsFor(e), 0, 'no migration POST');
    assert.ok(migrations(e.records()).every((m) => m.status === 'dry-run' && m.upid === null));
  } finally {
    await e.cleanup();
  }
});

test('disabled: a run records "Automation disabled" without one API request; --dry-run still shows the plan', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { enabled: false });
  try {
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(e.fake.requests.total(), 0);
    const run = runs(e.records())[0]!;
    assert.equal(run.outcome, 'disabled');
    assert.equal(run.reason, 'Automation disabled');
    const d = await e.run(['run', '--dry-run']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /Automation is disabled/);
    assert.match(d.stdout, /dry-run → success/);
    assert.equal(postsFor(e), 0);
  } finally {
    await e.cleanup();
  }
});

test('a migration already running in the cluster takes the only slot: no new move', async () => {
  // The fake's clock stands still: the migration started here runs until the test ends, however
  // slowly the machine starts the CLI.
  const frozen = Date.now();
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 1000, clock: () => frozen });
  try {
    e.fake.state.startMigration('qemu', 'pve2', 110, { target: 'pve3', online: '1' }, 'root@pam');
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    const run = runs(e.records()).at(-1)!;
    assert.equal(run.outcome, 'skipped');
    assert.ok(run.gates.some((g) => g.name === 'concurrency' && !g.passed));
    assert.equal(postsFor(e), 0);
  } finally {
    await e.cleanup();
  }
});

test('two runs at once: the second exits on the lock; no guest is migrated twice', async () => {
  // The fake's clock stands still until the second run is over: the first run's migrations cannot
  // end (and its lock cannot be released) before then, however slow the machine. Then the clock
  // jumps an hour ahead and runs.
  const t0 = Date.now();
  let held = true;
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 100, clock: () => (held ? t0 : Date.now() + 3_600_000) });
  try {
    const first = e.run(['run']);
    // Wait until the first run is migrating (it holds the lock from before its first request).
    while (postsFor(e) === 0) await sleep(10);
    const second = await e.run(['run']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /another proxbalance run \(pid \d+\) holds the lock/);
    held = false;
    const r1 = await first;
    assert.equal(r1.code, 0, r1.stderr);
    const third = await e.run(['run']);
    assert.equal(third.code, 0, third.stderr);
    const perVmid = new Map<number, number>();
    for (const rec of e.fake.requests.log) {
      const m = /\/(?:qemu|lxc)\/(\d+)\/migrate$/.exec(rec.path);
      if (rec.method === 'POST' && m) perVmid.set(Number(m[1]), (perVmid.get(Number(m[1])) ?? 0) + 1);
    }
    assert.ok([...perVmid.values()].every((n) => n === 1), `each guest moved once: ${JSON.stringify([...perVmid])}`);
  } finally {
    await e.cleanup();
  }
});

test('a failed migration halts automation; later ticks skip with the reason until resume', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    e.fake.inject({ kind: 'fail-migration', vmid: 103, reason: 'migration aborted' });
    const r = await e.run(['run']);
    assert.equal(r.code, 1, 'a failed migration exits 1');
    assert.match(r.stderr, /VM 103 \(db-2\): migration pve1 → pve3 failed/);
    const recs = e.records();
    const failed = migrations(recs).find((m) => m.vmid === 103 && m.status === 'failed')!;
    assert.ok(failed.error && failed.exitstatus, 'error and exit status recorded');
    assert.equal(postsFor(e), 1, 'nothing more started after the failure');
    assert.ok(recs.some((x) => x.type === 'halted' && x.vmid === 103));

    const next = await e.run(['run']);
    assert.equal(next.code, 0);
    assert.match(next.stdout, /Automation halted after failed migration of VM 103 at .*; run `proxbalance resume`/);
    assert.equal(runs(e.records()).at(-1)!.outcome, 'halted');
    assert.equal(postsFor(e), 1);

    const res = await e.run(['resume']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /resumed/);
    assert.equal(e.records().at(-1)!.type, 'resumed');
    const again = await e.run(['run']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(postsFor(e) > 1, 'migrations start again');
    assert.match((await e.run(['resume'])).stdout, /not halted/);
  } finally {
    await e.cleanup();
  }
});

test('kill -9 during a migration: the next tick appends the outcome once, moves nothing twice, loses nothing', async () => {
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 60 });
  try {
    const child = spawn(process.execPath, [BIN, 'run', '--config', e.configPath], { env: { ...process.env, PROXBALANCE_POLL_MS: '25' }, stdio: 'ignore' });
    let started: MigrationRecord | undefined;
    for (let i = 0; i < 500 && !started; i++) {
      await sleep(10);
      started = migrations(e.records()).find((m) => m.status === 'started');
    }
    assert.ok(started, 'a migration started');
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const before = readFileSync(e.historyPath);

    let outcome: MigrationRecord | undefined;
    for (let i = 0; i < 40 && !outcome; i++) {
      const r = await e.run(['run']);
      assert.notEqual(r.code, 2, r.stderr);
      outcome = migrations(e.records()).find((m) => m.migration_id === started!.migration_id && m.status !== 'started' && m.status !== 'intent');
      if (!outcome) await sleep(200);
    }
    assert.equal(outcome?.status, 'completed');
    const after = readFileSync(e.historyPath);
    assert.deepEqual(after.subarray(0, before.length), before, 'nothing recorded was rewritten');
    const outcomes = migrations(e.records()).filter((m) => m.migration_id === started!.migration_id && m.status !== 'started' && m.status !== 'intent');
    assert.equal(outcomes.length, 1, 'the outcome is appended once');
    assert.equal(postsFor(e, started.vmid), 1, 'the guest was not migrated twice');
  } finally {
    await e.cleanup();
  }
});

test('SIGTERM: nothing new starts, the in-flight migration is recorded as interrupted with its UPID', async () => {
  // The fake's clock stands still: the migration started is still running when the signal comes.
  const frozen = Date.now();
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 60, clock: () => frozen });
  try {
    const child = spawn(process.execPath, [BIN, 'run', '--config', e.configPath], { env: { ...process.env, PROXBALANCE_POLL_MS: '25' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    while (!migrations(e.records()).some((m) => m.status === 'started')) await sleep(10);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 1);
    assert.match(stderr, /SIGTERM received/);
    const ms = migrations(e.records());
    const interrupted = ms.filter((m) => m.status === 'interrupted');
    assert.equal(interrupted.length, 1);
    assert.ok(interrupted[0]!.upid);
    assert.equal(postsFor(e), 1, 'nothing new started');
  } finally {
    await e.cleanup();
  }
});

test('a history with a garbage line and a torn last line still reads; nothing is rewritten', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true });
  try {
    writeFileSync(e.historyPath, '');
    appendFileSync(e.historyPath, '{"v":1,"type":"resumed","at":"2026-11-20T10:00:00.000Z"}\n');
    appendFileSync(e.historyPath, 'garbage in the middle\n');
    appendFileSync(e.historyPath, '{"v":1,"type":"resumed","at":"2026-11-21T10:00:00.000Z"}\n');
    appendFileSync(e.historyPath, '{"v":1,"type":"migration","vmid":1');
    const before = readFileSync(e.historyPath);
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /history\.jsonl line 2: skipped, not valid JSON/);
    assert.match(r.stderr, /history\.jsonl line 4: skipped, incomplete last line/);
    const after = readFileSync(e.historyPath);
    assert.deepEqual(after.subarray(0, before.length), before);
    const lines = after.toString('utf8').split('\n');
    assert.equal(JSON.parse(lines.at(-2)!).type, 'run', 'the new records are whole lines after the torn one');
  } finally {
    await e.cleanup();
  }
});

test('--scheduled inside check_interval_minutes exits quietly; after it, runs', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true, check_interval_minutes: 5 });
  try {
    const first = await e.run(['run', '--scheduled'], { JOURNAL_STREAM: '8:1234' });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '', 'a timer run prints no table: its log lines say it all');
    assert.match(first.stderr, /^<6>VM 103 \(db-2\): would migrate pve1 → pve3 .*: Dry run$/m, 'journal priority prefix and guest naming');
    assert.match(first.stderr, /^<6>VM 106 \(legacy\): skipped: Has 'ignore' tag$/m);
    assert.equal(runs(e.records()).length, 1);
    assert.equal(runs(e.records())[0]!.trigger, 'scheduled');
    const requests = e.fake.requests.total();
    const quiet = await e.run(['run', '--scheduled']);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stdout, '');
    assert.equal(runs(e.records()).length, 1, 'no record');
    assert.equal(e.fake.requests.total(), requests, 'no API request');
    const manual = await e.run(['run']);
    assert.equal(manual.code, 0);
    assert.equal(runs(e.records()).length, 2, 'manual runs are never throttled');
    const later = new Date(Date.now() + 6 * 60_000).toISOString();
    const due = await e.run(['run', '--scheduled'], { PROXBALANCE_NOW: later });
    assert.equal(due.code, 0, due.stderr);
    assert.equal(runs(e.records()).length, 3);
  } finally {
    await e.cleanup();
  }
});

test('maintenance: every guest on the node is evacuated; an HA guest is followed through its real migration task', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { maintenance_nodes: ['pve1'], rules: { max_migrations_per_run: 20, max_concurrent_migrations: 2 } });
  try {
    const r = await e.run(['run']);
    const ms = migrations(e.records());
    const ha = ms.filter((m) => m.vmid === 102);
    assert.ok(ha.length >= 2, r.stderr);
    const last = ha.at(-1)!;
    assert.equal(last.status, 'completed', r.stderr);
    assert.match(last.upid!, /:qmigrate:102:root@pam:$/, 'the real qmigrate task, not the hamigrate one');
    assert.ok(ha.some((m) => /:hamigrate:102:/.test(m.upid ?? '')), 'the hamigrate task was recorded first');
    const left = e.fake.state.guests.filter((g) => g.node === 'pve1').map((g) => g.vmid);
    // 107 is locked by a backup and 108 is pinned by a PCI device: they cannot leave.
    assert.deepEqual(left.sort(), [107, 108].filter((v) => left.includes(v)));
    assert.ok(!left.includes(106), "maintenance moves even the guest tagged 'ignore'");
  } finally {
    await e.cleanup();
  }
});

test('a blackout or a closed window skips the tick without one API request; a lost quorum skips it after the snapshot', async () => {
  const all = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  const e = await setupE2E({ scenario: 'demo' }, { schedule: { blackout_windows: [{ name: 'Backups', days: all, start_time: '00:00', end_time: '23:59' }] } });
  try {
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(e.fake.requests.total(), 0, 'no API request');
    const run = runs(e.records()).at(-1)!;
    assert.equal(run.outcome, 'skipped');
    assert.match(run.reason!, /^Blackout window active: blackout window 'Backups' is active/);
    assert.match(r.stderr, /Blackout window active/);

    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    cfg.automated_migrations.schedule = { timezone: 'Europe/Berlin', migration_windows: [{ name: 'Night', days: ['sunday'], start_time: '02:00', end_time: '03:00' }] };
    writeFileSync(e.configPath, JSON.stringify(cfg));
    const w = await e.run(['run'], { PROXBALANCE_NOW: '2026-11-25T12:00:00Z' });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(e.fake.requests.total(), 0);
    assert.match(runs(e.records()).at(-1)!.reason!, /^Outside migration window: /);

    delete cfg.automated_migrations.schedule;
    writeFileSync(e.configPath, JSON.stringify(cfg));
    e.fake.inject({ kind: 'quorum-loss' });
    const q = await e.run(['run']);
    assert.equal(q.code, 0, q.stderr);
    const qr = runs(e.records()).at(-1)!;
    assert.equal(qr.outcome, 'skipped');
    assert.match(qr.reason!, /^Cluster health check failed: not quorate/);
    assert.equal(postsFor(e), 0);
  } finally {
    await e.cleanup();
  }
});

test('a tick that decides what the previous one did names it instead of repeating its decisions; readers see them all', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true });
  try {
    assert.equal((await e.run(['run'])).code, 0);
    assert.equal((await e.run(['run'])).code, 0);
    const lines = readFileSync(e.historyPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const [first, second] = lines.filter((l) => l.type === 'run');
    assert.ok(first.decisions.length > 3);
    assert.deepEqual(second.decisions, []);
    assert.equal(second.decisions_same_as, first.run_id);
    const act = await e.run(['activity', '--json']);
    assert.equal(act.code, 0, act.stderr);
    const ticks = JSON.parse(act.stdout);
    const list = Array.isArray(ticks) ? ticks : ticks.ticks;
    const got = list.find((t: { run_id: string }) => t.run_id === second.run_id);
    assert.deepEqual(got.decisions, first.decisions, 'the second tick shows its decisions');
  } finally {
    await e.cleanup();
  }
});

test('a migration over migration_timeout_minutes is recorded as timeout and left running; a later tick records its real outcome', async () => {
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 100 }, { rules: { migration_timeout_minutes: 0.01, max_migrations_per_run: 1 } });
  try {
    const r = await e.run(['run']);
    assert.equal(r.code, 1, 'a timeout exits 1');
    assert.match(r.stderr, /timed out after 0\.01 min; task .* is left running/);
    const timedOut = migrations(e.records()).find((m) => m.status === 'timeout')!;
    assert.ok(timedOut?.upid);
    assert.ok(!e.records().some((x) => x.type === 'halted'), 'a timeout does not halt: the migration may still succeed');
    let outcome: MigrationRecord | undefined;
    for (let i = 0; i < 40 && !outcome; i++) {
      await sleep(250);
      await e.run(['run']);
      outcome = migrations(e.records()).find((m) => m.migration_id === timedOut.migration_id && m.status === 'completed');
    }
    assert.ok(outcome, 'the real outcome was appended');
    assert.equal(e.fake.state.guest(timedOut.vmid)!.node, timedOut.target);
    assert.equal(postsFor(e, timedOut.vmid), 1);
  } finally {
    await e.cleanup();
  }
});

test('robust executor: an unreadable task log still yields the outcome; an API error mid-run starts nothing more but follows what runs', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { rules: { max_concurrent_migrations: 2 } });
  try {
    e.fake.inject({ kind: 'status', status: 500, message: 'log unavailable', path: /\/tasks\/.*\/log$/ });
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    const done = migrations(e.records()).filter((m) => m.status === 'completed');
    assert.equal(done.length, 3, 'outcomes from the exit status alone');
    assert.ok(done.every((m) => m.exitstatus === 'OK'));
    e.fake.clearFaults();

    // The cluster's task list fails once the first migration is under way.
    const e2 = await setupE2E({ scenario: 'demo', msPerSecond: 30 }, { rules: { max_concurrent_migrations: 1 } });
    try {
      const child = spawn(process.execPath, [BIN, 'run', '--config', e2.configPath], { env: { ...process.env, PROXBALANCE_POLL_MS: '25' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      for (let i = 0; i < 500 && !migrations(e2.records()).some((m) => m.status === 'started'); i++) await sleep(10);
      e2.fake.inject({ kind: 'status', status: 503, message: 'unavailable', path: '/cluster/tasks' });
      const code = await new Promise((ok) => child.on('close', ok));
      assert.equal(code, 1, 'an API error mid-run exits 1');
      assert.match(stderr, /starting nothing more this run/);
      const ms = migrations(e2.records());
      const started = ms.filter((m) => m.status === 'started');
      assert.equal(started.length, 1, 'nothing more started');
      assert.ok(ms.some((m) => m.migration_id === started[0]!.migration_id && m.status === 'completed'), 'the one in flight was followed to its outcome before the run ended');
      assert.equal(runs(e2.records()).at(-1)!.outcome, 'partial');
    } finally {
      await e2.cleanup();
    }
  } finally {
    await e.cleanup();
  }
});

test('a run killed between a failure and its halt: the next tick halts before anything else', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    // What such a run leaves: started + failed, and no run record, no halted record.
    const base = { v: 1, type: 'migration', run_id: 'dead-run', migration_id: 'm-dead', vmid: 103, name: 'db-2', guest_type: 'qemu', source: 'pve1', target: 'pve3', upid: 'UPID:pve1:00001001:00000001:6B0714E2:qmigrate:103:proxbalance@pve!balancer:', started_at: '2026-11-25T10:00:00.000Z' };
    writeFileSync(e.historyPath, `${JSON.stringify({ ...base, at: '2026-11-25T10:00:00.000Z', status: 'started' })}\n${JSON.stringify({ ...base, at: '2026-11-25T10:01:00.000Z', status: 'failed', error: 'migration aborted' })}\n`);
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /was never followed by its halt/);
    const halted = e.records().find((x) => x.type === 'halted');
    assert.ok(halted && halted.type === 'halted' && halted.vmid === 103);
    assert.equal(runs(e.records()).at(-1)!.outcome, 'halted');
    assert.equal(postsFor(e), 0);
  } finally {
    await e.cleanup();
  }
});

test('a signal during the checks before a POST starts nothing', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    e.fake.inject({ kind: 'latency', ms: 1500, path: /\/status\/current$/ });
    const child = spawn(process.execPath, [BIN, 'run', '--config', e.configPath], { env: { ...process.env, PROXBALANCE_POLL_MS: '25' }, stdio: 'ignore' });
    for (let i = 0; i < 500 && !e.fake.requests.log.some((x) => /\/status\/current$/.test(x.path)); i++) await sleep(10);
    // The request is logged when it arrives; the latency holds its answer.
    child.kill('SIGTERM');
    const code = await new Promise((ok) => child.on('close', ok));
    assert.equal(code, 1);
    assert.equal(postsFor(e), 0, 'no migration started');
    const run = runs(e.records()).at(-1)!;
    assert.ok(run.decisions.some((d) => d.vmid === 103 && d.reason === 'Stopped by signal'));
  } finally {
    await e.cleanup();
  }
});

test("our own ended migration does not hold the slot while the cluster's task list still shows it running", async () => {
  const e = await setupE2E({ scenario: 'demo' }, { rules: { max_concurrent_migrations: 1 } });
  try {
    e.fake.inject({ kind: 'tasks-lag', ms: 60_000 });
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    const done = migrations(e.records()).filter((m) => m.status === 'completed');
    assert.equal(done.length, 3, `all planned moves ran one after the other: ${r.stdout}`);
  } finally {
    await e.cleanup();
  }
});
