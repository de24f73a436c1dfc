/**
 * Which guests the exact planner may move (src/engine/optimal/units.ts): the same rules as the
 * greedy planner, derived from the planner's own rule checks. No solver needed. Written for the
 * mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePlanner } from '../src/engine/index.js';
import { movableUnits } from '../src/engine/optimal/units.js';
import type { ClusterSnapshot, SnapshotGuest, SnapshotNode } from '../src/generated/snapshot.js';
import { cluster, config, guest, nodeAt, NO_HISTORY, NOW } from './helpers/engine.js';

const cfg = config({ automated_migrations: { planner: 'optimal' } } as never);

/** pve1 hot (30 % CPU, 82 % memory), pve2 and pve3 cool; `ha` lists the HA-managed guests and positive pairs. */
function setup(guests: SnapshotGuest[], nodes: SnapshotNode[] = [nodeAt('pve1', 30, 82), nodeAt('pve2', 10, 20), nodeAt('pve3', 10, 20)], ha?: { managed: number[]; pairs?: number[][] }) {
  const snap: ClusterSnapshot = cluster(nodes, guests, {}, true);
  if (ha) {
    for (const g of snap.guests) if (ha.managed.includes(g.vmid)) g.hastate = 'started';
    snap.ha = {
      source: 'rules', complete: true, status_known: true, services: [],
      resources: ha.managed.map((vmid) => ({ sid: `vm:${vmid}`, vmid, state: 'started', failback: true, group: null })),
      rules: (ha.pairs ?? []).map((pair, i) => ({ rule: `pair${i}`, type: 'resource-affinity', resources: pair.map((v) => `vm:${v}`), affinity: 'positive', disabled: false })),
    };
  }
  const { planner: p } = makePlanner(snap, cfg, NO_HISTORY, NOW);
  const { units } = movableUnits(p);
  return { p, units, ids: units.map((u) => u.guests.map((g) => g.vmid)) };
}

test('units: only running guests move for load; a stopped one only to part an exclude group', () => {
  const { ids } = setup([
    guest(101, 'pve1', 8),
    guest(102, 'pve1', 8, { status: 'stopped' }),
    guest(103, 'pve1', 4, { status: 'stopped', tags: ['exclude_db'] }),
    guest(104, 'pve1', 4, { tags: ['exclude_db'] }),
  ]);
  assert.deepEqual(ids, [[101], [103], [104]]);
});

test('units: the guests of a node not read in full stay, and so do HA partners that are apart (HA reunites them first)', () => {
  const { ids } = setup(
    [guest(101, 'pve1', 8), guest(102, 'pve1', 8), guest(201, 'pve2', 4), guest(301, 'pve3', 4)],
    [nodeAt('pve1', 30, 82), nodeAt('pve2', 10, 20, { complete: false }), nodeAt('pve3', 10, 20)],
    { managed: [102, 301], pairs: [[102, 301]] },
  );
  assert.deepEqual(ids, [[101]]);
});

test('units: on a node in HA maintenance the HA-managed guests are left to HA (skipped, saying so) and the others evacuate', () => {
  const { p, units, ids } = setup(
    [guest(101, 'pve1', 8), guest(301, 'pve3', 4), guest(302, 'pve3', 4)],
    [nodeAt('pve1', 30, 82), nodeAt('pve2', 10, 20), nodeAt('pve3', 10, 20, { ha_state: 'maintenance' })],
    { managed: [301] },
  );
  assert.deepEqual(ids, [[101], [302]]);
  assert.deepEqual(units.map((u) => u.evacuate), [false, true]);
  const k = p.skipped.get(301)!;
  assert.deepEqual([k.reason, k.detail], ['Managed by HA maintenance mode', 'pve3 is in HA maintenance; Proxmox HA moves HA-managed guests itself']);
});

test("units: a guest a rule holds is skipped with the rule's reason on a hot source, and not listed on a cool one", () => {
  const { p, ids } = setup([guest(101, 'pve1', 8), guest(102, 'pve1', 8, { tags: ['ignore'] }), guest(201, 'pve2', 4, { tags: ['ignore'] })]);
  assert.deepEqual(ids, [[101]]);
  const k = p.skipped.get(102)!;
  assert.deepEqual([k.reason, k.kind], ["Has 'ignore' tag", 'load']);
  assert.equal(p.skipped.has(201), false);
});
