import { log } from '../log/logger.js';
import type { MigrationRecord } from '../history/store.js';
import type { MigrationState } from '../history/views.js';
import { LogFollower, stoppedOutcome } from './follow.js';
import { parseUpid } from '../pve/upid.js';

/** How long after an HA request its real migration task may take to appear. */
const HA_HANDOVER_LIMIT_S = 600;
import { guestRef } from '../util/guest.js';
import type { ExecutorPort } from './port.js';

export interface ReconcileResult {
  /** Migrations whose outcome was appended now. */
  settled: Array<{ migration: MigrationState; status: 'completed' | 'failed' }>;
  /** Still running in Proxmox. */
  running: MigrationState[];
  /** Could not be looked up (node offline, task gone): left for a later run. */
  unknown: MigrationState[];
}

/**
 * Looks up every migration recorded as started (or interrupted, or timed out) without an outcome,
 * by its UPID, and appends its real outcome. A migration still running is left alone; its
 * outcome is appended by a later run. Nothing is appended twice: once an outcome is recorded, the
 * migration no longer counts as unfinished.
 */
export async function reconcile(port: ExecutorPort, unfinished: readonly MigrationState[], runId: string, record: (r: MigrationRecord) => void, now: () => Date = () => new Date()): Promise<ReconcileResult> {
  const result: ReconcileResult = { settled: [], running: [], unknown: [] };
  for (const m of unfinished) {
    const label = guestRef(m.vmid, m.guest_type);
    let upid = m.upid!;
    try {
      let st = await port.taskStatus(upid);
      if (st.type === 'hamigrate' && st.status === 'stopped' && st.exitstatus === 'OK') {
        const real = await port.findRealMigrationTask(upid, { vmid: m.vmid, node: m.source });
        if (!real) {
          const startedS = parseUpid(upid)?.starttime ?? Date.parse(m.started_at ?? m.first_at) / 1000;
          if (now().getTime() / 1000 - startedS > HA_HANDOVER_LIMIT_S) {
            // The HA manager accepted the request long ago and started nothing (or the task has
            // left the cluster's recent list): an outcome, not an eternal "unknown".
            const { first_at: _f, ...rest } = m;
            record({ ...rest, at: now().toISOString(), run_id: runId, status: 'failed', upid, finished_at: now().toISOString(), error: 'HA manager started no migration task (none found for 10 minutes)' } as MigrationRecord);
            result.settled.push({ migration: m, status: 'failed' });
            log.error(`${label}: HA migration ${upid} failed: the HA manager started no migration task`);
            continue;
          }
          result.unknown.push(m);
          log.warn(`${label}: HA migration ${upid} ended but its migration task was not found yet`);
          continue;
        }
        upid = real;
        st = await port.taskStatus(upid);
      }
      if (st.status !== 'stopped') {
        result.running.push(m);
        log.info(`${label}: migration ${m.source} → ${m.target} recorded earlier is still running (${upid})`);
        continue;
      }
      const o = await stoppedOutcome(st.exitstatus ?? 'unknown', new LogFollower(port, upid));
      const started = m.started_at ?? m.first_at;
      // Task status has no end time; the log's duration line gives the real length when present.
      const finishedAt = o.durationS !== null ? new Date(Date.parse(started) + o.durationS * 1000).toISOString() : now().toISOString();
      const { first_at: _f, ...rest } = m;
      record({
        ...rest,
        at: now().toISOString(),
        run_id: runId,
        status: o.status,
        upid,
        finished_at: finishedAt,
        duration_s: Math.max(0, Math.round((Date.parse(finishedAt) - Date.parse(started)) / 1000)),
        exitstatus: o.exitstatus,
        ...(o.error ? { error: o.error } : { error: undefined }),
        ...(o.transferredBytes !== null ? { transferred_bytes: o.transferredBytes } : {}),
        ...(o.avgSpeedBytesPerS !== null ? { avg_speed_bytes_s: o.avgSpeedBytesPerS } : {}),
      } as MigrationRecord);
      result.settled.push({ migration: m, status: o.status });
      const how = o.status === 'completed' ? 'completed' : `failed: ${o.error}`;
      (o.status === 'completed' ? log.info : log.error)(`${label}: migration ${m.source} → ${m.target} recorded earlier as ${m.status} has ${how}`);
    } catch (e) {
      result.unknown.push(m);
      log.warn(`${label}: cannot look up migration task ${upid}: ${(e as Error).message}; a later run tries again`);
    }
  }
  return result;
}
