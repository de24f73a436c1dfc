/**
 * The fresh look before each migrate request (src/engine/recheck.ts, issue 17): every reason a
 * planned move is held back when the cluster read just now says it no longer fits, and the two
 * views the caps are judged on (the fresh figures, and the planning figures with the moves this
 * run already started). The end-to-end tests (fault-injection.test.ts) show the same rule through
 * the real CLI; these pin each branch down for mutation testing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recheckMove, type RecheckMove } from '../src/engine/index.js';
import type { ClusterSnapshot } from '../src/generated/snapshot.js';
import { cluster, config, GiB, guest, node } from './helpers/engine.js';

/** pve2 at 72 % memory (70 GiB of guests and 2 GiB overhead), cap 90 %: VM 100 (8 GiB) fits, to 80 %. */
function base(): ClusterSnapshot {
  return cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(101, 'pve1', 30), guest(200, 'pve2', 70), guest(201, 'pve3', 10), guest(100, 'pve1', 8)]);
}
const MOVE: RecheckMove = { vmid: 100, source: 'pve1', target: 'pve2' };
const cfg = config();
const check = (fresh: ClusterSnapshot, started: RecheckMove[] = [], planned = base(), c = cfg, move = MOVE) => recheckMove(fresh, planned, c, move, started);
const edit = (f: (s: ClusterSnapshot) => void): ClusterSnapshot => {
  const s = base();
  f(s);
  return s;
};
const nodeOf = (s: ClusterSnapshot, name: string) => s.nodes.find((n) => n.name === name)!;

test('recheck: a move that still fits may start', () => {
  assert.equal(check(base()), null);
  // The move itself among the started ones does not count twice.
  assert.equal(check(base(), [MOVE]), null);
});

test('recheck: quorum, nodes online, maintenance, known load', () => {
  assert.equal(check(edit((s) => (s.cluster.quorate = false))), 'Cluster not quorate now');
  assert.equal(check(edit((s) => (s.cluster.quorate = null))), 'Cluster not quorate now (quorum unknown)');
  assert.equal(check(edit((s) => (nodeOf(s, 'pve1').status = 'offline'))), 'Source pve1 is not online now');
  assert.equal(check(edit((s) => (s.nodes = s.nodes.filter((n) => n.name !== 'pve1')))), 'Source pve1 is not online now');
  assert.equal(check(edit((s) => (nodeOf(s, 'pve2').status = 'offline'))), 'Target pve2 is not online now');
  assert.equal(check(edit((s) => (s.nodes = s.nodes.filter((n) => n.name !== 'pve2')))), 'Target pve2 is not online now');
  assert.equal(check(base(), [], base(), config({ automated_migrations: { maintenance_nodes: ['pve2'] } })), 'Target pve2 is in maintenance now');
  assert.equal(check(edit((s) => (nodeOf(s, 'pve2').ha_state = 'maintenance'))), 'Target pve2 is in maintenance now');
  assert.equal(check(edit((s) => (nodeOf(s, 'pve2').complete = false))), 'Target pve2: its load is not known now');
});

test('recheck: the guest is gone or has moved meanwhile', () => {
  assert.equal(check(edit((s) => (s.guests = s.guests.filter((g) => g.vmid !== 100)))), 'No longer in the cluster');
  assert.equal(check(edit((s) => (s.guests.find((g) => g.vmid === 100)!.node = 'pve3'))), 'No longer on pve1');
});

test('recheck: a target that filled up since planning (a guest started by hand) is refused, with the figures', () => {
  const fresh = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [...base().guests, guest(202, 'pve2', 15)]);
  assert.equal(check(fresh), 'Target pve2 would exceed the caps now: memory 87 % → 95 % (cap 90 %), CPU 4 % → 5 % (cap 85 %)');
});

test('recheck: moves this run already started count on their targets, at their configured memory', () => {
  // VM 101 (30 GiB) sent to pve2 and still on pve1: 72 + 30 + 8 > 90.
  assert.match(check(base(), [{ vmid: 101, source: 'pve1', target: 'pve2' }]) ?? '', /^Target pve2 would exceed the caps now: memory 102 % → 110 %/);
  // Sent elsewhere: pve2 is untouched.
  assert.equal(check(base(), [{ vmid: 101, source: 'pve1', target: 'pve3' }]), null);

  // VM 101 already landed on pve2, using 10 of its 20 GiB: the fresh figures say 82 %, and 8 GiB more
  // would be exactly 90 %; counted at its configured 20 GiB, pve2 is at 92 %: refused.
  const landed = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(100, 'pve1', 8), guest(101, 'pve2', 10, { maxmemGiB: 20 }), guest(200, 'pve2', 70), guest(201, 'pve3', 10)]);
  assert.equal(check(landed, [], landed), null, 'without the started move, 90 % is within the cap');
  const planned = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(100, 'pve1', 8), guest(101, 'pve1', 10, { maxmemGiB: 20 }), guest(200, 'pve2', 70), guest(201, 'pve3', 10)]);
  assert.match(check(landed, [{ vmid: 101, source: 'pve1', target: 'pve2' }], planned) ?? '', /^Target pve2 would exceed the caps now: memory 92 % → 100 %/);
  // The same on the fresh figures alone (the planning snapshot shows the guest landed too).
  assert.match(check(landed, [{ vmid: 101, source: 'pve1', target: 'pve2' }], landed) ?? '', /^Target pve2 would exceed the caps now: memory 92 % → 100 %/);
});

test('recheck: a target whose figures lag behind a guest that just landed is judged on the planning figures too', () => {
  // VM 101 (18 GiB) landed on pve2, but pve2 still reports 72 %: the fresh view alone (72 - 18 + 18
  // + 8 = 80 %) would let VM 100 go; planning figures plus the started move say 72 + 18 + 8 = 98 %.
  const fresh = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(100, 'pve1', 8), guest(101, 'pve2', 18), guest(200, 'pve2', 70), guest(201, 'pve3', 10)]);
  nodeOf(fresh, 'pve2').mem = 72 * GiB;
  nodeOf(fresh, 'pve2').avg!.mem = 72 * GiB;
  const planned = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(100, 'pve1', 8), guest(101, 'pve1', 18), guest(200, 'pve2', 70), guest(201, 'pve3', 10)]);
  const started = [{ vmid: 101, source: 'pve1', target: 'pve2' }];
  assert.match(check(fresh, started, planned) ?? '', /^Target pve2 would exceed the caps now: memory 90 % → 98 %/);
  assert.equal(check(fresh, started, fresh), null, 'the fresh view alone lets it through');
});

test('recheck: a started guest that landed is taken out of both the current figure and the hour average of its target, whichever lags', () => {
  // VM 101 landed on pve2 (10 of its 20 GiB in use); pve2 reports 82 % now. Planning view: pve2 without
  // VM 101, then VM 101 at its 20 GiB, then VM 100's 8 GiB.
  const landed = (avgGiB: number, status: 'running' | 'paused' = 'running') => {
    const s = cluster(['pve1', 'pve2', 'pve3'].map((n) => node(n)), [guest(100, 'pve1', 8), guest(101, 'pve2', 10, { maxmemGiB: 20, status }), guest(200, 'pve2', 70), guest(201, 'pve3', 10)]);
    nodeOf(s, 'pve2').mem = 82 * GiB; // a paused guest holds its memory too (the helper counts running guests only)
    nodeOf(s, 'pve2').avg!.mem = avgGiB * GiB;
    return s;
  };
  const started = [{ vmid: 101, source: 'pve1', target: 'pve2' }];
  // The average lags below (60 %): the worst of now (82 - 10) and the average (60 - 10) is 72, so 92 % with VM 101, 100 % with VM 100.
  assert.match(check(landed(60), started, landed(60)) ?? '', /^Target pve2 would exceed the caps now: memory 92 % → 100 %/);
  // A paused guest holds its memory like a running one.
  assert.match(check(landed(60, 'paused'), started, landed(60, 'paused')) ?? '', /^Target pve2 would exceed the caps now: memory 92 % → 100 %/);
  // The average lags above (88 %), cap 100 %: the fresh view (88 + 8 = 96) passes; the planning view is
  // max(72, 88 - 10) = 78, so 98 % with VM 101 and 106 % with VM 100.
  const cap100 = config({ automated_migrations: { safety_checks: { max_node_memory_percent: 100 } } } as never);
  assert.equal(check(landed(88), [], landed(88), cap100), null);
  assert.match(check(landed(88), started, landed(88), cap100) ?? '', /^Target pve2 would exceed the caps now: memory 98 % → 106 %/);
});
