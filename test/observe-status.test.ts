import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempDir } from './helpers/cli.js';
import { NOW, fixtureRecords, writeFixture } from './helpers/history-fixture.js';
import { checkConfig } from '../src/config/load.js';
import { windowState, windowStatus } from '../src/status/windows.js';
import type { TimeWindow } from '../src/generated/config.js';

const WEEKDAYS: TimeWindow['days'] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const nightly: TimeWindow = { name: 'Nightly', enabled: true, days: WEEKDAYS, start_time: '22:00', end_time: '06:00', timezone: 'Europe/Berlin' };
const business: TimeWindow = { name: 'Business Hours', enabled: true, days: WEEKDAYS, start_time: '08:00', end_time: '18:00' };
const automation = {
  enabled: true, dry_run: false, check_interval_minutes: 15,
  schedule: { timezone: 'UTC', migration_windows: [nightly], blackout_windows: [business] },
};
const config = (am: Record<string, unknown>) =>
  checkConfig({ proxmox_host: 'pve1', proxmox_api_token_id: 'root@pam!bal', automated_migrations: am }, 'c.json').config;
const at = (iso: string) => new Date(iso);

test('windowState: crossing midnight belongs to the day it starts; start inclusive, end exclusive', () => {
  // Wednesday 13:00 in Berlin: closed, opens at 22:00 Berlin (21:00 UTC).
  assert.deepEqual(windowState(nightly, 'UTC', at(NOW)), {
    name: 'Nightly', zone: 'Europe/Berlin', open: false, closes_at: null, next_opens_at: '2026-11-25T21:00:00.000Z',
  });
  // Thursday 00:30 Berlin: Wednesday's opening, until 06:00 Berlin.
  const late = windowState(nightly, 'UTC', at('2026-11-25T23:30:00Z'));
  assert.equal(late.open, true);
  assert.equal(late.closes_at, '2026-11-26T05:00:00.000Z');
  // Exactly at the start: open. Exactly at the end: closed.
  assert.equal(windowState(nightly, 'UTC', at('2026-11-25T21:00:00Z')).open, true);
  const end = windowState(nightly, 'UTC', at('2026-11-26T05:00:00Z'));
  assert.equal(end.open, false);
  assert.equal(end.next_opens_at, '2026-11-26T21:00:00.000Z');
  // Saturday 03:00 Berlin: Friday's opening is still open; Sunday 03:00: none (Saturday is not a day).
  assert.equal(windowState(nightly, 'UTC', at('2026-11-28T02:00:00Z')).open, true);
  const sunday = windowState(nightly, 'UTC', at('2026-11-29T02:00:00Z'));
  assert.equal(sunday.open, false);
  assert.equal(sunday.next_opens_at, '2026-11-30T21:00:00.000Z', 'Monday 22:00 Berlin');
});

test('windowState: zone falls back to schedule.timezone; a day-long window and DST', () => {
  const noZone = { ...nightly, timezone: undefined } as TimeWindow;
  assert.equal(windowState(noZone, 'America/New_York', at(NOW)).next_opens_at, '2026-11-26T03:00:00.000Z');
  assert.equal(windowState(noZone, 'America/New_York', at(NOW)).zone, 'America/New_York');
  // start == end is a config error (config.test.ts); a nearly whole day is 00:00 to 23:59.
  const allDay: TimeWindow = { name: 'Sunday', enabled: true, days: ['sunday'], start_time: '00:00', end_time: '23:59' };
  const sun = windowState(allDay, 'UTC', at('2026-11-29T15:00:00Z'));
  assert.deepEqual([sun.open, sun.closes_at], [true, '2026-11-29T23:59:00.000Z']);
  assert.equal(windowState(allDay, 'UTC', at('2026-11-29T23:59:30Z')).open, false, 'end is exclusive');
  // Spring forward in Berlin (29 March 2026, 02:00 → 03:00): 02:30 does not exist; the wall clock passes it at 03:00 CEST, when the engine opens the window too.
  const dst: TimeWindow = { name: 'DST', enabled: true, days: ['sunday'], start_time: '02:30', end_time: '04:00', timezone: 'Europe/Berlin' };
  assert.equal(windowState(dst, 'UTC', at('2026-03-28T12:00:00Z')).next_opens_at, '2026-03-29T01:00:00.000Z');
});

test('windowStatus: blackouts beat migration windows; no migration window means any time; disabled windows ignored', () => {
  const s = windowStatus(config(automation), at(NOW));
  assert.equal(s.allowed_now, false);
  assert.equal(s.reason, 'Blackout window active: "Business Hours"');
  assert.equal(s.blackout_windows[0]!.closes_at, '2026-11-25T18:00:00.000Z');
  assert.equal(s.next_migration_window_opens_at, '2026-11-25T21:00:00.000Z');
  const evening = windowStatus(config(automation), at('2026-11-25T19:00:00Z'));
  assert.deepEqual([evening.allowed_now, evening.reason], [false, 'Outside migration window']);
  const night = windowStatus(config(automation), at('2026-11-25T22:00:00Z'));
  assert.deepEqual([night.allowed_now, night.reason], [true, 'migration window "Nightly" open']);
  const none = windowStatus(config({ schedule: { blackout_windows: [{ ...business, enabled: false }] } }), at(NOW));
  assert.equal(none.allowed_now, true);
  assert.deepEqual(none.blackout_windows, []);
});

test('status through the CLI: automation, windows, last tick, next check countdown, unfinished migrations', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { config: cfg } = writeFixture(dir, { config: { automated_migrations: automation } });
    const [human, json] = await Promise.all([
      runCli(['status', '--config', cfg], { env: { PROXBALANCE_NOW: NOW } }),
      runCli(['status', '--config', cfg, '--json'], { env: { PROXBALANCE_NOW: NOW } }),
    ]);
    assert.equal(human.code, 0, human.stderr);
    const o = human.stdout;
    assert.match(o, /^Automation {2}enabled, live$/m);
    assert.match(o, /^Halted {6}no$/m);
    assert.match(o, /^Windows {5}migration window "Nightly" closed, opens 2026-11-25 22:00:00 Europe\/Berlin \(in 9h 00m\)$/m);
    assert.match(o, /^ {12}blackout "Business Hours" open until 2026-11-25 18:00:00 UTC \(in 6h 00m\)$/m);
    assert.match(o, /^ {12}migrations now: not allowed \(Blackout window active: "Business Hours"\)$/m);
    assert.match(o, /^Last tick {3}2026-11-25 11:50:00 UTC \(10m 00s ago\), scheduled, live: skipped \(Outside migration window\), 0 moves$/m);
    assert.match(o, /^Next check {2}in 5m 00s \(2026-11-25 12:05:00 UTC: last scheduled tick \+ check_interval_minutes 15\)$/m);
    assert.match(o, /^Unfinished {2}VM 122 db01 pve1 → pve3, started 2026-11-24 20:00:00 UTC, timeout/m);
    assert.match(o, /VM 126 batch pve1 → pve3, started 2026-11-25 11:30:00 UTC, started: outcome not recorded yet/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(o, /\x1b\[/);

    const s = JSON.parse(json.stdout);
    assert.deepEqual(s.automation, { enabled: true, mode: 'live' });
    assert.equal(s.halted, null);
    assert.equal(s.windows.allowed_now, false);
    assert.deepEqual(s.last_tick, {
      run_id: 'r3', started_at: '2026-11-25T11:50:00.000Z', finished_at: '2026-11-25T11:50:01.000Z', trigger: 'scheduled', mode: 'live',
      outcome: 'skipped', reason: 'Outside migration window', moves: 0, skips: 0,
    });
    assert.equal(s.next_check.due_at, '2026-11-25T12:05:00.000Z');
    assert.equal(s.next_check.in_seconds, 300);
    assert.deepEqual(s.unfinished.map((m: { migration_id: string }) => m.migration_id), ['m3', 'm8']);
  } finally {
    cleanup();
  }
});

test('status: halted (and why), disabled dry run by default, next check due now', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const records = fixtureRecords();
    records.push({ v: 1, type: 'halted', at: '2026-11-25T11:40:00.000Z', run_id: 'r9', vmid: 120, guest_type: 'qemu', error: 'migration aborted (exit code 255)' });
    const { config: cfg } = writeFixture(dir, { records, damaged: false });
    const [human, json] = await Promise.all([
      runCli(['status', '--config', cfg], { env: { PROXBALANCE_NOW: NOW } }),
      runCli(['status', '--config', cfg, '--json'], { env: { PROXBALANCE_NOW: NOW } }),
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stderr, '');
    assert.match(human.stdout, /^Automation {2}disabled, dry run \(nothing is executed\)$/m);
    assert.match(human.stdout, /^Halted {6}yes, since 2026-11-25 11:40:00 UTC: automation halted after failed migration of VM 120: migration aborted \(exit code 255\); run `proxbalance resume`$/m);
    assert.match(human.stdout, /no migration window: migrations at any time/);
    assert.match(human.stdout, /^Next check {2}due now/m);
    const s = JSON.parse(json.stdout);
    assert.equal(s.halted.vmid, 120);
    assert.equal(s.next_check.in_seconds, 0);
    assert.deepEqual(s.automation, { enabled: false, mode: 'dry-run' });
  } finally {
    cleanup();
  }
});
