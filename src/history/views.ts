import type { HaltedRecord, HistoryRecord, MigrationRecord, RunRecord } from './store.js';

/** A migration folded from its records: the latest value of every field, and when it was first seen. */
export type MigrationState = MigrationRecord & { first_at: string };

/** Folds the migration records into one state per migration_id, in order of first appearance. */
export function foldMigrations(records: readonly HistoryRecord[]): MigrationState[] {
  const byId = new Map<string, MigrationState>();
  for (const r of records) {
    if (r.type !== 'migration') continue;
    const prev = byId.get(r.migration_id);
    byId.set(r.migration_id, prev ? { ...prev, ...r, first_at: prev.first_at } : { ...r, first_at: r.at });
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
