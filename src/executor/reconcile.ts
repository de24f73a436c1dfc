import { log } from '../log/logger.js';
import type { MigrationRecord } from '../history/store.js';
import type { MigrationState } from '../history/views.js';
import { LogFollower, stoppedOutcome } from './follow.js';
import { parseUpid } from '../pve/upid.js';
import { guestRef } from '../util/guest.js';
import type { ExecutorPort } from './port.js';
import { MIGRATION_TASK_TYPES } from '../engine/rules.js';

/** How long after an HA request its real migration task may take to appear. */
const HA_HANDOVER_LIMIT_S = 600;

type Record = (r: MigrationRecord) => void;

/** The record of a migration state, for appending its next record (the fold's first_at is not a field). */
function recordOf(m: MigrationState): Omit<MigrationRecord, 'at' | 'run_id' | 'status'> {
  const { first_at: _f, at: _a, run_id: _r, status: _s, ...rest } = m;
  return rest;
}

/**
 * The task of an intent (or of a request whose answer was lost) that has no UPID: the source
 * node's own task list, by guest and time since the intent was written, skipping tasks other
 * records of the history already own. Null: the node lists none, the request never started one.
 */
async function taskOfIntent(port: ExecutorPort, m: MigrationState, known: ReadonlySet<string>): Promise<string | null> {
  const since = Math.floor(Date.parse(m.first_at) / 1000);
  const found = await port.findMigrationTasks({ vmid: m.vmid, node: m.source, since, types: [...MIGRATION_TASK_TYPES] });
  return found.find((t) => !known.has(t.upid))?.upid ?? null;
}

/**
 * Looks up every migration without an outcome and appends its real outcome, once: by its UPID,
 * or for an intent (the process died around the request) or a lost answer, by the task the
 * source node lists for that guest since the intent. An intent with no such task never started;
 * one whose task still runs gets a started record with the UPID, and its outcome comes from a
 * later run. Nothing is appended twice: once an outcome is recorded, the migration is finished.
 */
export async function reconcile(port: ExecutorPort, unfinished: readonly MigrationState[], runId: string, record: Record, now: () => Date = () => new Date(), knownUpids: ReadonlySet<string> = new Set()): Promise<void> {
  for (const m of unfinished) {
    const label = guestRef(m.vmid, m.guest_type);
    try {
      let upid = m.upid;
      if (!upid) {
        upid = await taskOfIntent(port, m, knownUpids);
        if (!upid) {
          record({ ...recordOf(m), at: now().toISOString(), run_id: runId, status: 'never_started', upid: null, error: `no migration task of it on ${m.source}: the request was never received` });
          log.info(`${label}: the migration to ${m.target} recorded as ${m.status} never started (no task on ${m.source})`);
          continue;
        }
        log.info(`${label}: the migration to ${m.target} recorded as ${m.status} has its task ${upid}`);
      }
      await settleTask(port, m, upid, runId, record, now);
    } catch (e) {
      log.warn(`${label}: cannot look up the migration ${m.upid ? `task ${m.upid}` : `to ${m.target}`}: ${(e as Error).message}; a later run tries again`);
    }
  }
}

/** The outcome of a migration whose (first) task is known: appended when it has ended. */
async function settleTask(port: ExecutorPort, m: MigrationState, firstUpid: string, runId: string, record: Record, now: () => Date): Promise<void> {
  const label = guestRef(m.vmid, m.guest_type);
  let upid = firstUpid;
  let st = await port.taskStatus(upid);
  if (st.type === 'hamigrate' && st.status === 'stopped' && st.exitstatus === 'OK') {
    const real = await port.findRealMigrationTask(upid, { vmid: m.vmid, node: m.source });
    if (!real) {
      const startedS = parseUpid(upid)?.starttime ?? Date.parse(m.started_at ?? m.first_at) / 1000;
      if (now().getTime() / 1000 - startedS > HA_HANDOVER_LIMIT_S) {
        // The HA manager accepted the request long ago and started nothing (or the task has
        // left the node's list): an outcome, not an eternal "unknown".
        record({ ...recordOf(m), at: now().toISOString(), run_id: runId, status: 'failed', upid, finished_at: now().toISOString(), error: 'HA manager started no migration task (none found for 10 minutes)' });
        log.error(`${label}: HA migration ${upid} failed: the HA manager started no migration task`);
        return;
      }
      log.warn(`${label}: HA migration ${upid} ended but its migration task was not found yet`);
      return;
    }
    upid = real;
    st = await port.taskStatus(upid);
  }
  if (st.status !== 'stopped') {
    if (upid !== m.upid) {
      // From now on it is looked up by its UPID: /nodes/{node}/tasks keeps only recent tasks.
      record({ ...recordOf(m), at: now().toISOString(), run_id: runId, status: 'started', upid, started_at: m.started_at ?? new Date(st.starttime * 1000).toISOString() });
    }
    log.info(`${label}: migration ${m.source} → ${m.target} recorded earlier is still running (${upid})`);
    return;
  }
  const o = await stoppedOutcome(st.exitstatus ?? 'unknown', new LogFollower(port, upid));
  const started = m.started_at ?? new Date(st.starttime * 1000).toISOString();
  // Task status has no end time; the log's duration line gives the real length when present.
  const finishedAt = o.durationS !== null ? new Date(Date.parse(started) + o.durationS * 1000).toISOString() : now().toISOString();
  const { error: _e, ...rest } = recordOf(m);
  record({
    ...rest,
    at: now().toISOString(),
    run_id: runId,
    status: o.status,
    upid,
    started_at: started,
    finished_at: finishedAt,
    duration_s: Math.max(0, Math.round((Date.parse(finishedAt) - Date.parse(started)) / 1000)),
    exitstatus: o.exitstatus,
    ...(o.error ? { error: o.error } : {}),
    ...(o.transferredBytes !== null ? { transferred_bytes: o.transferredBytes } : {}),
    ...(o.avgSpeedBytesPerS !== null ? { avg_speed_bytes_s: o.avgSpeedBytesPerS } : {}),
  });
  const how = o.status === 'completed' ? 'completed' : `failed: ${o.error}`;
  (o.status === 'completed' ? log.info : log.error)(`${label}: migration ${m.source} → ${m.target} recorded earlier as ${m.status} has ${how}`);
}
