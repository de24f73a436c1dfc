import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './helpers/cli.js';
import { setupE2E, type E2E } from './helpers/e2e.js';

/**
 * status and doctor show the scheduler's real state: the timer (enabled, active, next elapse), the
 * service's last result and exit code, and a tick in progress from the run lock.
 *
 * This machine (like CI's) has no systemd as PID 1, so systemd itself cannot be asked here: the
 * timer cases put a stand-in `systemctl` first on PATH that prints what `systemctl show` prints
 * (key=value blocks, one per unit) and records how it was called. The "no systemd" case runs with
 * a PATH where no systemctl exists. The tick in progress is real: a live run against the fake.
 */
let e: E2E;
let bin = '';

const TIMER_DISABLED = `Id=proxmox-balance-automigrate.timer
LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=disabled
NextElapseUSecRealtime=
LastTriggerUSec=

Id=proxmox-balance-automigrate.service
LoadState=loaded
ActiveState=inactive
SubState=dead
Result=success
ExecMainStatus=0
ExecMainCode=0
ExecMainStartTimestamp=
ExecMainExitTimestamp=
ExecMainPID=0
`;

const NEXT = 1_795_000_000; // 2026-11-18T…: a fixed moment, as --timestamp=unix prints it
const TIMER_ENABLED_LAST_FAILED = `Id=proxmox-balance-automigrate.timer
LoadState=loaded
UnitFileState=enabled
ActiveState=active
SubState=waiting
NextElapseUSecRealtime=@${NEXT}
LastTriggerUSec=@${NEXT - 60}

Id=proxmox-balance-automigrate.service
LoadState=loaded
ActiveState=inactive
SubState=dead
Result=exit-code
ExecMainStatus=1
ExecMainCode=1
ExecMainStartTimestamp=@${NEXT - 60}
ExecMainExitTimestamp=@${NEXT - 55}
ExecMainPID=4242
`;

function fakeSystemctl(output: string): Record<string, string> {
  writeFileSync(join(bin, 'out'), output);
  return { PATH: `${bin}:${process.env.PATH}` };
}

before(async () => {
  e = await setupE2E({ scenario: 'demo', msPerSecond: 20 });
  bin = join(e.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> "${bin}/calls"\ncat "${bin}/out"\n`);
  chmodSync(join(bin, 'systemctl'), 0o755);
  mkdirSync(join(e.dir, 'empty'));
});
after(async () => e?.cleanup());

test('status: a disabled timer is said, and no next check is promised', async () => {
  const env = fakeSystemctl(TIMER_DISABLED);
  const r = await e.run(['status', '--offline'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Automation\s+enabled, live, but the timer is not running: no tick starts by itself \(systemctl enable --now proxmox-balance-automigrate\.timer\)/m);
  assert.match(r.stdout, /^Scheduler\s+timer disabled, inactive; no tick scheduled; the service has not run since boot$/m);
  assert.match(r.stdout, /^Next check\s+none: the timer is not running$/m);
  assert.doesNotMatch(r.stdout, /next timer firing/);
  const calls = readFileSync(join(bin, 'calls'), 'utf8');
  assert.match(calls, /^show --timestamp=unix --property=\S+ proxmox-balance-automigrate\.timer proxmox-balance-automigrate\.service$/m);
  const j = JSON.parse((await e.run(['status', '--offline', '--json'], env)).stdout);
  assert.equal(j.scheduler.systemd, true);
  assert.deepEqual({ enabled: j.scheduler.timer.enabled, active: j.scheduler.timer.active, state: j.scheduler.timer.unit_file_state }, { enabled: false, active: false, state: 'disabled' });
});

test('status and doctor: enabled timer with its next elapse, and the last tick that failed with its exit code', async () => {
  const env = fakeSystemctl(TIMER_ENABLED_LAST_FAILED);
  const next = new Date(NEXT * 1000).toISOString();
  const j = JSON.parse((await e.run(['status', '--offline', '--json'], env)).stdout);
  assert.deepEqual(j.scheduler.timer, { installed: true, unit_file_state: 'enabled', enabled: true, active: true, next_elapse: next, last_trigger: new Date((NEXT - 60) * 1000).toISOString() });
  assert.equal(j.scheduler.service.result, 'exit-code');
  assert.equal(j.scheduler.service.exit_code, 1);
  const t = await e.run(['status', '--offline'], env);
  assert.match(t.stdout, new RegExp(`^Scheduler\\s+timer enabled, active; next tick ${next}; last tick failed \\(exit-code, exit code 1\\) at `, 'm'));
  assert.doesNotMatch(t.stdout, /timer is not running/);
  const d = JSON.parse((await e.run(['doctor', '--json'], env)).stdout);
  const sched = d.checks.find((c: { name: string }) => c.name === 'scheduler');
  assert.equal(sched.status, 'warn');
  assert.match(sched.message, /last tick failed \(exit-code, exit code 1\)/);
  assert.match(sched.fix, /proxbalance logs/);
  const off = JSON.parse((await e.run(['doctor', '--json'], fakeSystemctl(TIMER_DISABLED))).stdout);
  const o = off.checks.find((c: { name: string }) => c.name === 'scheduler');
  assert.equal(o.status, 'warn');
  assert.match(o.fix, /systemctl enable --now proxmox-balance-automigrate\.timer/);
});

test('without systemd, status and doctor say so in one line', async () => {
  const env = { PATH: join(e.dir, 'empty') };
  const r = await e.run(['status', '--offline'], env);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /systemd/.test(l));
  assert.equal(lines.length, 1, r.stdout);
  assert.match(lines[0]!, /^Scheduler\s+no systemd on this machine \(systemctl: ENOENT\): the timer cannot be checked/);
  assert.doesNotMatch(r.stdout, /timer is not running/, 'no systemd is not a disabled timer');
  const j = JSON.parse((await e.run(['status', '--offline', '--json'], env)).stdout);
  assert.equal(j.scheduler.systemd, false);
  const d = JSON.parse((await e.run(['doctor', '--json'], env)).stdout);
  assert.match(d.checks.find((c: { name: string }) => c.name === 'scheduler').message, /no systemd on this machine/);
});

test("a tick in progress: status names its pid and start, and its own migrations are in flight, not unfinished", async () => {
  // A slow cluster (a fake second is 400 ms): the tick's first migration runs for many seconds.
  const slow = await setupE2E({ scenario: 'demo', msPerSecond: 400 });
  const tick = spawn(process.execPath, [BIN, 'run', '--config', slow.configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PROXBALANCE_POLL_MS: '50' } });
  let stderr = '';
  tick.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ended = new Promise((r) => tick.on('close', r));
  const e = slow;
  try {
    let s: { tick_running: { pid: number; since: string } | null; in_flight: { vmid: number }[]; unfinished: unknown[] } | null = null;
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      const r = await e.run(['status', '--offline', '--json'], { PATH: join(slow.dir, 'nothing') });
      s = JSON.parse(r.stdout);
      if (s!.tick_running && s!.in_flight.length) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(s?.tick_running, `the running tick was not seen: ${stderr}`);
    assert.equal(s.tick_running.pid, tick.pid);
    assert.ok(Date.now() - Date.parse(s.tick_running.since) < 60_000);
    assert.ok(s.in_flight.length >= 1, 'its migration is in flight');
    assert.deepEqual(s.unfinished, [], 'the running tick owns its migrations: none is unfinished');
    const text = await e.run(['status', '--offline'], { PATH: join(slow.dir, 'nothing') });
    assert.match(text.stdout, new RegExp(`^Tick\\s+tick running since .+, pid ${tick.pid}$`, 'm'));
    assert.doesNotMatch(text.stdout, /^Unfinished/m);
  } finally {
    tick.kill('SIGTERM'); // the run records its migration as interrupted and ends
    await ended;
  }
  const after = JSON.parse((await e.run(['status', '--offline', '--json'], { PATH: join(slow.dir, 'nothing') })).stdout);
  assert.equal(after.tick_running, null);
  await slow.cleanup();
});
