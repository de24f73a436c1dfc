import { test } from 'node:test';
import assert from 'node:assert/strict';
import { windowOpen } from '../src/engine/index.js';
import type { TimeWindow } from '../src/generated/config.js';

const w = (start: string, end: string, days: TimeWindow['days'], timezone?: string): TimeWindow => ({
  name: 'w',
  enabled: true,
  days,
  start_time: start,
  end_time: end,
  ...(timezone ? { timezone } : {}),
});
const at = (iso: string) => Date.parse(iso);

// [description, window, instant (UTC), default zone, expected open]
const cases: Array<[string, TimeWindow, string, string, boolean]> = [
  // Plain day window, start inclusive, end exclusive (UTC).
  ['before start', w('08:00', '18:00', ['wednesday']), '2026-11-25T07:59:00Z', 'UTC', false],
  ['at start (inclusive)', w('08:00', '18:00', ['wednesday']), '2026-11-25T08:00:00Z', 'UTC', true],
  ['inside', w('08:00', '18:00', ['wednesday']), '2026-11-25T12:00:00Z', 'UTC', true],
  ['at end (exclusive)', w('08:00', '18:00', ['wednesday']), '2026-11-25T18:00:00Z', 'UTC', false],
  ['other day', w('08:00', '18:00', ['thursday']), '2026-11-25T12:00:00Z', 'UTC', false],
  // Cross-midnight: a Friday 22:00–06:00 window covers Saturday 00:00–06:00, not Monday's.
  ['friday 21:59', w('22:00', '06:00', ['friday']), '2026-11-27T21:59:00Z', 'UTC', false],
  ['friday 22:00', w('22:00', '06:00', ['friday']), '2026-11-27T22:00:00Z', 'UTC', true],
  ['friday 23:59', w('22:00', '06:00', ['friday']), '2026-11-27T23:59:00Z', 'UTC', true],
  ['saturday 00:00 (after midnight)', w('22:00', '06:00', ['friday']), '2026-11-28T00:00:00Z', 'UTC', true],
  ['saturday 05:59', w('22:00', '06:00', ['friday']), '2026-11-28T05:59:00Z', 'UTC', true],
  ['saturday 06:00 (end exclusive)', w('22:00', '06:00', ['friday']), '2026-11-28T06:00:00Z', 'UTC', false],
  ['saturday 22:00 (saturday not listed)', w('22:00', '06:00', ['friday']), '2026-11-28T22:00:00Z', 'UTC', false],
  ['monday 03:00 is not friday night', w('22:00', '06:00', ['friday']), '2026-11-30T03:00:00Z', 'UTC', false],
  ['friday 03:00 belongs to thursday (not listed)', w('22:00', '06:00', ['friday']), '2026-11-27T03:00:00Z', 'UTC', false],
  ['weeknights: tuesday 03:00 belongs to monday', w('22:00', '06:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']), '2026-11-24T03:00:00Z', 'UTC', true],
  ['weeknights: monday 03:00 belongs to sunday (not listed)', w('22:00', '06:00', ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']), '2026-11-23T03:00:00Z', 'UTC', false],
  // Midnight edges.
  ['00:00 start on its day', w('00:00', '06:00', ['monday']), '2026-11-30T00:00:00Z', 'UTC', true],
  ['sunday 23:59 before a monday 00:00 window', w('00:00', '06:00', ['monday']), '2026-11-29T23:59:00Z', 'UTC', false],
  ['window ending at 00:00 is cross-midnight-to-zero', w('18:00', '00:00', ['wednesday']), '2026-11-25T23:59:00Z', 'UTC', true],
  ['…and closed at 00:00', w('18:00', '00:00', ['wednesday']), '2026-11-26T00:00:00Z', 'UTC', false],
  // Time zones: the window's own zone beats the schedule's; else the schedule's.
  ['New York 22:00 = 03:00 UTC next day', w('22:00', '06:00', ['friday'], 'America/New_York'), '2026-11-28T03:30:00Z', 'UTC', true],
  ['New York: 21:30 local is before the window', w('22:00', '06:00', ['friday'], 'America/New_York'), '2026-11-28T02:30:00Z', 'UTC', false],
  ['schedule zone used when the window has none', w('09:00', '10:00', ['wednesday']), '2026-11-25T08:30:00Z', 'Europe/Berlin', true],
  ['window zone beats schedule zone', w('09:00', '10:00', ['wednesday'], 'UTC'), '2026-11-25T08:30:00Z', 'Europe/Berlin', false],
  ['Tokyo: the local day differs from the UTC day', w('08:00', '09:00', ['thursday'], 'Asia/Tokyo'), '2026-11-25T23:30:00Z', 'UTC', true],
  // DST spring forward, Europe/Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST.
  ['spring: 01:30 CET inside 01:00–04:00', w('01:00', '04:00', ['sunday'], 'Europe/Berlin'), '2026-03-29T00:30:00Z', 'UTC', true],
  ['spring: 03:30 CEST inside 01:00–04:00', w('01:00', '04:00', ['sunday'], 'Europe/Berlin'), '2026-03-29T01:30:00Z', 'UTC', true],
  ['spring: 04:00 CEST closes 01:00–04:00', w('01:00', '04:00', ['sunday'], 'Europe/Berlin'), '2026-03-29T02:00:00Z', 'UTC', false],
  ['spring: a window inside the gap never opens (01:59 CET)', w('02:00', '03:00', ['sunday'], 'Europe/Berlin'), '2026-03-29T00:59:00Z', 'UTC', false],
  ['spring: a window inside the gap never opens (03:00 CEST)', w('02:00', '03:00', ['sunday'], 'Europe/Berlin'), '2026-03-29T01:00:00Z', 'UTC', false],
  ['spring: window starting in the gap opens at 03:00 CEST', w('02:30', '05:00', ['sunday'], 'Europe/Berlin'), '2026-03-29T01:00:00Z', 'UTC', true],
  // DST fall back, Europe/Berlin 2026-10-25: 03:00 CEST goes back to 02:00 CET (02:xx twice).
  ['autumn: first 02:30 (CEST) inside 02:00–03:00', w('02:00', '03:00', ['sunday'], 'Europe/Berlin'), '2026-10-25T00:30:00Z', 'UTC', true],
  ['autumn: second 02:30 (CET) inside 02:00–03:00', w('02:00', '03:00', ['sunday'], 'Europe/Berlin'), '2026-10-25T01:30:00Z', 'UTC', true],
  ['autumn: 03:00 CET closes it', w('02:00', '03:00', ['sunday'], 'Europe/Berlin'), '2026-10-25T02:00:00Z', 'UTC', false],
  ['autumn: saturday-night window over the change, 05:59 CET', w('22:00', '06:00', ['saturday'], 'Europe/Berlin'), '2026-10-25T04:59:00Z', 'UTC', true],
  ['autumn: …closes at 06:00 CET', w('22:00', '06:00', ['saturday'], 'Europe/Berlin'), '2026-10-25T05:00:00Z', 'UTC', false],
  // US DST (America/New_York 2026-03-08 spring, 2026-11-01 autumn).
  ['US spring: 03:30 EDT inside 01:00–04:00', w('01:00', '04:00', ['sunday'], 'America/New_York'), '2026-03-08T07:30:00Z', 'UTC', true],
  ['US autumn: second 01:30 (EST) inside 01:00–02:00', w('01:00', '02:00', ['sunday'], 'America/New_York'), '2026-11-01T06:30:00Z', 'UTC', true],
];

for (const [name, window, instant, zone, expected] of cases) {
  test(`window: ${name}`, () => {
    const r = windowOpen(window, at(instant), zone);
    assert.equal(r.error, undefined);
    assert.equal(r.open, expected, `${instant} → ${r.local}`);
  });
}

test('window: start = end is a configuration error and never open', () => {
  const r = windowOpen(w('10:00', '10:00', ['wednesday']), at('2026-11-25T10:00:00Z'), 'UTC');
  assert.equal(r.open, false);
  assert.match(r.error ?? '', /start_time equals end_time/);
});

test('window: an unknown time zone is reported', () => {
  const r = windowOpen(w('10:00', '11:00', ['wednesday'], 'Mars/Olympus'), at('2026-11-25T10:00:00Z'), 'UTC');
  assert.equal(r.open, false);
  assert.match(r.error ?? '', /invalid time zone/);
});
