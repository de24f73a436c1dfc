import { Chalk, type ChalkInstance } from 'chalk';
import { DateTime } from 'luxon';
import type { Plan } from '../engine/types.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { guestRef } from '../util/guest.js';

/**
 * The presentation module: output formatting shared by several commands (colour, tables, times,
 * durations, statuses, plans).
 * Colour only when stdout is a terminal and NO_COLOR is not set (https://no-color.org): piped
 * output, files and scripts get plain text.
 */
export function colorWanted(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

let painter: ChalkInstance | null = null;

/** The chalk instance for stdout: level 0 (no escapes at all) unless colour is wanted. */
export function paint(): ChalkInstance {
  if (!painter) painter = new Chalk({ level: colorWanted() ? 1 : 0 });
  return painter;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/**
 * Makes a value from the history safe for one terminal cell: control characters (a newline in a
 * guest name, an escape sequence in an error text) are shown escaped instead of acted on.
 */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\x00-\x1f\x7f]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Left-aligned columns separated by two spaces; cells may carry colour. Trailing blanks trimmed. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c)))).join('  ').trimEnd();
  const lines = all.map(line);
  if (header) lines[0] = paint().bold(lines[0]!);
  return lines.join('\n');
}

/** 45s, 3m 05s, 2h 07m, 3d 04h. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

/** An ISO time shown in a zone, named: `2026-11-25 10:00:05 UTC`, `… 22:00:00 Europe/Berlin`. */
export function formatTime(iso: string | number | Date, zone: string): string {
  const dt = typeof iso === 'string' ? DateTime.fromISO(iso) : DateTime.fromJSDate(new Date(iso));
  return dt.setZone(zone).toFormat('yyyy-MM-dd HH:mm:ss z');
}

/** `5m 00s ago` / `in 2h 07m`. */
export function relative(targetMs: number, nowMs: number): string {
  const d = (targetMs - nowMs) / 1000;
  return d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

export function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** A migration status or run outcome, coloured by how it went (history, activity, status). */
export function statusText(status: string): string {
  const c = paint();
  switch (status) {
    case 'completed':
    case 'success':
      return c.green(status);
    case 'failed':
    case 'error':
    case 'halted':
      return c.red(status);
    case 'timeout':
    case 'interrupted':
    case 'unknown':
    case 'partial':
      return c.yellow(status);
    case 'started':
    case 'intent':
      return c.cyan(status);
    case 'never_started':
      return c.dim('never started');
    case 'dry-run':
      return c.dim('dry run (not executed)');
    default:
      return status;
  }
}

/** "Planner: optimal (proven optimal, 2 move(s) in the end state, solved in 0.05 s)". */
export function plannerLine(p: Plan): string {
  const i = p.planner;
  if (i.used === 'greedy' && i.status === 'not-run' && !i.note) return 'Planner: greedy';
  const facts: string[] = [];
  if (i.status === 'optimal') facts.push('proven optimal');
  else if (i.status === 'feasible') facts.push(`not proven optimal: up to ${i.gap_moves ?? '?'} move(s) fewer may exist`);
  else if (i.status === 'none') facts.push('the solver found no plan');
  if (i.end_state_moves !== null) facts.push(`${i.end_state_moves} move(s) in the end state`);
  if (i.solve_seconds !== null) facts.push(`solved in ${i.solve_seconds} s`);
  if (i.model?.restricted) facts.push(`model restricted to ${i.model.movable} of ${i.model.guests} guests`);
  if (i.note) facts.push(i.note);
  return `Planner: ${i.used}${i.requested !== i.used ? ` (${i.requested} asked for)` : ''}${facts.length ? `: ${cell(facts.join('; '))}` : ''}`;
}

/** Gates, planned moves with their reasons and score, and the guests not moved, grouped by reason. */
export function formatPlan(plan: Plan, snapshot: ClusterSnapshot | null, statusOf: (vmid: number) => string): string[] {
  const c = paint();
  const lines: string[] = [];
  lines.push('', c.bold('Gates'));
  // Text from the cluster (names, reasons, task errors) is shown with its control characters escaped.
  for (const g of plan.gates) lines.push(`  ${g.passed ? c.green('✓') : c.red('✗')} ${g.name.padEnd(17)} ${cell(g.message)}`);
  const s = plan.summary;
  lines.push('', c.bold(`Plan: ${plan.moves.length} move(s); imbalance ${s.imbalance_before} → ${s.imbalance_after}; ${s.gib_moved} GiB to move`));
  lines.push(`  ${plannerLine(plan)}`);
  plan.moves.forEach((m, i) => {
    lines.push(`  ${i + 1}. ${guestRef(m.vmid, m.type)} ${cell(m.name)}  ${cell(m.source)} → ${cell(m.target)}  ${m.kind}, confidence ${m.confidence}  ${statusOf(m.vmid)}`);
    lines.push(`     ${cell(m.reason)}`);
    const b = m.score;
    lines.push(c.gray(`     score: imbalance ${b.imbalance_before} → ${b.imbalance_after}, gain ${b.gain}, headroom ${b.headroom}, risk ${b.risk}, ${b.gib_moved} GiB; target after: mem ${b.target_mem_percent_after} %, cpu ${b.target_cpu_percent_after} %`));
  });
  if (plan.notes.length) {
    lines.push('', c.bold('Notes'));
    for (const n of plan.notes) lines.push(`  ${cell(n)}`);
  }
  if (plan.skipped.length) {
    const byReason = new Map<string, string[]>();
    const types = new Map((snapshot?.guests ?? []).map((g) => [g.vmid, g.type] as const));
    for (const sk of plan.skipped) {
      const list = byReason.get(sk.reason) ?? [];
      list.push(`${guestRef(sk.vmid, types.get(sk.vmid) ?? 'qemu')}${sk.target ? ` → ${cell(sk.target)}` : ''}${sk.detail ? ` (${cell(sk.detail)})` : ''}`);
      byReason.set(sk.reason, list);
    }
    lines.push('', c.bold(`Not moved: ${plan.skipped.length} guest(s)`));
    for (const [reason, guests] of byReason) {
      const shown = guests.length > 8 ? `${guests.slice(0, 8).join(', ')}, … (${guests.length - 8} more)` : guests.join(', ');
      lines.push(`  ${cell(reason)}: ${shown}`);
    }
  }
  return lines;
}
