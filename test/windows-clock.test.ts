import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchedule, nextClosing, nextOpening, openAt, windowClock, windowOpen, type WindowClock } from '../src/engine/windows.js';
import { plan } from '../src/engine/index.js';
import type { TimeWindow } from '../src/generated/config.js';
import { runCli, tempDir } from './helpers/cli.js';
import { writeFixture } from './helpers/history-fixture.js';
import { cluster, config, guest, NO_HISTORY, node } from './helpers/engine.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const w = (name: string, start: string, end: string, days: TimeWindow['days'], timezone?: string): TimeWindow => ({
  name,
  enabled: true,
  days,
  start_time: start,
  end_time: end,
  ...(timezone ? { timezone } : {}),
});

/** The DST changes of 2026 in two zones: [zone, spring-forward Sunday, autumn Sunday]. */
const ZONES: Array<[string, string, string]> = [
  ['Europe/Berlin', '2026-03-29', '2026-10-25'],
  ['America/New_York', '2026-03-08', '2026-11-01'],
];

/** Windows around the changes (Berlin changes at 02:00/03:00 local, New York at 02:00/01:00). */
function windowsFor(zone: string): TimeWindow[] {
  return [
    w('starts in the spring gap', '02:30', '05:00', ['sunday'], zone),
    w('inside the spring gap', '02:00', '02:45', ['sunday'], zone),
    w('ends in the spring gap', '01:00', '02:30', ['sunday'], zone),
    w('over the repeated hour', '01:15', '02:30', ['sunday'], zone),
    w('saturday night over the change', '22:00', '06:00', ['saturday'], zone),
    w('sunday night into monday', '23:00', '01:00', ['sunday'], zone),
    w('weeknights', '22:00', '06:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], zone),
    w('monday early', '00:00', '03:00', ['monday'], zone),
  ];
}

/** Membership minute by minute over [from, to): the instants where it changes, by brute force. */
function transitions(win: TimeWindow, from: number, to: number): Array<[number, boolean]> {
  const out: Array<[number, boolean]> = [];
  const c = windowClock(win, 'UTC') as WindowClock;
  assert.equal(windowOpen(win, from, 'UTC').open, openAt(c, from));
  let prev = openAt(c, from);
  for (let t = from + MIN; t < to; t += MIN) {
    const o = openAt(c, t);
    if (o !== prev) out.push([t, o]);
    prev = o;
  }
  return out;
}

test('window clock: next opening and closing are exactly where membership changes, around both DST changes in two zones', () => {
  for (const [zone, spring, autumn] of ZONES) {
    for (const day of [spring, autumn]) {
      const from = at(`${day}T00:00:00Z`) - 36 * HOUR;
      const to = from + 96 * HOUR;
      for (const win of windowsFor(zone)) {
        const tr = transitions(win, from, to);
        // From every minute-aligned instant just before, at and after each change, and from the
        // start of the span, the next opening/closing is the next brute-force change of that kind.
        const probes = [from, ...tr.flatMap(([t]) => [t - MIN, t - 1, t, t + 1])];
        for (const p of probes) {
          const nextOpen = tr.find(([t, o]) => o && t > p)?.[0] ?? null;
          const nextClose = tr.find(([t, o]) => !o && t > p)?.[0] ?? null;
          const label = `${zone} '${win.name}' from ${iso(p)}`;
          if (nextOpen !== null) assert.equal(iso(nextOpening(win, p, 'UTC')), iso(nextOpen), `${label}: opening`);
          if (nextClose !== null) assert.equal(iso(nextClosing(win, p, 'UTC')), iso(nextClose), `${label}: closing`);
        }
      }
    }
  }
});

test('window clock: spring forward — a window starting in the gap opens at the first wall-clock time after it', () => {
  // Berlin 2026-03-29: 02:00 CET → 03:00 CEST. Sunday 02:30–05:00 opens at 03:00 CEST (01:00Z).
  const berlin = w('b', '02:30', '05:00', ['sunday'], 'Europe/Berlin');
  assert.equal(iso(nextOpening(berlin, at('2026-03-28T12:00:00Z'), 'UTC')), '2026-03-29T01:00:00.000Z');
  assert.equal(iso(nextClosing(berlin, at('2026-03-29T01:00:00Z'), 'UTC')), '2026-03-29T03:00:00.000Z');
  assert.equal(windowOpen(berlin, at('2026-03-29T00:59:59Z'), 'UTC').open, false);
  assert.equal(windowOpen(berlin, at('2026-03-29T01:00:00Z'), 'UTC').open, true);
  // New York 2026-03-08: 02:00 EST → 03:00 EDT (07:00Z).
  const ny = w('n', '02:30', '05:00', ['sunday'], 'America/New_York');
  assert.equal(iso(nextOpening(ny, at('2026-03-07T12:00:00Z'), 'UTC')), '2026-03-08T07:00:00.000Z');
  // A window wholly inside the gap does not open that Sunday: the next is a week later.
  const gap = w('g', '02:00', '02:45', ['sunday'], 'Europe/Berlin');
  assert.equal(iso(nextOpening(gap, at('2026-03-28T12:00:00Z'), 'UTC')), '2026-04-05T00:00:00.000Z');
  // A window ending in the gap closes where the gap starts.
  const ends = w('e', '01:00', '02:30', ['sunday'], 'Europe/Berlin');
  assert.equal(iso(nextClosing(ends, at('2026-03-29T00:30:00Z'), 'UTC')), '2026-03-29T01:00:00.000Z');
});

test('window clock: fall back — both occurrences of a repeated wall-clock time are inside the window', () => {
  // Berlin 2026-10-25: 03:00 CEST → 02:00 CET. Sunday 01:15–02:30 is open 01:15–02:30 CEST, closes,
  // and opens again for the second 02:00–02:30 (CET).
  const b = w('b', '01:15', '02:30', ['sunday'], 'Europe/Berlin');
  const from = at('2026-10-24T12:00:00Z');
  assert.equal(iso(nextOpening(b, from, 'UTC')), '2026-10-24T23:15:00.000Z');
  assert.equal(iso(nextClosing(b, from, 'UTC')), '2026-10-25T00:30:00.000Z');
  assert.equal(iso(nextOpening(b, at('2026-10-25T00:30:00Z'), 'UTC')), '2026-10-25T01:00:00.000Z');
  assert.equal(iso(nextClosing(b, at('2026-10-25T01:00:00Z'), 'UTC')), '2026-10-25T01:30:00.000Z');
  // New York 2026-11-01: 02:00 EDT → 01:00 EST. Sunday 01:15–02:30 opens at 01:15 EDT (05:15Z);
  const n = w('n', '01:15', '02:30', ['sunday'], 'America/New_York');
  // when the wall clock falls back to 01:00 EST it is before 01:15 again: closed until 01:15 EST.
  assert.equal(iso(nextOpening(n, at('2026-10-31T12:00:00Z'), 'UTC')), '2026-11-01T05:15:00.000Z');
  assert.equal(iso(nextClosing(n, at('2026-11-01T05:15:00Z'), 'UTC')), '2026-11-01T06:00:00.000Z');
  assert.equal(iso(nextOpening(n, at('2026-11-01T06:00:00Z'), 'UTC')), '2026-11-01T06:15:00.000Z');
  assert.equal(iso(nextClosing(n, at('2026-11-01T06:15:00Z'), 'UTC')), '2026-11-01T07:30:00.000Z');
  // A Saturday-night window over the change lasts one hour longer in real time.
  const sat = w('s', '22:00', '06:00', ['saturday'], 'Europe/Berlin');
  const opens = nextOpening(sat, from, 'UTC')!;
  assert.equal((nextClosing(sat, opens, 'UTC')! - opens) / HOUR, 9);
});

test('window clock: cross-midnight windows belong to the day they start; the after-midnight part is on the next weekday', () => {
  const sun = w('s', '23:00', '01:00', ['sunday'], 'America/New_York');
  // Monday 00:30 New York (05:30Z): Sunday's window, still open; closes at Monday 01:00.
  assert.equal(windowOpen(sun, at('2026-11-30T05:30:00Z'), 'UTC').open, true);
  assert.equal(iso(nextClosing(sun, at('2026-11-30T05:30:00Z'), 'UTC')), '2026-11-30T06:00:00.000Z');
  // Sunday 00:30 New York is Saturday's night: closed, opens Sunday 23:00.
  assert.equal(windowOpen(sun, at('2026-11-29T05:30:00Z'), 'UTC').open, false);
  assert.equal(iso(nextOpening(sun, at('2026-11-29T05:30:00Z'), 'UTC')), '2026-11-30T04:00:00.000Z');
  // A Monday window does not cover Monday's after-midnight part of Sunday's night.
  const mon = w('m', '23:00', '01:00', ['monday'], 'Europe/Berlin');
  assert.equal(windowOpen(mon, at('2026-11-29T23:30:00Z'), 'UTC').open, false, 'Monday 00:30 Berlin');
  assert.equal(windowOpen(mon, at('2026-11-30T23:30:00Z'), 'UTC').open, true, 'Tuesday 00:30 Berlin');
  // Back-to-back nights (weeknights 22:00–06:00) close each morning; a window with no day never opens.
  const nights = windowsFor('Europe/Berlin')[6]!;
  assert.equal(iso(nextClosing(nights, at('2026-11-24T23:00:00Z'), 'UTC')), '2026-11-25T05:00:00.000Z');
  assert.equal(nextOpening({ ...nights, days: [] as unknown as TimeWindow['days'] }, at('2026-11-24T23:00:00Z'), 'UTC'), null);
  assert.equal(nextOpening(w('x', '10:00', '10:00', ['monday']), at('2026-11-24T23:00:00Z'), 'UTC'), null, 'start = end never opens');
  assert.equal(nextClosing(w('x', '10:00', '11:00', ['monday'], 'Mars/Olympus'), at('2026-11-24T23:00:00Z'), 'UTC'), null);
});

test('window clock: `status` (the real CLI) and the engine agree at every tested instant', async () => {
  const migration = [w('Berlin sunday', '02:30', '05:00', ['sunday'], 'Europe/Berlin'), w('NY nights', '23:00', '01:00', ['saturday', 'sunday'], 'America/New_York')];
  const blackout = [w('Berlin repeated hour', '01:15', '02:30', ['sunday'], 'Europe/Berlin'), w('NY early', '01:15', '02:30', ['sunday'], 'America/New_York')];
  const schedule = { timezone: 'UTC', migration_windows: migration, blackout_windows: blackout };
  // Around each of the four DST changes: the day before at noon (every next opening and closing
  // lies across the change), and the instant of each change of that zone's migration windows on the
  // day. Each answer of status names future instants, checked against the engine's clock up to them.
  const instants = new Set<number>();
  for (const [zone, spring, autumn] of ZONES) {
    for (const day of [spring, autumn]) {
      const from = at(`${day}T00:00:00Z`) - 12 * HOUR;
      instants.add(from);
      for (const win of migration.filter((x) => x.timezone === zone)) {
        for (const [t] of transitions(win, from, from + 24 * HOUR)) instants.add(t);
      }
    }
  }
  assert.ok(instants.size >= 10 && instants.size <= 16, `${instants.size} instants`);
  const { dir, cleanup } = tempDir();
  try {
    const { config: cfgPath } = writeFixture(dir, { records: [], damaged: false, config: { automated_migrations: { schedule } } });
    const cfg = config({ automated_migrations: { schedule } });
    const snap = cluster([node('pve1'), node('pve2')], [guest(100, 'pve1', 4)]);
    const list = [...instants].sort((a, b) => a - b);
    const results: Array<{ ms: number; out: string }> = [];
    for (let i = 0; i < list.length; i += 2) {
      const batch = list.slice(i, i + 2);
      const rs = await Promise.all(batch.map((ms) => runCli(['status', '--offline', '--json', '--config', cfgPath], { env: { PROXBALANCE_NOW: new Date(ms).toISOString() } })));
      rs.forEach((r, k) => {
        assert.equal(r.code, 0, r.stderr);
        results.push({ ms: batch[k]!, out: r.stdout });
      });
    }
    for (const { ms, out } of results) {
      const s = JSON.parse(out).windows;
      const p = plan(snap, cfg, NO_HISTORY, ms);
      const gatesOk = p.gates.filter((g) => g.name === 'blackout' || g.name === 'migration_window').every((g) => g.passed);
      const sched = checkSchedule(schedule, ms);
      const label = new Date(ms).toISOString();
      assert.equal(s.allowed_now, gatesOk, `${label}: status says ${s.reason}; engine gates ${JSON.stringify(p.gates.slice(1, 3))}`);
      const states = [...s.migration_windows, ...s.blackout_windows];
      for (const [k, win] of [...migration, ...blackout].entries()) {
        const st = states[k];
        assert.equal(st.open, windowOpen(win, ms, 'UTC').open, `${label} ${win.name}`);
        // Where status says it opens and closes, the engine's clock turns exactly there.
        if (st.next_opens_at) {
          const t = Date.parse(st.next_opens_at);
          assert.deepEqual([windowOpen(win, t - 1, 'UTC').open, windowOpen(win, t, 'UTC').open], [false, true], `${label} ${win.name} opens ${st.next_opens_at}`);
          const closedFrom = st.closes_at ? Date.parse(st.closes_at) : ms;
          for (let x = closedFrom; x < t; x += 5 * MIN) assert.ok(!windowOpen(win, x, 'UTC').open, `${label} ${win.name} closed until ${st.next_opens_at}`);
        }
        if (st.closes_at) {
          const t = Date.parse(st.closes_at);
          assert.deepEqual([windowOpen(win, t - 1, 'UTC').open, windowOpen(win, t, 'UTC').open], [true, false], `${label} ${win.name} closes ${st.closes_at}`);
          for (let x = ms; x < t; x += 5 * MIN) assert.ok(windowOpen(win, x, 'UTC').open, `${label} ${win.name} open until ${st.closes_at}`);
        }
      }
      assert.equal(sched.blackout.active || (sched.migration.defined && !sched.migration.active), !s.allowed_now);
    }
  } finally {
    cleanup();
  }
});
