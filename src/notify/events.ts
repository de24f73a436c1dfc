import type { HaltedRecord, HistoryRecord, RunRecord } from '../history/store.js';
import { foldMigrations, lastRun, type MigrationState } from '../history/views.js';
import type { PlannedMove } from '../engine/types.js';
import { guestRef } from '../util/guest.js';
import type { Message, Priority } from './types.js';

/**
 * The messages, as pure functions of what the tick planned and what the history holds (the only
 * state between ticks). Titles carry ProxBalance's " [DRY RUN]" tag in dry runs.
 */

const tag = (dryRun: boolean) => (dryRun ? ' [DRY RUN]' : '');
const msg = (event: Message['event'], title: string, lines: string[], priority: Priority, at: Date): Message => ({
  event, title, text: lines.join('\n'), priority, timestamp: at.toISOString(),
});

/** start: a tick about to migrate (never for one that decided nothing). */
export function startMessage(moves: readonly PlannedMove[], dryRun: boolean, at: Date): Message | null {
  if (!moves.length) return null;
  const lines = [`Migrations planned: ${moves.length}`];
  for (const m of moves) lines.push(`- ${guestRef(m.vmid, m.type)} (${m.name}): ${m.source} → ${m.target}, ${m.kind}, confidence ${m.confidence}: ${m.reason}`);
  if (dryRun) lines.push('Mode: dry run (nothing is migrated)');
  return msg('start', `Migration Run Started${tag(dryRun)}`, lines, 'normal', at);
}

const FAILED = new Set(['failed', 'timeout']);

function moveLine(m: MigrationState): string {
  const what = `${guestRef(m.vmid, m.guest_type)} (${m.name}): ${m.source} → ${m.target}`;
  const dur = typeof m.duration_s === 'number' ? ` in ${Math.round(m.duration_s)} s` : '';
  const status = m.status === 'dry-run' ? 'dry run' : m.status === 'never_started' ? 'not started' : m.status;
  return `- ${what}: ${status}${dur}${m.error && (FAILED.has(m.status) || m.status === 'never_started') ? `: ${m.error}` : ''}`;
}

/** The migrations this run started (their first record is this run's), folded, in the order they started. */
export function runMigrations(records: readonly HistoryRecord[], runId: string): MigrationState[] {
  const firstRun = new Map<string, string>();
  for (const r of records) if (r.type === 'migration' && !firstRun.has(r.migration_id)) firstRun.set(r.migration_id, r.run_id);
  return foldMigrations(records).filter((m) => firstRun.get(m.migration_id) === runId);
}

/** complete: after a tick that migrated (or simulated migrations), with counts, moves, durations, failures. */
export function completeMessage(run: RunRecord, records: readonly HistoryRecord[], at: Date): Message | null {
  const moves = runMigrations(records, run.run_id);
  if (!moves.length) return null;
  const dryRun = run.mode === 'dry-run';
  const ok = moves.filter((m) => m.status === 'completed').length;
  const failed = moves.filter((m) => FAILED.has(m.status)).length;
  const notStarted = moves.filter((m) => m.status === 'never_started').length;
  const tried = moves.length - notStarted;
  const lines = dryRun
    ? [`Simulated: ${moves.length}`]
    : [`Total attempted: ${tried}`, `Successful: ${ok}`, `Failed: ${failed}`];
  if (!dryRun && tried - ok - failed) lines.push(`Outcome not known yet: ${tried - ok - failed}`);
  if (notStarted) lines.push(`Not started (Proxmox refused or no task ran): ${notStarted}`);
  lines.push(...moves.map(moveLine));
  if (run.reason) lines.push(run.reason);
  if (dryRun) lines.push('Mode: dry run (nothing was migrated)');
  return msg('complete', `Migration Run Completed${tag(dryRun)}`, lines, failed ? 'high' : 'normal', at);
}

const healthBlocked = (r: RunRecord | null) => r?.outcome === 'skipped' && r.gates.find((g) => !g.passed)?.name === 'cluster_health';

/**
 * failure: a safety gate (quorum, health) that blocked a tick that wanted to move. Said when the
 * gate starts blocking, not again by every tick while it goes on blocking.
 */
export function gateFailureMessage(run: RunRecord, records: readonly HistoryRecord[], at: Date): Message | null {
  const gate = run.gates.find((g) => !g.passed);
  if (!healthBlocked(run) || !gate) return null;
  const previous = lastRun(records, (r) => r.run_id !== run.run_id);
  if (healthBlocked(previous) && previous!.decisions.some((d) => d.action === 'skip' && d.target)) return null;
  const held = run.decisions.filter((d) => d.action === 'skip' && d.target && d.reason.startsWith('Cluster health check failed'));
  if (!held.length) return null;
  const dryRun = run.mode === 'dry-run';
  const lines = [`Safety check failed: ${gate.message}`, `Moves held back: ${held.length}`];
  for (const d of held) lines.push(`- ${guestRef(d.vmid, d.guest_type ?? 'qemu')}${d.name ? ` (${d.name})` : ''}: ${d.source} → ${d.target}`);
  return msg('failure', `Migration Safety Check Failed${tag(dryRun)}`, lines, 'high', at);
}

/** failure: migrations of this tick that failed, when no halt follows (the halt message says it). */
export function migrationFailureMessage(run: RunRecord, records: readonly HistoryRecord[], at: Date): Message | null {
  const failed = runMigrations(records, run.run_id).filter((m) => FAILED.has(m.status));
  if (!failed.length) return null;
  const title = failed.length === 1 ? `Migration Failed: ${guestRef(failed[0]!.vmid, failed[0]!.guest_type)}` : `${failed.length} Migrations Failed`;
  return msg('failure', title, failed.map(moveLine), 'high', at);
}

/** The command that lifts the halt, naming the config file unless it is the default one. */
export function resumeCommand(configPath: string, defaultPath: string): string {
  return configPath === defaultPath ? 'proxbalance resume' : `proxbalance resume --config ${configPath}`;
}

/** failure, always: a halt. Emergency priority, the error, and the exact command that resumes. */
export function haltMessage(halt: HaltedRecord, records: readonly HistoryRecord[], command: string, at: Date): Message {
  const m = halt.migration_id ? foldMigrations(records).find((x) => x.migration_id === halt.migration_id) : undefined;
  const guest = `${guestRef(halt.vmid, halt.guest_type ?? m?.guest_type ?? 'qemu')}${m?.name ? ` (${m.name})` : ''}`;
  const lines = [
    `Automation is halted: the migration of ${guest}${m ? ` from ${m.source} to ${m.target}` : ''} failed at ${halt.at}.`,
    `Error: ${halt.error}`,
    'No migration will start until someone checks the guest and runs:',
    `  ${command}`,
  ];
  return msg('halt', `Automation Halted: ${guest} migration failed`, lines, 'emergency', at);
}

/** `resume`: automation runs again. */
export function resumedMessage(halt: HaltedRecord, by: string | undefined, at: Date): Message {
  const lines = [`Automation runs again${by ? ` (resumed by ${by})` : ''}.`, `It was halted since ${halt.at} after a failed migration of ${guestRef(halt.vmid, halt.guest_type ?? 'qemu')}: ${halt.error}`];
  return msg('resumed', 'Automation Resumed', lines, 'normal', at);
}

export function testMessage(at: Date): Message {
  return msg('test', 'Test Notification', ['This is a test notification from proxbalance. If you see this, this provider is configured correctly.'], 'normal', at);
}
