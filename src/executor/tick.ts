import { randomBytes } from 'node:crypto';
import { log, registerSecret } from '../log/logger.js';
import { resolveTokenSecret, type LoadedConfig } from '../config/load.js';
import { appendRecord, prepareRecordValidation, readHistory, type DecisionRecord, type GateRecord, type HistoryRecord, type MigrationRecord, type RunRecord } from '../history/store.js';
import { activeHalt, engineHistoryView, failureWithoutHalt, lastRun, unfinishedMigrations } from '../history/views.js';
import { acquireLock, LockBusyError } from '../history/lock.js';
import { PveClient, clientOptionsFromConfig } from '../pve/client.js';
import { SnapshotReadError, takeSnapshot } from '../pve/snapshot.js';
import { plan as makePlan, recheckMove, type RecheckMove } from '../engine/index.js';
import { PveError } from '../pve/errors.js';
import type { GateName, Plan } from '../engine/types.js';
import { REASON } from '../engine/rules.js';
import { evaluateGates } from '../engine/gates.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import type { MigratePrecondition } from '../pve/types.js';
import { executeMoves, type ExecResult } from './execute.js';
import { guestRef } from '../util/guest.js';
import { reconcile } from './reconcile.js';
import { TickNotifier } from '../notify/notifier.js';
import { updateMetricsFile } from '../metrics/file.js';

export interface TickOptions {
  /** --dry-run: simulate whatever the config says. */
  dryRunFlag: boolean;
  /** --scheduled: started by the timer; honours check_interval_minutes. */
  scheduled: boolean;
  now?: () => Date;
  /** Set when SIGTERM/SIGINT arrived. */
  stopping?: () => boolean;
  pollMs?: number;
  progressMs?: number;
}

export interface TickResult {
  exitCode: 0 | 1;
  /** Null when the tick exited before doing anything (throttled, lock busy). */
  run: RunRecord | null;
  plan: Plan | null;
  snapshot: ClusterSnapshot | null;
  results: ExecResult[];
  /** API requests this tick made. */
  apiRequests: number;
}

/** The guide's words for each gate, the reason a skipped run records. */
const GATE_REASON: Record<GateName, string> = {
  halted: REASON.halted,
  blackout: REASON.blackout,
  migration_window: REASON.outsideWindow,
  cluster_health: REASON.health,
  concurrency: REASON.concurrency,
};

/** A snapshot that knows nothing, for judging the time-based gates before any request. */
const NO_CLUSTER: ClusterSnapshot = {
  v: 1, taken_at: new Date(0).toISOString(), api: { host: '', requests: 0 }, cluster: { name: null, quorate: null, standalone: false },
  crs: { ha_auto_rebalance: null }, nodes: [], guests: [], storages: [], tasks: [], unknowns: [],
};

/** Scheduled ticks this close to the interval count as due (the timer fires on the minute, with jitter). */
const THROTTLE_SLACK_MS = 30_000;

export function makeRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * The fresh look before a migrate request: the cluster read again (the hour averages kept from the
 * tick's snapshot) and the move checked on it by the engine, with everything this run already sent.
 */
async function freshLook(client: PveClient, planned: ClusterSnapshot, cfg: LoadedConfig['config'], move: RecheckMove, sent: readonly RecheckMove[]): Promise<string | null> {
  let fresh: ClusterSnapshot;
  try {
    fresh = await takeSnapshot(client, { strict: true, averagesFrom: planned });
  } catch (e) {
    if (!(e instanceof SnapshotReadError) && !(e instanceof PveError)) throw e;
    return `Fresh look before the request failed, tried again next run: ${(e as Error).message}`;
  }
  return recheckMove(fresh, planned, cfg, move, sent);
}

export function haltMessage(h: { vmid: number; at: string; guest_type?: string; error: string }): string {
  const label = h.guest_type === 'lxc' ? `CT ${h.vmid}` : `VM ${h.vmid}`;
  return `Automation halted after failed migration of ${label} at ${h.at}; run \`proxbalance resume\``;
}

/** One tick: lock, throttle, reconcile, gates, snapshot, plan, execute or simulate, record. */
export async function runTick(loaded: LoadedConfig, opts: TickOptions): Promise<TickResult> {
  const cfg = loaded.config;
  const am = cfg.automated_migrations;
  const now = opts.now ?? (() => new Date());
  const stopping = opts.stopping ?? (() => false);
  const historyPath = cfg.history_file;
  const result: TickResult = { exitCode: 0, run: null, plan: null, snapshot: null, results: [], apiRequests: 0 };

  // A missing or unreadable secret is a config error: found before anything else happens.
  const secret = resolveTokenSecret(cfg, loaded.path);
  // Scrubbed from every log line and every history record, wherever it turns up (a task log line).
  registerSecret(secret);
  let lock;
  try {
    lock = await acquireLock(historyPath);
  } catch (e) {
    if (e instanceof LockBusyError) {
      if (opts.scheduled) {
        log.info(`skipped: ${e.message}`);
        return result;
      }
      log.error(e.message);
      result.exitCode = 1;
      return result;
    }
    throw e;
  }

  let client: PveClient | null = null;
  const getClient = () => {
    client ??= new PveClient(clientOptionsFromConfig(cfg, secret, log));
    return client;
  };
  const startedAt = now();
  const runId = makeRunId(startedAt);
  const trigger = opts.scheduled ? 'scheduled' : 'manual';
  const dryRun = opts.dryRunFlag || am.dry_run;
  const mode = dryRun ? 'dry-run' : 'live';
  const notifier = new TickNotifier(loaded, runId, now);
  let records: HistoryRecord[] = [];
  const append = (r: HistoryRecord) => {
    appendRecord(historyPath, r);
    records.push(r);
  };
  const finishRun = (outcome: RunRecord['outcome'], extra: Partial<RunRecord> = {}): RunRecord => {
    const run: RunRecord = {
      v: 1, type: 'run', run_id: runId, started_at: startedAt.toISOString(), finished_at: now().toISOString(), trigger, mode,
      gates: [], outcome, decisions: [], ...extra,
    };
    // A tick that decided exactly what the previous one did (the steady state: same skips, same
    // reasons) names that run instead of repeating hundreds of decisions.
    const prev = lastRun(records);
    if (run.decisions.length && prev?.decisions.length && JSON.stringify(prev.decisions) === JSON.stringify(run.decisions)) {
      appendRecord(historyPath, { ...run, decisions: [], decisions_same_as: prev.run_id });
      records.push(run);
    } else append(run);
    result.run = run;
    return run;
  };

  /**
   * abort_on_failure: the halt is appended right after the failure is recorded, whoever records it
   * (the executor, reconciliation, or this tick finding a run that died in between).
   */
  const haltAfter = (m: Pick<MigrationRecord, 'vmid' | 'guest_type' | 'migration_id' | 'error'>, how: string) => {
    if (!am.safety_checks.abort_on_failure || activeHalt(records)) return;
    const halted: HistoryRecord = { v: 1, type: 'halted', at: now().toISOString(), run_id: runId, vmid: m.vmid, guest_type: m.guest_type, migration_id: m.migration_id, error: m.error ?? 'migration failed' };
    append(halted);
    log.error(`automation halted${how}: ${haltMessage(halted as { vmid: number; at: string; error: string })}`);
  };

  try {
    prepareRecordValidation();
    const read = await readHistory(historyPath);
    for (const w of read.warnings) log.warn(w);
    records = read.records;

    // Throttle first: a timer tick that is not due does nothing at all (no record, no request).
    if (opts.scheduled) {
      // A run dated after now (the clock was stepped back) does not hold the next ones back.
      const last = lastRun(records, (r) => r.trigger === 'scheduled' && Date.parse(r.started_at) <= startedAt.getTime());
      const due = last ? Date.parse(last.started_at) + am.check_interval_minutes * 60_000 - THROTTLE_SLACK_MS : 0;
      if (startedAt.getTime() < due) {
        log.debug(`scheduled run skipped: the last one started at ${last!.started_at}, check_interval_minutes is ${am.check_interval_minutes}`);
        return result;
      }
    }

    // A run killed between a failure and its halt record: halt now.
    const lostHalt = failureWithoutHalt(records);
    if (lostHalt) haltAfter(lostHalt, ` (the failure recorded by run ${lostHalt.run_id} was never followed by its halt)`);
    // Outcomes of migrations an earlier run could not see to the end.
    const unfinished = unfinishedMigrations(records);
    if (unfinished.length) {
      const knownUpids = new Set(records.flatMap((r) => (r.type === 'migration' && r.upid ? [r.upid] : [])));
      await reconcile(getClient(), unfinished, runId, (r) => {
        append(r);
        if (r.status === 'failed') haltAfter(r, ' (a failure found when its outcome was looked up)');
      }, now, knownUpids);
    }

    if (!am.enabled && !opts.dryRunFlag) {
      log.info('Automation disabled (automated_migrations.enabled is false): nothing to do');
      finishRun('disabled', { reason: 'Automation disabled' });
      return result;
    }
    if (!am.enabled) log.info('Automation is disabled (automated_migrations.enabled is false); this dry run shows what it would do');

    const halt = activeHalt(records);
    if (halt) {
      const msg = haltMessage(halt);
      log.warn(msg);
      finishRun('halted', { reason: msg, gates: [{ name: 'halted', passed: false, message: msg }] });
      return result;
    }

    // Time-based gates need no cluster data: judge them first, and spend no API request on a tick
    // that a blackout or a closed window stops anyway.
    const view = engineHistoryView(records, startedAt.getTime());
    const early = evaluateGates(NO_CLUSTER, cfg, view, startedAt.getTime()).gates.slice(0, 3);
    const closed = early.find((g) => !g.passed);
    if (closed) {
      const reason = `${GATE_REASON[closed.name]}: ${closed.message}`;
      log.info(`skipped: ${reason}`);
      finishRun('skipped', { reason, gates: early.map((g) => ({ name: g.name, passed: g.passed, message: g.message })) });
      return result;
    }

    // Fail closed: a read the decision depends on that fails means no plan and no migration.
    let snapshot: ClusterSnapshot;
    try {
      snapshot = await takeSnapshot(getClient(), { strict: true });
    } catch (e) {
      if (!(e instanceof SnapshotReadError)) throw e;
      const reason = `Cluster not fully read, nothing moved: ${e.failures.map((f) => `${f.read}: ${f.error}`).join('; ')}`;
      log.error(reason);
      finishRun('error', { reason });
      result.exitCode = 1;
      return result;
    }
    result.snapshot = snapshot;
    for (const u of snapshot.unknowns) log.warn(`could not learn: ${u}`);
    let plan = makePlan(snapshot, cfg, view, startedAt.getTime());
    // Verify each planned move with Proxmox's migrate precondition (one request per planned move,
    // never per guest): what ties a guest to its node is not in the cluster-wide answers. What it
    // learns goes into the snapshot and the plan is made again, so a blocked move gives its slot
    // to the next-best one instead of failing at execution time.
    const verified = new Map<number, MigratePrecondition>();
    for (let round = 0; round < 3 && plan.allowed; round++) {
      let learned = false;
      for (const m of plan.moves) {
        if (verified.has(m.vmid)) continue;
        let pre: MigratePrecondition;
        try {
          pre = await getClient().migratePrecondition({ vmid: m.vmid, type: m.type, node: m.source }, m.target);
        } catch (e) {
          log.warn(`${guestRef(m.vmid, m.type)}: migrate precondition check failed (${(e as Error).message}); the executor checks again before moving`);
          continue;
        }
        verified.set(m.vmid, pre);
        if (!pre.known) continue;
        const guest = snapshot.guests.find((g) => g.vmid === m.vmid);
        if (!guest) continue;
        guest.local = {
          disks_bytes: pre.localDisksBytes,
          resources: m.type === 'qemu' ? pre.localResources : [],
          not_allowed: pre.notAllowed,
        };
        if (pre.notAllowed[m.target] || guest.local.resources.length || pre.localDisksBytes > 0) learned = true;
      }
      if (!learned) break;
      plan = makePlan(snapshot, cfg, view, startedAt.getTime());
    }
    result.plan = plan;
    const gates: GateRecord[] = plan.gates.map((g) => ({ name: g.name, passed: g.passed, message: g.message }));
    for (const g of plan.gates) (g.passed ? log.debug : log.info)(`gate ${g.name}: ${g.passed ? 'passed' : 'failed'}: ${g.message}`);
    for (const n of plan.notes) log.info(n);
    const guestType = new Map(snapshot.guests.map((g) => [g.vmid, g.type] as const));
    const skipDecisions: DecisionRecord[] = plan.skipped.map((s) => {
      const t = guestType.get(s.vmid) ?? 'qemu';
      log.info(`${guestRef(s.vmid, t)} (${s.name}): skipped: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
      return {
        vmid: s.vmid, name: s.name, guest_type: t, action: 'skip', reason: s.detail ? `${s.reason} (${s.detail})` : s.reason,
        source: s.node, ...(s.target ? { target: s.target } : {}), ...(s.kind ? { kind: s.kind } : {}), ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
      };
    });
    const notes = plan.notes.length ? { notes: plan.notes } : {};
    const summary = {
      imbalance_before: plan.summary.imbalance_before,
      imbalance_after: plan.summary.imbalance_after,
      moves_planned: plan.moves.length,
      gib_moved: plan.summary.gib_moved,
      api_requests: snapshot.api.requests,
    };

    if (!plan.allowed) {
      const failedGate = plan.gates.find((g) => !g.passed)!;
      finishRun('skipped', { reason: `${GATE_REASON[failedGate.name]}: ${failedGate.message}`, gates, decisions: skipDecisions, summary, ...notes });
      return result;
    }

    notifier.planned(plan.moves, dryRun);
    if (dryRun) {
      const moveDecisions: DecisionRecord[] = plan.moves.map((m) => {
        log.info(`${guestRef(m.vmid, m.type)} (${m.name}): would migrate ${m.source} → ${m.target} (${m.kind}, confidence ${m.confidence}): ${m.reason}: Dry run`);
        const at = now().toISOString();
        append({
          v: 1, type: 'migration', at, run_id: runId, migration_id: `${runId}-${m.vmid}`, vmid: m.vmid, name: m.name, guest_type: m.type,
          source: m.source, target: m.target, kind: m.kind, confidence: m.confidence, reason: m.reason, status: 'dry-run', upid: null, started_at: at,
        });
        return { vmid: m.vmid, name: m.name, guest_type: m.type, action: 'move', reason: m.reason, source: m.source, target: m.target, kind: m.kind, confidence: m.confidence, outcome: 'Dry run' };
      });
      finishRun(plan.moves.length ? 'success' : 'no_action', { gates, decisions: [...moveDecisions, ...skipDecisions], summary, ...notes });
      return result;
    }

    const recordMigration = (r: MigrationRecord) => {
      append(r);
      if (r.status === 'failed') haltAfter(r, '');
    };
    const { results, error: execError } = await executeMoves(
      plan.moves.map((m) => ({ ...m, ...(verified.get(m.vmid) ? { precondition: verified.get(m.vmid)! } : {}) })),
      { port: getClient(), config: cfg, runId, plannedAt: startedAt, record: recordMigration, freshLook: (m, sent) => freshLook(getClient(), snapshot, cfg, m, sent), stopping, now, ...(opts.pollMs ? { pollMs: opts.pollMs } : {}), ...(opts.progressMs ? { progressMs: opts.progressMs } : {}) },
    );
    result.results = results;
    const failed = results.filter((r) => r.status === 'failed');
    const timedOut = results.filter((r) => r.status === 'timeout');
    // A lost answer: the outcome is not known yet (not a failure), and is looked up by a later run.
    const unknown = results.filter((r) => r.status === 'unknown');
    const completed = results.filter((r) => r.status === 'completed');
    const moveDecisions: DecisionRecord[] = results.map((r) => ({
      vmid: r.move.vmid, name: r.move.name, guest_type: r.move.type, action: r.status === 'skipped' ? 'skip' : 'move',
      reason: r.status === 'skipped' ? r.detail ?? 'skipped' : r.move.reason, source: r.move.source, target: r.move.target,
      ...(r.move.kind ? { kind: r.move.kind } : {}), confidence: r.move.confidence, outcome: r.status,
    }));
    const started = results.filter((r) => r.status !== 'skipped');
    const interrupted = results.filter((r) => r.status === 'interrupted');
    const outcome: RunRecord['outcome'] = !started.length ? 'no_action'
      : results.every((r) => r.status === 'completed') ? 'success'
        : failed.length + timedOut.length > 0 && completed.length + interrupted.length + unknown.length === 0 ? 'failed' : 'partial';
    finishRun(outcome, {
      ...notes, gates, decisions: [...moveDecisions, ...skipDecisions], summary: { ...summary, moves_completed: completed.length, moves_failed: failed.length + timedOut.length, ...(unknown.length ? { moves_unknown: unknown.length } : {}) },
      ...(execError ? { reason: `Stopped starting migrations: ${execError}` } : interrupted.length && stopping() ? { reason: 'Stopped by signal: migrations in flight recorded as interrupted (Proxmox finishes them)' } : {}),
    });
    if (failed.length || timedOut.length || unknown.length || execError) result.exitCode = 1;
    return result;
  } catch (e) {
    const msg = (e as Error).message;
    try {
      finishRun('error', { reason: msg });
    } catch (w) {
      log.error(`could not record the run in ${historyPath}: ${(w as Error).message}`);
    }
    throw e;
  } finally {
    result.apiRequests = (client as PveClient | null)?.requestCount ?? 0;
    await (client as PveClient | null)?.close();
    // Notifications and the metrics file: after the run record, never failing the tick.
    if (result.run) {
      await notifier.finish(result.run, records, append);
      await updateMetricsFile(cfg, records, result);
    }
    await lock.release();
  }
}
