import { randomUUID } from 'node:crypto';
import { log } from '../log/logger.js';
import type { Config } from '../config/load.js';
import type { MigrationRecord } from '../history/store.js';
import type { GuestType, MigratePrecondition } from '../pve/types.js';
import { PveMigrationUnknownError } from '../pve/errors.js';
import { guestRef } from '../util/guest.js';
import { formatBytes, formatElapsed, LogFollower, progressText, stoppedOutcome, type TaskOutcome } from './follow.js';
import { migratingVmids, type ExecutorPort } from './port.js';

/** The part of a planned move the executor needs. */
export interface MoveToExecute {
  vmid: number;
  name: string;
  type: GuestType;
  source: string;
  target: string;
  kind?: string;
  confidence: number;
  reason: string;
  /** Live (running guest) when planned; the executor re-reads the guest's state before the POST. */
  online: boolean;
  /** Proxmox's migrate precondition, when the tick already asked for it while planning. */
  precondition?: MigratePrecondition;
}

export type ExecStatus = 'completed' | 'failed' | 'timeout' | 'interrupted' | 'skipped';

export interface ExecResult {
  move: MoveToExecute;
  status: ExecStatus;
  migrationId: string | null;
  upid: string | null;
  /** Why skipped, or the failure. */
  detail: string | null;
}

export interface ExecOptions {
  port: ExecutorPort;
  config: Config;
  runId: string;
  /** Appends a history record (fsync'd) — called the moment a UPID is known, and at each outcome. */
  record: (r: MigrationRecord) => void;
  /** True once SIGTERM/SIGINT arrived: start nothing new, record in-flight moves as interrupted. */
  stopping: () => boolean;
  now?: () => Date;
  /** Milliseconds between task polls (default 2000). */
  pollMs?: number;
  /** Milliseconds between progress lines in the log (default 10000). */
  progressMs?: number;
}


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Carries out planned moves in order: never more than max_concurrent_migrations in flight in the
 * cluster (migrations started by anyone count), each re-checked just before its POST, each
 * followed to its outcome, every step recorded. A failure with abort_on_failure starts nothing
 * more (the caller records the halt).
 */
export async function executeMoves(moves: readonly MoveToExecute[], opts: ExecOptions): Promise<ExecResult[]> {
  const now = opts.now ?? (() => new Date());
  const pollMs = opts.pollMs ?? 2000;
  const limit = opts.config.automated_migrations.rules.max_concurrent_migrations;
  const abortOnFailure = opts.config.automated_migrations.safety_checks.abort_on_failure;
  const results: ExecResult[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Our migrations in flight, by vmid. */
  const ours = new Map<number, Promise<void>>();
  let failed = false;

  const skip = (move: MoveToExecute, detail: string) => {
    log.info(`${guestRef(move.vmid, move.type)} (${move.name}): not migrated: ${detail}`);
    results.push({ move, status: 'skipped', migrationId: null, upid: null, detail });
  };

  for (const move of moves) {
    if (opts.stopping()) { skip(move, 'Stopped by signal'); continue; }
    if (failed && abortOnFailure) { skip(move, 'Not started: an earlier migration failed (abort_on_failure)'); continue; }

    // Wait for a free slot: our own migrations finishing free one; others' are re-counted below.
    // Busy: what the cluster shows running, plus ours until we have seen their outcome (a task can
    // end in Proxmox before our follower has read it: its slot is not free until then).
    let tasks: Awaited<ReturnType<ExecutorPort["clusterTasks"]>> | undefined;
    const busyNow = () => new Set([...migratingVmids(tasks ?? []), ...ours.keys()]);
    for (;;) {
      tasks = await opts.port.clusterTasks();
      const busy = busyNow().size;
      if (busy < limit) break;
      if (inFlight.size === 0) break; // only others' migrations: do not wait for them
      await Promise.race(inFlight);
      if (opts.stopping()) break;
    }
    if (opts.stopping()) { skip(move, 'Stopped by signal'); continue; }
    if (failed && abortOnFailure) { skip(move, 'Not started: an earlier migration failed (abort_on_failure)'); continue; }
    const busyVmids = busyNow();
    if (busyVmids.size >= limit) { skip(move, `Max concurrent migrations reached (${busyVmids.size} running, limit ${limit})`); continue; }

    // Duplicate prevention against overlapping runs and people: fresh look at the guest.
    if (busyVmids.has(move.vmid)) { skip(move, 'Already has active migration'); continue; }
    const label = guestRef(move.vmid, move.type);
    let current;
    try {
      current = await opts.port.guestCurrent(move.type, move.source, move.vmid);
    } catch (e) {
      skip(move, `No longer on ${move.source} (${(e as Error).message})`);
      continue;
    }
    if (current.lock) {
      skip(move, current.lock === 'migrate' ? 'Already has active migration' : `Guest is locked (${current.lock})`);
      continue;
    }
    const running = current.status === 'running';

    let withLocalDisks = false;
    try {
      const pre = move.precondition ?? await opts.port.migratePrecondition({ vmid: move.vmid, type: move.type, node: move.source }, move.target);
      if (pre.known) {
        const why = pre.notAllowed[move.target];
        if (why) { skip(move, `Target ${move.target} not allowed: ${why}`); continue; }
        if (running && move.type === 'qemu' && pre.localResources.length) {
          skip(move, `Local resource cannot move live: ${pre.localResources.join(', ')}`);
          continue;
        }
        withLocalDisks = pre.hasLocalDisks;
      }
    } catch (e) {
      log.warn(`${label}: migrate precondition check failed, going on without it: ${(e as Error).message}`);
    }

    const migrationId = randomUUID();
    const base = {
      v: 1 as const, type: 'migration' as const, run_id: opts.runId, migration_id: migrationId, vmid: move.vmid, name: move.name,
      guest_type: move.type, source: move.source, target: move.target, confidence: move.confidence, reason: move.reason,
      ...(move.kind ? { kind: move.kind } : {}),
    };
    let upid: string;
    const startedAt = now();
    try {
      upid = await opts.port.migrate({ vmid: move.vmid, type: move.type, node: move.source, status: current.status }, move.target, { withLocalDisks });
    } catch (e) {
      // The answer was lost: the migration may have started. Look for its task, never re-POST.
      const found = e instanceof PveMigrationUnknownError
        ? await opts.port.findMigrationTasks({ vmid: move.vmid, node: move.source, since: e.sentAt - 60, types: ['qmigrate', 'vzmigrate', 'hamigrate'] }).catch(() => [])
        : [];
      if (found[0]) {
        log.warn(`${label}: the answer to the migrate request was lost, but its task ${found[0].upid} exists: following it`);
        upid = found[0].upid;
      } else {
      const msg = (e as Error).message;
      log.error(`${label}: migration to ${move.target} failed to start: ${msg}`);
      opts.record({ ...base, at: now().toISOString(), status: 'failed', upid: null, started_at: startedAt.toISOString(), finished_at: now().toISOString(), error: msg });
      results.push({ move, status: 'failed', migrationId, upid: null, detail: msg });
      failed = true;
      continue;
      }
    }
    opts.record({ ...base, at: now().toISOString(), status: 'started', upid, started_at: startedAt.toISOString() });
    log.info(`${label} (${move.name}): migration ${move.source} → ${move.target} started (${upid})`);

    const p = follow(move, base, upid, startedAt, opts, pollMs, now).then((r) => {
      results.push(r);
      if (r.status === 'failed') failed = true;
    });
    inFlight.add(p);
    ours.set(move.vmid, p);
    void p.finally(() => {
      inFlight.delete(p);
      ours.delete(move.vmid);
    });
  }
  await Promise.all(inFlight);
  // Keep the plan's order in the results.
  return moves.map((m) => results.find((r) => r.move === m)!).filter(Boolean);
}

type RecordBase = Omit<MigrationRecord, 'at' | 'status' | 'upid'>;

async function follow(move: MoveToExecute, base: RecordBase, firstUpid: string, startedAt: Date, opts: ExecOptions, pollMs: number, now: () => Date): Promise<ExecResult> {
  const label = guestRef(move.vmid, move.type);
  const timeoutMs = opts.config.automated_migrations.rules.migration_timeout_minutes * 60_000;
  const progressMs = opts.progressMs ?? 10_000;
  let upid = firstUpid;
  let follower = new LogFollower(opts.port, upid);
  let lastProgress = Date.now();
  const finish = (status: ExecStatus, extra: Partial<MigrationRecord>, detail: string | null): ExecResult => {
    const end = now();
    opts.record({ ...base, at: end.toISOString(), status: status as MigrationRecord['status'], upid, started_at: startedAt.toISOString(), finished_at: end.toISOString(), duration_s: Math.round((end.getTime() - startedAt.getTime()) / 100) / 10, ...extra });
    return { move, status, migrationId: base.migration_id, upid, detail };
  };
  const outcomeFields = (o: TaskOutcome): Partial<MigrationRecord> => ({
    exitstatus: o.exitstatus,
    ...(o.error ? { error: o.error } : {}),
    ...(o.transferredBytes !== null ? { transferred_bytes: o.transferredBytes } : {}),
    ...(o.avgSpeedBytesPerS !== null ? { avg_speed_bytes_s: o.avgSpeedBytesPerS } : {}),
  });

  for (;;) {
    if (opts.stopping()) {
      log.warn(`${label}: interrupted while migrating to ${move.target}; Proxmox goes on with task ${upid}, the next run records its outcome`);
      return finish('interrupted', {}, 'Stopped by signal');
    }
    if (now().getTime() - startedAt.getTime() > timeoutMs) {
      log.error(`${label}: migration to ${move.target} timed out after ${opts.config.automated_migrations.rules.migration_timeout_minutes} min; task ${upid} is left running and a later run records its outcome`);
      return finish('timeout', { error: 'timeout' }, 'timeout');
    }
    let st;
    try {
      st = await opts.port.taskStatus(upid);
    } catch (e) {
      log.warn(`${label}: cannot read task status (${(e as Error).message}); trying again`);
      await sleep(pollMs);
      continue;
    }
    if (st.status === 'stopped') {
      const exit = st.exitstatus ?? 'unknown';
      if (st.type === 'hamigrate') {
        if (exit !== 'OK') {
          const o = await stoppedOutcome(exit, follower);
          log.error(`${label}: HA migration request failed: ${o.error}`);
          return finish('failed', outcomeFields(o), o.error);
        }
        // The HA manager now starts the real task; find it and follow that one.
        const real = await opts.port.findRealMigrationTask(upid, { vmid: move.vmid, node: move.source });
        if (!real) {
          if (now().getTime() - startedAt.getTime() > 120_000) {
            log.error(`${label}: HA manager accepted the migration but started no migration task within 2 minutes`);
            return finish('failed', { error: 'HA manager started no migration task' }, 'HA manager started no migration task');
          }
          await sleep(pollMs);
          continue;
        }
        upid = real;
        follower = new LogFollower(opts.port, upid);
        opts.record({ ...base, at: now().toISOString(), status: 'started', upid, started_at: startedAt.toISOString() });
        log.info(`${label}: HA resource agent started the migration task ${upid}`);
        continue;
      }
      const o = await stoppedOutcome(exit, follower);
      if (o.status === 'completed') {
        const speed = o.avgSpeedBytesPerS ? `, average ${formatBytes(o.avgSpeedBytesPerS)}/s` : '';
        log.info(`${label} (${move.name}): migration ${move.source} → ${move.target} completed in ${formatElapsed((now().getTime() - startedAt.getTime()) / 1000)}${speed}`);
        return finish('completed', outcomeFields(o), null);
      }
      log.error(`${label} (${move.name}): migration ${move.source} → ${move.target} failed: ${o.error}`);
      return finish('failed', outcomeFields(o), o.error);
    }
    if (Date.now() - lastProgress >= progressMs) {
      lastProgress = Date.now();
      try {
        const p = await follower.update();
        const text = progressText(p);
        log.info(`${label}: ${text ? `${text}, ` : ''}elapsed ${formatElapsed((now().getTime() - startedAt.getTime()) / 1000)}`);
      } catch { /* progress is best effort */ }
    }
    await sleep(pollMs);
  }
}
