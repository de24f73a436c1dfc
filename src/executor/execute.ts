import { randomUUID } from 'node:crypto';
import { log } from '../log/logger.js';
import type { Config } from '../config/load.js';
import type { MigrationRecord } from '../history/store.js';
import type { GuestType, MigratePrecondition } from '../pve/types.js';
import type { PveMigrationUnknownError } from '../pve/errors.js';
import { startErrorKind, type StartErrorKind } from './start-errors.js';
import { guestRef } from '../util/guest.js';
import type { ExecutorPort } from './port.js';
import { MIGRATION_TASK_TYPES } from '../engine/rules.js';
import { Migration, sleep } from './migration.js';
import { Slots } from './slots.js';

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

/**
 * Carries out planned moves in order: never more than max_concurrent_migrations in flight in the
 * cluster (migrations started by anyone count), each re-checked just before its POST, each
 * followed to its outcome, every step recorded. A failure with abort_on_failure starts nothing
 * more (the caller records the halt).
 */
export function executeMoves(moves: readonly MoveToExecute[], opts: ExecOptions): Promise<{ results: ExecResult[]; error: string | null }> {
  return new Executor(opts).run(moves);
}

/**
 * The executor has one job: given planned moves, a slot limit (max_concurrent_migrations) and a
 * port to Proxmox, run them to their end. Each move is a Migration (its state machine and records);
 * the slots are counted by Slots; this object decides, move by move, whether it may start.
 */
export class Executor {
  private readonly results = new Map<MoveToExecute, ExecResult>();
  /** Results of the guests HA moved along with a move, by that move. */
  private readonly along = new Map<MoveToExecute, ExecResult[]>();
  private readonly slots: Slots;
  /** Moves this run sent (started, or whose answer was lost): the fresh look counts them on their targets. */
  private readonly sentThisRun: MoveToExecute[] = [];
  private failed = false;
  /** Set by an unexpected error while starting a move: nothing more is started. */
  private broken: string | null = null;

  constructor(private readonly opts: ExecOptions) {
    this.slots = new Slots(opts.port, opts.config.automated_migrations.rules.max_concurrent_migrations);
  }

  async run(moves: readonly MoveToExecute[]): Promise<{ results: ExecResult[]; error: string | null }> {
    for (const move of moves) {
      const why = this.halt();
      if (why) { this.skip(move, why); continue; }
      try {
        await this.startOne(move);
      } catch (e) {
        // Whatever went wrong (the API, the disk), start nothing more; migrations already started
        // are still followed to their outcome below, and the lock is held until they are.
        const label = guestRef(move.vmid, move.type);
        this.broken = `an error while starting ${label}: ${(e as Error).message}`;
        log.error(`${label}: error while starting its migration: ${(e as Error).message}; starting nothing more this run`);
        if (!this.results.has(move)) this.results.set(move, { move, status: 'skipped', migrationId: null, upid: null, detail: `error: ${(e as Error).message}` });
      }
    }
    await this.slots.drain();
    // Keep the plan's order in the results.
    const results = moves.flatMap((m) => [this.results.get(m)!, ...(this.along.get(m) ?? [])]).filter(Boolean);
    return { results, error: this.broken };
  }

  /** Why nothing more may start now, or null. Asked again right before every POST. */
  private halt(): string | null {
    if (this.opts.stopping()) return 'Stopped by signal';
    if (this.failed && this.opts.config.automated_migrations.safety_checks.abort_on_failure) return 'Not started: an earlier migration failed (abort_on_failure)';
    if (this.broken) return `Not started: ${this.broken}`;
    return null;
  }

  private skip(move: MoveToExecute, detail: string): void {
    log.info(`${guestRef(move.vmid, move.type)} (${move.name}): not migrated: ${detail}`);
    this.results.set(move, { move, status: 'skipped', migrationId: null, upid: null, detail });
  }

  /** A free slot, the fresh checks, then the request: the move ends skipped, or sent and followed. */
  private async startOne(move: MoveToExecute): Promise<void> {
    const busy = await this.slots.wait(() => this.halt() !== null);
    const stop = this.halt();
    if (stop) return this.skip(move, stop);
    if (busy.size >= this.slots.limit) return this.skip(move, `Max concurrent migrations reached (${busy.size} running, limit ${this.slots.limit})`);
    // Duplicate prevention against overlapping runs and people.
    if (busy.has(move.vmid)) return this.skip(move, 'Already has active migration');
    const checked = await this.freshChecks(move);
    if (typeof checked === 'string') return this.skip(move, checked);
    // The checks took time: a signal or a failure may have come meanwhile.
    const late = this.halt();
    if (late) return this.skip(move, late);
    await this.send(new Migration(move, this.opts), checked);
  }

  /** The guest and its precondition read again right before the request: what to send, or why not. */
  private async freshChecks(move: MoveToExecute): Promise<{ status: string; withLocalDisks: boolean } | string> {
    let current;
    try {
      current = await this.opts.port.guestCurrent(move.type, move.source, move.vmid);
    } catch (e) {
      return `No longer on ${move.source} (${(e as Error).message})`;
    }
    if (current.lock) return current.lock === 'migrate' ? 'Already has active migration' : `Guest is locked (${current.lock})`;
    let withLocalDisks = false;
    try {
      const pre = move.precondition ?? await this.opts.port.migratePrecondition({ vmid: move.vmid, type: move.type, node: move.source }, move.target);
      if (pre.known) {
        const why = pre.notAllowed[move.target];
        if (why) return `Target ${move.target} not allowed: ${why}`;
        if (current.status === 'running' && move.type === 'qemu' && pre.localResources.length) return `Local resource cannot move live: ${pre.localResources.join(', ')}`;
        withLocalDisks = pre.hasLocalDisks;
      }
    } catch (e) {
      // Fail closed: what ties the guest to its node is unknown, so it is not moved this run.
      return `Migrate precondition could not be read, tried again next run: ${(e as Error).message}`;
    }
    if (this.opts.freshLook) {
      const why = await this.opts.freshLook(move, this.sentThisRun);
      if (why) return why;
    }
    return { status: current.status, withLocalDisks };
  }

  /** intent → the request → started (followed to its end) | unknown | never_started. */
  private async send(mig: Migration, how: { status: string; withLocalDisks: boolean }): Promise<void> {
    const { move } = mig;
    mig.writeIntent();
    const sent = await sendMigrate(this.opts, move, how.status, how.withLocalDisks);
    if ('upid' in sent || sent.kind === 'unknown') this.sentThisRun.push(move);
    const report = (r: ExecResult) => this.results.set(move, r);
    if (!('upid' in sent)) {
      if (sent.kind === 'unknown') return mig.unknown(sent.message, report);
      return mig.neverStarted(sent.kind === 'refused' ? `Refused by Proxmox: ${sent.message}` : `Transient error, tried again next run: ${sent.message}`, report);
    }
    const unrecorded = mig.started(sent.upid);
    if (unrecorded) this.broken = unrecorded;
    this.slots.hold(this.followed(mig, report), move.vmid);
    for (const c of move.companions ?? []) this.followAlong(mig, c);
  }

  /** Follows a migration to its end; its end frees its slot and may halt the run. */
  private async followed(mig: Migration, report: (r: ExecResult) => void): Promise<void> {
    const first = mig.upid;
    const r = await mig.follow();
    report(r);
    if (r.status === 'failed') this.failed = true;
    this.slots.ended(first, r.upid);
  }

  /**
   * A guest HA moves along with a move (positive affinity): recorded as started under the request's
   * hamigrate task, then followed like any HA migration (its real task is found on its own node).
   */
  private followAlong(leader: Migration, c: NonNullable<MoveToExecute['companions']>[number]): void {
    const { move } = leader;
    const reason = `HA moves it along with ${guestRef(move.vmid, move.type)} (positive affinity)`;
    const cm: MoveToExecute = { vmid: c.vmid, name: c.name, type: c.type, source: c.source, target: move.target, confidence: move.confidence, online: true, reason, ...(move.kind ? { kind: move.kind } : {}) };
    const mig = new Migration(cm, this.opts, { ...leader.base, migration_id: randomUUID(), vmid: c.vmid, name: c.name, guest_type: c.type, source: c.source, reason });
    mig.startedAlong(leader.upid!, leader.startedAt);
    this.slots.hold(mig.follow().then((r) => {
      this.along.set(move, [...(this.along.get(move) ?? []), r]);
      if (r.status === 'failed') this.failed = true;
      this.slots.ended(r.upid);
    }));
  }
}

type Sent = { upid: string } | { kind: StartErrorKind; message: string };

/**
 * Sends the migrate request once. A lost answer (the request may have reached Proxmox) is looked
 * up in the source node's task list for a few seconds before it is called unknown.
 */
async function sendMigrate(opts: ExecOptions, move: MoveToExecute, status: string, withLocalDisks: boolean): Promise<Sent> {
  try {
    return { upid: await opts.port.migrate({ vmid: move.vmid, type: move.type, node: move.source, status }, move.target, { withLocalDisks }) };
  } catch (e) {
    const kind = startErrorKind(e);
    if (!kind) throw e;
    if (kind !== 'unknown') return { kind, message: (e as Error).message };
    const since = (e as PveMigrationUnknownError).sentAt;
    for (let i = 0; i < 5; i++) {
      await sleep(Math.min(opts.pollMs ?? 2000, 1000));
      const found = await opts.port.findMigrationTasks({ vmid: move.vmid, node: move.source, since, types: [...MIGRATION_TASK_TYPES] }).catch(() => []);
      if (found[0]) {
        log.warn(`${guestRef(move.vmid, move.type)}: the answer to the migrate request was lost, but its task ${found[0].upid} exists: following it`);
        return { upid: found[0].upid };
      }
    }
    return { kind, message: `${(e as Error).message}; no task of it was found yet` };
  }
}
