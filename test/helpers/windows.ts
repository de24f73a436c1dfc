import assert from 'node:assert/strict';
import { openAt, windowClock, windowOpen, type WindowClock } from '../../src/engine/windows.js';
import type { TimeWindow } from '../../src/generated/config.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
const STEP = 15 * MIN;
export const at = (iso: string) => Date.parse(iso);
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
export const w = (name: string, start: string, end: string, days: TimeWindow['days'], timezone?: string): TimeWindow => ({
  name,
  enabled: true,
  days,
  start_time: start,
  end_time: end,
  ...(timezone ? { timezone } : {}),
});

/** The DST changes of 2026 in two zones: [zone, spring-forward Sunday, autumn Sunday]. */
export const ZONES: Array<[string, string, string]> = [
  ['Europe/Berlin', '2026-03-29', '2026-10-25'],
  ['America/New_York', '2026-03-08', '2026-11-01'],
];

/** Windows around the changes (Berlin changes at 02:00/03:00 local, New York at 02:00/01:00). */
export function windowsFor(zone: string): TimeWindow[] {
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

/**
 * Membership every 15 minutes over [from, to): the instants where it changes, by brute force. Every
 * window time in these tests is a multiple of 15 minutes and DST changes fall on the hour, so no
 * change can hide between two steps.
 */
export function transitions(win: TimeWindow, from: number, to: number): Array<[number, boolean]> {
  const out: Array<[number, boolean]> = [];
  const c = windowClock(win, 'UTC') as WindowClock;
  assert.equal(windowOpen(win, from, 'UTC').open, openAt(c, from));
  let prev = openAt(c, from);
  for (let t = from + STEP; t < to; t += STEP) {
    const o = openAt(c, t);
    if (o !== prev) out.push([t, o]);
    prev = o;
  }
  return out;
}

