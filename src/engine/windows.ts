/**
 * Weekly time windows (migration and blackout windows), judged on the wall clock of the window's
 * time zone (else schedule.timezone) with luxon.
 *
 * - `days` are the days a window *starts* on; start inclusive, end exclusive.
 * - end < start: the window crosses midnight and belongs to the day it starts (a Friday 22:00–06:00
 *   window covers Friday 22:00–24:00 and Saturday 00:00–06:00).
 * - DST: comparison is on local wall-clock time, so in a repeated hour (autumn) both occurrences of
 *   01:30 are inside a 01:00–02:00 window, and in a skipped hour (spring) the times that do not
 *   exist simply never occur (a 02:00–04:00 window is then open 03:00–04:00).
 * - start = end is a configuration error (the validator rejects it); here such a window is never open.
 */
import { DateTime } from 'luxon';
import type { TimeWindow } from '../generated/config.js';

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

export interface WindowCheck {
  open: boolean;
  /** Local time description, e.g. "Europe/Berlin Wed 09:12". */
  local: string;
  /** Set when the window cannot be evaluated (bad time zone or time). */
  error?: string;
}

function minutes(hhmm: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) return null;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  if (h > 23 || mi > 59) return null;
  return h * 60 + mi;
}

/** Is `window` open at `nowMs`? `defaultZone` is schedule.timezone. */
export function windowOpen(window: TimeWindow, nowMs: number, defaultZone: string): WindowCheck {
  const zone = window.timezone || defaultZone || 'UTC';
  const local = DateTime.fromMillis(nowMs, { zone });
  if (!local.isValid) return { open: false, local: '?', error: `invalid time zone '${zone}'` };
  const desc = `${zone} ${local.toFormat('ccc HH:mm')}`;
  const start = minutes(window.start_time);
  const end = minutes(window.end_time);
  if (start === null || end === null) return { open: false, local: desc, error: `invalid time ${window.start_time}–${window.end_time}` };
  if (start === end) return { open: false, local: desc, error: `start_time equals end_time (${window.start_time})` };
  const days = new Set<string>(window.days.map((d) => d.toLowerCase()));
  const today = DAYS[local.weekday - 1]!;
  const yesterday = DAYS[(local.weekday + 5) % 7]!;
  const t = local.hour * 60 + local.minute;
  let open: boolean;
  if (start < end) open = days.has(today) && t >= start && t < end;
  else open = (days.has(today) && t >= start) || (days.has(yesterday) && t < end);
  return { open, local: desc };
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
  for (const w of schedule.blackout_windows ?? []) {
    if (!w.enabled) continue;
    const c = windowOpen(w, nowMs, schedule.timezone);
    if (c.error) out.blackout.errors.push(`blackout window '${w.name}': ${c.error}`);
    if ((c.open || c.error) && !out.blackout.active) {
      out.blackout.active = true;
      out.blackout.name = w.name;
      out.blackout.local = c.local;
    }
  }
  for (const w of schedule.migration_windows ?? []) {
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
