import { randomUUID } from 'node:crypto';
import { log } from '../log/logger.js';
import type { MigrationRecord } from '../history/store.js';
import { guestRef } from '../util/guest.js';
import { formatBytes, formatElapsed, LogFollower, progressText, stoppedOutcome, type TaskOutcome } from './follow.js';
import type { ExecOptions, ExecResult, MoveToExecute } from './execute.js';

/**
 * Where one planned move stands. Each state but `planned` is entered by writing one history record
 * (its status is the state's name, except `following`, recorded as `started` with the real task's
 * UPID): the history tells every step the executor took, in order, and a crash leaves the last one.
 */
export type MoveState =
  | 'planned'
  /** The write-ahead record: on disk (fsync'd) before the migrate request is sent. */
  | 'intent'
  /** Proxmox answered with the task's UPID (or the task of a lost answer was found). */
  | 'started'
  /** HA: the hamigrate request handed over to the real qmigrate/vzmigrate task, followed now. */
  | 'following'
  | 'completed'
  | 'failed'
  /** Not ended within migration_timeout_minutes: left running in Proxmox, a later run records how it ended. */
  | 'timeout'
  /** Following stopped (a signal, an error we cannot get past): Proxmox goes on, a later run records how it ended. */
  | 'interrupted'
  /** The request was sent and its answer lost: a later run looks up whether it started. */
  | 'unknown'
  /** Proxmox refused the request, or it failed before anything started. */
  | 'never_started';

/** The only transitions there are. `planned → started` is a guest HA moves along (no request of ours, no intent). */
const NEXT: Readonly<Record<MoveState, readonly MoveState[]>> = {
  planned: ['intent', 'started'],
  intent: ['started', 'unknown', 'never_started'],
  started: ['following', 'completed', 'failed', 'timeout', 'interrupted'],
  following: ['completed', 'failed', 'timeout', 'interrupted'],
  completed: [],
  failed: [],
  timeout: [],
  interrupted: [],
  unknown: [],
  never_started: [],
};

export type RecordBase = Omit<MigrationRecord, 'at' | 'status' | 'upid'>;

/** How long an HA manager may take to start the real task after accepting a hamigrate request. */
const HA_START_LIMIT_MS = 120_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One planned move from its plan to its end: the state machine above, and the following of its
 * Proxmox task. The executor decides whether it may start; this object carries it out and records it.
 */
export class Migration {
  state: MoveState = 'planned';
  upid: string | null = null;
  readonly base: RecordBase;
  /** When the request was sent (or, for a guest HA moves along, its leader's). */
  startedAt: Date;
  private readonly now: () => Date;
  private readonly pollMs: number;
  private readonly label: string;

  constructor(readonly move: MoveToExecute, private readonly opts: ExecOptions, base?: RecordBase) {
    this.now = opts.now ?? (() => new Date());
    this.pollMs = opts.pollMs ?? 2000;
    this.label = guestRef(move.vmid, move.type);
    this.startedAt = this.now();
    this.base = base ?? {
      v: 1, type: 'migration', run_id: opts.runId, migration_id: randomUUID(), vmid: move.vmid, name: move.name,
      guest_type: move.type, source: move.source, target: move.target, confidence: move.confidence, reason: move.reason,
      ...(move.kind ? { kind: move.kind } : {}),
    };
  }

  /**
   * The one way a state changes: its record is written first, and the state is what the history says.
   * `evenIfUnrecorded`: the state follows Proxmox even when the disk failed (a task that runs, runs).
   */
  private to(next: MoveState, fields: Partial<MigrationRecord> = {}, evenIfUnrecorded = false): void {
    if (!NEXT[this.state].includes(next)) throw new Error(`${this.label}: no transition ${this.state} → ${next} (a bug)`);
    const status = (next === 'following' ? 'started' : next) as MigrationRecord['status'];
    try {
      this.opts.record({ ...this.base, at: this.now().toISOString(), status, upid: this.upid, ...fields });
    } catch (e) {
      if (evenIfUnrecorded) this.state = next;
      throw e;
    }
    this.state = next;
  }

  private result(status: ExecResult['status'], detail: string | null): ExecResult {
    return { move: this.move, status, migrationId: this.base.migration_id, upid: this.upid, detail };
  }

  /** planned → intent. Write-ahead: when the intent cannot be written, nothing is sent. */
  writeIntent(): void {
    try {
      this.to('intent', { planned_at: (this.opts.plannedAt ?? this.now()).toISOString() });
    } catch (e) {
      throw new Error(`cannot record the intent to migrate ${this.label} in the history (${(e as Error).message}); nothing was sent to Proxmox`);
    }
    this.startedAt = this.now();
  }

  /**
   * intent → started: the request's task is known. The migration runs whatever the disk says (its
   * intent is on disk): a failure to record it is returned (start nothing more) and it is followed anyway.
   */
  started(upid: string): string | null {
    this.upid = upid;
    try {
      this.to('started', { started_at: this.startedAt.toISOString() }, true);
    } catch (e) {
      log.error(`${this.label}: migration started (${upid}) but the history could not record it: ${(e as Error).message}`);
      return `cannot record in the history (${(e as Error).message})`;
    }
    log.info(`${this.label} (${this.move.name}): migration ${this.move.source} → ${this.move.target} started (${upid})`);
    return null;
  }

  /** planned → started for a guest HA moves along with another: recorded under the request's hamigrate task. */
  startedAlong(upid: string, startedAt: Date): void {
    this.upid = upid;
    this.startedAt = startedAt;
    // planned_at marks the record as the first of its migration (history/store.ts opensMigration).
    this.to('started', { started_at: startedAt.toISOString(), planned_at: (this.opts.plannedAt ?? startedAt).toISOString() });
  }

  /**
   * intent → unknown: the answer was lost and no task of it was found; not a failure, no halt.
   * The result is reported before the record is written: it stands even when the disk fails.
   */
  unknown(message: string, report: (r: ExecResult) => void): void {
    log.warn(`${this.label}: ${message}; recorded as unknown, the next run looks up its task`);
    report(this.result('unknown', message));
    this.to('unknown', { started_at: this.startedAt.toISOString(), error: message });
  }

  /** intent → never_started: refused, or a transient error before anything ran (a skip, planned again next run). */
  neverStarted(detail: string, report: (r: ExecResult) => void): void {
    log.warn(`${this.label} (${this.move.name}): not migrated: ${detail}`);
    report(this.result('skipped', detail));
    this.to('never_started', { error: detail });
  }

  /**
   * started → its end. Never rejects: an error it cannot get past (the disk, a bug) ends the
   * following, not the migration; it is then recorded as interrupted when possible, so the next tick
   * looks it up by its UPID.
   */
  async follow(): Promise<ExecResult> {
    try {
      return await this.followTask();
    } catch (e) {
      const msg = (e as Error).message;
      log.error(`${this.label}: error while following its migration (${this.upid}): ${msg}; the next run looks up its outcome`);
      try {
        this.to('interrupted', { started_at: this.startedAt.toISOString(), error: `following stopped: ${msg}` });
      } catch { /* the history cannot be written either: the started record stays, and is looked up */ }
      return this.result('interrupted', `error while following: ${msg}`);
    }
  }

  /** started|following → completed | failed | timeout | interrupted, with the task's figures. */
  private finish(status: 'completed' | 'failed' | 'timeout' | 'interrupted', extra: Partial<MigrationRecord>, detail: string | null): ExecResult {
    const end = this.now();
    const at = end.toISOString();
    const duration_s = Math.round((end.getTime() - this.startedAt.getTime()) / 100) / 10;
    this.to(status, { at, started_at: this.startedAt.toISOString(), finished_at: at, duration_s, ...extra });
    return this.result(status, detail);
  }

  private elapsedMs(): number {
    return this.now().getTime() - this.startedAt.getTime();
  }

  private async followTask(): Promise<ExecResult> {
    const minutes = this.opts.config.automated_migrations.rules.migration_timeout_minutes;
    const progressMs = this.opts.progressMs ?? 10_000;
    let follower = new LogFollower(this.opts.port, this.upid!);
    let lastProgress = Date.now();
    for (;;) {
      if (this.opts.stopping()) {
        log.warn(`${this.label}: interrupted while migrating to ${this.move.target}; Proxmox goes on with task ${this.upid}, the next run records its outcome`);
        return this.finish('interrupted', {}, 'Stopped by signal');
      }
      if (this.elapsedMs() > minutes * 60_000) {
        log.error(`${this.label}: migration to ${this.move.target} timed out after ${minutes} min; task ${this.upid} is left running and a later run records its outcome`);
        return this.finish('timeout', { error: 'timeout' }, 'timeout');
      }
      let st;
      try {
        st = await this.opts.port.taskStatus(this.upid!);
      } catch (e) {
        log.warn(`${this.label}: cannot read task status (${(e as Error).message}); trying again`);
        await sleep(this.pollMs);
        continue;
      }
      if (st.status === 'stopped' && st.type === 'hamigrate') {
        const next = await this.haStopped(st.exitstatus ?? 'unknown', follower);
        if (next === 'wait') await sleep(this.pollMs);
        else if (next instanceof LogFollower) follower = next;
        else return next;
        continue;
      }
      if (st.status === 'stopped') return this.ended(st.exitstatus ?? 'unknown', follower);
      if (Date.now() - lastProgress >= progressMs) {
        lastProgress = Date.now();
        await this.logProgress(follower);
      }
      await sleep(this.pollMs);
    }
  }

  /**
   * A hamigrate task ended: the HA manager refused (failed), or now starts the real task. When it is
   * found: started → following, and the follower that reads its log; 'wait' while it is not there yet.
   */
  private async haStopped(exit: string, follower: LogFollower): Promise<ExecResult | LogFollower | 'wait'> {
    if (exit !== 'OK') {
      const o = await stoppedOutcome(exit, follower);
      log.error(`${this.label}: HA migration request failed: ${o.error}`);
      return this.finish('failed', outcomeFields(o), o.error);
    }
    let real: string | null = null;
    try {
      real = await this.opts.port.findRealMigrationTask(this.upid!, { vmid: this.move.vmid, node: this.move.source });
    } catch (e) {
      log.warn(`${this.label}: cannot read the cluster's tasks (${(e as Error).message}); trying again`);
    }
    if (!real) {
      if (this.elapsedMs() <= HA_START_LIMIT_MS) return 'wait';
      log.error(`${this.label}: HA manager accepted the migration but started no migration task within 2 minutes`);
      return this.finish('failed', { error: 'HA manager started no migration task' }, 'HA manager started no migration task');
    }
    this.upid = real;
    const next = new LogFollower(this.opts.port, real);
    this.to('following', { started_at: this.startedAt.toISOString() });
    log.info(`${this.label}: HA resource agent started the migration task ${real}`);
    return next;
  }

  /** The followed task stopped: completed or failed, with what its log says. */
  private async ended(exit: string, follower: LogFollower): Promise<ExecResult> {
    const o = await stoppedOutcome(exit, follower);
    const { move } = this;
    if (o.status === 'completed') {
      const speed = o.avgSpeedBytesPerS ? `, average ${formatBytes(o.avgSpeedBytesPerS)}/s` : '';
      log.info(`${this.label} (${move.name}): migration ${move.source} → ${move.target} completed in ${formatElapsed(this.elapsedMs() / 1000)}${speed}`);
      return this.finish('completed', outcomeFields(o), null);
    }
    log.error(`${this.label} (${move.name}): migration ${move.source} → ${move.target} failed: ${o.error}`);
    return this.finish('failed', outcomeFields(o), o.error);
  }

  private async logProgress(follower: LogFollower): Promise<void> {
    try {
      const p = await follower.update();
      const text = progressText(p);
      log.info(`${this.label}: ${text ? `${text}, ` : ''}elapsed ${formatElapsed(this.elapsedMs() / 1000)}`);
    } catch { /* progress is best effort */ }
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
