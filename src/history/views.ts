import type { HaltedRecord, HistoryRecord, MigrationRecord, RunRecord } from './store.js';

/** A migration folded from its records: the latest value of every field, and when it was first seen. */
export type MigrationState = MigrationRecord & { first_at: string };

/** Folds the migration records into one state per migration_id, in order of first appearance. */
export function foldMigrations(records: readonly HistoryRecord[]): MigrationState[] {
  const byId = new Map<string, MigrationState>();
  for (const r of records) {
    if (r.type !== 'migration') continue;
    const prev = byId.get(r.migration_id);
    const next: MigrationState = prev ? { ...prev, ...r, first_at: prev.first_at } : { ...r, first_at: r.at };
    // A later success (a timed-out migration that completed after all) clears the earlier error.
    if (r.status === 'completed' && r.error === undefined) delete next.error;
    byId.set(r.migration_id, next);
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
 * Migrations whose outcome is not known yet: started (the process may have died), interrupted
 * (stopped by a signal while Proxmox went on) or timed out (left running). Each has a UPID to
 * look up.
 */
export function unfinishedMigrations(records: readonly HistoryRecord[]): MigrationState[] {
  return foldMigrations(records).filter((m) => (m.status === 'started' || m.status === 'interrupted' || m.status === 'timeout') && m.upid);
}

export function lastRun(records: readonly HistoryRecord[], filter: (r: RunRecord) => boolean = () => true): RunRecord | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.type === 'run' && filter(r)) return r;
  }
  return null;
}

/** Live migrations (dry runs excluded) started at or after `sinceMs`, folded, oldest first. */
export function liveMigrationsSince(records: readonly HistoryRecord[], sinceMs: number): MigrationState[] {
  return foldMigrations(records).filter((m) => m.status !== 'dry-run' && Date.parse(m.started_at ?? m.first_at) >= sinceMs);
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
    migrations: liveMigrationsSince(records, nowMs - 7 * 24 * 3600_000).map((m) => ({
      vmid: m.vmid,
      source: m.source,
      target: m.target,
      status: m.status as 'started' | 'completed' | 'failed' | 'timeout' | 'interrupted',
      started_at: m.started_at ?? m.first_at,
      ...(m.finished_at ? { finished_at: m.finished_at } : {}),
    })),
  };
}
