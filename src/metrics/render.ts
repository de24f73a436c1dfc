import type { Config } from '../config/load.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import type { HistoryRecord } from '../history/store.js';
import { activeHalt, foldMigrations, lastRun, RUN_OUTCOMES } from '../history/views.js';

/** What only a tick knows (not in the history): the cluster as it read it, and its API requests. */
export interface NodeFigures {
  node: string;
  cpu: number;
  memory: number;
  running: number;
}
export interface TickFigures {
  nodes: NodeFigures[];
  apiRequests: number;
}

export const DURATION_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

export function nodeFigures(s: ClusterSnapshot): NodeFigures[] {
  return s.nodes.map((n) => ({
    node: n.name,
    cpu: n.cpu,
    memory: n.maxmem > 0 ? n.mem / n.maxmem : 0,
    running: s.guests.filter((g) => g.node === n.name && g.status === 'running').length,
  }));
}

/** The reason of a skip decision without its per-guest detail in parentheses (bounded label values). */
export function reasonLabel(reason: string): string {
  return reason.replace(/\s*\([^()]*\)\s*$/, '').replace(/:.*$/, '').trim() || reason;
}

// prom-client is loaded when metrics are asked for, not by every command (a third of a second).
type Prom = typeof import('prom-client');
type Reg = { registers: InstanceType<Prom['Registry']>[]; pc: Prom };

function history(reg: Reg, records: readonly HistoryRecord[]): void {
  const byStatus = new reg.pc.Counter({ registers: reg.registers, name: 'proxbalance_migrations_total', help: 'Migrations in the whole history by their latest status (completed, failed, timeout; never_started: Proxmox refused the request or no task ran; dry_run: simulated moves).', labelNames: ['status'] });
  const pending = new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_migrations_pending', help: 'Live migrations whose outcome the history does not hold yet (intent, started, unknown or interrupted).' });
  const duration = new reg.pc.Histogram({ registers: reg.registers, name: 'proxbalance_migration_duration_seconds', help: 'Duration of completed live migrations in the whole history.', buckets: DURATION_BUCKETS });
  for (const s of ['completed', 'failed', 'timeout', 'never_started', 'dry_run']) byStatus.inc({ status: s }, 0);
  pending.set(0);
  for (const m of foldMigrations(records)) {
    if (m.status === 'completed') {
      byStatus.inc({ status: 'completed' });
      if (typeof m.duration_s === 'number') duration.observe(m.duration_s);
    } else if (m.status === 'failed' || m.status === 'timeout' || m.status === 'never_started') byStatus.inc({ status: m.status });
    else if (m.status === 'dry-run') byStatus.inc({ status: 'dry_run' });
    else pending.inc();
  }
  const notes = new reg.pc.Counter({ registers: reg.registers, name: 'proxbalance_notifications_total', help: 'Notification deliveries recorded in the history, by provider and result (ok or failed).', labelNames: ['provider', 'result'] });
  for (const r of records) {
    if (r.type !== 'notification') continue;
    for (const d of r.deliveries) notes.inc({ provider: d.provider, result: d.ok ? 'ok' : 'failed' });
  }
}

function lastTick(reg: Reg, records: readonly HistoryRecord[]): void {
  const run = lastRun(records);
  if (!run) return;
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_last_tick_timestamp_seconds', help: 'When the last tick ended (Unix time).' }).set(Date.parse(run.finished_at) / 1000);
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_last_tick_duration_seconds', help: 'How long the last tick took.' }).set((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000);
  const outcome = new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_last_tick_outcome', help: 'Outcome of the last tick: 1 for its outcome, 0 for the others.', labelNames: ['outcome'] });
  for (const o of RUN_OUTCOMES) outcome.set({ outcome: o }, o === run.outcome ? 1 : 0);
  const num = (k: string) => (typeof run.summary?.[k] === 'number' ? (run.summary[k] as number) : null);
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_last_tick_planned_moves', help: 'Moves the last tick planned.' }).set(num('moves_planned') ?? 0);
  const skips = new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_last_tick_skipped_guests', help: 'Guests the last tick considered and did not move, by reason.', labelNames: ['reason'] });
  for (const d of run.decisions) if (d.action === 'skip') skips.inc({ reason: reasonLabel(d.reason) });
  const imbalance = num('imbalance_before');
  if (imbalance !== null) new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_cluster_imbalance', help: 'Cluster imbalance the last tick that read the cluster found (the engine\'s score, 0 = balanced).' }).set(imbalance);
}

function tick(reg: Reg, t: TickFigures | null): void {
  if (!t) return;
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_last_tick_api_requests', help: 'Proxmox API requests the last tick made.' }).set(t.apiRequests);
  if (!t.nodes.length) return;
  const cpu = new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_node_cpu_usage_ratio', help: 'CPU use of each node (0-1) as the last tick that read the cluster saw it.', labelNames: ['node'] });
  const mem = new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_node_memory_usage_ratio', help: 'Memory use of each node (0-1) as the last tick that read the cluster saw it.', labelNames: ['node'] });
  const running = new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_node_running_guests', help: 'Running guests on each node as the last tick that read the cluster saw it.', labelNames: ['node'] });
  for (const n of t.nodes) {
    cpu.set({ node: n.node }, n.cpu);
    mem.set({ node: n.node }, n.memory);
    running.set({ node: n.node }, n.running);
  }
}

/**
 * The Prometheus text of the history and the config, plus what the last tick read (when known).
 * Counters are recomputed from the whole history each time, so they only grow as it does.
 */
export async function renderMetrics(cfg: Config, records: readonly HistoryRecord[], t: TickFigures | null): Promise<string> {
  const pc = await import('prom-client');
  const registry = new pc.Registry();
  const reg: Reg = { registers: [registry], pc };
  const am = cfg.automated_migrations;
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_automation_enabled', help: 'automated_migrations.enabled (1 on, 0 off).' }).set(am.enabled ? 1 : 0);
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_dry_run', help: 'automated_migrations.dry_run (1: migrations are only simulated).' }).set(am.dry_run ? 1 : 0);
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_check_interval_seconds', help: 'automated_migrations.check_interval_minutes, in seconds.' }).set(am.check_interval_minutes * 60);
  new reg.pc.Gauge({ registers: reg.registers, name: 'proxbalance_halted', help: '1 while automation is halted after a failed migration (until `proxbalance resume`).' }).set(activeHalt(records) ? 1 : 0);
  history(reg, records);
  lastTick(reg, records);
  tick(reg, t);
  return registry.metrics();
}
