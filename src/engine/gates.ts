/**
 * Run-level gates, in the guide's order: halted, blackout, migration window, cluster health,
 * concurrency. All are evaluated and reported; the first that fails names the reason every would-be
 * move is skipped with.
 */
import type { ProxbalanceConfig } from '../generated/config.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { HaPlacement } from './ha.js';
import { MIGRATION_TASK_TYPES, REASON } from './rules.js';
import type { Gate, GateName, HistoryView } from './types.js';
import { checkSchedule } from './windows.js';

export interface GateOutcome {
  gates: Gate[];
  /** The first failed gate's skip reason and detail, or null when all passed. */
  block: { reason: string; detail: string } | null;
  running: number;
  free: number;
}

/** Running migration tasks: distinct guests (a hamigrate and its qmigrate count once); tasks without a vmid count each. */
export function runningMigrations(snap: ClusterSnapshot): number {
  const ids = new Set<string>();
  let anonymous = 0;
  for (const t of snap.tasks) {
    if (t.endtime !== null || !MIGRATION_TASK_TYPES.has(t.type)) continue;
    if (t.id) ids.add(t.id);
    else anonymous++;
  }
  return ids.size + anonymous;
}

/** The guide's words for each gate: the skip reason of every move a failed gate holds back. */
export const GATE_REASON: Readonly<Record<GateName, string>> = {
  halted: REASON.halted,
  blackout: REASON.blackout,
  migration_window: REASON.outsideWindow,
  cluster_health: REASON.health,
  concurrency: REASON.concurrency,
};

/** All five gates; `block` names the first that failed. */
export function evaluateGates(snap: ClusterSnapshot, config: ProxbalanceConfig, history: HistoryView, nowMs: number): GateOutcome {
  const running = runningMigrations(snap);
  const limit = config.automated_migrations.rules.max_concurrent_migrations;
  const free = Math.max(0, limit - running);
  const gates: Gate[] = [
    ...timeGates(config, history, nowMs),
    healthGate(snap, config),
    free > 0
      ? { name: 'concurrency', passed: true, message: `${running} migration(s) running, limit ${limit}: ${free} slot(s) free` }
      : { name: 'concurrency', passed: false, message: `${running} migration(s) running, limit ${limit}: no slot free` },
  ];
  const failed = gates.find((g) => !g.passed);
  return { gates, block: failed ? { reason: GATE_REASON[failed.name], detail: failed.message } : null, running, free };
}

/**
 * The gates that need no cluster data (halted, blackout, migration window), in the guide's order: a
 * tick judges them before its first request, so a closed window costs no API request.
 */
export function timeGates(config: ProxbalanceConfig, history: HistoryView, nowMs: number): Gate[] {
  const h = history.halted;
  const gates: Gate[] = [
    h
      ? { name: 'halted', passed: false, message: `automation halted after a failed migration${h.vmid !== null ? ` of ${h.vmid}` : ''} at ${h.at}: ${h.error}; run 'proxbalance resume'` }
      : { name: 'halted', passed: true, message: 'not halted' },
  ];
  const sched = checkSchedule(config.automated_migrations.schedule, nowMs);
  if (sched.blackout.active) {
    const err = sched.blackout.errors.length ? ` (${sched.blackout.errors.join('; ')})` : '';
    gates.push({ name: 'blackout', passed: false, message: `blackout window '${sched.blackout.name}' is active (${sched.blackout.local})${err}` });
  } else {
    gates.push({ name: 'blackout', passed: true, message: 'no blackout window active' });
  }
  if (!sched.migration.defined) {
    gates.push({ name: 'migration_window', passed: true, message: 'no migration window defined: migrations allowed at any time' });
  } else if (sched.migration.active) {
    gates.push({ name: 'migration_window', passed: true, message: `migration window '${sched.migration.name}' is open (${sched.migration.local})` });
  } else {
    const err = sched.migration.errors.length ? ` (${sched.migration.errors.join('; ')})` : '';
    gates.push({ name: 'migration_window', passed: false, message: `no migration window is open (${sched.migration.local})${err}` });
  }
  return gates;
}

/** Quorum, nodes whose state is unknown, HA recovering or its state unknown. */
function healthGate(snap: ClusterSnapshot, config: ProxbalanceConfig): Gate {
  const sc = config.automated_migrations.safety_checks;
  const problems: string[] = [];
  if (sc.require_quorum) {
    if (snap.cluster.quorate === false) problems.push('not quorate');
    else if (snap.cluster.quorate === null) problems.push('quorum unknown');
  }
  if (sc.check_cluster_health) {
    const unknown = snap.nodes.filter((n) => n.status === 'unknown').map((n) => n.name);
    if (unknown.length) problems.push(`state of ${unknown.join(', ')} unknown`);
    if (snap.nodes.length === 0) problems.push('no nodes');
    // HA fencing or recovering guests: the cluster is not in a state to be balanced.
    const ha = new HaPlacement(snap);
    const recovering = ha.recovering();
    if (recovering) problems.push(`HA is recovering ${recovering}`);
    else if (ha.stateUnknown()) problems.push('HA state unknown (GET /cluster/ha/status/current could not be read): HA may be recovering');
  }
  if (problems.length) return { name: 'cluster_health', passed: false, message: problems.join('; ') };
  const online = snap.nodes.filter((n) => n.status === 'online').length;
  const off = snap.nodes.length - online;
  const what = sc.check_cluster_health || sc.require_quorum ? `healthy: ${snap.cluster.quorate ? 'quorate, ' : ''}${online} node(s) online${off ? `, ${off} offline` : ''}` : 'check disabled';
  return { name: 'cluster_health', passed: true, message: what };
}
