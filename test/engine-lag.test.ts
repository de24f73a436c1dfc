import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../src/engine/index.js';
import type { HistoryView } from '../src/engine/types.js';
import { GiB, NOW, cluster, config, guest, node, NO_HISTORY } from './helpers/engine.js';

// The hour's averages (rrddata) lag behind migrations: the node a tick filled still averages
// low for most of the next hour. Caps must hold against what is there now.

test('a target that averages low but is full now is not pushed over the memory cap', () => {
  const g = [];
  for (let i = 0; i < 12; i++) g.push(guest(100 + i, 'pve1', 7)); // 86 % now
  for (let i = 0; i < 12; i++) g.push(guest(200 + i, 'pve2', 7)); // 86 % now, averaging 40 %
  const s = cluster([node('pve1'), node('pve2')], g);
  const pve2 = s.nodes.find((n) => n.name === 'pve2')!;
  pve2.avg = { ...pve2.avg!, mem: 0.4 * pve2.maxmem };
  const p = plan(s, config(), NO_HISTORY, NOW);
  for (const m of p.moves) assert.ok(m.score.target_mem_percent_after <= 90, `${m.vmid} → ${m.target} at ${m.score.target_mem_percent_after} %`);
  const movedTo2 = p.moves.filter((m) => m.target === 'pve2').length;
  const memAfter = (pve2.mem + movedTo2 * 7 * GiB) / pve2.maxmem;
  assert.ok(memAfter <= 0.9, `pve2 would be at ${Math.round(memAfter * 100)} % now`);
});

test('ticks whose averages lag never overfill a target and stop once the source is cool', () => {
  const cfg = config({ automated_migrations: { rules: { min_confidence_score: 60 } } });
  const g = [];
  for (let i = 0; i < 14; i++) g.push(guest(100 + i, 'pve1', 6));
  for (let i = 0; i < 6; i++) g.push(guest(200 + i, 'pve2', 6));
  const s = cluster([node('pve1'), node('pve2')], g);
  const hist: HistoryView = { halted: null, migrations: [] };
  const movesPerTick: number[] = [];
  for (let tick = 0; tick < 10; tick++) {
    const now = NOW + tick * 5 * 60_000;
    const p = plan(s, cfg, hist, now);
    movesPerTick.push(p.moves.length);
    for (const m of p.moves) {
      s.guests.find((x) => x.vmid === m.vmid)!.node = m.target;
      (hist.migrations as unknown[]).push({ vmid: m.vmid, source: m.source, target: m.target, status: 'completed', started_at: new Date(now).toISOString(), finished_at: new Date(now + 60_000).toISOString() });
    }
    // Now moves at once; the hour's average only 5/60 of the way.
    for (const n of s.nodes) {
      const on = s.guests.filter((x) => x.node === n.name && x.status === 'running');
      const mem = 2 * GiB + on.reduce((a, x) => a + x.mem, 0);
      const cpu = 0.02 + on.reduce((a, x) => a + x.cpu * x.maxcpu, 0) / n.maxcpu;
      n.mem = mem;
      n.cpu = cpu;
      n.avg = { ...n.avg!, mem: n.avg!.mem + ((mem - n.avg!.mem) * 5) / 60, cpu: n.avg!.cpu + ((cpu - n.avg!.cpu) * 5) / 60 };
      assert.ok(mem / n.maxmem <= 0.9, `tick ${tick}: ${n.name} at ${Math.round((mem / n.maxmem) * 100)} % memory`);
    }
  }
  assert.ok(movesPerTick[0]! > 0, 'the hot node is relieved');
  assert.deepEqual(movesPerTick.slice(2), Array(8).fill(0), `then nothing more moves: ${movesPerTick.join(',')}`);
});

test('a stopped guest counts with its full configured memory on the target', () => {
  const s = cluster(
    [node('pve1'), node('pve2')],
    [guest(100, 'pve1', 0, { status: 'stopped', maxmemGiB: 60 }), ...Array.from({ length: 13 }, (_, i) => guest(200 + i, 'pve2', 6))],
  );
  const p = plan(s, config({ automated_migrations: { maintenance_nodes: ['pve1'] } }), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0, 'the 60 GiB guest would take pve2 over 90 % once started');
  assert.match(p.skipped.find((x) => x.vmid === 100)!.reason, /No target with room/);
});

test('balancing that is wanted but impossible says why instead of an empty plan', () => {
  const g = [];
  for (const n of ['pve1', 'pve2']) for (let i = 0; i < 12; i++) g.push(guest(g.length + 100, n, 7)); // both at 86 %
  const p = plan(cluster([node('pve1'), node('pve2')], g), config(), NO_HISTORY, NOW);
  assert.equal(p.moves.length, 0);
  assert.ok(p.notes.some((n) => /load balancing wanted \(hot: pve1, pve2\) but no move qualifies: no node has room/.test(n)), p.notes.join('\n'));
});
