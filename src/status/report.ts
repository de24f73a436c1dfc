/**
 * The automation's state as config and history say it now: enabled, dry run or live, halted and
 * why, windows, the last tick, the next check, migrations without an outcome. What `proxbalance
 * status` shows and what the HTML report (src/report) shows, from one function; the live parts
 * (in-progress migrations, the scheduler, the run lock) are added by the status command.
 */
import type { HaltedRecord, HistoryRecord, RunRecord } from '../history/store.js';
import { activeHalt, lastRun, migrationTime, nextScheduledCheck, unfinishedMigrations, type MigrationState } from '../history/views.js';
import type { Config } from '../config/load.js';
import type { InProgress } from '../executor/in-progress.js';
import type { SchedulerState } from '../doctor/scheduler.js';
import { windowStatus, type WindowStatus } from './windows.js';

export interface StatusReport {
  now: string;
  config_file: string;
  history_file: string;
  automation: { enabled: boolean; mode: 'live' | 'dry-run' };
  halted: HaltedRecord | null;
  windows: WindowStatus;
  last_tick: (Pick<RunRecord, 'run_id' | 'started_at' | 'finished_at' | 'trigger' | 'mode' | 'outcome' | 'reason'> & { moves: number; skips: number }) | null;
  next_check: { due_at: string | null; in_seconds: number | null; check_interval_minutes: number; basis: string };
  /** Migrations the history holds no outcome for yet (the next tick looks them up by UPID). */
  unfinished: MigrationState[];
  /** Running in the cluster now; null when the cluster was not asked (--offline, no secret) or did not answer. */
  in_progress: InProgress[] | null;
  /** Why in_progress is null. */
  cluster_note?: string;
  /** The timer and the service as systemd has them (null until asked; systemd false: none here). */
  scheduler: SchedulerState | null;
  /** A tick holding the run lock now, and since when. */
  tick_running: { pid: number | null; since: string | null } | null;
  /** Migrations the running tick started: in flight, not unfinished. */
  in_flight: MigrationState[];
}

export function statusReport(records: readonly HistoryRecord[], config: Config, now: Date, paths: { config: string; history: string }): StatusReport {
  const am = config.automated_migrations;
  const last = lastRun(records, (r) => Date.parse(r.started_at) <= now.getTime());
  const interval = am.check_interval_minutes;
  const scheduled = nextScheduledCheck(records, interval, now);
  let next: StatusReport['next_check'];
  if (scheduled) {
    const due = scheduled.dueMs;
    next = {
      due_at: new Date(due).toISOString(),
      in_seconds: Math.max(0, Math.round((due - now.getTime()) / 1000)),
      check_interval_minutes: interval,
      basis: `last scheduled tick ${scheduled.last.started_at} + check_interval_minutes ${interval}`,
    };
  } else {
    next = { due_at: null, in_seconds: null, check_interval_minutes: interval, basis: 'no scheduled tick recorded yet: the next timer firing runs one' };
  }
  return {
    now: now.toISOString(),
    config_file: paths.config,
    history_file: paths.history,
    automation: { enabled: am.enabled, mode: am.dry_run ? 'dry-run' : 'live' },
    halted: activeHalt(records),
    windows: windowStatus(config, now),
    last_tick: last && {
      run_id: last.run_id, started_at: last.started_at, finished_at: last.finished_at, trigger: last.trigger, mode: last.mode, outcome: last.outcome,
      ...(last.reason !== undefined && { reason: last.reason }),
      moves: last.decisions.filter((d) => d.action === 'move').length,
      skips: last.decisions.filter((d) => d.action === 'skip').length,
    },
    next_check: next,
    unfinished: unfinishedMigrations(records).filter((m) => Date.parse(migrationTime(m)) <= now.getTime()),
    in_progress: null,
    scheduler: null,
    tick_running: null,
    in_flight: [],
  };
}
