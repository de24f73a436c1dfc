import type { HaltedRecord, HistoryRecord, MigrationRecord, NotificationRecord, RunRecord } from './store.js';

/** How far back the decision engine looks (cooldown escalation, ping-pong, rollbacks, throttles). */
export const ENGINE_LOOKBACK_MS = 7 * 24 * 3600_000;

/** A migration folded from its records: the latest value of every field, and when it was first seen. */
export type MigrationState = MigrationRecord & { first_at: string };

/** Folds the migration records into one state per migration_id, in order of first appearance. */
export function foldMigrations(records: readonly HistoryRecord[]): MigrationState[] {
  const byId = new Map<string, MigrationState>();
  for (const r of records) {
    if (r.type !== 'migration') continue;
    const prev = byId.get(r.migration_id);
    // The state is our own copy, so it is updated in place: spreading a new object for every
    // record cost stats a quarter of a second on 100,000 records (docs/benchmarks.md).
    if (prev) {
      const first = prev.first_at;
      Object.assign(prev, r).first_at = first;
      // A later success (a timed-out migration that completed after all) clears the earlier error.
      if (r.status === 'completed' && r.error === undefined) delete prev.error;
    } else {
      const state = Object.assign({}, r) as MigrationState;
      state.first_at = r.at;
      byId.set(r.migration_id, state);
    }
  }
  return [...byId.values()];
}

/** The halt in force: the last halted record not followed by a resumed one. */
export function activeHalt(records: readonly HistoryRecord[]): HaltedRecord | null {
  let halt: HaltedRecord | null = null;
  for (const r of records) {
    if (r.type === 'halted') halt = r;
    else if (r.type === 'resumed') halt = null;
  }
  return halt;
}

/**
 * Statuses that wait for an outcome: intent (written before the migrate request: the process may
 * have died before or after sending it), started (the process may have died), unknown (the
 * request's answer was lost), interrupted (stopped by a signal while Proxmox went on) and timeout
 * (left running).
 */
export const AWAITING_OUTCOME: ReadonlySet<MigrationStatus> = new Set(['intent', 'started', 'unknown', 'interrupted', 'timeout']);

/**
 * Migrations whose outcome is not known yet. Those with a UPID are looked up by it; an intent or
 * an unknown without one is looked up by guest, source node and time.
 */
export function unfinishedMigrations(records: readonly HistoryRecord[]): MigrationState[] {
  return foldMigrations(records).filter((m) => AWAITING_OUTCOME.has(m.status) && (m.upid || m.status === 'intent' || m.status === 'unknown'));
}

export function lastRun(records: readonly HistoryRecord[], filter: (r: RunRecord) => boolean = () => true): RunRecord | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.type === 'run' && filter(r)) return r;
  }
  return null;
}

/**
 * Live migrations started at or after `sinceMs`, folded, oldest first. Dry runs and migrations
 * that never started are left out: they moved nothing.
 */
export function liveMigrationsSince(records: readonly HistoryRecord[], sinceMs: number): MigrationState[] {
  return foldMigrations(records).filter((m) => m.status !== 'dry-run' && m.status !== 'never_started' && Date.parse(migrationTime(m)) >= sinceMs);
}

/** When a migration started: its started_at, else the time of its first record. */
export function migrationTime(m: MigrationState): string {
  return m.started_at ?? m.first_at;
}

export type MigrationStatus = MigrationRecord['status'];
export const MIGRATION_STATUSES: readonly MigrationStatus[] = ['intent', 'started', 'unknown', 'completed', 'failed', 'timeout', 'interrupted', 'never_started', 'dry-run'];
export type RunOutcome = RunRecord['outcome'];
export const RUN_OUTCOMES: readonly RunOutcome[] = ['no_action', 'success', 'partial', 'failed', 'skipped', 'disabled', 'halted', 'error'];

/** What the read commands select by. Every field is optional; times are epoch milliseconds. */
export interface HistoryFilter {
  /** Started at or after. */
  sinceMs?: number;
  /** Started at or before (a fixed `now`: later records are left out). */
  untilMs?: number;
  vmid?: number;
  /** Migration statuses, or run outcomes for runs. */
  statuses?: readonly string[];
  /** Source or target node. */
  node?: string;
}

/** Folded migrations matching the filter, newest first. */
export function selectMigrations(records: readonly HistoryRecord[], f: HistoryFilter = {}): MigrationState[] {
  const picked: { m: MigrationState; t: number }[] = [];
  for (const m of foldMigrations(records)) {
    const t = Date.parse(migrationTime(m));
    if (f.sinceMs !== undefined && t < f.sinceMs) continue;
    if (f.untilMs !== undefined && t > f.untilMs) continue;
    if (f.vmid !== undefined && m.vmid !== f.vmid) continue;
    if (f.statuses && !f.statuses.includes(m.status)) continue;
    if (f.node !== undefined && m.source !== f.node && m.target !== f.node) continue;
    picked.push({ m, t });
  }
  // Stable: records of equal time keep their order of appearance, reversed.
  return picked.reverse().sort((a, b) => b.t - a.t).map((p) => p.m);
}

/**
 * Run records matching the filter, newest first. `vmid` and `node` keep the runs that decided
 * something about that guest or node; `statuses` are run outcomes.
 */
export function selectRuns(records: readonly HistoryRecord[], f: HistoryFilter = {}): RunRecord[] {
  const picked: { r: RunRecord; t: number }[] = [];
  for (const r of records) {
    if (r.type !== 'run') continue;
    const t = Date.parse(r.started_at);
    if (f.sinceMs !== undefined && t < f.sinceMs) continue;
    if (f.untilMs !== undefined && t > f.untilMs) continue;
    if (f.statuses && !f.statuses.includes(r.outcome)) continue;
    if (f.vmid !== undefined && !r.decisions.some((d) => d.vmid === f.vmid)) continue;
    if (f.node !== undefined && !r.decisions.some((d) => d.source === f.node || d.target === f.node)) continue;
    picked.push({ r, t });
  }
  return picked.reverse().sort((a, b) => b.t - a.t).map((p) => p.r);
}

/**
 * The ticks for the activity log, newest first. With `vmid`: the ticks that decided something
 * about that guest, with only its decisions, and the ticks a failed gate stopped before any
 * per-guest decision (they held that guest back too).
 */
export function tickActivity(records: readonly HistoryRecord[], f: Pick<HistoryFilter, 'sinceMs' | 'untilMs' | 'vmid'> = {}): RunRecord[] {
  const { vmid, ...times } = f;
  const runs = selectRuns(records, times);
  if (vmid === undefined) return runs;
  const out: RunRecord[] = [];
  for (const r of runs) {
    const mine = r.decisions.filter((d) => d.vmid === vmid);
    if (mine.length) out.push({ ...r, decisions: mine });
    else if (r.decisions.length === 0 && r.gates.some((g) => !g.passed)) out.push(r);
  }
  return out;
}

/**
 * When the next scheduled tick will evaluate: the last scheduled tick's start plus the interval
 * (`run --scheduled` skips quietly before that). Null when no scheduled tick is recorded: the
 * next timer firing runs one. Ticks dated after `now` are ignored.
 */
export function nextScheduledCheck(records: readonly HistoryRecord[], intervalMinutes: number, now: Date): { last: RunRecord; dueMs: number } | null {
  const last = lastRun(records, (r) => r.trigger === 'scheduled' && Date.parse(r.started_at) <= now.getTime());
  return last ? { last, dueMs: Date.parse(last.started_at) + intervalMinutes * 60_000 } : null;
}

/**
 * The read-only view the decision engine gets: the halt in force and the live migrations of the
 * last 7 days (older ones matter neither for cooldown escalation nor for ping-pong detection).
 * Dry runs are left out: they moved nothing.
 */
export function engineHistoryView(records: readonly HistoryRecord[], nowMs: number): {
  halted: { vmid: number | null; at: string; error: string } | null;
  migrations: Array<{ vmid: number; source: string; target: string; status: 'started' | 'completed' | 'failed' | 'timeout' | 'interrupted'; started_at: string; finished_at?: string }>;
} {
  const halt = activeHalt(records);
  return {
    halted: halt ? { vmid: halt.vmid, at: halt.at, error: halt.error } : null,
    migrations: liveMigrationsSince(records, nowMs - ENGINE_LOOKBACK_MS).map((m) => ({
      vmid: m.vmid,
      source: m.source,
      target: m.target,
      // An intent or a lost answer may be a migration under way: the engine treats it as started.
      status: (m.status === 'intent' || m.status === 'unknown' ? 'started' : m.status) as 'started' | 'completed' | 'failed' | 'timeout' | 'interrupted',
      started_at: m.started_at ?? m.first_at,
      ...(m.finished_at ? { finished_at: m.finished_at } : {}),
    })),
  };
}

/**
 * Failed live migrations recorded by a run that never finished (no run record of its run) and
 * not followed by a halt or a resume: the process died between the failure and the halt that
 * abort_on_failure asks for.
 */
export function failuresWithoutHalt(records: readonly HistoryRecord[]): MigrationRecord[] {
  const finished = new Set<string>();
  let pending: MigrationRecord[] = [];
  for (const r of records) {
    if (r.type === 'run') finished.add(r.run_id);
    else if (r.type === 'halted' || r.type === 'resumed') pending = [];
    else if (r.type === 'migration' && r.status === 'failed') pending.push(r);
  }
  return pending.filter((m) => !finished.has(m.run_id));
}

/** The first of failuresWithoutHalt: the caller halts on it. */
export function failureWithoutHalt(records: readonly HistoryRecord[]): MigrationRecord | null {
  return failuresWithoutHalt(records)[0] ?? null;
}

/**
 * The records still in force, in file order: what a run record carries (`carried`) so that a
 * reader of the end of the history needs nothing older (src/history/tail.ts). They are
 * - the halt in force and the notification records of that halt (who has heard of it),
 * - every record of each migration whose outcome is not known yet (AWAITING_OUTCOME),
 * - the failures of runs that died before their halt (failuresWithoutHalt),
 * - for each unfinished migration without a UPID, the records with a UPID of the same guest
 *   written since it (the tasks its lookup by guest and time must not take for its own).
 */
export function recordsInForce(records: readonly HistoryRecord[]): Array<MigrationRecord | HaltedRecord | NotificationRecord> {
  const keep = new Set<HistoryRecord>(failuresWithoutHalt(records));
  const halt = activeHalt(records);
  if (halt) keep.add(halt);
  const open = foldMigrations(records).filter((m) => AWAITING_OUTCOME.has(m.status));
  const openIds = new Set(open.map((m) => m.migration_id));
  const lookups = open.filter((m) => !m.upid).map((m) => ({ vmid: m.vmid, fromMs: Date.parse(m.first_at) }));
  for (const r of records) {
    if (r.type === 'migration') {
      if (openIds.has(r.migration_id) || (r.upid && lookups.some((l) => l.vmid === r.vmid && Date.parse(r.at) >= l.fromMs))) keep.add(r);
    } else if (r.type === 'notification' && halt && r.event === 'halt' && r.halt_at === halt.at) keep.add(r);
  }
  return records.filter((r) => keep.has(r)) as Array<MigrationRecord | HaltedRecord | NotificationRecord>;
}
