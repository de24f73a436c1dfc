import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakePve, type FakePve } from './fake-pve/server.js';
import { clientFor } from './helpers/pve.js';
import { assertValidSnapshot } from './helpers/snapshot-schema.js';
import { takeSnapshot } from '../src/pve/snapshot.js';
import type { ClusterSnapshot } from '../src/generated/snapshot.js';

async function snapshotOf(fake: FakePve, over = {}): Promise<ClusterSnapshot> {
  const c = clientFor(fake, over);
  try {
    return await takeSnapshot(c);
  } finally {
    await c.close();
  }
}

for (const [nodes, guests] of [
  [3, 30],
  [20, 2000],
] as const) {
  test(`a snapshot of ${nodes} nodes / ${guests} guests takes at most 7 + ${nodes} requests`, async () => {
    const fake = await startFakePve({ generate: { nodes, guests, seed: 11 } });
    try {
      const snap = await snapshotOf(fake);
      const sent = fake.requests.total();
      assert.ok(sent <= 7 + nodes, `${sent} requests: ${JSON.stringify(fake.requests.counts)}`);
      assert.equal(fake.requests.counts['GET /nodes/{node}/rrddata'], nodes, 'one rrddata per online node');
      assert.equal(snap.api.requests, sent, 'the snapshot says how many requests it made');
      assert.equal(snap.guests.length, guests);
      assert.equal(snap.nodes.length, nodes);
      assert.ok(snap.nodes.every((n) => n.complete && n.avg && n.avg.samples === 70));
      assert.deepEqual(snap.unknowns, []);
      assertValidSnapshot(snap);
    } finally {
      await fake.close();
    }
  });
}

test('the demo snapshot holds guests, tags, locks, HA state, storages and CRS as the cluster has them', async () => {
  const fake = await startFakePve({ scenario: 'demo' });
  try {
    const s = await snapshotOf(fake);
    assertValidSnapshot(s);
    assert.equal(s.cluster.name, 'demo');
    assert.equal(s.cluster.quorate, true);
    assert.equal(s.cluster.standalone, false);
    assert.deepEqual(s.crs, { ha_auto_rebalance: false, ha_mode: 'static' });
    const g = (id: number) => s.guests.find((x) => x.vmid === id)!;
    assert.deepEqual(g(100).tags, ['prod', 'web']);
    assert.equal(g(107).lock, 'backup');
    assert.equal(g(102).hastate, 'started');
    assert.equal(g(100).hastate, null);
    assert.equal(g(105).type, 'lxc');
    assert.equal(g(113).template, true);
    assert.equal(g(112).status, 'stopped');
    const pve1 = s.nodes.find((n) => n.name === 'pve1')!;
    assert.equal(pve1.ha_state, 'active');
    assert.ok(pve1.mem / pve1.maxmem > 0.75, 'pve1 is the hot node');
    // Node figures follow from the guests on the node.
    const onPve1 = s.guests.filter((x) => x.node === 'pve1' && x.status === 'running').reduce((a, x) => a + x.mem, 0);
    assert.equal(pve1.mem, 2 * 1024 ** 3 + onPve1);
    assert.ok(s.storages.some((st) => st.storage === 'ceph' && st.shared && st.content.includes('images')));
    assert.equal(s.tasks.length, 0);
  } finally {
    await fake.close();
  }
});

test('offline node, HA maintenance, missing rrddata and a running migration are reported, not invented', async () => {
  let now = Date.now();
  const fake = await startFakePve({ scenario: 'maintenance', clock: () => now, msPerSecond: 1000 });
  try {
    fake.inject({ kind: 'rrd-empty', node: 'pve2' });
    const c = clientFor(fake);
    const upid = await c.migrate({ vmid: 202, type: 'qemu', node: 'pve1', status: 'running' }, 'pve2');
    now += 2000;
    const s = await takeSnapshot(c);
    await c.close();
    assertValidSnapshot(s);
    const n = (name: string) => s.nodes.find((x) => x.name === name)!;
    assert.equal(n('pve3').status, 'offline');
    assert.equal(n('pve3').complete, false);
    assert.equal(n('pve3').avg, null);
    assert.equal(n('pve4').ha_state, 'maintenance');
    assert.equal(n('pve2').avg, null);
    assert.equal(n('pve2').complete, false);
    assert.equal(n('pve1').complete, true);
    assert.ok(s.unknowns.some((u) => u.includes('pve3') && u.includes('offline')), s.unknowns.join('\n'));
    assert.ok(s.unknowns.some((u) => u.includes('rrddata of pve2')), s.unknowns.join('\n'));
    assert.ok(s.unknowns.some((u) => u.startsWith('guests on pve3')), s.unknowns.join('\n'));
    assert.equal(s.guests.find((g) => g.vmid === 203)!.status, 'unknown');
    assert.deepEqual(s.crs, { ha_auto_rebalance: true, ha_mode: 'static' });
    const t = s.tasks.find((x) => x.upid === upid)!;
    assert.equal(t.type, 'qmigrate');
    assert.equal(t.status, null);
    assert.equal(t.endtime, null);
    assert.equal(s.guests.find((g) => g.vmid === 202)!.lock, 'migrate');
    assert.equal(fake.requests.total(), 1 + 7 + 3, 'one POST, then 7 + 3 online nodes (pve3 is offline): HA resources and rules included');
    assert.equal(s.api.requests, 7 + 3);
  } finally {
    await fake.close();
  }
});

test('an rrddata failure marks only that node; quorum loss shows', async () => {
  const fake = await startFakePve({ scenario: 'demo' });
  try {
    fake.inject({ kind: 'status', path: '/nodes/pve2/rrddata', status: 500, message: 'rrd error' });
    fake.inject({ kind: 'quorum-loss' });
    const s = await snapshotOf(fake, { retries: 0 });
    assertValidSnapshot(s);
    assert.equal(s.cluster.quorate, false);
    assert.equal(s.nodes.find((n) => n.name === 'pve2')!.complete, false);
    assert.equal(s.nodes.find((n) => n.name === 'pve1')!.complete, true);
    assert.ok(s.unknowns.some((u) => u.includes('rrddata of pve2') && u.includes('rrd error')));
  } finally {
    await fake.close();
  }
});

test('a token without Sys.Audit: optional endpoints degrade to unknown, the snapshot still comes', async () => {
  const fake = await startFakePve({ scenario: 'demo', tokens: [{ id: 'ro@pve!vm', secret: 'ro-secret-123456', privileges: ['VM.Audit', 'Datastore.Audit'] }] });
  try {
    const s = await snapshotOf(fake, { tokenId: 'ro@pve!vm', tokenSecret: 'ro-secret-123456' });
    assertValidSnapshot(s);
    assert.equal(s.cluster.quorate, null);
    assert.equal(s.guests.length, 14);
    assert.ok(s.unknowns.some((u) => u.includes('HA status') && u.includes('Sys.Audit')), s.unknowns.join('\n'));
    assert.ok(s.unknowns.some((u) => u.includes('/cluster/status') && u.includes('Sys.Audit')), s.unknowns.join('\n'));
    assert.equal(s.nodes.length, 0, 'no node the token may audit');
  } finally {
    await fake.close();
  }
});

test('the snapshot fails clearly when /cluster/resources cannot be read', async () => {
  const fake = await startFakePve({ scenario: 'demo' });
  try {
    fake.inject({ kind: 'status', path: '/cluster/resources', status: 500, message: 'pmxcfs not ready' });
    await assert.rejects(snapshotOf(fake, { retries: 0 }), /pmxcfs not ready/);
  } finally {
    await fake.close();
  }
});

test('a standalone node: no cluster entry, quorate, no name', async () => {
  const fake = await startFakePve({
    scenario: { cluster: null, nodes: [{ name: 'solo', maxcpu: 8, maxmem_gib: 32 }], guests: [{ vmid: 100, node: 'solo', tags: ['a,b'] }] },
  });
  try {
    const s = await snapshotOf(fake);
    assertValidSnapshot(s);
    assert.deepEqual(s.cluster, { name: null, quorate: true, standalone: true });
    assert.deepEqual(s.guests[0]!.tags, ['a', 'b']);
    assert.equal(s.api.requests, 6 + 1, 'no HA resource: the HA rules are not asked for');
  } finally {
    await fake.close();
  }
});
