import { randomUUID } from 'node:crypto';
import { log } from '../log/logger.js';
import type { Config } from '../config/load.js';
import type { MigrationRecord } from '../history/store.js';
import type { GuestType, MigratePrecondition } from '../pve/types.js';
import type { PveMigrationUnknownError } from '../pve/errors.js';
import { startErrorKind, type StartErrorKind } from './start-errors.js';
import { guestRef } from '../util/guest.js';
import { formatBytes, formatElapsed, LogFollower, progressText, stoppedOutcome, type TaskOutcome } from './follow.js';
import { MIGRATION_TASK_TYPES, migratingVmids, type ExecutorPort } from './port.js';

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
  /** Guests Proxmox HA moves along (positive affinity): followed and recorded, never POSTed. */
  companions?: Array<{ vmid: number; name: string; type: GuestType; source: string }>;
}

export type ExecStatus = 'completed' | 'failed' | 'timeout' | 'interrupted' | 'unknown' | 'skipped';

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
  /** When the tick that planned the moves started (the intent records' planned_at). */
  plannedAt?: Date;
  /** Appends a history record (fsync'd) — called the moment a UPID is known, and at each outcome. */
  record: (r: MigrationRecord) => void;
  /** True once SIGTERM/SIGINT arrived: start nothing new, record in-flight moves as interrupted. */
  stopping: () => boolean;
  now?: () => Date;
  /** Milliseconds between task polls (default 2000). */
  pollMs?: number;
  /** Milliseconds between progress lines in the log (default 10000). */
  progressMs?: number;
  /**
   * The fresh look right before each request: why the move must not start now (source or target
   * offline or in maintenance, no quorum, the target's caps with everything already started this
   * run), or null. A failure to look is a reason too (fail closed).
   */
  freshLook?: (move: MoveToExecute, startedThisRun: readonly MoveToExecute[]) => Promise<string | null>;
}


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Carries out planned moves in order: never more than max_concurrent_migrations in flight in the
 * cluster (migrations started by anyone count), each re-checked just before its POST, each
 * followed to its outcome, every step recorded. A failure with abort_on_failure starts nothing
 * more (the caller records the halt).
 */
export async function executeMoves(moves: readonly MoveToExecute[], opts: ExecOptions): Promise<{ results: ExecResult[]; error: string | null }> {
  const now = opts.now ?? (() => new Date());
  const pollMs = opts.pollMs ?? 2000;
  const limit = opts.config.automated_migrations.rules.max_concurrent_migrations;
  const abortOnFailure = opts.config.automated_migrations.safety_checks.abort_on_failure;
  const results: ExecResult[] = [];
  /** Results of the guests HA moved along with a move, by that move. */
  const along = new Map<MoveToExecute, ExecResult[]>();
  const inFlight = new Set<Promise<void>>();
  /** Our migrations in flight, by vmid. */
  const ours = new Map<number, Promise<void>>();
  /** UPIDs of our migrations whose end we have seen. */
  const ended = new Set<string>();
  /** Moves this run sent (started, or whose answer was lost): the fresh look counts them on their targets. */
  const sentThisRun: MoveToExecute[] = [];
  let failed = false;

  const skip = (move: MoveToExecute, detail: string) => {
    log.info(`${guestRef(move.vmid, move.type)} (${move.name}): not migrated: ${detail}`);
    results.push({ move, status: 'skipped', migrationId: null, upid: null, detail });
  };

  /** Set by an unexpected error while starting a move: nothing more is started. */
  let broken: string | null = null;
  /** Why nothing more may start now, or null. Asked again right before every POST. */
  const halt = (): string | null => {
    if (opts.stopping()) return 'Stopped by signal';
    if (failed && abortOnFailure) return 'Not started: an earlier migration failed (abort_on_failure)';
    if (broken) return `Not started: ${broken}`;
    return null;
  };

  for (const move of moves) {
    const why = halt();
    if (why) { skip(move, why); continue; }
    try {
      await startOne(move);
    } catch (e) {
      // Whatever went wrong (the API, the disk), start nothing more; migrations already started
      // are still followed to their outcome below, and the lock is held until they are.
      broken = `an error while starting ${guestRef(move.vmid, move.type)}: ${(e as Error).message}`;
      log.error(`${guestRef(move.vmid, move.type)}: error while starting its migration: ${(e as Error).message}; starting nothing more this run`);
      if (!results.some((r) => r.move === move)) results.push({ move, status: 'skipped', migrationId: null, upid: null, detail: `error: ${(e as Error).message}` });
    }
  }
  await Promise.allSettled(inFlight);
  // Keep the plan's order in the results.
  return { results: moves.flatMap((m) => [results.find((r) => r.move === m)!, ...(along.get(m) ?? [])]).filter(Boolean), error: broken };

  async function startOne(move: MoveToExecute): Promise<void> {

    // Wait for a free slot: our own migrations finishing free one; others' are re-counted below.
    // Busy: what the cluster shows running, plus ours until we have seen their outcome (a task can
    // end in Proxmox before our follower has read it: its slot is not free until then).
    let tasks: Awaited<ReturnType<ExecutorPort["clusterTasks"]>> | undefined;
    const busyNow = () => new Set([...migratingVmids((tasks ?? []).filter((t) => !ended.has(t.upid))), ...ours.keys()]);
    for (;;) {
      tasks = await opts.port.clusterTasks();
      const busy = busyNow().size;
      if (busy < limit) break;
      if (inFlight.size === 0) break; // only others' migrations: do not wait for them
      await Promise.race(inFlight);
      if (halt()) break;
    }
    const stop = halt();
    if (stop) return skip(move, stop);
    const busyVmids = busyNow();
    if (busyVmids.size >= limit) return skip(move, `Max concurrent migrations reached (${busyVmids.size} running, limit ${limit})`);

    // Duplicate prevention against overlapping runs and people: fresh look at the guest.
    if (busyVmids.has(move.vmid)) return skip(move, 'Already has active migration');
    const label = guestRef(move.vmid, move.type);
    let current;
    try {
      current = await opts.port.guestCurrent(move.type, move.source, move.vmid);
    } catch (e) {
      return skip(move, `No longer on ${move.source} (${(e as Error).message})`);
    }
    if (current.lock) return skip(move, current.lock === 'migrate' ? 'Already has active migration' : `Guest is locked (${current.lock})`);
    const running = current.status === 'running';

    let withLocalDisks = false;
    try {
      const pre = move.precondition ?? await opts.port.migratePrecondition({ vmid: move.vmid, type: move.type, node: move.source }, move.target);
      if (pre.known) {
        const why = pre.notAllowed[move.target];
        if (why) return skip(move, `Target ${move.target} not allowed: ${why}`);
        if (running && move.type === 'qemu' && pre.localResources.length) return skip(move, `Local resource cannot move live: ${pre.localResources.join(', ')}`);
        withLocalDisks = pre.hasLocalDisks;
      }
    } catch (e) {
      // Fail closed: what ties the guest to its node is unknown, so it is not moved this run.
      return skip(move, `Migrate precondition could not be read, tried again next run: ${(e as Error).message}`);
    }

    if (opts.freshLook) {
      const why = await opts.freshLook(move, sentThisRun);
      if (why) return skip(move, why);
    }
    // The checks above took time: a signal or a failure may have come meanwhile.
    const late = halt();
    if (late) return skip(move, late);

    const migrationId = randomUUID();
    const base = {
      v: 1 as const, type: 'migration' as const, run_id: opts.runId, migration_id: migrationId, vmid: move.vmid, name: move.name,
      guest_type: move.type, source: move.source, target: move.target, confidence: move.confidence, reason: move.reason,
      ...(move.kind ? { kind: move.kind } : {}),
    };
    // Write-ahead: the intent is on disk (fsync'd) before the request is sent. When it cannot be
    // written, nothing is sent: a migration never starts without its record.
    try {
      opts.record({ ...base, at: now().toISOString(), status: 'intent', upid: null, planned_at: (opts.plannedAt ?? now()).toISOString() });
    } catch (e) {
      throw new Error(`cannot record the intent to migrate ${label} in the history (${(e as Error).message}); nothing was sent to Proxmox`);
    }
    const startedAt = now();
    const sent = await sendMigrate(opts, move, current.status, withLocalDisks, pollMs);
    if ('upid' in sent || sent.kind === 'unknown') sentThisRun.push(move);
    if (!('upid' in sent)) {
      const end = now().toISOString();
      if (sent.kind === 'unknown') {
        // The migration may run: an unknown, looked up by the next tick; no halt, no failure.
        log.warn(`${label}: ${sent.message}; recorded as unknown, the next run looks up its task`);
        results.push({ move, status: 'unknown', migrationId, upid: null, detail: sent.message });
        opts.record({ ...base, at: end, status: 'unknown', upid: null, started_at: startedAt.toISOString(), error: sent.message });
        return;
      }
      const detail = sent.kind === 'refused' ? `Refused by Proxmox: ${sent.message}` : `Transient error, tried again next run: ${sent.message}`;
      log.warn(`${label} (${move.name}): not migrated: ${detail}`);
      results.push({ move, status: 'skipped', migrationId, upid: null, detail });
      opts.record({ ...base, at: end, status: 'never_started', upid: null, error: detail });
      return;
    }
    const upid = sent.upid;
    try {
      opts.record({ ...base, at: now().toISOString(), status: 'started', upid, started_at: startedAt.toISOString() });
    } catch (e) {
      // The migration runs whatever the disk says (its intent is on disk): follow it anyway, and start nothing more.
      broken = `cannot record in the history (${(e as Error).message})`;
      log.error(`${label}: migration started (${upid}) but the history could not record it: ${(e as Error).message}`);
    }
    log.info(`${label} (${move.name}): migration ${move.source} → ${move.target} started (${upid})`);

    const p = follow(move, base, upid, startedAt, opts, pollMs, now).then((r) => {
      results.push(r);
      if (r.status === 'failed') failed = true;
      // The cluster's task list can show a task as running a little after its status says it
      // stopped: ours that we have seen end no longer hold a slot.
      ended.add(upid);
      if (r.upid) ended.add(r.upid);
    });
    inFlight.add(p);
    ours.set(move.vmid, p);
    // follow() never rejects (it turns every error into a result); the catch only keeps an
    // impossible rejection from killing the process.
    void p.finally(() => {
      inFlight.delete(p);
      ours.delete(move.vmid);
    }).catch(() => {});
    for (const c of move.companions ?? []) followAlong(move, c, upid, base, startedAt);
  }

  /**
   * A guest HA moves along with `move` (positive affinity): recorded as started under the request's
   * hamigrate task, then followed like any HA migration (its real task is found on its own node).
   */
  function followAlong(move: MoveToExecute, c: NonNullable<MoveToExecute['companions']>[number], upid: string, leaderBase: RecordBase, startedAt: Date): void {
    const cm: MoveToExecute = { vmid: c.vmid, name: c.name, type: c.type, source: c.source, target: move.target, confidence: move.confidence, online: true, reason: `HA moves it along with ${guestRef(move.vmid, move.type)} (positive affinity)`, ...(move.kind ? { kind: move.kind } : {}) };
    const cb: RecordBase = { ...leaderBase, migration_id: randomUUID(), vmid: c.vmid, name: c.name, guest_type: c.type, source: c.source, reason: cm.reason };
    opts.record({ ...cb, at: now().toISOString(), status: 'started', upid, started_at: startedAt.toISOString() });
    const p = follow(cm, cb, upid, startedAt, opts, pollMs, now).then((r) => {
      along.set(move, [...(along.get(move) ?? []), r]);
      if (r.status === 'failed') failed = true;
      if (r.upid) ended.add(r.upid);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
  }
}

type Sent = { upid: string } | { kind: StartErrorKind; message: string };

/**
 * Sends the migrate request once. A lost answer (the request may have reached Proxmox) is looked
 * up in the source node's task list for a few seconds before it is called unknown.
 */
async function sendMigrate(opts: ExecOptions, move: MoveToExecute, status: string, withLocalDisks: boolean, pollMs: number): Promise<Sent> {
  try {
    return { upid: await opts.port.migrate({ vmid: move.vmid, type: move.type, node: move.source, status }, move.target, { withLocalDisks }) };
  } catch (e) {
    const kind = startErrorKind(e);
    if (!kind) throw e;
    if (kind !== 'unknown') return { kind, message: (e as Error).message };
    const since = (e as PveMigrationUnknownError).sentAt;
    for (let i = 0; i < 5; i++) {
      await sleep(Math.min(pollMs, 1000));
      const found = await opts.port.findMigrationTasks({ vmid: move.vmid, node: move.source, since, types: [...MIGRATION_TASK_TYPES] }).catch(() => []);
      if (found[0]) {
        log.warn(`${guestRef(move.vmid, move.type)}: the answer to the migrate request was lost, but its task ${found[0].upid} exists: following it`);
        return { upid: found[0].upid };
      }
    }
    return { kind, message: `${(e as Error).message}; no task of it was found yet` };
  }
}

type RecordBase = Omit<MigrationRecord, 'at' | 'status' | 'upid'>;

/**
 * Follows one migration to its outcome and records it. Never rejects: an error it cannot get past
 * (the disk, a bug) ends the following, not the migration; the migration is then recorded as
 * interrupted when possible, so the next tick looks it up by its UPID.
 */
async function follow(move: MoveToExecute, base: RecordBase, firstUpid: string, startedAt: Date, opts: ExecOptions, pollMs: number, now: () => Date): Promise<ExecResult> {
  let upid = firstUpid;
  try {
    return await followTask(move, base, firstUpid, startedAt, opts, pollMs, now, (u) => (upid = u));
  } catch (e) {
    const msg = (e as Error).message;
    log.error(`${guestRef(move.vmid, move.type)}: error while following its migration (${upid}): ${msg}; the next run looks up its outcome`);
    try {
      opts.record({ ...base, at: now().toISOString(), status: 'interrupted', upid, started_at: startedAt.toISOString(), error: `following stopped: ${msg}` });
    } catch { /* the history cannot be written either: the started record stays, and is looked up */ }
    return { move, status: 'interrupted', migrationId: base.migration_id, upid, detail: `error while following: ${msg}` };
  }
}

/** The record fields a finished task's outcome fills in. */
function outcomeFields(o: TaskOutcome): Partial<MigrationRecord> {
  return {
    exitstatus: o.exitstatus,
    ...(o.error ? { error: o.error } : {}),
    ...(o.transferredBytes !== null ? { transferred_bytes: o.transferredBytes } : {}),
    ...(o.avgSpeedBytesPerS !== null ? { avg_speed_bytes_s: o.avgSpeedBytesPerS } : {}),
  };
}

async function logProgress(follower: LogFollower, label: string, startedAt: Date, now: () => Date): Promise<void> {
  try {
    const p = await follower.update();
    const text = progressText(p);
    log.info(`${label}: ${text ? `${text}, ` : ''}elapsed ${formatElapsed((now().getTime() - startedAt.getTime()) / 1000)}`);
  } catch { /* progress is best effort */ }
}

async function followTask(move: MoveToExecute, base: RecordBase, firstUpid: string, startedAt: Date, opts: ExecOptions, pollMs: number, now: () => Date, onUpid: (u: string) => void): Promise<ExecResult> {
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
        let real: string | null = null;
        try {
          real = await opts.port.findRealMigrationTask(upid, { vmid: move.vmid, node: move.source });
        } catch (e) {
          log.warn(`${label}: cannot read the cluster's tasks (${(e as Error).message}); trying again`);
        }
        if (!real) {
          if (now().getTime() - startedAt.getTime() > 120_000) {
            log.error(`${label}: HA manager accepted the migration but started no migration task within 2 minutes`);
            return finish('failed', { error: 'HA manager started no migration task' }, 'HA manager started no migration task');
          }
          await sleep(pollMs);
          continue;
        }
        upid = real;
        onUpid(upid);
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
      await logProgress(follower, label, startedAt, now);
    }
    await sleep(pollMs);
  }
}
