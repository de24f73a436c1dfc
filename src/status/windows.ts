import type { Config } from '../config/load.js';
import type { TimeWindow } from '../generated/config.js';
import { checkSchedule, nextClosing, nextOpening, windowClock, windowOpen } from '../engine/windows.js';

/**
 * Which schedule windows are open at `now`, and when they next close and open: for
 * `proxbalance status`. A presenter only: whether a window is open, when it opens and when it
 * closes all come from the engine's window clock (src/engine/windows.ts, the functions that gate a
 * tick), so status and run never disagree, DST changes included.
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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function windowState(w: TimeWindow, defaultZone: string, now: Date): WindowState {
  const nowMs = now.getTime();
  const open = windowOpen(w, nowMs, defaultZone).open;
  return {
    name: w.name,
    zone: windowClock(w, defaultZone).zoneName,
    open,
    closes_at: open ? iso(nextClosing(w, nowMs, defaultZone)) : null,
    next_opens_at: iso(nextOpening(w, nowMs, defaultZone)),
  };
}

export function windowStatus(config: Config, now: Date): WindowStatus {
  const schedule = config.automated_migrations.schedule;
  const zone = schedule.timezone;
  const migration = schedule.migration_windows.filter((w) => w.enabled !== false).map((w) => windowState(w, zone, now));
  const blackout = schedule.blackout_windows.filter((w) => w.enabled !== false).map((w) => windowState(w, zone, now));
  const nexts = migration.map((w) => w.next_opens_at).filter((t): t is string => t !== null).sort();
  // The engine's gate verdict, word for word in substance.
  const sched = checkSchedule(schedule, now.getTime());
  let allowed = true;
  let reason = 'no migration window defined: migrations may happen at any time';
  if (sched.blackout.active) {
    allowed = false;
    reason = `Blackout window active: "${sched.blackout.name}"`;
  } else if (sched.migration.defined && !sched.migration.active) {
    allowed = false;
    reason = 'Outside migration window';
  } else if (sched.migration.active) {
    reason = `migration window "${sched.migration.name}" open`;
  }
  return { migration_windows: migration, blackout_windows: blackout, allowed_now: allowed, reason, next_migration_window_opens_at: nexts[0] ?? null };
}
