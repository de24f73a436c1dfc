import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePve, TLS_DIR, type FakePve } from './fake-pve/server.js';
import { allText, clientFor, memoryLogger } from './helpers/pve.js';
import { PveApiError, PveMigrationUnknownError, PveNetworkError, PveTlsError } from '../src/pve/errors.js';
import { parseUpid } from '../src/pve/upid.js';
import { summarizeMigrationLog } from '../src/pve/tasklog.js';
import type { PveClient } from '../src/pve/client.js';

const SECRET = '5e1c7a2b-9d44-4f0e-8a31-c0ffee000001';
const LIMITED_SECRET = '5e1c7a2b-9d44-4f0e-8a31-c0ffee000002';

/** Everything that was said: error texts and log lines. The secret must be in none. */
const said: string[] = [];
async function rejects<E extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (e) {
    said.push(allText(e));
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return e as E;
  }
  assert.fail(`expected ${cls.name}, nothing thrown`);
}

let fake: FakePve;
let other: FakePve;
// The fake's clock starts at the real time and is moved by hand (no waiting for tasks).
let now = Date.now();
const clients: PveClient[] = [];
const track = (c: PveClient) => (clients.push(c), c);

before(async () => {
  fake = await startFakePve({
    scenario: 'demo',
    tokenSecret: SECRET,
    tokens: [{ id: 'reader@pve!ro', secret: LIMITED_SECRET, privileges: ['VM.Audit'] }],
    clock: () => now,
    msPerSecond: 1000,
  });
  other = await startFakePve({ scenario: 'demo', tokenSecret: SECRET, cert: 'other' });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([fake.close(), other.close()]);
  for (const s of said) assert.ok(!s.includes(SECRET) && !s.includes(LIMITED_SECRET), `secret leaked in: ${s.slice(0, 300)}`);
});

describe('authentication', () => {
  test('the token is accepted', async () => {
    const log = memoryLogger();
    const c = track(clientFor(fake, { logger: log }));
    const v = await c.version();
    assert.equal(v.version, '9.1.1');
    assert.equal(c.host, '127.0.0.1');
    said.push(...log.lines);
  });

  test('a wrong secret is refused with a 401 that says so, without the secret', async () => {
    const c = track(clientFor(fake, { tokenSecret: `${SECRET}-wrong` }));
    const e = await rejects(c.clusterResources(), PveApiError);
    assert.equal(e.status, 401);
    assert.match(e.message, /refused the API token ID\/secret/);
    assert.match(e.message, /proxbalance@pve!balancer/);
    assert.ok(!allText(e).includes(`${SECRET}-wrong`));
    assert.equal(fake.requests.count('/cluster/resources'), 1, 'a 401 is not retried');
    fake.requests.reset();
  });

  test('an unknown token ID is refused too', async () => {
    const c = track(clientFor(fake, { tokenId: 'nobody@pve!x' }));
    const e = await rejects(c.version(), PveApiError);
    assert.equal(e.status, 401);
  });
});

describe('TLS', () => {
  test('without the CA file the self-signed chain is refused, naming the options and the fingerprint', async () => {
    const c = track(clientFor(fake, { caFile: undefined }));
    const e = await rejects(c.version(), PveTlsError);
    assert.equal(e.fingerprint, fake.fingerprint);
    assert.match(e.message, /proxmox_ca_file/);
    assert.match(e.message, /proxmox_fingerprint/);
    assert.ok(e.message.includes(fake.fingerprint));
  });

  test('proxmox_ca_file trusts the cluster CA', async () => {
    const c = track(clientFor(fake, { caFile: fake.caFile }));
    assert.ok(Array.isArray(await c.clusterStatus()));
  });

  test('a certificate not signed by the given CA is refused', async () => {
    const c = track(clientFor(other, { caFile: other.caFile }));
    const e = await rejects(c.version(), PveTlsError);
    assert.equal(e.fingerprint, other.fingerprint);
  });

  test('a chain proxmox_ca_file cannot vouch for is checked again against the built-in authorities', async () => {
    // The other fake's self-signed certificate stands in for the built-in authorities.
    const roots = [readFileSync(join(TLS_DIR, 'other.pem'), 'utf8')];
    const c = track(clientFor(other, { caFile: fake.caFile, roots }));
    assert.equal((await c.version()).version, '9.1.1');
    assert.ok(Array.isArray(await c.clusterStatus()));
    // The CA file is still trusted beside them.
    const c2 = track(clientFor(fake, { caFile: fake.caFile, roots }));
    assert.equal((await c2.version()).version, '9.1.1');
    // A chain neither vouches for is refused, with the reason of the last check.
    const c3 = track(clientFor(other, { caFile: fake.caFile, roots: [] }));
    const e = await rejects(c3.version(), PveTlsError);
    assert.equal(e.fingerprint, other.fingerprint);
    assert.match(e.reason, /SELF_SIGNED|UNABLE/);
  });

  test('a pinned fingerprint accepts that certificate alone, in any spelling', async () => {
    const c = track(clientFor(other, { caFile: undefined, fingerprint: other.fingerprint.toLowerCase() }));
    assert.equal((await c.version()).version, '9.1.1');
    const c2 = track(clientFor(fake, { caFile: undefined, fingerprint: fake.fingerprint.replace(/:/g, '') }));
    assert.equal((await c2.version()).version, '9.1.1');
  });

  test('a pin mismatch is refused and shows the presented fingerprint', async () => {
    other.requests.reset();
    const c = track(clientFor(other, { caFile: fake.caFile, fingerprint: fake.fingerprint }));
    const e = await rejects(c.version(), PveTlsError);
    assert.equal(e.reason, 'FINGERPRINT_MISMATCH');
    assert.ok(e.message.includes(other.fingerprint), e.message);
    assert.equal(other.requests.total(), 0, 'nothing was sent over the refused connection');
  });

  test('proxmox_verify_ssl false accepts anything, with a warning', async () => {
    const log = memoryLogger();
    const c = track(clientFor(other, { caFile: undefined, verifySsl: false, logger: log }));
    assert.equal((await c.version()).version, '9.1.1');
    assert.ok(log.lines.some((l) => l.startsWith('warn') && l.includes('proxmox_verify_ssl is false')), log.lines.join('\n'));
    said.push(...log.lines);
  });
});

describe('retries and failover', () => {
  test('a GET is retried after 503 and succeeds', async () => {
    fake.requests.reset();
    const undo = fake.inject({ kind: 'status', path: '/version', status: 503, times: 2 });
    const c = track(clientFor(fake));
    assert.equal((await c.version()).version, '9.1.1');
    assert.equal(fake.requests.count('/version'), 3);
    undo();
  });

  test('a GET gives up after its retries with the 503', async () => {
    fake.requests.reset();
    const undo = fake.inject({ kind: 'status', path: '/version', status: 503 });
    const c = track(clientFor(fake, { retries: 2 }));
    const e = await rejects(c.version(), PveApiError);
    assert.equal(e.status, 503);
    assert.equal(fake.requests.count('/version'), 3);
    undo();
  });

  test('a dropped connection on a GET is retried', async () => {
    fake.requests.reset();
    const undo = fake.inject({ kind: 'drop', path: '/cluster/tasks', times: 1 });
    const c = track(clientFor(fake));
    assert.ok(Array.isArray(await c.clusterTasks()));
    assert.equal(fake.requests.count('/cluster/tasks'), 2);
    undo();
  });

  test('a request over the time limit fails as a timeout', async () => {
    const undo = fake.inject({ kind: 'latency', path: '/cluster/options', ms: 400 });
    const c = track(clientFor(fake, { timeoutMs: 100, retries: 0 }));
    const e = await rejects(c.clusterOptions(), PveNetworkError);
    assert.equal(e.code, 'ETIMEDOUT');
    undo();
  });

  test('an unreachable first host fails over to the next, and the log says which answered', async () => {
    const log = memoryLogger();
    // 127.0.0.2 is loopback too, but nothing listens there: connection refused.
    const c = track(clientFor(fake, { hosts: ['127.0.0.2', '127.0.0.1'], logger: log }));
    assert.equal((await c.version()).version, '9.1.1');
    assert.equal(c.host, '127.0.0.1');
    assert.ok(log.lines.some((l) => l.includes('127.0.0.2') && l.includes('unreachable')), log.lines.join('\n'));
    assert.ok(log.lines.some((l) => l.startsWith('info') && l.includes('127.0.0.1') && l.includes('answered')), log.lines.join('\n'));
    said.push(...log.lines);
  });

  test('no host reachable: a network error', async () => {
    const c = track(clientFor(fake, { hosts: ['127.0.0.2', '127.0.0.3'], retries: 0 }));
    const e = await rejects(c.version(), PveNetworkError);
    assert.equal(e.code, 'ECONNREFUSED');
    assert.equal(e.maybeReceived, false);
  });
});

describe('errors', () => {
  test('403 names the path and the privilege', async () => {
    const c = track(clientFor(fake, { tokenId: 'reader@pve!ro', tokenSecret: LIMITED_SECRET }));
    const e = await rejects(c.migrate({ vmid: 110, type: 'qemu', node: 'pve2', status: 'running' }, 'pve3'), PveApiError);
    assert.equal(e.status, 403);
    assert.equal(e.privilege, 'VM.Migrate');
    assert.match(e.message, /VM\.Migrate on \/vms\/110/);
    const e2 = await rejects(c.clusterStatus(), PveApiError);
    assert.equal(e2.privilege, 'Sys.Audit');
  });

  test('400 carries the parameter errors (target = source)', async () => {
    const c = track(clientFor(fake));
    const e = await rejects(c.migrate({ vmid: 110, type: 'qemu', node: 'pve2', status: 'running' }, 'pve2'), PveApiError);
    assert.equal(e.status, 400);
    assert.deepEqual(Object.keys(e.errors ?? {}), ['target']);
    assert.match(e.message, /target: target is local node/);
  });

  test('500 carries the text: locked guest, running VM without online, offline target', async () => {
    const c = track(clientFor(fake));
    const locked = await rejects(c.migrate({ vmid: 107, type: 'qemu', node: 'pve1', status: 'running' }, 'pve2'), PveApiError);
    assert.equal(locked.status, 500);
    assert.equal(locked.pveMessage, 'VM is locked (backup)');
    const noOnline = await rejects(c.call('POST', '/nodes/pve2/qemu/110/migrate', { body: { target: 'pve3' } }), PveApiError);
    assert.equal(noOnline.pveMessage, "can't migrate running VM without --online");
    const undo = fake.inject({ kind: 'node-offline', node: 'pve3' });
    const offline = await rejects(c.migrate({ vmid: 110, type: 'qemu', node: 'pve2', status: 'running' }, 'pve3'), PveApiError);
    assert.equal(offline.status, 500);
    assert.match(offline.pveMessage, /not online/);
    undo();
  });

  test('501 for an unknown path', async () => {
    const c = track(clientFor(fake));
    const e = await rejects(c.get('/nodes/pve1/nothing-here'), PveApiError);
    assert.equal(e.status, 501);
    assert.match(e.message, /not implemented/);
  });
});

describe('migrations', () => {
  test('the migrate POST is never retried on 503', async () => {
    fake.requests.reset();
    const undo = fake.inject({ kind: 'status', method: 'POST', path: 'POST /nodes/{node}/qemu/{vmid}/migrate', status: 503 });
    const c = track(clientFor(fake));
    const e = await rejects(c.migrate({ vmid: 110, type: 'qemu', node: 'pve2', status: 'running' }, 'pve3'), PveApiError);
    assert.equal(e.status, 503);
    assert.equal(fake.requests.count('POST /nodes/{node}/qemu/{vmid}/migrate'), 1);
    undo();
  });

  test('a lost answer is not retried: the caller is told to look for the task, and finds it', async () => {
    fake.requests.reset();
    const undo = fake.inject({ kind: 'drop', method: 'POST', path: /\/migrate$/, after: true, times: 1 });
    // The client reads the send time from the fake's clock: the task it looks for is dated by that
    // clock, however long the earlier tests took (the real clock would drift away from it).
    const c = track(clientFor(fake, { now: () => now }));
    const e = await rejects(c.migrate({ vmid: 110, type: 'qemu', node: 'pve2', status: 'running' }, 'pve3'), PveMigrationUnknownError);
    assert.equal(fake.requests.count('POST /nodes/{node}/qemu/{vmid}/migrate'), 1);
    assert.equal(e.vmid, 110);
    const found = await c.findMigrationTasks({ vmid: 110, node: 'pve2', since: e.sentAt });
    assert.equal(found.length, 1, 'the migration had started');
    now += 120_000;
    fake.state.advance();
    assert.equal(fake.state.guest(110)!.node, 'pve3');
    undo();
  });

  test('a running VM migrates live: lock while running, progress lines, moved at the end', async () => {
    const c = track(clientFor(fake));
    const upid = await c.migrate({ vmid: 100, type: 'qemu', node: 'pve1', status: 'running' }, 'pve2');
    const u = parseUpid(upid)!;
    assert.equal(u.type, 'qmigrate');
    assert.equal(u.user, fake.tokenId);
    now += 3000;
    assert.equal((await c.taskStatus(upid)).status, 'running');
    const cur = await c.guestCurrent('qemu', 'pve1', 100);
    assert.equal(cur.lock, 'migrate');
    now += 5000;
    const mid = summarizeMigrationLog((await c.taskLog(upid, 0, 0)).lines);
    assert.ok(mid.transferred! > 0 && mid.total! > mid.transferred!, JSON.stringify(mid));
    assert.equal(mid.ended, false);
    now += 120_000;
    const st = await c.taskStatus(upid);
    assert.equal(st.status, 'stopped');
    assert.equal(st.exitstatus, 'OK');
    const log = await c.taskLog(upid, 0, 0);
    const sum = summarizeMigrationLog(log.lines);
    assert.equal(sum.finished, true);
    assert.equal(sum.error, null);
    assert.equal(log.lines.at(-1)!.t, 'TASK OK');
    const page = await c.taskLog(upid, 2, 3);
    assert.deepEqual(page.lines.map((l) => l.n), [3, 4, 5]);
    assert.equal(page.total, log.total);
    const res = await c.clusterResources('vm');
    assert.equal(res.find((r) => r.vmid === 100)!.node, 'pve2');
    assert.equal(res.find((r) => r.vmid === 100)!.lock, undefined);
  });

  test('an injected failure ends in "migration aborted" and the guest stays', async () => {
    fake.inject({ kind: 'fail-migration', vmid: 101, reason: 'VM 101 qmp command failed' });
    const c = track(clientFor(fake));
    const upid = await c.migrate({ vmid: 101, type: 'qemu', node: 'pve1', status: 'running' }, 'pve3');
    now += 300_000;
    const st = await c.taskStatus(upid);
    assert.equal(st.exitstatus, 'migration aborted');
    const sum = summarizeMigrationLog((await c.taskLog(upid, 0, 0)).lines);
    assert.match(sum.error ?? '', /qmp command failed/);
    assert.equal(fake.state.guest(101)!.node, 'pve1');
    assert.equal(fake.state.guest(101)!.lock, null);
  });

  test('an HA guest: hamigrate first, then the real qmigrate by root@pam', async () => {
    const c = track(clientFor(fake));
    const guest = { vmid: 102, type: 'qemu' as const, node: 'pve1', status: 'running', hastate: 'started' };
    const ha = await c.migrate(guest, 'pve3');
    assert.equal(parseUpid(ha)!.type, 'hamigrate');
    assert.equal(await c.findRealMigrationTask(ha, guest), null, 'not started yet');
    now += 2500;
    const real = await c.findRealMigrationTask(ha, guest);
    assert.ok(real);
    const u = parseUpid(real)!;
    assert.equal(u.type, 'qmigrate');
    assert.equal(u.user, 'root@pam');
    const first = await c.taskLog(real, 0, 1);
    assert.equal(first.lines[0]!.t, 'task started by HA resource agent');
    assert.equal(summarizeMigrationLog(first.lines).haStarted, true);
    now += 300_000;
    assert.equal((await c.taskStatus(real)).exitstatus, 'OK');
    assert.equal(fake.state.guest(102)!.node, 'pve3');
  });

  test('a running container is restart-migrated; online=1 on it fails the task', async () => {
    const c = track(clientFor(fake));
    const upid = await c.migrate({ vmid: 105, type: 'lxc', node: 'pve1', status: 'running' }, 'pve2');
    assert.equal(parseUpid(upid)!.type, 'vzmigrate');
    now += 60_000;
    assert.equal((await c.taskStatus(upid)).exitstatus, 'OK');
    assert.equal(fake.state.guest(105)!.node, 'pve2');
    assert.equal(fake.state.guest(105)!.status, 'running');
    const raw = (await c.call<string>('POST', '/nodes/pve2/lxc/105/migrate', { body: { target: 'pve1', online: 1 }, retry: false })).data;
    now += 60_000;
    assert.equal((await c.taskStatus(raw)).exitstatus, 'migration aborted');
    assert.equal(fake.state.guest(105)!.node, 'pve2');
  });

  test('preconditions: local disks, local resources, blocked storages', async () => {
    const c = track(clientFor(fake));
    const disk = await c.migratePrecondition({ vmid: 104, type: 'qemu', node: 'pve1' }, 'pve2');
    assert.equal(disk.hasLocalDisks, true);
    assert.equal(disk.localDisksBytes, 20 * 1024 ** 3);
    assert.equal(disk.running, true);
    const gpu = await c.migratePrecondition({ vmid: 108, type: 'qemu', node: 'pve1' }, 'pve2');
    assert.deepEqual(gpu.localResources, ['hostpci0']);
    const ct = await c.migratePrecondition({ vmid: 111, type: 'lxc', node: 'pve3' });
    assert.deepEqual(ct.allowedNodes.sort(), ['pve1', 'pve2']);
    const up = await c.migrate({ vmid: 104, type: 'qemu', node: 'pve1', status: 'running' }, 'pve2', { withLocalDisks: disk.hasLocalDisks });
    now += 600_000;
    assert.equal((await c.taskStatus(up)).exitstatus, 'OK');
  });

  test('guestCurrent shows a backup lock', async () => {
    const c = track(clientFor(fake));
    const g = await c.guestCurrent('qemu', 'pve1', 107);
    assert.equal(g.lock, 'backup');
    assert.equal(g.status, 'running');
  });

  test('permissions lists the token privileges', async () => {
    const c = track(clientFor(fake));
    const p = await c.permissions();
    assert.equal(p['/']!['VM.Migrate'], 1);
  });
});

test('the test certificate files are what the fake presents', () => {
  assert.match(readFileSync(fake.caFile, 'utf8'), /BEGIN CERTIFICATE/);
});
