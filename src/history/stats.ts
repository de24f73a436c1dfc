import { DateTime } from 'luxon';
import type { HistoryRecord } from './store.js';
import { foldMigrations, migrationTime, type MigrationState } from './views.js';

/**
 * Statistics of the history: pure functions of the records and `now` (no clock, no I/O).
 *
 * Counting rules (docs/monitoring.md repeats them):
 * - A migration counts once, in its latest state (its records folded), in the period it started.
 * - Live migrations: every status but dry-run and never_started (nothing ran). `attempted` is all
 *   of them; `pending` are those whose outcome is not recorded yet (intent, started, unknown,
 *   interrupted).
 * - success rate = completed / (completed + failed + timeout); null when none has finished.
 * - Dry-run moves are counted apart and never in the live figures.
 * - median duration: over completed live migrations that recorded duration_s.
 * - Records dated after `now` are left out.
 */
export interface PeriodStats {
  from: string;
  to: string;
  attempted: number;
  completed: number;
  failed: number;
  timeout: number;
  pending: number;
  success_rate: number | null;
  dry_run: number;
  median_duration_s: number | null;
}

export interface DayStats {
  /** The calendar day in the chosen zone, YYYY-MM-DD. */
  date: string;
  completed: number;
  failed: number;
  timeout: number;
  pending: number;
  dry_run: number;
}

export interface HistoryStats {
  now: string;
  /** Time zone of the daily rows. */
  zone: string;
  last_24h: PeriodStats;
  last_7d: PeriodStats;
  /** One row per calendar day, oldest first, today last. */
  days: DayStats[];
}

const HOUR = 3_600_000;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Timed {
  m: MigrationState;
  t: number;
}

function timed(migrations: readonly MigrationState[]): Timed[] {
  return migrations.map((m) => ({ m, t: Date.parse(migrationTime(m)) }));
}

function period(items: readonly Timed[], fromMs: number, toMs: number): PeriodStats {
  const p: PeriodStats = {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    attempted: 0, completed: 0, failed: 0, timeout: 0, pending: 0, success_rate: null, dry_run: 0, median_duration_s: null,
  };
  const durations: number[] = [];
  for (const { m, t } of items) {
    if (!(t >= fromMs && t <= toMs)) continue;
    if (m.status === 'dry-run') {
      p.dry_run++;
      continue;
    }
    if (m.status === 'never_started') continue;
    p.attempted++;
    if (m.status === 'completed') {
      p.completed++;
      if (typeof m.duration_s === 'number') durations.push(m.duration_s);
    } else if (m.status === 'failed') p.failed++;
    else if (m.status === 'timeout') p.timeout++;
    else p.pending++;
  }
  const finished = p.completed + p.failed + p.timeout;
  p.success_rate = finished ? p.completed / finished : null;
  p.median_duration_s = median(durations);
  return p;
}

/** Figures of the migrations that started in [fromMs, toMs]. */
export function periodStats(migrations: readonly MigrationState[], fromMs: number, toMs: number): PeriodStats {
  return period(timed(migrations), fromMs, toMs);
}

/** One row per calendar day in `zone`: the `days` days ending with today, oldest first. */
export function dailyStats(migrations: readonly MigrationState[], now: Date, days = 7, zone = 'UTC'): DayStats[] {
  return daily(timed(migrations), now, days, zone);
}

function daily(items: readonly Timed[], now: Date, days: number, zone: string): DayStats[] {
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const rows: DayStats[] = [];
  const starts: number[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = today.minus({ days: i });
    rows.push({ date: d.toISODate()!, completed: 0, failed: 0, timeout: 0, pending: 0, dry_run: 0 });
    starts.push(d.toMillis());
  }
  const nowMs = now.getTime();
  const first = starts[0]!;
  for (const { m, t } of items) {
    if (!(t >= first && t <= nowMs)) continue;
    // Days are not all 24 h long (DST): find the row by its start.
    let i = starts.length - 1;
    while (i > 0 && t < starts[i]!) i--;
    const row = rows[i]!;
    if (m.status === 'never_started') continue;
    if (m.status === 'dry-run') row.dry_run++;
    else if (m.status === 'completed') row.completed++;
    else if (m.status === 'failed') row.failed++;
    else if (m.status === 'timeout') row.timeout++;
    else row.pending++;
  }
  return rows;
}

/** The figures of `proxbalance stats`: last 24 h, last 7 d, and 7 daily rows in `zone`. */
export function computeStats(records: readonly HistoryRecord[], now: Date, opts: { zone?: string } = {}): HistoryStats {
  const zone = opts.zone ?? 'UTC';
  const items = timed(foldMigrations(records));
  const nowMs = now.getTime();
  return {
    now: now.toISOString(),
    zone,
    last_24h: period(items, nowMs - 24 * HOUR, nowMs),
    last_7d: period(items, nowMs - 7 * 24 * HOUR, nowMs),
    days: daily(items, now, 7, zone),
  };
}
