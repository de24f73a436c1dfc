import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFixture } from './helpers/history-fixture.js';

const fx = sharedFixture();
const cli = fx.cli;

test('activity: each tick with its gates and every decision with its reason, newest first', async () => {
  const r = await cli('activity');
  assert.equal(r.code, 0, r.stderr);
  const ticks = r.stdout.trimEnd().split('\n\n');
  assert.equal(ticks.length, 4);
  assert.match(ticks[0]!, /^2026-11-25 11:50:00 UTC {2}scheduled, live: skipped \(Outside migration window\), 0 moves, 0 skips\n {2}✓ halted: Automation not halted\n {2}✗ window: Outside migration window: "Nightly" opens 22:00$/);
  const t10 = ticks[2]!.split('\n');
  assert.match(t10[0]!, /^2026-11-25 10:00:00 UTC {2}scheduled, live: success, 1 move, 2 skips$/);
  assert.match(t10[3]!, /✓ health: Cluster healthy, quorate/);
  assert.match(t10[4]!, /^ {4}VM 120 web01\s+move\s+pve1 → pve2, confidence 82, load: pve1 CPU 91% over 60% \(completed\)$/);
  assert.match(t10[5]!, /^ {4}CT 121 dns, "primary"\\nsecond line\s+skip\s+Cooldown active$/);
  assert.match(t10[6]!, /^ {4}VM 122 db01\s+skip\s+Below confidence threshold$/);
  assert.match(ticks[1]!, /manual, dry-run: success, 1 move, 1 skip/);
  assert.match(ticks[1]!, /VM 123 app\s+move\s+pve3 → pve2, confidence 76: pve3 memory 80% over 70% \(Dry run\)/);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test('activity --last and --vmid: the guest\'s decisions, and the ticks a gate stopped', async () => {
  const [last, vm] = await Promise.all([cli('activity', '--last', '1'), cli('activity', '--vmid', '120')]);
  assert.equal(last.stdout.trimEnd().split('\n\n').length, 1);
  const ticks = vm.stdout.trimEnd().split('\n\n');
  assert.equal(ticks.length, 3);
  assert.match(ticks[0]!, /Outside migration window/); // held every guest back
  assert.match(ticks[1]!, /VM 120 web01\s+skip\s+Cooldown active/);
  assert.doesNotMatch(ticks[1]!, /VM 123/);
  assert.match(ticks[2]!, /VM 120 web01\s+move/);
  assert.doesNotMatch(ticks[2]!, /CT 121|VM 122/);
});

test('activity --json: run records, decisions filtered by --vmid', async () => {
  const r = await cli('activity', '--json', '--vmid', '121');
  assert.equal(r.code, 0, r.stderr);
  const runs = JSON.parse(r.stdout);
  assert.deepEqual(runs.map((x: { run_id: string }) => x.run_id), ['r3', 'r1', 'r0']);
  assert.deepEqual(runs[1].decisions, [{ vmid: 121, name: 'dns, "primary"\nsecond line', guest_type: 'lxc', action: 'skip', reason: 'Cooldown active' }]);
  assert.equal(runs[2].decisions[0].outcome, 'failed');
  const bad = await cli('activity', '--last', '0');
  assert.equal(bad.code, 2);
});
