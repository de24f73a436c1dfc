import { taskRunning, type ClusterTaskEntry, type GuestCurrent, type GuestRef, type GuestType, type MigratePrecondition, type TaskStatus } from '../pve/types.js';
import { MIGRATION_TASK_TYPES } from '../engine/rules.js';
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

/** The running migration tasks of a /cluster/tasks answer (running as taskRunning says). */
export function runningMigrationTasks(tasks: readonly ClusterTaskEntry[]): ClusterTaskEntry[] {
  return tasks.filter((t) => MIGRATION_TASK_TYPES.has(t.type) && taskRunning(t));
}

/** Guests being migrated now (an HA move shows as hamigrate then qmigrate: one guest, counted once). */
export function migratingVmids(tasks: readonly ClusterTaskEntry[]): Set<number> {
  return new Set(runningMigrationTasks(tasks).map((t) => Number(t.id)).filter((n) => Number.isFinite(n) && n > 0));
}
