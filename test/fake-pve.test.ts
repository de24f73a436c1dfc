import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/cli.js';
import { clientFor } from './helpers/pve.js';
import { startFakePve } from './fake-pve/server.js';
import { listScenarios, loadScenario } from './fake-pve/scenarios.js';
import { renderBytes } from './fake-pve/state.js';
import { takeSnapshot } from '../src/pve/snapshot.js';
import { PveApiError } from '../src/pve/errors.js';

test('every scenario file loads into a consistent state', () => {
  const names = listScenarios();
  for (const want of ['demo', 'maintenance', 'small']) assert.ok(names.includes(want), `scenario ${want} is missing`);
  for (const name of names) {
    const s = loadScenario(name);
    assert.ok(s.nodes.length > 0, name);
    const nodeNames = new Set(s.nodes.map((n) => n.name));
    for (const g of s.guests) assert.ok(nodeNames.has(g.node), `${name}: guest ${g.vmid} on unknown node ${g.node}`);
    assert.equal(new Set(s.guests.map((g) => g.vmid)).size, s.guests.length, `${name}: duplicate vmid`);
  }
});

test('the demo scenario is skewed: pve1 carries far more than the others', () => {
  const s = loadScenario('demo');
  const load = (n: string) => s.node(n)!.mem / s.node(n)!.maxmem;
  assert.ok(load('pve1') > 0.75 && load('pve2') < 0.2 && load('pve3') < 0.2, `${load('pve1')} ${load('pve2')} ${load('pve3')}`);
});

test('node figures follow the guests: a migration moves load from source to target', async () => {
  let now = Date.now();
  const fake = await startFakePve({ generate: { nodes: 3, guests: 30, seed: 5 }, clock: () => now, msPerSecond: 1000 });
  const c = clientFor(fake);
  try {
    const g = fake.state.guests.find((x) => x.type === 'qemu' && x.status === 'running' && x.node === 'pve1' && !x.lock)!;
    const before = await takeSnapshot(c);
    const memOf = (s: typeof before, n: string) => s.nodes.find((x) => x.name === n)!.mem;
    await c.migrate(g, 'pve2');
    now += 3_600_000;
    const afterSnap = await takeSnapshot(c);
    assert.equal(memOf(before, 'pve1') - memOf(afterSnap, 'pve1'), g.mem);
    assert.equal(memOf(afterSnap, 'pve2') - memOf(before, 'pve2'), g.mem);
    assert.equal(afterSnap.tasks.length, 1);
    assert.equal(afterSnap.tasks[0]!.status, 'OK');
  } finally {
    await c.close();
    await fake.close();
  }
});

test('Proxmox refusals: no quorum, running container without restart, unknown parameter, unknown node', async () => {
  const fake = await startFakePve({ scenario: 'demo' });
  const c = clientFor(fake);
  const post = (path: string, body: Record<string, string | number>) => c.call('POST', path, { body, retry: false });
  try {
    const ct = await post('/nodes/pve1/lxc/105/migrate', { target: 'pve2' }).catch((e: PveApiError) => e);
    assert.ok(ct instanceof PveApiError && ct.status === 500 && /--restart/.test(ct.pveMessage));
    const param = await post('/nodes/pve2/qemu/110/migrate', { target: 'pve1', online: 'maybe' }).catch((e: PveApiError) => e);
    assert.ok(param instanceof PveApiError && param.status === 400 && param.errors?.online);
    const node = await post('/nodes/pve2/qemu/110/migrate', { target: 'pve9', online: 1 }).catch((e: PveApiError) => e);
    assert.ok(node instanceof PveApiError && node.status === 500 && /no such cluster node/.test(node.pveMessage));
    const missing = await post('/nodes/pve2/qemu/100/migrate', { target: 'pve3', online: 1 }).catch((e: PveApiError) => e);
    assert.ok(missing instanceof PveApiError && missing.status === 500 && /does not exist/.test(missing.pveMessage));
    fake.inject({ kind: 'quorum-loss' });
    const q = await post('/nodes/pve2/qemu/110/migrate', { target: 'pve1', online: 1 }).catch((e: PveApiError) => e);
    assert.ok(q instanceof PveApiError && q.status === 500 && /no quorum/.test(q.pveMessage));
  } finally {
    await c.close();
    await fake.close();
  }
});

test('a node can go offline mid-run', async () => {
  let now = Date.now();
  const fake = await startFakePve({ scenario: 'demo', clock: () => now });
  const c = clientFor(fake);
  try {
    fake.inject({ kind: 'node-offline', node: 'pve3', afterMs: 60_000 });
    assert.equal((await takeSnapshot(c)).nodes.find((n) => n.name === 'pve3')!.status, 'online');
    now += 61_000;
    const s = await takeSnapshot(c);
    assert.equal(s.nodes.find((n) => n.name === 'pve3')!.status, 'offline');
    assert.equal(s.guests.find((g) => g.vmid === 111)!.status, 'unknown');
  } finally {
    await c.close();
    await fake.close();
  }
});

test('keep-alive and bounded concurrency: a 20-node snapshot reuses a few connections', async () => {
  const fake = await startFakePve({ generate: { nodes: 20, guests: 200, seed: 2 } });
  fake.inject({ kind: 'latency', ms: 15 });
  const c = clientFor(fake, { maxConcurrency: 4 });
  try {
    await takeSnapshot(c);
    await takeSnapshot(c);
    assert.equal(fake.requests.total(), 2 * 26, '6 + 20 per snapshot: the HA resources, and no rules asked for as there is no HA resource');
    assert.ok(fake.requests.maxInFlight <= 4, `max in flight ${fake.requests.maxInFlight}`);
    assert.ok(fake.requests.connections <= 4, `${fake.requests.connections} TLS connections for 50 requests`);
  } finally {
    await c.close();
    await fake.close();
  }
});

test('renderBytes prints as Proxmox does', () => {
  assert.equal(renderBytes(357.9 * 1024 ** 2), '357.9 MiB');
  assert.equal(renderBytes(4 * 1024 ** 3), '4.0 GiB');
  assert.equal(renderBytes(100), '100 B');
});

test('the runnable entry point prints how to connect', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'test', 'fake-pve', 'main.js'), '--scenario', 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const text = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('Ctrl-C')) resolve(out);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.match(text, /listening on https:\/\/127\.0\.0\.1:\d+\/api2\/json \(3 nodes, 14 guests\)/);
    assert.match(text, /"proxmox_ca_file"/);
    assert.match(text, /fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  } finally {
    child.kill('SIGTERM');
  }
});

test('finishAll ends every migration at once, the HA follow-up included', async () => {
  const fake = await startFakePve({ scenario: 'demo', msPerSecond: 60_000 });
  const c = clientFor(fake);
  try {
    const ha = await c.migrate({ vmid: 102, type: 'qemu', node: 'pve1', status: 'running' }, 'pve2');
    const vm = await c.migrate({ vmid: 100, type: 'qemu', node: 'pve1', status: 'running' }, 'pve3');
    assert.equal(fake.state.guest(100)!.lock, 'migrate');
    fake.state.finishAll();
    assert.equal((await c.taskStatus(vm)).exitstatus, 'OK');
    assert.equal((await c.taskStatus(ha)).exitstatus, 'OK');
    const real = await c.findRealMigrationTask(ha, { vmid: 102, node: 'pve1' });
    assert.ok(real);
    assert.equal((await c.taskStatus(real)).exitstatus, 'OK');
    assert.equal(fake.state.guest(102)!.node, 'pve2');
    assert.equal(fake.state.guest(100)!.node, 'pve3');
    assert.equal(fake.state.guest(100)!.lock, null);
  } finally {
    await c.close();
    await fake.close();
  }
});
