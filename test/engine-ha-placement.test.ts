/**
 * HaPlacement (src/engine/ha.ts) question by question, without a plan around it: which guests HA
 * manages, the allowed and preferred nodes of every kind of node-affinity rule, the partners of
 * negative and positive resource affinity, the words of every refusal, the busy and recovering
 * service states. Written for the mutation run: the plan-level tests in engine-ha.test.ts see only
 * whether a move happens, these pin each answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUSY_STATES, HaPlacement, RECOVERY_STATES, ruleName } from '../src/engine/ha.js';
import type { ClusterSnapshot, SnapshotHa, SnapshotHaRule } from '../src/generated/snapshot.js';
import { cluster, guest, node } from './helpers/engine.js';

const nodeRule = (rule: string, sids: string[], nodes: Record<string, number>, strict = false): SnapshotHaRule => ({ rule, type: 'node-affinity', resources: sids, nodes, strict, disabled: false });
const resRule = (rule: string, sids: string[], affinity: 'positive' | 'negative'): SnapshotHaRule => ({ rule, type: 'resource-affinity', resources: sids, affinity, disabled: false });

/** pve1..pve4 (pve4 offline unless `nodes` says otherwise), guests 1..6 on pve1, 7 a container on pve2; HA manages `sids`. */
function snapWith(sids: string[], rules: SnapshotHaRule[], over: Partial<SnapshotHa> = {}, nodes = ['pve1', 'pve2', 'pve3', 'pve4'].map((n) => node(n, n === 'pve4' ? { status: 'offline' } : {}))): ClusterSnapshot {
  const guests = [1, 2, 3, 4, 5, 6].map((v) => guest(v, 'pve1', 1));
  guests.push(guest(7, 'pve2', 1, { type: 'lxc' }));
  const snap = cluster(nodes, guests);
  snap.ha = {
    source: 'rules', complete: true, status_known: true, services: [],
    resources: sids.map((sid) => ({ sid, vmid: Number(sid.split(':')[1]), state: 'started', failback: true, group: null })),
    rules, ...over,
  };
  return snap;
}
const whereIn = (snap: ClusterSnapshot, moved: Record<number, string> = {}) => (v: number) => moved[v] ?? snap.guests.find((g) => g.vmid === v)?.node;
const sorted = (s: Set<string> | null | undefined) => (s ? [...s].sort() : s);

test('HA placement: a snapshot without HA data knows nothing and manages only guests with an HA state', () => {
  const snap = cluster([node('pve1'), node('pve2')], [guest(1, 'pve1', 1, { hastate: 'started' }), guest(2, 'pve1', 1)]);
  const ha = new HaPlacement(snap);
  assert.deepEqual([ha.known, ha.complete, ha.isHa(1), ha.isHa(2), ha.guests.size], [false, true, true, false, 0]);
  assert.equal(ha.unknown(1), null, 'complete: nothing is unknown');
  assert.equal(ha.stateUnknown(), false, 'no HA data: not "unknown while HA guests exist"');
  assert.equal(ha.recovering(), null);
  assert.equal(ha.block(2, 'pve2', whereIn(snap)), null, 'not HA: never blocked');
});

test('HA placement: an ignored resource is not managed, even with an HA state; a resource in HA data is managed without one', () => {
  const snap = snapWith(['vm:1', 'vm:2'], []);
  snap.guests[0]!.hastate = 'started';
  snap.ha!.resources[0]!.state = 'ignored';
  const ha = new HaPlacement(snap);
  assert.deepEqual([ha.isHa(1), ha.isHa(2), ha.isHa(3)], [false, true, false]);
  assert.deepEqual([...ha.guests.keys()], [2]);
  assert.equal(ha.guests.get(2)!.sid, 'vm:2');
  assert.equal(ha.guests.get(2)!.failback, true);
});

test('HA placement: incomplete HA data makes every HA guest unknown, with the words that say so', () => {
  const snap = snapWith(['vm:1'], [], { complete: false });
  const ha = new HaPlacement(snap);
  assert.equal(ha.complete, false);
  assert.deepEqual(ha.unknown(1), { reason: 'HA placement unknown', detail: "the HA rules or resources could not be read (see the snapshot's unknowns); HA-managed guests are not moved" });
  assert.equal(ha.unknown(2), null, 'not HA-managed: HA data does not matter');
  assert.deepEqual(ha.block(1, 'pve2', whereIn(snap)), null, 'a known HA guest: the rules decide (none here)');
  const partial = snapWith(['vm:1'], [], { complete: false });
  partial.guests[1]!.hastate = 'started'; // HA state seen on the guest, but its resource was not read
  assert.equal(new HaPlacement(partial).block(2, 'pve2', whereIn(partial))?.reason, 'HA placement unknown');
});

test('HA placement: strict, non-strict and priority rules give the allowed and preferred nodes HA computes', () => {
  const snap = snapWith(['vm:1', 'vm:2', 'vm:3', 'vm:4', 'vm:5'], [
    nodeRule('strict', ['vm:1'], { pve2: 1, pve1: 1, pve4: 5 }, true),
    nodeRule('loose', ['vm:2'], { pve3: 1, pve2: 2 }),
    nodeRule('negative-prio', ['vm:3'], { pve2: -5 }),
    nodeRule('all-offline', ['vm:4'], { pve4: 1 }, true),
    nodeRule('second', ['vm:2', 'vm:5'], { pve3: 9 }),
  ]);
  const ha = new HaPlacement(snap);
  const g = (v: number) => ha.guests.get(v)!;
  assert.deepEqual([sorted(g(1).allowed), sorted(g(1).preferred)], [['pve1', 'pve2'], ['pve1', 'pve2']], 'strict: the listed online nodes; the offline pve4 does not count');
  assert.deepEqual(g(1).nodeRule, { name: 'strict', strict: true, nodes: { pve2: 1, pve1: 1, pve4: 5 } });
  assert.deepEqual([sorted(g(2).allowed), sorted(g(2).preferred)], [['pve1', 'pve2', 'pve3'], ['pve2']], 'non-strict: every online node, the highest priority preferred');
  assert.equal(g(2).nodeRule?.name, 'loose', 'a guest is in one node rule: the first one counts');
  assert.equal(g(2).nodeRule?.strict, false);
  assert.deepEqual([sorted(g(3).allowed), sorted(g(3).preferred)], [['pve1', 'pve2', 'pve3'], ['pve1', 'pve3']], 'unlisted nodes are at -1, above a listed -5');
  assert.deepEqual([sorted(g(4).allowed), sorted(g(4).preferred)], [[], []], 'strict and every listed node offline: nowhere');
  assert.deepEqual([sorted(g(5).allowed), sorted(g(5).preferred)], [['pve1', 'pve2', 'pve3'], ['pve3']]);
  assert.deepEqual([g(6 as never)], [undefined]);
});

test('HA placement: a node in HA maintenance is neither allowed nor preferred', () => {
  const nodes = ['pve1', 'pve2', 'pve3'].map((n) => node(n, n === 'pve2' ? { ha_state: 'maintenance' } : {}));
  const snap = snapWith(['vm:1'], [nodeRule('pin', ['vm:1'], { pve2: 2, pve3: 1 })], {}, nodes);
  const g = new HaPlacement(snap).guests.get(1)!;
  assert.deepEqual([sorted(g.allowed), sorted(g.preferred)], [['pve1', 'pve3'], ['pve3']]);
});

test('HA placement: the refusals name the rule, the nodes in numeric order and the guest (VM or CT)', () => {
  const snap = snapWith(['vm:1', 'vm:2', 'ct:7', 'vm:4'], [
    nodeRule('strict', ['vm:1'], { pve10: 1, pve2: 1, pve1: 1 }, true),
    nodeRule('group:db', ['vm:2', 'ct:7'], { pve3: 2, pve1: 1 }),
    nodeRule('gone', ['vm:4'], { pve4: 1 }, true),
  ]);
  const ha = new HaPlacement(snap);
  const w = whereIn(snap);
  assert.deepEqual(ha.block(1, 'pve3', w), { reason: "HA rule 'strict' allows only pve1, pve2, pve10 (strict)", detail: 'VM 1 may not run on pve3' });
  assert.equal(ha.block(1, 'pve2', w), null, 'allowed and preferred (all at priority 1)');
  assert.deepEqual(ha.block(2, 'pve1', w), { reason: "HA group 'db' prefers pve3 (failback on)", detail: 'HA would migrate VM 2 back from pve1' });
  assert.deepEqual(ha.block(7, 'pve2', w), { reason: "HA group 'db' prefers pve3 (failback on)", detail: 'HA would migrate CT 7 back from pve2' });
  assert.equal(ha.block(7, 'pve3', w), null);
  // Strict with every listed node offline: nothing is allowed, and the refusal names the rule's nodes.
  assert.deepEqual(ha.block(4, 'pve2', w), { reason: "HA rule 'gone' allows only pve4 (strict)", detail: 'VM 4 may not run on pve2' });
  assert.equal(ruleName('group:x'), "HA group 'x'");
  assert.equal(ruleName('groupie'), "HA rule 'groupie'");
});

test('HA placement: failback off lets a guest go to any allowed node; a non-strict rule with nothing preferred names its nodes', () => {
  const snap = snapWith(['vm:1', 'vm:2'], [nodeRule('soft', ['vm:1'], { pve3: 1 }), nodeRule('off', ['vm:2'], { pve4: 3 })]);
  snap.ha!.resources[0]!.failback = false;
  const ha = new HaPlacement(snap);
  const w = whereIn(snap);
  assert.equal(ha.guests.get(1)!.failback, false);
  assert.equal(ha.block(1, 'pve2', w), null, 'failback off: HA leaves it where it is sent');
  // pve4 (the only listed node) is offline: every online node is at -1, all preferred.
  assert.deepEqual(sorted(ha.guests.get(2)!.preferred), ['pve1', 'pve2', 'pve3']);
  assert.equal(ha.block(2, 'pve2', w), null);
});

test('HA placement: negative affinity refuses a node that holds a partner, naming partner and rule, unless the partner moves along', () => {
  const snap = snapWith(['vm:1', 'vm:2', 'ct:7', 'vm:3'], [resRule('apart', ['vm:1', 'ct:7', 'vm:9'], 'negative'), resRule('together', ['vm:2', 'vm:3'], 'positive'), resRule('apart2', ['vm:3', 'ct:7'], 'negative')]);
  const ha = new HaPlacement(snap);
  const w = whereIn(snap);
  assert.deepEqual(ha.guests.get(1)!.negative, [{ rule: 'apart', vmid: 7, sid: 'ct:7' }], 'vm:9 is not an HA resource: no partner');
  assert.deepEqual(ha.guests.get(7)!.negative, [{ rule: 'apart', vmid: 1, sid: 'vm:1' }, { rule: 'apart2', vmid: 3, sid: 'vm:3' }]);
  assert.deepEqual(ha.block(1, 'pve2', w), { reason: 'HA negative affinity with CT 7 on pve2', detail: "HA rule 'apart'" });
  assert.equal(ha.block(1, 'pve3', w), null);
  assert.equal(ha.block(1, 'pve2', whereIn(snap, { 7: 'pve3' })), null, 'the partner has been moved away in the simulation');
  // VM 2 brings VM 3 along (positive); VM 3's negative partner CT 7 is on pve2.
  assert.deepEqual(ha.block(2, 'pve2', w), { reason: 'HA negative affinity with CT 7 on pve2', detail: "HA rule 'apart2' (VM 3 comes along)" });
});

test('HA placement: positive affinity joins rules into groups; the partners not already on the target come along, by vmid', () => {
  const snap = snapWith(['vm:1', 'vm:2', 'vm:3', 'vm:4', 'vm:5', 'vm:6'], [
    resRule('b-pair', ['vm:3', 'vm:1'], 'positive'),
    resRule('a-chain', ['vm:1', 'vm:5'], 'positive'),
    resRule('lonely', ['vm:6', 'vm:99'], 'positive'),
    resRule('pair2', ['vm:2', 'vm:4'], 'positive'),
    { ...resRule('off', ['vm:2', 'vm:6'], 'positive'), disabled: true },
  ]);
  const ha = new HaPlacement(snap);
  assert.deepEqual(ha.guests.get(3)!.positive, { rules: ['a-chain', 'b-pair'], members: [1, 3, 5] });
  assert.deepEqual(ha.guests.get(5)!.positive, { rules: ['a-chain', 'b-pair'], members: [1, 3, 5] });
  assert.deepEqual(ha.guests.get(4)!.positive, { rules: ['pair2'], members: [2, 4] });
  assert.equal(ha.guests.get(6)!.positive, null, 'its only partner is not an HA resource, and the disabled rule does not count');
  const w = whereIn(snap, { 5: 'pve2' });
  assert.deepEqual(ha.comovers(3, 'pve3', w), [1, 5]);
  assert.deepEqual(ha.comovers(3, 'pve2', w), [1], 'VM 5 is on pve2 already');
  assert.deepEqual(ha.comovers(6, 'pve2', w), []);
  assert.deepEqual(ha.comovers(42, 'pve2', w), [], 'not HA');
  assert.deepEqual(ha.comovers(3, 'pve3', (v) => (v === 1 ? undefined : w(v))), [5], 'a partner that is nowhere (gone) does not come');
});

test('HA placement: a partner that comes along is refused by its own node rule, and the refusal says so', () => {
  const snap = snapWith(['vm:1', 'vm:2'], [resRule('pair', ['vm:1', 'vm:2'], 'positive'), nodeRule('pin', ['vm:2'], { pve1: 1, pve3: 1 }, true)]);
  const ha = new HaPlacement(snap);
  const w = whereIn(snap);
  assert.deepEqual(ha.block(1, 'pve2', w), { reason: "HA rule 'pin' allows only pve1, pve3 (strict)", detail: 'VM 2 comes along (HA positive affinity): VM 2 may not run on pve2' });
  assert.equal(ha.block(1, 'pve3', w), null);
  assert.deepEqual(ha.block(2, 'pve2', w), { reason: "HA rule 'pin' allows only pve1, pve3 (strict)", detail: 'VM 2 may not run on pve2' });
});

test('HA placement: busy service states refuse a migration request, in words; other states and unknown services do not', () => {
  const services = [...BUSY_STATES].map((state, i) => ({ sid: `vm:${i + 1}`, node: 'pve1', state }));
  const snap = snapWith(services.map((s) => s.sid), [], { services: [...services, { sid: 'vm:99', node: 'pve1', state: 'started' }] });
  const ha = new HaPlacement(snap);
  assert.deepEqual(ha.busy(1), { reason: `HA service state '${services[0]!.state}'`, detail: 'Proxmox HA would not carry out a migration request now' });
  for (const s of services) assert.equal(ha.busy(Number(s.sid.slice(3)))?.reason, `HA service state '${s.state}'`, s.state);
  const calm = snapWith(['vm:1', 'vm:2'], [], { services: [{ sid: 'vm:1', node: 'pve1', state: 'started' }] });
  assert.equal(new HaPlacement(calm).busy(1), null);
  assert.equal(new HaPlacement(calm).busy(2), null, 'no service state read for it');
  assert.equal(new HaPlacement(calm).busy(3), null, 'not HA');
  assert.deepEqual([...BUSY_STATES].sort(), ['error', 'fence', 'freeze', 'migrate', 'recovery', 'relocate', 'request_start_balance', 'request_stop']);
  assert.deepEqual([...RECOVERY_STATES].sort(), ['fence', 'recovery']);
});

test('HA placement: recovery names the first service being fenced or recovered, else a node being fenced', () => {
  const svc = (sid: string, state: string) => ({ sid, node: 'pve1', state });
  const h = (services: SnapshotHa['services'], nodes?: ReturnType<typeof node>[]) => new HaPlacement(snapWith(['vm:1'], [], { services }, nodes)).recovering();
  assert.equal(h([svc('vm:1', 'started'), svc('ct:104', 'fence'), svc('vm:5', 'recovery')]), 'CT 104 (fence)');
  assert.equal(h([svc('vm:5', 'recovery')]), 'VM 5 (recovery)');
  assert.equal(h([svc('odd', 'recovery')]), 'odd (recovery)', 'a sid without a number is shown as it is');
  assert.equal(h([svc('vm:1', 'migrate')]), null);
  const fencing = ['pve1', 'pve2', 'pve3'].map((n) => node(n, { ha_state: n === 'pve3' ? 'fence' : n === 'pve2' ? 'online' : null }));
  assert.equal(h([], fencing), 'node pve3 (fence)');
  assert.equal(h([], ['pve1', 'pve2'].map((n) => node(n, { ha_state: n === 'pve2' ? 'unfencing' : 'online' }))), 'node pve2 (unfencing)');
  assert.equal(h([], ['pve1', 'pve2'].map((n) => node(n, { ha_state: 'maintenance' }))), null);
});

test('HA placement: the HA state is unknown only when it was not read while HA guests exist', () => {
  assert.equal(new HaPlacement(snapWith(['vm:1'], [], { status_known: false })).stateUnknown(), true);
  assert.equal(new HaPlacement(snapWith(['vm:1'], [], { status_known: true })).stateUnknown(), false);
  assert.equal(new HaPlacement(snapWith([], [], { status_known: false })).stateUnknown(), false, 'no HA guest: nothing to recover');
});
