import type { ClusterTaskEntry, GuestCurrent, GuestRef, GuestType, MigratePrecondition, TaskStatus } from '../pve/types.js';
import type { FindTaskOptions, MigrateOptions } from '../pve/client.js';
import type { TaskLogPage } from '../pve/tasklog.js';

/**
 * What the executor needs of the Proxmox API: a narrow slice of PveClient (which satisfies it as
 * is), so the executor's calls (and their count) are plain to see.
 */
export interface ExecutorPort {
  /** Fresh state of a guest on a node; throws when the guest is not on that node. */
  guestCurrent(type: GuestType, node: string, vmid: number): Promise<GuestCurrent>;
  clusterTasks(): Promise<ClusterTaskEntry[]>;
  migratePrecondition(guest: Pick<GuestRef, 'vmid' | 'type' | 'node'>, target?: string): Promise<MigratePrecondition>;
  /** Starts a migration (online/restart follow guest.status); resolves to the task's UPID. Never retried blindly. */
  migrate(guest: GuestRef, target: string, opts?: MigrateOptions): Promise<string>;
  taskStatus(upid: string): Promise<TaskStatus>;
  taskLog(upid: string, start?: number, limit?: number): Promise<TaskLogPage>;
  /** Migration tasks of a guest on a node since a time (to learn whether a POST whose answer was lost started one). */
  findMigrationTasks(f: FindTaskOptions): Promise<ClusterTaskEntry[]>;
  /** The real qmigrate/vzmigrate task behind an HA hamigrate task, or null while not started. */
  findRealMigrationTask(hamigrateUpid: string, guest: Pick<GuestRef, 'vmid' | 'node'>): Promise<string | null>;
}

export const MIGRATION_TASK_TYPES = new Set(['qmigrate', 'vzmigrate', 'hamigrate']);

/** Running migration tasks in a /cluster/tasks answer (no endtime, or status "running"). */
export function runningMigrations(tasks: readonly ClusterTaskEntry[]): ClusterTaskEntry[] {
  return tasks.filter((t) => MIGRATION_TASK_TYPES.has(t.type) && (t.endtime === undefined || t.endtime === null || t.status === 'running'));
}

/** Guests being migrated now (an HA move shows as hamigrate then qmigrate: one guest, counted once). */
export function migratingVmids(tasks: readonly ClusterTaskEntry[]): Set<number> {
  return new Set(runningMigrations(tasks).map((t) => Number(t.id)).filter((n) => Number.isFinite(n) && n > 0));
}
