import { DateTime } from 'luxon';
import type { Config } from '../config/load.js';
import type { TimeWindow } from '../generated/config.js';
import { windowOpen } from '../engine/windows.js';

/**
 * Which schedule windows are open at `now`, and when the next ones open: for `proxbalance status`.
 *
 * Rules (the config schema's): a window's times are read in its own `timezone`, else in
 * `schedule.timezone`; `days` are the days on which the window STARTS (lower-case full English
 * names); start inclusive, end exclusive; an end earlier than the start crosses midnight and
 * belongs to the day it starts (an end equal to the start is a config error). Disabled windows are
 * ignored. A local time skipped by a DST change moves forward to the first existing time.
 *
 * Kept to this one function on purpose: the engine's window code (src/engine/windows.ts) is the
 * authority on whether a tick may migrate; status only shows the schedule.
 */
export interface WindowState {
  name: string;
  zone: string;
  open: boolean;
  /** While open: when this opening closes (ISO, UTC). */
  closes_at: string | null;
  /** The next opening after `now` (ISO, UTC); null when the window has no day at all. */
  next_opens_at: string | null;
}

export interface WindowStatus {
  migration_windows: WindowState[];
  blackout_windows: WindowState[];
  /** No enabled migration window (migrations at any time), or one is open; and no blackout open. */
  allowed_now: boolean;
  reason: string;
  /** The earliest next opening among the migration windows (ISO, UTC), or null. */
  next_migration_window_opens_at: string | null;
}

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

function hm(text: string): { hour: number; minute: number } {
  const [h, m] = text.split(':').map(Number);
  return { hour: h!, minute: m! };
}

function openings(w: TimeWindow, zone: string, day: DateTime): { start: DateTime; end: DateTime } {
  const s = hm(w.start_time);
  const e = hm(w.end_time);
  const at = (t: { hour: number; minute: number }, d: DateTime) =>
    DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour: t.hour, minute: t.minute }, { zone });
  const start = at(s, day);
  const crosses = e.hour * 60 + e.minute <= s.hour * 60 + s.minute;
  const end = at(e, crosses ? day.plus({ days: 1 }) : day);
  return { start, end };
}

export function windowState(w: TimeWindow, defaultZone: string, now: Date): WindowState {
  const zone = w.timezone ?? defaultZone;
  const nowMs = now.getTime();
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const state: WindowState = { name: w.name, zone, open: false, closes_at: null, next_opens_at: null };
  // Yesterday's opening may still be open (crossing midnight); the next one is at most 7 days away.
  let closesMs: number | null = null;
  let nextMs: number | null = null;
  for (let i = -1; i <= 8; i++) {
    const day = today.plus({ days: i });
    if (!(w.days as readonly string[]).includes(DAYS[day.weekday - 1]!)) continue;
    const { start, end } = openings(w, zone, day);
    const s = start.toMillis();
    const e = end.toMillis();
    if (closesMs !== null && s <= closesMs) closesMs = Math.max(closesMs, e); // back to back: one opening
    else if (s <= nowMs && nowMs < e) closesMs = e;
    else if (s > nowMs && nextMs === null) nextMs = s;
  }
  // Open or not is the engine's call (the same function that gates a tick), so status and run
  // never disagree; this function adds only when it closes and next opens.
  state.open = windowOpen(w, nowMs, defaultZone).open;
  state.closes_at = closesMs === null || !state.open ? null : new Date(closesMs).toISOString();
  state.next_opens_at = nextMs === null ? null : new Date(nextMs).toISOString();
  return state;
}

export function windowStatus(config: Config, now: Date): WindowStatus {
  const schedule = config.automated_migrations.schedule;
  const zone = schedule.timezone;
  const migration = schedule.migration_windows.filter((w) => w.enabled !== false).map((w) => windowState(w, zone, now));
  const blackout = schedule.blackout_windows.filter((w) => w.enabled !== false).map((w) => windowState(w, zone, now));
  const nexts = migration.map((w) => w.next_opens_at).filter((t): t is string => t !== null).sort();
  const activeBlackout = blackout.find((w) => w.open);
  const openMigration = migration.find((w) => w.open);
  let allowed = true;
  let reason = 'no migration window defined: migrations may happen at any time';
  if (activeBlackout) {
    allowed = false;
    reason = `Blackout window active: "${activeBlackout.name}"`;
  } else if (migration.length && !openMigration) {
    allowed = false;
    reason = 'Outside migration window';
  } else if (openMigration) {
    reason = `migration window "${openMigration.name}" open`;
  }
  return { migration_windows: migration, blackout_windows: blackout, allowed_now: allowed, reason, next_migration_window_opens_at: nexts[0] ?? null };
}
