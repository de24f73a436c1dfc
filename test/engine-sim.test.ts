/**
 * The simulator (src/engine/state.ts) at its boundaries, where a safety rule turns on one point:
 * a target landing exactly on a cap is allowed and a hair over it is not, a node exactly at a
 * threshold is not hot, a node exactly at a cap has no room, which nodes take part, which tags make
 * an anti-affinity group, and what an arrival of several guests weighs. Written for the mutation run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from '../src/engine/state.js';
import type { SnapshotGuest, SnapshotNode } from '../src/generated/snapshot.js';
import { cluster, GiB, guest, nodeAt } from './helpers/engine.js';

const TH = { cpu: 60, mem: 70, iowait: 30 };
const CAPS = { mem: 90, cpu: 85 };
const simOf = (nodes: SnapshotNode[], guests: SnapshotGuest[] = [], trackGroups = true) => new Sim(cluster(nodes, guests, {}, true), TH, CAPS, new Set(), trackGroups);

test('sim: a target that lands exactly on a cap is allowed; just over it is not (memory and CPU)', () => {
  // pve2 at 80 % memory and 75 % CPU; a guest of 10 GiB configured and one core lands on 90 % and 85 %.
  const sim = simOf([nodeAt('pve1', 10, 10), nodeAt('pve2', 75, 80)], [guest(101, 'pve1', 10, { cpu: 1 }), guest(102, 'pve1', 10.5, { cpu: 1 }), guest(103, 'pve1', 10, { cpu: 1, maxcpu: 2 })]);
  const t = sim.byName.get('pve2')!;
  const ev = (vmid: number) => sim.evaluate(sim.arrival([sim.guest(vmid)!]), t);
  assert.deepEqual([ev(101).worstMemPct, ev(101).worstCpuPct, ev(101).capOk, sim.fits(sim.arrival([sim.guest(101)!]), t)], [90, 85, true, true]);
  assert.deepEqual([ev(102).worstMemPct, ev(102).capOk, sim.fits(sim.arrival([sim.guest(102)!]), t)], [90.5, false, false]);
  assert.deepEqual([ev(103).worstCpuPct, ev(103).capOk], [95, false]);
});

test('sim: a node exactly at a cap has no room left; just under it has', () => {
  const sim = simOf([nodeAt('pve1', 85, 50), nodeAt('pve2', 50, 90), nodeAt('pve3', 84, 89)]);
  assert.deepEqual(['pve1', 'pve2', 'pve3'].map((n) => sim.hasRoom(sim.byName.get(n)!)), [false, false, true]);
});

test('sim: a node exactly at a threshold is not hot; above it is; iowait makes a node hot but not hot by CPU or memory', () => {
  const sim = simOf([nodeAt('pve1', 60, 70, {}, 30), nodeAt('pve2', 61, 10), nodeAt('pve3', 10, 71), nodeAt('pve4', 10, 10, {}, 31)]);
  const hot = (n: string) => [sim.hot(sim.byName.get(n)!), sim.hotCpuMem(sim.byName.get(n)!)];
  assert.deepEqual(['pve1', 'pve2', 'pve3', 'pve4'].map(hot), [[false, false], [true, true], [true, true], [true, false]]);
});

test('sim: only online, fully read nodes with capacity take part; a guest on an unknown node is left out', () => {
  const sim = simOf([nodeAt('pve1', 10, 10), nodeAt('pve2', 10, 10, { maxmem: 0 }), nodeAt('pve3', 10, 10, { maxcpu: 0 }), nodeAt('pve4', 10, 10, { complete: false }), nodeAt('pve5', 10, 10, { status: 'offline' })], [guest(101, 'pve1', 1), guest(102, 'pve9', 1)]);
  assert.deepEqual(sim.nodes.map((n) => n.balanced), [true, false, false, false, false]);
  assert.equal(sim.cpuPct(sim.byName.get('pve3')!), 0, 'no CPU capacity: 0 %, not a division by zero');
  assert.deepEqual([sim.guest(101)?.vmid, sim.guest(102), sim.guest(100), sim.guest(200)], [101, undefined, undefined, undefined]);
});

test('sim: exclude_<name> tags make anti-affinity groups (not a bare exclude_, not other tags), only when tracked', () => {
  const tags = ['exclude_db', 'exclude_', 'db', 'exclude-web'];
  const sim = simOf([nodeAt('pve1', 10, 10), nodeAt('pve2', 10, 10)], [guest(101, 'pve1', 1, { tags }), guest(102, 'pve2', 1, { tags: ['exclude_db'] })]);
  assert.deepEqual(sim.guest(101)!.groups, ['exclude_db']);
  assert.equal(sim.conflict(sim.guest(101)!, sim.byName.get('pve2')!), 'exclude_db', 'VM 102 of the same group is there');
  assert.equal(sim.conflict(sim.guest(101)!, sim.byName.get('pve1')!), null, 'its own node, where it is the only one');
  assert.deepEqual(simOf([nodeAt('pve1', 10, 10)], [guest(101, 'pve1', 1, { tags })], false).guest(101)!.groups, []);
});

test('sim: an arrival of several guests weighs all of them; a guest that leaves takes its share off its source', () => {
  const sim = simOf([nodeAt('pve1', 40, 40), nodeAt('pve2', 10, 10)], [guest(101, 'pve1', 8, { cpu: 0.5, maxmemGiB: 12 }), guest(102, 'pve1', 4, { cpu: 1, maxmemGiB: 4 })]);
  const a = sim.arrival([sim.guest(101)!, sim.guest(102)!]);
  assert.deepEqual([a.cpuCores, a.mem / GiB, a.reserve / GiB], [1.5, 12, 16]);
  const t = sim.byName.get('pve2')!;
  const ev = sim.evaluate(a, t);
  assert.deepEqual([ev.cpuPct, ev.memPct, ev.worstMemPct], [25, 22, 26]);
  sim.apply(sim.guest(101)!, t);
  const s = sim.byName.get('pve1')!;
  assert.deepEqual([sim.cpuPct(s), sim.memPct(s), sim.cpuPct(t), sim.memPct(t), sim.worstMemPct(t)], [35, 32, 15, 18, 22]);
  assert.equal(sim.guest(101)!.node, t.idx);
});

test('sim: on a node at its CPU ceiling whose guests use more, their sum is its load and each leaves with all of it', () => {
  // pve1's 10 cores all busy (now and on average); its guests use 8 + 7 cores: the demand is 150 %.
  const guests = [guest(101, 'pve1', 8, { cpu: 1, maxcpu: 8 }), guest(102, 'pve1', 8, { cpu: 1, maxcpu: 7 })];
  const sim = simOf([nodeAt('pve1', 100, 10), nodeAt('pve2', 10, 10)], guests);
  const pve1 = sim.byName.get('pve1')!;
  assert.deepEqual([sim.cpuPct(pve1), sim.worstCpuPct(pve1)], [150, 150]);
  const g = sim.guest(101)!;
  assert.equal(g.cpuOut, 8);
  sim.apply(g, sim.byName.get('pve2')!);
  assert.equal(sim.cpuPct(pve1), 70);
  // At the ceiling on its hour's average only, the same.
  const avgOnly = simOf([nodeAt('pve1', 100, 10, { cpu: 0.5 }), nodeAt('pve2', 10, 10)], guests);
  assert.equal(avgOnly.guest(101)!.cpuOut, 8);
  // Just under the ceiling (98 %), the figures disagree rather than saturate: shares scaled down.
  const under = simOf([nodeAt('pve1', 98, 10), nodeAt('pve2', 10, 10)], guests);
  assert.ok(Math.abs(under.cpuPct(under.byName.get('pve1')!) - 98) < 1e-9);
  assert.ok(Math.abs(under.guest(101)!.cpuOut - (8 * 9.8) / 15) < 1e-9);
  // At exactly 99 %, at the ceiling.
  const at99 = simOf([nodeAt('pve1', 99, 10), nodeAt('pve2', 10, 10)], guests);
  assert.equal(at99.guest(101)!.cpuOut, 8);
  // Guests adding up to exactly the ceiling figure use no more than it shows: nothing is raised,
  // and against the lower average basis (99.5 % of 10 cores) each share is scaled down.
  const exact = simOf([nodeAt('pve1', 99.5, 10, { cpu: 1 }), nodeAt('pve2', 10, 10)], [guest(101, 'pve1', 8, { cpu: 1, maxcpu: 6 }), guest(102, 'pve1', 8, { cpu: 1, maxcpu: 4 })]);
  assert.ok(Math.abs(exact.cpuPct(exact.byName.get('pve1')!) - 99.5) < 1e-9);
  assert.ok(Math.abs(exact.guest(101)!.cpuOut - 6 * 0.995) < 1e-9);
});

test('sim: guests that add up to more than their node reports are scaled down on leaving, never below zero', () => {
  // pve1 reports 10 GiB and 1 core used; its guests claim 16 GiB and 2 cores: each leaves with its share.
  const sim = simOf([nodeAt('pve1', 10, 10), nodeAt('pve2', 10, 10)], [guest(101, 'pve1', 8, { cpu: 1 }), guest(102, 'pve1', 8, { cpu: 1 })]);
  const g = sim.guest(101)!;
  assert.deepEqual([g.cpuOut, g.memOut / GiB], [0.5, 5]);
  sim.apply(g, sim.byName.get('pve2')!);
  assert.deepEqual([sim.cpuPct(sim.byName.get('pve1')!), sim.memPct(sim.byName.get('pve1')!)], [5, 5]);
});
