/**
 * Fault injection against the fake Proxmox (issue 17, "Nothing lost, nothing wrong"): each test
 * names the finding it covers. The faults are the fake's hooks (latency, dropped connections,
 * error statuses, offline nodes) and the operating system's (a file-size limit for a full disk,
 * kill -9).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { BIN } from './helpers/cli.js';
import { setupE2E, type E2E } from './helpers/e2e.js';
import type { HistoryRecord, MigrationRecord, RunRecord } from '../src/history/store.js';

const migrations = (rs: HistoryRecord[]) => rs.filter((r): r is MigrationRecord => r.type === 'migration');
const runs = (rs: HistoryRecord[]) => rs.filter((r): r is RunRecord => r.type === 'run');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POST_MIGRATE = /\/(?:qemu|lxc)\/\d+\/migrate$/;
/** Migrate requests the fake received and handled (a dropped connection before handling is status 0). */
const posts = (e: E2E) => e.fake.requests.log.filter((r) => r.method === 'POST' && POST_MIGRATE.test(r.path) && r.status !== 0).length;
const TERMINAL = new Set(['completed', 'failed', 'never_started']);
const ONE_MOVE = { rules: { max_migrations_per_run: 1 } };

/** Records of one migration, by status. */
function statuses(e: E2E, migrationId: string): string[] {
  return migrations(e.records()).filter((m) => m.migration_id === migrationId).map((m) => m.status);
}

/** Starts `proxbalance run` in the background (for kill -9), optionally under a shell limit. */
function startRun(e: E2E, ulimitFileKiB?: number) {
  const env = { ...process.env, PROXBALANCE_POLL_MS: '25' };
  const child = ulimitFileKiB === undefined
    ? spawn(process.execPath, [BIN, 'run', '--config', e.configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    // A file-size limit makes every write past it fail with EFBIG, as a full disk fails with ENOSPC.
    : spawn('/bin/sh', ['-c', `ulimit -f ${ulimitFileKiB} && exec "$0" "$@"`, process.execPath, BIN, 'run', '--config', e.configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => child.on('close', (code) => ok({ code, stdout, stderr })));
  return { child, done };
}

test('finding 1: a history that cannot be written (disk full) stops the tick before any migrate request; exit 1 with the reason', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    // A history of exactly 1 KiB, and a file-size limit of 1 KiB: every append fails.
    const line = JSON.stringify({ v: 1, type: 'resumed', at: '2026-11-20T10:00:00.000Z' });
    writeFileSync(e.historyPath, `${line}${' '.repeat(1024 - line.length - 1)}\n`);
    const before = readFileSync(e.historyPath);
    const r = await startRun(e, 1).done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot record the intent to migrate VM \d+ in the history \(.*EFBIG.*\); nothing was sent to Proxmox/);
    assert.equal(posts(e), 0, 'no migration was requested');
    assert.deepEqual(readFileSync(e.historyPath), before, 'the history is untouched');
  } finally {
    await e.cleanup();
  }
});

test('finding 1: the intent is on disk before its request reaches Proxmox', async () => {
  const e = await setupE2E({ scenario: 'demo' }, ONE_MOVE);
  try {
    // The fake holds the request; meanwhile the history must already hold the intent.
    e.fake.inject({ kind: 'latency', ms: 400, method: 'POST', path: POST_MIGRATE });
    const run = startRun(e);
    for (let i = 0; i < 500 && !e.fake.requests.log.some((r) => r.method === 'GET' && /\/migrate$/.test(r.path)); i++) await sleep(10);
    let intent: MigrationRecord | undefined;
    for (let i = 0; i < 300 && !intent; i++) {
      await sleep(5);
      intent = migrations(e.records()).find((m) => m.status === 'intent');
    }
    assert.ok(intent, 'an intent was written');
    assert.equal(intent.upid, null);
    assert.ok(intent.planned_at && intent.source && intent.target && intent.vmid);
    assert.equal(posts(e), 0, 'its request is not answered yet');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(statuses(e, intent.migration_id), ['intent', 'started', 'completed']);
  } finally {
    await e.cleanup();
  }
});

/**
 * kill -9 at an instant around the migrate request; then the next ticks. Exactly one intent, at
 * most one request, and exactly one outcome: completed when the request reached Proxmox, never
 * started when it did not.
 */
async function killAround(how: 'unreceived' | 'in-flight' | 'at-intent' | 'after-intent', delayMs = 0): Promise<void> {
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 5 }, ONE_MOVE);
  try {
    if (how === 'unreceived') {
      // The request is held, then its connection closed unanswered and unhandled.
      e.fake.inject({ kind: 'latency', ms: 300, method: 'POST', path: POST_MIGRATE });
      e.fake.inject({ kind: 'drop', method: 'POST', path: POST_MIGRATE, times: 1 });
    } else if (how === 'in-flight') {
      // The request is held and handled after the client died.
      e.fake.inject({ kind: 'latency', ms: 300, method: 'POST', path: POST_MIGRATE });
    }
    const { child, done } = startRun(e);
    let intent: MigrationRecord | undefined;
    for (let i = 0; i < 2000 && !intent; i++) {
      await sleep(2);
      intent = migrations(e.records()).find((m) => m.status === 'intent');
    }
    assert.ok(intent, `${how}: an intent was written`);
    if (delayMs) await sleep(delayMs);
    else if (how !== 'at-intent') await sleep(100);
    child.kill('SIGKILL');
    await done;
    await sleep(how === 'at-intent' ? 0 : 350); // let the held request be handled (or dropped)
    e.fake.clearFaults();
    const before = readFileSync(e.historyPath);
    const requested = posts(e);
    assert.ok(requested <= 1, `${how}: at most one request`);
    const intents = statuses(e, intent.migration_id).filter((s) => s === 'intent');
    assert.equal(intents.length, 1, `${how}: exactly one intent`);

    e.fake.state.finishAll();
    const next = await e.run(['run']);
    assert.notEqual(next.code, 2, next.stderr);
    const after = readFileSync(e.historyPath);
    assert.deepEqual(after.subarray(0, before.length), before, `${how}: nothing recorded was rewritten`);
    const outcomes = statuses(e, intent.migration_id).filter((s) => TERMINAL.has(s));
    assert.equal(outcomes.length, 1, `${how}: exactly one outcome after the next tick (${statuses(e, intent.migration_id).join(', ')})\n${next.stderr}`);
    assert.equal(outcomes[0], requested === 1 ? 'completed' : 'never_started', `${how}: the real outcome`);
    if (requested === 1) assert.equal(e.fake.state.guest(intent.vmid)!.node, intent.target);
    const perVmid = e.fake.requests.log.filter((r) => r.method === 'POST' && r.path.includes(`/${intent!.vmid}/migrate`) && r.status === 200).length;
    assert.ok(perVmid <= 1, `${how}: the guest was not migrated twice`);
  } finally {
    await e.cleanup();
  }
}

test('finding 2: kill -9 while the request is unreceived: one intent, then "never started" once', () => killAround('unreceived'));
test('finding 2: kill -9 while the request is in flight: one intent, then the real outcome once', async () => {
  await killAround('in-flight');
});
test('finding 2: kill -9 the moment the intent is on disk, and a few ms later: one intent, one outcome each', async () => {
  await killAround('at-intent');
  await killAround('after-intent', 8);
});

test('finding 3: a lost answer is recorded as unknown, not failed, halts nothing, and the next tick records the real outcome once', async () => {
  const e = await setupE2E({ scenario: 'demo' }, ONE_MOVE);
  try {
    // Proxmox starts the migration but the answer is lost; the node's task list fails meanwhile.
    e.fake.inject({ kind: 'drop', method: 'POST', path: POST_MIGRATE, after: true, times: 1 });
    e.fake.inject({ kind: 'status', status: 500, message: 'proxy loop', path: /^\/nodes\/[^/]+\/tasks$/ });
    const r = await e.run(['run']);
    assert.equal(r.code, 1, r.stderr);
    const unknown = migrations(e.records()).find((m) => m.status === 'unknown')!;
    assert.ok(unknown, r.stderr);
    assert.match(unknown.error!, /answer was lost/);
    assert.ok(!migrations(e.records()).some((m) => m.status === 'failed'), 'not recorded as failed');
    assert.ok(!e.records().some((x) => x.type === 'halted'), 'no halt');
    assert.equal(runs(e.records()).at(-1)!.outcome, 'partial');

    e.fake.clearFaults();
    e.fake.state.finishAll();
    const next = await e.run(['run']);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(statuses(e, unknown.migration_id), ['intent', 'unknown', 'completed']);
    assert.equal(e.fake.state.guest(unknown.vmid)!.node, unknown.target);
    assert.equal(e.fake.requests.log.filter((x) => x.method === 'POST' && x.path.includes(`/${unknown.vmid}/migrate`)).length, 1, 'never re-sent');
  } finally {
    await e.cleanup();
  }
});

test('finding 3: a lost answer whose task shows up at once is followed to its outcome in the same tick', async () => {
  const e = await setupE2E({ scenario: 'demo' }, ONE_MOVE);
  try {
    e.fake.inject({ kind: 'drop', method: 'POST', path: POST_MIGRATE, after: true, times: 1 });
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the answer to the migrate request was lost, but its task UPID:\S+ exists: following it/);
    const ms = migrations(e.records());
    assert.deepEqual(ms.map((m) => m.status), ['intent', 'started', 'completed']);
  } finally {
    await e.cleanup();
  }
});

test('finding 6: a transient 503 or a refusal of the migrate request is a skip with its reason; no halt; the next tick moves the guest', async () => {
  const e = await setupE2E({ scenario: 'demo' }, ONE_MOVE);
  try {
    e.fake.inject({ kind: 'status', status: 503, message: 'Service Unavailable', method: 'POST', path: POST_MIGRATE, times: 1 });
    const r = await e.run(['run']);
    assert.equal(r.code, 0, r.stderr);
    const first = migrations(e.records()).at(-1)!;
    assert.equal(first.status, 'never_started');
    assert.match(first.error!, /^Transient error, tried again next run: .*503/);
    assert.ok(runs(e.records()).at(-1)!.decisions.some((d) => d.vmid === first.vmid && d.action === 'skip' && /Transient error/.test(d.reason)));

    e.fake.inject({ kind: 'status', status: 500, message: 'cluster not ready - no quorum?', method: 'POST', path: POST_MIGRATE, times: 1 });
    const r2 = await e.run(['run']);
    assert.equal(r2.code, 0, r2.stderr);
    const second = migrations(e.records()).at(-1)!;
    assert.equal(second.status, 'never_started');
    assert.match(second.error!, /^Refused by Proxmox: .*no quorum/);
    assert.ok(!e.records().some((x) => x.type === 'halted'), 'neither halts');

    const r3 = await e.run(['run']);
    assert.equal(r3.code, 0, r3.stderr);
    const done = migrations(e.records()).filter((m) => m.status === 'completed');
    assert.equal(done.length, 1, r3.stderr);
    assert.equal(done[0]!.vmid, first.vmid, 'the guest refused before moves now');
    assert.ok(statSync(e.historyPath).size > 0);
  } finally {
    await e.cleanup();
  }
});

test('finding 5: any failed read the decision depends on means no migration, exit 1, and a run record naming the read', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const reads: Array<[string | RegExp, RegExp]> = [
      ['/cluster/ha/status/current', /GET \/cluster\/ha\/status\/current: /],
      [/^\/nodes\/[^/]+\/rrddata$/, /GET \/nodes\/pve1\/rrddata: .*GET \/nodes\/pve2\/rrddata: /],
      ['/cluster/options', /GET \/cluster\/options: /],
      ['/cluster/status', /GET \/cluster\/status: /],
    ];
    for (const [path, named] of reads) {
      const undo = e.fake.inject({ kind: 'status', status: 500, message: 'pmxcfs: no answer', path });
      const r = await e.run(['run']);
      undo();
      assert.equal(r.code, 1, `${String(path)}: ${r.stderr}`);
      const run = runs(e.records()).at(-1)!;
      assert.equal(run.outcome, 'error', String(path));
      assert.match(run.reason!, /^Cluster not fully read, nothing moved: /);
      assert.match(run.reason!, named);
      assert.match(r.stderr, named);
      assert.equal(posts(e), 0, `${String(path)}: no migration`);
    }
  } finally {
    await e.cleanup();
  }
});

test('finding 5: a node whose load is unknown (no rrddata points) is never a target', async () => {
  const e = await setupE2E({ scenario: 'demo' });
  try {
    const planned = await e.run(['run', '--dry-run', '--json']);
    const targets = new Set((JSON.parse(planned.stdout).plan.moves as Array<{ target: string }>).map((m) => m.target));
    assert.ok(targets.size > 0);
    const blind = [...targets][0]!;
    e.fake.inject({ kind: 'rrd-empty', node: blind });
    const r = await e.run(['run', '--json']);
    const out = JSON.parse(r.stdout);
    assert.ok(!(out.plan.moves as Array<{ target: string }>).some((m) => m.target === blind), `no move to ${blind}`);
    assert.ok(!migrations(e.records()).some((m) => m.target === blind && m.status !== 'dry-run'));
  } finally {
    await e.cleanup();
  }
});

/** Waits for the first started migration of a background run, then changes the cluster. */
async function duringFirstMigration(e: E2E, change: () => void) {
  const run = startRun(e);
  let first: MigrationRecord | undefined;
  for (let i = 0; i < 1000 && !first; i++) {
    await sleep(5);
    first = migrations(e.records()).find((m) => m.status === 'started');
  }
  assert.ok(first, 'a migration started');
  change();
  const r = await run.done;
  return { first, r, decisions: runs(e.records()).at(-1)!.decisions };
}

test('finding 4: before each request the cluster is looked at afresh: a target that filled up or went into maintenance meanwhile gets nothing', async () => {
  // Planned: 103 → pve3, 100 → pve2, 101 → pve3, one at a time.
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 20 }, { rules: { max_concurrent_migrations: 1 } });
  try {
    const { first, r, decisions } = await duringFirstMigration(e, () => {
      // A big guest started by hand on pve3, and pve2 put into HA maintenance.
      const s = e.fake.state;
      const pve3 = s.node('pve3')!;
      const model = s.guests.find((g) => g.status === 'running')!;
      s.guests.push({ ...model, vmid: 990, name: 'by-hand', node: 'pve3', mem: Math.round(pve3.maxmem * 0.8), maxmem: Math.round(pve3.maxmem * 0.8), tags: ['ignore'], ha: false, lock: null });
      s.recompute();
      s.node('pve2')!.lrm = 'maintenance';
    });
    assert.equal(first.vmid, 103, r.stderr);
    assert.equal(posts(e), 1, `only the first move was requested:\n${r.stderr}`);
    const reason = (vmid: number) => decisions.find((d) => d.vmid === vmid && d.action === 'skip')?.reason ?? '';
    assert.match(reason(100), /^Target pve2 is in maintenance now$/);
    assert.match(reason(101), /^Target pve3 would exceed the caps now: memory \d+ % → \d+ % \(cap 90 %\)/);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await e.cleanup();
  }
});

test('finding 4: a quorum lost after planning starts nothing more', async () => {
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 20 }, { rules: { max_concurrent_migrations: 1 } });
  try {
    const { r, decisions } = await duringFirstMigration(e, () => e.fake.inject({ kind: 'quorum-loss' }));
    assert.equal(posts(e), 1, r.stderr);
    assert.ok(decisions.filter((d) => d.action === 'skip' && d.reason === 'Cluster not quorate now').length === 2, JSON.stringify(decisions));
  } finally {
    await e.cleanup();
  }
});

test('finding 7: control characters from the cluster are escaped in the table and the log; the secret in a task log is never recorded', async () => {
  const e = await setupE2E({ scenario: 'demo' }, ONE_MOVE);
  try {
    const secret = e.fake.tokenSecret;
    e.fake.state.guests.find((g) => g.vmid === 103)!.name = 'db\x1b[2J\rINFO\nforged line';
    e.fake.inject({ kind: 'fail-migration', vmid: 103, reason: `disk\x1b]0;pwned\x07 gone (token ${secret})` });
    const r = await e.run(['run']);
    assert.equal(r.code, 1, r.stderr);
    for (const [what, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(text), `${what} carries no raw control character: ${JSON.stringify(text)}`);
      assert.ok(!text.includes(secret), `${what} holds no secret`);
      assert.ok(!/^forged line/m.test(text), `${what}: no forged line`);
    }
    assert.match(r.stderr, /db\\x1b\[2J\\rINFO\\nforged line/);
    const file = readFileSync(e.historyPath, 'utf8');
    assert.ok(!file.includes(secret), 'the history holds no secret');
    assert.match(file, /token \*\*\*/);
    const h = await e.run(['history']);
    assert.ok(!h.stdout.includes(secret) && !/\x1b/.test(h.stdout));
  } finally {
    await e.cleanup();
  }
});

test('finding 8: config mistakes are config errors naming the key (exit 2); run --json prints one object; config set keeps a symlink; folders 0750; deep records', async () => {
  const e = await setupE2E({ scenario: 'demo' }, { dry_run: true });
  try {
    const good = JSON.parse(readFileSync(e.configPath, 'utf8'));
    const check = async (cfg: string, named: RegExp) => {
      writeFileSync(e.configPath, cfg, { mode: 0o600 });
      const v = await e.run(['config', 'validate']);
      assert.equal(v.code, 2, `${cfg}\n${v.stderr}`);
      assert.match(v.stderr, named);
      const j = await e.run(['run', '--json']);
      assert.equal(j.code, 2, j.stderr);
      const out = JSON.parse(j.stdout);
      assert.equal(out.run, null);
      assert.match(out.error, named);
    };
    await check(JSON.stringify({ ...good, proxmox_host: `https://${good.proxmox_host}` }), /proxmox_host must be a host name or address only/);
    await check(JSON.stringify({ ...good, proxmox_ca_file: `${e.dir}/missing-ca.pem` }), /proxmox_ca_file: cannot read .*missing-ca\.pem \(ENOENT\)/);
    const text = JSON.stringify(good, null, 2).replace('"automated_migrations": {', '"automated_migrations": {\n    "dry_run": false,');
    await check(text, /line \d+, column \d+: duplicate key "dry_run"/);
    const secretFile = `${e.dir}/secret`;
    writeFileSync(secretFile, `${good.proxmox_api_token_secret}\n`, { mode: 0o644 });
    const { proxmox_api_token_secret: _s, ...noSecret } = good;
    await check(JSON.stringify({ ...noSecret, proxmox_api_token_secret_file: secretFile }), /proxmox_api_token_secret_file: .* is readable by everyone \(mode 0644\)/);
    assert.equal(posts(e), 0);

    // config set through a symlink writes the file it points to.
    const real = `${e.dir}/real-config.json`;
    writeFileSync(real, JSON.stringify(good), { mode: 0o600 });
    rmSync(e.configPath);
    symlinkSync(real, e.configPath);
    const set = await e.run(['config', 'set', 'automated_migrations.rules.cooldown_minutes', '45']);
    assert.equal(set.code, 0, set.stderr);
    assert.ok(lstatSync(e.configPath).isSymbolicLink(), 'still a symlink');
    assert.equal(JSON.parse(readFileSync(real, 'utf8')).automated_migrations.rules.cooldown_minutes, 45);

    // Folders the history needs are created 0750 whatever the umask.
    const nested = `${e.dir}/a/b/history.jsonl`;
    writeFileSync(real, JSON.stringify({ ...good, history_file: nested }), { mode: 0o600 });
    const child = spawn('/bin/sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, BIN, 'run', '--dry-run', '--config', e.configPath], { stdio: 'ignore' });
    assert.equal(await new Promise((ok) => child.on('close', ok)), 0);
    assert.equal(statSync(`${e.dir}/a`).mode & 0o777, 0o750);
    assert.equal(statSync(`${e.dir}/a/b`).mode & 0o777, 0o750);

    // A record nested 5,000 levels deep is skipped with a warning; every reader goes on.
    const deep = `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`;
    appendFileSync(nested, `{"v":1,"type":"resumed","at":"2026-11-20T10:00:00.000Z","x":${deep}}\n`);
    for (const args of [['history', '--json'], ['history', '--csv'], ['stats', '--json'], ['activity', '--json'], ['status', '--json', '--offline']]) {
      const r = await e.run(args);
      assert.notEqual(r.code, null, args.join(' '));
      assert.ok(!/Maximum call stack/.test(r.stderr), `${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    await e.cleanup();
  }
});
