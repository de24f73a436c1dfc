/**
 * The one window clock: weekly time windows (migration and blackout windows), judged on the wall
 * clock of the window's time zone (else schedule.timezone). The engine's gates and `proxbalance
 * status` both use these functions, so they never disagree.
 *
 * - `days` are the days a window *starts* on; start inclusive, end exclusive.
 * - end < start: the window crosses midnight and belongs to the day it starts (a Friday 22:00–06:00
 *   window covers Friday 22:00–24:00 and Saturday 00:00–06:00).
 * - DST: membership is judged on local wall-clock time, so in a repeated hour (autumn) both
 *   occurrences of 01:30 are inside a 01:00–02:00 window, and in a skipped hour (spring) the times
 *   that do not exist simply never occur (a 02:30–05:00 window opens at 03:00, the first wall-clock
 *   time after the gap; a 02:00–03:00 window inside the gap does not open that day).
 * - start = end is a configuration error (the validator rejects it); here such a window is never open.
 *
 * `nextOpening` and `nextClosing` are defined by membership alone: the first instant after a given
 * one where `windowOpen` turns true (resp. false). Membership can only change where the wall clock
 * reads a window's start or end time, or where it jumps (a DST change), so only those instants are
 * examined.
 */
import { DateTime, Info, type Zone } from 'luxon';
import type { TimeWindow } from '../generated/config.js';

/** Day names by JavaScript's getUTCDay() (0 = Sunday). */
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
/** How far ahead the next opening or closing is looked for: a weekly window repeats within 7 days. */
const LOOKAHEAD_DAYS = 8;
/** Offsets are sampled this often to find DST changes (zones change at most a few times a year). */
const SAMPLE = 3 * 3_600_000;

export interface WindowCheck {
  open: boolean;
  /** Local time description, e.g. "Europe/Berlin Wed 09:12". */
  local: string;
  /** Set when the window cannot be evaluated (bad time zone or time). */
  error?: string;
}

/** A window ready to be judged: its zone, start and end in minutes of the day, its start days. */
export interface WindowClock {
  zoneName: string;
  zone: Zone;
  start: number;
  end: number;
  days: ReadonlySet<string>;
}

function minutes(hhmm: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) return null;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  if (h > 23 || mi > 59) return null;
  return h * 60 + mi;
}

/** A window that cannot be judged, and why (its zone when that much is valid). */
export interface WindowFault {
  error: string;
  zoneName: string;
  zone: Zone | null;
}

/** Reads a window (its own zone, else `defaultZone`, else UTC); the reason when it cannot be judged. */
export function windowClock(window: TimeWindow, defaultZone: string): WindowClock | WindowFault {
  const zoneName = window.timezone || defaultZone || 'UTC';
  const zone = Info.normalizeZone(zoneName);
  if (!zone.isValid) return { error: `invalid time zone '${zoneName}'`, zoneName, zone: null };
  const start = minutes(window.start_time);
  const end = minutes(window.end_time);
  if (start === null || end === null) return { error: `invalid time ${window.start_time}–${window.end_time}`, zoneName, zone };
  if (start === end) return { error: `start_time equals end_time (${window.start_time})`, zoneName, zone };
  return { zoneName, zone, start, end, days: new Set(window.days) };
}

/** The wall clock at `ms` as if it were UTC (epoch ms of the local date and time). */
function wall(zone: Zone, ms: number): number {
  return ms + zone.offset(ms) * MINUTE;
}

/** Is the window open at `ms`? Pure arithmetic on the local wall clock. */
export function openAt(c: WindowClock, ms: number): boolean {
  const w = wall(c.zone, ms);
  const day = Math.floor(w / DAY);
  const t = Math.floor((w - day * DAY) / MINUTE);
  // 1970-01-01 was a Thursday (getUTCDay 4); windows are judged after 1970 only.
  const today = DAY_NAMES[(day + 4) % 7]!;
  const yesterday = DAY_NAMES[(day + 3) % 7]!;
  if (c.start < c.end) return c.days.has(today) && t >= c.start && t < c.end;
  return (c.days.has(today) && t >= c.start) || (c.days.has(yesterday) && t < c.end);
}

/** Is `window` open at `nowMs`? `defaultZone` is schedule.timezone. */
export function windowOpen(window: TimeWindow, nowMs: number, defaultZone: string): WindowCheck {
  const c = windowClock(window, defaultZone);
  const desc = c.zone ? `${c.zoneName} ${DateTime.fromMillis(nowMs, { zone: c.zone }).toFormat('ccc HH:mm')}` : '?';
  if ('error' in c) return { open: false, local: desc, error: c.error };
  return { open: openAt(c, nowMs), local: desc };
}

/** Instants in (fromMs, toMs] where the zone's offset changes (DST), found by bisection. */
function* offsetChanges(zone: Zone, fromMs: number, toMs: number): Generator<number> {
  let a = fromMs;
  let oa = zone.offset(a);
  while (a < toMs) {
    const b = Math.min(a + SAMPLE, toMs);
    const ob = zone.offset(b);
    if (ob !== oa) {
      let lo = a;
      let hi = b;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zone.offset(mid) === oa) lo = mid;
        else hi = mid;
      }
      yield hi;
    }
    a = b;
    oa = ob;
  }
}

/**
 * Every instant in (fromMs, fromMs + LOOKAHEAD_DAYS] where the window's membership may change,
 * ascending: where the wall clock reads its start or end time (twice in a repeated hour), and
 * where the wall clock jumps.
 */
export function candidateInstants(c: WindowClock, fromMs: number): number[] {
  const toMs = fromMs + LOOKAHEAD_DAYS * DAY;
  const jumps = [...offsetChanges(c.zone, fromMs, toMs)];
  // Every instant in the range has the offset at its start or the one after a jump.
  const offsets = new Set<number>([c.zone.offset(fromMs), ...jumps.map((j) => c.zone.offset(j))]);
  const firstDay = Math.floor(wall(c.zone, fromMs) / DAY) - 1;
  const found = new Set<number>(jumps);
  // Local days from the one before `fromMs` to the one of `toMs`, which is LOOKAHEAD_DAYS + 2 later
  // when a spring-forward change lies in between and `fromMs` is late in its local day.
  for (let d = firstDay; d <= firstDay + LOOKAHEAD_DAYS + 2; d++) {
    for (const m of [c.start, c.end]) {
      const w = d * DAY + m * MINUTE;
      for (const o of offsets) {
        const t = w - o * MINUTE;
        if (c.zone.offset(t) === o) found.add(t);
      }
    }
  }
  return [...found].filter((t) => t > fromMs && t <= toMs).sort((a, b) => a - b);
}

function nextChange(window: TimeWindow, afterMs: number, defaultZone: string, toOpen: boolean): number | null {
  const c = windowClock(window, defaultZone);
  if ('error' in c) return null;
  for (const t of candidateInstants(c, afterMs)) {
    if (openAt(c, t) === toOpen && openAt(c, t - 1) !== toOpen) return t;
  }
  return null;
}

/** The first instant after `afterMs` at which the window opens (epoch ms), or null (no day, or not within 8 days). */
export function nextOpening(window: TimeWindow, afterMs: number, defaultZone: string): number | null {
  return nextChange(window, afterMs, defaultZone, true);
}

/** The first instant after `afterMs` at which the window closes (epoch ms), or null (never within 8 days). */
export function nextClosing(window: TimeWindow, afterMs: number, defaultZone: string): number | null {
  return nextChange(window, afterMs, defaultZone, false);
}

export interface ScheduleCheck {
  blackout: { active: boolean; name?: string; local?: string; errors: string[] };
  migration: { defined: boolean; active: boolean; name?: string; local?: string; errors: string[] };
}

/**
 * Evaluates all windows of the schedule. Disabled windows are ignored. A blackout window that
 * cannot be evaluated counts as active (safe side); a migration window that cannot be evaluated
 * counts as closed.
 */
export function checkSchedule(
  schedule: { timezone: string; migration_windows: TimeWindow[]; blackout_windows: TimeWindow[] },
  nowMs: number,
): ScheduleCheck {
  const out: ScheduleCheck = { blackout: { active: false, errors: [] }, migration: { defined: false, active: false, errors: [] } };
  for (const w of schedule.blackout_windows) {
    if (!w.enabled) continue;
    const c = windowOpen(w, nowMs, schedule.timezone);
    if (c.error) out.blackout.errors.push(`blackout window '${w.name}': ${c.error}`);
    if ((c.open || c.error) && !out.blackout.active) {
      out.blackout.active = true;
      out.blackout.name = w.name;
      out.blackout.local = c.local;
    }
  }
  for (const w of schedule.migration_windows) {
    if (!w.enabled) continue;
    out.migration.defined = true;
    const c = windowOpen(w, nowMs, schedule.timezone);
    if (c.error) out.migration.errors.push(`migration window '${w.name}': ${c.error}`);
    if (c.open && !out.migration.active) {
      out.migration.active = true;
      out.migration.name = w.name;
      out.migration.local = c.local;
    }
    if (!out.migration.local) out.migration.local = c.local;
  }
  return out;
}
