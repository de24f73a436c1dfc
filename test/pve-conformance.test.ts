/**
 * Conformance: every endpoint the fake serves answers what the official Proxmox VE schema
 * (test/fixtures/pve-api/endpoints/) says it returns, with booleans as 0/1 integers; errors have
 * Proxmox's shape. The schema mapping itself is checked on the real captures.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request, Agent } from 'undici';
import { readFileSync } from 'node:fs';
import { ROUTES, startFakePve, type FakePve } from './fake-pve/server.js';
import { endpointIndex, PVE_API_DIR, readFixture, validateReturns } from './helpers/pve-schema.js';

let fake: FakePve;
let now = Date.now();
let agent: Agent;

before(async () => {
  fake = await startFakePve({ scenario: 'demo', clock: () => now, msPerSecond: 1000, tokens: [{ id: 'nobody@pve!x', secret: 'no-privs-secret', privileges: [] }] });
  agent = new Agent({ connect: { ca: readFileSync(fake.caFile, 'utf8') } });
});
after(async () => {
  await agent.close();
  await fake.close();
});

interface Raw {
  status: number;
  statusText: string;
  body: { data: unknown; total?: number; message?: string; errors?: Record<string, string> };
}

async function call(method: string, path: string, body?: Record<string, string>, token = `${fake.tokenId}=${fake.tokenSecret}`): Promise<Raw> {
  const res = await request(`${fake.url}${path}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: { authorization: `PVEAPIToken=${token}`, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(body ? { body: new URLSearchParams(body).toString() } : {}),
  });
  return { status: res.statusCode, statusText: res.statusText, body: (await res.body.json()) as Raw['body'] };
}

const validated = new Set<string>();
async function check(endpoint: string, path: string, body?: Record<string, string>): Promise<Raw> {
  const [method] = endpoint.split(' ');
  const r = await call(method!, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  const errs = validateReturns(endpoint, r.body.data);
  assert.deepEqual(errs, [], `${endpoint} (${path}) does not match the official schema:\n${errs.join('\n')}`);
  validated.add(endpoint);
  return r;
}

test('the official schema is beside the repository', () => {
  assert.ok(existsSync(join(PVE_API_DIR, 'endpoints', 'index.json')), `missing ${PVE_API_DIR}`);
  for (const key of Object.keys(ROUTES)) assert.ok(endpointIndex()[key], `the fake serves ${key}, which has no official schema`);
});

test('every endpoint the fake serves answers as the official schema says', async () => {
  await check('GET /version', '/version');
  await check('GET /access/permissions', '/access/permissions');
  await check('GET /nodes', '/nodes');
  await check('GET /cluster/resources', '/cluster/resources');
  await check('GET /cluster/resources', '/cluster/resources?type=vm');
  await check('GET /cluster/status', '/cluster/status');
  await check('GET /cluster/ha/status/current', '/cluster/ha/status/current');
  await check('GET /cluster/ha/resources', '/cluster/ha/resources');
  // HA rules (PVE 9): node affinity, resource affinity both ways; the precondition reports them.
  const s = fake.state;
  s.guest(103)!.ha = true;
  s.guest(110)!.ha = true;
  s.guest(110)!.failback = false;
  s.haRules = [
    { rule: 'db-pin', type: 'node-affinity', resources: ['vm:102'], nodes: { pve1: 2, pve2: 0 }, strict: true },
    { rule: 'db-apart', type: 'resource-affinity', resources: ['vm:102', 'vm:110'], affinity: 'negative' },
    { rule: 'db-pair', type: 'resource-affinity', resources: ['vm:102', 'vm:103'], affinity: 'positive', disable: true },
  ];
  const rules = await check('GET /cluster/ha/rules', '/cluster/ha/rules');
  assert.deepEqual((rules.body.data as Array<{ nodes?: string }>)[0]!.nodes, 'pve1:2,pve2');
  assert.deepEqual((await check('GET /cluster/ha/groups', '/cluster/ha/groups')).body.data, [], 'PVE 9 has no groups left');
  await check('GET /cluster/ha/resources', '/cluster/ha/resources');
  s.haRules[2]!.disable = false;
  const pre = await check('GET /nodes/{node}/qemu/{vmid}/migrate', '/nodes/pve1/qemu/102/migrate?target=pve2');
  const pd = pre.body.data as { 'dependent-ha-resources': string[]; not_allowed_nodes: Record<string, { 'blocking-ha-resources'?: unknown }> };
  assert.deepEqual(pd['dependent-ha-resources'], ['vm:103']);
  assert.deepEqual(pd.not_allowed_nodes.pve2!['blocking-ha-resources'], [{ sid: 'vm:110', cause: 'resource-affinity' }]);
  // PVE 8: groups, resources naming them, and no rules (501).
  s.version = '8.4.1';
  s.haGroups = [{ group: 'db', nodes: { pve1: 1, pve3: 0 }, restricted: true, nofailback: false }];
  s.guest(102)!.haGroup = 'db';
  const groups = await check('GET /cluster/ha/groups', '/cluster/ha/groups');
  assert.deepEqual(groups.body.data, [{ group: 'db', type: 'group', nodes: 'pve1:1,pve3', restricted: 1, nofailback: 0, digest: '0123456789abcdef0123456789abcdef01234567' }]);
  const res8 = await check('GET /cluster/ha/resources', '/cluster/ha/resources');
  assert.equal((res8.body.data as Array<{ sid: string; group?: string }>).find((r) => r.sid === 'vm:102')!.group, 'db');
  const r501 = await call('GET', '/cluster/ha/rules');
  assert.equal(r501.status, 501);
  assert.equal(r501.statusText, "Method 'GET /api2/json/cluster/ha/rules' not implemented");
  s.version = '9.1.1';
  s.haRules = [];
  s.haGroups = [];
  s.guest(103)!.ha = false;
  s.guest(110)!.ha = false;
  await check('GET /cluster/options', '/cluster/options');
  await check('GET /nodes/{node}/rrddata', '/nodes/pve1/rrddata?timeframe=hour&cf=AVERAGE');
  await check('GET /nodes/{node}/qemu/{vmid}/status/current', '/nodes/pve1/qemu/102/status/current');
  await check('GET /nodes/{node}/qemu/{vmid}/status/current', '/nodes/pve1/qemu/107/status/current');
  await check('GET /nodes/{node}/lxc/{vmid}/status/current', '/nodes/pve1/lxc/105/status/current');
  await check('GET /nodes/{node}/qemu/{vmid}/migrate', '/nodes/pve1/qemu/104/migrate?target=pve2');
  await check('GET /nodes/{node}/qemu/{vmid}/migrate', '/nodes/pve1/qemu/108/migrate');
  await check('GET /nodes/{node}/lxc/{vmid}/migrate', '/nodes/pve1/lxc/105/migrate?target=pve2');
  const vm = await check('POST /nodes/{node}/qemu/{vmid}/migrate', '/nodes/pve1/qemu/100/migrate', { target: 'pve2', online: '1' });
  const ct = await check('POST /nodes/{node}/lxc/{vmid}/migrate', '/nodes/pve1/lxc/105/migrate', { target: 'pve3', restart: '1' });
  const ha = await check('POST /nodes/{node}/qemu/{vmid}/migrate', '/nodes/pve1/qemu/102/migrate', { target: 'pve2', online: '1' });
  now += 3000;
  for (const upid of [vm.body.data, ct.body.data, ha.body.data] as string[]) {
    const node = upid.split(':')[1];
    await check('GET /nodes/{node}/tasks/{upid}/status', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
    const log = await check('GET /nodes/{node}/tasks/{upid}/log', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log?start=0&limit=0`);
    assert.equal(typeof log.body.total, 'number');
  }
  // Running tasks (no endtime), then finished ones (status, endtime), HA services in migrate.
  await check('GET /cluster/tasks', '/cluster/tasks');
  await check('GET /nodes/{node}/tasks', '/nodes/pve1/tasks?source=all&vmid=100&since=0&limit=100');
  await check('GET /cluster/ha/status/current', '/cluster/ha/status/current');
  now += 600_000;
  const tasks = await check('GET /cluster/tasks', '/cluster/tasks');
  assert.ok((tasks.body.data as Array<{ endtime?: number }>).every((t) => typeof t.endtime === 'number'));
  const done = (tasks.body.data as Array<{ upid: string; node: string }>)[0]!;
  await check('GET /nodes/{node}/tasks/{upid}/status', `/nodes/${done.node}/tasks/${encodeURIComponent(done.upid)}/status`);
  await check('GET /nodes/{node}/tasks/{upid}/log', `/nodes/${done.node}/tasks/${encodeURIComponent(done.upid)}/log?start=2&limit=3`);
  // Degraded states validate too: an offline node, quorum lost, a node in maintenance.
  const undo = [fake.inject({ kind: 'node-offline', node: 'pve3' }), fake.inject({ kind: 'quorum-loss' })];
  fake.state.node('pve2')!.lrm = 'maintenance';
  await check('GET /cluster/resources', '/cluster/resources');
  await check('GET /cluster/status', '/cluster/status');
  await check('GET /nodes', '/nodes');
  await check('GET /cluster/ha/status/current', '/cluster/ha/status/current');
  for (const u of undo) u();
  fake.state.node('pve2')!.lrm = 'idle';

  assert.deepEqual([...validated].sort(), Object.keys(ROUTES).sort(), 'every route of the fake was checked');
});

test('errors have Proxmox shape: status line = first line of the message, data null, message, errors', async () => {
  const bad = await call('GET', '/version', undefined, `${fake.tokenId}=wrong-secret`);
  assert.equal(bad.status, 401);
  assert.equal(bad.body.data, null);
  const forbidden = await call('GET', '/cluster/status', undefined, 'nobody@pve!x=no-privs-secret');
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.statusText, 'Permission check failed (/, Sys.Audit)');
  assert.equal(forbidden.body.message, 'Permission check failed (/, Sys.Audit)\n');
  assert.equal(forbidden.body.data, null);
  const param = await call('POST', '/nodes/pve2/qemu/110/migrate', { target: 'pve2', online: '1' });
  assert.equal(param.status, 400);
  assert.equal(param.statusText, 'Parameter verification failed.');
  assert.deepEqual(Object.keys(param.body.errors ?? {}), ['target']);
  const unknownParam = await call('POST', '/nodes/pve2/qemu/110/migrate', { target: 'pve1', restart: '1' });
  assert.equal(unknownParam.status, 400);
  assert.ok(unknownParam.body.errors?.restart);
  const locked = await call('POST', '/nodes/pve1/qemu/107/migrate', { target: 'pve2', online: '1' });
  assert.equal(locked.status, 500);
  assert.equal(locked.statusText, 'VM is locked (backup)');
  const none = await call('GET', '/nodes/pve1/frobnicate');
  assert.equal(none.status, 501);
  assert.equal(none.statusText, "Method 'GET /api2/json/nodes/pve1/frobnicate' not implemented");
});

test('the schema mapping accepts the real captures (0/1 booleans, optional fields)', () => {
  const real: Array<[string, string]> = [
    ['GET /cluster/status', 'go-proxmox_pve8x_cluster_status.json'],
    ['GET /cluster/resources', 'go-proxmox_pve8x_cluster_resources.json'],
    ['GET /nodes', 'go-proxmox_pve8x_nodes.json'],
    ['GET /access/permissions', 'go-proxmox_pve8x_access_permissions.json'],
    ['GET /nodes/{node}/tasks/{upid}/status', 'proxmoxer_task_status_stopped_ok.json'],
    ['GET /nodes/{node}/tasks/{upid}/status', 'proxmoxer_task_status_running.json'],
    ['GET /nodes/{node}/tasks/{upid}/log', 'real_qmigrate_live_log_ha_vm105.json'],
    ['GET /nodes/{node}/tasks/{upid}/log', 'real_qmigrate_live_log_ha_vm20057.json'],
  ];
  for (const [key, file] of real) {
    const errs = validateReturns(key, readFixture<{ data: unknown }>(file).data);
    assert.deepEqual(errs, [], `${file}: ${errs.join('\n')}`);
  }
  // And refuses what a real server never sends: true/false booleans (the SYNTHETIC capture).
  const synthetic = readFixture<{ data: unknown }>('go-proxmox_pve9x_SYNTHETIC_qemu_101_migrate_precondition.json').data;
  assert.notDeepEqual(validateReturns('GET /nodes/{node}/qemu/{vmid}/migrate', synthetic), []);
});
