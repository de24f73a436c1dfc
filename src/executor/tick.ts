import { randomBytes } from 'node:crypto';
import { log, registerSecret } from '../log/logger.js';
import { resolveTokenSecret, type LoadedConfig } from '../config/load.js';
import { appendRecord, decisionsHolder, readHistory, setDecisionsHolder, type DecisionRecord, type GateRecord, type HistoryRecord, type MigrationRecord, type RunRecord } from '../history/store.js';
import { activeHalt, ENGINE_LOOKBACK_MS, engineHistoryView, failureWithoutHalt, lastRun, recordsInForce, unfinishedMigrations } from '../history/views.js';
import { readHistoryTail } from '../history/tail.js';
import { acquireLock, LockBusyError } from '../history/lock.js';
import { haltMessage } from '../history/queries.js';
import { PveClient, clientOptionsFromConfig } from '../pve/client.js';
import { SnapshotReadError, takeSnapshot } from '../pve/snapshot.js';
import { comparePlanners, plan as makePlan, recheckMove, type RecheckMove } from '../engine/index.js';
import { loadHighs, settleWasmTiering, solverFor } from '../solver/highs.js';
import { PveError } from '../pve/errors.js';
import type { MipSolver, Plan } from '../engine/index.js';
import { GATE_REASON, timeGates } from '../engine/gates.js';
import type { ClusterSnapshot, SnapshotGuest } from '../generated/snapshot.js';
import type { NodeLoadRecord } from '../generated/history.js';
import type { MigratePrecondition } from '../pve/types.js';
import { executeMoves, type ExecResult } from './execute.js';
import { guestRef } from '../util/guest.js';
import { reconcile } from './reconcile.js';
import { TickNotifier } from '../notify/notifier.js';
import { updateMetricsFile } from '../metrics/file.js';
import { updateReportFile } from '../report/write.js';

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
  /** --compare (with --dry-run): also plan with both planners on the same snapshot (issue 16). */
  compare?: boolean;
}

export interface TickResult {
  exitCode: 0 | 1;
  /** Null when the tick exited before doing anything (throttled, lock busy). */
  run: RunRecord | null;
  plan: Plan | null;
  snapshot: ClusterSnapshot | null;
  results: ExecResult[];
  /** With `compare`: the greedy and the exact planner's plans on the snapshot the tick planned on. */
  comparison: { greedy: Plan; optimal: Plan } | null;
  /** API requests this tick made. */
  apiRequests: number;
}

/** A run repeats the decisions of a run at most this old by naming it (decisions_same_as). */
const SAME_AS_MAX_AGE_MS = 24 * 3600_000;

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

/** What every step of a tick shares: the config, the run's identity, and the records so far. */
interface Tick {
  loaded: LoadedConfig;
  cfg: LoadedConfig['config'];
  am: LoadedConfig['config']['automated_migrations'];
  opts: TickOptions;
  now: () => Date;
  stopping: () => boolean;
  historyPath: string;
  result: TickResult;
  startedAt: Date;
  runId: string;
  dryRun: boolean;
  notifier: TickNotifier;
  records: HistoryRecord[];
  client: PveClient | null;
  getClient: () => PveClient;
  append: (r: HistoryRecord) => void;
  finishRun: (outcome: RunRecord['outcome'], extra?: Partial<RunRecord>) => RunRecord;
  haltAfter: (m: Pick<MigrationRecord, 'vmid' | 'guest_type' | 'migration_id' | 'error'>, how: string) => void;
}

/** What the plan step hands on to whichever of simulate/execute follows. */
interface Recorded {
  gates: GateRecord[];
  skipDecisions: DecisionRecord[];
  summary: ReturnType<typeof planSummary>;
  notes: { notes?: string[] };
  /** Node loads before and after the plan, for the report's chart (docs/monitoring.md). */
  nodeLoad: { node_load?: NodeLoadRecord[] };
}

/** The history lock; null when the tick should end now (result says how). */
async function acquireTickLock(historyPath: string, opts: TickOptions, result: TickResult): Promise<Awaited<ReturnType<typeof acquireLock>> | null> {
  try {
    return await acquireLock(historyPath);
  } catch (e) {
    if (!(e instanceof LockBusyError)) throw e;
    // A timer tick that finds another run busy just steps aside; a manual one is told it failed.
    if (opts.scheduled) {
      log.info(`skipped: ${e.message}`);
      return null;
    }
    log.error(e.message);
    result.exitCode = 1;
    return null;
  }
}

/** The tick's API client, made before its first request: WebAssembly's tiering is settled first. */
function tickClient(cfg: LoadedConfig['config'], secret: string, compare: boolean): PveClient {
  settleWasmTiering(cfg, compare);
  return new PveClient(clientOptionsFromConfig(cfg, secret, log));
}

function newTick(loaded: LoadedConfig, opts: TickOptions, secret: string, result: TickResult): Tick {
  const cfg = loaded.config;
  const am = cfg.automated_migrations;
  const now = opts.now ?? (() => new Date());
  const startedAt = now();
  const runId = makeRunId(startedAt);
  const trigger = opts.scheduled ? 'scheduled' : 'manual';
  const dryRun = opts.dryRunFlag || am.dry_run;
  const mode = dryRun ? 'dry-run' : 'live';
  const t: Tick = {
    loaded, cfg, am, opts, now, stopping: opts.stopping ?? (() => false), historyPath: cfg.history_file, result, startedAt, runId, dryRun,
    notifier: new TickNotifier(loaded, runId, now), records: [], client: null,
    getClient: () => (t.client ??= tickClient(cfg, secret, Boolean(opts.compare))),
    append: (r) => {
      appendRecord(t.historyPath, r);
      t.records.push(r);
    },
    finishRun: (outcome, extra = {}) => {
      const run: RunRecord = {
        v: 1, type: 'run', run_id: runId, started_at: startedAt.toISOString(), finished_at: now().toISOString(), trigger, mode,
        gates: [], outcome, decisions: [], ...extra,
        // The older records still in force: a later reader of the end of the file needs nothing older.
        carried: recordsInForce(t.records),
      };
      // A tick that decided exactly what the previous one did (the steady state: same skips, same
      // reasons) names the run that wrote them instead of repeating hundreds of decisions, when
      // that run is recent (a reader of the end of the file must not go back far to find it).
      const prev = lastRun(t.records);
      const holder = prev && decisionsHolder(prev);
      if (run.decisions.length && prev?.decisions.length && holder && startedAt.getTime() - Date.parse(holder.started_at) <= SAME_AS_MAX_AGE_MS && JSON.stringify(prev.decisions) === JSON.stringify(run.decisions)) {
        appendRecord(t.historyPath, { ...run, decisions: [], decisions_same_as: holder.run_id });
        setDecisionsHolder(run, holder);
        t.records.push(run);
      } else t.append(run);
      result.run = run;
      return run;
    },
    /**
     * abort_on_failure: the halt is appended right after the failure is recorded, whoever records it
     * (the executor, reconciliation, or this tick finding a run that died in between).
     */
    haltAfter: (m, how) => {
      if (!am.safety_checks.abort_on_failure || activeHalt(t.records)) return;
      const halted: HistoryRecord = { v: 1, type: 'halted', at: now().toISOString(), run_id: runId, vmid: m.vmid, guest_type: m.guest_type, migration_id: m.migration_id, error: m.error ?? 'migration failed' };
      t.append(halted);
      log.error(`automation halted${how}: ${haltMessage(halted as { vmid: number; at: string; error: string })}`);
    },
  };
  return t;
}

async function loadRecords(t: Tick): Promise<void> {
  // Only the end of the file: the engine's look-back and what the last run record carries.
  const t0 = performance.now();
  const read = readHistoryTail(t.historyPath, { sinceMs: t.startedAt.getTime() - ENGINE_LOOKBACK_MS, checkpoint: true });
  for (const w of read.warnings) log.warn(w);
  log.debug(`read ${read.records.length} records (${read.lines} lines${read.whole ? ', the whole file' : ''}) from ${t.historyPath} in ${Math.round(performance.now() - t0)} ms`);
  t.records = read.records;
}

/** Throttle first: a timer tick that is not due does nothing at all (no record, no request). */
function throttled(t: Tick): boolean {
  if (!t.opts.scheduled) return false;
  // A run dated after now (the clock was stepped back) does not hold the next ones back.
  const last = lastRun(t.records, (r) => r.trigger === 'scheduled' && Date.parse(r.started_at) <= t.startedAt.getTime());
  const due = last ? Date.parse(last.started_at) + t.am.check_interval_minutes * 60_000 - THROTTLE_SLACK_MS : 0;
  if (t.startedAt.getTime() >= due) return false;
  log.debug(`scheduled run skipped: the last one started at ${last!.started_at}, check_interval_minutes is ${t.am.check_interval_minutes}`);
  return true;
}

async function reconcileEarlier(t: Tick): Promise<void> {
  // A run killed between a failure and its halt record: halt now.
  const lostHalt = failureWithoutHalt(t.records);
  if (lostHalt) t.haltAfter(lostHalt, ` (the failure recorded by run ${lostHalt.run_id} was never followed by its halt)`);
  // Outcomes of migrations an earlier run could not see to the end.
  const unfinished = unfinishedMigrations(t.records);
  if (!unfinished.length) return;
  const knownUpids = new Set(t.records.flatMap((r) => (r.type === 'migration' && r.upid ? [r.upid] : [])));
  await reconcile(t.getClient(), unfinished, t.runId, (r) => {
    t.append(r);
    if (r.status === 'failed') t.haltAfter(r, ' (a failure found when its outcome was looked up)');
  }, t.now, knownUpids);
}

/** Disabled automation or an active halt end the tick (recorded) before any gate; true when they did. */
function disabledOrHalted(t: Tick): boolean {
  if (!t.am.enabled && !t.opts.dryRunFlag) {
    log.info('Automation disabled (automated_migrations.enabled is false): nothing to do');
    t.finishRun('disabled', { reason: 'Automation disabled' });
    return true;
  }
  if (!t.am.enabled) log.info('Automation is disabled (automated_migrations.enabled is false); this dry run shows what it would do');
  const halt = activeHalt(t.records);
  if (!halt) return false;
  const msg = haltMessage(halt);
  log.warn(msg);
  t.finishRun('halted', { reason: msg, gates: [{ name: 'halted', passed: false, message: msg }] });
  return true;
}

/**
 * Time-based gates need no cluster data: judged first, so no API request is spent on a tick that a
 * blackout or a closed window stops anyway. True when a gate ended the tick.
 */
function closedByTimeGates(t: Tick, view: ReturnType<typeof engineHistoryView>): boolean {
  const early = timeGates(t.cfg, view, t.startedAt.getTime());
  const closed = early.find((g) => !g.passed);
  // A dry run asked for by hand still shows what the tick would do (docs/decisions.md): the plan
  // lists its moves as held back by the gate.
  if (!closed || (t.opts.dryRunFlag && !t.opts.scheduled)) return false;
  const reason = `${GATE_REASON[closed.name]}: ${closed.message}`;
  log.info(`skipped: ${reason}`);
  t.finishRun('skipped', { reason, gates: early.map((g) => ({ name: g.name, passed: g.passed, message: g.message })) });
  return true;
}

/** Fail closed: a read the decision depends on that fails means no plan and no migration (null). */
async function readCluster(t: Tick): Promise<ClusterSnapshot | null> {
  let snapshot: ClusterSnapshot;
  try {
    snapshot = await takeSnapshot(t.getClient(), { strict: true });
  } catch (e) {
    if (!(e instanceof SnapshotReadError)) throw e;
    const reason = `Cluster not fully read, nothing moved: ${e.failures.map((f) => `${f.read}: ${f.error}`).join('; ')}`;
    log.error(reason);
    t.finishRun('error', { reason });
    t.result.exitCode = 1;
    return null;
  }
  t.result.snapshot = snapshot;
  for (const u of snapshot.unknowns) log.warn(`could not learn: ${u}`);
  return snapshot;
}

/**
 * Verify each planned move with Proxmox's migrate precondition (one request per planned move, never
 * per guest): what ties a guest to its node is not in the cluster-wide answers. What it learns goes
 * into a copy of the snapshot (the one read stays as read) and the plan is made again on it, so a
 * blocked move gives its slot to the next-best one instead of failing at execution time. Returns
 * the snapshot the final plan was made on.
 */
async function planWithPreconditions(t: Tick, read: ClusterSnapshot, view: ReturnType<typeof engineHistoryView>, solver: MipSolver | undefined): Promise<{ plan: Plan; verified: Map<number, MigratePrecondition>; snapshot: ClusterSnapshot }> {
  let snapshot = read;
  let plan = makePlan(snapshot, t.cfg, view, t.startedAt.getTime(), solver);
  const verified = new Map<number, MigratePrecondition>();
  for (let round = 0; round < 3 && plan.allowed; round++) {
    const learned = new Map<number, SnapshotGuest['local']>();
    let changesPlan = false;
    for (const m of plan.moves) {
      if (verified.has(m.vmid)) continue;
      const pre = await checkPrecondition(t, m);
      if (!pre) continue;
      verified.set(m.vmid, pre);
      if (!pre.known) continue;
      const local = { disks_bytes: pre.localDisksBytes, resources: m.type === 'qemu' ? pre.localResources : [], not_allowed: pre.notAllowed };
      learned.set(m.vmid, local);
      if (pre.notAllowed[m.target] || local.resources.length || local.disks_bytes > 0) changesPlan = true;
    }
    if (learned.size) snapshot = { ...snapshot, guests: snapshot.guests.map((g) => (learned.has(g.vmid) ? { ...g, local: learned.get(g.vmid) } : g)) };
    if (!changesPlan) break;
    plan = makePlan(snapshot, t.cfg, view, t.startedAt.getTime(), solver);
  }
  t.result.plan = plan;
  t.result.snapshot = snapshot;
  // The comparison solves in this thread with its own time: the tick's solver budget is the tick's.
  if (t.opts.compare) t.result.comparison = comparePlanners(snapshot, t.cfg, view, t.startedAt.getTime(), await loadHighs());
  return { plan, verified, snapshot };
}

async function checkPrecondition(t: Tick, m: Plan['moves'][number]): Promise<MigratePrecondition | null> {
  try {
    return await t.getClient().migratePrecondition({ vmid: m.vmid, type: m.type, node: m.source }, m.target);
  } catch (e) {
    log.warn(`${guestRef(m.vmid, m.type)}: migrate precondition check failed (${(e as Error).message}); the executor checks again before moving`);
    return null;
  }
}

function planSummary(plan: Plan, snapshot: ClusterSnapshot) {
  return {
    imbalance_before: plan.summary.imbalance_before,
    imbalance_after: plan.summary.imbalance_after,
    moves_planned: plan.moves.length,
    gib_moved: plan.summary.gib_moved,
    api_requests: snapshot.api.requests,
  };
}

/** Each node's CPU and memory before and after the plan, one decimal (offline nodes have no figures). */
function nodeLoadRecord(plan: Plan): Recorded['nodeLoad'] {
  const after = new Map(plan.summary.nodes_after.map((n) => [n.name, n] as const));
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const rows = plan.summary.nodes_before.filter((n) => n.role !== 'excluded').map((n) => ({
    node: n.name, cpu_before: r1(n.cpu_percent), mem_before: r1(n.mem_percent),
    cpu_after: r1(after.get(n.name)?.cpu_percent ?? n.cpu_percent), mem_after: r1(after.get(n.name)?.mem_percent ?? n.mem_percent),
  }));
  return rows.length ? { node_load: rows } : {};
}

/** Logs the gates, notes and skips, and shapes them for the run record. */
function recordDecisions(plan: Plan, snapshot: ClusterSnapshot): Recorded {
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
  return { gates, skipDecisions, summary: planSummary(plan, snapshot), notes: plan.notes.length ? { notes: plan.notes } : {}, nodeLoad: nodeLoadRecord(plan) };
}

/** A dry run records each planned move as a 'dry-run' migration, then the run. */
function simulateMoves(t: Tick, plan: Plan, rec: Recorded): void {
  const moveDecisions: DecisionRecord[] = plan.moves.map((m) => {
    log.info(`${guestRef(m.vmid, m.type)} (${m.name}): would migrate ${m.source} → ${m.target} (${m.kind}, confidence ${m.confidence}): ${m.reason}: Dry run`);
    const at = t.now().toISOString();
    t.append({
      v: 1, type: 'migration', at, run_id: t.runId, migration_id: `${t.runId}-${m.vmid}`, vmid: m.vmid, name: m.name, guest_type: m.type,
      source: m.source, target: m.target, kind: m.kind, confidence: m.confidence, reason: m.reason, status: 'dry-run', upid: null, started_at: at,
    });
    return { vmid: m.vmid, name: m.name, guest_type: m.type, action: 'move', reason: m.reason, source: m.source, target: m.target, kind: m.kind, confidence: m.confidence, outcome: 'Dry run' };
  });
  t.finishRun(plan.moves.length ? 'success' : 'no_action', { gates: rec.gates, decisions: [...moveDecisions, ...rec.skipDecisions], summary: rec.summary, ...rec.notes, ...rec.nodeLoad });
}

function executePlan(t: Tick, plan: Plan, verified: Map<number, MigratePrecondition>, snapshot: ClusterSnapshot): ReturnType<typeof executeMoves> {
  const recordMigration = (r: MigrationRecord) => {
    t.append(r);
    if (r.status === 'failed') t.haltAfter(r, '');
  };
  const { opts } = t;
  return executeMoves(
    plan.moves.map((m) => ({ ...m, ...(verified.get(m.vmid) ? { precondition: verified.get(m.vmid)! } : {}) })),
    { port: t.getClient(), config: t.cfg, runId: t.runId, plannedAt: t.startedAt, record: recordMigration, freshLook: (m, sent) => freshLook(t.getClient(), snapshot, t.cfg, m, sent), stopping: t.stopping, now: t.now, ...(opts.pollMs ? { pollMs: opts.pollMs } : {}), ...(opts.progressMs ? { progressMs: opts.progressMs } : {}) },
  );
}

/** The run record and exit code from what the executor reports. */
function recordOutcome(t: Tick, { results, error: execError }: Awaited<ReturnType<typeof executeMoves>>, rec: Recorded): void {
  t.result.results = results;
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
  t.finishRun(outcome, {
    ...rec.notes, ...rec.nodeLoad, gates: rec.gates, decisions: [...moveDecisions, ...rec.skipDecisions], summary: { ...rec.summary, moves_completed: completed.length, moves_failed: failed.length + timedOut.length, ...(unknown.length ? { moves_unknown: unknown.length } : {}) },
    ...(execError ? { reason: `Stopped starting migrations: ${execError}` } : interrupted.length && t.stopping() ? { reason: 'Stopped by signal: migrations in flight recorded as interrupted (Proxmox finishes them)' } : {}),
  });
  if (failed.length || timedOut.length || unknown.length || execError) t.result.exitCode = 1;
}

/** Closes the client, then notifications, the metrics file and the report (after the run record, never failing the tick), then the lock. */
async function closeTick(t: Tick, lock: { release: () => Promise<void> }): Promise<void> {
  t.result.apiRequests = t.client?.requestCount ?? 0;
  await t.client?.close();
  if (t.result.run) {
    await t.notifier.finish(t.result.run, t.records, t.append);
    // The metrics file counts over the whole history: read in full for it (docs/running.md).
    if (t.cfg.metrics_file) await updateMetricsFile(t.cfg, (await readHistory(t.historyPath)).records, t.result);
    updateReportFile(t.loaded, t.now());
  }
  await lock.release();
}

/**
 * One tick: acquire → throttle → reconcile → time gates → snapshot → preconditions → plan → record
 * decisions → execute (or simulate) → record outcome.
 */
export async function runTick(loaded: LoadedConfig, opts: TickOptions): Promise<TickResult> {
  const result: TickResult = { exitCode: 0, run: null, plan: null, snapshot: null, results: [], comparison: null, apiRequests: 0 };
  // A missing or unreadable secret is a config error: found before anything else happens.
  const secret = resolveTokenSecret(loaded.config, loaded.path);
  // Scrubbed from every log line and every history record, wherever it turns up (a task log line).
  registerSecret(secret);
  const lock = await acquireTickLock(loaded.config.history_file, opts, result);
  if (!lock) return result;
  const t = newTick(loaded, opts, secret, result);
  try {
    await loadRecords(t);
    if (throttled(t)) return result;
    await reconcileEarlier(t);
    if (disabledOrHalted(t)) return result;
    const view = engineHistoryView(t.records, t.startedAt.getTime());
    if (closedByTimeGates(t, view)) return result;
    // The exact planner's solver loads while the cluster is read. One that cannot load does not
    // stop the balancing: the greedy planner decides, and the plan's planner note says the solver was not loaded.
    const solver = solverFor(t.cfg).catch((e: Error) => {
      log.warn(`the exact planner's solver could not be loaded (${e.message}); the greedy planner decides this tick`);
      return undefined;
    });
    const snapshot = await readCluster(t);
    if (!snapshot) return result;
    const { plan, verified, snapshot: planned } = await planWithPreconditions(t, snapshot, view, await solver);
    const rec = recordDecisions(plan, planned);
    if (!plan.allowed) {
      const failedGate = plan.gates.find((g) => !g.passed)!;
      t.finishRun('skipped', { reason: `${GATE_REASON[failedGate.name]}: ${failedGate.message}`, gates: rec.gates, decisions: rec.skipDecisions, summary: rec.summary, ...rec.notes, ...rec.nodeLoad });
      return result;
    }
    t.notifier.planned(plan.moves, t.dryRun);
    if (t.dryRun) {
      simulateMoves(t, plan, rec);
      return result;
    }
    recordOutcome(t, await executePlan(t, plan, verified, planned), rec);
    return result;
  } catch (e) {
    try {
      t.finishRun('error', { reason: (e as Error).message });
    } catch (w) {
      log.error(`could not record the run in ${t.historyPath}: ${(w as Error).message}`);
    }
    throw e;
  } finally {
    await closeTick(t, lock);
  }
}
