import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { BIN } from './helpers/cli.js';
import { setupE2E } from './helpers/e2e.js';

test('status shows the migrations running in the cluster, ours or not, with their progress', async () => {
  // The fake cluster and the CLI share one manual clock: what status sees depends on where the test
  // sets the clock, never on how fast the machine is (no wall-clock waits, no races).
  let clock = Date.parse('2026-11-25T12:00:00.000Z');
  const e = await setupE2E({ scenario: 'demo', msPerSecond: 400, clock: () => clock });
  const at = () => ({ PROXBALANCE_NOW: new Date(clock).toISOString() });
  try {
    e.fake.state.startMigration('qemu', 'pve2', 110, { target: 'pve3', online: '1' }, 'root@pam');
    e.fake.state.startMigration('qemu', 'pve1', 102, { target: 'pve2', online: '1' }, 'someone@pam');
    clock += 2500; // 6.25 simulated seconds: some progress lines, and the HA task handing over
    const r = await e.run(['status', '--json'], at());
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const vm110 = s.in_progress.find((m: { vmid: number }) => m.vmid === 110);
    assert.equal(vm110.source, 'pve2');
    assert.equal(vm110.target, 'pve3');
    assert.ok(vm110.elapsed_s >= 1);
    assert.ok(vm110.transferred_bytes > 0 && vm110.total_bytes > vm110.transferred_bytes && vm110.rate_bytes_s > 0, JSON.stringify(vm110));
    const ha = s.in_progress.filter((m: { vmid: number }) => m.vmid === 102);
    assert.equal(ha.length, 1, 'an HA move is listed once');
    assert.equal(ha[0].ha, true);
    const human = await e.run(['status'], at());
    assert.match(human.stdout, /^Migrating\s+VM \d+ /m);
    assert.match(human.stdout, /VM 110 pve2 → pve3, elapsed \d+:\d\d, [\d.]+ [MG]iB of [\d.]+ GiB, [\d.]+ [MG]iB\/s\n/);
    assert.match(human.stdout, /VM 102 pve1 → pve2, .*\(HA\)/);
    const offline = await e.run(['status', '--offline', '--json'], at());
    assert.equal(JSON.parse(offline.stdout).in_progress, null);
    e.fake.state.finishAll();
    const none = await e.run(['status'], at());
    assert.match(none.stdout, /no migration running in the cluster/);
  } finally {
    await e.cleanup();
  }
});

test('status: a cluster that does not answer is said, and exits 1; --watch refreshes until interrupted', async () => {
  const e = await setupE2E({ scenario: 'small' });
  try {
    const w = spawn(process.execPath, [BIN, 'status', '--watch', '1', '--config', e.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    // Wait for the second screen however long a loaded machine takes (the test's timeout bounds it).
    const twice = new Promise<void>((resolve) => {
      w.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if ((stdout.match(/Automation/g) ?? []).length >= 2) resolve();
      });
      w.on('close', () => resolve()); // died early: the assertions below say so
    });
    await twice;
    w.kill('SIGINT');
    const code = await new Promise((r) => w.on('close', r));
    assert.equal(code, 0);
    assert.ok((stdout.match(/Automation/g) ?? []).length >= 2, 'refreshed at least once');

    const cfg = JSON.parse(readFileSync(e.configPath, 'utf8'));
    writeFileSync(e.configPath, JSON.stringify({ ...cfg, proxmox_port: 1 }), { mode: 0o600 });
    const down = await e.run(['status']);
    assert.equal(down.code, 1);
    assert.match(down.stdout, /Migrating\s+not known: the cluster did not answer/);
  } finally {
    await e.cleanup();
  }
});
