import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextClosing, nextOpening, windowOpen } from '../src/engine/windows.js';
import type { TimeWindow } from '../src/generated/config.js';
import { at, HOUR, iso, transitions, w, windowsFor, ZONES } from './helpers/windows.js';

test('window clock: next opening and closing are exactly where membership changes, around both DST changes in two zones', () => {
  for (const [zone, spring, autumn] of ZONES) {
    for (const day of [spring, autumn]) {
      const from = at(`${day}T00:00:00Z`) - 36 * HOUR;
      const to = from + 72 * HOUR;
      for (const win of windowsFor(zone)) {
        const tr = transitions(win, from, to);
        // From every minute-aligned instant just before, at and after each change, and from the
        // start of the span, the next opening/closing is the next brute-force change of that kind.
        const probes = [from, ...tr.flatMap(([t]) => [t - 1, t])];
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
