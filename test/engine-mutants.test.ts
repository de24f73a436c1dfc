import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, REASON } from '../src/engine/index.js';
import { activeMigrationVmids, indexHistory } from '../src/engine/rules.js';
import type { HistoryMigration } from '../src/engine/types.js';
import type { SnapshotTask } from '../src/generated/snapshot.js';
import type { TimeWindow } from '../src/generated/config.js';
import { candidateInstants, checkSchedule, nextOpening, windowClock, windowOpen, type WindowClock } from '../src/engine/windows.js';
import { config, history, hotCluster, migrated, NO_HISTORY, node, NOW, skipOf } from './helpers/engine.js';

// Tests written to kill the mutants StrykerJS found surviving in src/engine (npm run mutate; see
// docs/testing.md). Each names the rule it pins down.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
/** A live migration of vm100 that started and ended at the given instants (ms before NOW). */
const mig = (source: string, target: string, startedAgo: number, endedAgo: number | null, status: HistoryMigration['status'] = 'completed'): HistoryMigration => ({
  vmid: 100,
  source,
  target,
  status,
  started_at: iso(NOW - startedAgo),
  ...(endedAgo === null ? {} : { finished_at: iso(NOW - endedAgo) }),
});
const reasonFor = (migs: HistoryMigration[], cfg = config()) => skipOf(plan(hotCluster(), cfg, history(migs), NOW), 100);
const movesVm100 = (migs: HistoryMigration[]) => plan(hotCluster(), config(), history(migs), NOW).moves.some((m) => m.vmid === 100);
const task = (id: string, type: string, endtime: number | null): SnapshotTask => ({
  upid: `UPID:pve1:0001:0001:0001:${type}:${id}:root@pam:`,
  node: 'pve1',
  type,
  id,
  user: 'root@pam',
  starttime: NOW / 1000 - 60,
  status: endtime === null ? null : 'OK',
  endtime,
});

// ---- cooldown escalation window (7 days) ---------------------------------------------------

test('cooldown: a move that ended more than 7 days ago does not escalate the multiplier; one that ended exactly 7 days ago does', () => {
  const recent = migrated(100, 'pve3', 'pve1', 40); // 40 min ago: free under ×1 (30 min), cooling under ×2
  assert.ok(movesVm100([mig('pve1', 'pve3', 7 * DAY + 2 * 60_000, 7 * DAY + 60_000), recent]));
  assert.equal(reasonFor([mig('pve1', 'pve3', 7 * DAY + 60_000, 7 * DAY), recent])?.reason, REASON.cooldown);
  // A long move that started more than 7 days ago but ended within them still counts.
  assert.equal(reasonFor([mig('pve1', 'pve3', 7 * DAY + 2 * HOUR, 7 * DAY - 60_000), recent])?.reason, REASON.cooldown);
});

test('cooldown: a history record with an unreadable start is ignored, not counted as a move', () => {
  const bad: HistoryMigration = { ...migrated(100, 'pve2', 'pve3', 3 * DAY / 60_000), started_at: 'garbage' };
  assert.ok(movesVm100([migrated(100, 'pve3', 'pve1', 40), bad]));
});

test('cooldown: counted from the last move by start, whatever the order of the history', () => {
  // Newest first in the view: the cooldown still runs from the newest (×2: 60 min).
  assert.equal(reasonFor([migrated(100, 'pve3', 'pve1', 10), migrated(100, 'pve2', 'pve3', 2 * 24 * 60)])?.reason, REASON.cooldown);
  // Two moves started at the same instant: the one that ended later is the last.
  const a = mig('pve2', 'pve3', 100 * 60_000, 90 * 60_000, 'failed');
  const b = mig('pve2', 'pve1', 100 * 60_000, 20 * 60_000);
  const h = indexHistory(history([b, a]), NOW, 30).get(100)!;
  assert.equal(h.cooldownUntil, NOW - 20 * 60_000 + 60 * 60_000);
  assert.equal(indexHistory(history([a, b]), NOW, 30).get(100)!.cooldownUntil, NOW + 40 * 60_000);
});

test('cooldown: the detail says when it ends, and the multiplier only when there is one', () => {
  const one = reasonFor([migrated(100, 'pve3', 'pve1', 10)])!;
  assert.equal(one.detail, `until ${iso(NOW + 20 * 60_000).slice(0, 19)}Z`);
  const two = reasonFor([migrated(100, 'pve3', 'pve1', 10), migrated(100, 'pve2', 'pve3', 2000)])!;
  assert.equal(two.detail, `until ${iso(NOW + 50 * 60_000).slice(0, 19)}Z (×2: 2 moves within 7 days)`);
});

// ---- rollback boundaries ------------------------------------------------------------------------

test('rollback: a node left exactly 24 h ago (end of the move) is still a rollback target', () => {
  const p = plan(hotCluster(), config(), history([mig('pve2', 'pve1', DAY + 60_000, DAY)]), NOW);
  assert.equal(p.moves.find((m) => m.vmid === 100 && m.target === 'pve2'), undefined);
  assert.equal(skipOf(p, 100)?.reason, REASON.rollback);
});

test('rollback: a return exactly 24 h after leaving is still a rollback; moving on to a third node is not', () => {
  // Left pve1 (ended 30 h ago), returned (started 6 h ago): 24 h apart.
  assert.equal(reasonFor([mig('pve1', 'pve3', 30 * HOUR + 60_000, 30 * HOUR), mig('pve3', 'pve1', 6 * HOUR, 6 * HOUR - 60_000)])?.reason, REASON.rollback);
  // pve2 → pve3 (30 h ago), pve3 → pve1 (10 h ago): pve1 was never left, so no rollback cooldown;
  // vm100 may go to pve2 (left 30 h ago) but not back to pve3 (left 10 h ago).
  const p = plan(hotCluster(), config(), history([mig('pve2', 'pve3', 30 * HOUR + 60_000, 30 * HOUR), mig('pve3', 'pve1', 10 * HOUR, 10 * HOUR - 60_000)]), NOW);
  const m = p.moves.find((x) => x.vmid === 100);
  assert.equal(m?.target, 'pve2', JSON.stringify(skipOf(p, 100)));
});

test('rollback: the detail names the node it returned to and when it may move again', () => {
  const s = reasonFor([mig('pve1', 'pve3', 10 * HOUR, 10 * HOUR - 60_000), mig('pve3', 'pve1', 3 * HOUR, 2 * HOUR)])!;
  assert.equal(s.detail, `moved back to pve1, a node it had left within 24 h; stays put until ${iso(NOW + 22 * HOUR).slice(0, 19)}Z`);
});

// ---- active migrations ----------------------------------------------------------------------------

test('active migrations: running qmigrate, vzmigrate and hamigrate tasks count; ended or other tasks do not', () => {
  const snap = (tasks: SnapshotTask[]) => ({ ...hotCluster(), tasks });
  const cfg = config({ automated_migrations: { rules: { max_concurrent_migrations: 5 } } });
  for (const type of ['qmigrate', 'vzmigrate', 'hamigrate']) {
    assert.equal(skipOf(plan(snap([task('100', type, null)]), cfg, NO_HISTORY, NOW), 100)?.reason, REASON.active, type);
  }
  assert.notEqual(skipOf(plan(snap([task('100', 'qmigrate', NOW / 1000 - 10)]), cfg, NO_HISTORY, NOW), 100)?.reason, REASON.active, 'ended');
  assert.notEqual(skipOf(plan(snap([task('100', 'vzdump', null)]), cfg, NO_HISTORY, NOW), 100)?.reason, REASON.active, 'backup task');
  assert.deepEqual([...activeMigrationVmids(snap([task('101', 'vzmigrate', null), task('102', 'qmigrate', 5)]))], [101]);
});

// ---- guest rules: order and details -----------------------------------------------------------------

test('rules: a template is reported as a template before any tag rule, with its detail', () => {
  const s = hotCluster();
  Object.assign(s.guests.find((g) => g.vmid === 100)!, { template: true, tags: ['ignore'] });
  const k = skipOf(plan(s, config(), NO_HISTORY, NOW), 100);
  assert.deepEqual([k?.reason, k?.detail], [REASON.template, 'templates are never migrated automatically']);
  const e = skipOf(plan(s, config({ automated_migrations: { maintenance_nodes: ['pve1'] } }), NO_HISTORY, NOW), 100);
  assert.deepEqual([e?.reason, e?.detail], [REASON.template, 'templates are never migrated automatically'], 'evacuation too');
});

test('rules: local resources are listed, comma-separated', () => {
  const s = hotCluster();
  s.guests.find((g) => g.vmid === 100)!.local = { disks_bytes: 0, resources: ['hostpci0', 'usb0'], not_allowed: {} };
  assert.equal(skipOf(plan(s, config(), NO_HISTORY, NOW), 100)?.reason, 'Local resource prevents live migration: hostpci0, usb0');
});

test('rules: HA auto-rebalance skips only HA-managed guests, and only while CRS rebalances', () => {
  const on = { ...hotCluster(), crs: { ha_auto_rebalance: true } };
  on.guests.find((g) => g.vmid === 100)!.hastate = 'started';
  const k = skipOf(plan(on, config(), NO_HISTORY, NOW), 100);
  assert.deepEqual([k?.reason, k?.detail], [REASON.haRebalance, 'Proxmox CRS ha-auto-rebalance is on']);
  assert.notEqual(skipOf(plan(on, config(), NO_HISTORY, NOW), 101)?.reason, REASON.haRebalance, 'not HA-managed');
  const off = hotCluster();
  off.guests.find((g) => g.vmid === 100)!.hastate = 'started';
  assert.notEqual(skipOf(plan(off, config(), NO_HISTORY, NOW), 100)?.reason, REASON.haRebalance, 'CRS off');
});

test('rules: a node Proxmox disallows without saying why is "not allowed"', () => {
  const s = hotCluster();
  s.guests.find((g) => g.vmid === 100)!.local = { disks_bytes: 0, resources: [], not_allowed: { pve2: '', pve3: '' } };
  assert.equal(skipOf(plan(s, config(), NO_HISTORY, NOW), 100)?.reason, 'No allowed target: pve2: not allowed; pve3: not allowed');
});

// ---- windows ------------------------------------------------------------------------------------------

test('windows: times are HH:MM or H:MM within a day; anything else is an error and the window never opens', () => {
  const win = (start: string, end: string): TimeWindow => ({ name: 'w', enabled: true, days: ['wednesday'], start_time: start, end_time: end });
  const wed = Date.parse('2026-11-25T12:00:00Z');
  assert.deepEqual(windowOpen(win('7:05', '13:00'), wed, 'UTC'), { open: true, local: 'UTC Wed 12:00' });
  for (const [s, e] of [['24:00', '13:00'], ['11:60', '13:00'], ['x11:00', '13:00'], ['11:00', '13:00x'], ['11:0', '13:00'], ['111:00', '13:00']] as const) {
    const r = windowOpen(win(s, e), wed, 'UTC');
    assert.deepEqual([r.open, r.error], [false, `invalid time ${s}–${e}`], `${s}–${e}`);
    assert.equal(nextOpening(win(s, e), wed, 'UTC'), null);
  }
  assert.equal(windowOpen(win('23:59', '13:00'), Date.parse('2026-11-25T23:59:00Z'), 'UTC').open, true, '23:59 is a time');
});

test('windows: the zone is the window\'s, else the schedule\'s, else UTC; the local time is described', () => {
  const win: TimeWindow = { name: 'w', enabled: true, days: ['wednesday'], start_time: '11:00', end_time: '13:00' };
  const wed = Date.parse('2026-11-25T12:00:00Z');
  assert.deepEqual(windowOpen(win, wed, ''), { open: true, local: 'UTC Wed 12:00' });
  assert.deepEqual(windowOpen(win, wed, 'Europe/Berlin'), { open: false, local: 'Europe/Berlin Wed 13:00' });
  assert.deepEqual(windowOpen({ ...win, timezone: 'Mars/Olympus' }, wed, 'UTC'), { open: false, local: '?', error: "invalid time zone 'Mars/Olympus'" });
  assert.deepEqual(windowOpen({ ...win, start_time: '11:00', end_time: '11:00' }, wed, 'UTC'), { open: false, local: 'UTC Wed 12:00', error: 'start_time equals end_time (11:00)' });
});

test('windows: the instants where membership may change are exactly the start and end times in (from, from + 8 days]', () => {
  const clock = (start: string, end: string, zone: string) => windowClock({ name: 'w', enabled: true, days: ['monday'], start_time: start, end_time: end }, zone) as WindowClock;
  const at = (...isos: string[]) => isos.map((x) => Date.parse(x));
  // UTC, from exactly at a start: that start is excluded, the one 8 days later (the range's end) included.
  const from = Date.parse('2026-11-25T10:00:00Z');
  const utc: number[] = [from + 2 * HOUR];
  for (let d = 1; d <= 7; d++) utc.push(from + d * DAY, from + d * DAY + 2 * HOUR);
  utc.push(from + 8 * DAY);
  assert.deepEqual(candidateInstants(clock('10:00', '12:00', 'UTC'), from), utc);
  // Spring forward (Berlin, 29 Mar 2026 01:00Z): the jump itself; 02:30 does not exist that day.
  const spring = at('2026-03-29T01:00:00Z', '2026-03-29T03:00:00Z');
  for (let d = 30; d <= 36; d++) spring.push(Date.parse('2026-03-30T00:30:00Z') + (d - 30) * DAY, Date.parse('2026-03-30T03:00:00Z') + (d - 30) * DAY);
  assert.deepEqual(candidateInstants(clock('02:30', '05:00', 'Europe/Berlin'), Date.parse('2026-03-28T12:00:00Z')), spring);
  // Fall back (25 Oct 2026 01:00Z): 02:30 happens twice, once per offset.
  const fall = at('2026-10-25T00:30:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z', '2026-10-25T04:00:00Z');
  for (let d = 0; d < 7; d++) fall.push(Date.parse('2026-10-26T01:30:00Z') + d * DAY, Date.parse('2026-10-26T04:00:00Z') + d * DAY);
  assert.deepEqual(candidateInstants(clock('02:30', '05:00', 'Europe/Berlin'), Date.parse('2026-10-24T12:00:00Z')), fall);
  // From late on a local day with a spring-forward change ahead: the range ends on the local day
  // ten days after the one before `from` (Sun 23:30 CET → Tue 00:30 CEST), whose 00:15 is inside it.
  const late = candidateInstants(clock('00:15', '06:00', 'Europe/Berlin'), Date.parse('2026-03-22T22:30:00Z'));
  assert.equal(late.at(-1), Date.parse('2026-03-30T22:15:00Z'));
  assert.equal(late.length, 18, 'the jump, 00:15 and 06:00 on 23-30 March, 00:15 on 31 March');
});

test('windows: a schedule with no windows allows migrations and has no blackout', () => {
  assert.deepEqual(checkSchedule({ timezone: 'UTC', migration_windows: [], blackout_windows: [] }, NOW), { blackout: { active: false, errors: [] }, migration: { defined: false, active: false, errors: [] } });
});

// ---- gates: every message, exactly -----------------------------------------------------------------------

const gateMessages = (snapOver: Partial<ReturnType<typeof hotCluster>>, cfgOver: Parameters<typeof config>[0] = {}, hist = NO_HISTORY) => {
  const p = plan({ ...hotCluster(), ...snapOver }, config(cfgOver), hist, NOW);
  return Object.fromEntries(p.gates.map((g) => [g.name, `${g.passed ? 'pass' : 'FAIL'}: ${g.message}`]));
};
const wed = (name: string, over: Partial<TimeWindow> = {}): TimeWindow => ({ name, enabled: true, days: ['wednesday'], start_time: '11:00', end_time: '13:00', ...over });

test('gates: the messages when everything passes', () => {
  assert.deepEqual(gateMessages({}), {
    halted: 'pass: not halted',
    blackout: 'pass: no blackout window active',
    migration_window: 'pass: no migration window defined: migrations allowed at any time',
    cluster_health: 'pass: healthy: quorate, 3 node(s) online',
    concurrency: 'pass: 0 migration(s) running, limit 1: 1 slot(s) free',
  });
});

test('gates: halted, with and without the guest', () => {
  const at = '2026-11-25T11:00:00Z';
  assert.equal(gateMessages({}, {}, history([], { vmid: 101, at, error: 'boom' })).halted, `FAIL: automation halted after a failed migration of 101 at ${at}: boom; run 'proxbalance resume'`);
  assert.equal(gateMessages({}, {}, history([], { vmid: null, at, error: 'boom' })).halted, `FAIL: automation halted after a failed migration at ${at}: boom; run 'proxbalance resume'`);
});

test('gates: windows name the window, the local time, and what could not be evaluated', () => {
  const sched = (s: object) => ({ automated_migrations: { schedule: s } }) as Parameters<typeof config>[0];
  const g1 = gateMessages({}, sched({ blackout_windows: [wed('off', { enabled: false }), wed('lunch')], migration_windows: [wed('thu', { days: ['thursday'] }), wed('day')] }));
  assert.equal(g1.blackout, "FAIL: blackout window 'lunch' is active (UTC Wed 12:00)");
  assert.equal(g1.migration_window, "pass: migration window 'day' is open (UTC Wed 12:00)");
  const g2 = gateMessages({}, sched({ blackout_windows: [wed('mars', { timezone: 'Mars/Olympus' }), wed('lunch')], migration_windows: [wed('thu', { days: ['thursday'] }), wed('bad', { start_time: '12:00', end_time: '12:00' })] }));
  assert.equal(g2.blackout, "FAIL: blackout window 'mars' is active (?) (blackout window 'mars': invalid time zone 'Mars/Olympus')");
  assert.equal(g2.migration_window, "FAIL: no migration window is open (UTC Wed 12:00) (migration window 'bad': start_time equals end_time (12:00))");
  const g3 = gateMessages({}, sched({ blackout_windows: [wed('thu', { days: ['thursday'] })], migration_windows: [wed('thu', { days: ['thursday'] })] }));
  assert.equal(g3.blackout, 'pass: no blackout window active');
  assert.equal(g3.migration_window, 'FAIL: no migration window is open (UTC Wed 12:00)');
  const g4 = gateMessages({}, sched({ migration_windows: [wed('berlin', { timezone: 'Europe/Berlin', start_time: '13:00', end_time: '14:00' }), wed('day')] }));
  assert.equal(g4.migration_window, "pass: migration window 'berlin' is open (Europe/Berlin Wed 13:00)", 'the first open window is named');
});

test('gates: several window errors and several unknown nodes are each listed, separated (admins read these)', () => {
  const sched = (s: object) => ({ automated_migrations: { schedule: s } }) as Parameters<typeof config>[0];
  const g = gateMessages({}, sched({
    blackout_windows: [wed('mars', { timezone: 'Mars/Olympus' }), wed('same', { start_time: '12:00', end_time: '12:00' }), wed('lunch')],
    migration_windows: [wed('moon', { timezone: 'Moon/Base' }), wed('bad', { start_time: '12:00', end_time: '12:00' })],
  }));
  assert.equal(g.blackout, "FAIL: blackout window 'mars' is active (?) (blackout window 'mars': invalid time zone 'Mars/Olympus'; blackout window 'same': start_time equals end_time (12:00))");
  assert.equal(g.migration_window, "FAIL: no migration window is open (?) (migration window 'moon': invalid time zone 'Moon/Base'; migration window 'bad': start_time equals end_time (12:00))");
  const unknown = [node('pve4', { status: 'unknown', complete: false }), node('pve5', { status: 'unknown', complete: false })];
  assert.equal(gateMessages({ nodes: [...hotCluster().nodes, ...unknown] }).cluster_health, 'FAIL: state of pve4, pve5 unknown');
});

test('gates: cluster health says what is wrong, and what it checked when nothing is', () => {
  const unknown = node('pve4', { status: 'unknown', complete: false });
  const offline = node('pve5', { status: 'offline', complete: false, avg: null });
  const nodes = hotCluster().nodes;
  assert.equal(gateMessages({ cluster: { name: 't', quorate: false, standalone: false }, nodes: [...nodes, unknown] }).cluster_health, 'FAIL: not quorate; state of pve4 unknown');
  assert.equal(gateMessages({ cluster: { name: 't', quorate: null, standalone: false } }).cluster_health, 'FAIL: quorum unknown');
  assert.equal(gateMessages({ nodes: [] }).cluster_health, 'FAIL: no nodes');
  assert.equal(gateMessages({ nodes: [...nodes, offline] }).cluster_health, 'pass: healthy: quorate, 3 node(s) online, 1 offline');
  const noQuorum = { automated_migrations: { safety_checks: { require_quorum: false } } } as Parameters<typeof config>[0];
  assert.equal(gateMessages({ cluster: { name: 't', quorate: false, standalone: false } }, noQuorum).cluster_health, 'pass: healthy: 3 node(s) online');
  const noHealth = { automated_migrations: { safety_checks: { check_cluster_health: false } } } as Parameters<typeof config>[0];
  assert.equal(gateMessages({ nodes: [...nodes, unknown] }, noHealth).cluster_health, 'pass: healthy: quorate, 3 node(s) online, 1 offline');
  const neither = { automated_migrations: { safety_checks: { check_cluster_health: false, require_quorum: false } } } as Parameters<typeof config>[0];
  assert.equal(gateMessages({ nodes: [] }, neither).cluster_health, 'pass: check disabled');
});

test('gates: concurrency counts each running migration once, anonymous ones each', () => {
  const t = (id: string, type: string, endtime: number | null = null) => task(id, type, endtime);
  const cfg = { automated_migrations: { rules: { max_concurrent_migrations: 3 } } } as Parameters<typeof config>[0];
  assert.equal(gateMessages({ tasks: [t('101', 'hamigrate'), t('101', 'qmigrate'), t('', 'vzmigrate'), t('', 'qmigrate')] }, cfg).concurrency, 'FAIL: 3 migration(s) running, limit 3: no slot free');
  assert.equal(gateMessages({ tasks: [t('101', 'qmigrate', 5), t('102', 'vzdump'), t('103', 'vzmigrate')] }, cfg).concurrency, 'pass: 1 migration(s) running, limit 3: 2 slot(s) free');
  const p = plan({ ...hotCluster(), tasks: [t('', 'qmigrate'), t('', 'qmigrate')] }, config(cfg), NO_HISTORY, NOW);
  assert.deepEqual([p.summary.running_migrations, p.summary.free_migration_slots], [2, 1]);
});

test('gates: the first failed gate names the reason and detail every would-be move is skipped with', () => {
  const p = plan({ ...hotCluster(), cluster: { name: 't', quorate: false, standalone: false } }, config(), history([], { vmid: 1, at: 'x', error: 'e' }), NOW);
  const blocked = p.skipped.filter((s) => s.reason === REASON.halted || s.reason === REASON.health);
  assert.equal(blocked.length, 3);
  for (const s of blocked) assert.deepEqual([s.reason, s.detail], [REASON.halted, "automation halted after a failed migration of 1 at x: e; run 'proxbalance resume'"]);
});
